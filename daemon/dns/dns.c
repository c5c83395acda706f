/*
 * dns.c - the little of RFC 1035 and RFC 6891 a forwarder needs: checking
 * queries from clients, building the query sent upstream, and dressing the
 * upstream's answer (or an error) for the client.
 *
 * Every byte comes from the network, so every read is bounds-checked and
 * nothing is allocated by a count found in a message. Names are walked,
 * never decompressed into a buffer: a compression pointer must point
 * before the place where the name (or the part reached by the previous
 * pointer) starts, which both forbids loops and bounds the work by the
 * message length, and a name may not exceed 255 octets.
 *
 * Answers are relayed byte for byte. The client's question has the same
 * length as the upstream's copy of it (the same name, perhaps in another
 * case), so every record keeps its offset and every compression pointer in
 * it stays valid; the upstream's OPT record is dropped together with any
 * record after it (nothing can point forward into them), and our own OPT
 * is appended for clients that sent one (RFC 6891 6.1.1: OPT is never
 * forwarded). AA is cleared: a forwarder is not the authority for what it
 * relays (RFC 1035 4.1.1), and its answers must look the same whether
 * they came from upstream just now or, later, from its cache.
 *
 * Header byte 3 says what this server offers this client, not what the
 * upstream offered us: RA exactly when the pipeline offers the client
 * recursion (struct dns_reply's ra), on our own answers, errors and
 * relayed ones alike; CD copied from the query; AD never set by us and
 * relayed only as RFC 6840 5.8 allows (dns_relay_flags2).
 */
#include "config.h"

#include <string.h>

#include "dns.h"

#define DNS_HEADER 12
#define DNS_TYPE_OPT 41
#define DNS_TYPE_TSIG 250
#define DNS_CLASS_ANY 255
#define DNS_OPTION_EDE 15
#define DNS_TSIG_BADKEY 17
#define DNS_TYPE_IXFR 251
#define DNS_TYPE_AXFR 252
#define DNS_FLAG_QR 0x80
#define DNS_FLAG_AA 0x04
#define DNS_FLAG_TC 0x02
#define DNS_FLAG_RD 0x01
#define DNS_EDNS_DO 0x8000

/* One resource record as found in a message. */
struct dns_rr {
	size_t start, end;	/* of the whole record */
	bool root_owner;
	uint16_t type, class;
	uint32_t ttl;
	size_t rdata, rdlen;
};

static uint16_t
dns_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
dns_get32(const uint8_t *p)
{
	return (uint32_t)dns_get16(p) << 16 | dns_get16(p + 2);
}

