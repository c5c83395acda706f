/*
 * fuzz/zone-fuzz.c - libFuzzer harness for the zone-file parser
 * (daemon/zone/), and for the answer builder on whatever zone survives.
 *
 * The input is a master file for the origin fuzz.test., parsed from memory
 * with $INCLUDE disabled so that no input reaches the file system. A zone
 * that loads is then asked about its own names, a few names around them,
 * with several types and at two size limits; every answer must stay within
 * its limit and be followed by a parse of its own header counts. Before
 * that, every record is written as text and loaded again, and must come
 * back as the same octets (zone -> wire -> text -> wire).
 *
 *	make fuzz-zone FUZZ_SECONDS=300
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check(bool condition)
{
	if (!condition)
		abort();
}

/* Skips a name in a message written by daemon/zone/answer.c; 0 if malformed. */
static size_t
fuzz_skip_name(const uint8_t *msg, size_t len, size_t pos)
{
	while (pos < len) {
		if ((msg[pos] & 0xc0) == 0xc0)
			return pos + 2 <= len ? pos + 2 : 0;
		if (msg[pos] > 63)
			return 0;
		if (msg[pos] == 0)
			return pos + 1;
		pos += 1 + (size_t)msg[pos];
	}
	return 0;
}

/* The sections hold exactly as many records as the counts say. */
static void
fuzz_check_message(const struct zone_response *r, size_t start)
{
	size_t pos = start;
	unsigned records = (unsigned)r->ancount + r->nscount + r->arcount;

	fuzz_check(r->len <= r->limit || r->len == start);
	for (unsigned i = 0; i < records; i++) {
		pos = fuzz_skip_name(r->buf, r->len, pos);
		fuzz_check(pos != 0 && pos + 10 <= r->len);
		pos += 10 + ((size_t)r->buf[pos + 8] << 8 | r->buf[pos + 9]);
		fuzz_check(pos <= r->len);
	}
	fuzz_check(pos == r->len);
}

static void
fuzz_ask(const struct zone *zone, const uint8_t *name, size_t name_len,
    uint16_t type, size_t limit)
{
	static uint8_t buf[65536];
	struct zone_question q = {name, name_len, type, ZONE_CLASS_IN};
	struct zone_response r = {
	    .buf = buf, .len = 12 + name_len + 4, .limit = limit};

	memset(buf, 0, 12);
	memcpy(buf + 12, name, name_len);
	buf[12 + name_len] = (uint8_t)(type >> 8);
	buf[13 + name_len] = (uint8_t)type;
	buf[14 + name_len] = 0;
	buf[15 + name_len] = ZONE_CLASS_IN;
	fuzz_check(zone_answer(zone, &q, &r) == 0);
	fuzz_check_message(&r, 12 + name_len + 4);
}

/* Asks about name and a child of it ("x." + name), if that fits. */
static void
fuzz_ask_around(const struct zone *zone, const uint8_t *name, size_t len)
{
	static const uint16_t types[] = {ZONE_TYPE_A, ZONE_TYPE_AAAA,
	    ZONE_TYPE_MX, ZONE_TYPE_NS, ZONE_TYPE_TXT, ZONE_TYPE_SRV,
	    ZONE_TYPE_CNAME, ZONE_TYPE_ANY, ZONE_TYPE_DS, ZONE_TYPE_SOA,
	    ZONE_TYPE_DNAME, ZONE_TYPE_SVCB, ZONE_TYPE_HTTPS};
	uint8_t child[256] = {1, 'x'};

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		fuzz_ask(zone, name, len, types[t], 512);
		fuzz_ask(zone, name, len, types[t], 65535);
	}
	if (len + 2 <= 255) {
		memcpy(child + 2, name, len);
		fuzz_ask(zone, child, len + 2, ZONE_TYPE_A, 512);
		fuzz_ask(zone, child, len + 2, ZONE_TYPE_MX, 65535);
	}
}

/* Writes every record of zone as "owner 1 IN TYPE rdata" lines; the
 * length, or 0 if the text did not fit. */
static size_t
fuzz_zone_text(const struct zone *zone, char *out, size_t size)
{
	size_t pos = 0;

	for (size_t n = 0; n < zone->node_count; n++) {
		const struct zone_node *node = &zone->nodes[n];
		char owner[ZONE_NAME_TEXT_LEN];

		fuzz_check(zone_name_to_text(node->name, owner, sizeof(owner)) > 0);
		for (uint32_t s = 0; s < node->rrset_count; s++) {
			const struct zone_rrset *set = &zone->rrsets[node->first + s];
			char type[16];

			fuzz_check(zone_type_to_text(set->type, type, sizeof(type)) > 0);
			for (size_t i = 0; i < set->count; i++) {
				size_t len, room;
				const uint8_t *rd = zone_rdata(zone, set, i, &len);
				int n_out = snprintf(out + pos, size - pos,
				    "%s 1 IN %s ", owner, type);

				if (n_out < 0 || (size_t)n_out >= size - pos)
					return 0;
				pos += (size_t)n_out;
				room = size - pos;
				n_out = zone_rdata_to_text(set->type, rd, len,
				    out + pos, room - 1);
				if (n_out < 0)
					return 0;
				pos += (size_t)n_out;
				out[pos++] = '\n';
			}
		}
	}
	return pos;
}

/*
 * zone -> wire -> text -> wire: the text of every record loads again into
 * the same octets (RRsets in the same order, since both are sorted).
 */
static void
fuzz_round_trip(const struct zone *zone)
{
	static char text[1 << 20];
	char err[ZONE_ERROR_LEN];
	struct zone *again = NULL;
	size_t len = fuzz_zone_text(zone, text, sizeof(text));

	if (len == 0)
		return;
	fuzz_check(zone_load_buffer(&again, "fuzz.test.", "text", text, len,
	               ZONE_LOAD_NO_INCLUDE, err, sizeof(err)) == 0);
	fuzz_check(again->rdata_count == zone->rdata_count &&
	    again->rrset_count == zone->rrset_count);
	for (size_t s = 0; s < zone->rrset_count; s++) {
		const struct zone_rrset *a = &zone->rrsets[s];
		const struct zone_rrset *b = &again->rrsets[s];

		fuzz_check(a->type == b->type && a->count == b->count);
		for (size_t i = 0; i < a->count; i++) {
			size_t la, lb;
			const uint8_t *ra = zone_rdata(zone, a, i, &la);
			const uint8_t *rb = zone_rdata(again, b, i, &lb);

			fuzz_check(la == lb && memcmp(ra, rb, la) == 0);
		}
	}
	zone_free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zone *zone = NULL;
	char err[ZONE_ERROR_LEN];
	int rc = zone_load_buffer(&zone, "fuzz.test.", "fuzz.zone",
	    (const char *)data, size, ZONE_LOAD_NO_INCLUDE, err, sizeof(err));

	if (rc != 0) {
		fuzz_check(zone == NULL && err[0] != '\0' &&
		    strlen(err) < sizeof(err));
		return 0;
	}
	fuzz_round_trip(zone);
	/* The first nodes are enough to reach every path of the builder. */
	for (size_t i = 0; i < zone->node_count && i < 24; i++)
		fuzz_ask_around(
		    zone, zone->nodes[i].name, zone->nodes[i].name_len);
	zone_free(zone);
	return 0;
}
