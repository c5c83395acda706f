/*
 * conn.c - DNS over TCP (RFC 1035 4.2.2, RFC 7766): length-framed messages,
 * several queries in flight per connection, answers written in the order
 * they complete.
 *
 * Limits keep one client from taking everything: at most max-tcp-clients
 * connections, at most tcp-pipeline
 * queries in flight per connection (reading pauses until one ends), a cap
 * on unsent answer bytes, and an idle timeout that also ends connections
 * stuck in the middle of a message.
 *
 * Each query goes to the pipeline with a client handle (conn_client_ops)
 * whose send queues the answer here, and whose detach ends the query's
 * turn in the pipeline count. A closing connection tells the pipeline to
 * forget it, so that its queries carry on answering no one.
 *
 * Nobody can lock TCP out (issue 15). When every slot is taken, a new
 * connection takes the slot of one whose client has closed its side (it
 * only waits for answers), else of the one idle the longest (no query in
 * flight; RFC 7766 6.2.3 lets a server close idle connections under
 * pressure); only when every connection has a query in flight is the new
 * one closed. Out of descriptors (EMFILE, ENFILE), accept() fails and the
 * pending connection stays in the queue, and with edge-triggered polling
 * no new edge would ever come. The longest idle connection is closed to
 * make a descriptor free, as when slots run out; without one, a spare
 * descriptor, kept open for this, is
 * closed so that one pending connection can be accepted and closed at
 * once, then reopened (libev's and nginx's trick); the queue drains and
 * accepting carries on by itself once descriptors are free. If even the
 * spare cannot be had, the listeners try again on a timer. The first
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

#include "front/conn.h"
#ifdef HAVE_TLS
#include "core/tls.h"
#endif

#define CONN_ACCEPT_BATCH 32
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
	bool resume;			/* unpause after this batch */
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
conn_new(struct front *f, int fd, const struct addr *peer,
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

/* How long the listeners wait to accept again when out of descriptors
 * and without a spare one. */
#define CONN_RETRY_ACCEPT_MS 100

/* The spare descriptor, opened at start and after every use. */
void
conn_spare_open(struct front *f)
{
	if (f->spare_fd < 0)
		f->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static struct conn *conn_to_evict(struct front *f);

/* Out of descriptors: closes the longest idle connection, so that the
 * next accept() can succeed, or else accepts one pending connection with
 * the spare descriptor and closes it. False if neither was possible. */
static bool
conn_shed(struct front *f, int listen_fd)
{
	struct conn *idle = conn_to_evict(f);
	int fd;

	if (!f->emfile_logged)
		log_warnx("accept: out of descriptors: closing idle or new TCP "
		    "connections until some are free (logged once)");
	f->emfile_logged = true;
	if (idle != NULL) {
		COUNT(f->counters, tcp_evicted);
		conn_close(idle);
		return true;
	}
	COUNT(f->counters, tcp_shed);
	conn_spare_open(f);
	if (f->spare_fd < 0) {
		listener_retry_accept(f, CONN_RETRY_ACCEPT_MS);
		return false;
	}
	close(f->spare_fd);
	f->spare_fd = -1;
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	conn_spare_open(f);
	return fd >= 0;
}

/* The connection to close for a new one: the longest idle of those whose
 * client closed its side, else of those with no query in flight; NULL
 * if every one is busy. */
static struct conn *
conn_to_evict(struct front *f)
{
	struct conn *c, *done = NULL, *idle = NULL;

	TAILQ_FOREACH(c, &f->conns, entry) {
		if (c->closed)
			continue;
		if (c->eof && (done == NULL ||
		    c->active_ms < done->active_ms))
			done = c;
		if (c->outstanding == 0 && (idle == NULL ||
		    c->active_ms < idle->active_ms))
			idle = c;
	}
	return done != NULL ? done : idle;
}


/* Room for one more connection: true if there is, or was made by closing
 * the longest idle one. */
static bool
conn_make_room(struct front *f)
{
	struct conn *idle;

	if (f->shutting_down)
		return false;
	if (f->nconns < f->conf->max_tcp_clients)
		return true;
	if ((idle = conn_to_evict(f)) == NULL)
		return false;
	COUNT(f->counters, tcp_evicted);
	log_debug("all TCP slots taken: closing the longest idle connection");
	conn_close(idle);
	return true;
}

/* Accepts a batch; *more says whether the batch ran out first. */
void
conn_accept_all(struct front *f, int listen_fd, bool *more,
    struct tls_ctx *tls)
{
	for (int i = 0; i < CONN_ACCEPT_BATCH; i++) {
		struct addr peer = { .len = sizeof(peer.ss) };
		int fd = accept4(listen_fd, (struct sockaddr *)&peer.ss,
		    &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EBADF || errno == EINVAL) {
				*more = false;
				return;
			}
			/* ECONNABORTED, EMFILE...: the listener is fine. */
			if ((errno == EMFILE || errno == ENFILE) &&
			    !conn_shed(f, listen_fd)) {
				*more = false;
				return;
			}
			continue;
		}
		if (!conn_make_room(f)) {
			COUNT(f->counters, tcp_refused);
			log_warnx_limited(&f->conn_limit_log, "%zu TCP clients, "
			    "the maximum: closing a new connection",
			    f->nconns);
			close(fd);
			continue;
		}
		conn_new(f, fd, &peer, tls);
	}
	*more = true;
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
	if (conn_unsent(c) + len + 2 > CONN_MAX_UNSENT) {
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
	if (c->paused && c->outstanding < c->front->conf->tcp_pipeline)
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
	if (c->outstanding >= f->conf->tcp_pipeline)
		c->paused = true;
}

/* Hands every complete message in the buffer to the pipeline, unless
 * paused. */
static void
conn_parse(struct conn *c)
{
	size_t off = 0;

	while (!c->closed && !c->paused && c->rlen - off >= 2) {
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
	while (!c->closed && !c->paused && !c->eof) {
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
			c->paused = false;
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
