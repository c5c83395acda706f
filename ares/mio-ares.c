/*
 * mio-ares.c - c-ares sockets registered with a libmio registry.
 *
 * Notes on c-ares, from its 1.18.1 and 1.34 sources (see
 * docs/integrating-foreign-fds.md for the walk-through):
 *
 * a) The socket-state callback is the only news about sockets. c-ares calls
 *    it with (fd, 1, 0) after opening a socket, (fd, 1, 1) while a TCP send
 *    queue is not empty, and (fd, 0, 0) just *before* close(fd), so a
 *    deregistration done in the callback still finds the descriptor open.
 *    Sockets whose setup fails are closed without any callback, but were
 *    never announced either. 1.34 announces TCP sockets as (fd, 1, 1) at
 *    once and may open several UDP sockets per server, so any sequence is
 *    accepted: anything but (0, 0) registers or modifies, (0, 0) forgets.
 * b) c-ares 1.18 reads TCP with one recv() per ares_process_fd(): the two
 *    length bytes in one call and the body in the next. Under edge
 *    triggering an answer that arrived in one segment would sit unread
 *    until the query timed out. UDP is drained in one call, but reading
 *    stops early at a datagram from a foreign address. Hence the drain loop
 *    in adapter_process_readable(): call again while the same registration is
 *    alive and poll() still reports the socket readable. FIONREAD (grpc's
 *    choice) would miss end-of-stream and zero-length datagrams.
 * c) One ares_process_fd() can close a socket and open another that gets
 *    the same descriptor number (a TCP error requeues its queries), so an
 *    event collected for the old socket would be delivered to the new one.
 *    Each slot carries a generation that is part of its token; an event
 *    whose generation is not the slot's current one is dropped.
 * d) ares_cancel() and ares_destroy() from inside a callback make c-ares
 *    1.18 walk freed memory (its iterators keep pointers to queries), so
 *    they are deferred until the outermost call into c-ares has returned.
 * e) ares_timeout() in 1.18 truncates to whole milliseconds, so a loop that
 *    sleeps exactly that long wakes before the deadline and spins; the
 *    timeout is rounded up by one millisecond.
 *
 * f) With mio_ares_use_fresh_ports() c-ares' UDP sockets are handles of
 *    ports.c, never registered; the query sockets behind them have tokens
 *    above the c-ares sockets' range and their events go to ports.c.
 * g) With mio_ares_use_timers() one mio_timer stands for c-ares' next
 *    timeout, or for the next query socket's expiry (note f) if sooner.
 *    Both change only inside the calls the adapter makes into c-ares (a
 *    send starts a deadline, an answer or a timeout ends one), so the
 *    timer is re-armed when the outermost of them returns, in
 *    adapter_leave(), and at no other time. ares_timeout() walks every
 *    pending query in 1.18, so a re-arm after every send and answer cost
 *    O(queries in flight) each: with 7,000 in flight (an upstream down
 *    for two seconds at 5,000 q/s) miodnsd spent 86% of its time there
 *    and the kernel dropped most queries (t/miodnsd-restart.sh). So the
 *    walk is skipped while the timer is armed to fire no later than the
 *    soonest deadline a call into c-ares can start (its attempt timeout,
 *    which every query socket's lifetime is at least): a send cannot need
 *    an earlier fire, and an answer only makes the next deadline later,
 *    which costs one early fire that finds nothing due and re-arms. With
 *    few query sockets open the walk is cheap and done, so that the timer
 *    stops once nothing is pending. Newer c-ares may shorten timeouts from
 *    measured latency, so there the walk is done every time.
 *
 * Static helpers are adapter_*: ares_* is c-ares' namespace.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mio-ares.h"
#include "mio-timer.h"
#include "ports.h"

/* A token is token_space + (slot << GEN_BITS | generation). */
#define GEN_BITS MIO__ARES_GEN_BITS
#define GEN_MASK ((1u << GEN_BITS) - 1)
#define TOKEN_SPACE_SIZE ((size_t)MIO_ARES_MAX_SOCKETS << GEN_BITS)
/* The longest a query socket waits: c-ares 1.18 doubles the timeout per
 * round of tries; more than four doublings or a minute is not waited. */
