/*
 * timer.c - the timer set of <mio-timer.h>: a 4-ary min-heap of
 * (deadline, timer) pairs, and a list of started timers waiting for the
 * set's next clock read to be given a deadline and placed in the heap.
 *
 * Why the waiting list: reading CLOCK_MONOTONIC (vDSO, TSC) costs about
 * 17-26 ns here, more than a start and a stop of libev's timers together,
 * and a deadline taken from a cached clock could fire early. So a start
 * only links the timer into the list with its delay; mio_timers_timeout()
 * and mio_timers_run() read the clock once and place every waiting timer
 * at that time plus its delay, which is never early. A timer started and
 * stopped within one round of the loop (a timeout cancelled by the reply
 * it guards) never touches the heap.
 *
 * Why a 4-ary heap with the deadline in the array: a sift compares keys
 * without touching the timers, which at a million timers are cache misses;
 * four children per node halve the depth of a binary heap, and the four
 * keys share one or two cache lines (libev's reasoning for its 4-heap). A
 * timer is touched only when it moves, to record its new position, which
 * stop needs to find it in O(1). Equal deadlines are ordered by a start
 * sequence number, read from the timer only on a tie.
 *
 * The heap array is grown by doubling in mio_timer_start(), to hold every
 * pending timer, placed or waiting; placing a waiting timer therefore
 * never allocates and never fails. It does not shrink until freed.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "mio-timer.h"

/* mio__index of a pending timer still on the waiting list. */
#define TIMERS_WAITING SIZE_MAX
#define TIMERS_ARITY 4

struct timers_entry {
	uint64_t when;
	mio_timer *timer;
};

struct mio_timers {
	struct timers_entry *heap;
	size_t len;
	size_t capacity;
	mio_timer *waiting;      /* doubly linked, newest first */
	size_t waiting_len;
	uint64_t next_seq;
};

static uint64_t
timers_clock_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on any system libmio builds on. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool
timers_less(struct timers_entry a, struct timers_entry b)
{
	if (a.when != b.when)
		return a.when < b.when;
	return a.timer->mio__seq < b.timer->mio__seq;
}

static void
timers_put(mio_timers *timers, size_t index, struct timers_entry entry)
{
	timers->heap[index] = entry;
	entry.timer->mio__index = index;
}

static void
timers_sift_up(mio_timers *timers, size_t index, struct timers_entry entry)
{
	while (index > 0) {
		size_t parent = (index - 1) / TIMERS_ARITY;

		if (!timers_less(entry, timers->heap[parent]))
			break;
		timers_put(timers, index, timers->heap[parent]);
		index = parent;
	}
	timers_put(timers, index, entry);
}

/* The index of the least of index's children; index has at least one. */
static size_t
timers_least_child(const mio_timers *timers, size_t index)
{
	size_t first = index * TIMERS_ARITY + 1;
	size_t end = first + TIMERS_ARITY;
	size_t least = first;

	if (end > timers->len)
		end = timers->len;
	for (size_t child = first + 1; child < end; child++)
		if (timers_less(timers->heap[child], timers->heap[least]))
			least = child;
	return least;
}

static void
timers_sift_down(mio_timers *timers, size_t index, struct timers_entry entry)
{
	/* No overflow: the array holds at most SIZE_MAX / 16 entries. */
	while (index * TIMERS_ARITY + 1 < timers->len) {
		size_t least = timers_least_child(timers, index);

		if (!timers_less(timers->heap[least], entry))
			break;
		timers_put(timers, index, timers->heap[least]);
		index = least;
	}
	timers_put(timers, index, entry);
}

/* Takes the entry at index out of the heap and fills the hole. */
static void
timers_heap_remove(mio_timers *timers, size_t index)
{
	struct timers_entry last = timers->heap[--timers->len];

	if (index == timers->len)
		return;
	if (index > 0 && timers_less(last,
	    timers->heap[(index - 1) / TIMERS_ARITY]))
		timers_sift_up(timers, index, last);
	else
		timers_sift_down(timers, index, last);
}

static void
timers_waiting_unlink(mio_timers *timers, mio_timer *timer)
{
	if (timer->mio__prev != NULL)
		timer->mio__prev->mio__next = timer->mio__next;
	else
		timers->waiting = timer->mio__next;
	if (timer->mio__next != NULL)
		timer->mio__next->mio__prev = timer->mio__prev;
	timers->waiting_len--;
}

/* Takes a pending timer out of the set; it is then stopped. */
static void
timers_detach(mio_timers *timers, mio_timer *timer)
{
	if (timer->mio__index == TIMERS_WAITING)
		timers_waiting_unlink(timers, timer);
	else
		timers_heap_remove(timers, timer->mio__index);
	timer->mio__set = NULL;
}

