/*
 * wire.c - rdata in wire format, read through the type's table of field
 * kinds: whether it has the layout its type says (for RFC 3597 rdata of a
 * known type), and the comparison that finds duplicates.
 *
 * Two records are the same when their rdata is equal with the names in it
 * compared without regard to ASCII case (RFC 2181 section 5, RFC 4343), so
 * "MX 10 Mail" and "MX 10 mail" are one record. The comparison is also an
 * order, the one build.c sorts by; it differs from plain octets only for
 * types with names, and only when the octets differ.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "internal.h"

/* A field that does not fit or is malformed. */
#define WIRE_BAD SIZE_MAX

bool
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

/*
 * RFC 4034 section 4.1.2: windows in increasing order, each with 1 to 32
 * octets of which the last is not zero (so that the text form, which only
 * lists types, turns back into the same octets).
 */
bool
zone_bitmap_ok(const uint8_t *data, size_t len)
{
	size_t pos = 0;
	int last = -1;

	while (pos < len) {
		uint8_t window, n;

		if (len - pos < 2)
			return false;
		window = data[pos];
		n = data[pos + 1];
		if ((int)window <= last || n < 1 || n > 32 ||
		    (size_t)n > len - pos - 2 || data[pos + 1 + n] == 0)
			return false;
		last = window;
		pos += 2 + (size_t)n;
	}
	return true;
}

static bool
wire_strings_ok(const uint8_t *data, size_t len)
{
	size_t pos = 0;

	while (pos < len)
		pos += 1 + (size_t)data[pos];
	return len > 0 && pos == len;
}

static size_t
wire_fixed(size_t want, size_t left)
{
	return left >= want ? want : WIRE_BAD;
}

/* The length-prefixed fields: a length octet and that many more. */
static size_t
wire_counted(const uint8_t *data, size_t left, size_t min)
{
	if (left < 1 || data[0] < min || (size_t)data[0] + 1 > left)
		return WIRE_BAD;
	return (size_t)data[0] + 1;
}

static size_t
wire_gateway(const uint8_t *rdata, const uint8_t *data, size_t left)
{
	size_t n;

	switch (rdata[1]) {
	case 0:
		return 0;
	case 1:
		return wire_fixed(4, left);
	case 2:
		return wire_fixed(16, left);
	case 3:
		n = zone_name_len(data, left);
		return n == 0 ? WIRE_BAD : n;
	default:
		return WIRE_BAD;
	}
}

/* The rest of the rdata, when it may (empty) or must (not) be empty. */
static size_t
wire_rest(size_t left, bool may_be_empty)
{
	return left > 0 || may_be_empty ? left : WIRE_BAD;
}

