/*
 * dnsraw.c - sends raw bytes to a DNS server on 127.0.0.1 (or ::1) and
 * prints what comes back in hex, for t/miodnsd-hostile.sh: the messages a
 * well-behaved client never sends, and TCP streams framed wrongly.
 *
 *   dnsraw [-6] [-T ms] PORT HEX...
 *       each HEX as one UDP datagram (an empty HEX is an empty datagram),
 *       one after the other from one socket; prints a line per datagram,
 *       the reply in hex or "none" if nothing came within the timeout
 *   dnsraw -t [-6] [-T ms] [-f] [-n count] [-b ms] [-h] PORT HEX...
 *       one TCP connection. The HEX arguments are written as given, length
 *       prefixes included (so that they may lie), all in one write, or one
 *       byte per write ms milliseconds apart with -b; -f puts the right
 *       length prefix before each. Then prints each reply (its prefix
 *       removed) in hex on a line of its own until count replies came
 *       (default 1), "eof" if the server closed the connection first, or
 *       "timeout". With -h the client half-closes after writing, and
 *       after its replies waits for the server to close ("eof") too.
 *   dnsraw -t -i [-T ms] PORT
 *       connects and sends nothing; prints "eof after N ms" when the
 *       server closes the connection, or "timeout"
 *   dnsraw -S [-6] [-T ms] HEX...
 *       a hostile upstream: binds UDP to an ephemeral port, prints it, and
 *       answers each query with the first HEX whose question (the bytes
 *       after its header, as many as the query's question has) is the
 *       query's, with the query's ID; a query that matches none gets
 *       nothing. Exits after -T ms without a query.
 *
 * HEX may contain white space; "-" reads it from standard input (once),
 * for messages too long for an argument. -T sets how long to wait for each
 * reply (UDP) or for all of them (TCP), 2000 ms by default. The exit
 * status is 0 when the exchange ran (silence is a result, printed), 1 if
 * a socket call failed, 2 for usage errors.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DNSRAW_MAX (2 * 65536)

struct dnsraw_opts {
	bool tcp, v6, frame, half_close, idle, serve;
	int timeout_ms;
	int byte_ms;		/* -b: one byte per write; -1 when unset */
	int replies;
};

static struct dnsraw_opts o = { .timeout_ms = 2000, .byte_ms = -1,
	.replies = 1 };

static void
usage(void)
{
	fprintf(stderr, "usage: dnsraw [-6] [-T ms] PORT HEX...\n"
	    "       dnsraw -t [-6fh] [-T ms] [-n count] [-b ms] PORT HEX...\n"
	    "       dnsraw -t -i [-6] [-T ms] PORT\n"
	    "       dnsraw -S [-6] [-T ms] HEX...\n");
	exit(2);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The hex of an argument: the argument, or for "-" standard input. */
static const char *
dnsraw_hex_arg(const char *arg)
{
	static char *input;
	size_t len = 0, cap = 0;

	if (strcmp(arg, "-") != 0)
		return arg;
	if (input != NULL)
		usage();	/* standard input can be read only once */
	for (;;) {
		size_t n;
		if (len + 4096 + 1 > cap) {
			cap = 2 * cap + 8192;
			if ((input = realloc(input, cap)) == NULL) {
				perror("dnsraw");
				exit(1);
			}
		}
		if ((n = fread(input + len, 1, 4096, stdin)) == 0)
			break;
		len += n;
	}
	input[len] = '\0';
	return input;
}

/* Appends the bytes written in hex to buf; false if hex is not hex. */
static bool
dnsraw_unhex(const char *arg, unsigned char *buf, size_t *len)
{
	const char *hex = dnsraw_hex_arg(arg);
	int high = -1;

	for (; *hex != '\0'; hex++) {
		int v;
		if (isspace((unsigned char)*hex))
			continue;
		if (!isxdigit((unsigned char)*hex) || *len >= DNSRAW_MAX)
			return false;
		v = isdigit((unsigned char)*hex) ? *hex - '0' :
		    tolower((unsigned char)*hex) - 'a' + 10;
		if (high < 0) {
			high = v;
			continue;
		}
		buf[(*len)++] = (unsigned char)(high << 4 | v);
		high = -1;
	}
	return high < 0;
}

static void
dnsraw_print(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		printf("%02x", buf[i]);
	printf("\n");
	fflush(stdout);
}

/* The loopback address with port. */
static socklen_t
dnsraw_address(int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (o.v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons((uint16_t)port);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s4->sin_port = htons((uint16_t)port);
	return sizeof(*s4);
}

static int
dnsraw_connect(int port, int type)
{
	struct sockaddr_storage ss;
	socklen_t len = dnsraw_address(port, &ss);
	int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) != 0) {
		perror("dnsraw: connect");
		exit(1);
	}
	return fd;
}

