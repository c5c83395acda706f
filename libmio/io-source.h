/*
 * io-source.h - the owned-descriptor source behind every libmio handle
 * (TCP, UDP, Unix sockets, pipes): mio's IoSource.
 *
 * A handle embeds struct mio__io_source first, so the handle, its
 * mio__io_source and its mio_source share one address. The source remembers
 * which poll it is registered with, which gives every backend the same
 * answers where the kernels differ (epoll says EEXIST to a second register,
 * kqueue silently modifies):
 *   register while registered with any poll      -> -EEXIST
 *   reregister/deregister while not registered   -> -ENOENT
 *   reregister/deregister naming another poll    -> -EEXIST
 * mio makes these checks in debug builds only; libmio always makes them.
 * Calls on one handle must not race each other (mio takes &mut self there).
 */
#ifndef MIO_IO_SOURCE_H
#define MIO_IO_SOURCE_H

#include "mio-internal.h"

struct mio__io_source {
	mio_source source;
	int fd;
	/* mio__registry_id() of the poll it is registered with, or 0. */
	uint64_t registry_id;
};

/* Makes src an unregistered source owning fd. */
void mio__io_source_init(struct mio__io_source *src, int fd);

/* Releases the descriptor without closing it; returns it. */
int mio__io_source_release(struct mio__io_source *src);

/* Closes the descriptor, which also ends any registration. */
void mio__io_source_close(struct mio__io_source *src);

#endif /* MIO_IO_SOURCE_H */
