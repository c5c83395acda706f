/*
 * worker.h - struct worker: one per thread, and everything it owns.
 *
 * A worker is one libmio poll and the state of everything that hangs off
 * it, as members: its copy of the configuration, its counters, its
 * timers, its transports (front), its query pipeline (resolver) and its
 * upstream channels. Each lower module is handed the members it needs
 * when the worker is made; none of them finds its state any other way,
 * and no other thread touches them. Worker 0 is the main thread, which
 * also reads the signals into w->signals for main to act on.
 *
 * The main thread publishes a configuration (worker_publish); each worker
 * applies it to itself at the top of its loop (worker_apply).
 */
#ifndef MIODNSD_WORKER_H
#define MIODNSD_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#include "core/conf.h"
#include "core/handle.h"
#include "core/signals.h"
#include "core/stats.h"
#include "core/clock.h"
#include "front/front.h"
#include "mio.h"
#include "resolve/resolve.h"
#include "resolve/upstream.h"

struct zone_set;
struct cache;

struct worker {
	unsigned id;
	pthread_t thread;
	mio_poll *poll;
	mio_events *events;
	mio_waker *waker;
	struct handle waker_handle;	/* HANDLE_WAKER */
	struct handle signals_handle;	/* HANDLE_SIGNALS (worker 0) */
	unsigned generation;		/* of the configuration applied */
	bool more_ready;		/* a listener has unread input */
	bool shutting_down;
	mio_timer shutdown_timer;
	struct config conf;		/* this worker's copy */
	struct counters counters;	/* written by this worker only */
	mio_timers *timers;		/* folded into the poll's timeout */
	struct batch_clock clock;	/* "now", read after every poll */
	struct front front;		/* listeners, connections, batches */
	struct upstreams *upstreams;	/* c-ares channels */
	struct resolver *resolver;	/* queries, in-flight table */
	struct signal_set signals;	/* worker 0: what main acts on */
};

/* Called at the top of every round of worker 0's loop: main's hook. */
typedef void worker_hook_fn(struct worker *w);

int worker_init_main(struct worker **out);
void worker_publish(const struct config *conf, struct zone_set *zones,
    struct cache *cache);
int worker_apply(struct worker *w);
bool worker_wait_applied(unsigned timeout_ms);
int workers_spawn(unsigned n);
void workers_go(void);
void worker_loop(struct worker *w, worker_hook_fn *between);
void workers_join(void);
void worker_fini(struct worker *w);
void workers_free(void);
void worker_request_shutdown(int sig);
unsigned worker_count(void);

#endif /* MIODNSD_WORKER_H */
