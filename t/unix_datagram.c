/*
 * t/unix_datagram.c - mio_unix_datagram: bound, unbound and paired
 * sockets, connecting, sender addresses, shutdown events and EPIPE, and
 * registration. Ported in spirit from mio's tests/unix_datagram.rs and mio
 * issue 1403 from tests/regressions.rs.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "netutil.h"

#define ID1 ((mio_token)1)
#define ID2 ((mio_token)2)

static const char DATA1[] = "Hello same host!";
static const char DATA2[] = "Why hello mio!";
#define DATA1_LEN (sizeof(DATA1) - 1)
#define DATA2_LEN (sizeof(DATA2) - 1)

struct fixture {
	mio_poll *poll;
	mio_events *events;
	mio_unix_datagram *d1, *d2;
	const char *path1, *path2;
};

static void
setup(struct fixture *f, const char *name1, const char *name2)
{
	const mio_registry *reg;

	init_with_poll(&f->poll, &f->events);
	reg = mio_poll_registry(f->poll);
	f->path1 = temp_socket_path(name1);
	f->path2 = temp_socket_path(name2);
	must(mio_unix_datagram_bind(f->path1, &f->d1), "bind 1");
	must(mio_unix_datagram_bind(f->path2, &f->d2), "bind 2");
	must(mio_registry_register(reg, mio_unix_datagram_source(f->d1), ID1,
		 MIO_READABLE | MIO_WRITABLE),
	    "register 1");
	must(mio_registry_register(reg, mio_unix_datagram_source(f->d2), ID2,
		 MIO_READABLE | MIO_WRITABLE),
	    "register 2");
}

static void
teardown(struct fixture *f)
{
	mio_unix_datagram_free(f->d1);
	mio_unix_datagram_free(f->d2);
	mio_events_free(f->events);
	free_poll(f->poll);
}

/* mio's unix_datagram_smoke_unconnected. */
static void
unconnected(void)
{
	struct fixture f;
	struct sockaddr_un from;
	socklen_t fromlen = sizeof(from);
	char buf[64];

	setup(&f, "dgram-a", "dgram-b");
	int fd = mio_unix_datagram_fd(f.d1);
	ok(fd_is_nonblocking(fd) && fd_is_cloexec(fd),
	    "the socket is non-blocking and close-on-exec");
	expect_events(f.poll, f.events, { ID1, R_WRITABLE },
	    { ID2, R_WRITABLE });
	is_int(mio_unix_datagram_send_to(f.d1, DATA1, DATA1_LEN, f.path2),
	    DATA1_LEN, "send_to the second path");
	is_int(mio_unix_datagram_send_to(f.d2, DATA2, DATA2_LEN, f.path1),
	    DATA2_LEN, "send_to the first path");
	expect_events(f.poll, f.events, { ID1, R_READABLE },
	    { ID2, R_READABLE });
	is_int(mio_unix_datagram_recv_from(f.d2, buf, sizeof(buf),
		   (struct sockaddr *)&from, &fromlen),
	    DATA1_LEN, "recv_from gets the datagram");
	is_string(from.sun_path, f.path1, "with the sender's path");
	is_int(mio_unix_datagram_recv(f.d1, buf, sizeof(buf)), DATA2_LEN,
	    "recv gets the other");
	is_errno(mio_unix_datagram_recv(f.d1, buf, sizeof(buf)), -EAGAIN,
	    "then recv would block");
	struct sockaddr_un peer;
	socklen_t peerlen = sizeof(peer);
	is_errno(mio_unix_datagram_peer_addr(f.d1, (struct sockaddr *)&peer,
		     &peerlen),
	    -ENOTCONN, "an unconnected socket has no peer");
	ssize_t rc = mio_unix_datagram_send(f.d1, DATA1, DATA1_LEN);
	ok(rc == -ENOTCONN || rc == -EDESTADDRREQ,
	    "send without a peer is -ENOTCONN or -EDESTADDRREQ (%s)",
	    mio_strerror((int)rc));
	teardown(&f);
}

/* mio's unix_datagram_smoke_connected and unix_datagram_connect. */
static void
connected(void)
{
	struct fixture f;
	struct sockaddr_un peer, local;
	socklen_t peerlen = sizeof(peer), locallen = sizeof(local);
	char buf[64];

	setup(&f, "dgram-c", "dgram-d");
	is_errno(mio_unix_datagram_connect(f.d1, f.path2), 0, "connect 1 to 2");
	is_errno(mio_unix_datagram_connect(f.d2, f.path1), 0, "connect 2 to 1");
	is_errno(mio_unix_datagram_peer_addr(f.d1, (struct sockaddr *)&peer,
		     &peerlen),
	    0, "peer_addr");
	is_string(peer.sun_path, f.path2, "is the second path");
	is_errno(mio_unix_datagram_local_addr(f.d1, (struct sockaddr *)&local,
		     &locallen),
	    0, "local_addr");
	is_string(local.sun_path, f.path1, "is the first path");
	expect_events(f.poll, f.events, { ID1, R_WRITABLE },
	    { ID2, R_WRITABLE });
	is_int(mio_unix_datagram_send(f.d1, DATA1, DATA1_LEN), DATA1_LEN,
	    "send to the peer");
	expect_events(f.poll, f.events, { ID2, R_READABLE });
	is_int(mio_unix_datagram_recv(f.d2, buf, sizeof(buf)), DATA1_LEN,
	    "the peer receives it");
	ok(memcmp(buf, DATA1, DATA1_LEN) == 0, "intact");
	is_int(mio_unix_datagram_send(f.d1, "", 0), 0, "an empty datagram");
	expect_events(f.poll, f.events, { ID2, R_READABLE });
	is_int(mio_unix_datagram_recv(f.d2, buf, sizeof(buf)), 0,
	    "arrives empty");
	teardown(&f);
}

