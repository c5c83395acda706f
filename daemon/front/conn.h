/*
 * conn.h - DNS over TCP: the connections of one worker's front (conn.c).
 * listener.c accepts them; the rest is driven by their events.
 */
#ifndef MIODNSD_CONN_H
#define MIODNSD_CONN_H

#include <stdbool.h>

#include "front/front.h"

struct tls_ctx;

/* Accepts a batch from listen_fd; *more says whether the batch ran out
 * before the backlog did. With tls (a server context), the connections
 * speak DNS over TLS. */
void conn_accept_all(struct front *f, int listen_fd, bool *more,
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
