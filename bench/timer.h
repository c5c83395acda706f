/*
 * timer.h - the timer benchmark: the contract between the shared driver
 * (timer-driver.c) and the one timer implementation each program is built
 * with (timer-mio.c, timer-libev.c, timer-libevent.c, timer-libuv.c).
 *
 * A backend owns an array of timers, numbered from 0, and its loop; the
 * driver decides which timer starts when, with what delay, and times it.
 * Delays are given in nanoseconds; a backend converts them to its own unit
 * (libev: seconds as a double; libevent: a timeval; libuv: milliseconds).
 * Every callback is the same: it counts into timer_fired.
 */
#ifndef TIMER_BENCH_H
#define TIMER_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Incremented by every backend's callback. */
extern size_t timer_fired;

/* How many timers timer_backend_setup() made. */
extern size_t timer_backend_count;

/* The library's name, as the tables print it. */
extern const char *const timer_backend_name;

/* Creates the loop and n timers, none started. */
void timer_backend_setup(size_t n);
void timer_backend_teardown(void);
/* Starts (or restarts) timer i to fire delay_ns from now. */
void timer_backend_start(size_t i, uint64_t delay_ns);
void timer_backend_stop(size_t i);
/*
 * What a loop does before it waits, where a library needs it: for libmio,
 * mio_timers_timeout(), which reads the clock and gives the timers started
 * since the last read their deadlines. The others have nothing to do.
 */
void timer_backend_flush(void);
/* One round of the loop that does not block: fires every due timer. */
void timer_backend_round(void);

#endif /* TIMER_BENCH_H */
