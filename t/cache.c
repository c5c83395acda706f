/*
 * t/cache.c - miodnsd's answer cache (daemon/dns/cache.c) and in-flight
 * merging (daemon/dns/inflight.c), compiled in directly: keys, hits and
 * misses, the client's ID and question on a hit, TTLs counting down on an
 * injected clock, expiry, clamping, RFC 2308 negative answers, what is
 * never stored, LRU eviction by entries and by bytes, hostile answers, no
 * allocation on a hit, shards under two threads, and waiters joining,
 * completing, overflowing and cancelling.
 *
 * Answers are built by the helpers below from presentation names and read
 * back by a small record walker of this file.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/cache.h"
#include "dns/inflight.h"
#include "dns/dns.h"
#include "tap.h"

#define T_A 1
#define T_NS 2
#define T_CNAME 5
#define T_SOA 6
#define T_MX 15
#define T_AAAA 28
#define T_OPT 41
#define T_ANY 255
#define C_IN 1
#define C_CH 3

/* ---- helpers: building messages ------------------------------------------ */

struct msg {
	uint8_t b[4096];
	size_t n;
};

static void
put8(struct msg *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void
put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v);
}

static void
put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* "www.example.test" in wire form into buf; returns its length. */
static size_t
wire_name(uint8_t *buf, const char *text)
{
	size_t n = 0;

	while (*text != '\0') {
		const char *dot = strchr(text, '.');
		size_t len = dot != NULL ? (size_t)(dot - text) : strlen(text);
		buf[n++] = (uint8_t)len;
		memcpy(buf + n, text, len);
		n += len;
		text += len + (dot != NULL);
	}
	buf[n++] = 0;
	return n;
}

static void
put_name(struct msg *m, const char *text)
{
	m->n += wire_name(m->b + m->n, text);
}

