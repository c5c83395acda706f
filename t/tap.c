/*
 * tap.c - the TAP producer declared in tap.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mio.h"
#include "tap.h"

static int tap_planned = -1;
static int tap_run;
static int tap_failed;
static bool tap_lazy;

static void
tap_finish(void)
{
	fflush(stdout);
	if (tap_lazy)
		printf("1..%d\n", tap_run);
	else if (tap_planned >= 0 && tap_run != tap_planned)
		printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
	fflush(stdout);
	if (tap_failed > 0 || (!tap_lazy && tap_run != tap_planned))
		_exit(1);
}

void
plan(int n)
{
	/* Line-buffered so that output interleaves sanely with children. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_planned = n;
	printf("1..%d\n", n);
	atexit(tap_finish);
}

void
plan_lazy(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_lazy = true;
	atexit(tap_finish);
}

void
skip_all(const char *fmt, ...)
{
	va_list ap;

	tap_lazy = false;
	printf("1..0 # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	_exit(0);
}

static void
tap_vbail(const char *suffix, const char *fmt, va_list ap)
{
	fflush(stdout);
	printf("Bail out! ");
	vprintf(fmt, ap);
	printf("%s\n", suffix);
	fflush(stdout);
	_exit(255);
}

void
bail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vbail("", fmt, ap);
	va_end(ap);
	_exit(255);
}

void
sysbail(const char *fmt, ...)
{
	char suffix[256];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(errno));
	va_start(ap, fmt);
	tap_vbail(suffix, fmt, ap);
	va_end(ap);
	_exit(255);
}

void
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void
skip(int n, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	for (int i = 0; i < n; i++)
		printf("ok %d # skip %s\n", ++tap_run, reason);
}

static bool
tap_vresult(const char *file, int line, bool pass, const char *fmt,
    va_list ap)
{
	tap_run++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_run);
	vprintf(fmt, ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return pass;
}

bool
tap_ok(const char *file, int line, bool pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(file, line, pass, fmt, ap);
	va_end(ap);
	return pass;
}

bool
tap_is_int(const char *file, int line, long long got, long long want,
    const char *fmt, ...)
{
	va_list ap;
	bool pass = got == want;

	va_start(ap, fmt);
	tap_vresult(file, line, pass, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#   %s:%d: expected %lld, got %lld\n", file, line, want,
		    got);
	return pass;
}

bool
tap_is_string(const char *file, int line, const char *got, const char *want,
    const char *fmt, ...)
{
	va_list ap;
	bool pass = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);

	va_start(ap, fmt);
	tap_vresult(file, line, pass, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#   %s:%d: expected \"%s\", got \"%s\"\n", file, line,
		    want ? want : "(null)", got ? got : "(null)");
	return pass;
}

bool
tap_is_errno(const char *file, int line, long long got, long long want,
    const char *fmt, ...)
{
	va_list ap;
	bool pass = got == want;

	va_start(ap, fmt);
	tap_vresult(file, line, pass, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#   %s:%d: expected %lld (%s), got %lld (%s)\n", file,
		    line, want, mio_strerror((int)want), got,
		    got <= 0 ? mio_strerror((int)got) : "a count");
	return pass;
}

int
tap_failures(void)
{
	return tap_failed;
}
