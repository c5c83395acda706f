/*
 * mio-timer.h - deadlines for a libmio poll loop: a timer set per loop,
 * timers the caller allocates, and the next deadline folded into the
 * poll's timeout. Part of libmio (-lmio); mio.h itself stays mio's.
 *
 * The loop, in full:
 *
 *     struct timespec t;
 *     for (;;) {
 *         int rc = mio_poll_poll(poll, events,
 *             mio_timers_timeout(timers, &t) == 0 ? &t : NULL);
 *         if (rc < 0 && rc != -EINTR)
 *             break;
 *         ... handle the events ...
 *         mio_timers_run(timers);
 *     }
 *
 * Time. Deadlines are CLOCK_MONOTONIC in nanoseconds, and a timer never
 * fires before its delay has passed. The set reads the clock only in
 * mio_timers_timeout() and mio_timers_run(), once per call, never in
 * mio_timer_start(): a clock read costs more than a start and a stop
 * together (docs/PERFORMANCE.md). So a started timer waits, unordered and
 * in O(1), until the set's next clock read; that read fixes its deadline
 * at the read time plus its delay. The delay therefore counts from the
 * next mio_timers_timeout() or mio_timers_run() call at or after the
 * start: never early, and late by at most the time from the start to that
 * call, which in the loop above is the rest of the current round's event
 * handling. (libev, libuv and libevent count from a cached time taken
 * before the round instead, so they may fire early by that much.)
 *
 * Order. mio_timers_run() fires the due timers in deadline order; timers
 * with equal deadlines fire in the order they were (last) started. A
 * timer started or restarted by a callback during mio_timers_run() does
 * not fire in that same call, even with a delay of 0, so a callback that
 * restarts itself cannot keep mio_timers_run() from returning.
 *
 * Structure. A 4-ary min-heap of (deadline, timer) pairs for the timers
 * due within about a second, 256 far slots of 2^30 ns (1.07 s) for later
 * ones, and the list of started timers not yet placed in either. Start
 * and stop of a waiting or far timer are O(1); placing a timer in the
 * heap and stopping it there are O(log n). A far timer moves into the
 * heap a slot or more before it is due, so the poll wakes once more for a
 * timer that was far: when the slot before its own begins. The heap array
 * doubles in mio_timer_start(), the only call that allocates. Measured at
 * 100,000 pending timers (callgrind, user space, docs/PERFORMANCE.md
 * section 3), start and stop cost 61 instructions within a round and 92
 * across one for far timers (libev 131.5 and 177), 172 across one for
 * near timers (libev 177); an expiry 372 (libev 404). A hierarchical
 * wheel alone (bench/timer-wheel.c) costs 59 for start and stop and 11
 * per expiry, but fires by 1 ms ticks, unordered within a tick, and knows
 * the next deadline only to its slot; the heap keeps nanosecond deadlines,
 * their order and an exact timeout, and the far slots give it the wheel's
 * O(1) for the long timeouts that are stopped before they fire.
 *
 * Threads. A timer set and its timers belong to one thread, normally the
 * thread that polls; no function here may be called on one set from two
 * threads at once, and none is async-signal-safe.
 */
#ifndef MIO_TIMER_H
#define MIO_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mio.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A set of timers: the deadlines of one poll loop. Opaque. */
typedef struct mio_timers mio_timers;

/** One timer, allocated by the caller (usually inside its own object). */
typedef struct mio_timer mio_timer;

/** What a timer calls when it fires; the timer is no longer pending. */
typedef void (*mio_timer_fn)(mio_timer *timer, void *arg);

/*
 * The members are private: they are here only so that a timer can live
 * inside the caller's objects without an allocation. Use the functions
 * below; the layout may change with the library's ABI version.
 */
