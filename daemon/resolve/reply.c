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
resolve_send_error(struct resolver *r, const struct dns_reply *reply,
    const struct client *to, int rcode, int ede)
{
	struct dns_reply error = *reply;

	error.ede = ede != DNS_EDE_NONE;
	error.ede_code = (uint16_t)(error.ede ? ede : 0);
	resolve_send(r, to, r->reply_buf, dns_build_error(&error, rcode,
	    r->reply_buf, sizeof(r->reply_buf)));
}

