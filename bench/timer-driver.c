/*
 * timer-driver.c - the timer benchmark's driver: the same workload, timing
 * and output for every library (timer.h has the contract).
 *
 *   timer-LIB -m MODE -n N [-i ITERATIONS] [-r REPEATS]
 *
 * N timers are pending in every mode, with delays spread uniformly over
 * 100 to 200 s (round-near: 10 to 1,000 ms), and no mode but expiry runs
 * the loop, so none fires where it is not expected. The modes, each printing one line "LIB N MODE ns-per-timer" per
 * repeat:
 *
 *   startstop  one more timer started and stopped at once, ITERATIONS
 *              times, with delays from the same spread (so it lands in
 *              the middle of the heap, not always at its end): the cost
 *              of a timeout that is cancelled within the loop round that
 *              armed it.
 *   round      1,000 more timers started, then the loop's pre-wait step
 *              (timer_backend_flush: libmio's mio_timers_timeout()), then
 *              all 1,000 stopped: the cost of a timeout that outlives the
 *              round that armed it. Per timer, ITERATIONS / 1000 times.
 *   round-near round, with every delay (the N timers' and the 1,000's)
 *              spread over 10 to 1,000 ms instead: libmio keeps timers
 *              due within about a second in its heap and later ones in
 *              far slots, so this is the mode where its heap is full.
 *   expiry     the N timers get delays of 0 to 1 ms instead, the driver
 *              waits (untimed) until all are due, and one non-blocking
 *              round of the loop is timed, which fires all N: the cost
 *              of firing one timer among N.
 *
 * Under callgrind, --toggle-collect=timer_measured_MODE counts exactly the
 * instructions of the timed part; the driver prints the number of timers
 * that part handled, to divide by.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timer.h"

#define SPREAD_BASE (100 * 1000000000ull)
#define SPREAD_WIDTH (100 * 1000000000ull)
/* round-near: delays under a second, which libmio keeps in its heap. */
#define NEAR_BASE (10 * 1000000ull)
#define NEAR_WIDTH (990 * 1000000ull)
#define ROUND_TIMERS 1000
#define DELAYS 4096

size_t timer_fired;
size_t timer_backend_count;

static uint64_t spread_base = SPREAD_BASE, spread_width = SPREAD_WIDTH;

static uint64_t delays[DELAYS];
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* xorshift64: the same sequence for every library. */
static uint64_t
rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
start_background(size_t n)
{
	for (size_t i = 0; i < n; i++)
		timer_backend_start(i, spread_base + rng_next() % spread_width);
	timer_backend_flush();
}

void __attribute__((noinline)) timer_measured_startstop(size_t n, size_t it);
void __attribute__((noinline)) timer_measured_round(size_t n, size_t rounds);
void __attribute__((noinline)) timer_measured_expiry(void);

void __attribute__((noinline))
timer_measured_startstop(size_t n, size_t iterations)
{
	for (size_t k = 0; k < iterations; k++) {
		size_t i = n + (k % ROUND_TIMERS);

		timer_backend_start(i, delays[k % DELAYS]);
		timer_backend_stop(i);
	}
}

void __attribute__((noinline))
timer_measured_round(size_t n, size_t rounds)
{
	size_t d = 0;

	for (size_t r = 0; r < rounds; r++) {
		for (size_t i = n; i < n + ROUND_TIMERS; i++)
			timer_backend_start(i, delays[d++ % DELAYS]);
		timer_backend_flush();
		for (size_t i = n; i < n + ROUND_TIMERS; i++)
			timer_backend_stop(i);
	}
}

void __attribute__((noinline))
timer_measured_expiry(void)
{
	timer_backend_round();
}

static double
run_expiry(size_t n)
{
	uint64_t t0;

	for (size_t i = 0; i < n; i++)
		timer_backend_start(i, rng_next() % 1000000u);
	timer_backend_flush();
	/* libuv counts whole milliseconds from a cached time: 3 ms is past
	 * every deadline of every library. */
	t0 = now_ns() + 3000000u;
	while (now_ns() < t0)
		nanosleep(&(struct timespec){.tv_nsec = 500000}, NULL);
	timer_fired = 0;
	t0 = now_ns();
	timer_measured_expiry();
	t0 = now_ns() - t0;
	if (timer_fired != n) {
		fprintf(stderr, "%s: expiry fired %zu of %zu\n",
		    timer_backend_name, timer_fired, n);
		exit(1);
	}
	return (double)t0 / (double)n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: timer-LIB -m startstop|round|round-near|expiry -n N "
	    "[-i iterations] [-r repeats]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mode = NULL, *label;
	size_t n = 0, iterations = 1000000, repeats = 1;
	int c;

	while ((c = getopt(argc, argv, "m:n:i:r:")) != -1) {
		switch (c) {
		case 'm': mode = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'i': iterations = strtoul(optarg, NULL, 10); break;
		case 'r': repeats = strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (mode == NULL || n == 0)
		usage();
	label = mode;
	if (strcmp(mode, "round-near") == 0) {
		mode = "round";
		spread_base = NEAR_BASE;
		spread_width = NEAR_WIDTH;
	}
	for (size_t i = 0; i < DELAYS; i++)
		delays[i] = spread_base + rng_next() % spread_width;
	timer_backend_count = n + ROUND_TIMERS;
	timer_backend_setup(timer_backend_count);
	for (size_t r = 0; r < repeats; r++) {
		double per;
		size_t handled;

		if (strcmp(mode, "expiry") == 0) {
			per = run_expiry(n);
			handled = n;
		} else {
			int round = strcmp(mode, "round") == 0;
			size_t rounds = iterations / ROUND_TIMERS;
			uint64_t t0;

			if (!round && strcmp(mode, "startstop") != 0)
				usage();
			if (r == 0)
				start_background(n);
			t0 = now_ns();
			if (round)
				timer_measured_round(n, rounds);
			else
				timer_measured_startstop(n, iterations);
			t0 = now_ns() - t0;
			handled = round ? rounds * ROUND_TIMERS : iterations;
			per = (double)t0 / (double)handled;
		}
		printf("%s\t%zu\t%s\t%.2f\t%zu\n", timer_backend_name, n, label,
		    per, handled);
	}
	timer_backend_teardown();
	return 0;
}
