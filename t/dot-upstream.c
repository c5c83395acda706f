/*
 * t/dot-upstream.c - miodnsd's DNS-over-TLS upstream client
 * (daemon/resolve/dot-upstream.c) against a DoT server played by this
 * program on the same poll, with the TLS engine's server side: answers
 * matched by ID and question whatever their order, one connection reused,
 * a connection broken with queries in flight (they are sent again), idle
 * close, deadlines, backoff against a closed port, certificates that must
 * fail closed, and a hostile upstream (answers that are not, a message
 * shorter than a header).
 *
 * Run by t/dot-upstream.sh with the directory of t/tls-certs.sh's
 * certificates. The server's behaviour is one of enum server_mode.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/tls.h"
#include "mio.h"
#include "netutil.h"
#include "resolve/dot-upstream.h"
#include "tap.h"
#include "util.h"

#define LISTEN_TOKEN 1000
#define CONN_TOKEN 2000
#define MAX_CONNS 8
#define MAX_RESULTS 64

enum server_mode {
	ANSWER,			/* each query at once */
	REVERSE,		/* hold `hold` queries, answer them reversed */
	DROP,			/* close after `hold` queries, then ANSWER */
	WRONG_QUESTION,		/* answer with another name */
	SILENT,
	JUNK_FIRST,		/* three answers that are not, then the real */
	SHORT_FRAME,		/* a 5-byte message, then ANSWER */
};

struct srv_conn {
	int fd;
	struct tls_stream *s;
	uint8_t in[1 << 16];
	size_t in_len;
	int rd;			/* 1 reading, 0 close_notify, <0 error */
};

static struct {
	int listen_fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct tls_ctx *ctx;
	struct srv_conn *conns[MAX_CONNS];
	unsigned accepted;
	enum server_mode mode;
	unsigned hold;
	uint8_t held[32][512];
	size_t held_len[32];
	unsigned nheld;
} server;

struct result {
	int status;
	char name[64];		/* what the query asked */
	bool answer_matches;	/* the answer's ID and name are the query's */
};

static const char *certs;
static mio_poll *loop;
static mio_events *events;
static struct tls_ctx *client_ctx;
static struct result results[MAX_RESULTS];
static unsigned nresults;
static struct dot_upstream *forget_from_callback;
static struct dot_query *forget_target;

static char *
cert(const char *name)
{
	static char paths[4][512];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/%s", certs, name);
	return p;
}

/* ---- DNS messages ------------------------------------------------------------- */

/* A query for name/A with ID id; returns its length. */
static size_t
make_query(uint8_t *buf, uint16_t id, const char *name)
{
	size_t off = 12;
	const char *p = name;

	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01;		/* RD */
	buf[5] = 1;		/* QDCOUNT */
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		buf[off++] = (uint8_t)n;
		memcpy(buf + off, p, n);
		off += n;
		p += n + (dot ? 1 : 0);
	}
	buf[off++] = 0;
	buf[off++] = 0;
	buf[off++] = 1;		/* A */
	buf[off++] = 0;
	buf[off++] = 1;		/* IN */
	return off;
}

/* The first label of a message's question, as text. */
static void
first_label(const uint8_t *msg, size_t len, char *out, size_t cap)
{
	size_t n = len > 12 ? msg[12] : 0;

	if (n >= cap || 13 + n > len)
		n = 0;
	memcpy(out, msg + 13, n);
	out[n] = '\0';
}

/* ---- the server ---------------------------------------------------------------- */

static void
srv_conn_close(unsigned i)
{
	struct srv_conn *c = server.conns[i];

	mio_registry_deregister_fd(mio_poll_registry(loop), c->fd);
	tls_stream_free(c->s);
	close(c->fd);
	free(c);
	server.conns[i] = NULL;
}

