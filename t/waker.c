/*
 * t/waker.c - mio_waker: same-thread and cross-thread wakes, coalescing,
 * the one-waker-per-poll rule, and descriptor hygiene. Ported in spirit
 * from mio's tests/waker.rs.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define WAKE_TOKEN 10

static void
waker_same_thread(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_waker *waker;

	init_with_poll(&poll, &events);
	is_errno(mio_waker_new(mio_poll_registry(poll), WAKE_TOKEN, &waker), 0,
	    "mio_waker_new");
	is_errno(mio_waker_wake(waker), 0, "wake");
	expect_events(poll, events, { WAKE_TOKEN, R_READABLE });
	expect_no_events(poll, events);
	mio_waker_free(waker);
	mio_events_free(events);
	free_poll(poll);
}

static void
waker_multiple_wakeups_same_thread(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_waker *waker;
	struct timespec t = ms_timeout(100);

	init_with_poll(&poll, &events);
	mio_waker_new(mio_poll_registry(poll), WAKE_TOKEN, &waker);
	for (int i = 0; i < 3; i++)
		mio_waker_wake(waker);
	int n = mio_poll_poll(poll, events, &t);
	ok(n > 0, "three wakes produce an event");
	bool all_waker = true;
	MIO_EVENTS_FOREACH(ev, events)
		all_waker &= mio_event_token(ev) == WAKE_TOKEN &&
		    mio_event_is_readable(ev);
	ok(all_waker, "every event is the waker's, readable");
	expect_no_events(poll, events);
	mio_waker_free(waker);
	mio_events_free(events);
	free_poll(poll);
}

struct wake_later {
	mio_waker *waker;
	long delay_ms;
	int rc;
};

static void *
wake_thread(void *arg)
{
	struct wake_later *w = arg;

	sleep_ms(w->delay_ms);
	w->rc = mio_waker_wake(w->waker);
	return NULL;
}

static void
waker_different_thread(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_waker *waker;
	pthread_t thr;

	init_with_poll(&poll, &events);
	mio_waker_new(mio_poll_registry(poll), WAKE_TOKEN, &waker);
	for (int round = 1; round <= 2; round++) {
		struct wake_later w = { waker, 50, -1 };
		pthread_create(&thr, NULL, wake_thread, &w);
		int n = mio_poll_poll(poll, events, NULL);
		pthread_join(thr, NULL);
		ok(n == 1 && mio_event_token(mio_events_get(events, 0)) ==
		    WAKE_TOKEN, "cross-thread wake %d ends a blocking poll",
		    round);
		is_errno(w.rc, 0, "the other thread's wake returned 0");
		expect_no_events(poll, events);
	}
	mio_waker_free(waker);
	mio_events_free(events);
	free_poll(poll);
}

static void
one_waker_per_poll(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_waker *first, *second = NULL;
	mio_registry *clone;

	init_with_poll(&poll, &events);
	mio_waker_new(mio_poll_registry(poll), 1, &first);
	is_errno(mio_waker_new(mio_poll_registry(poll), 2, &second), -EEXIST,
	    "a second waker on the same poll is -EEXIST");
	ok(second == NULL, "and nothing is returned");
	mio_registry_try_clone(mio_poll_registry(poll), &clone);
	is_errno(mio_waker_new(clone, 2, &second), -EEXIST,
	    "also through a cloned registry");
	is_errno(mio_waker_new(NULL, 1, &second), -EINVAL,
	    "a NULL registry is -EINVAL");
	mio_waker_free(first);
	mio_waker_free(NULL);
	mio_registry_free(clone);
	mio_events_free(events);
	free_poll(poll);
}

/*
 * Freeing a waker lets the poll make a new one, through a clone too, and
 * a wake left pending must not outlive its waker, not even with the new
 * token (kqueue: a trigger left on the user event would be reported with
 * the udata of the next waker, which is why freeing deletes it).
 */
static void
waker_can_be_replaced(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_waker *first, *second;
	mio_registry *clone;

	init_with_poll(&poll, &events);
	mio_registry_try_clone(mio_poll_registry(poll), &clone);
	mio_waker_new(mio_poll_registry(poll), 1, &first);
	mio_waker_wake(first);
	mio_waker_free(first);
	is_errno(mio_waker_new(clone, 3, &second), 0,
	    "after freeing the first, a new waker may be made through the "
	    "clone");
	expect_no_events(poll, events);
	mio_waker_wake(second);
	/*
	 * libkqueue keeps the knote of a descriptor closed while registered
	 * (its BUGS.md, Linux). Freeing the pipe waker closes its read end,
	 * the new pipe gets the same descriptor numbers, and registering
	 * them modifies the stale knote, whose epoll registration went away
	 * with the close: the new waker never reports. Native kernels drop
	 * a registration on close, so the new pipe registers afresh; the
	 * EVFILT_USER waker (libkqueue's default) has no descriptor.
	 */
	if (is_libkqueue() && strcmp(MIO_WAKER_NAME, "pipe") == 0)
		skip(1, "libkqueue: the new waker reuses the freed one's "
		    "descriptor numbers, whose stale knote never reports");
	else
		expect_events(poll, events, { 3, R_READABLE });
	ok(no_event_with_token(events, 1), "the freed waker's token is gone");
	mio_waker_free(second);
	mio_registry_free(clone);
	mio_events_free(events);
	free_poll(poll);
}

static void
many_wakes_without_polling(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_waker *waker;
	int failures = 0;

	init_with_poll(&poll, &events);
	mio_waker_new(mio_poll_registry(poll), WAKE_TOKEN, &waker);
	/* More wakes than a pipe holds: the pipe waker must drain. */
	for (int i = 0; i < 200000; i++)
		failures += mio_waker_wake(waker) != 0;
	is_int(failures, 0, "200000 wakes without a poll all succeed");
	expect_events(poll, events, { WAKE_TOKEN, R_READABLE });
	mio_waker_wake(waker);
	expect_events(poll, events, { WAKE_TOKEN, R_READABLE });
	mio_waker_free(waker);
	mio_events_free(events);
	free_poll(poll);
}

static void
waker_lifetimes(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_waker *waker;

	int before = count_open_fds();
	for (int i = 0; i < 500; i++) {
		init_with_poll(&poll, &events);
		if (mio_waker_new(mio_poll_registry(poll), 1, &waker) != 0)
			bail("mio_waker_new");
		mio_waker_wake(waker);
		mio_waker_free(waker);
		mio_events_free(events);
		free_poll(poll);
	}
	is_fd_count(before, "500 wakers leak no descriptor");

	/* The waker holds the poll's shared state, selector included: the
	 * selector closes when the waker is freed after its poll. */
	struct kqueue_note note;
	init_with_poll(&poll, &events);
	mio_waker_new(mio_poll_registry(poll), 1, &waker);
	mio_events_free(events);
	kqueue_note(mio_poll_fd(poll), &note);
	mio_poll_free(poll);
	is_errno(mio_waker_wake(waker), 0, "a waker outlives its poll");
	mio_waker_free(waker);
	kqueue_wait_released(&note);
	is_fd_count(before, "and freeing it last closes the selector");
}

int
main(void)
{
	plan_lazy();
	diag("waker mechanism: %s", MIO_WAKER_NAME);
	waker_same_thread();
	waker_multiple_wakeups_same_thread();
	waker_different_thread();
	one_waker_per_poll();
	waker_can_be_replaced();
	many_wakes_without_polling();
	waker_lifetimes();
	return 0;
}
