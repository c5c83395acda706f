/*
 * t/tcp_stream.c - mio_tcp_stream: reading, peeking and vectored I/O,
 * options, shutdown, and the read-closed/write-closed hints each kind of
 * close produces. Ported in spirit from mio's tests/tcp_stream.rs.
 *
 * Backend differences, as mio records them: a local shutdown(SHUT_WR)
 * reports write-closed on kqueue only (mio ignores that test on Linux), and
 * priority (TCP urgent data) exists on epoll only.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "netutil.h"

#define CLIENT ((mio_token)1)
#define SERVER ((mio_token)2)

static const char DATA1[] = "Hello world!";	/* 12 bytes */
static const char DATA2[] = "Hello mars!";	/* 11 bytes */
#define DATA1_LEN (sizeof(DATA1) - 1)
#define DATA2_LEN (sizeof(DATA2) - 1)

struct fixture {
	mio_poll *poll;
	mio_events *events;
	mio_tcp_stream *client;
	mio_tcp_stream *server;
};

/* A connected pair with the client registered for interest. */
static void
setup(struct fixture *f, int family, mio_interest interest)
{
	init_with_poll(&f->poll, &f->events);
	tcp_stream_pair(family, &f->client, &f->server);
	must(mio_registry_register(mio_poll_registry(f->poll),
		 mio_tcp_stream_source(f->client), CLIENT, interest),
	    "register client");
}

static void
teardown(struct fixture *f)
{
	mio_tcp_stream_free(f->client);
	mio_tcp_stream_free(f->server);
	mio_events_free(f->events);
	free_poll(f->poll);
}

/* mio's tcp_stream_ipv4/ipv6 smoke test. */
static void
smoke(int family, const char *name)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr, peer;
	socklen_t len, peerlen = sizeof(peer);
	mio_tcp_stream *client;
	char buf[32];

	init_with_poll(&poll, &events);
	mio_tcp_listener *listener = tcp_listener_loopback(family, &addr, &len);
	is_errno(mio_tcp_stream_connect((struct sockaddr *)&addr, len, &client),
	    0, "%s: connect", name);
	int fd = mio_tcp_stream_fd(client);
	ok(fd_is_nonblocking(fd) && fd_is_cloexec(fd),
	    "%s: the stream is non-blocking and close-on-exec", name);
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_tcp_stream_source(client), CLIENT,
		 MIO_READABLE | MIO_WRITABLE),
	    "register");
	expect_events(poll, events, { CLIENT, R_WRITABLE });
	mio_tcp_stream *server = tcp_accept_one(listener);
	is_errno(mio_tcp_stream_peek(client, buf, sizeof(buf)), -EAGAIN,
	    "%s: peek with nothing received would block", name);
	is_errno(mio_tcp_stream_read(client, buf, sizeof(buf)), -EAGAIN,
	    "%s: so would read", name);
	is_errno(mio_tcp_stream_peer_addr(client, (struct sockaddr *)&peer,
		     &peerlen),
	    0, "%s: peer_addr once connected", name);
	ok(addr_equal(&peer, &addr), "%s: is the listener's address", name);

	is_int(mio_tcp_stream_write(server, DATA1, DATA1_LEN), DATA1_LEN,
	    "%s: the server writes 12 bytes", name);
	expect_events(poll, events, { CLIENT, R_READABLE });
	is_int(mio_tcp_stream_peek(client, buf, sizeof(buf)), DATA1_LEN,
	    "%s: peek sees 12 bytes", name);
	ok(memcmp(buf, DATA1, DATA1_LEN) == 0, "%s: the right ones", name);
	memset(buf, 0, sizeof(buf));
	is_int(mio_tcp_stream_read(client, buf, sizeof(buf)), DATA1_LEN,
	    "%s: read gets the same 12 bytes", name);
	ok(memcmp(buf, DATA1, DATA1_LEN) == 0, "%s: unchanged by the peek",
	    name);
	is_errno(mio_tcp_stream_take_error(client), 0,
	    "%s: take_error: none pending", name);

	struct iovec out[2] = { { (void *)DATA1, DATA1_LEN },
		{ (void *)DATA2, DATA2_LEN } };
	is_int(mio_tcp_stream_writev(server, out, 2), DATA1_LEN + DATA2_LEN,
	    "%s: writev of two buffers sends 23 bytes", name);
	expect_events(poll, events, { CLIENT, R_READABLE });
	char b1[DATA1_LEN], b2[DATA1_LEN];
	memset(b2, '#', sizeof(b2));
	struct iovec in[2] = { { b1, sizeof(b1) }, { b2, sizeof(b2) } };
	is_int(mio_tcp_stream_readv(client, in, 2), DATA1_LEN + DATA2_LEN,
	    "%s: readv gets 23 bytes", name);
	ok(memcmp(b1, DATA1, DATA1_LEN) == 0 &&
		memcmp(b2, DATA2, DATA2_LEN) == 0,
	    "%s: spread over both buffers", name);
	ok(b2[DATA2_LEN] == '#', "%s: the byte after them is untouched", name);

	mio_tcp_stream_free(server);
	mio_tcp_stream_free(client);
	mio_tcp_listener_free(listener);
	mio_events_free(events);
	free_poll(poll);
}

