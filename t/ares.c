/*
 * t/ares.c - mio-ares: c-ares resolving through the loopback stub (t/stub.h)
 * in every mode the stub has, under libmio's edge-triggered polling.
 *
 * The point of most cases is c-ares 1.18's one-recv-per-call TCP reader: an
 * answer written in one segment, or a byte at a time, must complete long
 * before the query's timeout. The rest cover timeouts folded into the poll
 * timeout, timeouts through a <mio-timer.h> set, stale tokens, and the
 * deferred cancel and free. The cases run
 * again with mio_ares_use_fresh_ports(), whose own checks (a server of
 * this file that notes source ports and forges answers) count distinct
 * ports over 2,000 queries with 100 outstanding, forged answers from
 * another port and with a wrong ID, and the cap on open query sockets.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mio-ares.h"
#include "stub.h"
#include "util.h"

struct result {
	bool done;
	int status;
	int rcode;
	int ancount;
	int alen;
	long long at_ms;
};

struct env {
	mio_poll *poll;
	mio_events *events;
	struct stub *stub;
	mio_ares *ares;
	int loops;		/* polls made by the last run_until() */
	mio_token last_token;	/* the last adapter token seen in an event */
};

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct result *r = arg;

	(void)timeouts;
	r->done = true;
	r->status = status;
	r->alen = alen;
	r->at_ms = now_ms();
	if (abuf != NULL && alen >= 12) {
		r->rcode = abuf[3] & 0x0f;
		r->ancount = abuf[6] << 8 | abuf[7];
	}
}

/* A query for name/type with ID id and, if edns, a bare OPT record. */
static int
make_query(unsigned char *buf, const char *name, int type, int id, bool edns)
{
	int len = 12;

	memset(buf, 0, 12);
	buf[0] = (unsigned char)(id >> 8);
	buf[1] = (unsigned char)id;
	buf[2] = 0x01;		/* RD */
	buf[5] = 1;
	while (*name) {
		const char *dot = strchr(name, '.');
		int n = dot ? (int)(dot - name) : (int)strlen(name);
		buf[len++] = (unsigned char)n;
		memcpy(buf + len, name, (size_t)n);
		len += n;
		name += n + (dot ? 1 : 0);
	}
	buf[len++] = 0;
	buf[len++] = 0;
	buf[len++] = (unsigned char)type;
	buf[len++] = 0;
	buf[len++] = 1;
	if (edns) {
		static const unsigned char opt[11] = { 0, 0, 41, 0x04, 0xd0 };
		memcpy(buf + len, opt, sizeof(opt));
		len += (int)sizeof(opt);
		buf[11] = 1;
	}
	return len;
}

static void
send_query(struct env *e, const char *name, int type, int id,
    struct result *r)
{
	unsigned char q[512];
	int len = make_query(q, name, type, id, true);

	memset(r, 0, sizeof(*r));
	mio_ares_send(e->ares, q, len, on_answer, r);
}

/* Whether new_channel() turns on mio_ares_use_fresh_ports(): the cases
 * run once without and once with it. */
static bool fresh_ports;

static int
new_channel(struct env *e, int flags, int timeout_ms, mio_ares **out)
{
	struct ares_options o;
	char csv[64];
	int rc, optmask;

	memset(&o, 0, sizeof(o));
	o.flags = flags | ARES_FLAG_EDNS;
	o.timeout = timeout_ms;
	o.tries = 1;
	o.nservers = 0;
	o.ednspsz = 1232;
	optmask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_SERVERS | ARES_OPT_EDNSPSZ;
#if ARES_VERSION >= 0x011700
	/* Every query must reach the stub: no answers from c-ares' cache
	 * (on by default since 1.31). */
	optmask |= ARES_OPT_QUERY_CACHE;
	o.qcache_max_ttl = 0;
#endif
	rc = mio_ares_new(mio_poll_registry(e->poll), &o, optmask, out);
	if (rc != 0)
		return rc;
	snprintf(csv, sizeof(csv), "127.0.0.1:%u", stub_port(e->stub));
	if (ares_set_servers_ports_csv(mio_ares_channel(*out), csv) !=
	    ARES_SUCCESS)
		bail("ares_set_servers_ports_csv(%s) failed", csv);
	if (fresh_ports && (rc = mio_ares_use_fresh_ports(*out, 0)) != 0)
		bail("mio_ares_use_fresh_ports: %s", mio_strerror(rc));
	return 0;
}