#define FRESH_MAX_SHIFT 4
#define FRESH_MAX_LIFETIME_MS 60000L

/* How many extra ares_process_fd() calls one event may cause before the
 * socket is re-armed and left for the next poll. Each call reads at least
 * one message part, so this only bounds a socket that never runs dry. */
#define DRAIN_MAX 64

/* Note g: the walk is skipped only with this many query sockets open (so
 * many queries pending). With fewer it is cheap, and it stops the timer
 * as soon as the last answer is in. */
#define SKIP_WALK_MIN_SOCKETS 64

#define NO_SLOT UINT32_MAX

struct adapter_slot {
	int fd;			/* -1 while the slot is free */
	unsigned generation;	/* bumped whenever the slot is released */
	mio_interest interest;
	uint32_t next_free;
};

struct mio_ares {
	ares_channel channel;
	const mio_registry *registry;
	unsigned char *token_space;
	size_t token_space_size;
	struct mio__ares_ports *ports;	/* NULL unless fresh ports are on */
	struct adapter_slot *slots;
	uint32_t nslots;	/* slots ever used; free ones are listed */
	uint32_t capacity;
	uint32_t free_head, free_tail;
	size_t live;
	int depth;		/* nesting of the adapter's calls into c-ares */
	bool free_pending;
	bool cancel_pending;
	int error;
	mio_timers *timers;	/* NULL unless mio_ares_use_timers() */
	mio_timer timer;	/* c-ares' next timeout: note g */
	uint64_t timer_due_ns;	/* when it fires, CLOCK_MONOTONIC */
	uint64_t min_deadline_ns; /* soonest new deadline; 0: unknown */
};

static mio_token
adapter_slot_token(const mio_ares *ma, uint32_t index)
{
	size_t offset = ((size_t)index << GEN_BITS) |
	    (ma->slots[index].generation & GEN_MASK);

	return (mio_token)(uintptr_t)(ma->token_space + offset);
}

static struct adapter_slot *
adapter_slot_by_fd(mio_ares *ma, int fd)
{
	for (uint32_t i = 0; i < ma->nslots; i++) {
		if (ma->slots[i].fd == fd)
			return &ma->slots[i];
	}
	return NULL;
}

/* Takes the oldest free slot, so a released slot (and its generation) is
 * reused as late as possible. Returns NO_SLOT when all are taken. */
static uint32_t
adapter_slot_take(mio_ares *ma)
{
	uint32_t index = ma->free_head;

	if (index != NO_SLOT) {
		ma->free_head = ma->slots[index].next_free;
		if (ma->free_head == NO_SLOT)
			ma->free_tail = NO_SLOT;
		return index;
	}
	if (ma->nslots == MIO_ARES_MAX_SOCKETS)
		return NO_SLOT;
	if (ma->nslots == ma->capacity) {
		uint32_t capacity = ma->capacity ? ma->capacity * 2 : 8;
		struct adapter_slot *slots;

		slots = realloc(ma->slots, capacity * sizeof(*slots));
		if (slots == NULL)
			return NO_SLOT;
		ma->slots = slots;
		ma->capacity = capacity;
	}
	ma->slots[ma->nslots].generation = 0;
	return ma->nslots++;
}

static void
adapter_slot_release(mio_ares *ma, struct adapter_slot *slot)
{
	uint32_t index = (uint32_t)(slot - ma->slots);

	slot->fd = -1;
	slot->generation++;
	slot->next_free = NO_SLOT;
	if (ma->free_tail == NO_SLOT)
		ma->free_head = index;
	else
		ma->slots[ma->free_tail].next_free = index;
	ma->free_tail = index;
	ma->live--;
}

static void
adapter_note_error(mio_ares *ma, int error)
{
	if (ma->error == 0)
		ma->error = error;
}

/* A new socket: take a slot and register. -EEXIST means the kernel still
 * knows the descriptor (closed and reopened without a (0, 0) we saw), so
 * the registration is replaced instead. */
