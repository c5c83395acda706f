/*
 * t/dns.c - miodnsd's DNS message code (daemon/dns/dns.c), compiled in
 * directly: query checks, the upstream query, error replies, and dressing
 * answers, with the hostile names and records of the DNS parser checklist
 * (compression loops, forward pointers, overlong names, OPT records in the
 * wrong place, answers over the client's limit).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dns/dns.h"
#include "tap.h"

/* A message under construction. */
struct buf {
	uint8_t b[4096];
	size_t n;
};

static void
put(struct buf *m, const char *hex)
{
	unsigned v;

	while (hex[0] && hex[1]) {
		if (hex[0] == ' ') {
			hex++;
			continue;
		}
		sscanf(hex, "%2x", &v);
		m->b[m->n++] = (uint8_t)v;
		hex += 2;
	}
}

static void
put_bytes(struct buf *m, uint8_t byte, size_t count)
{
	memset(m->b + m->n, byte, count);
	m->n += count;
}

/* Header: id 0x1234, flags, counts. */
static void
header(struct buf *m, uint8_t f1, uint8_t f2, int qd, int an, int ns, int ar)
{
	m->n = 0;
	m->b[m->n++] = 0x12;
	m->b[m->n++] = 0x34;
	m->b[m->n++] = f1;
	m->b[m->n++] = f2;
	int counts[4] = { qd, an, ns, ar };
	for (int i = 0; i < 4; i++) {
		m->b[m->n++] = (uint8_t)(counts[i] >> 8);
		m->b[m->n++] = (uint8_t)counts[i];
	}
}

/* The question "a.example.test A IN" (20 bytes) at offset 12. */
#define QUESTION "01 61 07 6578616d706c65 04 74657374 00 0001 0001"
#define OPT_1232 "00 0029 04d0 00000000 0000"

static struct dns_reply
reply_for(const struct buf *query, bool edns, size_t limit)
{
	struct dns_reply r = { .id = 0xabcd, .flags1 = 0x01, .edns = edns,
		.edns_size = 1232, .limit = limit, .ra = true };

	r.question = query->b + 12;
	r.question_len = 20;
	return r;
}

static void
check_queries(void)
{
	struct buf m;
	struct dns_query q;

	header(&m, 0x01, 0x00, 1, 0, 0, 1);
	put(&m, QUESTION " 00 0029 1000 00008000 0000");
	is_int(dns_parse_query(m.b, m.n, &q), DNS_QUERY_OK, "a query with OPT");
	ok(q.id == 0x1234 && q.qtype == 1 && q.qclass == 1 &&
		q.question_len == 20 && q.edns && q.edns_size == 4096 &&
		q.edns_do, "its ID, question, EDNS size and DO are read");

	is_int(dns_parse_query(m.b, 11, &q), DNS_QUERY_DROP, "11 bytes: drop");
	m.b[2] |= 0x80;
	is_int(dns_parse_query(m.b, m.n, &q), DNS_QUERY_DROP, "QR set: drop");

	header(&m, 0x01, 0x00, 1, 0, 0, 0);
	put(&m, "01 61 c0 0c 0001 0001");
	is_int(dns_parse_query(m.b, m.n, &q), DNS_QUERY_FORMERR,
	    "a compression pointer in a query's question: FORMERR");
	ok(q.question == NULL, "and no question to echo");

	header(&m, 0x01, 0x00, 1, 0, 0, 0);
	for (int i = 0; i < 5; i++) {
		put(&m, "3f");
		put_bytes(&m, 'x', 63);
	}
	put(&m, "00 0001 0001");
	is_int(dns_parse_query(m.b, m.n, &q), DNS_QUERY_FORMERR,
	    "a 321-octet name: FORMERR");

	header(&m, 0x01, 0x00, 1, 0, 0, 0);
	put(&m, "41 61 00 0001 0001");
	is_int(dns_parse_query(m.b, m.n, &q), DNS_QUERY_FORMERR,
	    "label type 01 (0x41): FORMERR");

	header(&m, 0x01, 0x00, 1, 1, 0, 0);
	put(&m, QUESTION " c00c 0001 0001 00000000 0000");
	is_int(dns_parse_query(m.b, m.n, &q), DNS_QUERY_FORMERR,
	    "a query with an answer record: FORMERR");

	header(&m, 0x01, 0x00, 1, 0, 0, 1);
	put(&m, QUESTION " 01 61 00 0029 04d0 00000000 0000");
	is_int(dns_parse_query(m.b, m.n, &q), DNS_QUERY_FORMERR,
	    "OPT owned by a name other than the root: FORMERR");

	header(&m, 0x01, 0x00, 1, 0, 0, 1);
	put(&m, QUESTION " 00 0029 04d0 00000000 0005 0008 0004 0000");
	is_int(dns_parse_query(m.b, m.n, &q), DNS_QUERY_FORMERR,
	    "an EDNS option running past the OPT record: FORMERR");

	header(&m, 0x01, 0x00, 1, 0, 0, 1);
	put(&m, QUESTION " 00 0029 04d0 00010000 0000");
	is_int(dns_parse_query(m.b, m.n, &q), DNS_QUERY_BADVERS,
	    "EDNS version 1: BADVERS");

	header(&m, 0x01, 0x00, 1, 0, 0, 1);
	put(&m, QUESTION " c00c 00fa 00ff 00000000 0000");
	is_int(dns_parse_query(m.b, m.n, &q), DNS_QUERY_TSIG,
	    "a TSIG record last: a signed query (answered BADKEY)");
	header(&m, 0x01, 0x00, 1, 0, 0, 1);
	put(&m, QUESTION " c00c 0010 0001 00000000 0000");
	is_int(dns_parse_query(m.b, m.n, &q), DNS_QUERY_OK,
	    "another additional record is accepted (and not forwarded)");

	header(&m, 0x28, 0x00, 1, 0, 0, 0);
	put(&m, QUESTION);
	is_int(dns_parse_query(m.b, m.n, &q), DNS_QUERY_NOTIMP,
	    "opcode UPDATE: NOTIMP");
	ok(q.question != NULL, "with the question to echo");
}