static void
env_init(struct env *e, const struct stub_config *config, int flags,
    int timeout_ms)
{
	int rc;

	memset(e, 0, sizeof(*e));
	if (mio_poll_new(&e->poll) != 0 || mio_events_new(&e->events, 64) != 0)
		bail("poll setup failed");
	if ((e->stub = stub_new(config)) == NULL)
		sysbail("stub_new");
	if (stub_start_thread(e->stub) != 0)
		bail("stub thread");
	if ((rc = new_channel(e, flags, timeout_ms, &e->ares)) != 0)
		bail("mio_ares_new: %s", mio_strerror(rc));
}

static void
env_fini(struct env *e)
{
	mio_ares_free(e->ares);
	stub_join(e->stub);
	stub_free(e->stub);
	mio_events_free(e->events);
	mio_poll_free(e->poll);
}

/* Polls until every result is done or limit_ms passed, the way a program
 * would: c-ares' deadline folded into the timeout, timeouts processed
 * after every poll. The extra adapter may be NULL. */
static bool
run_until(struct env *e, mio_ares *extra, struct result *r, int n,
    long long limit_ms)
{
	long long end = now_ms() + limit_ms;

	e->loops = 0;
	for (;;) {
		int pending = 0;
		for (int i = 0; i < n; i++)
			pending += !r[i].done;
		if (pending == 0)
			return true;
		long long left = end - now_ms();
		if (left <= 0)
			return false;
		struct timespec cap = ms_timeout(left), b1, b2;
		const struct timespec *t = mio_ares_timeout(e->ares, &cap, &b1);
		if (extra != NULL)
			t = mio_ares_timeout(extra, t, &b2);
		mio_poll_poll(e->poll, e->events, t);
		e->loops++;
		MIO_EVENTS_FOREACH(ev, e->events) {
			if (mio_ares_process_event(e->ares, ev)) {
				e->last_token = mio_event_token(ev);
				continue;
			}
			if (extra == NULL || !mio_ares_process_event(extra, ev))
				diag("event with a foreign token");
		}
		mio_ares_process_timeouts(e->ares);
		if (extra != NULL)
			mio_ares_process_timeouts(extra);
	}
}

static void
check_new_errors(void)
{
	mio_poll *poll;
	mio_ares *ma = NULL;
	struct ares_options o = { .flags = 0 };

	if (mio_poll_new(&poll) != 0)
		bail("mio_poll_new");
	is_errno(mio_ares_new(NULL, NULL, 0, &ma), -EINVAL,
	    "mio_ares_new without a registry is -EINVAL");
	is_errno(mio_ares_new(mio_poll_registry(poll), &o,
		     ARES_OPT_SOCK_STATE_CB, &ma), -EINVAL,
	    "the socket-state callback is the adapter's: -EINVAL");
	is_errno(mio_ares_new(mio_poll_registry(poll), NULL, ARES_OPT_FLAGS,
		     &ma), -EINVAL, "an optmask without options is -EINVAL");
	ok(ma == NULL, "and nothing was created");
	mio_ares_free(NULL);
	mio_poll_free(poll);
}

/* One query through a stub configured by config; name decides the mode. */
static void
check_mode(const char *what, const struct stub_config *config, int flags,
    const char *name, int type, int want_ancount)
{
	struct env e;
	struct result r;
	long long start;
	struct stub_counts counts;

	env_init(&e, config, flags, 2000);
	start = now_ms();
	send_query(&e, name, type, 0x1234, &r);
	ok(run_until(&e, NULL, &r, 1, 3000), "%s: the callback ran", what);
	is_int(r.status, ARES_SUCCESS, "%s: status ARES_SUCCESS", what);
	is_int(r.ancount, want_ancount, "%s: %d answer records", what,
	    want_ancount);
	ok(r.at_ms - start < 1000,
	    "%s: answered in %lld ms, long before the 2000 ms timeout", what,
	    r.at_ms - start);
	is_int(mio_ares_take_error(e.ares), 0, "%s: no registration error",
	    what);
	stub_get_counts(e.stub, &counts);
	if (flags & ARES_FLAG_USEVC)
		ok(counts.tcp_queries >= 1 && counts.udp_queries == 0,
		    "%s: the query went over TCP", what);
	env_fini(&e);
}

