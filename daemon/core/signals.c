/*
 * signals.c - signals delivered to the loop as a libmio source, and read
 * into a set that main acts on.
 *
 * The handler only writes the signal number into a non-blocking self-pipe
 * (write(2) is async-signal-safe; a full pipe drops the byte, and the
 * bytes already queued stand for it). The read end is a mio_source of its
 * own, so SIGTERM, SIGHUP and SIGUSR1 are handled by the loop like any
 * other event, between batches, where everything may be touched. A pipe
 * rather than signalfd(2) keeps this file the same on every system.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "signals.h"

struct signal_source {
	mio_source source;	/* first: the registry sees this */
	int fds[2];
};

static const int signals_handled[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
static struct signal_source sigsrc = { .fds = { -1, -1 } };
static volatile sig_atomic_t signal_write_fd = -1;

static void
signals_handler(int sig)
{
	int saved = errno;
	unsigned char byte = (unsigned char)sig;

	if (signal_write_fd >= 0)
		(void)!write(signal_write_fd, &byte, 1);
	errno = saved;
}

static int
signals_register(mio_source *source, const mio_registry *registry,
    mio_token token, mio_interest interest)
{
	struct signal_source *s = (struct signal_source *)source;

	return mio_registry_register_fd(registry, s->fds[0], token, interest);
}

static int
signals_reregister(mio_source *source, const mio_registry *registry,
    mio_token token, mio_interest interest)
{
	struct signal_source *s = (struct signal_source *)source;

	return mio_registry_reregister_fd(registry, s->fds[0], token,
	    interest);
}

static int
signals_deregister(mio_source *source, const mio_registry *registry)
{
	struct signal_source *s = (struct signal_source *)source;

	return mio_registry_deregister_fd(registry, s->fds[0]);
}

static const mio_source_ops signals_ops = {
	.register_source = signals_register,
	.reregister_source = signals_reregister,
	.deregister_source = signals_deregister,
};

int
signals_init(const mio_registry *registry, mio_token token)
{
	struct sigaction sa;
	int rc;

	if (pipe2(sigsrc.fds, O_NONBLOCK | O_CLOEXEC) != 0)
		return -errno;
	sigsrc.source.ops = &signals_ops;
	rc = mio_registry_register(registry, &sigsrc.source, token,
	    MIO_READABLE);
	if (rc != 0)
		return rc;
	signal_write_fd = sigsrc.fds[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = signals_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(signals_handled) / sizeof(int); i++)
		sigaction(signals_handled[i], &sa, NULL);
	return 0;
}

/* Reads every pending signal into set; edge-triggered, so until EAGAIN. */
void
signals_read(struct signal_set *set)
{
	unsigned char buf[64];
	ssize_t n;

	while ((n = read(sigsrc.fds[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			switch (buf[i]) {
			case SIGINT:
			case SIGTERM:
				set->shutdowns++;
				set->shutdown_signal = buf[i];
				break;
			case SIGHUP:
				set->reload = true;
				break;
			case SIGUSR1:
				set->log_counters = true;
				break;
			}
		}
	}
}

void
signals_fini(const mio_registry *registry)
{
	if (sigsrc.fds[0] < 0)
		return;
	for (size_t i = 0; i < sizeof(signals_handled) / sizeof(int); i++)
		signal(signals_handled[i], SIG_DFL);
	signal_write_fd = -1;
	mio_registry_deregister(registry, &sigsrc.source);
	close(sigsrc.fds[0]);
	close(sigsrc.fds[1]);
	sigsrc.fds[0] = sigsrc.fds[1] = -1;
}
