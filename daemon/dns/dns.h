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
/* An Extended DNS Error option (RFC 8914) with its INFO-CODE and no
 * EXTRA-TEXT: option code, length, info-code. */
#define DNS_EDE_LEN 6

/* What dns_parse_query() thinks of a message from a client. */
enum dns_verdict {
	DNS_QUERY_OK,
	DNS_QUERY_DROP,		/* no usable header, or not a query */
	DNS_QUERY_FORMERR,
	DNS_QUERY_NOTIMP,
	DNS_QUERY_BADVERS,
	DNS_QUERY_TSIG,		/* signed: q->tsig is the TSIG's offset */
};

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_NOTAUTH = 9,
	DNS_RCODE_BADVERS = 16,
};

/* The Extended DNS Errors miodnsd gives (RFC 8914 section 4); NONE for
 * an error without one (0 is a code too: Other). */
enum dns_ede {
	DNS_EDE_NONE = -1,
	DNS_EDE_PROHIBITED = 18,	/* access control refused it */
	DNS_EDE_NOT_AUTHORITATIVE = 20,	/* not ours, and no recursion */
	DNS_EDE_NO_REACHABLE_AUTHORITY = 22, /* no upstream answered */
	DNS_EDE_NETWORK_ERROR = 23,	/* upstream answers were unusable */
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
	size_t tsig;			/* offset of a TSIG record, or 0 */
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
	bool ra;			/* recursion is offered to this client */
	bool ede;			/* dns_build_error(): add ede_code */
	uint16_t ede_code;		/* an enum dns_ede */
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
size_t dns_build_badkey(const struct dns_reply *r, const uint8_t *msg,
    size_t len, size_t tsig, uint8_t *out, size_t cap);
size_t dns_dress_hit(const struct dns_reply *r, uint8_t *msg, size_t len);
int dns_build_answer(const struct dns_reply *r, const uint8_t *answer,
    size_t alen, uint8_t *out, size_t cap, size_t *outlen, bool *truncated);

#define DNS_FLAG_RA 0x80
#define DNS_FLAG_AD 0x20
#define DNS_FLAG_CD 0x10

/*
 * Byte 3 of a relayed answer (upstream or cache): the upstream's RCODE;
 * RA when we offer the client recursion; CD as the client set it; AD, the
 * upstream's claim, only to a client that set AD or DO and so says it
 * understands it, as RFC 6840 5.7 and 5.8 ask of a non-validating
 * forwarder; Z clear. Inline so that the cache, which stores answers
 * dressed this way, needs no more of the codec than this header.
 */
static inline uint8_t
dns_relay_flags2(uint8_t answer_flags2, uint8_t query_flags2, bool query_do,
    bool ra)
{
	bool ad = (answer_flags2 & DNS_FLAG_AD) &&
	    ((query_flags2 & DNS_FLAG_AD) || query_do);

	return (uint8_t)((answer_flags2 & 0xf) | (ra ? DNS_FLAG_RA : 0) |
	    (query_flags2 & DNS_FLAG_CD) | (ad ? DNS_FLAG_AD : 0));
}

#endif /* MIODNSD_DNS_H */