static void
dns_set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Returns the offset just after the name at off, or 0 if the name is
 * malformed: a reserved label type, a label or pointer running past the
 * end, a pointer that does not go backwards past everything read so far,
 * or more than 255 octets. Questions, which have no pointers, use
 * dns_skip_plain() below.
 *
 * After a pointer the name must also end before that pointer: otherwise a
 * kept record's owner could read forward into bytes the relay later drops
 * (the upstream's OPT, cut additional records) and change meaning. And a
 * name has at most 127 labels, so an encoder never needs more than 127
 * pointers; a longer chain is only a way to burn our CPU (found by
 * fuzz/dns-query-fuzz.c: 8169-hop chains took 74 ms a message).
 */
static size_t
dns_skip_name(const uint8_t *msg, size_t len, size_t off)
{
	size_t end = 0, floor = off, total = 0;
	unsigned hops = 0;

	for (;;) {
		if (off >= len)
			return 0;
		uint8_t label = msg[off];
		if ((label & 0xc0) == 0xc0) {
			if (off + 1 >= len || ++hops > 127)
				return 0;
			size_t target =
			    (size_t)(label & 0x3f) << 8 | msg[off + 1];
			if (end == 0)
				end = off + 2;
			if (target < DNS_HEADER || target >= floor)
				return 0;
			len = off;
			floor = off = target;
			continue;
		}
		if (label & 0xc0)
			return 0;
		total += 1 + (size_t)label;
		if (total > 255 || off + 1 + label > len)
			return 0;
		off += 1 + (size_t)label;
		if (label == 0)
			return end != 0 ? end : off;
	}
}

/*
 * dns_skip_name() without pointers, for questions: the offset just after
 * the uncompressed name at off, or 0. A name may end no later than len
 * and 255 octets after off, so one bound serves both tests, and a label
 * is a load, two compares and an add: this runs on every query, and the
 * general loop above cost 84 instructions a cache hit on its own.
 */
static size_t
dns_skip_plain(const uint8_t *msg, size_t len, size_t off)
{
	size_t limit = off + 255 < len ? off + 255 : len;

	while (off < limit) {
		uint8_t label = msg[off];
		if (label == 0)
			return off + 1;
		if (label > 63)
			return 0;
		off += 1 + (size_t)label;
	}
	return 0;
}

/* Reads the record at *off and advances past it; false if malformed. */
static bool
dns_next_rr(const uint8_t *msg, size_t len, size_t *off, struct dns_rr *rr)
{
	size_t p = dns_skip_name(msg, len, *off);

	if (p == 0 || p + 10 > len)
		return false;
	rr->start = *off;
	rr->root_owner = p == *off + 1;
	rr->type = dns_get16(msg + p);
	rr->class = dns_get16(msg + p + 2);
	rr->ttl = dns_get32(msg + p + 4);
	rr->rdlen = dns_get16(msg + p + 8);
	rr->rdata = p + 10;
	if (rr->rdata + rr->rdlen > len)
		return false;
	rr->end = *off = rr->rdata + rr->rdlen;
	return true;
}

/* An OPT record's options must fill its RDATA exactly. */
static bool
dns_opt_options_ok(const uint8_t *msg, const struct dns_rr *rr)
{
	size_t off = rr->rdata, end = rr->rdata + rr->rdlen;

	while (off < end) {
		if (end - off < 4 || end - off - 4 < dns_get16(msg + off + 2))
			return false;
		off += 4 + (size_t)dns_get16(msg + off + 2);
	}
	return true;
}

/* The question section of a query: one uncompressed name, type, class. */
static bool
dns_parse_question(const uint8_t *msg, size_t len, struct dns_query *q)
{
	size_t end;

	if (dns_get16(msg + 4) != 1)
		return false;
	end = dns_skip_plain(msg, len, DNS_HEADER);
	if (end == 0 || end + 4 > len)
		return false;
	q->question = msg + DNS_HEADER;
	q->question_len = end + 4 - DNS_HEADER;
	q->qtype = dns_get16(msg + end);
	q->qclass = dns_get16(msg + end + 2);
	return true;
}

/* The additional section: at most one OPT, owned by the root, with sane
 * options, and at most one TSIG, the last record (RFC 8945 5.1: anywhere
 * else is FORMERR); its offset is kept in q->tsig for dns_build_badkey().
 * Other records are accepted and not forwarded. Sets *verdict to BADVERS
 * for an EDNS version we do not speak, else to TSIG for a signed query. */
static bool
dns_parse_additional(const uint8_t *msg, size_t len, struct dns_query *q,
    enum dns_verdict *verdict)
{
	size_t off = DNS_HEADER + q->question_len;
	struct dns_rr rr;

	for (unsigned i = dns_get16(msg + 10); i > 0; i--) {
		if (!dns_next_rr(msg, len, &off, &rr))
			return false;
		if (rr.type == DNS_TYPE_TSIG) {
			if (i != 1)
				return false;
			q->tsig = rr.start;
			if (*verdict == DNS_QUERY_OK)
				*verdict = DNS_QUERY_TSIG;
		}
		if (rr.type != DNS_TYPE_OPT)
			continue;
		if (q->edns || !rr.root_owner || !dns_opt_options_ok(msg, &rr))
			return false;
		q->edns = true;
		q->edns_size = rr.class;
		q->edns_do = (rr.ttl & DNS_EDNS_DO) != 0;
		if (((rr.ttl >> 16) & 0xff) != 0)
			*verdict = DNS_QUERY_BADVERS;
	}
	return off == len;
}

enum dns_verdict
dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q)
{
	enum dns_verdict additional = DNS_QUERY_OK;

	memset(q, 0, sizeof(*q));
	if (len < DNS_HEADER || (msg[2] & DNS_FLAG_QR))
		return DNS_QUERY_DROP;
	q->id = dns_get16(msg);
	q->flags1 = msg[2];
	q->flags2 = msg[3];
	if (!dns_parse_question(msg, len, q)) {
		q->question = NULL;
		q->question_len = 0;
		return (msg[2] >> 3 & 0xf) != 0 ? DNS_QUERY_NOTIMP :
		    DNS_QUERY_FORMERR;
	}
	/* An IXFR carries the client's SOA in its authority section (RFC 1995
	 * section 3): refused as a transfer, not as a malformed query. */
	if ((msg[2] >> 3 & 0xf) != 0 || q->qtype == DNS_TYPE_IXFR)
		return DNS_QUERY_NOTIMP;
	if (dns_get16(msg + 6) != 0 || dns_get16(msg + 8) != 0 ||
	    !dns_parse_additional(msg, len, q, &additional) ||
	    q->qtype == DNS_TYPE_OPT)
		return DNS_QUERY_FORMERR;
	if (additional != DNS_QUERY_OK)
		return additional;
	/* Zone transfers take several messages, which c-ares cannot relay. */
	if (q->qtype == DNS_TYPE_AXFR || q->qtype == DNS_TYPE_IXFR)
		return DNS_QUERY_NOTIMP;
	return DNS_QUERY_OK;
}

