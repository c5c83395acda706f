/*
 * t/dns-hostile.c - the malformed messages of the DNS parser checklist
 * (docs: ../shared/reference/dns.md 4.3) against miodnsd's DNS message code
 * (daemon/dns/dns.c, compiled in directly), each with its exact outcome: the
 * query dropped, or the very bytes of the FORMERR, NOTIMP or BADVERS reply
 * query.c would send (the client's ID, its question when readable); the
 * upstream answer refused, or the very bytes relayed to the client.
 *
 * Headers and counts, labels, compression pointers (in the question and
 * in the records of queries and answers), record framing, OPT records,
 * opcodes, and answers over the client's limit. The transport half (UDP
 * and TCP framing) is t/miodnsd-hostile.sh.
 *
 * The plan comes last, from this file's own count.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dns/dns.h"
#include "tap.h"

/* A message under construction: large enough for a 64 KB TCP one. */
struct msg {
	uint8_t b[70000];
	size_t n;
};

static int hostile_run;		/* tests printed by tap.c */


/* Appends bytes written in hex; spaces are for the reader. */
static void
put(struct msg *m, const char *hex)
{
	unsigned v;

	while (hex[0] != '\0') {
		if (hex[0] == ' ') {
			hex++;
			continue;
		}
		if (hex[1] == '\0' || sscanf(hex, "%2x", &v) != 1)
			bail("bad hex in a test: %s", hex);
		m->b[m->n++] = (uint8_t)v;
		hex += 2;
	}
}

static void
put_bytes(struct msg *m, uint8_t byte, size_t count)
{
	memset(m->b + m->n, byte, count);
	m->n += count;
}

static void
put16(struct msg *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)(v >> 8);
	m->b[m->n++] = (uint8_t)v;
}

static void
set16(struct msg *m, size_t off, unsigned v)
{
	m->b[off] = (uint8_t)(v >> 8);
	m->b[off + 1] = (uint8_t)v;
}

/* A label of len bytes, all 'x'. */
static void
put_label(struct msg *m, size_t len)
{
	m->b[m->n++] = (uint8_t)len;
	put_bytes(m, 'x', len);
}

static void
msg_hex(struct msg *m, const char *hex)
{
	m->n = 0;
	put(m, hex);
}

