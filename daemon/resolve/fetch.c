/*
 * fetch.c - the last stage: one upstream question and its attempts, and
 * the answer that ends it.
 *
 * A fetch is made for a query that merged with nobody (stage_fetch) and
 * sent through the upstream port (upstream.h), which calls
 * fetch_upstream_done(), the callback the pipeline registered, with the
 * outcome. A fetch that nobody waits for any more (every waiter's
 * deadline passed, or shutdown) is abandoned by query.c: its attempt is
 * forgotten by the port, and its outcome goes nowhere (c-ares 1.18 cannot
 * cancel one query).
 *
 * Attempts: a failed attempt (an unusable answer, a send that failed, or
 * silence for upstream-timeout) moves on to the next upstream at once, and
 * once every upstream has failed in a round, the next round starts after
 * a backoff (50 ms, doubling up to 800 ms), round after round until the
 * query's deadline. An attempt that stayed silent is not given up: the
 * upstream port keeps it until the deadline (the c-ares channels time out
 * at the deadline, the fetch times each attempt itself), and its answer
 * is taken if it comes first, so an upstream slower than upstream-timeout
 * still answers (review finding 4: it was SERVFAIL at 2 s of 3). Each
 * such answer is checked by the port against its own attempt's port, ID
 * and question, so keeping it open widens the forgery window by no more
 * than one more query in flight would; at most FETCH_LIVE_MAX attempts
 * are kept, the oldest forgotten first.
 *
 * an upstream that restarts, or an outage shorter than the deadline, costs
 * no SERVFAIL (issue 15 saw 5.5% SERVFAIL with an upstream restarting
 * every 2 s). An answer with RCODE SERVFAIL, REFUSED or NOTIMP, or an
 * upstream that will only fail again (UPSTREAM_REJECTED: its TLS
 * certificate was refused), is tried elsewhere, without new rounds, and
 * the answer relayed if no other upstream is left. An answer
 * the cache accepts (cache_insert() decides: NOERROR and RFC 2308 negative
 * answers) is stored before the waiters are answered. Per-domain upstreams
 * would choose the port here, by the question's name.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_SYS_RANDOM_H
#include <sys/random.h>
#endif

#include "resolve/stages.h"

/* The pause before a new round of attempts: doubled each round. */
#define FETCH_BACKOFF_MS 50
#define FETCH_BACKOFF_MAX_MS 800

static void fetch_attempt(struct fetch *f);
static bool fetch_can_retry(const struct fetch *f, bool answered);
static void fetch_forget_tries(struct fetch *f);

/* Answers q with the fetch's outcome and ends it. */
void
query_deliver(struct query *q, const struct fetch_outcome *o)
{
	struct resolver *r = q->resolver;
	struct dns_reply reply;
	size_t len = 0;
	bool truncated;

	q->fetch = NULL;
	if (o->abuf == NULL) {
		query_servfail(q, o->ede);
		return;
	}
	resolve_reply_to(r, &q->dq, q->limit, &reply);
	reply.ra = true;		/* a kept query was offered recursion */
	if (dns_build_answer(&reply, o->abuf, o->alen, r->reply_buf,
	    sizeof(r->reply_buf), &len, &truncated) < 0) {
		query_servfail(q, DNS_EDE_NETWORK_ERROR);
		return;
	}
	resolve_send(r, &q->client, r->reply_buf, len);
	query_finish(q);
}

static void
fetch_deliver_cb(void *arg, void *cookie)
{
	query_deliver(cookie, arg);
}

/* Ends f with an answer (stored in the cache if it is fit to be) or, with
 * abuf NULL, a SERVFAIL with Extended DNS Error ede for everyone waiting:
 * 22 (No Reachable Authority) when the upstreams failed or stayed silent,
 * 23 (Network Error) when nothing could even be sent. */
