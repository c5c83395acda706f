/*
 * ring-mio.c - the pipe ring on libmio, written as a libmio user would:
 * raw descriptors registered with mio_registry_register_fd(), the pair's
 * index as token, MIO_EVENTS_FOREACH over a buffer of RING_EVENT_CAPACITY.
 * A re-arm is mio_registry_reregister_fd().
 */
#include <errno.h>
#include <stdlib.h>

#include <mio.h>

#include "ring.h"

struct mio_ring {
	mio_poll *poll;
	const mio_registry *registry;
	mio_events *events;
};

static int
mio_ring_setup(struct ring *ring)
{
	struct mio_ring *lib = calloc(1, sizeof(*lib));

	if (lib == NULL)
		return -ENOMEM;
	ring->lib = lib;
	int rc = mio_poll_new(&lib->poll);
	if (rc == 0)
		rc = mio_events_new(&lib->events, RING_EVENT_CAPACITY);
	if (rc != 0)
		return rc;
	lib->registry = mio_poll_registry(lib->poll);
	for (size_t i = 0; i < ring->pairs && rc == 0; i++)
		rc = mio_registry_register_fd(lib->registry, ring->fds[2 * i],
		    i, MIO_READABLE);
	return rc;
}

static int
mio_ring_rearm(struct ring *ring)
{
	const struct mio_ring *lib = ring->lib;
	const mio_registry *registry = lib->registry;

	for (size_t i = 0; i < ring->pairs; i++) {
		int rc = mio_registry_reregister_fd(registry, ring->fds[2 * i],
		    i, MIO_READABLE);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
mio_ring_dispatch(struct ring *ring)
{
	struct mio_ring *lib = ring->lib;
	/* Kept in locals, as a loop would: the poll writes through events, so
	 * the compiler could not keep lib->events in a register itself. */
	mio_poll *poll = lib->poll;
	mio_events *events = lib->events;

	while (!ring_done(ring)) {
		int rc = mio_poll_poll(poll, events, NULL);
		if (rc < 0 && rc != -EINTR)
			return rc;
		MIO_EVENTS_FOREACH(ev, events) {
			ring_readable(ring, (size_t)mio_event_token(ev));
		}
	}
	return 0;
}

static void
mio_ring_teardown(struct ring *ring)
{
	struct mio_ring *lib = ring->lib;

	for (size_t i = 0; i < ring->pairs; i++)
		mio_registry_deregister_fd(lib->registry, ring->fds[2 * i]);
	mio_events_free(lib->events);
	mio_poll_free(lib->poll);
	free(lib);
}

const struct ring_backend ring_backend = {
	.name = "mio",
	.version = mio_version,
	.setup = mio_ring_setup,
	.rearm = mio_ring_rearm,
	.dispatch = mio_ring_dispatch,
	.teardown = mio_ring_teardown,
};
