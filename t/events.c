/*
 * t/events.c - mio_events and mio_event: capacity, length, access,
 * iteration and clearing. Ported in spirit from mio's tests/events.rs.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <unistd.h>

#include "util.h"

static void
events_all(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_waker *waker;

	init_with_poll(&poll, &events);
	is_int(mio_events_capacity(events), 16, "capacity is 16");
	ok(mio_events_is_empty(events), "a new buffer is empty");
	is_int(mio_events_len(events), 0, "and has length 0");
	ok(mio_events_get(events, 0) == NULL, "get(0) of an empty buffer is NULL");
	ok(mio_events_first(events) == NULL, "first() of an empty buffer is NULL");

	mio_waker_new(mio_poll_registry(poll), 42, &waker);
	mio_waker_wake(waker);
	struct timespec t = ms_timeout(1000);
	is_int(mio_poll_poll(poll, events, &t), 1, "one waker event");
	ok(!mio_events_is_empty(events), "the buffer is not empty");
	is_int(mio_events_len(events), 1, "length 1");
	const mio_event *ev = mio_events_get(events, 0);
	ok(ev != NULL && mio_event_token(ev) == 42 && mio_event_is_readable(ev),
	    "get(0) is the waker's readable event");
	ok(mio_events_get(events, 1) == NULL, "get(len) is NULL");
	ok(mio_events_first(events) == ev, "first() is get(0)");
	ok(mio_events_next(events, ev) == NULL, "next() of the last is NULL");
	mio_events_clear(events);
	ok(mio_events_is_empty(events), "clear() empties the buffer");
	is_int(mio_events_capacity(events), 16, "and keeps its capacity");
	mio_waker_free(waker);
	mio_events_free(events);
	free_poll(poll);
}

static void
iteration(void)
{
	mio_poll *poll;
	mio_events *events;
	int fds[4][2];

	init_with_poll(&poll, &events);
	for (int i = 0; i < 4; i++) {
		nb_socketpair(SOCK_STREAM, fds[i]);
		mio_registry_register_fd(mio_poll_registry(poll), fds[i][0],
		    (mio_token)(100 + i), MIO_WRITABLE);
	}
	struct timespec t = ms_timeout(1000);
	int n = mio_poll_poll(poll, events, &t);
	size_t count = 0;
	unsigned tokens = 0;
	MIO_EVENTS_FOREACH(ev, events) {
		count++;
		tokens |= 1u << (mio_event_token(ev) - 100);
	}
	ok(n == 4 && count == 4, "MIO_EVENTS_FOREACH visits all 4 events");
	is_int(tokens, 0xf, "with each token once");
	bool same = true;
	for (size_t i = 0; i < mio_events_len(events); i++) {
		const mio_event *ev = mio_events_get(events, i);
		same &= i == 0 ? ev == mio_events_first(events) :
		    ev == mio_events_next(events, mio_events_get(events, i - 1));
	}
	ok(same, "get(i) and first()/next() agree");
	/* The inline path of mio.h and the library's functions agree. */
	const mio_event *walk = mio_events_first(events);
	bool agree = true;
	count = 0;
	MIO_EVENTS_FOREACH(ev, events) {
		agree &= ev == walk &&
		    mio_event_token(ev) == (mio_event_token)(ev);
		walk = mio_events_next(events, walk);
		count++;
	}
	ok(agree && walk == NULL && count == 4,
	    "the inline MIO_EVENTS_FOREACH and mio_event_token() match "
	    "first()/next() and the exported mio_event_token()");
	mio_token (*token_fn)(const mio_event *) = mio_event_token;
	ok(token_fn(mio_events_first(events)) ==
	    mio_event_token(mio_events_first(events)),
	    "mio_event_token is still a function to take the address of");
	mio_events_clear(events);
	count = 0;
	MIO_EVENTS_FOREACH(ev, events)
		count++;
	is_int(count, 0, "after clear() the inline loop visits nothing");
	/*
	 * A token uses the whole uintptr_t, as mio allows usize::MAX. A fresh
	 * registration, so that the event does not depend on a reregister
	 * re-reporting readiness, which libkqueue does not do (see
	 * t/registering.c, reregister_reports_current_readiness).
	 */
	mio_registry_deregister_fd(mio_poll_registry(poll), fds[0][0]);
	mio_registry_register_fd(mio_poll_registry(poll), fds[0][0],
	    UINTPTR_MAX, MIO_WRITABLE);
	expect_events(poll, events, { UINTPTR_MAX, R_WRITABLE });
	for (int i = 0; i < 4; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	mio_events_free(events);
	free_poll(poll);
}

static void
bad_capacity(void)
{
	mio_events *events = NULL;

	is_errno(mio_events_new(&events, 0), -EINVAL, "capacity 0 is -EINVAL");
	ok(events == NULL, "and nothing is allocated");
	is_errno(mio_events_new(&events, SIZE_MAX), -EINVAL,
	    "a capacity beyond the kernel's int is -EINVAL");
	is_errno(mio_events_new(&events, INT_MAX / 2), -EINVAL,
	    "so is one whose records would exceed what one wait accepts");
	is_errno(mio_events_new(NULL, 4), -EINVAL, "a NULL out is -EINVAL");
	mio_events_free(NULL);
	is_errno(mio_events_new(&events, 1), 0, "capacity 1 is fine");
	is_int(mio_events_capacity(events), 1, "and reported as 1");
	mio_events_free(events);
}

int
main(void)
{
	plan_lazy();
	events_all();
	iteration();
	bad_capacity();
	return 0;
}
