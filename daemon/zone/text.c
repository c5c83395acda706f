/*
 * text.c - rdata in wire format to presentation text, field by field
 * through the type's table (types.c), for every type this module knows;
 * other types, and rdata that does not fit its type's layout, in RFC 3597
 * form ("\# 4 C0000201").
 *
 * The text reads back into the same octets (t/zone checks every type):
 * names are absolute and escaped, strings quoted, numbers decimal, binary
 * fields in the encoding their RFC gives. Thread-safe, allocates nothing.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static uint32_t
text_get(const uint8_t *p, size_t n)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void
text_name(struct zone_out *o, const uint8_t *name)
{
	char buf[ZONE_NAME_TEXT_LEN];

	if (zone_name_to_text(name, buf, sizeof(buf)) < 0)
		o->overflow = true;
	else
		zone_out_printf(o, "%s", buf);
}

static void
text_string(struct zone_out *o, const uint8_t *data, size_t n)
{
	zone_out_put(o, "\"", 1);
	zone_out_escaped(o, data, n);
	zone_out_put(o, "\"", 1);
}

static void
text_address(struct zone_out *o, const uint8_t *data, int family)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(family, data, buf, sizeof(buf));
	zone_out_printf(o, "%s", buf);
}

static void
text_type(struct zone_out *o, uint16_t type)
{
	char buf[16];

	zone_type_show(type, buf, sizeof(buf));
	zone_out_printf(o, "%s", buf);
}

/* The types of a bitmap, each after a space; the first without. */
static void
text_bitmap(struct zone_out *o, const uint8_t *data, size_t len)
{
	bool first = true;

	for (size_t pos = 0; pos + 2 <= len; pos += 2 + (size_t)data[pos + 1])
		for (unsigned i = 0; i < 8u * data[pos + 1]; i++) {
			if (!(data[pos + 2 + i / 8] & (0x80 >> (i % 8))))
				continue;
			zone_out_put(o, " ", !first);
			text_type(o, (uint16_t)(data[pos] << 8 | i));
			first = false;
		}
}

static void
text_eui(struct zone_out *o, const uint8_t *data, size_t n)
{
	for (size_t i = 0; i < n; i++)
		zone_out_printf(o, "%s%02x", i > 0 ? "-" : "", data[i]);
}

static void
text_strings(struct zone_out *o, const uint8_t *data, size_t len)
{
	for (size_t pos = 0; pos < len; pos += 1 + (size_t)data[pos]) {
		zone_out_put(o, " ", pos > 0);
		text_string(o, data + pos + 1, data[pos]);
	}
}

/* The binary fields (and the ones that run to the end of the rdata). */
static void
text_binary(struct zone_out *o, uint8_t kind, const uint8_t *data, size_t n)
{
	char b32[420];

	switch (kind) {
	case ZONE_FIELD_BASE64:
	case ZONE_FIELD_BASE64_OPT:
		zone_out_base64(o, data, n);
		break;
	case ZONE_FIELD_HEX:
		zone_out_hex(o, data, n);
		break;
	case ZONE_FIELD_SALT:
		if (n == 1)
			zone_out_put(o, "-", 1);
		zone_out_hex(o, data + 1, n - 1);
		break;
	case ZONE_FIELD_BASE32:
		zone_out_put(o, b32, zone_base32hex_encode(data + 1, n - 1, b32));
		break;
	case ZONE_FIELD_BITMAP:
		text_bitmap(o, data, n);
		break;
	case ZONE_FIELD_SVC_PARAMS:
		zone_svcb_text(o, data, n);
		break;
	case ZONE_FIELD_STRINGS:
		text_strings(o, data, n);
		break;
	case ZONE_FIELD_APL:
		zone_apl_text(o, data, n);
		break;
	default:
		text_string(o, data, n); /* TEXT */
	}
}

