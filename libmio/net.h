/*
 * net.h - descriptor helpers shared by libmio's handles (tcp.c, udp.c,
 * unix.c, pipe.c): creation with non-blocking and close-on-exec set, I/O
 * that never raises SIGPIPE, socket options and addresses.
 *
 * net.c is the one portable file that looks at configure's probes
 * (HAVE_ACCEPT4, HAVE_PIPE2, HAVE_DECL_SOCK_CLOEXEC, HAVE_DECL_MSG_NOSIGNAL,
 * HAVE_DECL_SO_NOSIGPIPE), so the handle files need none.
 *
 * Every function returns 0 (or a count) or a negative errno, and takes a
 * descriptor that is negative only when the caller's handle was NULL: that
 * gives -EINVAL, so the public wrappers need no check of their own.
 */
#ifndef MIO_NET_H
#define MIO_NET_H

#include "mio-internal.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "io-source.h"

/* Creation: every descriptor is non-blocking and close-on-exec. */
int mio__net_socket(int family, int type, int *out_fd);
int mio__net_socketpair(int type, int fds[2]);
int mio__net_pipe(int fds[2]);
int mio__net_accept(int listen_fd, struct sockaddr *addr, socklen_t *addrlen,
    int *out_fd);
/* A new socket of type for addr's family, bound to addr (and listening with
 * backlog unless backlog is MIO__NET_NO_LISTEN); closes it on failure. */
#define MIO__NET_NO_LISTEN INT32_MIN
int mio__net_bind(int type, const struct sockaddr *addr, socklen_t addrlen,
    int backlog, bool reuse_addr, int *out_fd);
/* A new socket connected (or connecting: EINPROGRESS is success) to addr. */
int mio__net_connect(int type, const struct sockaddr *addr,
    socklen_t addrlen, int *out_fd);
/* Validates a descriptor handed to a _from_fd() function. */
int mio__net_check_fd(int fd);
int mio__net_set_nonblocking(int fd, bool nonblocking);

/* Handles: a malloc'ed struct of size bytes whose first member is a struct
 * mio__io_source owning fd, or NULL when out of memory (fd is left open). */
void *mio__net_handle_new(size_t size, int fd);
/* The same for a descriptor libmio just made: closes it when out of memory. */
void *mio__net_handle_wrap(size_t size, int fd);
void mio__net_handle_free(struct mio__io_source *io);
int mio__net_handle_into_fd(struct mio__io_source *io);

/* I/O. Sends use MSG_NOSIGNAL where it exists; pipe writes block SIGPIPE. */
ssize_t mio__net_read(int fd, void *buf, size_t len);
ssize_t mio__net_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t mio__net_recv(int fd, void *buf, size_t len, int flags,
    struct sockaddr *addr, socklen_t *addrlen);
ssize_t mio__net_send(int fd, const void *buf, size_t len,
    const struct sockaddr *addr, socklen_t addrlen);
ssize_t mio__net_sendv(int fd, const struct iovec *iov, int iovcnt);
ssize_t mio__net_pipe_write(int fd, const void *buf, size_t len);
ssize_t mio__net_pipe_writev(int fd, const struct iovec *iov, int iovcnt);

/* Socket state. */
int mio__net_connect_fd(int fd, const struct sockaddr *addr,
    socklen_t addrlen);
int mio__net_shutdown(int fd, int how);
int mio__net_take_error(int fd);
int mio__net_local_addr(int fd, struct sockaddr *addr, socklen_t *addrlen);
int mio__net_peer_addr(int fd, struct sockaddr *addr, socklen_t *addrlen);

/* Options of type int, as a bool or a value; and their byte-sized cousins
 * (IP_MULTICAST_TTL and IP_MULTICAST_LOOP are u_char on the BSDs). */
int mio__net_set_int(int fd, int level, int name, int value);
int mio__net_get_int(int fd, int level, int name, int *value);
int mio__net_set_bool(int fd, int level, int name, bool value);
int mio__net_get_bool(int fd, int level, int name, bool *value);
int mio__net_set_byte(int fd, int level, int name, unsigned char value);
int mio__net_get_byte(int fd, int level, int name, unsigned char *value);
/* IP_TTL or IPV6_UNICAST_HOPS, after the socket's family. */
int mio__net_set_ttl(int fd, uint32_t ttl);
int mio__net_get_ttl(int fd, uint32_t *ttl);

#endif /* MIO_NET_H */
