/*
 * listener.c - the front end: one UDP socket and one TCP listening socket
 * per configured address, on the same port.
 *
 * Sockets are registered edge-triggered, so a readable event obliges us to
 * read until the socket is empty. To keep one busy socket from starving
 * the rest, each event reads a bounded batch; a socket with more left is
 * marked ready and read again after the batch (the loop polls without
 * sleeping meanwhile). Datagrams come and go through udp-batch.c, many
 * per system call.
 *
 * A reload keeps every listener whose configured address is unchanged, so
 * its sockets, port and queued datagrams survive; listeners no longer
 * configured are closed and their pending answers dropped.
 *
 * Each worker thread has listeners of its own. With several workers every
 * socket has SO_REUSEPORT (FreeBSD's SO_REUSEPORT_LB where it exists), and
 * the kernel spreads clients over the workers' sockets by a hash of their
 * address and port; other BSDs and macOS do not spread, and one worker
 * gets everything. Worker 0 binds first, resolving port 0 to a real port;
 * the others then bind to the address worker 0 got (listener_bound), so
 * that all listen on one port.
 *
 * UDP answers pass response rate limiting (rrl.h, "ratelimit") on their
 * way out, per client prefix and per worker: past the rate every second
 * answer goes out truncated (header and question, TC: a real client asks
 * again over TCP) and the others are dropped. Loopback clients are exempt:
 * a reflection attack needs a forged source, and the kernel drops
 * datagrams from outside that claim a loopback source (martians), so a
 * loopback client is this host itself, a benchmark or a local stub.
 *
 * Port 0 with SO_REUSEPORT is a trap on Linux: the kernel's choice of a
 * port ignores reuseport sockets of the same user, so it may hand out a
 * port another of our processes holds, and the two would share its
 * traffic. Worker 0 therefore finds a port free for UDP and TCP with
 * plain sockets first (listener_probe_port), then binds to it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_SYS_RANDOM_H
#include <sys/random.h>
#endif

#include "core/acl.h"
#include "front/conn.h"
#include "front/front.h"
#include "front/rrl.h"


#ifdef SO_REUSEPORT_LB
#define LISTENER_REUSEPORT SO_REUSEPORT_LB
#else
#define LISTENER_REUSEPORT SO_REUSEPORT
#endif

/* Datagrams read per event before others get a turn. */
#define LISTENER_UDP_BATCH 64
/* A larger receive buffer absorbs bursts while the loop is busy. */
#define LISTENER_UDP_RCVBUF (1 << 20)
#define LISTENER_BACKLOG 128

struct listener {
	struct front *front;
	struct handle udp_handle;	/* HANDLE_UDP */
	struct handle tcp_handle;	/* HANDLE_TCP_LISTEN */
	TAILQ_ENTRY(listener) entry;
	struct addr configured;
	struct addr bound;		/* with the port actually bound */
	int udp_fd, tcp_fd;
	bool udp_ready, tcp_ready;	/* more to read after the batch */
	bool keep;			/* still configured (reload) */
	bool tls;			/* listen-tls: TCP only, DNS over TLS */
};

#define LISTENER_OF(h, member)                                  \
	((struct listener *)(void *)((char *)(h) -              \
	    offsetof(struct listener, member)))

/* The truncated form of a reply: its header with TC and no records, and
 * its question if it has one (uncompressed, as ours always are); 0 if
 * msg is not a DNS header. */
static size_t
listener_truncated(const uint8_t *msg, size_t len, uint8_t *out, size_t max)
{
	size_t at = 12;

	if (len < 12)
		return 0;
	if (msg[4] == 0 && msg[5] == 1) {
		while (at < len && msg[at] != 0 && msg[at] < 64)
			at += 1u + msg[at];
		at = at < len && msg[at] == 0 && at + 5 <= len ? at + 5 : 12;
	}
	if (at > max)
		at = 12;
	memcpy(out, msg, at);
	memset(out + 4, 0, 8);
	out[5] = at > 12;		/* QDCOUNT */
	out[2] |= 0x02;		/* TC */
	return at;
}