/* Our OPT record: root owner, our size, the extended RCODE, DO. */
static size_t
dns_put_opt(uint8_t *p, uint16_t size, int rcode, bool do_bit)
{
	p[0] = 0;
	dns_set16(p + 1, DNS_TYPE_OPT);
	dns_set16(p + 3, size);
	p[5] = (uint8_t)(rcode >> 4);
	p[6] = 0;			/* version */
	dns_set16(p + 7, do_bit ? DNS_EDNS_DO : 0);
	dns_set16(p + 9, 0);
	return DNS_OPT_LEN;
}

/* Appends an EDE option with code to the OPT record at opt, which is the
 * last thing written; returns its length. */
static size_t
dns_put_ede(uint8_t *opt, uint16_t code)
{
	uint8_t *p = opt + DNS_OPT_LEN + dns_get16(opt + 9);

	dns_set16(p, DNS_OPTION_EDE);
	dns_set16(p + 2, 2);
	dns_set16(p + 4, code);
	dns_set16(opt + 9, (uint16_t)(dns_get16(opt + 9) + DNS_EDE_LEN));
	return DNS_EDE_LEN;
}

/*
 * The query for upstream: the client's question with RD and AD always set
 * and CD as the client set it, ID 0 (upstream.c chooses one), and our bare
 * OPT as the last record, exactly 11 bytes, because c-ares 1.18 cuts the last 11
 * bytes off when an upstream does not speak EDNS. Returns the length, or 0
 * if cap is too small. RD and AD do not follow the client so that clients
 * that differ only there share one upstream query (merge.c): a forwarder
 * asks for recursion anyway, and AD asked for (RFC 6840 5.7) only lets the
 * upstream say what it validated; each client's reply gets RD and AD as
 * its own query allows.
 */
size_t
dns_build_upstream(const struct dns_query *q, uint16_t edns_size,
    uint8_t *out, size_t cap)
{
	size_t len = DNS_HEADER + q->question_len + DNS_OPT_LEN;

	if (len > cap)
		return 0;
	memset(out, 0, DNS_HEADER);
	out[2] = DNS_FLAG_RD;
	out[3] = (uint8_t)(DNS_FLAG_AD | (q->flags2 & DNS_FLAG_CD));
	dns_set16(out + 4, 1);
	dns_set16(out + 10, 1);
	memcpy(out + DNS_HEADER, q->question, q->question_len);
	dns_put_opt(out + DNS_HEADER + q->question_len, edns_size, 0,
	    q->edns_do);
	return len;
}

/* Header and question of a reply to the client. */
static size_t
dns_put_head(const struct dns_reply *r, uint8_t flags1, uint8_t flags2,
    uint8_t *out)
{
	dns_set16(out, r->id);
	out[2] = flags1;
	out[3] = flags2;
	dns_set16(out + 4, r->question != NULL ? 1 : 0);
	memset(out + 6, 0, 6);
	if (r->question != NULL)
		memcpy(out + DNS_HEADER, r->question, r->question_len);
	return DNS_HEADER + (r->question != NULL ? r->question_len : 0);
}

