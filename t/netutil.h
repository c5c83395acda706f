/*
 * netutil.h - helpers for the tests of libmio's net handles (t/tcp*.c,
 * t/udp.c, t/unix_*.c, t/pipe.c, t/close_on_drop.c), on top of util.h.
 *
 * Everything binds to port 0 on 127.0.0.1 or ::1, and Unix sockets live in
 * a private directory under $TMPDIR (or /tmp) removed at exit. Helpers that
 * cannot set up what a test needs bail out: a broken fixture is not a
 * failed assertion.
 */
#ifndef MIO_T_NETUTIL_H
#define MIO_T_NETUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util.h"

/* Whether the kqueue backend is compiled in (some hints differ there). */
bool is_kqueue(void);

/* Whether this is Linux, where libkqueue emulates kqueue over epoll and
 * so keeps Linux's socket behaviour. */
bool is_linux(void);

/* Bails with what and mio_strerror(rc) unless rc is 0. */
void must(int rc, const char *what);

/* The loopback address of family (AF_INET or AF_INET6) with port 0. */
void loopback_any_port(int family, struct sockaddr_storage *addr,
    socklen_t *len);
/* Whether ::1 can be bound here; IPv6 tests skip when it cannot. */
bool ipv6_available(void);
/* The port of an AF_INET or AF_INET6 address. */
unsigned addr_port(const struct sockaddr_storage *addr);
/* Whether two AF_INET/AF_INET6 addresses have equal family, IP and port. */
bool addr_equal(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b);
/* An address on loopback that nobody listens on (bound, then closed). */
void closed_port(int family, int type, struct sockaddr_storage *addr,
    socklen_t *len);

/* A listener on loopback port 0; its address in *addr. Bails on failure. */
mio_tcp_listener *tcp_listener_loopback(int family,
    struct sockaddr_storage *addr, socklen_t *len);
/* Waits up to 2 s (poll(2) on the descriptor) and accepts one stream. */
mio_tcp_stream *tcp_accept_one(mio_tcp_listener *listener);
/* A connected pair over loopback: *client made by connect, *server by
 * accept. The listener is freed. */
void tcp_stream_pair(int family, mio_tcp_stream **client,
    mio_tcp_stream **server);
/* A UDP socket on loopback port 0; its address in *addr. */
mio_udp_socket *udp_socket_loopback(int family, struct sockaddr_storage *addr,
    socklen_t *len);

/* Whether fd is an open descriptor. */
bool fd_is_open(int fd);
/* Waits up to ms for fd to become readable (poll(2)); true if it did. */
bool wait_fd_readable(int fd, int ms);
/* Waits up to ms for fd to become writable (poll(2)); true if it did. */
bool wait_fd_writable(int fd, int ms);

/*
 * Checks the registration bookkeeping of an owned handle, identically on
 * every backend: a second register is -EEXIST, also from another poll;
 * reregister and deregister from another poll are -EEXIST; once
 * deregistered, reregister and deregister are -ENOENT; and the handle may
 * then register with the other poll. Leaves the handle unregistered.
 */
void registration_rules(mio_source *source, const char *what);

/* A fresh path in the test's private directory, removed at exit. */
const char *temp_socket_path(const char *name);

/* A pattern byte for offset i of a transfer, so that corruption shows. */
static inline unsigned char
pattern_byte(size_t i)
{
	return (unsigned char)((i * 7 + i / 251) & 0xff);
}

#endif /* MIO_T_NETUTIL_H */