static void
check_modes(void)
{
	struct stub_config plain = { .family = 0 };
	struct stub_config split = { .split_tcp = true };
	struct stub_config trunc = { .truncate_udp = true };

	check_mode("udp", &plain, 0, "a.example.test", 1, 1);
	check_mode("tcp, answer in one segment", &plain, ARES_FLAG_USEVC,
	    "a.example.test", 1, 1);
	check_mode("tcp, 900-byte answer in one segment", &plain,
	    ARES_FLAG_USEVC, "big.example.test", 16, 4);
	check_mode("tcp, answer a byte at a time", &split, ARES_FLAG_USEVC,
	    "a.example.test", 28, 1);
	check_mode("udp truncated, retried over tcp", &trunc, 0,
	    "a.example.test", 15, 1);
	check_mode("udp, 4 KB answer over tcp", &plain, 0,
	    "huge.example.test", 16, 16);
	check_mode("udp, delayed 200 ms", &plain, 0, "delay200.example.test",
	    1, 1);
}

static void
check_servfail(void)
{
	struct stub_config config = { .family = 0 };
	struct env e;
	struct result r;

	env_init(&e, &config, ARES_FLAG_NOCHECKRESP, 2000);
	send_query(&e, "servfail.example.test", 1, 7, &r);
	run_until(&e, NULL, &r, 1, 3000);
	ok(r.done && r.status == ARES_SUCCESS && r.rcode == 2,
	    "NOCHECKRESP: the SERVFAIL answer is handed over (status %d, "
	    "rcode %d)", r.status, r.rcode);
	env_fini(&e);

	env_init(&e, &config, 0, 2000);
	long long start = now_ms();
	send_query(&e, "servfail.example.test", 1, 8, &r);
	run_until(&e, NULL, &r, 1, 3000);
	ok(r.done && r.status != ARES_SUCCESS,
	    "without NOCHECKRESP SERVFAIL fails the query (%s)",
	    ares_strerror(r.status));
	ok(r.at_ms - start < 1000, "at once, not at the timeout (%lld ms)",
	    r.at_ms - start);
	env_fini(&e);
}

/* A silent server: the callback must come from the timeout processing at
 * about the timeout, and the loop must sleep, not spin, until then. */
static void
check_timeout(void)
{
	struct stub_config config = { .drop = true };
	struct env e;
	struct result r;
	struct timespec max = { 10, 0 }, buf;
	const struct timespec *t;

	env_init(&e, &config, 0, 300);
	t = mio_ares_timeout(e.ares, &max, &buf);
	ok(t == &max, "no query pending: mio_ares_timeout returns max");
	ok(mio_ares_timeout(e.ares, NULL, &buf) == NULL,
	    "and NULL (forever) for NULL");
	long long start = now_ms();
	send_query(&e, "a.example.test", 1, 9, &r);
	t = mio_ares_timeout(e.ares, &max, &buf);
	ok(t == &buf && buf.tv_sec == 0 && buf.tv_nsec > 0 &&
		buf.tv_nsec <= 302000000,
	    "with a query pending: the time to its 300 ms timeout (%ld ns)",
	    (long)buf.tv_nsec);
	ok(run_until(&e, NULL, &r, 1, 3000), "the silent query ended");
	is_int(r.status, ARES_ETIMEOUT, "with ARES_ETIMEOUT");
	long long took = r.at_ms - start;
	ok(took >= 290 && took < 1000, "after %lld ms (timeout 300)", took);
	ok(e.loops < 20, "in %d polls: the loop slept until the deadline",
	    e.loops);
	env_fini(&e);
}

/* The loop of a program that hands the adapter its timer set: the poll
 * waits for the set's next deadline (capped by limit_ms) and nothing else
 * about c-ares' timeouts is done by hand. */
static bool
run_timers(struct env *e, mio_timers *timers, struct result *r,
    long long limit_ms)
{
	long long end = now_ms() + limit_ms;

	e->loops = 0;
	while (!r->done) {
		struct timespec t;
		long long left = end - now_ms();

		if (left <= 0)
			return false;
		if (mio_timers_timeout(timers, &t) != 0 ||
		    t.tv_sec * 1000LL + t.tv_nsec / 1000000 > left)
			t = ms_timeout(left);
		mio_poll_poll(e->poll, e->events, &t);
		e->loops++;
		MIO_EVENTS_FOREACH(ev, e->events) {
			if (!mio_ares_process_event(e->ares, ev))
				diag("event with a foreign token");
		}
		mio_timers_run(timers);
	}
	return true;
}

/* mio_ares_use_timers(): a query to a silent server ends with
 * ARES_ETIMEOUT through the timer alone, the timer stops once nothing is
 * pending (after a timeout, an answer, a cancel), and freeing the adapter
 * or taking the set back stops it. */
