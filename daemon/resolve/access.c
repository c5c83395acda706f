/*
 * access.c - who may ask: the access-control stages (core/acl.h holds
 * the list and its semantics, unbound's).
 *
 * stage_access() (stages.h, inline) runs first, before the query is even parsed: a client in
 * a "deny" prefix is dropped without another instruction spent on it. A
 * "refuse" client's query goes on to be parsed (stage_check) and may still
 * be answered by stage_local(): the zones miodnsd serves and version.bind
 * are public, as on an authoritative server (NSD and Knot answer their
 * zones to anyone), and stats.miodnsd keeps its own allow-stats. Whatever
 * would be forwarded or answered from the cache then meets stage_refused()
 * and gets REFUSED: an open resolver is an amplifier (US-CERT TA13-088A).
 *
 * Each resolver builds its list from its worker's copy of the
 * configuration, at start and at every reload (access_use).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "core/acl.h"
#include "resolve/stages.h"

/* A new list from conf; on failure (memory) the old one stays. */
int
access_use(struct resolver *r, const struct config *conf)
{
	struct acl *acl;
	int rc;

	if ((rc = acl_new(&acl)) != 0)
		return rc;
	for (int i = 0; i < conf->naccess; i++) {
		if ((rc = acl_add_line(acl, conf->access_control[i])) != 0) {
			acl_free(acl);
			return rc;
		}
	}
	acl_free(r->acl);
	r->acl = acl;
	return 0;
}

/* A denied client's query: dropped, only counted. */
bool
access_drop(struct resolver *r)
{
	COUNT(r->counters, access_denied);
	return true;
}

/* A refused client's query that is not for our zones: REFUSED. */
bool
access_refuse(struct resolver *r, struct request *req)
{
	COUNT(r->counters, access_refused);
	/* Without upstreams, even an allowed client would be refused: the
	 * name is just not ours (cached.c). */
	resolve_send_error(r, &req->reply, req->from, DNS_RCODE_REFUSED,
	    r->upstream->count > 0 ? DNS_EDE_PROHIBITED :
	    DNS_EDE_NOT_AUTHORITATIVE);
	return true;
}
