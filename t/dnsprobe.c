/*
 * dnsprobe.c - a DNS client for what dig cannot do in the miodnsd tests:
 * exact bytes, malformed queries, pipelining, floods, idle connections.
 * Everything goes to 127.0.0.1 (or ::1 with -6) on the given port.
 *
 *   dnsprobe [-t] [-e size] [-D] [-i id] PORT NAME [TYPE]
 *       one query; prints a summary such as
 *       "rcode=NOERROR id=ok question=ok qd=1 an=1 ns=0 ar=1 aa=1 tc=0
 *        edns=1232 len=64"
 *   dnsprobe -C PORT2 [-t] [-e size] PORT NAME [TYPE]
 *       the same query to both ports; "same" if the answers are equal but
 *       for the ID, the AA bit (which miodnsd clears) and the RA bit
 *       (which says what miodnsd offers), else where they differ
 *   dnsprobe -R HEX [-t] PORT
 *       sends the bytes given in hex; prints the summary or "no answer"
 *   dnsprobe -p [-e size] PORT NAME...
 *       one TCP connection, every query written at once; prints the names
 *       in the order their answers came. A name written "@MS/name" is
 *       written MS milliseconds after the one before it.
 *   dnsprobe -f COUNT PORT
 *       COUNT UDP queries for q<i>.load.example.test, paced in bursts;
 *       prints "sent N answered N wrong N duplicate N"; with -w N, keeps
 *       N queries outstanding instead (a new one for each answer)
 *   dnsprobe -S COUNT PORT NAME [TYPE]
 *       COUNT identical UDP queries for NAME (IDs 0 to COUNT-1) from one
 *       socket, all at once; prints "sent N noerror N servfail N refused
 *       N truncated N other N none N" (truncated: TC set, whatever the
 *       RCODE; none: no answer within -T)
 *   dnsprobe -I PORT
 *       an idle TCP connection; prints how many ms the server kept it
 *   dnsprobe -H COUNT PORT [NAME]
 *       COUNT idle TCP connections (non-blocking connects, so a full
 *       accept queue does not stall the rest), held for -T ms or until
 *       killed; prints "open N" once they are made. With NAME, each
 *       connection that is up sends one query for it (busy, not idle)
 *   dnsprobe -F COUNT -U UPORT PORT NAME
 *       COUNT forged answers for NAME (A 203.0.113.66, random IDs) from a
 *       raw socket, claiming to come from 127.0.0.1 port UPORT, sent to
 *       127.0.0.1 at random ports from 1024 up, or at PORT if it is not 0;
 *       prints "forged N"; exits 77 without the right to raw sockets
 *   dnsprobe -c COUNT PORT
 *       COUNT TCP connections at once, each sending one query; prints
 *       "answered N closed N"
 *   dnsprobe -z COUNT PORT
 *       COUNT mangled queries over UDP and a share of them over TCP
 *       (bytes flipped, cut short, lengths that lie); prints "sent N"
 *
 * -a ADDR sends to that IPv4 address instead of 127.0.0.1, -b ADDR sends
 * from it (for the access-control tests in a network namespace).
 * -s writes TCP messages one byte at a time, 1 ms apart. -E prints how
 * many ms a single query's exchange took on stderr.
 * -T ms sets how long to wait for answers (default 3000). Exit status 0
 * when the probe ran, 1 when something failed (no answer counts as a
 * result, printed, not a failure), 2 for usage errors.
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

struct opts {
	bool tcp, do_bit, v6, split;
	int fuzz;
	int edns;		/* 0: no OPT */
	int id;
	int timeout_ms;
	int compare_port;
	const char *raw;
	bool pipeline, idle;
	bool elapsed;		/* -E: the exchange's time on stderr */
	int flood, conns, same, window, hold, forge, forge_from;
	const char *server, *source;	/* -a, -b: IPv4 addresses */
};

