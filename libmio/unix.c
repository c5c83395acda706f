/*
 * unix.c - Unix-domain sockets: mio_unix_listener, mio_unix_stream and
 * mio_unix_datagram, mio::net::UnixListener, UnixStream and UnixDatagram
 * (src/net/uds/ in mio 1.x), and mio_unix_addr() for building addresses.
 *
 * Addresses. A file-system path is copied with its terminating NUL and the
 * address length covers it, as mio's unix_addr does. A Linux abstract name
 * starts with '\0' and is exactly as long as the caller says, because every
 * byte of it, NULs included, is significant; so it has to come with an
 * explicit length, through mio_unix_addr() and the _addr functions.
 *
 * Listeners listen with a backlog of -1, which Linux, the BSDs and macOS
 * all clamp to their maximum (somaxconn); mio does the same on those
 * systems (src/sys/unix/uds/listener.rs).
 */
#include "net.h"

#include <stddef.h>
#include <string.h>
#include <sys/un.h>

#define UNIX_BACKLOG (-1)

struct mio_unix_listener {
	struct mio__io_source io;
};

struct mio_unix_stream {
	struct mio__io_source io;
};

struct mio_unix_datagram {
	struct mio__io_source io;
};

int
mio_unix_addr(const char *path, size_t pathlen, struct sockaddr_un *addr,
    socklen_t *addrlen)
{
	if (path == NULL || pathlen == 0 || addr == NULL || addrlen == NULL)
		return -EINVAL;
	bool abstract = path[0] == '\0';
	/* A path needs room for its terminator; an abstract name has none. */
	size_t room = sizeof(addr->sun_path) - (abstract ? 0 : 1);
	if (!abstract && memchr(path, '\0', pathlen) != NULL)
		return -EINVAL;
	if (pathlen > room)
		return -ENAMETOOLONG;
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, path, pathlen);
	*addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    pathlen + (abstract ? 0 : 1));
	return 0;
}

/* The address of a NUL-terminated file-system path. */
static int
unix_path_addr(const char *path, struct sockaddr_un *addr,
    socklen_t *addrlen)
{
	if (path == NULL)
		return -EINVAL;
	return mio_unix_addr(path, strlen(path), addr, addrlen);
}

