/*
 * tcp.c - mio_tcp_listener and mio_tcp_stream: mio::net::TcpListener and
 * TcpStream (src/net/tcp/ in mio 1.x).
 *
 * Each handle is a struct mio__io_source and nothing else, so registration
 * bookkeeping is io-source.c's and the I/O is one call into net.c. As in
 * mio, a listener sets SO_REUSEADDR (so a restarted server can bind while
 * old connections sit in TIME_WAIT) and listens with a backlog of 128, and
 * a connect that is still in progress is a success.
 */
#include "net.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

/* mio's backlog (src/net/tcp/listener.rs): the value std uses as well. */
#define TCP_BACKLOG 128

struct mio_tcp_listener {
	struct mio__io_source io;
};

struct mio_tcp_stream {
	struct mio__io_source io;
};

/* TCP wants an IPv4 or IPv6 address; socket(2) would accept AF_UNIX. */
static int
tcp_check_addr(const struct sockaddr *addr, socklen_t addrlen)
{
	if (addr == NULL || addrlen < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	return 0;
}

static int
tcp_listener_fd(const mio_tcp_listener *listener)
{
	return listener != NULL ? listener->io.fd : -1;
}

static int
tcp_stream_fd(const mio_tcp_stream *stream)
{
	return stream != NULL ? stream->io.fd : -1;
}

int
mio_tcp_listener_bind(const struct sockaddr *addr, socklen_t addrlen,
    mio_tcp_listener **out)
{
	int fd;

	if (out == NULL)
		return -EINVAL;
	int rc = tcp_check_addr(addr, addrlen);
	if (rc == 0)
		rc = mio__net_bind(SOCK_STREAM, addr, addrlen, TCP_BACKLOG,
		    true, &fd);
	if (rc != 0)
		return rc;
	mio_tcp_listener *listener = mio__net_handle_wrap(sizeof(*listener),
	    fd);
	if (listener == NULL)
		return -ENOMEM;
	*out = listener;
	return 0;
}

int
mio_tcp_listener_accept(mio_tcp_listener *listener, mio_tcp_stream **out,
    struct sockaddr *peer, socklen_t *peerlen)
{
	int fd;

	if (out == NULL)
		return -EINVAL;
	int rc = mio__net_accept(tcp_listener_fd(listener), peer, peerlen, &fd);
	if (rc != 0)
		return rc;
	mio_tcp_stream *stream = mio__net_handle_wrap(sizeof(*stream), fd);
	if (stream == NULL)
		return -ENOMEM;
	*out = stream;
	return 0;
}

int
mio_tcp_listener_local_addr(const mio_tcp_listener *listener,
    struct sockaddr *addr, socklen_t *addrlen)
{
	return mio__net_local_addr(tcp_listener_fd(listener), addr, addrlen);
}

int
mio_tcp_listener_set_ttl(mio_tcp_listener *listener, uint32_t ttl)
{
	return mio__net_set_ttl(tcp_listener_fd(listener), ttl);
}

int
mio_tcp_listener_ttl(const mio_tcp_listener *listener, uint32_t *ttl)
{
	return mio__net_get_ttl(tcp_listener_fd(listener), ttl);
}

int
mio_tcp_listener_take_error(mio_tcp_listener *listener)
{
	return mio__net_take_error(tcp_listener_fd(listener));
}

mio_source *
mio_tcp_listener_source(mio_tcp_listener *listener)
{
	return listener != NULL ? &listener->io.source : NULL;
}

int
mio_tcp_listener_fd(const mio_tcp_listener *listener)
{
	return listener != NULL ? listener->io.fd : -EINVAL;
}

int
mio_tcp_listener_from_fd(int fd, mio_tcp_listener **out)
{
	if (out == NULL)
		return -EINVAL;
	int rc = mio__net_check_fd(fd);
	if (rc != 0)
		return rc;
	mio_tcp_listener *listener = mio__net_handle_new(sizeof(*listener), fd);
	if (listener == NULL)
		return -ENOMEM;
	*out = listener;
	return 0;
}

int
mio_tcp_listener_into_fd(mio_tcp_listener *listener)
{
	return mio__net_handle_into_fd(listener != NULL ? &listener->io : NULL);
}

void
mio_tcp_listener_free(mio_tcp_listener *listener)
{
	mio__net_handle_free(listener != NULL ? &listener->io : NULL);
}

int
mio_tcp_stream_connect(const struct sockaddr *addr, socklen_t addrlen,
    mio_tcp_stream **out)
{
	int fd;

	if (out == NULL)
		return -EINVAL;
	int rc = tcp_check_addr(addr, addrlen);
	if (rc == 0)
		rc = mio__net_connect(SOCK_STREAM, addr, addrlen, &fd);
	if (rc != 0)
		return rc;
	mio_tcp_stream *stream = mio__net_handle_wrap(sizeof(*stream), fd);
	if (stream == NULL)
		return -ENOMEM;
	*out = stream;
	return 0;
}

ssize_t
mio_tcp_stream_read(mio_tcp_stream *stream, void *buf, size_t len)
{
	return mio__net_read(tcp_stream_fd(stream), buf, len);
}

ssize_t
mio_tcp_stream_write(mio_tcp_stream *stream, const void *buf, size_t len)
{
	return mio__net_send(tcp_stream_fd(stream), buf, len, NULL, 0);
}

ssize_t
mio_tcp_stream_readv(mio_tcp_stream *stream, const struct iovec *iov,
    int iovcnt)
{
	return mio__net_readv(tcp_stream_fd(stream), iov, iovcnt);
}

ssize_t
mio_tcp_stream_writev(mio_tcp_stream *stream, const struct iovec *iov,
    int iovcnt)
{
	return mio__net_sendv(tcp_stream_fd(stream), iov, iovcnt);
}

ssize_t
mio_tcp_stream_peek(mio_tcp_stream *stream, void *buf, size_t len)
{
	return mio__net_recv(tcp_stream_fd(stream), buf, len, MSG_PEEK, NULL,
	    NULL);
}

int
mio_tcp_stream_shutdown(mio_tcp_stream *stream, int how)
{
	return mio__net_shutdown(tcp_stream_fd(stream), how);
}

int
mio_tcp_stream_set_nodelay(mio_tcp_stream *stream, bool nodelay)
{
	return mio__net_set_bool(tcp_stream_fd(stream), IPPROTO_TCP,
	    TCP_NODELAY, nodelay);
}

int
mio_tcp_stream_nodelay(const mio_tcp_stream *stream, bool *nodelay)
{
	return mio__net_get_bool(tcp_stream_fd(stream), IPPROTO_TCP,
	    TCP_NODELAY, nodelay);
}

int
mio_tcp_stream_set_ttl(mio_tcp_stream *stream, uint32_t ttl)
{
	return mio__net_set_ttl(tcp_stream_fd(stream), ttl);
}

int
mio_tcp_stream_ttl(const mio_tcp_stream *stream, uint32_t *ttl)
{
	return mio__net_get_ttl(tcp_stream_fd(stream), ttl);
}

int
mio_tcp_stream_peer_addr(const mio_tcp_stream *stream, struct sockaddr *addr,
    socklen_t *addrlen)
{
	return mio__net_peer_addr(tcp_stream_fd(stream), addr, addrlen);
}

int
mio_tcp_stream_local_addr(const mio_tcp_stream *stream,
    struct sockaddr *addr, socklen_t *addrlen)
{
	return mio__net_local_addr(tcp_stream_fd(stream), addr, addrlen);
}

int
mio_tcp_stream_take_error(mio_tcp_stream *stream)
{
	return mio__net_take_error(tcp_stream_fd(stream));
}

mio_source *
mio_tcp_stream_source(mio_tcp_stream *stream)
{
	return stream != NULL ? &stream->io.source : NULL;
}

int
mio_tcp_stream_fd(const mio_tcp_stream *stream)
{
	return stream != NULL ? stream->io.fd : -EINVAL;
}

int
mio_tcp_stream_from_fd(int fd, mio_tcp_stream **out)
{
	if (out == NULL)
		return -EINVAL;
	int rc = mio__net_check_fd(fd);
	if (rc != 0)
		return rc;
	mio_tcp_stream *stream = mio__net_handle_new(sizeof(*stream), fd);
	if (stream == NULL)
		return -ENOMEM;
	*out = stream;
	return 0;
}

int
mio_tcp_stream_into_fd(mio_tcp_stream *stream)
{
	return mio__net_handle_into_fd(stream != NULL ? &stream->io : NULL);
}

void
mio_tcp_stream_free(mio_tcp_stream *stream)
{
	mio__net_handle_free(stream != NULL ? &stream->io : NULL);
}
