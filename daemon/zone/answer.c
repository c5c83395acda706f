/*
 * answer.c - authoritative answers from a loaded zone: exact matches,
 * CNAME chains, RFC 2308 negative answers, RFC 4592 wildcards, referrals,
 * additional addresses, RFC 8482 ANY, truncation, and the CHAOS TXT
 * helpers.
 *
 * The caller has written the header and the question; this file appends
 * the sections and says what goes into the header. Names are compressed
 * against every name written so far, the question included, so an owner
 * equal to the query name becomes a pointer to the question and keeps the
 * query's case (the 0x20 trick of resolvers depends on it). RRsets are
 * written whole or not at all: when one that the answer needs does not fit
 * the limit, the message ends before it with TC set, and the client asks
 * again over TCP. Nothing here allocates.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "zone.h"

/* How many name positions are remembered for compression. */
#define ANSWER_POINTERS 128
/* How many names may have their addresses added to the additional section. */
#define ANSWER_EXTRA 32

enum answer_found {
	FOUND_OUTSIDE,    /* not in this zone (a CNAME led out) */
	FOUND_NODE,       /* the name exists, maybe as an empty non-terminal */
	FOUND_WILDCARD,   /* synthesized from *.<closest encloser> */
	FOUND_DELEGATION, /* at or below a zone cut */
	FOUND_DNAME,      /* below a DNAME (RFC 6672) */
	FOUND_NXDOMAIN,
};

struct answer {
	struct zone_response *r;
	const struct zone *zone;
	size_t limit;
	uint16_t class;
	bool truncated;     /* a required RRset did not fit: stop writing */
	bool glue_required; /* referral glue is needed, not optional */
	size_t pointer_count;
	uint16_t pointers[ANSWER_POINTERS]; /* offsets of labels written */
	size_t extra_count;
	const uint8_t *extra[ANSWER_EXTRA]; /* names to add addresses for */
	/* Names synthesized from DNAMEs; last, since it is not cleared. They
	 * live here because the additional section may refer to them. */
	uint8_t synthesized[ZONE_CNAME_CHAIN][256];
};

struct answer_mark {
	size_t len, pointer_count;
};

/* ---- writing ------------------------------------------------------------- */

static uint8_t
answer_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

static bool
answer_put(struct answer *a, const void *data, size_t n)
{
	if (n > a->limit - a->r->len)
		return false;
	memcpy(a->r->buf + a->r->len, data, n);
	a->r->len += n;
	return true;
}

static bool
answer_put16(struct answer *a, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	return answer_put(a, b, 2);
}

static bool
answer_put32(struct answer *a, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v};

	return answer_put(a, b, 4);
}

static struct answer_mark
answer_mark(const struct answer *a)
{
	return (struct answer_mark){a->r->len, a->pointer_count};
}

/* Forgets everything written since the mark; the compression table only
 * grows, so it shrinks back with the message. */
static void
answer_rollback(struct answer *a, struct answer_mark mark)
{
	a->r->len = mark.len;
	a->pointer_count = mark.pointer_count;
}

/* Whether the name written at pos (labels and pointers, all written by us
 * or checked at the start) equals name, ignoring case. */
static bool
answer_name_at(const struct answer *a, size_t pos, const uint8_t *name)
{
	const uint8_t *msg = a->r->buf;

	for (unsigned hops = 0; hops < 128;) {
		uint8_t n = msg[pos];

		if ((n & 0xc0) == 0xc0) {
			pos = (size_t)(n & 0x3f) << 8 | msg[pos + 1];
			hops++;
			continue;
		}
		if (n != *name)
			return false;
		if (n == 0)
			return true;
		for (uint8_t i = 1; i <= n; i++)
			if (answer_lower(msg[pos + i]) != answer_lower(name[i]))
				return false;
		pos += 1 + (size_t)n;
		name += 1 + n;
	}
	return false;
}

