/*
 * record.c - one resource record line: owner (or the previous one when the
 * line is indented), TTL and class in either order, type, rdata; appended
 * to the load's record list with owner and rdata in the arena.
 *
 * An omitted TTL takes $TTL, else the last one stated (RFC 1035 section
 * 5.1), else for the SOA its MINIMUM as BIND does.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* ---- records ------------------------------------------------------------- */

static int
zone_arena_put(
    struct zone_build *b, const uint8_t *data, size_t n, uint32_t *offset)
{
	if (n > b->arena_cap - b->arena_len) {
		size_t cap = b->arena_cap == 0 ? 65536 : b->arena_cap;
		uint8_t *grown;

		while (cap - b->arena_len < n)
			cap *= 2;
		if (cap > UINT32_MAX ||
		    (grown = realloc(b->arena, cap)) == NULL)
			return -ENOMEM;
		b->arena = grown;
		b->arena_cap = cap;
	}
	memcpy(b->arena + b->arena_len, data, n);
	*offset = (uint32_t)b->arena_len;
	b->arena_len += n;
	return 0;
}

/* Appends a record; the owner is src->owner, lower-cased. */
static int
zone_add_rr(struct zone_build *b, struct zone_source *src, unsigned line,
    uint16_t type, uint32_t ttl, size_t rdlen)
{
	struct zone_build_rr *rr;
	uint8_t owner[255];
	int rc = 0;

	if (b->rr_count == b->rr_cap) {
		size_t cap = b->rr_cap == 0 ? 256 : b->rr_cap * 2;
		struct zone_build_rr *grown =
		    realloc(b->rrs, cap * sizeof(*rr));

		if (grown == NULL)
			return zone_fail(
			    b, -ENOMEM, src->file, line, "out of memory");
		b->rrs = grown;
		b->rr_cap = cap;
	}
	rr = &b->rrs[b->rr_count];
	zone_name_lower(owner, src->owner, src->owner_len);
	if (b->rr_count > 0 && b->last_owner_len == src->owner_len &&
	    memcmp(b->arena + b->last_owner, owner, src->owner_len) == 0)
		rr->owner_offset = b->last_owner;
	else
		rc =
		    zone_arena_put(b, owner, src->owner_len, &rr->owner_offset);
	if (rc == 0)
		rc = zone_arena_put(b, b->rdata, rdlen, &rr->rdata_offset);
	if (rc < 0)
		return zone_fail(b, rc, src->file, line, "out of memory");
	b->last_owner = rr->owner_offset;
	b->last_owner_len = src->owner_len;
	rr->owner_len = (uint16_t)src->owner_len;
	rr->rdlen = (uint16_t)rdlen;
	rr->type = type;
	rr->ttl = ttl;
	rr->line = line;
	rr->file = src->file;
	rr->seq = (uint32_t)b->rr_count++;
	return 0;
}

/* IN, CH, CS, HS or CLASSnnn; false if tok is no class at all. */
static bool
zone_parse_class(const struct zone_source *src, const struct zone_token *tok,
    uint16_t *class)
{
	static const struct {
		const char *name;
		uint16_t class;
	} classes[] = {{"IN", 1}, {"CS", 2}, {"CH", 3}, {"HS", 4}};
	const char *t = zone_token_text(src, tok);

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (zone_token_is(src, tok, classes[i].name)) {
			*class = classes[i].class;
			return true;
		}
	return !tok->quoted &&
	    zone_generic_number(t, tok->len, "CLASS", class);
}

/* A type mnemonic or TYPEnnn. */
static int
zone_parse_type(struct zone_build *b, struct zone_source *src,
    const struct zone_token *tok, uint16_t *type)
{
	char shown[64];

	/* zone_type_by_name takes TYPEnnn too. */
	if (zone_type_by_name(src, tok, type))
		return 0;
	return zone_fail(b, -EINVAL, src->file, tok->line, "unknown type '%s'",
	    zone_token_show(src, tok, shown, sizeof(shown)));
}

/* Types that only exist in queries or messages (RFC 6895 §3.1). */
static bool
zone_type_is_meta(uint16_t type)
{
	return type == 0 || type == ZONE_TYPE_OPT ||
	    (type >= 128 && type <= 255);
}

/* The optional TTL and class before the type, in either order. */
static int
zone_record_ttl_class(struct zone_build *b, struct zone_source *src, size_t *i,
    uint32_t *ttl, bool *have_ttl, uint16_t *class)
{
	bool have_class = false;
	int rc;

	for (int k = 0; k < 2 && *i < b->token_count; k++) {
		const struct zone_token *tok = &b->tokens[*i];
		char c = zone_token_text(src, tok)[0];

		if (!tok->quoted && tok->len > 0 && c >= '0' && c <= '9' &&
		    !*have_ttl) {
			if ((rc = zone_field_ttl(b, src, tok, ttl, "TTL")) < 0)
				return rc;
			*have_ttl = true;
		} else if (!have_class && zone_parse_class(src, tok, class)) {
			have_class = true;
		} else {
			break;
		}
		(*i)++;
	}
	if (!have_class)
		*class = b->last_class;
	if (*class != ZONE_CLASS_IN && *class != ZONE_CLASS_CH)
		return zone_fail(b, -EINVAL, src->file, b->tokens[0].line,
		    "class %u is not supported (only IN and CH)", *class);
	if (b->class != 0 && *class != b->class)
		return zone_fail(b, -EINVAL, src->file, b->tokens[0].line,
		    "class %s differs from the zone's class %s",
		    *class == ZONE_CLASS_IN ? "IN" : "CH",
		    b->class == ZONE_CLASS_IN ? "IN" : "CH");
	b->class = b->last_class = *class;
	return 0;
}

