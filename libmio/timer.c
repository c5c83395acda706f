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
 * stop needs to find it in O(1). Equal deadlines are ordered by a
 * sequence number handed out in start order when the timers are placed,
 * read from the timer only on a tie; the four-child search compares
 * deadlines alone and leaves the ties that decide something to the exact
 * comparison.
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

#define TIMERS_ARITY 4

struct timers_entry {
	uint64_t when;
	mio_timer *timer;
};

struct mio_timers {
	struct timers_entry *heap;
	size_t len;              /* placed timers, in heap[0 .. len) */
	size_t capacity;
	size_t pending;          /* placed and waiting timers */
	mio_timer *waiting;      /* singly linked, newest first */
	uint64_t next_seq;
	bool running;            /* inside mio_timers_run() */
};

static uint64_t
timers_clock_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on any system libmio builds on. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether a fires before b. Equal deadlines are rare with nanoseconds, so
 * the timers themselves are read only then. */
static inline bool
timers_less(const struct timers_entry *a, const struct timers_entry *b)
{
	if (a->when != b->when)
		return a->when < b->when;
	return a->timer->mio__seq < b->timer->mio__seq;
}

static inline void
timers_put(struct timers_entry *heap, size_t index, struct timers_entry entry)
{
	heap[index] = entry;
	entry.timer->mio__index = index;
}

static void
timers_sift_up(mio_timers *timers, size_t index, struct timers_entry entry)
{
	struct timers_entry *heap = timers->heap;

	while (index > 0) {
		size_t parent = (index - 1) / TIMERS_ARITY;

		if (!timers_less(&entry, &heap[parent]))
			break;
		timers_put(heap, index, heap[parent]);
		index = parent;
	}
	timers_put(heap, index, entry);
}

/* The least of the entries from first to end (exclusive), at least one. */
static inline size_t
timers_least(const struct timers_entry *heap, size_t first, size_t end)
{
	size_t least = first;

	for (size_t child = first + 1; child < end; child++)
		if (timers_less(&heap[child], &heap[least]))
			least = child;
	return least;
}

/*
 * The least of four children: two pairs, then their winners, by deadline
 * alone, as branch-free selects. Only a tie that decided something - in
 * the final comparison, or inside the pair that won it - goes to
 * timers_least(), where start numbers break it; a tie in the losing pair
 * cannot matter.
 */
static inline size_t
timers_least_of_four(const struct timers_entry *heap, size_t first)
{
	const struct timers_entry *c = &heap[first];
	uint64_t w0 = c[0].when, w1 = c[1].when, w2 = c[2].when, w3 = c[3].when;
	uint64_t wa = w1 < w0 ? w1 : w0, wb = w3 < w2 ? w3 : w2;
	bool b_wins = wb < wa;
	size_t least = b_wins ? 2 + (w3 < w2) : (w1 < w0);

	if (wa == wb || (b_wins ? w2 == w3 : w0 == w1))
		return timers_least(heap, first, first + TIMERS_ARITY);
	return first + least;
}

/*
 * Fills the hole at index with entry, which is the heap's former last
 * entry and not less than the hole's parent. Floyd's bottom-up method:
 * the hole first moves down to a leaf along the least children, without
 * comparing them with entry, and entry then rises from there. A former
 * last entry belongs near the bottom, so it rises a step or none, and
 * each level costs three comparisons instead of four.
 */
static void
timers_sift_down(mio_timers *timers, size_t index, struct timers_entry entry)
{
	struct timers_entry *heap = timers->heap;
	size_t len = timers->len;
	size_t first;

	/* No overflow: the array holds at most SIZE_MAX / 64 entries. */
	while ((first = index * TIMERS_ARITY + 1) + TIMERS_ARITY <= len) {
		size_t least = timers_least_of_four(heap, first);

		timers_put(heap, index, heap[least]);
		index = least;
	}
	if (first < len) {
		size_t least = timers_least(heap, first, len);

		timers_put(heap, index, heap[least]);
		index = least;
	}
	timers_sift_up(timers, index, entry);
}

/* Takes the entry at index out of the heap and fills the hole. */
static void
timers_heap_remove(mio_timers *timers, size_t index)
{
	struct timers_entry last = timers->heap[--timers->len];

	if (index == timers->len)
		return;
	if (index > 0 && timers_less(&last,
	    &timers->heap[(index - 1) / TIMERS_ARITY]))
		timers_sift_up(timers, index, last);
	else
		timers_sift_down(timers, index, last);
}

