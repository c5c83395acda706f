/*
 * upstream.c - the upstream servers: one c-ares channel each, driven by
 * mio-ares in the daemon's poll.
 *
 * Each channel has exactly one server, tries = 1 and an explicit timeout,
 * so that c-ares never retries on its own (its retries double the timeout
 * per round, up to 75 s with the defaults of 1.18) and the daemon decides
 * failover and deadlines. c-ares 1.32 and later treat the timeout as a
 * hint: an attempt lasts five times the server's average answer time, at
 * least 250 ms, jittered down by up to half. Against a fast upstream that
 * is far shorter than an uncached answer may take, so there the channel
 * gets three tries, whose answers all count (the query keeps its ID), with
 * the doubling capped at our timeout by ARES_OPT_MAXTIMEOUTMS where the
 * headers have it. The daemon's deadline bounds everything either way.
 *
 * Flags: NOCHECKRESP so that an upstream's SERVFAIL or REFUSED reaches us
 * instead of becoming ECONNREFUSED, and
 * EDNS with our size so that answers up to that size are accepted over
 * UDP; bigger or truncated ones are retried over TCP by c-ares itself.
 * The query cache of c-ares 1.23 and later is switched off: a forwarder
 * must not answer from someone else's cache. Settings from resolv.conf or
 * RES_OPTIONS cannot creep in, because every one that matters is given.
 *
 * Query IDs are ours (c-ares 1.18 sends the caller's ID as is, and its own
 * generator is weak, CVE-2023-31147): random from getrandom(), unique per
 * channel among the queries in flight. c-ares matches answers by ID and
 * question; the attempt passed as callback argument takes the answer back
 * to its fetch (query.c), or nowhere if the fetch has been abandoned.
 *
 * A reload that changes the upstreams builds a new set of channels; the
 * old set gets no new queries and is destroyed once its last query is
 * over, at the top of the loop, never from inside a c-ares callback.
 */
#include "config.h"

#include <ares.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_SYS_RANDOM_H
#include <sys/random.h>
#endif

#include "core/log.h"
#include "mio-ares.h"
#include "miodnsd.h"

/* c-ares may not use these buffers in full, but a burst of answers to a
 * busy forwarder should not overflow the kernel's default. */
#define UPSTREAM_RCVBUF (1 << 20)

struct attempt {
	struct fetch *fetch;	/* NULL once the fetch ended without us */
	struct upstream *upstream;
	uint16_t id;
};

struct upstream {
	struct upstream_set *set;
	struct addr addr;
	char name[64];
	mio_ares *ares;
	unsigned inflight;
	uint64_t sent, answered, failed;
	uint8_t ids_in_use[65536 / 8];
};

struct upstream_set {
	TAILQ_ENTRY(upstream_set) entry;
	struct config conf;	/* the settings the channels were made with */
	struct upstream ups[MIODNSD_MAX_UPSTREAM];
	unsigned n;
	unsigned preferred;	/* the last one that answered */
	unsigned inflight;
};

/* Each worker has its own c-ares channels: a channel is not shared
 * between threads. */
static WORKER_LOCAL struct upstream_set *active;
static WORKER_LOCAL TAILQ_HEAD(upstream_list, upstream_set) retired;

void
upstream_worker_init(void)
{
	TAILQ_INIT(&retired);
}

/* Random bytes, fetched in bulk: one system call per 256 IDs. */
static uint16_t
upstream_random16(void)
{
	static WORKER_LOCAL uint16_t pool[256];
	static WORKER_LOCAL size_t left;

	if (left == 0) {
#ifdef HAVE_GETRANDOM
		if (getrandom(pool, sizeof(pool), 0) != (ssize_t)sizeof(pool))
			fatal("getrandom");
#else
		arc4random_buf(pool, sizeof(pool));
#endif
		left = sizeof(pool) / sizeof(pool[0]);
	}
	return pool[--left];
}

static bool
upstream_take_id(struct upstream *u, uint16_t *id)
{
	for (int tries = 0; tries < 64; tries++) {
		uint16_t v = upstream_random16();
		if (u->ids_in_use[v >> 3] & (1u << (v & 7)))
			continue;
		u->ids_in_use[v >> 3] |= (uint8_t)(1u << (v & 7));
		*id = v;
		return true;
	}
	return false;
}

