/*
 * t/tcp.c - TCP listeners and streams working together: accepting,
 * connecting, 16 MiB transfers that drain until EAGAIN, closes, resets,
 * connection errors, and silence after deregistering. Ported in spirit from
 * mio's tests/tcp.rs and the TCP parts of tests/regressions.rs.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "netutil.h"

#define LISTENER ((mio_token)1)

/*
 * libkqueue, which emulates kqueue on Linux, fills an EV_EOF event's
 * fflags with getsockopt(SO_ERROR), and that read clears the error; a
 * native kqueue and epoll leave it for the program. mio's tests run on
 * native kqueues only.
 */
static bool
libkqueue_eats_so_error(void)
{
	return is_kqueue() && is_linux();
}
#define CLIENT ((mio_token)2)
#define SERVER ((mio_token)3)

/* mio's accept: a connection is a readable listener, then data flows. */
static void
accept_and_read(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;
	mio_tcp_stream *client, *server;
	char buf[16];

	init_with_poll(&poll, &events);
	const mio_registry *reg = mio_poll_registry(poll);
	mio_tcp_listener *listener = tcp_listener_loopback(AF_INET, &addr,
	    &len);
	must(mio_registry_register(reg, mio_tcp_listener_source(listener),
		 LISTENER, MIO_READABLE),
	    "register listener");
	must(mio_tcp_stream_connect((struct sockaddr *)&addr, len, &client),
	    "connect");
	must(mio_registry_register(reg, mio_tcp_stream_source(client), CLIENT,
		 MIO_READABLE),
	    "register client");
	expect_events(poll, events, { LISTENER, R_READABLE });
	is_errno(mio_tcp_listener_accept(listener, &server, NULL, NULL), 0,
	    "accept after the readable event");
	is_int(mio_tcp_stream_write(server, "hello", 5), 5, "server writes");
	expect_events(poll, events, { CLIENT, R_READABLE });
	is_int(mio_tcp_stream_read(client, buf, sizeof(buf)), 5,
	    "client reads 5 bytes");
	ok(memcmp(buf, "hello", 5) == 0, "which say hello");
	mio_tcp_stream_free(server);
	mio_tcp_stream_free(client);
	mio_tcp_listener_free(listener);
	mio_events_free(events);
	free_poll(poll);
}

/*
 * mio's connect and mio issue 776: the connect completes as a writable
 * event, a read right then would block, and data is a later readable one.
 * mio's connect protocol: writable, then take_error, then peer_addr.
 */
static void
connect_writable_then_readable(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr, peer;
	socklen_t len, peerlen = sizeof(peer);
	mio_tcp_stream *client;
	char buf[16];

	init_with_poll(&poll, &events);
	mio_tcp_listener *listener = tcp_listener_loopback(AF_INET, &addr,
	    &len);
	must(mio_tcp_stream_connect((struct sockaddr *)&addr, len, &client),
	    "connect");
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_tcp_stream_source(client), CLIENT,
		 MIO_READABLE | MIO_WRITABLE),
	    "register");
	expect_events(poll, events, { CLIENT, R_WRITABLE });
	is_errno(mio_tcp_stream_take_error(client), 0,
	    "connect protocol: take_error reports no error");
	is_errno(mio_tcp_stream_peer_addr(client, (struct sockaddr *)&peer,
		     &peerlen),
	    0, "connect protocol: peer_addr says connected");
	is_errno(mio_tcp_stream_read(client, buf, sizeof(buf)), -EAGAIN,
	    "a read right after the connect event would block (mio #776)");
	mio_tcp_stream *server = tcp_accept_one(listener);
	is_int(mio_tcp_stream_write(server, "x", 1), 1, "server writes");
	expect_events(poll, events, { CLIENT, R_READABLE });
	mio_tcp_stream_free(server);
	mio_tcp_stream_free(client);
	mio_tcp_listener_free(listener);
	mio_events_free(events);
	free_poll(poll);
}

#define TRANSFER_SIZE ((size_t)16 << 20)

