/*
 * t/tls.c - miodnsd's TLS engine (daemon/core/tls.c) over loopback TCP on
 * one libmio poll: handshakes both ways, pipelined messages, a record fed
 * to the server one byte at a time, decrypted data that produces no edge,
 * writes larger than the socket takes, close_notify, resumption, and the
 * failures that must fail closed (wrong name, expired, unknown CA) or
 * cleanly (garbage, a cut record, a stalled client).
 *
 * Run by t/tls.sh, which makes the certificates (t/tls-certs.sh) and
 * passes their directory: ./t/tls DIR. Every peer is a `struct peer` with
 * its token, driven by drive() exactly as tls.h's recipe says; a relay
 * (struct relay) sits between a client and the TCP connection when a test
 * needs to cut or split what the client sends.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/tls.h"
#include "mio.h"
#include "tap.h"
#include "netutil.h"
#include "util.h"

#define MAX_PEERS 8
#define DRIVE_MS 5000

struct peer {
	const char *name;
	int fd;
	struct tls_stream *s;
	int hs;			/* the handshake's last result */
	int rd;			/* 1 reading, 0 close_notify, or an error */
	int fl;			/* the last flush's result */
	bool paused;		/* does not read: the caller's pipeline is full */
	unsigned wakeups;	/* events seen */
	size_t in_len;
	uint8_t in[1 << 16];
	size_t bulk;		/* bytes of the bulk pattern checked (bulk mode) */
	bool bulk_mode, bulk_bad;
};

/* Moves bytes between a client on a socketpair and the TCP connection. */
struct relay {
	int inner;		/* the socketpair end the client does not hold */
	int wire;		/* the TCP connection to the server */
	uint8_t buf[1 << 16];
	size_t len;
	bool bytewise;		/* one byte per turn to the server */
	size_t cut_after;	/* if not 0: forward only this many bytes, */
	bool cut;		/* then shut the wire's write side */
	size_t forwarded;
};

static const char *certs;
static mio_poll *loop;
static mio_events *events;
static struct peer *peers[MAX_PEERS];
static struct relay *relay;
static int listen_fd;
static struct sockaddr_storage listen_addr;
static socklen_t listen_len;
static struct tls_ctx *server_ctx, *client_ctx;

static char *
cert(const char *name)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s", certs, name);
	return p;
}

/* ---- peers and the loop -------------------------------------------------- */

static void
peer_bulk_check(struct peer *p, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++, p->bulk++)
		if (buf[i] != (uint8_t)(p->bulk * 7 + (p->bulk >> 12)))
			p->bulk_bad = true;
}

/* tls.h's recipe: handshake, read until -EAGAIN, flush. */
static void
peer_pump(struct peer *p)
{
	static uint8_t scratch[1 << 16];
	ssize_t n;

	if ((p->hs = tls_stream_handshake(p->s)) != 0)
		return;
	while (!p->paused && p->rd == 1) {
		uint8_t *dst = p->bulk_mode ? scratch : p->in + p->in_len;
		size_t room = p->bulk_mode ? sizeof(scratch) :
		    sizeof(p->in) - p->in_len;
		if ((n = tls_stream_read(p->s, dst, room)) == -EAGAIN)
			break;
		if (n <= 0) {
			p->rd = (int)n;
			break;
		}
		if (p->bulk_mode)
			peer_bulk_check(p, dst, (size_t)n);
		else
			p->in_len += (size_t)n;
	}
	p->fl = tls_stream_flush(p->s);
}

static struct peer *
peer_add(const char *name, int fd, struct tls_stream *s)
{
	struct peer *p = calloc(1, sizeof(*p));
	int i;

	if (p == NULL)
		bail("out of memory");
	for (i = 0; i < MAX_PEERS && peers[i] != NULL; i++)
		;
	if (i == MAX_PEERS)
		bail("too many peers");
	p->name = name;
	p->fd = fd;
	p->s = s;
	p->hs = -EAGAIN;
	p->rd = 1;
	peers[i] = p;
	if (mio_registry_register_fd(mio_poll_registry(loop), fd, (mio_token)i,
	    MIO_READABLE | MIO_WRITABLE) != 0)
		bail("register %s", name);
	return p;
}