static int
answer_find_pointer(const struct answer *a, const uint8_t *suffix)
{
	for (size_t i = 0; i < a->pointer_count; i++)
		if (a->r->buf[a->pointers[i]] == suffix[0] &&
		    answer_name_at(a, a->pointers[i], suffix))
			return a->pointers[i];
	return -1;
}

static void
answer_remember(struct answer *a, size_t pos)
{
	if (pos < 0x4000 && a->pointer_count < ANSWER_POINTERS)
		a->pointers[a->pointer_count++] = (uint16_t)pos;
}

/*
 * Writes a name, replacing its longest suffix already in the message by a
 * pointer when compress is set, and remembers its labels as targets.
 * SRV targets and unknown types' names are written without either (RFC
 * 2782, RFC 3597 §4).
 */
static bool
answer_put_name(struct answer *a, const uint8_t *name, bool compress)
{
	for (const uint8_t *label = name; *label != 0; label += 1 + *label) {
		int ptr = compress ? answer_find_pointer(a, label) : -1;
		size_t pos = a->r->len;

		if (ptr >= 0)
			return answer_put16(a, (uint16_t)(0xc000 | ptr));
		if (!answer_put(a, label, 1 + (size_t)*label))
			return false;
		if (compress)
			answer_remember(a, pos);
	}
	return answer_put(a, "", 1);
}

/* Rdata with the names of RFC 1035's types compressed. */
static bool
answer_put_rdata(
    struct answer *a, uint16_t type, const uint8_t *rdata, size_t len)
{
	size_t mname;

	switch (type) {
	case ZONE_TYPE_NS:
	case ZONE_TYPE_CNAME:
	case ZONE_TYPE_PTR:
		return answer_put_name(a, rdata, true);
	case ZONE_TYPE_MX:
		return answer_put(a, rdata, 2) &&
		    answer_put_name(a, rdata + 2, true);
	case ZONE_TYPE_SOA:
		mname = zone_name_len(rdata, len);
		return answer_put_name(a, rdata, true) &&
		    answer_put_name(a, rdata + mname, true) &&
		    answer_put(a, rdata + len - 20, 20);
	default:
		return answer_put(a, rdata, len);
	}
}

static bool
answer_put_rr(struct answer *a, const uint8_t *owner, uint16_t type,
    uint32_t ttl, const uint8_t *rdata, size_t len)
{
	size_t rdlength_at;
	uint8_t *p;

	if (!answer_put_name(a, owner, true) || !answer_put16(a, type) ||
	    !answer_put16(a, a->class) || !answer_put32(a, ttl))
		return false;
	rdlength_at = a->r->len;
	if (!answer_put16(a, 0) || !answer_put_rdata(a, type, rdata, len))
		return false;
	p = a->r->buf + rdlength_at;
	p[0] = (uint8_t)((a->r->len - rdlength_at - 2) >> 8);
	p[1] = (uint8_t)(a->r->len - rdlength_at - 2);
	return true;
}

/* Writes a whole RRset owned by owner, or nothing if it does not fit. */
static bool
answer_put_rrset(struct answer *a, const uint8_t *owner,
    const struct zone_rrset *set, uint32_t ttl, uint16_t *count)
{
	struct answer_mark mark = answer_mark(a);

	for (size_t i = 0; i < set->count; i++) {
		size_t len;
		const uint8_t *rdata = zone_rdata(a->zone, set, i, &len);

		if (!answer_put_rr(a, owner, set->type, ttl, rdata, len)) {
			answer_rollback(a, mark);
			return false;
		}
	}
	*count = (uint16_t)(*count + set->count);
	return true;
}

/* An RRset the answer cannot do without: if it does not fit, TC. */
static void
answer_required(struct answer *a, const uint8_t *owner,
    const struct zone_rrset *set, uint32_t ttl, uint16_t *count)
{
	if (!a->truncated && !answer_put_rrset(a, owner, set, ttl, count))
		a->truncated = true;
}

/* ---- the additional section ---------------------------------------------- */