static void
options(void)
{
	mio_tcp_stream *client, *server;
	uint32_t ttl = 0;
	bool nodelay = true;

	tcp_stream_pair(AF_INET, &client, &server);
	is_errno(mio_tcp_stream_set_ttl(client, 42), 0, "set_ttl 42");
	is_errno(mio_tcp_stream_ttl(client, &ttl), 0, "ttl");
	is_int(ttl, 42, "reads back 42");
	is_errno(mio_tcp_stream_nodelay(client, &nodelay), 0, "nodelay");
	ok(!nodelay, "Nagle is on by default");
	is_errno(mio_tcp_stream_set_nodelay(client, true), 0, "set_nodelay");
	is_errno(mio_tcp_stream_nodelay(client, &nodelay), 0, "nodelay");
	ok(nodelay, "and now it is off");
	is_errno(mio_tcp_stream_shutdown(client, 42), -EINVAL,
	    "shutdown with a bad how is -EINVAL");
	mio_tcp_stream_free(client);
	mio_tcp_stream_free(server);
	if (ipv6_available()) {
		tcp_stream_pair(AF_INET6, &client, &server);
		is_errno(mio_tcp_stream_set_ttl(client, 7), 0,
		    "IPv6: set_ttl sets the hop limit");
		is_errno(mio_tcp_stream_ttl(client, &ttl), 0, "IPv6: ttl");
		is_int(ttl, 7, "IPv6: reads back 7");
		mio_tcp_stream_free(client);
		mio_tcp_stream_free(server);
	} else {
		skip(3, "IPv6: ::1 is not available");
	}
}

/* mio's shutdown_read/shutdown_write/shutdown_both. */
static void
shutdown_directions(void)
{
	mio_tcp_stream *client, *server;
	char buf[8];

	tcp_stream_pair(AF_INET, &client, &server);
	is_errno(mio_tcp_stream_shutdown(client, SHUT_RD), 0, "SHUT_RD");
	is_int(mio_tcp_stream_read(client, buf, sizeof(buf)), 0,
	    "with nothing pending, a read after SHUT_RD is end of stream");
	is_errno(mio_tcp_stream_shutdown(client, SHUT_WR), 0, "SHUT_WR");
	is_errno(mio_tcp_stream_write(client, "x", 1), -EPIPE,
	    "a write after SHUT_WR is -EPIPE, not SIGPIPE");
	ok(wait_fd_readable(mio_tcp_stream_fd(server), 2000),
	    "the peer sees the FIN");
	is_int(mio_tcp_stream_read(server, buf, sizeof(buf)), 0,
	    "and reads end of stream");
	mio_tcp_stream_free(client);
	mio_tcp_stream_free(server);

	tcp_stream_pair(AF_INET, &client, &server);
	is_errno(mio_tcp_stream_shutdown(client, SHUT_RDWR), 0, "SHUT_RDWR");
	struct iovec iov = { (void *)DATA1, DATA1_LEN };
	is_errno(mio_tcp_stream_writev(client, &iov, 1), -EPIPE,
	    "writev after SHUT_RDWR is -EPIPE");
	mio_tcp_stream_free(client);
	mio_tcp_stream_free(server);
}

/* mio's tcp_shutdown_server_write_close_event: the peer's FIN. */
static void
peer_shutdown_write_event(void)
{
	struct fixture f;
	char buf[8];

	setup(&f, AF_INET, MIO_READABLE);
	must(mio_tcp_stream_shutdown(f.server, SHUT_WR), "shutdown");
	expect_events(f.poll, f.events, { CLIENT, R_READABLE | R_READ_CLOSED });
	is_int(mio_tcp_stream_read(f.client, buf, sizeof(buf)), 0,
	    "the peer's SHUT_WR reads as end of stream");
	teardown(&f);
}