static void
adapter_socket_open(mio_ares *ma, int fd, mio_interest interest)
{
	uint32_t index = adapter_slot_take(ma);
	int rc;

	if (index == NO_SLOT) {
		adapter_note_error(ma, ma->nslots == MIO_ARES_MAX_SOCKETS ?
			-ENOSPC : -ENOMEM);
		return;
	}
	ma->slots[index].fd = fd;
	ma->slots[index].interest = interest;
	ma->live++;
	rc = mio_registry_register_fd(ma->registry, fd,
	    adapter_slot_token(ma, index), interest);
	if (rc == -EEXIST)
		rc = mio_registry_reregister_fd(ma->registry, fd,
		    adapter_slot_token(ma, index), interest);
	if (rc != 0) {
		adapter_note_error(ma, rc);
		adapter_slot_release(ma, &ma->slots[index]);
	}
}

/* A changed interest. Reregistering also re-arms the edge, so a socket
 * that is already writable reports it at the next poll. */
static void
adapter_socket_modify(mio_ares *ma, struct adapter_slot *slot,
    mio_interest interest)
{
	mio_token token = adapter_slot_token(ma, (uint32_t)(slot - ma->slots));
	int rc;

	if (slot->interest == interest)
		return;
	slot->interest = interest;
	rc = mio_registry_reregister_fd(ma->registry, slot->fd, token,
	    interest);
	if (rc == -ENOENT)
		rc = mio_registry_register_fd(ma->registry, slot->fd, token,
		    interest);
	if (rc != 0)
		adapter_note_error(ma, rc);
}

static void
adapter_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	mio_ares *ma = data;
	struct adapter_slot *slot = adapter_slot_by_fd(ma, fd);
	mio_interest interest = 0;

	if (ma->ports != NULL && mio__ares_ports_is_handle(ma->ports, fd))
		return;		/* see note f */
	if (!readable && !writable) {
		if (slot == NULL)
			return;
		/* The descriptor is still open here; see note a. */
		(void)mio_registry_deregister_fd(ma->registry, fd);
		adapter_slot_release(ma, slot);
		return;
	}
	if (readable)
		interest |= MIO_READABLE;
	if (writable)
		interest |= MIO_WRITABLE;
	if (slot == NULL)
		adapter_socket_open(ma, fd, interest);
	else
		adapter_socket_modify(ma, slot, interest);
}

static int
adapter_status_to_errno(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return 0;
	case ARES_ENOMEM:
		return -ENOMEM;
	case ARES_EFILE:
		return -ENOENT;
	default:
		return -EIO;
	}
}

int
mio_ares_new(const mio_registry *registry, const struct ares_options *options,
    int optmask, mio_ares **out)
{
	struct ares_options opts;
	mio_ares *ma;
	int status;

	if (registry == NULL || out == NULL ||
	    (optmask & ARES_OPT_SOCK_STATE_CB) != 0 ||
	    (options == NULL && optmask != 0))
		return -EINVAL;
	if ((ma = calloc(1, sizeof(*ma))) == NULL)
		return -ENOMEM;
	/* The block is never read or written: it only reserves addresses
	 * for the tokens (see mio-ares.h). */
	if ((ma->token_space = malloc(TOKEN_SPACE_SIZE)) == NULL) {
		free(ma);
		return -ENOMEM;
	}
	ma->token_space_size = TOKEN_SPACE_SIZE;
	ma->registry = registry;
	ma->free_head = ma->free_tail = NO_SLOT;
	if (options != NULL)
		opts = *options;
	else
		memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = adapter_sock_state;
	opts.sock_state_cb_data = ma;
	status = ares_init_options(&ma->channel, &opts,
	    optmask | ARES_OPT_SOCK_STATE_CB);
	if (status != ARES_SUCCESS) {
		free(ma->token_space);
		free(ma);
		return adapter_status_to_errno(status);
	}
	*out = ma;
	return 0;
}

/* The time left until c-ares' next timeout in nanoseconds, rounded up by a
 * millisecond (note e), or false when no query is pending. */
