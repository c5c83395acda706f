/*
 * curl-multi.c - libcurl's multi socket interface driven by a libmio poll
 * and <mio-timer.h>: several downloads at once on one thread.
 *
 *     curl-multi DIR URL...
 *         Downloads every URL concurrently, saving the Nth (counting from
 *         0) as DIR/N, and prints one line per finished transfer:
 *         "N STATUS BYTES URL", or "N failed: REASON URL". Exits 0 if
 *         every transfer ended with CURLE_OK and HTTP status 200.
 *
 * What libcurl's socket interface asks of a loop, and how an edge-triggered
 * loop answers it (docs/integrating-foreign-fds.md, section 10):
 *
 * - CURLMOPT_SOCKETFUNCTION names the sockets to watch and for what.
 *   CURL_POLL_IN, _OUT and _INOUT become MIO_READABLE, MIO_WRITABLE or
 *   both, registered the first time and reregistered after that;
 *   CURL_POLL_REMOVE deregisters, which libcurl says before it closes the
 *   socket. The token is the descriptor, looked up in a table.
 * - CURLMOPT_TIMERFUNCTION asks for one timer: -1 stops it, 0 means "call
 *   curl_multi_socket_action(CURL_SOCKET_TIMEOUT) as soon as possible, but
 *   not from inside this callback", which a 0 ns mio_timer does on the
 *   loop's next round.
 * - Readiness is an edge, and libcurl does not drain: one action reads at
 *   most one buffer. So after every curl_multi_socket_action() the socket
 *   is asked, with a zero-timeout poll(), whether it is still ready for
 *   what libcurl now wants, and the action is repeated until it is not.
 *   After DRAIN_ROUNDS actions the rest waits for a 0 ns timer, so that one
 *   fast socket cannot starve the others.
 * - Transfers end inside curl_multi_socket_action(); curl_multi_info_read()
 *   after every action collects them.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <mio.h>
#include <mio-timer.h>

/* Actions per readiness event before the rest waits for a 0 ns timer. */
#define DRAIN_ROUNDS 16
/* A transfer that takes longer fails, so that the loop always ends. */
#define TRANSFER_TIMEOUT_S 60L

struct loop;

/* A socket libcurl asked the loop to watch: table[fd] while it does. */
struct watched {
	curl_socket_t fd;
	int what;        /* CURL_POLL_IN, _OUT or _INOUT */
	int pending;     /* CURL_CSELECT_* bits left for the resume timer */
	mio_timer resume;
	struct loop *loop;
};

struct transfer {
	CURL *easy; /* NULL once finished */
	FILE *out;
	size_t index;
	const char *url;
};

struct loop {
	mio_poll *poll;
	mio_events *events;
	mio_timers *timers;
	mio_timer curl_timer; /* the one timer CURLMOPT_TIMERFUNCTION sets */
	CURLM *multi;
	struct watched **table; /* indexed by descriptor */
	size_t table_len;
	int running; /* what curl_multi_socket_action() last reported */
	size_t total, finished, failed;
	int error; /* a libmio or libcurl failure that ends the loop */
};

static struct watched *
watched_get(const struct loop *loop, curl_socket_t fd)
{
	if (fd < 0 || (size_t)fd >= loop->table_len)
		return NULL;
	return loop->table[fd];
}

/* The table slot for fd, grown to fit; NULL if it cannot grow. */
static struct watched **
watched_slot(struct loop *loop, curl_socket_t fd)
{
	if (fd < 0)
		return NULL;
	if ((size_t)fd >= loop->table_len) {
		size_t len = (size_t)fd * 2 + 16;
		struct watched **table = realloc(loop->table,
		    len * sizeof(*table));
		if (table == NULL)
			return NULL;
		memset(table + loop->table_len, 0,
		    (len - loop->table_len) * sizeof(*table));
		loop->table = table;
		loop->table_len = len;
	}
	return &loop->table[fd];
}

static mio_interest
interest_of(int what)
{
	return ((what & CURL_POLL_IN) ? MIO_READABLE : 0) |
	    ((what & CURL_POLL_OUT) ? MIO_WRITABLE : 0);
}

static void drain_resume(mio_timer *timer, void *arg);

/* Starts watching fd, or changes what it is watched for. */
static int
watch(struct loop *loop, curl_socket_t fd, int what)
{
	const mio_registry *registry = mio_poll_registry(loop->poll);
	struct watched **slot = watched_slot(loop, fd);

	if (slot == NULL)
		return -ENOMEM;
	if (*slot != NULL) {
		(*slot)->what = what;
		return mio_registry_reregister_fd(registry, fd, (mio_token)fd,
		    interest_of(what));
	}
	struct watched *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	int rc = mio_registry_register_fd(registry, fd, (mio_token)fd,
	    interest_of(what));
	if (rc != 0) {
		free(w);
		return rc;
	}
	w->fd = fd;
	w->what = what;
	w->loop = loop;
	mio_timer_init(&w->resume, drain_resume, w);
	*slot = w;
	return 0;
}

