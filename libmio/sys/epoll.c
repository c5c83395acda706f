/*
 * sys/epoll.c - the epoll selector (Linux).
 *
 * Port of mio's src/sys/unix/selector/epoll.rs (tokio-rs/mio 1.2.2), written
 * anew in C. Notes about epoll that shaped this file:
 *
 * - Registration is always edge-triggered (EPOLLET); the interest-to-bits
 *   mapping is mio_inline_epoll_events() in mio-inline-epoll.h, which epoll
 *   builds also compile into callers. Readable interest also
 *   asks for EPOLLRDHUP so that a peer's FIN is reported as read-closed
 *   without a read; priority interest asks for EPOLLPRI (TCP urgent data).
 *   EPOLLONESHOT, EPOLLEXCLUSIVE and EPOLLWAKEUP are never used, as in mio.
 * - The token lives in epoll_event.data.u64. libmio keeps no per-descriptor
 *   state, so registration is lock-free: epoll_ctl() is thread-safe, also
 *   against a concurrent epoll_wait() on another thread.
 * - epoll watches open file descriptions, not descriptor numbers: closing a
 *   registered descriptor only unregisters it once every duplicate is closed
 *   (see epoll(7), "Will closing a file descriptor cause it to be removed").
 * - EPOLL_CTL_ADD of a regular file or /dev/null fails with EPERM; a second
 *   ADD of the same descriptor fails with EEXIST; MOD or DEL of an unknown
 *   one with ENOENT. These are returned as they are.
 * - epoll_wait() takes whole milliseconds. Since Linux 5.11 epoll_pwait2()
 *   takes a timespec; glibc may have the wrapper while the running kernel
 *   lacks the system call, so ENOSYS switches to epoll_wait() for good.
 *   Only timeouts with a sub-millisecond part need it, and only below the
 *   clamp, so that every timeout past INT_MAX ms is clamped alike.
 *   A millisecond timeout is rounded up, never down, so that a 1 us timeout
 *   does not become a busy zero (mio does the same), and is clamped to
 *   INT_MAX ms (about 24.8 days; mio 1.2.1 fixed the overflow there).
 * - EINTR is returned to the caller and never retried (mio 1.x).
 * - The event word of a pipe whose reader is gone is EPOLLERR alone, which
 *   mio reports as write-closed; see epoll_event_is_write_closed below.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sys/selector.h"
/* The interest-to-bits mapping lives there, shared with the inline path
 * that epoll builds compile into callers; included here even when a
 * MIO_NO_INLINE build keeps mio.h from including it. */
#include "mio-inline-epoll.h"

int
mio__selector_new(int *out_fd)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd == -1)
		return -errno;
	*out_fd = fd;
	return 0;
}

