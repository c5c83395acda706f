/*
 * t/rrl.c - response rate limiting (daemon/front/rrl.c), compiled in
 * directly: the limit per second, slip 2 alternating drops and truncated
 * answers, slip 1 and 0, a new second starting afresh, IPv4 /24 and IPv6
 * /56 prefixes (and mapped clients) sharing a count, a flooding prefix not
 * limiting its neighbour, a forged-source flood through a tiny table, the
 * counters, and rate 0 being off.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "rrl.h"
#include "tap.h"

static const struct sockaddr *
client(const char *text)
{
	static struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		bail("bad test address %s", text);
	return (const struct sockaddr *)&ss;
}

static struct rrl *
fresh(unsigned rate, unsigned slip, unsigned buckets)
{
	struct rrl_config config = { .rate = rate, .slip = slip,
		.buckets = buckets, .seed = 0x5eed };
	struct rrl *rrl;

	if (rrl_new(&config, &rrl) != 0)
		bail("rrl_new failed");
	return rrl;
}

/* Sends n answers to addr in second now and counts the verdicts. */
static void
burst(struct rrl *rrl, const char *addr, unsigned n, uint64_t now,
    unsigned counts[3])
{
	memset(counts, 0, 3 * sizeof(counts[0]));
	for (unsigned i = 0; i < n; i++)
		counts[rrl_check(rrl, client(addr), now)]++;
}

static void
is_burst(struct rrl *rrl, const char *addr, unsigned n, uint64_t now,
    unsigned sent, unsigned slipped, unsigned dropped)
{
	unsigned c[3];

	burst(rrl, addr, n, now, c);
	ok(c[RRL_SEND] == sent && c[RRL_SLIP] == slipped &&
	    c[RRL_DROP] == dropped,
	    "%u to %s in second %llu: expected %u/%u/%u sent/TC/dropped, "
	    "got %u/%u/%u", n, addr, (unsigned long long)now, sent, slipped,
	    dropped, c[RRL_SEND], c[RRL_SLIP], c[RRL_DROP]);
}

static void
test_slip_two(void)
{
	struct rrl *rrl = fresh(10, 2, 0);
	struct rrl_counters counters;

	is_int(rrl_check(rrl, client("192.0.2.1"), 100), RRL_SEND, "first");
	is_burst(rrl, "192.0.2.1", 9, 100, 9, 0, 0);
	/* The first answer past the limit is dropped, the second TC... */
	is_int(rrl_check(rrl, client("192.0.2.1"), 100), RRL_DROP,
	    "the 11th is dropped");
	is_int(rrl_check(rrl, client("192.0.2.1"), 100), RRL_SLIP,
	    "the 12th is truncated");
	is_burst(rrl, "192.0.2.1", 1000, 100, 0, 500, 500);
	is_burst(rrl, "192.0.2.1", 30, 101, 10, 10, 10);
	rrl_get_counters(rrl, &counters);
	is_int(counters.sent, 20, "counters: sent");
	is_int(counters.slipped, 511, "counters: truncated");
	is_int(counters.dropped, 511, "counters: dropped");
	is_int(counters.evictions, 0, "counters: no evictions");
	rrl_free(rrl);
}

static void
test_slip_one_and_zero(void)
{
	struct rrl *rrl = fresh(5, 1, 0);

	is_burst(rrl, "198.51.100.7", 25, 7, 5, 20, 0);
	rrl_free(rrl);
	rrl = fresh(5, 0, 0);
	is_burst(rrl, "198.51.100.7", 25, 7, 5, 0, 20);
	rrl_free(rrl);
}

static void
test_prefixes(void)
{
	struct rrl *rrl = fresh(4, 2, 0);

	/* One /24: addresses share the count. */
	is_burst(rrl, "203.0.113.1", 2, 1, 2, 0, 0);
	is_burst(rrl, "203.0.113.200", 2, 1, 2, 0, 0);
	is_burst(rrl, "::ffff:203.0.113.9", 2, 1, 0, 1, 1);
	/* The next /24 and other second-level neighbours are separate. */
	is_burst(rrl, "203.0.114.1", 4, 1, 4, 0, 0);
	is_burst(rrl, "203.1.113.1", 4, 1, 4, 0, 0);
	/* One /56: the eighth byte may differ, the seventh may not. */
	is_burst(rrl, "2001:db8:0:100::1", 2, 1, 2, 0, 0);
	is_burst(rrl, "2001:db8:0:1ff::2", 2, 1, 2, 0, 0);
	is_burst(rrl, "2001:db8:0:1ff:ffff::3", 2, 1, 0, 1, 1);
	is_burst(rrl, "2001:db8:0:200::1", 4, 1, 4, 0, 0);
	/* An IPv6 address whose low bits spell an IPv4 /24 is not it. */
	is_burst(rrl, "::203.0.113.1", 4, 1, 4, 0, 0);
	rrl_free(rrl);
}