struct transfer {
	mio_tcp_stream *writer;
	mio_tcp_stream *reader;
	bool peek;
	size_t sent;
	size_t received;
	bool writer_blocked;
	bool reader_blocked;
	bool corrupt;
	bool peek_mismatch;
	bool eof;
	int error;
};

/* Writes until EAGAIN (or the end, then SHUT_WR): the draining rule. */
static void
transfer_write(struct transfer *t)
{
	static unsigned char chunk[65536];

	while (t->sent < TRANSFER_SIZE) {
		size_t n = TRANSFER_SIZE - t->sent;
		if (n > sizeof(chunk))
			n = sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = pattern_byte(t->sent + i);
		ssize_t rc = mio_tcp_stream_write(t->writer, chunk, n);
		if (rc == -EAGAIN) {
			t->writer_blocked = true;
			return;
		}
		if (rc < 0) {
			t->error = (int)rc;
			return;
		}
		t->sent += (size_t)rc;
	}
	mio_tcp_stream_shutdown(t->writer, SHUT_WR);
}

/* Checks n received bytes against the pattern at offset t->received. */
static void
transfer_check(struct transfer *t, const unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != pattern_byte(t->received + i)) {
			t->corrupt = true;
			return;
		}
	}
}

/* Reads until EAGAIN or end of stream, peeking first when asked to. */
static void
transfer_read(struct transfer *t)
{
	static unsigned char buf[65536], peeked[512];

	for (;;) {
		ssize_t p = t->peek ? mio_tcp_stream_peek(t->reader, peeked,
					  sizeof(peeked))
				    : 0;
		ssize_t n = mio_tcp_stream_read(t->reader, buf, sizeof(buf));
		if (n == -EAGAIN) {
			t->reader_blocked = true;
			return;
		}
		if (n <= 0) {
			t->eof = n == 0;
			t->error = (int)n;
			return;
		}
		size_t common = (size_t)(p < n ? p : n);
		if (p > 0 && memcmp(peeked, buf, common) != 0)
			t->peek_mismatch = true;
		transfer_check(t, buf, (size_t)n);
		t->received += (size_t)n;
	}
}

static void
transfer_run(mio_poll *poll, mio_events *events, struct transfer *t)
{
	while (!t->eof && t->error == 0 && !t->corrupt) {
		struct timespec timeout = ms_timeout(5000);
		int n = mio_poll_poll(poll, events, &timeout);
		if (n == -EINTR)
			continue;
		if (n <= 0) {
			t->error = n < 0 ? n : -ETIMEDOUT;
			return;
		}
		MIO_EVENTS_FOREACH(ev, events) {
			if (mio_event_token(ev) == CLIENT &&
			    mio_event_is_writable(ev))
				transfer_write(t);
			if (mio_event_token(ev) == SERVER &&
			    mio_event_is_readable(ev))
				transfer_read(t);
		}
	}
}

/*
 * mio's read, write and peek tests in one: 16 MiB through loopback, the
 * writer writing and the reader reading until EAGAIN after every event.
 * Both sides must block at least once, so the re-arm after EAGAIN is what
 * keeps the transfer going.
 */
static void
transfer_16mib(int family, bool peek, const char *name)
{
	mio_poll *poll;
	mio_events *events;
	struct transfer t = { .peek = peek };

	init_with_poll(&poll, &events);
	tcp_stream_pair(family, &t.writer, &t.reader);
	const mio_registry *reg = mio_poll_registry(poll);
	must(mio_registry_register(reg, mio_tcp_stream_source(t.writer), CLIENT,
		 MIO_WRITABLE),
	    "register writer");
	must(mio_registry_register(reg, mio_tcp_stream_source(t.reader), SERVER,
		 MIO_READABLE),
	    "register reader");
	transfer_run(poll, events, &t);
	is_errno(t.error, 0, "%s: the transfer ends without error", name);
	ok(t.received == TRANSFER_SIZE && t.eof,
	    "%s: all 16 MiB arrive, then end of stream (%zu bytes)", name,
	    t.received);
	ok(!t.corrupt, "%s: every byte is right", name);
	ok(t.writer_blocked && t.reader_blocked,
	    "%s: writer and reader both drained to EAGAIN and were woken "
	    "again",
	    name);
	if (peek)
		ok(!t.peek_mismatch, "%s: each peek saw what the read got",
		    name);
	mio_tcp_stream_free(t.writer);
	mio_tcp_stream_free(t.reader);
	mio_events_free(events);
	free_poll(poll);
}

