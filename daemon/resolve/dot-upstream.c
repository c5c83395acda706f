/*
 * dot-upstream.c - one DNS-over-TLS upstream: its connection, its queries
 * and their deadlines (dot-upstream.h says what it promises).
 *
 * A query is on exactly one list, which it records (q->list): the
 * upstream's `waiting` (not written on the current connection), its `sent`
 * (written, not answered; also in the by_id table), or a list on the stack
 * of a function that is failing a batch of queries. Callbacks run after
 * their query left every list and was freed, so a callback may forget any
 * other query, wherever it is, and send new ones, which only join
 * `waiting`: nothing a callback does can pull a list from under a loop.
 *
 * The socket connects without blocking (docs/readiness.md, "Connecting
 * without blocking"): registered READABLE | WRITABLE, its first event is
 * checked with SO_ERROR and getpeername() before TLS starts, because
 * writing to a socket whose connect is in progress is EAGAIN on Linux but
 * ENOTCONN elsewhere.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/tls.h"
#include "resolve/dot-upstream.h"

#define DOT_BACKOFF_MIN_MS 100
#define DOT_BACKOFF_MAX_MS 3200
#define DOT_CONNECT_TIMEOUT_MS 5000
#define DOT_PIPELINE_DEFAULT 128
#define DOT_ID_BUCKETS 256
#define DOT_READ_CHUNK 4096
#define DNS_HEADER_LEN 12

enum dot_state {
	DOT_DOWN,
	DOT_CONNECTING,		/* TCP */
	DOT_HANDSHAKE,		/* TLS */
	DOT_UP,
};

TAILQ_HEAD(dot_query_list, dot_query);

struct dot_query {
	TAILQ_ENTRY(dot_query) entry;
	struct dot_query_list *list;	/* the one it is on */
	struct dot_query *id_next;	/* in by_id, while sent */
	struct dot_upstream *u;
	bool sent;
	uint16_t wire_id, caller_id;
	uint64_t deadline_ms;
	dot_answer_fn *fn;
	void *cookie;
	size_t question_len;		/* from the end of the header */
	size_t len;			/* the message's */
	uint8_t frame[];		/* two length bytes, the message */
};

struct dot_upstream {
	const mio_registry *registry;
	struct tls_ctx *ctx;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char name[256];
	unsigned idle_ms, pipeline;
	struct tls_session_slot session;
	enum dot_state state;
	int fd;
	struct tls_stream *tls;
	bool answered;			/* this connection answered something */
	bool freeing;
	uint8_t *rbuf;
	size_t rlen, rcap;
	uint64_t connect_deadline, idle_at, retry_at;
	unsigned backoff_ms;
	struct dot_query_list waiting, sent;
	size_t nsent;
	struct dot_query *by_id[DOT_ID_BUCKETS];
	uint16_t next_id;
	struct dot_upstream_stats stats;
	char last_error[200];
};

static void dot_conn_lost(struct dot_upstream *u, int rc, const char *why,
    uint64_t now);

/* ---- queries --------------------------------------------------------------- */

/* The question's length (name, type, class) of a query, or 0. */
static size_t
dot_question_len(const uint8_t *msg, size_t len)
{
	size_t off = DNS_HEADER_LEN;

	if (len < DNS_HEADER_LEN + 5 || msg[4] != 0 || msg[5] != 1)
		return 0;
	while (off < len && msg[off] != 0) {
		if (msg[off] > 63)
			return 0;	/* a pointer or a reserved type */
		off += 1 + msg[off];
	}
	if (off >= len || off - DNS_HEADER_LEN + 1 > 255 || off + 5 > len)
		return 0;
	return off + 5 - DNS_HEADER_LEN;
}

static struct dot_query **
dot_id_bucket(struct dot_upstream *u, uint16_t id)
{
	return &u->by_id[id % DOT_ID_BUCKETS];
}

