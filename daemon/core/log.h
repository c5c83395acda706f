/*
 * log.h - miodnsd's logging, after OpenBSD's log.c: messages go to stderr
 * in the foreground and to syslog once daemonized.
 *
 * Levels: log_warn and log_warnx always (-qq silences them), log_info
 * unless -q, log_debug with -v (one line per event of interest) and
 * log_debug2 with -vv (one line per query). fatal and fatalx
 * log and exit 1; they exist in the daemon only, never in the libraries.
 */
#ifndef MIODNSD_LOG_H
#define MIODNSD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <time.h>

#define LOG_PRINTF(f, a) __attribute__((__format__(__printf__, f, a)))

/* Verbosity: -1 per -q, 0 by default, +1 per -v. */
void log_init(bool to_stderr, int verbosity);
void log_set_verbosity(int verbosity);
int log_get_verbosity(void);
/* Switches to syslog (after daemonizing). */
void log_to_syslog(void);

void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug2(const char *fmt, ...) LOG_PRINTF(1, 2);
__attribute__((__noreturn__)) void fatal(const char *fmt, ...)
    LOG_PRINTF(1, 2);
__attribute__((__noreturn__)) void fatalx(const char *fmt, ...)
    LOG_PRINTF(1, 2);

/*
 * A warning that may repeat at packet rate (load shedding): logged at most
 * once per interval, with the number of repeats suppressed since.
 */
struct log_limit {
	struct timespec last;
	unsigned long suppressed;
	bool started;
};
void log_warnx_limited(struct log_limit *limit, const char *fmt, ...)
    LOG_PRINTF(2, 3);

#endif /* MIODNSD_LOG_H */
