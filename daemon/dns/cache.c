/*
 * cache.c - the answer cache of cache.h: keys, checking and storing
 * upstream answers, serving them with aged TTLs, LRU eviction, shards.
 *
 * An entry is one allocation: the header below, the offsets of the TTL
 * field of every record it serves, and the stored message. Storing walks
 * the answer twice, both times outside the shard's lock: once to check it
 * and learn its size and lifetime, once more to note the TTL offsets and
 * write the clamped TTLs into the copy. Serving is then a memcpy, the
 * client's ID and question, and one subtraction per offset; no name is
 * parsed and nothing allocated on a hit.
 *
 * The stored question holds the key's lower-cased name, which makes the
 * entry its own key. A hit overwrites it with the client's question, and
 * since both have the same length every record keeps its offset and every
 * compression pointer into the question now reads the client's spelling.
 *
 * Every byte of an answer comes from the network. Reads are bounds-checked,
 * nothing is allocated by a count found in a message, and a compression
 * pointer must lead to a prior occurrence of the rest of its name: below
 * the labels that reached it, ending there, at most 32 hops, and reading no
 * TTL field. That forbids loops, bounds a name's cost, and means no octet a
 * stored name reads is ever rewritten or dropped: a cached name reads the
 * same at every hit as it did in the upstream's answer.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "cache.h"
#include "dns.h"

#define CACHE_HEADER 12
#define CACHE_MESSAGE_MAX 65535
#define CACHE_TYPE_SOA 6
#define CACHE_TYPE_OPT 41
#define CACHE_TYPE_ANY 255
#define CACHE_FLAG_QR 0x80
#define CACHE_FLAG_AA 0x04
#define CACHE_FLAG_TC 0x02
#define CACHE_RCODE_NOERROR 0
#define CACHE_RCODE_NXDOMAIN 3
/* RFC 2181 8: a TTL with the top bit set is taken as 0. */
#define CACHE_TTL_TOP_BIT 0x80000000u
/*
 * Compression pointers one name may follow. Compressors point at the first
 * occurrence of a suffix, which makes chains a few hops long; without a
 * cap, pointers to pointers two octets back make a name cost thousands.
 */
#define CACHE_POINTER_HOPS 32
/* Beyond this many buckets a shard's chains just grow longer. */
#define CACHE_BUCKETS_MAX ((size_t)1 << 20)
/* Shards are kept a cache line apart so that locks do not share one. */
#define CACHE_LINE 64

enum cache_section {
	CACHE_ANSWER,
	CACHE_AUTHORITY,
	CACHE_ADDITIONAL,
};

struct cache_entry {
	struct cache_entry *next;	/* in its bucket, or a list to free */
	TAILQ_ENTRY(cache_entry) lru;	/* most recently used first */
	uint64_t hash;
	uint64_t stored_at;
	uint64_t expires_at;		/* stored_at + the smallest TTL */
	size_t size;			/* the whole allocation */
	uint32_t msg_len;
	uint16_t ttl_count;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t flags;
	uint8_t name_len;
	uint16_t ttl_offset[];		/* followed by the message */
};

/*
 * A shard spans three cache lines: what every lookup writes (the lock and
 * the counters of hits and misses), what it only reads (the buckets and
 * limits), and what storing and LRU changes write. A lookup in another
 * thread then only takes the first line away from this one.
 */
struct cache_shard {
	_Alignas(CACHE_LINE) pthread_mutex_t lock;
	uint64_t hits, misses;
	_Alignas(CACHE_LINE) struct cache_entry **buckets;
	size_t bucket_mask;
	size_t max_entries, max_bytes;
	_Alignas(CACHE_LINE) TAILQ_HEAD(cache_lru, cache_entry) lru;
	size_t entries, bytes;
	uint64_t inserts, evictions, expired, uncacheable, malformed;
};

struct cache {
	struct cache_config conf;
	uint64_t sip_init[4];		/* SipHash state after the seed */
	unsigned shard_count;
	unsigned shard_shift;		/* hash >> shift picks the shard */
	bool disabled;
	atomic_uint refs;		/* cache_ref() and cache_free() */
	void *shards_mem;
	struct cache_shard *shards;
};

/* One record as found in a message. */
struct cache_rr {
	size_t start, ttl_off, rdata, end;
	uint16_t type;
	uint32_t ttl;
	bool root_owner;
};

