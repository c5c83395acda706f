/*
 * zone.c - RFC 1035 master files: the tokenizer, the directives and record
 * types, validation, and the in-memory zone that zone-answer.c reads.
 *
 * Loading happens in two steps. Parsing appends every record, in file
 * order, to a growing list whose owner names (lower-cased) and rdata (wire
 * format) live in one arena. Building then sorts the list by owner, type
 * and rdata, which groups RRsets and puts duplicates side by side, adds a
 * node for every empty non-terminal between an owner and the apex (RFC 4592
 * needs them to exist), and indexes the nodes in an open hash keyed by the
 * lower-cased name. A query then walks the name's suffixes with one hash
 * probe each and allocates nothing.
 *
 * Errors stop the load at once: the first one is what a person fixes first,
 * and it names the file and line it came from.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zone.h"

/* Larger files are refused rather than read into memory. */
#define ZONE_FILE_MAX (256u << 20)
/* One record may not have more fields than this. */
#define ZONE_FIELDS_MAX (1u << 20)
/* RFC 2181 §8: TTLs are 31-bit. */
#define ZONE_TTL_MAX 2147483647u

/* A field of a record: offset and length in the source text. */
struct zone_token {
	uint32_t offset;
	uint32_t len;
	uint32_t line;
	bool quoted;
};

/* A record as parsed, before grouping. */
struct zone_build_rr {
	const uint8_t *owner; /* set when the arena stops moving */
	const uint8_t *rdata;
	uint32_t owner_offset, rdata_offset;
	uint32_t ttl, line, seq;
	uint16_t owner_len, rdlen, type, file;
};

/* Where an RRset came from, for validation errors. */
struct zone_provenance {
	uint32_t first, second; /* indexes into build->rrs; second may be ~0 */
};

/* The state of one load. */
struct zone_build {
	uint8_t origin[256];
	size_t origin_len;
	uint16_t class; /* 0 until the first record */
	uint16_t last_class;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	struct zone_build_rr *rrs;
	size_t rr_count, rr_cap;
	uint32_t last_owner;
	size_t last_owner_len;
	char **files;
	size_t file_count;
	uint32_t default_ttl, last_ttl;
	bool have_default_ttl, have_last_ttl;
	unsigned flags;
	struct zone_token *tokens;
	size_t token_count, token_cap;
	char *err;
	size_t errlen;
	uint8_t rdata[65535];
};

/* One file being read; $INCLUDE nests them. */
struct zone_source {
	const char *text;
	size_t len, pos;
	unsigned line;
	unsigned depth;
	uint16_t file;
	size_t origin_len;
	size_t owner_len; /* 0: no owner yet */
	uint8_t origin[256];
	uint8_t owner[256];
};

/* Fields of a record's rdata being converted to wire format. */
struct zone_fields {
	struct zone_build *b;
	struct zone_source *src;
	size_t next, end;
	unsigned line;
	size_t len;
};

struct zone_type_info {
	const char *name;
	uint16_t type;
	int (*parse)(struct zone_fields *f);
};

struct zone_set {
	atomic_size_t refs;
	struct zone **zones;
	size_t count, cap;
};

static int zone_source_parse(struct zone_build *b, struct zone_source *src);

/* ---- names --------------------------------------------------------------- */

static uint8_t
zone_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

size_t
zone_name_len(const uint8_t *name, size_t max)
{
	size_t pos = 0;

	while (pos < max) {
		if (name[pos] == 0)
			return pos + 1;
		if (name[pos] > 63)
			return 0;
		pos += 1 + (size_t)name[pos];
		if (pos >= 255)
			return 0;
	}
	return 0;
}

bool
zone_name_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		uint8_t n = *a;

		if (n != *b)
			return false;
		if (n == 0)
			return true;
		for (uint8_t i = 1; i <= n; i++)
			if (zone_lower(a[i]) != zone_lower(b[i]))
				return false;
		a += n + 1;
		b += n + 1;
	}
}

bool
zone_name_is_below(const uint8_t *name, size_t name_len, const uint8_t *origin,
    size_t origin_len)
{
	size_t pos = 0;

	if (origin_len > name_len ||
	    !zone_name_equal(name + name_len - origin_len, origin))
		return false;
	/*
	 * The suffix must also start on a label boundary. It is compared
	 * first because most names asked for are not in the zone, and the
	 * comparison usually fails at its first octet. It stays inside the
	 * suffix even off a boundary: it walks the origin's labels, and stops
	 * at the first octet that differs.
	 */
	while (pos < name_len - origin_len)
		pos += 1 + (size_t)name[pos];
	return pos == name_len - origin_len;
}

static unsigned
zone_name_labels(const uint8_t *name)
{
	unsigned labels = 0;

	for (; *name != 0; name += *name + 1)
		labels++;
	return labels;
}

static void
zone_name_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = zone_lower(src[i]);
}

/*
 * Decodes a backslash escape at text[*i]: \DDD (three decimal digits, at
 * most 255) or \X (X itself). Returns NULL or the reason it is bad.
 */
static const char *
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
static const char *
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

/* ---- errors -------------------------------------------------------------- */

/* Records "file:line: reason" (or "file: reason" for line 0) and returns
 * rc. Only the first error of a load is kept. */
