/*
 * t/zone-text.c - the presentation format of every record type miodnsd's
 * zones know (daemon/zone/types.c): each record of t/zones/rfc-types.zone,
 * mostly RFC examples, is written as text by zone_rdata_to_text(), loaded
 * again, and must give the same octets (zone -> wire -> text -> wire);
 * chosen records must read as their RFC writes them; RFC 9460's SvcParams
 * give the octets of its appendix D and refuse its failure cases; and
 * duplicates that differ only in the case of a name are one record.
 *
 * Fixtures are found through $top_srcdir as in t/zone.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "zone.h"

#ifndef ZONE_TEST_SRCDIR
#define ZONE_TEST_SRCDIR "."
#endif

/* The types issue 16 asks for, each of which the fixture must hold. */
static const char *const wanted_types[] = {"A", "AAAA", "NS", "CNAME",
    "SOA", "PTR", "MX", "TXT", "SPF", "HINFO", "RP", "AFSDB", "SRV",
    "NAPTR", "KX", "CERT", "DNAME", "DS", "SSHFP", "IPSECKEY", "RRSIG",
    "NSEC", "DNSKEY", "DHCID", "NSEC3", "NSEC3PARAM", "TLSA", "SMIMEA",
    "CDS", "CDNSKEY", "OPENPGPKEY", "CSYNC", "ZONEMD", "SVCB", "HTTPS",
    "EUI48", "EUI64", "URI", "CAA", "LOC", "APL", "NULL", "TYPE65280"};

static const char *srcdir;

static struct zone *
load_text(const char *text, char *err, size_t errlen)
{
	struct zone *zone = NULL;

	if (zone_load_buffer(&zone, "rfc.test", "text", text, strlen(text),
	        ZONE_LOAD_NO_INCLUDE, err, errlen) != 0)
		return NULL;
	return zone;
}

/* The RRset (owner, type) of zone, or NULL. */
static const struct zone_rrset *
rrset(const struct zone *zone, const char *owner, uint16_t type)
{
	uint8_t name[256];
	int len = zone_name_from_text(owner, name);
	const struct zone_node *node =
	    len < 0 ? NULL : zone_node_find(zone, name, (size_t)len);

	return node == NULL ? NULL : zone_rrset_find(zone, node, type);
}

/* Appends "owner 3600 IN TYPE text" for every record of zone to out. */
static size_t
zone_as_text(const struct zone *zone, char *out, size_t size)
{
	size_t pos = 0;

	for (size_t n = 0; n < zone->node_count; n++) {
		const struct zone_node *node = &zone->nodes[n];
		char owner[ZONE_NAME_TEXT_LEN];

		zone_name_to_text(node->name, owner, sizeof(owner));
		for (uint32_t s = 0; s < node->rrset_count; s++) {
			const struct zone_rrset *set =
			    &zone->rrsets[node->first + s];
			char type[16];

			zone_type_to_text(set->type, type, sizeof(type));
			for (size_t i = 0; i < set->count; i++) {
				size_t len;
				const uint8_t *rd = zone_rdata(zone, set, i, &len);
				char text[8192];

				if (zone_rdata_to_text(set->type, rd, len, text,
				        sizeof(text)) < 0)
					snprintf(text, sizeof(text), "(too long)");
				pos += (size_t)snprintf(out + pos, size - pos,
				    "%s 3600 IN %s %s\n", owner, type, text);
			}
		}
	}
	return pos;
}

static bool
same_rrset(const struct zone *a, const struct zone_rrset *sa,
    const struct zone *b, const struct zone_rrset *sb, size_t *bad)
{
	if (sb == NULL || sa->count != sb->count)
		return false;
	for (size_t i = 0; i < sa->count; i++) {
		size_t la, lb;
		const uint8_t *ra = zone_rdata(a, sa, i, &la);
		const uint8_t *rb = zone_rdata(b, sb, i, &lb);

		if (la != lb || memcmp(ra, rb, la) != 0) {
			*bad = i;
			return false;
		}
	}
	return true;
}

