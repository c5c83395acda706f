/*
 * sys/waker.h - the contract every waker mechanism fulfils.
 *
 * One file per mechanism (waker-eventfd.c, waker-kqueue.c, waker-pipe.c);
 * configure compiles exactly one. The portable part (waker.c) enforces one
 * live waker per poll and owns the allocation; a mechanism only manages its
 * descriptors, kept in struct mio__waker_sys:
 *   eventfd: fd[0] is the eventfd, fd[1] is unused (-1);
 *   kqueue:  fd[0] is the poll's own kqueue, not the mechanism's to
 *            close (the waker's reference to the poll's shared state
 *            keeps it open), fd[1] is unused (-1);
 *   pipe:    fd[0] is the read end (registered), fd[1] the write end.
 * The token is kept for mechanisms that must restate it on every wake
 * (kqueue: a kevent() that modifies a knote replaces its udata).
 */
#ifndef MIO_SYS_WAKER_H
#define MIO_SYS_WAKER_H

#include "mio.h"

struct mio__waker_sys {
	int fd[2];
	mio_token token;
};

/* Creates the mechanism and registers it readable with token. */
int mio__waker_sys_new(int selector_fd, mio_token token,
    struct mio__waker_sys *out);

/* Makes the poll report a readable event with the token; any thread. */
int mio__waker_sys_wake(const struct mio__waker_sys *waker);

/*
 * Removes the mechanism from the selector and closes its descriptors, so
 * that no event with its token follows and the poll may get a new waker
 * with another token. For eventfd and pipe, closing removes the
 * registration; kqueue's user event belongs to the kqueue rather than to
 * a descriptor and is deleted explicitly.
 */
void mio__waker_sys_close(struct mio__waker_sys *waker);

#endif /* MIO_SYS_WAKER_H */