static int
unix_check_addr(const struct sockaddr *addr, socklen_t addrlen)
{
	if (addr == NULL || addrlen < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	return addr->sa_family == AF_UNIX ? 0 : -EAFNOSUPPORT;
}

static int
unix_listener_fd(const mio_unix_listener *listener)
{
	return listener != NULL ? listener->io.fd : -1;
}

static int
unix_stream_fd(const mio_unix_stream *stream)
{
	return stream != NULL ? stream->io.fd : -1;
}

static int
unix_datagram_fd(const mio_unix_datagram *dgram)
{
	return dgram != NULL ? dgram->io.fd : -1;
}

/* ---- Listener ---- */

int
mio_unix_listener_bind(const char *path, mio_unix_listener **out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;

	int rc = unix_path_addr(path, &sun, &len);
	if (rc != 0)
		return rc;
	return mio_unix_listener_bind_addr((struct sockaddr *)&sun, len, out);
}

int
mio_unix_listener_bind_addr(const struct sockaddr *addr, socklen_t addrlen,
    mio_unix_listener **out)
{
	int fd;

	if (out == NULL)
		return -EINVAL;
	int rc = unix_check_addr(addr, addrlen);
	if (rc == 0)
		rc = mio__net_bind(SOCK_STREAM, addr, addrlen, UNIX_BACKLOG,
		    false, &fd);
	if (rc != 0)
		return rc;
	mio_unix_listener *listener = mio__net_handle_wrap(sizeof(*listener),
	    fd);
	if (listener == NULL)
		return -ENOMEM;
	*out = listener;
	return 0;
}

int
mio_unix_listener_accept(mio_unix_listener *listener, mio_unix_stream **out,
    struct sockaddr *addr, socklen_t *addrlen)
{
	int fd;

	if (out == NULL)
		return -EINVAL;
	int rc = mio__net_accept(unix_listener_fd(listener), addr, addrlen,
	    &fd);
	if (rc != 0)
		return rc;
	mio_unix_stream *stream = mio__net_handle_wrap(sizeof(*stream), fd);
	if (stream == NULL)
		return -ENOMEM;
	*out = stream;
	return 0;
}

int
mio_unix_listener_local_addr(const mio_unix_listener *listener,
    struct sockaddr *addr, socklen_t *addrlen)
{
	return mio__net_local_addr(unix_listener_fd(listener), addr, addrlen);
}

int
mio_unix_listener_take_error(mio_unix_listener *listener)
{
	return mio__net_take_error(unix_listener_fd(listener));
}

mio_source *
mio_unix_listener_source(mio_unix_listener *listener)
{
	return listener != NULL ? &listener->io.source : NULL;
}

int
mio_unix_listener_fd(const mio_unix_listener *listener)
{
	return listener != NULL ? listener->io.fd : -EINVAL;
}

int
mio_unix_listener_from_fd(int fd, mio_unix_listener **out)
{
	if (out == NULL)
		return -EINVAL;
	int rc = mio__net_check_fd(fd);
	if (rc != 0)
		return rc;
	mio_unix_listener *listener = mio__net_handle_new(sizeof(*listener),
	    fd);
	if (listener == NULL)
		return -ENOMEM;
	*out = listener;
	return 0;
}

int
mio_unix_listener_into_fd(mio_unix_listener *listener)
{
	return mio__net_handle_into_fd(listener != NULL ? &listener->io : NULL);
}

void
mio_unix_listener_free(mio_unix_listener *listener)
{
	mio__net_handle_free(listener != NULL ? &listener->io : NULL);
}

/* ---- Stream ---- */

int
mio_unix_stream_connect(const char *path, mio_unix_stream **out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;

	int rc = unix_path_addr(path, &sun, &len);
	if (rc != 0)
		return rc;
	return mio_unix_stream_connect_addr((struct sockaddr *)&sun, len, out);
}

int
mio_unix_stream_connect_addr(const struct sockaddr *addr, socklen_t addrlen,
    mio_unix_stream **out)
{
	int fd;

	if (out == NULL)
		return -EINVAL;
	int rc = unix_check_addr(addr, addrlen);
	if (rc == 0)
		rc = mio__net_connect(SOCK_STREAM, addr, addrlen, &fd);
	if (rc != 0)
		return rc;
	mio_unix_stream *stream = mio__net_handle_wrap(sizeof(*stream), fd);
	if (stream == NULL)
		return -ENOMEM;
	*out = stream;
	return 0;
}

/* Wraps a socketpair in two handles of size bytes each. */
static int
unix_pair(int type, size_t size, void **a, void **b)
{
	int fds[2];

	int rc = mio__net_socketpair(type, fds);
	if (rc != 0)
		return rc;
	*a = mio__net_handle_wrap(size, fds[0]);
	*b = mio__net_handle_wrap(size, fds[1]);
	if (*a == NULL || *b == NULL) {
		mio__net_handle_free(*a);
		mio__net_handle_free(*b);
		return -ENOMEM;
	}
	return 0;
}

int
mio_unix_stream_pair(mio_unix_stream **a, mio_unix_stream **b)
{
	void *first, *second;

	if (a == NULL || b == NULL)
		return -EINVAL;
	int rc = unix_pair(SOCK_STREAM, sizeof(mio_unix_stream), &first,
	    &second);
	if (rc != 0)
		return rc;
	*a = first;
	*b = second;
	return 0;
}

ssize_t
mio_unix_stream_read(mio_unix_stream *stream, void *buf, size_t len)
{
	return mio__net_read(unix_stream_fd(stream), buf, len);
}

ssize_t
mio_unix_stream_write(mio_unix_stream *stream, const void *buf, size_t len)
{
	return mio__net_send(unix_stream_fd(stream), buf, len, NULL, 0);
}

ssize_t
mio_unix_stream_readv(mio_unix_stream *stream, const struct iovec *iov,
    int iovcnt)
{
	return mio__net_readv(unix_stream_fd(stream), iov, iovcnt);
}

ssize_t
mio_unix_stream_writev(mio_unix_stream *stream, const struct iovec *iov,
    int iovcnt)
{
	return mio__net_sendv(unix_stream_fd(stream), iov, iovcnt);
}

int
mio_unix_stream_shutdown(mio_unix_stream *stream, int how)
{
	return mio__net_shutdown(unix_stream_fd(stream), how);
}

int
mio_unix_stream_local_addr(const mio_unix_stream *stream,
    struct sockaddr *addr, socklen_t *addrlen)
{
	return mio__net_local_addr(unix_stream_fd(stream), addr, addrlen);
}

int
mio_unix_stream_peer_addr(const mio_unix_stream *stream,
    struct sockaddr *addr, socklen_t *addrlen)
{
	return mio__net_peer_addr(unix_stream_fd(stream), addr, addrlen);
}

int
mio_unix_stream_take_error(mio_unix_stream *stream)
{
	return mio__net_take_error(unix_stream_fd(stream));
}

mio_source *
mio_unix_stream_source(mio_unix_stream *stream)
{
	return stream != NULL ? &stream->io.source : NULL;
}

int
mio_unix_stream_fd(const mio_unix_stream *stream)
{
	return stream != NULL ? stream->io.fd : -EINVAL;
}

int
mio_unix_stream_from_fd(int fd, mio_unix_stream **out)
{
	if (out == NULL)
		return -EINVAL;
	int rc = mio__net_check_fd(fd);
	if (rc != 0)
		return rc;
	mio_unix_stream *stream = mio__net_handle_new(sizeof(*stream), fd);
	if (stream == NULL)
		return -ENOMEM;
	*out = stream;
	return 0;
}

int
mio_unix_stream_into_fd(mio_unix_stream *stream)
{
	return mio__net_handle_into_fd(stream != NULL ? &stream->io : NULL);
}

void
mio_unix_stream_free(mio_unix_stream *stream)
{
	mio__net_handle_free(stream != NULL ? &stream->io : NULL);
}

/* ---- Datagram ---- */

static int
unix_datagram_wrap(int fd, mio_unix_datagram **out)
{
	mio_unix_datagram *dgram = mio__net_handle_wrap(sizeof(*dgram), fd);

	if (dgram == NULL)
		return -ENOMEM;
	*out = dgram;
	return 0;
}

int
mio_unix_datagram_bind(const char *path, mio_unix_datagram **out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;

	int rc = unix_path_addr(path, &sun, &len);
	if (rc != 0)
		return rc;
	return mio_unix_datagram_bind_addr((struct sockaddr *)&sun, len, out);
}

int
mio_unix_datagram_bind_addr(const struct sockaddr *addr, socklen_t addrlen,
    mio_unix_datagram **out)
{
	int fd;

	if (out == NULL)
		return -EINVAL;
	int rc = unix_check_addr(addr, addrlen);
	if (rc == 0)
		rc = mio__net_bind(SOCK_DGRAM, addr, addrlen,
		    MIO__NET_NO_LISTEN, false, &fd);
	if (rc != 0)
		return rc;
	return unix_datagram_wrap(fd, out);
}

int
mio_unix_datagram_unbound(mio_unix_datagram **out)
{
	int fd;

	if (out == NULL)
		return -EINVAL;
	int rc = mio__net_socket(AF_UNIX, SOCK_DGRAM, &fd);
	if (rc != 0)
		return rc;
	return unix_datagram_wrap(fd, out);
}

int
mio_unix_datagram_pair(mio_unix_datagram **a, mio_unix_datagram **b)
{
	void *first, *second;

	if (a == NULL || b == NULL)
		return -EINVAL;
	int rc = unix_pair(SOCK_DGRAM, sizeof(mio_unix_datagram), &first,
	    &second);
	if (rc != 0)
		return rc;
	*a = first;
	*b = second;
	return 0;
}

int
mio_unix_datagram_connect(mio_unix_datagram *dgram, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;

	int rc = unix_path_addr(path, &sun, &len);
	if (rc != 0)
		return rc;
	return mio_unix_datagram_connect_addr(dgram, (struct sockaddr *)&sun,
	    len);
}

int
mio_unix_datagram_connect_addr(mio_unix_datagram *dgram,
    const struct sockaddr *addr, socklen_t addrlen)
{
	int rc = unix_check_addr(addr, addrlen);

	if (rc != 0)
		return rc;
	return mio__net_connect_fd(unix_datagram_fd(dgram), addr, addrlen);
}

ssize_t
mio_unix_datagram_send_to(mio_unix_datagram *dgram, const void *buf,
    size_t len, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t sunlen;

	int rc = unix_path_addr(path, &sun, &sunlen);
	if (rc != 0)
		return rc;
	return mio_unix_datagram_send_to_addr(dgram, buf, len,
	    (struct sockaddr *)&sun, sunlen);
}

ssize_t
mio_unix_datagram_send_to_addr(mio_unix_datagram *dgram, const void *buf,
    size_t len, const struct sockaddr *addr, socklen_t addrlen)
{
	int rc = unix_check_addr(addr, addrlen);

	if (rc != 0)
		return rc;
	return mio__net_send(unix_datagram_fd(dgram), buf, len, addr,
	    addrlen);
}

ssize_t
mio_unix_datagram_send(mio_unix_datagram *dgram, const void *buf,
    size_t len)
{
	return mio__net_send(unix_datagram_fd(dgram), buf, len, NULL, 0);
}

ssize_t
mio_unix_datagram_recv_from(mio_unix_datagram *dgram, void *buf, size_t len,
    struct sockaddr *addr, socklen_t *addrlen)
{
	return mio__net_recv(unix_datagram_fd(dgram), buf, len, 0, addr,
	    addrlen);
}

ssize_t
mio_unix_datagram_recv(mio_unix_datagram *dgram, void *buf, size_t len)
{
	return mio__net_recv(unix_datagram_fd(dgram), buf, len, 0, NULL,
	    NULL);
}

int
mio_unix_datagram_shutdown(mio_unix_datagram *dgram, int how)
{
	return mio__net_shutdown(unix_datagram_fd(dgram), how);
}

int
mio_unix_datagram_local_addr(const mio_unix_datagram *dgram,
    struct sockaddr *addr, socklen_t *addrlen)
{
	return mio__net_local_addr(unix_datagram_fd(dgram), addr, addrlen);
}

int
mio_unix_datagram_peer_addr(const mio_unix_datagram *dgram,
    struct sockaddr *addr, socklen_t *addrlen)
{
	return mio__net_peer_addr(unix_datagram_fd(dgram), addr, addrlen);
}

int
mio_unix_datagram_take_error(mio_unix_datagram *dgram)
{
	return mio__net_take_error(unix_datagram_fd(dgram));
}

mio_source *
mio_unix_datagram_source(mio_unix_datagram *dgram)
{
	return dgram != NULL ? &dgram->io.source : NULL;
}

int
mio_unix_datagram_fd(const mio_unix_datagram *dgram)
{
	return dgram != NULL ? dgram->io.fd : -EINVAL;
}

int
mio_unix_datagram_from_fd(int fd, mio_unix_datagram **out)
{
	if (out == NULL)
		return -EINVAL;
	int rc = mio__net_check_fd(fd);
	if (rc != 0)
		return rc;
	mio_unix_datagram *dgram = mio__net_handle_new(sizeof(*dgram), fd);
	if (dgram == NULL)
		return -ENOMEM;
	*out = dgram;
	return 0;
}

int
mio_unix_datagram_into_fd(mio_unix_datagram *dgram)
{
	return mio__net_handle_into_fd(dgram != NULL ? &dgram->io : NULL);
}

void
mio_unix_datagram_free(mio_unix_datagram *dgram)
{
	mio__net_handle_free(dgram != NULL ? &dgram->io : NULL);
}
