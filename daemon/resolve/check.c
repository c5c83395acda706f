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
	resolve_send_error(r, &req->dq, req->from, req->reply.limit, rcode);
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
	switch (req->verdict) {
	case DNS_QUERY_OK:
		return false;
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
