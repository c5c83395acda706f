/*
 * cache.h - miodnsd's answer cache: forwarded answers kept as whole wire
 * messages and served again, to clients asking the same question, with
 * their TTLs counted down.
 *
 * It is a packet cache, not an RRset cache: an entry answers exactly one
 * key, so no record of an upstream's answer can ever answer a different
 * question (the out-of-bailiwick poisoning an RRset cache must guard
 * against cannot happen here).
 *
 * The key is the part of a query that shapes the upstream's answer: the
 * lower-cased query name, type, class and the header bits the daemon copies
 * into the upstream query (DO, CD, AD, RD). Two queries share an entry, and
 * may share one upstream query (inflight.h), exactly when the daemon would
 * send the same upstream query for both, the name's case aside. The caller
 * computes a key once per query with cache_key_init(), which lower-cases
 * and hashes the name in one pass, and uses it for cache_lookup(),
 * cache_insert() and inflight_join(); nothing hashes twice.
 *
 * What is stored (cache_insert()): NOERROR answers and, per RFC 2308,
 * negative answers (NXDOMAIN, and NODATA, which is NOERROR without a record
 * of the query type, perhaps after a CNAME chain) that carry an SOA in the
 * authority section. What is not: truncated (TC) answers, any other RCODE
 * (SERVFAIL above all, which would pin an upstream's passing failure for a
 * whole TTL), negative answers without an SOA (RFC 2308 5: SHOULD NOT be
 * cached), answers with an extended RCODE, and anything malformed. The
 * upstream's OPT record and whatever follows it are dropped (RFC 6891
 * 6.1.1: OPT is never cached); the AA bit is cleared, since an answer from
 * a cache is not authoritative; and header byte 3 is stored as
 * dns_relay_flags2() (dns.h) dresses it for the key's clients: RA set
 * (the pipeline looks the cache up only for clients offered recursion),
 * CD the key's, the upstream's AD only for a key with AD or DO, so that a
 * hit needs no change to it.
 *
 * TTLs are clamped into [min_ttl, max_ttl] when stored (a TTL with its top
 * bit set counts as 0, RFC 2181 8). A negative answer's SOA gets the
 * negative TTL, min(SOA TTL, SOA MINIMUM), capped by max_negative_ttl. An
 * entry lives as long as its smallest clamped TTL; every TTL it serves is
 * its stored TTL less the whole seconds since it was stored, so the
 * smallest reaches 0 exactly when the entry expires. The cache never reads
 * a clock: every call that needs the time takes `now`, in seconds of a
 * monotonic clock.
 *
 * Size: at most max_entries entries and max_bytes bytes (each entry counts
 * its whole allocation: header, TTL offsets and message), least recently
 * used entries evicted first. The bucket arrays, one pointer per entry
 * allowed, come on top.
 *
 * Threads: the cache is split into shards, each with its own mutex, LRU
 * list, hash buckets and counters, and a key's shard is chosen by the top
 * bits of its hash. Every function may be called from any number of threads
 * at once; two threads only wait for each other when their keys fall into
 * the same shard. Limits are divided evenly among the shards, so LRU order
 * is kept per shard, not globally. Lookups never allocate: a hit copies the
 * stored message into the caller's buffer under the shard's lock.
 *
 * The calls for one client query (dq from dns_parse_query(), now in
 * seconds of a monotonic clock):
 *
 *	flags = (dq.edns_do ? CACHE_KEY_DO : 0) |
 *	    (dq.flags2 & 0x10 ? CACHE_KEY_CD : 0) |
 *	    (dq.flags2 & 0x20 ? CACHE_KEY_AD : 0) |
 *	    (dq.flags1 & 0x01 ? CACHE_KEY_RD : 0);
 *	cache_key_init(&key, cache, dq.question, dq.question_len - 4,
 *	    dq.qtype, dq.qclass, flags);
 *	if (cache_lookup(cache, &key, now, &client, buf, sizeof(buf), &len))
 *		reply with dns_dress_hit(&reply, buf, len), or if that says
 *		the hit is too large, dns_build_answer(&reply, buf, ...);
 *	else inflight_join(table, &key, ...) (inflight.h), and for NEW
 *	send upstream; when the upstream answers:
 *		cache_insert(cache, &key, now, abuf, alen);
 *		inflight_complete(table, &key, ...);
 *
 * Either gives the client's RD and our OPT record; dns_build_answer(),
 * which does for a hit what it does for an upstream's answer, also keeps
 * to the client's size limit (TC). A hit that fits is dressed in place
 * without being parsed again, since it was checked when it was stored.
 */
