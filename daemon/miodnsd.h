/*
 * miodnsd.h - the asynchronous DNS forwarder: shared types and the
 * prototypes of every file, grouped by the file that defines them.
 *
 * One process, N worker threads (-t), one libmio poll per worker, as mio
 * would have it. Each worker has its own listening sockets (SO_REUSEPORT
 * when there are several, so the kernel spreads clients over them), its
 * own connections, timers, queries, in-flight table and c-ares channels;
 * that state lives in WORKER_LOCAL variables of the file that owns it, so
 * the code that handles a query never takes a lock. What the workers
 * share is read-only or thread-safe: the configuration and the zones
 * (handed to each worker by worker.c on start and on reload), the answer
 * cache (sharded, locked per shard), and the counters (each worker writes
 * its own; stats.c adds them up). The main thread is worker 0, and also
 * handles the signals.
 *
 * Everything registered with a worker's poll uses the address of a struct
 * handle as its token (listeners, connections, the waker, the signal
 * pipe); c-ares sockets belong to the mio-ares adapters of upstream.c,
 * which recognise their own tokens.
 *
 * The life of a query: listener.c (UDP) or conn.c (TCP) hands the bytes to
 * query.c, which checks them with dns.c, answers errors itself, lets
 * local.c answer what is ours (the zones of zone.c and zone-answer.c, the
 * CHAOS class), answers from the cache of cache.c what it can, and sends
 * the rest upstream through upstream.c, identical queries in flight merged
 * into one (inflight.c); the answer, stored in the cache if it may be, a
 * failure or the query's deadline (timer.c) ends it, and the reply goes
 * back the way the query came. stats.c keeps the counters.
 */
#ifndef MIODNSD_H
#define MIODNSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "mio.h"

/* glibc's <sys/queue.h> lacks the _SAFE iterators of the BSDs'. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, next)                      \
	for ((var) = TAILQ_FIRST(head);                                  \
	    (var) != NULL && ((next) = TAILQ_NEXT(var, field), 1);       \
	    (var) = (next))
#endif

#define MIODNSD_DEFAULT_LISTEN "127.0.0.1:5353"
#define MIODNSD_RESOLV_CONF "/etc/resolv.conf"
#define MIODNSD_PIDFILE "/run/miodnsd.pid"
#define MIODNSD_MAX_LISTEN 16
#define MIODNSD_MAX_UPSTREAM 8
#define MIODNSD_MAX_ZONES 64
#define MIODNSD_MAX_ALLOW 16
#define MIODNSD_MAX_THREADS 64
#define DNS_PORT 53
#define DNS_MAX_MESSAGE 65535
/* The flag-day EDNS size: used upstream and advertised to clients. */
#define DNS_EDNS_SIZE 1232
/* Our OPT record: root owner, type, size, extended RCODE and flags, no
 * options. */
#define DNS_OPT_LEN 11

/* One copy per worker thread: see the top of this file. */
#define WORKER_LOCAL _Thread_local

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* An address block: who may read the statistics. */
struct prefix {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned bits;
};

/* A zone to serve: its origin and master file (an absolute path). */
struct config_zone {
	char origin[256];
	char path[512];
};

/* Which built-in zones are served besides the configured ones. */
enum builtin_zones {
	BUILTIN_AUTO,		/* localhost., and example.test. by default */
	BUILTIN_ALL,		/* both */
	BUILTIN_LOCALHOST,	/* localhost. only */
	BUILTIN_NONE,
};

/* Everything the configuration file and the flags can set. */
struct config {
	struct addr listen[MIODNSD_MAX_LISTEN];
	int nlisten;
	struct addr upstream[MIODNSD_MAX_UPSTREAM];
	int nupstream;
	bool upstream_from_resolv;	/* no upstream was configured */
	char resolv_conf[256];
	unsigned timeout_ms;		/* a query's deadline: SERVFAIL after */
	unsigned upstream_timeout_ms;	/* one attempt at one upstream */
	unsigned max_inflight;		/* queries in flight, else REFUSED */
	unsigned max_tcp_clients;
	unsigned tcp_idle_ms;
	unsigned tcp_pipeline;		/* queries in flight per connection */
	unsigned edns_size;
	unsigned cache_entries;		/* answers cached; 0: no cache */
	unsigned cache_bytes;
	unsigned min_ttl, max_ttl;	/* clamp on cached TTLs */
	unsigned max_negative_ttl;	/* cap on cached negative TTLs */
	unsigned max_waiters;		/* clients merged into one query */
	unsigned threads;		/* worker threads, each with a poll */
	char user[64];
	char pidfile[256];
	char portfile[256];
	struct config_zone zones[MIODNSD_MAX_ZONES];
	int nzones;
	enum builtin_zones builtin_zones;
	struct prefix allow_stats[MIODNSD_MAX_ALLOW];
	int nallow_stats;
	bool allow_stats_set;		/* an allow-stats line, even "none" */
};

