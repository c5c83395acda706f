/*
 * zone.h - miodnsd's local authoritative zones: RFC 1035 master files
 * (parsed by name.c, lexer.c, field.c, rdata.c, record.c, directive.c and
 * load.c, built by build.c into the database of db.c) and the answers
 * built from them (answer.c). This is the module's one header for the rest
 * of the daemon; internal.h is what the parts share among themselves.
 *
 * A zone is loaded once, validated, and never changed afterwards, so every
 * function taking a const zone or zone set may run in any number of
 * threads at once. A reload builds a new zone set and swaps it in; the old
 * one is freed when its last reference goes.
 *
 * Names are uncompressed wire format throughout ("\3www\7example\4test\0").
 * Owner names inside a zone are stored lower-cased so that lookups compare
 * bytes; rdata keeps the case the file was written in. Answering a query
 * allocates nothing.
 */
#ifndef MIODNSD_ZONE_H
#define MIODNSD_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A buffer this large always holds a complete error message. */
#define ZONE_ERROR_LEN 512
/* How deep $INCLUDE may nest. */
#define ZONE_INCLUDE_DEPTH 8
/* How many CNAMEs one answer follows inside a zone. */
#define ZONE_CNAME_CHAIN 8
/* The longest text form of a name (every octet as \DDD) plus NUL. */
#define ZONE_NAME_TEXT_LEN 1024

enum zone_type {
	ZONE_TYPE_A = 1,
	ZONE_TYPE_NS = 2,
	ZONE_TYPE_CNAME = 5,
	ZONE_TYPE_SOA = 6,
	ZONE_TYPE_PTR = 12,
	ZONE_TYPE_HINFO = 13,
	ZONE_TYPE_MX = 15,
	ZONE_TYPE_TXT = 16,
	ZONE_TYPE_AAAA = 28,
	ZONE_TYPE_SRV = 33,
	ZONE_TYPE_DNAME = 39,
	ZONE_TYPE_OPT = 41,
	ZONE_TYPE_DS = 43,
	ZONE_TYPE_RRSIG = 46,
	ZONE_TYPE_NSEC = 47,
	ZONE_TYPE_SVCB = 64,
	ZONE_TYPE_HTTPS = 65,
	ZONE_TYPE_IXFR = 251,
	ZONE_TYPE_AXFR = 252,
	ZONE_TYPE_MAILB = 253,
	ZONE_TYPE_MAILA = 254,
	ZONE_TYPE_ANY = 255,
	ZONE_TYPE_CAA = 257,
};

enum zone_class {
	ZONE_CLASS_IN = 1,
	ZONE_CLASS_CH = 3,
	ZONE_CLASS_ANY = 255,
};

enum zone_rcode {
	ZONE_RCODE_NOERROR = 0,
	ZONE_RCODE_FORMERR = 1,
	ZONE_RCODE_SERVFAIL = 2,
	ZONE_RCODE_NXDOMAIN = 3,
	ZONE_RCODE_NOTIMP = 4,
	ZONE_RCODE_REFUSED = 5,
	ZONE_RCODE_YXDOMAIN = 6,
};

/* Flags of zone_load_buffer(). */
enum zone_load_flags {
	/* $INCLUDE is an error (for text from the network or a fuzzer). */
	ZONE_LOAD_NO_INCLUDE = 1 << 0,
};

/*
 * The in-memory zone, shared by the module's parts. Other daemon
 * files use the functions below and treat the layout as private.
 */
struct zone_rdata {
	uint32_t offset; /* in zone->arena */
	uint16_t len;
};

struct zone_rrset {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t first; /* index of the first rdata in zone->rdatas */
};

enum zone_node_flags {
	/* NS records below the apex: a zone cut, answered by referral. */
	ZONE_NODE_DELEGATION = 1 << 0,
	/* A DNAME RRset: names below are redirected (RFC 6672). */
	ZONE_NODE_DNAME = 1 << 1,
};

struct zone_node {
	const uint8_t *name; /* lower-cased, in zone->arena */
	uint16_t name_len;
	uint8_t labels; /* not counting the root */
	uint8_t flags;
	uint32_t first;       /* index of the first RRset in zone->rrsets */
	uint32_t rrset_count; /* 0 for an empty non-terminal */
};

