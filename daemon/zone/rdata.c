/*
 * rdata.c - record data in presentation format to wire format, driven by
 * the type's row in the table of field kinds (types.c): one parser per
 * kind of field, none per type. The encodings of octets are in binary.c,
 * SvcParams in svcb.c, LOC in loc.c, APL in apl.c.
 *
 * Errors name the type and the field as the table calls it ("missing MX
 * exchange", "bad SRV port '70000'"); addresses say only which family.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

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


/* A field "bad" for its kind: the message with the field as written. */
static int
rdata_bad(struct zone_fields *f, const struct zone_token *tok,
    const char *what, const char *how)
{
	char shown[64];

	return zone_fail(f->b, -EINVAL, f->src->file, tok->line,
	    "bad %s '%s' (%s)", what,
	    zone_token_show(f->src, tok, shown, sizeof(shown)), how);
}

static int
rdata_put_number(struct zone_fields *f, uint32_t v, unsigned octets)
{
	uint8_t out[4];

	for (unsigned i = 0; i < octets; i++)
		out[i] = (uint8_t)(v >> (8 * (octets - 1 - i)));
	return zone_fields_put(f, out, octets);
}

/* A number, or a mnemonic of kind (an algorithm, a certificate type). */
static int
rdata_mnemonic(struct zone_fields *f, uint8_t kind, const char *what)
{
	const struct zone_token *tok = NULL;
	unsigned octets = kind == ZONE_FIELD_ALGORITHM ? 1 : 2;
	uint16_t v;
	int rc;

	if ((rc = zone_fields_take(f, what, &tok)) < 0)
		return rc;
	if (!tok->quoted && tok->len > 0 &&
	    zone_token_text(f->src, tok)[0] >= '0' &&
	    zone_token_text(f->src, tok)[0] <= '9') {
		f->next--;
		return zone_rdata_number(f, what, octets);
	}
	if (tok->quoted || !zone_mnemonic_value(kind, zone_token_text(f->src, tok),
	                       tok->len, &v))
		return rdata_bad(f, tok, what, "a number or a mnemonic");
	return rdata_put_number(f, v, octets);
}

static int
rdata_type(struct zone_fields *f, const char *what)
{
	const struct zone_token *tok = NULL;
	uint16_t type;
	int rc;

	if ((rc = zone_fields_take(f, what, &tok)) < 0)
		return rc;
	if (!zone_type_by_name(f->src, tok, &type))
		return rdata_bad(f, tok, what, "a type");
	return rdata_put_number(f, type, 2);
}

/* RFC 4034 section 3.2: YYYYMMDDHHMMSS, or seconds since 1970. */
static int
rdata_time(struct zone_fields *f, const char *what)
{
	const struct zone_token *tok = NULL;
	uint32_t v = 0;
	int rc;

	if ((rc = zone_fields_take(f, what, &tok)) < 0)
		return rc;
	if (tok->len == 14 && !tok->quoted) {
		if (zone_time_parse(zone_token_text(f->src, tok), 14, &v) < 0)
			return rdata_bad(f, tok, what, "YYYYMMDDHHMMSS");
		return rdata_put_number(f, v, 4);
	}
	f->next--;
	return zone_rdata_number(f, what, 4);
}

