/*
 * timer-libev.c - the timer benchmark over libev's ev_timer (a 4-ary heap
 * with the deadline cached in the array, delays counted from ev_now()).
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>

#include "timer.h"

const char *const timer_backend_name = "libev";

static struct ev_loop *loop;
static ev_timer *array;

static void
fire(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	timer_fired++;
}

void
timer_backend_setup(size_t n)
{
	loop = ev_loop_new(EVFLAG_AUTO);
	array = calloc(n, sizeof(*array));
	if (loop == NULL || array == NULL) {
		fprintf(stderr, "timer-libev: setup failed\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		ev_timer_init(&array[i], fire, 0., 0.);
}

void
timer_backend_teardown(void)
{
	ev_loop_destroy(loop);
	free(array);
}

void
timer_backend_start(size_t i, uint64_t delay_ns)
{
	/* ev_timer_start() on an active watcher does nothing: a restart
	 * stops it first. */
	if (ev_is_active(&array[i]))
		ev_timer_stop(loop, &array[i]);
	ev_timer_set(&array[i], (ev_tstamp)delay_ns * 1e-9, 0.);
	ev_timer_start(loop, &array[i]);
}

void
timer_backend_stop(size_t i)
{
	ev_timer_stop(loop, &array[i]);
}

void
timer_backend_flush(void)
{
}

void
timer_backend_round(void)
{
	ev_run(loop, EVRUN_NOWAIT);
}
