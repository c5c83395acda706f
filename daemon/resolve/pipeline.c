/*
 * pipeline.c - the pipeline's spine: the list of stages a query goes
 * down, and the resolver that holds one worker's pipeline state.
 *
 * resolve_query() runs the stages in order until one ends the query (see
 * stages.h). Everything before stage_admit answers at once and allocates
 * nothing, so a cache hit costs a parse, a lookup and a send; from
 * stage_admit on, the query is kept (query.c) and answered later.
 *
 * Every reply carries its client's own ID and question and goes out
 * through the client handle the transport passed down (client.h, reply.c):
 * a query remembers where it came from, and a client whose transport went
 * away (resolve_forget) just loses its answer.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "resolve/stages.h"

/*
 * The pipeline. Each stage ends the query (true) or passes it on. The
 * access check goes first and drops denied clients unparsed; refused ones
 * get their answers from local zones, and REFUSED for anything else
 * (access.c). Per-domain upstreams are the fetch's business; stale
 * answers belong to the cache stage and the deadline.
 */
bool
resolve_query(struct resolver *r, const uint8_t *msg, size_t len,
    const struct client *from)
{
	struct request req;

	req.from = from;
	req.msg = msg;
	req.len = len;
	if (stage_access(r, &req) || stage_check(r, &req) ||
	    stage_local(r, &req) || stage_refused(r, &req) ||
	    stage_forward(r, &req) || stage_cache(r, &req) ||
	    stage_admit(r, &req))
		return false;
	if (!stage_merge(r, &req))
		stage_fetch(r, &req);
	return true;
}

int
resolver_new(struct resolver **out, const struct config *conf,
    struct counters *counters, mio_timers *timers,
    const struct batch_clock *clock, struct upstream_port *upstream)
{
	struct resolver *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	r->conf = conf;
	r->counters = counters;
	r->timers = timers;
	r->clock = clock;
	r->upstream = upstream;
	upstream->answer = fetch_upstream_done;
	TAILQ_INIT(&r->queries);
	for (unsigned i = 0; i < RESOLVE_OWNER_CHAINS; i++)
		TAILQ_INIT(&r->by_owner[i]);
	*out = r;
	return 0;
}

/* The cache and zones to use from now on (the old ones are let go); the
 * in-flight table is made the first time. */
int
resolver_use(struct resolver *r, struct cache *cache, struct zone_set *zones)
{
	struct inflight_config ic;
	int rc;

	cache_free(r->cache);
	r->cache = cache;
	local_use(r, zones);
	if ((rc = access_use(r, r->conf)) != 0) {
		log_warnx("access-control: %s", strerror(-rc));
		if (r->acl == NULL)
			return -1;
	}
	if (r->inflight != NULL)
		return 0;
	inflight_config_defaults(&ic);
	ic.max_waiters = r->conf->max_waiters;
	if ((rc = inflight_new(&r->inflight, &ic)) != 0) {
		log_warnx("in-flight table: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	resolve_fail_all(r);
	inflight_free(r->inflight);
	acl_free(r->acl);
	cache_free(r->cache);
	local_use(r, NULL);
	free(r);
}

