/*
 * ring-libevent.c - the pipe ring on libevent 2 (Debian's libevent-dev,
 * libevent_core), its epoll backend required and its defaults otherwise
 * kept (level-triggered, no changelist). One persistent EV_READ event per
 * pair, made by event_new(). A re-arm is event_del() then event_add(), as
 * libevent's own test/bench.c re-adds every event each round.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "ring.h"

struct libevent_ring {
	struct event_base *base;
	struct event **events;
};

/* A libevent callback gets one argument, used for the pair's index, and a
 * base carries no user data; the process runs one ring, kept here. */
static struct ring *libevent_ring_current;

static const char *
libevent_ring_version(void)
{
	return event_get_version();
}

static void
libevent_ring_readable(evutil_socket_t fd, short what, void *arg)
{
	ring_readable(libevent_ring_current, (size_t)(uintptr_t)arg);
}

static struct event_base *
libevent_ring_base_new(void)
{
	struct event_config *config = event_config_new();
	struct event_base *base;

	if (config == NULL)
		return NULL;
	event_config_avoid_method(config, "select");
	event_config_avoid_method(config, "poll");
	base = event_base_new_with_config(config);
	event_config_free(config);
	return base;
}

static int
libevent_ring_setup(struct ring *ring)
{
	struct libevent_ring *lib = calloc(1, sizeof(*lib));

	if (lib == NULL)
		return -ENOMEM;
	ring->lib = lib;
	libevent_ring_current = ring;
	lib->events = calloc(ring->pairs, sizeof(*lib->events));
	lib->base = libevent_ring_base_new();
	if (lib->events == NULL || lib->base == NULL)
		return -ENOMEM;
	if (strcmp(event_base_get_method(lib->base), "epoll") != 0)
		return -ENOTSUP;
	for (size_t i = 0; i < ring->pairs; i++) {
		lib->events[i] = event_new(lib->base, ring->fds[2 * i],
		    EV_READ | EV_PERSIST, libevent_ring_readable,
		    (void *)(uintptr_t)i);
		if (lib->events[i] == NULL)
			return -ENOMEM;
		if (event_add(lib->events[i], NULL) != 0)
			return -EIO;
	}
	return 0;
}

static int
libevent_ring_rearm(struct ring *ring)
{
	struct libevent_ring *lib = ring->lib;

	for (size_t i = 0; i < ring->pairs; i++) {
		if (event_del(lib->events[i]) != 0 ||
		    event_add(lib->events[i], NULL) != 0)
			return -EIO;
	}
	return 0;
}

static int
libevent_ring_dispatch(struct ring *ring)
{
	struct libevent_ring *lib = ring->lib;

	while (!ring_done(ring)) {
		if (event_base_loop(lib->base, EVLOOP_ONCE) == -1)
			return -EIO;
	}
	return 0;
}

static void
libevent_ring_teardown(struct ring *ring)
{
	struct libevent_ring *lib = ring->lib;

	for (size_t i = 0; i < ring->pairs; i++)
		event_free(lib->events[i]);
	event_base_free(lib->base);
	free(lib->events);
	free(lib);
}

const struct ring_backend ring_backend = {
	.name = "libevent",
	.version = libevent_ring_version,
	.setup = libevent_ring_setup,
	.rearm = libevent_ring_rearm,
	.dispatch = libevent_ring_dispatch,
	.teardown = libevent_ring_teardown,
};