/* Every RRset of a is in b with the same octets. */
static void
check_round_trip(const struct zone *a, const struct zone *b)
{
	for (size_t n = 0; n < a->node_count; n++) {
		const struct zone_node *node = &a->nodes[n];
		const struct zone_node *other =
		    zone_node_find(b, node->name, node->name_len);
		char owner[ZONE_NAME_TEXT_LEN], type[16], text[8192];

		zone_name_to_text(node->name, owner, sizeof(owner));
		for (uint32_t s = 0; s < node->rrset_count; s++) {
			const struct zone_rrset *set = &a->rrsets[node->first + s];
			size_t bad = 0, len;
			const uint8_t *rd;

			zone_type_to_text(set->type, type, sizeof(type));
			if (ok(other != NULL &&
			           same_rrset(a, set, b,
			               zone_rrset_find(b, other, set->type), &bad),
			        "%s %s: %u records round-trip", owner, type,
			        set->count))
				continue;
			rd = zone_rdata(a, set, bad, &len);
			zone_rdata_to_text(set->type, rd, len, text, sizeof(text));
			diag("record %zu written as: %s", bad, text);
		}
	}
}

static void
round_trip(void)
{
	char path[4096], err[ZONE_ERROR_LEN];
	struct zone *zone = NULL, *again;
	size_t size = 1 << 20;
	char *text = malloc(size);

	snprintf(path, sizeof(path), "%s/t/zones/rfc-types.zone", srcdir);
	if (text == NULL ||
	    !is_int(zone_load(&zone, "rfc.test", path, err, sizeof(err)), 0,
	        "rfc-types.zone loads"))
		bail("cannot go on: %s", err);
	for (size_t i = 0; i < sizeof(wanted_types) / sizeof(wanted_types[0]);
	     i++) {
		bool found = false;

		for (size_t s = 0; s < zone->rrset_count; s++) {
			char name[16];

			zone_type_to_text(zone->rrsets[s].type, name, sizeof(name));
			found = found || strcmp(name, wanted_types[i]) == 0;
		}
		ok(found, "the fixture has %s records", wanted_types[i]);
	}
	zone_as_text(zone, text, size);
	again = load_text(text, err, sizeof(err));
	if (!ok(again != NULL, "the text written loads again"))
		diag("%s", err);
	else
		check_round_trip(zone, again);
	zone_free(again);
	zone_free(zone);
	free(text);
}

/* Loads "$TTL 1\n@ SOA ...\n" + record and returns the zone or NULL. */
static struct zone *
load_record(const char *record, char *err, size_t errlen)
{
	char text[4096];

	snprintf(text, sizeof(text),
	    "$ORIGIN rfc.test.\n$TTL 1\n@ SOA a b 1 2 3 4 5\n%s\n", record);
	return load_text(text, err, errlen);
}

/* Record "x <type> <rdata>" is written back as want. */
static void
text_is(const char *type_text, uint16_t type, const char *rdata,
    const char *want)
{
	char record[2048], err[ZONE_ERROR_LEN], got[8192] = "(no zone)";
	struct zone *zone;
	const struct zone_rrset *set;

	snprintf(record, sizeof(record), "x %s %s", type_text, rdata);
	zone = load_record(record, err, sizeof(err));
	if (zone != NULL && (set = rrset(zone, "x.rfc.test", type)) != NULL) {
		size_t len;
		const uint8_t *rd = zone_rdata(zone, set, 0, &len);

		zone_rdata_to_text(type, rd, len, got, sizeof(got));
	} else if (zone == NULL) {
		snprintf(got, sizeof(got), "(%s)", err);
	}
	is_string(got, want, "%s %s reads as %s", type_text, rdata, want);
	zone_free(zone);
}

