/*
 * clock.c - a worker's "now" in milliseconds, read once per batch, and
 * mio_timer_start() with the daemon's logging (clock.h).
 */
#include "config.h"

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

int
clock_timer_start(mio_timers *timers, mio_timer *timer, uint64_t ms,
    const char *what)
{
	int rc = mio_timer_start(timers, timer, ms * 1000000u);

	if (rc != 0 && !atomic_exchange(&start_failure_logged, true))
		log_warnx("cannot arm the timer of %s: %s (logged once)", what,
		    mio_strerror(rc));
	return rc;
}
