/*
 * t/zone.c - miodnsd's local zones (daemon/zone/):
 * master files with every directive and type, checked byte for byte;
 * malformed files, each refused with the right file, line and reason; and
 * answers, parsed back by a small response parser of this file and
 * compared as text ("owner ttl class type rdata" per record).
 *
 * Fixtures live in t/zones/. The program finds them through $top_srcdir
 * (set by make check) or the source directory it was built from.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "zone.h"

#ifndef ZONE_TEST_SRCDIR
#define ZONE_TEST_SRCDIR "."
#endif

static const char *srcdir;

/* ---- helpers: loading and rdata ------------------------------------------ */

static void
fixture_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/t/zones/%s", srcdir, name);
}

static struct zone *
load(const char *origin, const char *name)
{
	char path[4096], err[ZONE_ERROR_LEN];
	struct zone *zone = NULL;
	int rc;

	fixture_path(path, sizeof(path), name);
	rc = zone_load(&zone, origin, path, err, sizeof(err));
	if (!is_int(rc, 0, "%s loads as %s", name, origin))
		bail("cannot go on without %s: %s", name, err);
	return zone;
}

static const struct zone_rrset *
find_rrset(const struct zone *zone, const char *owner, uint16_t type)
{
	uint8_t name[256];
	int len = zone_name_from_text(owner, name);
	const struct zone_node *node;

	if (len < 0)
		bail("bad test name %s", owner);
	node = zone_node_find(zone, name, (size_t)len);
	return node == NULL ? NULL : zone_rrset_find(zone, node, type);
}

static void
hex(const uint8_t *p, size_t n, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o + 3 < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%02x", p[i]);
}

/* Passes if rdata i of (owner, type) is want and the RRset's TTL is ttl. */
#define is_rdata(zone, owner, type, ttl, i, want, ...)                         \
	check_rdata(__FILE__, __LINE__, (zone), (owner), (type), (ttl), (i),   \
	    (const uint8_t *)(want), sizeof(want) - 1, __VA_ARGS__)

__attribute__((__format__(__printf__, 10, 11))) static void
check_rdata(const char *file, int line, const struct zone *zone,
    const char *owner, uint16_t type, uint32_t ttl, size_t i,
    const uint8_t *want, size_t want_len, const char *fmt, ...)
{
	const struct zone_rrset *set = find_rrset(zone, owner, type);
	char got_hex[600] = "(none)", want_hex[600], what[200];
	size_t len = 0;
	const uint8_t *got = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (set != NULL && i < set->count) {
		got = zone_rdata(zone, set, i, &len);
		hex(got, len, got_hex, sizeof(got_hex));
	}
	hex(want, want_len, want_hex, sizeof(want_hex));
	if (!tap_ok(file, line,
	        got != NULL && len == want_len && memcmp(got, want, len) == 0 &&
	            set->ttl == ttl,
	        "%s", what))
		diag("%s type %u #%zu: want ttl %u %s, got ttl %u %s", owner,
		    type, i, ttl, want_hex, set ? set->ttl : 0, got_hex);
}

static size_t
rrset_count(const struct zone *zone, const char *owner, uint16_t type)
{
	const struct zone_rrset *set = find_rrset(zone, owner, type);

	return set == NULL ? 0 : set->count;
}

/* ---- helpers: a response parser ------------------------------------------ */

enum { ANSWER, AUTHORITY, ADDITIONAL };

struct parsed {
	bool well_formed;
	char status[64]; /* "NXDOMAIN aa tc" */
	unsigned counts[3];
	char section[3][8192];
	size_t len;
};