/* mio's tcp_shutdown_client_read_close_event. */
static void
local_shutdown_read_event(void)
{
	struct fixture f;

	setup(&f, AF_INET, MIO_READABLE | MIO_WRITABLE);
	expect_events(f.poll, f.events, { CLIENT, R_WRITABLE });
	must(mio_tcp_stream_shutdown(f.client, SHUT_RD), "shutdown");
	expect_events(f.poll, f.events, { CLIENT, R_READ_CLOSED });
	teardown(&f);
}

/*
 * mio's tcp_shutdown_client_write_close_event, which mio ignores on Linux:
 * epoll has no event for a local SHUT_WR, kqueue sets EV_EOF on the write
 * filter. libkqueue emulates kqueue over epoll on Linux and inherits
 * Linux's silence, so only a native kqueue is held to it.
 */
static void
local_shutdown_write_event(void)
{
	struct fixture f;
	bool native_kqueue = is_kqueue() && !is_linux();

	setup(&f, AF_INET, MIO_READABLE | MIO_WRITABLE);
	expect_events(f.poll, f.events, { CLIENT, R_WRITABLE });
	must(mio_tcp_stream_shutdown(f.client, SHUT_WR), "shutdown");
	if (native_kqueue) {
		expect_events(f.poll, f.events, { CLIENT, R_WRITE_CLOSED });
	} else {
		skip(1, "local SHUT_WR reports write-closed on a native kqueue "
		    "only (mio ignores this on Linux)");
	}
	teardown(&f);
}

/* mio's tcp_shutdown_client_both_close_event. */
static void
local_shutdown_both_event(void)
{
	struct fixture f;

	setup(&f, AF_INET, MIO_READABLE | MIO_WRITABLE);
	expect_events(f.poll, f.events, { CLIENT, R_WRITABLE });
	must(mio_tcp_stream_shutdown(f.client, SHUT_RDWR), "shutdown");
	expect_events(f.poll, f.events, { CLIENT, R_WRITE_CLOSED });
	teardown(&f);
}

/*
 * mio's tcp_reset_close_event: the server closes with unread data, which
 * sends RST; the client sees read-closed, reads ECONNRESET, and then the
 * stream goes quiet.
 */
static void
reset_close_event(void)
{
	struct fixture f;
	char buf[64];

	setup(&f, AF_INET, MIO_READABLE);
	is_int(mio_tcp_stream_write(f.client, DATA1, DATA1_LEN), DATA1_LEN,
	    "the client writes data the server never reads");
	ok(wait_fd_readable(mio_tcp_stream_fd(f.server), 2000),
	    "it arrives at the server");
	mio_tcp_stream_free(f.server);
	f.server = NULL;
	expect_events(f.poll, f.events, { CLIENT, R_READ_CLOSED });
	ssize_t n = mio_tcp_stream_read(f.client, buf, sizeof(buf));
	ok(n == -ECONNRESET || n == 0,
	    "the read after an RST is -ECONNRESET or end of stream (%zd)", n);
	int quiet_after = -1;
	for (int i = 0; i < 5 && quiet_after < 0; i++) {
		struct timespec t = ms_timeout(100);
		if (mio_poll_poll(f.poll, f.events, &t) == 0)
			quiet_after = i;
	}
	ok(quiet_after >= 0, "then polls go quiet (after %d)", quiet_after);
	teardown(&f);
}

/* mio's hup_event_on_disconnect: SO_LINGER 0 makes close send RST. */
static void
linger_zero_disconnect(void)
{
	struct fixture f;

	setup(&f, AF_INET, MIO_READABLE);
	set_linger_zero(mio_tcp_stream_fd(f.server));
	mio_tcp_stream_free(f.server);
	f.server = NULL;
	expect_events(f.poll, f.events, { CLIENT, R_READABLE });
	teardown(&f);
}

/* mio's priority_event_on_oob_data (Linux): urgent data is priority. */
static void
priority_on_oob(void)
{
	struct fixture f;

	if (is_kqueue()) {
		skip(2, "kqueue has no priority events (mio: is_priority is "
		    "always false there)");
		return;
	}
	setup(&f, AF_INET, MIO_READABLE | MIO_PRIORITY);
	is_int(send(mio_tcp_stream_fd(f.server), "!", 1, MSG_OOB), 1,
	    "the peer sends one byte of urgent data");
	expect_events(f.poll, f.events,
	    { CLIENT, R_READABLE | R_PRIORITY });
	teardown(&f);
}

