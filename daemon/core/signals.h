/*
 * signals.h - SIGINT, SIGTERM, SIGHUP and SIGUSR1 as loop events.
 *
 * The handler writes the signal into a self-pipe registered with worker
 * 0's poll; when the worker sees the pipe readable it calls signals_read()
 * into a struct signal_set, and main, at the top of the next round of the
 * loop, acts on the set and empties it. Nothing here knows what a signal
 * means to the daemon.
 */
#ifndef MIODNSD_SIGNALS_H
#define MIODNSD_SIGNALS_H

#include <stdbool.h>

#include "mio.h"

/* What arrived since the set was last emptied. */
struct signal_set {
	unsigned shutdowns;	/* SIGINT and SIGTERM: how many */
	int shutdown_signal;	/* the last of them */
	bool reload;		/* SIGHUP */
	bool log_counters;	/* SIGUSR1 */
};

/* Installs the handlers and registers the pipe with token; 0 or -errno. */
int signals_init(const mio_registry *registry, mio_token token);
/* Adds every pending signal to set (the pipe is read until empty). */
void signals_read(struct signal_set *set);
void signals_fini(const mio_registry *registry);

#endif /* MIODNSD_SIGNALS_H */
