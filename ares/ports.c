/*
 * ports.c - one UDP socket on a random port per query c-ares sends; the
 * design is in ports.h. Notes on c-ares 1.18.1, which this was written
 * against (ares_process.c, ares__sortaddrinfo.c):
 *
 * a) open_udp_socket() calls asocket(), then configures the descriptor
 *    itself (fcntl O_NONBLOCK and FD_CLOEXEC, SO_SNDBUF, SO_RCVBUF, a bind
 *    to the local address if one was set), so the handle must be a real
 *    socket of the server's family; an unbound UDP socket costs one
 *    descriptor and no port.
 * b) read_udp_packets() calls arecvfrom() until it fails with EAGAIN, and
 *    stops at a datagram whose source is not the server's address and
 *    port, so the handle's arecvfrom() reports the server's address that
 *    aconnect() was given. A result of 0 or another error counts as a
 *    broken server (handle_error(): every query to it moves on), which is
 *    why empty datagrams are never handed up.
 * c) c-ares closes a server's sockets, the handle included, when its last
 *    query ends or the server broke; the query sockets of that handle go
 *    with it, as nothing can be waiting for their answers any more.
 * d) A datagram is handed to c-ares only if its ID and question (name in
 *    any case, type, class; compared as a hash) are the query's: c-ares
 *    1.18 checks them too, but drops a mismatch silently, and the socket
 *    would then be closed as answered. Checked here, a forgery that guessed
 *    the ID but not the question is stray, and the real answer still gets
 *    in.
 * e) ICMP errors (ECONNREFUSED on a connected socket) are not handed to
 *    c-ares: it would take them as the whole server being broken and fail
 *    every query in flight to it (handle_error()), and an ICMP message is
 *    as easy to forge as an answer. The query times out instead and the
 *    caller retries; the error is counted.
 *
 * Static helpers are ports_*; the socket functions are ports_a*, after
 * the members of struct ares_socket_functions they fill.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYS_RANDOM_H
#include <sys/random.h>
#endif

#include "ports.h"

#define NONE UINT32_MAX
#define GEN_MASK ((1u << MIO__ARES_GEN_BITS) - 1)
/* Datagrams read from one query socket per event before it is re-armed. */
#define READ_MAX 16
/* Random ports tried before the kernel is left to choose one. */
#define BIND_TRIES 16
#define PORT_FIRST 1024

struct ports_handle {
	int fd;				/* what c-ares knows */
	struct sockaddr_storage server;	/* from aconnect() */
	socklen_t server_len;
	struct sockaddr_storage local;	/* the handle's address, port 0 */
	socklen_t local_len;
	struct ports_handle *next;
};

struct ports_socket {
	int fd;				/* -1 while free */
	unsigned generation;
	uint16_t id;			/* the query's, as sent */
	uint64_t question;		/* its question's hash (note d) */
	struct ports_handle *handle;
	int64_t expires_ms;
	uint32_t older, newer;		/* the age list, or the free list */
};

struct mio__ares_ports {
	const mio_registry *registry;
	ares_channel channel;
	uintptr_t token_base;
	struct ports_socket *sockets;
	uint32_t max_sockets, live;
	uint32_t oldest, newest;	/* live sockets, oldest first */
	uint32_t free_head, free_tail;
	long lifetime_ms;
	struct ports_handle *handles;
	/* The answer being handed to c-ares through its handle. */
	struct ports_handle *pending_handle;
	const unsigned char *pending;
	size_t pending_len;
	unsigned char random[64];
	size_t random_left;
	struct mio_ares_port_stats stats;
	unsigned char buf[65536];
};

static int64_t
ports_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
mio__ares_ports_new(const mio_registry *registry, uintptr_t token_base,
    uint32_t max_sockets, long lifetime_ms, struct mio__ares_ports **out)
{
	struct mio__ares_ports *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	p->sockets = calloc(max_sockets, sizeof(*p->sockets));
	if (p->sockets == NULL) {
		free(p);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < max_sockets; i++) {
		p->sockets[i].fd = -1;
		p->sockets[i].newer = i + 1 < max_sockets ? i + 1 : NONE;
	}
	p->free_head = 0;
	p->free_tail = max_sockets - 1;
	p->oldest = p->newest = NONE;
	p->registry = registry;
	p->token_base = token_base;
	p->max_sockets = max_sockets;
	p->lifetime_ms = lifetime_ms;
	*out = p;
	return 0;
}

