/*
 * stages.h - inside the pipeline: the query, the fetch, the request a
 * query is while it goes down the stages, and the stages themselves.
 * Only resolve/ includes it.
 *
 * A stage is bool stage_NAME(struct resolver *r, struct request *req):
 * true when it ended the query (answered, dropped, or handed it to
 * something that will answer it later), false to let the next stage have
 * it. resolve_query() (query.c) lists them in order.
 */
#ifndef MIODNSD_STAGES_H
#define MIODNSD_STAGES_H

#include <string.h>

#include "core/acl.h"
#include "dns/cache.h"
#include "dns/inflight.h"
#include "resolve/resolve.h"

/* The longest question: a 255-octet name, type and class. */
#define QUERY_QUESTION_MAX (255 + 4)

/* Attempts of one fetch waited for at once: an attempt that outlived
 * upstream-timeout is still answered, until the deadline (fetch.c). */
#define FETCH_LIVE_MAX 4

struct fetch;

/* An attempt in flight; the cookie the upstream port gets back. */
struct fetch_try {
	struct fetch *fetch;
	struct attempt *attempt;	/* NULL once over */
	bool superseded;		/* timed out: the next one was sent */
	/* use-caps-for-id: the name as this attempt wrote it. */
	uint8_t sent_name[256];
	size_t sent_name_len;		/* 0: no 0x20 in this attempt */
};

/* One upstream question, shared by the queries waiting for it. */
struct fetch {
	struct resolver *resolver;
	struct cache_key key;		/* the first client's, for the cache */
	struct cache_key merge_key;	/* its in-flight entry's */
	struct dns_query dq;		/* the first client's; dq.question
					 * points to question */
	uint8_t question[QUERY_QUESTION_MAX];
	struct fetch_try tries[FETCH_LIVE_MAX];	/* attempts in flight */
	unsigned attempts;		/* the latest is tries[(attempts - 1)
					 * % FETCH_LIVE_MAX] */
	uint64_t until_ms;		/* no new attempt after this */
	mio_timer retry;		/* backoff before the next round */
	mio_timer timeout;		/* the latest attempt's upstream-timeout */
	bool caps_off;			/* use-caps-for-id: an upstream did not
					 * echo the case: plain case now */
	struct query *solo;		/* unmerged: its one query */
	bool keyed;			/* key is set: may be cached */
};

/* A query the pipeline kept: it waits for a fetch or its deadline. */
struct query {
	struct resolver *resolver;
	mio_timer deadline;
	uint64_t deadline_ms;		/* when it fires, on the batch clock */
	TAILQ_ENTRY(query) entry;
	TAILQ_ENTRY(query) owner_entry;	/* in its owner's chain */
	struct client client;
	struct dns_query dq;		/* dq.question points to question */
	uint8_t question[QUERY_QUESTION_MAX];
	size_t limit;			/* the client's largest answer */
	struct inflight_waiter waiter;	/* merged: waits for a fetch */
	struct fetch *fetch;		/* unmerged: its own fetch */
	uint64_t admitted_ms;		/* when stage_admit() kept it */
};

/* A query on its way down the stages; lives on resolve_query()'s stack. */
struct request {
	const struct client *from;
	const uint8_t *msg;		/* the client's, as it came */
	size_t len;
	enum dns_verdict verdict;
	struct dns_query dq;		/* points into the client's message */
	struct dns_reply reply;		/* how to dress its reply */
	struct cache_key key;		/* set by the cache stage if keyed */
	struct cache_key merge_key;	/* key, but only DO and CD */
	bool keyed;
	struct query *query;		/* once admitted */
	enum inflight_join_result join;	/* set by the merge stage */
	enum acl_action access;		/* set by the access stage */
};

/* The stages, in the order resolve_query() runs them; stage_access and
 * stage_refused are inline, below. */