/* What response rate limiting lets out of a reply to sa: the reply, a
 * truncated one in f->slip_buf, or nothing (length 0). */
static size_t
listener_ratelimit(struct front *f, const struct sockaddr *sa,
    const uint8_t **msg, size_t len)
{
	if (acl_is_loopback(sa))
		return len;
	switch (rrl_check(f->rrl, sa, batch_clock_ms(f->clock) / 1000)) {
	case RRL_SEND:
		return len;
	case RRL_SLIP:
		COUNT(f->counters, rrl_truncated);
		len = listener_truncated(*msg, len, f->slip_buf,
		    sizeof(f->slip_buf));
		*msg = f->slip_buf;
		return len;
	case RRL_DROP:
		break;
	}
	COUNT(f->counters, rrl_dropped);
	return 0;
}

/* A reply to a client rate limiting may apply to: limited, then queued.
 * Out of line, so that the common path below saves no registers. */
static __attribute__((__noinline__)) void
listener_udp_send_limited(struct listener *l, const struct client *c,
    const uint8_t *msg, size_t len)
{
	len = listener_ratelimit(l->front,
	    (const struct sockaddr *)&c->addr.ss, &msg, len);
	if (len > 0)
		udp_send(l->front->udp, l->udp_fd, &c->addr, msg, len);
}

/*
 * A UDP client's reply: rate limited, then queued for this listener's
 * socket. What is surely exempt, with rate limiting off or an IPv4
 * loopback client (acl_is_loopback()'s common case, inline), goes
 * straight to udp_send(): this runs for every reply, and the call and
 * register saves of the general path cost more than the tests.
 */
static void
listener_udp_send(const struct client *c, const uint8_t *msg, size_t len)
{
	struct listener *l = c->owner;
	const struct front *f = l->front;
	const struct sockaddr_in *sin =
	    (const struct sockaddr_in *)(const void *)&c->addr.ss;

	if (f->conf->ratelimit == 0 || f->rrl == NULL ||
	    (sin->sin_family == AF_INET &&
	    ((const uint8_t *)&sin->sin_addr)[0] == 127))
		udp_send(f->udp, l->udp_fd, &c->addr, msg, len);
	else
		listener_udp_send_limited(l, c, msg, len);
}

/* The worker's rate limiter, its hash keyed at random (rrl.h); NULL
 * (no limiting) if there is no memory for it. */
static struct rrl *
listener_rrl_new(const struct config *conf)
{
	struct rrl_config rc = { .rate = conf->ratelimit, .slip = 2 };
	struct rrl *rrl;

#ifdef HAVE_GETRANDOM
	if (getrandom(&rc.seed, sizeof(rc.seed), 0) != sizeof(rc.seed))
		rc.seed = (uint64_t)(uintptr_t)&rc ^ (uint64_t)time(NULL);
#else
	arc4random_buf(&rc.seed, sizeof(rc.seed));
#endif
	if (rrl_new(&rc, &rrl) != 0) {
		log_warnx("ratelimit: no memory for its table: not limiting");
		return NULL;
	}
	return rrl;
}

static const struct client_ops listener_udp_ops = {
	.send = listener_udp_send,
	.detach = NULL,
	.stream = false,
};

/* How long the listeners wait to accept again when out of descriptors
 * and without a spare one (conn.c says RETRY). */
#define LISTENER_RETRY_ACCEPT_MS 100

static void
listener_retry_accept(struct front *f, unsigned ms)
{
	/* Without the timer the listeners accept again at their next
	 * edge, which may be late; clock_timer_start() has said so. */
	if (!mio_timer_pending(&f->accept_retry))
		(void)clock_timer_start(f->timers, &f->accept_retry, ms,
		    "accept retries");
}

/* Accepts a batch on l: marked ready if more is pending, the retry timer
 * armed if conn.c ran out of descriptors with nothing left to free. */
static void
listener_accept(struct front *f, struct listener *l)
{
	enum conn_accept r = conn_accept_all(f, l->tcp_fd,
	    l->tls ? f->conf->tls_server : NULL);

	l->tcp_ready = r == CONN_ACCEPT_MORE;
	if (r == CONN_ACCEPT_RETRY)
		listener_retry_accept(f, LISTENER_RETRY_ACCEPT_MS);
}