static struct dot_query *
dot_id_find(struct dot_upstream *u, uint16_t id)
{
	struct dot_query *q = *dot_id_bucket(u, id);

	while (q != NULL && q->wire_id != id)
		q = q->id_next;
	return q;
}

static void
dot_id_remove(struct dot_upstream *u, struct dot_query *q)
{
	struct dot_query **p = dot_id_bucket(u, q->wire_id);

	while (*p != q)
		p = &(*p)->id_next;
	*p = q->id_next;
}

static void
dot_list_move(struct dot_query *q, struct dot_query_list *to, bool head)
{
	TAILQ_REMOVE(q->list, q, entry);
	if (head)
		TAILQ_INSERT_HEAD(to, q, entry);
	else
		TAILQ_INSERT_TAIL(to, q, entry);
	q->list = to;
}

/* Takes q off every list; it is then the caller's to free. */
static void
dot_query_unlink(struct dot_query *q)
{
	struct dot_upstream *u = q->u;

	TAILQ_REMOVE(q->list, q, entry);
	if (q->sent) {
		dot_id_remove(u, q);
		u->nsent--;
	}
}

/* Ends q: unlinked, freed, and then its callback. */
static void
dot_query_finish(struct dot_query *q, int status, const uint8_t *answer,
    size_t len)
{
	dot_answer_fn *fn = q->fn;
	void *cookie = q->cookie;

	dot_query_unlink(q);
	free(q);
	fn(cookie, status, answer, len);
}

/* Ends every query on list (a list of the caller's) with status. */
static void
dot_fail_list(struct dot_query_list *list, int status)
{
	struct dot_query *q;

	while ((q = TAILQ_FIRST(list)) != NULL)
		dot_query_finish(q, status, NULL, 0);
}

int
dot_upstream_send(struct dot_upstream *u, const uint8_t *msg, size_t len,
    uint64_t deadline_ms, dot_answer_fn *fn, void *cookie,
    struct dot_query **out, uint64_t now_ms)
{
	size_t question_len = dot_question_len(msg, len);
	struct dot_query *q;

	(void)now_ms;
	if (u->freeing)
		return -ECANCELED;
	if (question_len == 0 || len > 65535 || (msg[2] & 0x80) != 0)
		return -EINVAL;
	if ((q = malloc(sizeof(*q) + 2 + len)) == NULL)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->u = u;
	q->caller_id = (uint16_t)(msg[0] << 8 | msg[1]);
	q->deadline_ms = deadline_ms;
	q->fn = fn;
	q->cookie = cookie;
	q->question_len = question_len;
	q->len = len;
	q->frame[0] = (uint8_t)(len >> 8);
	q->frame[1] = (uint8_t)len;
	memcpy(q->frame + 2, msg, len);
	q->list = &u->waiting;
	TAILQ_INSERT_TAIL(&u->waiting, q, entry);
	if (out != NULL)
		*out = q;
	return 0;
}

void
dot_query_forget(struct dot_query *q)
{
	if (q == NULL)
		return;
	dot_query_unlink(q);
	free(q);
}

/* ---- the connection --------------------------------------------------------- */

static void
dot_conn_close(struct dot_upstream *u)
{
	if (u->fd < 0)
		return;
	tls_stream_free(u->tls);
	u->tls = NULL;
	mio_registry_deregister_fd(u->registry, u->fd);
	close(u->fd);
	u->fd = -1;
	free(u->rbuf);
	u->rbuf = NULL;
	u->rlen = u->rcap = 0;
	u->state = DOT_DOWN;
	u->idle_at = 0;
}

/* The queries the broken connection owed: first in line for the next. */
static void
dot_requeue_sent(struct dot_upstream *u)
{
	struct dot_query *q;

	while ((q = TAILQ_LAST(&u->sent, dot_query_list)) != NULL) {
		dot_id_remove(u, q);
		q->sent = false;
		u->nsent--;
		u->stats.resent++;
		dot_list_move(q, &u->waiting, true);
	}
}

