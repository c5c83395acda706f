/*
 * events.c - mio_events, a buffer of the kernel's own event records, and the
 * mio_event accessors that read them through the backend's mapping.
 *
 * A mio_event pointer is a pointer to one native record in the buffer, cast;
 * nothing is copied between the kernel and the caller. MIO_EVENTS_FOREACH
 * and mio_event_token() usually run inline in the caller (mio.h); the
 * functions here are their out-of-line twins and the rest of the API.
 */
#include "mio-internal.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

/* mio-sys.h tells callers the record's size; a build where configure and
 * the compiler disagree must not get as far as misreading events. */
_Static_assert(MIO_SYS_EVENT_SIZE == sizeof(mio__sys_event),
    "mio-sys.h: MIO_SYS_EVENT_SIZE is not the native record's size");

static const mio__sys_event *
events_native(const mio_event *ev)
{
	return (const mio__sys_event *)(const void *)ev;
}

int
mio_events_new(mio_events **out, size_t capacity)
{
	/*
	 * The kernel takes the capacity as an int and epoll refuses more than
	 * INT_MAX / sizeof(struct epoll_event) events; the same bound keeps
	 * the size computation below from overflowing on 32-bit systems.
	 */
	if (out == NULL || capacity == 0 ||
	    capacity > INT_MAX / sizeof(mio__sys_event))
		return -EINVAL;
	mio_events *events = malloc(sizeof(*events) +
	    capacity * sizeof(mio__sys_event));
	if (events == NULL)
		return -ENOMEM;
	events->head.begin = (unsigned char *)events->buf;
	events->head.capacity = (int)capacity;
	mio__events_set_len(events, 0);
	*out = events;
	return 0;
}

void
mio_events_free(mio_events *events)
{
	free(events);
}

size_t
mio_events_capacity(const mio_events *events)
{
	return (size_t)events->head.capacity;
}

size_t
mio_events_len(const mio_events *events)
{
	return mio__events_len(events);
}

bool
mio_events_is_empty(const mio_events *events)
{
	return events->head.end == events->head.begin;
}

const mio_event *
mio_events_get(const mio_events *events, size_t i)
{
	if (i >= mio__events_len(events))
		return NULL;
	return (const mio_event *)(const void *)&events->buf[i];
}

void
mio_events_clear(mio_events *events)
{
	mio__events_set_len(events, 0);
}

const mio_event *
mio_events_first(const mio_events *events)
{
	return mio_events_get(events, 0);
}

const mio_event *
mio_events_next(const mio_events *events, const mio_event *ev)
{
	/* Steps the pointer rather than recomputing an index, which would
	 * divide by the record's size (12 bytes for epoll) on every event. */
	const mio__sys_event *next = events_native(ev) + 1;

	if ((const unsigned char *)next >= events->head.end)
		return NULL;
	return (const mio_event *)(const void *)next;
}

/* The parentheses keep mio.h's macro of the same name out. */
mio_token
(mio_event_token)(const mio_event *ev)
{
	return mio__event_token(events_native(ev));
}

bool
mio_event_is_readable(const mio_event *ev)
{
	return mio__event_is_readable(events_native(ev));
}

bool
mio_event_is_writable(const mio_event *ev)
{
	return mio__event_is_writable(events_native(ev));
}

bool
mio_event_is_error(const mio_event *ev)
{
	return mio__event_is_error(events_native(ev));
}

bool
mio_event_is_read_closed(const mio_event *ev)
{
	return mio__event_is_read_closed(events_native(ev));
}

bool
mio_event_is_write_closed(const mio_event *ev)
{
	return mio__event_is_write_closed(events_native(ev));
}

bool
mio_event_is_priority(const mio_event *ev)
{
	return mio__event_is_priority(events_native(ev));
}

bool
mio_event_is_aio(const mio_event *ev)
{
	return mio__event_is_aio(events_native(ev));
}

bool
mio_event_is_lio(const mio_event *ev)
{
	return mio__event_is_lio(events_native(ev));
}