/* mio's unix_datagram_pair. */
static void
pair(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_unix_datagram *a, *b;
	char buf[64];

	init_with_poll(&poll, &events);
	is_errno(mio_unix_datagram_pair(&a, &b), 0, "pair");
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_unix_datagram_source(b), ID2, MIO_READABLE),
	    "register");
	is_int(mio_unix_datagram_send(a, DATA1, DATA1_LEN), DATA1_LEN,
	    "one end sends");
	expect_events(poll, events, { ID2, R_READABLE });
	is_int(mio_unix_datagram_recv(b, buf, sizeof(buf)), DATA1_LEN,
	    "the other receives");
	is_errno(mio_unix_datagram_recv(b, buf, sizeof(buf)), -EAGAIN,
	    "drained");
	is_int(mio_unix_datagram_send(a, DATA2, DATA2_LEN), DATA2_LEN,
	    "a second datagram");
	expect_events(poll, events, { ID2, R_READABLE });
	mio_unix_datagram_free(a);
	mio_unix_datagram_free(b);
	mio_events_free(events);
	free_poll(poll);
}

/* mio's unix_datagram_shutdown: READ_CLOSED, WRITE_CLOSED, then EPIPE. */
static void
shutdown_events(void)
{
	struct fixture f;

	setup(&f, "dgram-e", "dgram-f");
	must(mio_unix_datagram_connect(f.d1, f.path2), "connect");
	expect_events(f.poll, f.events, { ID1, R_WRITABLE });
	is_int(mio_unix_datagram_send(f.d1, DATA1, DATA1_LEN), DATA1_LEN,
	    "send");
	expect_events(f.poll, f.events, { ID2, R_READABLE });
	is_errno(mio_unix_datagram_shutdown(f.d1, SHUT_RD), 0, "SHUT_RD");
	expect_events(f.poll, f.events, { ID1, R_READ_CLOSED });
	is_errno(mio_unix_datagram_shutdown(f.d1, SHUT_WR), 0, "SHUT_WR");
	expect_events(f.poll, f.events, { ID1, R_WRITE_CLOSED });
	is_errno(mio_unix_datagram_send(f.d1, DATA1, DATA1_LEN), -EPIPE,
	    "send after shutdown is -EPIPE, not SIGPIPE");
	teardown(&f);
}

/* mio issue 1403: an unbound sender's address has no path. */
static void
unbound_sender_has_no_path(void)
{
	mio_unix_datagram *sender, *receiver;
	struct sockaddr_un from;
	socklen_t fromlen = sizeof(from);
	const char *path = temp_socket_path("dgram-1403");
	char buf[16];

	must(mio_unix_datagram_bind(path, &receiver), "bind");
	is_errno(mio_unix_datagram_unbound(&sender), 0, "an unbound socket");
	is_int(mio_unix_datagram_send_to(sender, "hi", 2, path), 2,
	    "sends to a bound one");
	ok(wait_fd_readable(mio_unix_datagram_fd(receiver), 2000), "arrives");
	memset(&from, 'x', sizeof(from));
	is_int(mio_unix_datagram_recv_from(receiver, buf, sizeof(buf),
		   (struct sockaddr *)&from, &fromlen),
	    2, "recv_from");
	ok(fromlen <= offsetof(struct sockaddr_un, sun_path) ||
		from.sun_path[0] == '\0',
	    "the sender's address has no path (length %u)",
	    (unsigned)fromlen);
	mio_unix_datagram_free(sender);
	mio_unix_datagram_free(receiver);
}

static void
abstract_and_registration(void)
{
	mio_unix_datagram *a, *b;
	struct sockaddr_un sun;
	socklen_t len;
	char name[64], buf[16];

	int n = snprintf(name, sizeof(name), "%cmio-t-dgram-%ld", '\0',
	    (long)getpid());
	must(mio_unix_addr(name, (size_t)n, &sun, &len), "mio_unix_addr");
	int rc = mio_unix_datagram_bind_addr((struct sockaddr *)&sun, len, &a);
	if (!is_linux() && rc != 0) {
		skip(3, "no abstract namespace here (%s)", mio_strerror(rc));
	} else {
		is_errno(rc, 0, "bind an abstract name");
		must(mio_unix_datagram_unbound(&b), "unbound");
		is_int(mio_unix_datagram_send_to_addr(b, "ab", 2,
			   (struct sockaddr *)&sun, len),
		    2, "send_to_addr the abstract name");
		ok(wait_fd_readable(mio_unix_datagram_fd(a), 2000) &&
			mio_unix_datagram_recv(a, buf, sizeof(buf)) == 2,
		    "it arrives");
		mio_unix_datagram_free(a);
		mio_unix_datagram_free(b);
	}
	must(mio_unix_datagram_pair(&a, &b), "pair");
	registration_rules(mio_unix_datagram_source(a), "unix datagram");
	int fd = mio_unix_datagram_into_fd(a);
	is_errno(mio_unix_datagram_from_fd(fd, &a), 0,
	    "adopt the released descriptor");
	is_errno(mio_unix_datagram_take_error(a), 0, "no error pending");
	mio_unix_datagram_free(a);
	mio_unix_datagram_free(b);
	is_errno(mio_unix_datagram_send_to(NULL, "x", 1, "/nowhere"), -EINVAL,
	    "send_to(NULL) is -EINVAL");
}

int
main(void)
{
	plan_lazy();
	diag("backend: %s", mio_backend());
	unconnected();
	connected();
	pair();
	shutdown_events();
	unbound_sender_has_no_path();
	abstract_and_registration();
	return 0;
}