static void
srv_reply(struct srv_conn *c, const uint8_t *query, size_t len)
{
	uint8_t frame[2 + 512];

	if (len > 512)
		bail("server: query too long");
	frame[0] = (uint8_t)(len >> 8);
	frame[1] = (uint8_t)len;
	memcpy(frame + 2, query, len);
	frame[2 + 2] |= 0x80;			/* QR */
	frame[2 + 3] |= 0x80;			/* RA */
	if (server.mode == WRONG_QUESTION)
		frame[2 + 13] ^= 0x01;		/* another first letter */
	if (tls_stream_send(c->s, frame, 2 + len) != 0)
		bail("server: send");
}

/* Sends a frame of len bytes, as given. */
static void
srv_send_raw(struct srv_conn *c, const uint8_t *msg, size_t len)
{
	uint8_t prefix[2] = {(uint8_t)(len >> 8), (uint8_t)len};

	if (tls_stream_queue(c->s, prefix, 2) != 0 ||
	    tls_stream_send(c->s, msg, len) != 0)
		bail("server: send");
}

/* Before the real answer: one for another ID, one with QR clear, one
 * without a question; none of them may be taken. */
static void
srv_junk(struct srv_conn *c, const uint8_t *query, size_t len)
{
	uint8_t m[512];

	memcpy(m, query, len);
	m[2] |= 0x80;
	m[0] ^= 0x55;				/* another ID */
	srv_send_raw(c, m, len);
	memcpy(m, query, len);			/* QR clear */
	srv_send_raw(c, m, len);
	memcpy(m, query, 12);
	m[2] |= 0x80;
	m[5] = 0;				/* QDCOUNT 0 */
	srv_send_raw(c, m, 12);
}

/* One query at the server; false if the connection was closed. */
static bool
srv_query(unsigned i, const uint8_t *msg, size_t len)
{
	struct srv_conn *c = server.conns[i];

	switch (server.mode) {
	case JUNK_FIRST:
		srv_junk(c, msg, len);
		srv_reply(c, msg, len);
		return true;
	case SHORT_FRAME:
		srv_send_raw(c, (const uint8_t *)"\1\2\3\4\5", 5);
		server.mode = ANSWER;
		return true;
	case ANSWER:
	case WRONG_QUESTION:
		srv_reply(c, msg, len);
		return true;
	case SILENT:
		return true;
	case REVERSE:
	case DROP:
		memcpy(server.held[server.nheld], msg, len);
		server.held_len[server.nheld++] = len;
		if (server.nheld < server.hold)
			return true;
		if (server.mode == DROP) {
			server.nheld = 0;
			server.mode = ANSWER;
			srv_conn_close(i);
			return false;
		}
		while (server.nheld > 0) {
			server.nheld--;
			srv_reply(c, server.held[server.nheld],
			    server.held_len[server.nheld]);
		}
		return true;
	}
	return true;
}

static void
srv_pump(unsigned i)
{
	struct srv_conn *c = server.conns[i];
	ssize_t n;

	if (tls_stream_handshake(c->s) != 0)
		return;
	while (c->rd == 1) {
		n = tls_stream_read(c->s, c->in + c->in_len,
		    sizeof(c->in) - c->in_len);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			c->rd = (int)n;
			break;
		}
		c->in_len += (size_t)n;
		while (c->in_len >= 2 &&
		    c->in_len >= 2 + (size_t)(c->in[0] << 8 | c->in[1])) {
			size_t len = (size_t)(c->in[0] << 8 | c->in[1]);
			uint8_t msg[512];
			memcpy(msg, c->in + 2, len < 512 ? len : 512);
			memmove(c->in, c->in + 2 + len, c->in_len - 2 - len);
			c->in_len -= 2 + len;
			if (!srv_query(i, msg, len))
				return;
		}
	}
	tls_stream_flush(c->s);
}

