/*
 * loc.c - LOC records (RFC 1876): "52 22 23.000 N 4 53 32.000 E -2.00m
 * 1m 10000m 10m" to the 16 octets of version 0 and back.
 *
 * Latitude and longitude are thousandths of an arc second from 2^31,
 * altitude centimetres from 100,000 m below the WGS 84 spheroid, and the
 * size and precisions one digit and a power of ten of centimetres. Minutes
 * and seconds may be left out, as may the last three distances (1 m,
 * 10,000 m and 10 m by default). The text written back gives every field,
 * so that it reads back to the same octets; wire data that text cannot
 * express (a coordinate out of range, a digit above 9) is refused.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define LOC_EQUATOR 2147483648u /* 2^31: zero degrees */
#define LOC_ALT_BASE 10000000u  /* 100,000 m in cm */

static uint32_t
loc_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A precision octet: a digit and a power of ten, both at most 9. */
static bool
loc_precision_ok(uint8_t v)
{
	return (v >> 4) <= 9 && (v & 15) <= 9;
}

static uint64_t
loc_precision_cm(uint8_t v)
{
	uint64_t cm = v >> 4;

	for (unsigned e = v & 15; e > 0; e--)
		cm *= 10;
	return cm;
}

bool
zone_loc_wire_ok(const uint8_t *data, size_t len)
{
	uint32_t lat, lon;

	if (len != 16 || data[0] != 0)
		return false;
	for (int i = 1; i <= 3; i++)
		if (!loc_precision_ok(data[i]))
			return false;
	lat = loc_get32(data + 4);
	lon = loc_get32(data + 8);
	return (lat >= LOC_EQUATOR ? lat - LOC_EQUATOR : LOC_EQUATOR - lat) <=
	    90u * 3600000 &&
	    (lon >= LOC_EQUATOR ? lon - LOC_EQUATOR : LOC_EQUATOR - lon) <=
	    180u * 3600000;
}

/* ---- text to wire -------------------------------------------------------- */

/*
 * A decimal with at most `decimals` fraction digits, scaled by 10^decimals,
 * and an optional unit suffix; false if malformed or above max.
 */
static bool
loc_decimal(const char *t, size_t len, unsigned decimals, const char *unit,
    uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0, digits = 0, fraction = 0;
	bool dot = false;

	if (len > 0 && unit != NULL && zone_lower((uint8_t)t[len - 1]) == unit[0])
		len--;
	for (; i < len; i++) {
		if (t[i] == '.' && !dot) {
			dot = true;
			continue;
		}
		if (t[i] < '0' || t[i] > '9' || digits > 12 ||
		    (dot && ++fraction > decimals))
			return false;
		v = v * 10 + (uint64_t)(t[i] - '0');
		digits++;
	}
	for (; fraction < decimals; fraction++)
		v *= 10;
	if (digits == 0 || v > max)
		return false;
	*out = v;
	return true;
}

/* A distance in cm as a precision octet: one digit and a power of ten,
 * rounded down as BIND does. */
static uint8_t
loc_precision(uint64_t cm)
{
	unsigned e = 0;

	while (cm >= 10 && e < 9) {
		cm /= 10;
		e++;
	}
	return (uint8_t)((cm > 9 ? 9 : cm) << 4 | e);
}

static int
loc_fail(struct zone_fields *f, const struct zone_token *tok, const char *why)
{
	char shown[64];

	return zone_fail(f->b, -EINVAL, f->src->file, tok->line,
	    "bad LOC %s '%s'", why,
	    zone_token_show(f->src, tok, shown, sizeof(shown)));
}

static bool
loc_is(struct zone_fields *f, const struct zone_token *tok, const char *one,
    const char *other)
{
	return zone_token_is(f->src, tok, one) ||
	    zone_token_is(f->src, tok, other);
}

