/*
 * stats.h - the counters: one struct counters per worker, written only by
 * that worker through the pointer it was given (w->counters, r->counters),
 * and added up by stats.c for SIGUSR1, the exit and stats.miodnsd.
 *
 * A counter is written with a relaxed atomic store, which costs what a
 * plain increment costs and lets stats_total() read the counters of the
 * other workers while they run. All are sums, so that the total is the
 * sum of the workers'; the two gauges (queries in flight, open
 * connections) add up the same way, and inflight_peak, the one exception,
 * is the largest of any one worker.
 */
#ifndef MIODNSD_STATS_H
#define MIODNSD_STATS_H

#include <stddef.h>
#include <stdint.h>

struct counters {
	uint64_t udp_queries, tcp_queries;
	uint64_t inflight_peak;
	uint64_t answers, truncated;	/* replies sent; those with TC */
	uint64_t authoritative;		/* answered from a local zone */
	uint64_t chaos;			/* version.bind, stats.miodnsd... */
	uint64_t cache_hits, cache_misses;
	uint64_t merged;		/* joined an identical query */
	uint64_t nxdomain, servfail, refused;	/* replies by RCODE */
	uint64_t formerr, notimp, dropped;	/* queries we rejected */
	uint64_t refused_busy;		/* max-inflight reached */
	uint64_t jostled;		/* oldest pushed out at max-inflight */
	uint64_t timeouts;		/* SERVFAIL at the query's deadline */
	uint64_t servfail_upstream;	/* SERVFAIL: every attempt failed */
	uint64_t upstream_sent, upstream_retries, upstream_timeouts;
	uint64_t upstream_bad_answers;
	uint64_t tcp_accepted, tcp_refused, tcp_idle_closed;
	uint64_t udp_send_failed;
	/* DNS over TLS: the listeners' handshakes, and the upstreams'. */
	uint64_t tls_handshakes, tls_resumptions, tls_failures;
	uint64_t tls_upstream_handshakes, tls_upstream_resumptions;
	uint64_t tls_upstream_failures;
	uint64_t access_refused, access_denied;	/* access-control */
	uint64_t tsig_refused;		/* TSIG-signed: NOTAUTH, BADKEY */
	uint64_t servfail_waiters;	/* past max-waiters: not sent again */
	uint64_t upstream_ports;	/* UDP upstream queries, a port each */
	uint64_t upstream_stray;	/* datagrams with a wrong ID, dropped */
	uint64_t rrl_truncated, rrl_dropped;	/* ratelimit on UDP */
	uint64_t tcp_evicted;		/* idle, closed to admit a new one */
	uint64_t tcp_shed;		/* accepted and closed: no descriptors */
	uint64_t upstream_caps_mismatch;	/* 0x20: case not echoed */
	uint64_t inflight, tcp_open;	/* gauges: now, not since start */
};

static inline void
counter_set(uint64_t *c, uint64_t value)
{
	__atomic_store_n(c, value, __ATOMIC_RELAXED);
}

/* Only the owning worker writes, so the read needs no atomicity. */
static inline void
counter_inc(uint64_t *c)
{
	counter_set(c, *c + 1);
}

/* COUNT(r->counters, cache_hits): one more, through that pointer. */
#define COUNT(counters, field) counter_inc(&(counters)->field)

/* Room for every counter as one "name=value" string. */
#define STATS_MAX 56
#define STATS_STRING_LEN 48
struct stats_text {
	char buf[STATS_MAX][STATS_STRING_LEN];
	const char *strings[STATS_MAX];
	size_t count;
};

void counters_add(struct counters *total, const struct counters *part);
void counters_count_reply(struct counters *c, const uint8_t *msg,
    size_t len);
/* Worker id's counters join the total while it runs, and stay in it. */
void stats_worker_start(unsigned id, struct counters *c);
void stats_worker_stop(unsigned id, struct counters *c);
void stats_total(struct counters *total);
void stats_log_workers(void);
void stats_start(void);
void stats_text(const struct counters *c, struct stats_text *text);
void stats_log(const struct counters *c);

#endif /* MIODNSD_STATS_H */