static void
peer_free(struct peer *p)
{
	for (int i = 0; i < MAX_PEERS; i++)
		if (peers[i] == p)
			peers[i] = NULL;
	mio_registry_deregister_fd(mio_poll_registry(loop), p->fd);
	tls_stream_free(p->s);
	close(p->fd);
	free(p);
}

/* One turn of the relay: everything from the client, some to the wire. */
static void
relay_turn(struct relay *r)
{
	uint8_t tmp[4096];
	ssize_t n;

	while (r->len < sizeof(r->buf) &&
	    (n = read(r->inner, r->buf + r->len, sizeof(r->buf) - r->len)) > 0)
		r->len += (size_t)n;
	size_t want = r->bytewise ? 1 : r->len;
	if (r->cut_after != 0 && r->forwarded + want > r->cut_after)
		want = r->cut_after - r->forwarded;
	if (want > r->len)
		want = r->len;
	if (want > 0 && (n = write(r->wire, r->buf, want)) > 0) {
		memmove(r->buf, r->buf + n, r->len - (size_t)n);
		r->len -= (size_t)n;
		r->forwarded += (size_t)n;
	}
	if (r->cut_after != 0 && r->forwarded == r->cut_after && !r->cut) {
		shutdown(r->wire, SHUT_WR);
		r->cut = true;
	}
	while ((n = read(r->wire, tmp, sizeof(tmp))) > 0)
		if (write(r->inner, tmp, (size_t)n) != n)
			bail("relay: short write to the client's socketpair");
}

/* Polls and pumps every peer until done() or DRIVE_MS pass. */
static bool
drive(bool (*done)(void))
{
	long long deadline = now_ms() + DRIVE_MS;

	while (!done()) {
		if (now_ms() > deadline)
			return false;
		struct timespec t = ms_timeout(relay && relay->len ? 1 : 100);
		if (mio_poll_poll(loop, events, &t) < 0)
			continue;
		MIO_EVENTS_FOREACH(ev, events) {
			mio_token token = mio_event_token(ev);
			struct peer *p = token < MAX_PEERS ? peers[token] : NULL;
			if (p == NULL)
				continue;
			p->wakeups++;
			tls_stream_ready(p->s, tls_event_interest(ev));
			peer_pump(p);
		}
		if (relay != NULL)
			relay_turn(relay);
	}
	return true;
}

/* The condition of a drive(): set before calling it. */
static struct peer *cond_a, *cond_b;
static size_t cond_len;

static bool
both_handshaken(void)
{
	return cond_a->hs != -EAGAIN && cond_b->hs != -EAGAIN;
}

static bool
a_has_len(void)
{
	return cond_a->in_len >= cond_len || cond_a->rd != 1;
}

static bool
a_read_ended(void)
{
	return cond_a->rd != 1;
}

static bool
a_bulk_done(void)
{
	return cond_a->bulk >= cond_len || cond_a->rd != 1;
}

static bool
a_failed(void)
{
	return cond_a->hs != -EAGAIN && cond_a->hs != 0;
}

/* ---- connections ----------------------------------------------------------- */

static int
accept_fd(void)
{
	return tcp_accept_wait(listen_fd);
}

static struct peer *
server_peer(struct tls_ctx *ctx)
{
	struct tls_stream *s;
	int fd = accept_fd();

	if (tls_stream_server_new(&s, ctx, fd) != 0)
		bail("tls_stream_server_new");
	return peer_add("server", fd, s);
}

static struct peer *
client_peer(const char *name, struct tls_ctx *ctx,
    struct tls_session_slot *slot)
{
	struct tls_stream *s;
	int fd = tcp_connect_nb(&listen_addr, listen_len);
	int rc = tls_stream_client_new(&s, ctx, fd, name, slot);