static bool
adapter_next_timeout_ns(const mio_ares *ma, uint64_t *ns)
{
	struct timeval tv;

	if (ares_timeout(ma->channel, NULL, &tv) == NULL)
		return false;
	*ns = (uint64_t)tv.tv_sec * 1000000000u +
	    (uint64_t)tv.tv_usec * 1000u + 1000000u;
	return true;
}

/* The timer's delay: c-ares' next timeout, or the next query socket's
 * expiry (note f) if that comes first, so that with the timer alone an
 * unanswered query socket is closed when its time is up, not at the next
 * timeout of some later query. Rounded up by a millisecond, as ports.c
 * compares whole milliseconds. */
static bool
adapter_timer_delay_ns(const mio_ares *ma, uint64_t *ns)
{
	bool pending = adapter_next_timeout_ns(ma, ns);
	int64_t expiry_ms;

	if (ma->ports == NULL ||
	    (expiry_ms = mio__ares_ports_next_expiry_ms(ma->ports)) < 0)
		return pending;
	if (!pending || (uint64_t)expiry_ms * 1000000u + 1000000u < *ns)
		*ns = (uint64_t)expiry_ms * 1000000u + 1000000u;
	return true;
}

static uint64_t
adapter_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Note g: the timer follows c-ares' next timeout, or stops; the walk is
 * skipped while it is armed soon enough. A start that fails (-ENOMEM)
 * leaves the timer as it was; the next call into c-ares tries again. */
static int
adapter_arm_timer(mio_ares *ma)
{
	uint64_t ns, now;
	int rc;

	if (ma->timers == NULL)
		return 0;
	now = adapter_now_ns();
	if (ma->min_deadline_ns != 0 && ma->ports != NULL &&
	    mio__ares_ports_live(ma->ports) >= SKIP_WALK_MIN_SOCKETS &&
	    mio_timer_pending(&ma->timer) &&
	    ma->timer_due_ns <= now + ma->min_deadline_ns)
		return 0;
	if (!adapter_timer_delay_ns(ma, &ns)) {
		mio_timer_stop(ma->timers, &ma->timer);
		return 0;
	}
	if ((rc = mio_timer_start(ma->timers, &ma->timer, ns)) == 0)
		ma->timer_due_ns = now + ns;
	return rc;
}

/* After a cancel nothing is pending: the next re-arm must walk (note g)
 * and so stop the timer, not keep an early fire. */
static void
adapter_forget_timer(mio_ares *ma)
{
	if (ma->timers != NULL)
		mio_timer_stop(ma->timers, &ma->timer);
}

/* The soonest deadline a call into c-ares can start (note g): its attempt
 * timeout, or a query socket's longest lifetime if that is shorter; 0
 * (walk every time) if unknown. */
static uint64_t
adapter_min_deadline_ns(const mio_ares *ma)
{
#if ARES_VERSION < 0x011a00
	struct ares_options o;
	int optmask;
	uint64_t ns;

	if (ares_save_options(ma->channel, &o, &optmask) != ARES_SUCCESS)
		return 0;
	/* A query socket lives at most FRESH_MAX_LIFETIME_MS. */
	ns = o.timeout <= 0 ? 0 : o.timeout < FRESH_MAX_LIFETIME_MS ?
	    (uint64_t)o.timeout * 1000000u :
	    (uint64_t)FRESH_MAX_LIFETIME_MS * 1000000u;
	ares_destroy_options(&o);
	return ns;
#else
	(void)ma;
	return 0;
#endif
}

/* The end of every entry into c-ares: runs what callbacks asked for, then
 * re-arms the timer (note g). */
static void
adapter_leave(mio_ares *ma)
{
	int rc;

	if (--ma->depth > 0)
		return;
	if (ma->cancel_pending && !ma->free_pending) {
		ma->cancel_pending = false;
		ma->depth++;
		ares_cancel(ma->channel);
		adapter_forget_timer(ma);
		adapter_leave(ma);
		return;
	}
	if (ma->free_pending) {
		ma->free_pending = false;
		mio_ares_free(ma);
		return;
	}
	rc = adapter_arm_timer(ma);
	if (rc != 0)
		adapter_note_error(ma, rc);
}

