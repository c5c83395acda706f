/*
 * worker.c - the worker threads: one libmio poll each, the event loop, and
 * how a configuration reaches every worker.
 *
 * mio's model is one poll per thread, and so is ours: a worker owns its
 * poll, its sockets and everything hanging off them (the WORKER_LOCAL
 * state of each file), and no other thread touches them. The main thread
 * is worker 0; with -t N it starts workers 1..N-1, which block every
 * signal, so that signals reach the main thread's self-pipe only.
 *
 * The main thread publishes a configuration (worker_publish): the
 * settings, the addresses worker 0 bound, the zones and the cache, under a
 * lock, with a new generation number, and wakes every worker through its
 * mio_waker. Each worker, at the top of its loop, sees the new generation
 * and applies it to itself (worker_apply): its listeners, its c-ares
 * channels, its references to the zones and the cache. A worker's old
 * zones and cache live until it lets go of them, since both are
 * reference-counted; nothing is freed under a running worker.
 *
 * Shutdown is a flag and a wake-up for every worker: each stops reading,
 * lets its queries end and flushes its answers, then leaves its loop; the
 * main thread joins the others after its own loop ends.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/cache.h"
#include "core/log.h"
#include "miodnsd.h"
#include "zone.h"

#define WORKER_EVENTS 256
/* After SIGTERM, how long past the query deadline answers may still be
 * flushed to slow TCP clients. */
#define WORKER_SHUTDOWN_GRACE_MS 500

struct worker {
	unsigned id;
	pthread_t thread;
	mio_poll *poll;
	mio_events *events;
	mio_waker *waker;
	struct handle waker_handle;	/* HANDLE_WAKER */
	unsigned generation;		/* of the configuration applied */
	bool more_ready;		/* a listener has unread input */
	bool shutting_down;
	struct timer shutdown_timer;
	struct config conf;		/* this worker's copy */
};

/* What the main thread publishes; read under lock. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct config conf;
	struct addr bound[MIODNSD_MAX_LISTEN];	/* worker 0's, by index */
	struct zone_set *zones;
	struct cache *cache;
	unsigned ready, failed;		/* workers started, and not */
	unsigned applied;		/* workers on the last generation */
	bool go;			/* start serving */
	struct worker *workers[MIODNSD_MAX_THREADS];
	unsigned nworkers;
} shared = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

static atomic_uint generation;
static atomic_bool shutdown_requested, exit_now;
static atomic_int shutdown_signal;
/* Workers 1..N-1 still in their loops; worker 0 waits for them in its
 * own loop, where it still reads the signals (a second SIGTERM). */
static atomic_uint others_running;

static WORKER_LOCAL struct worker *self;

const mio_registry *
worker_registry(void)
{
	return mio_poll_registry(self->poll);
}

const struct config *
worker_config(void)
{
	return &self->conf;
}

bool
worker_shutting_down(void)
{
	return self->shutting_down;
}

unsigned
worker_id(void)
{
	return self->id;
}

unsigned
worker_count(void)
{
	return shared.nworkers;
}

/* The calling thread becomes worker id: its poll, its waker, the empty
 * lists of every file. 0, or -errno. */
static int
worker_init(struct worker *w, unsigned id)
{
	int rc;

	w->id = id;
	w->waker_handle.kind = HANDLE_WAKER;
	if ((rc = mio_poll_new(&w->poll)) != 0 ||
	    (rc = mio_events_new(&w->events, WORKER_EVENTS)) != 0 ||
	    (rc = mio_waker_new(mio_poll_registry(w->poll),
	    (mio_token)&w->waker_handle, &w->waker)) != 0)
		return rc;
	self = w;
	timer_worker_init();
	if ((rc = listener_worker_init()) != 0)
		return rc;
	conn_worker_init();
	query_worker_init();
	upstream_worker_init();
	stats_worker_start(id);
	return 0;
}

/* Main thread, first of all: it becomes worker 0. The condition variable
 * measures its timeouts on the monotonic clock, which a change of the
 * date does not move. */