/* The header of a client's query: ID beef, flags f1 and 00, counts. */
static void
query(struct msg *m, uint8_t f1, unsigned qd, unsigned an, unsigned ns,
    unsigned ar)
{
	m->n = 0;
	put(m, "beef");
	m->b[m->n++] = f1;
	m->b[m->n++] = 0;
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

/* "a.example.test A IN", 20 bytes at offset 12: "example.test" is at 14
 * (0x0e), "test" at 22 (0x16), and the question ends at 32 (0x20). */
#define Q "01 61 07 6578616d706c65 04 74657374 00 0001 0001"
#define OPT_1232 "00 0029 04d0 00 00 0000 0000"
#define OUR_OPT OPT_1232
#define RR_A "c00c 0001 0001 0000012c 0004 c0000201"

/* The replies query.c sends to a query with ID beef and RD set. */
#define FORMERR_BARE "beef 8181 0000 0000 0000 0000"
#define FORMERR_ECHO "beef 8181 0001 0000 0000 0000 " Q
#define FORMERR_ECHO_OPT "beef 8181 0001 0000 0000 0001 " Q " " OUR_OPT

/* ---- checks ------------------------------------------------------------ */

static bool
check(bool pass, const char *desc)
{
	hostile_run++;
	return ok(pass, "%s", desc);
}

/*
 * Checks that documented bugs until they were fixed (compression-hop cap,
 * labels read past a pointer, IXFR as NOTIMP); the reason stays in the
 * test's output so that the history is visible.
 */
static void
check_todo(bool pass, const char *desc, const char *reason)
{
	if (!check(pass, desc))
		diag("  was a known bug: %s", reason);
}

/* A message in hex, 64 bytes a line, the first 256 bytes. */
static void
diag_hex(const char *what, const uint8_t *b, size_t n)
{
	char line[2 * 64 + 1];

	if (n == 0)
		diag("  %s (nothing)", what);
	for (size_t i = 0; i < n; i += 64) {
		size_t k;
		if (i == 256) {
			diag("        ... %zu bytes in all", n);
			break;
		}
		for (k = 0; k < 64 && i + k < n; k++)
			snprintf(line + 2 * k, 3, "%02x", b[i + k]);
		diag("  %s %s", i == 0 ? what : "     ", line);
	}
}

/* Skips a name without following pointers; 0 if it runs off the end. */
static size_t
skip_name(const uint8_t *b, size_t len, size_t off)
{
	while (off < len) {
		if ((b[off] & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if (b[off] == 0)
			return off + 1;
		off += 1 + (size_t)b[off];
	}
	return 0;
}

/* The header's counts describe the bytes exactly: the question, then as
 * many records as counted, ending at the end of the message. */
static bool
counts_match(const uint8_t *b, size_t len)
{
	size_t off = 12;
	unsigned qd, records;

	if (len < 12)
		return false;
	qd = (unsigned)(b[4] << 8 | b[5]);
	records = (unsigned)(b[6] << 8 | b[7]) + (unsigned)(b[8] << 8 | b[9]) +
	    (unsigned)(b[10] << 8 | b[11]);
	for (unsigned i = 0; i < qd; i++) {
		if ((off = skip_name(b, len, off)) == 0 || off + 4 > len)
			return false;
		off += 4;
	}
	for (unsigned i = 0; i < records; i++) {
		if ((off = skip_name(b, len, off)) == 0 || off + 10 > len)
			return false;
		off += 10 + (size_t)(b[off + 8] << 8 | b[off + 9]);
	}
	return off == len;
}

static const char *
verdict_name(enum dns_verdict v)
{
	static const char *names[] = { "OK", "DROP", "FORMERR", "NOTIMP",
		"BADVERS", "TSIG" };

	return (unsigned)v < 6 ? names[v] : "?";
}

/* The reply query.c dresses for dq: our EDNS size, 512 bytes over UDP. */
static struct dns_reply
reply_for(const struct dns_query *dq)
{
	struct dns_reply r = { .id = dq->id, .flags1 = dq->flags1,
		.flags2 = dq->flags2, .question = dq->question,
		.question_len = dq->question_len, .edns = dq->edns,
		.edns_do = dq->edns_do, .edns_size = DNS_EDNS_SIZE,
		.limit = 512, .ra = true };

	return r;
}

/*
 * What miodnsd does with the query m: the verdict of dns_parse_query()
 * and, for a verdict answered at once, the reply of dns_build_error() as
 * query.c builds it, in *out. For OK, the query sent upstream instead.
 */
static enum dns_verdict
run_query(const struct msg *m, struct msg *out)
{
	static const int rcodes[] = { [DNS_QUERY_FORMERR] = DNS_RCODE_FORMERR,
		[DNS_QUERY_NOTIMP] = DNS_RCODE_NOTIMP,
		[DNS_QUERY_BADVERS] = DNS_RCODE_BADVERS };
	struct dns_query dq;
	enum dns_verdict v = dns_parse_query(m->b, m->n, &dq);
	struct dns_reply r = reply_for(&dq);

	out->n = 0;
	if (v == DNS_QUERY_OK)
		out->n = dns_build_upstream(&dq, DNS_EDNS_SIZE, out->b,
		    sizeof(out->b));
	else if (v == DNS_QUERY_TSIG)
		out->n = dns_build_badkey(&r, m->b, m->n, dq.tsig, out->b,
		    sizeof(out->b));
	else if (v != DNS_QUERY_DROP)
		out->n = dns_build_error(&r, rcodes[v], out->b,
		    sizeof(out->b));
	return v;
}

/* The outcome of query m: the verdict, and the reply's (or for OK the
 * upstream query's) exact bytes when want_hex is not NULL. */
static bool
query_outcome(const struct msg *m, enum dns_verdict want,
    const char *want_hex)
{
	static struct msg out, expect;
	enum dns_verdict v = run_query(m, &out);
	bool pass = v == want;

	if (want_hex != NULL) {
		msg_hex(&expect, want_hex);
		pass = pass && out.n == expect.n &&
		    memcmp(out.b, expect.b, out.n) == 0;
	}
	if (want == DNS_QUERY_DROP)
		pass = pass && out.n == 0;
	else if (want != DNS_QUERY_OK)
		pass = pass && counts_match(out.b, out.n);
	if (!pass) {
		diag("  verdict %s, want %s", verdict_name(v),
		    verdict_name(want));
		diag_hex("got: ", out.b, out.n);
		if (want_hex != NULL)
			diag_hex("want:", expect.b, expect.n);
	}
	return pass;
}

static void
expect_query(const struct msg *m, enum dns_verdict want, const char *want_hex,
    const char *desc)
{
	hostile_run++;
	ok(query_outcome(m, want, want_hex), "%s", desc);
}

static void
expect_query_todo(const struct msg *m, enum dns_verdict want,
    const char *want_hex, const char *desc, const char *reason)
{
	check_todo(query_outcome(m, want, want_hex), desc, reason);
}

/*
 * What miodnsd relays to the client of query client for the upstream
 * answer a, within limit: dns_build_answer()'s RCODE (or -1) and, when
 * want_hex is not NULL, the exact bytes.
 */
static bool
answer_outcome(const struct msg *client, size_t limit, const struct msg *a,
    int want, const char *want_hex)
{
	static struct msg out, expect;
	struct dns_query dq;
	struct dns_reply r;
	bool tc = false, pass;
	int rc;

	if (dns_parse_query(client->b, client->n, &dq) != DNS_QUERY_OK)
		bail("the client's query of an answer test does not parse");
	r = reply_for(&dq);
	r.limit = limit;
	out.n = 0;
	rc = dns_build_answer(&r, a->b, a->n, out.b, sizeof(out.b), &out.n,
	    &tc);
	if (rc < 0)
		out.n = 0;
	pass = rc == want && (rc < 0 || (out.n <= limit &&
	    counts_match(out.b, out.n)));
	if (want_hex != NULL) {
		msg_hex(&expect, want_hex);
		pass = pass && out.n == expect.n &&
		    memcmp(out.b, expect.b, out.n) == 0;
	}
	if (!pass) {
		diag("  rc %d, want %d; %zu bytes, limit %zu", rc, want, out.n,
		    limit);
		diag_hex("got: ", out.b, out.n);
		if (want_hex != NULL)
			diag_hex("want:", expect.b, expect.n);
	}
	return pass;
}

/* The client of most answer tests: ID beef, RD, no EDNS (512 bytes). */
static struct msg client_plain, client_edns;

static void
expect_answer(const struct msg *a, int want, const char *want_hex,
    const char *desc)
{
	hostile_run++;
	ok(answer_outcome(&client_plain, 512, a, want, want_hex), "%s", desc);
}

static void
expect_answer_edns(const struct msg *a, size_t limit, int want,
    const char *want_hex, const char *desc)
{
	hostile_run++;
	ok(answer_outcome(&client_edns, limit, a, want, want_hex), "%s",
	    desc);
}

/* An upstream answer to Q: ID 1234, QR AA RD, RA, then the records. */
static void
answer(struct msg *m, unsigned an, unsigned ns, unsigned ar,
    const char *records)
{
	m->n = 0;
	put(m, "1234 8580 0001");
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
	put(m, Q);
	put(m, records);
}

/* ---- queries: header and counts (4.3 item 1) ---------------------------- */

static void
check_header(void)
{
	struct msg m;
	bool all = true;

	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, Q);
	for (size_t len = 0; len < 12; len++) {
		struct msg cut = m;
		cut.n = len;
		all = all && query_outcome(&cut, DNS_QUERY_DROP, NULL);
	}
	check(all, "every message shorter than a header (0-11 bytes): dropped");

	query(&m, 0x01, 1, 0, 0, 0);
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "a bare 12-byte header counting a question: FORMERR, ID echoed");
	query(&m, 0x01, 0xffff, 0xffff, 0xffff, 0xffff);
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "a bare header with every count 65535: FORMERR");
	query(&m, 0x81, 1, 0, 0, 0);
	put(&m, Q);
	expect_query(&m, DNS_QUERY_DROP, NULL,
	    "QR set (a response sent to a server): dropped, never answered");
	query(&m, 0x80, 0xffff, 0, 0, 0);
	expect_query(&m, DNS_QUERY_DROP, NULL,
	    "QR set on a bare header: dropped");

	query(&m, 0x01, 0, 0, 0, 0);
	put(&m, Q);
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "QDCOUNT 0 (with a question's bytes after it): FORMERR, no "
	    "question echoed");
	query(&m, 0x01, 2, 0, 0, 0);
	put(&m, Q " 01 62 00 0001 0001");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "QDCOUNT 2 with two questions: FORMERR, no question echoed");
	query(&m, 0x01, 0xffff, 0, 0, 0);
	put(&m, Q);
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "QDCOUNT 65535 with one question: FORMERR");

	query(&m, 0x01, 1, 0xffff, 0, 0);
	put(&m, Q);
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "ANCOUNT 65535 and no record: FORMERR, question echoed");
	query(&m, 0x01, 1, 0, 1, 0);
	put(&m, Q " " RR_A);
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "a record in the authority section of a query: FORMERR");
	query(&m, 0x01, 1, 0, 0, 0xffff);
	put(&m, Q " " OPT_1232);
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO_OPT,
	    "ARCOUNT 65535 and one OPT record: FORMERR, with our OPT "
	    "(RFC 6891 7)");
}