/*
 * mio's peek_would_block and read_peek_would_block (mio PR 1895): peeking
 * is not draining. After the data is read and a read fails with EAGAIN, a
 * peek also fails with EAGAIN, and new data is a new readable event.
 */
static void
peek_would_block(void)
{
	struct fixture f;
	char buf[32];

	setup(&f, AF_INET, MIO_READABLE);
	is_errno(mio_tcp_stream_peek(f.client, buf, sizeof(buf)), -EAGAIN,
	    "peek on an empty stream is -EAGAIN");
	is_int(mio_tcp_stream_write(f.server, DATA1, DATA1_LEN), DATA1_LEN,
	    "the peer writes %zu bytes", DATA1_LEN);
	expect_events(f.poll, f.events, { CLIENT, R_READABLE });
	is_int(mio_tcp_stream_peek(f.client, buf, sizeof(buf)), DATA1_LEN,
	    "peek returns the data");
	is_int(mio_tcp_stream_read(f.client, buf, sizeof(buf)), DATA1_LEN,
	    "read consumes it");
	is_errno(mio_tcp_stream_read(f.client, buf, sizeof(buf)), -EAGAIN,
	    "the next read would block");
	is_errno(mio_tcp_stream_peek(f.client, buf, sizeof(buf)), -EAGAIN,
	    "and so would a peek");
	expect_no_events(f.poll, f.events);
	is_int(mio_tcp_stream_write(f.server, DATA2, DATA2_LEN), DATA2_LEN,
	    "the peer writes %zu bytes", DATA2_LEN);
	expect_events(f.poll, f.events, { CLIENT, R_READABLE });
	is_int(mio_tcp_stream_read(f.client, buf, sizeof(buf)), DATA2_LEN,
	    "the new data is readable after the new event");
	teardown(&f);
}

static void
from_and_into_fd(void)
{
	mio_tcp_stream *client, *server, *adopted;
	char buf[8];

	tcp_stream_pair(AF_INET, &client, &server);
	int fd = mio_tcp_stream_into_fd(client);
	ok(fd >= 0 && fd_is_open(fd), "into_fd releases an open descriptor");
	is_errno(mio_tcp_stream_from_fd(fd, &adopted), 0, "from_fd adopts it");
	is_int(mio_tcp_stream_write(server, "ab", 2), 2, "the peer writes");
	ok(wait_fd_readable(fd, 2000), "the adopted stream becomes readable");
	is_int(mio_tcp_stream_read(adopted, buf, sizeof(buf)), 2,
	    "and reads what the peer wrote");
	mio_tcp_stream_free(adopted);
	ok(!fd_is_open(fd), "free closes the adopted descriptor");
	mio_tcp_stream_free(server);
}

static void
argument_checks(void)
{
	mio_tcp_stream *stream = NULL;
	struct sockaddr_storage addr;
	socklen_t len;
	char buf[4];

	loopback_any_port(AF_INET, &addr, &len);
	is_errno(mio_tcp_stream_connect(NULL, len, &stream), -EINVAL,
	    "connect(NULL) is -EINVAL");
	is_errno(mio_tcp_stream_connect((struct sockaddr *)&addr, len, NULL),
	    -EINVAL, "connect without out is -EINVAL");
	is_errno(mio_tcp_stream_read(NULL, buf, sizeof(buf)), -EINVAL,
	    "read(NULL) is -EINVAL");
	is_errno(mio_tcp_stream_write(NULL, buf, sizeof(buf)), -EINVAL,
	    "write(NULL) is -EINVAL");
	ok(stream == NULL, "nothing was created");
	mio_tcp_stream_free(NULL);
}

static void
registration(void)
{
	mio_tcp_stream *client, *server;

	tcp_stream_pair(AF_INET, &client, &server);
	registration_rules(mio_tcp_stream_source(client), "tcp stream");
	mio_tcp_stream_free(client);
	mio_tcp_stream_free(server);
}

int
main(void)
{
	plan_lazy();
	diag("backend: %s", mio_backend());
	smoke(AF_INET, "IPv4");
	if (ipv6_available())
		smoke(AF_INET6, "IPv6");
	else
		skip(19, "IPv6: ::1 is not available");
	options();
	shutdown_directions();
	peer_shutdown_write_event();
	local_shutdown_read_event();
	local_shutdown_write_event();
	local_shutdown_both_event();
	reset_close_event();
	linger_zero_disconnect();
	priority_on_oob();
	peek_would_block();
	from_and_into_fd();
	argument_checks();
	registration();
	return 0;
}
