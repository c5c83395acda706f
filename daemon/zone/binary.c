/*
 * binary.c - the rdata fields written in an encoding of octets: base64
 * and hexadecimal that run over any number of fields to the end of the
 * rdata (RFC 4034 allows spaces inside them), NSEC3's salt and next owner,
 * the type bitmaps of NSEC, NSEC3 and CSYNC, and RFC 3597 generic rdata.
 *
 * Each decodes straight into the rdata being built, with no copy of the
 * text, since a key or signature may be split into many fields.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "internal.h"

static int
binary_fail(struct zone_fields *f, const struct zone_token *tok,
    const char *what, const char *how)
{
	return zone_fail(f->b, -EINVAL, f->src->file,
	    tok != NULL ? tok->line : f->line, "bad %s (%s)", what, how);
}

/* Base64 over the remaining fields, four characters at a time. */
int
zone_rdata_base64(struct zone_fields *f, const char *what, bool optional)
{
	char group[4];
	size_t n = 0, octets = 0;
	bool ended = false;
	const struct zone_token *tok = NULL;

	while (f->next < f->end) {
		tok = &f->b->tokens[f->next++];
		for (uint32_t i = 0; i < tok->len; i++) {
			uint8_t out[3];
			int got;

			group[n++] = zone_token_text(f->src, tok)[i];
			if (n < 4)
				continue;
			n = 0;
			got = zone_base64_decode(group, 4, out, 3);
			if (got < 0 || ended || tok->quoted)
				return binary_fail(f, tok, what, "base64");
			ended = got < 3;
			if (zone_fields_put(f, out, (size_t)got) < 0)
				return -EINVAL;
			octets += (size_t)got;
		}
	}
	if (n != 0)
		return binary_fail(f, tok, what, "base64");
	if (octets == 0 && !optional)
		return zone_fail(f->b, -EINVAL, f->src->file, f->line,
		    "missing %s", what);
	return 0;
}

/* Hex digits over the remaining fields; an even number, at least two. */
int
zone_rdata_hex(struct zone_fields *f, const char *what)
{
	size_t digits = 0;
	uint8_t octet = 0;
	const struct zone_token *tok = NULL;

	while (f->next < f->end) {
		tok = &f->b->tokens[f->next++];
		for (uint32_t i = 0; i < tok->len; i++) {
			int v = zone_hex_digit(zone_token_text(f->src, tok)[i]);

			if (v < 0 || tok->quoted)
				return binary_fail(f, tok, what, "hex");
			octet = (uint8_t)(octet << 4 | v);
			if (++digits % 2 == 0 && zone_fields_put(f, &octet, 1) < 0)
				return -EINVAL;
		}
	}
	if (digits == 0)
		return zone_fail(f->b, -EINVAL, f->src->file, f->line,
		    "missing %s", what);
	return digits % 2 == 0 ? 0 : binary_fail(f, tok, what, "odd hex");
}

/* NSEC3 salt: "-" for none, else hex; written with a length octet. */
int
zone_rdata_salt(struct zone_fields *f, const char *what)
{
	const struct zone_token *tok = NULL;
	uint8_t out[256];
	size_t n = 0;
	int rc;

	if ((rc = zone_fields_take(f, what, &tok)) < 0)
		return rc;
	if (!zone_token_is(f->src, tok, "-")) {
		if (tok->quoted || tok->len % 2 != 0 || tok->len > 510)
			return binary_fail(f, tok, what, "hex up to 255 octets");
		for (uint32_t i = 0; i < tok->len; i += 2) {
			int hi = zone_hex_digit(zone_token_text(f->src, tok)[i]);
			int lo =
			    zone_hex_digit(zone_token_text(f->src, tok)[i + 1]);

			if (hi < 0 || lo < 0)
				return binary_fail(f, tok, what, "hex");
			out[1 + n++] = (uint8_t)(hi << 4 | lo);
		}
	}
	out[0] = (uint8_t)n;
	return zone_fields_put(f, out, n + 1);
}

/* NSEC3's next hashed owner: base32hex, with a length octet. */
int
zone_rdata_base32(struct zone_fields *f, const char *what)
{
	const struct zone_token *tok = NULL;
	uint8_t out[256];
	int rc, n;

	if ((rc = zone_fields_take(f, what, &tok)) < 0)
		return rc;
	n = tok->quoted ? -EINVAL
	                : zone_base32hex_decode(zone_token_text(f->src, tok),
	                      tok->len, out + 1, 255);
	if (n <= 0)
		return binary_fail(f, tok, what, "base32hex up to 255 octets");
	out[0] = (uint8_t)n;
	return zone_fields_put(f, out, (size_t)n + 1);
}

/* RFC 4034 section 4.1.2: the remaining fields are types; windows of
 * the bits set, the last octet of each not zero. */
int
zone_rdata_bitmap(struct zone_fields *f, const char *what)
{
	uint8_t bits[256][32], used[256] = {0};
	char shown[64];
	int rc;

	while (f->next < f->end) {
		const struct zone_token *tok = &f->b->tokens[f->next++];
		uint16_t type;

		if (!zone_type_by_name(f->src, tok, &type))
			return zone_fail(f->b, -EINVAL, f->src->file, tok->line,
			    "bad %s: unknown type '%s'", what,
			    zone_token_show(f->src, tok, shown, sizeof(shown)));
		if (used[type >> 8] == 0)
			memset(bits[type >> 8], 0, 32);
		bits[type >> 8][(type & 255) / 8] |= (uint8_t)(0x80 >> (type % 8));
		if (used[type >> 8] < (type & 255) / 8 + 1)
			used[type >> 8] = (uint8_t)((type & 255) / 8 + 1);
	}
	for (unsigned w = 0; w < 256; w++) {
		uint8_t head[2] = {(uint8_t)w, used[w]};

		if (used[w] == 0)
			continue;
		if ((rc = zone_fields_put(f, head, 2)) < 0 ||
		    (rc = zone_fields_put(f, bits[w], used[w])) < 0)
			return rc;
	}
	return 0;
}
/* RFC 3597 §5: "\#", the rdata length, then hex in any number of words. */
int
zone_rdata_generic(struct zone_fields *f, uint16_t type)
{
	const struct zone_type_info *info = zone_type_by_number(type);
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
	if (info != NULL && !zone_wire_ok(info, out, want)) {
		char name[16];

		zone_type_show(type, name, sizeof(name));
		return zone_fail(f->b, -EINVAL, f->src->file, f->line,
		    "RFC 3597 rdata is not valid %s rdata", name);
	}
	return 0;
}