__attribute__((__format__(__printf__, 5, 6))) static int
zone_fail(struct zone_build *b, int rc, uint16_t file, unsigned line,
    const char *fmt, ...)
{
	char reason[ZONE_ERROR_LEN];
	const char *name = file < b->file_count ? b->files[file] : "zone";
	va_list ap;

	if (b->errlen == 0 || b->err[0] != '\0')
		return rc;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(b->err, b->errlen, "%s:%u: %s", name, line, reason);
	else
		snprintf(b->err, b->errlen, "%s: %s", name, reason);
	return rc;
}

/* A field as it may appear in a message: at most 40 octets, escaped. */
static const char *
zone_token_show(const struct zone_source *src, const struct zone_token *tok,
    char *buf, size_t len)
{
	size_t pos = 0;

	for (uint32_t i = 0; i < tok->len && pos + 5 < len; i++) {
		uint8_t c = (uint8_t)src->text[tok->offset + i];

		if (i == 40) {
			memcpy(buf + pos, "...", 3);
			pos += 3;
			break;
		}
		if (c < 0x20 || c > 0x7e)
			pos +=
			    (size_t)snprintf(buf + pos, len - pos, "\\%03u", c);
		else
			buf[pos++] = (char)c;
	}
	buf[pos] = '\0';
	return buf;
}

static void
zone_name_show(const uint8_t *name, char *buf, size_t len)
{
	if (zone_name_to_text(name, buf, len) < 0)
		snprintf(buf, len, "(name)");
}

static void zone_type_show(uint16_t type, char *buf, size_t len);

/* ---- reading files ------------------------------------------------------- */

static int
zone_read_file(const char *path, char **text, size_t *len)
{
	size_t cap = 0, used = 0;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (used == cap) {
			size_t next = cap == 0 ? 16384 : cap * 2;
			char *grown;

			if (cap >= ZONE_FILE_MAX) {
				rc = -EFBIG;
				break;
			}
			if ((grown = realloc(buf, next)) == NULL) {
				rc = -ENOMEM;
				break;
			}
			buf = grown;
			cap = next;
		}
		ssize_t n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		used += (size_t)n;
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*text = buf;
	*len = used;
	return 0;
}

/* ---- the tokenizer ------------------------------------------------------- */

static int
zone_push_token(
    struct zone_build *b, struct zone_source *src, const struct zone_token *tok)
{
	if (b->token_count == b->token_cap) {
		size_t cap = b->token_cap == 0 ? 64 : b->token_cap * 2;
		struct zone_token *grown;

		if (b->token_cap >= ZONE_FIELDS_MAX)
			return zone_fail(b, -EINVAL, src->file, tok->line,
			    "record has more than %u fields", ZONE_FIELDS_MAX);
		grown = realloc(b->tokens, cap * sizeof(*grown));
		if (grown == NULL)
			return zone_fail(
			    b, -ENOMEM, src->file, tok->line, "out of memory");
		b->tokens = grown;
		b->token_cap = cap;
	}
	b->tokens[b->token_count++] = *tok;
	return 0;
}

static bool
zone_is_delimiter(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
	    c == '(' || c == ')' || c == '"';
}

/* Scans a field from src->pos: a quoted string or a word, where a
 * backslash protects the next character. */
static int
zone_scan_token(struct zone_build *b, struct zone_source *src)
{
	const char *t = src->text;
	bool quoted = t[src->pos] == '"', escaped = false;
	size_t i = src->pos + (quoted ? 1 : 0);
	struct zone_token tok = {.line = src->line, .quoted = quoted};

	while (
	    i < src->len && (quoted ? t[i] != '"' : !zone_is_delimiter(t[i]))) {
		escaped = t[i] == '\\';
		if (escaped && ++i == src->len)
			break;
		if (t[i] == '\n')
			return zone_fail(b, -EINVAL, src->file, src->line,
			    escaped ? "a backslash ends the line"
			            : "line ends inside a quoted string");
		if (t[i] == '\0')
			return zone_fail(b, -EINVAL, src->file, src->line,
			    "NUL character in the file");
		escaped = false;
		i++;
	}
	if (i >= src->len && (quoted || escaped))
		return zone_fail(b, -EINVAL, src->file, src->line,
		    escaped ? "a backslash ends the file"
		            : "quoted string is never closed");
	tok.offset = (uint32_t)(src->pos + (quoted ? 1 : 0));
	tok.len = (uint32_t)(i - tok.offset);
	src->pos = quoted ? i + 1 : i;
	return zone_push_token(b, src, &tok);
}

/*
 * Collects the fields of the next record into b->tokens: one line, or
 * several joined by parentheses. *indented tells whether the record's first
 * line starts with blank space (its owner is the previous one). Returns 1
 * for a record, 0 at the end of the text, or an error.
 */
