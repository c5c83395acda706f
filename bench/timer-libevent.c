/*
 * timer-libevent.c - the timer benchmark over libevent's evtimer (a binary
 * min-heap of event pointers). The events live in one array, assigned with
 * event_assign(), so that no timer allocates, as in the other programs.
 */
#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdio.h>
#include <stdlib.h>

#include "timer.h"

const char *const timer_backend_name = "libevent";

static struct event_base *base;
static struct event *array;

static void
fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	timer_fired++;
}

void
timer_backend_setup(size_t n)
{
	base = event_base_new();
	array = calloc(n, sizeof(*array));
	if (base == NULL || array == NULL) {
		fprintf(stderr, "timer-libevent: setup failed\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		evtimer_assign(&array[i], base, fire, NULL);
}

void
timer_backend_teardown(void)
{
	for (size_t i = 0; i < timer_backend_count; i++)
		event_del(&array[i]);
	event_base_free(base);
	free(array);
}

void
timer_backend_start(size_t i, uint64_t delay_ns)
{
	struct timeval tv = {.tv_sec = (time_t)(delay_ns / 1000000000u),
	    .tv_usec = (suseconds_t)(delay_ns % 1000000000u / 1000)};

	evtimer_add(&array[i], &tv);
}

void
timer_backend_stop(size_t i)
{
	evtimer_del(&array[i]);
}

void
timer_backend_flush(void)
{
}

void
timer_backend_round(void)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}
