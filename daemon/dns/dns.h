/*
 * dns.h - the DNS codec: checking a client's query, building the upstream
 * query, and dressing replies (errors, local answers, relayed and cached
 * answers) for one client.
 *
 * The codec has no state: every function works on the buffers it is
 * given, so the pipeline, the tests and the fuzzers call it alike.
 */
#ifndef MIODNSD_DNS_H
#define MIODNSD_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_PORT 53
#define DNS_MAX_MESSAGE 65535
/* The flag-day EDNS size: used upstream and advertised to clients. */
#define DNS_EDNS_SIZE 1232
/* Our OPT record: root owner, type, size, extended RCODE and flags, no
 * options. */
#define DNS_OPT_LEN 11

/* What dns_parse_query() thinks of a message from a client. */
enum dns_verdict {
	DNS_QUERY_OK,
	DNS_QUERY_DROP,		/* no usable header, or not a query */
	DNS_QUERY_FORMERR,
	DNS_QUERY_NOTIMP,
	DNS_QUERY_BADVERS,
};

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16,
};

/*
 * A client's query as far as forwarding needs it. The question points into
 * the message it was parsed from; the pipeline copies it.
 */
struct dns_query {
	uint16_t id;
	uint8_t flags1, flags2;		/* header bytes 2 and 3 */
	const uint8_t *question;	/* name, type, class, or NULL */
	size_t question_len;
	uint16_t qtype, qclass;
	bool edns;
	uint16_t edns_size;
	bool edns_do;
};

/* How to dress a reply for one client (dns_build_*). */
struct dns_reply {
	uint16_t id;
	uint8_t flags1, flags2;		/* the client's header bytes 2 and 3 */
	const uint8_t *question;
	size_t question_len;
	bool edns;			/* add our OPT record */
	bool edns_do;
	uint16_t edns_size;		/* advertised in our OPT */
	size_t limit;			/* the largest reply the client takes */
};

enum dns_verdict dns_parse_query(const uint8_t *msg, size_t len,
    struct dns_query *q);
size_t dns_build_upstream(const struct dns_query *q, uint16_t edns_size,
    uint8_t *out, size_t cap);
size_t dns_reply_begin(const struct dns_reply *r, uint8_t *out, size_t cap);
size_t dns_reply_end(const struct dns_reply *r, uint8_t *out, size_t len,
    size_t cap);
size_t dns_build_error(const struct dns_reply *r, int rcode, uint8_t *out,
    size_t cap);
size_t dns_dress_hit(const struct dns_reply *r, uint8_t *msg, size_t len);
int dns_build_answer(const struct dns_reply *r, const uint8_t *answer,
    size_t alen, uint8_t *out, size_t cap, size_t *outlen, bool *truncated);

#endif /* MIODNSD_DNS_H */
