/*
 * t/query.c - miodnsd's query pipeline (daemon/resolve/) replayed without
 * a network: a fake transport whose client handles record every reply and
 * every detach, and a fake upstream port that records every attempt and
 * answers only when a scenario says so. No socket, no c-ares, no poll.
 * The deadlines are real <mio-timer.h> timers on the monotonic clock, as
 * in the daemon: the scenarios that wait for one run the timer set in a
 * bounded loop (run_timers_for, run_timers_until) and check both sides
 * of the deadline, never firing before it and firing soon after.
 *
 * This is the seam unbound's testcode/fake_event.c gives its worker: the
 * pipeline sees only struct client (client.h) and struct upstream_port
 * (upstream.h), so every scenario below runs the real stages, cache,
 * in-flight table and zones.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dns/cache.h"
#include "resolve/local.h"
#include "resolve/resolve.h"
#include "tap.h"
#include "zone.h"

/* The worker's timer set and batch clock, as worker.c has them. */
static mio_timers *timers;
static struct batch_clock now;

#define MAX_SENT 64
#define MAX_REPLIES 64

/* ---- the fake upstream port --------------------------------------------- */

/* What the pipeline sees as an attempt: here, an index into sent[]. */
struct attempt {
	unsigned index;
};

static struct fake_upstream {
	struct upstream_port port;
	struct sent {
		struct attempt attempt;
		void *cookie;
		unsigned number;	/* the pipeline's attempt number */
		uint8_t msg[512];
		size_t len;
		bool forgotten, answered;
	} sent[MAX_SENT];
	unsigned nsent;
	bool refuse;			/* send() fails */
} up;

static bool
fake_send(struct upstream_port *port, unsigned attempt, uint8_t *msg,
    size_t len, void *cookie, struct attempt **slot)
{
	struct sent *s;

	(void)port;
	if (up.refuse || up.nsent == MAX_SENT || len > sizeof(s->msg))
		return false;
	s = &up.sent[up.nsent];
	memset(s, 0, sizeof(*s));
	s->attempt.index = up.nsent++;
	s->cookie = cookie;
	s->number = attempt;
	memcpy(s->msg, msg, len);
	s->len = len;
	*slot = &s->attempt;
	return true;
}

static void
fake_forget(struct upstream_port *port, struct attempt *a)
{
	(void)port;
	up.sent[a->index].forgotten = true;
}

static const struct upstream_port_ops fake_port_ops = {
	.send = fake_send,
	.forget = fake_forget,
};

/* ---- the fake transport ------------------------------------------------- */

static struct reply {
	void *owner;			/* the handle's owner */
	uint8_t msg[1024];
	size_t len;
} replies[MAX_REPLIES];
static unsigned nreplies;
static unsigned ndetached;

static void
fake_client_send(const struct client *c, const uint8_t *msg, size_t len)
{
	struct reply *r;

	if (nreplies == MAX_REPLIES)
		bail("more than %d replies", MAX_REPLIES);
	r = &replies[nreplies++];
	r->owner = c->owner;
	r->len = len < sizeof(r->msg) ? len : sizeof(r->msg);
	memcpy(r->msg, msg, r->len);
}

static void
fake_client_detach(const struct client *c)
{
	(void)c;
	ndetached++;
}

static const struct client_ops fake_udp_ops = {
	.send = fake_client_send,
	.detach = NULL,
	.stream = false,
};

static const struct client_ops fake_tcp_ops = {
	.send = fake_client_send,
	.detach = fake_client_detach,
	.stream = true,
};

/* Owners: any distinct addresses will do. */
static int owner_a, owner_b, owner_c, owner_tcp;

/* ---- messages ----------------------------------------------------------- */

/* A query for name (dotted, no final dot) and qtype, RD set, no EDNS. */
static size_t
make_query(uint8_t *out, uint16_t id, const char *name, uint16_t qtype,
    uint8_t opcode)
{
	size_t n = 12;
	const char *p = name;

	memset(out, 0, 12);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = (uint8_t)(0x01 | (opcode << 3));
	out[5] = 1;
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t label = dot != NULL ? (size_t)(dot - p) : strlen(p);
		out[n++] = (uint8_t)label;
		memcpy(out + n, p, label);
		n += label;
		p += label + (dot != NULL);
	}
	out[n++] = 0;
	out[n++] = (uint8_t)(qtype >> 8);
	out[n++] = (uint8_t)qtype;
	out[n++] = 0;
	out[n++] = 1;
	return n;
}

/* The length of the header and question of a message. */
static size_t
question_end(const uint8_t *msg)
{
	size_t n = 12;

	while (msg[n] != 0)
		n += 1 + msg[n];
	return n + 5;
}

