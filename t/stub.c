/*
 * stub.c - the loopback DNS server of stub.h: one poll() loop, UDP and TCP
 * on the same port, answers scheduled on a due-time list so that they can
 * be delayed, dropped or written a byte at a time.
 *
 * Its DNS code is deliberately separate from miodnsd's (daemon/dns/dns.c): a
 * fixture that shared the parser under test would hide the parser's bugs.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stub.h"

#define STUB_MAX_CONNS 128
#define STUB_MAX_MSG 65535
#define STUB_TTL 300

enum { T_A = 1, T_NS = 2, T_SOA = 6, T_MX = 15, T_TXT = 16, T_AAAA = 28,
	T_OPT = 41 };
enum { R_NOERROR = 0, R_FORMERR = 1, R_SERVFAIL = 2, R_NXDOMAIN = 3,
	R_REFUSED = 5 };

struct stub_conn {
	int fd;			/* -1 when the slot is free */
	unsigned generation;
	uint8_t *buf;		/* 2 + STUB_MAX_MSG bytes */
	size_t len;
};

/* An answer waiting for its due time. */
struct pending {
	struct pending *next;
	long long due_ms;
	int conn;		/* index into conns, or -1 for UDP */
	unsigned generation;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool split;
	size_t len, off;
	uint8_t data[];
};

struct stub {
	struct stub_config config;
	char tag[64];
	int udp_fd, tcp_fd;
	int stop_pipe[2];
	uint16_t port;
	struct stub_conn conns[STUB_MAX_CONNS];
	struct pending *pending;
	pthread_t thread;
	unsigned seed;
	atomic_uint udp_queries, tcp_queries, tcp_connections, answers;
};

/* What a query asked for, as far as the stub cares. */
struct question {
	char name[256];		/* lower case, no trailing dot */
	uint16_t type, class;
	size_t end;		/* offset just past the question */
	bool edns, do_bit;
	uint16_t udp_size;
};

/* A response under construction; overflow makes every later put a no-op. */
struct msg {
	uint8_t buf[STUB_MAX_MSG];
	size_t len;
	bool overflow;
};

static long long
stub_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
put_bytes(struct msg *m, const void *p, size_t n)
{
	if (m->overflow || m->len + n > sizeof(m->buf)) {
		m->overflow = true;
		return;
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

static void
put16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put_bytes(m, b, 2);
}

static void
put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static void
put_name(struct msg *m, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		uint8_t len = (uint8_t)n;

		put_bytes(m, &len, 1);
		put_bytes(m, name, n);
		name += n + (dot ? 1 : 0);
	}
	put_bytes(m, "", 1);
}

static void
set16(struct msg *m, size_t off, uint16_t v)
{
	m->buf[off] = (uint8_t)(v >> 8);
	m->buf[off + 1] = (uint8_t)v;
}

/* Starts a record owned by the question's name (pointer to offset 12) and
 * returns the offset of its RDLENGTH, fixed by rr_end(). */
static size_t
rr_begin(struct msg *m, uint16_t type)
{
	size_t rdlen_at;

	put16(m, 0xc00c);
	put16(m, type);
	put16(m, 1);
	put32(m, STUB_TTL);
	rdlen_at = m->len;
	put16(m, 0);
	return rdlen_at;
}

static void
rr_end(struct msg *m, size_t rdlen_at)
{
	if (!m->overflow)
		set16(m, rdlen_at, (uint16_t)(m->len - rdlen_at - 2));
}

static void
rr_txt(struct msg *m, char fill, size_t n, const char *text)
{
	size_t at = rr_begin(m, T_TXT);
	uint8_t len = (uint8_t)(text ? strlen(text) : n);
	char chunk[255];

	put_bytes(m, &len, 1);
	if (text != NULL) {
		put_bytes(m, text, len);
	} else {
		memset(chunk, fill, len);
		put_bytes(m, chunk, len);
	}
	rr_end(m, at);
}

static void
rr_a(struct msg *m, uint8_t last)
{
	size_t at = rr_begin(m, T_A);
	uint8_t addr[4] = { 192, 0, 2, last };

	put_bytes(m, addr, 4);
	rr_end(m, at);
}

