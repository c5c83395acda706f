/*
 * directive.c - $ORIGIN, $TTL and $INCLUDE, and the loop that reads one
 * source (a file or an included file) record by record.
 *
 * $INCLUDE recurses through zone_parse_text(), at most ZONE_INCLUDE_DEPTH
 * deep; the included file starts with the includer's owner and the given
 * or current origin, and changes neither for the rest of the includer.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* $INCLUDE parses a source inside a source. */
static int zone_source_parse(struct zone_build *b, struct zone_source *src);

/* ---- directives ---------------------------------------------------------- */

static int
zone_file_add(struct zone_build *b, const char *name, uint16_t *file)
{
	char **grown;

	if (b->file_count >= UINT16_MAX)
		return -ENOMEM;
	grown = realloc(b->files, (b->file_count + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	b->files = grown;
	if ((b->files[b->file_count] = strdup(name)) == NULL)
		return -ENOMEM;
	*file = (uint16_t)b->file_count++;
	return 0;
}

/* Parses text as file name (registered for messages) with the given
 * $ORIGIN and starting owner. */
int
zone_parse_text(struct zone_build *b, const char *name, const char *text,
    size_t len, const struct zone_source *parent, const uint8_t *origin,
    size_t origin_len)
{
	struct zone_source src = {.text = text, .len = len, .line = 1};
	int rc;

	if ((rc = zone_file_add(b, name, &src.file)) < 0)
		return zone_fail(b, rc, parent ? parent->file : 0,
		    parent ? b->tokens[0].line : 0, "out of memory");
	memcpy(src.origin, origin, origin_len);
	src.origin_len = origin_len;
	if (parent != NULL) {
		src.depth = parent->depth + 1;
		memcpy(src.owner, parent->owner, parent->owner_len);
		src.owner_len = parent->owner_len;
	}
	return zone_source_parse(b, &src);
}

/* The included path: absolute, or relative to the including file. */
static int
zone_include_path(struct zone_build *b, struct zone_source *src,
    const struct zone_token *tok, char *path, size_t size)
{
	const char *parent = b->files[src->file];
	const char *slash = strrchr(parent, '/');
	size_t dir = slash == NULL ? 0 : (size_t)(slash - parent) + 1;
	size_t len = 0;
	int rc;

	if (dir >= size)
		return zone_fail(
		    b, -EINVAL, src->file, tok->line, "$INCLUDE path too long");
	memcpy(path, parent, dir);
	if ((rc = zone_field_bytes(b, src, tok, (uint8_t *)path + dir,
	         size - dir - 1, &len, "$INCLUDE file name")) < 0)
		return rc;
	if (len > 0 && path[dir] == '/') {
		memmove(path, path + dir, len);
		dir = 0;
	}
	path[dir + len] = '\0';
	if (len == 0 || strlen(path) != dir + len)
		return zone_fail(
		    b, -EINVAL, src->file, tok->line, "bad $INCLUDE file name");
	return 0;
}

static int
zone_directive_include(struct zone_build *b, struct zone_source *src)
{
	char path[PATH_MAX];
	uint8_t origin[256];
	size_t origin_len = src->origin_len;
	unsigned line = b->tokens[0].line;
	char *text;
	size_t len = 0;
	int rc;

	if (b->flags & ZONE_LOAD_NO_INCLUDE)
		return zone_fail(b, -EINVAL, src->file, line,
		    "$INCLUDE is not allowed here");
	if (b->token_count < 2 || b->token_count > 3)
		return zone_fail(b, -EINVAL, src->file, line,
		    "$INCLUDE takes a file name and an optional origin");
	if (src->depth + 1 >= ZONE_INCLUDE_DEPTH)
		return zone_fail(b, -EINVAL, src->file, line,
		    "$INCLUDE nested more than %d deep", ZONE_INCLUDE_DEPTH);
	memcpy(origin, src->origin, origin_len);
	if ((rc = zone_include_path(
	         b, src, &b->tokens[1], path, sizeof(path))) < 0 ||
	    (b->token_count == 3 &&
	        (rc = zone_field_name(
	             b, src, &b->tokens[2], origin, &origin_len)) < 0))
		return rc;
	if ((rc = zone_read_file(path, &text, &len)) < 0)
		return zone_fail(b, rc, src->file, line, "cannot read %s: %s",
		    path, strerror(-rc));
	rc = zone_parse_text(b, path, text, len, src, origin, origin_len);
	free(text);
	return rc;
}

static int
zone_directive(struct zone_build *b, struct zone_source *src)
{
	const struct zone_token *tok = &b->tokens[0];
	unsigned line = tok->line;
	char shown[64];

	if (zone_token_is(src, tok, "$INCLUDE"))
		return zone_directive_include(b, src);
	if (!zone_token_is(src, tok, "$ORIGIN") &&
	    !zone_token_is(src, tok, "$TTL"))
		return zone_fail(b, -EINVAL, src->file, line,
		    "unknown directive '%s'",
		    zone_token_show(src, tok, shown, sizeof(shown)));
	if (b->token_count != 2)
		return zone_fail(b, -EINVAL, src->file, line,
		    "%s takes one field",
		    zone_token_is(src, tok, "$TTL") ? "$TTL" : "$ORIGIN");
	if (zone_token_is(src, tok, "$TTL")) {
		b->have_default_ttl = true;
		return zone_field_ttl(
		    b, src, &b->tokens[1], &b->default_ttl, "$TTL");
	}
	return zone_field_name(
	    b, src, &b->tokens[1], src->origin, &src->origin_len);
}

static int
zone_source_parse(struct zone_build *b, struct zone_source *src)
{
	bool indented;
	int rc;

	while ((rc = zone_next_record(b, src, &indented)) > 0) {
		const struct zone_token *first = &b->tokens[0];

		if (!indented && !first->quoted && first->len > 0 &&
		    zone_token_text(src, first)[0] == '$')
			rc = zone_directive(b, src);
		else
			rc = zone_record(b, src, indented);
		if (rc < 0)
			return rc;
	}
	return rc;
}