static void
header(struct msg *m, unsigned f1, unsigned f2, unsigned qd, unsigned an,
    unsigned ns, unsigned ar)
{
	m->n = 0;
	put16(m, 0x1111);
	put8(m, f1);
	put8(m, f2);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

static void
set_count(struct msg *m, int section, unsigned count)
{
	m->b[4 + 2 * section] = (uint8_t)(count >> 8);
	m->b[5 + 2 * section] = (uint8_t)count;
}

/* A record's type, class, TTL and rdata, after its owner. */
static void
put_rr_tail(struct msg *m, unsigned type, uint32_t ttl, const void *rdata,
    size_t rdlen)
{
	put16(m, type);
	put16(m, C_IN);
	put32(m, ttl);
	put16(m, (unsigned)rdlen);
	memcpy(m->b + m->n, rdata, rdlen);
	m->n += rdlen;
}

/* A record owned by the question's name (a pointer to offset 12). */
static void
put_rr_q(struct msg *m, unsigned type, uint32_t ttl, const void *rdata,
    size_t rdlen)
{
	put16(m, 0xc00c);
	put_rr_tail(m, type, ttl, rdata, rdlen);
}

static const uint8_t addr1[4] = { 192, 0, 2, 1 };
static const uint8_t addr2[4] = { 192, 0, 2, 2 };

/* The usual answer: QR RD RA, one A record for the question. */
static void
answer_a(struct msg *m, const char *name, unsigned type, uint32_t ttl)
{
	header(m, 0x81, 0x80, 1, 1, 0, 0);
	put_name(m, name);
	put16(m, type);
	put16(m, C_IN);
	put_rr_q(m, type, ttl, addr1, 4);
}

/*
 * An SOA for the zone "example.test" (the question's name minus its first
 * label, reached by a pointer to offset 12 + 4 for "www.example.test").
 */
static void
put_soa(struct msg *m, uint32_t ttl, uint32_t minimum)
{
	struct msg rd = { .n = 0 };

	put16(m, 0xc010);
	put8(&rd, 2);
	put8(&rd, 'n');
	put8(&rd, 's');
	put16(&rd, 0xc010);
	put8(&rd, 4);
	memcpy(rd.b + rd.n, "host", 4);
	rd.n += 4;
	put16(&rd, 0xc010);
	put32(&rd, 2026010101);
	put32(&rd, 7200);
	put32(&rd, 3600);
	put32(&rd, 1209600);
	put32(&rd, minimum);
	put_rr_tail(m, T_SOA, ttl, rd.b, rd.n);
}

/* NXDOMAIN (rcode 3) or NODATA (rcode 0) for www.example.test, with an
 * SOA in the authority section unless soa is false. */
static void
answer_negative(struct msg *m, unsigned rcode, bool soa, uint32_t ttl,
    uint32_t minimum)
{
	header(m, 0x81, 0x80 | rcode, 1, 0, soa ? 1 : 0, 0);
	put_name(m, "www.example.test");
	put16(m, T_A);
	put16(m, C_IN);
	if (soa)
		put_soa(m, ttl, minimum);
}

static void
put_opt(struct msg *m, uint32_t ttl)
{
	put8(m, 0);
	put16(m, T_OPT);
	put16(m, 1232);
	put32(m, ttl);
	put16(m, 0);
}

/* ---- helpers: reading messages back -------------------------------------- */

static size_t
skip_name(const uint8_t *msg, size_t len, size_t off)
{
	while (off < len) {
		if ((msg[off] & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if (msg[off] == 0)
			return off + 1;
		off += 1 + (size_t)msg[off];
	}
	return 0;
}

/* The TTLs of every record after the question, in order; the number of
 * records, or -1 if the message does not parse to its end. */
static int
record_ttls(const uint8_t *msg, size_t len, uint32_t *ttls, int max)
{
	size_t off = skip_name(msg, len, 12);
	int count = get16(msg + 6) + get16(msg + 8) + get16(msg + 10);

	if (off == 0 || off + 4 > len)
		return -1;
	off += 4;
	for (int i = 0; i < count; i++) {
		off = skip_name(msg, len, off);
		if (off == 0 || off + 10 > len)
			return -1;
		if (i < max)
			ttls[i] = get32(msg + off + 4);
		off += 10 + get16(msg + off + 8);
		if (off > len)
			return -1;
	}
	return off == len ? count : -1;
}

/* ---- helpers: caches, keys, clients -------------------------------------- */

static size_t allocs;

static void *
count_alloc(size_t size)
{
	allocs++;
	return malloc(size);
}

static struct cache *
new_cache(size_t max_entries, size_t max_bytes, unsigned shards)
{
	struct cache_config conf;
	struct cache *cache = NULL;

	cache_config_defaults(&conf);
	conf.max_entries = max_entries;
	conf.max_bytes = max_bytes;
	conf.shards = shards;
	conf.alloc = count_alloc;
	if (cache_new(&cache, &conf) != 0)
		bail("cache_new failed");
	return cache;
}

static struct cache *
new_cache_ttl(uint32_t min_ttl, uint32_t max_ttl, uint32_t max_negative)
{
	struct cache_config conf;
	struct cache *cache = NULL;

	cache_config_defaults(&conf);
	conf.min_ttl = min_ttl;
	conf.max_ttl = max_ttl;
	conf.max_negative_ttl = max_negative;
	if (cache_new(&cache, &conf) != 0)
		bail("cache_new failed");
	return cache;
}

/* A client's question, as it sent it, and the key made from it. */
struct test_client {
	uint8_t question[260];
	struct cache_client cc;
	struct cache_key key;
};

static void
client_for(struct test_client *c, const struct cache *cache, const char *name,
    unsigned type, unsigned flags)
{
	size_t n = wire_name(c->question, name);

	c->question[n] = (uint8_t)(type >> 8);
	c->question[n + 1] = (uint8_t)type;
	c->question[n + 2] = 0;
	c->question[n + 3] = C_IN;
	c->cc.id = 0xbeef;
	c->cc.question = c->question;
	c->cc.question_len = n + 4;
	if (cache_key_init(&c->key, cache, c->question, n, (uint16_t)type,
	    C_IN, flags) != 0)
		bail("bad key for %s", name);
}

static uint8_t out[65536];
static size_t outlen;

/*
 * Whether a hit dressed where the cache wrote it (dns_dress_hit(), the
 * daemon's hit path) reads exactly as dns_build_answer() dresses the same
 * hit, for clients with and without EDNS and RD under three size limits,
 * with the key's DO, CD and AD and offered recursion (the only clients
 * the daemon looks the cache up for); a hit dns_dress_hit() declines
 * must be one too large for the client. The daemon trusts what the cache
 * stored; this checks that trust.
 */
static bool
dress_agrees(const uint8_t *hit, size_t len, unsigned key_flags)
{
	static uint8_t a[65536 + 64], b[65536 + 64];
	static const size_t limits[] = { 512, 1232, 65535 };
	size_t qend = skip_name(hit, len, 12), alen, blen;
	bool truncated;

	if (qend == 0)
		return false;

	for (int v = 0; v < 12; v++) {
		bool edns = (v & 2) || (key_flags & CACHE_KEY_DO);
		struct dns_reply r = {
			.id = get16(hit), .flags1 = v & 1 ? 0x01 : 0,
			.flags2 = (uint8_t)((key_flags & CACHE_KEY_CD ? 0x10 : 0) |
			    (key_flags & CACHE_KEY_AD ? 0x20 : 0)),
			.question = hit + 12, .question_len = qend + 4 - 12,
			.edns = edns, .edns_do = (key_flags & CACHE_KEY_DO) != 0,
			.edns_size = 1232, .limit = limits[v / 4], .ra = true,
		};
		memcpy(a, hit, len);
		alen = dns_dress_hit(&r, a, len);
		if (alen == 0) {
			if (len + (r.edns ? 11 : 0) <= r.limit)
				return false;
			continue;
		}
		if (dns_build_answer(&r, hit, len, b, sizeof(b), &blen,
		    &truncated) < 0 || truncated || blen != alen ||
		    memcmp(a, b, alen) != 0)
			return false;
	}
	return true;
}

/* Hits lookup() has seen, and those dress_agrees() failed. */
static unsigned dressed, dressed_differ;


static bool
lookup(struct cache *cache, struct test_client *c, uint64_t now)
{
	outlen = 0;
	if (!cache_lookup(cache, &c->key, now, &c->cc, out, sizeof(out),
	    &outlen))
		return false;
	dressed++;
	if (!dress_agrees(out, outlen, c->key.flags))
		dressed_differ++;
	return true;
}

/*
 * Looks c up and reads the TTLs of what was served: the number of records,
 * or -2 on a miss (-1 if the answer does not parse). Called before ok() so
 * that the message shows the values the test saw.
 */
static int
served_ttls(struct cache *cache, struct test_client *c, uint64_t now,
    uint32_t *ttls, int max)
{
	memset(ttls, 0, (size_t)max * sizeof(*ttls));
	if (!lookup(cache, c, now))
		return -2;
	return record_ttls(out, outlen, ttls, max);
}

static struct cache_stats
stats_of(struct cache *cache)
{
	struct cache_stats s;

	cache_stats(cache, &s);
	return s;
}

/* ---- keys ---------------------------------------------------------------- */

/* A mixed-case wire name of exactly len octets (1, or 3..255) in name, and its
 * lower-case form in lower. */
static void
mixed_name(uint8_t *name, uint8_t *lower, size_t len)
{
	size_t at = 0, left = len - 1;

	while (left > 0) {
		size_t l = left - 1 > 63 ? 63 : left - 1;
		if (left - (l + 1) == 1)
			l--;
		name[at] = lower[at] = (uint8_t)l;
		for (size_t i = 1; i <= l; i++) {
			name[at + i] = (uint8_t)((i & 1 ? 'A' : 'a') +
			    (at + i) % 26);
			lower[at + i] = (uint8_t)('a' + (at + i) % 26);
		}
		at += l + 1;
		left -= l + 1;
	}
	name[at] = lower[at] = 0;
}

/*
 * cache_key_query(), the entry point for parsed queries, gives the same
 * key as cache_key_init() for a question of every length: its last word
 * is read by another route (one load ending at the name's last octet).
 */
static void
check_key_query(struct cache *cache)
{
	uint8_t msg[12 + 255 + 4], lower[255];
	struct cache_key a, b;
	struct dns_query dq;
	unsigned bad = 0;

	for (size_t len = 1; len <= 255; len++) {
		if (len == 2)
			continue;	/* no name has two octets */
		memset(msg, 0, 12);
		msg[5] = 1;
		mixed_name(msg + 12, lower, len);
		memcpy(msg + 12 + len, "\0\1\0\1", 4);
		if (dns_parse_query(msg, 12 + len + 4, &dq) != DNS_QUERY_OK) {
			bad++;
			continue;
		}
		cache_key_query(&a, cache, &dq, CACHE_KEY_RD);
		if (cache_key_init(&b, cache, lower, len, T_A, C_IN,
		    CACHE_KEY_RD) != 0 || !cache_key_equal(&a, &b) ||
		    a.hash != b.hash || memcmp(a.name, lower, len) != 0)
			bad++;
	}
	is_int(bad, 0, "key: a parsed query's key is cache_key_init()'s, "
	    "for names of every length");
}


static void
check_keys(void)
{
	struct cache *cache = new_cache(100, 1 << 20, 1);
	struct cache_key a, b;
	uint8_t n1[64], n2[64];
	size_t l1 = wire_name(n1, "WWW.Example.TEST");
	size_t l2 = wire_name(n2, "www.example.test");

	is_int(cache_key_init(&a, cache, n1, l1, T_A, C_IN, 0), 0,
	    "key: mixed-case name accepted");
	is_int(cache_key_init(&b, cache, n2, l2, T_A, C_IN, 0), 0,
	    "key: lower-case name accepted");
	ok(cache_key_equal(&a, &b) && a.hash == b.hash,
	    "key: case does not matter, hash included");
	ok(memcmp(a.name, n2, l2) == 0, "key: name stored lower-cased");
	cache_key_init(&b, cache, n2, l2, T_AAAA, C_IN, 0);
	ok(!cache_key_equal(&a, &b) && a.hash != b.hash,
	    "key: the type separates keys");
	cache_key_init(&b, cache, n2, l2, T_A, C_CH, 0);
	ok(!cache_key_equal(&a, &b), "key: the class separates keys");
	cache_key_init(&b, cache, n2, l2, T_A, C_IN, CACHE_KEY_DO);
	ok(!cache_key_equal(&a, &b) && a.hash != b.hash,
	    "key: the DO bit separates keys");
	cache_key_init(&b, cache, n2, l2, T_A, C_IN, 0x100);
	ok(cache_key_equal(&a, &b), "key: flags outside CACHE_KEY_ALL ignored");

	/* Malformed names. */
	static const struct {
		const char *what;
		uint8_t name[8];
		size_t len;
	} bad[] = {
		{ "empty", { 0 }, 0 },
		{ "no root label", { 3, 'w', 'w', 'w' }, 4 },
		{ "a pointer", { 0xc0, 0x0c }, 2 },
		{ "a reserved label type", { 0x41, 'a', 0 }, 3 },
		{ "a label past the end", { 5, 'a', 'b', 0 }, 4 },
		{ "the root in the middle", { 0, 1, 'a', 0 }, 4 },
		{ "bytes after the root", { 1, 'a', 0, 1 }, 4 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(cache_key_init(&b, cache, bad[i].name, bad[i].len, T_A,
		    C_IN, 0), -EINVAL, "key: refused with %s", bad[i].what);

	uint8_t longname[300];
	size_t n = 0;
	while (n + 64 <= 256) {
		longname[n] = 63;
		memset(longname + n + 1, 'x', 63);
		n += 64;
	}
	longname[n++] = 0;
	is_int(cache_key_init(&b, cache, longname, n, T_A, C_IN, 0), -EINVAL,
	    "key: a %zu-octet name is refused", n);
	uint8_t root = 0;
	is_int(cache_key_init(&b, cache, &root, 1, T_NS, C_IN, 0), 0,
	    "key: the root name is fine");
	uint8_t latin1[] = { 1, 0xc4, 0 }, latin1_lower[] = { 1, 0xe4, 0 };
	cache_key_init(&a, cache, latin1, 3, T_A, C_IN, 0);
	cache_key_init(&b, cache, latin1_lower, 3, T_A, C_IN, 0);
	ok(!cache_key_equal(&a, &b), "key: only ASCII letters fold");
	check_key_query(cache);

	/* Another seed, another hash. */
	struct cache_config conf;
	struct cache *other = NULL;
	cache_config_defaults(&conf);
	conf.seed[0] = 1;
	cache_new(&other, &conf);
	cache_key_init(&a, cache, n2, l2, T_A, C_IN, 0);
	cache_key_init(&b, other, n2, l2, T_A, C_IN, 0);
	ok(a.hash != b.hash, "key: the seed changes the hash");
	cache_free(other);
	cache_free(cache);
}

/* ---- hits, misses, the client's ID and question -------------------------- */

static void
check_hit_and_miss(void)
{
	struct cache *cache = new_cache(100, 1 << 20, 4);
	struct test_client upper, lower, aaaa;
	struct msg m;
	struct cache_stats s;

	client_for(&upper, cache, "WWW.Example.TEST", T_A, CACHE_KEY_RD);
	client_for(&lower, cache, "www.eXample.test", T_A, CACHE_KEY_RD);
	client_for(&aaaa, cache, "www.example.test", T_AAAA, CACHE_KEY_RD);
	ok(!lookup(cache, &lower, 1000), "miss before anything is stored");
	answer_a(&m, "www.example.test", T_A, 300);
	m.b[2] |= 0x04; /* AA from an authoritative upstream */
	is_int(cache_insert(cache, &upper.key, 1000, m.b, m.n),
	    CACHE_INSERT_STORED, "a NOERROR answer is stored");
	ok(lookup(cache, &lower, 1000), "hit with another spelling");
	is_int(outlen, m.n, "the hit has the answer's length");
	is_int(get16(out), 0xbeef, "the hit carries the client's ID");
	ok(memcmp(out + 12, lower.question, lower.cc.question_len) == 0,
	    "the hit carries the client's question, case and all");
	is_int(out[2] & 0x04, 0, "a cached answer is not authoritative");
	is_int(out[2] & 0x81, 0x81, "QR and RD as the upstream sent them");
	is_int(out[3], 0x80, "RA set (the cache answers only clients offered "
	    "recursion), RCODE as the upstream sent it");
	is_int(get16(out + 12 + 18 + 4), 0xc00c,
	    "the record's owner still points at the question");
	ok(memcmp(out + outlen - 4, addr1, 4) == 0, "the rdata is intact");
	ok(!lookup(cache, &aaaa, 1000), "another type misses");

	s = stats_of(cache);
	is_int(s.hits, 1, "stats: one hit");
	is_int(s.misses, 2, "stats: two misses");
	is_int(s.inserts, 1, "stats: one insert");
	is_int(s.entries, 1, "stats: one entry");
	ok(s.bytes > m.n, "stats: bytes count the entry (%zu)", s.bytes);

	/* The buffer and the question must fit. */
	ok(!cache_lookup(cache, &lower.key, 1000, &lower.cc, out, m.n - 1,
	    &outlen), "a buffer one byte short misses");
	struct cache_client wrong = lower.cc;
	wrong.question_len--;
	ok(!cache_lookup(cache, &lower.key, 1000, &wrong, out, sizeof(out),
	    &outlen), "a question of another length misses");

	/* A newer answer replaces the stored one. */
	answer_a(&m, "www.example.test", T_A, 300);
	memcpy(m.b + m.n - 4, addr2, 4);
	is_int(cache_insert(cache, &upper.key, 1010, m.b, m.n),
	    CACHE_INSERT_STORED, "the same key stored again");
	ok(lookup(cache, &upper, 1010) &&
	    memcmp(out + outlen - 4, addr2, 4) == 0,
	    "the newer answer is served");
	is_int(stats_of(cache).entries, 1, "a replacement adds no entry");

	cache_flush(cache);
	ok(!lookup(cache, &upper, 1010), "flushed: miss");
	s = stats_of(cache);
	ok(s.entries == 0 && s.bytes == 0, "flushed: nothing left");
	cache_free(cache);
}

/* ---- TTLs ---------------------------------------------------------------- */

static void
check_ttl_countdown(void)
{
	struct cache *cache = new_cache(100, 1 << 20, 1);
	struct test_client c;
	struct msg m;
	uint32_t ttls[4] = { 0 };
	int n;

	client_for(&c, cache, "www.example.test", T_A, 0);
	/* An answer with an A (300 s) and an additional NS address (600 s). */
	header(&m, 0x81, 0x80, 1, 1, 0, 1);
	put_name(&m, "www.example.test");
	put16(&m, T_A);
	put16(&m, C_IN);
	put_rr_q(&m, T_A, 300, addr1, 4);
	put16(&m, 0xc010);
	put_rr_tail(&m, T_A, 600, addr2, 4);
	cache_insert(cache, &c.key, 1000, m.b, m.n);

	n = served_ttls(cache, &c, 1000, ttls, 4);
	is_int(n, 2, "countdown: hit at once, two records");
	ok(ttls[0] == 300 && ttls[1] == 600, "countdown: TTLs as stored "
	    "(%u, %u)", ttls[0], ttls[1]);
	n = served_ttls(cache, &c, 1100, ttls, 4);
	ok(n == 2 && ttls[0] == 200 && ttls[1] == 500, "countdown: 100 s "
	    "later (%u, %u)", ttls[0], ttls[1]);
	n = served_ttls(cache, &c, 1299, ttls, 4);
	ok(n == 2 && ttls[0] == 1 && ttls[1] == 301, "countdown: still there "
	    "after 299 s, 1 s left (%u, %u)", ttls[0], ttls[1]);
	n = served_ttls(cache, &c, 900, ttls, 4);
	ok(n == 2 && ttls[0] == 300, "countdown: a clock behind the store "
	    "time serves the stored TTL (%u)", ttls[0]);
	ok(!lookup(cache, &c, 1300),
	    "expiry: gone when the smallest TTL reaches 0");
	is_int(stats_of(cache).expired, 1, "expiry: counted");
	is_int(stats_of(cache).entries, 0, "expiry: the entry is freed");
	cache_free(cache);
}

static void
check_ttl_clamp(void)
{
	struct cache *cache = new_cache_ttl(30, 100, 3600);
	struct test_client c;
	struct msg m;
	uint32_t ttls[2] = { 0 };
	int n;

	client_for(&c, cache, "www.example.test", T_A, 0);
	answer_a(&m, "www.example.test", T_A, 5);
	cache_insert(cache, &c.key, 0, m.b, m.n);
	n = served_ttls(cache, &c, 0, ttls, 2);
	ok(n == 1 && ttls[0] == 30, "clamp: TTL 5 raised to min-ttl 30 (%u)",
	    ttls[0]);
	ok(lookup(cache, &c, 29) && !lookup(cache, &c, 30),
	    "clamp: the raised TTL is the lifetime");

	answer_a(&m, "www.example.test", T_A, 86400);
	cache_insert(cache, &c.key, 0, m.b, m.n);
	n = served_ttls(cache, &c, 0, ttls, 2);
	ok(n == 1 && ttls[0] == 100, "clamp: TTL 86400 cut to max-ttl 100 "
	    "(%u)", ttls[0]);
	ok(lookup(cache, &c, 99) && !lookup(cache, &c, 100),
	    "clamp: the cut TTL is the lifetime");

	answer_a(&m, "www.example.test", T_A, 0x80000010u);
	cache_insert(cache, &c.key, 0, m.b, m.n);
	n = served_ttls(cache, &c, 0, ttls, 2);
	ok(n == 1 && ttls[0] == 30, "clamp: a TTL with its top bit set "
	    "counts as 0, raised to 30 (%u)", ttls[0]);
	cache_free(cache);

	cache = new_cache_ttl(0, 86400, 3600);
	client_for(&c, cache, "www.example.test", T_A, 0);
	answer_a(&m, "www.example.test", T_A, 0);
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n),
	    CACHE_INSERT_ZERO_TTL, "TTL 0 is not stored without min-ttl");
	answer_a(&m, "www.example.test", T_A, 0x80000000u);
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n),
	    CACHE_INSERT_ZERO_TTL, "TTL 2^31 is 0 (RFC 2181 8)");
	ok(!lookup(cache, &c, 0), "nothing was stored");
	cache_free(cache);

	struct cache_config conf;
	struct cache *bad = NULL;
	cache_config_defaults(&conf);
	conf.min_ttl = 10;
	conf.max_ttl = 5;
	is_int(cache_new(&bad, &conf), -EINVAL, "min-ttl > max-ttl refused");
}

/* ---- negative answers (RFC 2308) ----------------------------------------- */

static void
check_negative(void)
{
	struct cache *cache = new_cache_ttl(0, 86400, 3600);
	struct test_client c;
	struct msg m;
	uint32_t ttls[4] = { 0 };
	int n;

	client_for(&c, cache, "www.example.test", T_A, 0);
	answer_negative(&m, 3, true, 900, 300);
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n), CACHE_INSERT_STORED,
	    "NXDOMAIN with an SOA is stored");
	n = served_ttls(cache, &c, 10, ttls, 4);
	ok(n == 1 && (out[3] & 0xf) == 3, "NXDOMAIN served as NXDOMAIN");
	ok(ttls[0] == 290,
	    "NXDOMAIN: the SOA's TTL is min(TTL, MINIMUM) less 10 s (%u)",
	    ttls[0]);
	ok(lookup(cache, &c, 299) && !lookup(cache, &c, 300),
	    "NXDOMAIN lives min(SOA TTL 900, MINIMUM 300) seconds");

	answer_negative(&m, 0, true, 60, 3600);
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n), CACHE_INSERT_STORED,
	    "NODATA with an SOA is stored");
	ok(lookup(cache, &c, 59) && (out[3] & 0xf) == 0 &&
	    get16(out + 6) == 0 && !lookup(cache, &c, 60),
	    "NODATA lives min(SOA TTL 60, MINIMUM 3600) seconds");

	answer_negative(&m, 0, true, 86400, 86400);
	cache_insert(cache, &c.key, 0, m.b, m.n);
	ok(lookup(cache, &c, 3599) && !lookup(cache, &c, 3600),
	    "a negative TTL is capped by max-negative-ttl");

	answer_negative(&m, 3, false, 0, 0);
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n), CACHE_INSERT_NO_SOA,
	    "NXDOMAIN without an SOA is not stored");
	answer_negative(&m, 0, false, 0, 0);
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n), CACHE_INSERT_NO_SOA,
	    "NODATA without an SOA is not stored");

	/* NODATA at the end of a CNAME chain: the answer has a CNAME only. */
	uint8_t target[32];
	size_t tlen = wire_name(target, "other.example.test");
	header(&m, 0x81, 0x80, 1, 1, 1, 0);
	put_name(&m, "www.example.test");
	put16(&m, T_A);
	put16(&m, C_IN);
	put_rr_q(&m, T_CNAME, 600, target, tlen);
	put_soa(&m, 300, 60);
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n), CACHE_INSERT_STORED,
	    "NODATA after a CNAME is stored");
	n = served_ttls(cache, &c, 0, ttls, 4);
	ok(n == 2 && ttls[0] == 600 && ttls[1] == 60,
	    "NODATA after a CNAME: CNAME TTL kept, SOA gets 60 (%u, %u)",
	    ttls[0], ttls[1]);
	ok(lookup(cache, &c, 59) && !lookup(cache, &c, 60),
	    "NODATA after a CNAME lives the negative TTL");

	/* The same CNAME answer without the SOA is a NODATA without SOA. */
	header(&m, 0x81, 0x80, 1, 1, 0, 0);
	put_name(&m, "www.example.test");
	put16(&m, T_A);
	put16(&m, C_IN);
	put_rr_q(&m, T_CNAME, 600, target, tlen);
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n), CACHE_INSERT_NO_SOA,
	    "a CNAME without the type asked for and without SOA: not stored");

	/* A short SOA in a negative answer. */
	answer_negative(&m, 3, true, 900, 300);
	m.b[m.n - 33] = 28; /* RDLENGTH 32 -> 28 */
	m.n -= 4;
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n),
	    CACHE_INSERT_MALFORMED, "an SOA with short RDATA is malformed");
	cache_free(cache);
}

