/*
 * echo.c - a TCP and UDP echo server on libmio alone, and a small client
 * for trying it.
 *
 *     echo ADDRESS PORT [ADDRESS PORT ...]
 *         Serves TCP and UDP echo on each numeric IPv4 or IPv6 address
 *         (port 0 picks a free port), prints one line per bound socket,
 *         "tcp 127.0.0.1 40123", then "ready", and runs until killed.
 *     echo -c tcp|udp ADDRESS PORT MESSAGE
 *         Sends MESSAGE to a server, prints what comes back, and exits 0
 *         if it was MESSAGE.
 *
 * The server shows the edge-triggered discipline: every handle is
 * registered once, and after each event the handler works until the
 * operation returns -EAGAIN. The client shows mio's connect protocol.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mio.h>

#define MAX_ADDRS 8
#define MAX_CONNS 64
/* Tokens: 2i is address i's listener, 2i+1 its UDP socket; connections
 * count from CONN_TOKEN. */
#define CONN_TOKEN 100

struct conn {
	mio_tcp_stream *stream; /* NULL while the slot is free */
	char buf[4096];
	size_t len; /* bytes in buf */
	size_t off; /* of which already echoed */
};

struct server {
	mio_poll *poll;
	mio_tcp_listener *listeners[MAX_ADDRS];
	mio_udp_socket *udp[MAX_ADDRS];
	int naddrs;
	struct conn conns[MAX_CONNS];
};

/* Parses a numeric IPv4 or IPv6 address and a port. */
static int
parse_addr(const char *host, const char *port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char *end;
	unsigned long p = strtoul(port, &end, 10);

	if (*port == '\0' || *end != '\0' || p > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)p);
		*len = sizeof(*in);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)p);
		*len = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* Prints "proto address port" for a bound socket. */
static void
print_bound(const char *proto, const struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN];
	const void *ip = ss->ss_family == AF_INET6
	    ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
	    : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
	unsigned port = ss->ss_family == AF_INET6
	    ? ntohs(((const struct sockaddr_in6 *)ss)->sin6_port)
	    : ntohs(((const struct sockaddr_in *)ss)->sin_port);

	inet_ntop(ss->ss_family, ip, host, sizeof(host));
	printf("%s %s %u\n", proto, host, port);
}

/* Binds and registers a listener and a UDP socket on one address. */
static int
serve_on(struct server *s, const char *host, const char *port)
{
	const mio_registry *reg = mio_poll_registry(s->poll);
	struct sockaddr_storage ss, bound;
	socklen_t len, boundlen = sizeof(bound);
	int i = s->naddrs, rc;

	if ((rc = parse_addr(host, port, &ss, &len)) != 0 ||
	    (rc = mio_tcp_listener_bind((struct sockaddr *)&ss, len,
		 &s->listeners[i])) != 0)
		return rc;
	s->naddrs++;
	mio_tcp_listener_local_addr(s->listeners[i],
	    (struct sockaddr *)&bound, &boundlen);
	print_bound("tcp", &bound);
	/* With port 0, UDP gets a free port of its own. */
	if ((rc = mio_udp_socket_bind((struct sockaddr *)&ss, len,
		 &s->udp[i])) != 0)
		return rc;
	boundlen = sizeof(bound);
	mio_udp_socket_local_addr(s->udp[i], (struct sockaddr *)&bound,
	    &boundlen);
	print_bound("udp", &bound);
	if ((rc = mio_registry_register(reg,
		 mio_tcp_listener_source(s->listeners[i]), (mio_token)(2 * i),
		 MIO_READABLE)) != 0)
		return rc;
	return mio_registry_register(reg, mio_udp_socket_source(s->udp[i]),
	    (mio_token)(2 * i + 1), MIO_READABLE);
}

/*
 * Echoes until the stream would block in both directions. Reading stops
 * while echoed data waits for room, so a slow reader cannot make the
 * server buffer without bound; the writable event resumes the loop.
 * Returns false when the connection is over.
 */
static bool
conn_pump(struct conn *c)
{
	for (;;) {
		while (c->off < c->len) {
			ssize_t n = mio_tcp_stream_write(c->stream,
			    c->buf + c->off, c->len - c->off);
			if (n == -EAGAIN)
				return true;
			if (n < 0)
				return false;
			c->off += (size_t)n;
		}
		c->off = c->len = 0;
		ssize_t n = mio_tcp_stream_read(c->stream, c->buf,
		    sizeof(c->buf));
		if (n == -EAGAIN)
			return true;
		if (n <= 0)
			return false; /* end of stream or error */
		c->len = (size_t)n;
	}
}

/*
 * Deregisters, then closes. Closing alone would end the registration on
 * epoll and a native kqueue, but libkqueue (kqueue on Linux) would keep
 * stale state for the descriptor number and miss the next socket to get
 * it; mio.h's rule is to deregister first.
 */
static void
conn_close(struct server *s, struct conn *c)
{
	mio_registry_deregister(mio_poll_registry(s->poll),
	    mio_tcp_stream_source(c->stream));
	mio_tcp_stream_free(c->stream);
	c->stream = NULL;
}

