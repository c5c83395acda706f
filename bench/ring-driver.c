/*
 * ring-driver.c - the shared half of every pipe-ring program: arguments,
 * socket pairs, the per-event work, timing and the output line.
 *
 * Usage: ring-<lib> [-r] [-n pairs] [-a active] [-w writes] [-i iterations]
 *        ring-<lib> -H    print the header of the output columns
 *        ring-<lib> -V    print the library's name and version
 *
 * One line of tab-separated values is printed per run; bench/run-ring.sh
 * collects them. Times are CPU time of this thread (CLOCK_THREAD_CPUTIME_ID),
 * which a busy machine disturbs much less than wall-clock time because time
 * spent preempted is not counted; the wall-clock figure is printed as well.
 * Each figure is the median over the iterations of one run, after one
 * untimed warm-up iteration.
 *
 * Under callgrind, --toggle-collect=ring_measured_dispatch counts exactly
 * the instructions of the timed dispatch (and ring_measured_rearm those of
 * the re-arm), which is why both are separate functions that are never
 * inlined.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

/* A read returns at most this much; more is read in another call. */
#define RING_READ_MAX 64

/* A run that takes longer than this has lost an event: give up. */
#define RING_ALARM_SECONDS 900

struct ring_options {
	size_t pairs;
	size_t active;
	size_t writes;
	size_t iterations;
	bool rearm;
};

/* The medians of one run, per message (byte delivered) or per pair. */
struct ring_result {
	double loop_ns;    /* dispatch CPU time per message */
	double iter_ns;    /* re-arm plus dispatch CPU time per message */
	double rearm_ns;   /* re-arm CPU time per registered descriptor */
	double wall_ns;    /* re-arm plus dispatch wall time per message */
	double callbacks;  /* calls of ring_readable() per iteration */
	long heap_bytes;   /* heap the library and its watchers hold */
	long maxrss_kb;    /* peak resident set of the process */
};

static void __attribute__((noreturn))
ring_fail(const char *what, int negative_errno)
{
	fprintf(stderr, "ring-%s: %s: %s\n", ring_backend.name, what,
	    strerror(-negative_errno));
	exit(1);
}

void
ring_readable(struct ring *ring, size_t index)
{
	char buf[RING_READ_MAX];
	ssize_t n;

	ring->callbacks++;
	/*
	 * A short read means the receive queue of a stream socket was empty
	 * when it returned, so an edge-triggered registration is drained
	 * without the extra recv() that would only say EAGAIN: any byte that
	 * arrives later queues a new edge (Linux ep_poll_callback; tokio
	 * relies on the same). Level-triggered libraries need no drain at all,
	 * so every library does the same system calls per event.
	 */
	do {
		n = recv(ring->fds[2 * index], buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* a spurious event */
		if (n <= 0)
			ring_fail("recv", n == 0 ? -EPIPE : -errno);
		ring->received += (size_t)n;
		size_t forward = (size_t)n < ring->writes_left ?
		    (size_t)n : ring->writes_left;
		if (forward == 0)
			continue;
		size_t next = index + 1 == ring->pairs ? 0 : index + 1;
		if (send(ring->fds[2 * next + 1], buf, forward, 0) !=
		    (ssize_t)forward)
			ring_fail("send", -errno);
		ring->writes_left -= forward;
		ring->sent += forward;
	} while (n == (ssize_t)sizeof(buf));
}

static void
ring_usage(void)
{
	fprintf(stderr, "usage: ring-%s [-r] [-n pairs] [-a active] "
	    "[-w writes] [-i iterations] | -H | -V\n", ring_backend.name);
	exit(2);
}

static size_t
ring_parse_size(const char *arg)
{
	char *end;
	errno = 0;
	unsigned long long value = strtoull(arg, &end, 10);

	if (errno != 0 || end == arg || *end != '\0' || value > SIZE_MAX / 4)
		ring_usage();
	return (size_t)value;
}

static void
ring_print_header(void)
{
	puts("lib\tvariant\tpairs\tactive\twrites\titerations\tmessages\t"
	    "callbacks\tloop_ns\titer_ns\trearm_ns\twall_ns\theap_bytes\t"
	    "maxrss_kb");
}

static struct ring_options
ring_parse(int argc, char **argv)
{
	struct ring_options opt = {
		.pairs = 100, .active = 1, .writes = 20000, .iterations = 10,
	};
	int c;

	while ((c = getopt(argc, argv, "a:i:n:rw:HV")) != -1) {
		switch (c) {
		case 'a':
			opt.active = ring_parse_size(optarg);
			break;
		case 'i':
			opt.iterations = ring_parse_size(optarg);
			break;
		case 'n':
			opt.pairs = ring_parse_size(optarg);
			break;
		case 'r':
			opt.rearm = true;
			break;
		case 'w':
			opt.writes = ring_parse_size(optarg);
			break;
		case 'H':
			ring_print_header();
			exit(0);
		case 'V':
			printf("%s %s\n", ring_backend.name,
			    ring_backend.version());
			exit(0);
		default:
			ring_usage();
		}
	}
	if (optind != argc || opt.pairs == 0 || opt.active == 0 ||
	    opt.active > opt.pairs || opt.iterations == 0)
		ring_usage();
	return opt;
}

/* Makes room for 2N descriptors plus the libraries' own. */
static void
ring_raise_fd_limit(size_t pairs)
{
	struct rlimit limit;
	rlim_t need = (rlim_t)(2 * pairs + 64);

	if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
		ring_fail("getrlimit", -errno);
	if (limit.rlim_cur >= need)
		return;
	if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < need)
		ring_fail("RLIMIT_NOFILE hard limit too low", -EMFILE);
	limit.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
		ring_fail("setrlimit", -errno);
}

