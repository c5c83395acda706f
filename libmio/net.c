/*
 * net.c - descriptor helpers behind libmio's TCP, UDP, Unix-socket and pipe
 * handles; see net.h.
 *
 * This is the one portable file that reads configure's probes; each probe
 * picks a constant or one small function, so the rest is free of #if:
 *
 * - SOCK_NONBLOCK|SOCK_CLOEXEC (Linux, the BSDs) make socket(2) and
 *   socketpair(2) set both flags atomically, so a fork+exec in another
 *   thread cannot inherit the descriptor. Elsewhere (macOS) the flags are
 *   set with fcntl(2) right after creation, as mio does on Apple targets
 *   (src/sys/unix/net.rs), and a tiny window remains.
 * - accept4(2) and pipe2(2) do the same for accepted sockets and pipes.
 *   Without accept4, the accepted socket is made non-blocking explicitly
 *   rather than trusting inheritance from the listener (mio issue 1450).
 * - Writes must never raise SIGPIPE. Sockets get MSG_NOSIGNAL on every send
 *   (Linux, FreeBSD, OpenBSD, NetBSD) and SO_NOSIGPIPE at creation where it
 *   exists (macOS, FreeBSD). Pipes have neither, so pipe writes block
 *   SIGPIPE in the calling thread around the write and consume the signal
 *   the write raised; see net_pipe_writev() below.
 */
#include "net.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if HAVE_DECL_SOCK_CLOEXEC && HAVE_DECL_SOCK_NONBLOCK
#define NET_SOCK_FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)
#else
#define NET_SOCK_FLAGS 0
#endif

#if !HAVE_DECL_MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

#if HAVE_DECL_SO_NOSIGPIPE
#define NET_SO_NOSIGPIPE SO_NOSIGPIPE
#else
#define NET_SO_NOSIGPIPE 0
#endif

/* Sets O_NONBLOCK and FD_CLOEXEC where creation could not. */
static int
net_set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -errno;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -errno;
	return 0;
}

/*
 * Finishes a socket made with NET_SOCK_FLAGS: sets the flags where the
 * kernel could not, and SO_NOSIGPIPE where that is the platform's way to
 * keep writes from raising SIGPIPE. Closes fd on failure.
 */
static int
net_finish_socket(int fd, bool flags_set)
{
	int rc = flags_set ? 0 : net_set_flags(fd);

	if (rc == 0 && NET_SO_NOSIGPIPE != 0)
		rc = mio__net_set_int(fd, SOL_SOCKET, NET_SO_NOSIGPIPE, 1);
	if (rc != 0)
		close(fd);
	return rc;
}

int
mio__net_socket(int family, int type, int *out_fd)
{
	int fd = socket(family, type | NET_SOCK_FLAGS, 0);

	if (fd == -1)
		return -errno;
	int rc = net_finish_socket(fd, NET_SOCK_FLAGS != 0);
	if (rc == 0)
		*out_fd = fd;
	return rc;
}

int
mio__net_socketpair(int type, int fds[2])
{
	int pair[2];

	if (socketpair(AF_UNIX, type | NET_SOCK_FLAGS, 0, pair) == -1)
		return -errno;
	int rc = net_finish_socket(pair[0], NET_SOCK_FLAGS != 0);
	if (rc != 0) {
		close(pair[1]);
		return rc;
	}
	rc = net_finish_socket(pair[1], NET_SOCK_FLAGS != 0);
	if (rc != 0) {
		close(pair[0]);
		return rc;
	}
	fds[0] = pair[0];
	fds[1] = pair[1];
	return 0;
}

#ifdef HAVE_PIPE2
static int
net_pipe_raw(int fds[2])
{
	return pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1 ? -errno : 0;
}
#else
static int
net_pipe_raw(int fds[2])
{
	if (pipe(fds) == -1)
		return -errno;
	int rc = net_set_flags(fds[0]);
	if (rc == 0)
		rc = net_set_flags(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		close(fds[1]);
	}
	return rc;
}
#endif

