/*
 * upstream.c - the upstream servers: one c-ares channel each, driven by
 * mio-ares in the daemon's poll.
 *
 * Each channel has exactly one server, tries = 1 and an explicit timeout,
 * the query's deadline (timeout, and UPSTREAM_GRACE_MS more so that the
 * query's own deadline always comes first and answers), not
 * upstream-timeout: the pipeline times each attempt itself and starts the
 * next one, while this one may still answer until the deadline (fetch.c). So c-ares never retries on its own (its retries double the timeout
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
 * to its cookie (the pipeline's fetch) through the callback the pipeline
 * registered in the port, or nowhere if the cookie has been forgotten.
 *
 * This file is the c-ares implementation of the pipeline's upstream port
 * (upstream.h); everything it has is one worker's struct upstreams.
 *
 * c-ares' timeouts are the worker's timers: every channel is handed the
 * worker's mio_timers set (mio_ares_use_timers()), so the adapter keeps a
 * timer at the channel's next timeout and nothing here folds c-ares'
 * deadlines into the poll by hand. Only the TLS upstreams' deadlines are
 * still folded (upstreams_timeout()).
 *
 * An upstream-tls server is no c-ares channel but the daemon's own DNS
 * over TLS client (dot-upstream.h) in the same poll: one connection,
 * reused and pipelined, whose events, deadlines and counters this file
 * passes on like mio-ares'. Its attempts end like c-ares' do, through
 * upstream_dot_answer(); a certificate it refuses ends them as failures,
 * so the pipeline answers SERVFAIL, never anything from that server.
 *
 * A reload that changes the upstreams builds a new set of channels; the
 * old set gets no new queries and is destroyed once its last query is
 * over, at the top of the loop, never from inside a c-ares callback.
 */
#include "config.h"

#include <ares.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef HAVE_SYS_RANDOM_H
#include <sys/random.h>
#endif

#include "core/log.h"
#include "core/queue.h"
#include "mio-ares.h"
#include "resolve/upstream.h"
#ifdef HAVE_TLS
#include "core/tls.h"
#include "resolve/dot-upstream.h"
#endif

/* c-ares may not use these buffers in full, but a burst of answers to a
 * busy forwarder should not overflow the kernel's default. */
#define UPSTREAM_RCVBUF (1 << 20)
/* A DNS-over-TLS upstream's connection closes after this long unused. */
#define UPSTREAM_TLS_IDLE_MS 10000
/* An attempt outlives the query's deadline by this much (see the top). */
#define UPSTREAM_GRACE_MS 250

struct attempt {
	void *cookie;		/* NULL once the fetch ended without us */
	struct upstream *upstream;
	uint16_t id;
};

struct dot_upstream;

struct upstream {
	struct upstream_set *set;
	struct addr addr;
	char name[64];
	mio_ares *ares;		/* or, for upstream-tls: */
	struct dot_upstream *dot;
	unsigned inflight;
	uint64_t sent, answered, failed;
	struct mio_ares_port_stats ports;	/* as last counted */
	uint8_t ids_in_use[65536 / 8];
#ifdef HAVE_TLS
	struct dot_upstream_stats dot_seen;	/* counted so far */
#endif
};

struct upstream_set {
	struct upstreams *owner;
	TAILQ_ENTRY(upstream_set) entry;
	struct config conf;	/* the settings the channels were made with */
	struct upstream ups[MIODNSD_MAX_UPSTREAM];
	unsigned n;
	unsigned preferred;	/* the last one that answered */
	unsigned inflight;
};

/* One worker's channels: a channel is not shared between threads. */
struct upstreams {
	struct upstream_port port;	/* first: the pipeline's view */
	const mio_registry *registry;
	mio_timers *timers;		/* the worker's, for the channels */
	struct counters *counters;
	bool log_changes;		/* worker 0 logs, the others follow */
	struct upstream_set *active;
	TAILQ_HEAD(upstream_list, upstream_set) retired;
	uint16_t pool[256];		/* random IDs, fetched in bulk */
	size_t left;
};

static const struct upstream_port_ops upstream_port_ops;

