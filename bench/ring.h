/*
 * ring.h - the pipe-ring benchmark: the contract between the shared driver
 * (ring-driver.c) and the one event library each program is built with
 * (ring-mio.c, ring-epoll.c, ring-libev.c, ring-libevent.c, ring-libuv.c).
 *
 * The workload is the classic one of libevent's test/bench.c, also used on
 * libev's benchmark page, written anew here. N socket pairs are made; the
 * read end of every pair is registered for readable readiness with token i
 * (its index). An iteration sends one byte into A pairs spread evenly over
 * the ring; whenever a pair becomes readable the byte is read and, while the
 * iteration's budget of W writes lasts, sent on to the next pair. The
 * iteration ends when every byte sent has been received. The re-arm variant
 * reregisters every one of the N read ends before each iteration, with the
 * library's own call for changing a registration.
 *
 * The driver owns the sockets, the timing and the output; a backend only
 * creates its loop, registers, reregisters and dispatches. Every backend
 * calls ring_readable() for each readable event, so the work done per event
 * (one recv, one send) is the same code for every library.
 */
#ifndef RING_H
#define RING_H

#include <stdbool.h>
#include <stddef.h>

/* The capacity of the event buffer of the backends that choose one. */
#define RING_EVENT_CAPACITY 1024

struct ring {
	/* Parameters, fixed for the run. */
	size_t pairs;  /* N */
	size_t active; /* A */
	size_t writes; /* W, per iteration */
	/* fds[2 * i] is the read end of pair i (registered, token i);
	 * fds[2 * i + 1] its write end. Both are non-blocking. */
	int *fds;

	/* Progress of the current iteration. */
	size_t received;    /* bytes read */
	size_t sent;        /* bytes sent, the A starters included */
	size_t writes_left; /* of the W forwarding writes */
	size_t callbacks;   /* calls of ring_readable() */

	/* The backend's own state. */
	void *lib;
};

/*
 * One event library. Every function returns 0 or a negative errno; the
 * driver reports failures and exits.
 */
struct ring_backend {
	/* The library's name and version, as printed in the results. */
	const char *name;
	const char *(*version)(void);
	/* Creates the loop and registers every read end for readable
	 * readiness, with token (or callback argument) i. */
	int (*setup)(struct ring *ring);
	/* Reregisters every read end with the same interest, using the
	 * library's own call for changing a registration. */
	int (*rearm)(struct ring *ring);
	/* Runs the loop, calling ring_readable() for each readable event,
	 * until ring_done(). */
	int (*dispatch)(struct ring *ring);
	/* Deregisters everything and frees the loop; the driver closes the
	 * sockets afterwards. */
	void (*teardown)(struct ring *ring);
};

/* Defined by the one ring-<lib>.c linked into the program. */
extern const struct ring_backend ring_backend;

/* Handles readiness of pair index: reads its bytes and passes them on. */
void ring_readable(struct ring *ring, size_t index);

/* Whether the current iteration has delivered every byte it sent. */
static inline bool
ring_done(const struct ring *ring)
{
	return ring->received == ring->sent;
}

#endif /* RING_H */
