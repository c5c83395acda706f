/*
 * sys/waker-kqueue.c - the EVFILT_USER waker, used with the kqueue backend
 * wherever configure finds EVFILT_USER and NOTE_TRIGGER. mio 1.2.2 uses it
 * on FreeBSD and macOS; its master (PR 1993) also on DragonFly, NetBSD and
 * OpenBSD, whose newer releases have EVFILT_USER.
 *
 * Port of mio's src/sys/unix/waker/kqueue.rs and the waker part of
 * selector/kqueue.rs, written anew. Notes:
 *
 * - The waker holds a duplicate of the kqueue descriptor (close-on-exec,
 *   mio PR 1491), so it stays usable after the poll is freed: a kqueue
 *   lives until its last descriptor is closed.
 * - The user event has ident 0; there is one waker per poll, so one ident
 *   is enough. It is added with EV_CLEAR so that each trigger is reported
 *   once, and a wake is one kevent() with NOTE_TRIGGER: no descriptor to
 *   write, nothing to drain, no limit on pending wakes.
 * - A wake restates EV_ADD and the token, as mio does: every kevent()
 *   that modifies a knote replaces its udata (FreeBSD kqueue_register()),
 *   so a wake without the token would report token 0. This is why
 *   struct mio__waker_sys carries the token.
 * - Closing the duplicate does not remove the user event: it belongs to
 *   the kqueue, not to a descriptor. mio never frees a waker; libmio lets
 *   a poll make a new one with another token, so freeing deletes the user
 *   event first, which also drops a trigger not yet polled.
 * - libkqueue cannot run this waker: it finds a kqueue by the number of
 *   the descriptor kqueue() returned, and kevent() on a duplicate fails
 *   with ENOENT. configure therefore chooses the pipe waker with
 *   libkqueue (see docs/backends.md).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include "sys/selector.h"
#include "sys/waker.h"

/* See KQUEUE_UDATA in kqueue.c: udata is intptr_t on NetBSD before 10. */
#define WAKER_UDATA(token)                                                \
	_Generic(((struct kevent *)0)->udata,                             \
	    void *: (void *)(uintptr_t)(token),                            \
	    default: (intptr_t)(token))

/* Applies one change to the user event and returns its receipt's errno. */
static int
waker_kevent(int kq, unsigned flags, unsigned fflags, mio_token token)
{
	struct kevent kev;

	memset(&kev, 0, sizeof(kev));
	kev.ident = 0;
	kev.filter = EVFILT_USER;
	kev.flags = flags | EV_RECEIPT;
	kev.fflags = fflags;
	kev.udata = WAKER_UDATA(token);
	int n = kevent(kq, &kev, 1, &kev, 1, NULL);
	/* As for registrations, EINTR means the change was applied. */
	if (n == -1)
		return errno == EINTR ? 0 : -errno;
	if ((kev.flags & EV_ERROR) != 0 && kev.data != 0)
		return -(int)kev.data;
	return 0;
}

int
mio__waker_sys_new(int selector_fd, mio_token token,
    struct mio__waker_sys *out)
{
	int kq = fcntl(selector_fd, F_DUPFD_CLOEXEC, 0);

	if (kq == -1)
		return -errno;
	int rc = waker_kevent(kq, EV_ADD | EV_CLEAR, 0, token);
	if (rc != 0) {
		close(kq);
		return rc;
	}
	out->fd[0] = kq;
	out->fd[1] = -1;
	out->token = token;
	return 0;
}

int
mio__waker_sys_wake(const struct mio__waker_sys *waker)
{
	return waker_kevent(waker->fd[0], EV_ADD, NOTE_TRIGGER, waker->token);
}

void
mio__waker_sys_close(struct mio__waker_sys *waker)
{
	/* ENOENT cannot happen while the waker lives; nothing to report. */
	(void)waker_kevent(waker->fd[0], EV_DELETE, 0, 0);
	close(waker->fd[0]);
	waker->fd[0] = -1;
}