static void
rr_soa(struct msg *m)
{
	size_t at;

	put_name(m, "example.test");
	put16(m, T_SOA);
	put16(m, 1);
	put32(m, STUB_TTL);
	at = m->len;
	put16(m, 0);
	put_name(m, "ns.example.test");
	put_name(m, "hostmaster.example.test");
	put32(m, 1);
	put32(m, 3600);
	put32(m, 600);
	put32(m, 86400);
	put32(m, 60);
	rr_end(m, at);
}

/* Skips a possibly compressed name; returns the offset after it or 0. */
static size_t
skip_name(const uint8_t *p, size_t len, size_t off)
{
	while (off < len) {
		uint8_t l = p[off];

		if ((l & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if (l & 0xc0)
			return 0;
		off += 1 + l;
		if (l == 0)
			return off <= len ? off : 0;
	}
	return 0;
}

/* Reads the question (uncompressed) and looks for an OPT record. */
static bool
parse_query(const uint8_t *p, size_t len, struct question *q)
{
	size_t off = 12, n = 0;
	unsigned counts[3];

	memset(q, 0, sizeof(*q));
	if (len < 12 || (p[4] << 8 | p[5]) != 1)
		return false;
	for (;;) {
		if (off >= len)
			return false;
		uint8_t l = p[off++];
		if (l == 0)
			break;
		if (l > 63 || off + l > len || n + l + 2 > sizeof(q->name))
			return false;
		if (n > 0)
			q->name[n++] = '.';
		for (uint8_t i = 0; i < l; i++)
			q->name[n++] = (char)tolower(p[off + i]);
		off += l;
	}
	q->name[n] = '\0';
	if (off + 4 > len)
		return false;
	q->type = (uint16_t)(p[off] << 8 | p[off + 1]);
	q->class = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
	q->end = off += 4;
	for (int s = 0; s < 3; s++)
		counts[s] = (unsigned)(p[6 + 2 * s] << 8 | p[7 + 2 * s]);
	for (unsigned i = 0; i < counts[0] + counts[1] + counts[2]; i++) {
		if ((off = skip_name(p, len, off)) == 0 || off + 10 > len)
			return false;
		uint16_t type = (uint16_t)(p[off] << 8 | p[off + 1]);
		uint16_t rdlen = (uint16_t)(p[off + 8] << 8 | p[off + 9]);
		if (type == T_OPT && i >= counts[0] + counts[1]) {
			q->edns = true;
			q->udp_size = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
			q->do_bit = (p[off + 6] & 0x80) != 0;
		}
		off += 10 + rdlen;
		if (off > len)
			return false;
	}
	return true;
}

/* The first label of a name in the zone, "load" for any name below
 * load.example.test and "" for the apex; false if outside the zone. */
static bool
zone_label(const char *name, char *label, size_t size)
{
	static const char zone[] = "example.test";
	static const char load[] = ".load.example.test";
	size_t n = strlen(name), z = strlen(zone);
	const char *dot = strchr(name, '.');

	label[0] = '\0';
	if (n < z || strcmp(name + n - z, zone) != 0 ||
	    (n > z && name[n - z - 1] != '.'))
		return false;
	if (n > strlen(load) && strcmp(name + n - strlen(load), load) == 0)
		snprintf(label, size, "load");
	else if (n > z && (size_t)(dot - name) < size)
		snprintf(label, size, "%.*s", (int)(dot - name), name);
	return true;
}

static bool
zone_is_host(const char *label)
{
	return strcmp(label, "a") == 0 || strcmp(label, "mail") == 0 ||
	    strcmp(label, "split") == 0 || strcmp(label, "tc") == 0 ||
	    strcmp(label, "drop") == 0 || strncmp(label, "delay", 5) == 0 ||
	    strcmp(label, "ad") == 0;
}

static void
zone_host(const struct question *q, struct msg *m, unsigned *ancount)
{
	size_t at;
	struct in6_addr a6;

	switch (q->type) {
	case T_A:
		rr_a(m, 1);
		break;
	case T_AAAA:
		at = rr_begin(m, T_AAAA);
		inet_pton(AF_INET6, "2001:db8::1", &a6);
		put_bytes(m, &a6, 16);
		rr_end(m, at);
		break;
	case T_MX:
		at = rr_begin(m, T_MX);
		put16(m, 10);
		put_name(m, "mail.example.test");
		rr_end(m, at);
		break;
	case T_TXT:
		rr_txt(m, 0, 0, "hello world");
		break;
	default:
		return;
	}
	(*ancount)++;
}

/* The answer records for the question; returns the RCODE. */
static int
zone_answer(struct stub *s, const struct question *q, struct msg *m,
    unsigned *ancount, unsigned *nscount)
{
	char label[64];

	if (!zone_label(q->name, label, sizeof(label)))
		return R_REFUSED;
	if (strcmp(label, "servfail") == 0)
		return R_SERVFAIL;
	if (strcmp(label, "refused") == 0)
		return R_REFUSED;
	if (strcmp(label, "formerr") == 0)
		return R_FORMERR;
	if (zone_is_host(label)) {
		zone_host(q, m, ancount);
	} else if (strcmp(label, "load") == 0) {
		if (q->type == T_A) {
			rr_a(m, 2);
			(*ancount)++;
		}
	} else if (strcmp(label, "big") == 0) {
		for (int i = 0; q->type == T_TXT && i < 4; i++, (*ancount)++)
			rr_txt(m, (char)('b' + i), 200, NULL);
	} else if (strcmp(label, "huge") == 0) {
		for (int i = 0; q->type == T_TXT && i < 16; i++, (*ancount)++)
			rr_txt(m, (char)('a' + i), 250, NULL);
	} else if (strcmp(label, "many") == 0) {
		for (int i = 1; q->type == T_A && i <= 60; i++, (*ancount)++)
			rr_a(m, (uint8_t)i);
	} else if (strcmp(label, "count") == 0) {
		if (q->type == T_TXT) {
			char text[32];
			snprintf(text, sizeof(text), "%u",
			    atomic_load(&s->udp_queries) +
			    atomic_load(&s->tcp_queries));
			rr_txt(m, 0, 0, text);
			(*ancount)++;
		}
	} else if (strcmp(label, "tag") == 0) {
		if (q->type == T_TXT) {
			rr_txt(m, 0, 0, s->tag);
			(*ancount)++;
		}
	} else if (label[0] == '\0') {
		if (q->type == T_SOA) {
			rr_soa(m);
			(*ancount)++;
		}
	} else {
		rr_soa(m);
		(*nscount)++;
		return R_NXDOMAIN;
	}
	if (*ancount == 0) {
		rr_soa(m);
		(*nscount)++;
	}
	return R_NOERROR;
}

static void
put_opt(struct msg *m, bool do_bit)
{
	put_bytes(m, "", 1);
	put16(m, T_OPT);
	put16(m, 1232);
	put32(m, do_bit ? 0x8000 : 0);
	put16(m, 0);
}

/* Header and question of a response to p, with the given RCODE. */
static void
put_head(struct msg *m, const uint8_t *p, const struct question *q, int rcode,
    bool tc)
{
	m->len = 0;
	m->overflow = false;
	put_bytes(m, p, 2);
	m->buf[m->len++] = (uint8_t)(0x84 | (p[2] & 0x79) | (tc ? 0x02 : 0));
	m->buf[m->len++] = (uint8_t)rcode;
	put16(m, q ? 1 : 0);
	put32(m, 0);
	put16(m, 0);
	if (q != NULL)
		put_bytes(m, p + 12, q->end - 12);
}

static int
label_delay(const struct question *q)
{
	if (strncmp(q->name, "delay", 5) != 0)
		return 0;
	return atoi(q->name + 5);
}

static void
stub_schedule(struct stub *s, const struct msg *m, int conn,
    const struct sockaddr_storage *addr, socklen_t addrlen, int delay,
    bool split)
{
	size_t extra = conn >= 0 ? 2 : 0;
	struct pending *p = malloc(sizeof(*p) + m->len + extra);
	struct pending **at;

	if (p == NULL)
		return;
	memset(p, 0, sizeof(*p));
	p->due_ms = stub_now_ms() + delay;
	p->conn = conn;
	if (conn >= 0)
		p->generation = s->conns[conn].generation;
	if (addr != NULL)
		memcpy(&p->addr, addr, addrlen);
	p->addrlen = addrlen;
	p->split = split;
	if (conn >= 0) {
		p->data[0] = (uint8_t)(m->len >> 8);
		p->data[1] = (uint8_t)m->len;
	}
	memcpy(p->data + extra, m->buf, m->len);
	p->len = m->len + extra;
	for (at = &s->pending; *at && (*at)->due_ms <= p->due_ms;
	    at = &(*at)->next)
		;
	p->next = *at;
	*at = p;
}

/* Flips bits past the question: answers that are malformed in every way
 * a bit can make them, yet still matched to their query by c-ares. */
static void
stub_garble(struct stub *s, struct msg *m, size_t from)
{
	for (int i = 0; i < s->config.garble; i++) {
		size_t at = from + (size_t)rand_r(&s->seed) % (m->len - from);
		m->buf[at] ^= (uint8_t)(1u << (rand_r(&s->seed) % 8));
	}
}

/* Builds the whole response to one query; returns false to drop it. */
static bool
stub_respond(struct stub *s, const uint8_t *p, size_t len, bool tcp,
    struct msg *m, int *delay, bool *split)
{
	struct question q;
	unsigned an = 0, ns = 0;
	int rcode;
	size_t limit;

	if (len < 12 || (p[2] & 0x80))
		return false;
	if (!parse_query(p, len, &q)) {
		put_head(m, p, NULL, R_FORMERR, false);
		return true;
	}
	if (s->config.verbose)
		fprintf(stderr, "stub: %s %s %u\n", tcp ? "tcp" : "udp",
		    q.name, q.type);
	if (s->config.drop || strncmp(q.name, "drop.", 5) == 0)
		return false;
	*delay = s->config.delay_ms + label_delay(&q);
	*split = tcp && (s->config.split_tcp ||
	    strncmp(q.name, "split.", 6) == 0);
	if (s->config.no_edns && q.edns) {
		put_head(m, p, &q, R_FORMERR, false);
		return true;
	}
	put_head(m, p, &q, R_NOERROR, false);
	if (s->config.servfail)
		rcode = R_SERVFAIL;
	else
		rcode = zone_answer(s, &q, m, &an, &ns);
	if (rcode != R_NOERROR && rcode != R_NXDOMAIN) {
		put_head(m, p, &q, rcode, false);
		an = ns = 0;
	}
	m->buf[3] = (uint8_t)rcode;
	/* "ad": an answer the stub claims to have validated. */
	if (strncmp(q.name, "ad.", 3) == 0)
		m->buf[3] |= 0x20;
	set16(m, 6, (uint16_t)an);
	set16(m, 8, (uint16_t)ns);
	if (q.edns) {
		put_opt(m, q.do_bit);
		set16(m, 10, 1);
	}
	limit = q.edns ? (q.udp_size < 512 ? 512 : q.udp_size) : 512;
	if (!tcp && (m->overflow || m->len > limit || s->config.truncate_udp ||
	    strncmp(q.name, "tc.", 3) == 0)) {
		put_head(m, p, &q, rcode, true);
		if (q.edns) {
			put_opt(m, q.do_bit);
			set16(m, 10, 1);
		}
	}
	if (s->config.garble > 0 && m->len > q.end)
		stub_garble(s, m, q.end);
	return !m->overflow;
}

static void
stub_query(struct stub *s, const uint8_t *p, size_t len, int conn,
    const struct sockaddr_storage *addr, socklen_t addrlen)
{
	static _Thread_local struct msg m;
	int delay = 0;
	bool split = false;

	if (conn >= 0)
		atomic_fetch_add(&s->tcp_queries, 1);
	else
		atomic_fetch_add(&s->udp_queries, 1);
	if (stub_respond(s, p, len, conn >= 0, &m, &delay, &split))
		stub_schedule(s, &m, conn, addr, addrlen, delay, split);
}

static void
conn_close(struct stub *s, int i)
{
	close(s->conns[i].fd);
	free(s->conns[i].buf);
	s->conns[i].buf = NULL;
	s->conns[i].fd = -1;
	s->conns[i].generation++;
}

/* Reads what the connection has and answers every complete query. */
static void
conn_read(struct stub *s, int i)
{
	struct stub_conn *c = &s->conns[i];

	for (;;) {
		ssize_t n = read(c->fd, c->buf + c->len,
		    2 + STUB_MAX_MSG - c->len);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(s, i);
			return;
		}
		if (n < 0)
			return;
		c->len += (size_t)n;
		while (c->len >= 2) {
			size_t need = (size_t)(c->buf[0] << 8 | c->buf[1]);
			if (c->len < need + 2)
				break;
			stub_query(s, c->buf + 2, need, i, NULL, 0);
			memmove(c->buf, c->buf + need + 2, c->len - need - 2);
			c->len -= need + 2;
		}
	}
}

static void
stub_accept(struct stub *s)
{
	int fd, one = 1;

	while ((fd = accept4(s->tcp_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		int i;
		for (i = 0; i < STUB_MAX_CONNS && s->conns[i].fd >= 0; i++)
			;
		if (i == STUB_MAX_CONNS ||
		    (s->conns[i].buf = malloc(2 + STUB_MAX_MSG)) == NULL) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		s->conns[i].fd = fd;
		s->conns[i].len = 0;
		atomic_fetch_add(&s->tcp_connections, 1);
	}
}

static void
stub_read_udp(struct stub *s)
{
	static _Thread_local uint8_t buf[STUB_MAX_MSG];
	struct sockaddr_storage from;
	socklen_t fromlen;
	ssize_t n;

	for (;;) {
		fromlen = sizeof(from);
		n = recvfrom(s->udp_fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return;
		/* For the tests of upstream source ports (miodnsd-trust). */
		if (s->config.verbose && n >= 2)
			fprintf(stderr, "stub: udp from port %u id %u\n",
			    ntohs(from.ss_family == AF_INET6 ?
			    ((struct sockaddr_in6 *)&from)->sin6_port :
			    ((struct sockaddr_in *)&from)->sin_port),
			    (unsigned)(buf[0] << 8 | buf[1]));
		stub_query(s, buf, (size_t)n, -1, &from, fromlen);
	}
}

/* Sends one due answer; returns false if it must wait again. */
static bool
stub_send(struct stub *s, struct pending *p)
{
	ssize_t n;

	if (p->conn < 0) {
		sendto(s->udp_fd, p->data, p->len, 0,
		    (struct sockaddr *)&p->addr, p->addrlen);
		atomic_fetch_add(&s->answers, 1);
		return true;
	}
	if (s->conns[p->conn].fd < 0 ||
	    s->conns[p->conn].generation != p->generation)
		return true;
	n = send(s->conns[p->conn].fd, p->data + p->off,
	    p->split ? 1 : p->len - p->off, MSG_NOSIGNAL);
	if (n > 0)
		p->off += (size_t)n;
	if (p->off < p->len) {
		p->due_ms = stub_now_ms() + 1;
		return false;
	}
	atomic_fetch_add(&s->answers, 1);
	return true;
}

static void
stub_run_due(struct stub *s)
{
	long long now = stub_now_ms();

	while (s->pending != NULL && s->pending->due_ms <= now) {
		struct pending *p = s->pending, **at;

		s->pending = p->next;
		if (stub_send(s, p)) {
			free(p);
			continue;
		}
		for (at = &s->pending; *at && (*at)->due_ms <= p->due_ms;
		    at = &(*at)->next)
			;
		p->next = *at;
		*at = p;
	}
}

int
stub_run(struct stub *s)
{
	struct pollfd pfd[3 + STUB_MAX_CONNS];
	int map[3 + STUB_MAX_CONNS];

	for (;;) {
		int n = 0, timeout = -1;

		pfd[n++] = (struct pollfd){ s->stop_pipe[0], POLLIN, 0 };
		pfd[n++] = (struct pollfd){ s->udp_fd, POLLIN, 0 };
		pfd[n++] = (struct pollfd){ s->tcp_fd, POLLIN, 0 };
		for (int i = 0; i < STUB_MAX_CONNS; i++) {
			if (s->conns[i].fd < 0)
				continue;
			map[n] = i;
			pfd[n++] = (struct pollfd){ s->conns[i].fd, POLLIN, 0 };
		}
		if (s->pending != NULL) {
			long long left = s->pending->due_ms - stub_now_ms();
			timeout = left < 0 ? 0 : (int)left;
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
			return -1;
		if (pfd[0].revents)
			return 0;
		if (pfd[1].revents)
			stub_read_udp(s);
		if (pfd[2].revents)
			stub_accept(s);
		for (int k = 3; k < n; k++) {
			if (pfd[k].revents && s->conns[map[k]].fd == pfd[k].fd)
				conn_read(s, map[k]);
		}
		stub_run_due(s);
	}
}

static int
stub_bind(struct stub *s)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int family = s->config.family;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(s->config.port);
		len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(s->config.port);
		len = sizeof(*sin);
	}
	s->udp_fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	s->tcp_fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (s->udp_fd < 0 || s->tcp_fd < 0 ||
	    bind(s->udp_fd, (struct sockaddr *)&ss, len) != 0 ||
	    getsockname(s->udp_fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	/* The TCP socket takes the port the UDP socket got. */
	if (bind(s->tcp_fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(s->tcp_fd, 128) != 0)
		return -1;
	s->port = ntohs(family == AF_INET6 ?
		((struct sockaddr_in6 *)&ss)->sin6_port :
		((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

struct stub *
stub_new(const struct stub_config *config)
{
	struct stub *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->config = *config;
	s->seed = 4242;
	if (s->config.family == 0)
		s->config.family = AF_INET;
	snprintf(s->tag, sizeof(s->tag), "%s",
	    config->tag ? config->tag : "stub");
	s->udp_fd = s->tcp_fd = -1;
	for (int i = 0; i < STUB_MAX_CONNS; i++)
		s->conns[i].fd = -1;
	if (pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		free(s);
		return NULL;
	}
	for (int tries = 0; stub_bind(s) != 0; tries++) {
		int saved = errno;
		if (s->udp_fd >= 0)
			close(s->udp_fd);
		if (s->tcp_fd >= 0)
			close(s->tcp_fd);
		s->udp_fd = s->tcp_fd = -1;
		/* Only an ephemeral UDP port whose TCP twin is taken is
		 * worth another try. */
		if (saved != EADDRINUSE || config->port != 0 || tries == 20) {
			stub_free(s);
			errno = saved;
			return NULL;
		}
	}
	return s;
}

uint16_t
stub_port(const struct stub *s)
{
	return s->port;
}

void
stub_stop(struct stub *s)
{
	int saved = errno;

	(void)write(s->stop_pipe[1], "x", 1);
	errno = saved;
}

void
stub_get_counts(struct stub *s, struct stub_counts *c)
{
	c->udp_queries = atomic_load(&s->udp_queries);
	c->tcp_queries = atomic_load(&s->tcp_queries);
	c->tcp_connections = atomic_load(&s->tcp_connections);
	c->answers = atomic_load(&s->answers);
}

static void *
stub_thread(void *arg)
{
	stub_run(arg);
	return NULL;
}

int
stub_start_thread(struct stub *s)
{
	return pthread_create(&s->thread, NULL, stub_thread, s) == 0 ? 0 : -1;
}

void
stub_join(struct stub *s)
{
	stub_stop(s);
	pthread_join(s->thread, NULL);
}

void
stub_free(struct stub *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < STUB_MAX_CONNS; i++) {
		if (s->conns[i].fd >= 0)
			conn_close(s, i);
	}
	while (s->pending != NULL) {
		struct pending *p = s->pending;
		s->pending = p->next;
		free(p);
	}
	if (s->udp_fd >= 0)
		close(s->udp_fd);
	if (s->tcp_fd >= 0)
		close(s->tcp_fd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	free(s);
}
