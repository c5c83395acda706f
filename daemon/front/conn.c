/*
 * conn.c - DNS over TCP (RFC 1035 4.2.2, RFC 7766): length-framed messages,
 * several queries in flight per connection, answers written in the order
 * they complete.
 *
 * Limits keep one client from taking everything: at most max-tcp-clients
 * connections, at most tcp-pipeline queries in flight per connection
 * (reading pauses until one ends), reading paused while more than half
 * of CONN_MAX_UNSENT of answers waits for the client (it resumes once
 * they are all out, so a client that asks faster than it reads is slowed
 * down, not cut off), and an idle timeout that also ends connections
 * stuck in the middle of a message.
 *
 * Each query goes to the pipeline with a client handle (conn_client_ops)
 * whose send queues the answer here, and whose detach ends the query's
 * turn in the pipeline count. A closing connection tells the pipeline to
 * forget it, so that its queries carry on answering no one.
 *
 * Nobody can lock TCP out (issue 15). A client the access list denies is
 * closed at accept, before any TLS handshake, so it holds no slot and
 * makes no room. When every slot is taken, a new connection takes the
 * slot of the one idle the longest (no query in flight; RFC 7766 6.2.3
 * lets a server close idle connections under pressure), else of one
 * whose client closed its side while still owed answers, else of the
 * quietest connection of the /24 or /56 holding the most slots, unless
 * the new one comes from that network itself: then it is closed. One
 * network with slow queries thus cannot keep others out. Out of
 * descriptors (EMFILE, ENFILE), accept() fails and the pending
 * connection stays in the queue, and with edge-triggered polling no new
 * edge would ever come. A half-closed connection, else the longest idle
 * one, is closed to make a descriptor free; without one, a spare
 * descriptor, kept open for this, is closed so that one pending
 * connection can be accepted and closed at once, then reopened (libev's
 * and nginx's trick); the queue drains and accepting carries on by
 * itself once descriptors are free. If even the spare cannot be had, or
 * another thread took the descriptor it freed, conn_accept_all() says
 * RETRY and the listener (listener.c) tries again on a timer. The first
 * time it happens is logged; it may come and go at packet rate under an
 * attack, so later times are only counted (tcp-evicted, tcp-shed).
 *
 * A connection of a listen-tls listener speaks DNS over TLS (RFC 7858):
 * the same framing, limits and timeouts inside a TLS stream of
 * core/tls.h, registered READABLE | WRITABLE once (the stream remembers
 * what it waits for), with its own output queue in place of wqueue. The
 * idle timeout also ends a handshake that stalls.
 *
 * A closed connection is deregistered and its descriptor closed at once,
 * but its memory is freed only after the current batch of events, so an
 * event for it later in the same batch finds it marked closed instead of
 * freed (its token is its address). Until then it stays on the list.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/acl.h"
#include "front/conn.h"
#ifdef HAVE_TLS
#include "core/tls.h"
#endif

#define CONN_ACCEPT_BATCH 32
/* Reading stops when more answer bytes than half of this wait for the
 * client; the rest is room for the answers of queries already in flight
 * (conn_max_unsent). */
#define CONN_MAX_UNSENT (256 * 1024)
#define CONN_READ_CHUNK 4096

struct wbuf {
	STAILQ_ENTRY(wbuf) entry;
	size_t len, off;
	uint8_t data[];
};

struct conn {
	struct front *front;
	struct handle handle;		/* HANDLE_CONN */
	TAILQ_ENTRY(conn) entry;
	int fd;
	struct addr peer;		/* for allow-stats */
	uint64_t prefix;		/* its /24 or /56 (conn_prefix) */
	uint8_t *rbuf;			/* a partial message or several */
	size_t rlen, rcap;
	STAILQ_HEAD(, wbuf) wqueue;
	size_t unsent;
	unsigned outstanding;		/* queries in flight */
	mio_timer idle;
	uint64_t active_ms;		/* last activity: the idle timer's start */
	bool closed;
	bool eof;			/* the client will send no more */
	bool writing;			/* registered for WRITABLE */
	bool paused;			/* pipeline full: not reading */
	bool held;			/* answers pile up: not reading */
	bool resume;			/* look again after this batch */
	bool draining;			/* shutting down: no new queries */
	struct tls_stream *tls;		/* DNS over TLS, or NULL */
	bool tls_up;			/* its handshake is done */
};