	if (rc != 0)
		bail("tls_stream_client_new: %s", mio_strerror(rc));
	return peer_add("client", fd, s);
}

/* A client connected, then a server for it, driven until both finish. */
static void
handshake_pair(struct tls_ctx *sctx, const char *name,
    struct tls_session_slot *slot, struct peer **c, struct peer **s)
{
	*c = client_peer(name, client_ctx, slot);
	*s = server_peer(sctx);
	cond_a = *c;
	cond_b = *s;
	drive(both_handshaken);
}

/* Whether what waits on fd is exactly one whole TLS record. */
static bool
one_record_waiting(int fd)
{
	uint8_t buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK);

	return n >= 5 && (size_t)n == 5 + (size_t)(buf[3] << 8 | buf[4]);
}

/* A DNS-style message, two length bytes and the body, in one record. */
static void
send_framed(struct peer *p, const char *body)
{
	size_t len = strlen(body);
	uint8_t msg[2 + 256] = {(uint8_t)(len >> 8), (uint8_t)len};

	if (len > 256)
		bail("send_framed: message too long");
	memcpy(msg + 2, body, len);
	if (tls_stream_send(p->s, msg, 2 + len) != 0)
		bail("tls_stream_send");
}

static void
close_pair(struct peer *a, struct peer *b)
{
	peer_free(a);
	peer_free(b);
}

/* ---- the tests ----------------------------------------------------------- */

static void
test_contexts(void)
{
	struct tls_ctx *ctx = NULL;
	struct tls_stream *s = NULL;
	char err[256] = "";
	int sp[2];

	is_errno(tls_ctx_server_new(&ctx, cert("missing.pem"),
	    cert("server.key"), err, sizeof(err)), -ENOENT,
	    "a missing certificate file is -ENOENT");
	ok(strstr(err, "missing.pem") != NULL, "the error names the file: %s",
	    err);
	is_errno(tls_ctx_server_new(&ctx, cert("server.pem"),
	    cert("wrong.key"), err, sizeof(err)), -EINVAL,
	    "a key that does not match the certificate is -EINVAL");
	ok(strstr(err, "wrong.key") != NULL, "the error names the key: %s",
	    err);
	is_errno(tls_ctx_server_new(&ctx, cert("ca.key"), cert("server.key"),
	    err, sizeof(err)), -EINVAL, "a key as certificate is -EINVAL");
	is_errno(tls_ctx_client_new(&ctx, cert("openssl.cnf"), err,
	    sizeof(err)), -EINVAL, "a CA file without certificates is -EINVAL");

	nb_socketpair(SOCK_STREAM, sp);
	is_errno(tls_stream_client_new(&s, client_ctx, sp[0], NULL, NULL),
	    -EINVAL, "a client stream without a name is refused (RFC 8310)");
	is_errno(tls_stream_client_new(&s, server_ctx, sp[0], "dot.test",
	    NULL), -EINVAL, "a client stream on a server context is refused");
	is_errno(tls_stream_server_new(&s, client_ctx, sp[0]), -EINVAL,
	    "a server stream on a client context is refused");
	close(sp[0]);
	close(sp[1]);
}