static void
ring_open(struct ring *ring, const struct ring_options *opt)
{
	ring->pairs = opt->pairs;
	ring->active = opt->active;
	ring->writes = opt->writes;
	ring->fds = calloc(2 * opt->pairs, sizeof(*ring->fds));
	if (ring->fds == NULL)
		ring_fail("calloc", -ENOMEM);
	for (size_t i = 0; i < opt->pairs; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0, &ring->fds[2 * i]) != 0)
			ring_fail("socketpair", -errno);
	}
}

static void
ring_close(struct ring *ring)
{
	for (size_t i = 0; i < 2 * ring->pairs; i++)
		close(ring->fds[i]);
	free(ring->fds);
}

/* Sends the A starting bytes, spread evenly over the ring (untimed). */
static void
ring_start(struct ring *ring)
{
	size_t space = ring->pairs / ring->active;

	ring->received = 0;
	ring->sent = 0;
	ring->callbacks = 0;
	ring->writes_left = ring->writes;
	for (size_t i = 0; i < ring->active; i++) {
		if (send(ring->fds[2 * i * space + 1], "e", 1, 0) != 1)
			ring_fail("send", -errno);
		ring->sent++;
	}
}

void __attribute__((noinline)) ring_measured_dispatch(struct ring *ring);
void __attribute__((noinline)) ring_measured_rearm(struct ring *ring);

void __attribute__((noinline))
ring_measured_dispatch(struct ring *ring)
{
	int rc = ring_backend.dispatch(ring);

	if (rc != 0)
		ring_fail("dispatch", rc);
	if (ring->received != ring->active + ring->writes)
		ring_fail("lost bytes", -EPROTO);
}

void __attribute__((noinline))
ring_measured_rearm(struct ring *ring)
{
	int rc = ring_backend.rearm(ring);

	if (rc != 0)
		ring_fail("rearm", rc);
}

static double
ring_now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long
ring_heap_in_use(void)
{
	struct mallinfo2 info = mallinfo2();

	return (long)(info.uordblks + info.hblkhd);
}

static int
ring_compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
ring_median(double *values, size_t count)
{
	qsort(values, count, sizeof(*values), ring_compare_doubles);
	if (count % 2 == 1)
		return values[count / 2];
	return (values[count / 2 - 1] + values[count / 2]) / 2;
}

/* One value of each kind per timed iteration. */
struct ring_samples {
	double *loop, *iter, *rearm, *wall, *callbacks;
};

/*
 * Runs one timed iteration: the re-arm (in that variant), the untimed start,
 * the dispatch; records it as sample k.
 */