static void
check_timers(void)
{
	struct stub_config drop = { .drop = true }, plain = { .family = 0 };
	mio_timers *timers;
	struct env e;
	struct result r, r2;
	struct timespec t;

	if (mio_timers_new(&timers) != 0)
		bail("mio_timers_new");
	is_errno(mio_ares_use_timers(NULL, timers), -EINVAL,
	    "timers: mio_ares_use_timers(NULL) is -EINVAL");
	env_init(&e, &drop, 0, 300);
	is_errno(mio_ares_use_timers(e.ares, timers), 0,
	    "timers: mio_ares_use_timers");
	is_errno(mio_timers_timeout(timers, &t), -ENOENT,
	    "timers: no query, no timer");
	long long start = now_ms();
	send_query(&e, "a.example.test", 1, 21, &r);
	is_errno(mio_timers_timeout(timers, &t), 0,
	    "timers: a query arms the timer");
	ok(t.tv_sec == 0 && t.tv_nsec > 0 && t.tv_nsec <= 302000000,
	    "timers: at the 300 ms timeout (%ld ns)", (long)t.tv_nsec);
	ok(run_timers(&e, timers, &r, 3000), "timers: the silent query ended");
	is_int(r.status, ARES_ETIMEOUT, "timers: with ARES_ETIMEOUT");
	long long took = r.at_ms - start;
	ok(took >= 290 && took < 1000, "timers: after %lld ms (timeout 300)",
	    took);
	ok(e.loops < 20, "timers: in %d polls, no spinning", e.loops);
	is_errno(mio_timers_timeout(timers, &t), -ENOENT,
	    "timers: stopped once nothing is pending");
	is_int((long long)mio_ares_socket_count(e.ares), 0,
	    "timers: and no socket is left open (query sockets expired)");

	send_query(&e, "a.example.test", 1, 22, &r);
	mio_ares_cancel(e.ares);
	ok(r.done && r.status == ARES_ECANCELLED, "timers: cancelled (%s)",
	    ares_strerror(r.status));
	is_errno(mio_timers_timeout(timers, &t), -ENOENT,
	    "timers: stopped by the cancel");

	send_query(&e, "a.example.test", 1, 23, &r);
	is_errno(mio_ares_use_timers(e.ares, NULL), 0,
	    "timers: the set taken back");
	is_errno(mio_timers_timeout(timers, &t), -ENOENT,
	    "timers: which stops the timer");
	is_errno(mio_ares_use_timers(e.ares, timers), 0,
	    "timers: handed over again");
	is_errno(mio_timers_timeout(timers, &t), 0,
	    "timers: armed at once for the pending query");
	mio_ares_free(e.ares);
	e.ares = NULL;
	ok(r.done && r.status == ARES_EDESTRUCTION,
	    "timers: the free ends the query (%s)", ares_strerror(r.status));
	is_errno(mio_timers_timeout(timers, &t), -ENOENT,
	    "timers: freeing the adapter stops its timer");
	is_int((long long)mio_timers_run(timers), 0, "timers: nothing fires");
	env_fini(&e);

	env_init(&e, &plain, 0, 2000);
	mio_ares_use_timers(e.ares, timers);
	send_query(&e, "a.example.test", 1, 24, &r);
	send_query(&e, "b.example.test", 1, 25, &r2);
	ok(run_timers(&e, timers, &r, 3000) &&
		run_timers(&e, timers, &r2, 3000) &&
		r.status == ARES_SUCCESS && r2.status == ARES_SUCCESS,
	    "timers: two answered queries (%s, %s)", ares_strerror(r.status),
	    ares_strerror(r2.status));
	is_errno(mio_timers_timeout(timers, &t), -ENOENT,
	    "timers: stopped after the answers");
	is_int(mio_ares_take_error(e.ares), 0, "timers: no error noted");
	env_fini(&e);
	mio_timers_free(timers);
}

