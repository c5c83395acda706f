/*
 * merge.c - the stage that merges identical queries in flight
 * (dns/inflight.h).
 *
 * A fetch belongs to the in-flight entry of its key, not to the query
 * that started it: identical queries arriving while it is pending join
 * it, up to max-waiters, and all get its answer, each with its own ID,
 * question case, RD bit and size limit. Beyond the cap, or without memory
 * for an entry, or without a key, a query gets a fetch of its own that no
 * one joins (the fetch stage sees req->join and makes it "solo").
 * Queries merge within a worker, never across, so no lock is needed.
 */
#include "config.h"

#include "resolve/stages.h"

bool
stage_merge(struct resolver *r, struct request *req)
{
	struct query *q = req->query;

	req->join = req->keyed ? inflight_join(r->inflight, &req->key,
	    &q->waiter) : INFLIGHT_FULL;
	if (req->join != INFLIGHT_JOINED)
		return false;
	COUNT(r->counters, merged);
	return true;
}