/* Accepts until -EAGAIN; each connection is registered once for both. */
static void
accept_all(struct server *s, mio_tcp_listener *listener)
{
	for (;;) {
		mio_tcp_stream *stream;
		int rc = mio_tcp_listener_accept(listener, &stream, NULL, NULL);
		if (rc == -EAGAIN)
			return;
		if (rc == -ECONNABORTED || rc == -EINTR)
			continue;
		if (rc != 0) {
			/* Out of descriptors, say. The connections left
			 * pending are accepted at the next one's event. */
			fprintf(stderr, "accept: %s\n", mio_strerror(rc));
			return;
		}
		int i = 0;
		while (i < MAX_CONNS && s->conns[i].stream != NULL)
			i++;
		if (i == MAX_CONNS ||
		    mio_registry_register(mio_poll_registry(s->poll),
			mio_tcp_stream_source(stream), CONN_TOKEN + i,
			MIO_READABLE | MIO_WRITABLE) != 0) {
			mio_tcp_stream_free(stream); /* full: refuse */
			continue;
		}
		s->conns[i].stream = stream;
		s->conns[i].len = s->conns[i].off = 0;
	}
}

/* Echoes every queued datagram. A reply that finds the send buffer full
 * is dropped: UDP never promised delivery. */
static void
udp_echo_all(mio_udp_socket *sock)
{
	static char buf[65536];
	struct sockaddr_storage from;

	for (;;) {
		socklen_t fromlen = sizeof(from);
		ssize_t n = mio_udp_socket_recv_from(sock, buf, sizeof(buf),
		    (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return; /* -EAGAIN: drained */
		mio_udp_socket_send_to(sock, buf, (size_t)n,
		    (struct sockaddr *)&from, fromlen);
	}
}

static void
dispatch(struct server *s, const mio_event *ev)
{
	mio_token token = mio_event_token(ev);

	if (token >= CONN_TOKEN) {
		struct conn *c = &s->conns[token - CONN_TOKEN];
		if (c->stream != NULL && !conn_pump(c))
			conn_close(s, c);
	} else if (token % 2 == 0) {
		accept_all(s, s->listeners[token / 2]);
	} else {
		udp_echo_all(s->udp[token / 2]);
	}
}

static int
run_server(int argc, char **argv)
{
	static struct server s;
	mio_events *events;
	int rc;

	if (argc % 2 != 0 || argc / 2 > MAX_ADDRS) {
		fprintf(stderr, "echo: give 1 to %d ADDRESS PORT pairs\n",
		    MAX_ADDRS);
		return 2;
	}
	if ((rc = mio_poll_new(&s.poll)) != 0 ||
	    (rc = mio_events_new(&events, 256)) != 0) {
		fprintf(stderr, "echo: %s\n", mio_strerror(rc));
		return 1;
	}
	for (int i = 0; i < argc; i += 2) {
		if ((rc = serve_on(&s, argv[i], argv[i + 1])) != 0) {
			fprintf(stderr, "echo: %s port %s: %s\n", argv[i],
			    argv[i + 1], mio_strerror(rc));
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		rc = mio_poll_poll(s.poll, events, NULL);
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "echo: poll: %s\n", mio_strerror(rc));
			return 1;
		}
		MIO_EVENTS_FOREACH(ev, events)
			dispatch(&s, ev);
	}
}

/* Waits up to 2 s for an event of the client's one source. */
static int
client_wait(mio_poll *poll, mio_events *events)
{
	struct timespec timeout = { .tv_sec = 2 };
	int n = mio_poll_poll(poll, events, &timeout);

	return n == 0 ? -ETIMEDOUT : n < 0 ? n : 0;
}

/*
 * mio's connect protocol: writable, then take_error, then peer_addr. A
 * write-closed event with no peer is a failure too: libkqueue consumes
 * the socket's error before take_error can see it.
 */
static int
tcp_connected(mio_poll *poll, mio_events *events, mio_tcp_stream *stream)
{
	struct sockaddr_storage peer;

	for (;;) {
		int rc = client_wait(poll, events);
		if (rc != 0)
			return rc;
		if ((rc = mio_tcp_stream_take_error(stream)) != 0)
			return rc;
		socklen_t len = sizeof(peer);
		rc = mio_tcp_stream_peer_addr(stream, (struct sockaddr *)&peer,
		    &len);
		if (rc != -ENOTCONN)
			return rc; /* 0: connected */
		MIO_EVENTS_FOREACH(ev, events) {
			if (mio_event_is_write_closed(ev))
				return -ENOTCONN; /* failed, cause unknown */
		}
	}
}

/* Writes msg, shuts down writing, and reads the echo until end of stream. */
static int
tcp_exchange(mio_poll *poll, mio_events *events, mio_tcp_stream *stream,
    const char *msg, char *reply, size_t cap, size_t *got)
{
	size_t len = strlen(msg), sent = 0;
	int rc = 0;

	while (sent < len && rc == 0) {
		ssize_t n = mio_tcp_stream_write(stream, msg + sent,
		    len - sent);
		if (n >= 0)
			sent += (size_t)n;
		rc = n == -EAGAIN ? client_wait(poll, events)
				  : n < 0 ? (int)n : 0;
	}
	if (rc == 0)
		rc = mio_tcp_stream_shutdown(stream, SHUT_WR);
	while (rc == 0) {
		ssize_t n = mio_tcp_stream_read(stream, reply + *got,
		    cap - *got);
		if (n == 0 || (n > 0 && (*got += (size_t)n) == cap))
			break;
		rc = n == -EAGAIN ? client_wait(poll, events)
				  : n < 0 ? (int)n : 0;
	}
	return rc;
}

static int
tcp_client(mio_poll *poll, mio_events *events,
    const struct sockaddr_storage *ss, socklen_t len, const char *msg,
    char *reply, size_t cap, size_t *got)
{
	mio_tcp_stream *stream;
	int rc = mio_tcp_stream_connect((const struct sockaddr *)ss, len,
	    &stream);

	if (rc != 0)
		return rc;
	rc = mio_registry_register(mio_poll_registry(poll),
	    mio_tcp_stream_source(stream), 1, MIO_READABLE | MIO_WRITABLE);
	if (rc == 0)
		rc = tcp_connected(poll, events, stream);
	if (rc == 0)
		rc = tcp_exchange(poll, events, stream, msg, reply, cap, got);
	mio_tcp_stream_free(stream);
	return rc;
}

/* The client's own address: port 0 on the server's address if that is a
 * loopback one, else the unspecified address of its family. */
static void
udp_local_addr(const struct sockaddr_storage *server,
    struct sockaddr_storage *local)
{
	*local = *server;
	if (local->ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)local;
		in6->sin6_port = 0;
		if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			in6->sin6_addr = in6addr_any;
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)local;
		in->sin_port = 0;
		if ((ntohl(in->sin_addr.s_addr) >> 24) != 127)
			in->sin_addr.s_addr = htonl(INADDR_ANY);
	}
}