static void
test_handshake_and_pipeline(const char *version)
{
	struct peer *c, *s;
	struct tls_counters before, after;

	tls_ctx_counters(server_ctx, &before);
	handshake_pair(server_ctx, "dot.test", NULL, &c, &s);
	is_errno(c->hs, 0, "client handshake done on the shared poll");
	is_errno(s->hs, 0, "server handshake done on the shared poll");
	ok(tls_stream_alpn_dot(c->s) && tls_stream_alpn_dot(s->s),
	    "ALPN \"dot\" agreed on both sides");
	is_string(tls_stream_version(s->s), version, "the server speaks %s",
	    version);
	ok(!tls_stream_resumed(c->s), "a first connection is not resumed");
	tls_ctx_counters(server_ctx, &after);
	is_int(after.handshakes - before.handshakes, 1,
	    "the server context counted the handshake");

	/* Three queries in one flight; the answers come back reversed. */
	send_framed(c, "one");
	send_framed(c, "two");
	send_framed(c, "three");
	cond_a = s;
	cond_len = 5 + 5 + 7;
	drive(a_has_len);
	ok(s->in_len == cond_len && memcmp(s->in,
	    "\0\3one\0\3two\0\5three", cond_len) == 0,
	    "three pipelined messages arrived whole (%zu bytes)", s->in_len);
	/* Pieces queued and flushed together leave in one record. */
	is_errno(tls_stream_queue(s->s, "\0\4", 2), 0, "a prefix queued");
	is_errno(tls_stream_queue(s->s, "four", 4), 0, "a body queued");
	is_int(tls_stream_unsent(s->s), 6, "queued, not written");
	ok(!wait_fd_readable(c->fd, 50), "nothing reached the client yet");
	is_errno(tls_stream_flush(s->s), 0, "flushed");
	ok(wait_fd_readable(c->fd, 2000) && one_record_waiting(c->fd),
	    "as one TLS record");
	cond_a = c;
	cond_len = 6;
	drive(a_has_len);
	ok(c->in_len == 6 && memcmp(c->in, "\0\4four", 6) == 0,
	    "which holds both pieces (%zu bytes)", c->in_len);
	c->in_len = 0;
	send_framed(s, "answer three");
	send_framed(s, "answer two");
	send_framed(s, "answer one");
	cond_a = c;
	cond_len = 14 + 12 + 12;
	drive(a_has_len);
	ok(c->in_len == cond_len && memcmp(c->in + 2, "answer three", 12) == 0 &&
	    memcmp(c->in + 28, "answer one", 10) == 0,
	    "answers in another order than asked, all of them");
	is_int(tls_stream_unsent(s->s), 0, "nothing left unsent");

	/* close_notify: the server's read ends with 0, not an error. */
	is_errno(tls_stream_close_notify(c->s), 0, "client sends close_notify");
	cond_a = s;
	drive(a_read_ended);
	is_int(s->rd, 0, "the server reads the end of the stream as 0");
	close_pair(c, s);
}

/* Two records' worth of data read through a small buffer: the rest is in
 * OpenSSL, the socket is empty, and no edge will come for it. */
static void
test_buffered_plaintext(void)
{
	struct peer *c, *s;
	uint8_t small[8];
	ssize_t n;
	size_t got = 0;

	handshake_pair(server_ctx, "dot.test", NULL, &c, &s);
	s->paused = true;
	send_framed(c, "a message longer than the reader's buffer");
	ok(wait_fd_readable(s->fd, 2000), "the record reached the server");
	tls_stream_ready(s->s, MIO_READABLE);
	n = tls_stream_read(s->s, small, sizeof(small));
	is_int(n, (long long)sizeof(small), "a first read fills the buffer");
	got += n > 0 ? (size_t)n : 0;
	ok(!wait_fd_readable(s->fd, 0), "the socket itself is now empty");
	ok(tls_stream_readable(s->s), "but the stream says read again");
	while ((n = tls_stream_read(s->s, small, sizeof(small))) > 0)
		got += (size_t)n;
	is_errno(n, -EAGAIN, "reading on ends with -EAGAIN");
	is_int(got, 43, "every byte came out without another event");
	ok(!tls_stream_readable(s->s), "then the stream waits for an event");
	tls_stream_ready(s->s, MIO_WRITABLE);
	ok(!tls_stream_readable(s->s),
	    "a writable edge does not wake a read that waits for readable");
	tls_stream_ready(s->s, MIO_READABLE);
	ok(tls_stream_readable(s->s), "a readable edge does");
	close_pair(c, s);
}

