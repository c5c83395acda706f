/*
 * query.c - the life of one client query, from its bytes to its answer.
 *
 * A query is checked (FORMERR, NOTIMP and BADVERS are answered at once),
 * answered at once if it is ours (local.c: a zone's name or the CHAOS
 * class), counted against max-inflight (REFUSED beyond it, with a rate-limited
 * warning), given a deadline, and sent upstream. It ends in exactly one
 * of three ways: an upstream answer, a failure once no attempt is left, or
 * its deadline, which answers SERVFAIL no matter what c-ares is still
 * doing (c-ares 1.18 cannot cancel one query; the attempt is detached and
 * freed when c-ares lets go of it).
 *
 * Attempts: a failed attempt moves on to the next upstream while time is
 * left, at most once per upstream, or twice with a single one for lost
 * datagrams. An answer with RCODE SERVFAIL, REFUSED or NOTIMP is tried
 * elsewhere and relayed if no other upstream is left. Every reply carries
 * the client's own ID and question and is never sent to anyone else:
 * a query remembers where it came from, and a client that went away
 * (closed connection, removed listener) just loses its answer.
 */
#include "config.h"

#include <ares.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "miodnsd.h"

/* The longest question: a 255-octet name, type and class. */
#define QUERY_QUESTION_MAX (255 + 4)

struct query {
	struct timer deadline;
	TAILQ_ENTRY(query) entry;
	struct client client;
	struct dns_query dq;		/* dq.question points to question */
	uint8_t question[QUERY_QUESTION_MAX];
	struct attempt *attempt;	/* the attempt in flight, if any */
	unsigned attempts;
	size_t limit;			/* the client's largest answer */
};

static TAILQ_HEAD(, query) queries = TAILQ_HEAD_INITIALIZER(queries);
static size_t nqueries;
static struct log_limit busy_log;
/* Large enough for any answer plus our OPT record. */
static uint8_t reply_buf[DNS_MAX_MESSAGE + 64];

size_t
query_count(void)
{
	return nqueries;
}

/* 512 bytes without EDNS (RFC 1035), else the client's size within
 * 512..edns-size (RFC 6891 6.2.5), everything over TCP. */