/* Sends msg up to three times, since datagrams may be lost. */
static int
udp_client(mio_poll *poll, mio_events *events,
    const struct sockaddr_storage *ss, socklen_t len, const char *msg,
    char *reply, size_t cap, size_t *got)
{
	struct sockaddr_storage local;
	mio_udp_socket *sock;
	int rc;

	udp_local_addr(ss, &local);
	if ((rc = mio_udp_socket_bind((struct sockaddr *)&local, len,
		 &sock)) != 0)
		return rc;
	rc = mio_registry_register(mio_poll_registry(poll),
	    mio_udp_socket_source(sock), 1, MIO_READABLE);
	for (int attempt = 0; attempt < 3 && rc == 0; attempt++) {
		ssize_t n = mio_udp_socket_send_to(sock, msg, strlen(msg),
		    (const struct sockaddr *)ss, len);
		if (n < 0 || (rc = client_wait(poll, events)) == -ETIMEDOUT) {
			rc = n < 0 ? (int)n : 0;
			continue;
		}
		n = mio_udp_socket_recv_from(sock, reply, cap, NULL, NULL);
		if (n >= 0) {
			*got = (size_t)n;
			break;
		}
		rc = n == -EAGAIN ? 0 : (int)n;
	}
	mio_udp_socket_free(sock);
	return rc;
}

static int
run_client(const char *proto, const char *host, const char *port,
    const char *msg)
{
	static char reply[65536];
	struct sockaddr_storage ss;
	socklen_t len;
	mio_poll *poll;
	mio_events *events;
	size_t got = 0;
	int rc;

	if ((rc = parse_addr(host, port, &ss, &len)) != 0 ||
	    (rc = mio_poll_new(&poll)) != 0 ||
	    (rc = mio_events_new(&events, 8)) != 0) {
		fprintf(stderr, "echo: %s\n", mio_strerror(rc));
		return 2;
	}
	if (strcmp(proto, "tcp") == 0)
		rc = tcp_client(poll, events, &ss, len, msg, reply,
		    sizeof(reply), &got);
	else
		rc = udp_client(poll, events, &ss, len, msg, reply,
		    sizeof(reply), &got);
	mio_events_free(events);
	mio_poll_free(poll);
	if (rc != 0) {
		fprintf(stderr, "echo: %s: %s\n", proto, mio_strerror(rc));
		return 1;
	}
	printf("%.*s\n", (int)got, reply);
	return got == strlen(msg) && memcmp(reply, msg, got) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "-c") == 0 &&
	    (strcmp(argv[2], "tcp") == 0 || strcmp(argv[2], "udp") == 0))
		return run_client(argv[2], argv[3], argv[4], argv[5]);
	if (argc >= 3 && argv[1][0] != '-')
		return run_server(argc - 1, argv + 1);
	fprintf(stderr, "usage: echo ADDRESS PORT [ADDRESS PORT ...]\n"
			"       echo -c tcp|udp ADDRESS PORT MESSAGE\n");
	return 2;
}
