/*
 * conf.c - the configuration file, addresses, and resolv.conf.
 *
 * The file is a list of "keyword value" lines; '#' starts a comment.
 * miodnsd(8) lists the keywords. Command-line flags are applied on top of
 * the file by main.c, and config_finish() fills in what is still missing:
 * the default listening address, and the system's resolvers when no
 * upstream was given. A resolv.conf server that is one of our own
 * listening addresses is skipped, since forwarding to ourselves would loop.
 * Zone files named by a relative path are found from the directory of the
 * configuration file that names them (from the working directory at start
 * for -z), and kept as absolute paths, since a daemon reloads from "/".
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "conf.h"
#include "dns/dns.h"
#include "log.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

void
config_defaults(struct config *conf)
{
	memset(conf, 0, sizeof(*conf));
	snprintf(conf->resolv_conf, sizeof(conf->resolv_conf), "%s",
	    MIODNSD_RESOLV_CONF);
	conf->timeout_ms = 3000;
	conf->upstream_timeout_ms = 1000;
	conf->max_inflight = 2048;
	conf->max_tcp_clients = 64;
	conf->tcp_idle_ms = 10000;
	conf->tcp_pipeline = 32;
	conf->edns_size = DNS_EDNS_SIZE;
	conf->cache_entries = 10000;
	conf->cache_bytes = 8u << 20;
	conf->min_ttl = 0;
	conf->max_ttl = 86400;
	conf->max_negative_ttl = 3600;
	conf->max_waiters = 64;
	conf->ratelimit = MIODNSD_DEFAULT_RATELIMIT;
	conf->threads = 1;
}

static const struct sockaddr_in6 *
addr_in6(const struct addr *addr)
{
	return (const struct sockaddr_in6 *)(const void *)&addr->ss;
}

static const struct sockaddr_in *
addr_in(const struct addr *addr)
{
	return (const struct sockaddr_in *)(const void *)&addr->ss;
}

uint16_t
addr_port(const struct addr *addr)
{
	if (addr->ss.ss_family == AF_INET6)
		return ntohs(addr_in6(addr)->sin6_port);
	return ntohs(addr_in(addr)->sin_port);
}

/* "192.0.2.1:53" or "[2001:db8::1]:53". */
const char *
addr_str(const struct addr *addr, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (addr->ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &addr_in6(addr)->sin6_addr, host,
		    sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, addr_port(addr));
	} else {
		inet_ntop(AF_INET, &addr_in(addr)->sin_addr, host,
		    sizeof(host));
		snprintf(buf, len, "%s:%u", host, addr_port(addr));
	}
	return buf;
}

bool
addr_equal(const struct addr *a, const struct addr *b)
{
	if (a->ss.ss_family != b->ss.ss_family || addr_port(a) != addr_port(b))
		return false;
	if (a->ss.ss_family == AF_INET6)
		return memcmp(&addr_in6(a)->sin6_addr, &addr_in6(b)->sin6_addr,
		    sizeof(struct in6_addr)) == 0;
	return addr_in(a)->sin_addr.s_addr == addr_in(b)->sin_addr.s_addr;
}

static bool
addr_set(const char *host, int family, uint16_t port, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return false;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		out->len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return false;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		out->len = sizeof(*sin);
	}
	return true;
}

/*
 * Parses "ADDR", "ADDR:PORT", "[V6ADDR]" or "[V6ADDR]:PORT" (a bare IPv6
 * address has no port). Numeric addresses only: a DNS forwarder cannot ask
 * DNS where its upstream is. Returns 0 or -EINVAL.
 */
int
config_parse_addr(const char *text, uint16_t default_port, struct addr *out)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = NULL, *colon = strchr(text, ':');
	unsigned value = default_port;
	int family = AF_INET;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || (size_t)(close - text) > sizeof(host) ||
		    (close[1] != '\0' && close[1] != ':'))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(close - text - 1),
		    text + 1);
		port = close[1] == ':' ? close + 2 : NULL;
		family = AF_INET6;
	} else if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		snprintf(host, sizeof(host), "%s", text);
		family = AF_INET6;
	} else {
		if (strlen(text) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s",
		    colon ? (int)(colon - text) : (int)strlen(text), text);
		port = colon ? colon + 1 : NULL;
	}
	if (port != NULL && config_parse_uint(port, 0, 65535, &value) != 0)
		return -EINVAL;
	return addr_set(host, family, (uint16_t)value, out) ? 0 : -EINVAL;
}

