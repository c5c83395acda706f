/*
 * field.c - decoding one field of a record: a name relative to $ORIGIN,
 * escaped octets, a decimal number, a TTL with BIND's units.
 *
 * Each function reports a bad field through zone_fail() with the field as
 * written, so that errors read "file:line: bad TTL '1x'".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ---- fields -------------------------------------------------------------- */

bool
zone_token_is(const struct zone_source *src, const struct zone_token *tok,
    const char *word)
{
	size_t n = strlen(word);

	if (tok->quoted || tok->len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (zone_lower((uint8_t)zone_token_text(src, tok)[i]) !=
		    zone_lower((uint8_t)word[i]))
			return false;
	return true;
}

/*
 * Decodes a name field relative to the source's $ORIGIN into wire[256].
 * The name is built aside and copied at the end: wire may be src->origin
 * itself ("$ORIGIN sub"), and a failed field must not leave half a name.
 */
int
zone_field_name(struct zone_build *b, struct zone_source *src,
    const struct zone_token *tok, uint8_t *wire, size_t *len)
{
	uint8_t name[256];
	size_t name_len = 0;
	const char *why = NULL;
	bool absolute = true;
	char shown[64];

	if (tok->quoted)
		return zone_fail(b, -EINVAL, src->file, tok->line,
		    "a name may not be quoted");
	if (zone_token_is(src, tok, "@")) {
		memcpy(name, src->origin, src->origin_len);
		name_len = src->origin_len;
	} else {
		why = zone_name_parse(zone_token_text(src, tok), tok->len,
		    name, &name_len, &absolute);
	}
	if (why == NULL && !absolute) {
		if (name_len + src->origin_len > 255)
			why = "name longer than 255 octets";
		else {
			memcpy(name + name_len, src->origin, src->origin_len);
			name_len += src->origin_len;
		}
	}
	if (why != NULL)
		return zone_fail(b, -EINVAL, src->file, tok->line,
		    "bad name '%s': %s",
		    zone_token_show(src, tok, shown, sizeof(shown)), why);
	memcpy(wire, name, name_len);
	*len = name_len;
	return 0;
}

/* Decodes a field's escapes into out (at most max octets). */
int
zone_field_bytes(struct zone_build *b, struct zone_source *src,
    const struct zone_token *tok, uint8_t *out, size_t max, size_t *len,
    const char *what)
{
	const char *t = zone_token_text(src, tok);
	size_t i = 0, n = 0;
	const char *why;

	while (i < tok->len) {
		uint8_t c = (uint8_t)t[i];

		if (c == '\\') {
			if ((why = zone_escape(t, tok->len, &i, &c)) != NULL)
				return zone_fail(b, -EINVAL, src->file,
				    tok->line, "bad %s: %s", what, why);
		} else {
			i++;
		}
		if (n == max)
			return zone_fail(b, -EINVAL, src->file, tok->line,
			    "%s longer than %zu octets", what, max);
		out[n++] = c;
	}
	*len = n;
	return 0;
}

/* A decimal number of at most max. */
int
zone_field_number(struct zone_build *b, struct zone_source *src,
    const struct zone_token *tok, uint32_t max, uint32_t *value,
    const char *what)
{
	const char *t = zone_token_text(src, tok);
	uint64_t v = 0;
	char shown[64];

	for (uint32_t i = 0; i < tok->len && !tok->quoted; i++) {
		if (t[i] < '0' || t[i] > '9' || i >= 10)
			break;
		v = v * 10 + (uint64_t)(t[i] - '0');
		if (i + 1 == tok->len && v <= max) {
			*value = (uint32_t)v;
			return 0;
		}
	}
	return zone_fail(b, -EINVAL, src->file, tok->line,
	    "bad %s '%s' (a number up to %u)", what,
	    zone_token_show(src, tok, shown, sizeof(shown)), max);
}

/* The seconds of a TTL unit letter (BIND's s, m, h, d, w), or 0. */
static uint32_t
zone_ttl_unit(char c)
{
	static const char units[] = "smhdw";
	static const uint32_t seconds[] = {1, 60, 3600, 86400, 604800};
	const char *unit =
	    c == '\0' ? NULL : strchr(units, zone_lower((uint8_t)c));

	return unit == NULL ? 0 : seconds[unit - units];
}

/* A TTL: seconds, or BIND's units ("1h30m", "2d"), at most 2^31 - 1. */
static bool
zone_parse_ttl(const char *t, size_t len, uint32_t *ttl)
{
	uint64_t total = 0, group = 0;
	bool digits = false;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (t[i] >= '0' && t[i] <= '9') {
			group = group * 10 + (uint64_t)(t[i] - '0');
			digits = true;
		} else if (digits && zone_ttl_unit(t[i]) != 0) {
			total += group * zone_ttl_unit(t[i]);
			group = 0;
			digits = false;
		} else {
			return false;
		}
		if (group > ZONE_TTL_MAX || total > ZONE_TTL_MAX)
			return false;
	}
	total += group;
	if (total > ZONE_TTL_MAX)
		return false;
	*ttl = (uint32_t)total;
	return true;
}

int
zone_field_ttl(struct zone_build *b, struct zone_source *src,
    const struct zone_token *tok, uint32_t *ttl, const char *what)
{
	char shown[64];

	if (!tok->quoted &&
	    zone_parse_ttl(zone_token_text(src, tok), tok->len, ttl))
		return 0;
	return zone_fail(b, -EINVAL, src->file, tok->line,
	    "bad %s '%s' (seconds up to %u, or units as in 1h30m)", what,
	    zone_token_show(src, tok, shown, sizeof(shown)), ZONE_TTL_MAX);
}

/* ---- fields of rdata ----------------------------------------------------- */

/* The next field of the rdata, or "missing <what>". */
int
zone_fields_take(
    struct zone_fields *f, const char *what, const struct zone_token **tok)
{
	if (f->next == f->end)
		return zone_fail(
		    f->b, -EINVAL, f->src->file, f->line, "missing %s", what);
	*tok = &f->b->tokens[f->next++];
	return 0;
}

/* Appends octets to the rdata being built. */
int
zone_fields_put(struct zone_fields *f, const void *data, size_t n)
{
	if (n > sizeof(f->b->rdata) - f->len)
		return zone_fail(f->b, -EINVAL, f->src->file, f->line,
		    "rdata longer than 65535 octets");
	memcpy(f->b->rdata + f->len, data, n);
	f->len += n;
	return 0;
}

