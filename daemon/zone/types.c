/*
 * types.c - the record types this module knows, as a table of rdata field
 * kinds per type (the way NSD and Knot describe them), and the mnemonics
 * of types, DNSSEC algorithms and certificate types.
 *
 * A type missing here is still loaded and served in RFC 3597 form ("\#
 * length hex"). A type listed here may also be written in that form; its
 * rdata is then checked against the layout (wire.c), because the answer
 * code and the text formatter rely on it.
 *
 * The most common types come first: both lookups are a linear scan, which
 * for the first rows is faster than any hash.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define F(kind, what)                                                          \
	{                                                                      \
		ZONE_FIELD_##kind, what                                        \
	}

static const struct zone_type_info zone_types[] = {
    {"A", 1, false, {F(A, "IPv4 address")}},
    {"AAAA", 28, false, {F(AAAA, "IPv6 address")}},
    {"NS", 2, true, {F(NAME, "NS target name")}},
    {"CNAME", 5, true, {F(NAME, "CNAME target name")}},
    {"MX", 15, true, {F(U16, "MX preference"), F(NAME, "MX exchange")}},
    {"TXT", 16, false, {F(STRINGS, "TXT string")}},
    {"SOA", 6, true,
        {F(NAME, "SOA primary server"), F(NAME, "SOA mailbox"),
            F(U32, "SOA serial"), F(TTL, "SOA refresh"), F(TTL, "SOA retry"),
            F(TTL, "SOA expire"), F(TTL, "SOA minimum")}},
    {"PTR", 12, true, {F(NAME, "PTR target name")}},
    {"SRV", 33, true,
        {F(U16, "SRV priority"), F(U16, "SRV weight"), F(U16, "SRV port"),
            F(NAME, "SRV target")}},
    {"CAA", 257, false,
        {F(U8, "CAA flags"), F(CAA_TAG, "CAA tag"), F(TEXT, "CAA value")}},
    {"HINFO", 13, false, {F(STRING, "HINFO CPU"), F(STRING, "HINFO OS")}},
    {"RP", 17, true, {F(NAME, "RP mailbox"), F(NAME, "RP TXT owner")}},
    {"AFSDB", 18, true, {F(U16, "AFSDB subtype"), F(NAME, "AFSDB hostname")}},
    {"NAPTR", 35, true,
        {F(U16, "NAPTR order"), F(U16, "NAPTR preference"),
            F(STRING, "NAPTR flags"), F(STRING, "NAPTR services"),
            F(STRING, "NAPTR regexp"), F(NAME, "NAPTR replacement")}},
    {"KX", 36, true, {F(U16, "KX preference"), F(NAME, "KX exchanger")}},
    {"CERT", 37, false,
        {F(CERT_TYPE, "CERT type"), F(U16, "CERT key tag"),
            F(ALGORITHM, "CERT algorithm"), F(BASE64, "CERT certificate")}},
    {"DNAME", 39, true, {F(NAME, "DNAME target name")}},
    {"DS", 43, false,
        {F(U16, "DS key tag"), F(ALGORITHM, "DS algorithm"),
            F(U8, "DS digest type"), F(HEX, "DS digest")}},
    {"SSHFP", 44, false,
        {F(U8, "SSHFP algorithm"), F(U8, "SSHFP fingerprint type"),
            F(HEX, "SSHFP fingerprint")}},
    {"IPSECKEY", 45, true,
        {F(U8, "IPSECKEY precedence"), F(U8, "IPSECKEY gateway type"),
            F(U8, "IPSECKEY algorithm"), F(GATEWAY, "IPSECKEY gateway"),
            F(BASE64_OPT, "IPSECKEY public key")}},
    {"RRSIG", 46, true,
        {F(TYPE, "RRSIG type covered"), F(ALGORITHM, "RRSIG algorithm"),
            F(U8, "RRSIG labels"), F(TTL, "RRSIG original TTL"),
            F(TIME, "RRSIG expiration"), F(TIME, "RRSIG inception"),
            F(U16, "RRSIG key tag"), F(NAME, "RRSIG signer"),
            F(BASE64, "RRSIG signature")}},
    {"NSEC", 47, true,
        {F(NAME, "NSEC next name"), F(BITMAP, "NSEC type bitmap")}},
    {"DNSKEY", 48, false,
        {F(U16, "DNSKEY flags"), F(U8, "DNSKEY protocol"),
            F(ALGORITHM, "DNSKEY algorithm"), F(BASE64, "DNSKEY public key")}},
    {"DHCID", 49, false, {F(BASE64, "DHCID digest")}},
    {"NSEC3", 50, false,
        {F(U8, "NSEC3 hash algorithm"), F(U8, "NSEC3 flags"),
            F(U16, "NSEC3 iterations"), F(SALT, "NSEC3 salt"),
            F(BASE32, "NSEC3 next hashed owner"),
            F(BITMAP, "NSEC3 type bitmap")}},
    {"NSEC3PARAM", 51, false,
        {F(U8, "NSEC3PARAM hash algorithm"), F(U8, "NSEC3PARAM flags"),
            F(U16, "NSEC3PARAM iterations"), F(SALT, "NSEC3PARAM salt")}},
    {"TLSA", 52, false,
        {F(U8, "TLSA usage"), F(U8, "TLSA selector"),
            F(U8, "TLSA matching type"), F(HEX, "TLSA certificate data")}},
    {"SMIMEA", 53, false,
        {F(U8, "SMIMEA usage"), F(U8, "SMIMEA selector"),
            F(U8, "SMIMEA matching type"), F(HEX, "SMIMEA certificate data")}},
    {"CDS", 59, false,
        {F(U16, "CDS key tag"), F(ALGORITHM, "CDS algorithm"),
            F(U8, "CDS digest type"), F(HEX, "CDS digest")}},
    {"CDNSKEY", 60, false,
        {F(U16, "CDNSKEY flags"), F(U8, "CDNSKEY protocol"),
            F(ALGORITHM, "CDNSKEY algorithm"),
            F(BASE64, "CDNSKEY public key")}},
    {"OPENPGPKEY", 61, false, {F(BASE64, "OPENPGPKEY public key")}},
    {"CSYNC", 62, false,
        {F(U32, "CSYNC SOA serial"), F(U16, "CSYNC flags"),
            F(BITMAP, "CSYNC type bitmap")}},
    {"ZONEMD", 63, false,
        {F(U32, "ZONEMD serial"), F(U8, "ZONEMD scheme"),
            F(U8, "ZONEMD hash algorithm"), F(HEX, "ZONEMD digest")}},
    {"SVCB", 64, true,
        {F(U16, "SVCB priority"), F(NAME, "SVCB target name"),
            F(SVC_PARAMS, "SVCB parameter")}},
    {"HTTPS", 65, true,
        {F(U16, "HTTPS priority"), F(NAME, "HTTPS target name"),
            F(SVC_PARAMS, "HTTPS parameter")}},
    {"SPF", 99, false, {F(STRINGS, "SPF string")}},
    {"EUI48", 108, false, {F(EUI48, "EUI48 address")}},
    {"EUI64", 109, false, {F(EUI64, "EUI64 address")}},
    {"URI", 256, false,
        {F(U16, "URI priority"), F(U16, "URI weight"), F(TEXT, "URI target")}},
    {"LOC", 29, false, {F(LOC, "LOC location")}},
    {"APL", 42, false, {F(APL, "APL item")}},
};

/* Types with a mnemonic but no layout: they take RFC 3597 rdata only. */
static const struct {
	const char *name;
	uint16_t type;
} zone_type_names[] = {{"NULL", 10}, {"WKS", 11}, {"MINFO", 14}, {"X25", 19},
    {"ISDN", 20}, {"RT", 21}, {"NSAP", 22}, {"SIG", 24}, {"KEY", 25},
    {"PX", 26}, {"GPOS", 27}, {"NXT", 30}, {"A6", 38}, {"HIP", 55},
    {"NINFO", 56}, {"RKEY", 57}, {"TALINK", 58}, {"NID", 104}, {"L32", 105},
    {"L64", 106}, {"LP", 107}, {"TKEY", 249}, {"TSIG", 250}, {"IXFR", 251},
    {"AXFR", 252}, {"MAILB", 253}, {"MAILA", 254}, {"ANY", 255}, {"OPT", 41},
    {"DLV", 32769}};