static void
answer_want_addresses(struct answer *a, const uint8_t *name)
{
	if (name[0] == 0 || a->extra_count == ANSWER_EXTRA)
		return;
	for (size_t i = 0; i < a->extra_count; i++)
		if (zone_name_equal(a->extra[i], name))
			return;
	a->extra[a->extra_count++] = name;
}

/* ---- finding names ------------------------------------------------------- */

/* The wildcard *.<encloser>, or FOUND_NXDOMAIN with the encloser. */
static enum answer_found
answer_wildcard(const struct zone *zone, const struct zone_node *encloser,
    const struct zone_node **out)
{
	uint8_t wild[256] = {1, '*'};
	const struct zone_node *node = NULL;

	if (encloser->name_len + 2 <= 255) {
		memcpy(wild + 2, encloser->name, encloser->name_len);
		node = zone_node_find(zone, wild, encloser->name_len + 2);
	}
	*out = node != NULL ? node : encloser;
	return node != NULL ? FOUND_WILDCARD : FOUND_NXDOMAIN;
}

/*
 * Looks name up label by label from the apex down (RFC 1034 §4.3.2 step
 * 3): a zone cut on the way is a referral (except for DS at the cut, which
 * the parent answers), a DNAME above the name redirects it (RFC 6672
 * §3.2; a DNAME at a wildcard is only data, as in NSD, since RFC 4592 §4.4
 * leaves its synthesis undefined), a missing label makes the last node
 * found the closest encloser and its wildcard the only hope (RFC 4592
 * §3.3.1).
 */
static enum answer_found
answer_find(const struct zone *zone, const uint8_t *name, size_t len,
    uint16_t qtype, const struct zone_node **out)
{
	uint8_t offsets[128];
	unsigned labels = 0;
	const struct zone_node *encloser = zone->apex;

	if (!zone_name_is_below(name, len, zone->origin, zone->origin_len))
		return FOUND_OUTSIDE;
	for (size_t pos = 0; name[pos] != 0; pos += 1 + (size_t)name[pos])
		offsets[labels++] = (uint8_t)pos;
	for (unsigned k = zone->origin_labels + 1u; k <= labels; k++) {
		size_t off = offsets[labels - k];
		const struct zone_node *node;

		if (encloser->flags & ZONE_NODE_DNAME) {
			*out = encloser;
			return FOUND_DNAME;
		}
		if ((node = zone_node_find(zone, name + off, len - off)) == NULL)
			return answer_wildcard(zone, encloser, out);
		encloser = node;
		if ((node->flags & ZONE_NODE_DELEGATION) &&
		    !(k == labels && qtype == ZONE_TYPE_DS)) {
			*out = node;
			return FOUND_DELEGATION;
		}
	}
	*out = encloser;
	return FOUND_NODE;
}

/* ---- the additional section, continued ---------------------------------- */

/* Where the target name of an RRset's rdata starts, or -1 if its type
 * has no target whose addresses help the client. */
static int
answer_target_offset(uint16_t type)
{
	switch (type) {
	case ZONE_TYPE_NS:
		return 0;
	case ZONE_TYPE_MX:
	case ZONE_TYPE_SVCB:
	case ZONE_TYPE_HTTPS:
		return 2;
	case ZONE_TYPE_SRV:
		return 6;
	default:
		return -1;
	}
}

/*
 * Notes the names in an RRset (owned by owner) whose addresses help the
 * client: NS, MX and SRV targets, and SVCB/HTTPS targets (RFC 9460 §4),
 * where "." in ServiceMode means the owner itself (§2.5.2).
 */
static void
answer_collect_targets(
    struct answer *a, const uint8_t *owner, const struct zone_rrset *set)
{
	int skip = answer_target_offset(set->type);

	for (size_t i = 0; skip >= 0 && i < set->count; i++) {
		size_t len;
		const uint8_t *rdata = zone_rdata(a->zone, set, i, &len);
		const uint8_t *target = rdata + skip;
		bool service = rdata[0] != 0 || rdata[1] != 0;

		if (skip == 2 && set->type != ZONE_TYPE_MX && target[0] == 0)
			target = service ? owner : target;
		answer_want_addresses(a, target);
	}
}