static void
check_upstream_and_errors(void)
{
	struct buf m;
	struct dns_query q;
	uint8_t out[600];
	size_t len;

	header(&m, 0x01, 0x30, 1, 0, 0, 1);
	put(&m, QUESTION " 00 0029 1000 00008000 0004 000a 0000");
	dns_parse_query(m.b, m.n, &q);
	len = dns_build_upstream(&q, 1232, out, sizeof(out));
	is_int((long long)len, 12 + 20 + 11, "upstream query: header, "
	    "question, and an 11-byte OPT");
	ok(out[2] == 0x01 && out[3] == 0x30 && out[11] == 1 && out[10] == 0,
	    "RD, AD and CD; one additional record");
	m.b[2] = 0x00;
	m.b[3] = 0x00;
	dns_parse_query(m.b, m.n, &q);
	dns_build_upstream(&q, 1232, out, sizeof(out));
	ok(out[2] == 0x01 && out[3] == 0x20, "RD and AD set upstream though "
	    "the client asked without, CD clear as it asked (one upstream "
	    "query for both: review finding 8)");
	header(&m, 0x01, 0x30, 1, 0, 0, 1);
	put(&m, QUESTION " 00 0029 1000 00008000 0004 000a 0000");
	dns_parse_query(m.b, m.n, &q);
	len = dns_build_upstream(&q, 1232, out, sizeof(out));
	ok(memcmp(out + 12, m.b + 12, 20) == 0, "the question unchanged");
	ok(memcmp(out + 32, "\0\0\x29\x04\xd0\0\0\x80\0\0\0", 11) == 0,
	    "our OPT last: size 1232, DO copied, no options (not the "
	    "client's cookie)");
	is_int((long long)dns_build_upstream(&q, 1232, out, 40), 0,
	    "a buffer too small is refused");

	struct dns_reply r = reply_for(&m, true, 512);
	len = dns_build_error(&r, DNS_RCODE_BADVERS, out, sizeof(out));
	ok(len == 12 + 20 + 11 && out[0] == 0xab && out[1] == 0xcd &&
		out[2] == 0x81 && (out[3] & 0x0f) == 0 && out[37] == 1,
	    "BADVERS: the client's ID, QR and RD, RCODE 0 in the header, 1 in "
	    "the OPT");
	r.edns = false;
	r.question = NULL;
	r.question_len = 0;
	len = dns_build_error(&r, DNS_RCODE_FORMERR, out, sizeof(out));
	ok(len == 12 && out[3] == 0x81 && out[5] == 0,
	    "FORMERR without a question: header only, RA and FORMERR");
}

