/*
 * timer.h - a worker's deadlines: query deadlines, TCP idle timeouts and
 * the end of a graceful shutdown.
 *
 * Each worker owns one struct timers and passes it to what arms timers;
 * nothing here is shared between threads. This is the one interface the
 * daemon has to its timers, so that moving to libmio's timers is a change
 * of timer.c alone.
 *
 * Recipe:
 *	struct timers timers;
 *	timers_init(&timers);
 *	thing->deadline.fire = thing_deadline_fire;	(once)
 *	timer_arm(&timers, &thing->deadline, timers_now(&timers) + ms);
 *	... the loop: timers_update(), poll for timers_next_ms(), then
 *	timers_run(), which calls fire() of each timer due ...
 *	timer_disarm(&timers, &thing->deadline);	(before freeing thing)
 */
#ifndef MIODNSD_TIMER_H
#define MIODNSD_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/queue.h"

struct timer {
	TAILQ_ENTRY(timer) entry;
	uint64_t when_ms;
	bool armed;
	/* Called once when due; may arm or disarm any timer. */
	void (*fire)(struct timer *timer);
};

struct timers {
	TAILQ_HEAD(timer_list, timer) list;
	uint64_t now_ms;	/* the monotonic clock, read by timers_update */
};

void timers_init(struct timers *ts);
/* Reads the clock: everything done for one batch agrees on "now". */
void timers_update(struct timers *ts);
uint64_t timers_now(struct timers *ts);
void timer_arm(struct timers *ts, struct timer *timer, uint64_t when_ms);
void timer_disarm(struct timers *ts, struct timer *timer);
/* Milliseconds until the first timer, 0 if due, -1 if there is none. */
long timers_next_ms(struct timers *ts);
/* Fires every due timer. */
void timers_run(struct timers *ts);

#endif /* MIODNSD_TIMER_H */