#define CONN_OF(p, member) \
	((struct conn *)(void *)((char *)(p) - offsetof(struct conn, member)))

static void conn_close(struct conn *c);
static void conn_read(struct conn *c);
static void conn_flush(struct conn *c);
static void conn_send(const struct client *client, const uint8_t *msg,
    size_t len);
static void conn_query_done(const struct client *client);

static const struct client_ops conn_client_ops = {
	.send = conn_send,
	.detach = conn_query_done,
	.stream = true,
};

/* A connection whose idle timeout cannot be armed could stay open for
 * ever, so it is closed instead (memory is short anyway). */
static void
conn_arm_idle(struct conn *c)
{
	struct front *f = c->front;

	c->active_ms = batch_clock_ms(f->clock);
	if (clock_timer_start(f->timers, &c->idle, f->conf->tcp_idle_ms,
	    "a TCP connection's idle timeout") != 0)
		conn_close(c);
}

static void
conn_idle_fire(mio_timer *timer, void *arg)
{
	struct conn *c = arg;

	(void)timer;
	if (c->outstanding > 0) {
		conn_arm_idle(c);
		return;
	}
	COUNT(c->front->counters, tcp_idle_closed);
	log_debug("closing an idle TCP connection");
	conn_close(c);
}

static void
conn_touch(struct conn *c)
{
	if (c->closed)
		return;
	conn_arm_idle(c);
}

/* Answer bytes not yet taken by the socket. */
static size_t
conn_unsent(const struct conn *c)
{
#ifdef HAVE_TLS
	if (c->tls != NULL)
		return tls_stream_unsent(c->tls);
#endif
	return c->unsent;
}

/* The unsent bytes past which a connection is closed: half the cap while
 * reading, plus the largest answers the queries in flight may still add
 * once reading has stopped. Only a client that does not read at all, for
 * far longer than it asked, meets it. */
static size_t
conn_max_unsent(const struct conn *c)
{
	size_t held = CONN_MAX_UNSENT / 2 + (size_t)c->front->conf->tcp_pipeline
	    * (65535 + 2);

	return held > CONN_MAX_UNSENT ? held : CONN_MAX_UNSENT;
}

/* Whether the connection may read more queries: not while the pipeline
 * is full, nor while more than half the cap of answers waits for the
 * client (it asks faster than it reads); it resumes once they are out. */
static bool
conn_may_read(struct conn *c)
{
	c->paused = c->outstanding >= c->front->conf->tcp_pipeline;
	c->held = conn_unsent(c) > CONN_MAX_UNSENT / 2;
	return !c->closed && !c->paused && !c->held;
}

/* After a write: a connection held for unsent answers looks again once
 * every one is out (conn_run_deferred). */
static void
conn_drained(struct conn *c)
{
	if (c->held && conn_unsent(c) == 0)
		c->resume = true;
}

/* Closes when nothing is left to do: the client is done or we are
 * shutting down, no query is in flight and every answer is out. */
static void
conn_maybe_close(struct conn *c)
{
	if (!c->closed && (c->eof || c->draining) && c->outstanding == 0 &&
	    conn_unsent(c) == 0)
		conn_close(c);
}

#ifdef HAVE_TLS
/* ---- DNS over TLS: the stream's side of reading, writing, closing ---- */

