/*
 * dotprobe.c - a DNS-over-TLS client for the miodnsd tests, on miodnsd's
 * own TLS engine (daemon/core/tls.c) and a libmio poll: what kdig +tls
 * cannot show, pipelining and resumption.
 *
 *   dotprobe [-A ca.pem] [-H name] [-T ms] [-rs] PORT NAME...
 *       one TLS connection to 127.0.0.1:PORT; every query (type A) is
 *       written at once; prints "NAME RCODE" per answer in the order the
 *       answers came. -r then connects again with the session of the
 *       first connection and asks the first NAME once more, and prints
 *       "resumed" or "not resumed". A failed handshake prints
 *       "tls: WHY"; answers missing after -T ms print "timeout". -W ms
 *       waits that long between -r's two connections.
 *   dotprobe [-A ca.pem] [-H name] [-T ms] -R HEX PORT
 *       the bytes given in hex, framing and all (so that lengths may
 *       lie), written inside the TLS connection; prints the answers that
 *       come, then "closed after N answers" when the server closes, or
 *       "timeout".
 *
 * -s sends every byte of the client's side of TLS, handshake included, in
 * a TCP segment of its own, one per turn of the probe's loop, so that the
 * server sees each record split byte by byte.
 *
 * -A is the CA to verify against (default: the system's), -H the name the
 * certificate must carry (default dot.test). Exit status 0 when the probe
 * ran (a refused certificate is a result), 1 when something failed, 2 for
 * usage errors.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/tls.h"
#include "mio.h"

#define PROBE_MAX_NAMES 64

static const char *rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL",
    "NXDOMAIN", "NOTIMP", "REFUSED"};

static struct {
	const char *ca;
	const char *host;
	int timeout_ms;
	bool resume;
	bool split;			/* -s */
	int wait_ms;			/* -W: between -r's connections */
	uint8_t raw[4096];
	size_t raw_len;			/* -R: 0 when unset */
	struct sockaddr_in addr;
} o = {.host = "dot.test", .timeout_ms = 3000};

static long long
probe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A framed query for name/A; its length with the prefix. */
static size_t
probe_query(uint8_t *buf, uint16_t id, const char *name)
{
	size_t off = 14;

	memset(buf, 0, 14);
	buf[2] = (uint8_t)(id >> 8);
	buf[3] = (uint8_t)id;
	buf[4] = 0x01;			/* RD */
	buf[7] = 1;			/* QDCOUNT */
	while (*name != '\0' && off < 270) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		buf[off++] = (uint8_t)n;
		memcpy(buf + off, name, n);
		off += n;
		name += n + (dot ? 1 : 0);
	}
	memcpy(buf + off, "\0\0\1\0\1", 5);
	off += 5;
	buf[0] = (uint8_t)((off - 2) >> 8);
	buf[1] = (uint8_t)(off - 2);
	return off;
}

/* Prints "NAME RCODE" for one answer. */
static void
probe_print(const uint8_t *msg, size_t len)
{
	char name[300] = "";
	size_t off = 12, n = 0;

	while (off < len && msg[off] != 0 && msg[off] < 64 &&
	    off + 1 + msg[off] <= len && n + msg[off] + 2 < sizeof(name)) {
		memcpy(name + n, msg + off + 1, msg[off]);
		n += msg[off];
		name[n++] = '.';
		off += 1 + msg[off];
	}
	if (n > 0)
		name[n - 1] = '\0';
	unsigned rcode = len > 3 ? (msg[3] & 0x0f) : 15;
	printf("%s %s\n", name, rcode < 6 ? rcodes[rcode] : "OTHER");
}

/*
 * One connection. With -s the TLS stream runs over a socketpair and the
 * probe relays what it writes to the TCP connection one byte per turn of
 * its loop (TCP_NODELAY: one segment each), and the answers back whole.
 */
struct probe_conn {
	mio_poll *poll;
	mio_events *events;
	struct tls_stream *s;
	int fd;			/* the stream's: the TCP socket, or pair[0] */
	int wire;		/* -s: the TCP socket */
	int inner;		/* -s: pair[1], the relay's end */
	uint8_t relay[1 << 16];
	size_t relay_len;
	uint8_t in[1 << 17];
	size_t in_len;
	int answers;
};