/* The client's bytes reach the server one per turn of the loop. */
static void
test_bytewise(void)
{
	static struct relay r;
	struct tls_stream *cs;
	struct peer *c, *s;
	int sp[2], one = 1;

	nb_socketpair(SOCK_STREAM, sp);
	memset(&r, 0, sizeof(r));
	r.inner = sp[1];
	r.wire = tcp_connect_nb(&listen_addr, listen_len);
	r.bytewise = true;
	setsockopt(r.wire, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tls_stream_client_new(&cs, client_ctx, sp[0], "dot.test", NULL))
		bail("client on a socketpair");
	c = peer_add("client", sp[0], cs);
	s = server_peer(server_ctx);
	relay = &r;
	send_framed(c, "split into single bytes");
	cond_a = s;
	cond_len = 25;
	drive(a_has_len);
	is_errno(s->hs, 0, "a handshake fed one byte at a time completes");
	ok(s->in_len == 25 && memcmp(s->in + 2, "split into single bytes",
	    23) == 0, "and so does a record split byte by byte");
	diag("%zu bytes relayed one by one, %u server wakeups",
	    r.forwarded, s->wakeups);
	ok(s->wakeups >= r.forwarded / 2,
	    "the server did see the bytes arrive separately");
	relay = NULL;
	close_pair(c, s);
	close(r.inner);
	close(r.wire);
}

/* A record cut short and the connection closed: -ECONNRESET. */
static void
test_cut_record(void)
{
	static struct relay r;
	struct tls_stream *cs;
	struct peer *c, *s;
	int sp[2];

	nb_socketpair(SOCK_STREAM, sp);
	memset(&r, 0, sizeof(r));
	r.inner = sp[1];
	r.wire = tcp_connect_nb(&listen_addr, listen_len);
	if (tls_stream_client_new(&cs, client_ctx, sp[0], "dot.test", NULL))
		bail("client on a socketpair");
	c = peer_add("client", sp[0], cs);
	s = server_peer(server_ctx);
	relay = &r;
	cond_a = c;
	cond_b = s;
	drive(both_handshaken);
	is_errno(s->hs, 0, "handshake through the relay");
	r.cut_after = r.forwarded + 10;
	send_framed(c, "this record will be cut after ten bytes");
	cond_a = s;
	drive(a_read_ended);
	is_errno(s->rd, -ECONNRESET, "a record cut by EOF is -ECONNRESET");
	ok(strstr(tls_stream_error(s->s), "close_notify") != NULL,
	    "and says so: %s", tls_stream_error(s->s));
	relay = NULL;
	close_pair(c, s);
	close(r.inner);
	close(r.wire);
}

/* More than the socket buffers take, sent while the server does not
 * read; more queued while a write is pending (the queue moves). */
static void
test_bulk(void)
{
	const size_t chunk = 256 * 1024, total = 16 * chunk;
	uint8_t *data = malloc(total);
	struct peer *c, *s;

	if (data == NULL)
		bail("out of memory");
	for (size_t i = 0; i < total; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 12));
	handshake_pair(server_ctx, "dot.test", NULL, &c, &s);
	s->paused = true;
	s->bulk_mode = true;
	is_errno(tls_stream_send(c->s, data, chunk), 0, "a first chunk queued");
	for (size_t off = chunk; off < total; off += chunk)
		if (tls_stream_send(c->s, data + off, chunk) != 0)
			bail("tls_stream_send");
	ok(tls_stream_unsent(c->s) > 0,
	    "the socket took part of %zu bytes: %zu left", total,
	    tls_stream_unsent(c->s));
	is_errno(tls_stream_flush(c->s), -EAGAIN,
	    "a flush without an event does not retry (no busy loop)");
	s->paused = false;
	peer_pump(s);
	cond_a = s;
	cond_len = total;
	drive(a_bulk_done);
	is_int(s->bulk, total, "every byte arrived");
	ok(!s->bulk_bad, "in order and unchanged");
	is_int(tls_stream_unsent(c->s), 0, "the client's queue drained");
	free(data);
	close_pair(c, s);
}

