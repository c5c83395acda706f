/*
 * reply.c - error replies. Replies leave the pipeline dressed for their
 * client (dns.h) and through the client's handle (client.h), never
 * through a transport named here: resolve_reply_to() and resolve_send()
 * (inline in stages.h, since every cache hit takes them) and, for the
 * RCODE-only replies every stage may give, resolve_send_error() here.
 */
#include "config.h"

#include "resolve/stages.h"

void
resolve_send_error(struct resolver *r, const struct dns_query *dq,
    const struct client *to, size_t limit, int rcode)
{
	struct dns_reply reply;

	resolve_reply_to(r, dq, limit, &reply);
	resolve_send(r, to, r->reply_buf, dns_build_error(&reply, rcode,
	    r->reply_buf, sizeof(r->reply_buf)));
}