/* The upstream's answer to sent query s: rcode, and with NOERROR one A
 * record 192.0.2.last with TTL 300. RA is left clear: what the client
 * reads in RA is the pipeline's offer, not the upstream's. */
static size_t
make_answer(const struct sent *s, uint8_t *out, int rcode, uint8_t last)
{
	size_t n = question_end(s->msg);
	static const uint8_t rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44,
		0, 4, 192, 0, 2 };

	memcpy(out, s->msg, n);
	out[2] |= 0x80;				/* QR */
	out[3] = (uint8_t)rcode;
	out[10] = out[11] = 0;			/* no OPT */
	if (rcode != 0)
		return n;
	out[7] = 1;
	memcpy(out + n, rr, sizeof(rr));
	n += sizeof(rr);
	out[n++] = last;
	return n;
}

/* The upstream answers its n-th attempt, unless it was forgotten (as
 * upstream.c drops an attempt whose fetch is gone). */
static void
upstream_answers(unsigned n, int rcode, uint8_t last)
{
	uint8_t buf[600];
	size_t len;

	batch_clock_update(&now);
	if (n >= up.nsent)
		bail("no attempt %u", n);
	up.sent[n].answered = true;
	if (up.sent[n].forgotten)
		return;
	len = make_answer(&up.sent[n], buf, rcode, last);
	up.port.answer(up.sent[n].cookie, UPSTREAM_ANSWER, buf, len, "test");
}

static void
upstream_fails(unsigned n)
{
	batch_clock_update(&now);
	up.sent[n].answered = true;
	if (!up.sent[n].forgotten)
		up.port.answer(up.sent[n].cookie, UPSTREAM_FAILED, NULL, 0,
		    "timeout");
}

static unsigned
reply_id(const struct reply *r)
{
	return (unsigned)(r->msg[0] << 8 | r->msg[1]);
}

static int
reply_rcode(const struct reply *r)
{
	return r->msg[3] & 0xf;
}

/* The last octet of the reply's A record, or -1 without one. */
static int
reply_last_octet(const struct reply *r)
{
	if (r->len < 16 || r->msg[7] != 1)
		return -1;
	return r->msg[r->len - 1];
}

/* ---- the pipeline under test -------------------------------------------- */

static struct config conf;
static struct counters counters;
static struct resolver *res;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One round of the worker's loop without the poll: the batch clock read,
 * the due timers run. */
static void
run_timers_once(void)
{
	batch_clock_update(&now);
	mio_timers_run(timers);
}

/* What the poll would do: sleep until the next deadline, but not past
 * end_ns. */
