/*
 * rdata.c - record data in presentation format to wire format, one parser
 * per type in a table, and RFC 3597 generic rdata ("\\# length hex").
 *
 * Generic rdata given for a type this module knows is checked against the
 * type's layout, because the answer code relies on it (names where names
 * are, addresses of the right length).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ---- rdata --------------------------------------------------------------- */

static int
zone_fields_take(
    struct zone_fields *f, const char *what, const struct zone_token **tok)
{
	if (f->next == f->end)
		return zone_fail(
		    f->b, -EINVAL, f->src->file, f->line, "missing %s", what);
	*tok = &f->b->tokens[f->next++];
	return 0;
}

static int
zone_fields_put(struct zone_fields *f, const void *data, size_t n)
{
	if (n > sizeof(f->b->rdata) - f->len)
		return zone_fail(f->b, -EINVAL, f->src->file, f->line,
		    "rdata longer than 65535 octets");
	memcpy(f->b->rdata + f->len, data, n);
	f->len += n;
	return 0;
}

static int
zone_rdata_number(struct zone_fields *f, const char *what, unsigned octets)
{
	const struct zone_token *tok = NULL;
	uint32_t v, max = octets == 4 ? UINT32_MAX : (1u << (8 * octets)) - 1;
	uint8_t out[4];
	int rc;

	if ((rc = zone_fields_take(f, what, &tok)) < 0 ||
	    (rc = zone_field_number(f->b, f->src, tok, max, &v, what)) < 0)
		return rc;
	for (unsigned i = 0; i < octets; i++)
		out[i] = (uint8_t)(v >> (8 * (octets - 1 - i)));
	return zone_fields_put(f, out, octets);
}

static int
zone_rdata_timer(struct zone_fields *f, const char *what)
{
	const struct zone_token *tok = NULL;
	uint32_t v = 0;
	uint8_t out[4];
	int rc;

	if ((rc = zone_fields_take(f, what, &tok)) < 0 ||
	    (rc = zone_field_ttl(f->b, f->src, tok, &v, what)) < 0)
		return rc;
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
	return zone_fields_put(f, out, 4);
}

static int
zone_rdata_name_field(struct zone_fields *f, const char *what)
{
	const struct zone_token *tok = NULL;
	uint8_t wire[256];
	size_t len = 0;
	int rc;

	if ((rc = zone_fields_take(f, what, &tok)) < 0 ||
	    (rc = zone_field_name(f->b, f->src, tok, wire, &len)) < 0)
		return rc;
	return zone_fields_put(f, wire, len);
}

/* A <character-string>: a length octet and up to 255 octets. */
static int
zone_rdata_string(struct zone_fields *f, const char *what)
{
	const struct zone_token *tok = NULL;
	uint8_t text[256];
	size_t len = 0;
	int rc;

	if ((rc = zone_fields_take(f, what, &tok)) < 0 ||
	    (rc = zone_field_bytes(
	         f->b, f->src, tok, text + 1, 255, &len, what)) < 0)
		return rc;
	text[0] = (uint8_t)len;
	return zone_fields_put(f, text, len + 1);
}

static int
zone_rdata_address(struct zone_fields *f, int family)
{
	const char *what = family == AF_INET ? "IPv4 address" : "IPv6 address";
	const struct zone_token *tok = NULL;
	char text[64], shown[64];
	uint8_t addr[16];
	int rc;

	if ((rc = zone_fields_take(f, what, &tok)) < 0)
		return rc;
	if (!tok->quoted && tok->len < sizeof(text)) {
		memcpy(text, zone_token_text(f->src, tok), tok->len);
		text[tok->len] = '\0';
		if (inet_pton(family, text, addr) == 1)
			return zone_fields_put(
			    f, addr, family == AF_INET ? 4 : 16);
	}
	return zone_fail(f->b, -EINVAL, f->src->file, tok->line, "bad %s '%s'",
	    what, zone_token_show(f->src, tok, shown, sizeof(shown)));
}

static int
zone_rdata_a(struct zone_fields *f)
{
	return zone_rdata_address(f, AF_INET);
}

static int
zone_rdata_aaaa(struct zone_fields *f)
{
	return zone_rdata_address(f, AF_INET6);
}

static int
zone_rdata_name(struct zone_fields *f)
{
	return zone_rdata_name_field(f, "target name");
}

