/*
 * fuzz/dns-answer-fuzz.c - libFuzzer harness for the answer side of
 * daemon/dns/dns.c. Each input is an upstream's answer, which
 * dns_build_answer() dresses for the client as query.c has it do: the
 * client's ID and question, RD as the client set it, AA clear, the
 * upstream's OPT dropped and ours added, and no more than the client's
 * limit (TC and the bare question when the answer and authority records
 * do not fit, additional records left out when they do not).
 *
 * Two clients ask: a fixed one (a.example.test A, ID beef) for whatever
 * comes, and, when the answer's question is readable, one that asked
 * that very question in another case, which is what c-ares hands over (it
 * matches the ID and the question before calling back). Each asks with
 * and without EDNS, and the answer is dressed within several limits, into
 * a buffer that ends at the limit (AddressSanitizer catches a byte past
 * it) and into one as large as query.c's with the bytes past the limit
 * poisoned.
 *
 * An answer taken must have been well formed by this file's own walker,
 * and the reply must keep every promise above, with counts that describe
 * its bytes exactly and its records byte for byte the upstream's. When
 * the client's question is the answer's (but for case), the reply's
 * compression pointers must lead to well-formed names too.
 *
 *	make fuzz-dns-answer FUZZ_SECONDS=300
 */
#include "config.h"

#include <sanitizer/asan_interface.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

/* As in dns-query-fuzz.c: a name takes at most 127 pointers; more is a
 * CPU attack (dns.md 4.3 item 3). */
#define FUZZ_MAX_HOPS 127
/* query.c's reply buffer. */
#define FUZZ_REPLY_CAP (DNS_MAX_MESSAGE + 64)
/* The additional records dns.c keeps at most. */
#define FUZZ_MAX_KEPT 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check(bool condition)
{
	if (!condition)
		abort();
}