/* One field of kind, n octets at data; rdata is the whole (for GATEWAY). */
static void
text_field(struct zone_out *o, uint8_t kind, const uint8_t *rdata,
    const uint8_t *data, size_t n)
{
	char time[16];

	switch (kind) {
	case ZONE_FIELD_NAME:
		text_name(o, data);
		break;
	case ZONE_FIELD_U8:
	case ZONE_FIELD_U16:
	case ZONE_FIELD_U32:
	case ZONE_FIELD_TTL:
	case ZONE_FIELD_ALGORITHM:
	case ZONE_FIELD_CERT_TYPE:
		zone_out_printf(o, "%u", text_get(data, n));
		break;
	case ZONE_FIELD_TYPE:
		text_type(o, (uint16_t)text_get(data, 2));
		break;
	case ZONE_FIELD_TIME:
		zone_time_format(text_get(data, 4), time);
		zone_out_printf(o, "%s", time);
		break;
	case ZONE_FIELD_A:
		text_address(o, data, AF_INET);
		break;
	case ZONE_FIELD_AAAA:
		text_address(o, data, AF_INET6);
		break;
	case ZONE_FIELD_STRING:
	case ZONE_FIELD_CAA_TAG:
		if (kind == ZONE_FIELD_STRING)
			text_string(o, data + 1, data[0]);
		else
			zone_out_put(o, data + 1, data[0]);
		break;
	case ZONE_FIELD_EUI48:
	case ZONE_FIELD_EUI64:
		text_eui(o, data, n);
		break;
	case ZONE_FIELD_GATEWAY:
		if (rdata[1] == 0)
			zone_out_put(o, ".", 1);
		else if (rdata[1] == 3)
			text_name(o, data);
		else
			text_address(o, data, rdata[1] == 1 ? AF_INET : AF_INET6);
		break;
	case ZONE_FIELD_LOC:
		zone_loc_text(o, data);
		break;
	default:
		text_binary(o, kind, data, n);
	}
}

static void
text_generic(struct zone_out *o, const uint8_t *data, size_t len)
{
	zone_out_printf(o, "\\# %zu", len);
	zone_out_put(o, " ", len > 0);
	zone_out_hex(o, data, len);
}

/* Whether a field writes nothing at all (an empty key, no bitmap). */
static bool
text_field_empty(uint8_t kind, size_t n)
{
	return n == 0 &&
	    (kind == ZONE_FIELD_BASE64_OPT || kind == ZONE_FIELD_BITMAP ||
	        kind == ZONE_FIELD_SVC_PARAMS || kind == ZONE_FIELD_APL ||
	        kind == ZONE_FIELD_GATEWAY);
}

static void
text_fields(struct zone_out *o, const struct zone_type_info *info,
    const uint8_t *data, size_t len)
{
	size_t pos = 0;

	for (size_t i = 0; i < ZONE_TYPE_FIELDS; i++) {
		uint8_t kind = info->fields[i].kind;
		size_t n;

		if (kind == ZONE_FIELD_END)
			break;
		n = zone_wire_field_len(kind, data, pos, len);
		if (kind == ZONE_FIELD_SVC_PARAMS || text_field_empty(kind, n)) {
			/* SvcParams bring their own spaces; a gateway of
			 * type 0 is written ".". */
			if (kind == ZONE_FIELD_GATEWAY)
				zone_out_put(o, " .", 2);
			else
				text_field(o, kind, data, data + pos, n);
		} else {
			zone_out_put(o, " ", i > 0);
			text_field(o, kind, data, data + pos, n);
		}
		pos += n;
	}
}

int
zone_rdata_to_text(uint16_t type, const uint8_t *data, size_t len, char *buf,
    size_t size)
{
	const struct zone_type_info *info = zone_type_by_number(type);
	struct zone_out o = {buf, size, 0, size == 0};

	if (size > 0)
		buf[0] = '\0';
	if (info != NULL && zone_wire_ok(info, data, len))
		text_fields(&o, info, data, len);
	else
		text_generic(&o, data, len);
	return o.overflow ? -ENOSPC : (int)o.len;
}