static void
dot_note_error(struct dot_upstream *u, int rc, const char *why)
{
	snprintf(u->last_error, sizeof(u->last_error), "%s",
	    why != NULL && *why != '\0' ? why : strerror(rc < 0 ? -rc : rc));
}

static void
dot_backoff(struct dot_upstream *u, uint64_t now)
{
	u->retry_at = now + u->backoff_ms;
	u->backoff_ms *= 2;
	if (u->backoff_ms > DOT_BACKOFF_MAX_MS)
		u->backoff_ms = DOT_BACKOFF_MAX_MS;
}

/* The connection never got up. A refused certificate fails the queries
 * at once (fail closed); anything else lets them wait for a retry. */
static void
dot_conn_failed(struct dot_upstream *u, int rc, const char *why,
    uint64_t now)
{
	struct dot_query_list doomed = TAILQ_HEAD_INITIALIZER(doomed);
	struct dot_query *q;

	dot_note_error(u, rc, why);
	u->stats.connect_failures++;
	dot_requeue_sent(u);
	dot_conn_close(u);
	dot_backoff(u, now);
	if (rc != -EPERM)
		return;
	while ((q = TAILQ_FIRST(&u->waiting)) != NULL)
		dot_list_move(q, &doomed, false);
	dot_fail_list(&doomed, -EPERM);
}

/* A connection that was up broke: at once again if it had been of use,
 * else after the backoff (an upstream that accepts and hangs up). */
static void
dot_conn_lost(struct dot_upstream *u, int rc, const char *why, uint64_t now)
{
	dot_note_error(u, rc, why);
	dot_requeue_sent(u);
	dot_conn_close(u);
	if (u->answered) {
		u->backoff_ms = DOT_BACKOFF_MIN_MS;
		u->retry_at = now;
	} else {
		dot_backoff(u, now);
	}
}

static void
dot_conn_open(struct dot_upstream *u, uint64_t now)
{
	int one = 1, rc;

	u->stats.connects++;
	u->answered = false;
	u->fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (u->fd < 0) {
		rc = -errno;
		dot_conn_failed(u, rc, NULL, now);
		return;
	}
	setsockopt(u->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(u->fd, (struct sockaddr *)&u->addr, u->addrlen) != 0 &&
	    errno != EINPROGRESS) {
		rc = -errno;
		close(u->fd);
		u->fd = -1;
		dot_conn_failed(u, rc, NULL, now);
		return;
	}
	if ((rc = mio_registry_register_fd(u->registry, u->fd, (mio_token)u,
	    MIO_READABLE | MIO_WRITABLE)) != 0) {
		close(u->fd);
		u->fd = -1;
		dot_conn_failed(u, rc, NULL, now);
		return;
	}
	u->state = DOT_CONNECTING;
	u->connect_deadline = now + DOT_CONNECT_TIMEOUT_MS;
}

/* 1 connected, 0 still connecting, or -errno (docs/readiness.md). */
static int
dot_connect_status(int fd)
{
	struct sockaddr_storage peer;
	socklen_t peer_len = sizeof(peer);
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return -errno;
	if (err != 0)
		return -err;
	if (getpeername(fd, (struct sockaddr *)&peer, &peer_len) == 0)
		return 1;
	return errno == ENOTCONN || errno == EINPROGRESS ? 0 : -errno;
}

/* ---- traffic ----------------------------------------------------------------- */