/* ---- queries: labels and names (item 2) ------------------------------- */

static void
check_labels(void)
{
	struct msg m;
	char want[600];

	query(&m, 0x01, 1, 0, 0, 0);
	put_label(&m, 64);
	put(&m, "00 0001 0001");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "a label of 64 octets (length byte 0x40, a reserved type): "
	    "FORMERR");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "80 61 00 0001 0001");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "label type 10 (length byte 0x80): FORMERR");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "bf 61 00 0001 0001");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "label type 10 (length byte 0xbf): FORMERR");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "05 61 00");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "a label running past the end of the message: FORMERR");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "01 61 00");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "a question without type and class: FORMERR");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "01 61 00 0001 00");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "a question one byte short: FORMERR");

	/* 3 * (1 + 63) + (1 + 61) + 1 = 255 octets: the longest name. */
	query(&m, 0x01, 1, 0, 0, 0);
	for (int i = 0; i < 3; i++)
		put_label(&m, 63);
	put_label(&m, 61);
	put(&m, "00 0001 0001");
	expect_query(&m, DNS_QUERY_OK, NULL, "a name of 255 octets: accepted");
	{
		struct msg up;
		run_query(&m, &up);
		check(up.n == 12 + 259 + 11 && memcmp(up.b + 12, m.b + 12,
		    259) == 0, "and sent upstream whole");
	}
	query(&m, 0x01, 1, 0, 0, 0);
	for (int i = 0; i < 3; i++)
		put_label(&m, 63);
	put_label(&m, 62);
	put(&m, "00 0001 0001");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "a name of 256 octets: FORMERR");

	query(&m, 0x01, 1, 0, 0, 0);
	for (int i = 0; i < 127; i++)
		put_label(&m, 1);
	put(&m, "00 0001 0001");
	expect_query(&m, DNS_QUERY_OK, NULL,
	    "127 labels (255 octets): accepted");
	query(&m, 0x01, 1, 0, 0, 0);
	for (int i = 0; i < 128; i++)
		put_label(&m, 1);
	put(&m, "00 0001 0001");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "128 labels (257 octets): FORMERR");

	/* Labels are binary (RFC 2181 11): NUL, '.', 0xff, space. */
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "04 00 2e ff 20 07 6578616d706c65 04 74657374 00 0010 0001");
	snprintf(want, sizeof(want), "0000 0120 0001 0000 0000 0001 %s %s",
	    "04 00 2e ff 20 07 6578616d706c65 04 74657374 00 0010 0001",
	    OPT_1232);
	expect_query(&m, DNS_QUERY_OK, want,
	    "NUL, '.', 0xff and space in a label: forwarded byte for byte");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "00 0002 0001");
	expect_query(&m, DNS_QUERY_OK,
	    "0000 0120 0001 0000 0000 0001 00 0002 0001 " OPT_1232,
	    "the root name (. NS): forwarded");
}