/*
 * The node whose addresses answer for name: the name's own, glue below a
 * cut included, or the wildcard that covers it (RFC 4592 §4.1: what a
 * query for the name would get); NULL if none.
 */
static const struct zone_node *
answer_address_node(const struct answer *a, const uint8_t *name)
{
	size_t len = zone_name_len(name, 255);
	const struct zone_node *node = zone_node_find(a->zone, name, len);

	if (node == NULL &&
	    answer_find(a->zone, name, len, ZONE_TYPE_A, &node) != FOUND_WILDCARD)
		node = NULL;
	return node;
}

/*
 * Adds the A and AAAA RRsets of the noted names found in the zone. They are
 * optional (RFC 2181 §9: no TC for additional data) except referral glue
 * (RFC 9471).
 */
static void
answer_additional(struct answer *a)
{
	static const uint16_t types[] = {ZONE_TYPE_A, ZONE_TYPE_AAAA};

	for (size_t i = 0; i < a->extra_count && !a->truncated; i++) {
		const uint8_t *name = a->extra[i];
		const struct zone_node *node = answer_address_node(a, name);

		for (size_t t = 0; node != NULL && t < 2; t++) {
			const struct zone_rrset *set =
			    zone_rrset_find(a->zone, node, types[t]);

			if (set == NULL)
				continue;
			if (a->glue_required)
				answer_required(
				    a, name, set, set->ttl, &a->r->arcount);
			else
				answer_put_rrset(
				    a, name, set, set->ttl, &a->r->arcount);
		}
	}
}

/* ---- kinds of answers ---------------------------------------------------- */

/* NXDOMAIN or NODATA: the SOA in authority with the RFC 2308 §3 TTL. */
static void
answer_negative(struct answer *a)
{
	answer_required(a, a->zone->apex->name, a->zone->soa,
	    a->zone->negative_ttl, &a->r->nscount);
}

/* The cut's NS RRset in authority and its glue in additional. */
static void
answer_referral(struct answer *a, const struct zone_node *cut)
{
	const struct zone_rrset *ns =
	    zone_rrset_find(a->zone, cut, ZONE_TYPE_NS);

	answer_required(a, cut->name, ns, ns->ttl, &a->r->nscount);
	answer_collect_targets(a, cut->name, ns);
	a->glue_required = true;
}

/*
 * RFC 8482 §4.1: ANY gets one RRset (the CNAME if there is one, else the
 * lowest type), and if that would not fit, §4.2's synthesized HINFO
 * instead of a truncated answer.
 */
static void
answer_any(struct answer *a, const uint8_t *name, const struct zone_node *node)
{
	static const uint8_t hinfo[] = {
	    7, 'R', 'F', 'C', '8', '4', '8', '2', 0};
	const struct zone_rrset *set;
	struct answer_mark mark = answer_mark(a);

	if (node->rrset_count == 0) {
		answer_negative(a);
		return;
	}
	set = zone_rrset_find(a->zone, node, ZONE_TYPE_CNAME);
	if (set == NULL)
		set = &a->zone->rrsets[node->first];
	if (answer_put_rrset(a, name, set, set->ttl, &a->r->ancount)) {
		answer_collect_targets(a, name, set);
		return;
	}
	if (answer_put_rr(
	        a, name, ZONE_TYPE_HINFO, set->ttl, hinfo, sizeof(hinfo))) {
		a->r->ancount++;
		return;
	}
	answer_rollback(a, mark);
	a->truncated = true;
}

static bool
answer_seen(const uint8_t *const *seen, size_t n, const uint8_t *name)
{
	for (size_t i = 0; i < n; i++)
		if (zone_name_equal(seen[i], name))
			return true;
	return false;
}