static int
probe_tcp(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0 || (connect(fd, (struct sockaddr *)&o.addr,
	    sizeof(o.addr)) != 0 && errno != EINPROGRESS)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Sockets and the stream; 0 or -1. */
static int
probe_open(struct probe_conn *c, struct tls_ctx *ctx,
    struct tls_session_slot *slot)
{
	const mio_registry *r = mio_poll_registry(c->poll);
	int pair[2];

	c->fd = c->wire = c->inner = -1;
	if (o.split) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0, pair) != 0 || (c->wire = probe_tcp()) < 0)
			return -1;
		c->fd = pair[0];
		c->inner = pair[1];
		if (mio_registry_register_fd(r, c->wire, 2, MIO_READABLE) != 0 ||
		    mio_registry_register_fd(r, c->inner, 3, MIO_READABLE) != 0)
			return -1;
	} else if ((c->fd = probe_tcp()) < 0) {
		return -1;
	}
	if (mio_registry_register_fd(r, c->fd, 1,
	    MIO_READABLE | MIO_WRITABLE) != 0)
		return -1;
	return tls_stream_client_new(&c->s, ctx, c->fd, o.host, slot) == 0 ?
	    0 : -1;
}

static void
probe_close(struct probe_conn *c)
{
	int fds[3] = {c->fd, c->wire, c->inner};

	tls_stream_free(c->s);
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		mio_registry_deregister_fd(mio_poll_registry(c->poll), fds[i]);
		close(fds[i]);
	}
}

/* -s: the stream's bytes to the wire one at a time, answers back. */
static void
probe_relay(struct probe_conn *c)
{
	uint8_t buf[4096];
	ssize_t n;

	while (c->relay_len < sizeof(c->relay) && (n = read(c->inner,
	    c->relay + c->relay_len, sizeof(c->relay) - c->relay_len)) > 0)
		c->relay_len += (size_t)n;
	if (c->relay_len > 0 && write(c->wire, c->relay, 1) == 1)
		memmove(c->relay, c->relay + 1, --c->relay_len);
	while ((n = read(c->wire, buf, sizeof(buf))) > 0)
		if (write(c->inner, buf, (size_t)n) != n)
			break;
	if (n == 0)
		shutdown(c->inner, SHUT_WR);	/* the server closed */
}

/* Reads and prints answers: 1 while the connection is open. */
static int
probe_read(struct probe_conn *c)
{
	ssize_t n;

	while ((n = tls_stream_read(c->s, c->in + c->in_len,
	    sizeof(c->in) - c->in_len)) > 0) {
		c->in_len += (size_t)n;
		while (c->in_len >= 2 && c->in_len >= 2 +
		    (size_t)(c->in[0] << 8 | c->in[1])) {
			size_t len = (size_t)(c->in[0] << 8 | c->in[1]);
			probe_print(c->in + 2, len);
			c->answers++;
			memmove(c->in, c->in + 2 + len, c->in_len - 2 - len);
			c->in_len -= 2 + len;
		}
	}
	if (n == 0 || (n < 0 && n != -EAGAIN)) {
		printf("closed after %d answers\n", c->answers);
		return 0;
	}
	return 1;
}

/* Polls until want answers came, the server closed or the time is up. */
static void
probe_loop(struct probe_conn *c, int want)
{
	long long deadline = probe_now_ms() + o.timeout_ms;

	while (c->answers < want) {
		int t = (int)(deadline - probe_now_ms());
		struct timespec ts = {0, 1000000};	/* -s, bytes to relay */
		if (t <= 0) {
			printf("timeout\n");
			return;
		}
		if (c->relay_len == 0)
			ts = (struct timespec){t / 1000, (t % 1000) * 1000000L};
		if (mio_poll_poll(c->poll, c->events, &ts) < 0)
			continue;
		MIO_EVENTS_FOREACH(ev, c->events) {
			if (mio_event_token(ev) == 1)
				tls_stream_ready(c->s, tls_event_interest(ev));
		}
		int hs = tls_stream_handshake(c->s);
		if (hs != 0 && hs != -EAGAIN) {
			printf("tls: %s\n", tls_stream_error(c->s));
			return;
		}
		if (hs == 0 && !probe_read(c))
			return;
		tls_stream_flush(c->s);
		if (o.split)
			probe_relay(c);
	}
}