/* ---- queries: compression pointers (item 3) --------------------------- */

/* A query for Q whose additional section is records (ARCOUNT ar). */
static void
query_additional(struct msg *m, unsigned ar, const char *records)
{
	query(m, 0x01, 1, 0, 0, ar);
	put(m, Q);
	put(m, records);
}

/*
 * A query whose additional section holds, first, a record of an unknown
 * type whose RDATA is a chain of hops pointers, each to the one before,
 * the first to the question (at 12); then names records owned by the
 * last pointer of the chain. The pointers must stay below 0x4000.
 */
static void
query_chain(struct msg *m, size_t hops, unsigned names)
{
	size_t rdlen_at, prev = 12;

	query(m, 0x01, 1, 0, 0, 1 + names);
	put(m, Q " 00 ff00 0001 00000000");
	rdlen_at = m->n;
	put16(m, 0);
	for (size_t i = 0; i < hops; i++) {
		size_t here = m->n;
		put16(m, 0xc000 | (unsigned)prev);
		prev = here;
	}
	set16(m, rdlen_at, (unsigned)(m->n - rdlen_at - 2));
	for (unsigned i = 0; i < names; i++) {
		put16(m, 0xc000 | (unsigned)prev);
		put(m, "ff01 0001 00000000 0000");
	}
}

#define HOPS_TODO "no cap on compression hops: dns.c dns_skip_name() " \
	"follows any chain of backward pointers (CPU, 4.3 item 3)"

static void
check_query_pointers(void)
{
	struct msg m;

	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "c00c 0001 0001");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "question: a pointer to itself: FORMERR");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "01 61 c00c 0001 0001");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "question: a label, then a pointer back to it (a loop): FORMERR");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "01 61 c010 00 0001 0001");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "question: a forward pointer: FORMERR");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "c002 0001 0001");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "question: a pointer into the header: FORMERR");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "c0");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_BARE,
	    "question: a pointer with one byte left: FORMERR");

	/* Owner names in the additional section may be compressed. */
	query_additional(&m, 1, "c020 00fa 00ff 00000000 0000");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "additional: an owner pointing to itself: FORMERR, question "
	    "echoed");
	query_additional(&m, 2, "01 62 c02e 00fa 00ff 00000000 0000 "
	    "c020 00fa 00ff 00000000 0000");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "additional: A points to B, B back to A (a loop): FORMERR");
	query_additional(&m, 2, "c02c 00fa 00ff 00000000 0000 "
	    "01 61 00 00fa 00ff 00000000 0000");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "additional: a forward pointer to a good name: FORMERR");
	query_additional(&m, 1, "c004 00fa 00ff 00000000 0000");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "additional: a pointer into the header: FORMERR");
	query_additional(&m, 1, "ffff 00fa 00ff 00000000 0000");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "additional: a pointer past the end: FORMERR");
	query_additional(&m, 1, "c0");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "additional: a pointer with one byte left: FORMERR");

	/* 4 * 64 octets of labels, then example.test (14): 270 octets. */
	query_additional(&m, 1, "");
	for (int i = 0; i < 4; i++)
		put_label(&m, 63);
	put(&m, "c00e 00fa 00ff 00000000 0000");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "additional: 270 octets once decompressed: FORMERR");
	/* 3 * 64 + 49 + 14 = 255 octets. */
	query_additional(&m, 1, "");
	for (int i = 0; i < 3; i++)
		put_label(&m, 63);
	put_label(&m, 48);
	put(&m, "c00e 0010 0001 00000000 0000");
	expect_query(&m, DNS_QUERY_OK, NULL,
	    "additional: 255 octets once decompressed: accepted");
	/* www.example.test at 32, mail.www.example.test after it. */
	query_additional(&m, 2, "03 777777 c00e 0010 0001 00000000 0000 "
	    "04 6d61696c c020 0010 0001 00000000 0000");
	expect_query(&m, DNS_QUERY_OK, NULL,
	    "additional: ordinary compression, two levels deep: accepted");

	query_chain(&m, 300, 1);
	expect_query_todo(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "additional: a name reached through 300 chained pointers: "
	    "FORMERR", HOPS_TODO);
	/* 4096 names, each walking 8169 hops: about 33 million steps. */
	query_chain(&m, 8169, 4096);
	check(m.n <= 65535, "(the 64 KB query of many deep names fits TCP)");
	expect_query_todo(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "a 64 KB query whose 4096 names each walk an 8169-hop chain: "
	    "FORMERR", HOPS_TODO);
}