/*
 * RFC 6672 section 3.1: the DNAME RRset, then a CNAME from name to name
 * with the DNAME's owner replaced by its target, with the DNAME's TTL; the
 * new name goes to out[256]. False when the answer ends here: it did not
 * fit, the new name would exceed 255 octets (YXDOMAIN, section 2.2), or
 * it is below the DNAME again.
 */
static bool
answer_dname(struct answer *a, const uint8_t *name, size_t len,
    const struct zone_node *node, uint8_t *out, size_t *out_len)
{
	const struct zone_rrset *dname =
	    zone_rrset_find(a->zone, node, ZONE_TYPE_DNAME);
	size_t target_len, prefix = len - node->name_len;
	const uint8_t *target = zone_rdata(a->zone, dname, 0, &target_len);
	struct answer_mark mark;

	answer_required(a, node->name, dname, dname->ttl, &a->r->ancount);
	if (a->truncated)
		return false;
	if (prefix + target_len > 255) {
		a->r->rcode = ZONE_RCODE_YXDOMAIN;
		return false;
	}
	memcpy(out, name, prefix);
	memcpy(out + prefix, target, target_len);
	*out_len = prefix + target_len;
	mark = answer_mark(a);
	if (!answer_put_rr(a, name, ZONE_TYPE_CNAME, dname->ttl, out, *out_len)) {
		answer_rollback(a, mark);
		a->truncated = true;
		return false;
	}
	a->r->ancount++;
	/* A target below the DNAME itself would grow the name at every
	 * link: the chain stops at the first, as NSD stops it. */
	return !zone_name_is_below(out, *out_len, node->name, node->name_len);
}

/*
 * The answer at a node the name exists at (or a wildcard it matched):
 * ANY's one RRset, the RRset asked for, or NODATA. Returns the CNAME RRset
 * to follow instead, or NULL when the answer is complete.
 */
static const struct zone_rrset *
answer_node(struct answer *a, const uint8_t *name,
    const struct zone_node *node, uint16_t qtype)
{
	const struct zone_rrset *set, *cname = NULL;

	if (qtype == ZONE_TYPE_ANY) {
		answer_any(a, name, node);
		return NULL;
	}
	if ((set = zone_rrset_find(a->zone, node, qtype)) != NULL) {
		answer_required(a, name, set, set->ttl, &a->r->ancount);
		answer_collect_targets(a, name, set);
		return NULL;
	}
	if (qtype != ZONE_TYPE_CNAME)
		cname = zone_rrset_find(a->zone, node, ZONE_TYPE_CNAME);
	if (cname == NULL)
		answer_negative(a);
	else
		answer_required(a, name, cname, cname->ttl, &a->r->ancount);
	return cname;
}

/* The answers that end the search: out of the zone, a referral, NXDOMAIN. */
static void
answer_end(struct answer *a, enum answer_found found,
    const struct zone_node *node, size_t chain)
{
	switch (found) {
	case FOUND_OUTSIDE:
		/* Only a CNAME can lead out; a wrong zone is refused. */
		if (chain == 0) {
			a->r->rcode = ZONE_RCODE_REFUSED;
			a->r->aa = false;
		}
		break;
	case FOUND_DELEGATION:
		a->r->aa = chain > 0;
		answer_referral(a, node);
		break;
	default:
		a->r->rcode = ZONE_RCODE_NXDOMAIN;
		answer_negative(a);
	}
}

/*
 * Answers name, following CNAMEs inside the zone (RFC 1034 §4.3.2 step
 * 3a) and the CNAMEs synthesized from DNAMEs: each link is written with
 * the name it was reached by as owner, and the chain stops at a name seen
 * before (a loop), after ZONE_CNAME_CHAIN links, or where it leaves the
 * zone; the resolver goes on from there.
 */
static void
answer_resolve(
    struct answer *a, const uint8_t *name, size_t len, uint16_t qtype)
{
	const uint8_t *seen[ZONE_CNAME_CHAIN];
	size_t chain = 0;