static struct opts o = { .id = 0x4242, .timeout_ms = 3000 };

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
type_code(const char *t)
{
	static const struct { const char *name; int code; } types[] = {
		{ "A", 1 }, { "NS", 2 }, { "SOA", 6 }, { "MX", 15 },
		{ "TXT", 16 }, { "AAAA", 28 }, { "OPT", 41 }, { "AXFR", 252 },
		{ "ANY", 255 },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcasecmp(t, types[i].name) == 0)
			return types[i].code;
	}
	return atoi(t);
}

static size_t
make_query(unsigned char *buf, const char *name, int type, int id)
{
	size_t len = 12;

	memset(buf, 0, 12);
	buf[0] = (unsigned char)(id >> 8);
	buf[1] = (unsigned char)id;
	buf[2] = 0x01;
	buf[5] = 1;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		buf[len++] = (unsigned char)n;
		memcpy(buf + len, name, n);
		len += n;
		name += n + (dot ? 1 : 0);
	}
	buf[len++] = 0;
	buf[len++] = (unsigned char)(type >> 8);
	buf[len++] = (unsigned char)type;
	buf[len++] = 0;
	buf[len++] = 1;
	if (o.edns > 0) {
		unsigned char opt[11] = { 0, 0, 41 };
		opt[3] = (unsigned char)(o.edns >> 8);
		opt[4] = (unsigned char)o.edns;
		opt[7] = o.do_bit ? 0x80 : 0;
		memcpy(buf + len, opt, sizeof(opt));
		len += sizeof(opt);
		buf[11] = 1;
	}
	return len;
}

/* -b: the source address, any port. */
static void
bind_source(int fd)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET };

	if (inet_pton(AF_INET, o.source, &s4.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&s4, sizeof(s4)) != 0) {
		perror("dnsprobe: -b");
		exit(1);
	}
}

static int
connect_to(int port, int type)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (o.v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
		if (o.server != NULL &&
		    inet_pton(AF_INET, o.server, &s4->sin_addr) != 1) {
			fprintf(stderr, "dnsprobe: -a %s: not IPv4\n", o.server);
			exit(2);
		}
	}
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd >= 0 && o.source != NULL)
		bind_source(fd);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) != 0) {
		perror("dnsprobe: connect");
		exit(1);
	}
	return fd;
}

/* The length in a TCP message's two-byte prefix. */
static size_t
msg_len(const unsigned char *hdr)
{
	return (size_t)(hdr[0] << 8 | hdr[1]);
}

/* Waits up to the deadline for fd to become readable. */
static bool
wait_readable(int fd, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long left = deadline - now_ms();

	return left > 0 && poll(&pfd, 1, (int)left) == 1;
}