/* ---- queries: record framing (item 4) --------------------------------- */

static void
check_query_records(void)
{
	struct msg m;

	query_additional(&m, 1, "00 00fa 00ff 00000000 0010 0102");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "an RDLENGTH past the end of the message: FORMERR");
	query_additional(&m, 1, "c00c 00fa 00ff 0000");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "a record cut inside its type, class, TTL and length: FORMERR");
	query_additional(&m, 1, OPT_1232 " 00");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO_OPT,
	    "a byte after the last record: FORMERR (with our OPT)");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, Q " 00");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "a byte after the question: FORMERR");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, Q);
	put_bytes(&m, 0xab, 65535 - m.n);
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "a 64 KB query, all of it garbage after the question: FORMERR");
}

/* ---- queries: OPT (item 5) -------------------------------------------- */

static void
check_opt(void)
{
	struct msg m;

	query_additional(&m, 2, OPT_1232 " " OPT_1232);
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO_OPT,
	    "two OPT records: FORMERR (RFC 6891 6.1.1), one OPT in the reply");
	query(&m, 0x01, 1, 1, 0, 0);
	put(&m, Q " " OPT_1232);
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "OPT in the answer section: FORMERR");
	query(&m, 0x01, 1, 0, 1, 0);
	put(&m, Q " " OPT_1232);
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "OPT in the authority section: FORMERR");
	query_additional(&m, 1, "04 74657374 00 0029 04d0 00000000 0000");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "OPT owned by test., not the root: FORMERR");
	query_additional(&m, 1, "c016 0029 04d0 00000000 0000");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "OPT owned by a pointer to test.: FORMERR");
	query_additional(&m, 1, "00 0029 04d0 00000000 0006 000a 0008 0102");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "an EDNS option longer than the OPT's RDATA: FORMERR");
	query_additional(&m, 1, "00 0029 04d0 00000000 0003 000a 00");
	expect_query(&m, DNS_QUERY_FORMERR, FORMERR_ECHO,
	    "an EDNS option header cut short: FORMERR");
	query_additional(&m, 1, "00 0029 04d0 00010000 0000");
	expect_query(&m, DNS_QUERY_BADVERS,
	    "beef 8180 0001 0000 0000 0001 " Q " 00 0029 04d0 01 00 0000 0000",
	    "EDNS version 1: BADVERS (RCODE 0 in the header, 1 in our OPT)");
	query_additional(&m, 1, "00 0029 1000 00ff8000 0000");
	expect_query(&m, DNS_QUERY_BADVERS,
	    "beef 8180 0001 0000 0000 0001 " Q " 00 0029 04d0 01 00 8000 0000",
	    "EDNS version 255 with DO: BADVERS, DO echoed, our own size");

	query_additional(&m, 1, "00 0029 0000 00000000 0000");
	{
		struct dns_query dq;
		check(dns_parse_query(m.b, m.n, &dq) == DNS_QUERY_OK &&
		    dq.edns && dq.edns_size == 0,
		    "an EDNS UDP size of 0: accepted as it is (query.c treats "
		    "anything under 512 as 512)");
	}
	query_additional(&m, 1, "00 0029 04d0 00000000");
	put16(&m, 4 * 2000);
	for (int i = 0; i < 2000; i++)
		put(&m, "fde9 0000");
	expect_query(&m, DNS_QUERY_OK,
	    "0000 0120 0001 0000 0000 0001 " Q " " OPT_1232,
	    "2000 empty EDNS options: accepted, none forwarded");
	query_additional(&m, 1, "00 0029 04d0 00000000");
	put16(&m, 4 + 4000);
	put(&m, "000a");
	put16(&m, 4000);
	put_bytes(&m, 0x5a, 4000);
	expect_query(&m, DNS_QUERY_OK,
	    "0000 0120 0001 0000 0000 0001 " Q " " OPT_1232,
	    "a 4000-byte cookie option: accepted, not forwarded");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "01 61 07 6578616d706c65 04 74657374 00 0029 0001");
	expect_query(&m, DNS_QUERY_FORMERR, "beef 8181 0001 0000 0000 0000 "
	    "01 61 07 6578616d706c65 04 74657374 00 0029 0001",
	    "a question for type OPT: FORMERR");
	query_additional(&m, 2, "c00c 00fa 00ff 00000000 0000 " OPT_1232);
	expect_query(&m, DNS_QUERY_FORMERR, NULL,
	    "a TSIG record before the OPT: FORMERR (RFC 8945 5.1: TSIG last)");
	query_additional(&m, 2, OPT_1232 " c00c 00fa 00ff 00000000 0013 "
	    "01 78 00 000001020304 012c 0000 0000 0000 0000");
	expect_query(&m, DNS_QUERY_TSIG, NULL,
	    "a TSIG record last: TSIG (check.c answers it BADKEY)");
}

/* ---- queries: opcodes, classes, transfers (item 6) ------------------- */

