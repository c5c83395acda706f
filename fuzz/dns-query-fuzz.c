/*
 * fuzz/dns-query-fuzz.c - libFuzzer harness for the query side of
 * daemon/dns/dns.c. Each input is a message from a client, checked as miodnsd
 * checks every datagram and TCP frame, and answered the ways query.c and
 * local.c answer: an error reply for what the check rejects; for what it
 * accepts, the query sent upstream, SERVFAIL and REFUSED, a reply begun
 * and ended as local.c does, and the relay of two upstream answers made
 * for its question, one that fits and one too large for UDP (TC).
 *
 * The verdict is checked against the message by a walker of this file's
 * own (an accepted query has one question, well-formed names, at most one
 * OPT, records that end where the message ends). Every reply is written
 * into a buffer exactly as large as the client's limit, so that
 * AddressSanitizer catches a byte past it, and must carry the client's ID,
 * opcode and RD, its question as it wrote it (or none), QR, our OPT last
 * if the client sent one, and counts that describe its bytes exactly.
 *
 *	make fuzz-dns-query FUZZ_SECONDS=300
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

/* The most compression pointers one name may take: a name has at most 127
 * labels, and a real encoder spends at most one pointer per label. More
 * is only there to burn CPU (dns.md 4.3 item 3). */
#define FUZZ_MAX_HOPS 127

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

/*
 * Walks the name at off, following pointers (each to an offset from 12 to
 * the end, at most FUZZ_MAX_HOPS of them) when compressed. Returns the
 * offset after the name where it sits, or 0 if it is malformed: a label
 * type other than 00 and 11, a label or pointer past len, more than 255
 * octets.
 */
static size_t
fuzz_name(const uint8_t *msg, size_t len, size_t off, bool compressed)
{
	size_t end = 0, octets = 0;
	unsigned hops = 0;

	while (off < len) {
		unsigned label = msg[off];
		if ((label & 0xc0) == 0xc0) {
			size_t target;
			if (!compressed || off + 2 > len ||
			    ++hops > FUZZ_MAX_HOPS)
				return 0;
			target = (label & 0x3f) << 8 | msg[off + 1];
			if (end == 0)
				end = off + 2;
			if (target < 12 || target >= len)
				return 0;
			off = target;
			continue;
		}
		if (label > 63 || (octets += 1 + label) > 255 ||
		    off + 1 + label > len)
			return 0;
		off += 1 + label;
		if (label == 0)
			return end != 0 ? end : off;
	}
	return 0;
}

/* What an accepted query must look like: one question, no answer or
 * authority records, additional records filling the rest exactly, at most
 * one OPT (root-owned, version 0, options filling it) as dq read it. */
static void
fuzz_check_accepted(const uint8_t *msg, size_t len,
    const struct dns_query *dq)
{
	size_t off = 12 + dq->question_len;
	unsigned opts = 0;

	fuzz_check(fuzz_get16(msg + 4) == 1 && fuzz_get16(msg + 6) == 0 &&
	    fuzz_get16(msg + 8) == 0 && (msg[2] & 0x78) == 0);
	fuzz_check(dq->qtype != 41 && dq->qtype != 251 && dq->qtype != 252);
	for (unsigned i = fuzz_get16(msg + 10); i > 0; i--) {
		size_t owner = off, rdlen;
		off = fuzz_name(msg, len, off, true);
		fuzz_check(off != 0 && off + 10 <= len);
		rdlen = fuzz_get16(msg + off + 8);
		fuzz_check(off + 10 + rdlen <= len);
		if (fuzz_get16(msg + off) == 41) {
			fuzz_check(++opts == 1 && owner + 1 == off);
			fuzz_check(msg[off + 5] == 0);	/* version */
			fuzz_check(dq->edns_size == fuzz_get16(msg + off + 2));
			fuzz_check(dq->edns_do == ((msg[off + 6] & 0x80) != 0));
			for (size_t o = off + 10; o < off + 10 + rdlen;) {
				fuzz_check(off + 10 + rdlen - o >= 4);
				o += 4 + fuzz_get16(msg + o + 2);
				fuzz_check(o <= off + 10 + rdlen);
			}
		}
		off += 10 + rdlen;
	}
	fuzz_check(off == len);
	fuzz_check(dq->edns == (opts == 1));
}