static void
srv_accept(void)
{
	int fd;

	while ((fd = accept(server.listen_fd, NULL, NULL)) >= 0) {
		struct srv_conn *c = calloc(1, sizeof(*c));
		unsigned i;
		for (i = 0; i < MAX_CONNS && server.conns[i] != NULL; i++)
			;
		if (c == NULL || i == MAX_CONNS)
			bail("server: too many connections");
		fd_set_nonblocking(fd);
		c->fd = fd;
		c->rd = 1;
		if (tls_stream_server_new(&c->s, server.ctx, fd) != 0)
			bail("server: stream");
		server.conns[i] = c;
		server.accepted++;
		if (mio_registry_register_fd(mio_poll_registry(loop), fd,
		    CONN_TOKEN + i, MIO_READABLE | MIO_WRITABLE) != 0)
			bail("server: register");
	}
}

static void
srv_event(const mio_event *ev)
{
	mio_token t = mio_event_token(ev);

	if (t == LISTEN_TOKEN) {
		srv_accept();
		return;
	}
	if (t < CONN_TOKEN || t >= CONN_TOKEN + MAX_CONNS ||
	    server.conns[t - CONN_TOKEN] == NULL)
		return;
	tls_stream_ready(server.conns[t - CONN_TOKEN]->s,
	    tls_event_interest(ev));
	srv_pump((unsigned)(t - CONN_TOKEN));
}

static void
srv_reset(enum server_mode mode, unsigned hold)
{
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (server.conns[i] != NULL)
			srv_conn_close(i);
	server.mode = mode;
	server.hold = hold;
	server.nheld = 0;
	server.accepted = 0;
}

/* ---- the client ------------------------------------------------------------------ */

static void
answered(void *cookie, int status, const uint8_t *answer, size_t len)
{
	struct result *r = &results[nresults++ % MAX_RESULTS];
	const char *name = cookie;
	char label[64];

	r->status = status;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->answer_matches = false;
	if (status == 0) {
		first_label(answer, len, label, sizeof(label));
		r->answer_matches = answer[0] == 0x12 && answer[1] == 0x34 &&
		    (answer[2] & 0x80) && strncmp(label, name,
		    strlen(label)) == 0 && strlen(label) > 0;
	}
	if (forget_from_callback != NULL && forget_target != NULL) {
		dot_query_forget(forget_target);
		forget_target = NULL;
	}
}

static uint64_t
now(void)
{
	return (uint64_t)now_ms();
}

/* Polls until nresults reaches want or ms pass; client and server. */
static void
run(struct dot_upstream *u, unsigned want, long ms)
{
	uint64_t deadline = now() + (uint64_t)ms;

	while (nresults < want && now() < deadline) {
		uint64_t next = dot_upstream_next_ms(u), t = now();
		long wait = next <= t ? 0 : next - t > 50 ? 50 : (long)(next - t);
		struct timespec ts = ms_timeout(wait);
		if (mio_poll_poll(loop, events, &ts) >= 0) {
			MIO_EVENTS_FOREACH(ev, events) {
				if (!dot_upstream_event(u, ev, now()))
					srv_event(ev);
			}
		}
		dot_upstream_process(u, now());
	}
}

static struct dot_upstream *
upstream(const char *name, const struct sockaddr_storage *addr,
    socklen_t addrlen, unsigned idle_ms)
{
	struct dot_upstream_config cfg = {
		.ctx = client_ctx, .addr = *addr, .addrlen = addrlen,
		.name = name, .idle_ms = idle_ms,
	};
	struct dot_upstream *u;

	if (dot_upstream_new(&u, mio_poll_registry(loop), &cfg) != 0)
		bail("dot_upstream_new");
	nresults = 0;
	return u;
}

static void
ask(struct dot_upstream *u, const char *name, long ms, struct dot_query **q)
{
	uint8_t msg[512];
	size_t len = make_query(msg, 0x1234, name);

	if (dot_upstream_send(u, msg, len, now() + (uint64_t)ms, answered,
	    (void *)name, q, now()) != 0)
		bail("dot_upstream_send");
}

/* ---- the tests ---------------------------------------------------------------------- */