/* The rdata fields from tokens[i] on, in b->rdata; length in *len. */
static int
zone_record_rdata(struct zone_build *b, struct zone_source *src, size_t i,
    uint16_t type, size_t *len)
{
	const struct zone_type_info *info = zone_type_by_number(type);
	struct zone_fields f = {
	    b, src, i, b->token_count, b->tokens[0].line, 0};
	char shown[64];
	int rc;

	if (i < f.end && zone_token_is(src, &b->tokens[i], "\\#")) {
		f.next++;
		rc = zone_rdata_generic(&f, type);
	} else if (info != NULL) {
		rc = zone_rdata_fields(&f, info);
	} else {
		zone_type_show(type, shown, sizeof(shown));
		return zone_fail(b, -EINVAL, src->file, f.line,
		    "type %s needs RFC 3597 rdata (\\# length hex)", shown);
	}
	if (rc < 0)
		return rc;
	if (f.next < f.end)
		return zone_fail(b, -EINVAL, src->file, b->tokens[f.next].line,
		    "unexpected field '%s' after the rdata",
		    zone_token_show(
		        src, &b->tokens[f.next], shown, sizeof(shown)));
	*len = f.len;
	return 0;
}

/* The TTL of a record that gave none (RFC 1035 §5.1, RFC 2308 §4). */
static int
zone_record_default_ttl(struct zone_build *b, struct zone_source *src,
    uint16_t type, size_t rdlen, uint32_t *ttl)
{
	if (b->have_default_ttl)
		*ttl = b->default_ttl;
	else if (b->have_last_ttl)
		*ttl = b->last_ttl;
	else if (type == ZONE_TYPE_SOA) {
		/* As BIND does: the SOA MINIMUM, then kept for what follows. */
		const uint8_t *minimum = b->rdata + rdlen - 4;

		*ttl = (uint32_t)minimum[0] << 24 | (uint32_t)minimum[1] << 16 |
		    (uint32_t)minimum[2] << 8 | minimum[3];
		if (*ttl > ZONE_TTL_MAX)
			*ttl = ZONE_TTL_MAX;
		b->last_ttl = *ttl;
		b->have_last_ttl = true;
	} else
		return zone_fail(b, -EINVAL, src->file, b->tokens[0].line,
		    "no TTL given and no $TTL before this record");
	return 0;
}

static int
zone_record_owner(struct zone_build *b, struct zone_source *src, bool indented)
{
	char name[ZONE_NAME_TEXT_LEN], origin[ZONE_NAME_TEXT_LEN];
	int rc;

	if (!indented) {
		if ((rc = zone_field_name(b, src, &b->tokens[0], src->owner,
		         &src->owner_len)) < 0)
			return rc;
	} else if (src->owner_len == 0) {
		return zone_fail(b, -EINVAL, src->file, b->tokens[0].line,
		    "the first record has no owner name");
	}
	if (zone_name_is_below(
	        src->owner, src->owner_len, b->origin, b->origin_len))
		return 0;
	zone_name_show(src->owner, name, sizeof(name));
	zone_name_show(b->origin, origin, sizeof(origin));
	return zone_fail(b, -EINVAL, src->file, b->tokens[0].line,
	    "owner %s is outside the zone %s", name, origin);
}

int
zone_record(struct zone_build *b, struct zone_source *src, bool indented)
{
	size_t i = indented ? 0 : 1, rdlen = 0;
	uint32_t ttl = 0;
	bool have_ttl = false;
	uint16_t class = 0, type = 0;
	int rc;

	if ((rc = zone_record_owner(b, src, indented)) < 0 ||
	    (rc = zone_record_ttl_class(b, src, &i, &ttl, &have_ttl, &class)) <
	        0)
		return rc;
	if (i == b->token_count)
		return zone_fail(
		    b, -EINVAL, src->file, b->tokens[0].line, "missing type");
	if ((rc = zone_parse_type(b, src, &b->tokens[i], &type)) < 0)
		return rc;
	if (zone_type_is_meta(type))
		return zone_fail(b, -EINVAL, src->file, b->tokens[i].line,
		    "type %u cannot appear in a zone", type);
	if ((rc = zone_record_rdata(b, src, i + 1, type, &rdlen)) < 0)
		return rc;
	if (have_ttl) {
		b->last_ttl = ttl;
		b->have_last_ttl = true;
	} else if ((rc = zone_record_default_ttl(b, src, type, rdlen, &ttl)) <
	    0)
		return rc;
	return zone_add_rr(b, src, b->tokens[0].line, type, ttl, rdlen);
}