static void
check_opcodes(void)
{
	static const struct { unsigned opcode; const char *reply; } ops[] = {
		{ 1, "beef 8984 0001 0000 0000 0000 " Q },
		{ 2, "beef 9184 0001 0000 0000 0000 " Q },
		{ 4, "beef a184 0001 0000 0000 0000 " Q },
		{ 5, "beef a984 0001 0000 0000 0000 " Q },
		{ 15, "beef f984 0001 0000 0000 0000 " Q },
	};
	struct msg m;
	char desc[80];

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		query(&m, (uint8_t)(ops[i].opcode << 3 | 0x01), 1, 0, 0, 0);
		put(&m, Q);
		snprintf(desc, sizeof(desc), "opcode %u: NOTIMP, opcode and "
		    "question echoed", ops[i].opcode);
		expect_query(&m, DNS_QUERY_NOTIMP, ops[i].reply, desc);
	}
	query(&m, 0x11, 0, 0, 0, 0);
	expect_query(&m, DNS_QUERY_NOTIMP, "beef 9184 0000 0000 0000 0000",
	    "opcode 2 without a question: NOTIMP, nothing to echo");

	query(&m, 0x01, 1, 0, 0, 1);
	put(&m, "01 61 07 6578616d706c65 04 74657374 00 00fc 0001 " OPT_1232);
	expect_query(&m, DNS_QUERY_NOTIMP, "beef 8184 0001 0000 0000 0001 "
	    "01 61 07 6578616d706c65 04 74657374 00 00fc 0001 " OUR_OPT,
	    "AXFR: NOTIMP, with our OPT");
	/* What dig sends for IXFR=1: the client's SOA in the authority
	 * section (RFC 1995 3). */
	query(&m, 0x00, 1, 0, 1, 0);
	put(&m, "07 6578616d706c65 04 74657374 00 00fb 0001 "
	    "c00c 0006 0001 00000000 0016 00 00 00000001 00000000 00000000 "
	    "00000000 00000000");
	expect_query_todo(&m, DNS_QUERY_NOTIMP, NULL,
	    "IXFR as clients send it (an SOA in the authority section): "
	    "NOTIMP like AXFR",
	    "dns.c dns_parse_query() answers FORMERR for NSCOUNT 1 before it "
	    "looks at the type");

	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "07 76657273696f6e 04 62696e64 00 0010 0003");
	expect_query(&m, DNS_QUERY_OK, NULL,
	    "class CH: accepted (local.c answers it)");
	query(&m, 0x01, 1, 0, 0, 0);
	put(&m, "01 61 07 6578616d706c65 04 74657374 00 0001 00fe");
	expect_query(&m, DNS_QUERY_OK, NULL,
	    "class NONE: accepted by the parser (forwarded)");
}

/* ---- answers from upstream -------------------------------------------- */

/* The reply to client_plain for an answer: ID beef, QR RD, RA. */
#define OUT(an, ns, ar) "beef 8180 0001 " an " " ns " " ar " " Q " "

static void
check_answer_header(void)
{
	struct msg a;
	bool all = true;

	answer(&a, 1, 0, 0, RR_A);
	for (size_t len = 0; len < 12; len++) {
		struct msg cut = a;
		cut.n = len;
		all = all && answer_outcome(&client_plain, 512, &cut, -1, NULL);
	}
	check(all, "answers of 0-11 bytes: refused");
	answer(&a, 1, 0, 0, RR_A);
	expect_answer(&a, 0, OUT("0001", "0000", "0000") RR_A,
	    "a good answer: relayed with the client's ID, AA cleared");
	set16(&a, 4, 0);
	expect_answer(&a, -1, NULL, "QDCOUNT 0 in an answer: refused");
	set16(&a, 4, 2);
	expect_answer(&a, -1, NULL, "QDCOUNT 2 in an answer: refused");
	answer(&a, 1, 0, 0, RR_A);
	a.b[2] = 0x05;
	expect_answer(&a, -1, NULL, "QR clear in an answer: refused");
	a.b[2] = 0x8d;
	expect_answer(&a, -1, NULL, "opcode 1 in an answer: refused");
	answer(&a, 1, 0, 0, RR_A);
	a.b[0] = 0x99;
	expect_answer(&a, 0, OUT("0001", "0000", "0000") RR_A,
	    "another ID upstream (c-ares matched it): the client's own ID");
	answer(&a, 5, 0, 0, RR_A " " RR_A);
	a.b[2] |= 0x02;
	expect_answer(&a, -1, NULL, "TC with records missing: refused");
	answer(&a, 0xffff, 0xffff, 0xffff, RR_A);
	expect_answer(&a, -1, NULL, "every count 65535, one record: refused");
	msg_hex(&a, "1234 8580 0001 0001 0000 0000 c00c 0001 0001 " RR_A);
	expect_answer(&a, -1, NULL, "a compressed question: refused");
	msg_hex(&a, "1234 8580 0001 0000 0000 0000 05 61 00");
	expect_answer(&a, -1, NULL,
	    "a question label running past the end: refused");
}