/* Plaintext bytes in the whole TLS 1.3 records of buf (a record's body
 * is its plaintext, one byte of content type and a 16-byte tag). */
static size_t
whole_records_plaintext(const uint8_t *buf, size_t len)
{
	size_t off = 0, plain = 0;

	while (len - off >= 5) {
		size_t body = (size_t)(buf[off + 3] << 8 | buf[off + 4]);
		if (len - off < 5 + body)
			break;
		plain += body - 17;
		off += 5 + body;
	}
	return plain;
}

/*
 * A queue that never empties: the client keeps adding 8 KiB while the
 * test takes about as much out of the socketpair, 16 MiB in all, with
 * some always left unsent. The queue is compacted once more than half is
 * consumed, so its memory stays near the unsent bytes instead of growing
 * with everything ever sent through it.
 */
static void
test_queue_compacted(struct peer *c, int inner, const uint8_t *data)
{
	static uint8_t sink[1 << 16];
	size_t most = 0;

	for (int round = 0; round < 2048; round++) {
		if (tls_stream_queue(c->s, data, 8192) != 0)
			bail("tls_stream_queue");
		/* About one record: 8 KiB and 22 bytes of framing. */
		(void)read(inner, sink, 8192 + 22);
		tls_stream_ready(c->s, MIO_WRITABLE);
		(void)tls_stream_flush(c->s);
		if (tls_stream_queue_size(c->s) > most)
			most = tls_stream_queue_size(c->s);
	}
	diag("16 MiB through a queue never empty: %zu unsent, at most %zu "
	    "bytes of queue", tls_stream_unsent(c->s), most);
	ok(tls_stream_unsent(c->s) > 0, "the queue never emptied");
	ok(most <= 4 * (1 << 20), "its memory stayed bounded (%zu bytes)",
	    most);
}

/*
 * Unsent bytes are exactly those not yet handed whole to the kernel. The
 * client writes 1 MiB into a socketpair that the test empties a few
 * kilobytes at a time, flushing after each: the whole records that came
 * out must hold exactly what the client no longer counts as unsent. A
 * retried SSL_write() that sends the record it held and then blocks on
 * the next returns -1: counting only its returns would hide that record.
 */
static void
test_unsent_exact(void)
{
	static struct relay r;
	static uint8_t raw[2 << 20];
	const size_t total = 1 << 20;
	uint8_t *data = calloc(1, total);
	struct tls_stream *cs;
	struct peer *c, *s;
	size_t got = 0, plain;
	int sp[2];
	ssize_t n;

	if (data == NULL)
		bail("out of memory");
	nb_socketpair(SOCK_STREAM, sp);
	memset(&r, 0, sizeof(r));
	r.inner = sp[1];
	r.wire = tcp_connect_nb(&listen_addr, listen_len);
	if (tls_stream_client_new(&cs, client_ctx, sp[0], "dot.test", NULL))
		bail("client on a socketpair");
	c = peer_add("client", sp[0], cs);
	s = server_peer(server_ctx);
	relay = &r;
	cond_a = c;
	cond_b = s;
	drive(both_handshaken);
	relay = NULL;
	/* From here on the test is the client's only reader. */
	if (tls_stream_send(c->s, data, total) != 0)
		bail("tls_stream_send");
	for (int round = 0; round < 60 && got < sizeof(raw); round++) {
		size_t want = 3000 + (size_t)round * 977 % 9000;
		if (want > sizeof(raw) - got)
			want = sizeof(raw) - got;
		if ((n = read(sp[1], raw + got, want)) > 0)
			got += (size_t)n;
		tls_stream_ready(c->s, MIO_WRITABLE);
		(void)tls_stream_flush(c->s);
	}
	while (got < sizeof(raw) &&
	    (n = read(sp[1], raw + got, sizeof(raw) - got)) > 0)
		got += (size_t)n;
	plain = whole_records_plaintext(raw, got);
	diag("%zu bytes out of the socketpair, %zu of them in whole records",
	    got, plain);
	ok(plain > 256 * 1024, "the client made progress (%zu bytes)", plain);
	is_int(plain, total - tls_stream_unsent(c->s),
	    "unsent TLS bytes: exactly those not yet in the kernel");
	test_queue_compacted(c, sp[1], data);
	peer_free(c);
	peer_free(s);
	close(r.inner);
	close(r.wire);
	free(data);
}