	for (;;) {
		const struct zone_node *node;
		const struct zone_rrset *cname;
		enum answer_found found =
		    answer_find(a->zone, name, len, qtype, &node);

		seen[chain] = name;
		if (found == FOUND_DNAME) {
			if (!answer_dname(a, name, len, node,
			        a->synthesized[chain], &len))
				return;
			name = a->synthesized[chain];
		} else if (found == FOUND_NODE || found == FOUND_WILDCARD) {
			if ((cname = answer_node(a, name, node, qtype)) == NULL)
				return;
			name = zone_rdata(a->zone, cname, 0, &len);
		} else {
			answer_end(a, found, node, chain);
			return;
		}
		if (a->truncated || ++chain == ZONE_CNAME_CHAIN ||
		    answer_seen(seen, chain, name))
			return;
	}
}

/* ---- entry points -------------------------------------------------------- */

/*
 * Checks the question and the message so far, and remembers the question
 * name's labels for compression when the message holds it at offset 12.
 */
static int
answer_init(struct answer *a, const struct zone *zone,
    const struct zone_question *q, struct zone_response *r)
{
	size_t qlen = q->name_len;

	if (q->name == NULL || r->buf == NULL ||
	    zone_name_len(q->name, qlen) != qlen || r->len < 12 + qlen + 4 ||
	    r->len > 65535)
		return -EINVAL;
	memset(a, 0, offsetof(struct answer, synthesized));
	a->r = r;
	a->zone = zone;
	a->limit = r->limit > 65535 ? 65535 : r->limit;
	if (a->limit < r->len)
		a->limit = r->len;
	a->class = zone != NULL ? zone->class : q->class;
	r->ancount = r->nscount = r->arcount = 0;
	r->rcode = ZONE_RCODE_NOERROR;
	r->aa = r->tc = false;
	if (memcmp(r->buf + 12, q->name, qlen) != 0)
		return 0;
	for (size_t pos = 0; q->name[pos] != 0; pos += 1 + (size_t)q->name[pos])
		answer_remember(a, 12 + pos);
	return 0;
}

/* Queries this server refuses rather than answers from the zone. */
static bool
answer_refused(const struct zone *zone, const struct zone_question *q,
    struct zone_response *r)
{
	if (q->class != zone->class && q->class != ZONE_CLASS_ANY)
		r->rcode = ZONE_RCODE_REFUSED;
	else if (q->type == ZONE_TYPE_AXFR || q->type == ZONE_TYPE_IXFR)
		r->rcode = ZONE_RCODE_REFUSED;
	else if (q->type == ZONE_TYPE_MAILA || q->type == ZONE_TYPE_MAILB)
		r->rcode = ZONE_RCODE_NOTIMP;
	else if (q->type == ZONE_TYPE_OPT)
		r->rcode = ZONE_RCODE_FORMERR;
	return r->rcode != ZONE_RCODE_NOERROR;
}

int
zone_answer(const struct zone *zone, const struct zone_question *q,
    struct zone_response *r)
{
	struct answer a;
	int rc;

	if (zone == NULL || (rc = answer_init(&a, zone, q, r)) < 0)
		return -EINVAL;
	if (answer_refused(zone, q, r))
		return 0;
	r->aa = true;
	answer_resolve(&a, q->name, q->name_len, q->type);
	answer_additional(&a);
	r->tc = a.truncated;
	return 0;
}

/* The owner, type, class, TTL and RDLENGTH of the TXT record answering q. */
static bool
answer_txt_head(struct answer *a, const struct zone_question *q, uint32_t ttl,
    size_t rdlength)
{
	return answer_put_name(a, q->name, true) &&
	    answer_put16(a, ZONE_TYPE_TXT) && answer_put16(a, a->class) &&
	    answer_put32(a, ttl) && answer_put16(a, (uint16_t)rdlength);
}

/* Ends a TXT answer: one record, or none and TC if it did not fit. */
static void
answer_txt_done(struct answer *a, struct answer_mark mark, bool ok)
{
	if (!ok)
		answer_rollback(a, mark);
	a->r->ancount = ok;
	a->r->tc = !ok;
}