int
mio__net_pipe(int fds[2])
{
	return net_pipe_raw(fds);
}

#ifdef HAVE_ACCEPT4
static int
net_accept_raw(int listen_fd, struct sockaddr *addr, socklen_t *addrlen,
    bool *flags_set)
{
	*flags_set = true;
	return accept4(listen_fd, addr, addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
#else
static int
net_accept_raw(int listen_fd, struct sockaddr *addr, socklen_t *addrlen,
    bool *flags_set)
{
	*flags_set = false;
	return accept(listen_fd, addr, addrlen);
}
#endif

int
mio__net_accept(int listen_fd, struct sockaddr *addr, socklen_t *addrlen,
    int *out_fd)
{
	bool flags_set;

	if (listen_fd < 0 || out_fd == NULL ||
	    (addr != NULL && addrlen == NULL))
		return -EINVAL;
	int fd = net_accept_raw(listen_fd, addr, addrlen, &flags_set);
	if (fd == -1)
		return -errno;
	int rc = net_finish_socket(fd, flags_set);
	if (rc == 0)
		*out_fd = fd;
	return rc;
}

/* Whether addr is long enough to carry an address family. */
static bool
net_addr_valid(const struct sockaddr *addr, socklen_t addrlen)
{
	return addr != NULL && addrlen >= (socklen_t)sizeof(sa_family_t);
}

int
mio__net_bind(int type, const struct sockaddr *addr, socklen_t addrlen,
    int backlog, bool reuse_addr, int *out_fd)
{
	int fd;

	if (!net_addr_valid(addr, addrlen))
		return -EINVAL;
	int rc = mio__net_socket(addr->sa_family, type, &fd);
	if (rc != 0)
		return rc;
	if (reuse_addr)
		rc = mio__net_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (rc == 0 && bind(fd, addr, addrlen) == -1)
		rc = -errno;
	if (rc == 0 && backlog != MIO__NET_NO_LISTEN &&
	    listen(fd, backlog) == -1)
		rc = -errno;
	if (rc != 0) {
		close(fd);
		return rc;
	}
	*out_fd = fd;
	return 0;
}

int
mio__net_connect_fd(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	if (fd < 0 || !net_addr_valid(addr, addrlen))
		return -EINVAL;
	if (connect(fd, addr, addrlen) == -1 && errno != EINPROGRESS)
		return -errno;
	return 0;
}

int
mio__net_connect(int type, const struct sockaddr *addr, socklen_t addrlen,
    int *out_fd)
{
	int fd;

	if (!net_addr_valid(addr, addrlen))
		return -EINVAL;
	int rc = mio__net_socket(addr->sa_family, type, &fd);
	if (rc != 0)
		return rc;
	/* EINPROGRESS is success: the caller waits for writable readiness and
	 * then asks take_error() how the connection went. */
	rc = mio__net_connect_fd(fd, addr, addrlen);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	*out_fd = fd;
	return 0;
}

int
mio__net_check_fd(int fd)
{
	if (fd < 0 || fcntl(fd, F_GETFD) == -1)
		return -EBADF;
	return 0;
}

int
mio__net_set_nonblocking(int fd, bool nonblocking)
{
	if (fd < 0)
		return -EINVAL;
	int fl = fcntl(fd, F_GETFL);
	if (fl == -1)
		return -errno;
	int want = nonblocking ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	if (want != fl && fcntl(fd, F_SETFL, want) == -1)
		return -errno;
	return 0;
}

void *
mio__net_handle_new(size_t size, int fd)
{
	struct mio__io_source *io = malloc(size);

	if (io != NULL)
		mio__io_source_init(io, fd);
	return io;
}

void *
mio__net_handle_wrap(size_t size, int fd)
{
	void *handle = mio__net_handle_new(size, fd);

	if (handle == NULL)
		close(fd);
	return handle;
}

void
mio__net_handle_free(struct mio__io_source *io)
{
	if (io == NULL)
		return;
	mio__io_source_close(io);
	free(io);
}

int
mio__net_handle_into_fd(struct mio__io_source *io)
{
	if (io == NULL)
		return -EINVAL;
	int fd = mio__io_source_release(io);
	free(io);
	return fd;
}

ssize_t
mio__net_read(int fd, void *buf, size_t len)
{
	if (fd < 0 || (buf == NULL && len > 0))
		return -EINVAL;
	ssize_t n = read(fd, buf, len);
	return n == -1 ? -errno : n;
}

ssize_t
mio__net_readv(int fd, const struct iovec *iov, int iovcnt)
{
	if (fd < 0 || (iov == NULL && iovcnt > 0))
		return -EINVAL;
	ssize_t n = readv(fd, iov, iovcnt);
	return n == -1 ? -errno : n;
}

ssize_t
mio__net_recv(int fd, void *buf, size_t len, int flags,
    struct sockaddr *addr, socklen_t *addrlen)
{
	if (fd < 0 || (buf == NULL && len > 0) ||
	    (addr != NULL && addrlen == NULL))
		return -EINVAL;
	ssize_t n = recvfrom(fd, buf, len, flags, addr, addrlen);
	return n == -1 ? -errno : n;
}

ssize_t
mio__net_send(int fd, const void *buf, size_t len,
    const struct sockaddr *addr, socklen_t addrlen)
{
	if (fd < 0 || (buf == NULL && len > 0))
		return -EINVAL;
	ssize_t n = sendto(fd, buf, len, MSG_NOSIGNAL, addr, addrlen);
	return n == -1 ? -errno : n;
}

ssize_t
mio__net_sendv(int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr msg;

	if (fd < 0 || (iov == NULL && iovcnt > 0))
		return -EINVAL;
	memset(&msg, 0, sizeof(msg));
	/* msg_iov is not const in struct msghdr; sendmsg() does not write. */
	msg.msg_iov = (struct iovec *)(uintptr_t)iov;
	msg.msg_iovlen = iovcnt;
	ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	return n == -1 ? -errno : n;
}

/* Whether SIGPIPE is pending for this thread or the process. */
static bool
net_sigpipe_pending(void)
{
	sigset_t pending;

	return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

/*
 * A pipe write that cannot raise SIGPIPE. Pipes have no MSG_NOSIGNAL, and a
 * library may not change the process's signal disposition, so SIGPIPE is
 * blocked in this thread for the duration of the write. A write to a pipe
 * whose reader is gone then fails with EPIPE and leaves a SIGPIPE pending
 * for this thread; it is consumed with sigwait() before the old mask is
 * restored, unless one was already pending before the write (signals do not
 * queue, so that one may be someone else's and must stay). The signal the
 * kernel raises is thread-directed, so no other thread can take it first.
 *
 * Only a thread that already blocked SIGPIPE can have one pending: with
 * the signal unblocked, the kernel would have delivered it. So the common
 * case costs two extra system calls (block, restore), and a thread that
 * blocks SIGPIPE itself pays for sigpending() instead of the restore.
 */
static ssize_t
net_pipe_writev(int fd, const struct iovec *iov, int iovcnt)
{
	sigset_t sigpipe, old_mask;

	sigemptyset(&sigpipe);
	sigaddset(&sigpipe, SIGPIPE);
	int rc = pthread_sigmask(SIG_BLOCK, &sigpipe, &old_mask);
	if (rc != 0)
		return -rc;
	bool was_blocked = sigismember(&old_mask, SIGPIPE) == 1;
	bool was_pending = was_blocked && net_sigpipe_pending();
	ssize_t n = writev(fd, iov, iovcnt);
	int err = n == -1 ? errno : 0;
	if (err == EPIPE && !was_pending && net_sigpipe_pending()) {
		int sig;
		sigwait(&sigpipe, &sig);
	}
	if (!was_blocked)
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	return n == -1 ? -err : n;
}

ssize_t
mio__net_pipe_write(int fd, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf,
		.iov_len = len };

	if (fd < 0 || (buf == NULL && len > 0))
		return -EINVAL;
	return net_pipe_writev(fd, &iov, 1);
}

ssize_t
mio__net_pipe_writev(int fd, const struct iovec *iov, int iovcnt)
{
	if (fd < 0 || (iov == NULL && iovcnt > 0))
		return -EINVAL;
	return net_pipe_writev(fd, iov, iovcnt);
}

int
mio__net_shutdown(int fd, int how)
{
	if (fd < 0)
		return -EINVAL;
	return shutdown(fd, how) == -1 ? -errno : 0;
}

int
mio__net_take_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -EINVAL;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return -errno;
	return -err;
}

int
mio__net_local_addr(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	if (fd < 0 || addr == NULL || addrlen == NULL)
		return -EINVAL;
	return getsockname(fd, addr, addrlen) == -1 ? -errno : 0;
}

int
mio__net_peer_addr(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	if (fd < 0 || addr == NULL || addrlen == NULL)
		return -EINVAL;
	return getpeername(fd, addr, addrlen) == -1 ? -errno : 0;
}

int
mio__net_set_int(int fd, int level, int name, int value)
{
	if (fd < 0)
		return -EINVAL;
	if (setsockopt(fd, level, name, &value, sizeof(value)) == -1)
		return -errno;
	return 0;
}

int
mio__net_get_int(int fd, int level, int name, int *value)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (fd < 0 || value == NULL)
		return -EINVAL;
	if (getsockopt(fd, level, name, &v, &len) == -1)
		return -errno;
	*value = v;
	return 0;
}