/* What walking an answer learns, and, on the second walk, writes. */
struct cache_walk {
	const struct cache *cache;
	const uint8_t *msg;		/* the answer */
	size_t len;
	uint16_t qtype;
	bool nxdomain;
	bool positive;			/* a record of the query type */
	bool has_soa;
	bool after_opt;
	bool bad_ext_rcode;
	size_t keep;			/* bytes before the OPT record */
	unsigned kept_additional;
	unsigned ttl_count;
	uint32_t lifetime;
	/* Set on the second walk only: the entry and its copy of msg. */
	struct cache_entry *entry;
	uint8_t *copy;
	/* One bit per octet: the TTL fields of the records read so far.
	 * Last, so that only the octets a message needs are cleared. */
	uint8_t ttl_map[CACHE_MESSAGE_MAX / 8 + 1];
};

static uint16_t
cache_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
cache_get32(const uint8_t *p)
{
	return (uint32_t)cache_get16(p) << 16 | cache_get16(p + 2);
}

static void
cache_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
cache_put32(uint8_t *p, uint32_t v)
{
	cache_put16(p, (uint16_t)(v >> 16));
	cache_put16(p + 2, (uint16_t)v);
}

static void *
cache_alloc(const struct cache *cache, size_t size)
{
	return cache->conf.alloc != NULL ? cache->conf.alloc(size) :
	    malloc(size);
}

static void
cache_dealloc(const struct cache *cache, void *ptr)
{
	if (cache->conf.dealloc != NULL)
		cache->conf.dealloc(ptr);
	else
		free(ptr);
}

static const uint8_t *
cache_entry_msg(const struct cache_entry *e)
{
	return (const uint8_t *)(e->ttl_offset + e->ttl_count);
}

/* ---- keys: SipHash-1-3 over the lower-cased name, type, class, flags ----- */

static uint64_t
cache_rotl(uint64_t x, int bits)
{
	return x << bits | x >> (64 - bits);
}

static inline void
cache_sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = cache_rotl(v[1], 13) ^ v[0];
	v[0] = cache_rotl(v[0], 32);
	v[2] += v[3];
	v[3] = cache_rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = cache_rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = cache_rotl(v[1], 17) ^ v[2];
	v[2] = cache_rotl(v[2], 32);
}

static void
cache_sip_compress(uint64_t v[4], uint64_t word)
{
	v[3] ^= word;
	cache_sip_round(v);
	v[0] ^= word;
}

static uint64_t
cache_sip_final(uint64_t v[4], uint64_t last)
{
	cache_sip_compress(v, last);
	v[2] ^= 0xff;
	for (int i = 0; i < 3; i++)
		cache_sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void
cache_sip_setup(struct cache *cache)
{
	uint64_t k[2] = { 0, 0 };

	for (int i = 0; i < 16; i++)
		k[i / 8] |= (uint64_t)cache->conf.seed[i] << (8 * (i % 8));
	cache->sip_init[0] = k[0] ^ 0x736f6d6570736575ULL;
	cache->sip_init[1] = k[1] ^ 0x646f72616e646f6dULL;
	cache->sip_init[2] = k[0] ^ 0x6c7967656e657261ULL;
	cache->sip_init[3] = k[1] ^ 0x7465646279746573ULL;
}

/*
 * Lower-cases the ASCII letters among eight octets at once: a letter is
 * an octet whose top bit is clear and whose low seven bits are at least
 * 'A' (adding 0x80 - 'A' carries into the top bit) but not above 'Z'
 * (adding 0x7f - 'Z' does not). Neither sum carries into the next octet.
 */
static uint64_t
cache_lower_word(uint64_t word)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t low7 = word & 0x7f * ones;
	uint64_t at_least_a = low7 + (0x80 - 'A') * ones;
	uint64_t above_z = low7 + (0x7f - 'Z') * ones;
	uint64_t letters = (at_least_a ^ above_z) & ~word & 0x80 * ones;

	return word | letters >> 2;
}

/* Whether qname is an uncompressed name of exactly qname_len octets;
 * only the length octets are read. */
static bool
cache_name_ok(const uint8_t *qname, size_t qname_len)
{
	size_t i = 0;

	if (qname_len == 0 || qname_len > CACHE_NAME_MAX)
		return false;
	while (i < qname_len && qname[i] != 0) {
		if (qname[i] > 63)
			return false;
		i += 1 + (size_t)qname[i];
	}
	return i + 1 == qname_len;
}

/*
 * The last, partial word of a name of qname_len octets, as memcpy() of
 * its rest octets into a zeroed word would read it. When the name has
 * eight octets or more, one load of the eight that end it and a shift
 * do that without a call: a variable-length memcpy() cost more than the
 * hashing of the word on every cache hit.
 */