/* ---- randomness and sockets ---------------------------------------------- */

/* 16 random bits, from a buffer refilled by the system's generator; false
 * when there is none (the kernel then picks the port, see ports_bind()). */
static bool
ports_random16(struct mio__ares_ports *p, uint16_t *out)
{
	if (p->random_left < 2) {
#if defined(HAVE_GETRANDOM)
		if (getrandom(p->random, sizeof(p->random), 0) !=
		    (ssize_t)sizeof(p->random))
			return false;
#elif defined(HAVE_ARC4RANDOM_BUF)
		arc4random_buf(p->random, sizeof(p->random));
#else
		return false;
#endif
		p->random_left = sizeof(p->random);
	}
	p->random_left -= 2;
	memcpy(out, p->random + p->random_left, 2);
	return true;
}

static mio_token
ports_token(const struct mio__ares_ports *p, uint32_t index)
{
	return (mio_token)(p->token_base + (((uintptr_t)index <<
	    MIO__ARES_GEN_BITS) | (p->sockets[index].generation & GEN_MASK)));
}

static int
ports_new_fd(int family)
{
#ifdef SOCK_NONBLOCK
	return socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
	int fd = socket(family, SOCK_DGRAM, 0);

	if (fd >= 0 && (fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)) {
		close(fd);
		return -1;
	}
	return fd;
#endif
}

/* Deregisters, closes and frees query socket index. */
static void
ports_close(struct mio__ares_ports *p, uint32_t index)
{
	struct ports_socket *s = &p->sockets[index];

	(void)mio_registry_deregister_fd(p->registry, s->fd);
	close(s->fd);
	s->fd = -1;
	s->generation++;
	s->handle = NULL;
	if (s->older != NONE)
		p->sockets[s->older].newer = s->newer;
	else
		p->oldest = s->newer;
	if (s->newer != NONE)
		p->sockets[s->newer].older = s->older;
	else
		p->newest = s->older;
	s->newer = NONE;
	if (p->free_tail == NONE)
		p->free_head = index;
	else
		p->sockets[p->free_tail].newer = index;
	p->free_tail = index;
	p->live--;
}

/* A new descriptor; out of descriptors, the oldest query socket (the one
 * least likely still to be answered) makes room. */
static int
ports_new_fd_evicting(struct mio__ares_ports *p, int family)
{
	int fd = ports_new_fd(family);

	if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
	    p->oldest != NONE) {
		ports_close(p, p->oldest);
		p->stats.evicted++;
		fd = ports_new_fd(family);
	}
	return fd;
}

/* Binds fd to a random port of the handle's local address; if every try
 * is taken, or there is no random source, to a port the kernel picks. */
static int
ports_bind(struct mio__ares_ports *p, int fd, const struct ports_handle *h)
{
	struct sockaddr_storage local = h->local;
	in_port_t *port = local.ss_family == AF_INET ?
	    &((struct sockaddr_in *)&local)->sin_port :
	    &((struct sockaddr_in6 *)&local)->sin6_port;
	uint16_t r;

	for (int i = 0; i < BIND_TRIES && ports_random16(p, &r); i++) {
		if (r < PORT_FIRST)
			continue;
		*port = htons(r);
		if (bind(fd, (struct sockaddr *)&local, h->local_len) == 0)
			return 0;
		if (errno != EADDRINUSE && errno != EACCES)
			return -1;
		p->stats.bind_retries++;
	}
	*port = 0;
	return bind(fd, (struct sockaddr *)&local, h->local_len);
}

/* A socket for one query to h's server: random port, connected. */
static int
ports_query_fd(struct mio__ares_ports *p, const struct ports_handle *h)
{
	int fd = ports_new_fd_evicting(p, h->server.ss_family);
	int error;

	if (fd < 0)
		return -1;
	if (ports_bind(p, fd, h) == 0 &&
	    connect(fd, (const struct sockaddr *)&h->server,
	    h->server_len) == 0)
		return fd;
	error = errno;
	close(fd);
	errno = error;
	return -1;
}