/* Many queries at once, UDP and TCP on two adapters sharing one poll. */
static void
check_concurrent(void)
{
	struct stub_config config = { .delay_ms = 20 };
	enum { NUDP = 100, NTCP = 40 };
	static struct result r[NUDP + NTCP];
	struct env e;
	mio_ares *tcp;
	char name[64];
	bool all = true;
	int rc;

	env_init(&e, &config, 0, 3000);
	if ((rc = new_channel(&e, ARES_FLAG_USEVC, 3000, &tcp)) != 0)
		bail("second channel: %s", mio_strerror(rc));
	for (int i = 0; i < NUDP + NTCP; i++) {
		unsigned char q[512];
		snprintf(name, sizeof(name), "q%d.load.example.test", i);
		int len = make_query(q, name, 1, i, i % 2);
		memset(&r[i], 0, sizeof(r[i]));
		mio_ares_send(i < NUDP ? e.ares : tcp, q, len, on_answer,
		    &r[i]);
	}
	ok(run_until(&e, tcp, r, NUDP + NTCP, 5000),
	    "%d UDP and %d TCP queries on two adapters all ended", NUDP, NTCP);
	for (int i = 0; i < NUDP + NTCP; i++)
		all &= r[i].status == ARES_SUCCESS && r[i].ancount == 1;
	ok(all, "every one with its answer");
	ok(!mio_ares_owns_token(tcp, e.last_token) &&
		mio_ares_owns_token(e.ares, e.last_token),
	    "each adapter owns its tokens and not the other's");
	ok(!mio_ares_owns_token(e.ares, 0) &&
		!mio_ares_owns_token(e.ares, (mio_token)(uintptr_t)&e),
	    "small integers and the caller's pointers are not the adapter's");
	mio_ares_free(tcp);
	env_fini(&e);
}

/* An event carrying the token of a socket c-ares has closed since: the
 * adapter claims it and does nothing with it. */
static void
check_stale_token(void)
{
	struct stub_config config = { .family = 0 };
	struct env e;
	struct result r;
	int fds[2];
	char c;

	env_init(&e, &config, 0, 2000);
	send_query(&e, "a.example.test", 1, 10, &r);
	is_int((long long)mio_ares_socket_count(e.ares), 1,
	    "a query opened one registered socket");
	run_until(&e, NULL, &r, 1, 3000);
	is_int((long long)mio_ares_socket_count(e.ares), 0,
	    "the socket was deregistered when c-ares closed it");
	mio_token stale = e.last_token;
	ok(stale != 0 && mio_ares_owns_token(e.ares, stale),
	    "its token still belongs to the adapter");

	nb_pipe(fds);
	if (mio_registry_register_fd(mio_poll_registry(e.poll), fds[0], stale,
		MIO_READABLE) != 0)
		bail("register pipe");
	if (write(fds[1], "x", 1) != 1)
		sysbail("write");
	struct timespec t = ms_timeout(1000);
	mio_poll_poll(e.poll, e.events, &t);
	const mio_event *ev = mio_events_first(e.events);
	ok(ev != NULL && mio_event_token(ev) == stale,
	    "an event arrives with the stale token");
	is_int(ev ? mio_ares_process_event(e.ares, ev) : -1, 1,
	    "mio_ares_process_event claims it");
	ok(read(fds[0], &c, 1) == 1, "and left the descriptor alone");
	mio_registry_deregister_fd(mio_poll_registry(e.poll), fds[0]);
	close(fds[0]);
	close(fds[1]);

	send_query(&e, "a.example.test", 28, 11, &r);
	ok(run_until(&e, NULL, &r, 1, 3000) && r.status == ARES_SUCCESS,
	    "a new socket of the channel works afterwards");
	ok(e.last_token != stale, "with a token of its own");
	env_fini(&e);
}

struct reentry {
	struct env *env;
	struct result result;
	bool free_it;
};

static void
on_answer_reenter(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct reentry *re = arg;

	on_answer(&re->result, status, timeouts, abuf, alen);
	if (re->free_it) {
		mio_ares_free(re->env->ares);
		re->env->ares = NULL;
	} else {
		mio_ares_cancel(re->env->ares);
	}
}

static void
check_reentry(void)
{
	struct stub_config config = { .family = 0 };
	struct env e;
	struct reentry re = { .env = &e };
	struct result slow;
	unsigned char q[512];
	int len;

	env_init(&e, &config, 0, 2000);
	len = make_query(q, "a.example.test", 1, 20, true);
	mio_ares_send(e.ares, q, len, on_answer_reenter, &re);
	send_query(&e, "delay800.example.test", 1, 21, &slow);
	struct result both[2];
	for (long long end = now_ms() + 3000;
	    (!re.result.done || !slow.done) && now_ms() < end;) {
		struct timespec t = ms_timeout(100);
		mio_poll_poll(e.poll, e.events, &t);
		MIO_EVENTS_FOREACH(ev, e.events)
			mio_ares_process_event(e.ares, ev);
		mio_ares_process_timeouts(e.ares);
	}
	both[0] = re.result;
	both[1] = slow;
	ok(both[0].status == ARES_SUCCESS,
	    "the first query was answered and its callback cancelled");
	is_int(both[1].status, ARES_ECANCELLED,
	    "the deferred ares_cancel ended the pending query");

	/* The pending query first: the other one's callback may run inside
	 * mio_ares_send() (c-ares 1.34 answers from its cache there). */
	re.free_it = true;
	re.result.done = false;
	send_query(&e, "delay800.example.test", 1, 22, &slow);
	mio_ares_send(e.ares, q, len, on_answer_reenter, &re);
	for (long long end = now_ms() + 3000;
	    e.ares != NULL && now_ms() < end;) {
		struct timespec t = ms_timeout(100);
		mio_poll_poll(e.poll, e.events, &t);
		MIO_EVENTS_FOREACH(ev, e.events) {
			if (e.ares != NULL)
				mio_ares_process_event(e.ares, ev);
		}
		if (e.ares != NULL)
			mio_ares_process_timeouts(e.ares);
	}
	ok(e.ares == NULL && re.result.status == ARES_SUCCESS,
	    "mio_ares_free from a callback was deferred, not a crash");
	is_int(slow.status, ARES_EDESTRUCTION,
	    "the pending query ended with ARES_EDESTRUCTION");
	env_fini(&e);
}