/* True once the handshake is done; a failed one closes the connection. */
static bool
conn_tls_handshaken(struct conn *c)
{
	struct counters *counters = c->front->counters;
	char buf[64];
	int rc;

	if (c->tls_up)
		return true;
	if ((rc = tls_stream_handshake(c->tls)) == -EAGAIN)
		return false;
	if (rc < 0) {
		COUNT(counters, tls_failures);
		log_debug("TLS handshake with %s: %s", addr_str(&c->peer, buf,
		    sizeof(buf)), tls_stream_error(c->tls));
		conn_close(c);
		return false;
	}
	c->tls_up = true;
	COUNT(counters, tls_handshakes);
	if (tls_stream_resumed(c->tls))
		COUNT(counters, tls_resumptions);
	return true;
}

static void
conn_tls_event(struct conn *c, const mio_event *ev)
{
	tls_stream_ready(c->tls, tls_event_interest(ev));
	if (!conn_tls_handshaken(c))
		return;
	conn_flush(c);
	conn_read(c);
}

static void
conn_tls_flush(struct conn *c)
{
	int rc = tls_stream_flush(c->tls);

	if (rc == -EAGAIN)
		return;
	if (rc < 0) {
		conn_close(c);
		return;
	}
	conn_touch(c);
	conn_drained(c);
	conn_maybe_close(c);
}