struct zone {
	uint8_t *arena; /* owner names and rdata */
	struct zone_node *nodes;
	struct zone_rrset *rrsets;
	struct zone_rdata *rdatas;
	uint32_t *index; /* open hash of node index + 1; 0 is empty */
	size_t node_count, rrset_count, rdata_count, record_count;
	size_t index_mask;
	const struct zone_node *apex;
	const struct zone_rrset *soa;
	uint32_t negative_ttl; /* RFC 2308: min(SOA TTL, SOA MINIMUM) */
	uint16_t class;
	uint8_t origin_len;
	uint8_t origin_labels;
	uint8_t origin[255];
};

struct zone_set;

/*
 * A parsed question. name is the query name as received (original case,
 * uncompressed, well-formed); the response buffer must hold the same name
 * at offset 12, followed by type and class, as the caller copied it.
 */
struct zone_question {
	const uint8_t *name;
	size_t name_len;
	uint16_t type;
	uint16_t class;
};

/*
 * A response being built. On entry buf holds the header and the question
 * (len bytes); limit is the largest message allowed: 512 or the client's
 * EDNS size less room for the OPT record over UDP, 65535 over TCP. On
 * return len covers the sections appended, and rcode, aa, tc and the three
 * counts say what the caller writes into the header (or leaves to
 * zone_response_patch_header()).
 */
struct zone_response {
	uint8_t *buf;
	size_t len;
	size_t limit;
	uint16_t ancount, nscount, arcount;
	uint8_t rcode;
	bool aa;
	bool tc;
};

/* ---- load.c, builtin.c, db.c: loading ------------------------------------ */

/*
 * Loads the master file at path as the zone origin ("example.test", with or
 * without the final dot). $INCLUDE paths are relative to the including
 * file's directory. Returns 0 and the zone in *out, or -EINVAL for a syntax
 * or validation error, -ENOMEM, or the -errno of a failed open or read;
 * then err holds "file:line: reason" (or "file: reason") and *out is
 * untouched. Never prints. Thread-safe (no shared state).
 */
int zone_load(struct zone **out, const char *origin, const char *path,
    char *err, size_t errlen);

/*
 * Like zone_load() for text in memory (len bytes, NUL not needed); name is
 * the file name used in errors and the base of relative $INCLUDE paths.
 * flags are zone_load_flags.
 */
int zone_load_buffer(struct zone **out, const char *origin, const char *name,
    const char *text, size_t len, unsigned flags, char *err, size_t errlen);

/*
 * The built-in zones' text: "localhost." (RFC 6761 loopback addresses) and
 * "example.test." (the same text as docs/example.zone). NULL for others.
 */
const char *zone_builtin_text(const char *origin);

/* Loads a built-in zone by origin; errors as zone_load(), -ENOENT if none. */
int zone_load_builtin(
    struct zone **out, const char *origin, char *err, size_t errlen);

/* Frees a zone; NULL is ignored. */
void zone_free(struct zone *zone);

/* The SOA serial, for logs. */
uint32_t zone_serial(const struct zone *zone);

/* ---- db.c: lookups ---------------------------------------------------------
 * All take a well-formed name of any case and are thread-safe. */

/* The node owning name exactly (an empty non-terminal too), or NULL. */
const struct zone_node *zone_node_find(
    const struct zone *zone, const uint8_t *name, size_t name_len);

/* The node's RRset of type, or NULL. */
const struct zone_rrset *zone_rrset_find(
    const struct zone *zone, const struct zone_node *node, uint16_t type);

/* Rdata i (< set->count) of an RRset; its length in *len. */
const uint8_t *zone_rdata(const struct zone *zone, const struct zone_rrset *set,
    size_t i, size_t *len);

/* ---- db.c: zone sets ----------------------------------------------------- */

/* An empty set with one reference; 0 or -ENOMEM. */
int zone_set_new(struct zone_set **out);

/*
 * Adds zone to set, which then owns it. -EEXIST if the set has a zone with
 * the same origin (the zone stays the caller's), -ENOMEM. Not thread-safe:
 * fill a set before sharing it.
 */
int zone_set_add(struct zone_set *set, struct zone *zone);

/* Takes another reference to set, for a thread that uses it; returns set. */
struct zone_set *zone_set_ref(struct zone_set *set);