static void
unwatch(struct loop *loop, curl_socket_t fd)
{
	struct watched *w = watched_get(loop, fd);

	if (w == NULL)
		return;
	mio_timer_stop(loop->timers, &w->resume);
	free(w);
	loop->table[fd] = NULL;
	/*
	 * libcurl removes a socket before it closes it, so this finds it
	 * registered. The result is not checked: the socket is going away
	 * whatever the answer, and nothing else uses its registration.
	 */
	(void)mio_registry_deregister_fd(mio_poll_registry(loop->poll), fd);
}

/* CURLMOPT_SOCKETFUNCTION. */
static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
	struct loop *loop = arg;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE || what == CURL_POLL_NONE) {
		unwatch(loop, fd);
		return 0;
	}
	int rc = watch(loop, fd, what);
	if (rc != 0) {
		loop->error = rc;
		return -1;
	}
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer, anything else restarts it. */
static int
on_timer_request(CURLM *multi, long timeout_ms, void *arg)
{
	struct loop *loop = arg;

	(void)multi;
	if (timeout_ms < 0) {
		mio_timer_stop(loop->timers, &loop->curl_timer);
		return 0;
	}
	int rc = mio_timer_start(loop->timers, &loop->curl_timer,
	    (uint64_t)timeout_ms * 1000000u);
	if (rc != 0) {
		loop->error = rc;
		return -1;
	}
	return 0;
}

static void
transfer_finish(struct loop *loop, CURL *easy, CURLcode result)
{
	char *private_data = NULL;
	long status = 0;
	curl_off_t bytes = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private_data);
	struct transfer *t = (struct transfer *)(void *)private_data;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &bytes);
	bool closed = fclose(t->out) == 0;
	if (result != CURLE_OK)
		printf("%zu failed: %s %s\n", t->index,
		    curl_easy_strerror(result), t->url);
	else if (!closed)
		printf("%zu failed: writing DIR/%zu %s\n", t->index, t->index,
		    t->url);
	else
		printf("%zu %ld %" CURL_FORMAT_CURL_OFF_T " %s\n", t->index,
		    status, bytes, t->url);
	loop->failed += result != CURLE_OK || !closed || status != 200;
	loop->finished++;
	curl_multi_remove_handle(loop->multi, easy);
	curl_easy_cleanup(easy);
	t->easy = NULL;
	t->out = NULL;
}

/* Collects the transfers that the last action finished. */
static void
transfers_collect(struct loop *loop)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(loop->multi, &left)) != NULL) {
		if (msg->msg == CURLMSG_DONE)
			transfer_finish(loop, msg->easy_handle,
			    msg->data.result);
	}
}

static void
action(struct loop *loop, curl_socket_t fd, int mask)
{
	CURLMcode mc = curl_multi_socket_action(loop->multi, fd, mask,
	    &loop->running);

	if (mc != CURLM_OK) {
		fprintf(stderr, "curl-multi: %s\n", curl_multi_strerror(mc));
		loop->error = -EIO;
	}
	transfers_collect(loop);
}

/*
 * The CURL_CSELECT_* bits fd is ready for now, among those libcurl wants;
 * 0 once libcurl stopped watching it. This is how an edge-triggered loop
 * finds out that libcurl left data behind: no new edge would say so.
 */
static int
still_ready(const struct loop *loop, curl_socket_t fd)
{
	const struct watched *w = watched_get(loop, fd);

	if (w == NULL)
		return 0;
	struct pollfd p = { .fd = fd,
		.events = (short)(((w->what & CURL_POLL_IN) ? POLLIN : 0) |
		    ((w->what & CURL_POLL_OUT) ? POLLOUT : 0)) };
	if (poll(&p, 1, 0) != 1)
		return 0;
	return ((p.revents & (POLLIN | POLLHUP)) ? CURL_CSELECT_IN : 0) |
	    ((p.revents & POLLOUT) ? CURL_CSELECT_OUT : 0) |
	    ((p.revents & POLLERR) ? CURL_CSELECT_ERR : 0);
}

/* Acts on fd until it is no longer ready for what libcurl wants. */
static void
drain(struct loop *loop, curl_socket_t fd, int mask)
{
	for (int round = 0; mask != 0 && loop->error == 0; round++) {
		if (round == DRAIN_ROUNDS) {
			struct watched *w = watched_get(loop, fd);
			w->pending = mask;
			if (mio_timer_start(loop->timers, &w->resume, 0) != 0)
				loop->error = -ENOMEM;
			return;
		}
		action(loop, fd, mask);
		mask = still_ready(loop, fd);
	}
}