/* One answer with its length prefix, in one record. */
static void
conn_tls_send(struct conn *c, const uint8_t *msg, size_t len)
{
	uint8_t prefix[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	if (tls_stream_queue(c->tls, prefix, 2) != 0 ||
	    tls_stream_queue(c->tls, msg, len) != 0) {
		conn_close(c);
		return;
	}
	if (c->tls_up)
		conn_tls_flush(c);
}

/* close_notify if it can go at once (RFC 8446 6.1: no need to wait). */
static void
conn_tls_close(struct conn *c)
{
	if (c->tls_up)
		(void)tls_stream_close_notify(c->tls);
	tls_stream_free(c->tls);
	c->tls = NULL;
}
#endif

static void
conn_new(struct front *f, int fd, const struct addr *peer, uint64_t prefix,
    struct tls_ctx *tls)
{
	struct conn *c = calloc(1, sizeof(*c));
	mio_interest interest = MIO_READABLE;
	int one = 1, rc;

	if (c == NULL) {
		close(fd);
		return;
	}
#ifdef HAVE_TLS
	/* The stream waits for what it needs: both, once and for all. */
	if (tls != NULL) {
		if (tls_stream_server_new(&c->tls, tls, fd) != 0) {
			close(fd);
			free(c);
			return;
		}
		interest |= MIO_WRITABLE;
	}
#else
	(void)tls;
#endif
	c->front = f;
	c->handle.kind = HANDLE_CONN;
	c->fd = fd;
	c->peer = *peer;
	c->prefix = prefix;
	STAILQ_INIT(&c->wqueue);
	mio_timer_init(&c->idle, conn_idle_fire, c);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((rc = mio_registry_register_fd(f->registry, fd,
		 (mio_token)&c->handle, interest)) != 0) {
		log_warnx("register a TCP connection: %s", mio_strerror(rc));
#ifdef HAVE_TLS
		tls_stream_free(c->tls);
#endif
		close(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&f->conns, c, entry);
	f->nconns++;
	counter_set(&f->counters->tcp_open, f->nconns);
	COUNT(f->counters, tcp_accepted);
	conn_touch(c);
}

/* The spare descriptor, opened at start and after every use. */
void
conn_spare_open(struct front *f)
{
	if (f->spare_fd < 0)
		f->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* The client's network for fairness: its /24 (IPv4, mapped ones too) or
 * /56 (IPv6, what an ISP hands one customer), tagged by family. */
static uint64_t
conn_prefix(const struct addr *a)
{
	const struct sockaddr_in6 *sin6 = (const void *)&a->ss;
	const struct sockaddr_in *sin = (const void *)&a->ss;
	uint64_t key = 0;

	if (a->ss.ss_family == AF_INET)
		return 1ULL << 62 | ntohl(sin->sin_addr.s_addr) >> 8;
	if (a->ss.ss_family != AF_INET6)
		return 1ULL << 63;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return 1ULL << 62 | (uint64_t)sin6->sin6_addr.s6_addr[12] << 16 |
		    (uint64_t)sin6->sin6_addr.s6_addr[13] << 8 |
		    sin6->sin6_addr.s6_addr[14];
	for (int i = 0; i < 7; i++)
		key = key << 8 | sin6->sin6_addr.s6_addr[i];
	return key;
}

static int
conn_key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The prefix holding the most open connections (ties: any), and how
 * many the prefix `mine' holds; false without memory for the count. */
static bool
conn_heaviest(struct front *f, uint64_t mine, uint64_t *heavy,
    size_t *nheavy, size_t *nmine)
{
	struct conn *c;
	size_t n = 0, run = 0;

	if (f->evict_cap < f->nconns) {
		uint64_t *k = realloc(f->evict_keys, f->nconns * sizeof(*k));
		if (k == NULL)
			return false;
		f->evict_keys = k;
		f->evict_cap = f->nconns;
	}
	TAILQ_FOREACH(c, &f->conns, entry)
		if (!c->closed && n < f->evict_cap)
			f->evict_keys[n++] = c->prefix;
	qsort(f->evict_keys, n, sizeof(uint64_t), conn_key_cmp);
	*nheavy = *nmine = 0;
	for (size_t i = 0; i < n; i++) {
		run = i > 0 && f->evict_keys[i] == f->evict_keys[i - 1] ?
		    run + 1 : 1;
		if (run > *nheavy) {
			*nheavy = run;
			*heavy = f->evict_keys[i];
		}
		if (f->evict_keys[i] == mine)
			(*nmine)++;
	}
	return *nheavy > 0;
}

/* Which connections conn_oldest() looks at. */
enum conn_pick {
	CONN_PICK_IDLE,		/* no query in flight */
	CONN_PICK_EOF,		/* the client closed its side */
	CONN_PICK_PREFIX,	/* of one prefix */
};

/* The connection picked that was active the longest ago, or NULL. */
static struct conn *
conn_oldest(struct front *f, enum conn_pick pick, uint64_t key)
{
	struct conn *c, *best = NULL;

	TAILQ_FOREACH(c, &f->conns, entry) {
		if (c->closed ||
		    (pick == CONN_PICK_IDLE && c->outstanding > 0) ||
		    (pick == CONN_PICK_EOF && !c->eof) ||
		    (pick == CONN_PICK_PREFIX && c->prefix != key))
			continue;
		if (best == NULL || c->active_ms < best->active_ms)
			best = c;
	}
	return best;
}

/*
 * The connection to close for a new one from prefix `mine': the one idle
 * the longest (no query in flight: RFC 7766 6.2.3); else one whose client
 * closed its side, though it is still owed answers (it may have gone
 * altogether); else, with busy_too, the quietest of the prefix holding
 * the most slots, so that one network cannot hold every slot with slow
 * queries, but never for a new connection from that prefix itself. NULL
 * when nothing should be closed.
 */
static struct conn *
conn_to_evict(struct front *f, uint64_t mine, bool busy_too)
{
	struct conn *c = conn_oldest(f, CONN_PICK_IDLE, 0);
	uint64_t heavy = 0;
	size_t nheavy, nmine;

	if (c == NULL)
		c = conn_oldest(f, CONN_PICK_EOF, 0);
	if (c != NULL || !busy_too)
		return c;
	if (!conn_heaviest(f, mine, &heavy, &nheavy, &nmine) ||
	    nmine + 1 > nheavy)
		return NULL;
	return conn_oldest(f, CONN_PICK_PREFIX, heavy);
}

/* Out of descriptors: closes a connection whose client closed its side
 * (likely gone: an attack that ended), else the longest idle one, so that
 * the next accept() can succeed, or else accepts one pending connection with
 * the spare descriptor and closes it. RETRY if neither was possible, or
 * another thread took the descriptor freed: the listener must try again
 * on a timer, since no new edge will come for the pending connection. */
static enum conn_accept
conn_shed(struct front *f, int listen_fd)
{
	struct conn *idle = conn_oldest(f, CONN_PICK_EOF, 0);
	int fd;

	if (!f->emfile_logged)
		log_warnx("accept: out of descriptors: closing idle or new TCP "
		    "connections until some are free (logged once)");
	f->emfile_logged = true;
	/* accept() fails with EMFILE before it looks at the queue: idle
	 * ones first would close the one just accepted, again and again. */
	if (idle == NULL)
		idle = conn_oldest(f, CONN_PICK_IDLE, 0);
	if (idle != NULL) {
		COUNT(f->counters, tcp_evicted);
		conn_close(idle);
		return CONN_ACCEPT_MORE;
	}
	COUNT(f->counters, tcp_shed);
	conn_spare_open(f);
	if (f->spare_fd < 0)
		return CONN_ACCEPT_RETRY;
	close(f->spare_fd);
	f->spare_fd = -1;
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	else if (errno == EAGAIN || errno == EWOULDBLOCK)
		fd = 0;		/* nothing pending after all */
	conn_spare_open(f);
	if (fd < 0)
		return CONN_ACCEPT_RETRY;
	return fd > 0 ? CONN_ACCEPT_MORE : CONN_ACCEPT_DONE;
}

/* Room for one more connection from peer: true if there is, or was made
 * by closing another (conn_to_evict). */
static bool
conn_make_room(struct front *f, uint64_t prefix)
{
	struct conn *old;

	if (f->shutting_down)
		return false;
	if (f->nconns < f->conf->max_tcp_clients)
		return true;
	if ((old = conn_to_evict(f, prefix, true)) == NULL)
		return false;
	COUNT(f->counters, tcp_evicted);
	log_debug("all TCP slots taken: closing the longest idle connection "
	    "or one of the network holding the most");
	conn_close(old);
	return true;
}

/* Whether the access list lets peer hold a connection: a "deny" client
 * is closed at once, before any TLS handshake and before it could take
 * the slot of another. "refuse" ones stay: local zones are public. */
static bool
conn_allowed(struct front *f, const struct addr *peer)
{
	if (f->acl == NULL ||
	    acl_check(f->acl, (const struct sockaddr *)&peer->ss) != ACL_DENY)
		return true;
	COUNT(f->counters, access_denied);
	return false;
}

/* One accepted connection: kept, or closed. */
static void
conn_admit(struct front *f, int fd, const struct addr *peer,
    struct tls_ctx *tls)
{
	uint64_t prefix = conn_prefix(peer);

	if (!conn_allowed(f, peer)) {
		close(fd);
		return;
	}
	if (!conn_make_room(f, prefix)) {
		COUNT(f->counters, tcp_refused);
		log_warnx_limited(&f->conn_limit_log, "%zu TCP clients, "
		    "the maximum: closing a new connection", f->nconns);
		close(fd);
		return;
	}
	conn_new(f, fd, peer, prefix, tls);
}

/* Accepts a batch: MORE if the batch ran out first, RETRY if out of
 * descriptors with nothing left to free (the caller arms a timer). */
enum conn_accept
conn_accept_all(struct front *f, int listen_fd, struct tls_ctx *tls)
{
	for (int i = 0; i < CONN_ACCEPT_BATCH; i++) {
		struct addr peer = { .len = sizeof(peer.ss) };
		int fd = accept4(listen_fd, (struct sockaddr *)&peer.ss,
		    &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			enum conn_accept shed;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EBADF || errno == EINVAL)
				return CONN_ACCEPT_DONE;
			/* ECONNABORTED, EMFILE...: the listener is fine. */
			if ((errno == EMFILE || errno == ENFILE) &&
			    (shed = conn_shed(f, listen_fd)) != CONN_ACCEPT_MORE)
				return shed;
			continue;
		}
		conn_admit(f, fd, &peer, tls);
	}
	return CONN_ACCEPT_MORE;
}

static void
conn_set_writing(struct conn *c, bool writing)
{
	mio_interest interest = MIO_READABLE | (writing ? MIO_WRITABLE : 0);
	int rc;

	if (c->writing == writing)
		return;
	c->writing = writing;
	rc = mio_registry_reregister_fd(c->front->registry, c->fd,
	    (mio_token)&c->handle, interest);
	if (rc != 0) {
		log_warnx("reregister a TCP connection: %s", mio_strerror(rc));
		conn_close(c);
	}
}

/* Writes queued answers until done or EAGAIN. */
static void
conn_flush(struct conn *c)
{
	struct wbuf *w;

#ifdef HAVE_TLS
	if (c->tls != NULL) {
		conn_tls_flush(c);
		return;
	}
#endif
	while (!c->closed && (w = STAILQ_FIRST(&c->wqueue)) != NULL) {
		ssize_t n = send(c->fd, w->data + w->off, w->len - w->off,
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				conn_set_writing(c, true);
				return;
			}
			if (errno != EINTR)
				conn_close(c);
			continue;
		}
		w->off += (size_t)n;
		c->unsent -= (size_t)n;
		if (w->off == w->len) {
			STAILQ_REMOVE_HEAD(&c->wqueue, entry);
			free(w);
		}
	}
	if (c->closed)
		return;
	conn_set_writing(c, false);
	conn_touch(c);
	conn_drained(c);
	conn_maybe_close(c);
}

/* The client handle's send: queues one answer with its length prefix
 * and writes what it can. */
static void
conn_send(const struct client *client, const uint8_t *msg, size_t len)
{
	struct conn *c = client->owner;
	struct wbuf *w;

	if (c->closed)
		return;
	if (conn_unsent(c) + len + 2 > conn_max_unsent(c)) {
		log_debug("a TCP client does not read its answers: closing");
		conn_close(c);
		return;
	}
#ifdef HAVE_TLS
	if (c->tls != NULL) {
		conn_tls_send(c, msg, len);
		return;
	}
#endif
	if ((w = malloc(sizeof(*w) + len + 2)) == NULL) {
		conn_close(c);
		return;
	}
	w->data[0] = (uint8_t)(len >> 8);
	w->data[1] = (uint8_t)len;
	memcpy(w->data + 2, msg, len);
	w->len = len + 2;
	w->off = 0;
	c->unsent += w->len;
	STAILQ_INSERT_TAIL(&c->wqueue, w, entry);
	if (!c->writing)
		conn_flush(c);
}

/* The client handle's detach: one query fewer in flight. */
static void
conn_query_done(const struct client *client)
{
	struct conn *c = client->owner;

	c->outstanding--;
	if (c->paused)
		c->resume = true;
	/* Closing here could run inside a c-ares callback; leave it to
	 * conn_run_deferred(). */
}

/* Hands one query to the pipeline; counted in flight from before the
 * call, since the pipeline may detach it before it returns. */
static void
conn_query(struct conn *c, const uint8_t *msg, size_t len)
{
	struct front *f = c->front;
	struct client from = { &conn_client_ops, c, c->peer };

	c->outstanding++;
	if (!resolve_query(f->resolver, msg, len, &from))
		c->outstanding--;
}

/* Hands every complete message in the buffer to the pipeline, while
 * conn_may_read() (cache hits answered at once count too). */
static void
conn_parse(struct conn *c)
{
	size_t off = 0;

	while (conn_may_read(c) && c->rlen - off >= 2) {
		size_t len = (size_t)(c->rbuf[off] << 8 | c->rbuf[off + 1]);
		if (c->rlen - off < 2 + len)
			break;
		if (!c->draining)
			conn_query(c, c->rbuf + off + 2, len);
		off += 2 + len;
		conn_touch(c);
	}
	if (c->closed)
		return;
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

/* Room for the next read: at least a chunk, or the whole message whose
 * length prefix is in. */
static bool
conn_reserve(struct conn *c)
{
	size_t need = c->rlen + CONN_READ_CHUNK;
	uint8_t *p;

	if (c->rlen >= 2) {
		size_t msg = 2 + (size_t)(c->rbuf[0] << 8 | c->rbuf[1]);
		if (msg > c->rlen && msg > need)
			need = msg;
	}
	if (need <= c->rcap)
		return true;
	if ((p = realloc(c->rbuf, need)) == NULL)
		return false;
	c->rbuf = p;
	c->rcap = need;
	return true;
}

/* Bytes from the client: a count, 0 at its end, or -errno (-EAGAIN). */
static ssize_t
conn_recv(struct conn *c, void *buf, size_t len)
{
	ssize_t n;

#ifdef HAVE_TLS
	if (c->tls != NULL)
		return tls_stream_read(c->tls, buf, len);
#endif
	n = recv(c->fd, buf, len, 0);
	return n >= 0 ? n : -errno;
}

static void
conn_read(struct conn *c)
{
	while (conn_may_read(c) && !c->eof) {
		ssize_t n;
		if (!conn_reserve(c)) {
			conn_close(c);
			return;
		}
		n = conn_recv(c, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n > 0) {
			c->rlen += (size_t)n;
			conn_parse(c);
		} else if (n == 0) {
			c->eof = true;
			conn_maybe_close(c);
		} else if (n == -EAGAIN || n == -EWOULDBLOCK) {
			return;
		} else if (n != -EINTR) {
			conn_close(c);
		}
	}
}

void
conn_event(struct handle *handle, const mio_event *ev)
{
	struct conn *c = CONN_OF(handle, handle);

	if (c->closed)
		return;		/* closed earlier in this batch */
#ifdef HAVE_TLS
	if (c->tls != NULL) {
		conn_tls_event(c, ev);
		return;
	}
#endif
	if (mio_event_is_writable(ev) || mio_event_is_error(ev))
		conn_flush(c);
	if (mio_event_is_readable(ev) || mio_event_is_read_closed(ev) ||
	    mio_event_is_error(ev))
		conn_read(c);
}

static void
conn_close(struct conn *c)
{
	struct wbuf *w;

	if (c->closed)
		return;
	c->closed = true;
	resolve_forget(c->front->resolver, c);
	mio_timer_stop(c->front->timers, &c->idle);
#ifdef HAVE_TLS
	if (c->tls != NULL)
		conn_tls_close(c);
#endif
	mio_registry_deregister_fd(c->front->registry, c->fd);
	close(c->fd);
	while ((w = STAILQ_FIRST(&c->wqueue)) != NULL) {
		STAILQ_REMOVE_HEAD(&c->wqueue, entry);
		free(w);
	}
	free(c->rbuf);
	c->rbuf = NULL;
	c->front->nconns--;
	counter_set(&c->front->counters->tcp_open, c->front->nconns);
}

/* After each batch: resume paused connections, close finished ones, free
 * the closed. Resuming reads what the kernel kept while we were paused;
 * under edge triggering no new event would announce it. */
void
conn_run_deferred(struct front *f)
{
	struct conn *c, *next;

	TAILQ_FOREACH(c, &f->conns, entry) {
		if (!c->closed && c->resume) {
			c->resume = false;
			conn_parse(c);
			conn_read(c);
		}
		conn_maybe_close(c);
	}
	TAILQ_FOREACH_SAFE(c, &f->conns, entry, next) {
		if (c->closed) {
			TAILQ_REMOVE(&f->conns, c, entry);
			free(c);
		}
	}
}

/* Shutting down: no new queries; connections close once answered. */
void
conn_shutdown(struct front *f)
{
	struct conn *c;

	TAILQ_FOREACH(c, &f->conns, entry) {
		c->draining = true;
		conn_maybe_close(c);
	}
}

void
conn_close_all(struct front *f)
{
	struct conn *c;

	TAILQ_FOREACH(c, &f->conns, entry)
		conn_close(c);
	conn_run_deferred(f);
}