int
config_parse_uint(const char *text, unsigned min, unsigned max,
    unsigned *out)
{
	char *end;
	unsigned long value;

	if (!isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || value < min || value > max)
		return -EINVAL;
	*out = (unsigned)value;
	return 0;
}

/*
 * Parses "ADDR" or "ADDR/BITS", IPv4 or IPv6 (no brackets). Returns 0 or
 * -EINVAL.
 */
int
config_parse_prefix(const char *text, struct prefix *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t hostlen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned bits;

	if (hostlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		bits = 128;
	} else {
		return -EINVAL;
	}
	if (slash != NULL && config_parse_uint(slash + 1, 0, bits, &bits) != 0)
		return -EINVAL;
	out->bits = bits;
	return 0;
}

static bool
config_prefix_contains(const struct prefix *p, int family,
    const uint8_t *addr)
{
	unsigned full = p->bits / 8, rest = p->bits % 8;

	if (p->family != family || memcmp(p->addr, addr, full) != 0)
		return false;
	return rest == 0 ||
	    ((p->addr[full] ^ addr[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* Whether addr is in one of the n prefixes of list. An IPv4 address
 * mapped into IPv6 (::ffff:a.b.c.d) counts as the IPv4 address. */
bool
config_prefix_match(const struct prefix *list, int n, const struct addr *addr)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *bytes;
	int family = addr->ss.ss_family;

	if (family == AF_INET6) {
		bytes = addr_in6(addr)->sin6_addr.s6_addr;
		if (memcmp(bytes, mapped, sizeof(mapped)) == 0) {
			family = AF_INET;
			bytes += sizeof(mapped);
		}
	} else if (family == AF_INET) {
		bytes = (const uint8_t *)&addr_in(addr)->sin_addr.s_addr;
	} else {
		return false;
	}
	for (int i = 0; i < n; i++) {
		if (config_prefix_contains(&list[i], family, bytes))
			return true;
	}
	return false;
}

/*
 * Makes path absolute: relative to base (a directory), or to the working
 * directory when base is NULL. Returns 0 or -1 after logging why.
 */
int
config_absolute_path(const char *path, const char *base, char *out,
    size_t len)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/') {
		n = snprintf(out, len, "%s", path);
	} else {
		if (base == NULL && (base = getcwd(cwd, sizeof(cwd))) == NULL) {
			log_warn("getcwd");
			return -1;
		}
		n = snprintf(out, len, "%s/%s", base, path);
	}
	if (n < 0 || (size_t)n >= len) {
		log_warnx("%s: path too long", path);
		return -1;
	}
	return 0;
}

/* "zone ORIGIN FILE": the file relative to base (see above). */
static int
config_add_zone(struct config *conf, const char *value, const char *base)
{
	struct config_zone *z;
	size_t n = strcspn(value, " \t");
	const char *path = value + n + strspn(value + n, " \t");

	if (n == 0 || *path == '\0') {
		log_warnx("zone: want ORIGIN FILE, not \"%s\"", value);
		return -1;
	}
	if (conf->nzones == MIODNSD_MAX_ZONES) {
		log_warnx("more than %d zones", MIODNSD_MAX_ZONES);
		return -1;
	}
	z = &conf->zones[conf->nzones];
	if (n >= sizeof(z->origin)) {
		log_warnx("zone: origin too long");
		return -1;
	}
	memcpy(z->origin, value, n);
	z->origin[n] = '\0';
	if (config_absolute_path(path, base, z->path, sizeof(z->path)) != 0)
		return -1;
	conf->nzones++;
	return 0;
}

/* "allow-stats PREFIX", "allow-stats none" or "allow-stats any". */
static int
config_add_allow(struct config *conf, const char *value)
{
	conf->allow_stats_set = true;
	if (strcmp(value, "none") == 0)
		return 0;
	if (strcmp(value, "any") == 0)
		return config_add_allow(conf, "0.0.0.0/0") != 0 ||
		    config_add_allow(conf, "::/0") != 0 ? -1 : 0;
	if (conf->nallow_stats == MIODNSD_MAX_ALLOW) {
		log_warnx("more than %d allow-stats prefixes",
		    MIODNSD_MAX_ALLOW);
		return -1;
	}
	if (config_parse_prefix(value,
		&conf->allow_stats[conf->nallow_stats]) != 0) {
		log_warnx("allow-stats: \"%s\" is not ADDR[/BITS], none or any",
		    value);
		return -1;
	}
	conf->nallow_stats++;
	return 0;
}

/* A yes|no keyword, unbound's spelling. */
static int
config_set_yes_no(bool *out, const char *key, const char *value)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) {
		*out = value[0] == 'y';
		return 0;
	}
	log_warnx("%s: \"%s\" is not yes or no", key, value);
	return -1;
}