static void
test_one_and_pipelined(void)
{
	static const char *names[20] = {"q00", "q01", "q02", "q03", "q04",
	    "q05", "q06", "q07", "q08", "q09", "q10", "q11", "q12", "q13",
	    "q14", "q15", "q16", "q17", "q18", "q19"};
	struct dot_upstream_stats st;
	struct dot_upstream *u;
	unsigned good = 0;

	srv_reset(ANSWER, 0);
	u = upstream("dot.test", &server.addr, server.addrlen, 10000);
	ask(u, "first.test", 2000, NULL);
	run(u, 1, 3000);
	is_int(nresults, 1, "one query, one answer");
	is_errno(results[0].status, 0, "the answer came");
	ok(results[0].answer_matches,
	    "with the caller's ID back in it, QR set, its own question");

	/* 20 queries, all with the same caller ID, answered reversed. */
	server.mode = REVERSE;
	server.hold = 20;
	nresults = 0;
	for (int i = 0; i < 20; i++)
		ask(u, names[i], 3000, NULL);
	run(u, 20, 4000);
	is_int(nresults, 20, "20 pipelined queries, 20 answers");
	for (unsigned i = 0; i < nresults; i++)
		good += results[i].status == 0 && results[i].answer_matches;
	is_int(good, 20, "each matched to its own query by ID and question");
	is_string(results[0].name, "q19", "answers taken in the order they "
	    "came (the last query's first)");
	is_int(server.accepted, 1, "over the one connection");
	dot_upstream_get_stats(u, &st);
	is_int(st.handshakes, 1, "one handshake");
	is_int(st.queries, 21, "21 queries written");
	dot_upstream_free(u);
}

static void
test_broken_connection(void)
{
	struct dot_upstream_stats st;
	struct dot_upstream *u;
	unsigned good = 0;

	srv_reset(ANSWER, 0);
	u = upstream("dot.test", &server.addr, server.addrlen, 10000);
	ask(u, "warm.test", 2000, NULL);
	run(u, 1, 3000);
	server.mode = DROP;	/* a restart: gone with 3 queries unanswered */
	server.hold = 3;
	nresults = 0;
	ask(u, "a.test", 3000, NULL);
	ask(u, "b.test", 3000, NULL);
	ask(u, "c.test", 3000, NULL);
	run(u, 3, 4000);
	for (unsigned i = 0; i < nresults; i++)
		good += results[i].status == 0 && results[i].answer_matches;
	is_int(good, 3, "the 3 queries of a broken connection are answered");
	is_int(server.accepted, 2, "on a second connection");
	dot_upstream_get_stats(u, &st);
	is_int(st.resent, 3, "written again: 3");
	is_int(st.resumptions, 1, "the second connection resumed the session");
	dot_upstream_free(u);
}

static void
test_deadlines_and_bad_answers(void)
{
	struct dot_upstream_stats st;
	struct dot_upstream *u;
	long long t0;

	srv_reset(WRONG_QUESTION, 0);
	u = upstream("dot.test", &server.addr, server.addrlen, 10000);
	ask(u, "wrong.test", 300, NULL);
	run(u, 1, 2000);
	is_errno(results[0].status, -ETIMEDOUT,
	    "an answer to another question is not taken: timeout");
	dot_upstream_get_stats(u, &st);
	is_int(st.bad_answers, 1, "it was counted as a bad answer");

	server.mode = SILENT;
	nresults = 0;
	t0 = now_ms();
	ask(u, "silent.test", 200, NULL);
	run(u, 1, 2000);
	is_errno(results[0].status, -ETIMEDOUT, "a silent upstream: timeout");
	ok(now_ms() - t0 >= 200 && now_ms() - t0 < 1000,
	    "at the deadline (%lld ms for 200)", now_ms() - t0);
	dot_upstream_free(u);
}

