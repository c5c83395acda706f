/*
 * t/poll.c - mio_poll: waiting, timeouts, EINTR, capacity, descriptor
 * hygiene, and registration from other threads during a poll. Ported in
 * spirit from mio's tests/poll.rs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* The descriptor count once libkqueue has stopped releasing descriptors. */
static int
quiet_fd_count(void)
{
	int now = count_open_fds();

	for (int i = 0; i < 40 && is_libkqueue(); i++) {
		sleep_ms(50);
		int later = count_open_fds();
		if (later == now)
			break;
		now = later;
	}
	return now;
}

static void
run_once_with_nothing(void)
{
	mio_poll *poll;
	mio_events *events;
	struct timespec t = ms_timeout(100);

	init_with_poll(&poll, &events);
	long long start = now_ms();
	is_errno(mio_poll_poll(poll, events, &t), 0,
	    "poll with nothing registered times out with 0 events");
	ok(now_ms() - start >= 95, "and waited for the timeout");
	ok(mio_events_is_empty(events), "events are empty after a timeout");
	mio_events_free(events);
	free_poll(poll);
}

static void
poll_closes_fd(void)
{
	int before = quiet_fd_count();
	struct timespec zero = { 0, 0 };
	bool all_ok = true;

	for (int i = 0; i < 2000; i++) {
		mio_poll *poll;
		mio_events *events;
		init_with_poll(&poll, &events);
		all_ok &= mio_poll_poll(poll, events, &zero) == 0;
		mio_events_free(events);
		free_poll(poll);
	}
	ok(all_ok, "2000 polls created, polled and freed");
	is_fd_count(before, "no descriptor leaked by poll");
}

/*
 * Polls made right after one was freed keep working. On libkqueue v2.7.0
 * that needs free_poll()'s wait (docs/backends.md, libkqueue point 3).
 * Each round frees two descriptors numbered below a poll's, then the poll,
 * so that, if nothing waits, the next kqueue gets the freed kqueue's number
 * (libkqueue then frees the old one at once), and the one after gets the
 * number of the old one's close-detect pipe, which the late close signal
 * names: libkqueue destroys that newest kqueue, and registering with it
 * answers ENOENT. Other backends pass without waiting.
 */
static void
polls_remade_at_once(void)
{
	int failures = 0;
	int fds[2];

	nb_socketpair(SOCK_STREAM, fds);
	for (int round = 0; round < 100; round++) {
		mio_poll *old, *polls[2];
		int holes[2];

		nb_socketpair(SOCK_STREAM, holes);
		if (mio_poll_new(&old) != 0)
			bail("mio_poll_new");
		close(holes[0]);
		close(holes[1]);
		free_poll(old);
		for (int i = 0; i < 2; i++)
			if (mio_poll_new(&polls[i]) != 0)
				bail("mio_poll_new");
		for (int i = 0; i < 2; i++) {
			const mio_registry *reg = mio_poll_registry(polls[i]);
			failures += mio_registry_register_fd(reg, fds[0], 1,
			    MIO_WRITABLE) != 0;
			failures += mio_registry_deregister_fd(reg, fds[0]) != 0;
		}
		free_poll(polls[1]);
		free_poll(polls[0]);
	}
	close(fds[0]);
	close(fds[1]);
	is_int(failures, 0, "100 rounds of a poll freed and two made at "
	    "once: every registration works");
}

static void
zero_duration_polls_events(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;
	struct timespec zero = { 0, 0 };
	int conns[3];

	init_with_poll(&poll, &events);
	int l = tcp_listen_loopback(AF_INET, &addr, &len);
	for (int i = 0; i < 3; i++) {
		conns[i] = tcp_connect_nb(&addr, len);
		mio_registry_register_fd(mio_poll_registry(poll), conns[i],
		    (mio_token)i, MIO_WRITABLE);
	}
	sleep_ms(10);
	int n = mio_poll_poll(poll, events, &zero);
	ok(n > 0, "a zero timeout still collects ready events (%d)", n);
	for (int i = 0; i < 3; i++)
		close(conns[i]);
	close(l);
	mio_events_free(events);
	free_poll(poll);
}

static void
add_then_drop(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;
	struct timespec t = ms_timeout(100);

	init_with_poll(&poll, &events);
	int l = tcp_listen_loopback(AF_INET, &addr, &len);
	is_errno(mio_registry_register_fd(mio_poll_registry(poll), l, 7,
		     MIO_READABLE | MIO_WRITABLE),
	    0, "register a listener");
	close(l);
	int rc = mio_poll_poll(poll, events, &t);
	ok(rc >= 0, "poll after closing a registered descriptor is fine");
	ok(no_event_with_token(events, 7), "and reports nothing for it");
	mio_events_free(events);
	free_poll(poll);
}