static void
check_answer_pointers(void)
{
	struct msg a;

	answer(&a, 1, 0, 0, "c020 0001 0001 0000012c 0004 c0000201");
	expect_answer(&a, -1, NULL, "owner pointing to itself: refused");
	answer(&a, 2, 0, 0, "01 62 c032 0001 0001 0000012c 0004 c0000201 "
	    "c020 0001 0001 0000012c 0004 c0000201");
	expect_answer(&a, -1, NULL, "A points to B, B back to A: refused");
	answer(&a, 2, 0, 0, "c030 0001 0001 0000012c 0004 c0000201 " RR_A);
	expect_answer(&a, -1, NULL, "a forward pointer: refused");
	answer(&a, 1, 0, 0, "c003 0001 0001 0000012c 0004 c0000201");
	expect_answer(&a, -1, NULL, "a pointer into the header: refused");
	answer(&a, 1, 0, 0, "ffff 0001 0001 0000012c 0004 c0000201");
	expect_answer(&a, -1, NULL, "a pointer past the end: refused");
	answer(&a, 1, 0, 0, "c0");
	expect_answer(&a, -1, NULL, "a pointer with one byte left: refused");
	answer(&a, 1, 0, 0, "");
	for (int i = 0; i < 4; i++)
		put_label(&a, 63);
	put(&a, "c00e 0001 0001 0000012c 0004 c0000201");
	expect_answer(&a, -1, NULL, "270 octets once decompressed: refused");
	answer(&a, 1, 0, 0, "");
	put_label(&a, 64);
	put(&a, "00 0001 0001 0000012c 0004 c0000201");
	expect_answer(&a, -1, NULL, "a 64-octet label: refused");
	answer(&a, 1, 0, 0, "80 00 0001 0001 0000012c 0004 c0000201");
	expect_answer(&a, -1, NULL, "label type 10: refused");
	answer(&a, 1, 0, 0, "3f 6162");
	expect_answer(&a, -1, NULL, "a label running past the end: refused");
	answer(&a, 1, 1, 0, RR_A " c030 0002 0001 0000012c 0002 c00e");
	expect_answer(&a, -1, NULL,
	    "authority: an owner pointing to itself: refused");
	answer(&a, 1, 0, 1, RR_A " c031 0001 0001 0000012c 0004 c0000201");
	expect_answer(&a, -1, NULL, "additional: a forward pointer: refused");

	/*
	 * The additional record at 45 is owned by a pointer back to 44, the
	 * one byte of a TXT record's RDATA: a 13-octet label (45 to 57), and
	 * the root is the 0 at 58, inside the upstream's OPT. Relayed without
	 * that OPT, the name runs off the end of the reply.
	 */
	answer(&a, 1, 0, 2, "c00c 0010 0001 0000012c 0001 0d "
	    "c02c 0001 0001 0000012c 0000 " OPT_1232);
	check_todo(answer_outcome(&client_plain, 512, &a, -1, NULL),
	    "an owner whose labels run on into the upstream's OPT (which is "
	    "not relayed): refused",
	    "dns.c dns_skip_name() lets the labels a pointer leads to run "
	    "past the pointer, into records dns_build_answer() drops");

	answer(&a, 1, 0, 0, "");
	{
		size_t prev = 12, rdlen_at;
		put(&a, "00 ff00 0001 00000000");
		rdlen_at = a.n;
		put16(&a, 0);
		for (int i = 0; i < 300; i++) {
			size_t here = a.n;
			put16(&a, 0xc000 | (unsigned)prev);
			prev = here;
		}
		set16(&a, rdlen_at, (unsigned)(a.n - rdlen_at - 2));
		put16(&a, 0xc000 | (unsigned)prev);
		put(&a, "0001 0001 0000012c 0004 c0000201");
		set16(&a, 6, 2);
	}
	check_todo(answer_outcome(&client_plain, 65535, &a, -1, NULL),
	    "an answer whose owner is reached through 300 chained pointers: "
	    "refused", HOPS_TODO);
}

static void
check_answer_records(void)
{
	struct msg a;

	answer(&a, 1, 0, 0, "c00c 0001 0001 0000012c 0010 c0000201");
	expect_answer(&a, -1, NULL, "RDLENGTH past the end: refused");
	answer(&a, 1, 0, 1, RR_A " c00c 0001 0001 0000012c 00ff c0000201");
	expect_answer(&a, -1, NULL,
	    "additional: RDLENGTH past the end: refused");
	answer(&a, 1, 0, 0, "c00c 0001 0001 0000012c");
	expect_answer(&a, -1, NULL, "a record cut after its TTL: refused");
	answer(&a, 1, 0, 0, "c00c 0001 0001 0000012c 0005 c000020101");
	expect_answer(&a, 0, OUT("0001", "0000", "0000")
	    "c00c 0001 0001 0000012c 0005 c000020101",
	    "an A record of 5 bytes: relayed as it is (RDATA is not read)");
	answer(&a, 1, 0, 0, "c00c ff00 0001 0000012c 0002 c040");
	expect_answer(&a, 0, OUT("0001", "0000", "0000")
	    "c00c ff00 0001 0000012c 0002 c040",
	    "a forward pointer inside RDATA of an unknown type: relayed as "
	    "it is (RFC 3597)");
	answer(&a, 1, 0, 0, RR_A " 00ff00ff");
	expect_answer(&a, 0, OUT("0001", "0000", "0000") RR_A,
	    "garbage after the last record: left out");
	answer(&a, 1, 0, 0, RR_A);
	a.b[2] |= 0x02;
	expect_answer(&a, 0, "beef 8380 0001 0001 0000 0000 " Q " " RR_A,
	    "TC from upstream on a whole answer: relayed, TC kept");
}