/* A free slot, the oldest live socket's if every one is taken. */
static uint32_t
ports_take(struct mio__ares_ports *p)
{
	uint32_t index;

	if (p->free_head == NONE) {
		ports_close(p, p->oldest);
		p->stats.evicted++;
	}
	index = p->free_head;
	p->free_head = p->sockets[index].newer;
	if (p->free_head == NONE)
		p->free_tail = NONE;
	return index;
}

static void
ports_link_newest(struct mio__ares_ports *p, uint32_t index)
{
	struct ports_socket *s = &p->sockets[index];

	s->older = p->newest;
	s->newer = NONE;
	if (p->newest != NONE)
		p->sockets[p->newest].newer = index;
	else
		p->oldest = index;
	p->newest = index;
	p->live++;
}

/* A hash of a message's one question: its name in lower case, type and
 * class (FNV-1a); false if it has not exactly one, uncompressed. */
static bool
ports_question_hash(const unsigned char *msg, size_t len, uint64_t *out)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t at = 12, end;

	if (len < 12 || msg[4] != 0 || msg[5] != 1)
		return false;
	while (at < len && msg[at] != 0) {
		if (msg[at] >= 64)
			return false;
		at += 1u + msg[at];
	}
	if (at + 5 > len)
		return false;
	for (end = at + 5, at = 12; at < end; at++) {
		unsigned char c = msg[at];
		h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) *
		    0x100000001b3ULL;
	}
	*out = h;
	return true;
}

/* The query's ID and question, wherever c-ares split its bytes. */
static bool
ports_query_key(const struct iovec *iov, int iovcnt, uint16_t *id,
    uint64_t *question)
{
	unsigned char buf[512];
	size_t have = 0;

	for (int i = 0; i < iovcnt && have < sizeof(buf); i++) {
		size_t n = iov[i].iov_len < sizeof(buf) - have ?
		    iov[i].iov_len : sizeof(buf) - have;

		memcpy(buf + have, iov[i].iov_base, n);
		have += n;
	}
	if (!ports_question_hash(buf, have, question))
		return false;
	*id = (uint16_t)(buf[0] << 8 | buf[1]);
	return true;
}

/* Sends one query on a fresh socket; the result is asendv()'s. */
static ares_ssize_t
ports_send(struct mio__ares_ports *p, struct ports_handle *h,
    const struct iovec *iov, int iovcnt)
{
	struct ports_socket *s;
	uint32_t index;
	uint64_t question;
	uint16_t id;
	ssize_t sent;
	int fd, rc;

	if (h->server_len == 0 ||
	    !ports_query_key(iov, iovcnt, &id, &question)) {
		errno = h->server_len == 0 ? ENOTCONN : EINVAL;
		return -1;
	}
	if ((fd = ports_query_fd(p, h)) < 0) {
		p->stats.failures++;
		return -1;
	}
	index = ports_take(p);
	s = &p->sockets[index];
	s->fd = fd;
	s->id = id;
	s->question = question;
	s->handle = h;
	s->expires_ms = ports_now_ms() + p->lifetime_ms;
	ports_link_newest(p, index);
	rc = mio_registry_register_fd(p->registry, fd, ports_token(p, index),
	    MIO_READABLE);
	sent = rc == 0 ? writev(fd, iov, iovcnt) : -1;
	if (sent < 0) {
		int error = rc != 0 ? -rc : errno;

		ports_close(p, index);
		p->stats.failures++;
		errno = error;
		return -1;
	}
	p->stats.sockets++;
	return sent;
}

/* ---- handles: what c-ares sees ------------------------------------------- */

static struct ports_handle *
ports_handle_by_fd(const struct mio__ares_ports *p, ares_socket_t fd)
{
	for (struct ports_handle *h = p->handles; h != NULL; h = h->next) {
		if (h->fd == fd)
			return h;
	}
	return NULL;
}