static unsigned
fuzz_get16(const uint8_t *p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

/* How fuzz_name() treats compression pointers. */
enum fuzz_pointers {
	FUZZ_PLAIN,		/* none allowed: a question */
	FUZZ_SKIP,		/* a pointer ends the name where it sits */
	FUZZ_FOLLOW,		/* followed: the whole name must be good */
};

/*
 * Walks the name at off: labels of at most 63 octets, and compression
 * pointers as mode says; followed, each must lead to an offset from 12 to
 * the end, at most FUZZ_MAX_HOPS of them, and the name may not exceed 255
 * octets. Returns the offset after the name where it sits, or 0. With
 * spelled (and FUZZ_FOLLOW), the name is also written there as it reads
 * decompressed, in lower case.
 */
static size_t
fuzz_spell(const uint8_t *msg, size_t len, size_t off,
    enum fuzz_pointers mode, uint8_t spelled[255])
{
	size_t end = 0, octets = 0;
	unsigned hops = 0;

	while (off < len) {
		unsigned label = msg[off];
		if ((label & 0xc0) == 0xc0) {
			size_t target;
			if (mode == FUZZ_PLAIN || off + 2 > len)
				return 0;
			if (end == 0)
				end = off + 2;
			if (mode == FUZZ_SKIP)
				return end;
			target = (label & 0x3f) << 8 | msg[off + 1];
			if (++hops > FUZZ_MAX_HOPS || target < 12 ||
			    target >= len)
				return 0;
			off = target;
			continue;
		}
		if (label > 63 || off + 1 + label > len ||
		    ((octets += 1 + label) > 255 && mode != FUZZ_SKIP))
			return 0;
		for (size_t i = 0; spelled != NULL && i <= label; i++) {
			uint8_t c = msg[off + i];
			spelled[octets - 1 - label + i] = i > 0 &&
			    c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
		}
		off += 1 + label;
		if (label == 0)
			return end != 0 ? end : off;
	}
	return 0;
}

static size_t
fuzz_name(const uint8_t *msg, size_t len, size_t off, enum fuzz_pointers mode)
{
	return fuzz_spell(msg, len, off, mode, NULL);
}

/* The records of a message, as walked by fuzz_walk(). */
struct fuzz_layout {
	size_t body_end;		/* after answer and authority */
	size_t additional_end[FUZZ_MAX_KEPT]; /* additional before an OPT */
	unsigned additional;
	bool opt_seen;
	size_t opt;			/* where it starts, if seen */
	size_t opt_ttl;			/* its extended RCODE and flags */
};

/* Reads one record at *off and moves past it; *fixed is where its type,
 * class, TTL and length are. False if it runs off the end. */
static bool
fuzz_record(const uint8_t *msg, size_t len, size_t *off,
    enum fuzz_pointers mode, size_t *fixed)
{
	size_t p = fuzz_name(msg, len, *off, mode);

	if (p == 0 || p + 10 > len ||
	    p + 10 + fuzz_get16(msg + p + 8) > len)
		return false;
	*fixed = p;
	*off = p + 10 + fuzz_get16(msg + p + 8);
	return true;
}

/*
 * Walks the records after a question of qlen bytes: answer and authority
 * (no OPT), then additional records up to the first OPT. Owner names are
 * read as mode says. False if that fails.
 */
static bool
fuzz_walk(const uint8_t *msg, size_t len, size_t qlen,
    enum fuzz_pointers mode, struct fuzz_layout *l)
{
	size_t off = 12 + qlen, fixed;
	unsigned n = fuzz_get16(msg + 6) + fuzz_get16(msg + 8);

	memset(l, 0, sizeof(*l));
	for (unsigned i = 0; i < n; i++) {
		if (!fuzz_record(msg, len, &off, mode, &fixed) ||
		    fuzz_get16(msg + fixed) == 41)
			return false;
	}
	l->body_end = off;
	for (unsigned i = fuzz_get16(msg + 10); i > 0; i--) {
		size_t start = off;
		if (!fuzz_record(msg, len, &off, mode, &fixed))
			return false;
		if (fuzz_get16(msg + fixed) == 41) {
			l->opt_seen = true;
			l->opt = start;
			l->opt_ttl = fixed + 4;
			break;
		}
		if (l->additional < FUZZ_MAX_KEPT)
			l->additional_end[l->additional++] = off;
	}
	return true;
}

/*
 * The first records of the reply, as many as it relays, are owned by the
 * same names as the upstream's once decompressed: no name reads into the
 * bytes left out after them.
 */
static void
fuzz_check_owners(const uint8_t *out, size_t len, const uint8_t *a,
    size_t alen, size_t qlen, unsigned records)
{
	size_t o = 12 + qlen, p = o, fixed;
	uint8_t ours[255], theirs[255];

	for (unsigned i = 0; i < records; i++) {
		memset(ours, 0, sizeof(ours));
		memset(theirs, 0, sizeof(theirs));
		fuzz_check(fuzz_spell(out, len, o, FUZZ_FOLLOW, ours) != 0 &&
		    fuzz_spell(a, alen, p, FUZZ_FOLLOW, theirs) != 0);
		fuzz_check(memcmp(ours, theirs, sizeof(ours)) == 0);
		fuzz_check(fuzz_record(out, len, &o, FUZZ_FOLLOW, &fixed) &&
		    fuzz_record(a, alen, &p, FUZZ_FOLLOW, &fixed));
	}
}

/* Whether two questions are the same but for the case of letters. */
static bool
fuzz_same_question(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

/* What an answer taken must be: a response to a standard query with one
 * plain question as long as the client's, records well formed up to the
 * upstream's OPT, and no extended RCODE in that OPT. */
static void
fuzz_check_taken(const uint8_t *a, size_t alen, size_t qlen,
    struct fuzz_layout *l)
{
	fuzz_check(alen >= 12 && (a[2] & 0x80) && (a[2] & 0x78) == 0 &&
	    fuzz_get16(a + 4) == 1);
	fuzz_check(fuzz_name(a, alen, 12, FUZZ_PLAIN) == 12 + qlen - 4 &&
	    12 + qlen <= alen);
	fuzz_check(fuzz_walk(a, alen, qlen, FUZZ_FOLLOW, l));
	fuzz_check(!l->opt_seen || a[l->opt_ttl] == 0);
}

/* The reply's header, question and OPT. */
static void
fuzz_check_head(const uint8_t *out, size_t len, const struct dns_reply *r,
    const uint8_t *a, bool tc)
{
	size_t qend = 12 + r->question_len;

	fuzz_check(len >= qend && len <= r->limit);
	fuzz_check(fuzz_get16(out) == r->id && fuzz_get16(out + 4) == 1);
	fuzz_check(out[2] == ((a[2] & ~0x05) | (r->flags1 & 0x01) |
	    (tc ? 0x02 : 0)));
	/* Byte 3 (RFC 6840 5.7-5.8): the upstream's RCODE, RA ours, CD the
	 * client's, the upstream's AD only for a client with AD or DO. */
	fuzz_check(out[3] == ((a[3] & 0x0f) | (r->ra ? 0x80 : 0) |
	    (r->flags2 & 0x10) | ((a[3] & 0x20) && ((r->flags2 & 0x20) ||
	    r->edns_do) ? 0x20 : 0)));
	fuzz_check(memcmp(out + 12, r->question, r->question_len) == 0);
	if (r->edns) {
		const uint8_t *opt = out + len - DNS_OPT_LEN;
		fuzz_check(len >= qend + DNS_OPT_LEN);
		fuzz_check(opt[0] == 0 && fuzz_get16(opt + 1) == 41 &&
		    fuzz_get16(opt + 3) == r->edns_size && opt[5] == 0 &&
		    opt[6] == 0 &&
		    fuzz_get16(opt + 7) == (r->edns_do ? 0x8000u : 0u) &&
		    fuzz_get16(opt + 9) == 0);
	}
}

/*
 * The reply to an answer taken: TC with the bare question exactly when
 * the answer and authority records do not fit; otherwise those records
 * byte for byte, then as many of the additional records as fit, then our
 * OPT. With strict, every name in it must be well formed where it is.
 */
static void
fuzz_check_reply(const uint8_t *out, size_t len, const struct dns_reply *r,
    const uint8_t *a, size_t alen, const struct fuzz_layout *l, bool tc,
    bool strict)
{
	size_t reserve = r->edns ? DNS_OPT_LEN : 0, qend = 12 + r->question_len;
	unsigned kept;
	struct fuzz_layout ol;

	fuzz_check_head(out, len, r, a, tc);
	fuzz_check(tc == (l->body_end + reserve > r->limit));
	if (tc) {
		fuzz_check(len == qend + reserve && fuzz_get16(out + 6) == 0 &&
		    fuzz_get16(out + 8) == 0 &&
		    fuzz_get16(out + 10) == (r->edns ? 1u : 0u));
		return;
	}
	fuzz_check(fuzz_get16(out + 6) == fuzz_get16(a + 6) &&
	    fuzz_get16(out + 8) == fuzz_get16(a + 8));
	kept = fuzz_get16(out + 10) - (r->edns ? 1u : 0u);
	fuzz_check(kept <= l->additional);
	fuzz_check(kept == l->additional ||
	    l->additional_end[kept] + reserve > r->limit);
	fuzz_check(len == (kept > 0 ? l->additional_end[kept - 1] :
	    l->body_end) + reserve);
	fuzz_check(memcmp(out + qend, a + qend, len - reserve - qend) == 0);
	/* Our OPT is the one record the walk stops at, and the last. */
	fuzz_check(fuzz_walk(out, len, r->question_len,
	    strict ? FUZZ_FOLLOW : FUZZ_SKIP, &ol));
	fuzz_check(ol.body_end == l->body_end && ol.additional == kept &&
	    ol.opt_seen == r->edns && (!r->edns || ol.opt == len - reserve));
	fuzz_check((kept > 0 ? ol.additional_end[kept - 1] : ol.body_end) ==
	    len - reserve);
	if (strict)
		fuzz_check_owners(out, len, a, alen, r->question_len,
		    fuzz_get16(out + 6) + fuzz_get16(out + 8) + kept);
}

/* Dresses the answer for r within r->limit, into cap bytes of which only
 * the first r->limit are writable, and checks the result. */
static void
fuzz_dress(const struct dns_reply *r, const uint8_t *a, size_t alen,
    size_t cap, bool strict)
{
	uint8_t *out = malloc(cap);
	size_t len = 0, qlen = r->question_len;
	bool tc = false;
	struct fuzz_layout l;
	int rc;

	fuzz_check(out != NULL);
	if (cap > r->limit)
		ASAN_POISON_MEMORY_REGION(out + r->limit, cap - r->limit);
	rc = dns_build_answer(r, a, alen, out, cap, &len, &tc);
	if (alen < 12 || !(a[2] & 0x80) || fuzz_get16(a + 4) != 1)
		fuzz_check(rc == -1);
	if (rc >= 0) {
		fuzz_check(rc == (a[3] & 0x0f));
		fuzz_check_taken(a, alen, qlen, &l);
		fuzz_check_reply(out, len, r, a, alen, &l, tc, strict);
	}
	ASAN_UNPOISON_MEMORY_REGION(out, cap);
	free(out);
}

/* Asks with the client query q (which must pass dns_parse_query) and
 * dresses the answer within each limit a client may have. */
static void
fuzz_ask(const uint8_t *q, size_t qlen, const uint8_t *a, size_t alen)
{
	struct dns_query dq;
	struct dns_reply r;
	size_t limits[5] = { 512, DNS_EDNS_SIZE, DNS_MAX_MESSAGE,
		alen - 1, alen + DNS_OPT_LEN };
	bool strict;

	if (dns_parse_query(q, qlen, &dq) != DNS_QUERY_OK)
		return;
	strict = alen >= 12 + dq.question_len &&
	    fuzz_same_question(dq.question, a + 12, dq.question_len);
	for (size_t i = 0; i < 5; i++) {
		size_t limit = limits[i];
		if (limit < 512 || limit > DNS_MAX_MESSAGE ||
		    (!dq.edns && limit == DNS_EDNS_SIZE))
			continue;
		r = (struct dns_reply){ .id = dq.id, .flags1 = dq.flags1,
			.flags2 = dq.flags2, .question = dq.question,
			.question_len = dq.question_len, .edns = dq.edns,
			.edns_do = dq.edns_do, .edns_size = DNS_EDNS_SIZE,
			.limit = limit, .ra = (i & 1) != 0 };
		fuzz_dress(&r, a, alen, limit, strict);
		fuzz_dress(&r, a, alen, FUZZ_REPLY_CAP, strict);
	}
}

/* A client query: ID beef, RD, the question, and with edns an OPT of
 * size 1232 with DO. Returns its length. */
static size_t
fuzz_client(uint8_t *q, const uint8_t *question, size_t qlen, bool edns)
{
	static const uint8_t opt[DNS_OPT_LEN] = { 0, 0, 41, 0x04, 0xd0, 0, 0,
		0x80, 0, 0, 0 };
	static const uint8_t header[12] = { 0xbe, 0xef, 0x01, 0, 0, 1 };

	memcpy(q, header, 12);
	q[11] = edns ? 1 : 0;
	memcpy(q + 12, question, qlen);
	if (edns)
		memcpy(q + 12 + qlen, opt, sizeof(opt));
	return 12 + qlen + (edns ? sizeof(opt) : 0);
}

/* The answer's own question with the case of every other letter turned,
 * as a client might have written it; 0 if it is not readable. */
static size_t
fuzz_question_of(const uint8_t *a, size_t alen, uint8_t *question)
{
	size_t end;

	if (alen < 12 || (end = fuzz_name(a, alen, 12, FUZZ_PLAIN)) == 0 ||
	    end + 4 > alen)
		return 0;
	memcpy(question, a + 12, end + 4 - 12);
	for (size_t i = 0; 12 + i < end - 1; i += 1 + question[i]) {
		for (size_t k = 1; k <= question[i]; k += 2) {
			uint8_t c = question[i + k];
			if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
				question[i + k] = c ^ 0x20;
		}
	}
	return end + 4 - 12;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fixed[] = { 1, 'a', 7, 'e', 'x', 'a', 'm', 'p',
		'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1 };
	uint8_t q[12 + 259 + DNS_OPT_LEN], question[259];
	size_t qlen;

	for (int edns = 0; edns < 2; edns++) {
		fuzz_ask(q, fuzz_client(q, fixed, sizeof(fixed), edns), data,
		    size);
		if ((qlen = fuzz_question_of(data, size, question)) > 0)
			fuzz_ask(q, fuzz_client(q, question, qlen, edns),
			    data, size);
	}
	return 0;
}