/* The verdict agrees with the message. */
static void
fuzz_check_verdict(const uint8_t *msg, size_t len, enum dns_verdict v,
    const struct dns_query *dq)
{
	fuzz_check((v == DNS_QUERY_DROP) == (len < 12 || (msg[2] & 0x80)));
	if (v == DNS_QUERY_DROP)
		return;
	fuzz_check(dq->id == fuzz_get16(msg) && dq->flags1 == msg[2] &&
	    dq->flags2 == msg[3]);
	if (dq->question != NULL) {
		size_t end = fuzz_name(msg, len, 12, false);
		fuzz_check(dq->question == msg + 12 &&
		    fuzz_get16(msg + 4) == 1);
		fuzz_check(end != 0 && end + 4 == 12 + dq->question_len &&
		    end + 4 <= len && dq->question_len <= 255 + 4);
		fuzz_check(dq->qtype == fuzz_get16(msg + end) &&
		    dq->qclass == fuzz_get16(msg + end + 2));
	} else {
		fuzz_check(dq->question_len == 0 && !dq->edns);
	}
	switch (v) {
	case DNS_QUERY_OK:
		fuzz_check(dq->question != NULL);
		fuzz_check_accepted(msg, len, dq);
		break;
	case DNS_QUERY_BADVERS:
		fuzz_check(dq->question != NULL && dq->edns);
		break;
	case DNS_QUERY_NOTIMP:
		fuzz_check((msg[2] & 0x78) != 0 || dq->qtype == 251 ||
		    dq->qtype == 252);
		break;
	default:
		break;
	}
}

/* How query.c dresses replies for dq within limit. */
static struct dns_reply
fuzz_reply_to(const struct dns_query *dq, size_t limit)
{
	struct dns_reply r = { .id = dq->id, .flags1 = dq->flags1,
		.flags2 = dq->flags2, .question = dq->question,
		.question_len = dq->question_len, .edns = dq->edns,
		.edns_do = dq->edns_do, .edns_size = DNS_EDNS_SIZE,
		.limit = limit, .ra = true };

	return r;
}

/*
 * The parts every reply to r shares: the client's ID, QR, opcode and RD,
 * the question as the client wrote it (or none), and our OPT as the last
 * of the counted records when the client sent one, with the upper bits of
 * ext_rcode. The counts must describe the bytes exactly.
 */
static void
fuzz_check_reply(const uint8_t *out, size_t len, const struct dns_reply *r,
    unsigned ext_rcode)
{
	size_t off = 12 + r->question_len;
	unsigned records;

	fuzz_check(len >= off && len <= r->limit);
	fuzz_check(fuzz_get16(out) == r->id && (out[2] & 0x80) &&
	    (out[2] & 0x79) == (r->flags1 & 0x79));
	fuzz_check(fuzz_get16(out + 4) == (r->question != NULL ? 1u : 0u));
	fuzz_check(r->question_len == 0 ||
	    memcmp(out + 12, r->question, r->question_len) == 0);
	records = fuzz_get16(out + 6) + fuzz_get16(out + 8) +
	    fuzz_get16(out + 10);
	for (unsigned i = 0; i < records; i++) {
		size_t owner = off;
		off = fuzz_name(out, len, off, true);
		fuzz_check(off != 0 && off + 10 <= len);
		if (fuzz_get16(out + off) == 41)
			fuzz_check(r->edns && i == records - 1 &&
			    owner + 1 == off);
		off += 10 + fuzz_get16(out + off + 8);
		fuzz_check(off <= len);
	}
	fuzz_check(off == len);
	if (r->edns) {
		const uint8_t *opt = out + len - DNS_OPT_LEN;
		fuzz_check(len >= 12 + r->question_len + DNS_OPT_LEN &&
		    fuzz_get16(out + 10) >= 1);
		fuzz_check(opt[0] == 0 && fuzz_get16(opt + 1) == 41 &&
		    fuzz_get16(opt + 3) == r->edns_size &&
		    opt[5] == ext_rcode >> 4 && opt[6] == 0 &&
		    fuzz_get16(opt + 7) == (r->edns_do ? 0x8000u : 0u) &&
		    fuzz_get16(opt + 9) == 0);
	}
}