/* ---- what is never stored ------------------------------------------------ */

static void
check_uncacheable(void)
{
	struct cache *cache = new_cache(100, 1 << 20, 1);
	struct test_client c, any;
	struct msg m;
	struct cache_stats s;

	client_for(&c, cache, "www.example.test", T_A, 0);
	answer_a(&m, "www.example.test", T_A, 300);
	m.b[2] |= 0x02;
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n),
	    CACHE_INSERT_TRUNCATED, "TC answers are not stored");
	answer_a(&m, "www.example.test", T_A, 300);
	m.b[3] = 0x82;
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n), CACHE_INSERT_RCODE,
	    "SERVFAIL is not stored");
	m.b[3] = 0x85;
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n), CACHE_INSERT_RCODE,
	    "REFUSED is not stored");
	ok(!lookup(cache, &c, 0), "none of them is served");

	/* An extended RCODE in the upstream's OPT (BADCOOKIE and the like). */
	answer_a(&m, "www.example.test", T_A, 300);
	set_count(&m, 3, 1);
	put_opt(&m, 0x01000000);
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n), CACHE_INSERT_RCODE,
	    "an extended RCODE is not stored");

	/* The OPT record and what follows it are dropped. */
	header(&m, 0x81, 0x80, 1, 1, 0, 3);
	put_name(&m, "www.example.test");
	put16(&m, T_A);
	put16(&m, C_IN);
	put_rr_q(&m, T_A, 300, addr1, 4);
	put16(&m, 0xc010);
	put_rr_tail(&m, T_A, 600, addr2, 4);
	size_t before_opt = m.n;
	put_opt(&m, 0x8000);
	put16(&m, 0xc010);
	put_rr_tail(&m, 250 /* TSIG */, 0, addr2, 4);
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n), CACHE_INSERT_STORED,
	    "an answer with OPT and a record after it is stored");
	bool hit = lookup(cache, &c, 0);
	ok(hit && outlen == before_opt,
	    "the OPT record and what follows are dropped (%zu bytes)", outlen);
	is_int(get16(out + 10), 1, "ARCOUNT counts the one record kept");
	uint32_t ttls[4] = { 0 };
	is_int(record_ttls(out, outlen, ttls, 4), 2,
	    "the stored answer parses to its end");

	/* ANY is answered positively by whatever the answer holds. */
	client_for(&any, cache, "www.example.test", T_ANY, 0);
	answer_a(&m, "www.example.test", T_ANY, 300);
	m.b[m.n - 13] = T_MX; /* the record's type (low byte): MX */
	is_int(cache_insert(cache, &any.key, 0, m.b, m.n),
	    CACHE_INSERT_STORED, "an answer to ANY is positive");

	s = stats_of(cache);
	is_int(s.uncacheable, 4, "stats: four answers refused by policy");
	is_int(s.malformed, 0, "stats: none malformed");

	cache_free(cache);
	cache = new_cache(0, 1 << 20, 1);
	answer_a(&m, "www.example.test", T_A, 300);
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n), CACHE_INSERT_DISABLED,
	    "max-entries 0: nothing is stored");
	cache_free(cache);
}