void
mio_ares_free(mio_ares *ma)
{
	if (ma == NULL)
		return;
	if (ma->depth > 0) {
		ma->free_pending = true;
		return;
	}
	/* Callbacks run with ARES_EDESTRUCTION and the sockets are announced
	 * closed, which deregisters them: keep everything alive until then.
	 * A callback calling mio_ares_free() again is ignored by depth. */
	ma->depth++;
	ares_destroy(ma->channel);
	if (ma->timers != NULL)
		mio_timer_stop(ma->timers, &ma->timer);
	mio__ares_ports_free(ma->ports);
	free(ma->slots);
	free(ma->token_space);
	free(ma);
}

ares_channel
mio_ares_channel(const mio_ares *ma)
{
	return ma->channel;
}

bool
mio_ares_owns_token(const mio_ares *ma, mio_token token)
{
	uintptr_t base = (uintptr_t)ma->token_space;

	return token >= base && token - base < ma->token_space_size;
}

/* The live slot a token names, or NULL if the socket has gone since. */
static struct adapter_slot *
adapter_slot_by_token(mio_ares *ma, mio_token token)
{
	size_t offset = token - (uintptr_t)ma->token_space;
	uint32_t index = (uint32_t)(offset >> GEN_BITS);
	struct adapter_slot *slot;

	if (index >= ma->nslots)
		return NULL;
	slot = &ma->slots[index];
	if (slot->fd < 0 ||
	    (slot->generation & GEN_MASK) != (offset & GEN_MASK))
		return NULL;
	return slot;
}

static bool
adapter_fd_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

/* See note b: keep reading while c-ares still owns this registration and
 * the socket still has something; re-arm if the budget runs out. */
static void
adapter_process_readable(mio_ares *ma, mio_token token, int fd)
{
	struct adapter_slot *slot;

	for (int i = 0; i < DRAIN_MAX; i++) {
		if (adapter_slot_by_token(ma, token) == NULL ||
		    !adapter_fd_readable(fd))
			return;
		ares_process_fd(ma->channel, fd, ARES_SOCKET_BAD);
	}
	slot = adapter_slot_by_token(ma, token);
	if (slot != NULL && adapter_fd_readable(fd)) {
		int rc = mio_registry_reregister_fd(ma->registry, fd, token,
		    slot->interest);
		if (rc != 0)
			adapter_note_error(ma, rc);
	}
}

int
mio_ares_process_event(mio_ares *ma, const mio_event *ev)
{
	mio_token token = mio_event_token(ev);
	struct adapter_slot *slot;
	bool error, readable, writable;
	int fd;

	if (!mio_ares_owns_token(ma, token))
		return 0;
	if (token - (uintptr_t)ma->token_space >= TOKEN_SPACE_SIZE) {
		ma->depth++;
		mio__ares_ports_event(ma->ports, token);	/* note f */
		adapter_leave(ma);
		return 1;
	}
	if ((slot = adapter_slot_by_token(ma, token)) == NULL)
		return 1;	/* stale: see note c */
	fd = slot->fd;
	error = mio_event_is_error(ev);
	readable = error || mio_event_is_readable(ev) ||
	    mio_event_is_read_closed(ev);
	writable = error || mio_event_is_writable(ev) ||
	    mio_event_is_write_closed(ev);
	ma->depth++;
	ares_process_fd(ma->channel, readable ? fd : ARES_SOCKET_BAD,
	    writable ? fd : ARES_SOCKET_BAD);
	if (readable)
		adapter_process_readable(ma, token, fd);
	adapter_leave(ma);
	return 1;
}

const struct timespec *
mio_ares_timeout(const mio_ares *ma, const struct timespec *max,
    struct timespec *buf)
{
	struct timespec left;
	uint64_t ns;

	if (!adapter_next_timeout_ns(ma, &ns))
		return max;
	left.tv_sec = (time_t)(ns / 1000000000u);
	left.tv_nsec = (long)(ns % 1000000000u);
	if (max != NULL && (max->tv_sec < left.tv_sec ||
	    (max->tv_sec == left.tv_sec && max->tv_nsec <= left.tv_nsec)))
		return max;
	*buf = left;
	return buf;
}

