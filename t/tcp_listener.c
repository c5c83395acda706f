/*
 * t/tcp_listener.c - mio_tcp_listener: binding, accepting until EAGAIN,
 * descriptor flags, adopting and releasing descriptors, TTL, registration.
 * Ported in spirit from mio's tests/tcp_listener.rs.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "netutil.h"

#define LISTENER ((mio_token)1)

/* mio's smoke_test_tcp_listener, for one family. */
static void
smoke(int family, const char *name)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr, peer, local;
	socklen_t len, peerlen = sizeof(peer), locallen = sizeof(local);
	mio_tcp_stream *client, *accepted;
	char buf[8];

	init_with_poll(&poll, &events);
	mio_tcp_listener *listener = tcp_listener_loopback(family, &addr, &len);
	int fd = mio_tcp_listener_fd(listener);
	ok(fd_is_nonblocking(fd), "%s: the listener is non-blocking", name);
	ok(fd_is_cloexec(fd), "%s: the listener is close-on-exec", name);
	ok(addr_port(&addr) != 0, "%s: port 0 became a real port", name);
	is_errno(mio_registry_register(mio_poll_registry(poll),
		     mio_tcp_listener_source(listener), LISTENER, MIO_READABLE),
	    0, "%s: register the listener readable", name);
	expect_no_events(poll, events);

	must(mio_tcp_stream_connect((struct sockaddr *)&addr, len, &client),
	    "connect");
	expect_events(poll, events, { LISTENER, R_READABLE });
	is_errno(mio_tcp_listener_accept(listener, &accepted,
		     (struct sockaddr *)&peer, &peerlen),
	    0, "%s: accept the connection", name);
	must(mio_tcp_stream_local_addr(client, (struct sockaddr *)&local,
		 &locallen),
	    "local_addr");
	ok(addr_equal(&peer, &local),
	    "%s: accept reports the client's address", name);
	ok(fd_is_nonblocking(mio_tcp_stream_fd(accepted)) &&
		fd_is_cloexec(mio_tcp_stream_fd(accepted)),
	    "%s: the accepted stream is non-blocking and close-on-exec", name);
	is_errno(mio_tcp_stream_read(accepted, buf, sizeof(buf)), -EAGAIN,
	    "%s: reading the silent accepted stream would block", name);
	mio_tcp_stream *again = NULL;
	is_errno(mio_tcp_listener_accept(listener, &again, NULL, NULL),
	    -EAGAIN, "%s: a second accept would block", name);
	ok(again == NULL, "%s: and leaves *out alone", name);

	mio_tcp_stream_free(accepted);
	mio_tcp_stream_free(client);
	mio_tcp_listener_free(listener);
	mio_events_free(events);
	free_poll(poll);
}

/* mio's tcp_listener_two_streams: each connection is a new edge. */
static void
two_streams(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;
	mio_tcp_stream *c1, *c2, *s1, *s2;

	init_with_poll(&poll, &events);
	mio_tcp_listener *listener = tcp_listener_loopback(AF_INET, &addr,
	    &len);
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_tcp_listener_source(listener), LISTENER, MIO_READABLE),
	    "register");
	must(mio_tcp_stream_connect((struct sockaddr *)&addr, len, &c1),
	    "connect");
	expect_events(poll, events, { LISTENER, R_READABLE });
	is_errno(mio_tcp_listener_accept(listener, &s1, NULL, NULL), 0,
	    "accept the first stream");
	is_errno(mio_tcp_listener_accept(listener, &s2, NULL, NULL), -EAGAIN,
	    "then accept would block");

	must(mio_tcp_stream_connect((struct sockaddr *)&addr, len, &c2),
	    "connect");
	expect_events(poll, events, { LISTENER, R_READABLE });
	is_errno(mio_tcp_listener_accept(listener, &s2, NULL, NULL), 0,
	    "the second connection is a new readable event and accepted");
	expect_no_events(poll, events);

	mio_tcp_stream_free(s1);
	mio_tcp_stream_free(s2);
	mio_tcp_stream_free(c1);
	mio_tcp_stream_free(c2);
	mio_tcp_listener_free(listener);
	mio_events_free(events);
	free_poll(poll);
}

