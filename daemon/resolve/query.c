/*
 * query.c - the life of one client query, from its bytes to its answer,
 * and of the upstream fetches that answer them.
 *
 * A query is checked (FORMERR, NOTIMP and BADVERS are answered at once),
 * answered at once if it is ours (local.c: a zone's name or the CHAOS
 * class) or in the answer cache (cache.h: a hit allocates nothing and
 * touches no c-ares channel), counted against max-inflight (REFUSED beyond
 * it, with a rate-limited warning), given a deadline, and handed to a
 * fetch. It ends in exactly one way: the fetch's answer or failure, or
 * its own deadline, which answers SERVFAIL no matter what c-ares is still
 * doing.
 *
 * A fetch is one upstream question and its attempts. It belongs to the
 * in-flight entry of its key (inflight.h), not to the query that started
 * it: identical queries arriving while it is pending join it, up to
 * max-waiters, and all get its answer, each with its own ID, question
 * case, RD bit and size limit. Beyond the cap, or without memory for an
 * entry, a query gets a fetch of its own that no one joins. A fetch that
 * nobody waits for any more (every waiter's deadline passed, or shutdown)
 * is abandoned: its attempt is detached and freed when c-ares lets go of
 * it (c-ares 1.18 cannot cancel one query).
 *
 * Attempts: a failed attempt moves on to the next upstream while the
 * fetch has time left, at most once per upstream, or twice with a single
 * one for lost datagrams. An answer with RCODE SERVFAIL, REFUSED or NOTIMP
 * is tried elsewhere and relayed if no other upstream is left. An answer
 * the cache accepts (cache_insert() decides: NOERROR and RFC 2308 negative
 * answers) is stored before the waiters are answered. Every reply carries
 * its client's own ID and question and is never sent to anyone else: a
 * query remembers where it came from, and a client that went away (closed
 * connection, removed listener) just loses its answer.
 */
#include "config.h"

#include <ares.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_SYS_RANDOM_H
#include <sys/random.h>
#endif

#include "dns/cache.h"
#include "dns/inflight.h"
#include "core/log.h"
#include "miodnsd.h"

/* The longest question: a 255-octet name, type and class. */
#define QUERY_QUESTION_MAX (255 + 4)

/* One upstream question, shared by the queries waiting for it. */
struct fetch {
	struct cache_key key;
	struct dns_query dq;		/* the first client's; dq.question
					 * points to question */
	uint8_t question[QUERY_QUESTION_MAX];
	struct attempt *attempt;	/* the attempt in flight, if any */
	unsigned attempts;
	uint64_t until_ms;		/* no new attempt after this */
	struct query *solo;		/* unmerged: its one query */
	bool keyed;			/* key is set: may be cached */
};

struct query {
	struct timer deadline;
	TAILQ_ENTRY(query) entry;
	struct client client;
	struct dns_query dq;		/* dq.question points to question */
	uint8_t question[QUERY_QUESTION_MAX];
	size_t limit;			/* the client's largest answer */
	struct inflight_waiter waiter;	/* merged: waits for a fetch */
	struct fetch *fetch;		/* unmerged: its own fetch */
};

/* The outcome of a fetch, handed to each of its queries. */
struct fetch_outcome {
	const uint8_t *abuf;		/* NULL: SERVFAIL */
	size_t alen;
};

/* Each worker's queries, its reference to the cache, its in-flight
 * table (queries merge within a worker, never across: no lock). */
static WORKER_LOCAL TAILQ_HEAD(query_list, query) queries;
static WORKER_LOCAL size_t nqueries;
static WORKER_LOCAL struct log_limit busy_log;
static WORKER_LOCAL struct cache *cache;
static WORKER_LOCAL struct inflight *inflight;
/* Large enough for any answer plus our OPT record. */
static WORKER_LOCAL uint8_t reply_buf[DNS_MAX_MESSAGE + 64];
/* A cache hit too large for its client, before dns_build_answer()
 * truncates it. */
static WORKER_LOCAL uint8_t hit_buf[DNS_MAX_MESSAGE];

/* The cache the main thread made for the workers, and its settings. */
static struct cache *shared_cache;
static struct cache_config cache_conf;

static void fetch_attempt(struct fetch *f);

size_t
query_count(void)
{
	return nqueries;
}

void
query_worker_init(void)
{
	TAILQ_INIT(&queries);
}

/* The count of queries in flight changed: the gauge follows. */
static void
query_gauge(void)
{
	counter_set(&counters.inflight, nqueries);
	if (nqueries > counters.inflight_peak)
		counter_set(&counters.inflight_peak, nqueries);
}

