/*
 * clock.h - a worker's "now", and the one way the daemon starts a timer.
 *
 * The deadlines themselves are libmio's timers (<mio-timer.h>): one
 * mio_timers set per worker, folded into its poll by worker.c. What stays
 * here is the monotonic clock in milliseconds, read once per batch of
 * events (batch_clock_update) so that everything done for one batch
 * agrees on it: the cache's TTL aging, the rate limiter and a fetch's
 * time left read it, and none of them pays for a clock read of its own.
 *
 * Recipe:
 *	struct batch_clock clock;
 *	batch_clock_update(&clock);		(after every poll)
 *	now = batch_clock_ms(&clock);
 *	mio_timer_init(&thing->deadline, thing_deadline_fire, thing);  (once)
 *	if (clock_timer_start(timers, &thing->deadline, ms, "what") != 0)
 *		... the deadline could not be armed: give up on thing now ...
 *	mio_timer_stop(timers, &thing->deadline);	(before freeing thing)
 */
#ifndef MIODNSD_CLOCK_H
#define MIODNSD_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

#include "mio-timer.h"

struct batch_clock {
	uint64_t now_ms;	/* CLOCK_MONOTONIC, read by the update */
};

/* Reads the clock: everything done for one batch agrees on "now". */
void batch_clock_update(struct batch_clock *clock);

static inline uint64_t
batch_clock_ms(const struct batch_clock *clock)
{
	return clock->now_ms;
}

/* mio_timer_start() for ms milliseconds. It fails only without memory
 * (the set's heap cannot grow); the first failure in the process is
 * logged, naming what, and the caller then gives up on what the timer
 * was for. 0 or -ENOMEM. */
int clock_timer_start(mio_timers *timers, mio_timer *timer, uint64_t ms,
    const char *what);

/* A test hook (t/query): while above zero, each clock_timer_start() fails
 * with -ENOMEM without starting anything and counts it down, so the
 * tests reach what the daemon does when its set cannot grow. Always zero
 * in the daemon. */
extern atomic_uint clock_timer_failures;

#endif /* MIODNSD_CLOCK_H */