/* Drops a reference; the last one frees the set and its zones. NULL is
 * ignored. Thread-safe. */
void zone_set_free(struct zone_set *set);

/* The number of zones in set. */
size_t zone_set_count(const struct zone_set *set);

/*
 * The zone whose origin is the longest suffix of qname (the most specific
 * zone), or NULL if no zone contains qname: then the query is not ours.
 * Linear in the number of zones; thread-safe.
 */
const struct zone *zone_lookup(
    const struct zone_set *set, const uint8_t *qname, size_t qname_len);

/* ---- name.c: names ------------------------------------------------------- */

/* The length of the well-formed uncompressed name at name within max
 * octets, or 0 if there is none (bad label, too long, past max). */
size_t zone_name_len(const uint8_t *name, size_t max);

/* Whether two well-formed names are equal ignoring ASCII case. */
bool zone_name_equal(const uint8_t *a, const uint8_t *b);

/* Whether name is origin or below it, ignoring ASCII case. */
bool zone_name_is_below(const uint8_t *name, size_t name_len,
    const uint8_t *origin, size_t origin_len);

/*
 * Converts presentation text ("www.example.test", "." for the root, with
 * \DDD and \X escapes) to wire format in wire[255], relative names being
 * taken as absolute. Returns the wire length or -EINVAL.
 */
int zone_name_from_text(const char *text, uint8_t *wire);

/* Writes name's presentation text (absolute, escaped) into buf; returns
 * its length, or -ENOSPC if len is too small (ZONE_NAME_TEXT_LEN is not). */
int zone_name_to_text(const uint8_t *name, char *buf, size_t len);

/* ---- text.c, types.c: presentation format -------------------------------- */

/*
 * Writes the presentation text of rdata of type (the part of a record
 * after the type: "10 mail.example.test.") into buf, NUL-terminated; RFC
 * 3597 form ("\# 2 0A0B") for types without a known layout. The text
 * loads back into the same octets. Returns its length, or -ENOSPC if size
 * is too small (5 * len + 64 octets always do for the known types'
 * fields). Thread-safe.
 */
int zone_rdata_to_text(uint16_t type, const uint8_t *rdata, size_t len,
    char *buf, size_t size);

/* Writes a type's mnemonic, or TYPEnnn, into buf; returns its length or
 * -ENOSPC. */
int zone_type_to_text(uint16_t type, char *buf, size_t len);

/* ---- answer.c: answers --------------------------------------------------- */

/*
 * Appends the answer of zone (from zone_lookup()) to q: answer, authority
 * and additional sections, authoritative unless a referral, TC when a
 * required RRset did not fit r->limit (only whole RRsets are kept). Sets
 * r->rcode: NOERROR, NXDOMAIN, REFUSED (another class, AXFR/IXFR), NOTIMP
 * (MAILA/MAILB) or FORMERR (qtype OPT). Returns 0, or -EINVAL if q or the
 * buffer is malformed (nothing written). Allocates nothing; thread-safe.
 */
int zone_answer(const struct zone *zone, const struct zone_question *q,
    struct zone_response *r);

/*
 * Answers a CHAOS-class version.bind or version.server query with a TXT
 * record holding version (TTL 0, AA). Returns 0 when q was such a query,
 * -ENOENT when it was not (nothing written).
 */
int zone_answer_version(const struct zone_question *q, const char *version,
    struct zone_response *r);

/*
 * Answers q with one TXT record owned by the question name, holding text in
 * strings of at most 255 octets (also for statistics queries). Returns 0 or
 * -EINVAL if text exceeds one record.
 */
int zone_answer_txt(const struct zone_question *q, const char *text,
    uint32_t ttl, struct zone_response *r);

/*
 * Like zone_answer_txt() with one <character-string> per element of strings
 * (count of them, none longer than 255 octets; no strings makes one empty
 * string). Returns 0, or -EINVAL if a string or the record is too long.
 */
int zone_answer_txt_list(const struct zone_question *q,
    const char *const *strings, size_t count, uint32_t ttl,
    struct zone_response *r);

/* Writes r's AA, TC, RCODE and section counts into the header at r->buf,
 * leaving ID, QR, opcode, RD, RA and the other bits alone. */
void zone_response_patch_header(const struct zone_response *r);

#endif /* MIODNSD_ZONE_H */