static uint64_t
cache_tail_word(const uint8_t *qname, size_t qname_len, size_t rest)
{
	uint64_t word = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (qname_len >= 8) {
		memcpy(&word, qname + qname_len - 8, 8);
		return word >> (8 * (8 - rest));
	}
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	if (qname_len >= 8) {
		memcpy(&word, qname + qname_len - 8, 8);
		return word << (8 * (8 - rest));
	}
#endif
	memcpy(&word, qname + qname_len - rest, rest);
	return word;
}

/*
 * The name is copied, lower-cased and hashed eight octets at a time, the
 * last word padded with zeros; the final block carries the name's length
 * (which makes the padding unambiguous), type, class and flags. Words are
 * read in host order: a hash never leaves the process. Every word is
 * stored whole: key->name has a spare octet for the last one's padding.
 */
static void
cache_key_fill(struct cache_key *key, const struct cache *cache,
    const uint8_t *qname, size_t qname_len, uint16_t qtype, uint16_t qclass,
    unsigned flags)
{
	uint64_t v[4], word;
	size_t i;

	memcpy(v, cache->sip_init, sizeof(v));
	for (i = 0; i + 8 <= qname_len; i += 8) {
		memcpy(&word, qname + i, 8);
		word = cache_lower_word(word);
		memcpy(key->name + i, &word, 8);
		cache_sip_compress(v, word);
	}
	if (i < qname_len) {
		word = cache_lower_word(cache_tail_word(qname, qname_len,
		    qname_len - i));
		memcpy(key->name + i, &word, 8);
		cache_sip_compress(v, word);
	}
	key->name_len = (uint8_t)qname_len;
	key->qtype = qtype;
	key->qclass = qclass;
	key->flags = (uint8_t)(flags & CACHE_KEY_ALL);
	key->hash = cache_sip_final(v, (uint64_t)qtype << 48 |
	    (uint64_t)qclass << 32 | (uint64_t)key->flags << 8 | qname_len);
}

int
cache_key_init(struct cache_key *key, const struct cache *cache,
    const uint8_t *qname, size_t qname_len, uint16_t qtype, uint16_t qclass,
    unsigned flags)
{
	if (!cache_name_ok(qname, qname_len))
		return -EINVAL;
	cache_key_fill(key, cache, qname, qname_len, qtype, qclass, flags);
	return 0;
}

/* dns_parse_query() has checked the name as cache_name_ok() would: see
 * cache.h. */
void
cache_key_query(struct cache_key *key, const struct cache *cache,
    const struct dns_query *dq, unsigned flags)
{
	cache_key_fill(key, cache, dq->question, dq->question_len - 4,
	    dq->qtype, dq->qclass, flags);
}

bool
cache_key_equal(const struct cache_key *a, const struct cache_key *b)
{
	return a->hash == b->hash && a->qtype == b->qtype &&
	    a->qclass == b->qclass && a->flags == b->flags &&
	    a->name_len == b->name_len &&
	    memcmp(a->name, b->name, a->name_len) == 0;
}

static bool
cache_entry_is(const struct cache_entry *e, const struct cache_key *key)
{
	return e->hash == key->hash && e->qtype == key->qtype &&
	    e->qclass == key->qclass && e->flags == key->flags &&
	    e->name_len == key->name_len &&
	    memcmp(cache_entry_msg(e) + CACHE_HEADER, key->name,
		key->name_len) == 0;
}

/* ---- reading answers ----------------------------------------------------- */

/* Whether any octet in [from, to) belongs to a TTL field read so far. */
static bool
cache_reads_ttl(const struct cache_walk *w, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (w->ttl_map[i >> 3] & (1u << (i & 7)))
			return true;
	return false;
}

