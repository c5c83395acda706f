/*
 * worker.c - the worker threads: one libmio poll each, the event loop, and
 * how a configuration reaches every worker.
 *
 * mio's model is one poll per thread, and so is ours: a worker owns its
 * poll, its sockets and everything hanging off them (the members of its
 * struct worker, worker.h), and no other thread touches them. The main thread
 * is worker 0; with -t N it starts workers 1..N-1, which block every
 * signal, so that signals reach the main thread's self-pipe only.
 *
 * The main thread publishes a configuration (worker_publish): the
 * settings, the addresses worker 0 bound, the zones and the cache, under a
 * lock, with a new generation number, and wakes every worker through its
 * mio_waker. Each worker, at the top of its loop, sees the new generation
 * and applies it to itself (worker_apply): its listeners, its c-ares
 * channels, its resolver's references to the zones and the cache. A worker's old
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

#include "core/log.h"
#include "dns/cache.h"
#include "worker.h"
#include "zone.h"

#define WORKER_EVENTS 256
/* After SIGTERM, how long past the query deadline answers may still be
 * flushed to slow TCP clients. */
#define WORKER_SHUTDOWN_GRACE_MS 500

/* What the main thread publishes; read under lock. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct config conf;
	/* Worker 0's, by index: listen[], then listen_tls[]. */
	struct addr bound[2 * MIODNSD_MAX_LISTEN];
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

unsigned
worker_count(void)
{
	return shared.nworkers;
}

static void worker_shutdown_fire(mio_timer *timer, void *arg);

/* The worker's timer set, front and pipeline, wired to its members. */
static int
worker_init_parts(struct worker *w)
{
	const mio_registry *registry = mio_poll_registry(w->poll);
	int rc;

	if ((rc = mio_timers_new(&w->timers)) != 0)
		return rc;
	batch_clock_update(&w->clock);
	mio_timer_init(&w->shutdown_timer, worker_shutdown_fire, w);
	if (upstreams_new(&w->upstreams, registry, w->timers, &w->counters,
	    w->id == 0) != 0)
		return -ENOMEM;
	if ((rc = resolver_new(&w->resolver, &w->conf, &w->counters,
	    w->timers, &w->clock, upstreams_port(w->upstreams))) != 0)
		return rc;
	return front_init(&w->front, registry, &w->conf, &w->counters,
	    w->timers, &w->clock, w->resolver, w->id);
}

/* The calling thread becomes worker id: its poll, its waker, its parts.
 * 0, or -errno. */
static int
worker_init(struct worker *w, unsigned id)
{
	int rc;

	w->id = id;
	w->waker_handle.kind = HANDLE_WAKER;
	w->signals_handle.kind = HANDLE_SIGNALS;
	if ((rc = mio_poll_new(&w->poll)) != 0 ||
	    (rc = mio_events_new(&w->events, WORKER_EVENTS)) != 0 ||
	    (rc = mio_waker_new(mio_poll_registry(w->poll),
	    (mio_token)&w->waker_handle, &w->waker)) != 0 ||
	    (rc = worker_init_parts(w)) != 0)
		return rc;
	stats_worker_start(id, &w->counters);
	return 0;
}

/* Main thread, first of all: it becomes worker 0. The condition variable
 * measures its timeouts on the monotonic clock, which a change of the
 * date does not move. */
int
worker_init_main(struct worker **out)
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
	shared.workers[0] = w;
	shared.nworkers = 1;
	if ((rc = worker_init(w, 0)) != 0)
		return rc;
	*out = w;
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
	config_release(&shared.conf);
	shared.conf = *conf;
	config_hold(&shared.conf);
	listener_bound(&shared.workers[0]->front, conf, shared.bound);
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
worker_apply(struct worker *w)
{
	struct config *conf = &w->conf;
	struct addr bound[2 * MIODNSD_MAX_LISTEN];
	struct zone_set *zones;
	struct cache *cache;
	int rc = 0;

	/* Only this thread reads its copy, so it is filled in place. */
	pthread_mutex_lock(&shared.lock);
	w->generation = atomic_load(&generation);
	config_release(conf);
	*conf = shared.conf;
	config_hold(conf);
	memcpy(bound, shared.bound, sizeof(bound));
	zones = shared.zones != NULL ? zone_set_ref(shared.zones) : NULL;
	cache = shared.cache != NULL ? cache_ref(shared.cache) : NULL;
	pthread_mutex_unlock(&shared.lock);
	worker_share_limits(conf);
	/* Worker 0's own failures were logged where it made them. */
	if (listener_configure(&w->front, conf, bound) != 0) {
		if (w->id != 0)
			log_warnx("worker %u: some addresses could not be "
			    "opened", w->id);
		rc = -1;
	}
	if (upstreams_configure(w->upstreams, conf) != 0) {
		if (w->id != 0)
			log_warnx("worker %u: keeping the previous upstreams",
			    w->id);
		rc = -1;
	}
	if (resolver_use(w->resolver, cache, zones) != 0)
		rc = -1;
	worker_applied(w->generation);
	return rc;
}