static int
answer_txt_init(struct answer *a, const struct zone_question *q,
    size_t rdlength, struct zone_response *r)
{
	if (rdlength > 65535 || answer_init(a, NULL, q, r) < 0)
		return -EINVAL;
	a->class = q->class == ZONE_CLASS_ANY ? ZONE_CLASS_CH : q->class;
	r->aa = true;
	return 0;
}

int
zone_answer_txt(const struct zone_question *q, const char *text, uint32_t ttl,
    struct zone_response *r)
{
	size_t len = strlen(text), rdlength = len + (len + 254) / 255;
	struct answer a;
	struct answer_mark mark;
	bool ok;

	if (rdlength == 0)
		rdlength = 1;
	if (answer_txt_init(&a, q, rdlength, r) < 0)
		return -EINVAL;
	mark = answer_mark(&a);
	ok = answer_txt_head(&a, q, ttl, rdlength);
	/* One <character-string> per 255 octets; "" for an empty text. */
	for (size_t pos = 0, n; ok && (pos < len || rdlength == 1);) {
		n = len - pos < 255 ? len - pos : 255;
		ok = answer_put(&a, (uint8_t[]){(uint8_t)n}, 1) &&
		    answer_put(&a, text + pos, n);
		pos += n;
		if (len == 0)
			break;
	}
	answer_txt_done(&a, mark, ok);
	return 0;
}

int
zone_answer_txt_list(const struct zone_question *q,
    const char *const *strings, size_t count, uint32_t ttl,
    struct zone_response *r)
{
	size_t rdlength = count == 0 ? 1 : 0;
	struct answer a;
	struct answer_mark mark;
	bool ok;

	for (size_t i = 0; i < count; i++) {
		size_t n = strlen(strings[i]);
		if (n > 255)
			return -EINVAL;
		rdlength += 1 + n;
	}
	if (answer_txt_init(&a, q, rdlength, r) < 0)
		return -EINVAL;
	mark = answer_mark(&a);
	ok = answer_txt_head(&a, q, ttl, rdlength);
	if (count == 0)
		ok = ok && answer_put(&a, "", 1);
	for (size_t i = 0; ok && i < count; i++) {
		size_t n = strlen(strings[i]);
		ok = answer_put(&a, (uint8_t[]){(uint8_t)n}, 1) &&
		    answer_put(&a, strings[i], n);
	}
	answer_txt_done(&a, mark, ok);
	return 0;
}

int
zone_answer_version(
    const struct zone_question *q, const char *version, struct zone_response *r)
{
	static const uint8_t bind[] = "\7version\4bind";
	static const uint8_t server[] = "\7version\6server";

	if (q->class != ZONE_CLASS_CH ||
	    zone_name_len(q->name, q->name_len) != q->name_len ||
	    (!zone_name_equal(q->name, bind) &&
	        !zone_name_equal(q->name, server)))
		return -ENOENT;
	if (q->type == ZONE_TYPE_TXT || q->type == ZONE_TYPE_ANY)
		return zone_answer_txt(q, version, 0, r);
	/* Another type at an existing name: NODATA. */
	r->ancount = r->nscount = r->arcount = 0;
	r->rcode = ZONE_RCODE_NOERROR;
	r->aa = true;
	r->tc = false;
	return 0;
}

void
zone_response_patch_header(const struct zone_response *r)
{
	uint8_t *h = r->buf;

	h[2] =
	    (uint8_t)((h[2] & ~0x06) | (r->aa ? 0x04 : 0) | (r->tc ? 0x02 : 0));
	h[3] = (uint8_t)((h[3] & 0xf0) | (r->rcode & 0x0f));
	h[6] = (uint8_t)(r->ancount >> 8);
	h[7] = (uint8_t)r->ancount;
	h[8] = (uint8_t)(r->nscount >> 8);
	h[9] = (uint8_t)r->nscount;
	h[10] = (uint8_t)(r->arcount >> 8);
	h[11] = (uint8_t)r->arcount;
}
