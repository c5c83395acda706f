/*
 * db.c - the in-memory zone database: lookups by name and type, and zone
 * sets that pick the zone for a query name.
 *
 * Nodes are indexed in an open hash keyed by the lower-cased name, so a
 * query walks its name's suffixes with one probe each and allocates
 * nothing. A zone set is immutable once shared and reference counted, so a
 * reload swaps in a new set while queries finish on the old one.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct zone_set {
	atomic_size_t refs;
	struct zone **zones;
	size_t count, cap;
};

/* ---- zones ------------------------------------------------------------- */

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

/* ---- lookups ------------------------------------------------------------- */

/* FNV-1a over the lower-cased name: build.c indexes with it too. */
uint32_t
zone_hash(const uint8_t *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= zone_lower(name[i]);
		h *= 16777619u;
	}
	return h;
}

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

	if (set == NULL || zone__name_len(qname, qname_len) != qname_len)
		return NULL;
	for (size_t i = 0; i < set->count; i++) {
		const struct zone *z = set->zones[i];

		if ((best == NULL || z->origin_len > best->origin_len) &&
		    zone__name_is_below(
		        qname, qname_len, z->origin, z->origin_len))
			best = z;
	}
	return best;
}
