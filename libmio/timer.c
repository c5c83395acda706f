/*
 * timer.c - the timer set of <mio-timer.h>: a 4-ary min-heap of
 * (deadline, timer) pairs for the timers due within about a second, 256
 * far slots of 2^30 ns for the later ones, and a list of started timers
 * waiting for the set's next clock read to be given a deadline and a
 * place in one or the other.
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
 * Why far slots: most long timers (idle and request timeouts) are stopped
 * or restarted long before they are due. A timer due after the slot that
 * follows the current one is linked into the far slot of its deadline, a
 * hashed wheel of one level, and is unlinked in O(1) by a stop; only when
 * the slot before its own begins does it move into the heap, a slot (1.07
 * s) or more before it is due, so the heap alone decides the order in
 * which timers fire. A slot serves every lap (256 slots, 4.6 minutes);
 * the timers of a later lap stay when it is emptied. While far timers
 * wait, the timeout also ends when the next non-empty slot must move.
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
 * pending timer, waiting, far or placed; placing or moving a timer
 * therefore never allocates and never fails. It does not shrink until
 * freed. A timer's mio__link is non-NULL exactly while it is on the
 * waiting list or in a far slot, which unlink alike.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "mio-timer.h"

#define TIMERS_ARITY 4
/* Far slots: 2^30 ns (1.07 s) wide, 256 of them (4.6 minutes a lap). */
#define TIMERS_FAR_SHIFT 30
#define TIMERS_FAR_SLOTS 256

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
	/* Timers due in a later slot than far_done wait in far[slot % 256]
	 * until the slot before theirs begins; see timers_far_move(). */
	uint64_t far_done;
	mio_timer *far[TIMERS_FAR_SLOTS];
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

/* Unlinks a timer from the waiting list or a far slot. */
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

/* Links a timer into a list through its link pointer: the waiting list
 * or a far slot, which unlink the same way (timers_unwait). */
static inline void
timers_link(mio_timer **head, mio_timer *timer)
{
	timer->mio__next = *head;
	timer->mio__link = head;
	if (*head != NULL)
		(*head)->mio__link = &timer->mio__next;
	*head = timer;
}

static inline void
timers_heap_push(mio_timers *timers, mio_timer *timer)
{
	timer->mio__link = NULL;
	timers_sift_up(timers, timers->len++,
	    (struct timers_entry){.when = timer->mio__when, .timer = timer});
}

/*
 * Moves to the heap the far timers of every slot up to target, the slot
 * after the current one: a far timer enters the heap at least one slot
 * (1.07 s) before it is due. A slot holds the timers of every lap that
 * maps to it; those of a later lap stay. After a gap of a whole lap or
 * more, one pass over all slots is enough.
 */
static void
timers_far_move(mio_timers *timers, uint64_t target)
{
	uint64_t slot = timers->far_done + 1;

	if (target < slot)
		return;
	if (target - slot >= TIMERS_FAR_SLOTS)
		slot = target - TIMERS_FAR_SLOTS + 1;
	for (; slot <= target; slot++) {
		mio_timer **link = &timers->far[slot % TIMERS_FAR_SLOTS];
		mio_timer *timer;

		while ((timer = *link) != NULL) {
			if (timer->mio__when >> TIMERS_FAR_SHIFT > target)
				link = &timer->mio__next;
			else {
				timers_unwait(timer);
				timers_heap_push(timers, timer);
			}
		}
	}
	timers->far_done = target;
}

/*
 * The set's clock read: moves the far timers that come near, then gives
 * every waiting timer its deadline, now plus its delay, and a start
 * number, and puts it in the heap, or in a far slot when it is due after
 * the slot following the current one. The heap array has room, since it
 * holds every pending timer. The list is newest first, so start numbers
 * are handed out backwards from a base above any used: equal deadlines
 * then fire in start order.
 */
static void
timers_place_waiting(mio_timers *timers, uint64_t now)
{
	mio_timer *timer = timers->waiting;
	uint64_t seq = timers->next_seq + timers->pending;

	timers_far_move(timers, (now >> TIMERS_FAR_SHIFT) + 1);
	timers->next_seq = seq;
	while (timer != NULL) {
		mio_timer *next = timer->mio__next;
		uint64_t when = now + timer->mio__when;

		if (when < now)
			when = UINT64_MAX;
		timer->mio__when = when;
		timer->mio__seq = --seq;
		if (when >> TIMERS_FAR_SHIFT > timers->far_done)
			timers_link(&timers->far[(when >> TIMERS_FAR_SHIFT) %
			    TIMERS_FAR_SLOTS], timer);
		else
			timers_heap_push(timers, timer);
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
	for (size_t slot = 0; slot < TIMERS_FAR_SLOTS; slot++)
		for (mio_timer *t = timers->far[slot]; t != NULL; t = t->mio__next)
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

/*
 * The time until the earliest deadline in the heap or, if sooner, until
 * the next non-empty far slot must move to the heap: slot s moves when
 * slot s - 1 begins. A slot may hold only timers of a later lap; then the
 * poll wakes once for nothing, at most once a lap (4.6 minutes).
 */
static uint64_t
timers_left(const mio_timers *timers, uint64_t now)
{
	uint64_t left = UINT64_MAX;

	if (timers->len > 0)
		left = timers->heap[0].when > now ? timers->heap[0].when - now : 0;
	if (timers->pending == timers->len)
		return left;
	for (uint64_t slot = timers->far_done + 1;
	    slot <= timers->far_done + TIMERS_FAR_SLOTS; slot++) {
		if (timers->far[slot % TIMERS_FAR_SLOTS] != NULL) {
			uint64_t move = (slot - 1) << TIMERS_FAR_SHIFT;

			if (move - now < left)
				left = move - now;
			break;
		}
	}
	return left;
}

int
mio_timers_timeout(mio_timers *timers, struct timespec *out)
{
	uint64_t now, left;

	if (timers == NULL || out == NULL)
		return -EINVAL;
	if (timers->pending == 0)
		return -ENOENT;
	now = timers_clock_ns();
	timers_place_waiting(timers, now);
	left = timers_left(timers, now);
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