/* "access-control PREFIX allow|refuse|deny", checked on a scratch list
 * so that a bad line fails here, where it can be reported. */
static int
config_add_access(struct config *conf, const char *value)
{
	struct acl *acl;
	int rc;

	if (conf->naccess == MIODNSD_MAX_ACCESS) {
		log_warnx("more than %d access-control lines",
		    MIODNSD_MAX_ACCESS);
		return -1;
	}
	if ((rc = acl_new(&acl)) == 0) {
		rc = strlen(value) < sizeof(conf->access_control[0]) ?
		    acl_add_line(acl, value) : -EINVAL;
		if (rc == 0 && acl_masked(acl) > 0)
			log_warnx("access-control: \"%s\": the address has "
			    "bits set past the prefix length; they are "
			    "ignored", value);
		acl_free(acl);
	}
	if (rc != 0) {
		log_warnx("access-control: \"%s\" is not PREFIX allow, refuse "
		    "or deny", value);
		return -1;
	}
	memcpy(conf->access_control[conf->naccess++], value,
	    strlen(value) + 1);
	return 0;
}

static int
config_set_builtin(struct config *conf, const char *value)
{
	static const char *const names[] = {
		[BUILTIN_AUTO] = "auto",
		[BUILTIN_ALL] = "all",
		[BUILTIN_LOCALHOST] = "localhost",
		[BUILTIN_NONE] = "none",
	};

	for (size_t i = 0; i < nitems(names); i++) {
		if (strcmp(value, names[i]) == 0) {
			conf->builtin_zones = (enum builtin_zones)i;
			return 0;
		}
	}
	log_warnx("builtin-zones: \"%s\" is not auto, all, localhost or none",
	    value);
	return -1;
}

/* Adds an address to a list; an upstream needs a port other than 0. */
static int
config_add_addr(struct addr *list, int *n, int max, const char *text,
    const char *what, bool any_port)
{
	if (*n == max) {
		log_warnx("more than %d %s addresses", max, what);
		return -1;
	}
	if (config_parse_addr(text, DNS_PORT, &list[*n]) != 0 ||
	    (!any_port && addr_port(&list[*n]) == 0)) {
		log_warnx("bad %s address \"%s\" (want ADDR[:PORT] or "
		    "[V6ADDR]:PORT)", what, text);
		return -1;
	}
	(*n)++;
	return 0;
}

#ifdef HAVE_TLS
/* "upstream-tls ADDR[:PORT] NAME": port 853 by default (RFC 7858). */
static int
config_add_upstream_tls(struct config *conf, const char *value)
{
	char addr[80];
	size_t n = strcspn(value, " \t");
	const char *name = value + n + strspn(value + n, " \t");
	int i = conf->nupstream_tls;

	if (n == 0 || n >= sizeof(addr) || *name == '\0' ||
	    strlen(name) >= sizeof(conf->upstream_tls_name[0])) {
		log_warnx("upstream-tls: want ADDR[:PORT] NAME, not \"%s\"",
		    value);
		return -1;
	}
	if (i == MIODNSD_MAX_UPSTREAM) {
		log_warnx("more than %d upstream-tls addresses",
		    MIODNSD_MAX_UPSTREAM);
		return -1;
	}
	memcpy(addr, value, n);
	addr[n] = '\0';
	if (config_parse_addr(addr, DOT_PORT, &conf->upstream_tls[i]) != 0 ||
	    addr_port(&conf->upstream_tls[i]) == 0) {
		log_warnx("bad upstream-tls address \"%s\"", addr);
		return -1;
	}
	snprintf(conf->upstream_tls_name[i], sizeof(conf->upstream_tls_name[0]),
	    "%s", name);
	conf->nupstream_tls++;
	return 0;
}

#endif