/* RFC 7043: pairs of hex digits joined by '-'. */
static int
rdata_eui(struct zone_fields *f, const char *what, size_t octets)
{
	const struct zone_token *tok = NULL;
	uint8_t out[8];
	const char *t;
	int rc;

	if ((rc = zone_fields_take(f, what, &tok)) < 0)
		return rc;
	t = zone_token_text(f->src, tok);
	if (tok->quoted || tok->len != octets * 3 - 1)
		return rdata_bad(f, tok, what, "xx-xx-...");
	for (size_t i = 0; i < octets; i++) {
		int hi = zone_hex_digit(t[3 * i]), lo = zone_hex_digit(t[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i + 1 < octets && t[3 * i + 2] != '-'))
			return rdata_bad(f, tok, what, "xx-xx-...");
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return zone_fields_put(f, out, octets);
}

/* RFC 8659: 1 to 15 letters and digits, with a length octet. */
static int
rdata_caa_tag(struct zone_fields *f, const char *what)
{
	const struct zone_token *tok = NULL;
	uint8_t tag[16];
	size_t len = 0;
	int rc;

	if ((rc = zone_fields_take(f, what, &tok)) < 0)
		return rc;
	if (tok->quoted || tok->len > 15 ||
	    zone_field_bytes(f->b, f->src, tok, tag + 1, 15, &len, what) < 0 ||
	    !zone_caa_tag_ok(tag + 1, len))
		return zone_fail(f->b, -EINVAL, f->src->file, tok->line,
		    "bad %s (1 to 15 letters and digits)", what);
	tag[0] = (uint8_t)len;
	return zone_fields_put(f, tag, len + 1);
}

/* One field whose octets run to the end of the rdata (CAA value, URI
 * target): no length octet. */
static int
rdata_text(struct zone_fields *f, const char *what)
{
	const struct zone_token *tok = NULL;
	size_t len = 0;
	int rc;

	if ((rc = zone_fields_take(f, what, &tok)) < 0 ||
	    (rc = zone_field_bytes(f->b, f->src, tok, f->b->rdata + f->len,
	         sizeof(f->b->rdata) - f->len, &len, what)) < 0)
		return rc;
	f->len += len;
	return 0;
}

/* RFC 4025: by the gateway type already in the rdata's octet 1. */
static int
rdata_gateway(struct zone_fields *f, const char *what)
{
	const struct zone_token *tok = NULL;
	int rc;

	switch (f->b->rdata[1]) {
	case 0:
		if ((rc = zone_fields_take(f, what, &tok)) < 0)
			return rc;
		return zone_token_is(f->src, tok, ".")
		    ? 0
		    : rdata_bad(f, tok, what, "'.' for gateway type 0");
	case 1:
		return zone_rdata_address(f, AF_INET);
	case 2:
		return zone_rdata_address(f, AF_INET6);
	case 3:
		return zone_rdata_name_field(f, what);
	default:
		return zone_fail(f->b, -EINVAL, f->src->file, f->line,
		    "bad IPSECKEY gateway type %u (0 to 3)", f->b->rdata[1]);
	}
}

static int
rdata_strings(struct zone_fields *f, const char *what)
{
	int rc;

	do {
		if ((rc = zone_rdata_string(f, what)) < 0)
			return rc;
	} while (f->next < f->end);
	return 0;
}

/* The fixed-size numbers and the fields of one token. */
static int
rdata_simple(struct zone_fields *f, uint8_t kind, const char *what)
{
	switch (kind) {
	case ZONE_FIELD_NAME:
		return zone_rdata_name_field(f, what);
	case ZONE_FIELD_U8:
		return zone_rdata_number(f, what, 1);
	case ZONE_FIELD_U16:
		return zone_rdata_number(f, what, 2);
	case ZONE_FIELD_U32:
		return zone_rdata_number(f, what, 4);
	case ZONE_FIELD_TTL:
		return zone_rdata_timer(f, what);
	case ZONE_FIELD_TYPE:
		return rdata_type(f, what);
	case ZONE_FIELD_ALGORITHM:
	case ZONE_FIELD_CERT_TYPE:
		return rdata_mnemonic(f, kind, what);
	case ZONE_FIELD_A:
		return zone_rdata_address(f, AF_INET);
	case ZONE_FIELD_AAAA:
		return zone_rdata_address(f, AF_INET6);
	case ZONE_FIELD_STRING:
		return zone_rdata_string(f, what);
	case ZONE_FIELD_TIME:
		return rdata_time(f, what);
	case ZONE_FIELD_EUI48:
		return rdata_eui(f, what, 6);
	case ZONE_FIELD_EUI64:
		return rdata_eui(f, what, 8);
	case ZONE_FIELD_CAA_TAG:
		return rdata_caa_tag(f, what);
	case ZONE_FIELD_TEXT:
		return rdata_text(f, what);
	default:
		return rdata_gateway(f, what);
	}
}

static int
rdata_field(struct zone_fields *f, uint8_t kind, const char *what)
{
	switch (kind) {
	case ZONE_FIELD_STRINGS:
		return rdata_strings(f, what);
	case ZONE_FIELD_BASE64:
	case ZONE_FIELD_BASE64_OPT:
		return zone_rdata_base64(f, what, kind == ZONE_FIELD_BASE64_OPT);
	case ZONE_FIELD_HEX:
		return zone_rdata_hex(f, what);
	case ZONE_FIELD_SALT:
		return zone_rdata_salt(f, what);
	case ZONE_FIELD_BASE32:
		return zone_rdata_base32(f, what);
	case ZONE_FIELD_BITMAP:
		return zone_rdata_bitmap(f, what);
	case ZONE_FIELD_SVC_PARAMS:
		return zone_svcb_parse(f);
	case ZONE_FIELD_LOC:
		return zone_loc_parse(f);
	case ZONE_FIELD_APL:
		return zone_apl_parse(f);
	default:
		return rdata_simple(f, kind, what);
	}
}

int
zone_rdata_fields(struct zone_fields *f, const struct zone_type_info *info)
{
	int rc;

	for (size_t i = 0; i < ZONE_TYPE_FIELDS; i++) {
		const struct zone_field_info *field = &info->fields[i];

		if (field->kind == ZONE_FIELD_END)
			break;
		if ((rc = rdata_field(f, field->kind, field->what)) < 0)
			return rc;
	}
	return 0;
}
