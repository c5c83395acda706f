/*
 * mio.h - libmio, a C port of Rust's mio: readiness-based, edge-triggered
 * event notification over epoll (Linux) and kqueue (BSDs, macOS).
 *
 * This is the whole public API of libmio. Every type is opaque except
 * mio_source and mio_source_ops, which callers embed in their own objects.
 *
 * Conventions
 * -----------
 * - Functions that can fail return an int: 0 (or a count) on success and a
 *   negative errno value on failure, for example -EINVAL. errno itself is
 *   never a channel for results; mio_strerror() names the codes.
 * - Constructors take an out-pointer and return 0 or -errno; every object
 *   has a matching _free function that accepts NULL.
 * - The library never aborts, never prints and never installs signal
 *   handlers. Every descriptor it creates is close-on-exec.
 *
 * Readiness model (read this before writing a loop)
 * -------------------------------------------------
 * Edge-triggered, always. A source registered with mio_registry_register()
 * produces an event when it *becomes* ready: on epoll the descriptor is added
 * with EPOLLET (readable interest adds EPOLLIN|EPOLLRDHUP, priority adds
 * EPOLLPRI); on kqueue every filter is added with EV_CLEAR.
 *
 * Draining readiness. Once an event says a source is readable (writable),
 * the caller must read (write) until the operation fails with EAGAIN. Unless
 * it does, there is no guarantee that another event will ever be delivered
 * for that source.
 *
 * Spurious events. An event is a hint, never a promise: the operation it
 * suggests may still fail with EAGAIN, and an event may arrive for which no
 * state changed. Code must treat EAGAIN as "wait for the next event", not as
 * an error.
 *
 * Hints. Only readable and writable are portable. is_error, is_read_closed,
 * is_write_closed and is_priority are best-effort hints that may be false
 * when the condition holds; read_closed and write_closed are never true when
 * it does not hold. One descriptor may produce a single event that is both
 * readable and writable, or two events (kqueue always reports them apart).
 *
 * Capacity. A mio_events buffer holds at most its capacity; a poll that finds
 * more ready sources returns a full buffer and the rest are returned by the
 * next poll.
 *
 * Tokens. A token is an arbitrary uintptr_t chosen by the caller and stored
 * in the kernel (epoll_event.data.u64, kevent.udata); libmio keeps no table
 * of its own. Mapping a token back to the caller's object is the caller's job.
 *
 * Lifetime. Deregister a source before closing its descriptor. The kernel
 * only forgets a registration when the last descriptor referring to the open
 * file is closed, so a dup()ed descriptor keeps delivering events.
 *
 * Threads. A mio_registry may be used from any thread, also while another
 * thread is blocked in mio_poll_poll() on the same poll. mio_poll_poll()
 * itself must not run on two threads at once for the same poll, and one
 * mio_events buffer must not be shared by concurrent polls. A mio_waker may
 * be woken from any thread.
 */
#ifndef MIO_H
#define MIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MIO_EXTERN __attribute__((visibility("default")))
#else
#define MIO_EXTERN
#endif

/* ---- Types ---------------------------------------------------------------- */

/** The poll instance: owns the selector (an epoll or kqueue descriptor). */
typedef struct mio_poll mio_poll;

/** A handle for registering sources with a poll; cheap to use from any thread. */
typedef struct mio_registry mio_registry;

/** A fixed-capacity buffer of native OS events, filled by mio_poll_poll(). */
typedef struct mio_events mio_events;

/** One readiness event; points into a mio_events buffer, never copied. */
typedef struct mio_event mio_event;

/** Wakes a poll blocked in mio_poll_poll() from any thread. */
typedef struct mio_waker mio_waker;

/** A caller-chosen value returned with every event of a registration. */
typedef uintptr_t mio_token;

/** A non-empty set of readiness interests, the MIO_* bits below. */
typedef uint8_t mio_interest;

/** Interest in readable readiness (epoll: EPOLLIN|EPOLLRDHUP). */
#define MIO_READABLE ((mio_interest)0x01)
/** Interest in writable readiness (epoll: EPOLLOUT). */
#define MIO_WRITABLE ((mio_interest)0x02)
/** Interest in POSIX AIO completion (kqueue EVFILT_AIO); no effect on epoll. */
#define MIO_AIO ((mio_interest)0x04)
/** Interest in lio_listio completion (kqueue EVFILT_LIO); no effect on epoll. */
#define MIO_LIO ((mio_interest)0x08)
/** Interest in priority data such as TCP OOB (epoll EPOLLPRI); no effect on kqueue. */
#define MIO_PRIORITY ((mio_interest)0x10)