/* ---- hostile answers ----------------------------------------------------- */

/* Inserts m for www.example.test A and checks that it is refused. */
static void
refused(struct cache *cache, const struct msg *m,
    enum cache_insert_result want, const char *what)
{
	struct test_client c;

	client_for(&c, cache, "www.example.test", T_A, 0);
	is_int(cache_insert(cache, &c.key, 0, m->b, m->n), want,
	    "refused: %s", what);
}

/* The start of an answer: header with counts, question; no records. */
static void
answer_head(struct msg *m, unsigned an, unsigned ns, unsigned ar)
{
	header(m, 0x81, 0x80, 1, an, ns, ar);
	put_name(m, "www.example.test");
	put16(m, T_A);
	put16(m, C_IN);
}

static void
check_malformed(void)
{
	struct cache *cache = new_cache(100, 1 << 20, 1);
	struct msg m;

	answer_a(&m, "www.example.test", T_A, 300);
	set_count(&m, 1, 5);
	refused(cache, &m, CACHE_INSERT_MALFORMED, "ANCOUNT past the end");
	answer_a(&m, "www.example.test", T_A, 300);
	set_count(&m, 3, 65535);
	refused(cache, &m, CACHE_INSERT_MALFORMED, "ARCOUNT 65535");
	answer_a(&m, "www.example.test", T_A, 300);
	m.b[m.n - 15] = 0x0c + 40; /* owner c00c -> c034, ahead */
	refused(cache, &m, CACHE_INSERT_MALFORMED, "a forward pointer");

	answer_head(&m, 1, 0, 0);
	put16(&m, 0xc000 | (unsigned)m.n); /* points at itself */
	put_rr_tail(&m, T_A, 300, addr1, 4);
	refused(cache, &m, CACHE_INSERT_MALFORMED, "a pointer to itself");

	answer_head(&m, 2, 0, 0);
	size_t first = m.n;
	put8(&m, 1);
	put8(&m, 'a');
	put16(&m, 0xc000 | (unsigned)(first + 3 + 10 + 4)); /* ahead: to B */
	put_rr_tail(&m, T_A, 300, addr1, 4);
	put16(&m, 0xc000 | (unsigned)first); /* B: back to A */
	put_rr_tail(&m, T_A, 300, addr1, 4);
	refused(cache, &m, CACHE_INSERT_MALFORMED, "a loop A -> B -> A");

	answer_a(&m, "www.example.test", T_A, 300);
	m.b[m.n - 15] = 0x05;
	refused(cache, &m, CACHE_INSERT_MALFORMED, "a pointer into the header");

	answer_head(&m, 1, 0, 0);
	put8(&m, 40);
	put8(&m, 'a');
	refused(cache, &m, CACHE_INSERT_MALFORMED, "a label past the end");

	answer_head(&m, 1, 0, 0);
	put8(&m, 0xc0);
	refused(cache, &m, CACHE_INSERT_MALFORMED, "a pointer cut in half");

	answer_head(&m, 1, 0, 0);
	put8(&m, 0x41);
	put8(&m, 0);
	put_rr_tail(&m, T_A, 300, addr1, 4);
	refused(cache, &m, CACHE_INSERT_MALFORMED, "a reserved label type");

	answer_a(&m, "www.example.test", T_A, 300);
	m.b[m.n - 5] = 5;
	refused(cache, &m, CACHE_INSERT_MALFORMED, "RDLENGTH past the end");
	answer_a(&m, "www.example.test", T_A, 300);
	put8(&m, 0);
	refused(cache, &m, CACHE_INSERT_MALFORMED, "a byte after the records");
	answer_a(&m, "www.example.test", T_A, 300);
	m.n -= 1;
	refused(cache, &m, CACHE_INSERT_MALFORMED, "the last byte missing");

	/* Four owners of 63 + 1 octets, each ending with a pointer to the
	 * one before: the fourth name is 18 + 4 * 64 > 255 octets. */
	answer_head(&m, 4, 0, 0);
	size_t prev = 12;
	for (int i = 0; i < 4; i++) {
		size_t here = m.n;
		put8(&m, 63);
		memset(m.b + m.n, 'x', 63);
		m.n += 63;
		put16(&m, 0xc000 | (unsigned)prev);
		put_rr_tail(&m, T_A, 300, addr1, 4);
		prev = here;
	}
	refused(cache, &m, CACHE_INSERT_MALFORMED,
	    "a name over 255 octets through pointers");

	/* 40 pointers, each to the one before it. */
	answer_head(&m, 41, 0, 0);
	size_t pointer = 12;
	for (int i = 0; i < 41; i++) {
		size_t here = m.n;
		put16(&m, 0xc000 | (unsigned)pointer);
		put_rr_tail(&m, T_A, 300, addr1, 4);
		pointer = here;
	}
	refused(cache, &m, CACHE_INSERT_MALFORMED,
	    "a name through a chain of 40 pointers");

	/* The second owner points at the last octet of the first record's
	 * rdata, a label of 4 that runs on over the pointer itself. */
	answer_head(&m, 2, 0, 0);
	put_rr_q(&m, T_A, 300, "qqq\4", 4);
	put16(&m, 0xc000 | (unsigned)(m.n - 1));
	put_rr_tail(&m, T_A, 300, addr1, 4);
	refused(cache, &m, CACHE_INSERT_MALFORMED,
	    "labels reached through a pointer run past the name");

	answer_head(&m, 1, 0, 0);
	put_opt(&m, 0);
	refused(cache, &m, CACHE_INSERT_MALFORMED, "OPT in the answer section");
	answer_a(&m, "www.example.test", T_A, 300);
	set_count(&m, 3, 2);
	put_opt(&m, 0);
	put_opt(&m, 0);
	refused(cache, &m, CACHE_INSERT_MALFORMED, "two OPT records");
	answer_a(&m, "www.example.test", T_A, 300);
	set_count(&m, 3, 1);
	put16(&m, 0xc00c);
	put16(&m, T_OPT);
	put16(&m, 1232);
	put32(&m, 0);
	put16(&m, 0);
	refused(cache, &m, CACHE_INSERT_MALFORMED, "an OPT not owned by root");

	answer_a(&m, "www.example.test", T_A, 300);
	set_count(&m, 0, 0);
	refused(cache, &m, CACHE_INSERT_MISMATCH, "QDCOUNT 0");
	answer_a(&m, "www.example.test", T_A, 300);
	set_count(&m, 0, 2);
	refused(cache, &m, CACHE_INSERT_MISMATCH, "QDCOUNT 2");
	answer_a(&m, "www.example.tesu", T_A, 300);
	refused(cache, &m, CACHE_INSERT_MISMATCH, "another name");
	answer_a(&m, "www.example.test", T_AAAA, 300);
	refused(cache, &m, CACHE_INSERT_MISMATCH, "another type");
	answer_a(&m, "www.example.test", T_A, 300);
	m.b[2] &= 0x7f;
	refused(cache, &m, CACHE_INSERT_MISMATCH, "QR clear");
	answer_a(&m, "www.example.test", T_A, 300);
	m.b[2] |= 2 << 3;
	refused(cache, &m, CACHE_INSERT_MISMATCH, "opcode STATUS");
	answer_a(&m, "www.example.test", T_A, 300);
	m.n = 11;
	refused(cache, &m, CACHE_INSERT_MALFORMED, "11 bytes");
	m.n = 12 + 10;
	refused(cache, &m, CACHE_INSERT_MISMATCH, "a question cut short");

	struct test_client c;
	client_for(&c, cache, "www.example.test", T_A, 0);
	static uint8_t huge[65536 + 16];
	memcpy(huge, m.b, 64);
	is_int(cache_insert(cache, &c.key, 0, huge, sizeof(huge)),
	    CACHE_INSERT_MALFORMED, "refused: more than 65535 bytes");

	struct cache_stats s = stats_of(cache);
	ok(s.entries == 0 && s.inserts == 0, "nothing malformed was stored");
	is_int(s.malformed, 27, "stats: every refusal counted as malformed");
	cache_free(cache);
}