/* The DNS-over-TLS keywords; 1 if key is none of them. */
static int
config_set_tls(struct config *conf, const char *key, const char *value,
    const char *dir)
{
#ifndef HAVE_TLS
	if (strcmp(key, "listen-tls") == 0 || strcmp(key, "upstream-tls") == 0 ||
	    strncmp(key, "tls-", 4) == 0) {
		log_warnx("%s: this miodnsd was built without TLS", key);
		return -1;
	}
	(void)conf;
	(void)value;
	(void)dir;
	return 1;
#else
	if (strcmp(key, "listen-tls") == 0) {
		if (conf->nlisten_tls == MIODNSD_MAX_LISTEN ||
		    config_parse_addr(value, DOT_PORT,
		    &conf->listen_tls[conf->nlisten_tls]) != 0) {
			log_warnx("bad or too many listen-tls addresses (\"%s\")",
			    value);
			return -1;
		}
		conf->nlisten_tls++;
		return 0;
	}
	if (strcmp(key, "upstream-tls") == 0)
		return config_add_upstream_tls(conf, value);
	if (strcmp(key, "tls-cert") == 0)
		return config_absolute_path(value, dir, conf->tls_cert,
		    sizeof(conf->tls_cert));
	if (strcmp(key, "tls-key") == 0)
		return config_absolute_path(value, dir, conf->tls_key,
		    sizeof(conf->tls_key));
	if (strcmp(key, "tls-ca") == 0)
		return config_absolute_path(value, dir, conf->tls_ca,
		    sizeof(conf->tls_ca));
	return 1;
#endif
}

/* The numeric keywords: name, field, minimum, maximum. */
static const struct config_number {
	const char *name;
	size_t offset;
	unsigned min, max;
} config_numbers[] = {
	{ "timeout", offsetof(struct config, timeout_ms), 10, 60000 },
	{ "upstream-timeout", offsetof(struct config, upstream_timeout_ms), 10,
	    60000 },
	{ "max-inflight", offsetof(struct config, max_inflight), 1, 60000 },
	{ "max-tcp-clients", offsetof(struct config, max_tcp_clients), 1,
	    10000 },
	{ "tcp-idle-timeout", offsetof(struct config, tcp_idle_ms), 100,
	    3600000 },
	{ "tcp-pipeline", offsetof(struct config, tcp_pipeline), 1, 1000 },
	{ "edns-size", offsetof(struct config, edns_size), 512, 4096 },
	{ "cache-size", offsetof(struct config, cache_entries), 0, 10000000 },
	{ "cache-bytes", offsetof(struct config, cache_bytes), 0, 1u << 31 },
	{ "min-ttl", offsetof(struct config, min_ttl), 0, 604800 },
	{ "max-ttl", offsetof(struct config, max_ttl), 0, 604800 },
	{ "max-negative-ttl", offsetof(struct config, max_negative_ttl), 0,
	    604800 },
	{ "max-waiters", offsetof(struct config, max_waiters), 1, 10000 },
	{ "ratelimit", offsetof(struct config, ratelimit), 0, 100000000 },
	{ "threads", offsetof(struct config, threads), 0,
	    MIODNSD_MAX_THREADS },
};

/* The string keywords: name, field, size. */
static const struct config_string {
	const char *name;
	size_t offset, size;
} config_strings[] = {
	{ "resolv-conf", offsetof(struct config, resolv_conf),
	    sizeof(((struct config *)0)->resolv_conf) },
	{ "user", offsetof(struct config, user),
	    sizeof(((struct config *)0)->user) },
	{ "pidfile", offsetof(struct config, pidfile),
	    sizeof(((struct config *)0)->pidfile) },
	{ "port-file", offsetof(struct config, portfile),
	    sizeof(((struct config *)0)->portfile) },
};

/* Applies one "keyword value" line; relative paths are taken from dir
 * (NULL: the working directory). 0 or -1 after logging why. */
