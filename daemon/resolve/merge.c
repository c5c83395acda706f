/*
 * merge.c - the stage that merges identical queries in flight
 * (dns/inflight.h).
 *
 * A fetch belongs to the in-flight entry of its key, not to the query
 * that started it: identical queries arriving while it is pending join
 * it, up to max-waiters, and all get its answer, each with its own ID,
 * question case, RD bit and size limit. Queries merge within a worker,
 * never across, so no lock is needed. They merge on what is sent upstream:
 * the question, DO and CD (dns_build_upstream() sets RD and AD whatever
 * the client asked), not on the client's RD and AD, which only shape its
 * own reply; keyed on those, one question went upstream up to 8 times at
 * once (review finding 8). The cache keeps them in its key: an entry is
 * stored dressed for them.
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

/* The in-flight key of req: its cache key without RD and AD. */
static bool
merge_key(struct resolver *r, struct request *req)
{
	const struct dns_query *dq = &req->dq;

	return req->keyed && cache_key_init(&req->merge_key, r->cache,
	    dq->question, dq->question_len - 4, dq->qtype, dq->qclass,
	    req->key.flags & (CACHE_KEY_DO | CACHE_KEY_CD)) == 0;
}

bool
stage_merge(struct resolver *r, struct request *req)
{
	struct query *q = req->query;

	req->keyed = merge_key(r, req);
	req->join = req->keyed ? inflight_join(r->inflight, &req->merge_key,
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
