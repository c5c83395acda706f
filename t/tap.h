/*
 * tap.h - a small TAP producer for libmio's tests.
 *
 * The shape follows c-tap-harness (plan, ok, is_int, diag, bail, sysbail,
 * skip_all); every check records the file and line of its caller, so a
 * failure reads "t/poll.c:42: expected 3, got 0". Each test program calls
 * plan() or plan_lazy() first; the exit status is 0 only if every test
 * passed and the plan was kept.
 */
#ifndef MIO_T_TAP_H
#define MIO_T_TAP_H

#include <stdbool.h>
#include <stddef.h>

#define TAP_PRINTF(f, a) __attribute__((__format__(__printf__, f, a)))

/* Announces n tests, or prints the plan at exit when lazy. */
void plan(int n);
void plan_lazy(void);

/* Skips the whole program: "1..0 # SKIP reason", exit 0. */
__attribute__((__noreturn__)) void skip_all(const char *fmt, ...)
    TAP_PRINTF(1, 2);

/* Aborts the program with "Bail out!"; sysbail adds strerror(errno). */
__attribute__((__noreturn__)) void bail(const char *fmt, ...)
    TAP_PRINTF(1, 2);
__attribute__((__noreturn__)) void sysbail(const char *fmt, ...)
    TAP_PRINTF(1, 2);

/* A "# ..." line on stderr-free stdout, kept by tap-driver --comments. */
void diag(const char *fmt, ...) TAP_PRINTF(1, 2);

/* Records n skipped tests with a reason. */
void skip(int n, const char *fmt, ...) TAP_PRINTF(2, 3);

bool tap_ok(const char *file, int line, bool pass, const char *fmt, ...)
    TAP_PRINTF(4, 5);
bool tap_is_int(const char *file, int line, long long got, long long want,
    const char *fmt, ...) TAP_PRINTF(5, 6);
bool tap_is_string(const char *file, int line, const char *got,
    const char *want, const char *fmt, ...) TAP_PRINTF(5, 6);
/* A libmio result: 0/-errno is shown with mio_strerror on mismatch. */
bool tap_is_errno(const char *file, int line, long long got, long long want,
    const char *fmt, ...) TAP_PRINTF(5, 6);

#define ok(pass, ...) tap_ok(__FILE__, __LINE__, (pass), __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int(__FILE__, __LINE__, (got), (want), __VA_ARGS__)
#define is_string(got, want, ...) \
	tap_is_string(__FILE__, __LINE__, (got), (want), __VA_ARGS__)
#define is_errno(got, want, ...) \
	tap_is_errno(__FILE__, __LINE__, (got), (want), __VA_ARGS__)

/* The number of failed tests so far. */
int tap_failures(void);

#endif /* MIO_T_TAP_H */