static int
zone_next_record(struct zone_build *b, struct zone_source *src, bool *indented)
{
	unsigned paren_line = 0;
	bool line_start = true;
	int rc;

	b->token_count = 0;
	*indented = false;
	while (src->pos < src->len) {
		char c = src->text[src->pos];

		if (line_start && b->token_count == 0 && paren_line == 0)
			*indented = c == ' ' || c == '\t';
		line_start = false;
		switch (c) {
		case ' ':
		case '\t':
		case '\r':
			src->pos++;
			break;
		case ';':
			while (
			    src->pos < src->len && src->text[src->pos] != '\n')
				src->pos++;
			break;
		case '\n':
			src->pos++;
			src->line++;
			line_start = true;
			if (paren_line == 0 && b->token_count > 0)
				return 1;
			break;
		case '(':
			if (paren_line != 0)
				return zone_fail(b, -EINVAL, src->file,
				    src->line, "nested '('");
			paren_line = src->line;
			src->pos++;
			break;
		case ')':
			if (paren_line == 0)
				return zone_fail(b, -EINVAL, src->file,
				    src->line, "')' without '('");
			paren_line = 0;
			src->pos++;
			break;
		case '\0':
			return zone_fail(b, -EINVAL, src->file, src->line,
			    "NUL character in the file");
		default:
			if ((rc = zone_scan_token(b, src)) < 0)
				return rc;
		}
	}
	if (paren_line != 0)
		return zone_fail(
		    b, -EINVAL, src->file, paren_line, "'(' is never closed");
	return b->token_count > 0;
}

/* ---- fields -------------------------------------------------------------- */

static const char *
zone_token_text(const struct zone_source *src, const struct zone_token *tok)
{
	return src->text + tok->offset;
}

static bool
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
static int
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
static int
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
static int
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

static uint32_t
zone_ttl_unit(char c)
{
	switch (zone_lower((uint8_t)c)) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	case 'w':
		return 604800;
	default:
		return 0;
	}
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

static int
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

/* ---- rdata --------------------------------------------------------------- */

static int
zone_fields_take(
    struct zone_fields *f, const char *what, const struct zone_token **tok)
{
	if (f->next == f->end)
		return zone_fail(
		    f->b, -EINVAL, f->src->file, f->line, "missing %s", what);
	*tok = &f->b->tokens[f->next++];
	return 0;
}

static int
zone_fields_put(struct zone_fields *f, const void *data, size_t n)
{
	if (n > sizeof(f->b->rdata) - f->len)
		return zone_fail(f->b, -EINVAL, f->src->file, f->line,
		    "rdata longer than 65535 octets");
	memcpy(f->b->rdata + f->len, data, n);
	f->len += n;
	return 0;
}

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

static int
zone_rdata_a(struct zone_fields *f)
{
	return zone_rdata_address(f, AF_INET);
}

static int
zone_rdata_aaaa(struct zone_fields *f)
{
	return zone_rdata_address(f, AF_INET6);
}

static int
zone_rdata_name(struct zone_fields *f)
{
	return zone_rdata_name_field(f, "target name");
}

static int
zone_rdata_soa(struct zone_fields *f)
{
	int rc;

	if ((rc = zone_rdata_name_field(f, "SOA primary server")) < 0 ||
	    (rc = zone_rdata_name_field(f, "SOA mailbox")) < 0 ||
	    (rc = zone_rdata_number(f, "SOA serial", 4)) < 0 ||
	    (rc = zone_rdata_timer(f, "SOA refresh")) < 0 ||
	    (rc = zone_rdata_timer(f, "SOA retry")) < 0 ||
	    (rc = zone_rdata_timer(f, "SOA expire")) < 0)
		return rc;
	return zone_rdata_timer(f, "SOA minimum");
}

static int
zone_rdata_mx(struct zone_fields *f)
{
	int rc;

	if ((rc = zone_rdata_number(f, "MX preference", 2)) < 0)
		return rc;
	return zone_rdata_name_field(f, "MX exchange");
}

static int
zone_rdata_txt(struct zone_fields *f)
{
	int rc;

	do {
		if ((rc = zone_rdata_string(f, "TXT string")) < 0)
			return rc;
	} while (f->next < f->end);
	return 0;
}

static int
zone_rdata_srv(struct zone_fields *f)
{
	int rc;

	if ((rc = zone_rdata_number(f, "SRV priority", 2)) < 0 ||
	    (rc = zone_rdata_number(f, "SRV weight", 2)) < 0 ||
	    (rc = zone_rdata_number(f, "SRV port", 2)) < 0)
		return rc;
	return zone_rdata_name_field(f, "SRV target");
}

static bool
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

/* RFC 8659: flags, a tag of 1 to 15 letters and digits, and a value that
 * runs to the end of the rdata. */
static int
zone_rdata_caa(struct zone_fields *f)
{
	const struct zone_token *tok = NULL;
	uint8_t tag[16];
	size_t len = 0;
	int rc;

	if ((rc = zone_rdata_number(f, "CAA flags", 1)) < 0 ||
	    (rc = zone_fields_take(f, "CAA tag", &tok)) < 0)
		return rc;
	if (tok->quoted || tok->len > 15 ||
	    zone_field_bytes(f->b, f->src, tok, tag, 15, &len, "CAA tag") < 0 ||
	    !zone_caa_tag_ok(tag, len))
		return zone_fail(f->b, -EINVAL, f->src->file, tok->line,
		    "bad CAA tag (1 to 15 letters and digits)");
	if ((rc = zone_fields_put(f, (uint8_t[]){(uint8_t)len}, 1)) < 0 ||
	    (rc = zone_fields_put(f, tag, len)) < 0 ||
	    (rc = zone_fields_take(f, "CAA value", &tok)) < 0)
		return rc;
	if ((rc = zone_field_bytes(f->b, f->src, tok, f->b->rdata + f->len,
	         sizeof(f->b->rdata) - f->len, &len, "CAA value")) < 0)
		return rc;
	f->len += len;
	return 0;
}