int
worker_init_main(void)
{
	struct worker *w = calloc(1, sizeof(*w));
	pthread_condattr_t attr;
	int rc;

	if (w == NULL)
		return -ENOMEM;
	if (pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&shared.cond, &attr) != 0)
		return -ENOMEM;
	pthread_condattr_destroy(&attr);
	if ((rc = worker_init(w, 0)) != 0)
		return rc;
	shared.workers[0] = w;
	shared.nworkers = 1;
	return 0;
}

/*
 * Main thread: makes conf, zones and cache the configuration of every
 * worker (the references stay the callers'; these are new ones). The
 * listeners of worker 0, which must be configured already, give the
 * addresses the others bind. Every worker is woken to apply it.
 */
void
worker_publish(const struct config *conf, struct zone_set *zones,
    struct cache *cache)
{
	pthread_mutex_lock(&shared.lock);
	shared.conf = *conf;
	listener_bound(conf, shared.bound);
	zone_set_free(shared.zones);
	shared.zones = zones != NULL ? zone_set_ref(zones) : NULL;
	cache_free(shared.cache);
	shared.cache = cache != NULL ? cache_ref(cache) : NULL;
	atomic_fetch_add(&generation, 1);
	shared.applied = 0;
	pthread_mutex_unlock(&shared.lock);
	for (unsigned i = 1; i < shared.nworkers; i++) {
		if (shared.workers[i]->waker != NULL)
			mio_waker_wake(shared.workers[i]->waker);
	}
}

/*
 * Main thread, after worker_publish() and its own worker_apply(): waits
 * (at most timeout_ms) until every worker has taken the configuration, so
 * that "configuration reloaded" in the log means every worker serves it.
 * A worker busy with a batch takes it within milliseconds.
 */
bool
worker_wait_applied(unsigned timeout_ms)
{
	struct timespec until;
	bool all;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&shared.lock);
	while (shared.applied < shared.nworkers &&
	    pthread_cond_timedwait(&shared.cond, &shared.lock, &until) == 0)
		;
	all = shared.applied >= shared.nworkers;
	pthread_mutex_unlock(&shared.lock);
	return all;
}

/* Counts this worker as serving generation gen, unless a newer one was
 * published meanwhile (the worker will take that one next). */
static void
worker_applied(unsigned gen)
{
	pthread_mutex_lock(&shared.lock);
	if (gen == atomic_load(&generation)) {
		shared.applied++;
		pthread_cond_broadcast(&shared.cond);
	}
	pthread_mutex_unlock(&shared.lock);
}

/* The limits are the daemon's: each worker takes its share. */
static void
worker_share_limits(struct config *conf)
{
	unsigned n = conf->threads > 0 ? conf->threads : 1;

	conf->max_inflight = (conf->max_inflight + n - 1) / n;
	conf->max_tcp_clients = (conf->max_tcp_clients + n - 1) / n;
}

/*
 * A worker takes the configuration last published. Worker 0 has set up
 * its listeners and channels already, so for it the calls below only
 * confirm them. 0, or -1 if this worker could not open every address or
 * make its channels: fatal at start, a warning on reload (the worker
 * keeps what it had).
 */
int
worker_apply(void)
{
	struct config *conf = &self->conf;
	struct addr bound[MIODNSD_MAX_LISTEN];
	struct zone_set *zones;
	struct cache *cache;
	int rc = 0;

	/* Only this thread reads its copy, so it is filled in place. */
	pthread_mutex_lock(&shared.lock);
	self->generation = atomic_load(&generation);
	*conf = shared.conf;
	memcpy(bound, shared.bound, sizeof(bound));
	zones = shared.zones != NULL ? zone_set_ref(shared.zones) : NULL;
	cache = shared.cache != NULL ? cache_ref(shared.cache) : NULL;
	pthread_mutex_unlock(&shared.lock);
	worker_share_limits(conf);
	local_zones_use(zones);
	/* Worker 0's own failures were logged where it made them. */
	if (listener_configure(conf, bound) != 0) {
		if (self->id != 0)
			log_warnx("worker %u: some addresses could not be "
			    "opened", self->id);
		rc = -1;
	}
	if (upstream_configure(conf) != 0) {
		if (self->id != 0)
			log_warnx("worker %u: keeping the previous upstreams",
			    self->id);
		rc = -1;
	}
	if (query_configure(conf, cache) != 0)
		rc = -1;
	worker_applied(self->generation);
	return rc;
}

