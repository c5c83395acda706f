/*
 * ring-libev.c - the pipe ring on libev (Debian's libev-dev), the epoll
 * backend forced. One ev_io watcher per pair, its index in w->data and the
 * ring in the loop's user data. A re-arm is ev_io_stop(), ev_io_set(),
 * ev_io_start(), the way libev's own benchmark changes a watcher; libev
 * hands the change to the kernel in the next ev_run(), so the re-arm
 * variant is compared by its whole iteration.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ev.h>

#include "ring.h"

struct libev_ring {
	struct ev_loop *loop;
	ev_io *watchers;
};

static const char *
libev_ring_version(void)
{
	static char version[32];

	snprintf(version, sizeof(version), "%d.%d", ev_version_major(),
	    ev_version_minor());
	return version;
}

static void
libev_ring_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	ring_readable(ev_userdata(loop), (size_t)(uintptr_t)w->data);
}

static int
libev_ring_setup(struct ring *ring)
{
	struct libev_ring *lib = calloc(1, sizeof(*lib));

	if (lib == NULL)
		return -ENOMEM;
	ring->lib = lib;
	lib->watchers = calloc(ring->pairs, sizeof(*lib->watchers));
	lib->loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
	if (lib->watchers == NULL || lib->loop == NULL)
		return -ENOMEM;
	ev_set_userdata(lib->loop, ring);
	for (size_t i = 0; i < ring->pairs; i++) {
		ev_io *w = &lib->watchers[i];
		ev_io_init(w, libev_ring_readable, ring->fds[2 * i], EV_READ);
		w->data = (void *)(uintptr_t)i;
		ev_io_start(lib->loop, w);
	}
	return 0;
}

static int
libev_ring_rearm(struct ring *ring)
{
	struct libev_ring *lib = ring->lib;

	for (size_t i = 0; i < ring->pairs; i++) {
		ev_io *w = &lib->watchers[i];
		ev_io_stop(lib->loop, w);
		ev_io_set(w, ring->fds[2 * i], EV_READ);
		ev_io_start(lib->loop, w);
	}
	return 0;
}

static int
libev_ring_dispatch(struct ring *ring)
{
	struct libev_ring *lib = ring->lib;

	while (!ring_done(ring))
		ev_run(lib->loop, EVRUN_ONCE);
	return 0;
}

static void
libev_ring_teardown(struct ring *ring)
{
	struct libev_ring *lib = ring->lib;

	for (size_t i = 0; i < ring->pairs; i++)
		ev_io_stop(lib->loop, &lib->watchers[i]);
	ev_loop_destroy(lib->loop);
	free(lib->watchers);
	free(lib);
}

const struct ring_backend ring_backend = {
	.name = "libev",
	.version = libev_ring_version,
	.setup = libev_ring_setup,
	.rearm = libev_ring_rearm,
	.dispatch = libev_ring_dispatch,
	.teardown = libev_ring_teardown,
};