static void
check_ipv6(void)
{
	struct stub_config config = { .family = AF_INET6 };
	struct stub *stub = stub_new(&config);
	struct env e;
	struct result r;
	char csv[64];

	if (stub == NULL) {
		skip(2, "no IPv6 loopback");
		return;
	}
	stub_free(stub);
	env_init(&e, &config, 0, 2000);
	snprintf(csv, sizeof(csv), "[::1]:%u", stub_port(e.stub));
	is_int(ares_set_servers_ports_csv(mio_ares_channel(e.ares), csv),
	    ARES_SUCCESS, "an IPv6 server");
	send_query(&e, "a.example.test", 28, 30, &r);
	ok(run_until(&e, NULL, &r, 1, 3000) && r.status == ARES_SUCCESS &&
		r.ancount == 1,
	    "resolves over ::1");
	env_fini(&e);
}

/* ---- fresh ports (mio_ares_use_fresh_ports) ------------------------------ */

/* A UDP server on its own thread that notes every query's source port and
 * answers it at once with the query's ID, or not at all (drop), or first
 * with forgeries (forge): an answer with the right ID from another port,
 * which the kernel must drop, and from the right port one with a wrong
 * ID and one with the right ID but another question, which the adapter
 * must drop without giving up on the genuine answer. The genuine answer has ANCOUNT 0, the
 * forged ones ANCOUNT 1, so a forgery that got through shows. */
struct portstub {
	int fd, forger_fd;
	uint16_t port;
	bool drop, forge;
	volatile bool stop;
	unsigned char seen[65536 / 8];
	unsigned distinct, queries;
	pthread_t thread;
};

static void
portstub_answer(struct portstub *s, unsigned char *q, ssize_t len,
    const struct sockaddr_in *from)
{
	socklen_t fl = sizeof(*from);

	q[2] |= 0x80;		/* QR */
	q[3] = 0x80;		/* RA, NOERROR */
	if (s->forge) {
		q[7] = 1;
		(void)sendto(s->forger_fd, q, (size_t)len, 0,
		    (const struct sockaddr *)from, fl);
		q[0] ^= 0x55;
		(void)sendto(s->fd, q, (size_t)len, 0,
		    (const struct sockaddr *)from, fl);
		q[0] ^= 0x55;
		q[13] ^= 0x01;	/* the right ID, another question */
		(void)sendto(s->fd, q, (size_t)len, 0,
		    (const struct sockaddr *)from, fl);
		q[13] ^= 0x01;
		q[7] = 0;
	}
	(void)sendto(s->fd, q, (size_t)len, 0, (const struct sockaddr *)from,
	    fl);
}

static void *
portstub_run(void *arg)
{
	struct portstub *s = arg;
	unsigned char q[512];

	while (!s->stop) {
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t len;
		unsigned port;

		if (poll(&pfd, 1, 20) != 1)
			continue;
		len = recvfrom(s->fd, q, sizeof(q), 0,
		    (struct sockaddr *)&from, &fl);
		if (len < 12)
			continue;
		s->queries++;
		port = ntohs(from.sin_port);
		if (!(s->seen[port / 8] & (1u << (port % 8)))) {
			s->seen[port / 8] |= (unsigned char)(1u << (port % 8));
			s->distinct++;
		}
		if (!s->drop)
			portstub_answer(s, q, len, &from);
	}
	return NULL;
}

static int
portstub_socket(uint16_t *port)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	int fd = udp_bind_loopback(AF_INET, &addr, &len);

	if (port != NULL)
		*port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
	return fd;
}