static void
readiness_is_reregistered_after_would_block(void)
{
	mio_poll *poll;
	mio_events *events;
	int fds[2];
	char buf[16];

	init_with_poll(&poll, &events);
	nb_socketpair(SOCK_STREAM, fds);
	mio_registry_register_fd(mio_poll_registry(poll), fds[0], 1,
	    MIO_READABLE);
	is_int(write(fds[1], "hello", 5), 5, "peer writes hello");
	expect_events(poll, events, { 1, R_READABLE });
	is_int(read(fds[0], buf, sizeof(buf)), 5, "read the 5 bytes");
	ok(read(fds[0], buf, sizeof(buf)) == -1 && errno == EAGAIN,
	    "the next read would block");
	expect_no_events(poll, events);
	is_int(write(fds[1], "world", 5), 5, "peer writes again");
	expect_events(poll, events, { 1, R_READABLE });
	close(fds[0]);
	close(fds[1]);
	mio_events_free(events);
	free_poll(poll);
}

struct delayed_register {
	const mio_registry *registry;
	int fd;
	long delay_ms;
};

static void *
register_later(void *arg)
{
	struct delayed_register *d = arg;

	sleep_ms(d->delay_ms);
	if (mio_registry_register_fd(d->registry, d->fd, 1, MIO_WRITABLE) != 0)
		bail("register from thread failed");
	return NULL;
}

static void
register_during_poll(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;
	pthread_t thr;
	struct timespec t = ms_timeout(5000);

	init_with_poll(&poll, &events);
	int u = udp_bind_loopback(AF_INET, &addr, &len);
	struct delayed_register d = { mio_poll_registry(poll), u, 200 };
	pthread_create(&thr, NULL, register_later, &d);
	long long start = now_ms();
	int n = mio_poll_poll(poll, events, &t);
	is_int(n, 1, "a registration from another thread wakes the poll");
	ok(n == 1 && mio_event_token(mio_events_get(events, 0)) == 1 &&
	    mio_event_is_writable(mio_events_get(events, 0)),
	    "with the new source's token, writable");
	ok(now_ms() - start < 4000, "well before the 5 s timeout");
	pthread_join(thr, NULL);
	close(u);
	mio_events_free(events);
	free_poll(poll);
}

struct registry_worker {
	mio_registry *registry;
	int fd;
	mio_token token;
	mio_interest final_interest;
	int failures;
};

static void *
registry_ops_thread(void *arg)
{
	struct registry_worker *w = arg;

	w->failures += mio_registry_register_fd(w->registry, w->fd, w->token,
	    MIO_READABLE | MIO_WRITABLE) != 0;
	w->failures += mio_registry_deregister_fd(w->registry, w->fd) != 0;
	w->failures += mio_registry_register_fd(w->registry, w->fd, w->token,
	    MIO_READABLE) != 0;
	w->failures += mio_registry_reregister_fd(w->registry, w->fd,
	    w->token, w->final_interest) != 0;
	return NULL;
}

static void
registry_operations_are_thread_safe(void)
{
	mio_poll *poll;
	mio_events *events;
	pthread_t thr[3];
	struct registry_worker w[3];
	int pairs[3][2];
	const mio_interest final[3] = { MIO_READABLE, MIO_WRITABLE,
		MIO_WRITABLE };

	init_with_poll(&poll, &events);
	for (int i = 0; i < 3; i++) {
		nb_socketpair(SOCK_STREAM, pairs[i]);
		/* Data pending so that READABLE interest fires too. */
		if (write(pairs[i][1], "x", 1) != 1)
			sysbail("write");
		w[i] = (struct registry_worker){ NULL, pairs[i][0],
			(mio_token)(i + 1), final[i], 0 };
		if (mio_registry_try_clone(mio_poll_registry(poll),
		    &w[i].registry) != 0)
			bail("try_clone");
		pthread_create(&thr[i], NULL, registry_ops_thread, &w[i]);
	}
	int failures = 0;
	for (int i = 0; i < 3; i++) {
		pthread_join(thr[i], NULL);
		failures += w[i].failures;
		mio_registry_free(w[i].registry);
	}
	is_int(failures, 0, "3 threads register/deregister/reregister on "
	    "clones");
	expect_events(poll, events, { 1, R_READABLE }, { 2, R_WRITABLE },
	    { 3, R_WRITABLE });
	for (int i = 0; i < 3; i++) {
		close(pairs[i][0]);
		close(pairs[i][1]);
	}
	mio_events_free(events);
	free_poll(poll);
}