/*
 * Byte 3 of a reply miodnsd writes itself, before the RCODE: RA when
 * recursion is offered to this client (RFC 1035 4.1.1), CD copied from
 * the query (RFC 4035 3.1.6), AD never (we validate nothing), Z clear.
 */
static uint8_t
dns_own_flags2(const struct dns_reply *r)
{
	return (uint8_t)((r->ra ? DNS_FLAG_RA : 0) |
	    (r->flags2 & DNS_FLAG_CD));
}

/*
 * The start of a reply miodnsd writes itself: the client's ID, opcode and
 * RD, QR set, byte 3 as dns_own_flags2() says, and the question as the
 * client wrote it. Returns the length, or 0 if cap is too small (or there
 * is no question).
 */
size_t
dns_reply_begin(const struct dns_reply *r, uint8_t *out, size_t cap)
{
	if (r->question == NULL || DNS_HEADER + r->question_len > cap)
		return 0;
	return dns_put_head(r, (uint8_t)(DNS_FLAG_QR | (r->flags1 & 0x79)),
	    dns_own_flags2(r), out);
}

/* Appends our OPT to a reply of len bytes if the client sent one (with
 * r->ede_code as an Extended DNS Error if r->ede), and counts it in
 * ARCOUNT. Returns the new length, or 0 if cap is too small. */
size_t
dns_reply_end(const struct dns_reply *r, uint8_t *out, size_t len,
    size_t cap)
{
	uint8_t *opt = out + len;

	if (!r->edns)
		return len;
	if (len + DNS_OPT_LEN + (r->ede ? DNS_EDE_LEN : 0) > cap)
		return 0;
	len += dns_put_opt(opt, r->edns_size, 0, r->edns_do);
	if (r->ede)
		len += dns_put_ede(opt, r->ede_code);
	dns_set16(out + 10, (uint16_t)(dns_get16(out + 10) + 1));
	return len;
}

/*
 * An error reply: the client's ID, opcode and RD, byte 3 as for our own
 * answers, the question if it was readable, and our OPT if the client
 * sent a well-formed one (which also carries the upper bits of an
 * extended RCODE such as BADVERS, and r->ede_code as an Extended DNS
 * Error if r->ede: RFC 8914 options go only to clients that sent EDNS).
 */
size_t
dns_build_error(const struct dns_reply *r, int rcode, uint8_t *out,
    size_t cap)
{
	size_t len;

	if (DNS_HEADER + r->question_len + DNS_OPT_LEN + DNS_EDE_LEN > cap)
		return 0;
	len = dns_put_head(r, (uint8_t)(DNS_FLAG_QR | (r->flags1 & 0x79)),
	    (uint8_t)(dns_own_flags2(r) | (rcode & 0xf)), out);
	if (r->edns) {
		uint8_t *opt = out + len;
		len += dns_put_opt(opt, r->edns_size, rcode, r->edns_do);
		if (r->ede)
			len += dns_put_ede(opt, r->ede_code);
		dns_set16(out + 10, 1);
	}
	return len;
}

/*
 * Copies the name at off in msg (already checked by dns_skip_name) to
 * out, following compression pointers; returns its length.
 */
static size_t
dns_copy_name(const uint8_t *msg, size_t off, uint8_t *out)
{
	size_t len = 0;

	for (;;) {
		uint8_t label = msg[off];
		if ((label & 0xc0) == 0xc0) {
			off = (size_t)(label & 0x3f) << 8 | msg[off + 1];
			continue;
		}
		memcpy(out + len, msg + off, 1 + (size_t)label);
		len += 1 + (size_t)label;
		off += 1 + (size_t)label;
		if (label == 0)
			return len;
	}
}

/*
 * Writes the TSIG record of a BADKEY reply to the client's TSIG record at
 * tsig in msg (RFC 8945 5.2.1 and 5.3.2): the key name and algorithm
 * echoed, Time Signed and Fudge copied, no MAC, the Original ID copied,
 * error BADKEY, no other data. Returns its length, or 0 if the client's
 * record is malformed.
 */