static int
config_set_from(struct config *conf, const char *key, const char *value,
    const char *dir)
{
	char *base = (char *)conf;
	int rc;

	if (strcmp(key, "zone") == 0)
		return config_add_zone(conf, value, dir);
	if (strcmp(key, "allow-stats") == 0)
		return config_add_allow(conf, value);
	if (strcmp(key, "access-control") == 0)
		return config_add_access(conf, value);
	if (strcmp(key, "use-caps-for-id") == 0)
		return config_set_yes_no(&conf->use_caps_for_id, key, value);
	if (strcmp(key, "builtin-zones") == 0)
		return config_set_builtin(conf, value);
	if (strcmp(key, "listen") == 0)
		return config_add_addr(conf->listen, &conf->nlisten,
		    MIODNSD_MAX_LISTEN, value, "listen", true);
	if (strcmp(key, "upstream") == 0)
		return config_add_addr(conf->upstream, &conf->nupstream,
		    MIODNSD_MAX_UPSTREAM, value, "upstream", false);
	if ((rc = config_set_tls(conf, key, value, dir)) <= 0)
		return rc;
	for (size_t i = 0; i < nitems(config_numbers); i++) {
		const struct config_number *n = &config_numbers[i];
		if (strcmp(key, n->name) != 0)
			continue;
		if (config_parse_uint(value, n->min, n->max,
			(unsigned *)(void *)(base + n->offset)) == 0)
			return 0;
		log_warnx("%s: \"%s\" is not a number from %u to %u", key,
		    value, n->min, n->max);
		return -1;
	}
	for (size_t i = 0; i < nitems(config_strings); i++) {
		const struct config_string *s = &config_strings[i];
		if (strcmp(key, s->name) != 0)
			continue;
		if (strlen(value) < s->size) {
			memcpy(base + s->offset, value, strlen(value) + 1);
			return 0;
		}
		log_warnx("%s: value too long", key);
		return -1;
	}
	log_warnx("unknown keyword \"%s\"", key);
	return -1;
}

int
config_set(struct config *conf, const char *key, const char *value)
{
	return config_set_from(conf, key, value, NULL);
}

/* Splits a line into keyword and value; false for blank and comments. */
static bool
config_split(char *line, char **key, char **value)
{
	char *end;

	if ((end = strchr(line, '#')) != NULL)
		*end = '\0';
	while (isspace((unsigned char)*line))
		line++;
	if (*line == '\0')
		return false;
	*key = line;
	while (*line != '\0' && !isspace((unsigned char)*line))
		line++;
	if (*line != '\0')
		*line++ = '\0';
	while (isspace((unsigned char)*line))
		line++;
	*value = line;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return true;
}

int
config_load_file(struct config *conf, const char *path)
{
	char line[1024], dir[PATH_MAX], *key, *value, *slash;
	int lineno = 0, errors = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (!config_split(line, &key, &value))
			continue;
		if (*value == '\0') {
			log_warnx("%s:%d: \"%s\" needs a value", path, lineno,
			    key);
			errors++;
		} else if (config_set_from(conf, key, value, dir) != 0) {
			log_warnx("%s:%d: in this line", path, lineno);
			errors++;
		}
	}
	fclose(f);
	return errors == 0 ? 0 : -1;
}

/* Whether addr (port included) is one we listen on; a wildcard listener
 * counts for every loopback address of its family and port. */
static bool
config_is_listen_address(const struct config *conf, const struct addr *addr)
{
	for (int i = 0; i < conf->nlisten; i++) {
		const struct addr *l = &conf->listen[i];
		if (addr_equal(l, addr))
			return true;
		if (l->ss.ss_family != addr->ss.ss_family ||
		    addr_port(l) != addr_port(addr))
			continue;
		if (l->ss.ss_family == AF_INET6) {
			const struct in6_addr *a = &addr_in6(addr)->sin6_addr;
			const struct in6_addr *w = &addr_in6(l)->sin6_addr;
			if (IN6_IS_ADDR_UNSPECIFIED(w) &&
			    IN6_IS_ADDR_LOOPBACK(a))
				return true;
		} else {
			uint32_t a = ntohl(addr_in(addr)->sin_addr.s_addr);
			uint32_t w = ntohl(addr_in(l)->sin_addr.s_addr);
			if (w == INADDR_ANY && (a >> 24) == 127)
				return true;
		}
	}
	return false;
}

/* The nameserver lines of resolv.conf, minus our own addresses. */
static void
config_read_resolv(struct config *conf)
{
	char line[512], *key, *value;
	struct addr addr;
	FILE *f;

	if ((f = fopen(conf->resolv_conf, "re")) == NULL) {
		log_info("%s: %s; trying 127.0.0.1", conf->resolv_conf,
		    strerror(errno));
		config_parse_addr("127.0.0.1", DNS_PORT, &addr);
		if (!config_is_listen_address(conf, &addr))
			conf->upstream[conf->nupstream++] = addr;
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL &&
	    conf->nupstream < MIODNSD_MAX_UPSTREAM) {
		char buf[64];
		if (!config_split(line, &key, &value) ||
		    strcmp(key, "nameserver") != 0)
			continue;
		/* Scoped addresses ("fe80::1%eth0") need c-ares 1.24. */
		if (strchr(value, '%') != NULL ||
		    config_parse_addr(value, DNS_PORT, &addr) != 0 ||
		    strchr(value, ']') != NULL) {
			log_info("%s: skipping nameserver %s",
			    conf->resolv_conf, value);
			continue;
		}
		if (config_is_listen_address(conf, &addr)) {
			log_info("%s: skipping nameserver %s: it is our own "
			    "listening address", conf->resolv_conf,
			    addr_str(&addr, buf, sizeof(buf)));
			continue;
		}
		conf->upstream[conf->nupstream++] = addr;
	}
	fclose(f);
}