/* ---- Sources -------------------------------------------------------------- */

typedef struct mio_source mio_source;

/**
 * The operations of a source, mio's event::Source trait. A source is any
 * object that embeds a struct mio_source as its first member; the registry
 * calls these hooks, exactly once per registry call, and returns their result
 * verbatim. Hooks usually register one or more descriptors with
 * mio_registry_register_fd() and friends. Define instances `static const`.
 */
typedef struct mio_source_ops {
	/** Registers the source's descriptors with the registry: 0 or -errno. */
	int (*register_source)(mio_source *source, const mio_registry *registry,
	    mio_token token, mio_interest interest);
	/** Replaces the token and interest of an existing registration. */
	int (*reregister_source)(mio_source *source,
	    const mio_registry *registry, mio_token token,
	    mio_interest interest);
	/** Removes the source's descriptors from the registry. */
	int (*deregister_source)(mio_source *source,
	    const mio_registry *registry);
} mio_source_ops;

/** Embed as the first member of a source object and point ops at its hooks. */
struct mio_source {
	const mio_source_ops *ops;
};

/* ---- Poll ----------------------------------------------------------------- */

/**
 * Creates a poll instance and its selector descriptor (close-on-exec).
 * \return 0 and *out set, or -EMFILE, -ENFILE, -ENOMEM, -EINVAL (out NULL).
 * Thread-safety: safe; the new poll is owned by the caller.
 */
MIO_EXTERN int mio_poll_new(mio_poll **out);

/**
 * Closes the selector and frees the poll. Registered sources are not closed;
 * events for them are simply no longer collected. Accepts NULL.
 * A waker or a cloned registry outlives the poll safely.
 * Thread-safety: no other thread may use this poll or its registry.
 */
MIO_EXTERN void mio_poll_free(mio_poll *poll);

/**
 * The registry of the poll, valid as long as the poll. Do not free it.
 * Thread-safety: safe.
 */
MIO_EXTERN const mio_registry *mio_poll_registry(mio_poll *poll);

/**
 * The selector descriptor (epoll or kqueue), for nesting this poll inside
 * another event loop: it becomes readable when events are pending. Do not
 * close it. Thread-safety: safe.
 */
MIO_EXTERN int mio_poll_fd(const mio_poll *poll);

/**
 * Waits for readiness events and stores them in events, which is cleared
 * first. Blocks until at least one event is ready, the timeout elapses or a
 * signal arrives.
 *
 * \param timeout NULL blocks forever; {0, 0} returns at once (still asking
 *        the kernel). Otherwise the wait lasts at least the timeout: epoll
 *        uses epoll_pwait2() with nanosecond precision when the kernel has it
 *        and otherwise rounds up to whole milliseconds, so a sub-millisecond
 *        timeout never becomes a busy zero. Timeouts beyond about 24.8
 *        days (INT_MAX ms) are clamped to it, so such a wait may end early
 *        with 0 events.
 * \return the number of events stored (0 on timeout), or -EINTR when a
 *         signal interrupted the wait (never retried internally), -EINVAL
 *         for a negative or unnormalised timeout, or another -errno.
 * Thread-safety: one thread at a time per poll; registry calls from other
 * threads may run concurrently.
 */
MIO_EXTERN int mio_poll_poll(mio_poll *poll, mio_events *events,
    const struct timespec *timeout);

/* ---- Registry ------------------------------------------------------------- */

/**
 * Registers a source: calls source->ops->register_source once and returns
 * its result. Readiness tracking starts now; an already-ready source reports
 * at the next poll.
 * \return 0, -EINVAL if interest is empty or has unknown bits, or registry
 *         or source is NULL, or the source has no such hook; otherwise
 *         whatever the hook returns (libmio's own handles return -EEXIST
 *         when already registered with any poll).
 * Thread-safety: safe, also during a concurrent mio_poll_poll(); calls on the
 * same source must not race each other.
 */
MIO_EXTERN int mio_registry_register(const mio_registry *registry,
    mio_source *source, mio_token token, mio_interest interest);