/* The octets a field of kind takes at rdata + pos, or WIRE_BAD. */
size_t
zone_wire_field_len(
    uint8_t kind, const uint8_t *rdata, size_t pos, size_t len)
{
	const uint8_t *data = rdata + pos;
	size_t left = len - pos, n;

	switch (kind) {
	case ZONE_FIELD_NAME:
		n = zone_name_len(data, left);
		return n == 0 ? WIRE_BAD : n;
	case ZONE_FIELD_U8:
	case ZONE_FIELD_ALGORITHM:
		return wire_fixed(1, left);
	case ZONE_FIELD_U16:
	case ZONE_FIELD_TYPE:
	case ZONE_FIELD_CERT_TYPE:
		return wire_fixed(2, left);
	case ZONE_FIELD_U32:
	case ZONE_FIELD_TTL:
	case ZONE_FIELD_TIME:
	case ZONE_FIELD_A:
		return wire_fixed(4, left);
	case ZONE_FIELD_AAAA:
		return wire_fixed(16, left);
	case ZONE_FIELD_EUI48:
		return wire_fixed(6, left);
	case ZONE_FIELD_EUI64:
		return wire_fixed(8, left);
	case ZONE_FIELD_STRING:
		return wire_counted(data, left, 0);
	case ZONE_FIELD_SALT:
		return wire_counted(data, left, 0);
	case ZONE_FIELD_BASE32:
		return wire_counted(data, left, 1);
	case ZONE_FIELD_CAA_TAG:
		n = wire_counted(data, left, 1);
		return n != WIRE_BAD && zone_caa_tag_ok(data + 1, n - 1)
		    ? n
		    : WIRE_BAD;
	case ZONE_FIELD_GATEWAY:
		return pos >= 2 ? wire_gateway(rdata, data, left) : WIRE_BAD;
	case ZONE_FIELD_STRINGS:
		return wire_strings_ok(data, left) ? left : WIRE_BAD;
	case ZONE_FIELD_BITMAP:
		return zone_bitmap_ok(data, left) ? left : WIRE_BAD;
	case ZONE_FIELD_SVC_PARAMS:
		return zone_svcb_wire_ok(data, left) ? left : WIRE_BAD;
	case ZONE_FIELD_LOC:
		return zone_loc_wire_ok(data, left) ? left : WIRE_BAD;
	case ZONE_FIELD_APL:
		return zone_apl_wire_ok(data, left) ? left : WIRE_BAD;
	case ZONE_FIELD_TEXT:
	case ZONE_FIELD_BASE64_OPT:
		return wire_rest(left, true);
	case ZONE_FIELD_BASE64:
	case ZONE_FIELD_HEX:
		return wire_rest(left, false);
	default:
		return WIRE_BAD;
	}
}

bool
zone_wire_ok(const struct zone_type_info *info, const uint8_t *data, size_t len)
{
	size_t pos = 0;

	for (size_t i = 0; i < ZONE_TYPE_FIELDS; i++) {
		uint8_t kind = info->fields[i].kind;
		size_t n;

		if (kind == ZONE_FIELD_END)
			break;
		if ((n = zone_wire_field_len(kind, data, pos, len)) == WIRE_BAD)
			return false;
		pos += n;
	}
	return pos == len;
}

static int
wire_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    bool fold)
{
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++) {
		uint8_t x = fold ? zone_lower(a[i]) : a[i];
		uint8_t y = fold ? zone_lower(b[i]) : b[i];

		if (x != y)
			return x < y ? -1 : 1;
	}
	return alen < blen ? -1 : alen > blen;
}

/* Whether a field of kind is a name in this rdata. */
static bool
wire_is_name(uint8_t kind, const uint8_t *rdata)
{
	return kind == ZONE_FIELD_NAME ||
	    (kind == ZONE_FIELD_GATEWAY && rdata[1] == 3);
}

/* Field by field, names folded; both rdata passed zone_wire_ok(). */
static int
wire_compare_fields(const struct zone_type_info *info, const uint8_t *a,
    size_t alen, const uint8_t *b, size_t blen)
{
	size_t pa = 0, pb = 0;
	int c;

	for (size_t i = 0; i < ZONE_TYPE_FIELDS; i++) {
		uint8_t kind = info->fields[i].kind;
		size_t na, nb;

		if (kind == ZONE_FIELD_END)
			break;
		na = zone_wire_field_len(kind, a, pa, alen);
		nb = zone_wire_field_len(kind, b, pb, blen);
		if (na == WIRE_BAD || nb == WIRE_BAD)
			break;
		c = wire_compare(a + pa, na, b + pb, nb,
		    wire_is_name(kind, a) && wire_is_name(kind, b));
		if (c != 0)
			return c;
		pa += na;
		pb += nb;
	}
	return wire_compare(a + pa, alen - pa, b + pb, blen - pb, false);
}

int
zone_rdata_compare(uint16_t type, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen)
{
	const struct zone_type_info *info;
	int c = wire_compare(a, alen, b, blen, false);

	if (c == 0 || (info = zone_type_by_number(type)) == NULL ||
	    !info->has_names)
		return c;
	return wire_compare_fields(info, a, alen, b, blen);
}
