/*
 * mio-ares.h - c-ares in a libmio loop: the companion library libmio-ares.
 *
 * A mio_ares owns one c-ares channel and keeps the channel's sockets
 * registered with a libmio registry: c-ares announces every socket it opens,
 * changes and closes through ARES_OPT_SOCK_STATE_CB, and the adapter turns
 * each announcement into a register, reregister or deregister on the spot.
 * The caller's loop hands every event to mio_ares_process_event(), which
 * says whether the event was the adapter's, folds mio_ares_timeout() into
 * its poll timeout, and calls mio_ares_process_timeouts() after each poll.
 *
 *     mio_ares *resolver;
 *     mio_ares_new(registry, &options, optmask, &resolver);
 *     mio_ares_send(resolver, query, len, on_answer, arg);
 *     for (;;) {
 *             struct timespec buf;
 *             const struct timespec *t;
 *             t = mio_ares_timeout(resolver, NULL, &buf);
 *             mio_poll_poll(poll, events, t);
 *             MIO_EVENTS_FOREACH(ev, events) {
 *                     if (mio_ares_process_event(resolver, ev))
 *                             continue;
 *                     ... the program's own events ...
 *             }
 *             mio_ares_process_timeouts(resolver);
 *     }
 *
 * Or, in a loop that has a timer set (<mio-timer.h>), the adapter keeps a
 * timer of that set at c-ares' next timeout and the loop folds nothing:
 *
 *     mio_ares_use_timers(resolver, timers);
 *     for (;;) {
 *             struct timespec t;
 *             mio_poll_poll(poll, events,
 *                 mio_timers_timeout(timers, &t) == 0 ? &t : NULL);
 *             MIO_EVENTS_FOREACH(ev, events) {
 *                     if (mio_ares_process_event(resolver, ev))
 *                             continue;
 *                     ... the program's own events ...
 *             }
 *             mio_timers_run(timers);
 *     }
 *
 * What the adapter handles so that callers need not:
 * - Edge triggering. c-ares 1.18 reads a TCP answer with one recv() per
 *   ares_process_fd() (first the length word, then the body), so a single
 *   call per edge can leave a complete answer unread. After each event the
 *   adapter calls ares_process_fd() again while the socket is still the
 *   same registration and still readable, and re-arms it if it gives up.
 * - Descriptor reuse. c-ares may close a socket and open another with the
 *   same number inside one call. Tokens carry a generation, so events
 *   already collected for the old socket are recognised and dropped.
 * - Reentrancy. ares_cancel() and ares_destroy() must not run inside a
 *   c-ares callback; mio_ares_cancel() and mio_ares_free() called from one
 *   are deferred until the adapter's outermost call into c-ares returns.
 *
 * Tokens. The adapter's tokens are addresses inside a block of memory it
 * allocates and never uses otherwise, so they cannot equal a pointer to any
 * object of the caller, nor a small integer, nor another adapter's tokens.
 * mio_ares_owns_token() tests a token. At most MIO_ARES_MAX_SOCKETS
 * sockets of one channel can be registered at a time.
 *
 * Errors follow libmio: 0 or a negative errno value.
 *
 * Threads. A mio_ares, like a c-ares channel, is used by one thread at a
 * time; the registry it was given may be a clone used elsewhere.
 */
#ifndef MIO_ARES_H
#define MIO_ARES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* c-ares 1.18's ares.h uses fd_set without including the header that
 * declares it; glibc's other headers declare it only with a feature macro
 * (_DEFAULT_SOURCE), so under -std=c99 or -std=c11 ares.h fails to compile
 * unless <sys/select.h> comes first (newer c-ares includes it itself). */
#include <sys/select.h>

#include <ares.h>
#include <mio.h>
#include <mio-timer.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MIO_ARES_EXTERN __attribute__((visibility("default")))
#else
#define MIO_ARES_EXTERN
#endif

/** The most sockets of one channel the adapter keeps registered at once. */
#define MIO_ARES_MAX_SOCKETS 1024

/** A c-ares channel whose sockets live in a libmio registry. */
typedef struct mio_ares mio_ares;