static void
texts(void)
{
	text_is("MX", 15, "10 Mail.RFC.test.", "10 Mail.RFC.test.");
	text_is("RRSIG", 46,
	    "A 5 3 86400 20030322173103 20030220173103 2642 example.com. "
	    "oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTr",
	    "A 5 3 86400 20030322173103 20030220173103 2642 example.com. "
	    "oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTr");
	text_is("RRSIG", 46, "MX 8 2 60 1700000000 0 1 rfc.test. AA==",
	    "MX 8 2 60 20231114221320 19700101000000 1 rfc.test. AA==");
	text_is("DS", 43, "60485 RSASHA1 1 2bb183af 5F22588179A53B0A98631FAD1A292118",
	    "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118");
	text_is("NSEC", 47, "host.example.com. A MX RRSIG NSEC TYPE1234",
	    "host.example.com. A MX RRSIG NSEC TYPE1234");
	text_is("NSEC3", 50, "1 1 12 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR",
	    "1 1 12 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr");
	text_is("NSEC3PARAM", 51, "1 0 12 aabbccdd", "1 0 12 AABBCCDD");
	text_is("SVCB", 64, "16 foo.example.org. alpn=h2,h3-19 "
	    "mandatory=ipv4hint,alpn ipv4hint=192.0.2.1",
	    "16 foo.example.org. mandatory=alpn,ipv4hint alpn=\"h2,h3-19\" "
	    "ipv4hint=192.0.2.1");
	text_is("SVCB", 64, "17 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"",
	    "17 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"");
	text_is("HTTPS", 65, "1 . key3=53 key2 alpn=h2",
	    "1 . alpn=\"h2\" no-default-alpn port=53");
	text_is("LOC", 29, "42 21 54 N 71 06 18 W -24m 30m",
	    "42 21 54.000 N 71 6 18.000 W -24.00m 30.00m 10000.00m 10.00m");
	text_is("EUI48", 108, "00-00-5E-00-53-2A", "00-00-5e-00-53-2a");
	text_is("CAA", 257, "0 issue \"ca.example.net; x=\\\"1\\\"\"",
	    "0 issue \"ca.example.net; x=\\\"1\\\"\"");
	text_is("IPSECKEY", 45, "10 0 0 .", "10 0 0 .");
	text_is("CERT", 37, "IPGP 0 0 AA==", "6 0 0 AA==");
	text_is("TYPE65280", 65280, "\\# 4 0a0b0c0d", "\\# 4 0A0B0C0D");
	text_is("NULL", 10, "\\# 0", "\\# 0");
	text_is("APL", 42, "1:192.168.32.0/21 !2:2001:db8:0::/32",
	    "1:192.168.32.0/21 !2:2001:db8::/32");
	text_is("APL", 42, "\\# 6 0001 18 02 c002", "1:192.2.0.0/24");
	text_is("HINFO", 13, "\\# 8 03414243 0344 4546", "\"ABC\" \"DEF\"");
}

/* RFC 9460 appendix D.2, figure 8: the octets of an escaped alpn list. */
static void
svcb_wire(void)
{
	static const uint8_t want[] = {0x00, 0x10, 3, 'f', 'o', 'o', 7, 'e', 'x',
	    'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, 0x00, 0x01, 0x00,
	    0x0c, 8, 'f', '\\', 'o', 'o', ',', 'b', 'a', 'r', 2, 'h', '2'};
	char err[ZONE_ERROR_LEN];
	struct zone *zone = load_record(
	    "x SVCB 16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"", err,
	    sizeof(err));
	const struct zone_rrset *set =
	    zone == NULL ? NULL : rrset(zone, "x.rfc.test", 64);
	size_t len = 0;
	const uint8_t *rd = set == NULL ? NULL : zone_rdata(zone, set, 0, &len);

	ok(rd != NULL && len == sizeof(want) && memcmp(rd, want, len) == 0,
	    "RFC 9460 figure 8: alpn \"f\\\\oo,bar\" and \"h2\" in octets");
	zone_free(zone);
}

/* A record that must not load, and the reason. */
static void
refused(const char *record, const char *reason)
{
	char err[ZONE_ERROR_LEN];
	struct zone *zone = load_record(record, err, sizeof(err));

	ok(zone == NULL && strstr(err, reason) != NULL, "'%s' is refused: %s",
	    record, reason);
	if (zone != NULL || strstr(err, reason) == NULL)
		diag("got: %s", zone != NULL ? "a zone" : err);
	zone_free(zone);
}

static void
refusals(void)
{
	/* RFC 9460 appendix D.3 and section 8. */
	refused("x SVCB 1 foo.example.com. key123=abc key123=def",
	    "a key appears twice");
	refused("x SVCB 1 foo.example.com. mandatory", "empty item");
	refused("x SVCB 1 foo.example.com. alpn", "empty item");
	refused("x SVCB 1 foo.example.com. port", "port");
	refused("x SVCB 1 foo.example.com. mandatory=key123",
	    "a mandatory key is missing");
	refused("x SVCB 1 foo.example.com. mandatory=mandatory", "mandatory");
	refused("x SVCB 1 foo.example.com. ( mandatory=key123,key123 "
	        "key123=abc )",
	    "mandatory");
	refused("x HTTPS 1 . no-default-alpn", "no-default-alpn without alpn");
	refused("x SVCB 1 . key65535=a", "key65535");
	refused("x SVCB 1 . foo=bar", "unknown key");
	refused("x SVCB 1 . ipv4hint=192.0.2.300", "bad address");
	refused("x SVCB \\# 3 000102", "not valid SVCB rdata");
	/* The other kinds of fields. */
	refused("x DS 1 5 1 ABC", "odd hex");
	refused("x DS 1 5 1", "missing DS digest");
	refused("x DNSKEY 256 3 8 AAA", "base64");
	refused("x DNSKEY 256 3 8 AA==AA==", "base64");
	refused("x DNSKEY 256 3 NOSUCH AA==", "a number or a mnemonic");
	refused("x RRSIG A 8 2 60 20230230000000 0 1 rfc.test. AA==",
	    "YYYYMMDDHHMMSS");
	refused("x NSEC a.rfc.test. A BOGUS", "unknown type 'BOGUS'");
	refused("x NSEC3 1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJW", "base32hex");
	refused("x EUI48 00-00-5e-00-53", "xx-xx");
	refused("x LOC 91 N 0 E 0m", "bad LOC coordinate");
	refused("x LOC 1 2 3 N 4 5 6 X 0m", "bad LOC coordinate");
	refused("x IPSECKEY 10 4 2 . AA==", "gateway type 4");
	refused("x NSEC \\# 3 000000", "not valid NSEC rdata");
	refused("x NULL 1 2 3", "needs RFC 3597 rdata");
	refused("x CAA 0 is-sue \"x\"", "bad CAA tag");
	refused("x APL 3:192.0.2.0/24", "bad APL item");
	refused("x APL 1:192.0.2.0/33", "bad APL item");
	refused("x APL \\# 6 0001 18 02 c000", "not valid APL rdata");
	/* RFC 6672 section 2.4: one DNAME, nothing below it, no CNAME. */
	refused("d DNAME a.example.\nd DNAME b.example.",
	    "text:5: more than one DNAME record at d.rfc.test.");
	refused("d DNAME a.example.\nx.d A 192.0.2.1",
	    "text:5: A record below the DNAME d.rfc.test.: x.d.rfc.test.");
	refused("d DNAME a.example.\nd CNAME b.example.",
	    "text:5: CNAME and other data at d.rfc.test.");
	refused("d NS ns.example.\nd DNAME b.example.",
	    "DNAME record at the delegation d.rfc.test.");
}

/* RFC 2181 section 5, RFC 4343: names in rdata compare without case. */
static void
duplicates(void)
{
	char err[ZONE_ERROR_LEN];
	struct zone *zone = load_record(
	    "mx MX 10 Mail.RFC.test.\nmx MX 10 mail.rfc.TEST.\n"
	    "mx MX 10 MAIL.rfc.test.\nmx MX 20 mail.rfc.test.\n"
	    "txt TXT \"A\"\ntxt TXT \"a\"\n"
	    "srv SRV 0 0 1 T.rfc.test.\nsrv SRV 0 0 1 t.rfc.test.\n"
	    "rp RP A.b. C.d.\nrp RP a.B. c.D.\n"
	    "a A 192.0.2.1\na A 192.0.2.1\n",
	    err, sizeof(err));
	const struct zone_rrset *mx;
	size_t len = 0;

	if (!ok(zone != NULL, "a zone with duplicates loads"))
		bail("%s", err);
	mx = rrset(zone, "mx.rfc.test", 15);
	is_int(mx == NULL ? 0 : mx->count, 2,
	    "MX targets differing in case only are one record");
	if (mx != NULL)
		ok(memcmp(zone_rdata(zone, mx, 0, &len), "\0\12\4Mail", 7) == 0,
		    "the first one in the file is kept, in its case");
	is_int(rrset(zone, "txt.rfc.test", 16)->count, 2,
	    "TXT strings differing in case stay two records");
	is_int(rrset(zone, "srv.rfc.test", 33)->count, 1, "SRV targets merge");
	is_int(rrset(zone, "rp.rfc.test", 17)->count, 1, "RP names merge");
	is_int(rrset(zone, "a.rfc.test", 1)->count, 1, "A records merge");
	zone_free(zone);
}

int
main(void)
{
	srcdir = getenv("top_srcdir");
	if (srcdir == NULL || *srcdir == '\0')
		srcdir = ZONE_TEST_SRCDIR;
	plan_lazy();
	round_trip();
	texts();
	svcb_wire();
	refusals();
	duplicates();
	return 0;
}
