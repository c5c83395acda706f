/*
 * t/unix_listener.c - mio_unix_listener and mio_unix_addr(): binding to a
 * path and to a Linux abstract name, accepting until EAGAIN, addresses,
 * adopting descriptors, registration. Ported in spirit from mio's
 * tests/unix_listener.rs and the address unit tests of src/sys/unix/uds.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "netutil.h"

#define LISTENER ((mio_token)1)

/* mio's pathname_address and abstract_address: the length arithmetic. */
static void
addresses(void)
{
	struct sockaddr_un sun;
	socklen_t len = 0;
	const size_t base = offsetof(struct sockaddr_un, sun_path);
	char longest[sizeof(sun.sun_path) + 1];

	is_errno(mio_unix_addr("/tmp/sock", 9, &sun, &len), 0,
	    "a path makes an address");
	is_int(len, base + 10, "its length counts the terminator");
	ok(sun.sun_family == AF_UNIX && strcmp(sun.sun_path, "/tmp/sock") == 0,
	    "and it holds the path");
	is_errno(mio_unix_addr("\0name", 5, &sun, &len), 0,
	    "a leading NUL makes an abstract address");
	is_int(len, base + 5, "its length is exactly the name's");
	ok(sun.sun_path[0] == '\0' && memcmp(sun.sun_path + 1, "name", 4) == 0,
	    "and it holds the name after the NUL");
	is_errno(mio_unix_addr("a\0b", 3, &sun, &len), -EINVAL,
	    "a NUL inside a path is -EINVAL");
	is_errno(mio_unix_addr("", 0, &sun, &len), -EINVAL,
	    "an empty path is -EINVAL");
	memset(longest, 'x', sizeof(longest));
	is_errno(mio_unix_addr(longest, sizeof(sun.sun_path), &sun, &len),
	    -ENAMETOOLONG, "a path that leaves no room for NUL is too long");
	is_errno(mio_unix_addr(longest, sizeof(sun.sun_path) - 1, &sun, &len),
	    0, "one byte shorter fits");
	longest[0] = '\0';
	is_errno(mio_unix_addr(longest, sizeof(sun.sun_path), &sun, &len), 0,
	    "an abstract name may fill sun_path");
	is_errno(mio_unix_addr(longest, sizeof(longest), &sun, &len),
	    -ENAMETOOLONG, "but not more");
}

/* mio's smoke and local_addr tests. */
static void
smoke(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_unix_listener *listener;
	mio_unix_stream *client, *accepted, *none = NULL;
	struct sockaddr_un local;
	socklen_t locallen = sizeof(local);
	const char *path = temp_socket_path("smoke");
	char buf[4];

	init_with_poll(&poll, &events);
	is_errno(mio_unix_listener_bind(path, &listener), 0, "bind %s", path);
	int fd = mio_unix_listener_fd(listener);
	ok(fd_is_nonblocking(fd) && fd_is_cloexec(fd),
	    "the listener is non-blocking and close-on-exec");
	is_errno(mio_unix_listener_local_addr(listener,
		     (struct sockaddr *)&local, &locallen),
	    0, "local_addr");
	is_string(local.sun_path, path, "is the bound path");
	is_errno(mio_registry_register(mio_poll_registry(poll),
		     mio_unix_listener_source(listener), LISTENER,
		     MIO_READABLE),
	    0, "register");
	must(mio_unix_stream_connect(path, &client), "connect");
	expect_events(poll, events, { LISTENER, R_READABLE });
	is_errno(mio_unix_listener_accept(listener, &accepted, NULL, NULL), 0,
	    "accept");
	ok(fd_is_nonblocking(mio_unix_stream_fd(accepted)) &&
		fd_is_cloexec(mio_unix_stream_fd(accepted)),
	    "the accepted stream is non-blocking and close-on-exec");
	is_errno(mio_unix_stream_read(accepted, buf, sizeof(buf)), -EAGAIN,
	    "reading it would block");
	is_errno(mio_unix_listener_accept(listener, &none, NULL, NULL),
	    -EAGAIN, "a second accept would block");
	mio_unix_stream_free(client);
	mio_unix_stream_free(accepted);

	mio_unix_listener *second = NULL;
	is_errno(mio_unix_listener_bind(path, &second), -EADDRINUSE,
	    "binding an existing path is -EADDRINUSE");
	mio_unix_listener_free(listener);
	ok(access(path, F_OK) == 0, "free leaves the socket file");
	unlink(path);
	is_errno(mio_unix_stream_connect(path, &client), -ENOENT,
	    "connecting to a removed path is -ENOENT");
	mio_events_free(events);
	free_poll(poll);
}

/* mio's unix_listener_abstract_namespace (Linux). */
static void
abstract_namespace(void)
{
	mio_unix_listener *listener;
	mio_unix_stream *client, *accepted;
	struct sockaddr_un sun, local;
	socklen_t len, locallen = sizeof(local);
	char name[64];

	int n = snprintf(name, sizeof(name), "%cmio-t-%ld", '\0',
	    (long)getpid());
	must(mio_unix_addr(name, (size_t)n, &sun, &len), "mio_unix_addr");
	int rc = mio_unix_listener_bind_addr((struct sockaddr *)&sun, len,
	    &listener);
	if (!is_linux() && rc != 0) {
		skip(5, "no abstract namespace here (%s)", mio_strerror(rc));
		return;
	}
	is_errno(rc, 0, "bind an abstract name");
	is_errno(mio_unix_listener_local_addr(listener,
		     (struct sockaddr *)&local, &locallen),
	    0, "local_addr");
	ok(locallen == len && memcmp(&local, &sun, len) == 0,
	    "is the abstract name, with its exact length");
	is_errno(mio_unix_stream_connect_addr((struct sockaddr *)&sun, len,
		     &client),
	    0, "connect to the abstract name");
	ok(wait_fd_readable(mio_unix_listener_fd(listener), 2000) &&
		mio_unix_listener_accept(listener, &accepted, NULL, NULL) == 0,
	    "and the connection is accepted");
	mio_unix_stream_free(client);
	mio_unix_stream_free(accepted);
	mio_unix_listener_free(listener);
}

static void
from_fd_and_errors(void)
{
	mio_unix_listener *listener, *adopted = NULL;
	const char *path = temp_socket_path("fromfd");
	struct sockaddr_in in = { .sin_family = AF_INET };

	must(mio_unix_listener_bind(path, &listener), "bind");
	registration_rules(mio_unix_listener_source(listener), "unix listener");
	int fd = mio_unix_listener_into_fd(listener);
	is_errno(mio_unix_listener_from_fd(fd, &adopted), 0,
	    "adopt the released descriptor");
	is_errno(mio_unix_listener_take_error(adopted), 0, "no error pending");
	mio_unix_listener_free(adopted);
	is_errno(mio_unix_listener_bind(NULL, &adopted), -EINVAL,
	    "bind(NULL) is -EINVAL");
	is_errno(mio_unix_listener_bind_addr((struct sockaddr *)&in,
		     sizeof(in), &adopted),
	    -EAFNOSUPPORT, "bind_addr of an AF_INET address is -EAFNOSUPPORT");
}

int
main(void)
{
	plan_lazy();
	diag("backend: %s", mio_backend());
	addresses();
	smoke();
	abstract_namespace();
	from_fd_and_errors();
	return 0;
}