#ifndef MIODNSD_CACHE_H
#define MIODNSD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns_query;

/* The longest name in wire form (RFC 1035 3.1). */
#define CACHE_NAME_MAX 255
/* The most shards a cache may have. */
#define CACHE_SHARDS_MAX 256

/* The query's header bits that are part of a key (cache_key_init()). */
enum cache_key_flags {
	CACHE_KEY_DO = 1 << 0, /* EDNS DO: DNSSEC records wanted */
	CACHE_KEY_CD = 1 << 1, /* checking disabled: unvalidated data */
	CACHE_KEY_AD = 1 << 2, /* AD asked for (RFC 6840 5.7) */
	CACHE_KEY_RD = 1 << 3, /* recursion desired */
	CACHE_KEY_ALL = 0xf,
};

/*
 * A lookup key: filled by cache_key_init(), then only read. Keys are plain
 * values (copy them freely) and only mean something to the cache that made
 * them and to the inflight tables used with it.
 */
struct cache_key {
	uint64_t hash;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t flags;			/* cache_key_flags */
	uint8_t name_len;		/* 1..255 */
	/* Lower-cased, wire form; one spare octet, so that cache_key_init()
	 * can store the name's last word whole. */
	uint8_t name[CACHE_NAME_MAX + 1];
};

struct cache_config {
	size_t max_entries;		/* 0 disables storing */
	size_t max_bytes;		/* 0 disables storing */
	unsigned shards;		/* rounded down to a power of two */
	uint32_t min_ttl;		/* seconds, <= max_ttl */
	uint32_t max_ttl;
	uint32_t max_negative_ttl;	/* cap on RFC 2308 negative TTLs */
	/*
	 * The key of the keyed hash (SipHash-1-3). Fill it with random bytes
	 * (getrandom) so that clients cannot choose names that all land in
	 * one bucket (dnsmasq's CVE-2020-25685 was a guessable hash).
	 */
	uint8_t seed[16];
	/* Allocator for entries and tables; NULL for malloc and free. */
	void *(*alloc)(size_t size);
	void (*dealloc)(void *ptr);
};

/* The client a hit is written for. */
struct cache_client {
	uint16_t id;
	/* The question (name, type, class) exactly as the client sent it. */
	const uint8_t *question;
	size_t question_len;
};

enum cache_insert_result {
	CACHE_INSERT_STORED,
	CACHE_INSERT_DISABLED,	/* max_entries or max_bytes is 0 */
	CACHE_INSERT_MALFORMED,	/* framing, names, counts, OPT placement */
	CACHE_INSERT_MISMATCH,	/* not an answer to the key's question */
	CACHE_INSERT_TRUNCATED,	/* TC set */
	CACHE_INSERT_RCODE,	/* not NOERROR/NXDOMAIN, or extended RCODE */
	CACHE_INSERT_NO_SOA,	/* negative answer without an SOA */
	CACHE_INSERT_ZERO_TTL,	/* some record's TTL is 0 after clamping */
	CACHE_INSERT_TOO_BIG,	/* larger than a shard's share of max_bytes */
	CACHE_INSERT_NOMEM,
};

/* Counters, summed over the shards; entries and bytes are current. */
struct cache_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t inserts;	/* answers stored (replacements included) */
	uint64_t evictions;	/* live entries dropped for room */
	uint64_t expired;	/* entries dropped because their TTL ran out */
	uint64_t uncacheable;	/* answers refused by policy (TC, RCODE...) */
	uint64_t malformed;	/* answers refused as malformed or mismatched */
	size_t entries;
	size_t bytes;
};

struct cache;

/*
 * Defaults: 10000 entries, 8 MiB, 16 shards, TTLs clamped into [0, 86400]
 * (unbound's cache-max-ttl), negative TTLs capped at 3600 (unbound's
 * cache-max-negative-ttl), a zero seed and malloc. Thread-safe.
 */