/**
 * Replaces the token and interest of a registered source entirely. Readiness
 * pending for an interest that is dropped is not delivered.
 * \return as mio_registry_register(); libmio's own handles return -ENOENT
 *         when not registered and -EEXIST when registered with another poll.
 * Thread-safety: as mio_registry_register().
 */
MIO_EXTERN int mio_registry_reregister(const mio_registry *registry,
    mio_source *source, mio_token token, mio_interest interest);

/**
 * Deregisters a source. Once it returns, a later poll reports no event with
 * the source's token.
 * \return 0, -EINVAL as for mio_registry_register(), or the hook's result
 *         (libmio's own handles return -ENOENT when not registered and
 *         -EEXIST when registered with another poll; a descriptor the
 *         kernel already forgot counts as deregistered, 0).
 * Thread-safety: as mio_registry_register().
 */
MIO_EXTERN int mio_registry_deregister(const mio_registry *registry,
    mio_source *source);

/**
 * Registers a raw descriptor (mio's SourceFd). The descriptor stays the
 * caller's; libmio keeps no record of it, so the kernel's rules apply: on
 * epoll a second register of the same descriptor is -EEXIST, on kqueue it
 * modifies the registration.
 * \return 0, -EINVAL (empty or unknown interest), -EBADF, -EEXIST, -EPERM
 *         (epoll refuses regular files), -ENOMEM, -ENOSPC.
 * Thread-safety: safe, also during a concurrent mio_poll_poll().
 */
MIO_EXTERN int mio_registry_register_fd(const mio_registry *registry, int fd,
    mio_token token, mio_interest interest);

/**
 * Replaces the token and interest of a registered raw descriptor.
 * \return 0, -EINVAL, -EBADF, -ENOENT (epoll: not registered; kqueue adds
 *         the filters instead, as mio does), -ENOMEM.
 * Thread-safety: as mio_registry_register_fd().
 */
MIO_EXTERN int mio_registry_reregister_fd(const mio_registry *registry,
    int fd, mio_token token, mio_interest interest);

/**
 * Removes a raw descriptor from the poll.
 * \return 0, -EBADF, -ENOENT (not registered).
 * Thread-safety: as mio_registry_register_fd().
 */
MIO_EXTERN int mio_registry_deregister_fd(const mio_registry *registry,
    int fd);

/**
 * Makes an independent registry handle for the same poll (it holds a
 * duplicate of the selector descriptor, close-on-exec), for handing to
 * another thread or library. Free it with mio_registry_free().
 * \return 0 and *out set, or -EMFILE, -ENOMEM, -EINVAL.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_registry_try_clone(const mio_registry *registry,
    mio_registry **out);

/**
 * Frees a registry made by mio_registry_try_clone(). Accepts NULL; the
 * registry owned by a poll is left alone (free the poll instead).
 * Thread-safety: no other thread may use this clone.
 */
MIO_EXTERN void mio_registry_free(mio_registry *registry);

/* ---- Events --------------------------------------------------------------- */

/**
 * Allocates a buffer for up to capacity events. This is the only allocation:
 * mio_poll_poll() writes the kernel's own event records into it.
 * \return 0 and *out set, -EINVAL for capacity 0 or more than the kernel
 *         accepts in one wait (INT_MAX / the native record's size), -ENOMEM.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_events_new(mio_events **out, size_t capacity);

/** Frees an events buffer; accepts NULL. */
MIO_EXTERN void mio_events_free(mio_events *events);

/** The most events one poll can return into this buffer. */
MIO_EXTERN size_t mio_events_capacity(const mio_events *events);

/** The number of events stored by the last poll (0 after clear). */
MIO_EXTERN size_t mio_events_len(const mio_events *events);

/** Whether the last poll stored no event. */
MIO_EXTERN bool mio_events_is_empty(const mio_events *events);

/**
 * The i-th event of the last poll, or NULL when i >= mio_events_len(). The
 * pointer is valid until the next poll or clear on this buffer.
 */
MIO_EXTERN const mio_event *mio_events_get(const mio_events *events,
    size_t i);

/** Forgets the stored events; the capacity is kept. */
MIO_EXTERN void mio_events_clear(mio_events *events);

/** The first stored event, or NULL when there is none. */
MIO_EXTERN const mio_event *mio_events_first(const mio_events *events);