static void
worker_shutdown_fire(struct timer *t)
{
	(void)t;
	if (query_count() > 0 || conn_count() > 0)
		log_info("shutdown: giving up on %zu queries and %zu "
		    "connections", query_count(), conn_count());
	query_fail_all();
	conn_close_all();
}

/* Stop taking queries, let those in flight end (each has its deadline),
 * flush the answers; the loop ends when nothing is left. */
static void
worker_begin_shutdown(void)
{
	struct counters total;

	self->shutting_down = true;
	if (self->id == 0) {
		stats_total(&total);
		log_info("%s: shutting down, %llu queries in flight",
		    strsignal(atomic_load(&shutdown_signal)),
		    (unsigned long long)total.inflight);
	}
	listener_stop_reading();
	self->more_ready = false;
	conn_shutdown();
	self->shutdown_timer.fire = worker_shutdown_fire;
	timer_arm(&self->shutdown_timer, timer_now() + self->conf.timeout_ms +
	    WORKER_SHUTDOWN_GRACE_MS);
}

/* Main thread (the signals' worker): every worker begins its shutdown;
 * a second request ends the loops at once. */
void
worker_request_shutdown(int sig)
{
	atomic_store(&shutdown_signal, sig);
	if (atomic_exchange(&shutdown_requested, true)) {
		log_info("second signal: exiting now");
		atomic_store(&exit_now, true);
	}
	for (unsigned i = 0; i < shared.nworkers; i++) {
		if (shared.workers[i]->waker != NULL)
			mio_waker_wake(shared.workers[i]->waker);
	}
}

static void
worker_dispatch(const mio_event *ev)
{
	struct handle *h;

	if (upstream_event(ev))
		return;
	h = (struct handle *)mio_event_token(ev);
	switch (h->kind) {
	case HANDLE_UDP:
	case HANDLE_TCP_LISTEN:
		listener_event(h, ev);
		break;
	case HANDLE_CONN:
		conn_event(h, ev);
		break;
	case HANDLE_SIGNALS:
		signals_event();
		break;
	case HANDLE_WAKER:
		/* The loop's top looks at what changed. */
		break;
	}
}

/* One poll and everything that follows from it. */
static void
worker_poll_once(void)
{
	struct timespec cap, buf;
	const struct timespec *t = NULL;
	long ms = self->more_ready ? 0 : timer_next_ms();
	int rc;

	if (ms >= 0) {
		cap.tv_sec = ms / 1000;
		cap.tv_nsec = (ms % 1000) * 1000000;
		t = &cap;
	}
	t = upstream_timeout(t, &buf);
	rc = mio_poll_poll(self->poll, self->events, t);
	if (rc < 0 && rc != -EINTR)
		fatalx("mio_poll_poll: %s", mio_strerror(rc));
	timer_update();
	MIO_EVENTS_FOREACH(ev, self->events)
		worker_dispatch(ev);
	upstream_process_timeouts();
	self->more_ready = listener_run_ready();
	timer_run();
	conn_run_deferred();
	upstream_reap();
	udp_flush();
}

/* Runs the calling worker until it has shut down; between, if not NULL,
 * is called at the top of every round (the main thread's reload). */