static void
query_cache_config(const struct config *conf, struct cache_config *cc)
{
	cache_config_defaults(cc);
	cc->max_entries = conf->cache_entries;
	cc->max_bytes = conf->cache_bytes;
	cc->min_ttl = conf->min_ttl;
	cc->max_ttl = conf->max_ttl;
	cc->max_negative_ttl = conf->max_negative_ttl;
}

static bool
query_same_cache_config(const struct cache_config *a,
    const struct cache_config *b)
{
	return a->max_entries == b->max_entries &&
	    a->max_bytes == b->max_bytes && a->min_ttl == b->min_ttl &&
	    a->max_ttl == b->max_ttl &&
	    a->max_negative_ttl == b->max_negative_ttl;
}

/*
 * Main thread: makes the shared cache fit conf, at start and on reload,
 * where a cache whose settings changed is replaced (empty) and one whose
 * upstreams changed is flushed, since their answers may differ. Workers
 * move to a replacement through worker_apply(); each holds a reference
 * to the one it uses. 0, or -1 with what was there kept.
 */
int
query_cache_configure(const struct config *conf, bool upstreams_changed)
{
	struct cache_config cc;
	struct cache *c;
	int rc;

	query_cache_config(conf, &cc);
	if (shared_cache != NULL &&
	    query_same_cache_config(&cc, &cache_conf)) {
		if (upstreams_changed)
			cache_flush(shared_cache);
		return 0;
	}
	/* One seed for the daemon's life, so that keys made with the old
	 * cache still mean the same to the new one and to the in-flight
	 * tables. */
	if (shared_cache == NULL) {
#ifdef HAVE_GETRANDOM
		if (getrandom(cc.seed, sizeof(cc.seed), 0) !=
		    (ssize_t)sizeof(cc.seed))
			fatal("getrandom");
#else
		arc4random_buf(cc.seed, sizeof(cc.seed));
#endif
	} else {
		memcpy(cc.seed, cache_conf.seed, sizeof(cc.seed));
	}
	if ((rc = cache_new(&c, &cc)) != 0) {
		log_warnx("cache: %s", mio_strerror(rc));
		return -1;
	}
	cache_free(shared_cache);
	shared_cache = c;
	cache_conf = cc;
	return 0;
}

struct cache *
query_shared_cache(void)
{
	return shared_cache;
}

void
query_cache_fini(void)
{
	cache_free(shared_cache);
	shared_cache = NULL;
}

/*
 * A worker: uses cache (whose reference it takes over) from now on, and
 * makes its in-flight table. 0, or -1 if the table cannot be made.
 */
int
query_configure(const struct config *conf, struct cache *c)
{
	struct inflight_config ic;
	int rc;

	cache_free(cache);
	cache = c;
	if (inflight != NULL)
		return 0;
	inflight_config_defaults(&ic);
	ic.max_waiters = conf->max_waiters;
	if ((rc = inflight_new(&inflight, &ic)) != 0) {
		log_warnx("in-flight table: %s", mio_strerror(rc));
		return -1;
	}
	return 0;
}

void
query_fini(void)
{
	inflight_free(inflight);
	inflight = NULL;
	cache_free(cache);
	cache = NULL;
}

/* The cache's own counters, for SIGUSR1 and the exit. */
void
query_log_counters(void)
{
	struct cache_stats st;

	if (shared_cache == NULL)
		return;
	cache_stats(shared_cache, &st);
	log_info("cache: %zu entries, %zu bytes; %llu stored, %llu evicted, "
	    "%llu expired, %llu not cacheable, %llu malformed", st.entries,
	    st.bytes, (unsigned long long)st.inserts,
	    (unsigned long long)st.evictions, (unsigned long long)st.expired,
	    (unsigned long long)st.uncacheable,
	    (unsigned long long)st.malformed);
}

/* 512 bytes without EDNS (RFC 1035), else the client's size within
 * 512..edns-size (RFC 6891 6.2.5), everything over TCP. */
static size_t
query_limit(const struct dns_query *dq, const struct client *from)
{
	unsigned cap = worker_config()->edns_size;

	if (from->conn != NULL)
		return DNS_MAX_MESSAGE;
	if (!dq->edns || dq->edns_size <= 512)
		return 512;
	return dq->edns_size < cap ? dq->edns_size : cap;
}

static void
query_reply_to(const struct dns_query *dq, size_t limit, struct dns_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->id = dq->id;
	r->flags1 = dq->flags1;
	r->flags2 = dq->flags2;
	r->question = dq->question;
	r->question_len = dq->question_len;
	r->edns = dq->edns;
	r->edns_do = dq->edns_do;
	r->edns_size = (uint16_t)worker_config()->edns_size;
	r->limit = limit;
}