/* Every TCP listener accepts again when the retry timer fires; the ready
 * flags were read before the timers ran, so a listener with more pending
 * asks for the timer again rather than waiting for an edge that will not
 * come. */
static void
listener_accept_retry_fire(mio_timer *timer, void *arg)
{
	struct front *f = arg;
	struct listener *l;

	(void)timer;
	TAILQ_FOREACH(l, &f->listeners, entry) {
		if (l->tcp_fd < 0)
			continue;
		listener_accept(f, l);
		if (l->tcp_ready)
			listener_retry_accept(f, 0);
	}
}

/* The front's own access list from conf, at start and every reload: who
 * may hold a TCP connection (conn.c closes "deny" clients at accept).
 * It is built from the same lines as the resolver's (resolve/access.c),
 * so both agree; on failure (memory) the old one stays. */
static void
listener_use_acl(struct front *f, const struct config *conf)
{
	struct acl *acl;

	if (acl_new(&acl) != 0)
		return;
	for (int i = 0; i < conf->naccess; i++) {
		if (acl_add_line(acl, conf->access_control[i]) != 0) {
			acl_free(acl);
			return;
		}
	}
	acl_free(f->acl);
	f->acl = acl;
}

/* The worker's front, empty; 0 or -ENOMEM. */
int
front_init(struct front *f, const mio_registry *registry,
    const struct config *conf, struct counters *counters,
    mio_timers *timers, const struct batch_clock *clock,
    struct resolver *resolver, unsigned worker_id)
{
	memset(f, 0, sizeof(*f));
	f->registry = registry;
	f->conf = conf;
	f->counters = counters;
	f->timers = timers;
	f->clock = clock;
	f->resolver = resolver;
	f->worker_id = worker_id;
	TAILQ_INIT(&f->listeners);
	TAILQ_INIT(&f->conns);
	f->spare_fd = -1;
	conn_spare_open(f);
	mio_timer_init(&f->accept_retry, listener_accept_retry_fire, f);
	return udp_batch_new(&f->udp, counters);
}

