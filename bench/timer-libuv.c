/*
 * timer-libuv.c - the timer benchmark over libuv's uv_timer_t (a binary
 * heap of linked nodes, millisecond delays counted from uv_now()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "timer.h"

const char *const timer_backend_name = "libuv";

static uv_loop_t loop;
static uv_timer_t *array;

static void
fire(uv_timer_t *t)
{
	(void)t;
	timer_fired++;
}

void
timer_backend_setup(size_t n)
{
	array = calloc(n, sizeof(*array));
	if (uv_loop_init(&loop) != 0 || array == NULL) {
		fprintf(stderr, "timer-libuv: setup failed\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		uv_timer_init(&loop, &array[i]);
}

static void
close_cb(uv_handle_t *h)
{
	(void)h;
}

void
timer_backend_teardown(void)
{
	for (size_t i = 0; array != NULL && i < timer_backend_count; i++)
		uv_close((uv_handle_t *)&array[i], close_cb);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	free(array);
}

void
timer_backend_start(size_t i, uint64_t delay_ns)
{
	/* Rounded up to whole milliseconds, libuv's unit. */
	uv_timer_start(&array[i], fire, (delay_ns + 999999) / 1000000, 0);
}

void
timer_backend_stop(size_t i)
{
	uv_timer_stop(&array[i]);
}

void
timer_backend_flush(void)
{
}

void
timer_backend_round(void)
{
	uv_run(&loop, UV_RUN_NOWAIT);
}