/* The first member of everything registered with the poll by its address. */
enum handle_kind {
	HANDLE_UDP,
	HANDLE_TCP_LISTEN,
	HANDLE_CONN,
	HANDLE_SIGNALS,
	HANDLE_WAKER,
};

struct handle {
	enum handle_kind kind;
};

/* A deadline on the sorted list of timer.c. */
struct timer {
	TAILQ_ENTRY(timer) entry;
	uint64_t when_ms;
	bool armed;
	void (*fire)(struct timer *timer);
};

struct listener;
struct conn;
struct query;
struct fetch;
struct attempt;

/* Where an answer goes: a UDP peer of a listener, or a TCP connection. */
struct client {
	struct listener *listener;
	struct conn *conn;
	struct addr addr;
};

/*
 * Counters logged on SIGUSR1 and at exit and served to stats.miodnsd.
 * Each worker owns one (the WORKER_LOCAL "counters" of stats.c) and is the
 * only thread that writes it, with COUNT() and counter_set(): a relaxed
 * atomic store, which costs what a plain increment costs and lets
 * stats_total() read the counters of the other workers while they run.
 * All are sums, so that the total is the sum of the workers'; the two
 * gauges (queries in flight, open connections) add up the same way, and
 * inflight_peak, the one exception, is the largest of any one worker.
 */
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
	uint64_t timeouts;		/* SERVFAIL at the query's deadline */
	uint64_t servfail_upstream;	/* SERVFAIL: every attempt failed */
	uint64_t upstream_sent, upstream_retries, upstream_timeouts;
	uint64_t upstream_bad_answers;
	uint64_t tcp_accepted, tcp_refused, tcp_idle_closed;
	uint64_t udp_send_failed;
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

#define COUNT(field) counter_inc(&counters.field)

/* What dns_parse_query() thinks of a message from a client. */
enum dns_verdict {
	DNS_QUERY_OK,
	DNS_QUERY_DROP,		/* no usable header, or not a query */
	DNS_QUERY_FORMERR,
	DNS_QUERY_NOTIMP,
	DNS_QUERY_BADVERS,
};

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16,
};

/*
 * A client's query as far as forwarding needs it. The question points into
 * the message it was parsed from; query.c copies it.
 */
struct dns_query {
	uint16_t id;
	uint8_t flags1, flags2;		/* header bytes 2 and 3 */
	const uint8_t *question;	/* name, type, class, or NULL */
	size_t question_len;
	uint16_t qtype, qclass;
	bool edns;
	uint16_t edns_size;
	bool edns_do;
};

/* How to dress a reply for one client (dns_build_*). */
struct dns_reply {
	uint16_t id;
	uint8_t flags1, flags2;		/* the client's header bytes 2 and 3 */
	const uint8_t *question;
	size_t question_len;
	bool edns;			/* add our OPT record */
	bool edns_do;
	uint16_t edns_size;		/* advertised in our OPT */
	size_t limit;			/* the largest reply the client takes */
};

/* ---- main.c -------------------------------------------------------------- */
void main_request_reload(void);
void main_log_counters(void);

/* ---- worker.c ------------------------------------------------------------ */
struct zone_set;
struct cache;
int worker_init_main(void);
void worker_publish(const struct config *conf, struct zone_set *zones,
    struct cache *cache);
int worker_apply(void);
bool worker_wait_applied(unsigned timeout_ms);
int workers_spawn(unsigned n);
void workers_go(void);
void worker_loop(void (*between)(void));
void workers_join(void);
void worker_fini(void);
void workers_free(void);
void worker_request_shutdown(int sig);
const mio_registry *worker_registry(void);
const struct config *worker_config(void);
bool worker_shutting_down(void);
unsigned worker_id(void);
unsigned worker_count(void);

/* ---- config.c ------------------------------------------------------------ */
void config_defaults(struct config *conf);
int config_load_file(struct config *conf, const char *path);
int config_set(struct config *conf, const char *key, const char *value);
int config_parse_addr(const char *text, uint16_t default_port,
    struct addr *out);
int config_parse_uint(const char *text, unsigned min, unsigned max,
    unsigned *out);
int config_parse_prefix(const char *text, struct prefix *out);
bool config_prefix_match(const struct prefix *list, int n,
    const struct addr *addr);
int config_absolute_path(const char *path, const char *base, char *out,
    size_t len);
int config_finish(struct config *conf);
bool config_same_upstreams(const struct config *a, const struct config *b);
const char *addr_str(const struct addr *addr, char *buf, size_t len);
bool addr_equal(const struct addr *a, const struct addr *b);
uint16_t addr_port(const struct addr *addr);

/* ---- local.c ----------------------------------------------------------- */
int local_zones_load(const struct config *conf, struct zone_set **out);
void local_zones_use(struct zone_set *set);
void local_zones_free(void);
size_t local_answer(const struct dns_query *q, const struct dns_reply *r,
    const struct addr *from, uint8_t *out, size_t cap);