/* "threads 0": one worker per CPU this process may run on (its
 * affinity, which taskset and cpusets narrow), else per online CPU. */
static unsigned
config_cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
#ifdef HAVE_SCHED_GETAFFINITY
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
#endif

	if (n < 1)
		return 1;
	return n > MIODNSD_MAX_THREADS ? MIODNSD_MAX_THREADS : (unsigned)n;
}

/* What DNS over TLS needs of the rest; 0 or -1 after logging. */
static int
config_finish_tls(struct config *conf)
{
	if (conf->nlisten_tls > 0 &&
	    (conf->tls_cert[0] == '\0' || conf->tls_key[0] == '\0')) {
		log_warnx("listen-tls needs tls-cert and tls-key");
		return -1;
	}
	if (conf->nupstream + conf->nupstream_tls > MIODNSD_MAX_UPSTREAM) {
		log_warnx("more than %d upstreams, plain and TLS together",
		    MIODNSD_MAX_UPSTREAM);
		return -1;
	}
	return 0;
}

/* Fills in the defaults that depend on the rest; 0 or -1 after logging. */
int
config_finish(struct config *conf)
{
	char buf[64];

	if (conf->nlisten == 0)
		config_parse_addr(MIODNSD_DEFAULT_LISTEN, DNS_PORT,
		    &conf->listen[conf->nlisten++]);
	for (int i = 0; i < conf->nupstream; i++) {
		if (config_is_listen_address(conf, &conf->upstream[i])) {
			log_warnx("upstream %s is our own listening address",
			    addr_str(&conf->upstream[i], buf, sizeof(buf)));
			return -1;
		}
	}
	if (conf->threads == 0)
		conf->threads = config_cpu_count();
	if (conf->min_ttl > conf->max_ttl) {
		log_warnx("min-ttl %u is above max-ttl %u", conf->min_ttl,
		    conf->max_ttl);
		return -1;
	}
	if (!conf->allow_stats_set) {
		config_add_allow(conf, "127.0.0.0/8");
		config_add_allow(conf, "::1");
	}
	if (config_finish_tls(conf) != 0)
		return -1;
	if (conf->nupstream == 0 && conf->nupstream_tls == 0) {
		conf->upstream_from_resolv = true;
		config_read_resolv(conf);
	}
	if (conf->nupstream + conf->nupstream_tls > 0)
		return 0;
	if (conf->nzones > 0) {
		/* Zones alone are a configuration: an authoritative server,
		 * which refuses what is not its own. */
		log_info("no upstream server: answering from the zones only");
	} else {
		log_warnx("no upstream server: give -u ADDR or a "
		    "nameserver in %s", conf->resolv_conf);
		return -1;
	}
	return 0;
}

bool
config_same_upstreams(const struct config *a, const struct config *b)
{
	if (a->nupstream != b->nupstream ||
	    a->upstream_timeout_ms != b->upstream_timeout_ms ||
	    a->timeout_ms != b->timeout_ms ||
	    a->edns_size != b->edns_size)
		return false;
	for (int i = 0; i < a->nupstream; i++) {
		if (!addr_equal(&a->upstream[i], &b->upstream[i]))
			return false;
	}
	/* TLS upstreams: the same servers, names and CA file; a new client
	 * context alone (every reload makes one) changes nothing. */
	if (a->nupstream_tls != b->nupstream_tls ||
	    strcmp(a->tls_ca, b->tls_ca) != 0)
		return false;
	for (int i = 0; i < a->nupstream_tls; i++) {
		if (!addr_equal(&a->upstream_tls[i], &b->upstream_tls[i]) ||
		    strcmp(a->upstream_tls_name[i],
		    b->upstream_tls_name[i]) != 0)
			return false;
	}
	return true;
}