static void
check_answer_opt(void)
{
	struct msg a;

	answer(&a, 1, 0, 0, OPT_1232);
	expect_answer(&a, -1, NULL, "OPT in the answer section: refused");
	answer(&a, 1, 1, 0, RR_A " " OPT_1232);
	expect_answer(&a, -1, NULL, "OPT in the authority section: refused");
	answer(&a, 1, 0, 3, RR_A " " OPT_1232 " " OPT_1232 " " RR_A);
	expect_answer(&a, 0, OUT("0001", "0000", "0000") RR_A,
	    "two OPTs upstream: both left out, and what follows them");
	expect_answer_edns(&a, 1232, 0, "beef 8180 0001 0001 0000 0001 "
	    Q " " RR_A " " OUR_OPT,
	    "and an EDNS client gets our one OPT");
	answer(&a, 1, 0, 1, RR_A " 01 61 00 0029 04d0 00000000 0000");
	expect_answer(&a, 0, OUT("0001", "0000", "0000") RR_A,
	    "an OPT owned by a. upstream: left out like any OPT");
	answer(&a, 1, 0, 1, RR_A " 00 0029 04d0 00000000 0004 000a 00ff");
	expect_answer(&a, 0, OUT("0001", "0000", "0000") RR_A,
	    "an upstream OPT whose option overruns it: left out, unread");
	answer(&a, 1, 0, 1, RR_A " 00 0029 04d0 01000000 0000");
	a.b[3] |= 0x07;
	expect_answer(&a, -1, NULL,
	    "an extended RCODE (BADCOOKIE, 23) about our query: refused");
}

/* Limits: exactly at the client's limit it fits, a byte more is TC. */
static void
check_answer_limits(void)
{
	static char want[30 * 40 + 100];
	struct msg a;
	bool all;

	/* 32 + 30 * 16 = 512 bytes. */
	answer(&a, 30, 0, 0, "");
	for (int i = 0; i < 30; i++)
		put(&a, RR_A);
	expect_answer(&a, 0, NULL, "512 bytes for a 512-byte client: whole");
	answer(&a, 30, 0, 1, "");
	for (int i = 0; i < 31; i++)
		put(&a, RR_A);
	want[0] = '\0';
	strcat(want, OUT("001e", "0000", "0000"));
	for (int i = 0; i < 30; i++)
		strcat(want, RR_A " ");
	expect_answer(&a, 0, want,
	    "512 bytes of answers and an additional record: the additional "
	    "record left out, no TC");
	answer(&a, 31, 0, 0, "");
	for (int i = 0; i < 31; i++)
		put(&a, RR_A);
	expect_answer(&a, 0, "beef 8380 0001 0000 0000 0000 " Q,
	    "528 bytes of answers for a 512-byte client: TC, the bare "
	    "question");
	/* 32 + 74 * 16 + 11 = 1227: fits 1232; 75 records do not. */
	answer(&a, 75, 0, 0, "");
	for (int i = 0; i < 75; i++)
		put(&a, RR_A);
	expect_answer_edns(&a, 1232, 0,
	    "beef 8380 0001 0000 0000 0001 " Q " " OUR_OPT,
	    "1232 bytes of answers and our OPT over a 1232-byte limit: TC, "
	    "the question and our OPT");
	answer(&a, 74, 0, 0, "");
	for (int i = 0; i < 74; i++)
		put(&a, RR_A);
	expect_answer_edns(&a, 32 + 74 * 16 + 11, 0, NULL,
	    "an answer that fits exactly with our OPT: whole");

	answer(&a, 1, 0, 300, RR_A);
	for (int i = 0; i < 300; i++)
		put(&a, RR_A);
	{
		static struct msg out;
		struct dns_query dq;
		struct dns_reply r;
		bool tc;
		dns_parse_query(client_plain.b, client_plain.n, &dq);
		r = reply_for(&dq);
		r.limit = 65535;
		all = dns_build_answer(&r, a.b, a.n, out.b, sizeof(out.b),
		    &out.n, &tc) == 0 && !tc;
		check(all && out.n == 48 + 256 * 16 && out.b[10] == 1 &&
		    out.b[11] == 0 && counts_match(out.b, out.n),
		    "300 additional records: the first 256 relayed, counted");
	}
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	msg_hex(&client_plain, "beef 0100 0001 0000 0000 0000 " Q);
	msg_hex(&client_edns, "beef 0100 0001 0000 0000 0001 " Q " " OPT_1232);
	check_header();
	check_labels();
	check_query_pointers();
	check_query_records();
	check_opt();
	check_opcodes();
	check_answer_header();
	check_answer_pointers();
	check_answer_records();
	check_answer_opt();
	check_answer_limits();
	printf("1..%d\n", hostile_run);
	return tap_failures() == 0 ? 0 : 1;
}