static int
zone_rdata_soa(struct zone_fields *f)
{
	int rc;

	if ((rc = zone_rdata_name_field(f, "SOA primary server")) < 0 ||
	    (rc = zone_rdata_name_field(f, "SOA mailbox")) < 0 ||
	    (rc = zone_rdata_number(f, "SOA serial", 4)) < 0 ||
	    (rc = zone_rdata_timer(f, "SOA refresh")) < 0 ||
	    (rc = zone_rdata_timer(f, "SOA retry")) < 0 ||
	    (rc = zone_rdata_timer(f, "SOA expire")) < 0)
		return rc;
	return zone_rdata_timer(f, "SOA minimum");
}

static int
zone_rdata_mx(struct zone_fields *f)
{
	int rc;

	if ((rc = zone_rdata_number(f, "MX preference", 2)) < 0)
		return rc;
	return zone_rdata_name_field(f, "MX exchange");
}

static int
zone_rdata_txt(struct zone_fields *f)
{
	int rc;

	do {
		if ((rc = zone_rdata_string(f, "TXT string")) < 0)
			return rc;
	} while (f->next < f->end);
	return 0;
}

static int
zone_rdata_srv(struct zone_fields *f)
{
	int rc;

	if ((rc = zone_rdata_number(f, "SRV priority", 2)) < 0 ||
	    (rc = zone_rdata_number(f, "SRV weight", 2)) < 0 ||
	    (rc = zone_rdata_number(f, "SRV port", 2)) < 0)
		return rc;
	return zone_rdata_name_field(f, "SRV target");
}

