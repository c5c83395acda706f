/*
 * conn.c - DNS over TCP (RFC 1035 4.2.2, RFC 7766): length-framed messages,
 * several queries in flight per connection, answers written in the order
 * they complete.
 *
 * Limits keep one client from taking everything: at most max-tcp-clients
 * connections (more are accepted and closed at once), at most tcp-pipeline
 * queries in flight per connection (reading pauses until one ends), a cap
 * on unsent answer bytes, and an idle timeout that also ends connections
 * stuck in the middle of a message.
 *
 * A closed connection is deregistered and its descriptor closed at once,
 * but its memory is freed only after the current batch of events, so an
 * event for it later in the same batch finds it marked closed instead of
 * freed (its token is its address). Until then it stays on the list.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "miodnsd.h"

#define CONN_ACCEPT_BATCH 32
#define CONN_MAX_UNSENT (256 * 1024)
#define CONN_READ_CHUNK 4096

struct wbuf {
	STAILQ_ENTRY(wbuf) entry;
	size_t len, off;
	uint8_t data[];
};

struct conn {
	struct handle handle;		/* HANDLE_CONN */
	TAILQ_ENTRY(conn) entry;
	int fd;
	struct addr peer;		/* for allow-stats */
	uint8_t *rbuf;			/* a partial message or several */
	size_t rlen, rcap;
	STAILQ_HEAD(, wbuf) wqueue;
	size_t unsent;
	unsigned outstanding;		/* queries in flight */
	struct timer idle;
	bool closed;
	bool eof;			/* the client will send no more */
	bool writing;			/* registered for WRITABLE */
	bool paused;			/* pipeline full: not reading */
	bool resume;			/* unpause after this batch */
	bool draining;			/* shutting down: no new queries */
};

/* Closed connections stay on the list, marked, until conn_run_deferred(). */
static WORKER_LOCAL TAILQ_HEAD(conn_list, conn) conns;
static WORKER_LOCAL size_t nconns;		/* open ones */
static WORKER_LOCAL struct log_limit conn_limit_log;

#define CONN_OF(p, member) \
	((struct conn *)(void *)((char *)(p) - offsetof(struct conn, member)))

static void conn_close(struct conn *c);
static void conn_read(struct conn *c);

size_t
conn_count(void)
{
	return nconns;
}

void
conn_worker_init(void)
{
	TAILQ_INIT(&conns);
}

bool
conn_writes_pending(void)
{
	struct conn *c;

	TAILQ_FOREACH(c, &conns, entry) {
		if (!c->closed && !STAILQ_EMPTY(&c->wqueue))
			return true;
	}
	return false;
}

static void
conn_idle_fire(struct timer *t)
{
	struct conn *c = CONN_OF(t, idle);

	if (c->outstanding > 0) {
		timer_arm(&c->idle, timer_now() + worker_config()->tcp_idle_ms);
		return;
	}
	COUNT(tcp_idle_closed);
	log_debug("closing an idle TCP connection");
	conn_close(c);
}

static void
conn_touch(struct conn *c)
{
	if (c->closed)
		return;
	timer_arm(&c->idle, timer_now() + worker_config()->tcp_idle_ms);
}

/* Closes when nothing is left to do: the client is done or we are
 * shutting down, no query is in flight and every answer is out. */
static void
conn_maybe_close(struct conn *c)
{
	if (!c->closed && (c->eof || c->draining) && c->outstanding == 0 &&
	    STAILQ_EMPTY(&c->wqueue))
		conn_close(c);
}

