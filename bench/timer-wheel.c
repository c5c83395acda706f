/*
 * timer-wheel.c - the timer benchmark over a hierarchical timing wheel,
 * written only to weigh it against <mio-timer.h>'s 4-ary heap (the choice
 * is explained in docs/PERFORMANCE.md, "Timers"). It is not part of
 * libmio and gives less than libmio does:
 *
 * - 1 ms ticks, so a timer fires up to a tick late (never early: a delay
 *   is rounded up and counts from the tick after the current one);
 * - timers due in the same tick fire in no particular order;
 * - the next deadline is known only to the tick and only by a scan.
 *
 * Four levels of 64 slots (6 bits each) cover 2^24 ticks, 4.6 hours;
 * later deadlines wait in the last level and are re-filed as it turns.
 * A start links a timer into the slot of its level, a stop unlinks it, a
 * round advances the wheel tick by tick to the clock, moving the timers
 * of a higher slot down a level (cascading) when the lower level wraps,
 * and fires the timers of each level-0 slot it passes.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "timer.h"

#define WHEEL_BITS 6
#define WHEEL_SLOTS (1u << WHEEL_BITS)
#define WHEEL_LEVELS 4
#define WHEEL_TICK_NS 1000000u

const char *const timer_backend_name = "wheel";

struct wheel_timer {
	struct wheel_timer *next;
	struct wheel_timer **link;      /* what points to it, or NULL */
	uint64_t expires;               /* in ticks */
};

static struct wheel_timer *slots[WHEEL_LEVELS][WHEEL_SLOTS];
static struct wheel_timer *array;
static uint64_t now_tick;

static uint64_t
clock_tick(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) /
	    WHEEL_TICK_NS;
}

/* Files a timer in the slot of the level its distance from now needs. */
static void
wheel_file(struct wheel_timer *t)
{
	uint64_t distance = t->expires - now_tick;
	unsigned level = 0;
	struct wheel_timer **head;

	while (level + 1 < WHEEL_LEVELS &&
	    distance >= (uint64_t)1 << (WHEEL_BITS * (level + 1)))
		level++;
	head = &slots[level][(t->expires >> (WHEEL_BITS * level)) &
	    (WHEEL_SLOTS - 1)];
	t->next = *head;
	t->link = head;
	if (*head != NULL)
		(*head)->link = &t->next;
	*head = t;
}

static void
wheel_unlink(struct wheel_timer *t)
{
	*t->link = t->next;
	if (t->next != NULL)
		t->next->link = t->link;
	t->link = NULL;
}

void
timer_backend_setup(size_t n)
{
	array = calloc(n, sizeof(*array));
	if (array == NULL) {
		fprintf(stderr, "timer-wheel: setup failed\n");
		exit(1);
	}
	now_tick = clock_tick();
}

void
timer_backend_teardown(void)
{
	free(array);
}

void
timer_backend_start(size_t i, uint64_t delay_ns)
{
	struct wheel_timer *t = &array[i];

	if (t->link != NULL)
		wheel_unlink(t);
	t->expires = now_tick + 1 + (delay_ns + WHEEL_TICK_NS - 1) / WHEEL_TICK_NS;
	wheel_file(t);
}

void
timer_backend_stop(size_t i)
{
	if (array[i].link != NULL)
		wheel_unlink(&array[i]);
}

void
timer_backend_flush(void)
{
}

/* Moves the timers of one slot of a higher level down, as the level below
 * wraps; those not due yet are filed again relative to the new now. */
static void
wheel_cascade(unsigned level)
{
	unsigned index = (now_tick >> (WHEEL_BITS * level)) & (WHEEL_SLOTS - 1);
	struct wheel_timer *t = slots[level][index];

	slots[level][index] = NULL;
	while (t != NULL) {
		struct wheel_timer *next = t->next;

		wheel_file(t);
		t = next;
	}
}

void
timer_backend_round(void)
{
	uint64_t target = clock_tick();

	while (now_tick < target) {
		struct wheel_timer **head;

		now_tick++;
		for (unsigned level = 1; level < WHEEL_LEVELS; level++) {
			if ((now_tick & (((uint64_t)1 << (WHEEL_BITS * level)) - 1)) != 0)
				break;
			wheel_cascade(level);
		}
		head = &slots[0][now_tick & (WHEEL_SLOTS - 1)];
		while (*head != NULL) {
			struct wheel_timer *t = *head;

			wheel_unlink(t);
			timer_fired++;
		}
	}
}