bool
mio__ares_ports_is_handle(const struct mio__ares_ports *p, int fd)
{
	return ports_handle_by_fd(p, fd) != NULL;
}

static ares_socket_t
ports_asocket(int domain, int type, int protocol, void *user_data)
{
	struct mio__ares_ports *p = user_data;
	struct ports_handle *h;
	int fd;

	if (type != SOCK_DGRAM || (domain != AF_INET && domain != AF_INET6))
		return socket(domain, type, protocol);
	/* See note a: c-ares sets the flags; the socket is never bound. */
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		errno = ENOMEM;
		return ARES_SOCKET_BAD;
	}
	if ((fd = socket(domain, type, protocol)) < 0 &&
	    (errno == EMFILE || errno == ENFILE) && p->oldest != NONE) {
		ports_close(p, p->oldest);
		p->stats.evicted++;
		fd = socket(domain, type, protocol);
	}
	if (fd < 0) {
		free(h);
		return ARES_SOCKET_BAD;
	}
	h->fd = fd;
	h->next = p->handles;
	p->handles = h;
	return fd;
}

/* A handle's "connect" notes the server and the local address to bind
 * query sockets to (c-ares may have bound the handle to a local_ip). */
static int
ports_aconnect(ares_socket_t fd, const struct sockaddr *addr,
    ares_socklen_t len, void *user_data)
{
	struct ports_handle *h = ports_handle_by_fd(user_data, fd);

	if (h == NULL)
		return connect(fd, addr, len);
	if (len > sizeof(h->server) || (addr->sa_family != AF_INET &&
	    addr->sa_family != AF_INET6)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&h->server, addr, len);
	h->server_len = len;
	h->local_len = sizeof(h->local);
	if (getsockname(fd, (struct sockaddr *)&h->local, &h->local_len) != 0 ||
	    h->local.ss_family != addr->sa_family) {
		memset(&h->local, 0, sizeof(h->local));
		h->local.ss_family = addr->sa_family;
	}
	h->local_len = addr->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	return 0;
}

/* See note c: a closed handle takes its query sockets with it. */
static int
ports_aclose(ares_socket_t fd, void *user_data)
{
	struct mio__ares_ports *p = user_data;
	struct ports_handle **link = &p->handles, *h;
	uint32_t index, next;

	while (*link != NULL && (*link)->fd != fd)
		link = &(*link)->next;
	if ((h = *link) == NULL)
		return close(fd);
	for (index = p->oldest; index != NONE; index = next) {
		next = p->sockets[index].newer;
		if (p->sockets[index].handle == h)
			ports_close(p, index);
	}
	*link = h->next;
	if (p->pending_handle == h)
		p->pending_handle = NULL;
	close(h->fd);
	free(h);
	return 0;
}

/* See note b: a handle yields the answer being delivered, once. */
static ares_ssize_t
ports_arecvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
    struct sockaddr *from, ares_socklen_t *from_len, void *user_data)
{
	struct mio__ares_ports *p = user_data;
	struct ports_handle *h = ports_handle_by_fd(p, fd);
	size_t n;

	if (h == NULL)
		return recvfrom(fd, buf, len, flags, from, from_len);
	if (p->pending_handle != h) {
		errno = EAGAIN;
		return -1;
	}
	n = p->pending_len < len ? p->pending_len : len;
	memcpy(buf, p->pending, n);
	if (from != NULL && from_len != NULL) {
		memcpy(from, &h->server, *from_len < h->server_len ?
		    *from_len : h->server_len);
		*from_len = h->server_len;
	}
	p->pending_handle = NULL;
	return (ares_ssize_t)n;
}

static ares_ssize_t
ports_asendv(ares_socket_t fd, const struct iovec *iov, int iovcnt,
    void *user_data)
{
	struct mio__ares_ports *p = user_data;
	struct ports_handle *h = ports_handle_by_fd(p, fd);

	if (h == NULL)
		return writev(fd, iov, iovcnt);
	return ports_send(p, h, iov, iovcnt);
}