/* What a hostile upstream sends instead of answers. */
static void
test_hostile_upstream(void)
{
	struct dot_upstream_stats st;
	struct dot_upstream *u;

	srv_reset(JUNK_FIRST, 0);
	u = upstream("dot.test", &server.addr, server.addrlen, 10000);
	ask(u, "junk.test", 2000, NULL);
	run(u, 1, 3000);
	ok(nresults == 1 && results[0].status == 0 &&
	    results[0].answer_matches,
	    "another ID, QR clear, no question: none taken, the real one is");
	dot_upstream_get_stats(u, &st);
	is_int(st.bad_answers, 3, "three bad answers counted");
	dot_upstream_free(u);

	srv_reset(SHORT_FRAME, 0);
	u = upstream("dot.test", &server.addr, server.addrlen, 10000);
	ask(u, "short.test", 3000, NULL);
	run(u, 1, 4000);
	ok(nresults == 1 && results[0].status == 0 &&
	    results[0].answer_matches,
	    "a message shorter than a header breaks the connection; the "
	    "query is answered on the next");
	dot_upstream_get_stats(u, &st);
	is_int(st.connects, 2, "two connections");
	is_int(st.resent, 1, "the query written again");
	ok(strstr(dot_upstream_last_error(u), "shorter") != NULL, "why: %s",
	    dot_upstream_last_error(u));
	dot_upstream_free(u);
}

static void
test_idle_close(void)
{
	struct dot_upstream_stats st;
	struct dot_upstream *u;
	long long until;

	srv_reset(ANSWER, 0);
	u = upstream("dot.test", &server.addr, server.addrlen, 100);
	ask(u, "idle.test", 2000, NULL);
	run(u, 1, 3000);
	ok(dot_upstream_connected(u), "connected after an answer");
	until = now_ms() + 2000;
	while (dot_upstream_connected(u) && now_ms() < until)
		run(u, 99, 20);
	ok(!dot_upstream_connected(u), "closed after 100 ms idle");
	run(u, 99, 100);	/* the server reads the close_notify */
	ok(server.conns[0] != NULL && server.conns[0]->rd == 0,
	    "with close_notify (the server read the end as 0)");
	dot_upstream_get_stats(u, &st);
	is_int(st.idle_closed, 1, "counted");
	nresults = 0;
	ask(u, "again.test", 2000, NULL);
	run(u, 1, 3000);
	is_errno(results[0].status, 0, "the next query opens a new one");
	dot_upstream_free(u);
}

static void
test_refused_certificates(void)
{
	struct tls_ctx *expired = NULL;
	struct dot_upstream *u;
	char err[256];
	long long t0;

	srv_reset(ANSWER, 0);
	u = upstream("other.test", &server.addr, server.addrlen, 10000);
	t0 = now_ms();
	ask(u, "never.test", 3000, NULL);
	run(u, 1, 4000);
	is_errno(results[0].status, -EPERM,
	    "a certificate for another name: -EPERM, no answer");
	ok(now_ms() - t0 < 2000, "at once, not at the deadline (%lld ms)",
	    now_ms() - t0);
	ok(strstr(dot_upstream_last_error(u), "hostname mismatch") != NULL,
	    "why: %s", dot_upstream_last_error(u));
	dot_upstream_free(u);

	if (access(cert("expired.pem"), R_OK) != 0) {
		skip(1, "no expired certificate");
		return;
	}
	if (tls_ctx_server_new(&expired, cert("expired.pem"),
	    cert("expired.key"), err, sizeof(err)) != 0)
		bail("%s", err);
	tls_ctx_free(server.ctx);
	server.ctx = expired;
	u = upstream("dot.test", &server.addr, server.addrlen, 10000);
	ask(u, "never.test", 3000, NULL);
	run(u, 1, 4000);
	is_errno(results[0].status, -EPERM, "an expired certificate: -EPERM");
	dot_upstream_free(u);
	srv_reset(ANSWER, 0);
	if (tls_ctx_server_new(&server.ctx, cert("server.pem"),
	    cert("server.key"), err, sizeof(err)) != 0)
		bail("%s", err);
	tls_ctx_free(expired);
}