/* A socket's resume timer: the rest of a drain cut short. */
static void
drain_resume(mio_timer *timer, void *arg)
{
	struct watched *w = arg;

	(void)timer;
	drain(w->loop, w->fd, w->pending);
}

/* The timer libcurl asked for. */
static void
on_curl_timer(mio_timer *timer, void *arg)
{
	struct loop *loop = arg;

	(void)timer;
	action(loop, CURL_SOCKET_TIMEOUT, 0);
}

static int
event_mask(const mio_event *ev)
{
	return ((mio_event_is_readable(ev) || mio_event_is_read_closed(ev)) ?
		   CURL_CSELECT_IN : 0) |
	    ((mio_event_is_writable(ev) || mio_event_is_write_closed(ev)) ?
		CURL_CSELECT_OUT : 0) |
	    (mio_event_is_error(ev) ? CURL_CSELECT_ERR : 0);
}

static int
loop_run(struct loop *loop)
{
	while (loop->finished < loop->total && loop->error == 0) {
		struct timespec t;
		bool timed = mio_timers_timeout(loop->timers, &t) == 0;
		int rc = mio_poll_poll(loop->poll, loop->events,
		    timed ? &t : NULL);
		if (rc < 0 && rc != -EINTR)
			return rc;
		MIO_EVENTS_FOREACH(ev, loop->events) {
			curl_socket_t fd = (curl_socket_t)mio_event_token(ev);
			/* An event may be stale: an earlier action in this
			 * round can have made libcurl drop its socket. */
			if (watched_get(loop, fd) != NULL)
				drain(loop, fd, event_mask(ev));
		}
		mio_timers_run(loop->timers);
	}
	return loop->error;
}

static int
loop_init(struct loop *loop)
{
	memset(loop, 0, sizeof(*loop));
	int rc = mio_poll_new(&loop->poll);
	if (rc == 0)
		rc = mio_events_new(&loop->events, 64);
	if (rc == 0)
		rc = mio_timers_new(&loop->timers);
	if (rc != 0)
		return rc;
	mio_timer_init(&loop->curl_timer, on_curl_timer, loop);
	loop->multi = curl_multi_init();
	if (loop->multi == NULL)
		return -ENOMEM;
	curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop);
	curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION,
	    on_timer_request);
	curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop);
	return 0;
}

/*
 * In this order: libcurl may still call both callbacks while it cleans
 * up (closing cached connections removes their sockets), and they use the
 * table, the timers and the poll.
 */
static void
loop_free(struct loop *loop, struct transfer *transfers)
{
	for (size_t i = 0; i < loop->total; i++) {
		if (transfers[i].easy != NULL) {
			curl_multi_remove_handle(loop->multi,
			    transfers[i].easy);
			curl_easy_cleanup(transfers[i].easy);
		}
		if (transfers[i].out != NULL)
			fclose(transfers[i].out);
	}
	if (loop->multi != NULL)
		curl_multi_cleanup(loop->multi);
	for (size_t fd = 0; fd < loop->table_len; fd++)
		if (loop->table[fd] != NULL)
			unwatch(loop, (curl_socket_t)fd);
	free(loop->table);
	mio_timers_free(loop->timers);
	mio_events_free(loop->events);
	mio_poll_free(loop->poll);
}

static int
transfer_start(struct loop *loop, struct transfer *t, const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%zu", dir, t->index);
	t->out = fopen(path, "wb");
	if (t->out == NULL)
		return -errno;
	t->easy = curl_easy_init();
	if (t->easy == NULL)
		return -ENOMEM;
	curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t->out);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, (void *)t);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT, TRANSFER_TIMEOUT_S);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	/* Adding asks for a 0 ms timer: the first action comes from it. */
	if (curl_multi_add_handle(loop->multi, t->easy) != CURLM_OK)
		return -EIO;
	return 0;
}

int
main(int argc, char **argv)
{
	struct loop loop;

	if (argc < 3) {
		fprintf(stderr, "usage: curl-multi DIR URL...\n");
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	size_t n = (size_t)argc - 2;
	struct transfer *transfers = calloc(n, sizeof(*transfers));
	int rc = transfers == NULL ? -ENOMEM : loop_init(&loop);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		transfers[i].index = i;
		transfers[i].url = argv[i + 2];
		loop.total++;
		rc = transfer_start(&loop, &transfers[i], argv[1]);
	}
	if (rc == 0)
		rc = loop_run(&loop);
	if (rc != 0)
		fprintf(stderr, "curl-multi: %s\n", mio_strerror(rc));
	if (transfers != NULL)
		loop_free(&loop, transfers);
	free(transfers);
	curl_global_cleanup();
	return rc == 0 && loop.failed == 0 ? 0 : 1;
}