static bool
read_full(int fd, unsigned char *buf, size_t len, long long deadline)
{
	size_t got = 0;

	while (got < len) {
		if (!wait_readable(fd, deadline))
			return false;
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* Writes all of buf, a byte at a time with -s. */
static bool
write_msg(int fd, const unsigned char *buf, size_t len)
{
	if (!o.split)
		return write(fd, buf, len) == (ssize_t)len;
	for (size_t i = 0; i < len; i++) {
		struct timespec ms = { 0, 1000000 };
		if (write(fd, buf + i, 1) != 1)
			return false;
		nanosleep(&ms, NULL);
	}
	return true;
}

/* One exchange; returns the answer length or -1 for no answer. */
static int
exchange(int port, const unsigned char *q, size_t qlen, unsigned char *ans)
{
	long long deadline = now_ms() + o.timeout_ms;
	int fd = connect_to(port, o.tcp ? SOCK_STREAM : SOCK_DGRAM);
	int len = -1;

	if (o.tcp) {
		unsigned char hdr[2] = { (unsigned char)(qlen >> 8),
			(unsigned char)qlen };
		if (write_msg(fd, hdr, 2) && write_msg(fd, q, qlen) &&
		    read_full(fd, hdr, 2, deadline) &&
		    read_full(fd, ans, msg_len(hdr), deadline))
			len = hdr[0] << 8 | hdr[1];
	} else if (send(fd, q, qlen, 0) == (ssize_t)qlen &&
	    wait_readable(fd, deadline)) {
		ssize_t n = recv(fd, ans, 65536, 0);
		len = n < 0 ? -1 : (int)n;
	}
	close(fd);
	return len;
}

static const char *
rcode_name(int rcode)
{
	static const char *names[] = { "NOERROR", "FORMERR", "SERVFAIL",
		"NXDOMAIN", "NOTIMP", "REFUSED" };
	static char buf[16];

	if (rcode >= 0 && rcode < 6)
		return names[rcode];
	snprintf(buf, sizeof(buf), "RCODE%d", rcode);
	return buf;
}

/* The size and extended RCODE bits of the answer's OPT, if any. */
static int
find_opt(const unsigned char *a, int len, int *ext)
{
	int off = 12;
	int counts = (a[4] << 8 | a[5]);

	for (int i = 0; i < counts; i++) {
		while (off < len && a[off] != 0)
			off += a[off] + 1;
		off += 5;
	}
	counts = (a[6] << 8 | a[7]) + (a[8] << 8 | a[9]) + (a[10] << 8 | a[11]);
	for (int i = 0; i < counts && off < len; i++) {
		while (off < len && a[off] != 0 && (a[off] & 0xc0) != 0xc0)
			off += a[off] + 1;
		off += (off < len && (a[off] & 0xc0) == 0xc0) ? 2 : 1;
		if (off + 10 > len)
			return 0;
		int type = a[off] << 8 | a[off + 1];
		int rdlen = a[off + 8] << 8 | a[off + 9];
		if (type == 41) {
			*ext = a[off + 4];
			return a[off + 2] << 8 | a[off + 3];
		}
		off += 10 + rdlen;
	}
	return 0;
}

static void
summarize(const unsigned char *q, size_t qlen, const unsigned char *a, int len)
{
	int ext = 0, edns;
	size_t qsec;
	bool question_ok;

	if (len < 0) {
		printf("no answer\n");
		return;
	}
	if (len < 12) {
		printf("short answer len=%d\n", len);
		return;
	}
	for (qsec = 12; qsec < qlen && q[qsec] != 0; qsec += q[qsec] + 1)
		;
	qsec += 5;
	question_ok = (a[4] << 8 | a[5]) == 1 && qlen >= qsec &&
	    (size_t)len >= qsec && memcmp(a + 12, q + 12, qsec - 12) == 0;
	edns = find_opt(a, len, &ext);
	printf("rcode=%s id=%s question=%s qd=%d an=%d ns=%d ar=%d aa=%d tc=%d "
	    "edns=%d len=%d\n", rcode_name((a[3] & 0xf) | ext << 4),
	    memcmp(a, q, 2) == 0 ? "ok" : "wrong",
	    question_ok ? "ok" : "wrong", a[4] << 8 | a[5], a[6] << 8 | a[7],
	    a[8] << 8 | a[9], a[10] << 8 | a[11], (a[2] >> 2) & 1,
	    (a[2] >> 1) & 1, edns, len);
}

static size_t
parse_hex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = 0;

	while (hex[0] && hex[1] && n < cap) {
		if (isspace((unsigned char)*hex)) {
			hex++;
			continue;
		}
		unsigned v;
		if (sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (unsigned char)v;
		hex += 2;
	}
	return n;
}

static int
mode_compare(int port, const unsigned char *q, size_t qlen)
{
	static unsigned char a[65536], b[65536];
	int la = exchange(port, q, qlen, a);
	int lb = exchange(o.compare_port, q, qlen, b);

	if (la < 12 || lb < 12) {
		printf("no answer (%d, %d)\n", la, lb);
		return 0;
	}
	if (la != lb) {
		printf("differ in length: %d vs %d\n", la, lb);
		return 0;
	}
	/* A forwarder clears AA: the upstream is the authority, not us. RA
	 * is the forwarder's own offer of recursion, not the upstream's. */
	a[2] &= ~0x04;
	b[2] &= ~0x04;
	a[3] &= ~0x80;
	b[3] &= ~0x80;
	for (int i = 2; i < la; i++) {
		if (a[i] != b[i]) {
			printf("differ at offset %d: %02x vs %02x\n", i, a[i],
			    b[i]);
			return 0;
		}
	}
	printf("same len=%d\n", la);
	return 0;
}

/* Writes every query on one connection (at once unless "@MS/" says to
 * wait), then reads the answers and prints their names in order. */
static int
mode_pipeline(int port, char **names, int n)
{
	static unsigned char buf[65536 + 2];
	int fd = connect_to(port, SOCK_STREAM);
	long long deadline;

	for (int i = 0; i < n; i++) {
		char *slash = strchr(names[i], '/');
		if (names[i][0] == '@' && slash != NULL) {
			long ms = atol(names[i] + 1);
			struct timespec t = { ms / 1000,
				(ms % 1000) * 1000000 };
			nanosleep(&t, NULL);
			names[i] = slash + 1;
		}
		size_t qlen = make_query(buf + 2, names[i], 1, 1000 + i);
		buf[0] = (unsigned char)(qlen >> 8);
		buf[1] = (unsigned char)qlen;
		if (!write_msg(fd, buf, qlen + 2))
			return 1;
	}
	deadline = now_ms() + o.timeout_ms;
	for (int i = 0; i < n; i++) {
		unsigned char hdr[2];
		if (!read_full(fd, hdr, 2, deadline) ||
		    !read_full(fd, buf, msg_len(hdr), deadline)) {
			printf("timeout\n");
			return 0;
		}
		int id = (buf[0] << 8 | buf[1]) - 1000;
		printf("%s%s", id >= 0 && id < n ? names[id] : "?",
		    i + 1 < n ? " " : "\n");
	}
	close(fd);
	return 0;
}

/* Sends COUNT queries in bursts of 50, reading answers in between. */
static void
flood_send(int fd, int i)
{
	unsigned char q[512];
	char name[64];
	size_t qlen;

	snprintf(name, sizeof(name), "q%d.load.example.test", i);
	qlen = make_query(q, name, 1, i);
	if (send(fd, q, qlen, 0) != (ssize_t)qlen)
		perror("dnsprobe: send");
}

static int
mode_flood(int port)
{
	static unsigned char seen[65536];
	unsigned char q[512], a[65536];
	int fd = connect_to(port, SOCK_DGRAM), size = 4 << 20;
	int sent = 0, answered = 0, wrong = 0, dup = 0;
	long long deadline;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	while (o.window == 0 && sent < o.flood) {
		for (int k = 0; k < 50 && sent < o.flood; k++, sent++) {
			char name[64];
			snprintf(name, sizeof(name), "q%d.load.example.test",
			    sent);
			size_t qlen = make_query(q, name, 1, sent);
			if (send(fd, q, qlen, 0) != (ssize_t)qlen)
				perror("dnsprobe: send");
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		poll(&pfd, 1, 2);
	}
	deadline = now_ms() + o.timeout_ms;
	for (; o.window > 0 && sent < o.window && sent < o.flood; sent++)
		flood_send(fd, sent);
	while (answered + wrong + dup < sent && wait_readable(fd, deadline)) {
		ssize_t n;
		while ((n = recv(fd, a, sizeof(a), MSG_DONTWAIT)) > 0) {
			if (o.window > 0 && sent < o.flood)
				flood_send(fd, sent++);
			int id = a[0] << 8 | a[1];
			char name[64];
			snprintf(name, sizeof(name), "q%d.load.example.test",
			    id);
			size_t qlen = make_query(q, name, 1, id);
			size_t qsec = qlen - 12 - (o.edns ? 11 : 0);
			if (n < (ssize_t)qlen || id >= sent ||
			    memcmp(a + 12, q + 12, qsec) ||
			    (a[3] & 0xf) != 0 || (a[6] << 8 | a[7]) != 1)
				wrong++;
			else if (seen[id]++)
				dup++;
			else
				answered++;
		}
	}
	printf("sent %d answered %d wrong %d duplicate %d\n", sent, answered,
	    wrong, dup);
	return 0;
}

/* The outcome of one answer of mode_same(), counted into n[]. */
enum { SAME_NOERROR, SAME_SERVFAIL, SAME_REFUSED, SAME_TC, SAME_OTHER };

static int
same_outcome(const unsigned char *a)
{
	if (a[2] & 0x02)
		return SAME_TC;
	switch (a[3] & 0xf) {
	case 0: return SAME_NOERROR;
	case 2: return SAME_SERVFAIL;
	case 5: return SAME_REFUSED;
	default: return SAME_OTHER;
	}
}

static int
mode_same(int port, const char *name, int type)
{
	static unsigned char seen[65536];
	unsigned char q[512], a[65536];
	int fd = connect_to(port, SOCK_DGRAM), size = 4 << 20;
	int n[5] = { 0 }, got = 0;
	long long deadline;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	for (int i = 0; i < o.same; i++) {
		size_t qlen = make_query(q, name, type, i);
		if (send(fd, q, qlen, 0) != (ssize_t)qlen)
			perror("dnsprobe: send");
	}
	deadline = now_ms() + o.timeout_ms;
	while (got < o.same && wait_readable(fd, deadline)) {
		ssize_t len;
		while ((len = recv(fd, a, sizeof(a), MSG_DONTWAIT)) >= 12) {
			int id = a[0] << 8 | a[1];
			if (id >= o.same || seen[id]++) {
				n[SAME_OTHER]++;
				continue;
			}
			got++;
			n[same_outcome(a)]++;
		}
	}
	printf("sent %d noerror %d servfail %d refused %d truncated %d "
	    "other %d none %d\n", o.same, n[SAME_NOERROR], n[SAME_SERVFAIL],
	    n[SAME_REFUSED], n[SAME_TC], n[SAME_OTHER], o.same - got);
	return 0;
}

/* One forged answer for name: the query's header and question with QR,
 * RD and RA, and one A record 203.0.113.66 pointing at the question. */
static size_t
forge_answer(unsigned char *buf, const char *name, int id)
{
	static const unsigned char rr[16] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 1,
		0x2c, 0, 4, 203, 0, 113, 66 };
	size_t len = make_query(buf, name, 1, id);

	buf[2] = 0x81;
	buf[3] = 0x80;
	buf[7] = 1;
	memcpy(buf + len, rr, sizeof(rr));
	return len + sizeof(rr);
}

static int
mode_forge(int port, const char *name)
{
	unsigned char pkt[600];
	struct sockaddr_in to = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW), sent = 0;
	unsigned seed = (unsigned)now_ms();

	if (fd < 0) {
		perror("dnsprobe: raw socket");
		return 77;
	}
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < o.forge; i++) {
		uint16_t dport = port != 0 ? (uint16_t)port :
		    (uint16_t)(1024 + rand_r(&seed) % 64512);
		size_t dlen = forge_answer(pkt + 28, name, rand_r(&seed) & 0xffff);
		size_t total = 28 + dlen;

		/* IPv4 header (the kernel fills in its ID and checksum), then
		 * UDP without a checksum, which IPv4 allows. */
		memset(pkt, 0, 28);
		pkt[0] = 0x45;
		pkt[2] = (unsigned char)(total >> 8);
		pkt[3] = (unsigned char)total;
		pkt[8] = 64;
		pkt[9] = IPPROTO_UDP;
		memcpy(pkt + 12, &to.sin_addr, 4);
		memcpy(pkt + 16, &to.sin_addr, 4);
		pkt[20] = (unsigned char)(o.forge_from >> 8);
		pkt[21] = (unsigned char)o.forge_from;
		pkt[22] = (unsigned char)(dport >> 8);
		pkt[23] = (unsigned char)dport;
		pkt[24] = (unsigned char)((8 + dlen) >> 8);
		pkt[25] = (unsigned char)(8 + dlen);
		if (sendto(fd, pkt, total, 0, (struct sockaddr *)&to,
		    sizeof(to)) == (ssize_t)total)
			sent++;
	}
	close(fd);
	printf("forged %d\n", sent);
	return 0;
}

