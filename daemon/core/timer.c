/*
 * timer.c - deadlines on one list sorted by time: query deadlines and TCP
 * idle timeouts.
 *
 * Nearly every timer is armed at "now + a configured duration", so a new
 * timer almost always belongs at the end; insertion walks back from the
 * tail and is O(1) in that case. A reload that shortens a duration costs a
 * short walk once. The clock is read once per loop iteration (timer_update)
 * so that everything done for one batch of events agrees on "now". Each
 * worker thread has its own list and its own "now".
 */
#include "config.h"

#include <time.h>

#include "miodnsd.h"

static WORKER_LOCAL TAILQ_HEAD(timer_list, timer) timers;
static WORKER_LOCAL uint64_t now_ms;

void
timer_worker_init(void)
{
	TAILQ_INIT(&timers);
	timer_update();
}

void
timer_update(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
timer_now(void)
{
	if (now_ms == 0)
		timer_update();
	return now_ms;
}

void
timer_arm(struct timer *timer, uint64_t when_ms)
{
	struct timer *after;

	timer_disarm(timer);
	timer->when_ms = when_ms;
	timer->armed = true;
	TAILQ_FOREACH_REVERSE(after, &timers, timer_list, entry) {
		if (after->when_ms <= when_ms) {
			TAILQ_INSERT_AFTER(&timers, after, timer, entry);
			return;
		}
	}
	TAILQ_INSERT_HEAD(&timers, timer, entry);
}

void
timer_disarm(struct timer *timer)
{
	if (!timer->armed)
		return;
	TAILQ_REMOVE(&timers, timer, entry);
	timer->armed = false;
}

/* Milliseconds until the first timer, 0 if due, -1 if there is none. */
long
timer_next_ms(void)
{
	struct timer *first = TAILQ_FIRST(&timers);

	if (first == NULL)
		return -1;
	if (first->when_ms <= timer_now())
		return 0;
	return (long)(first->when_ms - timer_now());
}

/* Fires every due timer. A callback may arm or disarm any timer. */
void
timer_run(void)
{
	struct timer *first;

	while ((first = TAILQ_FIRST(&timers)) != NULL &&
	    first->when_ms <= timer_now()) {
		timer_disarm(first);
		first->fire(first);
	}
}