static void
portstub_start(struct portstub *s, bool drop, bool forge)
{
	memset(s, 0, sizeof(*s));
	s->drop = drop;
	s->forge = forge;
	if ((s->fd = portstub_socket(&s->port)) < 0 ||
	    (s->forger_fd = portstub_socket(NULL)) < 0)
		sysbail("portstub sockets");
	if (pthread_create(&s->thread, NULL, portstub_run, s) != 0)
		bail("portstub thread");
}

static void
portstub_stop(struct portstub *s)
{
	s->stop = true;
	pthread_join(s->thread, NULL);
	close(s->fd);
	close(s->forger_fd);
}

static mio_ares *
fresh_channel(struct env *e, uint16_t port, int timeout_ms, int tries,
    size_t max_sockets)
{
	struct ares_options o;
	mio_ares *ma;
	char csv[64];
	int rc;

	memset(&o, 0, sizeof(o));
	o.timeout = timeout_ms;
	o.tries = tries;
	o.nservers = 0;
	rc = mio_ares_new(mio_poll_registry(e->poll), &o, ARES_OPT_TIMEOUTMS |
	    ARES_OPT_TRIES | ARES_OPT_SERVERS, &ma);
	if (rc != 0)
		bail("mio_ares_new: %s", mio_strerror(rc));
	snprintf(csv, sizeof(csv), "127.0.0.1:%u", port);
	if (ares_set_servers_ports_csv(mio_ares_channel(ma), csv) !=
	    ARES_SUCCESS)
		bail("ares_set_servers_ports_csv(%s) failed", csv);
	if (max_sockets != (size_t)-1 &&
	    (rc = mio_ares_use_fresh_ports(ma, max_sockets)) != 0)
		bail("mio_ares_use_fresh_ports: %s", mio_strerror(rc));
	return ma;
}

/* Keeps `window` queries outstanding until `total` were sent. */
struct stream {
	struct env *e;
	int total, window, sent, done, ok, forged;
};

static void stream_send(struct stream *st);

static void
stream_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct stream *st = arg;

	(void)timeouts;
	st->done++;
	if (status == ARES_SUCCESS && alen >= 12)
		st->ok++;
	if (abuf != NULL && alen >= 12 && abuf[7] != 0)
		st->forged++;
	if (status != ARES_EDESTRUCTION && st->sent < st->total)
		stream_send(st);
}

static void
stream_send(struct stream *st)
{
	unsigned char q[512];
	char name[64];
	int len;

	snprintf(name, sizeof(name), "q%d.load.example.test", st->sent);
	len = make_query(q, name, 1, (int)(random() & 0xffff), false);
	st->sent++;
	mio_ares_send(st->e->ares, q, len, stream_answer, st);
}

static bool
stream_run(struct stream *st, long long limit_ms)
{
	long long end = now_ms() + limit_ms;

	for (int i = 0; i < st->window && st->sent < st->total; i++)
		stream_send(st);
	while (st->done < st->total && now_ms() < end) {
		struct timespec cap = ms_timeout(end - now_ms()), buf;

		mio_poll_poll(st->e->poll, st->e->events,
		    mio_ares_timeout(st->e->ares, &cap, &buf));
		MIO_EVENTS_FOREACH(ev, st->e->events) {
			if (!mio_ares_process_event(st->e->ares, ev))
				diag("event with a foreign token");
		}
		mio_ares_process_timeouts(st->e->ares);
	}
	return st->done == st->total;
}

static void
fresh_env(struct env *e)
{
	memset(e, 0, sizeof(*e));
	if (mio_poll_new(&e->poll) != 0 ||
	    mio_events_new(&e->events, 256) != 0)
		bail("poll setup failed");
}

static void
fresh_env_fini(struct env *e)
{
	mio_ares_free(e->ares);
	mio_events_free(e->events);
	mio_poll_free(e->poll);
}

/* 2,000 queries, 100 outstanding: without fresh ports (a figure only, as
 * c-ares versions differ), then with them (at least 1,900 ports). */
