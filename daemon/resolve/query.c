/*
 * query.c - the life of a query the pipeline keeps: admitted by
 * stage_admit() (counted against max-inflight, given a deadline), it ends in exactly one way: its fetch's answer or failure
 * (fetch.c), or its own deadline, which answers SERVFAIL no matter what
 * the upstream is still doing. Ending it lets go of its client handle
 * (ops->detach) and of a fetch nobody else waits for.
 *
 * At max-inflight a new query jostles the oldest one out, as unbound's
 * jostle-timeout does: the oldest is answered SERVFAIL and the new one
 * kept, provided the oldest has waited at least QUERY_JOSTLE_MS; else the
 * new one is REFUSED. Without it one client asking slow names filled every
 * slot and everyone else got REFUSED for as long as it kept asking
 * (review finding 1); with it, a flood only shortens how long a slow
 * query may wait, and a fast answer still comes back. A cap per client
 * prefix was the other choice; it fails against a flood spread over many
 * prefixes, which the jostle still survives.
 *
 * Each query is also on the chain of its client's owner (a hash of the
 * owner's address picks one of RESOLVE_OWNER_CHAINS), so that a closed
 * connection's resolve_forget() walks its own queries and a few others',
 * not every query in flight (review finding 12: it was O(connections x
 * max-inflight)).
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "resolve/stages.h"

/* How long the oldest query must have waited before a new one may push it
 * out when every slot is taken (unbound's jostle-timeout default). */
#define QUERY_JOSTLE_MS 200

size_t
resolve_count(const struct resolver *r)
{
	return r->nqueries;
}

/* The chain of queries whose client's owner is owner. */
static struct query_list *
query_owner_chain(struct resolver *r, const void *owner)
{
	uint64_t h = (uint64_t)(uintptr_t)owner * 0x9e3779b97f4a7c15ULL;

	return &r->by_owner[(h >> 32) & (RESOLVE_OWNER_CHAINS - 1)];
}

/* The count of queries in flight changed: the gauge follows. */
static void
query_gauge(struct resolver *r)
{
	counter_set(&r->counters->inflight, r->nqueries);
	if (r->nqueries > r->counters->inflight_peak)
		counter_set(&r->counters->inflight_peak, r->nqueries);
}

/* Leaves a fetch nobody waits for: the upstream may still answer its
 * attempts, which then go nowhere. */
static void
query_abandon_fetch(struct fetch *f)
{
	struct upstream_port *port = f->resolver->upstream;

	for (unsigned i = 0; i < FETCH_LIVE_MAX; i++) {
		if (f->tries[i].attempt != NULL)
			port->ops->forget(port, f->tries[i].attempt);
	}
	mio_timer_stop(f->resolver->timers, &f->retry);
	mio_timer_stop(f->resolver->timers, &f->timeout);
	free(f);
}

/* Ends q: leaves its fetch, lets go of its client, frees it. */
void
query_finish(struct query *q)
{
	struct resolver *r = q->resolver;
	struct client client = q->client;
	void *pending = NULL;

	if (inflight_waiting(&q->waiter) &&
	    inflight_cancel_waiter(r->inflight, &q->waiter, &pending) &&
	    pending != NULL)
		query_abandon_fetch(pending);
	if (q->fetch != NULL)
		query_abandon_fetch(q->fetch);
	mio_timer_stop(r->timers, &q->deadline);
	TAILQ_REMOVE(&r->queries, q, entry);
	TAILQ_REMOVE(query_owner_chain(r, client.owner), q, owner_entry);
	r->nqueries--;
	query_gauge(r);
	free(q);
	if (client.ops != NULL && client.ops->detach != NULL)
		client.ops->detach(&client);
}

/* A kept query passed the access and forwarding stages: it was offered
 * recursion, so RA is set. */
void
query_servfail(struct query *q, int ede)
{
	struct dns_reply reply;

	resolve_reply_to(q->resolver, &q->dq, q->limit, &reply);
	reply.ra = true;
	resolve_send_error(q->resolver, &reply, &q->client,
	    DNS_RCODE_SERVFAIL, ede);
	query_finish(q);
}