static void
ring_iterate(struct ring *ring, bool rearm, struct ring_samples *samples,
    size_t k)
{
	double wall0 = ring_now_ns(CLOCK_MONOTONIC);
	double cpu0 = ring_now_ns(CLOCK_THREAD_CPUTIME_ID);
	if (rearm)
		ring_measured_rearm(ring);
	double cpu1 = ring_now_ns(CLOCK_THREAD_CPUTIME_ID);
	double wall1 = ring_now_ns(CLOCK_MONOTONIC);
	ring_start(ring);
	double wall2 = ring_now_ns(CLOCK_MONOTONIC);
	double cpu2 = ring_now_ns(CLOCK_THREAD_CPUTIME_ID);
	ring_measured_dispatch(ring);
	double cpu3 = ring_now_ns(CLOCK_THREAD_CPUTIME_ID);
	double wall3 = ring_now_ns(CLOCK_MONOTONIC);

	double messages = (double)(ring->active + ring->writes);
	samples->loop[k] = (cpu3 - cpu2) / messages;
	samples->iter[k] = (cpu1 - cpu0 + cpu3 - cpu2) / messages;
	samples->rearm[k] = (cpu1 - cpu0) / (double)ring->pairs;
	samples->wall[k] = (wall1 - wall0 + wall3 - wall2) / messages;
	samples->callbacks[k] = (double)ring->callbacks;
}

/*
 * The untimed warm-up: one iteration without re-arm, through the backend
 * directly so that callgrind does not count it. Libraries that defer
 * registration to the loop (libev, libuv) hand it to the kernel here, so
 * every timed re-arm changes a registration the kernel already has.
 */
static void
ring_warm_up(struct ring *ring)
{
	ring_start(ring);
	int rc = ring_backend.dispatch(ring);
	if (rc != 0)
		ring_fail("dispatch", rc);
}

static void
ring_measure(struct ring *ring, const struct ring_options *opt,
    struct ring_result *result)
{
	size_t n = opt->iterations;
	double *all = calloc(5 * n, sizeof(*all));
	if (all == NULL)
		ring_fail("calloc", -ENOMEM);
	struct ring_samples samples = {
		.loop = all, .iter = all + n, .rearm = all + 2 * n,
		.wall = all + 3 * n, .callbacks = all + 4 * n,
	};

	long heap_before = ring_heap_in_use();
	int rc = ring_backend.setup(ring);
	if (rc != 0)
		ring_fail("setup", rc);
	/* The warm-up also lets a library grow its buffers to full size, so
	 * the heap is measured at its peak. */
	ring_warm_up(ring);
	result->heap_bytes = ring_heap_in_use() - heap_before;
	for (size_t k = 0; k < n; k++)
		ring_iterate(ring, opt->rearm, &samples, k);
	ring_backend.teardown(ring);

	result->loop_ns = ring_median(samples.loop, n);
	result->iter_ns = ring_median(samples.iter, n);
	result->rearm_ns = opt->rearm ? ring_median(samples.rearm, n) : 0;
	result->wall_ns = ring_median(samples.wall, n);
	result->callbacks = ring_median(samples.callbacks, n);
	free(all);
}

int
main(int argc, char **argv)
{
	struct ring_options opt = ring_parse(argc, argv);
	struct ring ring = { 0 };
	struct ring_result result = { 0 };
	struct rusage usage;

	alarm(RING_ALARM_SECONDS);
	ring_raise_fd_limit(opt.pairs);
	ring_open(&ring, &opt);
	ring_measure(&ring, &opt, &result);
	ring_close(&ring);
	if (getrusage(RUSAGE_SELF, &usage) == 0)
		result.maxrss_kb = usage.ru_maxrss;

	printf("%s\t%s\t%zu\t%zu\t%zu\t%zu\t%zu\t%.0f\t%.2f\t%.2f\t%.2f\t"
	    "%.2f\t%ld\t%ld\n", ring_backend.name,
	    opt.rearm ? "rearm" : "loop", opt.pairs, opt.active, opt.writes,
	    opt.iterations, opt.active + opt.writes, result.callbacks,
	    result.loop_ns, result.iter_ns, result.rearm_ns, result.wall_ns,
	    result.heap_bytes, result.maxrss_kb);
	return 0;
}