static void
sleep_until_next(uint64_t end_ns)
{
	struct timespec t;
	uint64_t at = now_ns(), left = end_ns > at ? end_ns - at : 0;

	if (mio_timers_timeout(timers, &t) != 0 ||
	    (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec > left) {
		t.tv_sec = (time_t)(left / 1000000000u);
		t.tv_nsec = (long)(left % 1000000000u);
	}
	nanosleep(&t, NULL);
}

/* Runs the timers as the worker would for ms milliseconds from now, the
 * last run at least RUN_GUARD_NS before the end: a timer that was started
 * before this call with a delay of ms or more cannot fire here (the set
 * counts a delay from its first clock read after the start, which is in
 * here). The guard covers the time between our clock read and the set's. */
#define RUN_GUARD_NS 200000u
static void
run_timers_for(uint64_t ms)
{
	uint64_t end = now_ns() + ms * 1000000u - RUN_GUARD_NS;

	for (int i = 0; i < 100000 && now_ns() < end; i++) {
		run_timers_once();
		sleep_until_next(end);
	}
}

/* Runs the timers until *counter moves or limit_ms pass. */
static void
run_timers_until(const unsigned *counter, uint64_t limit_ms)
{
	uint64_t end = now_ns() + limit_ms * 1000000u;
	unsigned before = *counter;

	for (int i = 0; i < 100000 && now_ns() < end; i++) {
		run_timers_once();
		if (*counter != before)
			return;
		sleep_until_next(end);
	}
}

static struct cache *
new_cache(void)
{
	struct cache_config cc;
	struct cache *c;

	cache_config_defaults(&cc);
	memset(cc.seed, 7, sizeof(cc.seed));
	if (cache_new(&c, &cc) != 0)
		bail("cache_new");
	return c;
}

static struct zone_set *
new_zones(void)
{
	struct zone_set *zones;

	if (local_zones_load(&conf, &zones) != 0)
		bail("local_zones_load");
	return zones;
}

static void
setup(void)
{
	log_init(true, -2);
	config_defaults(&conf);
	conf.builtin_zones = BUILTIN_LOCALHOST;
	conf.timeout_ms = 3000;
	if (mio_timers_new(&timers) != 0)
		bail("mio_timers_new");
	batch_clock_update(&now);
	up.port.ops = &fake_port_ops;
	up.port.count = 2;
	if (resolver_new(&res, &conf, &counters, timers, &now, &up.port) != 0 ||
	    resolver_use(res, new_cache(), new_zones()) != 0)
		bail("resolver_new");
	ok(up.port.answer != NULL,
	    "the pipeline registered its answer callback in the port");
}

/* A query from owner over ops; the pipeline's verdict (kept or not). */
static bool
ask(const struct client_ops *ops, void *owner, uint16_t id,
    const char *name, uint16_t qtype)
{
	struct client c = { .ops = ops, .owner = owner };
	uint8_t msg[300];
	size_t len = make_query(msg, id, name, qtype, 0);

	batch_clock_update(&now);
	return resolve_query(res, msg, len, &c);
}

/* The same with our OPT record (EDNS, 1232 bytes), or also a TSIG record
 * for key "k." after it. */
static bool
ask_edns(void *owner, uint16_t id, const char *name, bool tsig)
{
	static const uint8_t opt[] = { 0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0 };
	static const uint8_t tsig_rr[] = { 1, 'k', 0, 0, 250, 0, 255,
		0, 0, 0, 0, 0, 19, 1, 'x', 0, 0, 0, 1, 2, 3, 4, 1, 44,
		0, 0, 0, 0, 0, 0, 0, 0 };
	struct client c = { .ops = &fake_udp_ops, .owner = owner };
	uint8_t msg[300];
	size_t len = make_query(msg, id, name, 1, 0);

	batch_clock_update(&now);
	memcpy(msg + len, opt, sizeof(opt));
	len += sizeof(opt);
	msg[11] = 1;
	if (tsig) {
		memcpy(msg + len, tsig_rr, sizeof(tsig_rr));
		len += sizeof(tsig_rr);
		msg[11] = 2;
	}
	return resolve_query(res, msg, len, &c);
}

/* The Extended DNS Error of a reply whose OPT record ends it, or -1. */
static int
reply_ede(const struct reply *r)
{
	const uint8_t *p = r->msg + r->len - 6;

	if (r->len < 12 + 6 || p[0] != 0 || p[1] != 15 || p[2] != 0 ||
	    p[3] != 2)
		return -1;
	return p[4] << 8 | p[5];
}

static bool
reply_ra(const struct reply *r)
{
	return (r->msg[3] & 0x80) != 0;
}

static void
reset_log(void)
{
	nreplies = 0;
	ndetached = 0;
}

/* ---- the scenarios ------------------------------------------------------ */

static void
test_miss_then_hit(void)
{
	reset_log();
	ok(ask(&fake_udp_ops, &owner_a, 0x1111, "www.example.org", 1),
	    "miss: the pipeline keeps the query");
	is_int(up.nsent, 1, "miss: one attempt upstream");
	is_int(nreplies, 0, "miss: no reply before the upstream answers");
	is_int(resolve_count(res), 1, "miss: one query in flight");
	is_int(counters.cache_misses, 1, "miss: counted as a miss");
	upstream_answers(0, 0, 1);
	is_int(nreplies, 1, "miss: answered once the upstream answered");
	ok(replies[0].owner == &owner_a, "miss: to the client who asked");
	is_int(reply_id(&replies[0]), 0x1111, "miss: with its ID");
	is_int(reply_last_octet(&replies[0]), 1, "miss: the upstream's A");
	ok(reply_ra(&replies[0]), "miss: RA set (recursion offered), though "
	    "the upstream's answer had it clear");
	is_int(resolve_count(res), 0, "miss: nothing left in flight");

	reset_log();
	ok(!ask(&fake_udp_ops, &owner_b, 0x2222, "WWW.example.ORG", 1),
	    "hit: answered at once, nothing kept");
	is_int(up.nsent, 1, "hit: nothing sent upstream");
	is_int(nreplies, 1, "hit: one reply");
	ok(replies[0].owner == &owner_b, "hit: to the second client");
	is_int(reply_id(&replies[0]), 0x2222, "hit: with the second ID");
	ok(memcmp(replies[0].msg + 13, "WWW", 3) == 0,
	    "hit: the question in the client's own case");
	is_int(reply_last_octet(&replies[0]), 1, "hit: the cached A");
	is_int(counters.cache_hits, 1, "hit: counted as a hit");
}

/* A query for name with the header's flag bytes set to flags1, flags2. */
static bool
ask_flags(void *owner, uint16_t id, const char *name, uint8_t flags1,
    uint8_t flags2)
{
	struct client c = { .ops = &fake_udp_ops, .owner = owner };
	uint8_t msg[300];
	size_t len = make_query(msg, id, name, 1, 0);

	msg[2] = flags1;
	msg[3] = flags2;
	return resolve_query(res, msg, len, &c);
}

/* Clients that differ in RD and AD only share one upstream query; one
 * that differs in CD does not (review finding 8). */
static void
test_merged_flags(void)
{
	unsigned before = up.nsent;

	reset_log();
	ok(ask_flags(&owner_a, 0xa011, "flags.example.org", 0x01, 0x00) &&
	    ask_flags(&owner_b, 0xa012, "flags.example.org", 0x00, 0x20) &&
	    ask_flags(&owner_c, 0xa013, "flags.example.org", 0x01, 0x20) &&
	    ask_flags(&owner_a, 0xa014, "flags.example.org", 0x01, 0x10),
	    "merge flags: four queries kept");
	is_int(up.nsent - before, 2, "merge flags: RD and AD share one "
	    "upstream query, CD gets its own");
	ok(up.sent[before].msg[2] == 0x01 && up.sent[before].msg[3] == 0x20,
	    "merge flags: sent with RD and AD");
	upstream_answers(before, 0, 3);
	upstream_answers(before + 1, 0, 3);
	is_int(nreplies, 4, "merge flags: four replies");
	ok((replies[1].msg[2] & 0x01) == 0 && (replies[0].msg[2] & 0x01),
	    "merge flags: each reply with its client's RD");
	is_int(resolve_count(res), 0, "merge flags: nothing left in flight");
}

static void
test_merged(void)
{
	unsigned before = up.nsent;

	reset_log();
	ok(ask(&fake_udp_ops, &owner_a, 0xa001, "merge.example.org", 1) &&
	    ask(&fake_udp_ops, &owner_b, 0xa002, "merge.example.org", 1) &&
	    ask(&fake_udp_ops, &owner_c, 0xa003, "merge.example.org", 1),
	    "merge: three identical queries kept");
	is_int(up.nsent - before, 1, "merge: one attempt for all three");
	is_int(counters.merged, 2, "merge: two merged");
	is_int(resolve_count(res), 3, "merge: three in flight");
	upstream_answers(before, 0, 2);
	is_int(nreplies, 3, "merge: three replies from one answer");
	ok(reply_id(&replies[0]) == 0xa001 && reply_id(&replies[1]) ==
	    0xa002 && reply_id(&replies[2]) == 0xa003,
	    "merge: each with its own ID, in the order they came");
	ok(replies[0].owner == &owner_a && replies[1].owner == &owner_b &&
	    replies[2].owner == &owner_c, "merge: each to its own client");
	is_int(resolve_count(res), 0, "merge: nothing left in flight");
	test_merged_flags();
}

static void test_outage(void);
static void test_late_answer(void);

static void
test_failover(void)
{
	unsigned first = up.nsent;
	uint64_t start;
	long long took;

	reset_log();
	ask(&fake_udp_ops, &owner_a, 0xb001, "fail.example.org", 1);
	upstream_answers(first, 2, 0);		/* SERVFAIL */
	is_int(up.nsent - first, 2,
	    "failover: an upstream's SERVFAIL is tried elsewhere");
	is_int(up.sent[first + 1].number, 1,
	    "failover: as the fetch's second attempt (the next upstream)");
	is_int(nreplies, 0, "failover: the client waits meanwhile");
	is_int(counters.upstream_retries, 1, "failover: counted as a retry");
	upstream_answers(first + 1, 0, 3);
	is_int(nreplies, 1, "failover: the second upstream's answer");
	is_int(reply_rcode(&replies[0]), 0, "failover: NOERROR");
	is_int(reply_last_octet(&replies[0]), 3, "failover: its A record");

	/* Both upstreams SERVFAIL: the last one's answer is relayed. */
	reset_log();
	first = up.nsent;
	ask(&fake_udp_ops, &owner_a, 0xb002, "fail2.example.org", 1);
	upstream_answers(first, 2, 0);
	upstream_answers(first + 1, 2, 0);
	is_int(up.nsent - first, 2, "failover: no third try with two");
	is_int(nreplies, 1, "failover: every upstream failed: answered");
	is_int(reply_rcode(&replies[0]), 2, "failover: SERVFAIL relayed");

	/* Silence (a timeout) from both: another round after a backoff
	 * (an upstream restarting), whose answer counts. */
	reset_log();
	first = up.nsent;
	ask(&fake_udp_ops, &owner_a, 0xb003, "silent.example.org", 1);
	upstream_fails(first);
	upstream_fails(first + 1);
	is_int(nreplies, 0, "silence: no SERVFAIL while the deadline allows");
	is_int(up.nsent - first, 2, "silence: no third attempt at once");
	start = now_ns();
	run_timers_for(49);
	is_int(up.nsent - first, 2, "silence: nor 49 ms later");
	run_timers_until(&up.nsent, 1000);
	took = (long long)((now_ns() - start) / 1000000u);
	ok(took >= 50 && took < 550,
	    "silence: a new round after the 50 ms backoff (%lld ms)", took);
	is_int(up.nsent - first, 3, "silence: one new attempt");
	upstream_answers(first + 2, 0, 5);
	is_int(nreplies, 1, "silence: the new round's answer");
	is_int(reply_rcode(&replies[0]), 0, "silence: NOERROR");
	test_outage();
	test_late_answer();
}

/* Review finding 4: an attempt silent for upstream-timeout is not given
 * up; the next one is sent, and the first answer to either counts. */
static void
test_late_answer(void)
{
	unsigned first = up.nsent, timeout = conf.upstream_timeout_ms;
	uint64_t start;

	reset_log();
	conf.upstream_timeout_ms = 200;
	up.port.count = 1;
	ask(&fake_udp_ops, &owner_a, 0xb005, "late.example.org", 1);
	start = now_ns();
	run_timers_until(&up.nsent, 1000);
	is_int(up.nsent - first, 2, "late: a second attempt after "
	    "upstream-timeout and the backoff");
	ok(now_ns() - start >= 249000000u, "late: not before 250 ms (%llu ms)",
	    (unsigned long long)((now_ns() - start) / 1000000u));
	ok(!up.sent[first].forgotten, "late: the first attempt is still kept");
	upstream_answers(first, 0, 6);
	ok(nreplies == 1 && reply_rcode(&replies[0]) == 0 &&
	    reply_last_octet(&replies[0]) == 6,
	    "late: the first attempt's late answer is taken");
	ok(up.sent[first + 1].forgotten, "late: the second one forgotten");
	is_int(resolve_count(res), 0, "late: nothing left in flight");
	up.port.count = 2;
	conf.upstream_timeout_ms = timeout;
}

/* Upstreams silent for good: rounds with a doubling backoff until the
 * deadline, then SERVFAIL. */
static void
test_outage(void)
{
	unsigned first = up.nsent, done = first;
	uint64_t start = now_ns(), took;

	reset_log();
	ask(&fake_udp_ops, &owner_a, 0xb004, "down.example.org", 1);
	/* At most twice the deadline of real time, in rounds of 10 ms. */
	for (int i = 0; i < 600 && nreplies == 0; i++) {
		while (done < up.nsent)
			upstream_fails(done++);
		run_timers_until(&up.nsent, 10);
	}
	took = (now_ns() - start) / 1000000u;
	is_int(nreplies, 1, "outage: answered in the end");
	is_int(reply_rcode(&replies[0]), 2, "outage: SERVFAIL");
	/* The last round ends when the next backoff (at most 800 ms) would
	 * pass the deadline. */
	ok(took + 800 >= conf.timeout_ms,
	    "outage: not long before the deadline (%llu ms of %u)",
	    (unsigned long long)took, conf.timeout_ms);
	ok(up.nsent - first >= 8 && up.nsent - first <= 16,
	    "outage: rounds with backoff, not a flood (%u attempts)",
	    up.nsent - first);
}

/* use-caps-for-id: the upstream question in random case; an answer that
 * echoes it is taken, one that does not is refused and the fetch goes on
 * without 0x20 (the next upstream, at once). */
static void
test_caps_for_id(void)
{
	static const char name[] = "abcdefghijklmnopqrstuvwxyzabcdefghij.example.org";
	unsigned first = up.nsent;
	uint64_t mismatches = counters.upstream_caps_mismatch;
	uint8_t plain[300];
	size_t qend;

	conf.use_caps_for_id = true;
	reset_log();
	ask(&fake_udp_ops, &owner_a, 0xd001, name, 1);
	qend = question_end(up.sent[first].msg);
	make_query(plain, 0, name, 1, 0);
	ok(memcmp(up.sent[first].msg + 12, plain + 12, qend - 12) != 0,
	    "0x20: the upstream question is not as the client wrote it");
	ok(strncasecmp((const char *)up.sent[first].msg + 13,
	    (const char *)plain + 13, 36) == 0,
	    "0x20: but the same name in any case");
	upstream_answers(first, 0, 6);
	is_int(nreplies, 1, "0x20: an answer in the same case is taken");
	is_int(reply_last_octet(&replies[0]), 6, "0x20: its A record");

	reset_log();
	first = up.nsent;
	ask(&fake_udp_ops, &owner_a, 0xd002, "zz" "abcdefghijklmnopqrstuvwxyz.example.org", 1);
	qend = question_end(up.sent[first].msg);
	for (size_t i = 13; i < qend - 4; i++)
		up.sent[first].msg[i] = (uint8_t)tolower(up.sent[first].msg[i]);
	upstream_answers(first, 0, 7);
	is_int(nreplies, 0, "0x20: an answer in another case is refused");
	is_int(counters.upstream_caps_mismatch, mismatches + 1,
	    "0x20: counted as upstream-caps-mismatch");
	is_int(up.nsent - first, 2, "0x20: the next upstream is asked at once");
	make_query(plain, 0, "zz" "abcdefghijklmnopqrstuvwxyz.example.org", 1, 0);
	ok(memcmp(up.sent[first + 1].msg + 12, plain + 12, qend - 12) == 0,
	    "0x20: without random case this time (the fallback)");
	upstream_answers(first + 1, 0, 8);
	is_int(nreplies, 1, "0x20: and its answer is taken");
	is_int(reply_last_octet(&replies[0]), 8, "0x20: its A record");
	conf.use_caps_for_id = false;
}

static void
test_deadline(void)
{
	unsigned first = up.nsent, saved_timeout = conf.timeout_ms;
	uint64_t start;
	long long took;

	/* A short deadline of real time: the timers are real. */
	conf.timeout_ms = 300;
	reset_log();
	start = now_ns();
	ask(&fake_udp_ops, &owner_a, 0xc001, "slow.example.org", 1);
	run_timers_for(conf.timeout_ms - 1);
	is_int(nreplies, 0, "deadline: nothing 1 ms before it");
	run_timers_until(&nreplies, 2000);
	took = (long long)((now_ns() - start) / 1000000u);
	is_int(nreplies, 1, "deadline: answered at the deadline");
	ok(took >= conf.timeout_ms && took < conf.timeout_ms + 500,
	    "deadline: %lld ms after the query (deadline %u ms)", took,
	    conf.timeout_ms);
	is_int(reply_rcode(&replies[0]), 2, "deadline: SERVFAIL");
	is_int(reply_id(&replies[0]), 0xc001, "deadline: with the ID");
	is_int(counters.timeouts, 1, "deadline: counted as a timeout");
	ok(reply_ra(&replies[0]), "deadline: RA set");
	is_int(reply_ede(&replies[0]), -1, "deadline: no EDE without EDNS");
	ok(up.sent[first].forgotten,
	    "deadline: the attempt was forgotten by the port");
	is_int(resolve_count(res), 0, "deadline: nothing left in flight");
	upstream_answers(first, 0, 4);
	is_int(nreplies, 1, "deadline: a late answer reaches no one");

	reset_log();
	first = up.nsent;
	ask_edns(&owner_a, 0xc002, "slow2.example.org", false);
	run_timers_until(&nreplies, 2000);
	ok(nreplies == 1 && reply_rcode(&replies[0]) == 2 &&
	    reply_ede(&replies[0]) == 22,
	    "deadline with EDNS: SERVFAIL, EDE 22 (No Reachable Authority)");
	upstream_answers(first, 0, 4);
	conf.timeout_ms = saved_timeout;
}

static void
test_tcp_gone(void)
{
	unsigned first = up.nsent;

	reset_log();
	ok(ask(&fake_tcp_ops, &owner_tcp, 0xd001, "tcp.example.org", 1),
	    "tcp: the query is kept");
	is_int(counters.tcp_queries, 1, "tcp: counted as a TCP query");
	is_int(ndetached, 0, "tcp: not detached while in flight");
	resolve_forget(res, &owner_tcp);
	upstream_answers(first, 0, 5);
	is_int(nreplies, 0, "tcp: the client gone, its answer goes nowhere");
	is_int(ndetached, 0, "tcp: and a forgotten handle is not detached");
	is_int(resolve_count(res), 0, "tcp: the query ended all the same");
	reset_log();
	ok(!ask(&fake_udp_ops, &owner_a, 0xd002, "tcp.example.org", 1),
	    "tcp: the answer was cached for the next client");
	is_int(reply_last_octet(&replies[0]), 5, "tcp: the cached answer");

	/* A TCP client that stays: detached exactly once, at its answer. */
	reset_log();
	first = up.nsent;
	ask(&fake_tcp_ops, &owner_tcp, 0xd003, "tcp2.example.org", 1);
	upstream_answers(first, 0, 6);
	is_int(nreplies, 1, "tcp: a client that stays gets its answer");
	is_int(ndetached, 1, "tcp: and is detached once");

	/* Forgetting one owner leaves the others' queries alone, whatever
	 * chain they share (query.c keeps queries by owner). */
	reset_log();
	first = up.nsent;
	ask(&fake_tcp_ops, &owner_tcp, 0xd004, "tcp3.example.org", 1);
	ask(&fake_tcp_ops, &owner_c, 0xd005, "tcp4.example.org", 1);
	ask(&fake_udp_ops, &owner_a, 0xd006, "tcp5.example.org", 1);
	resolve_forget(res, &owner_tcp);
	resolve_forget(res, &owner_b);	/* nothing of its own in flight */
	upstream_answers(first, 0, 7);
	upstream_answers(first + 1, 0, 7);
	upstream_answers(first + 2, 0, 7);
	ok(nreplies == 2 && replies[0].owner == &owner_c &&
	    replies[1].owner == &owner_a,
	    "tcp: only the forgotten owner's answer goes nowhere");
	is_int(resolve_count(res), 0, "tcp: all three ended");
}

static void
test_reload_in_flight(void)
{
	unsigned first = up.nsent;
	uint64_t merged = counters.merged, hits = counters.cache_hits;

	reset_log();
	ask(&fake_udp_ops, &owner_a, 0xe001, "reload.example.org", 1);
	/* A reload: a new (empty) cache and new zones, as worker_apply()
	 * hands them over. */
	ok(resolver_use(res, new_cache(), new_zones()) == 0,
	    "reload: the new cache and zones taken while a query waits");
	ok(ask(&fake_udp_ops, &owner_b, 0xe002, "reload.example.org", 1),
	    "reload: an identical query after the reload is kept");
	is_int(counters.merged - merged, 1,
	    "reload: it joins the fetch begun before the reload");
	is_int(up.nsent - first, 1, "reload: still one attempt");
	upstream_answers(first, 0, 7);
	is_int(nreplies, 2, "reload: both answered");
	reset_log();
	ask(&fake_udp_ops, &owner_c, 0xe003, "reload.example.org", 1);
	is_int(counters.cache_hits - hits, 1,
	    "reload: the answer went into the new cache");
	is_int(reply_last_octet(&replies[0]), 7, "reload: and is served");
	reset_log();
	ask(&fake_udp_ops, &owner_c, 0xe004, "www.example.org", 1);
	is_int(up.nsent - first, 2,
	    "reload: what the old cache held is asked again");
	upstream_answers(first + 1, 0, 1);
}

static void
test_local_and_checks(void)
{
	struct client c = { .ops = &fake_udp_ops, .owner = &owner_a };
	uint8_t msg[300];
	unsigned sent = up.nsent;
	size_t len;

	memset(msg, 0, sizeof(msg));
	reset_log();
	ok(!ask(&fake_udp_ops, &owner_a, 0xf001, "localhost", 1),
	    "local: localhost. is answered at once");
	is_int(reply_last_octet(&replies[0]), 1, "local: 127.0.0.1");
	is_int(counters.authoritative, 1, "local: counted");
	ok((replies[0].msg[2] & 0x04) != 0, "local: authoritative (AA)");
	ok(reply_ra(&replies[0]), "local: RA set: this client may recurse");
	reset_log();
	ok(!ask_edns(&owner_a, 0xf003, "localhost", true) && nreplies == 1,
	    "tsig: answered at once");
	ok(reply_rcode(&replies[0]) == 9 && replies[0].msg[11] == 2 &&
	    replies[0].msg[7] == 0,
	    "tsig: NOTAUTH, no answer, OPT and TSIG (BADKEY) only");
	is_int(counters.tsig_refused, 1, "tsig: counted");
	reset_log();
	ok(!ask_edns(&owner_a, 0xf004, "www.example.org", true) &&
	    nreplies == 1 && reply_rcode(&replies[0]) == 9,
	    "tsig: a forwarded name gets the same NOTAUTH, never forwarded");
	memset(msg, 0, sizeof(msg));
	reset_log();
	ok(!resolve_query(res, msg, 11, &c) && nreplies == 0,
	    "check: 11 bytes are dropped without a reply");
	is_int(counters.dropped, 1, "check: counted as dropped");
	len = make_query(msg, 0xf002, "x.example.org", 1, 5);	/* UPDATE */
	resolve_query(res, msg, len, &c);
	is_int(reply_rcode(&replies[0]), 4, "check: opcode UPDATE: NOTIMP");
	ok(reply_ra(&replies[0]), "check: NOTIMP says RA as every reply");
	is_int(up.nsent, sent, "local and check: nothing sent upstream");
}

static void
test_limits(void)
{
	unsigned sent = up.nsent;

	reset_log();
	conf.max_inflight = 1;
	ask(&fake_udp_ops, &owner_a, 0x7001, "one.example.org", 1);
	ok(!ask(&fake_udp_ops, &owner_b, 0x7002, "two.example.org", 1),
	    "busy: past max-inflight the query is not kept");
	is_int(reply_rcode(&replies[0]), 5, "busy: REFUSED");
	is_int(counters.refused_busy, 1, "busy: counted");
	/* Finding 1: past the jostle time the oldest query makes room. */
	reset_log();
	run_timers_for(250);
	ok(ask(&fake_udp_ops, &owner_b, 0x7008, "eight.example.org", 1),
	    "jostle: after 250 ms a new query pushes the oldest out");
	ok(nreplies == 1 && reply_id(&replies[0]) == 0x7001 &&
	    reply_rcode(&replies[0]) == 2, "jostle: the oldest got SERVFAIL");
	is_int(counters.jostled, 1, "jostle: counted");
	is_int(resolve_count(res), 1, "jostle: still one in flight");
	upstream_answers(sent + 1, 0, 8);
	conf.max_inflight = 100;

	reset_log();
	up.port.count = 0;
	ok(!ask(&fake_udp_ops, &owner_a, 0x7003, "three.example.org", 1),
	    "zones only: a foreign name is not kept");
	is_int(reply_rcode(&replies[0]), 5, "zones only: REFUSED");
	ok(!reply_ra(&replies[0]), "zones only: RA clear");
	reset_log();
	ask_edns(&owner_a, 0x7005, "three.example.org", false);
	is_int(reply_ede(&replies[0]), 20, "zones only: EDE 20 (Not "
	    "Authoritative) to an EDNS client");
	reset_log();
	ask(&fake_udp_ops, &owner_a, 0x7006, "localhost", 1);
	ok(reply_rcode(&replies[0]) == 0 && !reply_ra(&replies[0]),
	    "zones only: a local answer with RA clear, as NSD's");
	up.port.count = 2;

	reset_log();
	up.refuse = true;
	ask(&fake_udp_ops, &owner_a, 0x7004, "four.example.org", 1);
	is_int(reply_rcode(&replies[0]), 2,
	    "no upstream takes the attempt: SERVFAIL at once");
	reset_log();
	ask_edns(&owner_a, 0x7007, "five.example.org", false);
	is_int(reply_ede(&replies[0]), 23,
	    "nothing could be sent: EDE 23 (Network Error)");
	up.refuse = false;
	is_int(resolve_count(res), 0, "limits: nothing left in flight");
}

/* What the pipeline does when a timer cannot be started (the worker's set
 * out of memory; clock.h's test hook makes mio_timer_start() fail). */
static void
test_timer_failure(void)
{
	unsigned first = up.nsent;

	reset_log();
	atomic_store(&clock_timer_failures, 1);
	ok(!ask(&fake_udp_ops, &owner_a, 0x7101, "nodeadline.example.org", 1),
	    "no deadline: the query is not kept");
	ok(nreplies == 1 && reply_rcode(&replies[0]) == 2 &&
	    reply_id(&replies[0]) == 0x7101, "no deadline: SERVFAIL at once");
	is_int(up.nsent - first, 0, "no deadline: nothing sent upstream");
	is_int(resolve_count(res), 0, "no deadline: nothing in flight");

	reset_log();
	first = up.nsent;
	ask(&fake_udp_ops, &owner_a, 0x7102, "nobackoff.example.org", 1);
	upstream_fails(first);
	is_int(nreplies, 0, "no backoff timer: the first silence is retried");
	atomic_store(&clock_timer_failures, 1);
	upstream_fails(first + 1);
	ok(nreplies == 1 && reply_rcode(&replies[0]) == 2,
	    "no backoff timer: SERVFAIL now, not at the deadline");
	is_int(up.nsent - first, 2, "no backoff timer: no third attempt");
	is_int(resolve_count(res), 0, "no backoff timer: nothing in flight");
	is_int(atomic_load(&clock_timer_failures), 0,
	    "the hook's failures were all used");
}

int
main(void)
{
	plan_lazy();
	setup();
	test_miss_then_hit();
	test_merged();
	test_failover();
	test_deadline();
	test_caps_for_id();
	test_tcp_gone();
	test_reload_in_flight();
	test_local_and_checks();
	test_limits();
	test_timer_failure();
	resolver_free(res);
	mio_timers_free(timers);
	return 0;
}