static void
cache_mark_ttl(struct cache_walk *w, size_t off)
{
	for (size_t i = off; i < off + 4; i++)
		w->ttl_map[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/*
 * The offset just after the name at off, read no further than len, or 0
 * if it is malformed: a reserved label type, a label or pointer past its
 * limit, over 255 octets or CACHE_POINTER_HOPS pointers, or a pointer that
 * does not lead to a prior occurrence of the rest of the name. That is, a
 * pointer must point below the stretch of labels it ends, and what it
 * leads to must end there too and read no TTL field: labels running on
 * past the name could reach the OPT record, which is not stored, and the
 * cache rewrites every TTL, which would then read as other labels.
 */
static size_t
cache_skip_name(const struct cache_walk *w, size_t len, size_t off)
{
	size_t end = 0, start = off, limit = len, total = 0, next, target;
	unsigned hops = 0;

	for (;;) {
		if (off >= limit)
			return 0;
		uint8_t c = w->msg[off];
		if (c > 63 && c < 0xc0)
			return 0;
		next = c >= 0xc0 ? off + 2 : off + 1 + c;
		if (next > limit || (hops > 0 && cache_reads_ttl(w, off, next)))
			return 0;
		if (c >= 0xc0) {
			target = (size_t)(c & 0x3f) << 8 | w->msg[off + 1];
			if (++hops > CACHE_POINTER_HOPS ||
			    target < CACHE_HEADER || target >= start)
				return 0;
			if (end == 0)
				end = next;
			limit = start;
			start = off = target;
			continue;
		}
		total += next - off;
		if (total > CACHE_NAME_MAX)
			return 0;
		off = next;
		if (c == 0)
			return end != 0 ? end : off;
	}
}

/* Reads the record at *off and advances past it; false if malformed. */
static bool
cache_next_rr(struct cache_walk *w, size_t *off, struct cache_rr *rr)
{
	size_t p = cache_skip_name(w, w->len, *off);
	const uint8_t *msg = w->msg;

	if (p == 0 || w->len - p < 10)
		return false;
	rr->start = *off;
	rr->root_owner = p == *off + 1;
	rr->type = cache_get16(msg + p);
	rr->ttl_off = p + 4;
	rr->ttl = cache_get32(msg + p + 4);
	rr->rdata = p + 10;
	if (w->len - rr->rdata < cache_get16(msg + p + 8))
		return false;
	rr->end = *off = rr->rdata + cache_get16(msg + p + 8);
	cache_mark_ttl(w, rr->ttl_off);
	return true;
}

/*
 * An SOA's MINIMUM. Its two names are read with the record's end as the
 * message's end, so that neither runs out of the RDATA, and exactly 20
 * octets must follow.
 */
static bool
cache_soa_minimum(const struct cache_walk *w, const struct cache_rr *rr,
    uint32_t *minimum)
{
	size_t p = cache_skip_name(w, rr->end, rr->rdata);

	if (p != 0)
		p = cache_skip_name(w, rr->end, p);
	if (p == 0 || rr->end - p != 20)
		return false;
	*minimum = cache_get32(w->msg + p + 16);
	return true;
}

/* ---- checking and storing answers ---------------------------------------- */

static uint32_t
cache_clamp(const struct cache *cache, uint32_t ttl, bool negative)
{
	if (ttl & CACHE_TTL_TOP_BIT)
		ttl = 0;
	if (ttl < cache->conf.min_ttl)
		ttl = cache->conf.min_ttl;
	if (ttl > cache->conf.max_ttl)
		ttl = cache->conf.max_ttl;
	if (negative && ttl > cache->conf.max_negative_ttl)
		ttl = cache->conf.max_negative_ttl;
	return ttl;
}

/* The header and question of an answer to key's question. */
static enum cache_insert_result
cache_check_head(const struct cache_key *key, const uint8_t *msg, size_t len)
{
	size_t qend = CACHE_HEADER + key->name_len;
	int rcode;

	if (len < CACHE_HEADER || len > CACHE_MESSAGE_MAX)
		return CACHE_INSERT_MALFORMED;
	if (!(msg[2] & CACHE_FLAG_QR) || (msg[2] >> 3 & 0xf) != 0)
		return CACHE_INSERT_MISMATCH;
	if (msg[2] & CACHE_FLAG_TC)
		return CACHE_INSERT_TRUNCATED;
	rcode = msg[3] & 0xf;
	if (rcode != CACHE_RCODE_NOERROR && rcode != CACHE_RCODE_NXDOMAIN)
		return CACHE_INSERT_RCODE;
	if (cache_get16(msg + 4) != 1 ||
	    len - CACHE_HEADER < key->name_len + 4u)
		return CACHE_INSERT_MISMATCH;
	/* Length octets (< 64) are never letters, so lower-casing every
	 * octet compares the names' structure as well as their labels. */
	for (size_t i = 0; i < key->name_len; i++) {
		uint8_t c = msg[CACHE_HEADER + i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + ('a' - 'A'));
		if (c != key->name[i])
			return CACHE_INSERT_MISMATCH;
	}
	if (cache_get16(msg + qend) != key->qtype ||
	    cache_get16(msg + qend + 2) != key->qclass)
		return CACHE_INSERT_MISMATCH;
	return CACHE_INSERT_STORED;
}

/* Notes a served record's TTL: counted, and on the second walk written. */
static void
cache_walk_ttl(struct cache_walk *w, const struct cache_rr *rr, uint32_t ttl)
{
	if (w->entry != NULL && w->ttl_count < w->entry->ttl_count) {
		w->entry->ttl_offset[w->ttl_count] = (uint16_t)rr->ttl_off;
		cache_put32(w->copy + rr->ttl_off, ttl);
	}
	w->ttl_count++;
	if (ttl < w->lifetime)
		w->lifetime = ttl;
}

static enum cache_insert_result
cache_walk_record(struct cache_walk *w, enum cache_section section,
    const struct cache_rr *rr)
{
	bool negative = w->nxdomain || !w->positive;
	uint32_t ttl = rr->ttl, minimum;

	if (rr->type == CACHE_TYPE_OPT) {
		if (section != CACHE_ADDITIONAL || w->after_opt ||
		    !rr->root_owner)
			return CACHE_INSERT_MALFORMED;
		/* Everything from the OPT record on is dropped. */
		w->after_opt = true;
		w->keep = rr->start;
		w->bad_ext_rcode = (rr->ttl >> 24) != 0;
		return CACHE_INSERT_STORED;
	}
	if (w->after_opt)
		return CACHE_INSERT_STORED;
	if (section == CACHE_ANSWER) {
		if (rr->type == w->qtype || w->qtype == CACHE_TYPE_ANY)
			w->positive = true;
		negative = false;
	} else if (section == CACHE_AUTHORITY && negative &&
	    rr->type == CACHE_TYPE_SOA) {
		/* RFC 2308 5: the negative TTL is min(TTL, MINIMUM). */
		if (!cache_soa_minimum(w, rr, &minimum))
			return CACHE_INSERT_MALFORMED;
		if (!(ttl & CACHE_TTL_TOP_BIT) && minimum < ttl)
			ttl = minimum;
		w->has_soa = true;
	} else {
		negative = false;
	}
	if (section == CACHE_ADDITIONAL)
		w->kept_additional++;
	cache_walk_ttl(w, rr, cache_clamp(w->cache, ttl, negative));
	return CACHE_INSERT_STORED;
}

/* Walks every record after the question; the message must end with the
 * last one. */
static enum cache_insert_result
cache_walk(struct cache_walk *w, size_t off)
{
	const uint16_t counts[3] = { cache_get16(w->msg + 6),
		cache_get16(w->msg + 8), cache_get16(w->msg + 10) };
	enum cache_insert_result result;
	struct cache_rr rr;

	memset(w->ttl_map, 0, w->len / 8 + 1);
	w->positive = w->has_soa = w->after_opt = w->bad_ext_rcode = false;
	w->kept_additional = w->ttl_count = 0;
	w->lifetime = UINT32_MAX;
	for (int s = CACHE_ANSWER; s <= CACHE_ADDITIONAL; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			if (!cache_next_rr(w, &off, &rr))
				return CACHE_INSERT_MALFORMED;
			result = cache_walk_record(w, (enum cache_section)s,
			    &rr);
			if (result != CACHE_INSERT_STORED)
				return result;
		}
	}
	if (off != w->len)
		return CACHE_INSERT_MALFORMED;
	if (!w->after_opt)
		w->keep = w->len;
	if (w->bad_ext_rcode)
		return CACHE_INSERT_RCODE;
	if ((w->nxdomain || !w->positive) && !w->has_soa)
		return CACHE_INSERT_NO_SOA;
	if (w->ttl_count == 0 || w->lifetime == 0)
		return CACHE_INSERT_ZERO_TTL;
	return CACHE_INSERT_STORED;
}

static struct cache_shard *
cache_shard_of(const struct cache *cache, uint64_t hash)
{
	return &cache->shards[cache->shard_shift >= 64 ? 0 :
	    hash >> cache->shard_shift];
}

/*
 * Byte 3 of a stored answer, as dns_build_answer() would dress it for a
 * client with the key's flags: an entry only ever answers that key, and
 * only to clients the pipeline offers recursion (the cache stage comes
 * after the access and forwarding stages), so a hit needs no change to it
 * (dns_dress_hit() leaves it alone).
 */
static uint8_t
cache_flags2(const struct cache_key *key, uint8_t flags2)
{
	uint8_t query_flags2 = (uint8_t)((key->flags & CACHE_KEY_CD ? 0x10 : 0) |
	    (key->flags & CACHE_KEY_AD ? 0x20 : 0));

	return dns_relay_flags2(flags2, query_flags2,
	    (key->flags & CACHE_KEY_DO) != 0, true);
}

/*
 * Builds the entry for an answer the first walk accepted: one allocation
 * for the header, the TTL offsets and the message up to its OPT record.
 * The second walk reads the answer again, not the copy it writes into: a
 * compression pointer may point into a TTL field (no server does that, but
 * anyone may), and a walk over rewritten TTLs could then find other names
 * and other records than the first one did.
 */
static struct cache_entry *
cache_build(const struct cache *cache, const struct cache_key *key,
    uint64_t now, struct cache_walk *w, size_t size)
{
	struct cache_entry *e = cache_alloc(cache, size);
	uint8_t *msg;

	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->ttl_count = (uint16_t)w->ttl_count;
	msg = (uint8_t *)(e->ttl_offset + e->ttl_count);
	memcpy(msg, w->msg, w->keep);
	w->entry = e;
	w->copy = msg;
	cache_walk(w, CACHE_HEADER + key->name_len + 4);
	cache_put16(msg + 10, (uint16_t)w->kept_additional);
	msg[2] &= (uint8_t)~CACHE_FLAG_AA;
	msg[3] = cache_flags2(key, msg[3]);
	memcpy(msg + CACHE_HEADER, key->name, key->name_len);
	e->hash = key->hash;
	e->stored_at = now;
	e->expires_at = now + w->lifetime;
	e->size = size;
	e->msg_len = (uint32_t)w->keep;
	e->qtype = key->qtype;
	e->qclass = key->qclass;
	e->flags = key->flags;
	e->name_len = key->name_len;
	return e;
}

/* Checks an answer and builds its entry in *out, without any lock. */
static enum cache_insert_result
cache_prepare(const struct cache *cache, const struct cache_key *key,
    uint64_t now, const uint8_t *answer, size_t alen,
    struct cache_entry **out)
{
	struct cache_walk w;
	enum cache_insert_result result;
	size_t size;

	memset(&w, 0, offsetof(struct cache_walk, ttl_map));
	w.cache = cache;
	w.msg = answer;
	w.len = alen;
	w.qtype = key->qtype;
	if (cache->disabled)
		return CACHE_INSERT_DISABLED;
	if ((result = cache_check_head(key, answer, alen)) !=
	    CACHE_INSERT_STORED)
		return result;
	w.nxdomain = (answer[3] & 0xf) == CACHE_RCODE_NXDOMAIN;
	result = cache_walk(&w, CACHE_HEADER + key->name_len + 4);
	if (result != CACHE_INSERT_STORED)
		return result;
	size = sizeof(**out) + w.ttl_count * sizeof(uint16_t) + w.keep;
	if (size > cache->shards[0].max_bytes)
		return CACHE_INSERT_TOO_BIG;
	if ((*out = cache_build(cache, key, now, &w, size)) == NULL)
		return CACHE_INSERT_NOMEM;
	return CACHE_INSERT_STORED;
}

/* ---- shards -------------------------------------------------------------- */

static struct cache_entry *
cache_find(const struct cache_shard *shard, const struct cache_key *key)
{
	struct cache_entry *e = shard->buckets[key->hash & shard->bucket_mask];

	while (e != NULL && !cache_entry_is(e, key))
		e = e->next;
	return e;
}

/* Takes e out of its shard and onto the list *victims, freed unlocked. */
static void
cache_unlink(struct cache_shard *shard, struct cache_entry *e,
    struct cache_entry **victims)
{
	struct cache_entry **slot = &shard->buckets[e->hash &
	    shard->bucket_mask];

	while (*slot != e)
		slot = &(*slot)->next;
	*slot = e->next;
	TAILQ_REMOVE(&shard->lru, e, lru);
	shard->entries--;
	shard->bytes -= e->size;
	e->next = *victims;
	*victims = e;
}

static void
cache_release(const struct cache *cache, struct cache_entry *victims)
{
	while (victims != NULL) {
		struct cache_entry *next = victims->next;
		cache_dealloc(cache, victims);
		victims = next;
	}
}

/* Links e in place of an entry with the same key, making room first. */
static void
cache_link(struct cache_shard *shard, const struct cache_key *key,
    struct cache_entry *e, uint64_t now, struct cache_entry **victims)
{
	struct cache_entry *old = cache_find(shard, key), *lru;
	struct cache_entry **slot;

	if (old != NULL)
		cache_unlink(shard, old, victims);
	while (shard->entries >= shard->max_entries ||
	    shard->bytes + e->size > shard->max_bytes) {
		lru = TAILQ_LAST(&shard->lru, cache_lru);
		if (lru == NULL)
			break;
		if (now >= lru->expires_at)
			shard->expired++;
		else
			shard->evictions++;
		cache_unlink(shard, lru, victims);
	}
	slot = &shard->buckets[e->hash & shard->bucket_mask];
	e->next = *slot;
	*slot = e;
	TAILQ_INSERT_HEAD(&shard->lru, e, lru);
	shard->entries++;
	shard->bytes += e->size;
	shard->inserts++;
}

enum cache_insert_result
cache_insert(struct cache *cache, const struct cache_key *key, uint64_t now,
    const uint8_t *answer, size_t alen)
{
	struct cache_shard *shard = cache_shard_of(cache, key->hash);
	struct cache_entry *e = NULL, *victims = NULL;
	enum cache_insert_result result;

	result = cache_prepare(cache, key, now, answer, alen, &e);
	if (result == CACHE_INSERT_DISABLED)
		return result;
	pthread_mutex_lock(&shard->lock);
	if (result == CACHE_INSERT_STORED)
		cache_link(shard, key, e, now, &victims);
	else if (result == CACHE_INSERT_MALFORMED ||
	    result == CACHE_INSERT_MISMATCH)
		shard->malformed++;
	else
		shard->uncacheable++;
	pthread_mutex_unlock(&shard->lock);
	cache_release(cache, victims);
	return result;
}

/* Writes e for the client: ID, question, TTLs less the time elapsed. */
static void
cache_write_hit(const struct cache_entry *e, uint64_t now,
    const struct cache_client *client, uint8_t *out)
{
	/* Another thread may have stored e a little after this one read
	 * its clock; TTLs then stay as stored. */
	uint64_t elapsed = now > e->stored_at ? now - e->stored_at : 0;

	memcpy(out, cache_entry_msg(e), e->msg_len);
	cache_put16(out, client->id);
	memcpy(out + CACHE_HEADER, client->question, client->question_len);
	for (unsigned i = 0; i < e->ttl_count; i++) {
		uint8_t *p = out + e->ttl_offset[i];
		uint32_t ttl = cache_get32(p);
		cache_put32(p, ttl > elapsed ? (uint32_t)(ttl - elapsed) : 0);
	}
}

bool
cache_lookup(struct cache *cache, const struct cache_key *key, uint64_t now,
    const struct cache_client *client, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct cache_shard *shard = cache_shard_of(cache, key->hash);
	struct cache_entry *e, *victims = NULL;
	bool hit = false;

	pthread_mutex_lock(&shard->lock);
	e = cache_find(shard, key);
	if (e != NULL && now >= e->expires_at) {
		shard->expired++;
		cache_unlink(shard, e, &victims);
		e = NULL;
	}
	if (e != NULL && e->msg_len <= cap && client->question != NULL &&
	    client->question_len == (size_t)e->name_len + 4) {
		cache_write_hit(e, now, client, out);
		*outlen = e->msg_len;
		if (TAILQ_FIRST(&shard->lru) != e) {
			TAILQ_REMOVE(&shard->lru, e, lru);
			TAILQ_INSERT_HEAD(&shard->lru, e, lru);
		}
		shard->hits++;
		hit = true;
	} else {
		shard->misses++;
	}
	pthread_mutex_unlock(&shard->lock);
	cache_release(cache, victims);
	return hit;
}

void
cache_flush(struct cache *cache)
{
	for (unsigned i = 0; i < cache->shard_count; i++) {
		struct cache_shard *shard = &cache->shards[i];
		struct cache_entry *e, *victims = NULL;

		pthread_mutex_lock(&shard->lock);
		while ((e = TAILQ_FIRST(&shard->lru)) != NULL)
			cache_unlink(shard, e, &victims);
		pthread_mutex_unlock(&shard->lock);
		cache_release(cache, victims);
	}
}

void
cache_stats(struct cache *cache, struct cache_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	for (unsigned i = 0; i < cache->shard_count; i++) {
		struct cache_shard *shard = &cache->shards[i];

		pthread_mutex_lock(&shard->lock);
		stats->hits += shard->hits;
		stats->misses += shard->misses;
		stats->inserts += shard->inserts;
		stats->evictions += shard->evictions;
		stats->expired += shard->expired;
		stats->uncacheable += shard->uncacheable;
		stats->malformed += shard->malformed;
		stats->entries += shard->entries;
		stats->bytes += shard->bytes;
		pthread_mutex_unlock(&shard->lock);
	}
}

const char *
cache_insert_result_str(enum cache_insert_result result)
{
	switch (result) {
	case CACHE_INSERT_STORED:
		return "stored";
	case CACHE_INSERT_DISABLED:
		return "cache disabled";
	case CACHE_INSERT_MALFORMED:
		return "malformed";
	case CACHE_INSERT_MISMATCH:
		return "not an answer to the question";
	case CACHE_INSERT_TRUNCATED:
		return "truncated";
	case CACHE_INSERT_RCODE:
		return "uncacheable RCODE";
	case CACHE_INSERT_NO_SOA:
		return "negative answer without SOA";
	case CACHE_INSERT_ZERO_TTL:
		return "TTL 0";
	case CACHE_INSERT_TOO_BIG:
		return "too big";
	case CACHE_INSERT_NOMEM:
		return "out of memory";
	}
	return "unknown";
}

/* ---- life cycle ---------------------------------------------------------- */

void
cache_config_defaults(struct cache_config *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->max_entries = 10000;
	conf->max_bytes = (size_t)8 << 20;
	conf->shards = 16;
	conf->min_ttl = 0;
	conf->max_ttl = 86400;
	conf->max_negative_ttl = 3600;
}

/* The shard count: a power of two, each shard allowed an entry. */
static unsigned
cache_pick_shards(const struct cache_config *conf)
{
	unsigned shards = 1;

	while (shards * 2 <= conf->shards)
		shards *= 2;
	while (shards > 1 && conf->max_entries / shards == 0)
		shards /= 2;
	return shards;
}

static int
cache_shard_init(struct cache *cache, struct cache_shard *shard)
{
	size_t buckets = 1;

	shard->max_entries = cache->conf.max_entries / cache->shard_count;
	shard->max_bytes = cache->conf.max_bytes / cache->shard_count;
	while (buckets < shard->max_entries && buckets < CACHE_BUCKETS_MAX)
		buckets *= 2;
	shard->buckets = cache_alloc(cache, buckets * sizeof(*shard->buckets));
	if (shard->buckets == NULL)
		return -ENOMEM;
	memset(shard->buckets, 0, buckets * sizeof(*shard->buckets));
	shard->bucket_mask = buckets - 1;
	TAILQ_INIT(&shard->lru);
	if (pthread_mutex_init(&shard->lock, NULL) != 0) {
		cache_dealloc(cache, shard->buckets);
		shard->buckets = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int
cache_shards_new(struct cache *cache)
{
	size_t size = cache->shard_count * sizeof(struct cache_shard);
	int rc;

	if ((cache->shards_mem = cache_alloc(cache, size + CACHE_LINE)) ==
	    NULL) {
		cache->shard_count = 0;
		return -ENOMEM;
	}
	cache->shards = (struct cache_shard *)(((uintptr_t)cache->shards_mem +
	    CACHE_LINE - 1) & ~(uintptr_t)(CACHE_LINE - 1));
	memset(cache->shards, 0, size);
	for (unsigned i = 0; i < cache->shard_count; i++) {
		if ((rc = cache_shard_init(cache, &cache->shards[i])) != 0) {
			cache->shard_count = i;
			return rc;
		}
	}
	return 0;
}

int
cache_new(struct cache **out, const struct cache_config *conf)
{
	struct cache *cache;
	void *(*alloc)(size_t) = conf->alloc != NULL ? conf->alloc : malloc;
	unsigned bits = 0;
	int rc;

	if (conf->min_ttl > conf->max_ttl || conf->shards > CACHE_SHARDS_MAX)
		return -EINVAL;
	if ((cache = alloc(sizeof(*cache))) == NULL)
		return -ENOMEM;
	memset(cache, 0, sizeof(*cache));
	atomic_init(&cache->refs, 1);
	cache->conf = *conf;
	cache->disabled = conf->max_entries == 0 || conf->max_bytes == 0;
	cache->shard_count = cache_pick_shards(conf);
	while ((1u << bits) < cache->shard_count)
		bits++;
	cache->shard_shift = 64 - bits;
	cache_sip_setup(cache);
	if ((rc = cache_shards_new(cache)) != 0) {
		cache_free(cache);
		return rc;
	}
	*out = cache;
	return 0;
}

struct cache *
cache_ref(struct cache *cache)
{
	atomic_fetch_add_explicit(&cache->refs, 1, memory_order_relaxed);
	return cache;
}

void
cache_free(struct cache *cache)
{
	/* The last reference frees; acquire-release, so that the entries
	 * other threads stored are seen by the one that frees them. */
	if (cache == NULL || atomic_fetch_sub_explicit(&cache->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	cache_flush(cache);
	for (unsigned i = 0; i < cache->shard_count; i++) {
		pthread_mutex_destroy(&cache->shards[i].lock);
		cache_dealloc(cache, cache->shards[i].buckets);
	}
	if (cache->shards_mem != NULL)
		cache_dealloc(cache, cache->shards_mem);
	cache_dealloc(cache, cache);
}

unsigned
cache_shard_count(const struct cache *cache)
{
	return cache->shard_count;
}
