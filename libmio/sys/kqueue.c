/*
 * sys/kqueue.c - the kqueue selector (FreeBSD, macOS, NetBSD, OpenBSD,
 * DragonFly; on Linux through libkqueue).
 *
 * Port of mio's src/sys/unix/selector/kqueue.rs (tokio-rs/mio 1.2.2),
 * written anew in C. Notes about kqueue that shaped this file:
 *
 * - Every filter is added with EV_CLEAR, which makes it edge-triggered:
 *   the state is reset once the event has been returned. EV_RECEIPT makes
 *   kevent() report the outcome of every change in the event list instead
 *   of stopping at the first failure or delivering pending events.
 * - A descriptor gets one kevent per direction, EVFILT_WRITE first and
 *   EVFILT_READ second, as mio orders them; kqueue therefore always reports
 *   readable and writable as separate events. MIO_AIO, MIO_LIO and
 *   MIO_PRIORITY add no filter: AIO completion is requested through the
 *   aiocb's sigevent, and kqueue has no priority filter.
 * - The change list is also the event list of the registration call (mio
 *   does the same), so registering needs no buffer beyond two kevents and
 *   libmio keeps no per-descriptor state.
 * - A second EV_ADD of the same filter modifies it, so registering a raw
 *   descriptor twice is not an error on kqueue, unlike EEXIST on epoll.
 * - kevent() takes a timespec: timeouts keep their nanoseconds.
 * - kqueue descriptors are not inherited by fork(); kqueue() has no
 *   close-on-exec flag on most systems, so FD_CLOEXEC follows it (mio
 *   documents the same window for a concurrent fork+exec).
 * - EINTR from the waiting kevent() is returned, never retried (mio 1.x).
 *
 * libkqueue (Linux) departs from native kqueue in ways this file does not
 * paper over; docs/backends.md lists them and the tests name them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include "sys/selector.h"

/*
 * The type of kevent.udata is void * on FreeBSD, macOS and libkqueue but
 * intptr_t on NetBSD before 10; _Generic picks the conversion that fits
 * without an #ifdef per system.
 */
#define KQUEUE_UDATA(token)                                               \
	_Generic(((struct kevent *)0)->udata,                             \
	    void *: (void *)(uintptr_t)(token),                            \
	    default: (intptr_t)(token))

/*
 * The longest timeout passed to kevent(). macOS refuses longer ones with
 * EINVAL (XNU kevent_get_timeout() checks the interval with itimerfix(),
 * whose limit is 10^8 seconds); about 3.2 years is "forever" for a poll,
 * and a wait that ends early is allowed to return no events.
 */
#define KQUEUE_MAX_TIMEOUT_SEC 100000000

int
mio__selector_new(int *out_fd)
{
	int kq = kqueue();

	if (kq == -1)
		return -errno;
	if (fcntl(kq, F_SETFD, FD_CLOEXEC) == -1) {
		int rc = -errno;
		close(kq);
		return rc;
	}
	*out_fd = kq;
	return 0;
}

int
mio__selector_select(int selector_fd, mio__sys_event *buf, int capacity,
    const struct timespec *timeout)
{
	struct timespec clamped;

	if (timeout != NULL && timeout->tv_sec > KQUEUE_MAX_TIMEOUT_SEC) {
		clamped.tv_sec = KQUEUE_MAX_TIMEOUT_SEC;
		clamped.tv_nsec = 0;
		timeout = &clamped;
	}
	int n = kevent(selector_fd, NULL, 0, buf, capacity, timeout);
	return n == -1 ? -errno : n;
}

static void
kqueue_change(struct kevent *kev, int fd, int filter, unsigned flags,
    mio_token token)
{
	/* memset also clears the ext[] words of FreeBSD 12 and later. */
	memset(kev, 0, sizeof(*kev));
	kev->ident = (uintptr_t)fd;
	kev->filter = filter;
	kev->flags = flags;
	kev->udata = KQUEUE_UDATA(token);
}

/* Whether errno value err is in the list of errors to ignore. */
static bool
kqueue_is_ignored(intptr_t err, const int *ignored, size_t n_ignored)
{
	for (size_t i = 0; i < n_ignored; i++)
		if (err == ignored[i])
			return true;
	return false;
}

/*
 * Applies n changes and returns the first error that is not ignored, as
 * mio's kevent_register() and check_errors() do. With EV_RECEIPT every
 * change comes back with EV_ERROR set and its errno (0 for success) in
 * data; a change the kernel did not write back keeps the flags it was
 * given, which never include EV_ERROR, so it cannot pass for a failure.
 */
static int
kqueue_apply(int kq, struct kevent *changes, int n, const int *ignored,
    size_t n_ignored)
{
	if (kevent(kq, changes, n, changes, n, NULL) == -1) {
		/*
		 * FreeBSD's kevent(2): "When kevent() call fails with EINTR
		 * error, all changes in the changelist have been applied".
		 * mio relies on that too; the receipts are checked below.
		 */
		if (errno != EINTR)
			return -errno;
	}
	for (int i = 0; i < n; i++) {
		intptr_t err = (intptr_t)changes[i].data;
		if ((changes[i].flags & EV_ERROR) != 0 && err != 0 &&
		    !kqueue_is_ignored(err, ignored, n_ignored))
			return -(int)err;
	}
	return 0;
}