static void
on_signal(int sig)
{
	(void)sig;
}

struct signal_later {
	pthread_t target;
	long delay_ms;
};

static void *
signal_thread(void *arg)
{
	struct signal_later *s = arg;

	sleep_ms(s->delay_ms);
	pthread_kill(s->target, SIGUSR1);
	return NULL;
}

static void
eintr_is_returned(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sigaction sa;
	pthread_t thr;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* No SA_RESTART: the wait must fail. */
	sigaction(SIGUSR1, &sa, NULL);
	init_with_poll(&poll, &events);
	struct signal_later s = { pthread_self(), 100 };
	pthread_create(&thr, NULL, signal_thread, &s);
	int rc = mio_poll_poll(poll, events, NULL);
	is_errno(rc, -EINTR, "a signal interrupts a blocking poll with -EINTR");
	ok(mio_events_is_empty(events), "and leaves no events");
	pthread_join(thr, NULL);
	signal(SIGUSR1, SIG_DFL);
	mio_events_free(events);
	free_poll(poll);
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
timeouts(void)
{
	mio_poll *poll;
	mio_events *events;

	init_with_poll(&poll, &events);
	struct timespec bad_nsec = { 0, 1000000000L };
	struct timespec negative = { -1, 0 };
	is_errno(mio_poll_poll(poll, events, &bad_nsec), -EINVAL,
	    "tv_nsec of one second is -EINVAL");
	is_errno(mio_poll_poll(poll, events, &negative), -EINVAL,
	    "a negative timeout is -EINVAL");

	/* A sub-millisecond timeout must sleep, not degrade into a busy 0:
	 * either epoll_pwait2 sleeps the 200 us or epoll_wait rounds up. */
	struct timespec short_wait = { 0, 200000 };
	long long start = now_ns();
	is_errno(mio_poll_poll(poll, events, &short_wait), 0,
	    "a 200 us timeout times out");
	ok(now_ns() - start >= 200000, "after at least 200 us (%lld ns)",
	    now_ns() - start);

	/* A timeout beyond the kernel's range is clamped, not refused. */
	int fds[2];
	nb_socketpair(SOCK_STREAM, fds);
	mio_registry_register_fd(mio_poll_registry(poll), fds[0], 3,
	    MIO_WRITABLE);
	struct timespec huge = { INT_MAX, 999999999L };
	is_int(mio_poll_poll(poll, events, &huge), 1,
	    "a huge timeout still returns ready events");
	close(fds[0]);
	close(fds[1]);
	mio_events_free(events);
	free_poll(poll);
}

static void
capacity_overflow_goes_to_next_poll(void)
{
	mio_poll *poll;
	mio_events *events;
	int fds[5][2];
	unsigned seen = 0;
	struct timespec t = ms_timeout(100);

	if (mio_poll_new(&poll) != 0 || mio_events_new(&events, 2) != 0)
		bail("setup");
	for (int i = 0; i < 5; i++) {
		nb_socketpair(SOCK_STREAM, fds[i]);
		mio_registry_register_fd(mio_poll_registry(poll), fds[i][0],
		    (mio_token)i, MIO_WRITABLE);
	}
	int batches[3];
	for (int b = 0; b < 3; b++) {
		batches[b] = mio_poll_poll(poll, events, &t);
		MIO_EVENTS_FOREACH(ev, events)
			seen |= 1u << mio_event_token(ev);
	}
	ok(batches[0] == 2 && batches[1] == 2 && batches[2] == 1,
	    "5 ready sources with capacity 2 come as 2, 2, 1 (%d, %d, %d)",
	    batches[0], batches[1], batches[2]);
	is_int(seen, 0x1f, "every source was reported once across polls");
	for (int i = 0; i < 5; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	mio_events_free(events);
	free_poll(poll);
}

static void
poll_fd_nests(void)
{
	mio_poll *mp;
	mio_events *events;
	int fds[2];

	init_with_poll(&mp, &events);
	int pfd = mio_poll_fd(mp);
	ok(pfd > 2 && fd_is_cloexec(pfd), "the selector fd is close-on-exec");
	/*
	 * libkqueue hands out the write end of a pipe as the kqueue
	 * descriptor, to notice its close (src/linux/platform.c,
	 * linux_kqueue_init); poll() never finds it readable, so a poll
	 * cannot be nested in another loop there. Native kqueue and epoll
	 * descriptors are pollable.
	 */
	if (is_libkqueue()) {
		skip(2, "libkqueue's kqueue descriptor is a pipe's write end, "
		    "never readable");
		mio_events_free(events);
		free_poll(mp);
		return;
	}
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	is_int(poll(&p, 1, 0), 0, "an idle selector fd is not readable");
	nb_socketpair(SOCK_STREAM, fds);
	mio_registry_register_fd(mio_poll_registry(mp), fds[0], 1,
	    MIO_WRITABLE);
	is_int(poll(&p, 1, 1000), 1,
	    "the selector fd turns readable when an event is pending");
	close(fds[0]);
	close(fds[1]);
	mio_events_free(events);
	free_poll(mp);
}

/*
 * The epoll build compiles a poll without a timeout and the registration of
 * raw descriptors into the caller (mio-inline-epoll.h); on every build the
 * names in parentheses reach the exported functions. Both paths must give
 * the same answers, errors included, and leave mio_events consistent.
 */
static bool
is_epoll(void)
{
	return strcmp(mio_backend(), "epoll") == 0;
}

static void
inline_registration_matches_exported(const mio_registry *reg, int fd)
{
	int inl = mio_registry_register_fd(reg, fd, 1, MIO_READABLE);
	int fn = (mio_registry_register_fd)(reg, fd, 1, MIO_READABLE);
	is_int(inl, 0, "register_fd (inline on epoll) registers");
	is_errno(fn, is_epoll() ? -EEXIST : 0,
	    "registering it again through the exported function: %s",
	    is_epoll() ? "-EEXIST" : "kqueue modifies");
	is_errno(mio_registry_register_fd(reg, fd, 1, MIO_READABLE), fn,
	    "and through the inline path: the same");
	is_errno(mio_registry_register_fd(reg, fd, 1, 0), -EINVAL,
	    "an empty interest is -EINVAL");
	is_errno(mio_registry_reregister_fd(reg, fd, 1, 0x80), -EINVAL,
	    "an unknown interest bit is -EINVAL");
	/* Each bit alone: the inline check (MIO_INLINE_INTEREST_ALL) must not
	 * take a bit that the exported one (MIO__INTEREST_ALL) refuses. */
	for (unsigned bit = 0; bit < 8; bit++) {
		mio_interest one = (mio_interest)(1u << bit);
		int want = (mio_registry_reregister_fd)(reg, fd, 1, one);
		is_errno(mio_registry_reregister_fd(reg, fd, 1, one), want,
		    "interest 0x%02x alone: inline and exported agree", one);
	}
	is_errno(mio_registry_register_fd(NULL, fd, 1, MIO_READABLE), -EINVAL,
	    "a NULL registry is -EINVAL");
	is_errno(mio_registry_reregister_fd(NULL, fd, 1, MIO_READABLE), -EINVAL,
	    "also for reregister_fd");
	/* libkqueue v2.7.0 answers EFAULT where a kernel, and libkqueue's
	 * master after it, say EBADF; both paths must agree either way. */
	int rc = mio_registry_register_fd(reg, -1, 1, MIO_READABLE);
	int badf = is_libkqueue() && rc == -EFAULT ? -EFAULT : -EBADF;
	is_errno(rc, badf, "descriptor -1 is %s inline", mio_strerror(badf));
	is_errno((mio_registry_register_fd)(reg, -1, 1, MIO_READABLE), badf,
	    "and exported");
}

/* The tokens of the two writable registrations below: the first has every
 * bit set, so that a token cut short on its way to the kernel shows. */
#define TOKEN_A ((mio_token)UINTPTR_MAX)
#define TOKEN_B ((mio_token)32)

/*
 * Collects the two writable registrations: one poll without a timeout
 * (inline on epoll) normally returns both; should it return one, a zero
 * poll collects the other, and the tokens are counted over both polls.
 */
static void
poll_both_writable(mio_poll *poll, mio_events *events)
{
	bool seen_a = false, seen_b = false;
	int total = 0;

	for (int round = 0; round < 2 && total < 2; round++) {
		int n = round == 0 ? mio_poll_poll(poll, events, NULL) :
		    mio_poll_poll(poll, events, &(struct timespec){ 0, 0 });
		is_int(n, (int)mio_events_len(events), "poll %d returns what "
		    "mio_events_len() says", round);
		if (n <= 0)
			break;
		total += n;
		size_t i = 0;
		MIO_EVENTS_FOREACH(ev, events) {
			ok(ev == mio_events_get(events, i) &&
			    mio_event_is_writable(ev), "event %zu is writable "
			    "and is mio_events_get(%zu)", i, i);
			seen_a |= mio_event_token(ev) == TOKEN_A;
			seen_b |= mio_event_token(ev) == TOKEN_B;
			i++;
		}
		ok(mio_events_get(events, i) == NULL, "nothing past the end");
	}
	is_int(total, 2, "both writable registrations are reported");
	ok(seen_a && seen_b, "with their tokens, every bit of UINTPTR_MAX kept");
}

/*
 * A failed poll without a timeout leaves no stale events behind, inline or
 * exported. The wait is made to fail at once (-EINVAL) by putting a
 * descriptor that is not an epoll instance in the selector's place: any
 * other failure of a wait without a timeout would need a signal in time.
 */
static void
failed_poll_leaves_no_events(mio_poll *poll, mio_events *events, int fd)
{
	if (!is_epoll()) {
		skip(6, "the inline poll is the epoll build's");
		return;
	}
	const mio_registry *reg = mio_poll_registry(poll);
	int epfd = mio_poll_fd(poll);
	int saved = dup(epfd);
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (saved == -1 || devnull == -1)
		sysbail("dup or open");
	for (int inl = 1; inl >= 0; inl--) {
		const char *path = inl ? "inline" : "exported";
		/* A reregistration re-arms the edge: one stale event. */
		mio_registry_reregister_fd(reg, fd, TOKEN_B, MIO_WRITABLE);
		is_int(mio_poll_poll(poll, events, &(struct timespec){ 0, 0 }),
		    1, "%s: an event to go stale", path);
		if (dup2(devnull, epfd) == -1)
			sysbail("dup2");
		int rc = inl ? mio_poll_poll(poll, events, NULL) :
		    (mio_poll_poll)(poll, events, NULL);
		if (dup2(saved, epfd) == -1)
			sysbail("dup2");
		is_errno(rc, -EINVAL, "%s: polling a descriptor that is not "
		    "epoll's is -EINVAL", path);
		ok(mio_events_is_empty(events) && mio_events_len(events) == 0,
		    "%s: and leaves no events", path);
	}
	close(saved);
	close(devnull);
}

static void
inline_and_exported_paths_agree(void)
{
	mio_poll *poll;
	mio_events *events;
	int a[2], b[2];

	init_with_poll(&poll, &events);
	const mio_registry *reg = mio_poll_registry(poll);
	nb_socketpair(SOCK_STREAM, a);
	nb_socketpair(SOCK_STREAM, b);
	inline_registration_matches_exported(reg, a[0]);

	int inl = mio_registry_reregister_fd(reg, b[0], TOKEN_B, MIO_WRITABLE);
	is_errno(inl, is_epoll() ? -ENOENT : 0,
	    "reregistering a descriptor never registered: %s",
	    is_epoll() ? "-ENOENT" : "kqueue adds it");
	if (inl != 0)
		is_int((mio_registry_register_fd)(reg, b[0], TOKEN_B,
		    MIO_WRITABLE), 0, "register_fd (exported) registers");
	is_int(mio_registry_reregister_fd(reg, a[0], TOKEN_A, MIO_WRITABLE), 0,
	    "reregister_fd (inline on epoll) moves it to writable");

	/* Both are writable now, so a poll without a timeout returns. */
	poll_both_writable(poll, events);
	failed_poll_leaves_no_events(poll, events, b[0]);
	is_errno(mio_poll_poll(NULL, events, NULL), -EINVAL,
	    "polling a NULL poll is -EINVAL");
	for (int k = 0; k < 2; k++) {
		close(a[k]);
		close(b[k]);
	}
	mio_events_free(events);
	free_poll(poll);
}

static void
bad_arguments(void)
{
	mio_poll *poll;
	mio_events *events;

	init_with_poll(&poll, &events);
	is_errno(mio_poll_new(NULL), -EINVAL, "mio_poll_new(NULL) is -EINVAL");
	is_errno(mio_poll_poll(poll, NULL, NULL), -EINVAL,
	    "polling into NULL events is -EINVAL");
	mio_poll_free(NULL);
	ok(true, "mio_poll_free(NULL) is a no-op");
	mio_events_free(events);
	free_poll(poll);
}

int
main(void)
{
	plan_lazy();
	run_once_with_nothing();
	poll_closes_fd();
	polls_remade_at_once();
	zero_duration_polls_events();
	add_then_drop();
	readiness_is_reregistered_after_would_block();
	register_during_poll();
	registry_operations_are_thread_safe();
	eintr_is_returned();
	inline_and_exported_paths_agree();
	timeouts();
	capacity_overflow_goes_to_next_poll();
	poll_fd_nests();
	bad_arguments();
	return 0;
}