static void
upstream_release_id(struct upstream *u, uint16_t id)
{
	u->ids_in_use[id >> 3] &= (uint8_t)~(1u << (id & 7));
}

/* See the top of the file; the library's version counts, not the
 * headers', since a binary built on 1.18 may run with 1.34. */
static int
upstream_tries(void)
{
	int version;

	ares_version(&version);
	return version >= 0x012000 ? 3 : 1;
}

static int
upstream_channel(struct upstream *u, const struct config *conf)
{
	struct ares_options o;
	int optmask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_SERVERS | ARES_OPT_EDNSPSZ | ARES_OPT_NOROTATE |
	    ARES_OPT_SOCK_RCVBUF;
	char csv[80];
	int rc, status;

	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_EDNS | ARES_FLAG_NOSEARCH;
	o.timeout = (int)conf->upstream_timeout_ms;
	o.tries = upstream_tries();
	o.nservers = 0;		/* not resolv.conf's: see the csv below */
	o.ednspsz = (int)conf->edns_size;
	o.socket_receive_buffer_size = UPSTREAM_RCVBUF;
#if ARES_VERSION >= 0x011700
	/* 1.23 has a query cache, 1.31 turns it on by default. */
	optmask |= ARES_OPT_QUERY_CACHE;
	o.qcache_max_ttl = 0;
#endif
#if ARES_VERSION >= 0x012000
	optmask |= ARES_OPT_MAXTIMEOUTMS;
	o.maxtimeout = (int)conf->upstream_timeout_ms;
#endif
	if ((rc = mio_ares_new(worker_registry(), &o, optmask, &u->ares)) != 0) {
		log_warnx("c-ares channel for %s: %s", u->name,
		    mio_strerror(rc));
		return -1;
	}
	addr_str(&u->addr, csv, sizeof(csv));
	status = ares_set_servers_ports_csv(mio_ares_channel(u->ares), csv);
	if (status != ARES_SUCCESS) {
		log_warnx("c-ares server %s: %s", csv, ares_strerror(status));
		mio_ares_free(u->ares);
		u->ares = NULL;
		return -1;
	}
	return 0;
}

static void
upstream_set_free(struct upstream_set *set)
{
	for (unsigned i = 0; i < set->n; i++)
		mio_ares_free(set->ups[i].ares);
	free(set);
}

/* Makes conf's upstreams active; 0, or -1 with the old ones kept. */
int
upstream_configure(const struct config *conf)
{
	struct upstream_set *set;

	if (active != NULL && config_same_upstreams(&active->conf, conf))
		return 0;
	if ((set = calloc(1, sizeof(*set))) == NULL) {
		log_warn("upstream_configure");
		return -1;
	}
	set->conf = *conf;
	for (int i = 0; i < conf->nupstream; i++) {
		struct upstream *u = &set->ups[set->n];
		u->set = set;
		u->addr = conf->upstream[i];
		addr_str(&u->addr, u->name, sizeof(u->name));
		if (upstream_channel(u, conf) != 0) {
			upstream_set_free(set);
			return -1;
		}
		set->n++;
		if (worker_id() == 0)
			log_info("forwarding to %s", u->name);
	}
	if (active != NULL)
		TAILQ_INSERT_TAIL(&retired, active, entry);
	active = set;
	return 0;
}

unsigned
upstream_count(void)
{
	return active != NULL ? active->n : 0;
}

static void
upstream_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct attempt *a = arg;
	struct upstream *u = a->upstream;
	struct fetch *f = a->fetch;

	(void)timeouts;
	upstream_release_id(u, a->id);
	u->inflight--;
	u->set->inflight--;
	if (status == ARES_SUCCESS) {
		u->answered++;
		u->set->preferred = (unsigned)(u - u->set->ups);
	} else {
		u->failed++;
		if (status == ARES_ETIMEOUT)
			COUNT(upstream_timeouts);
		log_debug("%s: %s", u->name, ares_strerror(status));
	}
	free(a);
	if (f != NULL)
		fetch_upstream_done(f, status, abuf,
		    abuf != NULL && alen > 0 ? (size_t)alen : 0);
}

/*
 * Sends msg (its ID is set here) for attempt number `attempt` of f: the
 * first goes to the upstream that answered last, later ones to the next.
 * Returns false if there is no upstream; otherwise the answer or failure
 * arrives through fetch_upstream_done(), possibly before this returns.
 */