static int
mode_idle(int port)
{
	int fd = connect_to(port, SOCK_STREAM);
	long long start = now_ms();
	char c;

	if (wait_readable(fd, start + o.timeout_ms) && read(fd, &c, 1) == 0)
		printf("closed after %lld ms\n", now_ms() - start);
	else
		printf("still open after %lld ms\n", now_ms() - start);
	return 0;
}

/* Opens COUNT connections before sending anything, then one query each. */
/* Writes one query for name on fd if its connect has completed. */
static void
hold_query(int fd, const char *name)
{
	unsigned char q[512];
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	size_t qlen = make_query(q + 2, name, 1, 9);

	q[0] = (unsigned char)(qlen >> 8);
	q[1] = (unsigned char)qlen;
	if (poll(&pfd, 1, 10) == 1 && (pfd.revents & POLLOUT))
		(void)write(fd, q, qlen + 2);
}

static int
mode_hold(int port, const char *name)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port) };
	int *fds = calloc((size_t)o.hold, sizeof(int));
	int open_ = 0;

	s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; fds != NULL && i < o.hold; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fds[i] >= 0 && (connect(fds[i], (struct sockaddr *)&s4,
		    sizeof(s4)) == 0 || errno == EINPROGRESS)) {
			open_++;
			if (name != NULL)
				hold_query(fds[i], name);
		}
	}
	printf("open %d\n", open_);
	fflush(stdout);
	poll(NULL, 0, o.timeout_ms);
	for (int i = 0; fds != NULL && i < o.hold; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}

