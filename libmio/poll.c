/*
 * poll.c - mio_poll: the selector's owner and the one place that waits.
 */
#include "mio-internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

int
mio_poll_new(mio_poll **out)
{
	if (out == NULL)
		return -EINVAL;
	mio_poll *poll = calloc(1, sizeof(*poll));
	if (poll == NULL)
		return -ENOMEM;
	int fd;
	int rc = mio__selector_new(&fd);
	if (rc == 0) {
		rc = mio__poll_shared_new(fd, &poll->registry.shared);
		if (rc != 0)
			close(fd);
	}
	if (rc != 0) {
		free(poll);
		return rc;
	}
	poll->registry.selector_fd = fd;
	*out = poll;
	return 0;
}

/* The selector is closed at once unless a clone of the registry or the
 * waker is alive; then the last of them freed closes it. */
void
mio_poll_free(mio_poll *poll)
{
	if (poll == NULL)
		return;
	mio__poll_shared_unref(poll->registry.shared);
	free(poll);
}

const mio_registry *
mio_poll_registry(mio_poll *poll)
{
	return &poll->registry;
}

int
mio_poll_fd(const mio_poll *poll)
{
	return poll->registry.selector_fd;
}

static bool
poll_timeout_is_valid(const struct timespec *timeout)
{
	return timeout == NULL || (timeout->tv_sec >= 0 &&
	    timeout->tv_nsec >= 0 && timeout->tv_nsec < 1000000000L);
}

/* The epoll build's inline poll and registration (mio-inline-epoll.h) read
 * the selector descriptor at the start of a poll and of a registry. */
_Static_assert(offsetof(struct mio_poll, registry) == 0 &&
    offsetof(struct mio_registry, selector_fd) == 0,
    "the selector descriptor must come first in mio_poll and mio_registry");
_Static_assert(offsetof(struct mio_events, head) == 0,
    "the inline head must come first in mio_events");

/* The parentheses keep mio.h's inline macro of the same name out. */
int
(mio_poll_poll)(mio_poll *poll, mio_events *events,
    const struct timespec *timeout)
{
	if (poll == NULL || events == NULL)
		return -EINVAL;
	/* Cleared before validation so that a failed poll leaves no stale
	 * events behind, as mio clears its Events first. */
	mio__events_set_len(events, 0);
	if (!poll_timeout_is_valid(timeout))
		return -EINVAL;
	int n = mio__selector_select(poll->registry.selector_fd, events->buf,
	    events->head.capacity, timeout);
	if (n > 0)
		mio__events_set_len(events, (size_t)n);
	return n;
}
