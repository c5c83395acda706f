/*
 * local.c - what miodnsd answers itself instead of forwarding: the names
 * of its zones, and the CHAOS class.
 *
 * Zones come from the configuration (-z, "zone" lines) and from the
 * built-in localhost. and example.test. (zone.c has their text). They are
 * loaded into a new zone set at start and on every reload; the set is
 * swapped in only when every zone loaded, so a broken file on SIGHUP
 * leaves the running zones alone. A zone set is immutable and reference
 * counted, so the workers share one without locks; each worker's resolver
 * holds a reference (local_use), moved to the new set on reload.
 *
 * The CHAOS class is the server's own: version.bind and version.server
 * say which miodnsd this is, stats.miodnsd shows the counters to the
 * clients allow-stats lets in (loopback by default), and every other
 * CHAOS query is REFUSED rather than forwarded, since an upstream's answer
 * would describe the upstream, not us.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "resolve/local.h"
#include "resolve/stages.h"
#include "zone.h"

#define LOCAL_VERSION "miodnsd " PACKAGE_VERSION

/* The origin as the canonical text of logs: "example.test." */
static const char *
local_origin_text(const char *origin, char *buf, size_t len)
{
	uint8_t wire[256];

	if (zone_name_from_text(origin, wire) < 0 ||
	    zone_name_to_text(wire, buf, len) < 0)
		snprintf(buf, len, "%s", origin);
	return buf;
}

/*
 * Adds a loaded zone to set; -1 after logging (and freeing it) if not. A
 * built-in zone whose origin is taken already gives way to the configured
 * zone.
 */
static int
local_add(struct zone_set *set, struct zone *zone, const char *origin,
    const char *from, bool builtin)
{
	char name[ZONE_NAME_TEXT_LEN];
	int rc;

	local_origin_text(origin, name, sizeof(name));
	if ((rc = zone_set_add(set, zone)) == -EEXIST && builtin) {
		log_debug("zone %s: the configured zone replaces the built-in "
		    "one", name);
		zone_free(zone);
		return 0;
	}
	if (rc != 0) {
		log_warnx("zone %s: %s", name,
		    rc == -EEXIST ? "given more than once" : strerror(-rc));
		zone_free(zone);
		return -1;
	}
	log_info("zone %s: serial %lu, %s", name,
	    (unsigned long)zone_serial(zone), from);
	return 0;
}