static int
listener_socket(int family, int type, bool reuseport)
{
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	/* One socket per family, so that [::] and 0.0.0.0 may coexist. */
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Only with several workers: it would also let another process of
	 * ours take a share of the port unnoticed. */
	if (reuseport && setsockopt(fd, SOL_SOCKET, LISTENER_REUSEPORT, &one,
	    sizeof(one)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A TLS listener has TCP alone: bound to at, the port it got read back. */
static int
listener_bind_tls(struct listener *l, const struct addr *at, bool reuseport)
{
	struct sockaddr *sa = (struct sockaddr *)&l->bound.ss;

	l->bound = *at;
	if ((l->tcp_fd = listener_socket(at->ss.ss_family, SOCK_STREAM,
	    reuseport)) < 0 || bind(l->tcp_fd, sa, l->bound.len) != 0 ||
	    getsockname(l->tcp_fd, sa, &l->bound.len) != 0 ||
	    listen(l->tcp_fd, LISTENER_BACKLOG) != 0)
		return -1;
	return 0;
}

/* Binds UDP to the address given (the configured one, or worker 0's),
 * then TCP to the port UDP got. */
static int
listener_bind(struct listener *l, const struct addr *at, bool reuseport)
{
	int family = at->ss.ss_family, size = LISTENER_UDP_RCVBUF;
	struct sockaddr *sa;

	if (l->tls)
		return listener_bind_tls(l, at, reuseport);
	l->bound = *at;
	if ((l->udp_fd = listener_socket(family, SOCK_DGRAM, reuseport)) < 0 ||
	    (l->tcp_fd = listener_socket(family, SOCK_STREAM, reuseport)) < 0)
		return -1;
	setsockopt(l->udp_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	sa = (struct sockaddr *)&l->bound.ss;
	if (bind(l->udp_fd, sa, l->bound.len) != 0 ||
	    getsockname(l->udp_fd, sa, &l->bound.len) != 0 ||
	    bind(l->tcp_fd, sa, l->bound.len) != 0 ||
	    listen(l->tcp_fd, LISTENER_BACKLOG) != 0)
		return -1;
	return 0;
}

static void
listener_free(struct listener *l)
{
	struct front *f = l->front;
	const mio_registry *registry = f->registry;

	resolve_forget(f->resolver, l);
	if (l->udp_fd >= 0) {
		udp_flush_fd(f->udp, l->udp_fd);
		mio_registry_deregister_fd(registry, l->udp_fd);
		close(l->udp_fd);
	}
	if (l->tcp_fd >= 0) {
		mio_registry_deregister_fd(registry, l->tcp_fd);
		close(l->tcp_fd);
	}
	free(l);
}

static int
listener_register(struct listener *l)
{
	const mio_registry *registry = l->front->registry;
	int rc;

	rc = l->udp_fd < 0 ? 0 : mio_registry_register_fd(registry, l->udp_fd,
	    (mio_token)&l->udp_handle, MIO_READABLE);
	if (rc == 0)
		rc = mio_registry_register_fd(registry, l->tcp_fd,
		    (mio_token)&l->tcp_handle, MIO_READABLE);
	return rc;
}

/* Port 0 for several workers: a port where plain UDP and TCP sockets
 * both bind (TCP alone for TLS), in *port (see the top of the file). 0 or
 * -1. */
static int
listener_probe_port(const struct addr *addr, struct addr *port, bool tls)
{
	int family = addr->ss.ss_family, rc = -1;
	int udp = tls ? -1 : listener_socket(family, SOCK_DGRAM, false);
	int tcp = listener_socket(family, SOCK_STREAM, false);
	int first = tls ? tcp : udp;

	*port = *addr;
	if (first >= 0 && tcp >= 0 &&
	    bind(first, (struct sockaddr *)&port->ss, port->len) == 0 &&
	    getsockname(first, (struct sockaddr *)&port->ss, &port->len) == 0 &&
	    (tls || bind(tcp, (struct sockaddr *)&port->ss, port->len) == 0))
		rc = 0;
	if (udp >= 0)
		close(udp);
	if (tcp >= 0)
		close(tcp);
	return rc;
}

/*
 * Opens a listener for the configured addr, bound to at; with port 0 a
 * busy TCP twin of the UDP port is retried on another ephemeral port,
 * and so is a probed port taken between the probe and the bind.
 */
static struct listener *
listener_open(struct front *f, const struct addr *addr, const struct addr *at,
    bool reuseport, bool tls)
{
	const struct addr *want = at;
	bool probe = reuseport && addr_port(want) == 0;
	struct addr probed;
	char buf[64];

	for (int tries = 0; tries < 20; tries++) {
		struct listener *l;
		int rc, saved;
		if (probe) {
			if (listener_probe_port(want, &probed, tls) != 0)
				continue;
			at = &probed;
		}
		if ((l = calloc(1, sizeof(*l))) == NULL)
			return NULL;
		l->front = f;
		l->udp_handle.kind = HANDLE_UDP;
		l->tcp_handle.kind = HANDLE_TCP_LISTEN;
		l->configured = *addr;
		l->udp_fd = l->tcp_fd = -1;
		l->tls = tls;
		if (listener_bind(l, at, reuseport) == 0) {
			if ((rc = listener_register(l)) == 0)
				return l;
			log_warnx("register %s: %s",
			    addr_str(addr, buf, sizeof(buf)), mio_strerror(rc));
			listener_free(l);
			return NULL;
		}
		saved = errno;
		listener_free(l);
		if (saved != EADDRINUSE || addr_port(addr) != 0) {
			errno = saved;
			log_warn("listen on %s",
			    addr_str(addr, buf, sizeof(buf)));
			return NULL;
		}
	}
	log_warnx("listen on %s: no free port for both UDP and TCP",
	    addr_str(addr, buf, sizeof(buf)));
	return NULL;
}

/* Keeps the listener for addr (plain or TLS) if there is one, else opens
 * it, bound to at; -1 if it could not be opened. */
static int
listener_want(struct front *f, const struct addr *addr, const struct addr *at,
    bool reuseport, bool tls)
{
	struct listener *l;
	char buf[64];

	TAILQ_FOREACH(l, &f->listeners, entry) {
		if (l->tls == tls && addr_equal(&l->configured, addr)) {
			l->keep = true;
			return 0;
		}
	}
	if (at->ss.ss_family == AF_UNSPEC ||
	    (l = listener_open(f, addr, at, reuseport, tls)) == NULL)
		return -1;
	l->keep = true;
	TAILQ_INSERT_TAIL(&f->listeners, l, entry);
	if (f->worker_id == 0)
		log_info("listening on %s (%s)", addr_str(&l->bound, buf,
		    sizeof(buf)), tls ? "DNS over TLS" : "UDP and TCP");
	return 0;
}

/*
 * Makes this worker's listeners match conf: keeps the unchanged ones,
 * opens new ones, closes the rest. Worker 0 passes bound NULL and binds
 * the configured addresses; the others pass what listener_bound() found
 * in worker 0, one entry per conf->listen[] and then one per
 * conf->listen_tls[] (family 0: worker 0 could not open it either, so
 * neither do we). Returns 0, or -1 if some address could not be opened
 * (the others are in place).
 */
int
listener_configure(struct front *f, const struct config *conf,
    const struct addr *bound)
{
	bool reuseport = conf->threads > 1;
	struct listener *l, *next;
	char buf[64];
	int rc = 0;

	if (f->rrl == NULL)
		f->rrl = listener_rrl_new(conf);
	else
		rrl_set_rate(f->rrl, conf->ratelimit);
	listener_use_acl(f, conf);
	TAILQ_FOREACH(l, &f->listeners, entry)
		l->keep = false;
	for (int i = 0; i < conf->nlisten; i++) {
		const struct addr *at = bound != NULL ? &bound[i] :
		    &conf->listen[i];
		if (listener_want(f, &conf->listen[i], at, reuseport,
		    false) != 0)
			rc = -1;
	}
	for (int i = 0; i < conf->nlisten_tls; i++) {
		const struct addr *at = bound != NULL ?
		    &bound[conf->nlisten + i] : &conf->listen_tls[i];
		if (listener_want(f, &conf->listen_tls[i], at, reuseport,
		    true) != 0)
			rc = -1;
	}
	TAILQ_FOREACH_SAFE(l, &f->listeners, entry, next) {
		if (l->keep)
			continue;
		if (f->worker_id == 0)
			log_info("no longer listening on %s",
			    addr_str(&l->bound, buf, sizeof(buf)));
		TAILQ_REMOVE(&f->listeners, l, entry);
		listener_free(l);
	}
	return rc;
}

/* For each conf->listen[] and then each conf->listen_tls[], the address
 * this worker bound it to, or family AF_UNSPEC if it has no such
 * listener. */
void
listener_bound(struct front *f, const struct config *conf, struct addr *bound)
{
	struct listener *l;

	for (int i = 0; i < conf->nlisten + conf->nlisten_tls; i++) {
		bool tls = i >= conf->nlisten;
		const struct addr *addr = tls ?
		    &conf->listen_tls[i - conf->nlisten] : &conf->listen[i];
		memset(&bound[i], 0, sizeof(bound[i]));
		TAILQ_FOREACH(l, &f->listeners, entry) {
			if (l->tls == tls && addr_equal(&l->configured, addr))
				bound[i] = l->bound;
		}
	}
}

static void
listener_read_udp(struct listener *l)
{
	struct front *f = l->front;
	struct client from = { .ops = &listener_udp_ops, .owner = l };
	struct udp_in *in;
	int n;

	for (int done = 0; done < LISTENER_UDP_BATCH; done += n) {
		if ((n = udp_recv(f->udp, l->udp_fd, &in)) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				l->udp_ready = false;
				return;
			}
			/* ICMP errors of earlier sends surface here; the
			 * socket itself is fine. Each counts as one read
			 * against the batch, so errors cannot spin. */
			n = 1;
			continue;
		}
		for (int i = 0; i < n; i++) {
			from.addr = in[i].from;
			resolve_query(f->resolver, in[i].msg, in[i].len,
			    &from);
		}
		/* Short: empty (see udp-batch.c). */
		if (n < UDP_BATCH) {
			l->udp_ready = false;
			return;
		}
	}
	l->udp_ready = true;
}

/* An event for a token of this front: a listener's or a connection's. */
void
front_event(struct front *f, struct handle *handle, const mio_event *ev)
{
	struct listener *l;

	switch (handle->kind) {
	case HANDLE_UDP:
		l = LISTENER_OF(handle, udp_handle);
		if (l->udp_fd >= 0)
			listener_read_udp(l);
		break;
	case HANDLE_TCP_LISTEN:
		l = LISTENER_OF(handle, tcp_handle);
		if (l->tcp_fd >= 0)
			listener_accept(f, l);
		break;
	case HANDLE_CONN:
		conn_event(handle, ev);
		break;
	default:
		break;
	}
}

/* Continues the batches cut short; true if some socket still has more. */
bool
front_run_ready(struct front *f)
{
	struct listener *l;
	bool more = false;

	TAILQ_FOREACH(l, &f->listeners, entry) {
		if (l->udp_ready && l->udp_fd >= 0)
			listener_read_udp(l);
		if (l->tcp_ready && l->tcp_fd >= 0)
			listener_accept(f, l);
		more |= l->udp_ready || l->tcp_ready;
	}
	return more;
}

void
front_run_deferred(struct front *f)
{
	conn_run_deferred(f);
}

void
front_flush(struct front *f)
{
	udp_flush(f->udp);
}

size_t
front_conn_count(const struct front *f)
{
	return f->nconns;
}

/* Shutting down: no new queries, but the UDP sockets stay open so that
 * the queries in flight can still be answered. */
void
front_stop_reading(struct front *f)
{
	const mio_registry *registry = f->registry;
	struct listener *l;

	f->shutting_down = true;

	TAILQ_FOREACH(l, &f->listeners, entry) {
		if (l->udp_fd >= 0)
			mio_registry_deregister_fd(registry, l->udp_fd);
		l->udp_ready = false;
		if (l->tcp_fd >= 0) {
			mio_registry_deregister_fd(registry, l->tcp_fd);
			close(l->tcp_fd);
			l->tcp_fd = -1;
		}
		l->tcp_ready = false;
	}
	conn_shutdown(f);
}

void
front_close_conns(struct front *f)
{
	conn_close_all(f);
}

void
front_fini(struct front *f)
{
	struct listener *l;

	conn_close_all(f);
	while ((l = TAILQ_FIRST(&f->listeners)) != NULL) {
		TAILQ_REMOVE(&f->listeners, l, entry);
		listener_free(l);
	}
	/* The end of the worker: its datagram buffers go too. */
	udp_batch_free(f->udp);
	f->udp = NULL;
	rrl_free(f->rrl);
	f->rrl = NULL;
	mio_timer_stop(f->timers, &f->accept_retry);
	acl_free(f->acl);
	f->acl = NULL;
	free(f->evict_keys);
	f->evict_keys = NULL;
	f->evict_cap = 0;
	if (f->spare_fd >= 0)
		close(f->spare_fd);
	f->spare_fd = -1;
}

/* "ADDR PORT" per listener ("ADDR PORT tls" for DNS over TLS), replaced
 * atomically, for tests and scripts that start us on port 0. */
int
listener_write_portfile(struct front *f, const char *path)
{
	char tmp[300], buf[64];
	struct listener *l;
	FILE *out;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((out = fopen(tmp, "we")) == NULL) {
		log_warn("%s", tmp);
		return -1;
	}
	TAILQ_FOREACH(l, &f->listeners, entry) {
		addr_str(&l->bound, buf, sizeof(buf));
		*strrchr(buf, ':') = '\0';
		if (buf[0] == '[') {
			memmove(buf, buf + 1, strlen(buf));
			buf[strlen(buf) - 1] = '\0';
		}
		fprintf(out, "%s %u%s\n", buf, addr_port(&l->bound),
		    l->tls ? " tls" : "");
	}
	if (fclose(out) != 0 || rename(tmp, path) != 0) {
		log_warn("%s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}