static void
fetch_finish(struct fetch *f, const uint8_t *abuf, size_t alen, int ede)
{
	struct resolver *r = f->resolver;
	struct fetch_outcome o = { abuf, alen, ede };
	enum cache_insert_result res;

	if (abuf != NULL && f->keyed) {
		res = cache_insert(r->cache, &f->key,
		    batch_clock_ms(r->clock) / 1000, abuf, alen);
		if (res != CACHE_INSERT_STORED)
			log_debug2("not cached: %s",
			    cache_insert_result_str(res));
	}
	fetch_forget_tries(f);
	mio_timer_stop(r->timers, &f->retry);
	mio_timer_stop(r->timers, &f->timeout);
	if (f->solo != NULL)
		query_deliver(f->solo, &o);
	else
		inflight_complete(r->inflight, &f->merge_key, fetch_deliver_cb,
		    &o);
	free(f);
}

/*
 * use-caps-for-id (draft-vixie-dnsext-dns0x20, unbound's name): every
 * letter of the upstream question's name in a random case, noted in the
 * attempt t, so that an answer must echo it exactly: one more bit per
 * letter for a forger to guess. c-ares and mio-ares compare names in any case, so the
 * check is here. Length bytes are left alone.
 */
static void
fetch_random_case(struct fetch *f, struct fetch_try *t, uint8_t *msg,
    size_t len)
{
	uint8_t bits[32];
	size_t at = 12, n = 0;

	t->sent_name_len = 0;
	if (!f->resolver->conf->use_caps_for_id || f->caps_off)
		return;
#ifdef HAVE_GETRANDOM
	if (getrandom(bits, sizeof(bits), 0) != (ssize_t)sizeof(bits))
		return;
#else
	arc4random_buf(bits, sizeof(bits));
#endif
	while (at < len && msg[at] != 0 && msg[at] < 64) {
		size_t end = at + 1 + msg[at];
		for (at++; at < end && at < len; at++, n++) {
			uint8_t c = msg[at] | 0x20;
			if (c >= 'a' && c <= 'z')
				msg[at] = (bits[n / 8 % sizeof(bits)] >> (n % 8)) & 1 ?
				    (uint8_t)(c - 32) : c;
		}
	}
	if (at >= len || at - 12 + 1 > sizeof(t->sent_name))
		return;
	t->sent_name_len = at - 12 + 1;
	memcpy(t->sent_name, msg + 12, t->sent_name_len);
}

/* Whether an answer echoes the case its attempt was sent in (true when
 * 0x20 was not used). A mismatch turns it off for the fetch (unbound's
 * fallback: some servers do not echo case) and the answer is refused. */
static bool
fetch_case_echoed(struct fetch *f, const struct fetch_try *t,
    const uint8_t *abuf, size_t alen)
{
	if (t->sent_name_len == 0)
		return true;
	if (alen >= 12 + t->sent_name_len &&
	    memcmp(abuf + 12, t->sent_name, t->sent_name_len) == 0)
		return true;
	COUNT(f->resolver->counters, upstream_caps_mismatch);
	f->caps_off = true;
	return false;
}

/* Lets go of every attempt of f still in flight (query.c's
 * query_abandon_fetch() does the same, without calling up here). */
static void
fetch_forget_tries(struct fetch *f)
{
	struct upstream_port *port = f->resolver->upstream;

	for (unsigned i = 0; i < FETCH_LIVE_MAX; i++) {
		if (f->tries[i].attempt != NULL)
			port->ops->forget(port, f->tries[i].attempt);
		f->tries[i].attempt = NULL;
	}
}

static bool
fetch_has_tries(const struct fetch *f)
{
	for (unsigned i = 0; i < FETCH_LIVE_MAX; i++) {
		if (f->tries[i].attempt != NULL)
			return true;
	}
	return false;
}

static void fetch_retry(struct fetch *f);

/* The latest attempt stayed silent for upstream-timeout: it is left to
 * answer until the deadline, and the next one starts if there is time. */