static int
local_add_builtin(struct zone_set *set, const char *origin)
{
	char err[ZONE_ERROR_LEN];
	struct zone *zone;

	if (zone_load_builtin(&zone, origin, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return -1;
	}
	return local_add(set, zone, origin, "built in", true);
}

/* Whether the embedded default's example zone is served: when asked, or
 * when nothing was configured (no zone, no upstream), so that the first
 * dig of the README gets an answer without a network. */
static bool
local_want_example(const struct config *conf)
{
	if (conf->builtin_zones == BUILTIN_ALL)
		return true;
	return conf->builtin_zones == BUILTIN_AUTO && conf->nzones == 0 &&
	    conf->upstream_from_resolv;
}

/*
 * Loads every zone conf names, and the built-in ones it asks for, into a
 * new set. Returns 0 and the set in *out, or -1 after logging what failed
 * ("zone ORIGIN: FILE:LINE: reason").
 */
int
local_zones_load(const struct config *conf, struct zone_set **out)
{
	char err[ZONE_ERROR_LEN];
	struct zone_set *set;
	struct zone *zone;

	if (zone_set_new(&set) != 0) {
		log_warnx("zones: %s", strerror(ENOMEM));
		return -1;
	}
	for (int i = 0; i < conf->nzones; i++) {
		const struct config_zone *z = &conf->zones[i];
		char name[ZONE_NAME_TEXT_LEN];
		if (zone_load(&zone, z->origin, z->path, err,
		    sizeof(err)) != 0) {
			log_warnx("zone %s: %s",
			    local_origin_text(z->origin, name, sizeof(name)),
			    err);
			goto fail;
		}
		if (local_add(set, zone, z->origin, z->path, false) != 0)
			goto fail;
	}
	if (conf->builtin_zones != BUILTIN_NONE &&
	    local_add_builtin(set, "localhost.") != 0)
		goto fail;
	if (local_want_example(conf) &&
	    local_add_builtin(set, "example.test.") != 0)
		goto fail;
	*out = set;
	return 0;
fail:
	zone_set_free(set);
	return -1;
}

/* The resolver answers from set from now on (it holds the reference);
 * the old set goes when its last user does. */
void
local_use(struct resolver *r, struct zone_set *set)
{
	struct zone_set *old = r->zones;

	r->zones = set;
	zone_set_free(old);
}

static void
local_refuse(struct zone_response *r)
{
	r->ancount = r->nscount = r->arcount = 0;
	r->rcode = ZONE_RCODE_REFUSED;
	r->aa = r->tc = false;
}

/* stats.miodnsd: the counters, one "name=value" string each. Returns
 * the Extended DNS Error of the answer: 18 (Prohibited) for a client
 * allow-stats does not let in. */
static int
local_stats(const struct config *conf, const struct zone_question *q,
    const struct addr *from, struct zone_response *r)
{
	struct counters total;
	struct stats_text text;

	if (!config_prefix_match(conf->allow_stats, conf->nallow_stats, from)) {
		local_refuse(r);
		return DNS_EDE_PROHIBITED;
	}
	if (q->type != ZONE_TYPE_TXT && q->type != ZONE_TYPE_ANY) {
		/* The name exists, the type does not: NODATA. */
		r->aa = true;
		return DNS_EDE_NONE;
	}
	stats_total(&total);
	stats_text(&total, &text);
	zone_answer_txt_list(q, text.strings, text.count, 0, r);
	return DNS_EDE_NONE;
}

/* The CHAOS class; returns the answer's Extended DNS Error. */
static int
local_chaos(const struct config *conf, const struct zone_question *q,
    const struct addr *from, struct zone_response *r)
{
	static const uint8_t stats_name[] = "\5stats\7miodnsd";

	if (zone_answer_version(q, LOCAL_VERSION, r) == 0)
		return DNS_EDE_NONE;
	if (zone_name_equal(q->name, stats_name))
		return local_stats(conf, q, from, r);
	local_refuse(r);
	return DNS_EDE_NONE;
}

/*
 * Answers the request's question when it is ours: a name in one of the
 * zones, or the CHAOS class. Returns the length of the reply written to
 * out (req->reply says how to dress it: ID, EDNS, size limit; RA is set
 * here, only once the answer is ours, to keep it off the path of cache
 * hits), or 0 when the question is to be forwarded.
 */
static size_t
local_answer(struct resolver *r, struct request *req, uint8_t *out,
    size_t cap)
{
	const struct dns_query *q = &req->dq;
	const struct dns_reply *rep = &req->reply;
	const struct addr *from = &req->from->addr;
	struct zone_question zq = { q->question, q->question_len - 4,
		q->qtype, q->qclass };
	struct zone_response zr = { .buf = out };
	const struct zone *zone = NULL;
	size_t limit = rep->limit < cap ? rep->limit : cap;

	if (q->question == NULL)
		return 0;
	if (q->qclass != ZONE_CLASS_CH && (r->zones == NULL ||
	    (zone = zone_lookup(r->zones, zq.name, zq.name_len)) == NULL))
		return 0;
	req->reply.ra = resolve_recursion(r, req);
	if ((zr.len = dns_reply_begin(rep, out, cap)) == 0)
		return 0;
	/* The answer leaves room for our OPT record. */
	zr.limit = limit - (rep->edns ? DNS_OPT_LEN : 0);
	if (zone != NULL) {
		if (zone_answer(zone, &zq, &zr) != 0)
			return 0;
		COUNT(r->counters, authoritative);
	} else {
		int ede = local_chaos(r->conf, &zq, from, &zr);
		req->reply.ede = ede != DNS_EDE_NONE;
		req->reply.ede_code = (uint16_t)(req->reply.ede ? ede : 0);
		COUNT(r->counters, chaos);
	}
	zone_response_patch_header(&zr);
	return dns_reply_end(rep, out, zr.len, cap);
}

/* The stage: answers what is ours, lets the rest go on. */
bool
stage_local(struct resolver *r, struct request *req)
{
	size_t len = local_answer(r, req, r->reply_buf, sizeof(r->reply_buf));

	if (len == 0)
		return false;
	resolve_send(r, req->from, r->reply_buf, len);
	return true;
}