static void
check_fresh_ports_distinct(void)
{
	struct mio_ares_port_stats stats;
	struct portstub s;
	struct env e;
	struct stream st;
	long long start, elapsed;

	for (int fresh = 0; fresh < 2; fresh++) {
		fresh_env(&e);
		portstub_start(&s, false, false);
		e.ares = fresh_channel(&e, s.port, 2000, 1,
		    fresh ? 0 : (size_t)-1);
		st = (struct stream){ .e = &e, .total = 2000, .window = 100 };
		start = now_ms();
		(void)stream_run(&st, 20000);
		elapsed = now_ms() - start;
		ok(st.ok == 2000,
		    "%s: 2000 queries, 100 outstanding, answered (%d)",
		    fresh ? "fresh ports" : "plain c-ares", st.ok);
		portstub_stop(&s);
		mio_ares_get_port_stats(e.ares, &stats);
		diag("%s: %u distinct source ports in %u queries, %lld ms",
		    fresh ? "fresh ports" : "plain c-ares", s.distinct,
		    s.queries, elapsed);
		if (fresh) {
			ok(s.distinct >= 1900, "at least 1900 distinct source "
			    "ports in 2000 queries (%u)", s.distinct);
			is_int(stats.sockets, 2000, "2000 query sockets opened");
			is_int(stats.answers, 2000, "2000 answers handed on");
			is_int(mio_ares_socket_count(e.ares), 0,
			    "every query socket closed after its answer");
		} else {
			is_int(stats.sockets, 0, "no counters while off");
		}
		fresh_env_fini(&e);
	}
}

/* Forged answers: one from another port (the kernel drops it), one from
 * the server's port with a wrong ID (the adapter drops it). */
static void
check_fresh_ports_forged(void)
{
	struct mio_ares_port_stats stats;
	struct portstub s;
	struct env e;
	struct stream st;

	fresh_env(&e);
	portstub_start(&s, false, true);
	e.ares = fresh_channel(&e, s.port, 2000, 1, 0);
	st = (struct stream){ .e = &e, .total = 300, .window = 30 };
	(void)stream_run(&st, 20000);
	ok(st.ok == 300,
	    "300 queries with forgeries answered (%d)", st.ok);
	is_int(st.forged, 0, "no forged answer accepted");
	mio_ares_get_port_stats(e.ares, &stats);
	ok(stats.stray >= 300, "wrong ID or question: stray (%llu)",
	    stats.stray);
	ok(stats.stray <= 600, "at most two strays per query (%llu)",
	    stats.stray);
	portstub_stop(&s);
	fresh_env_fini(&e);
}

/* A server that never answers: queries time out, their sockets close at
 * the end of their lifetime or when c-ares lets go of the server, and a
 * cap of 4 sockets is kept by closing the oldest. */
static void
check_fresh_ports_limits(void)
{
	struct mio_ares_port_stats stats;
	struct portstub s;
	struct env e;
	struct stream st;
	mio_ares *other;

	fresh_env(&e);
	portstub_start(&s, true, false);
	e.ares = fresh_channel(&e, s.port, 200, 1, 4);
	is_errno(mio_ares_use_fresh_ports(e.ares, 0), -EBUSY,
	    "a second mio_ares_use_fresh_ports is EBUSY");
	st = (struct stream){ .e = &e, .total = 10, .window = 10 };
	for (int i = 0; i < st.window; i++)
		stream_send(&st);
	ok(mio_ares_socket_count(e.ares) <= 4,
	    "at most 4 query sockets open (%zu)",
	    mio_ares_socket_count(e.ares));
	ok(stream_run(&st, 5000) && st.ok == 0, "all 10 time out");
	mio_ares_get_port_stats(e.ares, &stats);
	is_int(stats.evicted, 6, "6 oldest closed to make room");
	is_int(mio_ares_socket_count(e.ares), 0, "no query socket left open");
	portstub_stop(&s);
	other = fresh_channel(&e, s.port, 200, 1, (size_t)-1);
	is_errno(mio_ares_use_fresh_ports(other, MIO_ARES_MAX_FRESH_PORTS + 1),
	    -EINVAL, "too many sockets: EINVAL");
	mio_ares_free(other);
	fresh_env_fini(&e);
}

int
main(void)
{
	plan_lazy();
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		bail("ares_library_init");
	diag("c-ares %s", ares_version(NULL));
	check_new_errors();
	check_modes();
	check_servfail();
	check_timeout();
	check_timers();
	check_concurrent();
	check_stale_token();
	check_reentry();
	check_ipv6();
	diag("the same with fresh ports");
	fresh_ports = true;
	check_modes();
	check_servfail();
	check_timeout();
	check_timers();
	check_concurrent();
	check_reentry();
	check_ipv6();
	fresh_ports = false;
	check_fresh_ports_distinct();
	check_fresh_ports_forged();
	check_fresh_ports_limits();
	ares_library_cleanup();
	return tap_failures() == 0 ? 0 : 1;
}
