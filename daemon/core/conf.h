/*
 * conf.h - the configuration (file, flags, resolv.conf) and the address
 * and prefix types it is made of.
 *
 * A struct config is a plain value: main builds one from the defaults, the
 * file and the command line, and each worker keeps a copy of its own, so
 * no lock guards it. (autoconf's header is config.h, hence conf.h.)
 */
#ifndef MIODNSD_CONF_H
#define MIODNSD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct tls_ctx;

#define MIODNSD_DEFAULT_LISTEN "127.0.0.1:5353"
#define MIODNSD_RESOLV_CONF "/etc/resolv.conf"
#define MIODNSD_PIDFILE "/run/miodnsd.pid"
#define MIODNSD_MAX_LISTEN 16
#define MIODNSD_MAX_UPSTREAM 8
#define MIODNSD_MAX_ZONES 64
#define MIODNSD_MAX_ALLOW 16
#define MIODNSD_MAX_THREADS 64
/* DNS over TLS's port (RFC 7858). */
#define DOT_PORT 853
#define MIODNSD_MAX_ACCESS 64
/* UDP answers a second per /24 or /56 (ratelimit); see miodnsd(8). */
#define MIODNSD_DEFAULT_RATELIMIT 1000

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
	/* DNS over TLS: listeners, and upstreams with the name their
	 * certificate must carry (plain and TLS upstreams together at most
	 * MIODNSD_MAX_UPSTREAM); files as absolute paths. */
	struct addr listen_tls[MIODNSD_MAX_LISTEN];
	int nlisten_tls;
	char tls_cert[512], tls_key[512], tls_ca[512];
	struct addr upstream_tls[MIODNSD_MAX_UPSTREAM];
	char upstream_tls_name[MIODNSD_MAX_UPSTREAM][256];
	int nupstream_tls;
	/* Made from the files above by main.c, one of each for every worker
	 * (core/tls.h); whoever holds a copy of the configuration holds a
	 * reference (tls_ctx_ref), NULL when not needed. */
	struct tls_ctx *tls_server, *tls_client;
	/* The certificate and key files tls_server was made from (device,
	 * inode, size, modification time), so that a reload that finds them
	 * unchanged keeps it, and with it its session tickets' key. */
	char tls_server_stamp[160];
	/* access-control lines, "PREFIX ACTION", checked (core/acl.h). */
	char access_control[MIODNSD_MAX_ACCESS][64];
	int naccess;
	unsigned ratelimit;		/* UDP answers/s per prefix; 0 off */
	bool use_caps_for_id;		/* 0x20: random case upstream */
};

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
/*
 * The TLS contexts of a configuration (tls_server, tls_client): made from
 * its files by config_make_tls() (0, or -1 after logging why; on a reload
 * prev is the running configuration, whose server context is kept when
 * the certificate and key files are the same, unchanged), held by
 * every copy of the configuration that is kept (config_hold() takes a
 * reference for the copy), dropped with config_release(), which leaves
 * them NULL.
 */
int config_make_tls(struct config *conf, const struct config *prev);
void config_hold(struct config *conf);
void config_release(struct config *conf);
/* A reload that keeps the running upstreams: from's TLS upstreams, CA
 * file and client context replace to's. */
void config_keep_tls_upstreams(struct config *to, const struct config *from);
const char *addr_str(const struct addr *addr, char *buf, size_t len);
bool addr_equal(const struct addr *a, const struct addr *b);
uint16_t addr_port(const struct addr *addr);

#endif /* MIODNSD_CONF_H */