/* The limits a reply may meet: UDP without EDNS, the client's EDNS size
 * within ours as query.c computes it, TCP. */
static size_t
fuzz_limits(const struct dns_query *dq, size_t limits[3])
{
	size_t udp = 512;

	if (dq->edns && dq->edns_size > 512)
		udp = dq->edns_size < DNS_EDNS_SIZE ? dq->edns_size :
		    DNS_EDNS_SIZE;
	limits[0] = 512;
	limits[1] = udp;
	limits[2] = DNS_MAX_MESSAGE;
	return 3;
}

static void
fuzz_error(const struct dns_query *dq, int rcode)
{
	size_t limits[3], n = fuzz_limits(dq, limits);

	for (size_t i = 0; i < n; i++) {
		struct dns_reply r = fuzz_reply_to(dq, limits[i]);
		uint8_t *out = malloc(limits[i]);
		size_t len = dns_build_error(&r, rcode, out, limits[i]);
		fuzz_check(out != NULL && len > 0);
		fuzz_check_reply(out, len, &r, (unsigned)rcode);
		fuzz_check((out[3] & 0x0f) == (rcode & 0x0f) &&
		    fuzz_get16(out + 6) == 0 && fuzz_get16(out + 8) == 0 &&
		    fuzz_get16(out + 10) == (dq->edns ? 1u : 0u));
		free(out);
	}
}

/* The BADKEY answer to a signed query: NOTAUTH, within every limit, and
 * the TSIG record last; or 0 (FORMERR) for a malformed TSIG. */
static void
fuzz_badkey(const uint8_t *msg, size_t size, const struct dns_query *dq)
{
	size_t limits[3], n = fuzz_limits(dq, limits);

	fuzz_check(dq->tsig >= 12 + dq->question_len && dq->tsig < size);
	for (size_t i = 0; i < n; i++) {
		struct dns_reply r = fuzz_reply_to(dq, limits[i]);
		uint8_t *out = malloc(limits[i]);
		size_t len = dns_build_badkey(&r, msg, size, dq->tsig, out,
		    limits[i]);
		fuzz_check(out != NULL && len <= limits[i]);
		if (len > 0)
			fuzz_check((out[3] & 0x0f) == DNS_RCODE_NOTAUTH &&
			    fuzz_get16(out + 10) == (dq->edns ? 2u : 1u) &&
			    fuzz_get16(out + len - 4) == 17);
		free(out);
	}
}

/* The query sent upstream: the client's question, RD and AD set, the
 * client's CD, our bare OPT last; it must pass our own check. */
static void
fuzz_upstream(const struct dns_query *dq)
{
	size_t cap = 12 + dq->question_len + DNS_OPT_LEN, len;
	uint8_t *out = malloc(cap);
	struct dns_query up;

	fuzz_check(out != NULL);
	fuzz_check(dns_build_upstream(dq, DNS_EDNS_SIZE, out, cap - 1) == 0);
	len = dns_build_upstream(dq, DNS_EDNS_SIZE, out, cap);
	fuzz_check(len == cap);
	fuzz_check(dns_parse_query(out, len, &up) == DNS_QUERY_OK);
	fuzz_check(up.id == 0 && up.flags1 == 0x01 &&
	    up.flags2 == (0x20 | (dq->flags2 & 0x10)) && up.edns &&
	    up.edns_size == DNS_EDNS_SIZE && up.edns_do == dq->edns_do &&
	    up.question_len == dq->question_len &&
	    memcmp(up.question, dq->question, dq->question_len) == 0);
	free(out);
}