/* Waits until fd is readable or the deadline passes. */
static bool
dnsraw_wait(int fd, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long left = deadline - now_ms();

	return left > 0 && poll(&pfd, 1, (int)left) == 1;
}

static int
dnsraw_udp(int port, char **hex, int count)
{
	static unsigned char buf[DNSRAW_MAX], reply[65536];
	int fd = dnsraw_connect(port, SOCK_DGRAM);

	for (int i = 0; i < count; i++) {
		size_t len = 0;
		ssize_t n;
		if (!dnsraw_unhex(hex[i], buf, &len))
			usage();
		if (send(fd, buf, len, 0) != (ssize_t)len) {
			perror("dnsraw: send");
			return 1;
		}
		if (!dnsraw_wait(fd, now_ms() + o.timeout_ms) ||
		    (n = recv(fd, reply, sizeof(reply), 0)) < 0) {
			printf("none\n");
			continue;
		}
		dnsraw_print(reply, (size_t)n);
	}
	return 0;
}

/* Writes buf whole, or a byte at a time byte_ms apart. */
static bool
dnsraw_write(int fd, const unsigned char *buf, size_t len)
{
	struct timespec pause = { o.byte_ms / 1000,
		(long)(o.byte_ms % 1000) * 1000000 };
	size_t off = 0;

	while (off < len) {
		size_t chunk = o.byte_ms >= 0 ? 1 : len - off;
		ssize_t n = send(fd, buf + off, chunk, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		off += (size_t)n;
		if (o.byte_ms > 0 && off < len)
			nanosleep(&pause, NULL);
	}
	return true;
}

/*
 * Reads from the stream until len bytes are in buf; returns 1 when they
 * are, 0 at EOF, -1 at the deadline.
 */
static int
dnsraw_read(int fd, unsigned char *buf, size_t len, long long deadline)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n;
		if (!dnsraw_wait(fd, deadline))
			return -1;
		n = recv(fd, buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;	/* EOF, or reset: closed either way */
		got += (size_t)n;
	}
	return 1;
}

/* Prints framed replies until the count, EOF or the deadline. */
static void
dnsraw_replies(int fd, long long deadline)
{
	static unsigned char reply[65536];
	int rc = 1;

	for (int i = 0; i < o.replies && rc == 1; i++) {
		unsigned char prefix[2];
		size_t len;
		if ((rc = dnsraw_read(fd, prefix, 2, deadline)) != 1)
			break;
		len = (size_t)(prefix[0] << 8 | prefix[1]);
		if ((rc = dnsraw_read(fd, reply, len, deadline)) == 1)
			dnsraw_print(reply, len);
	}
	if (rc == 1 && o.half_close)
		rc = dnsraw_read(fd, reply, 1, deadline) == 0 ? 0 : -1;
	if (rc != 1)
		printf("%s\n", rc == 0 ? "eof" : "timeout");
}