void
mio_ares_process_timeouts(mio_ares *ma)
{
	if (ma->ports != NULL)
		mio__ares_ports_expire(ma->ports);
	ma->depth++;
	ares_process_fd(ma->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	adapter_leave(ma);
}

static void
adapter_timer_fire(mio_timer *timer, void *arg)
{
	(void)timer;
	mio_ares_process_timeouts(arg);
}

int
mio_ares_use_timers(mio_ares *ma, mio_timers *timers)
{
	if (ma == NULL)
		return -EINVAL;
	if (ma->timers != NULL)
		mio_timer_stop(ma->timers, &ma->timer);
	ma->timers = timers;
	if (timers == NULL)
		return 0;
	mio_timer_init(&ma->timer, adapter_timer_fire, ma);
	ma->min_deadline_ns = adapter_min_deadline_ns(ma);
	if (ma->depth > 0)
		return 0;	/* adapter_leave() arms it */
	return adapter_arm_timer(ma);
}

void
mio_ares_send(mio_ares *ma, const unsigned char *qbuf, int qlen,
    ares_callback callback, void *arg)
{
	ma->depth++;
	ares_send(ma->channel, qbuf, qlen, callback, arg);
	adapter_leave(ma);
}

void
mio_ares_cancel(mio_ares *ma)
{
	if (ma->depth > 0) {
		ma->cancel_pending = true;
		return;
	}
	ma->depth++;
	ares_cancel(ma->channel);
	adapter_forget_timer(ma);
	adapter_leave(ma);
}

int
mio_ares_take_error(mio_ares *ma)
{
	int error = ma->error;

	ma->error = 0;
	return error;
}

size_t
mio_ares_socket_count(const mio_ares *ma)
{
	return ma->live + (ma->ports ? mio__ares_ports_live(ma->ports) : 0);
}

/* How long a query socket may wait for its answer: see FRESH_MAX_SHIFT. */
static long
adapter_attempt_ms(const mio_ares *ma)
{
	struct ares_options o;
	int optmask, shift;
	long ms;

	if (ares_save_options(ma->channel, &o, &optmask) != ARES_SUCCESS)
		return FRESH_MAX_LIFETIME_MS;
	shift = o.tries > 1 ? o.tries - 1 : 0;
	if (shift > FRESH_MAX_SHIFT)
		shift = FRESH_MAX_SHIFT;
	ms = o.timeout > 0 ? (long)o.timeout << shift : FRESH_MAX_LIFETIME_MS;
	ares_destroy_options(&o);
	return ms < FRESH_MAX_LIFETIME_MS ? ms : FRESH_MAX_LIFETIME_MS;
}

int
mio_ares_use_fresh_ports(mio_ares *ma, size_t max_sockets)
{
	size_t size, base = TOKEN_SPACE_SIZE;
	unsigned char *space;
	int rc;

	if (ma == NULL || max_sockets > MIO_ARES_MAX_FRESH_PORTS)
		return -EINVAL;
	if (ma->ports != NULL || ma->live != 0 || ma->depth > 0)
		return -EBUSY;
	if (max_sockets == 0)
		max_sockets = MIO_ARES_DEFAULT_FRESH_PORTS;
	/* The query sockets' tokens follow the c-ares sockets' range. */
	size = base + (max_sockets << GEN_BITS);
	if ((space = malloc(size)) == NULL)
		return -ENOMEM;
	rc = mio__ares_ports_new(ma->registry, (uintptr_t)space + base,
	    (uint32_t)max_sockets, adapter_attempt_ms(ma), &ma->ports);
	if (rc != 0) {
		free(space);
		return rc;
	}
	free(ma->token_space);
	ma->token_space = space;
	ma->token_space_size = size;
	mio__ares_ports_attach(ma->ports, ma->channel);
	return 0;
}

void
mio_ares_get_port_stats(const mio_ares *ma, struct mio_ares_port_stats *out)
{
	if (ma->ports != NULL)
		mio__ares_ports_stats(ma->ports, out);
	else
		memset(out, 0, sizeof(*out));
}
