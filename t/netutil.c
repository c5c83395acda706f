/*
 * netutil.c - helpers for the net tests; see netutil.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netutil.h"

bool
is_kqueue(void)
{
	return strcmp(mio_backend(), "kqueue") == 0;
}

bool
is_linux(void)
{
#ifdef __linux__
	return true;
#else
	return false;
#endif
}

void
must(int rc, const char *what)
{
	if (rc != 0)
		bail("%s: %s", what, mio_strerror(rc));
}

void
loopback_any_port(int family, struct sockaddr_storage *addr, socklen_t *len)
{
	memset(addr, 0, sizeof(*addr));
	if (family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		*len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)addr;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*in);
	}
}

bool
ipv6_available(void)
{
	struct sockaddr_storage addr;
	socklen_t len;
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);

	if (fd == -1)
		return false;
	loopback_any_port(AF_INET6, &addr, &len);
	bool ok = bind(fd, (struct sockaddr *)&addr, len) == 0;
	close(fd);
	return ok;
}

unsigned
addr_port(const struct sockaddr_storage *addr)
{
	if (addr->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
	return ntohs(((const struct sockaddr_in *)addr)->sin_port);
}

bool
addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family || addr_port(a) != addr_port(b))
		return false;
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
		return memcmp(&x->sin6_addr, &y->sin6_addr,
			   sizeof(x->sin6_addr)) == 0;
	}
	const struct sockaddr_in *x = (const struct sockaddr_in *)a;
	const struct sockaddr_in *y = (const struct sockaddr_in *)b;
	return x->sin_addr.s_addr == y->sin_addr.s_addr;
}

void
closed_port(int family, int type, struct sockaddr_storage *addr,
    socklen_t *len)
{
	int fd = socket(family, type, 0);

	if (fd == -1)
		sysbail("socket");
	loopback_any_port(family, addr, len);
	if (bind(fd, (struct sockaddr *)addr, *len) == -1 ||
	    getsockname(fd, (struct sockaddr *)addr, len) == -1)
		sysbail("bind");
	close(fd);
}

mio_tcp_listener *
tcp_listener_loopback(int family, struct sockaddr_storage *addr,
    socklen_t *len)
{
	mio_tcp_listener *listener;

	loopback_any_port(family, addr, len);
	must(mio_tcp_listener_bind((struct sockaddr *)addr, *len, &listener),
	    "mio_tcp_listener_bind");
	*len = sizeof(*addr);
	must(mio_tcp_listener_local_addr(listener, (struct sockaddr *)addr,
		 len),
	    "mio_tcp_listener_local_addr");
	return listener;
}

bool
fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

bool
wait_fd_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

bool
wait_fd_writable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, ms) == 1;
}

mio_tcp_stream *
tcp_accept_one(mio_tcp_listener *listener)
{
	mio_tcp_stream *stream;

	if (!wait_fd_readable(mio_tcp_listener_fd(listener), 2000))
		bail("tcp_accept_one: no connection within 2 s");
	must(mio_tcp_listener_accept(listener, &stream, NULL, NULL),
	    "mio_tcp_listener_accept");
	return stream;
}

void
tcp_stream_pair(int family, mio_tcp_stream **client, mio_tcp_stream **server)
{
	struct sockaddr_storage addr;
	socklen_t len;
	mio_tcp_listener *listener = tcp_listener_loopback(family, &addr, &len);

	must(mio_tcp_stream_connect((struct sockaddr *)&addr, len, client),
	    "mio_tcp_stream_connect");
	*server = tcp_accept_one(listener);
	if (!wait_fd_writable(mio_tcp_stream_fd(*client), 2000))
		bail("tcp_stream_pair: connect did not complete");
	mio_tcp_listener_free(listener);
}

mio_udp_socket *
udp_socket_loopback(int family, struct sockaddr_storage *addr,
    socklen_t *len)
{
	mio_udp_socket *sock;

	loopback_any_port(family, addr, len);
	must(mio_udp_socket_bind((struct sockaddr *)addr, *len, &sock),
	    "mio_udp_socket_bind");
	*len = sizeof(*addr);
	must(mio_udp_socket_local_addr(sock, (struct sockaddr *)addr, len),
	    "mio_udp_socket_local_addr");
	return sock;
}

/* The private directory and the paths handed out in it. */
static char temp_dir[256];
static char temp_paths[32][320];
static int temp_count;

static void
temp_cleanup(void)
{
	for (int i = 0; i < temp_count; i++)
		unlink(temp_paths[i]);
	if (temp_dir[0] != '\0')
		rmdir(temp_dir);
}

const char *
temp_socket_path(const char *name)
{
	if (temp_dir[0] == '\0') {
		const char *base = getenv("TMPDIR");
		/* sun_path holds about 100 bytes: a deep TMPDIR will not do. */
		if (base == NULL || strlen(base) > 60)
			base = "/tmp";
		snprintf(temp_dir, sizeof(temp_dir), "%s/mio-t-XXXXXX", base);
		if (mkdtemp(temp_dir) == NULL)
			sysbail("mkdtemp %s", temp_dir);
		atexit(temp_cleanup);
	}
	if (temp_count == 32)
		bail("temp_socket_path: too many paths");
	char *path = temp_paths[temp_count++];
	snprintf(path, sizeof(temp_paths[0]), "%s/%s", temp_dir, name);
	return path;
}

void
registration_rules(mio_source *source, const char *what)
{
	mio_poll *a, *b;
	mio_events *events;

	init_with_poll(&a, &events);
	must(mio_poll_new(&b), "mio_poll_new");
	const mio_registry *ra = mio_poll_registry(a);
	const mio_registry *rb = mio_poll_registry(b);
	is_errno(mio_registry_reregister(ra, source, 1, MIO_READABLE), -ENOENT,
	    "%s: reregister before register is -ENOENT", what);
	is_errno(mio_registry_deregister(ra, source), -ENOENT,
	    "%s: deregister before register is -ENOENT", what);
	is_errno(mio_registry_register(ra, source, 1, MIO_READABLE), 0,
	    "%s: register", what);
	is_errno(mio_registry_register(ra, source, 2, MIO_WRITABLE), -EEXIST,
	    "%s: a second register is -EEXIST", what);
	is_errno(mio_registry_register(rb, source, 2, MIO_READABLE), -EEXIST,
	    "%s: register with another poll is -EEXIST", what);
	is_errno(mio_registry_reregister(rb, source, 2, MIO_READABLE), -EEXIST,
	    "%s: reregister with another poll is -EEXIST", what);
	is_errno(mio_registry_deregister(rb, source), -EEXIST,
	    "%s: deregister with another poll is -EEXIST", what);
	is_errno(mio_registry_reregister(ra, source, 3,
		     MIO_READABLE | MIO_WRITABLE),
	    0, "%s: reregister with the same poll", what);
	is_errno(mio_registry_deregister(ra, source), 0, "%s: deregister",
	    what);
	is_errno(mio_registry_deregister(ra, source), -ENOENT,
	    "%s: a second deregister is -ENOENT", what);
	is_errno(mio_registry_register(rb, source, 4, MIO_READABLE), 0,
	    "%s: once deregistered, another poll may register it", what);
	is_errno(mio_registry_deregister(rb, source), 0,
	    "%s: and deregister it", what);
	mio_events_free(events);
	free_poll(b);
	free_poll(a);
}
