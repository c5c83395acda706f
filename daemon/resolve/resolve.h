/*
 * resolve.h - the query pipeline: what a transport hands a query to, and
 * the per-worker state the pipeline keeps (struct resolver).
 *
 * A query goes down an explicit list of stages (resolve_query() in
 * pipeline.c, one file each): check (check.c), local answers (local.c),
 * the forwarding policy and the answer cache (cached.c), admission
 * (query.c), the merge of identical queries (merge.c), and the fetch from
 * the upstreams (fetch.c), which answers through the upstream port's
 * callback. Replies leave through reply.c and the client's handle. Each
 * stage either ends the query (it answered, or dropped it) or lets it go
 * on. A new check is one new stage; see docs/design.md.
 *
 * The resolver holds what one worker's pipeline needs, given to it by the
 * worker: the configuration, counters, timer set and clock are the
 * worker's, the
 * upstream port is a seam (the c-ares one, or t/query's fake); the cache
 * and the zones are shared, reference-counted, and swapped on reload by
 * resolver_use(). No state of the pipeline lives anywhere else.
 *
 * Recipe (what worker.c does):
 *	resolver_new(&r, &w->conf, &w->counters, w->timers, &w->clock,
 *	    port);
 *	resolver_use(r, cache, zones);	(at start and on every reload)
 *	kept = resolve_query(r, msg, len, &client);	(per query)
 *	resolve_forget(r, owner);	(a transport's owner goes away)
 *	resolve_fail_all(r); resolver_free(r);	(the end)
 */
#ifndef MIODNSD_RESOLVE_H
#define MIODNSD_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/queue.h"
#include "core/stats.h"
#include "core/clock.h"
#include "dns/dns.h"
#include "resolve/client.h"
#include "resolve/upstream.h"

struct cache;
struct inflight;
struct zone_set;
struct query;

/* Chains of queries by owner: a power of two. */
#define RESOLVE_OWNER_CHAINS 256

struct resolver {
	const struct config *conf;	/* the worker's copy */
	struct counters *counters;	/* the worker's */
	mio_timers *timers;		/* the worker's */
	const struct batch_clock *clock; /* the worker's */
	struct upstream_port *upstream;
	struct cache *cache;		/* a reference of our own */
	struct zone_set *zones;		/* a reference of our own */
	struct inflight *inflight;	/* merges within this worker only */
	struct acl *acl;		/* access-control, from conf */
	TAILQ_HEAD(query_list, query) queries;
	/* The same queries by their client's owner (query.c), so that
	 * resolve_forget() walks only one owner's chain. */
	struct query_list by_owner[RESOLVE_OWNER_CHAINS];
	size_t nqueries;
	bool shutting_down;		/* no new queries are kept */
	struct log_limit busy_log;
	/* Large enough for any answer plus our OPT record. */
	uint8_t reply_buf[DNS_MAX_MESSAGE + 64];
	/* A cache hit too large for its client, before dns_build_answer()
	 * truncates it. */
	uint8_t hit_buf[DNS_MAX_MESSAGE];
};

/* 0, or -ENOMEM. The port's answer callback is registered here. */
int resolver_new(struct resolver **out, const struct config *conf,
    struct counters *counters, mio_timers *timers,
    const struct batch_clock *clock, struct upstream_port *upstream);
/* Takes over the references to cache and zones (either may be NULL);
 * 0, or -1 if the in-flight table cannot be made. */
int resolver_use(struct resolver *r, struct cache *cache,
    struct zone_set *zones);
void resolver_free(struct resolver *r);

/* One query from a client. True if the pipeline kept it: its client's
 * ops->detach will be called once, now or later. */
bool resolve_query(struct resolver *r, const uint8_t *msg, size_t len,
    const struct client *from);
/* The owner's queries carry on, answering no one. */
void resolve_forget(struct resolver *r, const void *owner);
size_t resolve_count(const struct resolver *r);
/* The end of a graceful shutdown: SERVFAIL to whatever is left. */
void resolve_fail_all(struct resolver *r);

#endif /* MIODNSD_RESOLVE_H */
