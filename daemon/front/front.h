/*
 * front.h - the transports of one worker: its UDP and TCP listeners
 * (listener.c), its TCP connections (conn.c) and its datagram batches
 * (udp-batch.c), in one struct front that the worker owns and passes in.
 *
 * The worker calls the front; the front hands each query to the pipeline
 * (resolve_query) with a client handle whose static const ops table
 * (client.h) is the only way replies come back. A TLS transport would be
 * one more file here, with its own ops table, accepted by listener.c.
 *
 * Recipe (worker.c):
 *	front_init(&w->front, registry, &w->conf, &w->counters, w->timers,
 *	    &w->clock, resolver, id);
 *	listener_configure(&w->front, conf, bound);  (start, every reload)
 *	on an event of a HANDLE_UDP / HANDLE_TCP_LISTEN / HANDLE_CONN token:
 *	    front_event(&w->front, handle, ev);
 *	after each batch: front_run_ready(), front_run_deferred(),
 *	    front_flush()
 *	shutdown: front_stop_reading(), front_close_conns(), front_fini()
 */
#ifndef MIODNSD_FRONT_H
#define MIODNSD_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/handle.h"
#include "core/log.h"
#include "core/queue.h"
#include "core/stats.h"
#include "core/clock.h"
#include "front/udp-batch.h"
#include "mio.h"
#include "resolve/resolve.h"

struct acl;
struct listener;
struct conn;

struct front {
	const mio_registry *registry;
	const struct config *conf;	/* the worker's copy */
	struct counters *counters;
	mio_timers *timers;
	const struct batch_clock *clock;
	struct resolver *resolver;
	unsigned worker_id;		/* worker 0 logs what it opens */
	bool shutting_down;
	struct udp_batch *udp;
	TAILQ_HEAD(listener_list, listener) listeners;
	/* Closed connections stay on the list, marked, until
	 * front_after_batch(). */
	TAILQ_HEAD(conn_list, conn) conns;
	size_t nconns;			/* open ones */
	struct log_limit conn_limit_log;
	struct rrl *rrl;		/* ratelimit on UDP answers */
	int spare_fd;			/* for accept() without descriptors */
	bool emfile_logged;		/* "out of descriptors", once */
	mio_timer accept_retry;		/* ... when even that is gone */
	/* Who may hold a TCP connection: the front's own copy of the access
	 * list, built from conf at every listener_configure(). */
	struct acl *acl;
	uint64_t *evict_keys;		/* prefixes, counted to evict */
	size_t evict_cap;
	/* A truncated answer that RRL sends instead: header and question. */
	uint8_t slip_buf[12 + 256 + 4];
};

int front_init(struct front *f, const mio_registry *registry,
    const struct config *conf, struct counters *counters,
    mio_timers *timers, const struct batch_clock *clock,
    struct resolver *resolver, unsigned worker_id);
int listener_configure(struct front *f, const struct config *conf,
    const struct addr *bound);
void listener_bound(struct front *f, const struct config *conf,
    struct addr *bound);
void front_event(struct front *f, struct handle *handle, const mio_event *ev);
/* After each batch, in this order: the reads cut short (true if some
 * socket still has more), the connections' deferred work, the answers. */
bool front_run_ready(struct front *f);
void front_run_deferred(struct front *f);
void front_flush(struct front *f);
size_t front_conn_count(const struct front *f);
/* Shutting down: no new queries; sockets stay open for the answers. */
void front_stop_reading(struct front *f);
void front_close_conns(struct front *f);
/* The end: every socket closed, every buffer freed. */
void front_fini(struct front *f);
int listener_write_portfile(struct front *f, const char *path);

#endif /* MIODNSD_FRONT_H */