static int
dnsraw_tcp(int port, char **hex, int count)
{
	static unsigned char buf[DNSRAW_MAX];
	size_t len = 0;
	int fd;

	for (int i = 0; i < count; i++) {
		size_t start = len;
		if (o.frame)
			len += 2;
		if (!dnsraw_unhex(hex[i], buf, &len))
			usage();
		if (o.frame) {
			size_t n = len - start - 2;
			buf[start] = (unsigned char)(n >> 8);
			buf[start + 1] = (unsigned char)n;
		}
	}
	fd = dnsraw_connect(port, SOCK_STREAM);
	if (!dnsraw_write(fd, buf, len)) {
		/* A server that closed on us: its verdict is the result. */
		printf("eof\n");
		return 0;
	}
	if (o.half_close)
		shutdown(fd, SHUT_WR);
	dnsraw_replies(fd, now_ms() + o.timeout_ms);
	close(fd);
	return 0;
}

static int
dnsraw_idle(int port)
{
	long long start = now_ms();
	int fd = dnsraw_connect(port, SOCK_STREAM);
	unsigned char byte;

	if (dnsraw_read(fd, &byte, 1, start + o.timeout_ms) == 0)
		printf("eof after %lld ms\n", now_ms() - start);
	else
		printf("timeout\n");
	close(fd);
	return 0;
}

/* Where the question of a query ends: its name (no pointers), type and
 * class; 0 if it has none. */
static size_t
dnsraw_question_end(const unsigned char *msg, size_t len)
{
	size_t off = 12;

	while (off < len && msg[off] != 0 && msg[off] < 64)
		off += 1 + msg[off];
	return off < len && msg[off] == 0 && off + 5 <= len ? off + 5 : 0;
}

/* Answers queries with the answers for their questions; see the top. */
static int
dnsraw_serve(char **hex, int count)
{
	static unsigned char buf[DNSRAW_MAX], query[65536];
	size_t *start = calloc((size_t)count + 1, sizeof(*start)), len = 0;
	struct sockaddr_storage ss;
	socklen_t sslen = dnsraw_address(0, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	for (int i = 0; start != NULL && i < count; i++) {
		if (!dnsraw_unhex(hex[i], buf, &len))
			usage();
		start[i + 1] = len;
	}
	if (start == NULL || fd < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sslen) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
		perror("dnsraw: serve");
		return 1;
	}
	printf("%u\n", ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port));
	fflush(stdout);
	while (dnsraw_wait(fd, now_ms() + o.timeout_ms)) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, query, sizeof(query), 0,
		    (struct sockaddr *)&from, &fromlen);
		size_t qend = n > 0 ? dnsraw_question_end(query, (size_t)n) : 0;
		for (int i = 0; qend > 0 && i < count; i++) {
			unsigned char *a = buf + start[i];
			size_t alen = start[i + 1] - start[i];
			if (alen < qend ||
			    memcmp(a + 12, query + 12, qend - 12) != 0)
				continue;
			memcpy(a, query, 2);
			sendto(fd, a, alen, 0, (struct sockaddr *)&from,
			    fromlen);
			break;
		}
	}
	free(start);
	return 0;
}

int
main(int argc, char **argv)
{
	int ch, port;

	while ((ch = getopt(argc, argv, "6b:fhin:StT:")) != -1) {
		switch (ch) {
		case '6': o.v6 = true; break;
		case 'b': o.byte_ms = atoi(optarg); break;
		case 'f': o.frame = true; break;
		case 'h': o.half_close = true; break;
		case 'i': o.idle = true; break;
		case 'n': o.replies = atoi(optarg); break;
		case 'S': o.serve = true; break;
		case 't': o.tcp = true; break;
		case 'T': o.timeout_ms = atoi(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (o.serve)
		return dnsraw_serve(argv, argc);
	if (argc < 1 || (port = atoi(argv[0])) <= 0 || port > 65535 ||
	    (o.idle && !o.tcp))
		usage();
	if (o.idle)
		return dnsraw_idle(port);
	if (o.tcp)
		return dnsraw_tcp(port, argv + 1, argc - 1);
	return dnsraw_udp(port, argv + 1, argc - 1);
}
