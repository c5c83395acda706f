/*
 * ring-epoll.c - the pipe ring on raw edge-triggered epoll: the floor that
 * libmio is measured against, doing only what the workload needs.
 *
 * Registration is EPOLLIN|EPOLLET with the pair's index in data.u64, as
 * libmio does it less EPOLLRDHUP; a re-arm is one EPOLL_CTL_MOD.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "ring.h"

struct epoll_ring {
	int epfd;
	struct epoll_event events[RING_EVENT_CAPACITY];
};

static const char *
epoll_ring_version(void)
{
	static struct utsname name;

	return uname(&name) == 0 ? name.release : "unknown";
}

static int
epoll_ring_ctl(int epfd, int op, int fd, size_t index)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLET,
		.data.u64 = index,
	};

	return epoll_ctl(epfd, op, fd, &ev) == 0 ? 0 : -errno;
}

static int
epoll_ring_setup(struct ring *ring)
{
	struct epoll_ring *lib = malloc(sizeof(*lib));

	if (lib == NULL)
		return -ENOMEM;
	lib->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lib->epfd == -1) {
		int rc = -errno;
		free(lib);
		return rc;
	}
	ring->lib = lib;
	for (size_t i = 0; i < ring->pairs; i++) {
		int rc = epoll_ring_ctl(lib->epfd, EPOLL_CTL_ADD,
		    ring->fds[2 * i], i);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
epoll_ring_rearm(struct ring *ring)
{
	struct epoll_ring *lib = ring->lib;

	for (size_t i = 0; i < ring->pairs; i++) {
		int rc = epoll_ring_ctl(lib->epfd, EPOLL_CTL_MOD,
		    ring->fds[2 * i], i);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
epoll_ring_dispatch(struct ring *ring)
{
	struct epoll_ring *lib = ring->lib;

	while (!ring_done(ring)) {
		int n = epoll_wait(lib->epfd, lib->events,
		    RING_EVENT_CAPACITY, -1);
		if (n == -1 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++)
			ring_readable(ring, (size_t)lib->events[i].data.u64);
	}
	return 0;
}

static void
epoll_ring_teardown(struct ring *ring)
{
	struct epoll_ring *lib = ring->lib;

	close(lib->epfd);
	free(lib);
}

const struct ring_backend ring_backend = {
	.name = "epoll",
	.version = epoll_ring_version,
	.setup = epoll_ring_setup,
	.rearm = epoll_ring_rearm,
	.dispatch = epoll_ring_dispatch,
	.teardown = epoll_ring_teardown,
};