/* An answer to QUESTION with the given records after the question. */
static void
answer(struct buf *m, int an, int ns, int ar, const char *records)
{
	header(m, 0x85, 0x80, 1, an, ns, ar);
	put(m, QUESTION);
	put(m, records);
}

static int
build(const struct buf *query, const struct buf *a, bool edns, size_t limit,
    uint8_t *out, size_t *len, bool *tc)
{
	struct dns_reply r = reply_for(query, edns, limit);

	return dns_build_answer(&r, a->b, a->n, out, 8192, len, tc);
}

#define RR_A "c00c 0001 0001 0000012c 0004 c0000201"

static void
check_answers(void)
{
	struct buf query, a;
	uint8_t out[8192];
	size_t len;
	bool tc;

	header(&query, 0x01, 0x00, 1, 0, 0, 0);
	put(&query, QUESTION);

	answer(&a, 1, 0, 1, RR_A " " OPT_1232);
	is_int(build(&query, &a, false, 512, out, &len, &tc), 0,
	    "an answer with the upstream's OPT: NOERROR");
	ok(len == a.n - 11 && !tc && out[11] == 0 && out[0] == 0xab &&
		out[2] == (a.b[2] & ~0x04) &&
		memcmp(out + 3, a.b + 3, 7) == 0 &&
		memcmp(out + 12, a.b + 12, len - 12) == 0,
	    "without EDNS: the same bytes minus the OPT, the client's ID, "
	    "AA cleared (a forwarder is no authority)");
	build(&query, &a, true, 512, out, &len, &tc);
	ok(len == a.n && out[11] == 1 && memcmp(out + len - 11,
	    "\0\0\x29\x04\xd0\0\0\0\0\0\0", 11) == 0,
	    "with EDNS: our OPT instead of the upstream's");

	answer(&a, 1, 0, 3, RR_A " " RR_A " " OPT_1232 " " RR_A);
	build(&query, &a, false, 512, out, &len, &tc);
	ok(out[11] == 1 && len == 12 + 20 + 2 * 16,
	    "OPT in the middle: it and what follows it are dropped");

	answer(&a, 1, 0, 1, RR_A " 00 0029 04d0 01000000 0000");
	is_int(build(&query, &a, false, 512, out, &len, &tc), -1,
	    "an extended RCODE from upstream (BADVERS about our query): bad");

	answer(&a, 1, 0, 0, "c020 0001 0001 0000012c 0004 c0000201");
	is_int(build(&query, &a, false, 512, out, &len, &tc), -1,
	    "a pointer to itself: bad");
	answer(&a, 2, 0, 0, "c02e 0001 0001 0000012c 0004 c0000201 "
	    "c020 0001 0001 0000012c 0004 c0000201");
	is_int(build(&query, &a, false, 512, out, &len, &tc), -1,
	    "a forward pointer: bad");
	answer(&a, 1, 0, 0, "c003 0001 0001 0000012c 0004 c0000201");
	is_int(build(&query, &a, false, 512, out, &len, &tc), -1,
	    "a pointer into the header: bad");
	answer(&a, 1, 0, 0, "03 616263 c020 0001 0001 0000012c 0004 c0000201");
	is_int(build(&query, &a, false, 512, out, &len, &tc), -1,
	    "a label, then a pointer back to it (a loop): bad");
	answer(&a, 2, 0, 0, RR_A " c00e 0001 0001 0000012c 0004 c0000201");
	is_int(build(&query, &a, false, 512, out, &len, &tc), 0,
	    "a pointer back to an earlier name (example.test) is fine");
	answer(&a, 1, 0, 0, "c00c 0001 0001 0000012c 0010 c0000201");
	is_int(build(&query, &a, false, 512, out, &len, &tc), -1,
	    "RDLENGTH past the end: bad");
	answer(&a, 3, 0, 0, RR_A);
	is_int(build(&query, &a, false, 512, out, &len, &tc), -1,
	    "more records counted than present: bad");
	answer(&a, 1, 0, 0, RR_A);
	a.b[2] &= 0x7f;
	is_int(build(&query, &a, false, 512, out, &len, &tc), -1,
	    "QR clear: bad");
	header(&a, 0x85, 0x80, 1, 1, 0, 0);
	put(&a, "02 6161 00 0001 0001 " RR_A);
	is_int(build(&query, &a, false, 512, out, &len, &tc), -1,
	    "a question of another length: bad");

	/* 40 A records: 32 + 640 bytes. */
	answer(&a, 40, 0, 0, "");
	for (int i = 0; i < 40; i++)
		put(&a, RR_A);
	is_int(build(&query, &a, false, 512, out, &len, &tc), 0,
	    "672 bytes for a 512-byte client");
	ok(tc && len == 32 && (out[2] & 0x02) && out[7] == 0,
	    "TC set, the bare question");
	build(&query, &a, true, 1232, out, &len, &tc);
	ok(!tc && len == a.n + 11 && out[7] == 40, "fits in 1232 with EDNS");
	build(&query, &a, true, 672, out, &len, &tc);
	ok(tc && len == 32 + 11, "672 + OPT does not fit in 672: TC, with OPT");

	answer(&a, 1, 0, 30, RR_A);
	for (int i = 0; i < 30; i++)
		put(&a, RR_A);
	build(&query, &a, false, 512, out, &len, &tc);
	ok(!tc && len <= 512 && out[7] == 1 && out[11] == 29 &&
		len == 32 + 30 * 16,
	    "additional records that do not fit are left out, without TC");
}