static bool
zone_caa_tag_ok(const uint8_t *tag, size_t len)
{
	if (len < 1 || len > 15)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = zone_lower(tag[i]);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* RFC 8659: flags, a tag of 1 to 15 letters and digits, and a value that
 * runs to the end of the rdata. */
static int
zone_rdata_caa(struct zone_fields *f)
{
	const struct zone_token *tok = NULL;
	uint8_t tag[16];
	size_t len = 0;
	int rc;

	if ((rc = zone_rdata_number(f, "CAA flags", 1)) < 0 ||
	    (rc = zone_fields_take(f, "CAA tag", &tok)) < 0)
		return rc;
	if (tok->quoted || tok->len > 15 ||
	    zone_field_bytes(f->b, f->src, tok, tag, 15, &len, "CAA tag") < 0 ||
	    !zone_caa_tag_ok(tag, len))
		return zone_fail(f->b, -EINVAL, f->src->file, tok->line,
		    "bad CAA tag (1 to 15 letters and digits)");
	if ((rc = zone_fields_put(f, (uint8_t[]){(uint8_t)len}, 1)) < 0 ||
	    (rc = zone_fields_put(f, tag, len)) < 0 ||
	    (rc = zone_fields_take(f, "CAA value", &tok)) < 0)
		return rc;
	if ((rc = zone_field_bytes(f->b, f->src, tok, f->b->rdata + f->len,
	         sizeof(f->b->rdata) - f->len, &len, "CAA value")) < 0)
		return rc;
	f->len += len;
	return 0;
}

static const struct zone_type_info zone_types[] = {
    {"A", ZONE_TYPE_A, zone_rdata_a},
    {"NS", ZONE_TYPE_NS, zone_rdata_name},
    {"CNAME", ZONE_TYPE_CNAME, zone_rdata_name},
    {"SOA", ZONE_TYPE_SOA, zone_rdata_soa},
    {"PTR", ZONE_TYPE_PTR, zone_rdata_name},
    {"MX", ZONE_TYPE_MX, zone_rdata_mx},
    {"TXT", ZONE_TYPE_TXT, zone_rdata_txt},
    {"AAAA", ZONE_TYPE_AAAA, zone_rdata_aaaa},
    {"SRV", ZONE_TYPE_SRV, zone_rdata_srv},
    {"CAA", ZONE_TYPE_CAA, zone_rdata_caa},
};

const struct zone_type_info *
zone_type_by_number(uint16_t type)
{
	for (size_t i = 0; i < sizeof(zone_types) / sizeof(zone_types[0]); i++)
		if (zone_types[i].type == type)
			return &zone_types[i];
	return NULL;
}

/* Whether tok is a type mnemonic of the table; its number in *type. */
bool
zone_type_by_name(const struct zone_source *src, const struct zone_token *tok,
    uint16_t *type)
{
	for (size_t i = 0; i < sizeof(zone_types) / sizeof(zone_types[0]); i++)
		if (zone_token_is(src, tok, zone_types[i].name)) {
			*type = zone_types[i].type;
			return true;
		}
	return false;
}

void
zone_type_show(uint16_t type, char *buf, size_t len)
{
	const struct zone_type_info *info = zone_type_by_number(type);

	if (info != NULL)
		snprintf(buf, len, "%s", info->name);
	else if (type == ZONE_TYPE_HINFO)
		snprintf(buf, len, "HINFO");
	else
		snprintf(buf, len, "TYPE%u", type);
}

/* Whether a name fills exactly len octets at data. */
static bool
zone_wire_name_fills(const uint8_t *data, size_t len)
{
	return len > 0 && zone_name_len(data, len) == len;
}

static bool
zone_wire_txt_ok(const uint8_t *data, size_t len)
{
	size_t pos = 0;

	while (pos < len)
		pos += 1 + (size_t)data[pos];
	return len > 0 && pos == len;
}

static bool
zone_wire_soa_ok(const uint8_t *data, size_t len)
{
	size_t mname = zone_name_len(data, len);
	size_t rname =
	    mname == 0 ? 0 : zone_name_len(data + mname, len - mname);

	return rname != 0 && mname + rname + 20 == len;
}

/*
 * Checks RFC 3597 generic rdata given for a type this file knows: the
 * answer builder relies on the layout (addresses, names) being right.
 */
static bool
zone_wire_ok(uint16_t type, const uint8_t *data, size_t len)
{
	switch (type) {
	case ZONE_TYPE_A:
		return len == 4;
	case ZONE_TYPE_AAAA:
		return len == 16;
	case ZONE_TYPE_NS:
	case ZONE_TYPE_CNAME:
	case ZONE_TYPE_PTR:
		return zone_wire_name_fills(data, len);
	case ZONE_TYPE_MX:
		return len > 2 && zone_wire_name_fills(data + 2, len - 2);
	case ZONE_TYPE_SRV:
		return len > 6 && zone_wire_name_fills(data + 6, len - 6);
	case ZONE_TYPE_SOA:
		return zone_wire_soa_ok(data, len);
	case ZONE_TYPE_TXT:
		return zone_wire_txt_ok(data, len);
	case ZONE_TYPE_CAA:
		return len >= 2 && (size_t)data[1] + 2 <= len &&
		    zone_caa_tag_ok(data + 2, data[1]);
	default:
		return true;
	}
}

static int
zone_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)zone_lower((uint8_t)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 3597 §5: "\#", the rdata length, then hex in any number of words. */
int
zone_rdata_generic(struct zone_fields *f, uint16_t type)
{
	uint32_t want = 0;
	size_t digits = 0;
	uint8_t *out = f->b->rdata;
	const struct zone_token *tok = NULL;
	int rc;

	if ((rc = zone_fields_take(f, "RFC 3597 rdata length", &tok)) < 0 ||
	    (rc = zone_field_number(
	         f->b, f->src, tok, 65535, &want, "RFC 3597 rdata length")) < 0)
		return rc;
	while (f->next < f->end) {
		tok = &f->b->tokens[f->next++];
		for (uint32_t i = 0; i < tok->len; i++, digits++) {
			int v = zone_hex_digit(zone_token_text(f->src, tok)[i]);

			if (v < 0 || tok->quoted)
				return zone_fail(f->b, -EINVAL, f->src->file,
				    tok->line,
				    "bad hex digit in RFC 3597 rdata");
			if (digits / 2 < want)
				out[digits / 2] = (uint8_t)(digits % 2 == 0
				        ? v << 4
				        : out[digits / 2] | v);
		}
	}
	if (digits != 2 * (size_t)want)
		return zone_fail(f->b, -EINVAL, f->src->file, f->line,
		    "RFC 3597 rdata: length %u but %zu hex digits", want,
		    digits);
	f->len = want;
	if (!zone_wire_ok(type, out, want)) {
		char name[16];

		zone_type_show(type, name, sizeof(name));
		return zone_fail(f->b, -EINVAL, f->src->file, f->line,
		    "RFC 3597 rdata is not valid %s rdata", name);
	}
	return 0;
}