int
mio__net_set_bool(int fd, int level, int name, bool value)
{
	return mio__net_set_int(fd, level, name, value ? 1 : 0);
}

int
mio__net_get_bool(int fd, int level, int name, bool *value)
{
	int v = 0;

	if (value == NULL)
		return -EINVAL;
	int rc = mio__net_get_int(fd, level, name, &v);
	if (rc == 0)
		*value = v != 0;
	return rc;
}

int
mio__net_set_byte(int fd, int level, int name, unsigned char value)
{
	if (fd < 0)
		return -EINVAL;
	if (setsockopt(fd, level, name, &value, sizeof(value)) == -1)
		return -errno;
	return 0;
}

/*
 * Linux answers a one-byte getsockopt() of these options with one byte, the
 * BSDs store u_char anyway; either way the value fits.
 */
int
mio__net_get_byte(int fd, int level, int name, unsigned char *value)
{
	unsigned char v = 0;
	socklen_t len = sizeof(v);

	if (fd < 0 || value == NULL)
		return -EINVAL;
	if (getsockopt(fd, level, name, &v, &len) == -1)
		return -errno;
	*value = v;
	return 0;
}

/* The level and option of the socket's unicast TTL, after its family. */
static int
net_ttl_option(int fd, int *level, int *name)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	int rc = mio__net_local_addr(fd, (struct sockaddr *)&ss, &len);
	if (rc != 0)
		return rc;
	if (ss.ss_family == AF_INET6) {
		*level = IPPROTO_IPV6;
		*name = IPV6_UNICAST_HOPS;
	} else {
		*level = IPPROTO_IP;
		*name = IP_TTL;
	}
	return 0;
}

int
mio__net_set_ttl(int fd, uint32_t ttl)
{
	int level, name;

	if (ttl > 255)
		return -EINVAL;
	int rc = net_ttl_option(fd, &level, &name);
	if (rc != 0)
		return rc;
	return mio__net_set_int(fd, level, name, (int)ttl);
}

int
mio__net_get_ttl(int fd, uint32_t *ttl)
{
	int level, name, v = 0;

	if (ttl == NULL)
		return -EINVAL;
	int rc = net_ttl_option(fd, &level, &name);
	if (rc == 0)
		rc = mio__net_get_int(fd, level, name, &v);
	if (rc == 0)
		*ttl = (uint32_t)v;
	return rc;
}
