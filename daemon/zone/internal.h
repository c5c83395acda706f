/*
 * internal.h - what the parts of the zone module share and nothing outside
 * it may use: the state of a load, the tokens and fields the parsing
 * stages pass along, and the functions one part offers the next.
 *
 * The parts depend on each other in one direction only, in the order of a
 * load: name.c and codec.c (pure functions) <- lexer.c <- field.c <-
 * types.c (the table of field kinds per type) <- svcb.c, loc.c, apl.c <-
 * wire.c
 * <- text.c and binary.c <- rdata.c <- record.c <- directive.c <- load.c
 * <- builtin.c, with build.c and db.c beside them (build.c fills what db.c
 * reads) and answer.c reading db.c. A part never calls one later in the
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

/*
 * The kinds of rdata fields. A type is a list of them (types.c), and every
 * stage reads that list: the parser (rdata.c), the wire checker and the
 * canonical comparison (wire.c), the text formatter (text.c). A new type
 * is a row of the table; a new kind of field is a case in each stage.
 */
enum zone_field_kind {
	ZONE_FIELD_END = 0,
	ZONE_FIELD_NAME,       /* a domain name, uncompressed */
	ZONE_FIELD_U8,         /* decimal numbers */
	ZONE_FIELD_U16,
	ZONE_FIELD_U32,
	ZONE_FIELD_TTL,        /* 32 bits, text with units as in 1h30m */
	ZONE_FIELD_TYPE,       /* 16 bits, a type mnemonic or TYPEnnn */
	ZONE_FIELD_ALGORITHM,  /* 8 bits, a number or a DNSSEC mnemonic */
	ZONE_FIELD_CERT_TYPE,  /* 16 bits, a number or an RFC 4398 mnemonic */
	ZONE_FIELD_A,          /* IPv4 address */
	ZONE_FIELD_AAAA,       /* IPv6 address */
	ZONE_FIELD_STRING,     /* one <character-string> */
	ZONE_FIELD_STRINGS,    /* one or more, to the end */
	ZONE_FIELD_TEXT,       /* one field, octets to the end, no length */
	ZONE_FIELD_BASE64,     /* to the end, in any number of fields */
	ZONE_FIELD_BASE64_OPT, /* the same, or nothing */
	ZONE_FIELD_HEX,        /* to the end, in any number of fields */
	ZONE_FIELD_SALT,       /* a length octet, then hex or "-" for none */
	ZONE_FIELD_BASE32,     /* a length octet, then base32hex */
	ZONE_FIELD_BITMAP,     /* RFC 4034 type bitmap, to the end */
	ZONE_FIELD_TIME,       /* 32 bits, YYYYMMDDHHMMSS or seconds */
	ZONE_FIELD_EUI48,      /* RFC 7043: xx-xx-xx-xx-xx-xx */
	ZONE_FIELD_EUI64,
	ZONE_FIELD_CAA_TAG,    /* RFC 8659: a length octet and 1-15 alnum */
	ZONE_FIELD_GATEWAY,    /* RFC 4025, by the gateway type in octet 1 */
	ZONE_FIELD_SVC_PARAMS, /* RFC 9460 key=value list, to the end */
	ZONE_FIELD_LOC,        /* RFC 1876, the whole rdata */
	ZONE_FIELD_APL,        /* RFC 3123 prefixes, to the end */
};

/* The most fields a type has. */
#define ZONE_TYPE_FIELDS 9

struct zone_field_info {
	uint8_t kind;     /* enum zone_field_kind */
	const char *what; /* for errors: "MX exchange" in "missing MX exchange" */
};

/* A type this module knows: mnemonic, number and rdata layout. */
struct zone_type_info {
	const char *name;
	uint16_t type;
	bool has_names; /* a name field: rdata compares ignoring its case */
	struct zone_field_info fields[ZONE_TYPE_FIELDS];
};