/* mio's multiple_writes_immediate_success: small writes do not block. */
static void
multiple_writes(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_tcp_stream *client, *server;
	char buf[1024];
	bool all_full = true;
	size_t got = 0;

	init_with_poll(&poll, &events);
	tcp_stream_pair(AF_INET, &client, &server);
	memset(buf, 'w', sizeof(buf));
	for (int i = 0; i < 16; i++)
		all_full &= mio_tcp_stream_write(client, buf, sizeof(buf)) ==
		    (ssize_t)sizeof(buf);
	ok(all_full, "16 writes of 1 KiB succeed in full at once");
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_tcp_stream_source(server), SERVER, MIO_READABLE),
	    "register");
	for (int round = 0; round < 20 && got < 16 * sizeof(buf); round++) {
		expect_events(poll, events, { SERVER, R_READABLE });
		ssize_t n;
		while ((n = mio_tcp_stream_read(server, buf, sizeof(buf))) > 0)
			got += (size_t)n;
	}
	is_int((long long)got, 16 * 1024, "the peer reads all 16 KiB");
	mio_tcp_stream_free(client);
	mio_tcp_stream_free(server);
	mio_events_free(events);
	free_poll(poll);
}

/* mio's connect_then_close: the accepted stream is closed at once. */
static void
connect_then_close(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_tcp_stream *client, *server;
	char buf[8];

	init_with_poll(&poll, &events);
	tcp_stream_pair(AF_INET, &client, &server);
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_tcp_stream_source(client), CLIENT, MIO_READABLE),
	    "register");
	mio_tcp_stream_free(server);
	expect_events(poll, events, { CLIENT, R_READABLE | R_READ_CLOSED });
	is_int(mio_tcp_stream_read(client, buf, sizeof(buf)), 0,
	    "the peer's close reads as end of stream");
	mio_tcp_stream_free(client);
	mio_events_free(events);
	free_poll(poll);
}

/* mio's listen_then_close: a freed listener reports nothing. */
static void
listen_then_close(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;
	struct timespec t = ms_timeout(100);

	init_with_poll(&poll, &events);
	mio_tcp_listener *listener = tcp_listener_loopback(AF_INET, &addr,
	    &len);
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_tcp_listener_source(listener), LISTENER,
		 MIO_READABLE | MIO_WRITABLE),
	    "register");
	mio_tcp_listener_free(listener);
	ok(mio_poll_poll(poll, events, &t) >= 0,
	    "polling after freeing a registered listener works");
	ok(no_event_with_token(events, LISTENER), "and reports nothing for it");
	mio_events_free(events);
	free_poll(poll);
}

/* mio's connection_reset_by_peer: SO_LINGER 0 closes with RST. */
static void
reset_by_peer(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_tcp_stream *client, *server;
	char buf[8];

	init_with_poll(&poll, &events);
	tcp_stream_pair(AF_INET, &client, &server);
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_tcp_stream_source(client), CLIENT, MIO_READABLE),
	    "register");
	set_linger_zero(mio_tcp_stream_fd(server));
	mio_tcp_stream_free(server);
	expect_events(poll, events, { CLIENT, R_READABLE });
	ssize_t n = mio_tcp_stream_read(client, buf, sizeof(buf));
	if (libkqueue_eats_so_error())
		ok(n == -ECONNRESET || n == 0,
		    "reading after the peer's RST is -ECONNRESET, or 0 once "
		    "libkqueue consumed SO_ERROR for the event (%zd)",
		    n);
	else
		is_errno(n, -ECONNRESET,
		    "reading after the peer's RST is -ECONNRESET");
	is_errno(mio_tcp_stream_write(client, "x", 1), -EPIPE,
	    "and writing is -EPIPE, without SIGPIPE");
	mio_tcp_stream_free(client);
	mio_events_free(events);
	free_poll(poll);
}

