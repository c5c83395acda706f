/*
 * upstream.h - the pipeline's seam to the upstream servers, and the c-ares
 * implementation of it (upstream.c).
 *
 * The pipeline sees the upstreams only as a struct upstream_port: how many
 * there are, send one attempt, forget an attempt whose fetch has ended.
 * Answers come back through the callback the pipeline registered in the
 * port (port->answer), never by name. upstream.c is the real port, one
 * c-ares channel per server in the worker's poll; t/query plugs in a fake
 * one that answers what each scenario wants, without sockets or c-ares.
 */
#ifndef MIODNSD_UPSTREAM_H
#define MIODNSD_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/conf.h"
#include "core/stats.h"
#include "mio.h"
#include "mio-timer.h"

enum upstream_status {
	UPSTREAM_ANSWER,	/* an answer came; the pipeline judges it */
	UPSTREAM_FAILED,	/* timeout, refused connection...: retry */
	UPSTREAM_REJECTED,	/* it will fail again (a refused TLS
				 * certificate): other upstreams only */
	UPSTREAM_GONE,		/* the channel is being destroyed: do not */
};

struct attempt;
struct upstream_port;

/* An attempt's outcome for its cookie; why is for the log. */
typedef void upstream_answer_fn(void *cookie, enum upstream_status status,
    const uint8_t *abuf, size_t alen, const char *why);

struct upstream_port_ops {
	/*
	 * Sends msg (its ID is set here) as attempt number `attempt` of
	 * cookie's question; *slot is set to the attempt before anything can
	 * answer. false if nothing was sent; otherwise port->answer is called
	 * once, possibly before this returns.
	 */
	bool (*send)(struct upstream_port *port, unsigned attempt,
	    uint8_t *msg, size_t len, void *cookie, struct attempt **slot);
	/* The cookie is gone: the attempt's outcome goes nowhere. */
	void (*forget)(struct upstream_port *port, struct attempt *a);
};

struct upstream_port {
	const struct upstream_port_ops *ops;
	unsigned count;			/* upstreams now; kept by the port */
	upstream_answer_fn *answer;	/* registered by the pipeline */
};

/* ---- upstream.c: the c-ares port, one per worker ---- */
struct upstreams;
int upstreams_new(struct upstreams **out, const mio_registry *registry,
    mio_timers *timers, struct counters *counters, bool log_changes);
struct upstream_port *upstreams_port(struct upstreams *u);
int upstreams_configure(struct upstreams *u, const struct config *conf);
bool upstreams_event(struct upstreams *u, const mio_event *ev);
const struct timespec *upstreams_timeout(struct upstreams *u,
    const struct timespec *max, struct timespec *buf);
void upstreams_process_timeouts(struct upstreams *u);
void upstreams_reap(struct upstreams *u);
void upstreams_free(struct upstreams *u);
void upstreams_log_counters(struct upstreams *u, unsigned nworkers);

#endif /* MIODNSD_UPSTREAM_H */
