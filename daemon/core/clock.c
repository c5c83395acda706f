/*
 * clock.c - a worker's "now" in milliseconds, read once per batch, and
 * mio_timer_start() with the daemon's logging (clock.h).
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "mio.h"

void
batch_clock_update(struct batch_clock *clock)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	clock->now_ms = (uint64_t)now.tv_sec * 1000 +
	    (uint64_t)now.tv_nsec / 1000000;
}

/* Once per process, not per worker: the failure means memory is short,
 * and every worker would say the same. */
static atomic_bool start_failure_logged;

atomic_uint clock_timer_failures;

/* The test hook's failure, if one is due. */
static bool
clock_timer_fail_now(void)
{
	unsigned left = atomic_load_explicit(&clock_timer_failures,
	    memory_order_relaxed);

	while (left > 0) {
		if (atomic_compare_exchange_weak(&clock_timer_failures, &left,
		    left - 1))
			return true;
	}
	return false;
}

int
clock_timer_start(mio_timers *timers, mio_timer *timer, uint64_t ms,
    const char *what)
{
	int rc = clock_timer_fail_now() ? -ENOMEM :
	    mio_timer_start(timers, timer, ms * 1000000u);

	if (rc != 0 && !atomic_exchange(&start_failure_logged, true))
		log_warnx("cannot arm the timer of %s: %s (logged once)", what,
		    mio_strerror(rc));
	return rc;
}