/** The event after ev in the buffer, or NULL after the last one. */
MIO_EXTERN const mio_event *mio_events_next(const mio_events *events,
    const mio_event *ev);

/**
 * Iterates over the events of the last poll:
 *
 *     MIO_EVENTS_FOREACH(ev, events) {
 *             handle(mio_event_token(ev), ev);
 *     }
 *
 * declares `const mio_event *ev` for the loop body. events is evaluated
 * on every iteration, so pass a plain variable.
 */
#define MIO_EVENTS_FOREACH(ev, events)                                  \
	for (const mio_event *ev = mio_events_first(events); ev != NULL; \
	    ev = mio_events_next((events), ev))

/* ---- Event ---------------------------------------------------------------- */

/** The token the event's source was registered with. */
MIO_EXTERN mio_token mio_event_token(const mio_event *ev);
/** Readable: epoll EPOLLIN or EPOLLPRI; kqueue EVFILT_READ (or the waker). */
MIO_EXTERN bool mio_event_is_readable(const mio_event *ev);
/** Writable: epoll EPOLLOUT; kqueue EVFILT_WRITE. */
MIO_EXTERN bool mio_event_is_writable(const mio_event *ev);
/** Error hint: epoll EPOLLERR; kqueue EV_ERROR, or EV_EOF with fflags set. */
MIO_EXTERN bool mio_event_is_error(const mio_event *ev);
/**
 * Read-closed hint: epoll EPOLLHUP, or EPOLLIN with EPOLLRDHUP (peer FIN or
 * local SHUT_RD); kqueue EV_EOF on EVFILT_READ. Never a false positive.
 */
MIO_EXTERN bool mio_event_is_read_closed(const mio_event *ev);
/**
 * Write-closed hint: epoll EPOLLHUP, EPOLLOUT with EPOLLERR, or EPOLLERR
 * alone (a pipe whose reader is gone); kqueue EV_EOF on EVFILT_WRITE.
 */
MIO_EXTERN bool mio_event_is_write_closed(const mio_event *ev);
/** Priority hint: epoll EPOLLPRI; always false on kqueue. */
MIO_EXTERN bool mio_event_is_priority(const mio_event *ev);
/** AIO completion: kqueue EVFILT_AIO where it exists; false on epoll. */
MIO_EXTERN bool mio_event_is_aio(const mio_event *ev);
/** lio_listio completion: kqueue EVFILT_LIO where it exists; false on epoll. */
MIO_EXTERN bool mio_event_is_lio(const mio_event *ev);

/* ---- Waker ---------------------------------------------------------------- */

/**
 * Creates the poll's waker: wakes produce a readable event with token.
 * Only one waker may be alive per poll (counting every cloned registry);
 * freeing it allows a new one. The mechanism is eventfd with epoll,
 * EVFILT_USER with kqueue where available, else a non-blocking pipe.
 * \return 0 and *out set, -EEXIST if the poll already has a live waker,
 *         -EINVAL (NULL argument), -EMFILE, -ENFILE, -ENOMEM, or the
 *         selector's registration error such as -ENOSPC.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_waker_new(const mio_registry *registry, mio_token token,
    mio_waker **out);

/**
 * Wakes the poll: the next (or current) mio_poll_poll() returns a readable
 * event with the waker's token. Several wakes before a poll may coalesce
 * into one event. The event needs no draining.
 * \return 0, -EINVAL for NULL, or -errno from the kernel.
 * Thread-safety: safe from any thread, also concurrently.
 */
MIO_EXTERN int mio_waker_wake(const mio_waker *waker);

/**
 * Frees the waker, closing its descriptors; the poll may then get a new
 * waker. Accepts NULL. Thread-safety: no other thread may be waking it.
 */
MIO_EXTERN void mio_waker_free(mio_waker *waker);

/* ---- Miscellany ----------------------------------------------------------- */

/**
 * A short English description of a negative errno returned by libmio, for
 * example "resource temporarily unavailable (EAGAIN)". Never NULL; the string
 * is static. Thread-safety: safe.
 */
MIO_EXTERN const char *mio_strerror(int negative_errno);

/** The backend compiled in: "epoll" or "kqueue". */
MIO_EXTERN const char *mio_backend(void);

/** The library version, such as "0.1.0". */
MIO_EXTERN const char *mio_version(void);

#ifdef __cplusplus
}
#endif

#endif /* MIO_H */