int
upstreams_new(struct upstreams **out, const mio_registry *registry,
    mio_timers *timers, struct counters *counters, bool log_changes)
{
	struct upstreams *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return -1;
	u->port.ops = &upstream_port_ops;
	u->registry = registry;
	u->timers = timers;
	u->counters = counters;
	u->log_changes = log_changes;
	TAILQ_INIT(&u->retired);
	*out = u;
	return 0;
}

struct upstream_port *
upstreams_port(struct upstreams *u)
{
	return &u->port;
}

/* Random bytes, fetched in bulk: one system call per 256 IDs. */
static uint16_t
upstream_random16(struct upstreams *u)
{
	if (u->left == 0) {
#ifdef HAVE_GETRANDOM
		if (getrandom(u->pool, sizeof(u->pool), 0) !=
		    (ssize_t)sizeof(u->pool))
			fatal("getrandom");
#else
		arc4random_buf(u->pool, sizeof(u->pool));
#endif
		u->left = sizeof(u->pool) / sizeof(u->pool[0]);
	}
	return u->pool[--u->left];
}

static bool
upstream_take_id(struct upstream *u, uint16_t *id)
{
	for (int tries = 0; tries < 64; tries++) {
		uint16_t v = upstream_random16(u->set->owner);
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
	o.timeout = (int)(conf->timeout_ms + UPSTREAM_GRACE_MS);
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
	o.maxtimeout = (int)(conf->timeout_ms + UPSTREAM_GRACE_MS);
#endif
	if ((rc = mio_ares_new(u->set->owner->registry, &o, optmask,
	    &u->ares)) != 0) {
		log_warnx("c-ares channel for %s: %s", u->name,
		    mio_strerror(rc));
		return -1;
	}
	/* RFC 5452: a random source port for every query, not one socket
	 * for all queries in flight (mio-ares.h). */
	if ((rc = mio_ares_use_fresh_ports(u->ares, 0)) != 0) {
		log_warnx("c-ares channel for %s: fresh ports: %s", u->name,
		    mio_strerror(rc));
		mio_ares_free(u->ares);
		u->ares = NULL;
		return -1;
	}
	if ((rc = mio_ares_use_timers(u->ares, u->set->owner->timers)) != 0) {
		log_warnx("c-ares channel for %s: timers: %s", u->name,
		    mio_strerror(rc));
		mio_ares_free(u->ares);
		u->ares = NULL;
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
	for (unsigned i = 0; i < set->n; i++) {
		mio_ares_free(set->ups[i].ares);
#ifdef HAVE_TLS
		dot_upstream_free(set->ups[i].dot);
#endif
	}
	config_release(&set->conf);
	free(set);
}

#ifdef HAVE_TLS
/* A monotonic clock for the TLS upstreams' deadlines, in ms. */
static uint64_t
upstream_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The client of upstream-tls number i. */
static int
upstream_dot(struct upstream *u, const struct config *conf, int i)
{
	struct dot_upstream_config dc = {
		.ctx = conf->tls_client,
		.addr = u->addr.ss,
		.addrlen = u->addr.len,
		.name = conf->upstream_tls_name[i],
		.idle_ms = UPSTREAM_TLS_IDLE_MS,
	};
	int rc;

	if ((rc = dot_upstream_new(&u->dot, u->set->owner->registry,
	    &dc)) != 0) {
		log_warnx("TLS upstream %s: %s", u->name, mio_strerror(rc));
		return -1;
	}
	return 0;
}

/* The TLS upstreams' own counts, added to the worker's counters as they
 * grow. */
static void
upstream_dot_count(struct upstream *u)
{
	struct counters *c = u->set->owner->counters;
	struct dot_upstream_stats st;

	dot_upstream_get_stats(u->dot, &st);
	counter_set(&c->tls_upstream_handshakes, c->tls_upstream_handshakes +
	    st.handshakes - u->dot_seen.handshakes);
	counter_set(&c->tls_upstream_resumptions,
	    c->tls_upstream_resumptions + st.resumptions -
	    u->dot_seen.resumptions);
	counter_set(&c->tls_upstream_failures, c->tls_upstream_failures +
	    st.connect_failures - u->dot_seen.connect_failures);
	counter_set(&c->upstream_bad_answers, c->upstream_bad_answers +
	    st.bad_answers - u->dot_seen.bad_answers);
	u->dot_seen = st;
}
#endif

/* The set's upstream-tls servers, after its plain ones; 0 or -1. */
static int
upstream_add_tls(struct upstream_set *set, const struct config *conf)
{
#ifdef HAVE_TLS
	char buf[64];

	for (int i = 0; i < conf->nupstream_tls; i++) {
		struct upstream *u = &set->ups[set->n];
		u->set = set;
		u->addr = conf->upstream_tls[i];
		snprintf(u->name, sizeof(u->name), "%s (TLS)",
		    addr_str(&u->addr, buf, sizeof(buf)));
		if (upstream_dot(u, conf, i) != 0)
			return -1;
		set->n++;
		if (set->owner->log_changes)
			log_info("forwarding to %s over TLS, certificate "
			    "name %s", buf, conf->upstream_tls_name[i]);
	}
#else
	(void)set;
	(void)conf;
#endif
	return 0;
}

/* Makes conf's upstreams active; 0, or -1 with the old ones kept. */
int
upstreams_configure(struct upstreams *ups, const struct config *conf)
{
	struct upstream_set *set;

	if (ups->active != NULL &&
	    config_same_upstreams(&ups->active->conf, conf))
		return 0;
	if ((set = calloc(1, sizeof(*set))) == NULL) {
		log_warn("upstream_configure");
		return -1;
	}
	set->owner = ups;
	set->conf = *conf;
	config_hold(&set->conf);
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
		if (ups->log_changes)
			log_info("forwarding to %s", u->name);
	}
	if (upstream_add_tls(set, conf) != 0) {
		upstream_set_free(set);
		return -1;
	}
	if (ups->active != NULL)
		TAILQ_INSERT_TAIL(&ups->retired, ups->active, entry);
	ups->active = set;
	ups->port.count = set->n;
	return 0;
}

static void
upstream_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct attempt *a = arg;
	struct upstream *u = a->upstream;
	struct upstreams *ups = u->set->owner;
	void *cookie = a->cookie;
	enum upstream_status st = status == ARES_SUCCESS ? UPSTREAM_ANSWER :
	    status == ARES_EDESTRUCTION || status == ARES_ECANCELLED ?
	    UPSTREAM_GONE : UPSTREAM_FAILED;

	(void)timeouts;
	upstream_release_id(u, a->id);
	u->inflight--;
	u->set->inflight--;
	if (status == ARES_SUCCESS) {
		u->answered++;
		u->set->preferred = (unsigned)(u - u->set->ups);
	} else {
		u->failed++;
		log_debug("%s: %s", u->name, ares_strerror(status));
	}
	free(a);
	if (cookie != NULL)
		ups->port.answer(cookie, st, abuf,
		    abuf != NULL && alen > 0 ? (size_t)alen : 0,
		    st == UPSTREAM_ANSWER ? "unusable answer" :
		    ares_strerror(status));
}