/*
 * Every single-byte change of a valid answer, and random runs of them:
 * nothing crashes (ASan would say), and what is stored parses to its end
 * when served.
 */
static void
check_mutations(void)
{
	struct cache *cache = new_cache(100, 1 << 20, 1);
	struct test_client c;
	struct msg base, m;
	uint32_t ttls[64] = { 0 };
	unsigned seed = 12345, stored = 0, broken = 0;

	client_for(&c, cache, "www.example.test", T_A, 0);
	header(&base, 0x81, 0x80, 1, 1, 1, 1);
	put_name(&base, "www.example.test");
	put16(&base, T_A);
	put16(&base, C_IN);
	put_rr_q(&base, T_A, 300, addr1, 4);
	put_soa(&base, 300, 60);
	put_opt(&base, 0);
	for (int i = 0; i < 40000; i++) {
		m = base;
		int changes = i < (int)base.n * 8 ? 1 : 1 + (int)(seed % 4);
		for (int k = 0; k < changes; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = i < (int)base.n * 8 ? (size_t)i / 8 :
			    (seed >> 8) % base.n;
			m.b[at] ^= (uint8_t)(i < (int)base.n * 8 ?
			    1u << (i % 8) : seed >> 24);
		}
		if (i % 7 == 0)
			m.n = (seed >> 4) % (base.n + 1);
		if (cache_insert(cache, &c.key, 0, m.b, m.n) !=
		    CACHE_INSERT_STORED)
			continue;
		stored++;
		if (!lookup(cache, &c, 0) ||
		    record_ttls(out, outlen, ttls, 64) < 0)
			broken++;
	}
	ok(stored > 0 && broken == 0, "mutations: %u of 40000 stored, all "
	    "served parse to their end (%u did not)", stored, broken);

	cache_free(cache);
}