/* ---- listener.c ---------------------------------------------------------- */
int listener_configure(const struct config *conf, const struct addr *bound);
void listener_bound(const struct config *conf, struct addr *bound);
int listener_worker_init(void);
void listener_event(struct handle *handle, const mio_event *ev);
void listener_send_udp(struct listener *listener, const struct addr *to,
    const uint8_t *msg, size_t len);
bool listener_run_ready(void);
void listener_stop_reading(void);
void listener_close_all(void);
int listener_write_portfile(const char *path);

/* ---- udp-batch.c --------------------------------------------------------- */
/* Datagrams per recvmmsg() and per sendmmsg(). */
#define UDP_BATCH 32
struct udp_in {
	const uint8_t *msg;
	size_t len;
	struct addr from;
};
int udp_batch_init(void);
void udp_batch_fini(void);
int udp_recv(int fd, struct udp_in **in);
void udp_send(int fd, const struct addr *to, const uint8_t *msg, size_t len);
void udp_flush(void);
void udp_flush_fd(int fd);

/* ---- conn.c -------------------------------------------------------------- */
void conn_worker_init(void);
void conn_accept_all(int listen_fd, bool *more);
void conn_query_started(struct conn *conn);
void conn_event(struct handle *handle, const mio_event *ev);
void conn_send(struct conn *conn, const uint8_t *msg, size_t len);
void conn_query_done(struct conn *conn);
void conn_run_deferred(void);
void conn_shutdown(void);
void conn_close_all(void);
size_t conn_count(void);
bool conn_writes_pending(void);

/* ---- query.c ------------------------------------------------------------- */
void query_receive(const uint8_t *msg, size_t len, const struct client *from);
void query_worker_init(void);
int query_cache_configure(const struct config *conf, bool upstreams_changed);
struct cache *query_shared_cache(void);
void query_cache_fini(void);
int query_configure(const struct config *conf, struct cache *cache);
void query_fini(void);
void query_log_counters(void);
void fetch_upstream_done(struct fetch *f, int status, const uint8_t *abuf,
    size_t alen);
void fetch_link_attempt(struct fetch *f, struct attempt *attempt);
void query_detach_conn(struct conn *conn);
void query_detach_listener(struct listener *listener);
size_t query_count(void);
void query_fail_all(void);

/* ---- upstream.c ---------------------------------------------------------- */
void upstream_worker_init(void);
int upstream_configure(const struct config *conf);
bool upstream_event(const mio_event *ev);
const struct timespec *upstream_timeout(const struct timespec *max,
    struct timespec *buf);
void upstream_process_timeouts(void);
bool upstream_send(struct fetch *f, unsigned attempt, uint8_t *msg,
    size_t len);
void upstream_forget(struct attempt *attempt);
unsigned upstream_count(void);
void upstream_reap(void);
void upstream_free_all(void);
void upstream_log_counters(void);

/* ---- dns.c --------------------------------------------------------------- */
enum dns_verdict dns_parse_query(const uint8_t *msg, size_t len,
    struct dns_query *q);
size_t dns_build_upstream(const struct dns_query *q, uint16_t edns_size,
    uint8_t *out, size_t cap);
size_t dns_reply_begin(const struct dns_reply *r, uint8_t *out, size_t cap);
size_t dns_reply_end(const struct dns_reply *r, uint8_t *out, size_t len,
    size_t cap);
size_t dns_build_error(const struct dns_reply *r, int rcode, uint8_t *out,
    size_t cap);
size_t dns_dress_hit(const struct dns_reply *r, uint8_t *msg, size_t len);
int dns_build_answer(const struct dns_reply *r, const uint8_t *answer,
    size_t alen, uint8_t *out, size_t cap, size_t *outlen, bool *truncated);

/* ---- signals.c ----------------------------------------------------------- */
int signals_init(const mio_registry *registry);
void signals_event(void);
void signals_fini(const mio_registry *registry);
struct handle *signals_handle(void);

/* ---- stats.c ----------------------------------------------------------- */
/* Room for every counter as one "name=value" string. */
#define STATS_MAX 40
#define STATS_STRING_LEN 48
struct stats_text {
	char buf[STATS_MAX][STATS_STRING_LEN];
	const char *strings[STATS_MAX];
	size_t count;
};
extern WORKER_LOCAL struct counters counters;
void counters_add(struct counters *total, const struct counters *part);
void stats_worker_start(unsigned id);
void stats_worker_stop(unsigned id);
void stats_total(struct counters *total);
void stats_log_workers(void);
void counters_count_reply(struct counters *c, const uint8_t *msg,
    size_t len);
void stats_start(void);
void stats_text(const struct counters *c, struct stats_text *text);
void stats_log(const struct counters *c);

/* ---- timer.c ------------------------------------------------------------- */
void timer_worker_init(void);
uint64_t timer_now(void);
void timer_update(void);
void timer_arm(struct timer *timer, uint64_t when_ms);
void timer_disarm(struct timer *timer);
long timer_next_ms(void);
void timer_run(void);

#endif /* MIODNSD_H */