static void
fetch_timeout_fire(mio_timer *timer, void *arg)
{
	struct fetch *f = arg;

	(void)timer;
	COUNT(f->resolver->counters, upstream_timeouts);
	f->tries[(f->attempts - 1) % FETCH_LIVE_MAX].superseded = true;
	if (fetch_can_retry(f, false))
		fetch_retry(f);
}

/* Sends f to its next upstream. f may be gone when this returns: the
 * port can call back before its send returns. */
static void
fetch_attempt(struct fetch *f)
{
	struct resolver *r = f->resolver;
	struct upstream_port *port = r->upstream;
	uint8_t msg[12 + QUERY_QUESTION_MAX + 11];
	size_t len = dns_build_upstream(&f->dq, (uint16_t)r->conf->edns_size,
	    msg, sizeof(msg));
	unsigned attempt = f->attempts++;
	struct fetch_try *t = &f->tries[attempt % FETCH_LIVE_MAX];

	if (t->attempt != NULL)		/* the oldest kept: forgotten */
		port->ops->forget(port, t->attempt);
	t->fetch = f;
	t->attempt = NULL;
	t->superseded = false;
	/* Without this timer the attempt still ends at the deadline. */
	mio_timer_stop(r->timers, &f->timeout);
	(void)clock_timer_start(r->timers, &f->timeout,
	    r->conf->upstream_timeout_ms, "an upstream attempt");
	fetch_random_case(f, t, msg, len);
	if (len == 0 || !port->ops->send(port, attempt, msg, len, t,
	    &t->attempt)) {
		COUNT(r->counters, servfail_upstream);
		fetch_finish(f, NULL, 0, DNS_EDE_NETWORK_ERROR);
	}
}

/* The pause before the next attempt: none while an upstream of this
 * round is left, else the round's backoff. */