#ifdef HAVE_TLS
/* A TLS upstream's outcome of attempt a (dot-upstream.h's callback). */
static void
upstream_dot_answer(void *arg, int status, const uint8_t *answer,
    size_t len)
{
	struct attempt *a = arg;
	struct upstream *u = a->upstream;
	struct upstreams *ups = u->set->owner;
	void *cookie = a->cookie;
	enum upstream_status st = status == 0 ? UPSTREAM_ANSWER :
	    status == -ECANCELED ? UPSTREAM_GONE :
	    status == -EPERM ? UPSTREAM_REJECTED : UPSTREAM_FAILED;
	const char *why = status == 0 ? "unusable answer" :
	    status == -EPERM ? dot_upstream_last_error(u->dot) :
	    mio_strerror(status);

	u->inflight--;
	u->set->inflight--;
	if (status == 0) {
		u->answered++;
		u->set->preferred = (unsigned)(u - u->set->ups);
	} else {
		u->failed++;
		log_debug("%s: %s", u->name, why);
	}
	free(a);
	if (cookie != NULL)
		ups->port.answer(cookie, st, answer, len, why);
}

/* Queues attempt a's query at TLS upstream u; false if it cannot. */
static bool
upstream_dot_send(struct upstream *u, struct attempt *a, const uint8_t *msg,
    size_t len)
{
	uint64_t now = upstream_now_ms();

	return dot_upstream_send(u->dot, msg, len,
	    now + u->set->conf.timeout_ms + UPSTREAM_GRACE_MS,
	    upstream_dot_answer, a,
	    NULL, now) == 0;
}
#endif