static bool
read_name(const uint8_t *msg, size_t len, size_t *pos, char *out, size_t outlen)
{
	size_t p = *pos, end = 0, o = 0;
	unsigned hops = 0;

	for (;;) {
		if (p >= len)
			return false;
		if ((msg[p] & 0xc0) == 0xc0) {
			size_t target;

			if (p + 1 >= len || ++hops > 64)
				return false;
			target = (size_t)(msg[p] & 0x3f) << 8 | msg[p + 1];
			if (target >= p)
				return false;
			if (end == 0)
				end = p + 2;
			p = target;
			continue;
		}
		if (msg[p] > 63 || p + 1 + msg[p] > len)
			return false;
		if (msg[p] == 0)
			break;
		for (uint8_t i = 1; i <= msg[p]; i++) {
			uint8_t c = msg[p + i];

			if (o + 6 >= outlen)
				return false;
			if (c == '.' || c == '\\')
				o += (size_t)snprintf(
				    out + o, outlen - o, "\\%c", c);
			else if (c < 0x21 || c > 0x7e)
				o += (size_t)snprintf(
				    out + o, outlen - o, "\\%03u", c);
			else
				out[o++] = (char)c;
		}
		out[o++] = '.';
		p += 1 + (size_t)msg[p];
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	*pos = end != 0 ? end : p + 1;
	return true;
}

static const char *
type_name(uint16_t type, char *buf, size_t len)
{
	static const struct {
		uint16_t type;
		const char *name;
	} names[] = {{1, "A"}, {2, "NS"}, {5, "CNAME"}, {6, "SOA"}, {12, "PTR"},
	    {13, "HINFO"}, {15, "MX"}, {16, "TXT"}, {28, "AAAA"}, {33, "SRV"},
	    {39, "DNAME"}, {257, "CAA"}};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	snprintf(buf, len, "TYPE%u", type);
	return buf;
}

static bool
render_strings(const uint8_t *p, size_t n, char *out, size_t len)
{
	size_t o = 0, i = 0;

	while (i < n) {
		size_t k = p[i];

		if (i + 1 + k > n || o + k + 4 >= len)
			return false;
		o += (size_t)snprintf(out + o, len - o, "%s\"%.*s\"",
		    o ? " " : "", (int)k, (const char *)p + i + 1);
		i += 1 + k;
	}
	return true;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Renders the rdata at msg[pos], rdlen long; names must end inside it. */
static bool
render_rdata(const uint8_t *msg, size_t pos, size_t rdlen, uint16_t type,
    char *out, size_t len)
{
	size_t end = pos + rdlen, p = pos;
	char a[1024], b[1024];

	switch (type) {
	case 1:
	case 28:
		return rdlen == (type == 1 ? 4u : 16u) &&
		    inet_ntop(type == 1 ? AF_INET : AF_INET6, msg + pos, out,
		        (socklen_t)len) != NULL;
	case 2:
	case 5:
	case 12:
	case 39:
		return read_name(msg, end, &p, out, len) && p == end;
	case 15:
		p += 2;
		if (rdlen < 3 || !read_name(msg, end, &p, a, sizeof(a)) ||
		    p != end)
			return false;
		snprintf(out, len, "%u %s", get16(msg + pos), a);
		return true;
	case 33:
		p += 6;
		if (rdlen < 7 || !read_name(msg, end, &p, a, sizeof(a)) ||
		    p != end)
			return false;
		snprintf(out, len, "%u %u %u %s", get16(msg + pos),
		    get16(msg + pos + 2), get16(msg + pos + 4), a);
		return true;
	case 6:
		if (!read_name(msg, end, &p, a, sizeof(a)) ||
		    !read_name(msg, end, &p, b, sizeof(b)) || p + 20 != end)
			return false;
		snprintf(out, len, "%s %s %u %u %u %u %u", a, b, get32(msg + p),
		    get32(msg + p + 4), get32(msg + p + 8), get32(msg + p + 12),
		    get32(msg + p + 16));
		return true;
	case 13:
	case 16:
		return render_strings(msg + pos, rdlen, out, len);
	default:
		snprintf(out, len, "\\# %zu ", rdlen);
		hex(msg + pos, rdlen, out + strlen(out), len - strlen(out));
		return true;
	}
}

static bool
parse_rr(const uint8_t *msg, size_t len, size_t *pos, char *line, size_t n)
{
	char owner[1024], rdata[4096], tbuf[16];
	uint16_t type, class, rdlen;
	uint32_t ttl;

	if (!read_name(msg, len, pos, owner, sizeof(owner)) || *pos + 10 > len)
		return false;
	type = get16(msg + *pos);
	class = get16(msg + *pos + 2);
	ttl = get32(msg + *pos + 4);
	rdlen = get16(msg + *pos + 8);
	*pos += 10;
	if (*pos + rdlen > len ||
	    !render_rdata(msg, *pos, rdlen, type, rdata, sizeof(rdata)))
		return false;
	*pos += rdlen;
	snprintf(line, n, "%s %u %s %s %s\n", owner, ttl,
	    class == 1       ? "IN"
	        : class == 3 ? "CH"
	                     : "CLASS?",
	    type_name(type, tbuf, sizeof(tbuf)), rdata);
	return true;
}

static void
parse_response(const uint8_t *msg, size_t len, struct parsed *p)
{
	static const char *rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN"};
	size_t pos = 12;
	char name[1024], line[8192];

	memset(p, 0, sizeof(*p));
	p->len = len;
	if (len < 12 || (msg[3] & 15) > 6)
		return;
	snprintf(p->status, sizeof(p->status), "%s%s%s", rcodes[msg[3] & 15],
	    msg[2] & 4 ? " aa" : "", msg[2] & 2 ? " tc" : "");
	if (get16(msg + 4) != 1 ||
	    !read_name(msg, len, &pos, name, sizeof(name)) || pos + 4 > len)
		return;
	pos += 4;
	for (int s = 0; s < 3; s++) {
		p->counts[s] = get16(msg + 6 + 2 * s);
		for (unsigned i = 0; i < p->counts[s]; i++) {
			if (!parse_rr(msg, len, &pos, line, sizeof(line)) ||
			    strlen(p->section[s]) + strlen(line) >=
			        sizeof(p->section[s]))
				return;
			strcat(p->section[s], line);
		}
	}
	p->well_formed = pos == len;
}

/* ---- helpers: asking ----------------------------------------------------- */

struct query {
	uint8_t buf[65536];
	uint8_t qname[256];
	struct zone_question q;
	struct zone_response r;
};

/* Writes the header and question as the daemon would: ID, QR and RD. */
static void
query_init(struct query *qy, const char *name, uint16_t type, uint16_t class,
    size_t limit)
{
	int n = zone_name_from_text(name, qy->qname);

	if (n < 0)
		bail("bad test name %s", name);
	memset(qy->buf, 0, 12);
	qy->buf[0] = 0xbe;
	qy->buf[1] = 0xef;
	qy->buf[2] = 0x81;
	qy->buf[5] = 1;
	memcpy(qy->buf + 12, qy->qname, (size_t)n);
	qy->buf[12 + n] = (uint8_t)(type >> 8);
	qy->buf[13 + n] = (uint8_t)type;
	qy->buf[14 + n] = (uint8_t)(class >> 8);
	qy->buf[15 + n] = (uint8_t) class;
	qy->q = (struct zone_question){qy->qname, (size_t)n, type, class};
	qy->r = (struct zone_response){
	    .buf = qy->buf, .len = 12 + (size_t)n + 4, .limit = limit};
}

static struct query query;

static int
ask(const struct zone *zone, const char *name, uint16_t type, size_t limit,
    struct parsed *p)
{
	int rc;

	query_init(&query, name, type, ZONE_CLASS_IN, limit);
	rc = zone_answer(zone, &query.q, &query.r);
	zone_response_patch_header(&query.r);
	parse_response(query.buf, query.r.len, p);
	return rc;
}

/* Five checks: the message parses back exactly, then status and sections. */
#define expect(zone, name, type, status, answer, authority, additional)        \
	expect_at(__FILE__, __LINE__, (zone), (name), (type), 65535, (status), \
	    (answer), (authority), (additional))

static void
expect_at(const char *file, int line, const struct zone *zone, const char *name,
    uint16_t type, size_t limit, const char *status, const char *answer,
    const char *authority, const char *additional)
{
	struct parsed p;
	char tbuf[16];
	const char *t = type_name(type, tbuf, sizeof(tbuf));
	int rc = ask(zone, name, type, limit, &p);

	tap_ok(file, line, rc == 0 && p.well_formed && p.len <= limit,
	    "%s %s: a well-formed message of %zu octets", name, t, p.len);
	tap_is_string(file, line, p.status, status, "%s %s: status", name, t);
	tap_is_string(file, line, p.section[ANSWER], answer,
	    "%s %s: answer section", name, t);
	tap_is_string(file, line, p.section[AUTHORITY], authority,
	    "%s %s: authority section", name, t);
	tap_is_string(file, line, p.section[ADDITIONAL], additional,
	    "%s %s: additional section", name, t);
}

/* ---- parsing ------------------------------------------------------------- */

static void
directives(void)
{
	struct zone *z = load("example.test", "directives.zone");

	is_rdata(z, "example.test.", ZONE_TYPE_SOA, 3600, 0,
	    "\3ns1\7example\4test\0\12hostmaster\7example\4test\0"
	    "\x78\xa3\xf1\x75\0\0\x1c\x20\0\0\x03\x84\0\x12\x75\0\0\0\x01\x2c",
	    "SOA over six lines with comments, $TTL 1h, timers 2h 15m 2w");
	is_rdata(z, "example.test.", ZONE_TYPE_NS, 3600, 0,
	    "\3ns1\7example\4test\0", "owner @ inherited; relative target");
	is_rdata(z, "ns1.example.test.", ZONE_TYPE_A, 3600, 0, "\xc0\0\2\1",
	    "A with class IN");
	is_rdata(z, "ns1.example.test.", ZONE_TYPE_AAAA, 3600, 0,
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1",
	    "AAAA inherits owner, class and TTL");
	is_rdata(z, "abs.example.test.", ZONE_TYPE_A, 60, 0, "\xc0\0\2\2",
	    "absolute owner, explicit TTL");
	is_rdata(z, "ttl-first.example.test.", ZONE_TYPE_A, 120, 0,
	    "\xc0\0\2\3", "TTL before class");
	is_rdata(z, "class-first.example.test.", ZONE_TYPE_A, 180, 0,
	    "\xc0\0\2\4", "class before TTL");
	is_rdata(z, "class-first.example.test.", ZONE_TYPE_A, 180, 1,
	    "\xc0\0\2\5", "an RRset keeps its first record's TTL");
	is_rdata(z, "mixed.example.test.", ZONE_TYPE_A, 3600, 0, "\xc0\0\2\6",
	    "a mixed-case owner is found in lower case");
	is_rdata(z, "MIXED.EXAMPLE.TEST.", ZONE_TYPE_A, 3600, 0, "\xc0\0\2\6",
	    "and in upper case");
	is_rdata(z, "host.sub.example.test.", ZONE_TYPE_A, 3600, 0,
	    "\xc0\0\2\x10", "relative to a new $ORIGIN");
	is_rdata(z, "sub.example.test.", ZONE_TYPE_TXT, 3600, 0, "\6at sub",
	    "@ is the current $ORIGIN");
	is_rdata(z, "r.relo.example.test.", ZONE_TYPE_A, 3600, 0,
	    "\xc0\0\2\x0e", "a relative $ORIGIN extends the current one");
	is_rdata(z, "sub2.relo.example.test.", ZONE_TYPE_A, 3600, 0,
	    "\xc0\0\2\x0f", "and a second one extends that");
	is_rdata(z, "late.example.test.", ZONE_TYPE_A, 600, 0, "\xc0\0\2\7",
	    "a second $TTL applies from there on");
	is_rdata(z, "inc-a.example.test.", ZONE_TYPE_A, 600, 0, "\xc0\0\2\x08",
	    "$INCLUDE, relative to the including file, with its origin");
	is_rdata(z, "x.other.example.test.", ZONE_TYPE_A, 600, 0,
	    "\xc0\0\2\x0a", "$ORIGIN inside an included file");
	is_rdata(z, "after.example.test.", ZONE_TYPE_A, 600, 0, "\xc0\0\2\x09",
	    "the origin comes back after $INCLUDE");
	is_rdata(z, "after.example.test.", ZONE_TYPE_TXT, 600, 0,
	    "\10a record\10on three\5lines",
	    "parentheses join three lines into one record");
	is_rdata(z, "inc.example.test.", ZONE_TYPE_A, 600, 0, "\xc0\0\2\x0b",
	    "$INCLUDE with an origin: @ is that origin");
	is_rdata(z, "y.inc.example.test.", ZONE_TYPE_A, 600, 0, "\xc0\0\2\x0c",
	    "relative names use the given origin");
	is_rdata(z, "z.inc.example.test.", ZONE_TYPE_A, 600, 0, "\xc0\0\2\x0d",
	    "a nested $INCLUDE is relative to its parent");
	is_rdata(z, "rel.example.test.", ZONE_TYPE_CNAME, 600, 0,
	    "\4late\7example\4test\0", "quoted $INCLUDE name; CNAME target");
	is_int((long long)z->record_count, 22, "22 records in the zone");
	is_int(zone_serial(z), 2024010101, "zone_serial");
	ok(find_rrset(z, "inc-a.other.example.test.", ZONE_TYPE_A) == NULL,
	    "an included $ORIGIN does not leak into the parent");
	zone_free(z);
}

static void
types(void)
{
	struct zone *z = load("types.test.", "types.zone");

	is_rdata(z, "types.test.", ZONE_TYPE_SOA, 300, 0,
	    "\2ns\5types\4test\0\12admin.name\5types\4test\0"
	    "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5",
	    "SOA with an escaped dot in the mailbox");
	is_rdata(z, "types.test.", ZONE_TYPE_NS, 300, 0, "\2ns\5types\4test\0",
	    "NS");
	is_rdata(z, "a.types.test.", ZONE_TYPE_A, 300, 0, "\xc0\0\2\1", "A");
	is_rdata(z, "aaaa.types.test.", ZONE_TYPE_AAAA, 300, 0,
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\1\0\2", "AAAA");
	is_rdata(z, "cname.types.test.", ZONE_TYPE_CNAME, 300, 0,
	    "\6Target\7Example\0", "CNAME keeps the case of its target");
	is_rdata(z, "ptr.types.test.", ZONE_TYPE_PTR, 300, 0,
	    "\4host\5types\4test\0", "PTR");
	is_rdata(z, "mx.types.test.", ZONE_TYPE_MX, 300, 0,
	    "\0\12\4mail\5types\4test\0", "MX");
	is_rdata(z, "txt.types.test.", ZONE_TYPE_TXT, 300, 0,
	    "\13hello world\5plain\14with \"quote\"\3ABC\0",
	    "TXT: five strings, quoted, bare, escaped and empty");
	is_rdata(z, "txt2.types.test.", ZONE_TYPE_TXT, 300, 0,
	    "\12semi;colon\7(paren)\12back\\slash",
	    "TXT: ; and () inside quotes, an escaped backslash");
	is_rdata(z, "srv.types.test.", ZONE_TYPE_SRV, 300, 0,
	    "\0\1\0\2\1\xbb\12srv-target\5types\4test\0", "SRV");
	is_rdata(z, "caa.types.test.", ZONE_TYPE_CAA, 300, 0,
	    "\0\5issueca.example.net; account=1", "CAA issue");
	is_rdata(z, "caa.types.test.", ZONE_TYPE_CAA, 300, 1,
	    "\x80\5iodefmailto:sec@example.net", "CAA iodef, critical");
	is_rdata(z, "unk.types.test.", 65280, 300, 0, "\x0a\x0b\x0c\x0d",
	    "an unknown type in RFC 3597 form");
	is_rdata(z, "unk0.types.test.", 65281, 300, 0, "",
	    "RFC 3597 with zero length");
	is_rdata(z, "gen-a.types.test.", ZONE_TYPE_A, 300, 0, "\xc0\0\2\1",
	    "a known type in RFC 3597 form, hex in several words");
	is_rdata(z, "hinfo.types.test.", ZONE_TYPE_HINFO, 300, 0, "\3ABC\3DEF",
	    "TYPE13 with hex split inside a byte");
	is_rdata(z, "type1.types.test.", ZONE_TYPE_A, 300, 0, "\xc0\0\2\4",
	    "TYPE1 with A's own syntax");
	is_rdata(z, "escaped\\.dot.types.test.", ZONE_TYPE_A, 300, 0,
	    "\xc0\0\2\2", "an owner with an escaped dot");
	is_rdata(z, "abc.types.test.", ZONE_TYPE_A, 300, 0, "\xc0\0\2\3",
	    "an owner written \\065bc is abc");
	is_int((long long)rrset_count(z, "dup.types.test.", ZONE_TYPE_A), 1,
	    "a duplicate record is dropped");
	is_int((long long)rrset_count(z, "ttls.types.test.", ZONE_TYPE_A), 2,
	    "records with different TTLs form one RRset");
	is_rdata(z, "ttls.types.test.", ZONE_TYPE_A, 10, 1, "\xc0\0\2\7",
	    "whose TTL is the first record's");
	zone_free(z);
}

static void
names(void)
{
	uint8_t wire[256];
	char text[ZONE_NAME_TEXT_LEN], small[8];
	char long_label[80];

	is_int(zone_name_from_text("www.Example.test", wire), 18,
	    "a relative name is taken as absolute");
	ok(memcmp(wire, "\3www\7Example\4test", 18) == 0, "and keeps its case");
	is_int(zone_name_from_text(".", wire), 1, "the root");
	is_int(zone_name_from_text("a..b", wire), -EINVAL, "empty label");
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	is_int(
	    zone_name_from_text(long_label, wire), -EINVAL, "64-octet label");
	zone_name_from_text("a\\.b\\032c.\\\\.test", wire);
	is_int(zone_name_to_text(wire, text, sizeof(text)), 18,
	    "escaped name to text");
	is_string(text, "a\\.b\\032c.\\\\.test.", "escapes come back");
	is_int(zone_name_to_text((const uint8_t *)"", text, sizeof(text)), 1,
	    "root to text");
	is_string(text, ".", "the root is a dot");
	is_int(zone_name_to_text(wire, small, sizeof(small)), -ENOSPC,
	    "too small a buffer");
	ok(zone_name_is_below(
	       (const uint8_t *)"\1a\4TEST", 8, (const uint8_t *)"\4test", 6),
	    "a.TEST is below test");
	ok(!zone_name_is_below(
	       (const uint8_t *)"\3xtest", 7, (const uint8_t *)"\4test", 6),
	    "xtest is not below test (label boundary)");
}

struct bad_case {
	const char *file;
	unsigned line; /* 0: a whole-file error */
	const char *reason;
};

static const struct bad_case bad_cases[] = {
    {"no-soa", 0, "no SOA record at the zone apex bad.test."},
    {"two-soa", 6, "more than one SOA record at bad.test."},
    {"soa-not-apex", 6, "SOA record outside the zone apex, at sub.bad.test."},
    {"cname-and-other", 7, "CNAME and other data at www.bad.test."},
    {"two-cnames", 7, "more than one CNAME record at www.bad.test."},
    {"outside", 6, "owner www.other.test. is outside the zone bad.test."},
    {"below-delegation", 8,
        "MX record below the delegation sub.bad.test.: mail.sub.bad.test."},
    {"ns-below-delegation", 7,
        "NS record below the delegation sub.bad.test.: deeper.sub.bad.test."},
    {"at-delegation", 7,
        "TXT record at the delegation sub.bad.test.: sub.bad.test."},
    {"ns-wildcard", 6, "NS records at the wildcard *.bad.test."},
    {"bad-ttl", 6, "bad TTL '99999999999'"},
    {"bad-ttl-unit", 6, "bad TTL '1x'"},
    {"unclosed-paren", 6, "'(' is never closed"},
    {"nested-paren", 6, "nested '('"},
    {"close-paren", 6, "')' without '('"},
    {"unclosed-quote", 6, "quoted string is never closed"},
    {"newline-quote", 6, "line ends inside a quoted string"},
    {"bad-ipv4", 6, "bad IPv4 address '192.0.2.256'"},
    {"bad-ipv6", 6, "bad IPv6 address '2001:db8::g'"},
    {"unknown-type", 6, "unknown type 'FOO'"},
    {"unknown-directive", 6, "unknown directive '$GENERATE'"},
    {"long-label", 6,
        "bad name 'a000000000000000000000000000000000000000...': "
        "label longer than 63 octets"},
    {"long-name", 6,
        "bad name 'abcdefghi.abcdefghi.abcdefghi.abcdefghi....': "
        "name longer than 255 octets"},
    {"bad-escape", 6, "bad name 'a\\999': \\DDD escape above 255"},
    {"short-escape", 6, "bad name 'a\\12': \\DDD escape without three digits"},
    {"empty-label", 6, "bad name 'a..b': empty label"},
    {"generic-length", 6, "RFC 3597 rdata: length 4 but 6 hex digits"},
    {"generic-too-long", 6, "RFC 3597 rdata: length 2 but 6 hex digits"},
    {"generic-hex", 6, "bad hex digit in RFC 3597 rdata"},
    {"generic-bad-a", 6, "RFC 3597 rdata is not valid A rdata"},
    {"generic-bad-mx", 6, "RFC 3597 rdata is not valid MX rdata"},
    {"unknown-no-generic", 6,
        "type TYPE65280 needs RFC 3597 rdata (\\# length hex)"},
    {"no-ttl", 3, "no TTL given and no $TTL before this record"},
    {"class-mismatch", 6, "class CH differs from the zone's class IN"},
    {"class-unsupported", 6, "class 4 is not supported (only IN and CH)"},
    {"include-missing", 6, "cannot read "},
    {"include-loop", 2, "$INCLUDE nested more than 8 deep"},
    {"missing-field", 6, "missing MX exchange"},
    {"trailing-field", 6, "unexpected field '192.0.2.2' after the rdata"},
    {"txt-too-long", 6, "TXT string longer than 255 octets"},
    {"caa-bad-tag", 6, "bad CAA tag (1 to 15 letters and digits)"},
    {"srv-range", 6, "bad SRV port '70000' (a number up to 65535)"},
    {"meta-type", 6, "type 255 cannot appear in a zone"},
    {"no-owner", 4, "the first record has no owner name"},
    {"missing-type", 6, "missing type"},
    {"quoted-name", 6, "a name may not be quoted"},
    {"backslash-eol", 6, "a backslash ends the line"},
    {"origin-args", 6, "$ORIGIN takes one field"},
};

/* Each malformed file fails with "path:line: reason" and no zone. */
static void
malformed_files(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		char path[4096], name[200], want[5000], err[ZONE_ERROR_LEN];
		struct zone *zone = NULL;
		int rc;

		snprintf(name, sizeof(name), "bad/%s.zone", c->file);
		fixture_path(path, sizeof(path), name);
		if (c->line > 0)
			snprintf(want, sizeof(want), "%s:%u: %s", path, c->line,
			    c->reason);
		else
			snprintf(want, sizeof(want), "%s: %s", path, c->reason);
		rc = zone_load(&zone, "bad.test", path, err, sizeof(err));
		if (!ok(rc < 0 && zone == NULL &&
		            strncmp(err, want, strlen(want)) == 0,
		        "%s is refused: %s", name, c->reason))
			diag("rc %d, error '%s', expected '%s'", rc, err, want);
	}
}

static void
malformed_buffers(void)
{
	static const char nul[] =
	    "$TTL 1\n@ SOA a b 1 2 3 4 5\nwww A 1.2.3.4\0\n";
	static const char inc[] = "$INCLUDE /etc/passwd\n";
	struct zone *zone = NULL;
	char err[ZONE_ERROR_LEN], tiny[12];

	is_int(zone_load_buffer(&zone, "t.test", "mem", nul, sizeof(nul) - 1, 0,
	           err, sizeof(err)),
	    -EINVAL, "a NUL byte is refused");
	is_string(err, "mem:3: NUL character in the file", "with its line");
	is_int(zone_load_buffer(&zone, "t.test", "mem", inc, sizeof(inc) - 1,
	           ZONE_LOAD_NO_INCLUDE, err, sizeof(err)),
	    -EINVAL, "$INCLUDE can be disabled");
	is_string(err, "mem:1: $INCLUDE is not allowed here", "and says so");
	is_int(
	    zone_load_buffer(&zone, "a..b", "mem", "", 0, 0, err, sizeof(err)),
	    -EINVAL, "a bad zone name");
	is_string(err, "bad zone name 'a..b'", "is named");
	is_int(
	    zone_load(&zone, "t.test", "/nonexistent/zone", err, sizeof(err)),
	    -ENOENT, "a missing file is -ENOENT");
	is_int(zone_load_buffer(&zone, "t.test", "mem", inc, sizeof(inc) - 1,
	           ZONE_LOAD_NO_INCLUDE, tiny, sizeof(tiny)),
	    -EINVAL, "a short error buffer is not overrun");
	is_string(tiny, "mem:1: $INC", "and holds the start of the message");
	is_int(zone_load_buffer(&zone, "t.test", "mem", inc, sizeof(inc) - 1,
	           ZONE_LOAD_NO_INCLUDE, NULL, 0),
	    -EINVAL, "no error buffer at all");
	ok(zone == NULL, "no zone comes out of a failed load");
}

/* ---- answers ------------------------------------------------------------- */

#define SOA_ANSWERS                                                            \
	"answers.test. 60 IN SOA ns1.answers.test. hostmaster.answers.test. "  \
	"42 7200 900 1209600 600\n"
#define CHILD_NS                                                               \
	"child.answers.test. 3600 IN NS ns.child.answers.test.\n"              \
	"child.answers.test. 3600 IN NS ns.elsewhere.example.\n"
#define CHILD_GLUE                                                             \
	"ns.child.answers.test. 3600 IN A 192.0.2.53\n"                        \
	"ns.child.answers.test. 3600 IN AAAA 2001:db8::53\n"

static void
exact_and_negative(const struct zone *z)
{
	expect(z, "www.answers.test", ZONE_TYPE_A, "NOERROR aa",
	    "www.answers.test. 3600 IN A 192.0.2.80\n", "", "");
	expect(z, "WwW.AnSwErS.TeSt", ZONE_TYPE_AAAA, "NOERROR aa",
	    "WwW.AnSwErS.TeSt. 3600 IN AAAA 2001:db8::80\n", "", "");
	expect(z, "nope.answers.test", ZONE_TYPE_A, "NXDOMAIN aa", "",
	    SOA_ANSWERS, "");
	expect(z, "NoPe.AnSwErS.TeSt", ZONE_TYPE_A, "NXDOMAIN aa", "",
	    "AnSwErS.TeSt. 60 IN SOA ns1.AnSwErS.TeSt. "
	    "hostmaster.AnSwErS.TeSt. 42 7200 900 1209600 600\n",
	    "");
	expect(z, "deep.nope.answers.test", ZONE_TYPE_A, "NXDOMAIN aa", "",
	    SOA_ANSWERS, "");
	expect(z, "www.answers.test", ZONE_TYPE_TXT, "NOERROR aa", "",
	    SOA_ANSWERS, "");
	expect(z, "_udp.answers.test", ZONE_TYPE_A, "NOERROR aa", "",
	    SOA_ANSWERS, "");
	expect(z, "answers.test", ZONE_TYPE_SOA, "NOERROR aa", SOA_ANSWERS, "",
	    "");
}

static void
cname_chains(const struct zone *z)
{
	expect(z, "alias.answers.test", ZONE_TYPE_A, "NOERROR aa",
	    "alias.answers.test. 3600 IN CNAME alias2.answers.test.\n"
	    "alias2.answers.test. 3600 IN CNAME www.answers.test.\n"
	    "www.answers.test. 3600 IN A 192.0.2.80\n",
	    "", "");
	expect(z, "alias.answers.test", ZONE_TYPE_CNAME, "NOERROR aa",
	    "alias.answers.test. 3600 IN CNAME alias2.answers.test.\n", "", "");
	expect(z, "out.answers.test", ZONE_TYPE_A, "NOERROR aa",
	    "out.answers.test. 3600 IN CNAME www.elsewhere.example.\n", "", "");
	expect(z, "loop1.answers.test", ZONE_TYPE_A, "NOERROR aa",
	    "loop1.answers.test. 3600 IN CNAME loop2.answers.test.\n"
	    "loop2.answers.test. 3600 IN CNAME loop1.answers.test.\n",
	    "", "");
	expect(z, "self.answers.test", ZONE_TYPE_A, "NOERROR aa",
	    "self.answers.test. 3600 IN CNAME self.answers.test.\n", "", "");
	expect(z, "dangling.answers.test", ZONE_TYPE_A, "NXDOMAIN aa",
	    "dangling.answers.test. 3600 IN CNAME nothere.answers.test.\n",
	    SOA_ANSWERS, "");
	expect(z, "todel.answers.test", ZONE_TYPE_A, "NOERROR aa",
	    "todel.answers.test. 3600 IN CNAME host.child.answers.test.\n",
	    CHILD_NS, CHILD_GLUE);
	expect(z, "x.wc.answers.test", ZONE_TYPE_A, "NOERROR aa",
	    "x.wc.answers.test. 3600 IN CNAME www.answers.test.\n"
	    "www.answers.test. 3600 IN A 192.0.2.80\n",
	    "", "");

	char chain[2000] = "";
	for (int i = 0; i < ZONE_CNAME_CHAIN; i++) {
		char line[100];

		snprintf(line, sizeof(line),
		    "c%d.answers.test. 3600 IN CNAME c%d.answers.test.\n", i,
		    i + 1);
		strcat(chain, line);
	}
	expect(z, "c0.answers.test", ZONE_TYPE_A, "NOERROR aa", chain, "", "");
}

static void
additional_and_referrals(const struct zone *z)
{
	expect(z, "mail.answers.test", ZONE_TYPE_MX, "NOERROR aa",
	    "mail.answers.test. 3600 IN MX 10 mx1.answers.test.\n"
	    "mail.answers.test. 3600 IN MX 20 mx2.answers.test.\n"
	    "mail.answers.test. 3600 IN MX 30 mx.elsewhere.example.\n",
	    "",
	    "mx1.answers.test. 3600 IN A 192.0.2.25\n"
	    "mx2.answers.test. 3600 IN AAAA 2001:db8::26\n");
	expect(z, "_sip._udp.answers.test", ZONE_TYPE_SRV, "NOERROR aa",
	    "_sip._udp.answers.test. 3600 IN SRV 0 5 5060 "
	    "sipserver.answers.test.\n",
	    "",
	    "sipserver.answers.test. 3600 IN A 192.0.2.60\n"
	    "sipserver.answers.test. 3600 IN AAAA 2001:db8::60\n");
	expect(z, "answers.test", ZONE_TYPE_NS, "NOERROR aa",
	    "answers.test. 3600 IN NS ns1.answers.test.\n"
	    "answers.test. 3600 IN NS ns2.answers.test.\n",
	    "",
	    "ns1.answers.test. 3600 IN A 192.0.2.1\n"
	    "ns2.answers.test. 3600 IN A 192.0.2.2\n"
	    "ns2.answers.test. 3600 IN AAAA 2001:db8::2\n");
	expect(z, "host.child.answers.test", ZONE_TYPE_A, "NOERROR", "",
	    CHILD_NS, CHILD_GLUE);
	expect(z, "child.answers.test", ZONE_TYPE_NS, "NOERROR", "", CHILD_NS,
	    CHILD_GLUE);
	expect(z, "ns.child.answers.test", ZONE_TYPE_A, "NOERROR", "", CHILD_NS,
	    CHILD_GLUE);
	expect(z, "child.answers.test", ZONE_TYPE_DS, "NOERROR aa",
	    "child.answers.test. 3600 IN TYPE43 \\# 5 0102030405\n", "", "");
}

static void
any_queries(const struct zone *z)
{
	char big[4000] = "";

	for (int i = 1; i <= 40; i++) {
		char line[80];

		snprintf(line, sizeof(line),
		    "big.answers.test. 3600 IN A 10.0.0.%d\n", i);
		strcat(big, line);
	}
	expect(z, "multi.answers.test", ZONE_TYPE_ANY, "NOERROR aa",
	    "multi.answers.test. 3600 IN A 192.0.2.7\n", "", "");
	expect(z, "alias.answers.test", ZONE_TYPE_ANY, "NOERROR aa",
	    "alias.answers.test. 3600 IN CNAME alias2.answers.test.\n", "", "");
	expect_at(__FILE__, __LINE__, z, "big.answers.test", ZONE_TYPE_ANY, 512,
	    "NOERROR aa", "big.answers.test. 3600 IN HINFO \"RFC8482\" \"\"\n",
	    "", "");
	expect(z, "big.answers.test", ZONE_TYPE_ANY, "NOERROR aa", big, "", "");
	expect(z, "nope.answers.test", ZONE_TYPE_ANY, "NXDOMAIN aa", "",
	    SOA_ANSWERS, "");
	expect(z, "_udp.answers.test", ZONE_TYPE_ANY, "NOERROR aa", "",
	    SOA_ANSWERS, "");
	expect_at(__FILE__, __LINE__, z, "big.answers.test", ZONE_TYPE_A, 512,
	    "NOERROR aa tc", "", "", "");
	expect(z, "big.answers.test", ZONE_TYPE_A, "NOERROR aa", big, "", "");
	expect_at(__FILE__, __LINE__, z, "tobig.answers.test", ZONE_TYPE_A, 512,
	    "NOERROR aa tc",
	    "tobig.answers.test. 3600 IN CNAME big.answers.test.\n", "", "");
}

/* The length of the whole answer, for the limit tests. */
static size_t
full_length(const struct zone *z, const char *name, uint16_t type)
{
	struct parsed p;

	ask(z, name, type, 65535, &p);
	return p.len;
}

static void
limits(const struct zone *z)
{
	size_t mx = full_length(z, "mail.answers.test", ZONE_TYPE_MX);
	size_t ref = full_length(z, "host.child.answers.test", ZONE_TYPE_A);
	size_t neg = full_length(z, "nope.answers.test", ZONE_TYPE_A);
	struct parsed p;

	ask(z, "mail.answers.test", ZONE_TYPE_MX, mx, &p);
	ok(strcmp(p.status, "NOERROR aa") == 0 && p.counts[ADDITIONAL] == 2,
	    "a limit of exactly the answer's size (%zu) loses nothing", mx);
	ask(z, "mail.answers.test", ZONE_TYPE_MX, mx - 1, &p);
	ok(p.well_formed && strcmp(p.status, "NOERROR aa") == 0 &&
	        p.counts[ANSWER] == 3 && p.counts[ADDITIONAL] == 1,
	    "one octet less drops an additional RRset, without TC");
	ask(z, "host.child.answers.test", ZONE_TYPE_A, ref - 1, &p);
	ok(p.well_formed && strcmp(p.status, "NOERROR tc") == 0 &&
	        p.counts[AUTHORITY] == 2 && p.len <= ref - 1,
	    "referral glue that does not fit sets TC (RFC 9471)");
	ask(z, "nope.answers.test", ZONE_TYPE_A, neg - 1, &p);
	ok(p.well_formed && strcmp(p.status, "NXDOMAIN aa tc") == 0 &&
	        p.counts[AUTHORITY] == 0,
	    "an SOA that does not fit sets TC");
	ask(z, "www.answers.test", ZONE_TYPE_A, 10, &p);
	ok(p.well_formed && strcmp(p.status, "NOERROR aa tc") == 0 &&
	        p.len == 34,
	    "a limit below the question appends nothing");
	ask(z, "big.answers.test", ZONE_TYPE_A, 512, &p);
	ok(p.len <= 512 && p.counts[ANSWER] == 0,
	    "an RRset is never cut in the middle (%zu octets)", p.len);
	ask(z, "big.answers.test", ZONE_TYPE_A, 100000, &p);
	ok(p.counts[ANSWER] == 40, "a limit above 65535 is 65535");
}

static void
bytes_on_the_wire(const struct zone *z)
{
	static const uint8_t www[] = {0xbe, 0xef, 0x85, 0x00, 0, 1, 0, 1, 0, 0,
	    0, 0, 3, 'w', 'w', 'w', 7, 'a', 'n', 's', 'w', 'e', 'r', 's', 4,
	    't', 'e', 's', 't', 0, 0, 1, 0, 1, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0,
	    0x0e, 0x10, 0, 4, 192, 0, 2, 80};
	static const uint8_t mx[] = {0xc0, 0x0c, 0, 15, 0, 1, 0, 0, 0x0e, 0x10,
	    0, 8, 0, 10, 3, 'm', 'x', '1', 0xc0, 0x11};
	struct parsed p;

	ask(z, "www.answers.test", ZONE_TYPE_A, 512, &p);
	ok(query.r.len == sizeof(www) &&
	        memcmp(query.buf, www, sizeof(www)) == 0,
	    "www A byte for byte: owner is a pointer to the question");
	ask(z, "mail.answers.test", ZONE_TYPE_MX, 512, &p);
	ok(memcmp(query.buf + 35, mx, sizeof(mx)) == 0,
	    "MX exchange compressed against the question's suffix");
	is_int(query.r.ancount, 3, "ancount returned to the caller");
	is_int(query.r.arcount, 2, "arcount returned to the caller");
	ok(query.r.aa && !query.r.tc && query.r.rcode == 0,
	    "aa, tc and rcode returned to the caller");
}

static void
refusals(const struct zone *z)
{
	struct parsed p;

	query_init(&query, "www.answers.test", ZONE_TYPE_A, ZONE_CLASS_CH, 512);
	is_int(zone_answer(z, &query.q, &query.r), 0, "a CH query");
	ok(query.r.rcode == ZONE_RCODE_REFUSED && !query.r.aa &&
	        query.r.len == 34,
	    "is REFUSED without data or AA");
	query_init(
	    &query, "www.answers.test", ZONE_TYPE_A, ZONE_CLASS_ANY, 512);
	zone_answer(z, &query.q, &query.r);
	ok(query.r.rcode == 0 && query.r.ancount == 1,
	    "a class ANY query is answered");
	ask(z, "answers.test", ZONE_TYPE_AXFR, 512, &p);
	is_string(p.status, "REFUSED", "AXFR is refused");
	ask(z, "answers.test", ZONE_TYPE_MAILA, 512, &p);
	is_string(p.status, "NOTIMP", "MAILA is not implemented");
	ask(z, "www.example.org", ZONE_TYPE_A, 512, &p);
	is_string(p.status, "REFUSED", "a name outside the zone is refused");
	query_init(&query, "www.answers.test", ZONE_TYPE_A, ZONE_CLASS_IN, 512);
	query.q.name_len = 3;
	is_int(zone_answer(z, &query.q, &query.r), -EINVAL,
	    "a malformed question is -EINVAL");
	query_init(&query, "www.answers.test", ZONE_TYPE_A, ZONE_CLASS_IN, 512);
	query.buf[13] = 'W';
	zone_answer(z, &query.q, &query.r);
	zone_response_patch_header(&query.r);
	parse_response(query.buf, query.r.len, &p);
	is_string(p.section[ANSWER], "www.answers.test. 3600 IN A 192.0.2.80\n",
	    "a question differing from the buffer is not pointed to");
}

static void
answers(void)
{
	struct zone *z = load("answers.test", "answers.zone");

	is_int(z->negative_ttl, 60, "negative TTL: SOA TTL 60 < MINIMUM 600");
	exact_and_negative(z);
	cname_chains(z);
	additional_and_referrals(z);
	any_queries(z);
	limits(z);
	bytes_on_the_wire(z);
	refusals(z);
	zone_free(z);
}

#define SOA_4592                                                               \
	"example. 300 IN SOA ns.example.com. hostmaster.example.com. 1 "       \
	"3600 600 86400 300\n"

/* RFC 4592 §2.2.1: the example's matching and non-matching queries. */
static void
wildcards(void)
{
	struct zone *z = load("example.", "rfc4592.zone");

	is_int(z->negative_ttl, 300, "negative TTL: MINIMUM 300 < SOA TTL");
	expect(z, "host3.example", ZONE_TYPE_MX, "NOERROR aa",
	    "host3.example. 3600 IN MX 10 host1.example.\n", "",
	    "host1.example. 3600 IN A 192.0.2.1\n");
	expect(z, "host3.example", ZONE_TYPE_A, "NOERROR aa", "", SOA_4592, "");
	expect(z, "foo.bar.example", ZONE_TYPE_TXT, "NOERROR aa",
	    "foo.bar.example. 3600 IN TXT \"this is a wildcard\"\n", "", "");
	expect(
	    z, "host1.example", ZONE_TYPE_MX, "NOERROR aa", "", SOA_4592, "");
	expect(
	    z, "sub.*.example", ZONE_TYPE_MX, "NOERROR aa", "", SOA_4592, "");
	expect(z, "_telnet._tcp.host1.example", ZONE_TYPE_SRV, "NXDOMAIN aa",
	    "", SOA_4592, "");
	expect(z, "host.subdel.example", ZONE_TYPE_A, "NOERROR", "",
	    "subdel.example. 3600 IN NS ns.example.com.\n"
	    "subdel.example. 3600 IN NS ns.example.net.\n",
	    "");
	expect(z, "ghost.*.example", ZONE_TYPE_MX, "NXDOMAIN aa", "", SOA_4592,
	    "");
	expect(z, "host2.example", ZONE_TYPE_A, "NOERROR aa", "", SOA_4592, "");
	expect(z, "_tcp.host1.example", ZONE_TYPE_TXT, "NOERROR aa", "",
	    SOA_4592, "");
	expect(z, "sub.*.example", ZONE_TYPE_TXT, "NOERROR aa",
	    "sub.*.example. 3600 IN TXT \"this is not a wildcard\"\n", "", "");
	expect(z, "*.example", ZONE_TYPE_TXT, "NOERROR aa",
	    "*.example. 3600 IN TXT \"this is a wildcard\"\n", "", "");
	expect(z, "_ssh._tcp.host1.example", ZONE_TYPE_SRV, "NOERROR aa",
	    "_ssh._tcp.host1.example. 3600 IN SRV 0 0 22 host1.example.\n", "",
	    "host1.example. 3600 IN A 192.0.2.1\n");
	/* ANY's one RRset gets its additional addresses, as NSD adds them. */
	expect(z, "HoSt3.ExAmPlE", ZONE_TYPE_ANY, "NOERROR aa",
	    "HoSt3.ExAmPlE. 3600 IN MX 10 host1.ExAmPlE.\n", "",
	    "host1.ExAmPlE. 3600 IN A 192.0.2.1\n");
	zone_free(z);
}

#define SOA_DNAME                                                              \
	"dname.test. 60 IN SOA ns.example.net. hostmaster.dname.test. 1 "      \
	"7200 900 1209600 60\n"

/* RFC 6672: the DNAME, the CNAME synthesized from it, what it leads to. */
static void
dnames(void)
{
	struct zone *z = load("dname.test", "dname.zone");
	char long_name[300];
	struct parsed p;

	expect(z, "www.d.dname.test", ZONE_TYPE_A, "NOERROR aa",
	    "d.dname.test. 300 IN DNAME target.dname.test.\n"
	    "www.d.dname.test. 300 IN CNAME www.target.dname.test.\n"
	    "www.target.dname.test. 300 IN A 192.0.2.1\n",
	    "", "");
	expect(z, "WwW.D.dname.test", ZONE_TYPE_A, "NOERROR aa",
	    "D.dname.test. 300 IN DNAME target.dname.test.\n"
	    "WwW.D.dname.test. 300 IN CNAME WwW.target.dname.test.\n"
	    "WwW.target.dname.test. 300 IN A 192.0.2.1\n",
	    "", "");
	expect(z, "nope.d.dname.test", ZONE_TYPE_A, "NXDOMAIN aa",
	    "d.dname.test. 300 IN DNAME target.dname.test.\n"
	    "nope.d.dname.test. 300 IN CNAME nope.target.dname.test.\n",
	    SOA_DNAME, "");
	expect(z, "d.dname.test", ZONE_TYPE_DNAME, "NOERROR aa",
	    "d.dname.test. 300 IN DNAME target.dname.test.\n", "", "");
	expect(z, "d.dname.test", ZONE_TYPE_A, "NOERROR aa", "", SOA_DNAME, "");
	expect(z, "x.out.dname.test", ZONE_TYPE_MX, "NOERROR aa",
	    "out.dname.test. 300 IN DNAME example.net.\n"
	    "x.out.dname.test. 300 IN CNAME x.example.net.\n",
	    "", "");
	/* A target of 195 octets leaves 60 for the prefix: a label of 59. */
	snprintf(long_name, sizeof(long_name), "%.60s.long.dname.test",
	    "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz");
	ask(z, long_name, ZONE_TYPE_A, 65535, &p);
	is_string(p.status, "YXDOMAIN aa",
	    "a result of 256 octets is YXDOMAIN");
	ok(p.counts[0] == 1 && strstr(p.section[ANSWER], " DNAME ") != NULL,
	    "with the DNAME alone in the answer");
	ask(z, long_name + 1, ZONE_TYPE_A, 65535, &p);
	ok(strcmp(p.status, "NOERROR aa") == 0 && p.counts[0] == 2,
	    "one of 255 octets is synthesized");
	/* RFC 4592 section 4.4: a DNAME at a wildcard does not redirect. */
	expect(z, "a.b.wild.dname.test", ZONE_TYPE_A, "NOERROR aa", "",
	    SOA_DNAME, "");
	expect(z, "b.wild.dname.test", ZONE_TYPE_DNAME, "NOERROR aa",
	    "b.wild.dname.test. 300 IN DNAME example.org.\n", "", "");
	expect(z, "b.grow.dname.test", ZONE_TYPE_A, "NOERROR aa",
	    "grow.dname.test. 300 IN DNAME a.grow.dname.test.\n"
	    "b.grow.dname.test. 300 IN CNAME b.a.grow.dname.test.\n",
	    "", "");
	zone_free(z);
}

/* Addresses of targets covered by a wildcard and of SVCB/HTTPS targets. */
static void
additional_targets(void)
{
	struct zone *z = load("dname.test", "dname.zone");

	expect(z, "mx.dname.test", ZONE_TYPE_MX, "NOERROR aa",
	    "mx.dname.test. 300 IN MX 10 host.wc.dname.test.\n", "",
	    "host.wc.dname.test. 300 IN A 192.0.2.7\n");
	expect(z, "svc.dname.test", ZONE_TYPE_HTTPS, "NOERROR aa",
	    "svc.dname.test. 300 IN TYPE65 \\# 10 00010000010003026832\n", "",
	    "svc.dname.test. 300 IN A 192.0.2.8\n");
	expect(z, "alias.dname.test", ZONE_TYPE_SVCB, "NOERROR aa",
	    "alias.dname.test. 300 IN TYPE64 \\# 25 "
	    "00000a7376632d7461726765740564"
	    "6e616d65047465737400\n",
	    "", "svc-target.dname.test. 300 IN AAAA 2001:db8::8\n");
	zone_free(z);
}

static char *
read_text(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
builtins(void)
{
	char path[4096], err[ZONE_ERROR_LEN];
	struct zone *ex = NULL, *lh = NULL;
	const char *text;

	snprintf(path, sizeof(path), "%s/docs/example.zone", srcdir);
	text = read_text(path);
	ok(text != NULL && strcmp(text, zone_builtin_text("example.test")) == 0,
	    "the built-in example zone is docs/example.zone");
	is_int(zone_load_builtin(&ex, "example.test.", err, sizeof(err)), 0,
	    "the example zone loads");
	is_int(zone_load_builtin(&lh, "LOCALHOST", err, sizeof(err)), 0,
	    "localhost loads");
	is_int(zone_load_builtin(&lh, "nothing.test", err, sizeof(err)),
	    -ENOENT, "no other built-in zone");
	ok(zone_builtin_text("nothing.test") == NULL, "and no text for it");
	if (ex == NULL || lh == NULL)
		bail("built-in zones: %s", err);
	expect(ex, "www.example.test", ZONE_TYPE_A, "NOERROR aa",
	    "www.example.test. 3600 IN A 192.0.2.10\n", "", "");
	expect(ex, "ftp.example.test", ZONE_TYPE_AAAA, "NOERROR aa",
	    "ftp.example.test. 3600 IN CNAME www.example.test.\n"
	    "www.example.test. 3600 IN AAAA 2001:db8::10\n",
	    "", "");
	expect(ex, "host.dyn.example.test", ZONE_TYPE_A, "NOERROR aa",
	    "host.dyn.example.test. 3600 IN A 192.0.2.99\n", "", "");
	expect(ex, "x.lab.example.test", ZONE_TYPE_A, "NOERROR", "",
	    "lab.example.test. 3600 IN NS ns.lab.example.test.\n",
	    "ns.lab.example.test. 3600 IN A 192.0.2.53\n");
	expect(lh, "localhost", ZONE_TYPE_A, "NOERROR aa",
	    "localhost. 86400 IN A 127.0.0.1\n", "", "");
	expect(lh, "foo.localhost", ZONE_TYPE_AAAA, "NOERROR aa",
	    "foo.localhost. 86400 IN AAAA ::1\n", "", "");
	expect(lh, "localhost", ZONE_TYPE_NS, "NOERROR aa",
	    "localhost. 86400 IN NS localhost.\n", "",
	    "localhost. 86400 IN A 127.0.0.1\n"
	    "localhost. 86400 IN AAAA ::1\n");
	zone_free(ex);
	zone_free(lh);
}

static void
zone_sets(void)
{
	static const char lab[] =
	    "$TTL 1\n@ SOA a b 1 2 3 4 5\nwww A 192.0.2.5\n";
	struct zone_set *set;
	struct zone *a = NULL, *b = NULL, *dup = NULL;
	char err[ZONE_ERROR_LEN];
	uint8_t name[256];
	int n;

	is_int(zone_set_new(&set), 0, "zone_set_new");
	zone_load_builtin(&a, "example.test", err, sizeof(err));
	zone_load_buffer(&b, "lab.example.test", "mem", lab, sizeof(lab) - 1, 0,
	    err, sizeof(err));
	zone_load_builtin(&dup, "example.test", err, sizeof(err));
	if (a == NULL || b == NULL || dup == NULL)
		bail("zone set fixtures: %s", err);
	is_int(zone_set_add(set, a), 0, "add example.test");
	is_int(zone_set_add(set, b), 0, "add lab.example.test");
	is_int(zone_set_add(set, dup), -EEXIST, "a second example.test");
	zone_free(dup);
	is_int((long long)zone_set_count(set), 2, "two zones");
	n = zone_name_from_text("WWW.LAB.example.test", name);
	ok(zone_lookup(set, name, (size_t)n) == b,
	    "the longest suffix wins (lab.example.test)");
	n = zone_name_from_text("www.example.test", name);
	ok(zone_lookup(set, name, (size_t)n) == a, "www is in example.test");
	n = zone_name_from_text("example.test", name);
	ok(zone_lookup(set, name, (size_t)n) == a, "the apex itself");
	n = zone_name_from_text("test", name);
	ok(zone_lookup(set, name, (size_t)n) == NULL, "test. is in no zone");
	n = zone_name_from_text("xexample.test", name);
	ok(zone_lookup(set, name, (size_t)n) == NULL,
	    "xexample.test is in no zone");
	ok(zone_lookup(set, name, 3) == NULL, "a malformed name matches none");
	ok(zone_set_ref(set) == set, "zone_set_ref");
	zone_set_free(set);
	ok(zone_lookup(set, name, (size_t)n) == NULL,
	    "the set outlives one of two references");
	zone_set_free(set);
	zone_set_free(NULL);
	zone_free(NULL);
}

static void
chaos(void)
{
	struct parsed p;

	query_init(&query, "VERSION.bind", ZONE_TYPE_TXT, ZONE_CLASS_CH, 512);
	is_int(zone_answer_version(&query.q, "miodnsd 0.1", &query.r), 0,
	    "version.bind CH TXT is answered");
	zone_response_patch_header(&query.r);
	parse_response(query.buf, query.r.len, &p);
	ok(p.well_formed, "well-formed");
	is_string(p.status, "NOERROR aa", "authoritatively");
	is_string(p.section[ANSWER], "VERSION.bind. 0 CH TXT \"miodnsd 0.1\"\n",
	    "with the version and the query's case");
	query_init(&query, "version.server", ZONE_TYPE_ANY, ZONE_CLASS_CH, 512);
	zone_answer_version(&query.q, "v", &query.r);
	zone_response_patch_header(&query.r);
	parse_response(query.buf, query.r.len, &p);
	is_string(p.section[ANSWER], "version.server. 0 CH TXT \"v\"\n",
	    "version.server ANY");
	query_init(&query, "version.bind", ZONE_TYPE_A, ZONE_CLASS_CH, 512);
	is_int(zone_answer_version(&query.q, "v", &query.r), 0,
	    "version.bind CH A");
	ok(query.r.ancount == 0 && query.r.aa && query.r.rcode == 0,
	    "is NODATA");
	query_init(&query, "version.bind", ZONE_TYPE_TXT, ZONE_CLASS_IN, 512);
	is_int(zone_answer_version(&query.q, "v", &query.r), -ENOENT,
	    "version.bind IN is not ours");
	query_init(&query, "hostname.bind", ZONE_TYPE_TXT, ZONE_CLASS_CH, 512);
	is_int(zone_answer_version(&query.q, "v", &query.r), -ENOENT,
	    "hostname.bind is not ours");

	char text[600];
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	query_init(&query, "stats.miodnsd", ZONE_TYPE_TXT, ZONE_CLASS_CH, 4096);
	zone_answer_txt(&query.q, text, 0, &query.r);
	zone_response_patch_header(&query.r);
	parse_response(query.buf, query.r.len, &p);
	ok(p.well_formed && p.counts[ANSWER] == 1 &&
	        strlen(p.section[ANSWER]) > 600,
	    "a 599-octet text becomes one TXT record of three strings");
	query_init(&query, "stats.miodnsd", ZONE_TYPE_TXT, ZONE_CLASS_CH, 512);
	zone_answer_txt(&query.q, text, 0, &query.r);
	ok(query.r.tc && query.r.ancount == 0 && query.r.len == 31,
	    "and truncates cleanly at 512");
	query_init(&query, "stats.miodnsd", ZONE_TYPE_TXT, ZONE_CLASS_CH, 512);
	zone_answer_txt(&query.q, "", 0, &query.r);
	zone_response_patch_header(&query.r);
	parse_response(query.buf, query.r.len, &p);
	is_string(p.section[ANSWER], "stats.miodnsd. 0 CH TXT \"\"\n",
	    "an empty text is one empty string");

	static const char *const list[] = {"udp-queries=3", "", "uptime=9"};
	query_init(&query, "Stats.Miodnsd", ZONE_TYPE_TXT, ZONE_CLASS_CH, 512);
	is_int(zone_answer_txt_list(&query.q, list, 3, 0, &query.r), 0,
	    "zone_answer_txt_list");
	zone_response_patch_header(&query.r);
	parse_response(query.buf, query.r.len, &p);
	is_string(p.section[ANSWER],
	    "Stats.Miodnsd. 0 CH TXT \"udp-queries=3\" \"\" \"uptime=9\"\n",
	    "one string per element, in the query's case");
	query_init(&query, "stats.miodnsd", ZONE_TYPE_TXT, ZONE_CLASS_CH, 512);
	zone_answer_txt_list(&query.q, NULL, 0, 0, &query.r);
	zone_response_patch_header(&query.r);
	parse_response(query.buf, query.r.len, &p);
	is_string(p.section[ANSWER], "stats.miodnsd. 0 CH TXT \"\"\n",
	    "no strings: one empty string");
	const char *const long_list[] = {text};
	query_init(&query, "stats.miodnsd", ZONE_TYPE_TXT, ZONE_CLASS_CH, 4096);
	is_int(zone_answer_txt_list(&query.q, long_list, 1, 0, &query.r),
	    -EINVAL, "a string over 255 octets is refused");
	const char *many[300];
	for (size_t i = 0; i < 300; i++)
		many[i] = text + sizeof(text) - 100;
	query_init(&query, "stats.miodnsd", ZONE_TYPE_TXT, ZONE_CLASS_CH, 512);
	zone_answer_txt_list(&query.q, many, 300, 0, &query.r);
	ok(query.r.tc && query.r.ancount == 0 && query.r.len == 31,
	    "a list too long for 512 octets: TC, nothing written");
}

int
main(void)
{
	srcdir = getenv("top_srcdir");
	if (srcdir == NULL || *srcdir == '\0')
		srcdir = ZONE_TEST_SRCDIR;
	plan_lazy();
	names();
	directives();
	types();
	malformed_files();
	malformed_buffers();
	answers();
	wildcards();
	dnames();
	additional_targets();
	builtins();
	zone_sets();
	chaos();
	return 0;
}
