/*
 * t/unix_stream.c - mio_unix_stream: connecting and pairs, vectored I/O,
 * addresses, shutdown in each direction and the events it produces, and
 * registration. Ported in spirit from mio's tests/unix_stream.rs.
 *
 * Backend differences, as in mio: a local SHUT_WR reports write-closed on
 * the BSDs' and macOS's kqueue only; mio does not expect it on Linux, and
 * libkqueue on Linux keeps Linux's behaviour.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "netutil.h"

#define ID1 ((mio_token)1)
#define ID2 ((mio_token)2)

static const char DATA1[] = "Hello same host!";
#define DATA1_LEN (sizeof(DATA1) - 1)

struct fixture {
	mio_poll *poll;
	mio_events *events;
	mio_unix_listener *listener;
	mio_unix_stream *client;
	mio_unix_stream *server;
	const char *path;
};

/* A client connected through a listener at a fresh path, registered. */
static void
setup(struct fixture *f, const char *name, mio_interest interest)
{
	init_with_poll(&f->poll, &f->events);
	f->path = temp_socket_path(name);
	must(mio_unix_listener_bind(f->path, &f->listener), "bind");
	must(mio_unix_stream_connect(f->path, &f->client), "connect");
	if (!wait_fd_readable(mio_unix_listener_fd(f->listener), 2000))
		bail("no connection to accept");
	must(mio_unix_listener_accept(f->listener, &f->server, NULL, NULL),
	    "accept");
	must(mio_registry_register(mio_poll_registry(f->poll),
		 mio_unix_stream_source(f->client), ID1, interest),
	    "register");
}

static void
teardown(struct fixture *f)
{
	mio_unix_stream_free(f->client);
	mio_unix_stream_free(f->server);
	mio_unix_listener_free(f->listener);
	unlink(f->path);
	mio_events_free(f->events);
	free_poll(f->poll);
}

/* mio's unix_stream_smoke and unix_stream_peer_addr. */
static void
smoke(void)
{
	struct fixture f;
	struct sockaddr_un peer;
	socklen_t peerlen = sizeof(peer);
	char buf[64];

	setup(&f, "stream-smoke", MIO_READABLE | MIO_WRITABLE);
	int fd = mio_unix_stream_fd(f.client);
	ok(fd_is_nonblocking(fd) && fd_is_cloexec(fd),
	    "the stream is non-blocking and close-on-exec");
	expect_events(f.poll, f.events, { ID1, R_WRITABLE });
	is_errno(mio_unix_stream_peer_addr(f.client, (struct sockaddr *)&peer,
		     &peerlen),
	    0, "peer_addr");
	is_string(peer.sun_path, f.path, "is the listener's path");
	is_int(mio_unix_stream_write(f.server, DATA1, DATA1_LEN), DATA1_LEN,
	    "the server writes");
	expect_events(f.poll, f.events, { ID1, R_READABLE });
	is_int(mio_unix_stream_read(f.client, buf, sizeof(buf)), DATA1_LEN,
	    "the client reads it");
	is_errno(mio_unix_stream_read(f.client, buf, sizeof(buf)), -EAGAIN,
	    "then reading would block");

	struct iovec out[2] = { { (void *)"abc", 3 }, { (void *)"defg", 4 } };
	is_int(mio_unix_stream_writev(f.client, out, 2), 7, "writev 7 bytes");
	char b1[2], b2[8];
	struct iovec in[2] = { { b1, sizeof(b1) }, { b2, sizeof(b2) } };
	ok(wait_fd_readable(mio_unix_stream_fd(f.server), 2000), "they arrive");
	is_int(mio_unix_stream_readv(f.server, in, 2), 7, "readv 7 bytes");
	ok(memcmp(b1, "ab", 2) == 0 && memcmp(b2, "cdefg", 5) == 0,
	    "spread over both buffers");
	is_errno(mio_unix_stream_take_error(f.client), 0, "no error pending");
	teardown(&f);
}

/* mio's unix_stream_pair. */
static void
pair(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_unix_stream *a, *b;
	char buf[64];

	init_with_poll(&poll, &events);
	is_errno(mio_unix_stream_pair(&a, &b), 0, "pair");
	ok(fd_is_nonblocking(mio_unix_stream_fd(a)) &&
		fd_is_cloexec(mio_unix_stream_fd(b)),
	    "both ends are non-blocking and close-on-exec");
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_unix_stream_source(b), ID2, MIO_READABLE),
	    "register");
	is_int(mio_unix_stream_write(a, DATA1, DATA1_LEN), DATA1_LEN,
	    "one end writes");
	expect_events(poll, events, { ID2, R_READABLE });
	is_int(mio_unix_stream_read(b, buf, sizeof(buf)), DATA1_LEN,
	    "the other reads");
	mio_unix_stream_free(a);
	expect_events(poll, events, { ID2, R_READ_CLOSED });
	is_int(mio_unix_stream_read(b, buf, sizeof(buf)), 0,
	    "after the other end is freed, end of stream");
	mio_unix_stream_free(b);
	mio_events_free(events);
	free_poll(poll);
}