/* Writes waiting queries while the pipeline has room. */
static void
dot_write(struct dot_upstream *u, uint64_t now)
{
	struct dot_query *q;
	int rc;

	while (u->state == DOT_UP && u->nsent < u->pipeline &&
	    (q = TAILQ_FIRST(&u->waiting)) != NULL) {
		while (dot_id_find(u, u->next_id) != NULL)
			u->next_id++;
		q->wire_id = u->next_id++;
		q->frame[2] = (uint8_t)(q->wire_id >> 8);
		q->frame[3] = (uint8_t)q->wire_id;
		q->sent = true;
		q->id_next = *dot_id_bucket(u, q->wire_id);
		*dot_id_bucket(u, q->wire_id) = q;
		u->nsent++;
		dot_list_move(q, &u->sent, false);
		u->stats.queries++;
		u->idle_at = 0;
		if ((rc = tls_stream_send(u->tls, q->frame, 2 + q->len)) != 0)
			dot_conn_lost(u, rc, tls_stream_error(u->tls), now);
	}
}

static bool
dot_same_question(const struct dot_query *q, const uint8_t *msg, size_t len)
{
	const uint8_t *mine = q->frame + 2 + DNS_HEADER_LEN;
	const uint8_t *theirs = msg + DNS_HEADER_LEN;

	if (len < DNS_HEADER_LEN + q->question_len || msg[4] != 0 ||
	    msg[5] != 1)
		return false;
	/* Names compare without case (a server may not keep it exactly). */
	for (size_t i = 0; i < q->question_len; i++)
		if (tolower(mine[i]) != tolower(theirs[i]))
			return false;
	return true;
}

/* One message from the upstream: the answer of a query in flight, or
 * nothing of ours (counted, dropped). */
static void
dot_answer(struct dot_upstream *u, uint8_t *msg, size_t len)
{
	struct dot_query *q = dot_id_find(u, (uint16_t)(msg[0] << 8 | msg[1]));

	if (q == NULL || (msg[2] & 0x80) == 0 ||
	    !dot_same_question(q, msg, len)) {
		u->stats.bad_answers++;
		return;
	}
	msg[0] = (uint8_t)(q->caller_id >> 8);
	msg[1] = (uint8_t)q->caller_id;
	u->stats.answers++;
	u->answered = true;
	dot_query_finish(q, 0, msg, len);
}

/* Room for the next read: a chunk, or the whole message begun. */
static int
dot_reserve(struct dot_upstream *u)
{
	size_t need = u->rlen + DOT_READ_CHUNK;
	uint8_t *p;

	if (u->rlen >= 2 && (size_t)(2 + (u->rbuf[0] << 8 | u->rbuf[1])) > need)
		need = (size_t)(2 + (u->rbuf[0] << 8 | u->rbuf[1]));
	if (need <= u->rcap)
		return 0;
	if ((p = realloc(u->rbuf, need)) == NULL)
		return -ENOMEM;
	u->rbuf = p;
	u->rcap = need;
	return 0;
}

/* Hands every whole message to dot_answer(); -EPROTO for a short one. */
static int
dot_parse(struct dot_upstream *u)
{
	size_t off = 0;

	while (u->rlen - off >= 2) {
		size_t len = (size_t)(u->rbuf[off] << 8 | u->rbuf[off + 1]);
		if (len < DNS_HEADER_LEN)
			return -EPROTO;
		if (u->rlen - off < 2 + len)
			break;
		dot_answer(u, u->rbuf + off + 2, len);
		off += 2 + len;
	}
	memmove(u->rbuf, u->rbuf + off, u->rlen - off);
	u->rlen -= off;
	return 0;
}

static void
dot_read(struct dot_upstream *u, uint64_t now)
{
	ssize_t n;
	int rc;

	while (u->state == DOT_UP) {
		if ((rc = dot_reserve(u)) != 0) {
			dot_conn_lost(u, rc, NULL, now);
			return;
		}
		n = tls_stream_read(u->tls, u->rbuf + u->rlen,
		    u->rcap - u->rlen);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			dot_conn_lost(u, n == 0 ? -ECONNRESET : (int)n,
			    n == 0 ? "closed by the upstream" :
			    tls_stream_error(u->tls), now);
			return;
		}
		u->rlen += (size_t)n;
		if ((rc = dot_parse(u)) != 0) {
			dot_conn_lost(u, rc, "a message shorter than a header",
			    now);
			return;
		}
	}
}