/* mio's connect_error: a refused connect is writable and write-closed. */
static void
connect_error(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;
	mio_tcp_stream *client;

	closed_port(AF_INET, SOCK_STREAM, &addr, &len);
	int rc = mio_tcp_stream_connect((struct sockaddr *)&addr, len, &client);
	if (rc == -ECONNREFUSED) {
		skip(2, "the connect was refused synchronously");
		return;
	}
	must(rc, "connect");
	init_with_poll(&poll, &events);
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_tcp_stream_source(client), CLIENT, MIO_WRITABLE),
	    "register");
	expect_events(poll, events, { CLIENT, R_WRITE_CLOSED });
	bool hinted = false;
	MIO_EVENTS_FOREACH(ev, events)
		hinted |= mio_event_token(ev) == CLIENT &&
		    mio_event_is_error(ev);
	int err = mio_tcp_stream_take_error(client);
	if (libkqueue_eats_so_error())
		ok(err == -ECONNREFUSED || (err == 0 && hinted),
		    "take_error reports the refusal, or libkqueue consumed "
		    "it and the event carried the error hint (%s)",
		    mio_strerror(err));
	else
		is_errno(err, -ECONNREFUSED, "take_error reports the refusal");
	mio_tcp_stream_free(client);
	mio_events_free(events);
	free_poll(poll);
}

/* mio's write_error: writing to a closed peer fails, never with SIGPIPE. */
static void
write_error(void)
{
	mio_tcp_stream *client, *server;
	char buf[4096];
	ssize_t rc = 0;

	tcp_stream_pair(AF_INET, &client, &server);
	mio_tcp_stream_free(server);
	memset(buf, 'e', sizeof(buf));
	/* The first writes may still succeed: the RST comes back for them. */
	for (int i = 0; i < 100; i++) {
		rc = mio_tcp_stream_write(client, buf, sizeof(buf));
		if (rc < 0 && rc != -EAGAIN)
			break;
		wait_fd_readable(mio_tcp_stream_fd(client), 20);
	}
	ok(rc == -EPIPE || rc == -ECONNRESET,
	    "writing to a closed peer fails with -EPIPE or -ECONNRESET (%s)",
	    mio_strerror((int)rc));
	mio_tcp_stream_free(client);
}

/* mio's write_then_drop and write_then_deregister. */
static void
write_then_drop(bool deregister_first)
{
	mio_poll *poll;
	mio_events *events;
	mio_tcp_stream *client, *server;
	char buf[16];
	const char *how = deregister_first ? "deregistered" : "freed";

	init_with_poll(&poll, &events);
	tcp_stream_pair(AF_INET, &client, &server);
	const mio_registry *reg = mio_poll_registry(poll);
	must(mio_registry_register(reg, mio_tcp_stream_source(client), CLIENT,
		 MIO_WRITABLE),
	    "register client");
	must(mio_registry_register(reg, mio_tcp_stream_source(server), SERVER,
		 MIO_READABLE),
	    "register server");
	expect_events(poll, events, { CLIENT, R_WRITABLE });
	is_int(mio_tcp_stream_write(client, "1234", 4), 4, "client writes");
	if (deregister_first)
		must(mio_registry_deregister(reg,
			 mio_tcp_stream_source(client)),
		    "deregister");
	mio_tcp_stream_free(client);
	expect_events(poll, events, { SERVER, R_READABLE });
	is_int(mio_tcp_stream_read(server, buf, sizeof(buf)), 4,
	    "the data written before the client was %s arrives", how);
	is_int(mio_tcp_stream_read(server, buf, sizeof(buf)), 0,
	    "followed by end of stream");
	mio_tcp_stream_free(server);
	mio_events_free(events);
	free_poll(poll);
}