/* RA says what we offer the client; CD is the client's; AD is never
 * ours, and the upstream's reaches only clients that asked (RFC 6840). */
static void
check_flags(void)
{
	struct buf query, a;
	uint8_t out[8192];
	size_t len;
	bool tc;

	header(&query, 0x01, 0x30, 1, 0, 0, 0);	/* RD, AD, CD */
	put(&query, QUESTION);
	struct dns_reply r = reply_for(&query, false, 512);
	r.flags2 = 0x30;
	r.ra = false;
	len = dns_build_error(&r, DNS_RCODE_REFUSED, out, sizeof(out));
	ok(len > 12 && out[3] == (0x10 | 5),
	    "an error without recursion on offer: RA clear, CD copied, AD "
	    "not ours to set (0x%02x)", out[3]);
	len = dns_reply_begin(&r, out, sizeof(out));
	ok(len == 32 && out[2] == 0x81 && out[3] == 0x10,
	    "our own answer without recursion: QR, RD; RA clear, CD copied");
	r.ra = true;
	len = dns_reply_begin(&r, out, sizeof(out));
	ok(len == 32 && out[3] == 0x90, "and with recursion: RA set");

	header(&a, 0x85, 0x20 | 0x40, 1, 1, 0, 0);	/* AD and Z, no RA */
	put(&a, QUESTION);
	put(&a, RR_A);
	r.flags2 = 0x00;
	is_int(dns_build_answer(&r, a.b, a.n, out, sizeof(out), &len, &tc), 0,
	    "relay: NOERROR");
	is_int(out[3], 0x80, "relay: RA ours, the upstream's AD dropped for a "
	    "client without AD or DO, Z dropped");
	r.flags2 = 0x20;
	dns_build_answer(&r, a.b, a.n, out, sizeof(out), &len, &tc);
	is_int(out[3], 0xa0, "relay: AD kept for a client that set AD");
	r.flags2 = 0x10;
	r.edns = r.edns_do = true;
	dns_build_answer(&r, a.b, a.n, out, sizeof(out), &len, &tc);
	is_int(out[3], 0xb0, "relay: AD kept for DO, CD the client's");
	r.ra = false;
	r.flags2 = 0;
	a.b[3] = 0x83;
	dns_build_answer(&r, a.b, a.n, out, sizeof(out), &len, &tc);
	is_int(out[3], 0x03, "relay: the upstream's RA is not ours to pass "
	    "on, its RCODE is");
}