/* TCP is up: TLS starts. */
static void
dot_start_tls(struct dot_upstream *u, uint64_t now)
{
	int rc = tls_stream_client_new(&u->tls, u->ctx, u->fd, u->name,
	    &u->session);

	if (rc != 0) {
		dot_conn_failed(u, rc, NULL, now);
		return;
	}
	u->state = DOT_HANDSHAKE;
}

/* Everything the connection can do now. */
static void
dot_drive(struct dot_upstream *u, uint64_t now)
{
	int rc;

	if (u->state == DOT_HANDSHAKE) {
		if ((rc = tls_stream_handshake(u->tls)) == -EAGAIN)
			return;
		if (rc < 0) {
			dot_conn_failed(u, rc, tls_stream_error(u->tls), now);
			return;
		}
		u->state = DOT_UP;
		u->backoff_ms = DOT_BACKOFF_MIN_MS;
		u->stats.handshakes++;
		if (tls_stream_resumed(u->tls))
			u->stats.resumptions++;
	}
	if (u->state != DOT_UP)
		return;
	dot_write(u, now);
	dot_read(u, now);
	if (u->state == DOT_UP && (rc = tls_stream_flush(u->tls)) != 0 &&
	    rc != -EAGAIN)
		dot_conn_lost(u, rc, tls_stream_error(u->tls), now);
}

bool
dot_upstream_event(struct dot_upstream *u, const mio_event *ev,
    uint64_t now_ms)
{
	int rc;

	if (mio_event_token(ev) != (mio_token)u)
		return false;
	if (u->fd < 0)
		return true;		/* a closed connection's late event */
	if (u->state == DOT_CONNECTING) {
		rc = dot_connect_status(u->fd);
		/*
		 * libkqueue reads SO_ERROR itself to put a socket error in
		 * the event (docs/backends.md, libkqueue point 7), so there a
		 * failed connect leaves SO_ERROR at 0 and the event's error
		 * flag is the only news of it. The cause is lost; a refusal
		 * is by far the usual one. Elsewhere SO_ERROR has answered.
		 */
		if (rc == 0 && mio_event_is_error(ev))
			rc = -ECONNREFUSED;
		if (rc == 0)
			return true;
		if (rc < 0) {
			dot_conn_failed(u, rc, NULL, now_ms);
			return true;
		}
		dot_start_tls(u, now_ms);
	} else {
		tls_stream_ready(u->tls, tls_event_interest(ev));
	}
	dot_drive(u, now_ms);
	return true;
}

/* ---- time ------------------------------------------------------------------- */

static void
dot_expire(struct dot_upstream *u, struct dot_query_list *list,
    struct dot_query_list *expired, uint64_t now)
{
	struct dot_query *q, *next;

	for (q = TAILQ_FIRST(list); q != NULL; q = next) {
		next = TAILQ_NEXT(q, entry);
		if (q->deadline_ms <= now) {
			if (q->sent) {
				dot_id_remove(u, q);
				q->sent = false;
				u->nsent--;
			}
			dot_list_move(q, expired, false);
			u->stats.timeouts++;
		}
	}
}

void
dot_upstream_process(struct dot_upstream *u, uint64_t now_ms)
{
	struct dot_query_list expired = TAILQ_HEAD_INITIALIZER(expired);

	dot_expire(u, &u->waiting, &expired, now_ms);
	dot_expire(u, &u->sent, &expired, now_ms);
	dot_fail_list(&expired, -ETIMEDOUT);
	if ((u->state == DOT_CONNECTING || u->state == DOT_HANDSHAKE) &&
	    now_ms >= u->connect_deadline)
		dot_conn_failed(u, -ETIMEDOUT, "connection timed out", now_ms);
	if (u->state == DOT_DOWN && !TAILQ_EMPTY(&u->waiting) &&
	    now_ms >= u->retry_at)
		dot_conn_open(u, now_ms);
	if (u->state != DOT_UP)
		return;
	dot_drive(u, now_ms);
	if (u->state != DOT_UP || u->nsent > 0 || !TAILQ_EMPTY(&u->waiting))
		return;
	if (u->idle_at == 0) {
		u->idle_at = now_ms + u->idle_ms;
	} else if (now_ms >= u->idle_at) {
		tls_stream_close_notify(u->tls);
		u->stats.idle_closed++;
		dot_conn_close(u);
	}
}