/* mio's unix_stream_shutdown_read. */
static void
shutdown_read(void)
{
	struct fixture f;
	char buf[64];

	setup(&f, "shut-rd", MIO_READABLE | MIO_WRITABLE);
	expect_events(f.poll, f.events, { ID1, R_WRITABLE });
	is_errno(mio_unix_stream_shutdown(f.client, SHUT_RD), 0, "SHUT_RD");
	expect_events(f.poll, f.events, { ID1, R_READ_CLOSED });
	is_int(mio_unix_stream_read(f.client, buf, sizeof(buf)), 0,
	    "a read after SHUT_RD is end of stream");
	teardown(&f);
}

/* mio's unix_stream_shutdown_write. */
static void
shutdown_write(void)
{
	struct fixture f;
	char buf[64];

	setup(&f, "shut-wr", MIO_READABLE | MIO_WRITABLE);
	expect_events(f.poll, f.events, { ID1, R_WRITABLE });
	is_errno(mio_unix_stream_shutdown(f.client, SHUT_WR), 0, "SHUT_WR");
	if (is_kqueue() && !is_linux())
		expect_events(f.poll, f.events, { ID1, R_WRITE_CLOSED });
	else
		skip(1, "local SHUT_WR is write-closed on a native kqueue "
		    "only");
	is_errno(mio_unix_stream_write(f.client, DATA1, DATA1_LEN), -EPIPE,
	    "a write after SHUT_WR is -EPIPE, not SIGPIPE");
	ok(wait_fd_readable(mio_unix_stream_fd(f.server), 2000) &&
		mio_unix_stream_read(f.server, buf, sizeof(buf)) == 0,
	    "the peer reads end of stream");
	teardown(&f);
}

/* mio's unix_stream_shutdown_both. */
static void
shutdown_both(void)
{
	struct fixture f;

	setup(&f, "shut-both", MIO_READABLE | MIO_WRITABLE);
	expect_events(f.poll, f.events, { ID1, R_WRITABLE });
	is_errno(mio_unix_stream_shutdown(f.client, SHUT_RDWR), 0, "SHUT_RDWR");
	expect_events(f.poll, f.events, { ID1, R_WRITE_CLOSED });
	is_errno(mio_unix_stream_write(f.client, DATA1, DATA1_LEN), -EPIPE,
	    "a write after SHUT_RDWR is -EPIPE");
	teardown(&f);
}

/* mio's unix_stream_shutdown_listener_write: the peer's SHUT_WR. */
static void
peer_shutdown_write(void)
{
	struct fixture f;

	setup(&f, "peer-shut-wr", MIO_READABLE | MIO_WRITABLE);
	expect_events(f.poll, f.events, { ID1, R_WRITABLE });
	must(mio_unix_stream_shutdown(f.server, SHUT_WR), "shutdown");
	expect_events(f.poll, f.events, { ID1, R_READ_CLOSED });
	teardown(&f);
}

static void
connect_errors_and_fds(void)
{
	mio_unix_stream *stream = NULL, *a, *b;
	char toolong[200];

	memset(toolong, 'x', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	is_errno(mio_unix_stream_connect(temp_socket_path("nobody"), &stream),
	    -ENOENT, "connecting to a missing path is -ENOENT");
	is_errno(mio_unix_stream_connect(toolong, &stream), -ENAMETOOLONG,
	    "a path longer than sun_path is -ENAMETOOLONG");
	is_errno(mio_unix_stream_pair(&a, NULL), -EINVAL,
	    "pair without an out-pointer is -EINVAL");
	ok(stream == NULL, "nothing was created");
	must(mio_unix_stream_pair(&a, &b), "pair");
	registration_rules(mio_unix_stream_source(a), "unix stream");
	int fd = mio_unix_stream_into_fd(b);
	is_errno(mio_unix_stream_from_fd(fd, &b), 0, "adopt a released end");
	is_int(mio_unix_stream_write(a, "z", 1), 1, "and it still works");
	ok(wait_fd_readable(fd, 2000) &&
		mio_unix_stream_read(b, toolong, 1) == 1,
	    "in both directions");
	mio_unix_stream_free(a);
	mio_unix_stream_free(b);
}

int
main(void)
{
	plan_lazy();
	diag("backend: %s", mio_backend());
	smoke();
	pair();
	shutdown_read();
	shutdown_write();
	shutdown_both();
	peer_shutdown_write();
	connect_errors_and_fds();
	return 0;
}
