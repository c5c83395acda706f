/*
 * ring-libuv.c - the pipe ring on libuv (Debian's libuv1-dev). One uv_poll_t
 * per pair, its index in handle->data and the ring in loop->data. A re-arm
 * is uv_poll_start() on the active handle, the documented way to change its
 * events; libuv removes the descriptor from epoll at once and adds it back
 * in the next uv_run(), so the re-arm variant is compared by its whole
 * iteration.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <uv.h>

#include "ring.h"

struct libuv_ring {
	uv_loop_t loop;
	uv_poll_t *polls;
	int status; /* the first error a callback saw, or 0 */
};

static const char *
libuv_ring_version(void)
{
	return uv_version_string();
}

static void
libuv_ring_readable(uv_poll_t *handle, int status, int events)
{
	struct ring *ring = handle->loop->data;
	struct libuv_ring *lib = ring->lib;

	if (status < 0) {
		lib->status = status;
		return;
	}
	ring_readable(ring, (size_t)(uintptr_t)handle->data);
}

static int
libuv_ring_setup(struct ring *ring)
{
	struct libuv_ring *lib = calloc(1, sizeof(*lib));

	if (lib == NULL)
		return -ENOMEM;
	ring->lib = lib;
	lib->polls = calloc(ring->pairs, sizeof(*lib->polls));
	if (lib->polls == NULL)
		return -ENOMEM;
	int rc = uv_loop_init(&lib->loop);
	if (rc != 0)
		return rc;
	lib->loop.data = ring;
	for (size_t i = 0; i < ring->pairs && rc == 0; i++) {
		uv_poll_t *handle = &lib->polls[i];
		rc = uv_poll_init(&lib->loop, handle, ring->fds[2 * i]);
		handle->data = (void *)(uintptr_t)i;
		if (rc == 0)
			rc = uv_poll_start(handle, UV_READABLE,
			    libuv_ring_readable);
	}
	return rc;
}

static int
libuv_ring_rearm(struct ring *ring)
{
	struct libuv_ring *lib = ring->lib;
	int rc = 0;

	for (size_t i = 0; i < ring->pairs && rc == 0; i++)
		rc = uv_poll_start(&lib->polls[i], UV_READABLE,
		    libuv_ring_readable);
	return rc;
}

static int
libuv_ring_dispatch(struct ring *ring)
{
	struct libuv_ring *lib = ring->lib;

	while (!ring_done(ring) && lib->status == 0)
		uv_run(&lib->loop, UV_RUN_ONCE);
	return lib->status;
}

static void
libuv_ring_teardown(struct ring *ring)
{
	struct libuv_ring *lib = ring->lib;

	for (size_t i = 0; i < ring->pairs; i++)
		uv_close((uv_handle_t *)&lib->polls[i], NULL);
	uv_run(&lib->loop, UV_RUN_DEFAULT);
	uv_loop_close(&lib->loop);
	free(lib->polls);
	free(lib);
}

const struct ring_backend ring_backend = {
	.name = "libuv",
	.version = libuv_ring_version,
	.setup = libuv_ring_setup,
	.rearm = libuv_ring_rearm,
	.dispatch = libuv_ring_dispatch,
	.teardown = libuv_ring_teardown,
};