#define ZONE_COUNT(a) (sizeof(a) / sizeof((a)[0]))

const struct zone_type_info *
zone_type_by_number(uint16_t type)
{
	for (size_t i = 0; i < ZONE_COUNT(zone_types); i++)
		if (zone_types[i].type == type)
			return &zone_types[i];
	return NULL;
}

/* The generic names TYPEnnn (RFC 3597 section 5), CLASSnnn and the SVCB
 * keyNNNNN are all a prefix in any case and 1 to 5 decimal digits up to
 * 65535; one parser serves them so that they agree on what they take. */
bool
zone_generic_number(
    const char *t, size_t len, const char *prefix, uint16_t *out)
{
	size_t plen = strlen(prefix);
	uint32_t v = 0;

	if (len <= plen || len > plen + 5 || strncasecmp(t, prefix, plen) != 0)
		return false;
	for (size_t i = plen; i < len; i++) {
		if (t[i] < '0' || t[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(t[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

bool
zone_type_from_text(const char *t, size_t len, uint16_t *type)
{
	for (size_t i = 0; i < ZONE_COUNT(zone_types); i++)
		if (strlen(zone_types[i].name) == len &&
		    strncasecmp(t, zone_types[i].name, len) == 0) {
			*type = zone_types[i].type;
			return true;
		}
	for (size_t i = 0; i < ZONE_COUNT(zone_type_names); i++)
		if (strlen(zone_type_names[i].name) == len &&
		    strncasecmp(t, zone_type_names[i].name, len) == 0) {
			*type = zone_type_names[i].type;
			return true;
		}
	return zone_generic_number(t, len, "TYPE", type);
}

bool
zone_type_by_name(
    const struct zone_source *src, const struct zone_token *tok, uint16_t *type)
{
	return !tok->quoted &&
	    zone_type_from_text(zone_token_text(src, tok), tok->len, type);
}

const char *
zone_type_mnemonic(uint16_t type)
{
	const struct zone_type_info *info = zone_type_by_number(type);

	if (info != NULL)
		return info->name;
	for (size_t i = 0; i < ZONE_COUNT(zone_type_names); i++)
		if (zone_type_names[i].type == type)
			return zone_type_names[i].name;
	return NULL;
}

void
zone_type_show(uint16_t type, char *buf, size_t len)
{
	const char *name = zone_type_mnemonic(type);

	if (name != NULL)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "TYPE%u", type);
}

int
zone_type_to_text(uint16_t type, char *buf, size_t len)
{
	const char *name = zone_type_mnemonic(type);
	int n = name != NULL ? snprintf(buf, len, "%s", name)
	                     : snprintf(buf, len, "TYPE%u", type);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* RFC 8624's DNSSEC algorithm mnemonics, as BIND and NSD accept them. */
static const struct {
	const char *name;
	uint16_t value;
} zone_algorithms[] = {{"RSAMD5", 1}, {"DH", 2}, {"DSA", 3}, {"RSASHA1", 5},
    {"DSA-NSEC3-SHA1", 6}, {"RSASHA1-NSEC3-SHA1", 7}, {"RSASHA256", 8},
    {"RSASHA512", 10}, {"ECC-GOST", 12}, {"ECDSAP256SHA256", 13},
    {"ECDSAP384SHA384", 14}, {"ED25519", 15}, {"ED448", 16}, {"INDIRECT", 252},
    {"PRIVATEDNS", 253}, {"PRIVATEOID", 254}},
  zone_cert_types[] = {{"PKIX", 1}, {"SPKI", 2}, {"PGP", 3}, {"IPKIX", 4},
      {"ISPKI", 5}, {"IPGP", 6}, {"ACPKIX", 7}, {"IACPKIX", 8}, {"URI", 253},
      {"OID", 254}};

bool
zone_mnemonic_value(uint8_t kind, const char *t, size_t len, uint16_t *value)
{
	size_t n = kind == ZONE_FIELD_ALGORITHM ? ZONE_COUNT(zone_algorithms)
	                                        : ZONE_COUNT(zone_cert_types);

	for (size_t i = 0; i < n; i++) {
		const char *name = kind == ZONE_FIELD_ALGORITHM
		    ? zone_algorithms[i].name
		    : zone_cert_types[i].name;

		if (strlen(name) == len && strncasecmp(t, name, len) == 0) {
			*value = kind == ZONE_FIELD_ALGORITHM
			    ? zone_algorithms[i].value
			    : zone_cert_types[i].value;
			return true;
		}
	}
	return false;
}