static void
query_send(const struct client *to, const uint8_t *msg, size_t len)
{
	if (len == 0)
		return;
	if (to->conn != NULL)
		conn_send(to->conn, msg, len);
	else if (to->listener != NULL)
		listener_send_udp(to->listener, &to->addr, msg, len);
	else
		return;
	counters_count_reply(&counters, msg, len);
}

static void
query_send_error(const struct dns_query *dq, const struct client *to,
    size_t limit, int rcode)
{
	struct dns_reply r;

	query_reply_to(dq, limit, &r);
	query_send(to, reply_buf, dns_build_error(&r, rcode, reply_buf,
	    sizeof(reply_buf)));
}

/* Leaves a fetch nobody waits for: c-ares may still answer its
 * attempt, which then goes nowhere. */
static void
fetch_abandon(struct fetch *f)
{
	if (f->attempt != NULL)
		upstream_forget(f->attempt);
	free(f);
}

/* Ends q: leaves its fetch, tells its connection, frees it. */
static void
query_finish(struct query *q)
{
	struct conn *conn = q->client.conn;
	void *pending = NULL;

	if (inflight_waiting(&q->waiter) &&
	    inflight_cancel_waiter(inflight, &q->waiter, &pending) &&
	    pending != NULL)
		fetch_abandon(pending);
	if (q->fetch != NULL)
		fetch_abandon(q->fetch);
	timer_disarm(&q->deadline);
	TAILQ_REMOVE(&queries, q, entry);
	nqueries--;
	query_gauge();
	free(q);
	if (conn != NULL)
		conn_query_done(conn);
}

static void
query_servfail(struct query *q)
{
	query_send_error(&q->dq, &q->client, q->limit, DNS_RCODE_SERVFAIL);
	query_finish(q);
}

static void
query_deadline_fire(struct timer *t)
{
	struct query *q = (struct query *)(void *)((char *)t -
	    offsetof(struct query, deadline));

	COUNT(timeouts);
	log_debug2("deadline: SERVFAIL");
	query_servfail(q);
}

/* Answers q with the fetch's outcome and ends it. */
static void
query_deliver(struct query *q, const struct fetch_outcome *o)
{
	struct dns_reply r;
	size_t len = 0;
	bool truncated;

	q->fetch = NULL;
	if (o->abuf == NULL) {
		query_servfail(q);
		return;
	}
	query_reply_to(&q->dq, q->limit, &r);
	if (dns_build_answer(&r, o->abuf, o->alen, reply_buf,
	    sizeof(reply_buf), &len, &truncated) < 0) {
		query_servfail(q);
		return;
	}
	query_send(&q->client, reply_buf, len);
	query_finish(q);
}

static void
fetch_deliver_cb(void *arg, void *cookie)
{
	query_deliver(cookie, arg);
}

/* Ends f with an answer (stored in the cache if it is fit to be) or, with
 * abuf NULL, a SERVFAIL for everyone waiting. */
static void
fetch_finish(struct fetch *f, const uint8_t *abuf, size_t alen)
{
	struct fetch_outcome o = { abuf, alen };
	enum cache_insert_result res;

	if (abuf != NULL && f->keyed) {
		res = cache_insert(cache, &f->key, timer_now() / 1000, abuf,
		    alen);
		if (res != CACHE_INSERT_STORED)
			log_debug2("not cached: %s",
			    cache_insert_result_str(res));
	}
	f->attempt = NULL;
	if (f->solo != NULL)
		query_deliver(f->solo, &o);
	else
		inflight_complete(inflight, &f->key, fetch_deliver_cb, &o);
	free(f);
}

void
fetch_link_attempt(struct fetch *f, struct attempt *attempt)
{
	f->attempt = attempt;
}

/* Sends f to its next upstream. f may be gone when this returns: c-ares
 * can call back before ares_send() returns. */
static void
fetch_attempt(struct fetch *f)
{
	uint8_t msg[12 + QUERY_QUESTION_MAX + 11];
	size_t len = dns_build_upstream(&f->dq,
	    (uint16_t)worker_config()->edns_size, msg, sizeof(msg));
	unsigned attempt = f->attempts++;

	if (len == 0 || !upstream_send(f, attempt, msg, len)) {
		COUNT(servfail_upstream);
		fetch_finish(f, NULL, 0);
	}
}

/* Whether another attempt fits: time left, and an upstream not yet tried
 * (after an answer) or any attempt left (after silence or an error). */