bool stage_check(struct resolver *r, struct request *req);	/* check.c */
bool stage_local(struct resolver *r, struct request *req);	/* local.c */
bool stage_forward(struct resolver *r, struct request *req);	/* cached.c */
bool stage_cache(struct resolver *r, struct request *req);	/* cached.c */
bool stage_admit(struct resolver *r, struct request *req);	/* query.c */
bool stage_merge(struct resolver *r, struct request *req);	/* merge.c */
bool stage_fetch(struct resolver *r, struct request *req);	/* fetch.c */

/* How to dress a reply to dq within limit, RA clear: the caller sets
 * reply->ra where recursion is offered (resolve_recursion()). Inline, like resolve_send():
 * both are on the path of every cache hit. */
static inline void
resolve_reply_to(const struct resolver *r, const struct dns_query *dq,
    size_t limit, struct dns_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
	reply->id = dq->id;
	reply->flags1 = dq->flags1;
	reply->flags2 = dq->flags2;
	reply->question = dq->question;
	reply->question_len = dq->question_len;
	reply->edns = dq->edns;
	reply->edns_do = dq->edns_do;
	reply->edns_size = (uint16_t)r->conf->edns_size;
	reply->limit = limit;
}

/*
 * Whether this client is offered recursion, which every reply says in RA
 * (RFC 1035 4.1.1): the instance has upstreams and access control lets
 * the client use them. A client that may only see the zones, or an
 * instance with no upstream, gets RA clear, as from NSD or Knot. Stages
 * past stage_refused and stage_forward know the answer is yes; a cache
 * hit dressed in place needs no RA work at all (cache.c stored it set).
 */
static inline bool
resolve_recursion(const struct resolver *r, const struct request *req)
{
	return req->access == ACL_ALLOW && r->upstream->count > 0;
}

/* Sends through the client's handle; a forgotten handle (ops NULL)
 * swallows the reply. */
static inline void
resolve_send(struct resolver *r, const struct client *to, const uint8_t *msg,
    size_t len)
{
	if (len == 0 || to->ops == NULL)
		return;
	to->ops->send(to, msg, len);
	counters_count_reply(r->counters, msg, len);
}

/* reply.c: error replies, with an Extended DNS Error (enum dns_ede) or
 * DNS_EDE_NONE. query.c: the end of a kept query. */
void resolve_send_error(struct resolver *r, const struct dns_reply *reply,
    const struct client *to, int rcode, int ede);
void query_servfail(struct query *q, int ede);
void query_finish(struct query *q);

/* fetch.c: the outcome of a fetch, for each query waiting for it. */
struct fetch_outcome {
	const uint8_t *abuf;		/* NULL: SERVFAIL */
	size_t alen;
	int ede;			/* the SERVFAIL's enum dns_ede */
};
void query_deliver(struct query *q, const struct fetch_outcome *o);
void fetch_upstream_done(void *cookie, enum upstream_status status,
    const uint8_t *abuf, size_t alen, const char *why);

/* access.c: this worker's access-control list, from conf; what becomes
 * of a denied and of a refused query. */
int access_use(struct resolver *r, const struct config *conf);
bool access_drop(struct resolver *r);
bool access_refuse(struct resolver *r, struct request *req);

/*
 * The access stages (access.c says what they do). Inline, with what they
 * do to a denied or refused client out of line: every query, cache hits
 * included, passes both, and the two calls cost more than the tests.
 */
static inline bool
stage_access(struct resolver *r, struct request *req)
{
	/* No list yet (never: resolver_use() comes first) refuses. */
	req->access = r->acl == NULL ? ACL_REFUSE : acl_check(r->acl,
	    (const struct sockaddr *)&req->from->addr.ss);
	return req->access == ACL_DENY && access_drop(r);
}

static inline bool
stage_refused(struct resolver *r, struct request *req)
{
	return req->access != ACL_ALLOW && access_refuse(r, req);
}

/* local.c: this worker's zones. */
void local_use(struct resolver *r, struct zone_set *zones);

#endif /* MIODNSD_STAGES_H */