bool
upstream_send(struct fetch *f, unsigned attempt, uint8_t *msg, size_t len)
{
	struct upstream *u;
	struct attempt *a;

	if (active == NULL || active->n == 0)
		return false;
	u = &active->ups[(active->preferred + attempt) % active->n];
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return false;
	if (!upstream_take_id(u, &a->id)) {
		free(a);
		return false;
	}
	a->fetch = f;
	a->upstream = u;
	msg[0] = (uint8_t)(a->id >> 8);
	msg[1] = (uint8_t)a->id;
	u->inflight++;
	u->set->inflight++;
	u->sent++;
	COUNT(upstream_sent);
	fetch_link_attempt(f, a);
	mio_ares_send(u->ares, msg, (int)len, upstream_answer, a);
	return true;
}

void
upstream_forget(struct attempt *a)
{
	a->fetch = NULL;
}

static bool
upstream_set_event(struct upstream_set *set, const mio_event *ev)
{
	for (unsigned i = 0; i < set->n; i++) {
		if (mio_ares_process_event(set->ups[i].ares, ev))
			return true;
	}
	return false;
}

/* Hands ev to the channel it belongs to; false if it is not c-ares'. */
bool
upstream_event(const mio_event *ev)
{
	struct upstream_set *set;

	if (active != NULL && upstream_set_event(active, ev))
		return true;
	TAILQ_FOREACH(set, &retired, entry) {
		if (upstream_set_event(set, ev))
			return true;
	}
	return false;
}

static const struct timespec *
upstream_set_timeout(struct upstream_set *set, const struct timespec *t,
    struct timespec *buf)
{
	for (unsigned i = 0; set->inflight > 0 && i < set->n; i++)
		t = mio_ares_timeout(set->ups[i].ares, t, buf);
	return t;
}

/* Folds every channel's next timeout into max (buf may end up used). */
const struct timespec *
upstream_timeout(const struct timespec *max, struct timespec *buf)
{
	struct upstream_set *set;

	if (active != NULL)
		max = upstream_set_timeout(active, max, buf);
	TAILQ_FOREACH(set, &retired, entry)
		max = upstream_set_timeout(set, max, buf);
	return max;
}

static void
upstream_set_process_timeouts(struct upstream_set *set)
{
	for (unsigned i = 0; i < set->n; i++) {
		int error;
		if (set->ups[i].inflight > 0)
			mio_ares_process_timeouts(set->ups[i].ares);
		if ((error = mio_ares_take_error(set->ups[i].ares)) != 0)
			log_warnx("%s: registering a c-ares socket: %s",
			    set->ups[i].name, mio_strerror(error));
	}
}

void
upstream_process_timeouts(void)
{
	struct upstream_set *set;

	if (active != NULL)
		upstream_set_process_timeouts(active);
	TAILQ_FOREACH(set, &retired, entry)
		upstream_set_process_timeouts(set);
}

/* Destroys retired sets whose last query is over; outside callbacks. */
void
upstream_reap(void)
{
	struct upstream_set *set, *next;

	TAILQ_FOREACH_SAFE(set, &retired, entry, next) {
		if (set->inflight > 0)
			continue;
		TAILQ_REMOVE(&retired, set, entry);
		upstream_set_free(set);
	}
}

/* At exit. Queries still in c-ares end with ARES_EDESTRUCTION, and their
 * attempts are freed by upstream_answer(). */
void
upstream_free_all(void)
{
	struct upstream_set *set;

	while ((set = TAILQ_FIRST(&retired)) != NULL) {
		TAILQ_REMOVE(&retired, set, entry);
		upstream_set_free(set);
	}
	if (active != NULL)
		upstream_set_free(active);
	active = NULL;
}

void
upstream_log_counters(void)
{
	/* Per worker: another worker's channels are not ours to read. */
	const char *whose = worker_count() > 1 ? " (worker 0's share)" : "";

	for (unsigned i = 0; active != NULL && i < active->n; i++) {
		const struct upstream *u = &active->ups[i];
		log_info("upstream %s%s: sent %llu, answered %llu, failed %llu, "
		    "in flight %u", u->name, whose, (unsigned long long)u->sent,
		    (unsigned long long)u->answered,
		    (unsigned long long)u->failed, u->inflight);
	}
}