/* Resumption, in TLS 1.3 by default or in TLS 1.2 (tickets both). */
static void
test_resumption(const char *version)
{
	struct tls_session_slot slot = {NULL};
	struct tls_counters before, after;
	struct peer *c, *s;

	tls_ctx_counters(server_ctx, &before);
	handshake_pair(server_ctx, "dot.test", &slot, &c, &s);
	is_string(tls_stream_version(c->s), version, "%s handshake", version);
	send_framed(s, "hello");	/* the client reads the tickets too */
	cond_a = c;
	cond_len = 7;
	drive(a_has_len);
	ok(slot.session != NULL, "the first connection left a session");
	ok(!tls_stream_resumed(c->s), "the first connection is a full one");
	close_pair(c, s);

	handshake_pair(server_ctx, "dot.test", &slot, &c, &s);
	is_errno(c->hs, 0, "the second handshake completes");
	ok(tls_stream_resumed(c->s), "the client resumed");
	ok(tls_stream_resumed(s->s), "the server resumed");
	tls_ctx_counters(server_ctx, &after);
	is_int(after.resumptions - before.resumptions, 1,
	    "one resumption counted");
	is_int(after.handshakes - before.handshakes, 2,
	    "two handshakes counted");
	close_pair(c, s);
	tls_session_slot_clear(&slot);
}

/* A certificate the client must refuse: the client fails closed. */
static void
refused(struct tls_ctx *sctx, struct tls_ctx *cctx, const char *name,
    const char *why, const char *what)
{
	struct tls_counters before, after;
	struct peer *c, *s;

	tls_ctx_counters(cctx, &before);
	c = client_peer(name, cctx, NULL);
	s = server_peer(sctx);
	send_framed(c, "never sent");
	cond_a = c;
	drive(a_failed);
	is_errno(c->hs, -EPERM, "%s: the client refuses", what);
	ok(strstr(tls_stream_error(c->s), why) != NULL, "%s: because '%s'",
	    what, tls_stream_error(c->s));
	cond_a = s;
	drive(a_failed);
	ok(s->hs < 0 && s->in_len == 0, "%s: the server fails too (%s)",
	    what, tls_stream_error(s->s));
	is_errno(tls_stream_flush(c->s), -EPERM,
	    "%s: the stream stays failed", what);
	tls_ctx_counters(cctx, &after);
	is_int(after.failures - before.failures, 1, "%s: failure counted",
	    what);
	close_pair(c, s);
}

static void
test_refused(void)
{
	struct tls_ctx *wrong, *expired, *system_store;
	char err[256];

	if (tls_ctx_server_new(&wrong, cert("wrong.pem"), cert("wrong.key"),
	    err, sizeof(err)) != 0)
		bail("%s", err);
	refused(wrong, client_ctx, "dot.test", "mismatch", "wrong name");
	refused(server_ctx, client_ctx, "127.0.0.2", "mismatch",
	    "wrong IP address");
	tls_ctx_free(wrong);

	if (tls_ctx_client_new(&system_store, NULL, err, sizeof(err)) != 0)
		bail("%s", err);
	refused(server_ctx, system_store, "dot.test", "local issuer",
	    "a CA the system does not know");
	tls_ctx_free(system_store);

	if (access(cert("expired.pem"), R_OK) != 0) {
		skip(5, "this openssl made no expired certificate");
		return;
	}
	if (tls_ctx_server_new(&expired, cert("expired.pem"),
	    cert("expired.key"), err, sizeof(err)) != 0)
		bail("%s", err);
	refused(expired, client_ctx, "dot.test", "expired", "expired");
	tls_ctx_free(expired);
}