/* The port's send (upstream.h): the first attempt goes to the upstream
 * that answered last, later ones to the next. */
static bool
upstream_send(struct upstream_port *port, unsigned attempt, uint8_t *msg,
    size_t len, void *cookie, struct attempt **slot)
{
	struct upstreams *ups = (struct upstreams *)port;
	struct upstream_set *active = ups->active;
	struct upstream *u;
	struct attempt *a;

	if (active == NULL || active->n == 0)
		return false;
	u = &active->ups[(active->preferred + attempt) % active->n];
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return false;
#ifdef HAVE_TLS
	/* The TLS client puts IDs of its own on the wire. */
	if (u->dot != NULL) {
		a->cookie = cookie;
		a->upstream = u;
		if (!upstream_dot_send(u, a, msg, len)) {
			free(a);
			return false;
		}
		u->inflight++;
		u->set->inflight++;
		u->sent++;
		COUNT(ups->counters, upstream_sent);
		*slot = a;
		return true;
	}
#endif
	if (!upstream_take_id(u, &a->id)) {
		free(a);
		return false;
	}
	a->cookie = cookie;
	a->upstream = u;
	msg[0] = (uint8_t)(a->id >> 8);
	msg[1] = (uint8_t)a->id;
	u->inflight++;
	u->set->inflight++;
	u->sent++;
	COUNT(ups->counters, upstream_sent);
	*slot = a;
	mio_ares_send(u->ares, msg, (int)len, upstream_answer, a);
	return true;
}

static void
upstream_forget(struct upstream_port *port, struct attempt *a)
{
	(void)port;
	a->cookie = NULL;
}

static const struct upstream_port_ops upstream_port_ops = {
	.send = upstream_send,
	.forget = upstream_forget,
};

static bool
upstream_set_event(struct upstream_set *set, const mio_event *ev)
{
	for (unsigned i = 0; i < set->n; i++) {
		struct upstream *u = &set->ups[i];
#ifdef HAVE_TLS
		if (u->dot != NULL) {
			if (!dot_upstream_event(u->dot, ev, upstream_now_ms()))
				continue;
			upstream_dot_count(u);
			return true;
		}
#endif
		if (mio_ares_process_event(u->ares, ev))
			return true;
	}
	return false;
}

/* Hands ev to the channel it belongs to; false if it is not c-ares'. */
bool
upstreams_event(struct upstreams *ups, const mio_event *ev)
{
	struct upstream_set *set;

	if (ups->active != NULL && upstream_set_event(ups->active, ev))
		return true;
	TAILQ_FOREACH(set, &ups->retired, entry) {
		if (upstream_set_event(set, ev))
			return true;
	}
	return false;
}

#ifdef HAVE_TLS
/* Folds a TLS upstream's next deadline into t, as mio_ares_timeout()
 * does c-ares'. Both clocks are whole milliseconds read down, so a wait
 * of exactly next - now could end just before the deadline and spin the
 * loop until the millisecond turns: one more millisecond makes the wake-up
 * never early. */
static const struct timespec *
upstream_dot_timeout(struct upstream *u, const struct timespec *t,
    struct timespec *buf)
{
	uint64_t next = dot_upstream_next_ms(u->dot), now = upstream_now_ms();
	uint64_t ms = next > now ? next - now + 1 : 0;

	if (next == UINT64_MAX)
		return t;
	if (t != NULL && ((uint64_t)t->tv_sec * 1000 +
	    (uint64_t)t->tv_nsec / 1000000) <= ms)
		return t;
	buf->tv_sec = (time_t)(ms / 1000);
	buf->tv_nsec = (long)(ms % 1000) * 1000000;
	return buf;
}
#endif

