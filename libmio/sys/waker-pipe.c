/*
 * sys/waker-pipe.c - the portable pipe waker.
 *
 * Port of mio's src/sys/unix/waker/pipe.rs, written anew. It is the waker of
 * systems with neither eventfd nor EVFILT_USER (OpenBSD and NetBSD before
 * EVFILT_USER, illumos without eventfd), and ./configure --with-waker=pipe
 * forces it anywhere so that Linux CI compiles and tests it. Notes:
 *
 * - Both ends are non-blocking and close-on-exec; pipe2() sets both
 *   atomically where it exists, otherwise fcntl() follows pipe() (a fork in
 *   another thread between the two could leak the ends to a child; that is
 *   the platform's limit, as mio documents for macOS).
 * - The read end is registered edge-triggered for readable. A write to a
 *   pipe that already holds data still produces a new edge on epoll and
 *   kqueue, so wakes need no draining until the pipe is full.
 * - When the pipe is full (EAGAIN) the wake drains it and retries: the
 *   pending bytes carry no information beyond "woken", and the retried
 *   write creates the edge the caller asked for.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "sys/selector.h"
#include "sys/waker.h"

#ifndef HAVE_PIPE2
static int
pipe_set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -errno;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -errno;
	return 0;
}
#endif

static int
pipe_open(int fds[2])
{
#ifdef HAVE_PIPE2
	return pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1 ? -errno : 0;
#else
	if (pipe(fds) == -1)
		return -errno;
	int rc = pipe_set_flags(fds[0]);
	if (rc == 0)
		rc = pipe_set_flags(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		close(fds[1]);
	}
	return rc;
#endif
}

int
mio__waker_sys_new(int selector_fd, mio_token token,
    struct mio__waker_sys *out)
{
	int fds[2];
	int rc = pipe_open(fds);

	if (rc != 0)
		return rc;
	rc = mio__selector_register(selector_fd, fds[0], token, MIO_READABLE);
	if (rc != 0) {
		close(fds[0]);
		close(fds[1]);
		return rc;
	}
	out->fd[0] = fds[0];
	out->fd[1] = fds[1];
	return 0;
}

static void
pipe_drain(int fd)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n == -1 && errno != EINTR))
			return;
	}
}

int
mio__waker_sys_wake(const struct mio__waker_sys *waker)
{
	const char byte = 1;

	for (;;) {
		if (write(waker->fd[1], &byte, 1) == 1)
			return 0;
		if (errno == EAGAIN)
			pipe_drain(waker->fd[0]);
		else if (errno != EINTR)
			return -errno;
	}
}

void
mio__waker_sys_close(struct mio__waker_sys *waker)
{
	close(waker->fd[0]);
	close(waker->fd[1]);
	waker->fd[0] = waker->fd[1] = -1;
}
