/*
 * conn.h - DNS over TCP: the connections of one worker's front (conn.c).
 * listener.c accepts them; the rest is driven by their events.
 */
#ifndef MIODNSD_CONN_H
#define MIODNSD_CONN_H

#include <stdbool.h>

#include "front/front.h"

struct tls_ctx;

/* What accepting a batch left: the backlog empty (DONE), more pending
 * (MORE: the batch ran out first), or out of descriptors with none to
 * free (RETRY: the listener tries again on a timer of its own; no edge
 * would come for what is pending). */
enum conn_accept {
	CONN_ACCEPT_DONE,
	CONN_ACCEPT_MORE,
	CONN_ACCEPT_RETRY,
};

/* Accepts a batch from listen_fd, closing at once the clients the
 * access list denies. With tls (a server context), the connections
 * speak DNS over TLS. */
enum conn_accept conn_accept_all(struct front *f, int listen_fd,
    struct tls_ctx *tls);
void conn_event(struct handle *handle, const mio_event *ev);
/* After each batch: resume paused connections, free the closed. */
void conn_run_deferred(struct front *f);
/* Opens the spare descriptor accept() uses when out of them. */
void conn_spare_open(struct front *f);
/* Shutting down: no new queries; connections close once answered. */
void conn_shutdown(struct front *f);
void conn_close_all(struct front *f);

#endif /* MIODNSD_CONN_H */