static int
mode_conns(int port)
{
	int *fds = calloc((size_t)o.conns, sizeof(int));
	unsigned char q[512], hdr[2], a[65536];
	int answered = 0, closed = 0;
	size_t qlen = make_query(q + 2, "a.example.test", 1, 7);

	q[0] = (unsigned char)(qlen >> 8);
	q[1] = (unsigned char)qlen;
	for (int i = 0; i < o.conns; i++)
		fds[i] = connect_to(port, SOCK_STREAM);
	for (int i = 0; i < o.conns; i++) {
		long long deadline = now_ms() + o.timeout_ms;
		if (write(fds[i], q, qlen + 2) == (ssize_t)(qlen + 2) &&
		    read_full(fds[i], hdr, 2, deadline) &&
		    read_full(fds[i], a, msg_len(hdr), deadline))
			answered++;
		else
			closed++;
	}
	for (int i = 0; i < o.conns; i++)
		close(fds[i]);
	free(fds);
	printf("answered %d closed %d\n", answered, closed);
	return 0;
}

/* A valid query, then damage: flipped bits, a cut, or random bytes. */
static size_t
fuzz_message(unsigned char *buf, unsigned *seed)
{
	static const char *names[] = { "a.example.test", "big.example.test",
		"q1.load.example.test", "nx.example.test" };
	size_t len;

	o.edns = rand_r(seed) % 2 ? 1232 : 0;
	o.do_bit = rand_r(seed) % 2;
	len = make_query(buf, names[rand_r(seed) % 4], 1 + rand_r(seed) % 30,
	    rand_r(seed) & 0xffff);
	switch (rand_r(seed) % 4) {
	case 0:
		for (int k = 1 + rand_r(seed) % 4; k > 0; k--)
			buf[rand_r(seed) % len] ^=
			    (unsigned char)(1 << rand_r(seed) % 8);
		break;
	case 1:
		len = (size_t)rand_r(seed) % len;
		break;
	case 2:
		for (size_t i = 2; i < len; i++)
			buf[i] = (unsigned char)rand_r(seed);
		break;
	default:
		buf[4 + rand_r(seed) % 8] = (unsigned char)rand_r(seed);
		buf[2] &= 0x7f;
		break;
	}
	return len;
}