struct mio_timer {
	uint64_t mio__when;       /* deadline (placed) or delay (waiting), ns */
	uint64_t mio__seq;        /* start order among equal deadlines */
	size_t mio__index;        /* position in the heap, while placed */
	mio_timer *mio__next;     /* the waiting list, while waiting */
	mio_timer **mio__link;    /* what points to it while waiting, or NULL */
	mio_timers *mio__set;     /* the set it is pending on, or NULL */
	mio_timer_fn mio__fire;
	void *mio__arg;
};

/**
 * Creates an empty timer set.
 * \return 0 and *out set, -EINVAL (out is NULL), -ENOMEM.
 * Thread-safety: safe (creates a new object).
 */
MIO_EXTERN int mio_timers_new(mio_timers **out);

/**
 * Frees a timer set; NULL is ignored. Timers still pending become stopped
 * (not pending) and never fire; they may be started on another set.
 * Thread-safety: the set's own thread only.
 */
MIO_EXTERN void mio_timers_free(mio_timers *timers);

/**
 * Prepares a timer: stopped, calling fire(timer, arg) when it fires.
 * Must not be called on a pending timer. Any timer may be used with one
 * set at a time; it needs no freeing, but a pending timer must stay where
 * it is: stop it before its memory is freed or moved.
 * Thread-safety: safe on a timer no other thread uses.
 */
MIO_EXTERN void mio_timer_init(mio_timer *timer, mio_timer_fn fire,
    void *arg);

/**
 * Starts a timer that fires once, delay_ns nanoseconds from the set's
 * next clock read (see "Time" above). A pending timer is restarted: its
 * old deadline is forgotten. Also allowed from a timer's callback, on any
 * timer of the set, itself included.
 * \return 0, -EINVAL (a NULL argument, or a timer pending on another
 *         set), -ENOMEM (the set could not grow; the timer is unchanged).
 * Thread-safety: the set's own thread only.
 */
MIO_EXTERN int mio_timer_start(mio_timers *timers, mio_timer *timer,
    uint64_t delay_ns);

/**
 * Stops a timer so that it does not fire. Stopping a stopped timer, one
 * that already fired, or one never started is harmless. Allowed from a
 * callback, also on a timer due in the same mio_timers_run() call.
 * \return true if the timer was pending, false otherwise (also for NULL
 *         arguments and for a timer pending on another set).
 * Thread-safety: the set's own thread only.
 */
MIO_EXTERN bool mio_timer_stop(mio_timers *timers, mio_timer *timer);

/**
 * Whether a timer is pending: started and neither fired nor stopped.
 * False for NULL. Thread-safety: the set's own thread only.
 */
MIO_EXTERN bool mio_timer_pending(const mio_timer *timer);

/**
 * Reads the clock and stores in *out the time left until the earliest
 * deadline, rounded up to the nanosecond, or zero when a timer is already
 * due. Pass out to mio_poll_poll(), which waits at least that long (the
 * epoll backend rounds whole milliseconds up or waits with nanosecond
 * precision, never less).
 * \return 0 and *out set, -ENOENT (no timer pending; *out is unchanged
 *         and the poll may wait forever), -EINVAL (a NULL argument).
 * Thread-safety: the set's own thread only.
 */
MIO_EXTERN int mio_timers_timeout(mio_timers *timers, struct timespec *out);

/**
 * Reads the clock and fires every timer whose deadline has passed, in
 * deadline order (equal deadlines in start order). Each timer stops
 * before its callback runs; the callback may start or stop any timer of
 * the set, itself included, and may free the memory of its own timer.
 * Timers started during the call do not fire in it.
 * \return how many timers fired (0 also for NULL, and for a call made by
 *         a callback of the same set's mio_timers_run(), which does
 *         nothing).
 * Thread-safety: the set's own thread only. A callback must not call
 * mio_timers_free() on its set.
 */
MIO_EXTERN size_t mio_timers_run(mio_timers *timers);

#ifdef __cplusplus
}
#endif

#endif /* MIO_TIMER_H */