/* mio's local_addr_ready: both ends agree on the addresses. */
static void
local_addr_ready(void)
{
	mio_tcp_stream *client, *server;
	struct sockaddr_storage a, b;
	socklen_t alen = sizeof(a), blen = sizeof(b);

	tcp_stream_pair(AF_INET, &client, &server);
	must(mio_tcp_stream_local_addr(client, (struct sockaddr *)&a, &alen),
	    "local_addr");
	must(mio_tcp_stream_peer_addr(server, (struct sockaddr *)&b, &blen),
	    "peer_addr");
	ok(addr_equal(&a, &b), "the client's local address is the server's "
			       "peer address");
	alen = sizeof(a);
	blen = sizeof(b);
	must(mio_tcp_stream_peer_addr(client, (struct sockaddr *)&a, &alen),
	    "peer_addr");
	must(mio_tcp_stream_local_addr(server, (struct sockaddr *)&b, &blen),
	    "local_addr");
	ok(addr_equal(&a, &b), "and the other way round");
	mio_tcp_stream_free(client);
	mio_tcp_stream_free(server);
}

/* mio's tcp_no_events_after_deregister. */
static void
no_events_after_deregister(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;
	mio_tcp_stream *client, *server;
	char buf[16];

	init_with_poll(&poll, &events);
	const mio_registry *reg = mio_poll_registry(poll);
	mio_tcp_listener *listener = tcp_listener_loopback(AF_INET, &addr,
	    &len);
	must(mio_registry_register(reg, mio_tcp_listener_source(listener),
		 LISTENER, MIO_READABLE),
	    "register listener");
	must(mio_tcp_stream_connect((struct sockaddr *)&addr, len, &client),
	    "connect");
	must(mio_registry_register(reg, mio_tcp_stream_source(client), CLIENT,
		 MIO_READABLE | MIO_WRITABLE),
	    "register client");
	expect_events(poll, events, { LISTENER, R_READABLE },
	    { CLIENT, R_WRITABLE });
	must(mio_tcp_listener_accept(listener, &server, NULL, NULL), "accept");
	must(mio_registry_register(reg, mio_tcp_stream_source(server), SERVER,
		 MIO_READABLE),
	    "register server");
	is_errno(mio_registry_deregister(reg,
		     mio_tcp_listener_source(listener)),
	    0, "deregister the listener");
	is_errno(mio_registry_deregister(reg, mio_tcp_stream_source(client)),
	    0, "deregister the client");
	is_errno(mio_registry_deregister(reg, mio_tcp_stream_source(server)),
	    0, "deregister the accepted stream");
	mio_tcp_stream *other;
	must(mio_tcp_stream_connect((struct sockaddr *)&addr, len, &other),
	    "connect");
	is_int(mio_tcp_stream_write(client, "hello", 5), 5, "client writes");
	is_int(mio_tcp_stream_write(server, "world", 5), 5, "server writes");
	expect_no_events(poll, events);
	ok(wait_fd_readable(mio_tcp_stream_fd(server), 2000) &&
		mio_tcp_stream_read(server, buf, sizeof(buf)) == 5,
	    "the data still arrives; only the events stopped");
	is_int(mio_tcp_stream_write(client, "again", 5), 5,
	    "client writes again");
	expect_no_events(poll, events);
	mio_tcp_stream_free(other);
	mio_tcp_stream_free(server);
	mio_tcp_stream_free(client);
	mio_tcp_listener_free(listener);
	mio_events_free(events);
	free_poll(poll);
}

int
main(void)
{
	plan_lazy();
	diag("backend: %s", mio_backend());
	accept_and_read();
	connect_writable_then_readable();
	transfer_16mib(AF_INET, false, "IPv4");
	if (ipv6_available())
		transfer_16mib(AF_INET6, true, "IPv6 with peek");
	else
		skip(5, "IPv6: ::1 is not available");
	multiple_writes();
	connect_then_close();
	listen_then_close();
	reset_by_peer();
	connect_error();
	write_error();
	write_then_drop(false);
	write_then_drop(true);
	local_addr_ready();
	no_events_after_deregister();
	return 0;
}
