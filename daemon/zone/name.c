/*
 * name.c - domain names: wire-format length, case-insensitive comparison,
 * presentation text to wire and back (RFC 1035 section 5.1 escapes).
 *
 * Every other part of the zone module depends on this one and it depends on
 * none of them. Names are uncompressed wire format; these functions never
 * allocate, and the public ones are declared in zone.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ---- names --------------------------------------------------------------- */

/* The three functions below are inline in internal.h, for zone_lookup(). */

size_t
zone_name_len(const uint8_t *name, size_t max)
{
	return zone__name_len(name, max);
}

bool
zone_name_equal(const uint8_t *a, const uint8_t *b)
{
	return zone__name_equal(a, b);
}

bool
zone_name_is_below(const uint8_t *name, size_t name_len, const uint8_t *origin,
    size_t origin_len)
{
	return zone__name_is_below(name, name_len, origin, origin_len);
}

unsigned
zone_name_labels(const uint8_t *name)
{
	unsigned labels = 0;

	for (; *name != 0; name += *name + 1)
		labels++;
	return labels;
}

void
zone_name_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = zone_lower(src[i]);
}

/*
 * Decodes a backslash escape at text[*i]: \DDD (three decimal digits, at
 * most 255) or \X (X itself). Returns NULL or the reason it is bad.
 */
const char *
zone_escape(const char *text, size_t len, size_t *i, uint8_t *out)
{
	const char *d = text + *i + 1;
	unsigned value;

	if (*i + 1 >= len)
		return "a backslash ends the field";
	if (d[0] < '0' || d[0] > '9') {
		*out = (uint8_t)d[0];
		*i += 2;
		return NULL;
	}
	if (*i + 3 >= len || d[1] < '0' || d[1] > '9' || d[2] < '0' ||
	    d[2] > '9')
		return "\\DDD escape without three digits";
	value = (unsigned)(d[0] - '0') * 100 + (unsigned)(d[1] - '0') * 10 +
	    (unsigned)(d[2] - '0');
	if (value > 255)
		return "\\DDD escape above 255";
	*out = (uint8_t)value;
	*i += 4;
	return NULL;
}

/*
 * Converts presentation text to wire labels in wire[256]. An absolute name
 * ends with the root label; a relative one does not and *absolute is false.
 * Returns NULL or the reason the text is not a name.
 */
const char *
zone_name_parse(const char *text, size_t len, uint8_t *wire, size_t *wire_len,
    bool *absolute)
{
	size_t i = 0, label_at = 0, pos = 1;
	const char *why;

	*absolute = false;
	if (len == 1 && text[0] == '.') {
		wire[0] = 0;
		*wire_len = 1;
		*absolute = true;
		return NULL;
	}
	if (len == 0)
		return "empty name";
	while (i < len) {
		uint8_t c = (uint8_t)text[i];

		if (c == '.') {
			if (pos - label_at == 1)
				return "empty label";
			wire[label_at] = (uint8_t)(pos - label_at - 1);
			label_at = pos++;
			if (++i == len) {
				wire[label_at] = 0;
				*absolute = true;
			}
			continue;
		}
		if (c == '\\') {
			if ((why = zone_escape(text, len, &i, &c)) != NULL)
				return why;
		} else {
			i++;
		}
		if (pos - label_at > 63)
			return "label longer than 63 octets";
		if (pos >= 255)
			return "name longer than 255 octets";
		wire[pos++] = c;
	}
	if (!*absolute)
		wire[label_at] = (uint8_t)(pos - label_at - 1);
	if (pos > 255)
		return "name longer than 255 octets";
	*wire_len = pos;
	return NULL;
}

int
zone_name_from_text(const char *text, uint8_t *wire)
{
	uint8_t buf[256];
	size_t len = 0;
	bool absolute;

	if (zone_name_parse(text, strlen(text), buf, &len, &absolute) != NULL)
		return -EINVAL;
	if (!absolute) {
		if (len >= 255)
			return -EINVAL;
		buf[len++] = 0;
	}
	memcpy(wire, buf, len);
	return (int)len;
}

static bool
zone_text_special(uint8_t c)
{
	return c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' ||
	    c == ';' || c == '@' || c == '$';
}

int
zone_name_to_text(const uint8_t *name, char *buf, size_t len)
{
	size_t pos = 0;

	if (*name == 0)
		return snprintf(buf, len, ".") < (int)len ? 1 : -ENOSPC;
	for (; *name != 0; name += *name + 1) {
		for (uint8_t i = 1; i <= *name; i++) {
			uint8_t c = name[i];
			int n;

			if (c < 0x21 || c > 0x7e)
				n = snprintf(buf + pos, len - pos, "\\%03u", c);
			else if (zone_text_special(c))
				n = snprintf(buf + pos, len - pos, "\\%c", c);
			else
				n = snprintf(buf + pos, len - pos, "%c", c);
			if (n < 0 || (size_t)n >= len - pos)
				return -ENOSPC;
			pos += (size_t)n;
		}
		if (pos + 1 >= len)
			return -ENOSPC;
		buf[pos++] = '.';
		buf[pos] = '\0';
	}
	return (int)pos;
}