/* Mangled queries: over UDP, and every tenth on a TCP connection whose
 * length prefix may lie (then the connection is dropped). */
static int
mode_fuzz(int port)
{
	unsigned char buf[600], junk[65536];
	unsigned seed = 12345;
	int fd = connect_to(port, SOCK_DGRAM);

	for (int i = 0; i < o.fuzz; i++) {
		size_t len = fuzz_message(buf + 2, &seed);
		if (i % 10 == 0) {
			int tfd = connect_to(port, SOCK_STREAM);
			size_t claim = len;
			if (rand_r(&seed) % 3 == 0)
				claim = (size_t)rand_r(&seed) % 600;
			buf[0] = (unsigned char)(claim >> 8);
			buf[1] = (unsigned char)claim;
			if (write(tfd, buf, len + 2) < 0)
				perror("dnsprobe: write");
			close(tfd);
		}
		if (send(fd, buf + 2, len, 0) < 0 && errno != ECONNREFUSED)
			perror("dnsprobe: send");
		while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
		if (i % 50 == 0) {
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
		}
	}
	close(fd);
	printf("sent %d\n", o.fuzz);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: dnsprobe [-6tDE] [-e size] [-i id] [-T ms] "
	    "[-a addr] [-b addr]\n                "
	    "[-C port2 | -R hex | -p | -f count | -S count | -I | -c count | "
	    "-z count] port "
	    "[name [type]]...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static unsigned char q[65536], a[65536];
	size_t qlen;
	int ch, port;

	while ((ch = getopt(argc, argv, "6a:b:C:c:DEe:F:f:H:Ii:pR:S:sT:tU:w:z:")) !=
	    -1) {
		switch (ch) {
		case 'w': o.window = atoi(optarg); break;
		case 'a': o.server = optarg; break;
		case 'b': o.source = optarg; break;
		case 'S': o.same = atoi(optarg); break;
		case 'H': o.hold = atoi(optarg); break;
		case 'F': o.forge = atoi(optarg); break;
		case 'U': o.forge_from = atoi(optarg); break;
		case '6': o.v6 = true; break;
		case 'C': o.compare_port = atoi(optarg); break;
		case 'c': o.conns = atoi(optarg); break;
		case 'D': o.do_bit = true; break;
		case 'E': o.elapsed = true; break;
		case 'e': o.edns = atoi(optarg); break;
		case 'f': o.flood = atoi(optarg); break;
		case 'I': o.idle = true; break;
		case 'i': o.id = (int)strtol(optarg, NULL, 0); break;
		case 'p': o.pipeline = true; break;
		case 'R': o.raw = optarg; break;
		case 's': o.split = true; break;
		case 'z': o.fuzz = atoi(optarg); break;
		case 'T': o.timeout_ms = atoi(optarg); break;
		case 't': o.tcp = true; break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	port = atoi(argv[optind++]);
	if (o.pipeline)
		return mode_pipeline(port, argv + optind, argc - optind);
	if (o.flood > 0)
		return mode_flood(port);
	if (o.idle)
		return mode_idle(port);
	if (o.conns > 0)
		return mode_conns(port);
	if (o.forge > 0 && optind < argc)
		return mode_forge(port, argv[optind]);
	if (o.hold > 0)
		return mode_hold(port, optind < argc ? argv[optind] : NULL);
	if (o.fuzz > 0)
		return mode_fuzz(port);
	if (o.raw != NULL) {
		qlen = parse_hex(o.raw, q, sizeof(q));
		summarize(q, qlen, a, exchange(port, q, qlen, a));
		return 0;
	}
	if (optind >= argc)
		usage();
	qlen = make_query(q, argv[optind],
	    optind + 1 < argc ? type_code(argv[optind + 1]) : 1, o.id);
	if (o.compare_port > 0)
		return mode_compare(port, q, qlen);
	if (o.same > 0)
		return mode_same(port, argv[optind], optind + 1 < argc ?
		    type_code(argv[optind + 1]) : 1);
	long long start = now_ms();
	int len = exchange(port, q, qlen, a);
	/* Timed here, so that a loaded machine's slow start of this program
	 * does not count against the daemon. */
	if (o.elapsed)
		fprintf(stderr, "%lld\n", now_ms() - start);
	summarize(q, qlen, a, len);
	return 0;
}