/* Text being written into a caller's buffer; overflow is sticky. */
struct zone_out {
	char *buf;
	size_t size, len;
	bool overflow;
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

/* The next rdata field, or "missing <what>"; appending to the rdata. */
int zone_fields_take(
    struct zone_fields *f, const char *what, const struct zone_token **tok);
int zone_fields_put(struct zone_fields *f, const void *data, size_t n);

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

/* ---- codec.c ------------------------------------------------------------- */

/* A hex digit's value, or -1. */
int zone_hex_digit(char c);

/* Strict base64 (padded, zero pad bits) into out; octets or -EINVAL or
 * -ENOSPC. */
int zone_base64_decode(const char *in, size_t len, uint8_t *out, size_t max);

/* Base64 of len octets into out (4 characters per 3 octets, padded, no
 * NUL); returns the characters written. */
size_t zone_base64_encode(const uint8_t *in, size_t len, char *out);

/* Base32hex without padding, any case, no bits left over; as above. */
int zone_base32hex_decode(
    const char *in, size_t len, uint8_t *out, size_t max);
size_t zone_base32hex_encode(const uint8_t *in, size_t len, char *out);

/* YYYYMMDDHHMMSS (UTC) to seconds since 1970, and back into out[15]. */
int zone_time_parse(const char *t, size_t len, uint32_t *out);
void zone_time_format(uint32_t t, char *out);

/* Text output into a struct zone_out: raw, formatted, the inside of a
 * quoted string, hex, base64. Overflow is sticky and drops the rest. */
void zone_out_put(struct zone_out *o, const void *data, size_t n);
__attribute__((__format__(__printf__, 2, 3))) void zone_out_printf(
    struct zone_out *o, const char *fmt, ...);
void zone_out_escaped(struct zone_out *o, const uint8_t *data, size_t n);
void zone_out_hex(struct zone_out *o, const uint8_t *data, size_t n);
void zone_out_base64(struct zone_out *o, const uint8_t *data, size_t n);

/* ---- types.c ------------------------------------------------------------- */

/* The table row of a type with a known layout, or NULL. */
const struct zone_type_info *zone_type_by_number(uint16_t type);

/* A prefix (any case) and 1 to 5 digits up to 65535, as in TYPEnnn, CLASSnnn
 * and keyNNNNN; the number in *out, false if t is not of that form. */
bool zone_generic_number(
    const char *t, size_t len, const char *prefix, uint16_t *out);

/* A mnemonic (of the table or one without a layout) or TYPEnnn, any case,
 * to its number; false if it is none. */
bool zone_type_from_text(const char *t, size_t len, uint16_t *type);

/* Whether tok names a type; its number in *type. */
bool zone_type_by_name(const struct zone_source *src,
    const struct zone_token *tok, uint16_t *type);

/* A type's mnemonic, or NULL if it has none. */
const char *zone_type_mnemonic(uint16_t type);

/* A type's mnemonic, or TYPEnnn. */
void zone_type_show(uint16_t type, char *buf, size_t len);

/* A DNSSEC algorithm (kind ZONE_FIELD_ALGORITHM) or certificate type
 * mnemonic to its number. */
bool zone_mnemonic_value(
    uint8_t kind, const char *t, size_t len, uint16_t *value);

/* ---- svcb.c, loc.c, apl.c ------------------------------------------------ */

/* NULL if SvcParams in wire format keep RFC 9460's rules, else why not. */
const char *zone_svcb_check(const uint8_t *data, size_t len);
bool zone_svcb_wire_ok(const uint8_t *data, size_t len);

/* SvcParams from the remaining fields, sorted, into the rdata. */
int zone_svcb_parse(struct zone_fields *f);

/* SvcParams as text, each parameter after a space. */
void zone_svcb_text(struct zone_out *o, const uint8_t *data, size_t len);

/* LOC: whether 16 octets are version 0 within range; parse; text. */
bool zone_loc_wire_ok(const uint8_t *data, size_t len);
int zone_loc_parse(struct zone_fields *f);
void zone_loc_text(struct zone_out *o, const uint8_t *data);

/* APL: whether the items are well-formed and minimal; parse; text. */
bool zone_apl_wire_ok(const uint8_t *data, size_t len);
int zone_apl_parse(struct zone_fields *f);
void zone_apl_text(struct zone_out *o, const uint8_t *data, size_t len);

/* ---- wire.c -------------------------------------------------------------- */

/* Whether a CAA tag is 1 to 15 letters and digits. */
bool zone_caa_tag_ok(const uint8_t *tag, size_t len);

/* Whether a type bitmap is well-formed and minimal. */
bool zone_bitmap_ok(const uint8_t *data, size_t len);

/* The octets a field of kind takes at rdata + pos (len in all), or
 * SIZE_MAX if it does not fit. */
size_t zone_wire_field_len(
    uint8_t kind, const uint8_t *rdata, size_t pos, size_t len);

/* Whether rdata has the layout of info. */
bool zone_wire_ok(
    const struct zone_type_info *info, const uint8_t *data, size_t len);

/* Orders rdata of type with the names in it compared without regard to
 * case; 0 means duplicates (RFC 2181 section 5). */
int zone_rdata_compare(uint16_t type, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen);

/* ---- binary.c ------------------------------------------------------------ */

int zone_rdata_base64(struct zone_fields *f, const char *what, bool optional);
int zone_rdata_hex(struct zone_fields *f, const char *what);
int zone_rdata_salt(struct zone_fields *f, const char *what);
int zone_rdata_base32(struct zone_fields *f, const char *what);
int zone_rdata_bitmap(struct zone_fields *f, const char *what);

/* RFC 3597 rdata after its "\#" field, checked against type's layout. */
int zone_rdata_generic(struct zone_fields *f, uint16_t type);

/* ---- rdata.c ------------------------------------------------------------- */

/* The rdata fields of info's type from the remaining fields. */
int zone_rdata_fields(struct zone_fields *f, const struct zone_type_info *info);

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
