/*
 * builtin.c - the zones built into miodnsd: localhost. (RFC 6761) and
 * example.test. (the same text as docs/example.zone, which t/zone checks).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ---- built-in zones ------------------------------------------------------ */

/* RFC 6761 §6.3: localhost and every name below it are the loopback. */
static const char zone_localhost_text[] =
    "; localhost. - built into miodnsd (RFC 6761 section 6.3)\n"
    "$ORIGIN localhost.\n"
    "$TTL 86400\n"
    "@\tIN\tSOA\tlocalhost. nobody.invalid. (\n"
    "\t\t\t1 3600 900 604800 86400 )\n"
    "\tIN\tNS\tlocalhost.\n"
    "\tIN\tA\t127.0.0.1\n"
    "\tIN\tAAAA\t::1\n"
    "*\tIN\tA\t127.0.0.1\n"
    "\tIN\tAAAA\t::1\n";

/* docs/example.zone, character for character (t/zone checks it). */
static const char zone_example_text[] =
    "; example.test. - the example zone miodnsd serves by default.\n"
    ";\n"
    "; With miodnsd listening on port 5353, try\n"
    ";\tdig @127.0.0.1 -p 5353 www.example.test\n"
    "; Addresses are from the documentation ranges (RFC 5737, RFC 3849).\n"
    "\n"
    "$ORIGIN example.test.\n"
    "$TTL 3600\n"
    "\n"
    "@\t\tIN\tSOA\tns1 hostmaster (\n"
    "\t\t\t\t2024010101\t; serial\n"
    "\t\t\t\t7200\t\t; refresh\n"
    "\t\t\t\t900\t\t; retry\n"
    "\t\t\t\t1209600\t\t; expire\n"
    "\t\t\t\t300 )\t\t; minimum: negative answers live 5 minutes\n"
    "\t\tIN\tNS\tns1\n"
    "\t\tIN\tMX\t10 mail\n"
    "\t\tIN\tTXT\t\"v=spf1 mx -all\"\n"
    "\t\tIN\tCAA\t0 issue \"letsencrypt.org\"\n"
    "\t\tIN\tA\t192.0.2.10\n"
    "\t\tIN\tAAAA\t2001:db8::10\n"
    "\n"
    "ns1\t\tIN\tA\t192.0.2.1\n"
    "\t\tIN\tAAAA\t2001:db8::1\n"
    "www\t\tIN\tA\t192.0.2.10\n"
    "\t\tIN\tAAAA\t2001:db8::10\n"
    "mail\t\tIN\tA\t192.0.2.25\n"
    "\t\tIN\tAAAA\t2001:db8::25\n"
    "ftp\t\tIN\tCNAME\twww\n"
    "_imaps._tcp\tIN\tSRV\t0 1 993 mail\n"
    "\n"
    "; Every other name under dyn answers from the wildcard.\n"
    "*.dyn\t\tIN\tA\t192.0.2.99\n"
    "\t\tIN\tTXT\t\"synthesized from *.dyn.example.test\"\n"
    "\n"
    "; A delegation: queries under lab get a referral with glue.\n"
    "lab\t\tIN\tNS\tns.lab\n"
    "ns.lab\t\tIN\tA\t192.0.2.53\n";

const char *
zone_builtin_text(const char *origin)
{
	uint8_t want[256], name[256];
	int len = zone_name_from_text(origin, want);

	if (len < 0)
		return NULL;
	zone_name_from_text("localhost.", name);
	if (zone_name_equal(want, name))
		return zone_localhost_text;
	zone_name_from_text("example.test.", name);
	if (zone_name_equal(want, name))
		return zone_example_text;
	return NULL;
}

int
zone_load_builtin(
    struct zone **out, const char *origin, char *err, size_t errlen)
{
	const char *text = zone_builtin_text(origin);
	char name[300];

	if (text == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "no built-in zone '%s'", origin);
		return -ENOENT;
	}
	snprintf(name, sizeof(name), "built-in %s", origin);
	return zone_load_buffer(out, origin, name, text, strlen(text),
	    ZONE_LOAD_NO_INCLUDE, err, errlen);
}