int
mio__selector_register(int selector_fd, int fd, mio_token token,
    mio_interest interest)
{
	const unsigned flags = EV_CLEAR | EV_RECEIPT | EV_ADD;
	struct kevent changes[2];
	int n = 0;

	if (interest & MIO_WRITABLE)
		kqueue_change(&changes[n++], fd, EVFILT_WRITE, flags, token);
	if (interest & MIO_READABLE)
		kqueue_change(&changes[n++], fd, EVFILT_READ, flags, token);
	/*
	 * Old macOS answers EPIPE when EVFILT_WRITE is added to a pipe or
	 * socket whose other end is closed (mio issue 582); the registration
	 * is made all the same and the next poll reports the closed end.
	 */
	static const int ignored[] = { EPIPE };
	return kqueue_apply(selector_fd, changes, n, ignored, 1);
}

int
mio__selector_reregister(int selector_fd, int fd, mio_token token,
    mio_interest interest)
{
	const unsigned flags = EV_CLEAR | EV_RECEIPT;
	struct kevent changes[2];

	/*
	 * Both filters are always sent: the one wanted is added (or
	 * modified), the other deleted, so token and interest are replaced
	 * entirely. Deleting a filter that was never added fails with
	 * ENOENT, which is the expected case and ignored; EPIPE as in
	 * register. Because of EV_ADD, reregistering a descriptor that was
	 * never registered registers it (epoll says ENOENT).
	 */
	kqueue_change(&changes[0], fd, EVFILT_WRITE,
	    flags | ((interest & MIO_WRITABLE) ? EV_ADD : EV_DELETE), token);
	kqueue_change(&changes[1], fd, EVFILT_READ,
	    flags | ((interest & MIO_READABLE) ? EV_ADD : EV_DELETE), token);
	static const int ignored[] = { ENOENT, EPIPE };
	return kqueue_apply(selector_fd, changes, 2, ignored, 2);
}

int
mio__selector_deregister(int selector_fd, int fd)
{
	const unsigned flags = EV_DELETE | EV_RECEIPT;
	struct kevent changes[2];

	/*
	 * Both filters are deleted whatever the interest was; the one that
	 * was never added answers ENOENT, ignored as mio does. So is the
	 * ENOENT of a descriptor that was not registered at all: mio's
	 * deregister succeeds there on kqueue (epoll says ENOENT).
	 */
	kqueue_change(&changes[0], fd, EVFILT_WRITE, flags, 0);
	kqueue_change(&changes[1], fd, EVFILT_READ, flags, 0);
	static const int ignored[] = { ENOENT };
	return kqueue_apply(selector_fd, changes, 2, ignored, 1);
}

/* mio.h's inline mio_event_token() reads a mio_token (uintptr_t) at the
 * offset configure found (mio-sys.h); udata is pointer-sized on every
 * kqueue, whether it is a void * or an intptr_t. */
_Static_assert(MIO_SYS_EVENT_TOKEN_OFFSET == offsetof(struct kevent, udata) &&
    sizeof(((struct kevent *)0)->udata) == sizeof(mio_token),
    "mio-sys.h: MIO_SYS_EVENT_TOKEN_OFFSET is not where kqueue keeps it");

mio_token
mio__event_token(const mio__sys_event *ev)
{
	return (mio_token)(uintptr_t)ev->udata;
}

bool
mio__event_is_readable(const mio__sys_event *ev)
{
#ifdef EVFILT_USER
	/* The EVFILT_USER waker's event counts as readable, as in mio. */
	if (ev->filter == EVFILT_USER)
		return true;
#endif
	return ev->filter == EVFILT_READ;
}

bool
mio__event_is_writable(const mio__sys_event *ev)
{
	return ev->filter == EVFILT_WRITE;
}

bool
mio__event_is_error(const mio__sys_event *ev)
{
	/*
	 * EV_EOF with a non-zero fflags carries a socket error in fflags.
	 * mio's documentation says "fflags set to 0" but its code tests
	 * fflags != 0; the code is what is ported.
	 */
	return (ev->flags & EV_ERROR) != 0 ||
	    ((ev->flags & EV_EOF) != 0 && ev->fflags != 0);
}

bool
mio__event_is_read_closed(const mio__sys_event *ev)
{
	return ev->filter == EVFILT_READ && (ev->flags & EV_EOF) != 0;
}

bool
mio__event_is_write_closed(const mio__sys_event *ev)
{
	return ev->filter == EVFILT_WRITE && (ev->flags & EV_EOF) != 0;
}

bool
mio__event_is_priority(const mio__sys_event *ev)
{
	/* kqueue has no priority indicator (mio: always false). */
	return false;
}

bool
mio__event_is_aio(const mio__sys_event *ev)
{
	/* EVFILT_AIO exists on FreeBSD, DragonFly and macOS only. */
#ifdef EVFILT_AIO
	return ev->filter == EVFILT_AIO;
#else
	return false;
#endif
}

bool
mio__event_is_lio(const mio__sys_event *ev)
{
	/* EVFILT_LIO exists on FreeBSD only. */
#ifdef EVFILT_LIO
	return ev->filter == EVFILT_LIO;
#else
	return false;
#endif
}