static uint64_t
dot_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t
dot_upstream_next_ms(const struct dot_upstream *u)
{
	uint64_t next = UINT64_MAX;
	const struct dot_query *q;

	TAILQ_FOREACH(q, &u->waiting, entry)
		next = dot_min(next, q->deadline_ms);
	TAILQ_FOREACH(q, &u->sent, entry)
		next = dot_min(next, q->deadline_ms);
	if (u->state == DOT_DOWN && !TAILQ_EMPTY(&u->waiting))
		next = dot_min(next, u->retry_at);
	if (u->state == DOT_CONNECTING || u->state == DOT_HANDSHAKE)
		next = dot_min(next, u->connect_deadline);
	if (u->state == DOT_UP && !TAILQ_EMPTY(&u->waiting) &&
	    u->nsent < u->pipeline)
		next = 0;			/* to be written */
	if (u->state == DOT_UP && u->nsent == 0 && TAILQ_EMPTY(&u->waiting))
		next = dot_min(next, u->idle_at);	/* 0: to be armed */
	return next;
}

/* ---- the upstream ------------------------------------------------------------ */

int
dot_upstream_new(struct dot_upstream **out, const mio_registry *registry,
    const struct dot_upstream_config *config)
{
	struct dot_upstream *u;
	int family = config->addr.ss_family;

	if (config->name == NULL || *config->name == '\0' ||
	    strlen(config->name) >= sizeof(u->name) ||
	    (family != AF_INET && family != AF_INET6))
		return -EINVAL;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return -ENOMEM;
	u->registry = registry;
	u->ctx = tls_ctx_ref(config->ctx);
	u->addr = config->addr;
	u->addrlen = config->addrlen;
	snprintf(u->name, sizeof(u->name), "%s", config->name);
	u->idle_ms = config->idle_ms;
	u->pipeline = config->pipeline ? config->pipeline :
	    DOT_PIPELINE_DEFAULT;
	u->fd = -1;
	u->backoff_ms = DOT_BACKOFF_MIN_MS;
	TAILQ_INIT(&u->waiting);
	TAILQ_INIT(&u->sent);
	*out = u;
	return 0;
}

void
dot_upstream_free(struct dot_upstream *u)
{
	struct dot_query_list doomed = TAILQ_HEAD_INITIALIZER(doomed);
	struct dot_query *q;

	if (u == NULL)
		return;
	u->freeing = true;
	dot_requeue_sent(u);
	dot_conn_close(u);
	while ((q = TAILQ_FIRST(&u->waiting)) != NULL)
		dot_list_move(q, &doomed, false);
	dot_fail_list(&doomed, -ECANCELED);
	tls_session_slot_clear(&u->session);
	tls_ctx_free(u->ctx);
	free(u);
}

size_t
dot_upstream_pending(const struct dot_upstream *u)
{
	const struct dot_query *q;
	size_t n = 0;

	TAILQ_FOREACH(q, &u->waiting, entry)
		n++;
	return n + u->nsent;
}

bool
dot_upstream_connected(const struct dot_upstream *u)
{
	return u->fd >= 0;
}

void
dot_upstream_get_stats(const struct dot_upstream *u,
    struct dot_upstream_stats *out)
{
	*out = u->stats;
}

const char *
dot_upstream_last_error(const struct dot_upstream *u)
{
	return u->last_error;
}