static void
worker_shutdown_fire(mio_timer *timer, void *arg)
{
	struct worker *w = arg;
	size_t queries = resolve_count(w->resolver);
	size_t conns = front_conn_count(&w->front);

	(void)timer;
	if (queries > 0 || conns > 0)
		log_info("shutdown: giving up on %zu queries and %zu "
		    "connections", queries, conns);
	resolve_fail_all(w->resolver);
	front_close_conns(&w->front);
}

/* Stop taking queries, let those in flight end (each has its deadline),
 * flush the answers; the loop ends when nothing is left. */
static void
worker_begin_shutdown(struct worker *w)
{
	struct counters total;

	w->shutting_down = true;
	w->resolver->shutting_down = true;
	if (w->id == 0) {
		stats_total(&total);
		log_info("%s: shutting down, %llu queries in flight",
		    strsignal(atomic_load(&shutdown_signal)),
		    (unsigned long long)total.inflight);
	}
	front_stop_reading(&w->front);
	w->more_ready = false;
	/* Without the timer there is no grace: what is in flight ends now. */
	if (clock_timer_start(w->timers, &w->shutdown_timer,
	    w->conf.timeout_ms + WORKER_SHUTDOWN_GRACE_MS,
	    "the shutdown's grace") != 0)
		worker_shutdown_fire(&w->shutdown_timer, w);
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
worker_dispatch(struct worker *w, const mio_event *ev)
{
	struct handle *h;

	if (upstreams_event(w->upstreams, ev))
		return;
	h = (struct handle *)mio_event_token(ev);
	switch (h->kind) {
	case HANDLE_UDP:
	case HANDLE_TCP_LISTEN:
	case HANDLE_CONN:
		front_event(&w->front, h, ev);
		break;
	case HANDLE_SIGNALS:
		signals_read(&w->signals);
		break;
	case HANDLE_WAKER:
		/* The loop's top looks at what changed. */
		break;
	}
}

/* One poll and everything that follows from it. */
static void
worker_poll_once(struct worker *w)
{
	struct timespec timeout = { 0, 0 }, buf;
	const struct timespec *t = &timeout;
	int rc;

	/* The timer set reads the clock only when a timer is pending. */
	if (!w->more_ready && mio_timers_timeout(w->timers, &timeout) != 0)
		t = NULL;
	t = upstreams_timeout(w->upstreams, t, &buf);
	rc = mio_poll_poll(w->poll, w->events, t);
	if (rc < 0 && rc != -EINTR)
		fatalx("mio_poll_poll: %s", mio_strerror(rc));
	batch_clock_update(&w->clock);
	MIO_EVENTS_FOREACH(ev, w->events)
		worker_dispatch(w, ev);
	upstreams_process_timeouts(w->upstreams);
	w->more_ready = front_run_ready(&w->front);
	mio_timers_run(w->timers);
	front_run_deferred(&w->front);
	upstreams_reap(w->upstreams);
	front_flush(&w->front);
}

/* Whether w is done: shut down, and nothing left (or told to exit now),
 * and for worker 0, every other worker done too. */
static bool
worker_done(struct worker *w)
{
	return w->shutting_down && (atomic_load(&exit_now) ||
	    (resolve_count(w->resolver) == 0 &&
	    front_conn_count(&w->front) == 0)) &&
	    (w->id != 0 || atomic_load(&others_running) == 0);
}

/* Runs w until it has shut down; between, if not NULL, is called at the
 * top of every round (main's hook: the signals, the reload). */
void
worker_loop(struct worker *w, worker_hook_fn *between)
{
	for (;;) {
		batch_clock_update(&w->clock);
		if (between != NULL)
			between(w);
		if (w->generation != atomic_load(&generation))
			worker_apply(w);
		if (atomic_load(&shutdown_requested) && !w->shutting_down)
			worker_begin_shutdown(w);
		if (worker_done(w))
			return;
		worker_poll_once(w);
	}
}

/* The end of a worker: everything it owns but its poll and waker, which
 * the main thread may still wake; worker_free() frees those once the
 * thread is joined. */
void
worker_fini(struct worker *w)
{
	mio_timer_stop(w->timers, &w->shutdown_timer);
	resolve_fail_all(w->resolver);
	front_fini(&w->front);
	upstreams_free(w->upstreams);
	w->upstreams = NULL;
	resolver_free(w->resolver);
	w->resolver = NULL;
	stats_worker_stop(w->id, &w->counters);
	config_release(&w->conf);
}

static void
worker_free(struct worker *w)
{
	mio_waker_free(w->waker);
	mio_events_free(w->events);
	mio_poll_free(w->poll);
	mio_timers_free(w->timers);
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
	if (worker_apply(w) != 0) {
		worker_started(false);
		return NULL;
	}
	worker_started(true);
	worker_loop(w, NULL);
	worker_fini(w);
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
	zone_set_free(shared.zones);
	shared.zones = NULL;
	cache_free(shared.cache);
	shared.cache = NULL;
	config_release(&shared.conf);
}
