/*
 * timer.c - deadlines on one list sorted by time: query deadlines and TCP
 * idle timeouts.
 *
 * Nearly every timer is armed at "now + a configured duration", so a new
 * timer almost always belongs at the end; insertion walks back from the
 * tail and is O(1) in that case. A reload that shortens a duration costs a
 * short walk once. The clock is read once per loop iteration (timer_update)
 * so that everything done for one batch of events agrees on "now". Each
 * worker has its own struct timers, list and "now" both, and passes it in.
 */
#include "config.h"

#include <time.h>

#include "timer.h"

void
timers_init(struct timers *ts)
{
	TAILQ_INIT(&ts->list);
	timers_update(ts);
}

void
timers_update(struct timers *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ts->now_ms = (uint64_t)now.tv_sec * 1000 +
	    (uint64_t)now.tv_nsec / 1000000;
}

uint64_t
timers_now(struct timers *ts)
{
	return ts->now_ms;
}

void
timer_arm(struct timers *ts, struct timer *timer, uint64_t when_ms)
{
	struct timer *after;

	timer_disarm(ts, timer);
	timer->when_ms = when_ms;
	timer->armed = true;
	TAILQ_FOREACH_REVERSE(after, &ts->list, timer_list, entry) {
		if (after->when_ms <= when_ms) {
			TAILQ_INSERT_AFTER(&ts->list, after, timer, entry);
			return;
		}
	}
	TAILQ_INSERT_HEAD(&ts->list, timer, entry);
}

void
timer_disarm(struct timers *ts, struct timer *timer)
{
	if (!timer->armed)
		return;
	TAILQ_REMOVE(&ts->list, timer, entry);
	timer->armed = false;
}

long
timers_next_ms(struct timers *ts)
{
	struct timer *first = TAILQ_FIRST(&ts->list);

	if (first == NULL)
		return -1;
	if (first->when_ms <= ts->now_ms)
		return 0;
	return (long)(first->when_ms - ts->now_ms);
}

/* A callback may arm or disarm any timer, so the list is read afresh
 * after each. */
void
timers_run(struct timers *ts)
{
	struct timer *first;

	while ((first = TAILQ_FIRST(&ts->list)) != NULL &&
	    first->when_ms <= ts->now_ms) {
		timer_disarm(ts, first);
		first->fire(first);
	}
}
