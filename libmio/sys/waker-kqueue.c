/*
 * sys/waker-kqueue.c - the EVFILT_USER waker, used with the kqueue backend
 * wherever configure finds EVFILT_USER and NOTE_TRIGGER. mio 1.2.2 uses it
 * on FreeBSD and macOS; its master (PR 1993) also on DragonFly, NetBSD and
 * OpenBSD, whose newer releases have EVFILT_USER.
 *
 * Port of mio's src/sys/unix/waker/kqueue.rs and the waker part of
 * selector/kqueue.rs, written anew. Notes:
 *
 * - The waker uses the poll's own kqueue descriptor. mio holds a
 *   duplicate so that the waker stays usable after the poll is freed;
 *   libmio gets the same from the poll's shared state, whose reference
 *   the waker holds and which closes the descriptor only when the poll,
 *   its clones and the waker are all freed (waker.c, registry.c).
 * - The user event has ident 0; there is one waker per poll, so one ident
 *   is enough. It is added with EV_CLEAR so that each trigger is reported
 *   once, and a wake is one kevent() with NOTE_TRIGGER: no descriptor to
 *   write, nothing to drain, no limit on pending wakes.
 * - A wake restates EV_ADD and the token, as mio does: every kevent()
 *   that modifies a knote replaces its udata (FreeBSD kqueue_register()),
 *   so a wake without the token would report token 0. This is why
 *   struct mio__waker_sys carries the token.
 * - The user event belongs to the kqueue, not to a descriptor, so it
 *   outlives the waker unless deleted. mio never frees a waker; libmio
 *   lets a poll make a new one with another token, so freeing deletes
 *   the user event, which also drops a trigger not yet polled.
 * - Not duplicating the descriptor is also what lets this waker run over
 *   libkqueue, which finds a kqueue by the number kqueue() returned and
 *   answers ENOENT for a duplicate (docs/backends.md).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>

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
	int rc = waker_kevent(selector_fd, EV_ADD | EV_CLEAR, 0, token);
	if (rc != 0)
		return rc;
	out->fd[0] = selector_fd;
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
	waker->fd[0] = -1;
}