static void
conn_new(int fd, const struct addr *peer)
{
	struct conn *c = calloc(1, sizeof(*c));
	int one = 1, rc;

	if (c == NULL) {
		close(fd);
		return;
	}
	c->handle.kind = HANDLE_CONN;
	c->fd = fd;
	c->peer = *peer;
	STAILQ_INIT(&c->wqueue);
	c->idle.fire = conn_idle_fire;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((rc = mio_registry_register_fd(worker_registry(), fd,
		 (mio_token)&c->handle, MIO_READABLE)) != 0) {
		log_warnx("register a TCP connection: %s", mio_strerror(rc));
		close(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&conns, c, entry);
	nconns++;
	counter_set(&counters.tcp_open, nconns);
	COUNT(tcp_accepted);
	conn_touch(c);
}

/* Accepts a batch; *more says whether the batch ran out first. */
void
conn_accept_all(int listen_fd, bool *more)
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
			if (errno == EMFILE || errno == ENFILE) {
				log_warnx_limited(&conn_limit_log,
				    "accept: out of descriptors");
				*more = false;
				return;
			}
			continue;
		}
		if (nconns >= worker_config()->max_tcp_clients ||
		    worker_shutting_down()) {
			COUNT(tcp_refused);
			log_warnx_limited(&conn_limit_log, "%zu TCP clients, "
			    "the maximum: closing a new connection", nconns);
			close(fd);
			continue;
		}
		conn_new(fd, &peer);
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
	rc = mio_registry_reregister_fd(worker_registry(), c->fd,
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

/* Queues one answer with its length prefix and writes what it can. */
void
conn_send(struct conn *c, const uint8_t *msg, size_t len)
{
	struct wbuf *w;

	if (c->closed)
		return;
	if (c->unsent + len + 2 > CONN_MAX_UNSENT) {
		log_debug("a TCP client does not read its answers: closing");
		conn_close(c);
		return;
	}
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

void
conn_query_started(struct conn *c)
{
	c->outstanding++;
	if (c->outstanding >= worker_config()->tcp_pipeline)
		c->paused = true;
}

void
conn_query_done(struct conn *c)
{
	c->outstanding--;
	if (c->paused && c->outstanding < worker_config()->tcp_pipeline)
		c->resume = true;
	/* Closing here could run inside a c-ares callback; leave it to
	 * conn_run_deferred(). */
}

/* Hands every complete message in the buffer to query.c, unless paused. */
static void
conn_parse(struct conn *c)
{
	size_t off = 0;

	while (!c->closed && !c->paused && c->rlen - off >= 2) {
		size_t len = (size_t)(c->rbuf[off] << 8 | c->rbuf[off + 1]);
		struct client from = { .conn = c, .addr = c->peer };
		if (c->rlen - off < 2 + len)
			break;
		if (!c->draining)
			query_receive(c->rbuf + off + 2, len, &from);
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

static void
conn_read(struct conn *c)
{
	while (!c->closed && !c->paused && !c->eof) {
		ssize_t n;
		if (!conn_reserve(c)) {
			conn_close(c);
			return;
		}
		n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
		if (n > 0) {
			c->rlen += (size_t)n;
			conn_parse(c);
		} else if (n == 0) {
			c->eof = true;
			conn_maybe_close(c);
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return;
		} else if (errno != EINTR) {
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
	query_detach_conn(c);
	timer_disarm(&c->idle);
	mio_registry_deregister_fd(worker_registry(), c->fd);
	close(c->fd);
	while ((w = STAILQ_FIRST(&c->wqueue)) != NULL) {
		STAILQ_REMOVE_HEAD(&c->wqueue, entry);
		free(w);
	}
	free(c->rbuf);
	c->rbuf = NULL;
	nconns--;
	counter_set(&counters.tcp_open, nconns);
}

/* After each batch: resume paused connections, close finished ones, free
 * the closed. Resuming reads what the kernel kept while we were paused;
 * under edge triggering no new event would announce it. */
void
conn_run_deferred(void)
{
	struct conn *c, *next;

	TAILQ_FOREACH(c, &conns, entry) {
		if (!c->closed && c->resume) {
			c->resume = false;
			c->paused = false;
			conn_parse(c);
			conn_read(c);
		}
		conn_maybe_close(c);
	}
	TAILQ_FOREACH_SAFE(c, &conns, entry, next) {
		if (c->closed) {
			TAILQ_REMOVE(&conns, c, entry);
			free(c);
		}
	}
}

/* Shutting down: no new queries; connections close once answered. */
void
conn_shutdown(void)
{
	struct conn *c;

	TAILQ_FOREACH(c, &conns, entry) {
		c->draining = true;
		conn_maybe_close(c);
	}
}

void
conn_close_all(void)
{
	struct conn *c;

	TAILQ_FOREACH(c, &conns, entry)
		conn_close(c);
	conn_run_deferred();
}
