/*
 * waker.c - mio_waker: the portable half. The mechanism (eventfd, EVFILT_USER
 * or a pipe) lives in sys/waker-*.c; this file enforces mio's rule of one
 * live waker per poll and owns the allocation.
 *
 * mio checks the rule only in debug builds and never lifts it. libmio always
 * checks it, through the state shared by the poll and its cloned registries,
 * and lifts it when the waker is freed, so a poll may replace its waker.
 */
#include "mio-internal.h"

#include <stdlib.h>

#include "sys/waker.h"

struct mio_waker {
	struct mio__waker_sys sys;
	struct mio__poll_shared *shared;
};

int
mio_waker_new(const mio_registry *registry, mio_token token, mio_waker **out)
{
	if (registry == NULL || out == NULL)
		return -EINVAL;
	mio_waker *waker = malloc(sizeof(*waker));
	if (waker == NULL)
		return -ENOMEM;
	if (atomic_exchange(&registry->shared->has_waker, true)) {
		free(waker);
		return -EEXIST;
	}
	int rc = mio__waker_sys_new(registry->selector_fd, token, &waker->sys);
	if (rc != 0) {
		atomic_store(&registry->shared->has_waker, false);
		free(waker);
		return rc;
	}
	waker->shared = registry->shared;
	mio__poll_shared_ref(waker->shared);
	*out = waker;
	return 0;
}

int
mio_waker_wake(const mio_waker *waker)
{
	if (waker == NULL)
		return -EINVAL;
	return mio__waker_sys_wake(&waker->sys);
}

void
mio_waker_free(mio_waker *waker)
{
	if (waker == NULL)
		return;
	mio__waker_sys_close(&waker->sys);
	atomic_store(&waker->shared->has_waker, false);
	mio__poll_shared_unref(waker->shared);
	free(waker);
}