/* Degrees, optional minutes and seconds, then a hemisphere letter. */
static int
loc_coordinate(struct zone_fields *f, unsigned max_degrees, const char *pos,
    const char *neg, uint32_t *out)
{
	static const uint64_t scale[] = {3600000, 60000, 1};
	static const uint64_t limit[] = {180, 59, 59999};
	uint64_t total = 0, v;
	const struct zone_token *tok = NULL;
	int rc;

	for (int part = 0; part < 4; part++) {
		if ((rc = zone_fields_take(f, "LOC coordinate", &tok)) < 0)
			return rc;
		if (part > 0 && loc_is(f, tok, pos, neg))
			break;
		if (part == 3 ||
		    !loc_decimal(zone_token_text(f->src, tok), tok->len,
		        part == 2 ? 3 : 0, NULL, limit[part], &v))
			return loc_fail(f, tok, "coordinate");
		total += v * scale[part];
	}
	if (total > (uint64_t)max_degrees * 3600000)
		return loc_fail(f, tok, "coordinate");
	*out = zone_token_is(f->src, tok, pos) ? LOC_EQUATOR + (uint32_t)total
	                                       : LOC_EQUATOR - (uint32_t)total;
	return 0;
}

static int
loc_altitude(struct zone_fields *f, uint32_t *out)
{
	const struct zone_token *tok = NULL;
	const char *t;
	bool negative;
	uint64_t cm;
	int rc;

	if ((rc = zone_fields_take(f, "LOC altitude", &tok)) < 0)
		return rc;
	t = zone_token_text(f->src, tok);
	negative = tok->len > 0 && t[0] == '-';
	if (!loc_decimal(t + negative, tok->len - negative, 2, "m",
	        negative ? LOC_ALT_BASE : 4284967295u, &cm))
		return loc_fail(f, tok, "altitude");
	*out = negative ? LOC_ALT_BASE - (uint32_t)cm
	                : LOC_ALT_BASE + (uint32_t)cm;
	return 0;
}

int
zone_loc_parse(struct zone_fields *f)
{
	uint8_t out[16] = {0, 0x12, 0x16, 0x13}; /* 1m 10000m 10m */
	uint32_t v[3];
	int rc;

	if ((rc = loc_coordinate(f, 90, "N", "S", &v[0])) < 0 ||
	    (rc = loc_coordinate(f, 180, "E", "W", &v[1])) < 0 ||
	    (rc = loc_altitude(f, &v[2])) < 0)
		return rc;
	for (int i = 1; i <= 3 && f->next < f->end; i++) {
		const struct zone_token *tok = &f->b->tokens[f->next++];
		uint64_t cm;

		if (!loc_decimal(zone_token_text(f->src, tok), tok->len, 2,
		        "m", 9000000000u, &cm))
			return loc_fail(f, tok, "size or precision");
		out[i] = loc_precision(cm);
	}
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 4; k++)
			out[4 + 4 * i + k] = (uint8_t)(v[i] >> (24 - 8 * k));
	return zone_fields_put(f, out, sizeof(out));
}

/* ---- wire to text -------------------------------------------------------- */

static void
loc_text_coordinate(struct zone_out *o, uint32_t v, char pos, char neg)
{
	uint32_t ms = v >= LOC_EQUATOR ? v - LOC_EQUATOR : LOC_EQUATOR - v;

	zone_out_printf(o, "%u %u %u.%03u %c", ms / 3600000, ms / 60000 % 60,
	    ms / 1000 % 60, ms % 1000, v >= LOC_EQUATOR ? pos : neg);
}

static void
loc_text_cm(struct zone_out *o, uint64_t cm)
{
	zone_out_printf(o, " %llu.%02llum", (unsigned long long)(cm / 100),
	    (unsigned long long)(cm % 100));
}

void
zone_loc_text(struct zone_out *o, const uint8_t *data)
{
	uint32_t alt = loc_get32(data + 12);

	loc_text_coordinate(o, loc_get32(data + 4), 'N', 'S');
	zone_out_put(o, " ", 1);
	loc_text_coordinate(o, loc_get32(data + 8), 'E', 'W');
	if (alt < LOC_ALT_BASE)
		zone_out_printf(o, " -%u.%02um", (LOC_ALT_BASE - alt) / 100,
		    (LOC_ALT_BASE - alt) % 100);
	else
		loc_text_cm(o, alt - LOC_ALT_BASE);
	for (int i = 1; i <= 3; i++)
		loc_text_cm(o, loc_precision_cm(data[i]));
}