/*
 * Found by fuzz/cache-fuzz.c: the authority record's owner points into the
 * answer record, and its labels run across that record's TTL field.
 * Storing rewrites the TTL (clamped to max-ttl), which changed the labels;
 * a second walk over the copy then found other records than the first and
 * wrote TTL offsets over the stored header. Now such a name is malformed,
 * and the second walk reads the answer, not the copy.
 */
static void
check_pointer_into_ttl(void)
{
	static const char hex[] =
	    "29008000000100010001000203777777076578616d706c650474657374"
	    "0000010001c00c000100010100092c00025b01c0257fcf415c0200000000"
	    "00000000001000000d0000000000290000000080000000";
	struct cache *cache = new_cache(10, 1 << 20, 1);
	struct test_client c;
	struct msg m = { .n = 0 };

	for (size_t i = 0; hex[i] != '\0'; i += 2) {
		unsigned v;
		sscanf(hex + i, "%2x", &v);
		put8(&m, v);
	}
	client_for(&c, cache, "www.example.test", T_A, 0);
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n),
	    CACHE_INSERT_MALFORMED, "a name read through a TTL field: refused");
	/* The same answer with the owner pointing at the question. */
	m.b[49] = 0x0c;
	is_int(cache_insert(cache, &c.key, 0, m.b, m.n), CACHE_INSERT_STORED,
	    "the same answer with a sound pointer is stored");
	ok(lookup(cache, &c, 0) && out[2] == 0x80 && out[3] == 0x80 &&
	    get16(out + 10) == 1 && outlen == 71,
	    "its header is intact, the OPT record dropped");
	cache_free(cache);
}

/* ---- size limits and LRU ------------------------------------------------- */

static void
name_n(char *buf, size_t len, int i)
{
	snprintf(buf, len, "h%03d.example.test", i);
}

static enum cache_insert_result
insert_n(struct cache *cache, int i, uint64_t now, uint32_t ttl)
{
	struct test_client c;
	struct msg m;
	char name[64];

	name_n(name, sizeof(name), i);
	client_for(&c, cache, name, T_A, 0);
	answer_a(&m, name, T_A, ttl);
	return cache_insert(cache, &c.key, now, m.b, m.n);
}

static bool
hit_n(struct cache *cache, int i, uint64_t now)
{
	struct test_client c;
	char name[64];

	name_n(name, sizeof(name), i);
	client_for(&c, cache, name, T_A, 0);
	return lookup(cache, &c, now);
}

static void
check_lru(void)
{
	struct cache *cache = new_cache(3, 1 << 20, 1);
	struct cache_stats s;

	insert_n(cache, 1, 0, 300);
	insert_n(cache, 2, 0, 300);
	insert_n(cache, 3, 0, 300);
	ok(hit_n(cache, 1, 0), "lru: 1 used, 2 is now the oldest");
	insert_n(cache, 4, 0, 300);
	ok(!hit_n(cache, 2, 0), "lru by entries: 2 evicted");
	ok(hit_n(cache, 1, 0) && hit_n(cache, 3, 0) && hit_n(cache, 4, 0),
	    "lru by entries: 1, 3 and 4 kept");
	s = stats_of(cache);
	is_int(s.entries, 3, "lru: three entries");
	is_int(s.evictions, 1, "lru: one eviction");
	insert_n(cache, 5, 400, 300);
	is_int(stats_of(cache).expired, 1,
	    "lru: an expired entry pushed out counts as expired");
	size_t entry_bytes = stats_of(cache).bytes / 3;
	cache_free(cache);

	/* Room for two and a half entries of this size. */
	cache = new_cache(100, entry_bytes * 5 / 2, 1);
	insert_n(cache, 1, 0, 300);
	insert_n(cache, 2, 0, 300);
	ok(hit_n(cache, 1, 0), "lru by bytes: 1 used");
	insert_n(cache, 3, 0, 300);
	ok(!hit_n(cache, 2, 0) && hit_n(cache, 1, 0) && hit_n(cache, 3, 0),
	    "lru by bytes: 2 evicted, 1 and 3 kept");
	s = stats_of(cache);
	ok(s.entries == 2 && s.bytes <= entry_bytes * 5 / 2,
	    "lru by bytes: %zu entries, %zu bytes", s.entries, s.bytes);
	cache_free(cache);

	cache = new_cache(100, entry_bytes - 1, 1);
	is_int(insert_n(cache, 1, 0, 300), CACHE_INSERT_TOO_BIG,
	    "an answer larger than max-bytes is not stored");
	cache_free(cache);
}

