/*
 * client.h - how the pipeline answers a client without knowing its
 * transport: the handle a transport passes down with each query.
 *
 * A transport (front/: UDP, TCP; TLS later) fills a struct client with a
 * static const ops table of its own, an owner (its listener or
 * connection) and the peer's address, and hands it to resolve_query().
 * The pipeline copies the handle into the query it keeps, and later
 * replies through ops->send; it never calls a transport by name.
 *
 * Life: every query resolve_query() keeps (it returns true) is released
 * exactly once through ops->detach, when the pipeline is done with it,
 * which may be before resolve_query() returns. A transport whose owner
 * goes away first (a closed connection) calls resolve_forget(), after
 * which the pipeline neither sends to nor detaches that owner's handles.
 */
#ifndef MIODNSD_CLIENT_H
#define MIODNSD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"

struct client;

struct client_ops {
	/* One reply; the bytes are the pipeline's, valid during the call. */
	void (*send)(const struct client *c, const uint8_t *msg, size_t len);
	/* The pipeline let go of a query of this client (or NULL). */
	void (*detach)(const struct client *c);
	/* Whether replies go over a stream: no 512-byte limit, counted as
	 * a TCP query. */
	bool stream;
};

struct client {
	const struct client_ops *ops;	/* NULL: forgotten */
	void *owner;			/* the transport's listener, conn... */
	struct addr addr;		/* the peer, for allow-stats */
};

#endif /* MIODNSD_CLIENT_H */
