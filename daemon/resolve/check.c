/*
 * check.c - the first stage: is this a query we can work on at all?
 *
 * The message is parsed once (dns.c) and the reply's dressing worked out
 * once, here, for every later stage: the client's size limit (512 bytes
 * without EDNS, RFC 1035; the client's EDNS size within 512..edns-size,
 * RFC 6891 6.2.5; anything over a stream). What dns_parse_query() rejects
 * is answered here (FORMERR, NOTIMP, BADVERS) or dropped (no usable
 * header, or not a query), within that limit.
 */
#include "config.h"

#include "resolve/stages.h"

static size_t
check_limit(const struct resolver *r, const struct request *req)
{
	unsigned cap = r->conf->edns_size;

	if (req->from->ops->stream)
		return DNS_MAX_MESSAGE;
	if (!req->dq.edns || req->dq.edns_size <= 512)
		return 512;
	return req->dq.edns_size < cap ? req->dq.edns_size : cap;
}

static bool
check_reject(struct resolver *r, struct request *req, int rcode)
{
	req->reply.ra = resolve_recursion(r, req);
	resolve_send_error(r, &req->reply, req->from, rcode, DNS_EDE_NONE);
	return true;
}

/*
 * A TSIG-signed query. miodnsd holds no keys, so whatever the name, it
 * answers as RFC 8945 5.2.1 asks of a server that does not know the key:
 * NOTAUTH with TSIG error BADKEY, unsigned. Forwarded names get the same
 * answer, not REFUSED: we cannot pass a signature on (c-ares builds the
 * upstream query), and BADKEY tells the client's TSIG code exactly why,
 * where REFUSED would read as an access-control problem. Never a silently
 * unsigned success.
 */
static bool
check_tsig(struct resolver *r, struct request *req)
{
	size_t len;

	COUNT(r->counters, tsig_refused);
	req->reply.ra = resolve_recursion(r, req);
	len = dns_build_badkey(&req->reply, req->msg, req->len,
	    req->dq.tsig, r->reply_buf, sizeof(r->reply_buf));
	if (len == 0)
		return check_reject(r, req, DNS_RCODE_FORMERR);
	resolve_send(r, req->from, r->reply_buf, len);
	return true;
}

bool
stage_check(struct resolver *r, struct request *req)
{
	if (req->from->ops->stream)
		COUNT(r->counters, tcp_queries);
	else
		COUNT(r->counters, udp_queries);
	req->verdict = dns_parse_query(req->msg, req->len, &req->dq);
	resolve_reply_to(r, &req->dq, check_limit(r, req), &req->reply);
	/* The common case first, out of the switch: it saves a cache hit
	 * the three instructions the switch's compare chain costs it. */
	if (req->verdict == DNS_QUERY_OK)
		return false;
	switch (req->verdict) {
	case DNS_QUERY_OK:
		return false;
	case DNS_QUERY_TSIG:
		return check_tsig(r, req);
	case DNS_QUERY_DROP:
		COUNT(r->counters, dropped);
		return true;
	case DNS_QUERY_FORMERR:
		COUNT(r->counters, formerr);
		return check_reject(r, req, DNS_RCODE_FORMERR);
	case DNS_QUERY_NOTIMP:
		COUNT(r->counters, notimp);
		return check_reject(r, req, DNS_RCODE_NOTIMP);
	case DNS_QUERY_BADVERS:
		COUNT(r->counters, formerr);
		return check_reject(r, req, DNS_RCODE_BADVERS);
	}
	return true;
}