/* Rounds a timespec up to whole milliseconds, clamped to INT_MAX. */
static int
epoll_timeout_ms(const struct timespec *timeout)
{
	if (timeout == NULL)
		return -1;
	if (timeout->tv_sec >= INT_MAX / 1000)
		return INT_MAX;
	long long ms = (long long)timeout->tv_sec * 1000 +
	    (timeout->tv_nsec + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

#ifdef HAVE_EPOLL_PWAIT2
/* Cleared when the running kernel answers ENOSYS (Linux < 5.11). */
static atomic_bool epoll_have_pwait2 = true;

static int
epoll_wait_precise(int epfd, struct epoll_event *buf, int capacity,
    const struct timespec *timeout)
{
	if (!atomic_load_explicit(&epoll_have_pwait2, memory_order_relaxed))
		return -ENOSYS;
	int n = epoll_pwait2(epfd, buf, capacity, timeout, NULL);
	if (n == -1 && errno == ENOSYS) {
		atomic_store_explicit(&epoll_have_pwait2, false,
		    memory_order_relaxed);
		return -ENOSYS;
	}
	return n == -1 ? -errno : n;
}
#else
static int
epoll_wait_precise(int epfd, struct epoll_event *buf, int capacity,
    const struct timespec *timeout)
{
	return -ENOSYS;
}
#endif

int
mio__selector_select(int selector_fd, mio__sys_event *buf, int capacity,
    const struct timespec *timeout)
{

	/*
	 * Infinite and zero timeouts need no precision; whole milliseconds
	 * need none either. Only a timeout with a sub-millisecond part goes
	 * through epoll_pwait2().
	 */
	if (timeout != NULL && timeout->tv_nsec % 1000000 != 0 &&
	    timeout->tv_sec < INT_MAX / 1000) {
		int n = epoll_wait_precise(selector_fd, buf, capacity,
		    timeout);
		if (n != -ENOSYS)
			return n;
	}
	int n = epoll_wait(selector_fd, buf, capacity,
	    epoll_timeout_ms(timeout));
	return n == -1 ? -errno : n;
}

static int
epoll_ctl_token(int selector_fd, int op, int fd, mio_token token,
    mio_interest interest)
{
	struct epoll_event ev = {
		.events = mio_inline_epoll_events(interest),
		.data.u64 = (uint64_t)token,
	};

	return epoll_ctl(selector_fd, op, fd, &ev) == -1 ? -errno : 0;
}

int
mio__selector_register(int selector_fd, int fd, mio_token token,
    mio_interest interest)
{
	return epoll_ctl_token(selector_fd, EPOLL_CTL_ADD, fd, token, interest);
}

int
mio__selector_reregister(int selector_fd, int fd, mio_token token,
    mio_interest interest)
{
	return epoll_ctl_token(selector_fd, EPOLL_CTL_MOD, fd, token, interest);
}

int
mio__selector_deregister(int selector_fd, int fd)
{
	/* Kernels before 2.6.9 wanted a non-NULL event even for DEL; 2.6.9 is
	 * older than every kernel with epoll_create1, so NULL is safe. */
	return epoll_ctl(selector_fd, EPOLL_CTL_DEL, fd, NULL) == -1 ? -errno :
	    0;
}

/* mio.h's inline mio_event_token() reads the token at the offset
 * configure found (mio-sys.h): the data member, or on a 32-bit big-endian
 * system its last four bytes, where a uintptr_t stored as u64 sits. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define EPOLL_TOKEN_ADJUST (8 - sizeof(uintptr_t))
#else
#define EPOLL_TOKEN_ADJUST 0
#endif
_Static_assert(MIO_SYS_EVENT_TOKEN_OFFSET ==
    offsetof(struct epoll_event, data) + EPOLL_TOKEN_ADJUST,
    "mio-sys.h: MIO_SYS_EVENT_TOKEN_OFFSET is not where epoll keeps it");

mio_token
mio__event_token(const mio__sys_event *ev)
{
	return (mio_token)ev->data.u64;
}

bool
mio__event_is_readable(const mio__sys_event *ev)
{
	/* Priority data is readable data too; mio counts it (PR #1524). */
	return (ev->events & (EPOLLIN | EPOLLPRI)) != 0;
}

bool
mio__event_is_writable(const mio__sys_event *ev)
{
	return (ev->events & EPOLLOUT) != 0;
}

bool
mio__event_is_error(const mio__sys_event *ev)
{
	return (ev->events & EPOLLERR) != 0;
}

bool
mio__event_is_read_closed(const mio__sys_event *ev)
{
	/*
	 * EPOLLHUP means both directions are shut. EPOLLRDHUP alone may come
	 * with a still-readable socket, so it counts only with EPOLLIN: that
	 * pair is what a peer's FIN or a local SHUT_RD produces.
	 */
	return (ev->events & EPOLLHUP) != 0 ||
	    ((ev->events & EPOLLIN) != 0 && (ev->events & EPOLLRDHUP) != 0);
}

bool
mio__event_is_write_closed(const mio__sys_event *ev)
{
	/*
	 * EPOLLHUP: both directions shut. EPOLLOUT with EPOLLERR: a socket
	 * whose writes now fail. EPOLLERR alone: the write end of a pipe whose
	 * read end was closed, which reports nothing else.
	 */
	return (ev->events & EPOLLHUP) != 0 ||
	    ((ev->events & EPOLLOUT) != 0 && (ev->events & EPOLLERR) != 0) ||
	    ev->events == EPOLLERR;
}

bool
mio__event_is_priority(const mio__sys_event *ev)
{
	return (ev->events & EPOLLPRI) != 0;
}

bool
mio__event_is_aio(const mio__sys_event *ev)
{
	/* AIO completion is a kqueue filter; epoll has no equivalent. */
	return false;
}

bool
mio__event_is_lio(const mio__sys_event *ev)
{
	return false;
}