static size_t
dns_put_badkey_tsig(const uint8_t *msg, size_t len, size_t tsig,
    uint8_t *out)
{
	struct dns_rr rr;
	size_t off = tsig, alg_end, mac_end, n, rdata;

	if (!dns_next_rr(msg, len, &off, &rr) ||
	    (alg_end = dns_skip_name(msg, rr.end, rr.rdata)) == 0 ||
	    alg_end + 10 > rr.end ||
	    (mac_end = alg_end + 10 + dns_get16(msg + alg_end + 8)) + 6 >
	    rr.end)
		return 0;
	n = dns_copy_name(msg, tsig, out);
	dns_set16(out + n, DNS_TYPE_TSIG);
	dns_set16(out + n + 2, DNS_CLASS_ANY);
	memset(out + n + 4, 0, 4);			/* TTL */
	rdata = n + 10;
	n = rdata + dns_copy_name(msg, rr.rdata, out + rdata);
	memcpy(out + n, msg + alg_end, 8);		/* time, fudge */
	dns_set16(out + n + 8, 0);			/* MAC size */
	memcpy(out + n + 10, msg + mac_end, 2);		/* original ID */
	dns_set16(out + n + 12, DNS_TSIG_BADKEY);
	dns_set16(out + n + 14, 0);			/* other len */
	n += 16;
	dns_set16(out + rdata - 2, (uint16_t)(n - rdata));
	return n;
}

/*
 * The answer to a TSIG-signed query when we hold no key at all (RFC 8945
 * 5.2.1): NOTAUTH, unsigned, with our OPT if the client sent one and a
 * TSIG record with error BADKEY last. Returns the length, or 0 if the
 * client's TSIG record is malformed or the reply would not fit r->limit
 * (the caller then answers FORMERR).
 */
size_t
dns_build_badkey(const struct dns_reply *r, const uint8_t *msg, size_t len,
    size_t tsig, uint8_t *out, size_t cap)
{
	uint8_t rec[2 * 255 + 10 + 16];
	size_t n, rlen, limit = r->limit < cap ? r->limit : cap;

	if (tsig == 0 || (rlen = dns_put_badkey_tsig(msg, len, tsig,
	    rec)) == 0)
		return 0;
	if (DNS_HEADER + r->question_len + DNS_OPT_LEN + rlen > limit)
		return 0;
	n = dns_put_head(r, (uint8_t)(DNS_FLAG_QR | (r->flags1 & 0x79)),
	    (uint8_t)(dns_own_flags2(r) | DNS_RCODE_NOTAUTH), out);
	if (r->edns)
		n += dns_put_opt(out + n, r->edns_size, 0, r->edns_do);
	memcpy(out + n, rec, rlen);
	dns_set16(out + 10, r->edns ? 2 : 1);
	return n + rlen;
}


/* The layout of an upstream answer, found by walking all its records. */
struct dns_answer_layout {
	size_t body_end;	/* end of the answer and authority records */
	size_t additional_end[256]; /* ends of kept additional records */
	unsigned additional_kept;
	uint16_t ancount, nscount;
	bool bad_ext_rcode;
};

static bool
dns_walk_answer(const uint8_t *msg, size_t len, size_t qlen,
    struct dns_answer_layout *l)
{
	size_t off = DNS_HEADER + qlen;
	unsigned arcount = dns_get16(msg + 10);
	struct dns_rr rr;

	l->ancount = dns_get16(msg + 6);
	l->nscount = dns_get16(msg + 8);
	for (unsigned i = 0; i < (unsigned)l->ancount + l->nscount; i++) {
		if (!dns_next_rr(msg, len, &off, &rr) ||
		    rr.type == DNS_TYPE_OPT)
			return false;
	}
	l->body_end = off;
	l->additional_kept = 0;
	l->bad_ext_rcode = false;
	for (unsigned i = 0; i < arcount; i++) {
		if (!dns_next_rr(msg, len, &off, &rr))
			return false;
		if (rr.type == DNS_TYPE_OPT) {
			/* Ours to the upstream: an extended RCODE such as
			 * BADVERS or BADCOOKIE is about our query. */
			l->bad_ext_rcode = (rr.ttl >> 24) != 0;
			break;
		}
		if (l->additional_kept < 256)
			l->additional_end[l->additional_kept++] = rr.end;
	}
	return true;
}