static void
test_closed_port(void)
{
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct dot_upstream_stats st;
	struct dot_upstream *u;

	closed_port(AF_INET, SOCK_STREAM, &addr, &addrlen);
	u = upstream("dot.test", &addr, addrlen, 10000);
	ask(u, "refused.test", 500, NULL);
	run(u, 1, 2000);
	is_errno(results[0].status, -ETIMEDOUT,
	    "a closed port: the query waits for retries until its deadline");
	dot_upstream_get_stats(u, &st);
	ok(st.connects >= 2 && st.connects <= 5,
	    "retried with a backoff: %llu connects in 500 ms",
	    (unsigned long long)st.connects);
	ok(strstr(dot_upstream_last_error(u), "refused") != NULL,
	    "why: %s", dot_upstream_last_error(u));
	dot_upstream_free(u);
}

static void
test_forget_and_free(void)
{
	struct dot_query *q1, *q2;
	struct dot_upstream *u;
	uint8_t msg[512];

	srv_reset(ANSWER, 0);
	u = upstream("dot.test", &server.addr, server.addrlen, 10000);
	ask(u, "kept.test", 2000, &q1);
	ask(u, "forgotten.test", 2000, &q2);
	dot_query_forget(q2);
	run(u, 2, 500);
	is_int(nresults, 1, "a forgotten query gets no callback");
	is_string(results[0].name, "kept.test", "the other one does");

	/* A callback forgets a query that is still in flight. */
	server.mode = REVERSE;
	server.hold = 2;
	nresults = 0;
	ask(u, "one.test", 2000, &forget_target);	/* answered second */
	ask(u, "two.test", 2000, NULL);
	forget_from_callback = u;
	run(u, 2, 500);
	forget_from_callback = NULL;
	is_int(nresults, 1, "forgotten from another's callback: one answer");

	server.mode = SILENT;
	nresults = 0;
	ask(u, "pending.test", 2000, NULL);
	run(u, 99, 100);
	dot_upstream_free(u);
	is_int(nresults, 1, "freeing the upstream ends a pending query");
	is_errno(results[0].status, -ECANCELED, "with -ECANCELED");

	u = upstream("dot.test", &server.addr, server.addrlen, 10000);
	is_errno(dot_upstream_send(u, msg, 11, now() + 1000, answered, NULL,
	    NULL, now()), -EINVAL, "a message shorter than a header: -EINVAL");
	make_query(msg, 1, "x.test");
	msg[5] = 2;
	is_errno(dot_upstream_send(u, msg, 30, now() + 1000, answered, NULL,
	    NULL, now()), -EINVAL, "two questions: -EINVAL");
	dot_upstream_free(u);
}

int
main(int argc, char **argv)
{
	char err[256];

	if (argc != 2)
		skip_all("run by t/dot-upstream.sh, which makes certificates");
	certs = argv[1];
	signal(SIGPIPE, SIG_IGN);
	plan_lazy();
	init_with_poll(&loop, &events);
	if ((server.listen_fd = tcp_listen_loopback(AF_INET, &server.addr,
	    &server.addrlen)) < 0)
		bail("no loopback listener");
	if (mio_registry_register_fd(mio_poll_registry(loop), server.listen_fd,
	    LISTEN_TOKEN, MIO_READABLE) != 0)
		bail("register the listener");
	if (tls_ctx_server_new(&server.ctx, cert("server.pem"),
	    cert("server.key"), err, sizeof(err)) != 0 ||
	    tls_ctx_client_new(&client_ctx, cert("ca.pem"), err,
	    sizeof(err)) != 0)
		bail("%s", err);

	test_one_and_pipelined();
	test_broken_connection();
	test_deadlines_and_bad_answers();
	test_hostile_upstream();
	test_idle_close();
	test_refused_certificates();
	test_closed_port();
	test_forget_and_free();

	srv_reset(ANSWER, 0);
	tls_ctx_free(server.ctx);
	tls_ctx_free(client_ctx);
	mio_registry_deregister_fd(mio_poll_registry(loop), server.listen_fd);
	close(server.listen_fd);
	mio_events_free(events);
	free_poll(loop);
	return tap_failures() == 0 ? 0 : 1;
}