/* Gives every waiting timer its deadline, now plus its delay, in the heap. */
static void
timers_place_waiting(mio_timers *timers, uint64_t now)
{
	mio_timer *timer = timers->waiting;

	while (timer != NULL) {
		mio_timer *next = timer->mio__next;
		uint64_t when = now + timer->mio__when;

		if (when < now)
			when = UINT64_MAX;
		timer->mio__when = when;
		timers_sift_up(timers, timers->len++,
		    (struct timers_entry){.when = when, .timer = timer});
		timer = next;
	}
	timers->waiting = NULL;
	timers->waiting_len = 0;
}

/* Makes room for one more pending timer, doubling the heap array. */
static int
timers_reserve_one(mio_timers *timers)
{
	size_t pending = timers->len + timers->waiting_len;
	size_t capacity = timers->capacity ? timers->capacity * 2 : 64;
	struct timers_entry *heap;

	if (pending < timers->capacity)
		return 0;
	if (capacity > SIZE_MAX / sizeof(*heap))
		return -ENOMEM;
	heap = realloc(timers->heap, capacity * sizeof(*heap));
	if (heap == NULL)
		return -ENOMEM;
	timers->heap = heap;
	timers->capacity = capacity;
	return 0;
}

int
mio_timers_new(mio_timers **out)
{
	mio_timers *timers;

	if (out == NULL)
		return -EINVAL;
	timers = calloc(1, sizeof(*timers));
	if (timers == NULL)
		return -ENOMEM;
	*out = timers;
	return 0;
}

void
mio_timers_free(mio_timers *timers)
{
	if (timers == NULL)
		return;
	for (size_t i = 0; i < timers->len; i++)
		timers->heap[i].timer->mio__set = NULL;
	for (mio_timer *t = timers->waiting; t != NULL; t = t->mio__next)
		t->mio__set = NULL;
	free(timers->heap);
	free(timers);
}

void
mio_timer_init(mio_timer *timer, mio_timer_fn fire, void *arg)
{
	if (timer == NULL)
		return;
	*timer = (mio_timer){.mio__fire = fire, .mio__arg = arg};
}

int
mio_timer_start(mio_timers *timers, mio_timer *timer, uint64_t delay_ns)
{
	if (timers == NULL || timer == NULL)
		return -EINVAL;
	if (timer->mio__set == timers) {
		timers_detach(timers, timer);
	} else if (timer->mio__set != NULL) {
		return -EINVAL;
	} else {
		int rc = timers_reserve_one(timers);

		if (rc != 0)
			return rc;
	}
	timer->mio__when = delay_ns;
	timer->mio__seq = timers->next_seq++;
	timer->mio__set = timers;
	timer->mio__index = TIMERS_WAITING;
	timer->mio__prev = NULL;
	timer->mio__next = timers->waiting;
	if (timers->waiting != NULL)
		timers->waiting->mio__prev = timer;
	timers->waiting = timer;
	timers->waiting_len++;
	return 0;
}

bool
mio_timer_stop(mio_timers *timers, mio_timer *timer)
{
	if (timers == NULL || timer == NULL || timer->mio__set != timers)
		return false;
	timers_detach(timers, timer);
	return true;
}

bool
mio_timer_pending(const mio_timer *timer)
{
	return timer != NULL && timer->mio__set != NULL;
}

int
mio_timers_timeout(mio_timers *timers, struct timespec *out)
{
	uint64_t now, left = 0;

	if (timers == NULL || out == NULL)
		return -EINVAL;
	if (timers->len == 0 && timers->waiting == NULL)
		return -ENOENT;
	now = timers_clock_ns();
	timers_place_waiting(timers, now);
	if (timers->heap[0].when > now)
		left = timers->heap[0].when - now;
	out->tv_sec = (time_t)(left / 1000000000u);
	out->tv_nsec = (long)(left % 1000000000u);
	return 0;
}

size_t
mio_timers_run(mio_timers *timers)
{
	size_t fired = 0;
	uint64_t now;

	if (timers == NULL || (timers->len == 0 && timers->waiting == NULL))
		return 0;
	now = timers_clock_ns();
	timers_place_waiting(timers, now);
	/* Timers started by the callbacks wait on the list, out of the heap,
	 * so this loop ends even when a callback restarts itself with 0. */
	while (timers->len > 0 && timers->heap[0].when <= now) {
		mio_timer *timer = timers->heap[0].timer;

		timers_heap_remove(timers, 0);
		timer->mio__set = NULL;
		fired++;
		if (timer->mio__fire != NULL)
			timer->mio__fire(timer, timer->mio__arg);
	}
	return fired;
}