/* The TLS upstreams' deadlines; c-ares' are timers of the worker's set. */
static const struct timespec *
upstream_set_timeout(struct upstream_set *set, const struct timespec *t,
    struct timespec *buf)
{
#ifdef HAVE_TLS
	for (unsigned i = 0; i < set->n; i++) {
		/* Even with nothing in flight: the idle close is due. */
		if (set->ups[i].dot != NULL)
			t = upstream_dot_timeout(&set->ups[i], t, buf);
	}
#else
	(void)set;
	(void)buf;
#endif
	return t;
}

/* Folds every TLS upstream's next deadline into max (buf may end up
 * used). */
const struct timespec *
upstreams_timeout(struct upstreams *ups, const struct timespec *max,
    struct timespec *buf)
{
	struct upstream_set *set;

	if (ups->active != NULL)
		max = upstream_set_timeout(ups->active, max, buf);
	TAILQ_FOREACH(set, &ups->retired, entry)
		max = upstream_set_timeout(set, max, buf);
	return max;
}

/* Adds what mio-ares counted since last time to the worker's counters. */
static void
upstream_count_ports(struct upstream *u, struct counters *c)
{
	struct mio_ares_port_stats now;

	mio_ares_get_port_stats(u->ares, &now);
	counter_set(&c->upstream_ports, c->upstream_ports +
	    (now.sockets - u->ports.sockets));
	counter_set(&c->upstream_stray, c->upstream_stray +
	    (now.stray - u->ports.stray));
	u->ports = now;
}

/* After every poll: the TLS upstreams' deadlines, and what the c-ares
 * channels counted or met (their timeouts are timers of their own). */
static void
upstream_set_process_timeouts(struct upstream_set *set)
{
	for (unsigned i = 0; i < set->n; i++) {
		int error;
#ifdef HAVE_TLS
		if (set->ups[i].dot != NULL) {
			dot_upstream_process(set->ups[i].dot, upstream_now_ms());
			upstream_dot_count(&set->ups[i]);
			continue;
		}
#endif
		upstream_count_ports(&set->ups[i], set->owner->counters);
		if ((error = mio_ares_take_error(set->ups[i].ares)) != 0)
			log_warnx("%s: a c-ares socket or timer: %s",
			    set->ups[i].name, mio_strerror(error));
	}
}

void
upstreams_process_timeouts(struct upstreams *ups)
{
	struct upstream_set *set;

	if (ups->active != NULL)
		upstream_set_process_timeouts(ups->active);
	TAILQ_FOREACH(set, &ups->retired, entry)
		upstream_set_process_timeouts(set);
}

/* Destroys retired sets whose last query is over; outside callbacks. */
void
upstreams_reap(struct upstreams *ups)
{
	struct upstream_set *set, *next;

	TAILQ_FOREACH_SAFE(set, &ups->retired, entry, next) {
		if (set->inflight > 0)
			continue;
		TAILQ_REMOVE(&ups->retired, set, entry);
		upstream_set_free(set);
	}
}

/* At exit. Queries still in c-ares end with ARES_EDESTRUCTION, and their
 * attempts are freed by upstream_answer(). */
void
upstreams_free(struct upstreams *ups)
{
	struct upstream_set *set;

	if (ups == NULL)
		return;
	while ((set = TAILQ_FIRST(&ups->retired)) != NULL) {
		TAILQ_REMOVE(&ups->retired, set, entry);
		upstream_set_free(set);
	}
	if (ups->active != NULL)
		upstream_set_free(ups->active);
	free(ups);
}

void
upstreams_log_counters(struct upstreams *ups, unsigned nworkers)
{
	/* Per worker: another worker's channels are not ours to read. */
	const char *whose = nworkers > 1 ? " (worker 0's share)" : "";
	const struct upstream_set *active = ups->active;

	for (unsigned i = 0; active != NULL && i < active->n; i++) {
		const struct upstream *u = &active->ups[i];
		log_info("upstream %s%s: sent %llu, answered %llu, failed %llu, "
		    "in flight %u", u->name, whose, (unsigned long long)u->sent,
		    (unsigned long long)u->answered,
		    (unsigned long long)u->failed, u->inflight);
	}
}