static const struct ares_socket_functions ports_functions = {
	.asocket = ports_asocket,
	.aclose = ports_aclose,
	.aconnect = ports_aconnect,
	.arecvfrom = ports_arecvfrom,
	.asendv = ports_asendv,
};

void
mio__ares_ports_attach(struct mio__ares_ports *p, ares_channel channel)
{
	p->channel = channel;
	ares_set_socket_functions(channel, &ports_functions, p);
}

/* ---- answers and lifetimes ---------------------------------------------- */

/* The live socket a token names, or NONE if it has gone since. */
static uint32_t
ports_index_by_token(const struct mio__ares_ports *p, mio_token token)
{
	uintptr_t offset = token - p->token_base;
	uint32_t index = (uint32_t)(offset >> MIO__ARES_GEN_BITS);

	if (token < p->token_base || index >= p->max_sockets ||
	    p->sockets[index].fd < 0 ||
	    (p->sockets[index].generation & GEN_MASK) != (offset & GEN_MASK))
		return NONE;
	return index;
}

/* Hands len bytes of p->buf to c-ares as if read from h. */
static void
ports_deliver(struct mio__ares_ports *p, struct ports_handle *h, size_t len)
{
	p->pending_handle = h;
	p->pending = p->buf;
	p->pending_len = len;
	p->stats.answers++;
	ares_process_fd(p->channel, h->fd, ARES_SOCKET_BAD);
	p->pending_handle = NULL;
}

/* Whether a datagram is the answer to s's query: its ID and question. */
static bool
ports_is_answer(const struct ports_socket *s, const unsigned char *msg,
    size_t len)
{
	uint64_t question;

	return len >= 12 && (msg[0] << 8 | msg[1]) == s->id &&
	    ports_question_hash(msg, len, &question) &&
	    question == s->question;
}

void
mio__ares_ports_event(struct mio__ares_ports *p, mio_token token)
{
	uint32_t index = ports_index_by_token(p, token);
	struct ports_socket *s;
	ssize_t len;

	for (int i = 0; i < READ_MAX && index != NONE; i++) {
		s = &p->sockets[index];
		if ((len = recv(s->fd, p->buf, sizeof(p->buf), 0)) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			p->stats.socket_errors++;	/* note e */
			continue;
		}
		/* The kernel checked the source (connect()); the ID and
		 * question are ours to check (note d). */
		if (!ports_is_answer(s, p->buf, (size_t)len)) {
			p->stats.stray++;
			continue;
		}
		ports_deliver(p, s->handle, (size_t)len);
		if ((index = ports_index_by_token(p, token)) != NONE)
			ports_close(p, index);
		return;
	}
	/* Still readable after READ_MAX datagrams: re-arm the edge. */
	if (index != NONE)
		(void)mio_registry_reregister_fd(p->registry,
		    p->sockets[index].fd, token, MIO_READABLE);
}

void
mio__ares_ports_expire(struct mio__ares_ports *p)
{
	int64_t now;

	if (p->oldest == NONE)
		return;
	now = ports_now_ms();
	while (p->oldest != NONE && p->sockets[p->oldest].expires_ms <= now) {
		ports_close(p, p->oldest);
		p->stats.expired++;
	}
}

/* Every socket lives lifetime_ms from its opening, so the oldest expires
 * first. */
int64_t
mio__ares_ports_next_expiry_ms(const struct mio__ares_ports *p)
{
	int64_t left;

	if (p->oldest == NONE)
		return -1;
	left = p->sockets[p->oldest].expires_ms - ports_now_ms();
	return left > 0 ? left : 0;
}

size_t
mio__ares_ports_live(const struct mio__ares_ports *p)
{
	return p->live;
}

void
mio__ares_ports_stats(const struct mio__ares_ports *p,
    struct mio_ares_port_stats *out)
{
	*out = p->stats;
}

void
mio__ares_ports_free(struct mio__ares_ports *p)
{
	struct ports_handle *h;

	if (p == NULL)
		return;
	while (p->oldest != NONE)
		ports_close(p, p->oldest);
	while ((h = p->handles) != NULL) {
		p->handles = h->next;
		close(h->fd);
		free(h);
	}
	free(p->sockets);
	free(p);
}