/* Extended DNS Errors (RFC 8914) in our OPT, for EDNS clients only. */
static void
check_ede(void)
{
	struct buf query;
	uint8_t out[8192];
	size_t len;

	header(&query, 0x01, 0x00, 1, 0, 0, 0);
	put(&query, QUESTION);
	struct dns_reply r = reply_for(&query, true, 512);
	r.ede = true;
	r.ede_code = DNS_EDE_NOT_AUTHORITATIVE;
	len = dns_build_error(&r, DNS_RCODE_REFUSED, out, sizeof(out));
	ok(len == 12 + 20 + 11 + 6 && out[11] == 1 &&
	    memcmp(out + 32, "\0\0\x29\x04\xd0\0\0\0\0\0\x06"
	    "\0\x0f\0\x02\0\x14", 17) == 0,
	    "REFUSED with EDE 20: one OPT with option 15, length 2, code 20");
	r.edns = false;
	len = dns_build_error(&r, DNS_RCODE_REFUSED, out, sizeof(out));
	ok(len == 32 && out[11] == 0, "no EDE to a client without EDNS");
	r.edns = true;
	is_int((long long)dns_build_error(&r, DNS_RCODE_REFUSED, out, 48), 0,
	    "a buffer one byte short for the EDE is refused");
}

/* A query signed with TSIG, key "k.", hmac-sha256, and what we answer. */
static void
check_tsig(void)
{
	static const char tsig[] = "01 6b 00 00fa 00ff 00000000 003d "
	    "0b 686d61632d736861323536 00 "	/* hmac-sha256. */
	    "000012345678 012c 0020 "		/* time, fudge, MAC size */
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
	    "abcd 0000 0000";			/* original ID, error, other */
	static const char badkey[] = "01 6b 00 00fa 00ff 00000000 001d "
	    "0b 686d61632d736861323536 00 000012345678 012c 0000 "
	    "abcd 0011 0000";
	struct buf query, want;
	struct dns_query q;
	uint8_t out[8192];
	size_t len;

	header(&query, 0x01, 0x00, 1, 0, 0, 2);
	put(&query, QUESTION);
	put(&query, OPT_1232);
	put(&query, tsig);
	is_int(dns_parse_query(query.b, query.n, &q), DNS_QUERY_TSIG,
	    "TSIG last: a signed query");
	is_int((long long)q.tsig, 12 + 20 + 11, "its TSIG record found");
	struct dns_reply r = reply_for(&query, true, 512);
	r.ra = false;
	len = dns_build_badkey(&r, query.b, query.n, q.tsig, out, sizeof(out));
	header(&want, 0x81, 0x09, 1, 0, 0, 2);
	put(&want, QUESTION);
	put(&want, OPT_1232);
	put(&want, badkey);
	want.b[0] = 0xab;
	want.b[1] = 0xcd;
	ok(len == want.n && memcmp(out, want.b, len) == 0,
	    "BADKEY: NOTAUTH, our OPT, then TSIG with the key and algorithm "
	    "echoed, time and fudge copied, no MAC, error 17, unsigned");
	r.limit = len - 1;
	is_int((long long)dns_build_badkey(&r, query.b, query.n, q.tsig, out,
	    sizeof(out)), 0, "BADKEY over the client's limit: 0 (FORMERR)");
	r.limit = 512;
	query.b[query.n - 39] = 0x21;	/* MAC size 33: past the record */
	is_int((long long)dns_build_badkey(&r, query.b, query.n, q.tsig, out,
	    sizeof(out)), 0, "a TSIG whose MAC runs past it: 0 (FORMERR)");

	header(&query, 0x01, 0x00, 1, 0, 0, 2);
	put(&query, QUESTION);
	put(&query, tsig);
	put(&query, OPT_1232);
	is_int(dns_parse_query(query.b, query.n, &q), DNS_QUERY_FORMERR,
	    "TSIG before another record: FORMERR (RFC 8945 5.1)");
}

int
main(void)
{
	plan_lazy();
	check_queries();
	check_upstream_and_errors();
	check_answers();
	check_flags();
	check_ede();
	check_tsig();
	return tap_failures() == 0 ? 0 : 1;
}
