/*
 * stats.c - the counters: adding them up, counting replies, and showing
 * them in the log (SIGUSR1, exit) and to CHAOS TXT queries for
 * stats.miodnsd.
 *
 * One table names every counter once, so the log, the TXT strings and
 * counters_add() cannot drift apart when a counter is added. A struct
 * counters holds sums only (and one maximum), so that worker threads can
 * each keep their own, unlocked, and a reader adds them up: each worker
 * lists its counters here while it runs, and folds them into a total of
 * the departed when it stops, since its struct worker dies with it.
 */
#include "config.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "conf.h"
#include "dns/dns.h"
#include "log.h"
#include "stats.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#define DNS_FLAG_TC 0x02

/* Every counter: its name in stats.miodnsd and where it lives. */
static const struct stats_field {
	const char *name;
	size_t offset;
} stats_fields[] = {
#define F(name, field) { name, offsetof(struct counters, field) }
	F("udp-queries", udp_queries),
	F("tcp-queries", tcp_queries),
	F("answers", answers),
	F("authoritative", authoritative),
	F("chaos", chaos),
	F("cache-hits", cache_hits),
	F("cache-misses", cache_misses),
	F("merged", merged),
	F("upstream-queries", upstream_sent),
	F("upstream-retries", upstream_retries),
	F("upstream-timeouts", upstream_timeouts),
	F("upstream-bad-answers", upstream_bad_answers),
	F("timeouts", timeouts),
	F("servfail", servfail),
	F("servfail-upstream", servfail_upstream),
	F("nxdomain", nxdomain),
	F("refused", refused),
	F("refused-busy", refused_busy),
	F("jostled", jostled),
	F("formerr", formerr),
	F("notimp", notimp),
	F("dropped", dropped),
	F("truncated", truncated),
	F("tcp-connections", tcp_accepted),
	F("tcp-refused", tcp_refused),
	F("tcp-idle-closed", tcp_idle_closed),
	F("udp-send-failed", udp_send_failed),
	F("tls-handshakes", tls_handshakes),
	F("tls-resumptions", tls_resumptions),
	F("tls-failures", tls_failures),
	F("tls-upstream-handshakes", tls_upstream_handshakes),
	F("tls-upstream-resumptions", tls_upstream_resumptions),
	F("tls-upstream-failures", tls_upstream_failures),
	F("access-refused", access_refused),
	F("access-denied", access_denied),
	F("tsig-refused", tsig_refused),
	F("servfail-waiters", servfail_waiters),
	F("upstream-ports", upstream_ports),
	F("upstream-stray", upstream_stray),
	F("rrl-truncated", rrl_truncated),
	F("rrl-dropped", rrl_dropped),
	F("tcp-evicted", tcp_evicted),
	F("tcp-shed", tcp_shed),
	F("upstream-caps-mismatch", upstream_caps_mismatch),
	F("inflight-peak", inflight_peak),
	F("in-flight", inflight),
	F("tcp-open", tcp_open),
#undef F
};

static uint64_t stats_started_ms;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct counters *stats_live[MIODNSD_MAX_THREADS];
static struct counters stats_departed;
/* The queries of each worker that has stopped, for the log at exit. */
static uint64_t stats_departed_queries[MIODNSD_MAX_THREADS];
/* Workers ever started: the "threads" of stats.miodnsd. */
static unsigned stats_workers;

static uint64_t *
stats_field(struct counters *c, size_t i)
{
	return (uint64_t *)(void *)((char *)c + stats_fields[i].offset);
}

/* Atomic, since c may be another worker's, counting as we read. */
static uint64_t
stats_value(const struct counters *c, size_t i)
{
	return __atomic_load_n((const uint64_t *)(const void *)
	    ((const char *)c + stats_fields[i].offset), __ATOMIC_RELAXED);
}

/* Adds part into total: sums, but the peak is the larger one. */
void
counters_add(struct counters *total, const struct counters *part)
{
	uint64_t part_peak = __atomic_load_n(&part->inflight_peak,
	    __ATOMIC_RELAXED);
	uint64_t peak = total->inflight_peak > part_peak ?
	    total->inflight_peak : part_peak;

	for (size_t i = 0; i < nitems(stats_fields); i++)
		*stats_field(total, i) += stats_value(part, i);
	total->inflight_peak = peak;
}

/* Counts one reply going out, by what its header says. */
void
counters_count_reply(struct counters *c, const uint8_t *msg, size_t len)
{
	if (len < 12)
		return;
	counter_inc(&c->answers);
	if (msg[2] & DNS_FLAG_TC)
		counter_inc(&c->truncated);
	switch (msg[3] & 0xf) {
	case DNS_RCODE_NXDOMAIN: counter_inc(&c->nxdomain); break;
	case DNS_RCODE_SERVFAIL: counter_inc(&c->servfail); break;
	case DNS_RCODE_REFUSED: counter_inc(&c->refused); break;
	default: break;
	}
}

/* A worker begins: its counters join the total. */
void
stats_worker_start(unsigned id, struct counters *c)
{
	pthread_mutex_lock(&stats_lock);
	stats_live[id] = c;
	if (id >= stats_workers)
		__atomic_store_n(&stats_workers, id + 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&stats_lock);
}

/* A worker ends: what it counted stays in the total, its gauges at the
 * values it leaves behind (zero after a clean stop). */