static void
test_ip_name(void)
{
	struct peer *c, *s;

	handshake_pair(server_ctx, "127.0.0.1", NULL, &c, &s);
	is_errno(c->hs, 0, "an IP address name matches the certificate's IP");
	close_pair(c, s);
}

/* A raw client that stalls inside its ClientHello, and one that sends
 * garbage, while a real client is served on the same poll. */
static void
test_stalled_and_garbage(void)
{
	struct tls_counters before, after;
	struct peer *stall, *junk, *c, *s;
	int stall_fd = tcp_connect_nb(&listen_addr, listen_len);
	int junk_fd;
	static const char hello_start[] = "\x16\x03\x01\x01\x00\x01\x00";
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	stall = server_peer(server_ctx);
	if (write(stall_fd, hello_start, sizeof(hello_start) - 1) < 0)
		sysbail("write");
	junk_fd = tcp_connect_nb(&listen_addr, listen_len);
	junk = server_peer(server_ctx);
	if (write(junk_fd, http, sizeof(http) - 1) < 0)
		sysbail("write");
	tls_ctx_counters(server_ctx, &before);

	handshake_pair(server_ctx, "dot.test", NULL, &c, &s);
	is_errno(s->hs, 0, "a client is served while another stalls");
	is_errno(stall->hs, -EAGAIN, "the stalled handshake still waits");
	cond_a = junk;
	drive(a_failed);
	is_errno(junk->hs, -EPROTO, "garbage instead of a ClientHello: -EPROTO");
	tls_ctx_counters(server_ctx, &after);
	is_int(after.failures - before.failures, 1, "one failure counted");

	/* The stalled one finally disconnects mid-handshake. */
	close(stall_fd);
	cond_a = stall;
	drive(a_failed);
	is_errno(stall->hs, -ECONNRESET, "EOF inside the handshake: -ECONNRESET");
	close_pair(c, s);
	peer_free(stall);
	peer_free(junk);
	close(junk_fd);
}

int
main(int argc, char **argv)
{
	char err[256];

	if (argc != 2)
		skip_all("run by t/tls.sh, which makes the certificates");
	certs = argv[1];
	signal(SIGPIPE, SIG_IGN);	/* OpenSSL writes with write(2) */
	plan_lazy();
	init_with_poll(&loop, &events);
	if ((listen_fd = tcp_listen_loopback(AF_INET, &listen_addr,
	    &listen_len)) < 0)
		bail("no loopback listener");
	if (tls_ctx_server_new(&server_ctx, cert("server.pem"),
	    cert("server.key"), err, sizeof(err)) != 0 ||
	    tls_ctx_client_new(&client_ctx, cert("ca.pem"), err,
	    sizeof(err)) != 0)
		bail("%s", err);

	test_contexts();
	test_handshake_and_pipeline("TLSv1.3");
	test_buffered_plaintext();
	test_bytewise();
	test_cut_record();
	test_bulk();
	test_unsent_exact();
	test_resumption("TLSv1.3");
	tls_ctx_free(client_ctx);
	if (tls_ctx_client_new(&client_ctx, cert("ca.pem"), err,
	    sizeof(err)) != 0)
		bail("%s", err);
	tls_ctx_max_tls12(client_ctx);
	test_resumption("TLSv1.2");
	test_handshake_and_pipeline("TLSv1.2");
	tls_ctx_free(client_ctx);
	if (tls_ctx_client_new(&client_ctx, cert("ca.pem"), err,
	    sizeof(err)) != 0)
		bail("%s", err);
	test_ip_name();
	test_refused();
	test_stalled_and_garbage();

	tls_ctx_free(server_ctx);
	tls_ctx_free(client_ctx);
	close(listen_fd);
	mio_events_free(events);
	free_poll(loop);
	return tap_failures() == 0 ? 0 : 1;
}
