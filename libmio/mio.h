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
 * Lifetime. Deregister a source before closing its descriptor. epoll only
 * forgets a registration when the last descriptor referring to the open
 * file is closed, so a dup()ed descriptor keeps delivering events; kqueue
 * drops the filters when the registered number is closed.
 *
 * Fork. A kqueue is not inherited by a child process, and an epoll instance
 * is shared with it, so neither parent nor child can keep using a poll made
 * before fork() on both backends alike: fork first, then create the poll
 * (a daemon that detaches does exactly this).
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
#include <string.h>
#include <time.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "mio-sys.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MIO_EXTERN __attribute__((visibility("default")))
#else
#define MIO_EXTERN
#endif

/* ---- Types ---------------------------------------------------------------- */

/* Declared here for strict C99, where <time.h> defines it only with a POSIX
 * feature macro; the API takes it by pointer only. */
struct timespec;

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
/* Every interest bit above; any other bit is -EINVAL. Not for direct use:
 * the library and the epoll build's inline registration both check it. */
#define MIO_INLINE_INTEREST_ALL \
	(MIO_READABLE | MIO_WRITABLE | MIO_AIO | MIO_LIO | MIO_PRIORITY)

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
 * Frees the poll and closes the selector, unless a clone of its registry or
 * its waker is alive: then the selector stays open until the last of them
 * is freed.
 * Registered sources are not closed; events for them are simply no longer
 * collected. Accepts NULL. A waker or a cloned registry outlives the poll
 * safely.
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
 * close it. (With libkqueue on Linux this descriptor cannot be polled.)
 * Thread-safety: safe.
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
 *        timeout never becomes a busy zero. kqueue takes the timespec as
 *        it is. Very long timeouts are clamped (epoll: INT_MAX ms, about
 *        24.8 days; kqueue: 10^8 s, which macOS requires), so such a wait
 *        may end early with 0 events.
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
 * \return 0, -EBADF, -ENOENT (epoll: not registered; kqueue ignores ENOENT
 *         here as mio does and returns 0).
 * Thread-safety: as mio_registry_register_fd().
 */
MIO_EXTERN int mio_registry_deregister_fd(const mio_registry *registry,
    int fd);

/**
 * Makes an independent registry handle for the same poll, for handing to
 * another thread or library. It shares the poll's selector descriptor,
 * reference-counted, rather than duplicating it (unlike mio's dup(), this
 * works over libkqueue too), so it opens no descriptor. Whichever of the
 * poll, its clones and its waker is freed last closes the selector: a clone
 * stays usable after mio_poll_free(), but nothing collects its events any
 * more.
 * Free it with mio_registry_free().
 * \return 0 and *out set, or -ENOMEM, -EINVAL.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_registry_try_clone(const mio_registry *registry,
    mio_registry **out);

/**
 * Frees a registry made by mio_registry_try_clone(), and closes the selector
 * if the poll, every other clone and the waker are already freed. Accepts
 * NULL; the registry owned by a poll is left alone (free the poll instead).
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

/*
 * The first members of every mio_events, published so that the iteration
 * below compiles into the caller's loop: the stored records run from begin
 * to end, MIO_SYS_EVENT_SIZE bytes apart (mio-sys.h). The epoll build's
 * inline poll (mio-inline-epoll.h) also fills the buffer through them, up
 * to capacity records. Not for direct use; the rest of mio_events is
 * private. (The mio_inline_ names avoid the double underscore of mio__,
 * which C++ reserves.)
 */
struct mio_inline_events_head {
	unsigned char *begin;
	unsigned char *end;
	/* How many records fit, as the kernel takes it (an int). */
	int capacity;
};

static inline const mio_event *
mio_inline_events_begin(const mio_events *events)
{
	return (const mio_event *)(const void *)
	    ((const struct mio_inline_events_head *)(const void *)events)->begin;
}

static inline const mio_event *
mio_inline_events_end(const mio_events *events)
{
	return (const mio_event *)(const void *)
	    ((const struct mio_inline_events_head *)(const void *)events)->end;
}

static inline const mio_event *
mio_inline_events_step(const mio_event *ev)
{
	return (const mio_event *)(const void *)
	    ((const unsigned char *)ev + MIO_SYS_EVENT_SIZE);
}

/**
 * Iterates over the events of the last poll:
 *
 *     MIO_EVENTS_FOREACH(ev, events) {
 *             handle(mio_event_token(ev), ev);
 *     }
 *
 * declares `const mio_event *ev` for the loop body. events is evaluated
 * twice, before the first event. The loop runs inline, with no call into
 * the library; polling into or clearing the same buffer inside the body
 * is undefined (the loop would go on over the old records).
 */