static void
ttl(void)
{
	struct sockaddr_storage addr;
	socklen_t len;
	uint32_t value = 0;
	mio_tcp_listener *listener = tcp_listener_loopback(AF_INET, &addr,
	    &len);

	is_errno(mio_tcp_listener_set_ttl(listener, 42), 0, "set_ttl 42");
	is_errno(mio_tcp_listener_ttl(listener, &value), 0, "ttl");
	is_int(value, 42, "ttl reads back 42");
	is_errno(mio_tcp_listener_set_ttl(listener, 256), -EINVAL,
	    "a ttl of 256 is -EINVAL");
	is_errno(mio_tcp_listener_take_error(listener), 0,
	    "take_error: no error pending");
	mio_tcp_listener_free(listener);
}

/* from_fd does not touch the flags (mio's from_std); into_fd releases. */
static void
from_and_into_fd(void)
{
	struct sockaddr_storage addr;
	socklen_t len;
	mio_tcp_listener *listener;

	loopback_any_port(AF_INET, &addr, &len);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&addr, len) == -1 ||
	    listen(fd, 8) == -1)
		sysbail("listening socket");
	is_errno(mio_tcp_listener_from_fd(fd, &listener), 0,
	    "adopt a blocking listening socket");
	is_int(mio_tcp_listener_fd(listener), fd, "fd is the adopted one");
	ok(!fd_is_nonblocking(fd), "from_fd leaves the socket blocking");
	is_int(mio_tcp_listener_into_fd(listener), fd,
	    "into_fd hands the same descriptor back");
	ok(fd_is_open(fd), "and does not close it");
	close(fd);
	is_errno(mio_tcp_listener_from_fd(-1, &listener), -EBADF,
	    "from_fd(-1) is -EBADF");
	is_errno(mio_tcp_listener_from_fd(fd, &listener), -EBADF,
	    "from_fd of a closed descriptor is -EBADF");
}

/* mio's bind_twice_bad, and the argument checks. */
static void
bind_errors(void)
{
	struct sockaddr_storage addr;
	socklen_t len;
	mio_tcp_listener *second = NULL;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	mio_tcp_listener *listener = tcp_listener_loopback(AF_INET, &addr,
	    &len);
	is_errno(mio_tcp_listener_bind((struct sockaddr *)&addr, len, &second),
	    -EADDRINUSE, "binding a listening port twice is -EADDRINUSE");
	is_errno(mio_tcp_listener_bind(NULL, len, &second), -EINVAL,
	    "bind(NULL) is -EINVAL");
	is_errno(mio_tcp_listener_bind((struct sockaddr *)&addr, 1, &second),
	    -EINVAL, "bind with a 1-byte address is -EINVAL");
	is_errno(mio_tcp_listener_bind((struct sockaddr *)&sun, sizeof(sun),
		     &second),
	    -EAFNOSUPPORT, "bind to an AF_UNIX address is -EAFNOSUPPORT");
	ok(second == NULL, "failed binds leave *out alone");
	mio_tcp_stream *stream = NULL;
	is_errno(mio_tcp_listener_accept(NULL, &stream, NULL, NULL), -EINVAL,
	    "accept(NULL) is -EINVAL");
	is_errno(mio_tcp_listener_fd(NULL), -EINVAL, "fd(NULL) is -EINVAL");
	ok(mio_tcp_listener_source(NULL) == NULL, "source(NULL) is NULL");
	mio_tcp_listener_free(NULL);
	mio_tcp_listener_free(listener);
}

static void
registration(void)
{
	struct sockaddr_storage addr;
	socklen_t len;
	mio_tcp_listener *listener = tcp_listener_loopback(AF_INET, &addr,
	    &len);

	registration_rules(mio_tcp_listener_source(listener), "tcp listener");
	mio_tcp_listener_free(listener);
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
		skip(12, "IPv6: ::1 is not available");
	two_streams();
	ttl();
	from_and_into_fd();
	bind_errors();
	registration();
	return 0;
}