/**
 * Creates a c-ares channel with ares_init_options(options, optmask) plus the
 * adapter's own ARES_OPT_SOCK_STATE_CB, whose sockets are registered with
 * registry. The registry must outlive the adapter. ares_library_init() must
 * have been called, as c-ares requires.
 * \param options may be NULL when optmask is 0; it is only read.
 * \return 0 and *out set, or -EINVAL (NULL registry or out, or optmask
 *         contains ARES_OPT_SOCK_STATE_CB, which the adapter owns),
 *         -ENOMEM, -ENOENT (c-ares could not read a configuration file it
 *         was told to read), or -EIO for any other c-ares failure.
 * Thread-safety: safe; the new adapter belongs to the calling thread.
 */
MIO_ARES_EXTERN int mio_ares_new(const mio_registry *registry,
    const struct ares_options *options, int optmask, mio_ares **out);

/**
 * Destroys the channel and frees the adapter. Every pending query's
 * callback runs with ARES_EDESTRUCTION and every socket is deregistered
 * before it is closed. Called from inside one of the adapter's c-ares
 * callbacks, the destruction is deferred until the adapter's outermost call
 * into c-ares returns; either way the caller must not use ma again.
 * Accepts NULL. Thread-safety: the adapter's thread only.
 */
MIO_ARES_EXTERN void mio_ares_free(mio_ares *ma);

/**
 * The c-ares channel, for ares_set_servers_ports_csv(), ares_query() and
 * the like. Do not destroy it, do not change its socket callbacks, and do
 * not call ares_process_fd() on it yourself: let the adapter do that.
 * Thread-safety: the adapter's thread only.
 */
MIO_ARES_EXTERN ares_channel mio_ares_channel(const mio_ares *ma);

/**
 * Whether token is one of the adapter's tokens, live or stale.
 * Thread-safety: safe.
 */
MIO_ARES_EXTERN bool mio_ares_owns_token(const mio_ares *ma, mio_token token);

/**
 * Handles one event of the last poll. If its token is not the adapter's,
 * returns 0 and does nothing. Otherwise the event is processed: readable,
 * error and hang-up events hand the socket to ares_process_fd() for reading
 * (repeatedly, until it would block or c-ares lets go of it), writable and
 * error events for writing; query callbacks run from here. An event whose
 * socket has been closed since the poll collected it is dropped.
 * \return 1 if the event was the adapter's (processed or dropped), 0 if not.
 * Thread-safety: the adapter's thread only.
 */
MIO_ARES_EXTERN int mio_ares_process_event(mio_ares *ma, const mio_event *ev);

/**
 * The time until c-ares' next timeout, folded into the caller's: returns
 * max if c-ares has no pending query or its next timeout is not earlier
 * (max NULL stands for "forever"), else stores the time left, rounded up to
 * the next millisecond so that the loop never wakes early and spins, in
 * *buf and returns buf. max may point to buf, so calls chain with one
 * buffer: t = mio_ares_timeout(a, t, &buf); t = mio_ares_timeout(b, t,
 * &buf); mio_poll_poll(poll, events, t).
 * Thread-safety: the adapter's thread only.
 */
MIO_ARES_EXTERN const struct timespec *mio_ares_timeout(const mio_ares *ma,
    const struct timespec *max, struct timespec *buf);

/**
 * Lets c-ares act on expired timeouts: retries, ARES_ETIMEOUT callbacks,
 * broken connections. c-ares never notices a timeout by itself, so call
 * this after every poll (it is cheap when nothing expired).
 * Thread-safety: the adapter's thread only.
 */
MIO_ARES_EXTERN void mio_ares_process_timeouts(mio_ares *ma);

/**
 * Hands the adapter a timer set: from now on it keeps one timer of that set
 * started at c-ares' next timeout, or at the expiry of the oldest query
 * socket of mio_ares_use_fresh_ports() if that comes first (re-armed
 * whenever one of the calls above or below returns from c-ares, stopped
 * while no query is pending and no query socket open), and when the timer
 * fires it does what mio_ares_process_timeouts() does. The
 * caller then needs neither mio_ares_timeout() nor
 * mio_ares_process_timeouts(), though both still work. The set must
 * outlive the adapter, or be taken back first with timers NULL, which
 * stops the timer; mio_ares_free() stops it too. Another set replaces the
 * first. A query started on the channel directly (ares_gethostbyname()
 * and the like) does not pass through the adapter: call
 * mio_ares_process_timeouts() once after it, which re-arms the timer. A
 * timer that cannot be started later (-ENOMEM) is reported by
 * mio_ares_take_error() and tried again at the next call into c-ares;
 * until then the earlier deadline, if any, stands.
 * \return 0, -EINVAL (ma is NULL), -ENOMEM (the set could not grow; the
 *         set is kept and the next call into c-ares tries again).
 * Thread-safety: the adapter's thread only, which must be the set's.
 */