void
worker_loop(void (*between)(void))
{
	for (;;) {
		timer_update();
		if (between != NULL && !atomic_load(&shutdown_requested))
			between();
		if (self->generation != atomic_load(&generation))
			worker_apply();
		if (atomic_load(&shutdown_requested) && !self->shutting_down)
			worker_begin_shutdown();
		if (self->shutting_down && (atomic_load(&exit_now) ||
		    (query_count() == 0 && conn_count() == 0)) &&
		    (self->id != 0 || atomic_load(&others_running) == 0))
			return;
		worker_poll_once();
	}
}

/* The end of a worker: everything it owns but its poll and waker, which
 * the main thread may still wake; worker_free() frees those once the
 * thread is joined. */
void
worker_fini(void)
{
	timer_disarm(&self->shutdown_timer);
	query_fail_all();
	conn_close_all();
	listener_close_all();
	upstream_free_all();
	query_fini();
	local_zones_free();
	stats_worker_stop(self->id);
}

static void
worker_free(struct worker *w)
{
	mio_waker_free(w->waker);
	mio_events_free(w->events);
	mio_poll_free(w->poll);
	free(w);
}

/* Tells the main thread this worker is set up (ok) or not; if it is,
 * waits until the main thread says go. */
static void
worker_started(bool ok)
{
	pthread_mutex_lock(&shared.lock);
	if (ok)
		shared.ready++;
	else
		shared.failed++;
	pthread_cond_broadcast(&shared.cond);
	while (ok && !shared.go)
		pthread_cond_wait(&shared.cond, &shared.lock);
	pthread_mutex_unlock(&shared.lock);
}

static void *
worker_thread(void *arg)
{
	struct worker *w = arg;
	int rc;

	if ((rc = worker_init(w, w->id)) != 0) {
		log_warnx("worker %u: %s", w->id, mio_strerror(rc));
		worker_started(false);
		return NULL;
	}
	if (worker_apply() != 0) {
		worker_started(false);
		return NULL;
	}
	worker_started(true);
	worker_loop(NULL);
	worker_fini();
	/* Worker 0 leaves its loop only when every other worker is done. */
	atomic_fetch_sub(&others_running, 1);
	mio_waker_wake(shared.workers[0]->waker);
	return NULL;
}

/*
 * Main thread, after worker 0 is configured and its configuration
 * published: starts workers 1..n-1 and waits until each has bound its
 * sockets (before privileges are dropped). 0, or -1 if one failed.
 */
int
workers_spawn(unsigned n)
{
	sigset_t all, saved;
	int rc = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	for (unsigned i = 1; i < n; i++) {
		struct worker *w = calloc(1, sizeof(*w));
		if (w == NULL) {
			rc = -1;
			break;
		}
		w->id = i;
		atomic_fetch_add(&others_running, 1);
		if (pthread_create(&w->thread, NULL, worker_thread, w) != 0) {
			atomic_fetch_sub(&others_running, 1);
			free(w);
			rc = -1;
			break;
		}
		shared.workers[shared.nworkers++] = w;
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	pthread_mutex_lock(&shared.lock);
	while (shared.ready + shared.failed < shared.nworkers - 1)
		pthread_cond_wait(&shared.cond, &shared.lock);
	if (shared.failed > 0)
		rc = -1;
	pthread_mutex_unlock(&shared.lock);
	return rc;
}

/* Main thread, once the process is set up: the workers start serving. */
void
workers_go(void)
{
	pthread_mutex_lock(&shared.lock);
	shared.go = true;
	pthread_cond_broadcast(&shared.cond);
	pthread_mutex_unlock(&shared.lock);
}

/* Main thread, after its own loop: waits for the other workers. */
void
workers_join(void)
{
	for (unsigned i = 1; i < shared.nworkers; i++)
		pthread_join(shared.workers[i]->thread, NULL);
}

/* Main thread, last: frees every worker, and what was published. */
void
workers_free(void)
{
	for (unsigned i = 0; i < shared.nworkers; i++)
		worker_free(shared.workers[i]);
	shared.nworkers = 0;
	self = NULL;
	zone_set_free(shared.zones);
	shared.zones = NULL;
	cache_free(shared.cache);
	shared.cache = NULL;
}
