/*
 * build.c - from the parsed record list to the in-memory zone, and its
 * validation (RFC 1034, RFC 2181).
 *
 * The list is sorted by owner, type and rdata, which groups RRsets and puts
 * duplicates side by side; a node is added for every empty non-terminal
 * between an owner and the apex (RFC 4592 needs them); then every node is
 * checked. A validation error names the file and line of the record that
 * came later in the file of the two in conflict.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
 * with the first one in the file ahead. Rdata that differs only in the
 * case of a name is a duplicate (wire.c). */
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
	c = zone_rdata_compare(a->type, a->rdata, a->rdlen, b->rdata, b->rdlen);
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
	return zone_rdata_compare(a->type, a->rdata, a->rdlen, b->rdata,
	           b->rdlen) == 0;
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
		if (set->type == ZONE_TYPE_DNAME && set->count > 1)
			return zone_fail_at(b, &prov[s], true,
			    "more than one DNAME record at", node);
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

/* The highest DNAME strictly above node (the apex included), or NULL. */
static const struct zone_node *
zone_dname_above(const struct zone *z, const struct zone_node *node)
{
	const struct zone_node *dname = NULL;
	const uint8_t *name = node->name;
	size_t len = node->name_len;

	while (len > z->origin_len) {
		const struct zone_node *n;

		len -= 1 + (size_t)name[0];
		name += 1 + name[0];
		n = zone_node_find(z, name, len);
		if (n != NULL && (n->flags & ZONE_NODE_DNAME))
			dname = n;
	}
	return dname;
}

/* RFC 6672 section 2.4: no data below a DNAME, which it would hide. */
static int
zone_check_dname(struct zone_build *b, struct zone *z,
    const struct zone_node *node, const struct zone_provenance *prov)
{
	const struct zone_node *dname;
	char dname_name[ZONE_NAME_TEXT_LEN], type[16];
	char what[ZONE_NAME_TEXT_LEN + 64];

	if (node->rrset_count == 0 || (dname = zone_dname_above(z, node)) == NULL)
		return 0;
	zone_type_show(z->rrsets[node->first].type, type, sizeof(type));
	zone_name_show(dname->name, dname_name, sizeof(dname_name));
	snprintf(what, sizeof(what), "%s record below the DNAME %s:", type,
	    dname_name);
	return zone_fail_at(b, &prov[node->first], false, what, node);
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
		if (zone_rrset_find(z, node, ZONE_TYPE_DNAME) != NULL)
			node->flags |= ZONE_NODE_DNAME;
		if ((rc = zone_check_node(b, z, node, prov)) < 0)
			return rc;
	}
	for (size_t i = 0; i < z->node_count; i++)
		if ((rc = zone_check_occlusion(b, z, &z->nodes[i], prov)) < 0 ||
		    (rc = zone_check_dname(b, z, &z->nodes[i], prov)) < 0)
			return rc;
	return 0;
}

static void
zone_set_negative_ttl(struct zone *z)
{
	size_t len = 0;
	const uint8_t *soa = zone_rdata(z, z->soa, 0, &len);
	const uint8_t *at = soa + len - 4;
	uint32_t minimum = (uint32_t)at[0] << 24 | (uint32_t)at[1] << 16 |
	    (uint32_t)at[2] << 8 | at[3];

	z->negative_ttl = minimum < z->soa->ttl ? minimum : z->soa->ttl;
}

int
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