/* A flood from one prefix leaves a second source its full service. */
static void
test_neighbour_keeps_service(void)
{
	struct rrl *rrl = fresh(100, 2, 0);
	unsigned flood[3] = { 0 }, other[3] = { 0 };

	for (unsigned i = 0; i < 10000; i++) {
		flood[rrl_check(rrl, client("192.0.2.66"), 50)]++;
		if (i % 100 == 0)
			other[rrl_check(rrl, client("198.51.100.2"), 50)]++;
	}
	is_int(flood[RRL_SEND], 100, "the flood gets its 100 a second");
	is_int(flood[RRL_SLIP], 4950, "half of its excess truncated");
	is_int(other[RRL_SEND], 100, "the other source gets every answer");
	rrl_free(rrl);
}

/* Forged sources through a 16-bucket table: nothing grows, a real client
 * under its rate is never limited, and takeovers are counted. */
static void
test_forged_flood(void)
{
	struct rrl *rrl = fresh(3, 2, 16);
	struct rrl_counters counters;
	char addr[32];
	unsigned limited = 0;

	for (unsigned i = 0; i < 20000; i++) {
		snprintf(addr, sizeof(addr), "10.%u.%u.1", (i >> 8) & 0xff,
		    i & 0xff);
		(void)rrl_check(rrl, client(addr), 9);
		if (i % 10000 == 0 &&
		    rrl_check(rrl, client("192.0.2.1"), 9) != RRL_SEND)
			limited++;
	}
	is_int(limited, 0, "a client under the rate is never limited");
	rrl_get_counters(rrl, &counters);
	ok(counters.evictions > 10000, "evictions counted (%llu)",
	    (unsigned long long)counters.evictions);
	rrl_free(rrl);
}

/* Review finding 11: a prefix over its rate keeps its count while many
 * other prefixes pass through its table (4 buckets here, one set). In a
 * direct-mapped table each one that landed on its bucket reset it. */
static void
test_spread_keeps_count(void)
{
	struct rrl *rrl = fresh(10, 0, 4);
	unsigned heavy[3] = { 0 };
	char addr[32];

	for (unsigned i = 0; i < 60; i++) {
		heavy[rrl_check(rrl, client("192.0.2.7"), 70)]++;
		snprintf(addr, sizeof(addr), "10.0.%u.1", i);
		(void)rrl_check(rrl, client(addr), 70);
	}
	is_int(heavy[RRL_SEND], 10, "a prefix among 60 others still gets "
	    "only its 10 a second");
	is_int(heavy[RRL_DROP], 50, "the rest of it dropped");
	rrl_free(rrl);
}

static void
test_off_and_config(void)
{
	struct rrl *rrl = fresh(0, 2, 0);
	struct rrl_config config = { .rate = 1, .buckets = (1u << 24) + 1 };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct rrl_counters counters;

	is_burst(rrl, "192.0.2.1", 100000, 1, 100000, 0, 0);
	rrl_get_counters(rrl, &counters);
	is_int(counters.sent, 100000, "rate 0: everything sent and counted");
	rrl_free(rrl);
	rrl = fresh(1, 2, 3);
	for (int i = 0; i < 5; i++)
		is_int(rrl_check(rrl, (const struct sockaddr *)&sun, 1),
		    RRL_SEND, "a local client is never limited");
	rrl_free(rrl);
	is_int(rrl_new(&config, &rrl), -EINVAL, "too many buckets: EINVAL");
	is_int(rrl_new(NULL, &rrl), -EINVAL, "no config: EINVAL");
	rrl_free(NULL);
}

int
main(void)
{
	plan_lazy();
	test_slip_two();
	test_slip_one_and_zero();
	test_prefixes();
	test_neighbour_keeps_service();
	test_forged_flood();
	test_spread_keeps_count();
	test_off_and_config();
	return tap_failures() != 0;
}
