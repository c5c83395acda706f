/*
 * sys/waker-eventfd.c - the eventfd waker (Linux).
 *
 * Port of mio's src/sys/unix/waker/eventfd.rs, written anew. Notes:
 *
 * - The eventfd is registered edge-triggered for readable. Every write(2)
 *   to an eventfd wakes its epoll waiters, even when the counter was already
 *   non-zero, so the counter never needs draining in normal use and each
 *   wake after a poll yields a new event.
 * - The counter saturates at 0xfffffffffffffffe; a write that would pass it
 *   fails with EAGAIN on a non-blocking eventfd. Then the counter is reset
 *   by a read and the write retried. No real program wakes 2^64 times
 *   without polling, but the code must not spin or fail if one does.
 * - EINTR cannot happen on a non-blocking eventfd write but is retried for
 *   safety; it is not a poll interruption the caller asked to see.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sys/selector.h"
#include "sys/waker.h"

int
mio__waker_sys_new(int selector_fd, mio_token token,
    struct mio__waker_sys *out)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd == -1)
		return -errno;
	int rc = mio__selector_register(selector_fd, fd, token, MIO_READABLE);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	out->fd[0] = fd;
	out->fd[1] = -1;
	return 0;
}

static void
eventfd_reset(int fd)
{
	uint64_t count;

	/* EAGAIN here means another thread reset it first, which is fine. */
	(void)!read(fd, &count, sizeof(count));
}

int
mio__waker_sys_wake(const struct mio__waker_sys *waker)
{
	const uint64_t one = 1;

	for (;;) {
		if (write(waker->fd[0], &one, sizeof(one)) == sizeof(one))
			return 0;
		if (errno == EAGAIN)
			eventfd_reset(waker->fd[0]);
		else if (errno != EINTR)
			return -errno;
	}
}

void
mio__waker_sys_close(struct mio__waker_sys *waker)
{
	close(waker->fd[0]);
	waker->fd[0] = -1;
}