void cache_config_defaults(struct cache_config *conf);

/*
 * Creates a cache. Returns 0 and the cache in *out, -EINVAL if min_ttl >
 * max_ttl or shards > CACHE_SHARDS_MAX, or -ENOMEM (from mutexes too).
 * The shard count is rounded down to a power of two (0 counts as 1) and
 * lowered until every shard may hold an entry.
 */
int cache_new(struct cache **out, const struct cache_config *conf);

/*
 * A cache is reference-counted, so that worker threads can each hold the
 * one in use while a reload replaces it: cache_ref() adds a reference and
 * returns the cache; cache_free() drops one (NULL is ignored), and the
 * last frees the cache and its entries. Both are thread-safe; the thread
 * that drops the last reference must be the last to use the cache.
 */
struct cache *cache_ref(struct cache *cache);
void cache_free(struct cache *cache);

/* The number of shards actually used. Thread-safe. */
unsigned cache_shard_count(const struct cache *cache);

/*
 * Fills key from an uncompressed wire name of exactly qname_len octets
 * (a client's question as dns_parse_query() found it), lower-casing and
 * hashing it in one pass with cache's seed. flags are cache_key_flags (the
 * bits outside CACHE_KEY_ALL are ignored). Returns 0, or -EINVAL if the
 * name is not well formed (a pointer or reserved label type, a label past
 * qname_len, no root label at the end, over 255 octets); *key is then
 * unusable. Thread-safe, allocates nothing.
 */
int cache_key_init(struct cache_key *key, const struct cache *cache,
    const uint8_t *qname, size_t qname_len, uint16_t qtype, uint16_t qclass,
    unsigned flags);

/*
 * cache_key_init() for the question of a query dns_parse_query() accepted
 * (verdict DNS_QUERY_OK): a trusted entry point that does not check the
 * name again, since the parser already has (one uncompressed name of at
 * most 255 octets, ending in the root label) and this runs on every cache
 * lookup. Anything else must go through cache_key_init().
 */
void cache_key_query(struct cache_key *key, const struct cache *cache,
    const struct dns_query *dq, unsigned flags);

/* Whether two keys are the same question. */
bool cache_key_equal(const struct cache_key *a, const struct cache_key *b);

/*
 * Looks key up at time now. On a hit, writes the stored answer into out
 * (cap bytes): the client's ID and question bytes, the stored flags (TC
 * and AA clear), every record's TTL less the seconds elapsed since it was
 * stored, and no OPT record; sets *outlen and returns true. The result is
 * shaped like an upstream's answer to the client's query, ready for
 * dns_dress_hit() or dns_build_answer(). Returns false on a miss, which
 * includes an expired entry (then freed), cap too small for the answer,
 * or a client question whose length does not match the key. Thread-safe;
 * never allocates.
 */
bool cache_lookup(struct cache *cache, const struct cache_key *key,
    uint64_t now, const struct cache_client *client, uint8_t *out, size_t cap,
    size_t *outlen);

/*
 * Stores an upstream's answer (alen bytes, as c-ares handed it over) to
 * key's question at time now, replacing an entry with the same key and
 * evicting least recently used entries until the new one fits. The answer
 * is checked first, with bounds on every read (compression pointers must
 * point backwards, names stay within 255 octets, no record may run past
 * the end or leave bytes after the last one); anything not cached is
 * counted and its reason returned. The answer is copied; the caller keeps
 * it. Thread-safe; the parsing and the copy happen outside the shard's
 * lock.
 */
enum cache_insert_result cache_insert(struct cache *cache,
    const struct cache_key *key, uint64_t now, const uint8_t *answer,
    size_t alen);

/* A word for a result, for logs ("stored", "truncated", ...). */
const char *cache_insert_result_str(enum cache_insert_result result);

/* Drops every entry (SIGHUP with a new upstream set). Counters are kept.
 * Thread-safe. */
void cache_flush(struct cache *cache);

/* Sums the shards' counters into *stats. Thread-safe; each shard is read
 * under its lock, so the sum is not one instant's. */
void cache_stats(struct cache *cache, struct cache_stats *stats);

#endif /* MIODNSD_CACHE_H */
