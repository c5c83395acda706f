/*
 * mio-internal.h - definitions shared by libmio's portable files.
 *
 * Nothing here is installed. Internal non-static symbols carry the mio__
 * prefix and stay hidden by -fvisibility=hidden.
 */
#ifndef MIO_INTERNAL_H
#define MIO_INTERNAL_H

#include "config.h"

#include <errno.h>
#include <stdatomic.h>

#include "mio.h"
#include "sys/selector.h"

/* Every interest bit libmio knows; anything else in an interest is -EINVAL.
 * One definition in mio.h, so that the inline paths agree with the library. */
#define MIO__INTEREST_ALL MIO_INLINE_INTEREST_ALL

/*
 * State shared by a poll, the registries cloned from it and its waker. It is
 * reference-counted because each of those may outlive the others.
 *
 * It also owns the selector descriptor, which all of them use: clones and
 * the EVFILT_USER waker use the poll's own descriptor rather than a dup()
 * of it, because libkqueue finds a kqueue only by the number kqueue()
 * returned. Whoever drops the last reference closes it.
 */
struct mio__poll_shared {
	atomic_uint refs;
	/* True while a waker is alive; mio allows one waker per poll. */
	atomic_bool has_waker;
	/* Unique for the process's lifetime, unlike the address; handles use
	 * it to recognise the poll they are registered with. */
	uint64_t id;
	/* The kernel instance, closed with the last reference. */
	int selector_fd;
};

/*
 * selector_fd repeats shared->selector_fd: it comes first so that the epoll
 * build's inline calls (mio-inline-epoll.h) read it from the registry they
 * were given without knowing this struct further.
 */
struct mio_registry {
	int selector_fd;
	bool is_clone;
	struct mio__poll_shared *shared;
};

struct mio_poll {
	mio_registry registry;
};

/*
 * The head comes first: mio.h's inline iteration and the epoll build's
 * inline poll read and write it. begin is buf; end is buf + the number of
 * stored events, kept so by mio__events_set_len() and the inline poll,
 * which is why the length is never stored apart.
 */
struct mio_events {
	struct mio_inline_events_head head;
	mio__sys_event buf[];
};

static inline void
mio__events_set_len(mio_events *events, size_t len)
{
	events->head.end = (unsigned char *)(events->buf + len);
}

static inline size_t
mio__events_len(const mio_events *events)
{
	return (size_t)((const mio__sys_event *)(const void *)events->head.end -
	    events->buf);
}

/* registry.c */
int mio__poll_shared_new(int selector_fd, struct mio__poll_shared **out);
void mio__poll_shared_ref(struct mio__poll_shared *shared);
void mio__poll_shared_unref(struct mio__poll_shared *shared);
int mio__interest_check(mio_interest interest);
uint64_t mio__registry_id(const mio_registry *registry);
int mio__registry_fd(const mio_registry *registry);

#endif /* MIO_INTERNAL_H */