static size_t
query_limit(const struct dns_query *dq, const struct client *from)
{
	unsigned cap = main_config()->edns_size;

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
	r->edns_size = (uint16_t)main_config()->edns_size;
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

/* Ends q: detaches its attempt, tells its connection, frees it. */
static void
query_finish(struct query *q)
{
	struct conn *conn = q->client.conn;

	if (q->attempt != NULL)
		upstream_forget(q->attempt);
	timer_disarm(&q->deadline);
	TAILQ_REMOVE(&queries, q, entry);
	nqueries--;
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

	counters.timeouts++;
	log_debug2("deadline: SERVFAIL after %u attempt(s)", q->attempts);
	query_servfail(q);
}

/* Sends q to its next upstream. q may be gone when this returns: c-ares
 * can call back before ares_send() returns. */
static void
query_attempt(struct query *q)
{
	uint8_t msg[12 + QUERY_QUESTION_MAX + 11];
	size_t len = dns_build_upstream(&q->dq,
	    (uint16_t)main_config()->edns_size, msg, sizeof(msg));
	unsigned attempt = q->attempts++;

	if (len == 0 || !upstream_send(q, attempt, msg, len)) {
		counters.servfail_upstream++;
		query_servfail(q);
	}
}

void
query_link_attempt(struct query *q, struct attempt *attempt)
{
	q->attempt = attempt;
}

/* Whether another attempt fits: time left, and an upstream not yet tried
 * (after an answer) or any attempt left (after silence or an error). */
static bool
query_can_retry(const struct query *q, bool answered)
{
	unsigned n = upstream_count();

	if (!q->deadline.armed || q->deadline.when_ms <= timer_now())
		return false;
	if (answered)
		return q->attempts < n;
	return q->attempts < (n > 1 ? n : 2);
}

static bool
query_rcode_is_failure(int rcode)
{
	return rcode == DNS_RCODE_SERVFAIL || rcode == DNS_RCODE_REFUSED ||
	    rcode == DNS_RCODE_NOTIMP || rcode == DNS_RCODE_FORMERR;
}

/* An upstream answer or failure for q (status is c-ares'). */
void
query_upstream_done(struct query *q, int status, const uint8_t *abuf,
    size_t alen)
{
	struct dns_reply r;
	size_t len = 0;
	bool truncated = false;
	int rcode = -1;

	q->attempt = NULL;
	if (status == ARES_SUCCESS) {
		query_reply_to(&q->dq, q->limit, &r);
		rcode = dns_build_answer(&r, abuf, alen, reply_buf,
		    sizeof(reply_buf), &len, &truncated);
		if (rcode < 0)
			counters.upstream_bad_answers++;
		if (rcode >= 0 && !query_rcode_is_failure(rcode)) {
			query_send(&q->client, reply_buf, len);
			query_finish(q);
			return;
		}
	}
	if (status != ARES_EDESTRUCTION && status != ARES_ECANCELLED &&
	    query_can_retry(q, rcode >= 0)) {
		counters.upstream_retries++;
		query_attempt(q);
		return;
	}
	if (rcode >= 0 && rcode != DNS_RCODE_FORMERR) {
		/* The upstream's own SERVFAIL, REFUSED or NOTIMP. */
		query_send(&q->client, reply_buf, len);
		query_finish(q);
		return;
	}
	counters.servfail_upstream++;
	log_debug2("upstream failure (%s): SERVFAIL", status == ARES_SUCCESS ?
	    "unusable answer" : ares_strerror(status));
	query_servfail(q);
}

/* Answers what dns_parse_query() rejected; false if nothing is left. */
static bool
query_check(enum dns_verdict verdict, const struct dns_query *dq,
    const struct client *from)
{
	size_t limit = query_limit(dq, from);

	switch (verdict) {
	case DNS_QUERY_OK:
		return true;
	case DNS_QUERY_DROP:
		counters.dropped++;
		break;
	case DNS_QUERY_FORMERR:
		counters.formerr++;
		query_send_error(dq, from, limit, DNS_RCODE_FORMERR);
		break;
	case DNS_QUERY_NOTIMP:
		counters.notimp++;
		query_send_error(dq, from, limit, DNS_RCODE_NOTIMP);
		break;
	case DNS_QUERY_BADVERS:
		counters.formerr++;
		query_send_error(dq, from, limit, DNS_RCODE_BADVERS);
		break;
	}
	return false;
}

/* Answers dq from local.c if it is ours; false if it goes upstream. */
static bool
query_local(const struct dns_query *dq, const struct client *from)
{
	struct dns_reply r;
	size_t len;

	query_reply_to(dq, query_limit(dq, from), &r);
	len = local_answer(dq, &r, &from->addr, reply_buf, sizeof(reply_buf));
	if (len == 0)
		return false;
	query_send(from, reply_buf, len);
	return true;
}

void
query_receive(const uint8_t *msg, size_t len, const struct client *from)
{
	const struct config *conf = main_config();
	struct dns_query dq;
	struct query *q;

	if (from->conn != NULL)
		counters.tcp_queries++;
	else
		counters.udp_queries++;
	if (!query_check(dns_parse_query(msg, len, &dq), &dq, from) ||
	    query_local(&dq, from))
		return;
	if (upstream_count() == 0) {
		/* Zones only: what is not ours is not our business. */
		query_send_error(&dq, from, query_limit(&dq, from),
		    DNS_RCODE_REFUSED);
		return;
	}
	if (nqueries >= conf->max_inflight || main_shutting_down() ||
	    (q = calloc(1, sizeof(*q))) == NULL) {
		counters.refused_busy++;
		if (!main_shutting_down())
			log_warnx_limited(&busy_log, "%zu queries in flight, "
			    "the maximum: answering REFUSED", nqueries);
		query_send_error(&dq, from, query_limit(&dq, from),
		    DNS_RCODE_REFUSED);
		return;
	}
	q->client = *from;
	q->dq = dq;
	memcpy(q->question, dq.question, dq.question_len);
	q->dq.question = q->question;
	q->limit = query_limit(&dq, from);
	q->deadline.fire = query_deadline_fire;
	timer_arm(&q->deadline, timer_now() + conf->timeout_ms);
	TAILQ_INSERT_TAIL(&queries, q, entry);
	if (++nqueries > counters.inflight_peak)
		counters.inflight_peak = nqueries;
	if (from->conn != NULL)
		conn_query_started(from->conn);
	query_attempt(q);
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
		counters.timeouts++;
		query_servfail(q);
	}
}