/*
 * Dresses a cache hit for the client where it lies, in a buffer with room
 * for our OPT record after it: RD as the client set it and our OPT if the
 * client sent one. cache_lookup() has written the client's ID, question
 * and the aged TTLs, and checked the message when it was stored (framing,
 * counts, no OPT, AA clear), so nothing is parsed here.
 * \return the reply's length, or 0 if it would exceed r->limit: the
 *         caller then has dns_build_answer() truncate it.
 */
size_t
dns_dress_hit(const struct dns_reply *r, uint8_t *msg, size_t len)
{
	size_t reserve = r->edns ? DNS_OPT_LEN : 0;

	if (len < DNS_HEADER || len + reserve > r->limit)
		return 0;
	msg[2] = (uint8_t)((msg[2] & ~(DNS_FLAG_RD | DNS_FLAG_AA)) |
	    (r->flags1 & DNS_FLAG_RD));
	if (r->edns) {
		len += dns_put_opt(msg + len, r->edns_size, 0, r->edns_do);
		dns_set16(msg + 10, (uint16_t)(dns_get16(msg + 10) + 1));
	}
	return len;
}

/*
 * Dresses an upstream answer for the client: its ID and question, RD as
 * the client set it, AA clear, byte 3 as dns_relay_flags2() says, our
 * OPT, and no more than r->limit bytes. If the
 * answer and authority records do not fit, the reply is the bare question
 * with TC set (the client retries over TCP); additional records that do
 * not fit are left out without TC (RFC 2181 9).
 * \return the answer's RCODE (0-15) with *outlen and *truncated set, or -1
 *         if the answer is malformed, does not answer our question, or
 *         carries an extended RCODE.
 */
int
dns_build_answer(const struct dns_reply *r, const uint8_t *answer,
    size_t alen, uint8_t *out, size_t cap, size_t *outlen, bool *truncated)
{
	struct dns_answer_layout l;
	size_t qend, limit = r->limit < cap ? r->limit : cap;
	size_t reserve = r->edns ? DNS_OPT_LEN : 0, len;
	uint8_t flags1, flags2;

	if (alen < DNS_HEADER || !(answer[2] & DNS_FLAG_QR) ||
	    (answer[2] >> 3 & 0xf) != 0 || dns_get16(answer + 4) != 1 ||
	    r->question == NULL)
		return -1;
	qend = dns_skip_plain(answer, alen, DNS_HEADER);
	if (qend == 0 || qend + 4 - DNS_HEADER != r->question_len ||
	    qend + 4 > alen ||
	    !dns_walk_answer(answer, alen, r->question_len, &l) ||
	    l.bad_ext_rcode)
		return -1;

	flags1 = (uint8_t)((answer[2] & ~(DNS_FLAG_RD | DNS_FLAG_AA)) |
	    (r->flags1 & DNS_FLAG_RD));
	flags2 = dns_relay_flags2(answer[3], r->flags2, r->edns_do, r->ra);
	*truncated = l.body_end + reserve > limit;
	if (*truncated) {
		len = dns_put_head(r, flags1 | DNS_FLAG_TC, flags2, out);
	} else {
		unsigned kept = 0;
		len = dns_put_head(r, flags1, flags2, out);
		memcpy(out + len, answer + len, l.body_end - len);
		while (kept < l.additional_kept &&
		    l.additional_end[kept] + reserve <= limit)
			kept++;
		len = kept > 0 ? l.additional_end[kept - 1] : l.body_end;
		memcpy(out + l.body_end, answer + l.body_end, len - l.body_end);
		dns_set16(out + 6, l.ancount);
		dns_set16(out + 8, l.nscount);
		dns_set16(out + 10, (uint16_t)kept);
	}
	if (r->edns) {
		len += dns_put_opt(out + len, r->edns_size, 0, r->edns_do);
		dns_set16(out + 10, (uint16_t)(dns_get16(out + 10) + 1));
	}
	*outlen = len;
	return answer[3] & 0xf;
}
