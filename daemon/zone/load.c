/*
 * load.c - the entry points that load a zone from a file or a buffer.
 *
 * Loading happens in two steps. Parsing appends every record, in file
 * order, to a growing list whose owner names (lower-cased) and rdata (wire
 * format) live in one arena; building (build.c) then turns the list into
 * the database that db.c reads. Errors stop the load at once.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- loading ------------------------------------------------------------- */

static void
zone_build_free(struct zone_build *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->file_count; i++)
		free(b->files[i]);
	free(b->files);
	free(b->arena);
	free(b->rrs);
	free(b->tokens);
	free(b);
}

static int
zone_build_new(struct zone_build **out, const char *origin, unsigned flags,
    char *err, size_t errlen)
{
	struct zone_build *b = calloc(1, sizeof(*b));
	int len;

	if (errlen > 0)
		err[0] = '\0';
	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	len = origin == NULL ? -EINVAL : zone_name_from_text(origin, b->origin);
	if (len < 0) {
		snprintf(err, errlen, "bad zone name '%s'",
		    origin == NULL ? "" : origin);
		free(b);
		return -EINVAL;
	}
	zone_name_lower(b->origin, b->origin, (size_t)len);
	b->origin_len = (size_t)len;
	b->last_class = ZONE_CLASS_IN;
	b->flags = flags;
	b->err = err;
	b->errlen = errlen;
	*out = b;
	return 0;
}

int
zone_load_buffer(struct zone **out, const char *origin, const char *name,
    const char *text, size_t len, unsigned flags, char *err, size_t errlen)
{
	struct zone_build *b;
	int rc = zone_build_new(&b, origin, flags, err, errlen);

	if (rc < 0)
		return rc;
	if (len > ZONE_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %u octets", name,
		    ZONE_FILE_MAX);
		rc = -EFBIG;
	} else
		rc = zone_parse_text(
		    b, name, text, len, NULL, b->origin, b->origin_len);
	if (rc == 0)
		rc = zone_build_finish(b, out);
	zone_build_free(b);
	return rc;
}

int
zone_load(struct zone **out, const char *origin, const char *path, char *err,
    size_t errlen)
{
	char *text;
	size_t len = 0;
	int rc = zone_read_file(path, &text, &len);

	if (rc < 0) {
		if (errlen > 0)
			snprintf(err, errlen, "%s: cannot read: %s", path,
			    strerror(-rc));
		return rc;
	}
	rc = zone_load_buffer(out, origin, path, text, len, 0, err, errlen);
	free(text);
	return rc;
}
