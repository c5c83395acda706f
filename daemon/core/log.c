/*
 * log.c - stderr or syslog, with verbosity levels and a rate limit for
 * messages that the network can trigger at will.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

#define LOG_LIMIT_INTERVAL_SEC 1

static bool log_stderr = true;
static int log_verbosity;

void
log_init(bool to_stderr, int verbosity)
{
	log_stderr = to_stderr;
	log_verbosity = verbosity;
	if (!to_stderr)
		log_to_syslog();
}

void
log_set_verbosity(int verbosity)
{
	log_verbosity = verbosity;
}

int
log_get_verbosity(void)
{
	return log_verbosity;
}

void
log_to_syslog(void)
{
	log_stderr = false;
	openlog("miodnsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void
log_vwrite(int priority, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_stderr) {
		fprintf(stderr, "miodnsd: %s%s%s\n", msg,
		    suffix ? ": " : "", suffix ? suffix : "");
		fflush(stderr);
	} else if (suffix != NULL) {
		syslog(priority, "%s: %s", msg, suffix);
	} else {
		syslog(priority, "%s", msg);
	}
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (log_verbosity < -1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < -1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < 0)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < 1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug2(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < 2)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

void
log_warnx_limited(struct log_limit *limit, const char *fmt, ...)
{
	struct timespec now;
	char suffix[64];
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Whole milliseconds: comparing seconds alone would let a burst
	 * that crosses a second's boundary log twice. */
	if (limit->started && (now.tv_sec - limit->last.tv_sec) * 1000 +
	    (now.tv_nsec - limit->last.tv_nsec) / 1000000 <
	    LOG_LIMIT_INTERVAL_SEC * 1000) {
		limit->suppressed++;
		return;
	}
	snprintf(suffix, sizeof(suffix), "%lu similar messages suppressed",
	    limit->suppressed);
	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, limit->suppressed ? suffix : NULL);
	va_end(ap);
	limit->last = now;
	limit->started = true;
	limit->suppressed = 0;
}
