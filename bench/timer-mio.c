/*
 * timer-mio.c - the timer benchmark over <mio-timer.h>. A round is what
 * mio_timer(3) recommends: the set's timeout, a poll that does not wait
 * (the timeout is clamped to zero, like the other libraries' non-blocking
 * round), then mio_timers_run().
 */
#include <stdio.h>
#include <stdlib.h>

#include "mio.h"
#include "mio-timer.h"
#include "timer.h"

const char *const timer_backend_name = "libmio";

static mio_poll *poll;
static mio_events *events;
static mio_timers *timers;
static mio_timer *array;

static void
fire(mio_timer *timer, void *arg)
{
	(void)timer;
	(void)arg;
	timer_fired++;
}

void
timer_backend_setup(size_t n)
{
	if (mio_poll_new(&poll) != 0 || mio_events_new(&events, 64) != 0 ||
	    mio_timers_new(&timers) != 0 ||
	    (array = calloc(n, sizeof(*array))) == NULL) {
		fprintf(stderr, "timer-mio: setup failed\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		mio_timer_init(&array[i], fire, NULL);
}

void
timer_backend_teardown(void)
{
	mio_timers_free(timers);
	free(array);
	mio_events_free(events);
	mio_poll_free(poll);
}

void
timer_backend_start(size_t i, uint64_t delay_ns)
{
	if (mio_timer_start(timers, &array[i], delay_ns) != 0)
		abort();
}

void
timer_backend_stop(size_t i)
{
	mio_timer_stop(timers, &array[i]);
}

void
timer_backend_flush(void)
{
	struct timespec t;

	mio_timers_timeout(timers, &t);
}

void
timer_backend_round(void)
{
	struct timespec t, zero = {0, 0};

	mio_poll_poll(poll, events,
	    mio_timers_timeout(timers, &t) == 0 ? &zero : NULL);
	mio_timers_run(timers);
}