static bool
fetch_can_retry(const struct fetch *f, bool answered)
{
	unsigned n = upstream_count();

	if (f->until_ms <= timer_now())
		return false;
	if (answered)
		return f->attempts < n;
	return f->attempts < (n > 1 ? n : 2);
}

static bool
query_rcode_is_failure(int rcode)
{
	return rcode == DNS_RCODE_SERVFAIL || rcode == DNS_RCODE_REFUSED ||
	    rcode == DNS_RCODE_NOTIMP || rcode == DNS_RCODE_FORMERR;
}

/* An upstream answer or failure for f (status is c-ares'). The answer is
 * checked by dressing it for the first client: what fails there would
 * fail for every client. */
void
fetch_upstream_done(struct fetch *f, int status, const uint8_t *abuf,
    size_t alen)
{
	struct dns_reply r;
	size_t len = 0;
	bool truncated = false;
	int rcode = -1;

	f->attempt = NULL;
	if (status == ARES_SUCCESS) {
		query_reply_to(&f->dq, DNS_MAX_MESSAGE, &r);
		rcode = dns_build_answer(&r, abuf, alen, reply_buf,
		    sizeof(reply_buf), &len, &truncated);
		if (rcode < 0)
			COUNT(upstream_bad_answers);
		if (rcode >= 0 && !query_rcode_is_failure(rcode)) {
			fetch_finish(f, abuf, alen);
			return;
		}
	}
	if (status != ARES_EDESTRUCTION && status != ARES_ECANCELLED &&
	    fetch_can_retry(f, rcode >= 0)) {
		COUNT(upstream_retries);
		fetch_attempt(f);
		return;
	}
	if (rcode >= 0 && rcode != DNS_RCODE_FORMERR) {
		/* The upstream's own SERVFAIL, REFUSED or NOTIMP. */
		fetch_finish(f, abuf, alen);
		return;
	}
	COUNT(servfail_upstream);
	log_debug2("upstream failure (%s): SERVFAIL", status == ARES_SUCCESS ?
	    "unusable answer" : ares_strerror(status));
	fetch_finish(f, NULL, 0);
}

/* A fetch for q's question; NULL without memory. */
static struct fetch *
fetch_new(const struct query *q, const struct cache_key *key)
{
	struct fetch *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	if (key != NULL) {
		f->key = *key;
		f->keyed = true;
	}
	f->dq = q->dq;
	memcpy(f->question, q->question, q->dq.question_len);
	f->dq.question = f->question;
	f->until_ms = q->deadline.when_ms;
	return f;
}

/* Answers what dns_parse_query() rejected, within the client's limit;
 * false if nothing is left. */
static bool
query_check(enum dns_verdict verdict, const struct dns_query *dq,
    const struct client *from, size_t limit)
{
	switch (verdict) {
	case DNS_QUERY_OK:
		return true;
	case DNS_QUERY_DROP:
		COUNT(dropped);
		break;
	case DNS_QUERY_FORMERR:
		COUNT(formerr);
		query_send_error(dq, from, limit, DNS_RCODE_FORMERR);
		break;
	case DNS_QUERY_NOTIMP:
		COUNT(notimp);
		query_send_error(dq, from, limit, DNS_RCODE_NOTIMP);
		break;
	case DNS_QUERY_BADVERS:
		COUNT(formerr);
		query_send_error(dq, from, limit, DNS_RCODE_BADVERS);
		break;
	}
	return false;
}

/* Answers dq from local.c if it is ours; false if it goes upstream. r is
 * the reply's dressing, made once per query by query_receive(). */
static bool
query_local(const struct dns_query *dq, const struct dns_reply *r,
    const struct client *from)
{
	size_t len;

	len = local_answer(dq, r, &from->addr, reply_buf, sizeof(reply_buf));
	if (len == 0)
		return false;
	query_send(from, reply_buf, len);
	return true;
}

/* The cache key of dq: its name, type, class and the header bits that
 * shape the upstream query. False if the name will not do as a key. */
static bool
query_key(const struct dns_query *dq, struct cache_key *key)
{
	unsigned flags = (dq->edns_do ? CACHE_KEY_DO : 0) |
	    (dq->flags2 & 0x10 ? CACHE_KEY_CD : 0) |
	    (dq->flags2 & 0x20 ? CACHE_KEY_AD : 0) |
	    (dq->flags1 & 0x01 ? CACHE_KEY_RD : 0);

	return dq->question_len > 4 && cache_key_init(key, cache,
	    dq->question, dq->question_len - 4, dq->qtype, dq->qclass,
	    flags) == 0;
}