#define MIO_EVENTS_FOREACH(ev, events)                                  \
	for (const mio_event *ev = mio_inline_events_begin(events),      \
	    *const mio_inline_end_##ev = mio_inline_events_end(events);  \
	    ev != mio_inline_end_##ev; ev = mio_inline_events_step(ev))

/* ---- Event ---------------------------------------------------------------- */

/**
 * The token the event's source was registered with. A macro reads it
 * inline from the native record (mio-sys.h says where); the function is
 * there for callers that take its address, or write (mio_event_token)(ev).
 */
MIO_EXTERN mio_token mio_event_token(const mio_event *ev);

static inline mio_token
mio_inline_event_token(const mio_event *ev)
{
	mio_token token;

	memcpy(&token, (const unsigned char *)ev + MIO_SYS_EVENT_TOKEN_OFFSET,
	    sizeof(token));
	return token;
}
#ifndef MIO_NO_INLINE
#define mio_event_token(ev) mio_inline_event_token(ev)
#endif
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
 * EVFILT_USER with a kqueue that has it (libkqueue's too), else a
 * non-blocking pipe. The waker keeps the poll's selector open: it is
 * closed when the last of the poll, its clones and its waker is freed.
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

/* ---- Net: TCP, UDP, Unix sockets, pipes ----------------------------------- */

/*
 * mio::net and mio::unix::pipe: non-blocking sockets and pipes that register
 * with a poll through mio_<type>_source(). The conventions shared by every
 * function of this section:
 *
 * - Every descriptor these functions create is non-blocking and
 *   close-on-exec (atomically where the kernel allows: SOCK_NONBLOCK|
 *   SOCK_CLOEXEC, accept4, pipe2).
 * - Addresses are (struct sockaddr *, socklen_t) pairs, as in the socket
 *   API; an output address is (struct sockaddr *, socklen_t *) with the
 *   length in/out, as for accept(2). Use a struct sockaddr_storage.
 * - Reads and writes return a count (0 from a read: end of stream) or
 *   -errno; -EAGAIN means "wait for the next event" (see the readiness
 *   model above: after an event, repeat the operation until -EAGAIN).
 *   -EINTR is returned, never retried.
 * - Writes never raise SIGPIPE: a write to a socket or pipe whose peer is
 *   gone fails with -EPIPE (or -ECONNRESET). Sockets are written with
 *   MSG_NOSIGNAL (and get SO_NOSIGPIPE where that is the platform's way);
 *   pipe writes block SIGPIPE in the calling thread for the duration of the
 *   write and consume the SIGPIPE the write raised, leaving any SIGPIPE that
 *   was already pending alone.
 * - Every handle is a source: register mio_<type>_source(h) with
 *   mio_registry_register(). The handle remembers its registration, so on
 *   every backend a second register is -EEXIST (also with another poll),
 *   and reregister or deregister of an unregistered handle is -ENOENT.
 * - mio_<type>_from_fd() adopts a descriptor without changing its flags
 *   (make it non-blocking yourself, as with mio's from_std);
 *   mio_<type>_into_fd() frees the handle and returns the descriptor
 *   (any kernel registration stays, so deregister first);
 *   mio_<type>_free() closes the descriptor and accepts NULL. Deregister
 *   before freeing, as the lifetime rule above says: closing ends a
 *   registration only when no duplicate of the descriptor is open, and
 *   libkqueue (kqueue on Linux) keeps stale state for a descriptor closed
 *   while registered, which breaks the next registration of its number.
 * - A NULL handle or a NULL required pointer gives -EINVAL.
 * - Thread-safety: I/O, option and address calls on one handle are single
 *   system calls and may run on several threads at once (as mio's &self
 *   methods). Registering, reregistering and deregistering a handle, and
 *   _into_fd() and _free(), must not race with any other call on it.
 */

/** A TCP socket listening for connections (mio::net::TcpListener). */
typedef struct mio_tcp_listener mio_tcp_listener;
/** A TCP connection (mio::net::TcpStream). */
typedef struct mio_tcp_stream mio_tcp_stream;
/** A UDP socket (mio::net::UdpSocket). */
typedef struct mio_udp_socket mio_udp_socket;
/** A Unix-domain stream socket listening for connections. */
typedef struct mio_unix_listener mio_unix_listener;
/** A Unix-domain stream connection. */
typedef struct mio_unix_stream mio_unix_stream;
/** A Unix-domain datagram socket. */
typedef struct mio_unix_datagram mio_unix_datagram;
/** The write end of a pipe (mio::unix::pipe::Sender). */
typedef struct mio_pipe_sender mio_pipe_sender;
/** The read end of a pipe (mio::unix::pipe::Receiver). */
typedef struct mio_pipe_receiver mio_pipe_receiver;

/* TCP listener */

/**
 * Creates a TCP socket for addr's family (AF_INET or AF_INET6), sets
 * SO_REUSEADDR, binds it to addr and listens with a backlog of 128, as mio.
 * Port 0 picks a free port; mio_tcp_listener_local_addr() tells which.
 * \return 0 and *out set, -EINVAL (NULL or short address), -EAFNOSUPPORT
 *         (another family), or the error of socket(2), bind(2) or listen(2),
 *         such as -EADDRINUSE, -EADDRNOTAVAIL, -EACCES, -EMFILE.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_tcp_listener_bind(const struct sockaddr *addr,
    socklen_t addrlen, mio_tcp_listener **out);

/**
 * Accepts one pending connection as a new non-blocking, close-on-exec
 * stream. peer and peerlen may be NULL; otherwise the peer's address is
 * stored as by accept(2). After a readable event, accept until -EAGAIN.
 * \return 0 and *out set, -EAGAIN when no connection is pending, -EINVAL,
 *         -ECONNABORTED (try again), -EMFILE, -ENFILE, -ENOMEM.
 * Thread-safety: safe; concurrent accepts each get their own connection.
 */
MIO_EXTERN int mio_tcp_listener_accept(mio_tcp_listener *listener,
    mio_tcp_stream **out, struct sockaddr *peer, socklen_t *peerlen);

/**
 * Stores the bound address (getsockname(2)); *addrlen is in/out.
 * \return 0, -EINVAL, or -errno from getsockname(2). Thread-safety: safe.
 */
MIO_EXTERN int mio_tcp_listener_local_addr(const mio_tcp_listener *listener,
    struct sockaddr *addr, socklen_t *addrlen);

/**
 * Sets or gets the TTL of packets sent from the socket: IP_TTL, or for an
 * IPv6 socket the unicast hop limit (IPV6_UNICAST_HOPS).
 * \return 0, -EINVAL (ttl above 255, NULL), or -errno from setsockopt(2)
 *         or getsockopt(2). Thread-safety: safe.
 */
MIO_EXTERN int mio_tcp_listener_set_ttl(mio_tcp_listener *listener,
    uint32_t ttl);
MIO_EXTERN int mio_tcp_listener_ttl(const mio_tcp_listener *listener,
    uint32_t *ttl);

/**
 * Reads and clears the socket's pending error (SO_ERROR).
 * \return 0 when none is pending, the pending error as -errno, or -EINVAL
 *         or -EBADF/-ENOTSOCK when it cannot be read. Thread-safety: safe.
 */
MIO_EXTERN int mio_tcp_listener_take_error(mio_tcp_listener *listener);

/**
 * The source to register; valid as long as the listener. NULL for NULL.
 * Thread-safety: safe; registration calls on it must not race.
 */
MIO_EXTERN mio_source *mio_tcp_listener_source(mio_tcp_listener *listener);

/** The descriptor, still owned by the listener, or -EINVAL for NULL. */
MIO_EXTERN int mio_tcp_listener_fd(const mio_tcp_listener *listener);

/**
 * Adopts a listening TCP socket without changing its flags.
 * \return 0 and *out set, -EBADF (fd not open), -EINVAL, -ENOMEM; on
 *         failure fd stays the caller's. Thread-safety: safe.
 */
MIO_EXTERN int mio_tcp_listener_from_fd(int fd, mio_tcp_listener **out);

/**
 * Frees the listener and returns its descriptor, now the caller's, or
 * -EINVAL for NULL. A registration stays in the kernel; deregister first.
 * Thread-safety: no other call on the listener may run.
 */
MIO_EXTERN int mio_tcp_listener_into_fd(mio_tcp_listener *listener);

/**
 * Closes the socket and frees the listener; accepts NULL.
 * Thread-safety: no other call on the listener may run.
 */
MIO_EXTERN void mio_tcp_listener_free(mio_tcp_listener *listener);

/* TCP stream */

/**
 * Creates a TCP socket for addr's family and starts connecting it; the
 * connection completes in the background. mio's protocol for learning the
 * outcome: register the stream WRITABLE; on its event call
 * mio_tcp_stream_take_error() (an error means the connect failed), then
 * mio_tcp_stream_peer_addr(): 0 means connected, -ENOTCONN means not yet,
 * so wait for the next event, unless the event was write-closed: then the
 * connect failed (libkqueue clears the error to fill in the event).
 * \return 0 and *out set (also while the connect is in progress), or
 *         -EINVAL, -EAFNOSUPPORT, or an immediate error of socket(2) or
 *         connect(2) such as -ECONNREFUSED or -ENETUNREACH.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_tcp_stream_connect(const struct sockaddr *addr,
    socklen_t addrlen, mio_tcp_stream **out);

/**
 * Reads up to len bytes (read(2)).
 * \return the count, 0 at end of stream, -EAGAIN when nothing is there,
 *         -ECONNRESET, -EINVAL, or another -errno. Thread-safety: safe.
 */
MIO_EXTERN ssize_t mio_tcp_stream_read(mio_tcp_stream *stream, void *buf,
    size_t len);

/**
 * Writes up to len bytes (send(2) with MSG_NOSIGNAL).
 * \return the count (possibly short), -EAGAIN when the send buffer is
 *         full, -EPIPE or -ECONNRESET when the connection is gone (never
 *         SIGPIPE), -EINVAL, or another -errno. Thread-safety: safe.
 */
MIO_EXTERN ssize_t mio_tcp_stream_write(mio_tcp_stream *stream,
    const void *buf, size_t len);

/**
 * Vectored read (readv(2)) and write (sendmsg(2) with MSG_NOSIGNAL).
 * \return as mio_tcp_stream_read() and mio_tcp_stream_write(); -EINVAL
 *         also for a bad iovcnt. Thread-safety: safe.
 */
MIO_EXTERN ssize_t mio_tcp_stream_readv(mio_tcp_stream *stream,
    const struct iovec *iov, int iovcnt);
MIO_EXTERN ssize_t mio_tcp_stream_writev(mio_tcp_stream *stream,
    const struct iovec *iov, int iovcnt);

/**
 * Copies up to len received bytes without consuming them (MSG_PEEK).
 * Peeking is not draining: after a peek returned data, only a read that
 * fails with -EAGAIN re-arms readable readiness.
 * \return as mio_tcp_stream_read(). Thread-safety: safe.
 */
MIO_EXTERN ssize_t mio_tcp_stream_peek(mio_tcp_stream *stream, void *buf,
    size_t len);

/**
 * Shuts down reading (SHUT_RD), writing (SHUT_WR) or both (SHUT_RDWR).
 * \return 0, -EINVAL (bad how), -ENOTCONN, or another -errno.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_tcp_stream_shutdown(mio_tcp_stream *stream, int how);

/**
 * Sets or gets TCP_NODELAY (Nagle's algorithm off when true).
 * \return 0, -EINVAL, or -errno from setsockopt(2)/getsockopt(2).
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_tcp_stream_set_nodelay(mio_tcp_stream *stream,
    bool nodelay);
MIO_EXTERN int mio_tcp_stream_nodelay(const mio_tcp_stream *stream,
    bool *nodelay);

/** Sets or gets the TTL or hop limit, as mio_tcp_listener_set_ttl(). */
MIO_EXTERN int mio_tcp_stream_set_ttl(mio_tcp_stream *stream, uint32_t ttl);
MIO_EXTERN int mio_tcp_stream_ttl(const mio_tcp_stream *stream,
    uint32_t *ttl);

/**
 * Stores the peer's (getpeername(2)) or the local (getsockname(2))
 * address; *addrlen is in/out.
 * \return 0, -ENOTCONN (peer: not connected, or not yet), -EINVAL, or
 *         another -errno. Thread-safety: safe.
 */
MIO_EXTERN int mio_tcp_stream_peer_addr(const mio_tcp_stream *stream,
    struct sockaddr *addr, socklen_t *addrlen);
MIO_EXTERN int mio_tcp_stream_local_addr(const mio_tcp_stream *stream,
    struct sockaddr *addr, socklen_t *addrlen);

/**
 * Reads and clears the pending error (SO_ERROR), for example the outcome
 * of a connect: -ECONNREFUSED.
 * \return as mio_tcp_listener_take_error(). Thread-safety: safe.
 */
MIO_EXTERN int mio_tcp_stream_take_error(mio_tcp_stream *stream);

/** The source to register, as mio_tcp_listener_source(). */
MIO_EXTERN mio_source *mio_tcp_stream_source(mio_tcp_stream *stream);
/** The descriptor, still owned by the stream, or -EINVAL for NULL. */
MIO_EXTERN int mio_tcp_stream_fd(const mio_tcp_stream *stream);
/** Adopts a connected TCP socket, as mio_tcp_listener_from_fd(). */
MIO_EXTERN int mio_tcp_stream_from_fd(int fd, mio_tcp_stream **out);
/** Releases the descriptor, as mio_tcp_listener_into_fd(). */
MIO_EXTERN int mio_tcp_stream_into_fd(mio_tcp_stream *stream);
/** Closes and frees, as mio_tcp_listener_free(); accepts NULL. */
MIO_EXTERN void mio_tcp_stream_free(mio_tcp_stream *stream);

/* UDP socket */

/**
 * Creates a UDP socket for addr's family (AF_INET or AF_INET6) bound to
 * addr; port 0 picks a free port. No SO_REUSEADDR, as mio.
 * \return 0 and *out set, -EINVAL, -EAFNOSUPPORT, or the error of
 *         socket(2) or bind(2). Thread-safety: safe.
 */
MIO_EXTERN int mio_udp_socket_bind(const struct sockaddr *addr,
    socklen_t addrlen, mio_udp_socket **out);

/**
 * Sends one datagram of len bytes (0 is allowed) to addr.
 * \return len, -EAGAIN, -EMSGSIZE, -EISCONN where a connected socket may
 *         not name a destination (not Linux), -EINVAL, or another -errno.
 * Thread-safety: safe.
 */
MIO_EXTERN ssize_t mio_udp_socket_send_to(mio_udp_socket *sock,
    const void *buf, size_t len, const struct sockaddr *addr,
    socklen_t addrlen);

/**
 * Receives one datagram, or with peek_from copies it without consuming it;
 * a longer datagram is truncated to len. addr and addrlen may be NULL;
 * otherwise the sender's address is stored, *addrlen in/out.
 * \return the datagram's length (0 for an empty one), -EAGAIN, -EINVAL, or
 *         another -errno such as -ECONNREFUSED after an ICMP error on a
 *         connected socket. Thread-safety: safe.
 */
MIO_EXTERN ssize_t mio_udp_socket_recv_from(mio_udp_socket *sock, void *buf,
    size_t len, struct sockaddr *addr, socklen_t *addrlen);
MIO_EXTERN ssize_t mio_udp_socket_peek_from(mio_udp_socket *sock, void *buf,
    size_t len, struct sockaddr *addr, socklen_t *addrlen);

/**
 * Sets the socket's default destination and makes the kernel drop
 * datagrams from anyone else; may be called again to change the peer.
 * \return 0, -EINVAL, or the error of connect(2). Thread-safety: safe.
 */
MIO_EXTERN int mio_udp_socket_connect(mio_udp_socket *sock,
    const struct sockaddr *addr, socklen_t addrlen);

/**
 * Sends one datagram to, or receives or peeks one from, the connected peer.
 * \return as mio_udp_socket_send_to() and mio_udp_socket_recv_from();
 *         send on an unconnected socket is -EDESTADDRREQ.
 * Thread-safety: safe.
 */
MIO_EXTERN ssize_t mio_udp_socket_send(mio_udp_socket *sock, const void *buf,
    size_t len);
MIO_EXTERN ssize_t mio_udp_socket_recv(mio_udp_socket *sock, void *buf,
    size_t len);
MIO_EXTERN ssize_t mio_udp_socket_peek(mio_udp_socket *sock, void *buf,
    size_t len);

/**
 * Sets or gets SO_BROADCAST, IP_MULTICAST_LOOP, IP_MULTICAST_TTL,
 * IPV6_MULTICAST_LOOP, and the TTL or hop limit (IP_TTL, or
 * IPV6_UNICAST_HOPS on an IPv6 socket). The _v4 options need an IPv4
 * socket, the _v6 ones an IPv6 socket.
 * \return 0, -EINVAL (NULL, or a ttl above 255), -ENOPROTOOPT for an
 *         option of the other family, or another -errno.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_udp_socket_set_broadcast(mio_udp_socket *sock, bool on);
MIO_EXTERN int mio_udp_socket_broadcast(const mio_udp_socket *sock,
    bool *on);
MIO_EXTERN int mio_udp_socket_set_multicast_loop_v4(mio_udp_socket *sock,
    bool on);
MIO_EXTERN int mio_udp_socket_multicast_loop_v4(const mio_udp_socket *sock,
    bool *on);
MIO_EXTERN int mio_udp_socket_set_multicast_ttl_v4(mio_udp_socket *sock,
    uint32_t ttl);
MIO_EXTERN int mio_udp_socket_multicast_ttl_v4(const mio_udp_socket *sock,
    uint32_t *ttl);
MIO_EXTERN int mio_udp_socket_set_multicast_loop_v6(mio_udp_socket *sock,
    bool on);
MIO_EXTERN int mio_udp_socket_multicast_loop_v6(const mio_udp_socket *sock,
    bool *on);
MIO_EXTERN int mio_udp_socket_set_ttl(mio_udp_socket *sock, uint32_t ttl);
MIO_EXTERN int mio_udp_socket_ttl(const mio_udp_socket *sock, uint32_t *ttl);

/**
 * Joins or leaves an IPv4 multicast group on the interface whose address is
 * iface (INADDR_ANY lets the kernel choose), or an IPv6 group on the
 * interface with index iface (0: the kernel chooses).
 * \return 0, -EINVAL, -EADDRNOTAVAIL, -ENODEV (no such interface, or one
 *         without multicast), or another -errno. Thread-safety: safe.
 */
MIO_EXTERN int mio_udp_socket_join_multicast_v4(mio_udp_socket *sock,
    const struct in_addr *group, const struct in_addr *iface);
MIO_EXTERN int mio_udp_socket_leave_multicast_v4(mio_udp_socket *sock,
    const struct in_addr *group, const struct in_addr *iface);
MIO_EXTERN int mio_udp_socket_join_multicast_v6(mio_udp_socket *sock,
    const struct in6_addr *group, uint32_t iface);
MIO_EXTERN int mio_udp_socket_leave_multicast_v6(mio_udp_socket *sock,
    const struct in6_addr *group, uint32_t iface);

/**
 * Gets IPV6_V6ONLY: whether an IPv6 socket refuses IPv4-mapped traffic.
 * \return 0, -EINVAL, -ENOPROTOOPT on an IPv4 socket, or another -errno.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_udp_socket_only_v6(const mio_udp_socket *sock,
    bool *only_v6);

/** Reads and clears SO_ERROR, as mio_tcp_listener_take_error(). */
MIO_EXTERN int mio_udp_socket_take_error(mio_udp_socket *sock);

/**
 * Stores the local or the connected peer's address, *addrlen in/out.
 * \return 0, -ENOTCONN (peer: not connected), -EINVAL, or another -errno.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_udp_socket_local_addr(const mio_udp_socket *sock,
    struct sockaddr *addr, socklen_t *addrlen);
MIO_EXTERN int mio_udp_socket_peer_addr(const mio_udp_socket *sock,
    struct sockaddr *addr, socklen_t *addrlen);

/** The source to register, as mio_tcp_listener_source(). */
MIO_EXTERN mio_source *mio_udp_socket_source(mio_udp_socket *sock);
/** The descriptor, still owned by the socket, or -EINVAL for NULL. */
MIO_EXTERN int mio_udp_socket_fd(const mio_udp_socket *sock);
/** Adopts a UDP socket, as mio_tcp_listener_from_fd(). */
MIO_EXTERN int mio_udp_socket_from_fd(int fd, mio_udp_socket **out);
/** Releases the descriptor, as mio_tcp_listener_into_fd(). */
MIO_EXTERN int mio_udp_socket_into_fd(mio_udp_socket *sock);
/** Closes and frees, as mio_tcp_listener_free(); accepts NULL. */
MIO_EXTERN void mio_udp_socket_free(mio_udp_socket *sock);

/* Unix-domain sockets */

/**
 * Fills a struct sockaddr_un from the pathlen bytes at path and stores the
 * length to pass with it. A path whose first byte is '\0' is a Linux
 * abstract name: the name is exactly those pathlen bytes (the leading '\0'
 * included, no terminator) and never touches the file system. Any other
 * path is a file-system path, terminated here, and must not contain '\0'.
 * The functions taking a const char *path use strlen(path) and so only
 * name files; pass an abstract name through their _addr variants.
 * \return 0, -EINVAL (NULL, pathlen 0, '\0' inside a path), or
 *         -ENAMETOOLONG (longer than sun_path allows).
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_unix_addr(const char *path, size_t pathlen,
    struct sockaddr_un *addr, socklen_t *addrlen);

/**
 * Creates a Unix stream socket bound to path (a file; bind_addr also takes
 * an abstract address made by mio_unix_addr()) and listens with the
 * largest backlog the kernel allows (listen(fd, -1), as mio on Linux and
 * the BSDs). An existing file at path gives -EADDRINUSE: remove stale
 * socket files first.
 * \return 0 and *out set, -EINVAL, -ENAMETOOLONG, -EAFNOSUPPORT (bind_addr:
 *         not AF_UNIX), or the error of socket(2), bind(2) or listen(2).
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_unix_listener_bind(const char *path,
    mio_unix_listener **out);
MIO_EXTERN int mio_unix_listener_bind_addr(const struct sockaddr *addr,
    socklen_t addrlen, mio_unix_listener **out);

/**
 * Accepts one pending connection, as mio_tcp_listener_accept(). The peer
 * of a Unix stream is usually unnamed: *addrlen then covers the family
 * only (or sun_path starts with '\0').
 * \return as mio_tcp_listener_accept(). Thread-safety: safe.
 */
MIO_EXTERN int mio_unix_listener_accept(mio_unix_listener *listener,
    mio_unix_stream **out, struct sockaddr *addr, socklen_t *addrlen);

/** Stores the bound address, as mio_tcp_listener_local_addr(). */
MIO_EXTERN int mio_unix_listener_local_addr(
    const mio_unix_listener *listener, struct sockaddr *addr,
    socklen_t *addrlen);
/** Reads and clears SO_ERROR, as mio_tcp_listener_take_error(). */
MIO_EXTERN int mio_unix_listener_take_error(mio_unix_listener *listener);
/** The source to register, as mio_tcp_listener_source(). */
MIO_EXTERN mio_source *mio_unix_listener_source(mio_unix_listener *listener);
/** The descriptor, still owned by the listener, or -EINVAL for NULL. */
MIO_EXTERN int mio_unix_listener_fd(const mio_unix_listener *listener);
/** Adopts a listening Unix socket, as mio_tcp_listener_from_fd(). */
MIO_EXTERN int mio_unix_listener_from_fd(int fd, mio_unix_listener **out);
/** Releases the descriptor, as mio_tcp_listener_into_fd(). */
MIO_EXTERN int mio_unix_listener_into_fd(mio_unix_listener *listener);
/**
 * Closes and frees, as mio_tcp_listener_free(); accepts NULL. The socket
 * file stays in the file system: unlink(2) it when done.
 */
MIO_EXTERN void mio_unix_listener_free(mio_unix_listener *listener);

/**
 * Creates a Unix stream socket and connects it to path (connect_addr: to
 * any AF_UNIX address, abstract ones included). Completion is learnt as
 * for mio_tcp_stream_connect(), although local connects usually complete
 * at once.
 * \return 0 and *out set, -EINVAL, -ENAMETOOLONG, -EAFNOSUPPORT,
 *         -ENOENT or -ECONNREFUSED (nobody listens), -EAGAIN (the
 *         listener's backlog is full), or another -errno.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_unix_stream_connect(const char *path,
    mio_unix_stream **out);
MIO_EXTERN int mio_unix_stream_connect_addr(const struct sockaddr *addr,
    socklen_t addrlen, mio_unix_stream **out);

/**
 * Creates a connected pair of unnamed Unix stream sockets (socketpair(2)).
 * \return 0 and both set, -EINVAL, -EMFILE, -ENFILE. Thread-safety: safe.
 */
MIO_EXTERN int mio_unix_stream_pair(mio_unix_stream **a,
    mio_unix_stream **b);

/**
 * Reads, writes (MSG_NOSIGNAL) and their vectored forms, with the results
 * of mio_tcp_stream_read() and mio_tcp_stream_write(). Thread-safety: safe.
 */
MIO_EXTERN ssize_t mio_unix_stream_read(mio_unix_stream *stream, void *buf,
    size_t len);
MIO_EXTERN ssize_t mio_unix_stream_write(mio_unix_stream *stream,
    const void *buf, size_t len);
MIO_EXTERN ssize_t mio_unix_stream_readv(mio_unix_stream *stream,
    const struct iovec *iov, int iovcnt);
MIO_EXTERN ssize_t mio_unix_stream_writev(mio_unix_stream *stream,
    const struct iovec *iov, int iovcnt);

/** Shuts down a direction, as mio_tcp_stream_shutdown(). */
MIO_EXTERN int mio_unix_stream_shutdown(mio_unix_stream *stream, int how);
/** Stores the local or the peer's address, as for TCP streams. */
MIO_EXTERN int mio_unix_stream_local_addr(const mio_unix_stream *stream,
    struct sockaddr *addr, socklen_t *addrlen);
MIO_EXTERN int mio_unix_stream_peer_addr(const mio_unix_stream *stream,
    struct sockaddr *addr, socklen_t *addrlen);
/** Reads and clears SO_ERROR, as mio_tcp_listener_take_error(). */
MIO_EXTERN int mio_unix_stream_take_error(mio_unix_stream *stream);
/** The source to register, as mio_tcp_listener_source(). */
MIO_EXTERN mio_source *mio_unix_stream_source(mio_unix_stream *stream);
/** The descriptor, still owned by the stream, or -EINVAL for NULL. */
MIO_EXTERN int mio_unix_stream_fd(const mio_unix_stream *stream);
/** Adopts a connected Unix stream socket, as mio_tcp_listener_from_fd(). */
MIO_EXTERN int mio_unix_stream_from_fd(int fd, mio_unix_stream **out);
/** Releases the descriptor, as mio_tcp_listener_into_fd(). */
MIO_EXTERN int mio_unix_stream_into_fd(mio_unix_stream *stream);
/** Closes and frees, as mio_tcp_listener_free(); accepts NULL. */
MIO_EXTERN void mio_unix_stream_free(mio_unix_stream *stream);

/**
 * Creates a Unix datagram socket bound to path (bind_addr: to any AF_UNIX
 * address), one that is not bound (unbound; its datagrams carry no sender
 * address), or a connected pair of unnamed ones (pair).
 * \return 0 and *out (or *a and *b) set, -EINVAL, -ENAMETOOLONG,
 *         -EAFNOSUPPORT, -EADDRINUSE, or another -errno.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_unix_datagram_bind(const char *path,
    mio_unix_datagram **out);
MIO_EXTERN int mio_unix_datagram_bind_addr(const struct sockaddr *addr,
    socklen_t addrlen, mio_unix_datagram **out);
MIO_EXTERN int mio_unix_datagram_unbound(mio_unix_datagram **out);
MIO_EXTERN int mio_unix_datagram_pair(mio_unix_datagram **a,
    mio_unix_datagram **b);

/**
 * Connects the socket to the datagram socket at path (connect_addr: any
 * AF_UNIX address), its default destination and only accepted sender.
 * \return 0, -EINVAL, -ENAMETOOLONG, -ENOENT, -ECONNREFUSED, or another
 *         -errno. Thread-safety: safe.
 */
MIO_EXTERN int mio_unix_datagram_connect(mio_unix_datagram *dgram,
    const char *path);
MIO_EXTERN int mio_unix_datagram_connect_addr(mio_unix_datagram *dgram,
    const struct sockaddr *addr, socklen_t addrlen);

/**
 * Sends one datagram to path (send_to_addr: to any AF_UNIX address), or
 * to the connected peer (send), with MSG_NOSIGNAL.
 * \return len, -EAGAIN (the receiver's queue is full), -ENOTCONN or
 *         -EDESTADDRREQ (send: not connected), -ECONNREFUSED or -ENOENT
 *         (nobody there), -EPIPE (after shutdown), -EINVAL, or another
 *         -errno.
 * Thread-safety: safe.
 */
MIO_EXTERN ssize_t mio_unix_datagram_send_to(mio_unix_datagram *dgram,
    const void *buf, size_t len, const char *path);
MIO_EXTERN ssize_t mio_unix_datagram_send_to_addr(mio_unix_datagram *dgram,
    const void *buf, size_t len, const struct sockaddr *addr,
    socklen_t addrlen);
MIO_EXTERN ssize_t mio_unix_datagram_send(mio_unix_datagram *dgram,
    const void *buf, size_t len);

/**
 * Receives one datagram, storing the sender's address when addr is not
 * NULL (an unbound sender's address covers the family only), or from the
 * connected peer (recv).
 * \return the length, -EAGAIN, -EINVAL, or another -errno.
 * Thread-safety: safe.
 */
MIO_EXTERN ssize_t mio_unix_datagram_recv_from(mio_unix_datagram *dgram,
    void *buf, size_t len, struct sockaddr *addr, socklen_t *addrlen);
MIO_EXTERN ssize_t mio_unix_datagram_recv(mio_unix_datagram *dgram,
    void *buf, size_t len);

/** Shuts down a direction, as mio_tcp_stream_shutdown(). */
MIO_EXTERN int mio_unix_datagram_shutdown(mio_unix_datagram *dgram, int how);
/** Stores the local or the connected peer's address, as for UDP. */
MIO_EXTERN int mio_unix_datagram_local_addr(const mio_unix_datagram *dgram,
    struct sockaddr *addr, socklen_t *addrlen);
MIO_EXTERN int mio_unix_datagram_peer_addr(const mio_unix_datagram *dgram,
    struct sockaddr *addr, socklen_t *addrlen);
/** Reads and clears SO_ERROR, as mio_tcp_listener_take_error(). */
MIO_EXTERN int mio_unix_datagram_take_error(mio_unix_datagram *dgram);
/** The source to register, as mio_tcp_listener_source(). */
MIO_EXTERN mio_source *mio_unix_datagram_source(mio_unix_datagram *dgram);
/** The descriptor, still owned by the socket, or -EINVAL for NULL. */
MIO_EXTERN int mio_unix_datagram_fd(const mio_unix_datagram *dgram);
/** Adopts a Unix datagram socket, as mio_tcp_listener_from_fd(). */
MIO_EXTERN int mio_unix_datagram_from_fd(int fd, mio_unix_datagram **out);
/** Releases the descriptor, as mio_tcp_listener_into_fd(). */
MIO_EXTERN int mio_unix_datagram_into_fd(mio_unix_datagram *dgram);
/** Closes and frees, as mio_tcp_listener_free(); accepts NULL. */
MIO_EXTERN void mio_unix_datagram_free(mio_unix_datagram *dgram);

/* Pipes */

/**
 * Creates a pipe whose ends are non-blocking and close-on-exec (pipe2(2)
 * where it exists). The receiver gets a readable event when data arrives
 * and a read-closed one when the last sender is gone; the sender gets a
 * writable event when there is room and a write-closed one when the last
 * receiver is gone.
 * \return 0 and both set, -EINVAL, -EMFILE, -ENFILE, -ENOMEM.
 * Thread-safety: safe.
 */
MIO_EXTERN int mio_pipe_new(mio_pipe_sender **sender,
    mio_pipe_receiver **receiver);

/**
 * Writes up to len bytes, or the iovec array (writev(2)). Writes of at most
 * PIPE_BUF bytes are atomic. SIGPIPE is blocked in the calling thread for
 * the duration of the write and a SIGPIPE the write raised is consumed, so
 * a vanished reader gives -EPIPE and never a signal, whatever the caller's
 * signal disposition.
 * \return the count, -EAGAIN when the pipe is full, -EPIPE, -EINVAL, or
 *         another -errno. Thread-safety: safe.
 */
MIO_EXTERN ssize_t mio_pipe_sender_write(mio_pipe_sender *sender,
    const void *buf, size_t len);
MIO_EXTERN ssize_t mio_pipe_sender_writev(mio_pipe_sender *sender,
    const struct iovec *iov, int iovcnt);

/**
 * Reads up to len bytes, or into the iovec array (readv(2)).
 * \return the count, 0 when every sender is gone and the pipe is empty,
 *         -EAGAIN, -EINVAL, or another -errno. Thread-safety: safe.
 */
MIO_EXTERN ssize_t mio_pipe_receiver_read(mio_pipe_receiver *receiver,
    void *buf, size_t len);
MIO_EXTERN ssize_t mio_pipe_receiver_readv(mio_pipe_receiver *receiver,
    const struct iovec *iov, int iovcnt);

/**
 * Sets or clears O_NONBLOCK, for ends adopted with _from_fd() (a child's
 * stdio pipe, say), which keep the flags they had.
 * \return 0, -EINVAL, or -errno from fcntl(2). Thread-safety: safe, but
 *         the flag belongs to the open file, shared with its duplicates.
 */
MIO_EXTERN int mio_pipe_sender_set_nonblocking(mio_pipe_sender *sender,
    bool nonblocking);
MIO_EXTERN int mio_pipe_receiver_set_nonblocking(mio_pipe_receiver *receiver,
    bool nonblocking);

/** The source to register, as mio_tcp_listener_source(). */
MIO_EXTERN mio_source *mio_pipe_sender_source(mio_pipe_sender *sender);
MIO_EXTERN mio_source *mio_pipe_receiver_source(mio_pipe_receiver *receiver);
/** The descriptor, still owned by the handle, or -EINVAL for NULL. */
MIO_EXTERN int mio_pipe_sender_fd(const mio_pipe_sender *sender);
MIO_EXTERN int mio_pipe_receiver_fd(const mio_pipe_receiver *receiver);
/**
 * Adopts a pipe end (or a FIFO, or a child's stdin/stdout) without
 * changing its flags, as mio_tcp_listener_from_fd().
 */
MIO_EXTERN int mio_pipe_sender_from_fd(int fd, mio_pipe_sender **out);
MIO_EXTERN int mio_pipe_receiver_from_fd(int fd, mio_pipe_receiver **out);
/** Releases the descriptor, as mio_tcp_listener_into_fd(). */
MIO_EXTERN int mio_pipe_sender_into_fd(mio_pipe_sender *sender);
MIO_EXTERN int mio_pipe_receiver_into_fd(mio_pipe_receiver *receiver);
/** Closes and frees, as mio_tcp_listener_free(); accepts NULL. */
MIO_EXTERN void mio_pipe_sender_free(mio_pipe_sender *sender);
MIO_EXTERN void mio_pipe_receiver_free(mio_pipe_receiver *receiver);

/* ---- Miscellany ----------------------------------------------------------- */

/**
 * A short English description of a negative errno returned by libmio, for
 * example "resource temporarily unavailable (EAGAIN)". Never NULL; the string
 * is static. Thread-safety: safe.
 */
MIO_EXTERN const char *mio_strerror(int negative_errno);

/** The backend compiled in: "epoll" or "kqueue". */
MIO_EXTERN const char *mio_backend(void);

/*
 * Versions. MIO_VERSION_MAJOR, MIO_VERSION_MINOR and MIO_VERSION_PATCH
 * (numbers) and MIO_VERSION_STRING ("0.1.0") are the version of the
 * headers a program is compiled against; configure writes them into
 * mio-sys.h from the package version, so they cannot drift from it.
 * MIO_VERSION_HEX packs them as 0xMMmmpp for comparisons in the
 * preprocessor: #if MIO_VERSION_HEX >= 0x000200. mio_version() and
 * mio_version_hex() are the version of the library actually loaded at run
 * time, which may be newer than the headers (never older, for the same
 * soname). Thread-safety: safe; they cannot fail.
 */
#define MIO_VERSION_HEX \
	((MIO_VERSION_MAJOR << 16) | (MIO_VERSION_MINOR << 8) | MIO_VERSION_PATCH)

/** The library version as a string, such as "0.1.0". */
MIO_EXTERN const char *mio_version(void);

/** The library version as MIO_VERSION_HEX packs it, such as 0x000100. */
MIO_EXTERN unsigned mio_version_hex(void);

#ifdef __cplusplus
}
#endif

/*
 * The epoll build compiles mio_poll_poll() without a timeout and
 * mio_registry_register_fd()/mio_registry_reregister_fd() into the caller
 * (mio-inline-epoll.h says why and what that fixes in the ABI). Writing the
 * name in parentheses, (mio_poll_poll)(...), or defining MIO_NO_INLINE
 * before including this header, calls the exported function instead. The
 * three names are then function-like macros, so a program that declares
 * them again itself needs MIO_NO_INLINE. C++ before C++11 has no variadic
 * macros and always calls the functions.
 */
#if MIO_SYS_INLINE_EPOLL && !defined(MIO_NO_INLINE) && \
    (!defined(__cplusplus) || __cplusplus >= 201103L)
#include "mio-inline-epoll.h"
#endif

#endif /* MIO_H */