MIO_ARES_EXTERN int mio_ares_use_timers(mio_ares *ma, mio_timers *timers);

/**
 * ares_send() on the adapter's channel. The callback may run before this
 * returns (for example when no socket can be opened); mio_ares_free() and
 * mio_ares_cancel() are safe from it. The caller's buffer is copied.
 * Thread-safety: the adapter's thread only.
 */
MIO_ARES_EXTERN void mio_ares_send(mio_ares *ma, const unsigned char *qbuf,
    int qlen, ares_callback callback, void *arg);

/**
 * ares_cancel(): every pending query's callback runs with ARES_ECANCELLED.
 * Deferred like mio_ares_free() when called from a callback.
 * Thread-safety: the adapter's thread only.
 */
MIO_ARES_EXTERN void mio_ares_cancel(mio_ares *ma);

/**
 * The first error met while registering or reregistering a c-ares socket,
 * or starting the timer of mio_ares_use_timers(), since the last call (a
 * socket-state callback cannot return one), or 0;
 * the error is cleared. A socket that could not be registered is not
 * watched, so its queries end with their c-ares timeout.
 * Thread-safety: the adapter's thread only.
 */
MIO_ARES_EXTERN int mio_ares_take_error(mio_ares *ma);

/** The number of sockets currently registered: c-ares' own, and the
 * query sockets of mio_ares_use_fresh_ports(). */
MIO_ARES_EXTERN size_t mio_ares_socket_count(const mio_ares *ma);

/** The most query sockets mio_ares_use_fresh_ports() accepts, and its
 * default. */
#define MIO_ARES_MAX_FRESH_PORTS 65536
#define MIO_ARES_DEFAULT_FRESH_PORTS 4096

/**
 * Sends every UDP query from a socket of its own, bound to a random port
 * (1024-65535; another one if taken, the kernel's choice after 16 taken
 * ones) and connect()ed to the server, as RFC 5452 asks and unbound's
 * outgoing-range does: c-ares 1.18 would send every query in flight to a
 * server from one socket, and so from one port. The socket takes only the
 * answer whose source is the server's address and port and whose ID is the
 * query's, and whose question is the query's (name in any case, type and
 * class), and is closed
 * after it, or when c-ares closes its server's sockets, or once the
 * query's last attempt has timed out (the channel's timeout doubled per
 * try, as c-ares 1.18 does). ICMP errors are not reported to c-ares (it
 * would fail every query to the server): such a query times out instead.
 * TCP is unchanged. Uses ares_set_socket_functions(): the caller must not
 * set its own.
 * \param max_sockets the most query sockets open at once (0 for
 *        MIO_ARES_DEFAULT_FRESH_PORTS); past it, or out of descriptors,
 *        the oldest one is closed to make room.
 * \return 0, -EINVAL (max_sockets above MIO_ARES_MAX_FRESH_PORTS),
 *         -EBUSY (already on, or a socket is open: call it right after
 *         mio_ares_new()), -ENOMEM.
 * Thread-safety: the adapter's thread only.
 */
MIO_ARES_EXTERN int mio_ares_use_fresh_ports(mio_ares *ma, size_t max_sockets);

/** Counters of mio_ares_use_fresh_ports(), all zero while it is off. */
struct mio_ares_port_stats {
	unsigned long long sockets;	/* query sockets opened */
	unsigned long long answers;	/* answers handed to c-ares */
	unsigned long long stray;	/* dropped: wrong ID or question */
	unsigned long long socket_errors; /* ICMP errors and such, ignored */
	unsigned long long bind_retries; /* random ports found taken */
	unsigned long long evicted;	/* closed early to make room */
	unsigned long long expired;	/* closed unanswered, timed out */
	unsigned long long failures;	/* sends that could not go out */
};

/** Copies the counters into *out. Thread-safety: the adapter's thread. */
MIO_ARES_EXTERN void mio_ares_get_port_stats(const mio_ares *ma,
    struct mio_ares_port_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* MIO_ARES_H */