static uint64_t
fetch_backoff_ms(const struct fetch *f)
{
	unsigned n = f->resolver->upstream->count;
	unsigned round = n > 0 ? f->attempts / n : 0;
	uint64_t ms = FETCH_BACKOFF_MS;

	if (n == 0 || f->attempts % n != 0)
		return 0;
	for (unsigned i = 1; i < round && ms < FETCH_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < FETCH_BACKOFF_MAX_MS ? ms : FETCH_BACKOFF_MAX_MS;
}

/* Whether another attempt fits: an upstream not yet tried (after an
 * answer), or time left for the backoff (after silence or an error). */
static bool
fetch_can_retry(const struct fetch *f, bool answered)
{
	uint64_t now = batch_clock_ms(f->resolver->clock);

	if (f->until_ms <= now)
		return false;
	if (answered)
		return f->attempts < f->resolver->upstream->count;
	return now + fetch_backoff_ms(f) < f->until_ms;
}

static void
fetch_retry_fire(mio_timer *timer, void *arg)
{
	(void)timer;
	fetch_attempt(arg);
}

/* The next attempt: at once, or after the round's backoff. */
static void
fetch_retry(struct fetch *f)
{
	struct resolver *r = f->resolver;
	uint64_t ms = fetch_backoff_ms(f);

	COUNT(r->counters, upstream_retries);
	mio_timer_stop(r->timers, &f->retry);
	mio_timer_stop(r->timers, &f->timeout);
	if (ms == 0) {
		fetch_attempt(f);
		return;
	}
	/* Without a timer for the backoff the fetch fails as if nothing
	 * could be sent: its queries get SERVFAIL now, not at their
	 * deadline. */
	if (clock_timer_start(r->timers, &f->retry, ms, "an upstream retry")
	    != 0) {
		COUNT(r->counters, servfail_upstream);
		fetch_finish(f, NULL, 0, DNS_EDE_NETWORK_ERROR);
	}
}

static bool
fetch_rcode_is_failure(int rcode)
{
	return rcode == DNS_RCODE_SERVFAIL || rcode == DNS_RCODE_REFUSED ||
	    rcode == DNS_RCODE_NOTIMP || rcode == DNS_RCODE_FORMERR;
}

/* The answer's RCODE once dressed for the first client (what fails there
 * would fail for every client), or -1 if it is unusable. */
static int
fetch_check_answer(struct fetch *f, const uint8_t *abuf, size_t alen)
{
	struct resolver *r = f->resolver;
	struct dns_reply reply;
	size_t len = 0;
	bool truncated = false;
	int rcode;

	resolve_reply_to(r, &f->dq, DNS_MAX_MESSAGE, &reply);
	reply.ra = true;
	rcode = dns_build_answer(&reply, abuf, alen, r->reply_buf,
	    sizeof(r->reply_buf), &len, &truncated);
	if (rcode < 0)
		COUNT(r->counters, upstream_bad_answers);
	return rcode;
}

/* The callback registered in the upstream port: an attempt's outcome. The
 * failure of an attempt that timed out changes nothing: the next one
 * was sent then. */
void
fetch_upstream_done(void *cookie, enum upstream_status status,
    const uint8_t *abuf, size_t alen, const char *why)
{
	struct fetch_try *t = cookie;
	struct fetch *f = t->fetch;
	struct resolver *r = f->resolver;
	int rcode = -1;

	t->attempt = NULL;
	if (status == UPSTREAM_ANSWER && fetch_case_echoed(f, t, abuf, alen)) {
		rcode = fetch_check_answer(f, abuf, alen);
		if (rcode >= 0 && !fetch_rcode_is_failure(rcode)) {
			fetch_finish(f, abuf, alen, DNS_EDE_NONE);
			return;
		}
	}
	if (t->superseded && rcode < 0)
		return;
	if (status != UPSTREAM_GONE && fetch_can_retry(f, rcode >= 0 ||
	    status == UPSTREAM_REJECTED)) {
		fetch_retry(f);
		return;
	}
	if (rcode >= 0 && rcode != DNS_RCODE_FORMERR) {
		/* The upstream's own SERVFAIL, REFUSED or NOTIMP. */
		fetch_finish(f, abuf, alen, DNS_EDE_NONE);
		return;
	}
	if (status != UPSTREAM_GONE && fetch_has_tries(f)) {
		/* Earlier attempts may still answer until the deadline. */
		mio_timer_stop(r->timers, &f->timeout);
		return;
	}
	COUNT(r->counters, servfail_upstream);
	log_debug2("upstream failure (%s): SERVFAIL", why);
	fetch_finish(f, NULL, 0, DNS_EDE_NO_REACHABLE_AUTHORITY);
}

/* A fetch for q's question; NULL without memory. */
static struct fetch *
fetch_new(struct resolver *r, const struct query *q,
    const struct request *req)
{
	struct fetch *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->resolver = r;
	if (req->keyed) {
		f->key = req->key;
		f->merge_key = req->merge_key;
		f->keyed = true;
	}
	f->dq = q->dq;
	memcpy(f->question, q->question, q->dq.question_len);
	f->dq.question = f->question;
	f->until_ms = q->deadline_ms;
	mio_timer_init(&f->retry, fetch_retry_fire, f);
	mio_timer_init(&f->timeout, fetch_timeout_fire, f);
	return f;
}

/* Starts the upstream work of a query the merge stage did not merge: a
 * fetch the in-flight entry owns (NEW), or one of its own (past
 * max-waiters, or no key). */
bool
stage_fetch(struct resolver *r, struct request *req)
{
	struct query *q = req->query;
	bool owned = req->join == INFLIGHT_NEW;
	struct fetch *f = fetch_new(r, q, req);

	if (f == NULL) {
		COUNT(r->counters, servfail_upstream);
		query_servfail(q, DNS_EDE_NONE);
		return true;
	}
	if (owned) {
		inflight_set_pending(&q->waiter, f);
	} else {
		f->solo = q;
		q->fetch = f;
	}
	fetch_attempt(f);
	return true;
}