void
stats_worker_stop(unsigned id, struct counters *c)
{
	pthread_mutex_lock(&stats_lock);
	counters_add(&stats_departed, c);
	stats_departed_queries[id] = c->udp_queries + c->tcp_queries;
	stats_live[id] = NULL;
	pthread_mutex_unlock(&stats_lock);
}

/* The sum over every worker, running or gone. */
void
stats_total(struct counters *total)
{
	pthread_mutex_lock(&stats_lock);
	*total = stats_departed;
	for (size_t i = 0; i < nitems(stats_live); i++) {
		if (stats_live[i] != NULL)
			counters_add(total, stats_live[i]);
	}
	pthread_mutex_unlock(&stats_lock);
}

/* With several workers, how the kernel spread the queries among them
 * (running or stopped). */
void
stats_log_workers(void)
{
	char line[1024];
	size_t len = 0;

	pthread_mutex_lock(&stats_lock);
	for (unsigned i = 0; i < stats_workers && len < sizeof(line); i++) {
		const struct counters *c = stats_live[i];
		uint64_t queries = c == NULL ? stats_departed_queries[i] :
		    __atomic_load_n(&c->udp_queries, __ATOMIC_RELAXED) +
		    __atomic_load_n(&c->tcp_queries, __ATOMIC_RELAXED);
		len += (size_t)snprintf(line + len, sizeof(line) - len,
		    " %u:%llu", i, (unsigned long long)queries);
	}
	pthread_mutex_unlock(&stats_lock);
	if (len > 0)
		log_info("queries by worker:%s", line);
}

static uint64_t
stats_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
stats_start(void)
{
	stats_started_ms = stats_now_ms();
}

static void
stats_put(struct stats_text *t, const char *name, unsigned long long value)
{
	if (t->count == STATS_MAX)
		return;
	snprintf(t->buf[t->count], STATS_STRING_LEN, "%s=%llu", name, value);
	t->strings[t->count] = t->buf[t->count];
	t->count++;
}

/* The counters as "name=value" strings, one TXT string each, followed by
 * what is going on now: queries in flight, open TCP connections, uptime
 * in seconds. */
void
stats_text(const struct counters *c, struct stats_text *t)
{
	t->count = 0;
	for (size_t i = 0; i < nitems(stats_fields); i++)
		stats_put(t, stats_fields[i].name, stats_value(c, i));
	stats_put(t, "uptime", (stats_now_ms() - stats_started_ms) / 1000);
	stats_put(t, "threads", __atomic_load_n(&stats_workers,
	    __ATOMIC_RELAXED));
}

#define U(x) ((unsigned long long)(x))

void
stats_log(const struct counters *c)
{
	log_info("queries: %llu udp, %llu tcp, %llu in flight (peak %llu); "
	    "answers %llu, %llu truncated", U(c->udp_queries),
	    U(c->tcp_queries), U(c->inflight), U(c->inflight_peak),
	    U(c->answers), U(c->truncated));
	log_info("local: %llu authoritative, %llu chaos; cache: %llu hits, "
	    "%llu misses, %llu merged", U(c->authoritative), U(c->chaos),
	    U(c->cache_hits), U(c->cache_misses), U(c->merged));
	log_info("replies: nxdomain %llu, servfail %llu, refused %llu",
	    U(c->nxdomain), U(c->servfail), U(c->refused));
	log_info("errors: formerr %llu, notimp %llu, refused (busy) %llu, "
	    "jostled %llu, dropped %llu, timeouts %llu, servfail (upstream) %llu, "
	    "tsig %llu", U(c->formerr), U(c->notimp), U(c->refused_busy),
	    U(c->jostled), U(c->dropped), U(c->timeouts), U(c->servfail_upstream),
	    U(c->tsig_refused));
	log_info("upstream: sent %llu, retries %llu, timeouts %llu, "
	    "bad answers %llu; udp send failures %llu", U(c->upstream_sent),
	    U(c->upstream_retries), U(c->upstream_timeouts),
	    U(c->upstream_bad_answers), U(c->udp_send_failed));
	log_info("tcp: %llu open, %llu accepted, %llu refused, %llu idle-closed, "
	    "%llu evicted, %llu shed", U(c->tcp_open), U(c->tcp_accepted),
	    U(c->tcp_refused), U(c->tcp_idle_closed), U(c->tcp_evicted),
	    U(c->tcp_shed));
	log_info("trust: access refused %llu, denied %llu; ratelimit "
	    "truncated %llu, dropped %llu; servfail (max-waiters) %llu; "
	    "upstream ports %llu, stray %llu", U(c->access_refused),
	    U(c->access_denied), U(c->rrl_truncated), U(c->rrl_dropped),
	    U(c->servfail_waiters), U(c->upstream_ports),
	    U(c->upstream_stray));
	if (c->tls_handshakes + c->tls_failures + c->tls_upstream_handshakes +
	    c->tls_upstream_failures > 0)
		log_info("tls: %llu handshakes (%llu resumed), %llu failed; "
		    "upstream: %llu handshakes (%llu resumed), %llu failed",
		    U(c->tls_handshakes), U(c->tls_resumptions),
		    U(c->tls_failures), U(c->tls_upstream_handshakes),
		    U(c->tls_upstream_resumptions),
		    U(c->tls_upstream_failures));
}