static void
query_deadline_fire(mio_timer *timer, void *arg)
{
	struct query *q = arg;

	(void)timer;
	COUNT(q->resolver->counters, timeouts);
	log_debug2("deadline: SERVFAIL");
	query_servfail(q, DNS_EDE_NO_REACHABLE_AUTHORITY);
}

/* Makes room at max-inflight: ends the oldest query with SERVFAIL if it
 * has waited long enough to be pushed out; false if it has not. */
static bool
query_jostle(struct resolver *r)
{
	struct query *oldest = TAILQ_FIRST(&r->queries);

	if (oldest == NULL || batch_clock_ms(r->clock) <
	    oldest->admitted_ms + QUERY_JOSTLE_MS)
		return false;
	COUNT(r->counters, jostled);
	log_warnx_limited(&r->busy_log, "%zu queries in flight, the maximum: "
	    "the oldest answered SERVFAIL to admit a new one", r->nqueries);
	query_servfail(oldest, DNS_EDE_NONE);
	return true;
}

/* Whether a new query may be kept: under max-inflight (after pushing out
 * the oldest, if it may be), not shutting down, and memory for it. NULL
 * after answering REFUSED. */
static struct query *
query_new(struct resolver *r, struct request *req)
{
	struct query *q = NULL;

	if (r->nqueries >= r->conf->max_inflight && !r->shutting_down)
		(void)query_jostle(r);
	if (r->nqueries >= r->conf->max_inflight || r->shutting_down ||
	    (q = calloc(1, sizeof(*q))) == NULL) {
		COUNT(r->counters, refused_busy);
		if (!r->shutting_down)
			log_warnx_limited(&r->busy_log, "%zu queries in "
			    "flight, the maximum: answering REFUSED",
			    r->nqueries);
		req->reply.ra = true;	/* past stage_refused, stage_forward */
		resolve_send_error(r, &req->reply, req->from,
		    DNS_RCODE_REFUSED, DNS_EDE_NONE);
	}
	return q;
}

/* Arms q's deadline. Without one the query could wait forever, so it is
 * not kept: SERVFAIL at once (RA set as for the REFUSED above). */
static bool
query_arm_deadline(struct resolver *r, struct query *q, struct request *req)
{
	mio_timer_init(&q->deadline, query_deadline_fire, q);
	q->deadline_ms = batch_clock_ms(r->clock) + r->conf->timeout_ms;
	if (clock_timer_start(r->timers, &q->deadline, r->conf->timeout_ms,
	    "a query's deadline") == 0)
		return true;
	free(q);
	req->reply.ra = true;
	resolve_send_error(r, &req->reply, req->from, DNS_RCODE_SERVFAIL,
	    DNS_EDE_NONE);
	return false;
}

/* The stage where the pipeline keeps the query: from here on it has a
 * deadline and answers later. */
bool
stage_admit(struct resolver *r, struct request *req)
{
	struct query *q;

	if ((q = query_new(r, req)) == NULL ||
	    !query_arm_deadline(r, q, req))
		return true;
	q->resolver = r;
	q->client = *req->from;
	q->dq = req->dq;
	memcpy(q->question, req->dq.question, req->dq.question_len);
	q->dq.question = q->question;
	q->limit = req->reply.limit;
	q->admitted_ms = batch_clock_ms(r->clock);
	inflight_waiter_init(&q->waiter, q);
	TAILQ_INSERT_TAIL(&r->queries, q, entry);
	TAILQ_INSERT_TAIL(query_owner_chain(r, q->client.owner), q,
	    owner_entry);
	r->nqueries++;
	query_gauge(r);
	req->query = q;
	return false;
}

void
resolve_forget(struct resolver *r, const void *owner)
{
	struct query *q;

	TAILQ_FOREACH(q, query_owner_chain(r, owner), owner_entry) {
		if (q->client.owner == owner)
			q->client.ops = NULL;
	}
}

void
resolve_fail_all(struct resolver *r)
{
	struct query *q;

	while ((q = TAILQ_FIRST(&r->queries)) != NULL) {
		COUNT(r->counters, timeouts);
		query_servfail(q, DNS_EDE_NONE);
	}
}
