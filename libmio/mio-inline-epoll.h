/*
 * mio-inline-epoll.h - the epoll build's inline paths for the calls a loop
 * makes on every round: a poll without a timeout, and registering or
 * reregistering a raw descriptor. Included by <mio.h> when mio-sys.h says
 * the build is epoll; not to be included directly.
 *
 * Why they exist: at one event per poll, the call into the library and its
 * checks cost about 40% more user-space instructions than raw epoll, and a
 * reregister about 2.7 times raw epoll_ctl(), against a target of 5%
 * (docs/PERFORMANCE.md). Compiled into the caller, they come down to the
 * system call and the few instructions raw epoll needs too; a constant
 * interest folds into a constant event mask.
 *
 * What that puts in the ABI: the selector descriptor is the first member of
 * mio_poll and of mio_registry; the head of mio_events (mio.h); and the
 * epoll bits each interest asks for. libmio's own epoll selector reads the
 * bits from here, so the two cannot drift apart. Every case these do not
 * take - a NULL argument, a timeout, an empty or unknown interest - calls
 * the exported function, which stays the reference. Define MIO_NO_INLINE
 * before including <mio.h> to call the exported functions always.
 */
#ifndef MIO_INLINE_EPOLL_H
#define MIO_INLINE_EPOLL_H

/*
 * The macros below take their arguments as __VA_ARGS__ so that an argument
 * with a top-level comma, such as a compound literal timeout, still works.
 */

#include <errno.h>
#include <sys/epoll.h>

/*
 * The epoll bits for an interest: always edge-triggered; readable also asks
 * for EPOLLRDHUP so that a peer's FIN shows as read-closed without a read;
 * AIO and LIO have no epoll equivalent and ask for nothing.
 */
static inline uint32_t
mio_inline_epoll_events(mio_interest interest)
{
	uint32_t events = (uint32_t)EPOLLET;

	if (interest & MIO_READABLE)
		events |= (uint32_t)(EPOLLIN | EPOLLRDHUP);
	if (interest & MIO_WRITABLE)
		events |= (uint32_t)EPOLLOUT;
	if (interest & MIO_PRIORITY)
		events |= (uint32_t)EPOLLPRI;
	return events;
}

/* The selector descriptor, the first member of a poll and of a registry. */
static inline int
mio_inline_epoll_fd(const void *poll_or_registry)
{
	return *(const int *)poll_or_registry;
}

static inline int
mio_inline_poll_poll(mio_poll *poll, mio_events *events,
    const struct timespec *timeout)
{
	struct mio_inline_events_head *head =
	    (struct mio_inline_events_head *)(void *)events;

	if (poll == NULL || events == NULL || timeout != NULL)
		return (mio_poll_poll)(poll, events, timeout);
	int n = epoll_wait(mio_inline_epoll_fd(poll),
	    (struct epoll_event *)(void *)head->begin, head->capacity, -1);
	if (n < 0) {
		head->end = head->begin;
		return -errno;
	}
	head->end = head->begin + (size_t)n * MIO_SYS_EVENT_SIZE;
	return n;
}
#define mio_poll_poll(...) mio_inline_poll_poll(__VA_ARGS__)

static inline bool
mio_inline_interest_is_valid(mio_interest interest)
{
	return interest != 0 && (interest & ~MIO_INLINE_INTEREST_ALL) == 0;
}

/*
 * Registers (EPOLL_CTL_ADD) or reregisters (EPOLL_CTL_MOD) fd, or leaves
 * what it does not take to the exported function, which the macros below
 * pass as a constant so that the call folds away.
 */
static inline int
mio_inline_epoll_ctl(int op, int (*exported)(const mio_registry *, int,
    mio_token, mio_interest), const mio_registry *registry, int fd,
    mio_token token, mio_interest interest)
{
	struct epoll_event ev;

	if (registry == NULL || !mio_inline_interest_is_valid(interest))
		return exported(registry, fd, token, interest);
	ev.events = mio_inline_epoll_events(interest);
	ev.data.u64 = (uint64_t)token;
	return epoll_ctl(mio_inline_epoll_fd(registry), op, fd, &ev) == 0 ? 0 :
	    -errno;
}
#define mio_registry_register_fd(...) \
	mio_inline_epoll_ctl(EPOLL_CTL_ADD, (mio_registry_register_fd), \
	    __VA_ARGS__)
#define mio_registry_reregister_fd(...) \
	mio_inline_epoll_ctl(EPOLL_CTL_MOD, (mio_registry_reregister_fd), \
	    __VA_ARGS__)

#endif /* MIO_INLINE_EPOLL_H */