/* A reply local.c begins and ends around no records. */
static void
fuzz_local(const struct dns_query *dq)
{
	struct dns_reply r = fuzz_reply_to(dq, 512);
	uint8_t *out = malloc(512);
	size_t len;

	fuzz_check(out != NULL);
	len = dns_reply_begin(&r, out, 512);
	fuzz_check(len == 12 + dq->question_len);
	len = dns_reply_end(&r, out, len, 512);
	fuzz_check_reply(out, len, &r, 0);
	fuzz_check(len == 12 + dq->question_len +
	    (dq->edns ? DNS_OPT_LEN : 0));
	free(out);
}

/* An upstream answer to dq's question with count A records. */
static size_t
fuzz_make_answer(const struct dns_query *dq, unsigned count, uint8_t *buf)
{
	static const uint8_t header[12] = { 0x77, 0x77, 0x85, 0x83, 0, 1 };
	static const uint8_t rr[16] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c,
		0, 4, 192, 0, 2, 1 };
	size_t len = 12 + dq->question_len;

	memcpy(buf, header, 12);
	buf[6] = (uint8_t)(count >> 8);
	buf[7] = (uint8_t)count;
	memcpy(buf + 12, dq->question, dq->question_len);
	for (unsigned i = 0; i < count; i++, len += sizeof(rr))
		memcpy(buf + len, rr, sizeof(rr));
	return len;
}

/* Relays an answer of count records within each limit: whole if it fits,
 * else the bare question with TC. */
static void
fuzz_relay(const struct dns_query *dq, unsigned count)
{
	static uint8_t answer[12 + 259 + 16 * 100];
	size_t alen = fuzz_make_answer(dq, count, answer);
	size_t limits[3], n = fuzz_limits(dq, limits);
	size_t reserve = dq->edns ? DNS_OPT_LEN : 0;

	for (size_t i = 0; i < n; i++) {
		struct dns_reply r = fuzz_reply_to(dq, limits[i]);
		uint8_t *out = malloc(limits[i]);
		size_t len = 0;
		bool tc = false, fits = alen + reserve <= limits[i];
		fuzz_check(out != NULL);
		fuzz_check(dns_build_answer(&r, answer, alen, out, limits[i],
		    &len, &tc) == 3);
		fuzz_check_reply(out, len, &r, 0);
		fuzz_check(tc == !fits && ((out[2] & 0x02) != 0) == tc &&
		    (out[2] & 0x04) == 0 &&
		    out[3] == (0x83 | (dq->flags2 & 0x10)));
		fuzz_check(len == (fits ? alen : 12 + dq->question_len) +
		    reserve);
		fuzz_check(fuzz_get16(out + 6) == (fits ? count : 0));
		free(out);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_query dq;
	enum dns_verdict v = dns_parse_query(data, size, &dq);

	fuzz_check_verdict(data, size, v, &dq);
	switch (v) {
	case DNS_QUERY_DROP:
		break;
	case DNS_QUERY_FORMERR:
		fuzz_error(&dq, DNS_RCODE_FORMERR);
		break;
	case DNS_QUERY_NOTIMP:
		fuzz_error(&dq, DNS_RCODE_NOTIMP);
		break;
	case DNS_QUERY_BADVERS:
		fuzz_error(&dq, DNS_RCODE_BADVERS);
		break;
	case DNS_QUERY_TSIG:
		fuzz_badkey(data, size, &dq);
		break;
	case DNS_QUERY_OK:
		fuzz_upstream(&dq);
		fuzz_error(&dq, DNS_RCODE_SERVFAIL);
		fuzz_error(&dq, DNS_RCODE_REFUSED);
		fuzz_local(&dq);
		fuzz_relay(&dq, 1);
		fuzz_relay(&dq, 100);
		break;
	}
	return 0;
}
