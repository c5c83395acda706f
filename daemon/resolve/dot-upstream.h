/*
 * dot-upstream.h - one DNS-over-TLS upstream server (RFC 7858, RFC 8310
 * strict profile) as miodnsd's own client, in the worker's libmio poll.
 *
 * One connection per upstream, opened when the first query comes, reused
 * for every query after it and pipelined (RFC 7766 6.2.1.1): queries are
 * written as they come, answers are taken in whatever order they arrive
 * and matched to their query by ID and question. The IDs on the wire are
 * this module's (unique among the queries in flight on the connection);
 * the caller's ID is put back into the answer it receives.
 *
 * The connection closes after idle_ms without a query in flight (with
 * close_notify). When it breaks, the queries written on it and not yet
 * answered are written again on the next connection, which is opened at
 * once; a query is only lost when its own deadline passes. A connection
 * that cannot be made (refused, timed out, handshake failed) is retried
 * with a backoff that doubles from 100 ms to 3.2 s; the queries wait, up
 * to their deadlines. A certificate the upstream presents and the client
 * refuses (wrong name, expired, unknown CA: -EPERM) fails every waiting
 * query at once: the strict profile fails closed, and the caller answers
 * SERVFAIL, never anything that server said. Sessions are resumed from one
 * connection to the next (tls.h's session slot).
 *
 * Like mio-ares, the module lives in the caller's loop (docs/integrating-
 * foreign-fds.md): it registers its socket with the registry under the
 * upstream's own address as token, so dot_upstream_event() recognises its
 * events; it has deadlines but no clock, so the caller folds
 * dot_upstream_next_ms() into its poll timeout and calls
 * dot_upstream_process() after every batch. dot_upstream_send() only
 * queues (no I/O, no callback before it returns); process() writes.
 *
 * The calls:
 *
 *	dot_upstream_new(&u, registry, &(struct dot_upstream_config){
 *	    .ctx = client_ctx, .addr = ..., .name = "dns.example",
 *	    .idle_ms = 10000 });
 *	dot_upstream_send(u, msg, len, now + 3000, answered, cookie, &q, now);
 *	loop: poll with a timeout no later than dot_upstream_next_ms(u);
 *	    for each event: if (dot_upstream_event(u, ev, now)) continue;
 *	    then dot_upstream_process(u, now);
 *	answered(cookie, status, answer, len): status 0 with the answer,
 *	    or -ETIMEDOUT (deadline), -EPERM (certificate refused),
 *	    -ECANCELED (dot_upstream_free()).
 *	dot_query_forget(q) when the caller no longer wants an answer.
 *
 * Callbacks may call dot_upstream_send() and dot_query_forget() (of any
 * query), never dot_upstream_free(). Threads: one upstream belongs to one
 * worker; only the TLS context is shared.
 */
#ifndef MIODNSD_DOT_UPSTREAM_H
#define MIODNSD_DOT_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mio.h"

struct tls_ctx;
struct dot_upstream;
struct dot_query;

struct dot_upstream_config {
	struct tls_ctx *ctx;		/* a client context (tls.h), referenced */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *name;		/* what its certificate must carry */
	unsigned idle_ms;		/* close after this long unused */
	unsigned pipeline;		/* queries in flight at once; 0: 128 */
};

struct dot_upstream_stats {
	uint64_t connects;		/* connections attempted */
	uint64_t connect_failures;	/* attempts that never got up */
	uint64_t handshakes, resumptions;
	uint64_t queries, answers;
	uint64_t resent;		/* written again after a broken one */
	uint64_t timeouts;
	uint64_t bad_answers;		/* no query with that ID and question */
	uint64_t idle_closed;
};

typedef void dot_answer_fn(void *cookie, int status, const uint8_t *answer,
    size_t len);

/* 0, -ENOMEM, or -EINVAL (no name, an address that is not IP). */
int dot_upstream_new(struct dot_upstream **out, const mio_registry *registry,
    const struct dot_upstream_config *config);

/* Fails every query with -ECANCELED, closes the connection. NULL ok. */
void dot_upstream_free(struct dot_upstream *u);

/*
 * Queues a query (a whole DNS message with one question) until
 * deadline_ms; fn(cookie, ...) is called exactly once, later, unless the
 * query is forgotten. *out (if not NULL) names it for dot_query_forget().
 * 0, -EINVAL (not a query with one question), -ENOMEM.
 */
int dot_upstream_send(struct dot_upstream *u, const uint8_t *msg, size_t len,
    uint64_t deadline_ms, dot_answer_fn *fn, void *cookie,
    struct dot_query **out, uint64_t now_ms);

/* The caller no longer wants the answer: fn will not be called. */
void dot_query_forget(struct dot_query *q);

/* Handles the event if it is this upstream's: true then. */
bool dot_upstream_event(struct dot_upstream *u, const mio_event *ev,
    uint64_t now_ms);

/* Writes, connects, times out and idles as due; after every batch. */
void dot_upstream_process(struct dot_upstream *u, uint64_t now_ms);

/* When process() must run next at the latest, or UINT64_MAX. */
uint64_t dot_upstream_next_ms(const struct dot_upstream *u);

/* Queries waiting or in flight. */
size_t dot_upstream_pending(const struct dot_upstream *u);

/* Whether a connection is open (up or being made). */
bool dot_upstream_connected(const struct dot_upstream *u);

void dot_upstream_get_stats(const struct dot_upstream *u,
    struct dot_upstream_stats *out);

/* Why the last connection failed or broke, for the log; "" if none. */
const char *dot_upstream_last_error(const struct dot_upstream *u);

#endif /* MIODNSD_DOT_UPSTREAM_H */