static void
check_flags(void)
{
	struct cache *cache = new_cache(100, 1 << 20, 2);
	struct test_client plain, dnssec, cd;
	struct msg m;

	client_for(&plain, cache, "www.example.test", T_A, 0);
	client_for(&dnssec, cache, "www.example.test", T_A, CACHE_KEY_DO);
	client_for(&cd, cache, "www.example.test", T_A,
	    CACHE_KEY_DO | CACHE_KEY_CD);
	answer_a(&m, "www.example.test", T_A, 300);
	cache_insert(cache, &dnssec.key, 0, m.b, m.n);
	ok(!lookup(cache, &plain, 0), "DO: an answer for DO=1 misses DO=0");
	ok(lookup(cache, &dnssec, 0), "DO: and hits DO=1");
	ok(!lookup(cache, &cd, 0), "CD: separates entries too");
	memcpy(m.b + m.n - 4, addr2, 4);
	cache_insert(cache, &plain.key, 0, m.b, m.n);
	ok(lookup(cache, &plain, 0) && memcmp(out + outlen - 4, addr2, 4) == 0,
	    "DO: each bit value has its own entry");
	ok(lookup(cache, &dnssec, 0) && memcmp(out + outlen - 4, addr1, 4) == 0,
	    "DO: the DO=1 entry is untouched");

	/* Byte 3 as a non-validating forwarder relays it (RFC 6840 5.7-5.8):
	 * the upstream's AD kept for DO (or AD) clients only, CD the
	 * client's, Z dropped, RA set. */
	m.b[3] = 0x20 | 0x40;	/* AD and Z from upstream, CD not echoed */
	cache_insert(cache, &plain.key, 0, m.b, m.n);
	cache_insert(cache, &cd.key, 0, m.b, m.n);
	ok(lookup(cache, &plain, 0) && out[3] == 0x80,
	    "flags: AD cleared for a client without AD or DO, Z cleared, RA "
	    "set (got 0x%02x)", out[3]);
	ok(lookup(cache, &cd, 0) && out[3] == (0x80 | 0x20 | 0x10),
	    "flags: AD kept for a DO client, CD echoed (got 0x%02x)", out[3]);
	cache_free(cache);
}

/* ---- allocation ---------------------------------------------------------- */

static void
check_no_alloc_on_hit(void)
{
	struct cache *cache = new_cache(1000, 1 << 20, 4);
	struct test_client c;
	size_t before;
	int hits = 0;

	before = allocs;
	is_int(insert_n(cache, 7, 0, 300), CACHE_INSERT_STORED,
	    "alloc: stored through the counting allocator");
	ok(allocs > before, "alloc: storing allocates (%zu)", allocs - before);
	client_for(&c, cache, "H007.example.test", T_A, 0);
	before = allocs;
	for (int i = 0; i < 1000; i++)
		hits += lookup(cache, &c, (uint64_t)i % 300);
	is_int(hits, 1000, "alloc: 1000 hits");
	is_int(allocs - before, 0, "alloc: no allocation on a hit");
	before = allocs;
	for (int i = 0; i < 100; i++)
		hit_n(cache, 100 + i, 0);
	is_int(allocs - before, 0, "alloc: none on a miss either");
	cache_free(cache);
}

/* ---- shards and threads -------------------------------------------------- */

struct worker {
	struct cache *cache;
	int first;
	int hits;
};

/* Each thread has its own buffer; the cache is the only thing shared. */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	uint8_t buf[512];
	size_t len;

	for (int round = 0; round < 20; round++) {
		for (int i = w->first; i < w->first + 200; i++) {
			struct test_client c;
			char name[64];
			if (round == 0) {
				insert_n(w->cache, i, 0, 300);
				continue;
			}
			name_n(name, sizeof(name), i);
			client_for(&c, w->cache, name, T_A, 0);
			w->hits += cache_lookup(w->cache, &c.key,
			    (uint64_t)round, &c.cc, buf, sizeof(buf), &len);
		}
	}
	return NULL;
}

static void
check_shards(void)
{
	struct cache_config conf;
	struct cache *cache = NULL;
	unsigned counts[8] = { 0 }, low = ~0u, high = 0;

	cache_config_defaults(&conf);
	conf.shards = 12;
	cache_new(&cache, &conf);
	is_int(cache_shard_count(cache), 8, "shards: 12 rounds down to 8");
	cache_free(cache);
	conf.shards = 16;
	conf.max_entries = 3;
	cache_new(&cache, &conf);
	is_int(cache_shard_count(cache), 2,
	    "shards: no more shards than entries");
	cache_free(cache);
	conf.shards = CACHE_SHARDS_MAX * 2;
	is_int(cache_new(&cache, &conf), -EINVAL, "shards: too many refused");

	/* The top bits of the hash spread keys evenly. The allocator is
	 * malloc: the counting one is not meant for threads. */
	cache_config_defaults(&conf);
	conf.shards = 8;
	cache_new(&cache, &conf);
	for (int i = 0; i < 800; i++) {
		struct test_client c;
		char name[64];
		name_n(name, sizeof(name), i);
		client_for(&c, cache, name, T_A, 0);
		counts[c.key.hash >> 61]++;
	}
	for (int i = 0; i < 8; i++) {
		low = counts[i] < low ? counts[i] : low;
		high = counts[i] > high ? counts[i] : high;
	}
	ok(low >= 60 && high <= 140, "shards: 800 keys spread %u..%u per "
	    "shard", low, high);

	/* Two threads store and look up 200 names each, at once. */
	struct worker w[2] = { { cache, 0, 0 }, { cache, 200, 0 } };
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, worker_run, &w[i]) != 0)
			bail("pthread_create failed");
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ok(w[0].hits == 19 * 200 && w[1].hits == 19 * 200,
	    "threads: every lookup hit (%d, %d)", w[0].hits, w[1].hits);
	struct cache_stats s = stats_of(cache);
	ok(s.entries == 400 && s.hits == 2 * 19 * 200 && s.inserts == 400,
	    "threads: the shards' counters add up (%zu entries, %llu hits)",
	    s.entries, (unsigned long long)s.hits);
	cache_free(cache);
}

/* ---- in-flight merging --------------------------------------------------- */

struct calls {
	void *cookies[16];
	int n;
	struct inflight *table;
	struct inflight_waiter *cancel;	/* cancelled by the first call */
	struct inflight_waiter *rejoin;	/* joins the key in the first call */
	const struct cache_key *key;
	int rejoin_result;
};

static void
record_call(void *arg, void *cookie)
{
	struct calls *calls = arg;

	if (calls->n == 0 && calls->cancel != NULL)
		inflight_cancel_waiter(calls->table, calls->cancel, NULL);
	if (calls->n == 0 && calls->rejoin != NULL)
		calls->rejoin_result = inflight_join(calls->table, calls->key,
		    calls->rejoin);
	if (calls->n < 16)
		calls->cookies[calls->n] = cookie;
	calls->n++;
}

static void
free_waiter(void *arg, void *cookie)
{
	(*(int *)arg)++;
	free(cookie);
}

static struct inflight *
new_table(unsigned max_waiters, unsigned buckets)
{
	struct inflight_config conf;
	struct inflight *table = NULL;

	inflight_config_defaults(&conf);
	conf.max_waiters = max_waiters;
	conf.buckets = buckets;
	conf.alloc = count_alloc;
	if (inflight_new(&table, &conf) != 0)
		bail("inflight_new failed");
	return table;
}

