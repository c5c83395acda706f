/*
 * util.h - helpers shared by libmio's tests, after mio's tests/util.
 *
 * expect_events() polls up to three times (500 ms each) until every expected
 * (token, readiness) pair was seen, and tolerates extra events: spurious
 * events are allowed by the contract, so a test that forbade them would test
 * the kernel's mood rather than libmio.
 */
#ifndef MIO_T_UTIL_H
#define MIO_T_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "mio.h"
#include "tap.h"

/* Readiness bits for expectations; an expectation matches an event that
 * has the token and at least these bits (mio's "implication" match). */
enum {
	R_READABLE = 1 << 0,
	R_WRITABLE = 1 << 1,
	R_AIO = 1 << 2,
	R_LIO = 1 << 3,
	R_ERROR = 1 << 4,
	R_READ_CLOSED = 1 << 5,
	R_WRITE_CLOSED = 1 << 6,
	R_PRIORITY = 1 << 7,
};

struct expected_event {
	mio_token token;
	unsigned readiness;
};

/* The R_* bits an event has. */
unsigned event_readiness(const mio_event *ev);
/* "READABLE|WRITABLE" for the R_* bits, in a static buffer per call site. */
const char *readiness_name(unsigned readiness, char *buf, size_t len);

bool expect_events_at(const char *file, int line, mio_poll *poll,
    mio_events *events, const struct expected_event *want, size_t n);
#define expect_events(poll, events, ...)                                   \
	expect_events_at(__FILE__, __LINE__, (poll), (events),             \
	    (const struct expected_event[]){ __VA_ARGS__ },                \
	    sizeof((const struct expected_event[]){ __VA_ARGS__ }) /       \
		sizeof(struct expected_event))

/* Passes if a 50 ms poll returns no event at all. */
bool expect_no_events_at(const char *file, int line, mio_poll *poll,
    mio_events *events);
#define expect_no_events(poll, events) \
	expect_no_events_at(__FILE__, __LINE__, (poll), (events))

/* Passes if no event of the last poll carries token. */
bool no_event_with_token(const mio_events *events, mio_token token);

/* Creates a poll and a 16-event buffer or bails. */
void init_with_poll(mio_poll **poll, mio_events **events);

/*
 * mio_poll_free(), then, on libkqueue, a wait until libkqueue has released
 * the kqueue (bails after 10 s); the tests free every poll through it.
 * libkqueue learns of a closed kqueue from a queued signal that names the
 * kqueue by the number of its close-detect pipe's read end. When kqueues
 * are freed and new ones made before its monitoring thread runs, a new
 * kqueue can take that number, and the late signal then destroys the new
 * kqueue: kevent() answers ENOENT and the descriptor is closed under
 * libmio's feet (docs/backends.md, libkqueue point 3). Waiting keeps each
 * test about libmio rather than about that race. A registry clone keeps
 * the kqueue open: free clones first, or note the kqueue before
 * mio_poll_free() and wait for it after freeing the last clone.
 */
void free_poll(mio_poll *poll);

/* What kqueue_wait_released() needs to recognise a libkqueue kqueue: the
 * name of its pipe in /proc/self/fd, or "" on other backends. */
struct kqueue_note {
	char pipe_name[64];
};
void kqueue_note(int selector_fd, struct kqueue_note *note);
/* Waits, as free_poll() does, until libkqueue has released the kqueue
 * noted; returns at once on other backends. */
void kqueue_wait_released(const struct kqueue_note *note);

/* A timespec of ms milliseconds. */
struct timespec ms_timeout(long ms);
/* Monotonic milliseconds. */
long long now_ms(void);
void sleep_ms(long ms);

/* Descriptor flags. */
bool fd_is_nonblocking(int fd);
bool fd_is_cloexec(int fd);
void fd_set_nonblocking(int fd);
/* Number of open descriptors of this process (from /proc or /dev/fd). */
int count_open_fds(void);

/*
 * libkqueue implements kqueue over epoll on Linux. Where it departs from
 * native kqueue the tests say so rather than bend libmio toward it (see
 * docs/backends.md, "libkqueue").
 */
bool is_libkqueue(void);

/*
 * The number of open descriptors once it has dropped to want, or stopped
 * dropping. libkqueue releases a closed kqueue's own descriptors (its epoll
 * and the read end of its pipe) later, in its monitoring thread, not in
 * close() (src/linux/platform.c, monitoring_thread_kqueue_cleanup), so
 * counts only mean something once it has caught up; native kernels release
 * everything in close() and this returns at once.
 */
int settled_fd_count(int want);

/* Passes if no descriptor leaked since before was counted (on libkqueue:
 * none beyond what its asynchronous cleanup has yet to release). */
bool is_fd_count_at(const char *file, int line, int before,
    const char *what);
#define is_fd_count(before, what) \
	is_fd_count_at(__FILE__, __LINE__, (before), (what))

/* Non-blocking, close-on-exec socketpair; bails on failure. */
void nb_socketpair(int type, int fds[2]);
/* Non-blocking pipe (fds[0] read end); bails on failure. */
void nb_pipe(int fds[2]);

/*
 * A listening TCP socket on loopback port 0 (family AF_INET or AF_INET6),
 * non-blocking; its address is stored in *addr. Returns -1 (no bail) if
 * the family is unavailable, for example IPv6 disabled.
 */
int tcp_listen_loopback(int family, struct sockaddr_storage *addr,
    socklen_t *addrlen);
/* A non-blocking connect to addr; bails unless it succeeds or is pending. */
int tcp_connect_nb(const struct sockaddr_storage *addr, socklen_t addrlen);
/* Accepts with a blocking wait of up to 2 s; bails on failure. */
int tcp_accept_wait(int listen_fd);
/* A UDP socket bound to loopback port 0, non-blocking. */
int udp_bind_loopback(int family, struct sockaddr_storage *addr,
    socklen_t *addrlen);
/* SO_LINGER {1, 0}: close() then sends RST. */
void set_linger_zero(int fd);

#endif /* MIO_T_UTIL_H */