static const struct zone_type_info zone_types[] = {
    {"A", ZONE_TYPE_A, zone_rdata_a},
    {"NS", ZONE_TYPE_NS, zone_rdata_name},
    {"CNAME", ZONE_TYPE_CNAME, zone_rdata_name},
    {"SOA", ZONE_TYPE_SOA, zone_rdata_soa},
    {"PTR", ZONE_TYPE_PTR, zone_rdata_name},
    {"MX", ZONE_TYPE_MX, zone_rdata_mx},
    {"TXT", ZONE_TYPE_TXT, zone_rdata_txt},
    {"AAAA", ZONE_TYPE_AAAA, zone_rdata_aaaa},
    {"SRV", ZONE_TYPE_SRV, zone_rdata_srv},
    {"CAA", ZONE_TYPE_CAA, zone_rdata_caa},
};

static const struct zone_type_info *
zone_type_by_number(uint16_t type)
{
	for (size_t i = 0; i < sizeof(zone_types) / sizeof(zone_types[0]); i++)
		if (zone_types[i].type == type)
			return &zone_types[i];
	return NULL;
}

static void
zone_type_show(uint16_t type, char *buf, size_t len)
{
	const struct zone_type_info *info = zone_type_by_number(type);

	if (info != NULL)
		snprintf(buf, len, "%s", info->name);
	else if (type == ZONE_TYPE_HINFO)
		snprintf(buf, len, "HINFO");
	else
		snprintf(buf, len, "TYPE%u", type);
}

/* Whether a name fills exactly len octets at data. */
static bool
zone_wire_name_fills(const uint8_t *data, size_t len)
{
	return len > 0 && zone_name_len(data, len) == len;
}

static bool
zone_wire_txt_ok(const uint8_t *data, size_t len)
{
	size_t pos = 0;

	while (pos < len)
		pos += 1 + (size_t)data[pos];
	return len > 0 && pos == len;
}

static bool
zone_wire_soa_ok(const uint8_t *data, size_t len)
{
	size_t mname = zone_name_len(data, len);
	size_t rname =
	    mname == 0 ? 0 : zone_name_len(data + mname, len - mname);

	return rname != 0 && mname + rname + 20 == len;
}

/*
 * Checks RFC 3597 generic rdata given for a type this file knows: the
 * answer builder relies on the layout (addresses, names) being right.
 */
static bool
zone_wire_ok(uint16_t type, const uint8_t *data, size_t len)
{
	switch (type) {
	case ZONE_TYPE_A:
		return len == 4;
	case ZONE_TYPE_AAAA:
		return len == 16;
	case ZONE_TYPE_NS:
	case ZONE_TYPE_CNAME:
	case ZONE_TYPE_PTR:
		return zone_wire_name_fills(data, len);
	case ZONE_TYPE_MX:
		return len > 2 && zone_wire_name_fills(data + 2, len - 2);
	case ZONE_TYPE_SRV:
		return len > 6 && zone_wire_name_fills(data + 6, len - 6);
	case ZONE_TYPE_SOA:
		return zone_wire_soa_ok(data, len);
	case ZONE_TYPE_TXT:
		return zone_wire_txt_ok(data, len);
	case ZONE_TYPE_CAA:
		return len >= 2 && (size_t)data[1] + 2 <= len &&
		    zone_caa_tag_ok(data + 2, data[1]);
	default:
		return true;
	}
}