static void
check_inflight_join(void)
{
	struct cache *cache = new_cache(10, 1 << 20, 1);
	struct inflight *table = new_table(3, 16);
	struct test_client a, b;
	struct inflight_waiter w[6];
	int cookie[6];
	size_t before;

	client_for(&a, cache, "www.example.test", T_A, 0);
	client_for(&b, cache, "www.example.test", T_A, CACHE_KEY_DO);
	for (int i = 0; i < 6; i++)
		inflight_waiter_init(&w[i], &cookie[i]);
	ok(!inflight_waiting(&w[0]),
	    "inflight: a new waiter waits for nothing");
	is_int(inflight_join(table, &a.key, &w[0]), INFLIGHT_NEW,
	    "inflight: the first query is NEW");
	inflight_set_pending(&w[0], &cookie[5]);
	before = allocs;
	is_int(inflight_join(table, &a.key, &w[1]), INFLIGHT_JOINED,
	    "inflight: the second JOINS");
	is_int(inflight_join(table, &a.key, &w[2]), INFLIGHT_JOINED,
	    "inflight: the third JOINS");
	is_int(allocs - before, 0, "inflight: joining allocates nothing");
	ok(inflight_pending(&w[2]) == &cookie[5],
	    "inflight: every waiter sees the pending upstream query");
	is_int(inflight_join(table, &a.key, &w[3]), INFLIGHT_FULL,
	    "inflight: the fourth finds the key FULL (cap 3)");
	ok(!inflight_waiting(&w[3]), "inflight: a FULL waiter is not waiting");
	is_int(inflight_join(table, &a.key, &w[1]), INFLIGHT_FULL,
	    "inflight: a waiter already waiting cannot join again");
	is_int(inflight_join(table, &b.key, &w[3]), INFLIGHT_NEW,
	    "inflight: DO=1 is another key");
	is_int(inflight_count(table, &a.key), 3, "inflight: three wait for A");

	struct calls calls = { .n = 0 };
	is_int(inflight_complete(table, &a.key, record_call, &calls), 3,
	    "inflight: complete calls three waiters");
	ok(calls.n == 3 && calls.cookies[0] == &cookie[0] &&
	    calls.cookies[1] == &cookie[1] && calls.cookies[2] == &cookie[2],
	    "inflight: in the order they joined, with their cookies");
	ok(!inflight_waiting(&w[0]) && inflight_pending(&w[0]) == NULL,
	    "inflight: completed waiters wait no more");
	is_int(inflight_count(table, &a.key), 0, "inflight: A is gone");
	is_int(inflight_count(table, &b.key), 1, "inflight: B is still there");
	is_int(inflight_complete(table, &a.key, record_call, &calls), 0,
	    "inflight: completing a key not pending calls nobody");
	is_int(inflight_join(table, &a.key, &w[0]), INFLIGHT_NEW,
	    "inflight: after completion, the key is NEW again");

	struct inflight_stats s;
	inflight_stats(table, &s);
	ok(s.started == 3 && s.merged == 2 && s.full == 2 &&
	    s.completed == 3 && s.keys == 2 && s.waiters == 2,
	    "inflight: stats started %llu merged %llu full %llu completed "
	    "%llu keys %zu waiters %zu", (unsigned long long)s.started,
	    (unsigned long long)s.merged, (unsigned long long)s.full,
	    (unsigned long long)s.completed, s.keys, s.waiters);
	inflight_free(table);
	cache_free(cache);
}

static void
check_inflight_cancel(void)
{
	struct cache *cache = new_cache(10, 1 << 20, 1);
	struct inflight *table = new_table(64, 4);
	struct test_client a;
	struct inflight_waiter w[4];
	int cookie[4], upstream;
	void *pending = NULL;
	struct calls calls = { .n = 0 };

	client_for(&a, cache, "www.example.test", T_A, 0);
	for (int i = 0; i < 4; i++)
		inflight_waiter_init(&w[i], &cookie[i]);
	ok(!inflight_cancel_waiter(table, &w[0], &pending),
	    "cancel: a waiter not waiting is a no-op");
	inflight_join(table, &a.key, &w[0]);
	inflight_set_pending(&w[0], &upstream);
	inflight_join(table, &a.key, &w[1]);
	inflight_join(table, &a.key, &w[2]);
	ok(!inflight_cancel_waiter(table, &w[1], &pending),
	    "cancel: a waiter in the middle leaves, others remain");
	is_int(inflight_count(table, &a.key), 2, "cancel: two left");
	is_int(inflight_complete(table, &a.key, record_call, &calls), 2,
	    "cancel: the cancelled waiter is not called");
	ok(calls.cookies[0] == &cookie[0] && calls.cookies[1] == &cookie[2],
	    "cancel: the others are, in order");

	inflight_join(table, &a.key, &w[0]);
	inflight_set_pending(&w[0], &upstream);
	inflight_join(table, &a.key, &w[1]);
	ok(!inflight_cancel_waiter(table, &w[0], &pending),
	    "cancel: the first waiter may leave before the others");
	ok(inflight_pending(&w[1]) == &upstream,
	    "cancel: the upstream query stays with the others");
	ok(inflight_cancel_waiter(table, &w[1], &pending) &&
	    pending == &upstream, "cancel: the last one out gets the "
	    "upstream query to abandon");
	is_int(inflight_count(table, &a.key), 0, "cancel: the key is gone");

	/* Cancelling and re-joining from inside the callbacks. */
	inflight_join(table, &a.key, &w[0]);
	inflight_join(table, &a.key, &w[1]);
	inflight_join(table, &a.key, &w[2]);
	calls = (struct calls){ .table = table, .cancel = &w[2],
		.rejoin = &w[3], .key = &a.key };
	is_int(inflight_complete(table, &a.key, record_call, &calls), 2,
	    "complete: a waiter cancelled by an earlier callback is skipped");
	is_int(calls.rejoin_result, INFLIGHT_NEW,
	    "complete: joining the key from a callback starts a new entry");
	ok(inflight_count(table, &a.key) == 1 && inflight_waiting(&w[3]) &&
	    !inflight_waiting(&w[2]), "complete: only the new waiter waits");
	inflight_cancel_waiter(table, &w[3], NULL);

	/* Waiters freed by their callback (ASan checks the rest). */
	int freed = 0;
	for (int i = 0; i < 5; i++) {
		struct inflight_waiter *hw = malloc(sizeof(*hw));
		if (hw == NULL)
			bail("malloc failed");
		inflight_waiter_init(hw, hw);
		inflight_join(table, &a.key, hw);
	}
	is_int(inflight_complete(table, &a.key, free_waiter, &freed), 5,
	    "complete: callbacks may free their waiters");

	/* Many keys in few buckets. */
	struct inflight_waiter many[300];
	int joined_new = 0;
	size_t calls_total = 0;
	for (int i = 0; i < 300; i++) {
		struct test_client c;
		char name[64];
		name_n(name, sizeof(name), i);
		client_for(&c, cache, name, T_A, 0);
		inflight_waiter_init(&many[i], &many[i]);
		joined_new += inflight_join(table, &c.key, &many[i]) ==
		    INFLIGHT_NEW;
	}
	for (int i = 0; i < 300; i++) {
		struct test_client c;
		char name[64];
		name_n(name, sizeof(name), i);
		client_for(&c, cache, name, T_A, 0);
		calls = (struct calls){ .n = 0 };
		calls_total += inflight_complete(table, &c.key, record_call,
		    &calls);
	}
	ok(joined_new == 300 && calls_total == 300,
	    "many keys in 4 buckets: 300 NEW, 300 completed");
	struct inflight_stats s;
	inflight_stats(table, &s);
	ok(s.keys == 0 && s.waiters == 0 && s.cancelled == 5,
	    "cancel: stats (keys %zu, waiters %zu, cancelled %llu)", s.keys,
	    s.waiters, (unsigned long long)s.cancelled);

	struct inflight_config conf;
	struct inflight *bad = NULL;
	inflight_config_defaults(&conf);
	conf.max_waiters = 0;
	is_int(inflight_new(&bad, &conf), -EINVAL,
	    "inflight: max-waiters 0 refused");
	inflight_join(table, &a.key, &w[0]);
	inflight_free(table); /* with a key still pending: no leak */
	inflight_free(NULL);
	cache_free(NULL);
	cache_free(cache);
}

int
main(void)
{
	plan_lazy();
	check_keys();
	check_hit_and_miss();
	check_ttl_countdown();
	check_ttl_clamp();
	check_negative();
	check_uncacheable();
	check_malformed();
	check_mutations();
	check_pointer_into_ttl();
	check_lru();
	check_flags();
	check_no_alloc_on_hit();
	check_shards();
	check_inflight_join();
	check_inflight_cancel();
	ok(dressed > 1000 && dressed_differ == 0, "every hit of these tests "
	    "(%u) dressed in place reads as dns_build_answer() dresses it, "
	    "for 12 kinds of client (%u differ)", dressed, dressed_differ);
	return tap_failures() != 0;
}