/*
 * Answers dq from the cache; false on a miss. Allocates nothing. The hit
 * is written straight into reply_buf and dressed where it lies: the
 * cache checked every entry when it stored it, so a hit that fits the
 * client is not parsed again. Only one too large for the client goes
 * through dns_build_answer(), which truncates it.
 */
static bool
query_cached(const struct dns_query *dq, const struct dns_reply *r,
    const struct cache_key *key, const struct client *from)
{
	struct cache_client cc = { dq->id, dq->question, dq->question_len };
	size_t hlen, len;
	bool truncated;

	if (!cache_lookup(cache, key, timer_now() / 1000, &cc, reply_buf,
	    DNS_MAX_MESSAGE, &hlen)) {
		COUNT(cache_misses);
		return false;
	}
	len = dns_dress_hit(r, reply_buf, hlen);
	if (len == 0) {
		memcpy(hit_buf, reply_buf, hlen);
		if (dns_build_answer(r, hit_buf, hlen, reply_buf,
		    sizeof(reply_buf), &len, &truncated) < 0) {
			COUNT(cache_misses);
			return false;
		}
	}
	COUNT(cache_hits);
	query_send(from, reply_buf, len);
	return true;
}

/* Starts q's upstream work: a new fetch, a fetch already pending for the
 * same question, or, past max-waiters, a fetch of its own. */
static void
query_start(struct query *q, const struct cache_key *key)
{
	struct fetch *f;
	enum inflight_join_result join = key != NULL ?
	    inflight_join(inflight, key, &q->waiter) : INFLIGHT_FULL;

	if (join == INFLIGHT_JOINED) {
		COUNT(merged);
		return;
	}
	if ((f = fetch_new(q, key)) == NULL) {
		COUNT(servfail_upstream);
		query_servfail(q);
		return;
	}
	if (join == INFLIGHT_NEW) {
		inflight_set_pending(&q->waiter, f);
	} else {
		f->solo = q;
		q->fetch = f;
	}
	fetch_attempt(f);
}

void
query_receive(const uint8_t *msg, size_t len, const struct client *from)
{
	const struct config *conf = worker_config();
	enum dns_verdict verdict;
	struct dns_query dq;
	struct dns_reply r;
	struct cache_key key;
	bool keyed;
	struct query *q;

	if (from->conn != NULL)
		COUNT(tcp_queries);
	else
		COUNT(udp_queries);
	verdict = dns_parse_query(msg, len, &dq);
	query_reply_to(&dq, query_limit(&dq, from), &r);
	if (!query_check(verdict, &dq, from, r.limit) ||
	    query_local(&dq, &r, from))
		return;
	if (upstream_count() == 0) {
		/* Zones only: what is not ours is not our business. */
		query_send_error(&dq, from, r.limit, DNS_RCODE_REFUSED);
		return;
	}
	keyed = query_key(&dq, &key);
	if (keyed && query_cached(&dq, &r, &key, from))
		return;
	if (nqueries >= conf->max_inflight || worker_shutting_down() ||
	    (q = calloc(1, sizeof(*q))) == NULL) {
		COUNT(refused_busy);
		if (!worker_shutting_down())
			log_warnx_limited(&busy_log, "%zu queries in flight, "
			    "the maximum: answering REFUSED", nqueries);
		query_send_error(&dq, from, r.limit, DNS_RCODE_REFUSED);
		return;
	}
	q->client = *from;
	q->dq = dq;
	memcpy(q->question, dq.question, dq.question_len);
	q->dq.question = q->question;
	q->limit = r.limit;
	inflight_waiter_init(&q->waiter, q);
	q->deadline.fire = query_deadline_fire;
	timer_arm(&q->deadline, timer_now() + conf->timeout_ms);
	TAILQ_INSERT_TAIL(&queries, q, entry);
	nqueries++;
	query_gauge();
	if (from->conn != NULL)
		conn_query_started(from->conn);
	query_start(q, keyed ? &key : NULL);
}

/* The connection is gone: its queries carry on, answering no one. */
void
query_detach_conn(struct conn *conn)
{
	struct query *q;

	TAILQ_FOREACH(q, &queries, entry) {
		if (q->client.conn == conn) {
			q->client.conn = NULL;
			q->client.listener = NULL;
		}
	}
}

void
query_detach_listener(struct listener *listener)
{
	struct query *q;

	TAILQ_FOREACH(q, &queries, entry) {
		if (q->client.listener == listener)
			q->client.listener = NULL;
	}
}

/* The end of a graceful shutdown: SERVFAIL to whatever is left. */
void
query_fail_all(void)
{
	struct query *q;

	while ((q = TAILQ_FIRST(&queries)) != NULL) {
		COUNT(timeouts);
		query_servfail(q);
	}
}