static int
zone_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)zone_lower((uint8_t)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 3597 §5: "\#", the rdata length, then hex in any number of words. */
static int
zone_rdata_generic(struct zone_fields *f, uint16_t type)
{
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
	if (!zone_wire_ok(type, out, want)) {
		char name[16];

		zone_type_show(type, name, sizeof(name));
		return zone_fail(f->b, -EINVAL, f->src->file, f->line,
		    "RFC 3597 rdata is not valid %s rdata", name);
	}
	return 0;
}

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
	uint32_t v = 0;

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (zone_token_is(src, tok, classes[i].name)) {
			*class = classes[i].class;
			return true;
		}
	if (tok->quoted || tok->len < 6 || tok->len > 10 ||
	    strncasecmp(t, "CLASS", 5) != 0)
		return false;
	for (uint32_t i = 5; i < tok->len; i++) {
		if (t[i] < '0' || t[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(t[i] - '0');
	}
	if (v > 65535)
		return false;
	*class = (uint16_t)v;
	return true;
}

/* A type mnemonic or TYPEnnn. */
static int
zone_parse_type(struct zone_build *b, struct zone_source *src,
    const struct zone_token *tok, uint16_t *type)
{
	const char *t = zone_token_text(src, tok);
	uint32_t v = 0;
	char shown[64];

	for (size_t i = 0; i < sizeof(zone_types) / sizeof(zone_types[0]); i++)
		if (zone_token_is(src, tok, zone_types[i].name)) {
			*type = zone_types[i].type;
			return 0;
		}
	if (!tok->quoted && tok->len > 4 && tok->len <= 9 &&
	    strncasecmp(t, "TYPE", 4) == 0) {
		for (uint32_t i = 4; i < tok->len && v <= 65535; i++)
			v = t[i] >= '0' && t[i] <= '9'
			    ? v * 10 + (uint32_t)(t[i] - '0')
			    : 65536;
		if (v <= 65535) {
			*type = (uint16_t)v;
			return 0;
		}
	}
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
		rc = info->parse(&f);
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

static int
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
static int
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

/* ---- building the zone --------------------------------------------------- */

static int
zone_bytes_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Owner, type, rdata, then file order: groups RRsets, duplicates adjacent
 * with the first one in the file ahead. */
static int
zone_rr_compare(const void *pa, const void *pb)
{
	const struct zone_build_rr *a = pa, *b = pb;
	int c =
	    zone_bytes_compare(a->owner, a->owner_len, b->owner, b->owner_len);

	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	c = zone_bytes_compare(a->rdata, a->rdlen, b->rdata, b->rdlen);
	if (c != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool
zone_same_owner(const struct zone_build_rr *a, const struct zone_build_rr *b)
{
	return a->owner_len == b->owner_len &&
	    memcmp(a->owner, b->owner, a->owner_len) == 0;
}

static bool
zone_same_rdata(const struct zone_build_rr *a, const struct zone_build_rr *b)
{
	return a->rdlen == b->rdlen &&
	    memcmp(a->rdata, b->rdata, a->rdlen) == 0;
}

/* Counts owners, RRsets, distinct records, and the names between owners
 * and the apex that may be empty non-terminals, to size arrays once. */
static void
zone_count(const struct zone_build *b, size_t *owners, size_t *sets,
    size_t *records, size_t *ancestors)
{
	unsigned origin_labels = zone_name_labels(b->origin);

	*owners = *sets = *records = *ancestors = 0;
	for (size_t i = 0; i < b->rr_count; i++) {
		const struct zone_build_rr *rr = &b->rrs[i];
		const struct zone_build_rr *prev = i == 0 ? rr : &b->rrs[i - 1];
		bool new_owner = i == 0 || !zone_same_owner(prev, rr);
		bool new_set = new_owner || prev->type != rr->type;

		if (new_owner) {
			(*owners)++;
			*ancestors +=
			    zone_name_labels(rr->owner) - origin_labels;
		}
		*sets += new_set;
		*records += new_set || !zone_same_rdata(prev, rr);
	}
}

static int
zone_alloc(struct zone *z, size_t nodes, size_t sets, size_t records)
{
	size_t slots = 16;

	while (slots < 2 * nodes)
		slots *= 2;
	z->nodes = calloc(nodes, sizeof(*z->nodes));
	z->rrsets = calloc(sets, sizeof(*z->rrsets));
	z->rdatas = calloc(records, sizeof(*z->rdatas));
	z->index = calloc(slots, sizeof(*z->index));
	z->index_mask = slots - 1;
	if (z->nodes == NULL || z->rrsets == NULL || z->rdatas == NULL ||
	    z->index == NULL)
		return -ENOMEM;
	return 0;
}

static uint32_t
zone_hash(const uint8_t *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= zone_lower(name[i]);
		h *= 16777619u;
	}
	return h;
}

static void
zone_index_add(struct zone *z, size_t node)
{
	size_t slot = zone_hash(z->nodes[node].name, z->nodes[node].name_len) &
	    z->index_mask;

	while (z->index[slot] != 0)
		slot = (slot + 1) & z->index_mask;
	z->index[slot] = (uint32_t)node + 1;
}

static void
zone_node_init(struct zone_node *node, const uint8_t *name, size_t len)
{
	node->name = name;
	node->name_len = (uint16_t)len;
	node->labels = (uint8_t)zone_name_labels(name);
}

/*
 * Fills record i into the node/RRset/rdata arrays, starting new ones where
 * the owner or type changes; duplicates are dropped. The provenance keeps
 * the two records of each RRset that came first in the file.
 */
static void
zone_group_one(struct zone *z, const struct zone_build_rr *rrs, size_t i,
    struct zone_provenance *prov)
{
	const struct zone_build_rr *rr = &rrs[i], *prev = &rrs[i - (i > 0)];
	bool new_owner = i == 0 || !zone_same_owner(prev, rr);
	bool new_set = new_owner || prev->type != rr->type;
	struct zone_provenance *p;

	if (new_owner) {
		struct zone_node *node = &z->nodes[z->node_count++];

		zone_node_init(node, rr->owner, rr->owner_len);
		node->first = (uint32_t)z->rrset_count;
	}
	if (new_set) {
		z->rrsets[z->rrset_count].type = rr->type;
		z->rrsets[z->rrset_count].first = (uint32_t)z->rdata_count;
		prov[z->rrset_count] =
		    (struct zone_provenance){(uint32_t)i, ~0u};
		z->rrset_count++;
		z->nodes[z->node_count - 1].rrset_count++;
	} else if (zone_same_rdata(prev, rr)) {
		return;
	}
	p = &prov[z->rrset_count - 1];
	if (!new_set && rr->seq < rrs[p->first].seq) {
		p->second = p->first;
		p->first = (uint32_t)i;
	} else if (!new_set &&
	    (p->second == ~0u || rr->seq < rrs[p->second].seq)) {
		p->second = (uint32_t)i;
	}
	z->rdatas[z->rdata_count].offset = rr->rdata_offset;
	z->rdatas[z->rdata_count].len = rr->rdlen;
	z->rdata_count++;
	z->rrsets[z->rrset_count - 1].count++;
	/* An RRset's TTL is its first record's in the file (as in BIND). */
	z->rrsets[z->rrset_count - 1].ttl = rrs[p->first].ttl;
}

/* Adds a node for every missing name between an owner and the apex. */
static void
zone_add_empty_nonterminals(struct zone *z)
{
	size_t owners = z->node_count;

	for (size_t i = 0; i < owners; i++) {
		const uint8_t *name = z->nodes[i].name;
		size_t len = z->nodes[i].name_len;

		while (len > z->origin_len) {
			len -= 1 + (size_t)name[0];
			name += 1 + name[0];
			if (zone_node_find(z, name, len) != NULL)
				continue;
			zone_node_init(&z->nodes[z->node_count], name, len);
			z->nodes[z->node_count].first =
			    (uint32_t)z->rrset_count;
			zone_index_add(z, z->node_count++);
		}
	}
}

static int
zone_fail_at(struct zone_build *b, const struct zone_provenance *p, bool second,
    const char *what, const struct zone_node *node)
{
	const struct zone_build_rr *rr = &b->rrs[second ? p->second : p->first];
	char name[ZONE_NAME_TEXT_LEN];

	zone_name_show(node->name, name, sizeof(name));
	return zone_fail(b, -EINVAL, rr->file, rr->line, "%s %s", what, name);
}

/* CNAME exclusivity (RFC 1034 §3.6.2, RFC 2181 §10.1) and the SOA. */
static int
zone_check_node(struct zone_build *b, struct zone *z,
    const struct zone_node *node, const struct zone_provenance *prov)
{
	for (uint32_t s = node->first; s < node->first + node->rrset_count;
	     s++) {
		const struct zone_rrset *set = &z->rrsets[s];

		if (set->type == ZONE_TYPE_SOA && node != z->apex)
			return zone_fail_at(b, &prov[s], false,
			    "SOA record outside the zone apex, at", node);
		if (set->type == ZONE_TYPE_SOA && set->count > 1)
			return zone_fail_at(b, &prov[s], true,
			    "more than one SOA record at", node);
		if (set->type == ZONE_TYPE_CNAME && set->count > 1)
			return zone_fail_at(b, &prov[s], true,
			    "more than one CNAME record at", node);
		if (set->type == ZONE_TYPE_NS && node->name[0] == 1 &&
		    node->name[1] == '*')
			return zone_fail_at(b, &prov[s], false,
			    "NS records at the wildcard", node);
	}
	const struct zone_rrset *cname =
	    zone_rrset_find(z, node, ZONE_TYPE_CNAME);
	for (uint32_t s = node->first;
	     cname != NULL && s < node->first + node->rrset_count; s++) {
		uint16_t t = z->rrsets[s].type;
		size_t c = (size_t)(cname - z->rrsets);

		if (t == ZONE_TYPE_CNAME || t == ZONE_TYPE_RRSIG ||
		    t == ZONE_TYPE_NSEC)
			continue;
		return zone_fail_at(b,
		    b->rrs[prov[s].first].seq > b->rrs[prov[c].first].seq
		        ? &prov[s]
		        : &prov[c],
		    false, "CNAME and other data at", node);
	}
	return 0;
}

/* Whether a type may sit at a zone cut or below it: the cut's NS and DS,
 * glue addresses, and DNSSEC records. */
static bool
zone_type_at_cut(uint16_t type, bool at_cut)
{
	if (type == ZONE_TYPE_A || type == ZONE_TYPE_AAAA)
		return true;
	return at_cut &&
	    (type == ZONE_TYPE_NS || type == ZONE_TYPE_DS ||
	        type == ZONE_TYPE_RRSIG || type == ZONE_TYPE_NSEC);
}

/*
 * The highest delegation at or above node (below the apex), or NULL: the
 * one a query meets first, which hides everything under it, NS records of
 * a deeper delegation included.
 */
static const struct zone_node *
zone_cut_above(const struct zone *z, const struct zone_node *node)
{
	const struct zone_node *cut = NULL;
	const uint8_t *name = node->name;
	size_t len = node->name_len;

	while (len > z->origin_len) {
		const struct zone_node *n = zone_node_find(z, name, len);

		if (n != NULL && (n->flags & ZONE_NODE_DELEGATION))
			cut = n;
		len -= 1 + (size_t)name[0];
		name += 1 + name[0];
	}
	return cut;
}

/* Only glue below a delegation: anything else would never be answered. */
static int
zone_check_occlusion(struct zone_build *b, struct zone *z,
    const struct zone_node *node, const struct zone_provenance *prov)
{
	const struct zone_node *cut = zone_cut_above(z, node);
	char cut_name[ZONE_NAME_TEXT_LEN], type[16];
	char what[ZONE_NAME_TEXT_LEN + 64];

	if (cut == NULL)
		return 0;
	for (uint32_t s = node->first; s < node->first + node->rrset_count;
	     s++) {
		if (zone_type_at_cut(z->rrsets[s].type, cut == node))
			continue;
		zone_type_show(z->rrsets[s].type, type, sizeof(type));
		zone_name_show(cut->name, cut_name, sizeof(cut_name));
		snprintf(what, sizeof(what),
		    "%s record %s the delegation %s:", type,
		    cut == node ? "at" : "below", cut_name);
		return zone_fail_at(b, &prov[s], false, what, node);
	}
	return 0;
}

static int
zone_validate(
    struct zone_build *b, struct zone *z, const struct zone_provenance *prov)
{
	char origin[ZONE_NAME_TEXT_LEN];
	int rc;

	z->apex = zone_node_find(z, z->origin, z->origin_len);
	z->soa =
	    z->apex == NULL ? NULL : zone_rrset_find(z, z->apex, ZONE_TYPE_SOA);
	if (z->soa == NULL) {
		zone_name_show(z->origin, origin, sizeof(origin));
		return zone_fail(b, -EINVAL, 0, 0,
		    "no SOA record at the zone apex %s", origin);
	}
	for (size_t i = 0; i < z->node_count; i++) {
		struct zone_node *node = &z->nodes[i];

		if (node != z->apex &&
		    zone_rrset_find(z, node, ZONE_TYPE_NS) != NULL)
			node->flags |= ZONE_NODE_DELEGATION;
		if ((rc = zone_check_node(b, z, node, prov)) < 0)
			return rc;
	}
	for (size_t i = 0; i < z->node_count; i++)
		if ((rc = zone_check_occlusion(b, z, &z->nodes[i], prov)) < 0)
			return rc;
	return 0;
}

static void
zone_set_negative_ttl(struct zone *z)
{
	size_t len = 0;
	const uint8_t *soa = zone_rdata(z, z->soa, 0, &len);
	const uint8_t *m = soa + len - 4;
	uint32_t minimum = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 |
	    (uint32_t)m[2] << 8 | m[3];

	z->negative_ttl = minimum < z->soa->ttl ? minimum : z->soa->ttl;
}

static int
zone_build_finish(struct zone_build *b, struct zone **out)
{
	struct zone_provenance *prov = NULL;
	size_t owners, sets, records, ancestors;
	struct zone *z = calloc(1, sizeof(*z));
	int rc;

	if (z == NULL)
		return zone_fail(b, -ENOMEM, 0, 0, "out of memory");
	for (size_t i = 0; i < b->rr_count; i++) {
		b->rrs[i].owner = b->arena + b->rrs[i].owner_offset;
		b->rrs[i].rdata = b->arena + b->rrs[i].rdata_offset;
	}
	if (b->rr_count > 0)
		qsort(b->rrs, b->rr_count, sizeof(*b->rrs), zone_rr_compare);
	zone_count(b, &owners, &sets, &records, &ancestors);
	memcpy(z->origin, b->origin, b->origin_len);
	z->origin_len = (uint8_t)b->origin_len;
	z->origin_labels = (uint8_t)zone_name_labels(b->origin);
	z->class = b->class;
	z->record_count = records;
	rc = zone_alloc(z, owners + ancestors + 1, sets + 1, records + 1);
	if (rc == 0 && (prov = calloc(sets + 1, sizeof(*prov))) == NULL)
		rc = -ENOMEM;
	if (rc < 0) {
		zone_free(z);
		return zone_fail(b, rc, 0, 0, "out of memory");
	}
	/* The zone owns the arena from here on, also when validation fails. */
	z->arena = b->arena;
	b->arena = NULL;
	for (size_t i = 0; i < b->rr_count; i++)
		zone_group_one(z, b->rrs, i, prov);
	for (size_t i = 0; i < z->node_count; i++)
		zone_index_add(z, i);
	zone_add_empty_nonterminals(z);
	if ((rc = zone_validate(b, z, prov)) < 0) {
		free(prov);
		zone_free(z);
		return rc;
	}
	free(prov);
	zone_set_negative_ttl(z);
	*out = z;
	return 0;
}

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

void
zone_free(struct zone *zone)
{
	if (zone == NULL)
		return;
	free(zone->arena);
	free(zone->nodes);
	free(zone->rrsets);
	free(zone->rdatas);
	free(zone->index);
	free(zone);
}

uint32_t
zone_serial(const struct zone *zone)
{
	size_t len = 0;
	const uint8_t *soa = zone_rdata(zone, zone->soa, 0, &len);
	const uint8_t *s = soa + len - 20;

	return (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 |
	    (uint32_t)s[2] << 8 | s[3];
}

/* ---- built-in zones ------------------------------------------------------ */

/* RFC 6761 §6.3: localhost and every name below it are the loopback. */
static const char zone_localhost_text[] =
    "; localhost. - built into miodnsd (RFC 6761 section 6.3)\n"
    "$ORIGIN localhost.\n"
    "$TTL 86400\n"
    "@\tIN\tSOA\tlocalhost. nobody.invalid. (\n"
    "\t\t\t1 3600 900 604800 86400 )\n"
    "\tIN\tNS\tlocalhost.\n"
    "\tIN\tA\t127.0.0.1\n"
    "\tIN\tAAAA\t::1\n"
    "*\tIN\tA\t127.0.0.1\n"
    "\tIN\tAAAA\t::1\n";

/* docs/example.zone, character for character (t/zone checks it). */
static const char zone_example_text[] =
    "; example.test. - the example zone miodnsd serves by default.\n"
    ";\n"
    "; With miodnsd listening on port 5353, try\n"
    ";\tdig @127.0.0.1 -p 5353 www.example.test\n"
    "; Addresses are from the documentation ranges (RFC 5737, RFC 3849).\n"
    "\n"
    "$ORIGIN example.test.\n"
    "$TTL 3600\n"
    "\n"
    "@\t\tIN\tSOA\tns1 hostmaster (\n"
    "\t\t\t\t2024010101\t; serial\n"
    "\t\t\t\t7200\t\t; refresh\n"
    "\t\t\t\t900\t\t; retry\n"
    "\t\t\t\t1209600\t\t; expire\n"
    "\t\t\t\t300 )\t\t; minimum: negative answers live 5 minutes\n"
    "\t\tIN\tNS\tns1\n"
    "\t\tIN\tMX\t10 mail\n"
    "\t\tIN\tTXT\t\"v=spf1 mx -all\"\n"
    "\t\tIN\tCAA\t0 issue \"letsencrypt.org\"\n"
    "\t\tIN\tA\t192.0.2.10\n"
    "\t\tIN\tAAAA\t2001:db8::10\n"
    "\n"
    "ns1\t\tIN\tA\t192.0.2.1\n"
    "\t\tIN\tAAAA\t2001:db8::1\n"
    "www\t\tIN\tA\t192.0.2.10\n"
    "\t\tIN\tAAAA\t2001:db8::10\n"
    "mail\t\tIN\tA\t192.0.2.25\n"
    "\t\tIN\tAAAA\t2001:db8::25\n"
    "ftp\t\tIN\tCNAME\twww\n"
    "_imaps._tcp\tIN\tSRV\t0 1 993 mail\n"
    "\n"
    "; Every other name under dyn answers from the wildcard.\n"
    "*.dyn\t\tIN\tA\t192.0.2.99\n"
    "\t\tIN\tTXT\t\"synthesized from *.dyn.example.test\"\n"
    "\n"
    "; A delegation: queries under lab get a referral with glue.\n"
    "lab\t\tIN\tNS\tns.lab\n"
    "ns.lab\t\tIN\tA\t192.0.2.53\n";

const char *
zone_builtin_text(const char *origin)
{
	uint8_t want[256], name[256];
	int len = zone_name_from_text(origin, want);

	if (len < 0)
		return NULL;
	zone_name_from_text("localhost.", name);
	if (zone_name_equal(want, name))
		return zone_localhost_text;
	zone_name_from_text("example.test.", name);
	if (zone_name_equal(want, name))
		return zone_example_text;
	return NULL;
}

int
zone_load_builtin(
    struct zone **out, const char *origin, char *err, size_t errlen)
{
	const char *text = zone_builtin_text(origin);
	char name[300];

	if (text == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "no built-in zone '%s'", origin);
		return -ENOENT;
	}
	snprintf(name, sizeof(name), "built-in %s", origin);
	return zone_load_buffer(out, origin, name, text, strlen(text),
	    ZONE_LOAD_NO_INCLUDE, err, errlen);
}

/* ---- lookups ------------------------------------------------------------- */

const struct zone_node *
zone_node_find(const struct zone *zone, const uint8_t *name, size_t name_len)
{
	size_t slot = zone_hash(name, name_len) & zone->index_mask;
	uint32_t v = 0;

	while ((v = zone->index[slot]) != 0) {
		const struct zone_node *node = &zone->nodes[v - 1];
		size_t i = 0;

		if (node->name_len == name_len)
			while (i < name_len &&
			    node->name[i] == zone_lower(name[i]))
				i++;
		if (node->name_len == name_len && i == name_len)
			return node;
		slot = (slot + 1) & zone->index_mask;
	}
	return NULL;
}

const struct zone_rrset *
zone_rrset_find(
    const struct zone *zone, const struct zone_node *node, uint16_t type)
{
	for (uint32_t s = node->first; s < node->first + node->rrset_count; s++)
		if (zone->rrsets[s].type == type)
			return &zone->rrsets[s];
	return NULL;
}

const uint8_t *
zone_rdata(const struct zone *zone, const struct zone_rrset *set, size_t i,
    size_t *len)
{
	const struct zone_rdata *rd = &zone->rdatas[set->first + i];

	*len = rd->len;
	return zone->arena + rd->offset;
}

/* ---- zone sets ----------------------------------------------------------- */

int
zone_set_new(struct zone_set **out)
{
	struct zone_set *set = calloc(1, sizeof(*set));

	if (set == NULL)
		return -ENOMEM;
	atomic_init(&set->refs, 1);
	*out = set;
	return 0;
}

int
zone_set_add(struct zone_set *set, struct zone *zone)
{
	for (size_t i = 0; i < set->count; i++)
		if (zone_name_equal(set->zones[i]->origin, zone->origin))
			return -EEXIST;
	if (set->count == set->cap) {
		size_t cap = set->cap == 0 ? 4 : set->cap * 2;
		struct zone **grown = realloc(set->zones, cap * sizeof(*grown));

		if (grown == NULL)
			return -ENOMEM;
		set->zones = grown;
		set->cap = cap;
	}
	set->zones[set->count++] = zone;
	return 0;
}

struct zone_set *
zone_set_ref(struct zone_set *set)
{
	atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
	return set;
}

void
zone_set_free(struct zone_set *set)
{
	if (set == NULL ||
	    atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < set->count; i++)
		zone_free(set->zones[i]);
	free(set->zones);
	free(set);
}

size_t
zone_set_count(const struct zone_set *set)
{
	return set->count;
}

const struct zone *
zone_lookup(const struct zone_set *set, const uint8_t *qname, size_t qname_len)
{
	const struct zone *best = NULL;

	if (set == NULL || zone_name_len(qname, qname_len) != qname_len)
		return NULL;
	for (size_t i = 0; i < set->count; i++) {
		const struct zone *z = set->zones[i];

		if ((best == NULL || z->origin_len > best->origin_len) &&
		    zone_name_is_below(
		        qname, qname_len, z->origin, z->origin_len))
			best = z;
	}
	return best;
}