/* One connection: sends names, prints answers; 0 when it ran. */
static int
probe_connection(mio_poll *poll, mio_events *events, struct tls_ctx *ctx,
    struct tls_session_slot *slot, char **names, int nnames, bool *resumed)
{
	static struct probe_conn c;

	memset(&c, 0, sizeof(c));
	c.poll = poll;
	c.events = events;
	if (probe_open(&c, ctx, slot) != 0) {
		perror("dotprobe: connect");
		probe_close(&c);
		return 1;
	}
	for (int i = 0; i < nnames && o.raw_len == 0; i++) {
		uint8_t q[300];
		if (tls_stream_send(c.s, q, probe_query(q, (uint16_t)i,
		    names[i])) != 0)
			break;		/* the handshake's error, in the loop */
	}
	if (o.raw_len > 0)
		tls_stream_send(c.s, o.raw, o.raw_len);
	if (o.split)
		probe_relay(&c);
	/* Raw bytes: until the server closes. */
	probe_loop(&c, o.raw_len > 0 ? 1 << 20 : nnames);
	*resumed = tls_stream_resumed(c.s);
	tls_stream_close_notify(c.s);
	probe_close(&c);
	return 0;
}

/* -R's hex, white space allowed; false if it is not hex. */
static bool
probe_parse_hex(const char *hex)
{
	unsigned byte;

	for (o.raw_len = 0; *hex != '\0'; ) {
		if (*hex == ' ' || *hex == '\n') {
			hex++;
			continue;
		}
		if (o.raw_len == sizeof(o.raw) || sscanf(hex, "%2x", &byte) != 1)
			return false;
		o.raw[o.raw_len++] = (uint8_t)byte;
		hex += 2;
	}
	return o.raw_len > 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: dotprobe [-A ca] [-H name] [-T ms] [-W ms] [-rs] "
	    "PORT NAME...\n       dotprobe [-A ca] [-H name] [-T ms] "
	    "-R HEX PORT\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct tls_session_slot slot = {NULL};
	struct tls_ctx *ctx;
	mio_poll *poll;
	mio_events *events;
	char err[256];
	bool resumed = false;
	int ch, rc;

	while ((ch = getopt(argc, argv, "A:H:R:T:W:rs")) != -1) {
		switch (ch) {
		case 's': o.split = true; break;
		case 'W': o.wait_ms = atoi(optarg); break;
		case 'R':
			if (!probe_parse_hex(optarg))
				usage();
			break;
		case 'A': o.ca = optarg; break;
		case 'H': o.host = optarg; break;
		case 'T': o.timeout_ms = atoi(optarg); break;
		case 'r': o.resume = true; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < (o.raw_len > 0 ? 1 : 2) || argc - 1 > PROBE_MAX_NAMES)
		usage();
	signal(SIGPIPE, SIG_IGN);
	o.addr.sin_family = AF_INET;
	o.addr.sin_port = htons((uint16_t)atoi(argv[0]));
	o.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (tls_ctx_client_new(&ctx, o.ca, err, sizeof(err)) != 0) {
		fprintf(stderr, "dotprobe: %s\n", err);
		return 1;
	}
	if (mio_poll_new(&poll) != 0 || mio_events_new(&events, 16) != 0)
		return 1;
	rc = probe_connection(poll, events, ctx, &slot, argv + 1, argc - 1,
	    &resumed);
	if (rc == 0 && o.resume) {
		if (o.wait_ms > 0)
			nanosleep(&(struct timespec){o.wait_ms / 1000,
			    (o.wait_ms % 1000) * 1000000L}, NULL);
		rc = probe_connection(poll, events, ctx, &slot, argv + 1, 1,
		    &resumed);
		printf("%s\n", resumed ? "resumed" : "not resumed");
	}
	tls_session_slot_clear(&slot);
	tls_ctx_free(ctx);
	mio_events_free(events);
	mio_poll_free(poll);
	return rc;
}
