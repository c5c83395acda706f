/*
 * lexer.c - reading a master file and cutting it into records of fields:
 * comments, parentheses joining lines, quoted strings, backslash escapes;
 * and the load's one error message.
 *
 * The lexer does not interpret fields: it records their offset, length and
 * line in the source text (struct zone_token), and the later stages decode
 * them. Only the first error of a load is kept, because it is the one a
 * person fixes first; it names the file and the line it came from.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* ---- errors -------------------------------------------------------------- */

/* Records "file:line: reason" (or "file: reason" for line 0) and returns
 * rc. Only the first error of a load is kept. */
__attribute__((__format__(__printf__, 5, 6))) int
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
const char *
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

void
zone_name_show(const uint8_t *name, char *buf, size_t len)
{
	if (zone_name_to_text(name, buf, len) < 0)
		snprintf(buf, len, "(name)");
}

/* ---- reading files ------------------------------------------------------- */

int
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
int
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

