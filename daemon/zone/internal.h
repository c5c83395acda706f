/*
 * internal.h - what the parts of the zone module share and nothing outside
 * it may use: the state of a load, the tokens and fields the parsing
 * stages pass along, and the functions one part offers the next.
 *
 * The parts depend on each other in one direction only, in the order of a
 * load: name.c <- lexer.c <- field.c <- rdata.c <- record.c <- directive.c
 * <- load.c <- builtin.c, with build.c and db.c beside them (build.c fills
 * what db.c reads) and answer.c reading db.c. A part never calls one later in the
 * list, so every part can be read, and changed, knowing only those before.
 */
#ifndef MIODNSD_ZONE_INTERNAL_H
#define MIODNSD_ZONE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* A type this module parses: its mnemonic and rdata parser (rdata.c). */
struct zone_type_info {
	const char *name;
	uint16_t type;
	int (*parse)(struct zone_fields *f);
};

/* ASCII lower case: names compare without regard to it (RFC 4343). */
static inline uint8_t
zone_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/*
 * The name primitives behind zone.h's zone_name_len(), zone_name_equal()
 * and zone_name_is_below(), inline here because zone_lookup() runs on
 * every query the daemon receives, and a call across files costs more than
 * the comparison (bench/dns/callgrind-hit.sh counts it).
 */
static inline size_t
zone__name_len(const uint8_t *name, size_t max)
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

static inline bool
zone__name_equal(const uint8_t *a, const uint8_t *b)
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

static inline bool
zone__name_is_below(const uint8_t *name, size_t name_len,
    const uint8_t *origin, size_t origin_len)
{
	size_t pos = 0;

	if (origin_len > name_len ||
	    !zone__name_equal(name + name_len - origin_len, origin))
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

/* The text of a field, in the source (tok->len octets, no NUL). */
static inline const char *
zone_token_text(const struct zone_source *src, const struct zone_token *tok)
{
	return src->text + tok->offset;
}

/* ---- name.c -------------------------------------------------------------- */

/* The number of labels of a well-formed name, the root not counted. */
unsigned zone_name_labels(const uint8_t *name);

/* Copies len octets of a name lower-cased (dst may be src). */
void zone_name_lower(uint8_t *dst, const uint8_t *src, size_t len);

/* Decodes the escape at text[*i] (\DDD or \X) into *out and moves *i past
 * it; NULL, or the reason it is bad. */
const char *zone_escape(const char *text, size_t len, size_t *i, uint8_t *out);

/* Presentation text to wire labels in wire[256]; *absolute tells whether it
 * ended with the root. NULL, or the reason it is no name. */
const char *zone_name_parse(const char *text, size_t len, uint8_t *wire,
    size_t *wire_len, bool *absolute);

/* ---- lexer.c ------------------------------------------------------------- */

/* Keeps the load's first error as "file:line: reason" and returns rc. */
__attribute__((__format__(__printf__, 5, 6))) int zone_fail(
    struct zone_build *b, int rc, uint16_t file, unsigned line,
    const char *fmt, ...);

/* A field as shown in errors: at most 40 octets, escaped, in buf. */
const char *zone_token_show(const struct zone_source *src,
    const struct zone_token *tok, char *buf, size_t len);

/* A name as shown in errors, in buf. */
void zone_name_show(const uint8_t *name, char *buf, size_t len);

/* Reads a whole file into a new buffer; 0 or -errno (-EFBIG if huge). */
int zone_read_file(const char *path, char **text, size_t *len);

/* The next record's fields into b->tokens: 1, 0 at the end, or an error. */
int zone_next_record(
    struct zone_build *b, struct zone_source *src, bool *indented);

/* ---- field.c ------------------------------------------------------------- */

/* Whether an unquoted field is word, ignoring ASCII case. */
bool zone_token_is(const struct zone_source *src, const struct zone_token *tok,
    const char *word);

/* A name relative to the source's $ORIGIN, into wire[256]. */
int zone_field_name(struct zone_build *b, struct zone_source *src,
    const struct zone_token *tok, uint8_t *wire, size_t *len);

/* A field's octets with escapes decoded, at most max of them. */
int zone_field_bytes(struct zone_build *b, struct zone_source *src,
    const struct zone_token *tok, uint8_t *out, size_t max, size_t *len,
    const char *what);

/* A decimal number up to max. */
int zone_field_number(struct zone_build *b, struct zone_source *src,
    const struct zone_token *tok, uint32_t max, uint32_t *value,
    const char *what);

/* A TTL in seconds or with units ("1h30m"). */
int zone_field_ttl(struct zone_build *b, struct zone_source *src,
    const struct zone_token *tok, uint32_t *ttl, const char *what);

/* ---- rdata.c ------------------------------------------------------------- */

/* The table entry of a type this module parses, or NULL. */
const struct zone_type_info *zone_type_by_number(uint16_t type);

/* Whether tok names a type of the table; its number in *type. */
bool zone_type_by_name(const struct zone_source *src,
    const struct zone_token *tok, uint16_t *type);

/* A type's mnemonic, or TYPEnnn. */
void zone_type_show(uint16_t type, char *buf, size_t len);

/* RFC 3597 rdata after its "\#" field, checked against type's layout. */
int zone_rdata_generic(struct zone_fields *f, uint16_t type);

/* ---- record.c ------------------------------------------------------------ */

/* A record whose fields are in b->tokens, appended to the load. */
int zone_record(struct zone_build *b, struct zone_source *src, bool indented);

/* ---- directive.c --------------------------------------------------------- */

/* Parses text as file name with the given $ORIGIN; parent is the source
 * that included it, or NULL. */
int zone_parse_text(struct zone_build *b, const char *name, const char *text,
    size_t len, const struct zone_source *parent, const uint8_t *origin,
    size_t origin_len);

/* ---- db.c ---------------------------------------------------------------- */

/* The hash of a name, case-insensitive, that indexes the nodes. */
uint32_t zone_hash(const uint8_t *name, size_t len);

/* ---- build.c ------------------------------------------------------------- */

/* Turns the records parsed into a validated zone in *out. */
int zone_build_finish(struct zone_build *b, struct zone **out);

#endif /* MIODNSD_ZONE_INTERNAL_H */
