/*
 * stub.h - a loopback DNS server for the tests of mio-ares and miodnsd.
 *
 * It serves the zone example.test over UDP and TCP on one port of 127.0.0.1
 * or ::1, and misbehaves on request: globally through struct stub_config
 * (t/dnsstub's flags), or per query through the first label of the name:
 *
 *   a, mail         A 192.0.2.1, AAAA 2001:db8::1, MX 10 mail.example.test,
 *                   TXT "hello world"
 *   *.load          A 192.0.2.2 (any name below load.example.test)
 *   big             4 TXT strings of 200 bytes (an answer of about 900 bytes)
 *   huge            16 TXT strings of 250 bytes (about 4200 bytes)
 *   many            60 A records (about 1000 bytes)
 *   tag             TXT with the configured tag, "stub" by default
 *   count           TXT with the number of queries received so far (this
 *                   one included), for tests that count upstream queries
 *   servfail        SERVFAIL
 *   refused         REFUSED
 *   drop            no answer at all
 *   delayN          the answer of "a" after N milliseconds (delay300)
 *   split           over TCP, the answer written one byte at a time
 *   ad              the answer of "a", with AD set (validated, it claims)
 *   tc              over UDP, always an empty answer with TC set
 *   formerr         FORMERR without an OPT record
 *   anything else   NXDOMAIN with the zone's SOA; names outside the zone
 *                   are REFUSED
 *
 * A query with an OPT record gets an OPT record back (size 1232, DO copied,
 * no options) and a UDP limit of its advertised size; without one the
 * limit is 512. An answer over the limit goes out empty with TC set, as a
 * real server does, so that resolvers retry over TCP. Over TCP, answers go
 * out as one write() of the length and the message unless split.
 */
#ifndef MIO_T_STUB_H
#define MIO_T_STUB_H

#include <stdbool.h>
#include <stdint.h>

struct stub_config {
	int family;		/* AF_INET (default when 0) or AF_INET6 */
	uint16_t port;		/* 0 for an ephemeral port */
	int delay_ms;		/* added to every answer */
	bool drop;		/* never answer */
	bool servfail;		/* answer everything with SERVFAIL */
	bool truncate_udp;	/* every UDP answer empty with TC set */
	bool split_tcp;		/* every TCP answer one byte at a time */
	bool no_edns;		/* FORMERR without OPT to queries with OPT */
	bool verbose;		/* one line per query on stderr */
	int garble;		/* flip this many bits after the question */
	const char *tag;	/* the TXT of tag.example.test */
};

/* Counters, readable from another thread while the stub runs. */
struct stub_counts {
	unsigned udp_queries;
	unsigned tcp_queries;
	unsigned tcp_connections;
	unsigned answers;
};

struct stub;

/* Binds the UDP and TCP sockets (same port); NULL with errno on failure. */
struct stub *stub_new(const struct stub_config *config);
uint16_t stub_port(const struct stub *stub);
/* Serves until stub_stop(); returns 0, or -1 with errno. */
int stub_run(struct stub *stub);
/* Makes stub_run() return; safe from another thread or a signal handler. */
void stub_stop(struct stub *stub);
void stub_get_counts(struct stub *stub, struct stub_counts *counts);
/* Runs the stub on a thread of its own; stub_join() stops and waits. */
int stub_start_thread(struct stub *stub);
void stub_join(struct stub *stub);
/* Closes the sockets and frees everything; the stub must not run. */
void stub_free(struct stub *stub);

#endif /* MIO_T_STUB_H */
