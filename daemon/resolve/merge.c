/*
 * merge.c - the stage that merges identical queries in flight
 * (dns/inflight.h).
 *
 * A fetch belongs to the in-flight entry of its key, not to the query
 * that started it: identical queries arriving while it is pending join
 * it, up to max-waiters, and all get its answer, each with its own ID,
 * question case, RD bit and size limit. Queries merge within a worker,
 * never across, so no lock is needed.
 *
 * Beyond max-waiters (or without memory for an entry) a query is answered
 * SERVFAIL at once and never sent upstream on its own: every extra
 * upstream query for one question is one more chance for a forged answer
 * to match (DNSpooq, CVE-2020-25684..25686; issue 15 poisoned an answer
 * with 1,500 identical queries). SERVFAIL rather than REFUSED because the
 * server is not refusing this client, it is overloaded on this question
 * right now, which is what SERVFAIL tells a stub (it tries the next
 * server or again later), while resolvers like BIND take REFUSED as a
 * lame server and stop asking it. Only a query without a key (a name the
 * cache cannot key) gets a fetch of its own that no one joins.
 */
#include "config.h"

#include "resolve/stages.h"

bool
stage_merge(struct resolver *r, struct request *req)
{
	struct query *q = req->query;

	req->join = req->keyed ? inflight_join(r->inflight, &req->key,
	    &q->waiter) : INFLIGHT_FULL;
	switch (req->join) {
	case INFLIGHT_JOINED:
		COUNT(r->counters, merged);
		return true;
	case INFLIGHT_FULL:
	case INFLIGHT_NOMEM:
		if (!req->keyed)
			return false;
		COUNT(r->counters, servfail_waiters);
		query_servfail(q, DNS_EDE_NONE);
		return true;
	case INFLIGHT_NEW:
		break;
	}
	return false;
}
