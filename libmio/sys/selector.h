/*
 * sys/selector.h - the contract every readiness backend fulfils.
 *
 * A backend is one file in libmio/sys/ (epoll.c, kqueue.c) that defines every
 * function below; configure compiles exactly one of them, as mio selects one
 * selector module per target. The selector is stateless: it is only the
 * kernel descriptor, so registration needs no lock and polling no allocation.
 *
 * The native event record (struct epoll_event, struct kevent) is named by
 * configure through MIO__SYS_EVENT_HEADER and MIO__SYS_EVENT_TYPE, which is
 * how the portable code stores kernel events without copying them and without
 * an #ifdef per backend.
 *
 * All int results are 0 (or a count) or a negative errno.
 */
#ifndef MIO_SYS_SELECTOR_H
#define MIO_SYS_SELECTOR_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include MIO__SYS_EVENT_HEADER

#include "mio.h"

typedef MIO__SYS_EVENT_TYPE mio__sys_event;

/* Creates the selector descriptor, close-on-exec. */
int mio__selector_new(int *out_fd);

/*
 * Waits for events into buf (at most capacity) until timeout; NULL waits
 * forever. Returns the count, or -EINTR (never retried) or another -errno.
 * The timeout is already validated (non-negative, normalised).
 */
int mio__selector_select(int selector_fd, mio__sys_event *buf,
    int capacity, const struct timespec *timeout);

/* Edge-triggered registration of fd; interest is non-empty and valid. */
int mio__selector_register(int selector_fd, int fd, mio_token token,
    mio_interest interest);
int mio__selector_reregister(int selector_fd, int fd, mio_token token,
    mio_interest interest);
int mio__selector_deregister(int selector_fd, int fd);

/* The mapping from the native record to mio's event predicates. */
mio_token mio__event_token(const mio__sys_event *ev);
bool mio__event_is_readable(const mio__sys_event *ev);
bool mio__event_is_writable(const mio__sys_event *ev);
bool mio__event_is_error(const mio__sys_event *ev);
bool mio__event_is_read_closed(const mio__sys_event *ev);
bool mio__event_is_write_closed(const mio__sys_event *ev);
bool mio__event_is_priority(const mio__sys_event *ev);
bool mio__event_is_aio(const mio__sys_event *ev);
bool mio__event_is_lio(const mio__sys_event *ev);

#endif /* MIO_SYS_SELECTOR_H */