/* Links a timer, not pending, into the waiting list, newest first. */
static inline void
timers_wait(mio_timers *timers, mio_timer *timer, uint64_t delay_ns)
{
	mio_timer *newest = timers->waiting;

	timer->mio__when = delay_ns;
	timer->mio__set = timers;
	timer->mio__next = newest;
	timer->mio__link = &timers->waiting;
	if (newest != NULL)
		newest->mio__link = &timer->mio__next;
	timers->waiting = timer;
	timers->pending++;
}

/* Unlinks a waiting timer; mio__link is NULL once a timer is placed. */
static inline void
timers_unwait(mio_timer *timer)
{
	*timer->mio__link = timer->mio__next;
	if (timer->mio__next != NULL)
		timer->mio__next->mio__link = timer->mio__link;
}

/* Stops a placed timer. Out of line, so that the waiting case of stop and
 * start needs no stack frame. */
static __attribute__((noinline)) bool
timers_stop_placed(mio_timers *timers, mio_timer *timer)
{
	timers_heap_remove(timers, timer->mio__index);
	timers->pending--;
	timer->mio__set = NULL;
	return true;
}

/*
 * Gives every waiting timer its deadline, now plus its delay, and places
 * it in the heap; the array has room, since it holds every pending timer.
 * The list is newest first, so start numbers are handed out backwards:
 * equal deadlines then fire in start order.
 */
static void
timers_place_waiting(mio_timers *timers, uint64_t now)
{
	mio_timer *timer = timers->waiting;
	uint64_t seq = timers->next_seq + (timers->pending - timers->len);

	timers->next_seq = seq;
	while (timer != NULL) {
		mio_timer *next = timer->mio__next;
		uint64_t when = now + timer->mio__when;

		if (when < now)
			when = UINT64_MAX;
		timer->mio__when = when;
		timer->mio__seq = --seq;
		timer->mio__link = NULL;
		timers_sift_up(timers, timers->len++,
		    (struct timers_entry){.when = when, .timer = timer});
		timer = next;
	}
	timers->waiting = NULL;
}

/* Doubles the heap array, which must hold every pending timer. */
static int
timers_grow(mio_timers *timers)
{
	size_t capacity = timers->capacity ? timers->capacity * 2 : 64;
	struct timers_entry *heap;

	if (capacity > SIZE_MAX / sizeof(*heap) / TIMERS_ARITY)
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

/* The cases of mio_timer_start() other than a stopped timer and room in
 * the array: a restart, a timer of another set, growing the array. */
static __attribute__((noinline)) int
timers_start_slow(mio_timers *timers, mio_timer *timer, uint64_t delay_ns)
{
	if (timer->mio__set == timers) {
		if (timer->mio__link != NULL)
			timers_unwait(timer);
		else
			timers_heap_remove(timers, timer->mio__index);
		timers->pending--;
	} else if (timer->mio__set != NULL) {
		return -EINVAL;
	} else {
		int rc = timers_grow(timers);

		if (rc != 0)
			return rc;
	}
	timers_wait(timers, timer, delay_ns);
	return 0;
}

int
mio_timer_start(mio_timers *timers, mio_timer *timer, uint64_t delay_ns)
{
	if (timers == NULL || timer == NULL)
		return -EINVAL;
	if (timer->mio__set != NULL || timers->pending == timers->capacity)
		return timers_start_slow(timers, timer, delay_ns);
	timers_wait(timers, timer, delay_ns);
	return 0;
}

bool
mio_timer_stop(mio_timers *timers, mio_timer *timer)
{
	if (timers == NULL || timer == NULL || timer->mio__set != timers)
		return false;
	if (timer->mio__link == NULL)
		return timers_stop_placed(timers, timer);
	timers_unwait(timer);
	timers->pending--;
	timer->mio__set = NULL;
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
	if (timers->pending == 0)
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

	/* A nested call from a callback would fire timers out of order under
	 * the outer one; it does nothing instead. */
	if (timers == NULL || timers->pending == 0 || timers->running)
		return 0;
	now = timers_clock_ns();
	timers_place_waiting(timers, now);
	timers->running = true;
	/* Timers started by the callbacks wait on the list, out of the heap,
	 * so this loop ends even when a callback restarts itself with 0. */
	while (timers->len > 0 && timers->heap[0].when <= now) {
		mio_timer *timer = timers->heap[0].timer;

		timers_heap_remove(timers, 0);
		timers->pending--;
		timer->mio__set = NULL;
		fired++;
		if (timer->mio__fire != NULL)
			timer->mio__fire(timer, timer->mio__arg);
	}
	timers->running = false;
	return fired;
}
