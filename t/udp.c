/*
 * t/udp.c - mio_udp_socket: unconnected and connected use over IPv4 and
 * IPv6, empty datagrams, peeking, the edge-triggered re-arm after EAGAIN,
 * options, multicast membership, and registration. Ported in spirit from
 * mio's tests/udp_socket.rs.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "netutil.h"

#define ID1 ((mio_token)1)
#define ID2 ((mio_token)2)
#define ID3 ((mio_token)3)

static const char DATA1[] = "Hello world!";
static const char DATA2[] = "Hello mars!";
#define DATA1_LEN (sizeof(DATA1) - 1)
#define DATA2_LEN (sizeof(DATA2) - 1)

struct pair {
	mio_poll *poll;
	mio_events *events;
	mio_udp_socket *s1, *s2;
	struct sockaddr_storage a1, a2;
	socklen_t l1, l2;
};

static void
pair_open(struct pair *p, int family)
{
	init_with_poll(&p->poll, &p->events);
	p->s1 = udp_socket_loopback(family, &p->a1, &p->l1);
	p->s2 = udp_socket_loopback(family, &p->a2, &p->l2);
}

static void
pair_register(struct pair *p, mio_interest i1, mio_interest i2)
{
	const mio_registry *reg = mio_poll_registry(p->poll);

	must(mio_registry_register(reg, mio_udp_socket_source(p->s1), ID1, i1),
	    "register s1");
	must(mio_registry_register(reg, mio_udp_socket_source(p->s2), ID2, i2),
	    "register s2");
}

static void
pair_close(struct pair *p)
{
	mio_udp_socket_free(p->s1);
	mio_udp_socket_free(p->s2);
	mio_events_free(p->events);
	free_poll(p->poll);
}

/* mio's empty_datagram: a zero-length datagram is readable and real. */
static void
empty_datagram(void)
{
	struct pair p;
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	char buf[8];

	pair_open(&p, AF_INET);
	pair_register(&p, MIO_WRITABLE, MIO_READABLE);
	expect_events(p.poll, p.events, { ID1, R_WRITABLE });
	is_int(mio_udp_socket_send_to(p.s1, "", 0, (struct sockaddr *)&p.a2,
		   p.l2),
	    0, "send an empty datagram");
	expect_events(p.poll, p.events, { ID2, R_READABLE });
	is_int(mio_udp_socket_recv_from(p.s2, buf, sizeof(buf),
		   (struct sockaddr *)&from, &fromlen),
	    0, "recv_from returns the empty datagram");
	ok(addr_equal(&from, &p.a1), "with the sender's address");
	is_errno(mio_udp_socket_recv(p.s2, buf, sizeof(buf)), -EAGAIN,
	    "and nothing else is queued");
	pair_close(&p);
}

/* mio's smoke_test_unconnected_udp_socket. */
static void
unconnected(int family, const char *name)
{
	struct pair p;
	struct sockaddr_storage from;
	socklen_t fromlen;
	char buf[32];

	pair_open(&p, family);
	int fd = mio_udp_socket_fd(p.s1);
	ok(fd_is_nonblocking(fd) && fd_is_cloexec(fd),
	    "%s: the socket is non-blocking and close-on-exec", name);
	pair_register(&p, MIO_READABLE | MIO_WRITABLE,
	    MIO_READABLE | MIO_WRITABLE);
	expect_events(p.poll, p.events, { ID1, R_WRITABLE },
	    { ID2, R_WRITABLE });
	is_int(mio_udp_socket_send_to(p.s1, DATA1, DATA1_LEN,
		   (struct sockaddr *)&p.a2, p.l2),
	    DATA1_LEN, "%s: s1 sends to s2", name);
	is_int(mio_udp_socket_send_to(p.s2, DATA2, DATA2_LEN,
		   (struct sockaddr *)&p.a1, p.l1),
	    DATA2_LEN, "%s: s2 sends to s1", name);
	expect_events(p.poll, p.events, { ID1, R_READABLE },
	    { ID2, R_READABLE });
	fromlen = sizeof(from);
	is_int(mio_udp_socket_peek_from(p.s1, buf, sizeof(buf),
		   (struct sockaddr *)&from, &fromlen),
	    DATA2_LEN, "%s: peek_from sees s2's datagram", name);
	ok(addr_equal(&from, &p.a2) && memcmp(buf, DATA2, DATA2_LEN) == 0,
	    "%s: with s2's address and data", name);
	fromlen = sizeof(from);
	memset(buf, 0, sizeof(buf));
	is_int(mio_udp_socket_recv_from(p.s1, buf, sizeof(buf),
		   (struct sockaddr *)&from, &fromlen),
	    DATA2_LEN, "%s: recv_from gets the same datagram", name);
	ok(addr_equal(&from, &p.a2) && memcmp(buf, DATA2, DATA2_LEN) == 0,
	    "%s: same address and data", name);
	is_int(mio_udp_socket_recv_from(p.s2, buf, sizeof(buf), NULL, NULL),
	    DATA1_LEN, "%s: s2 receives s1's datagram", name);
	is_errno(mio_udp_socket_recv_from(p.s1, buf, sizeof(buf), NULL, NULL),
	    -EAGAIN, "%s: then recv_from would block", name);
	is_errno(mio_udp_socket_take_error(p.s1), 0,
	    "%s: no error pending", name);
	pair_close(&p);
}

/* mio's smoke_test_connected_udp_socket. */
static void
connected(int family, const char *name)
{
	struct pair p;
	struct sockaddr_storage peer;
	socklen_t peerlen = sizeof(peer);
	char buf[32];

	pair_open(&p, family);
	is_errno(mio_udp_socket_peer_addr(p.s1, (struct sockaddr *)&peer,
		     &peerlen),
	    -ENOTCONN, "%s: an unconnected socket has no peer", name);
	is_errno(mio_udp_socket_connect(p.s1, (struct sockaddr *)&p.a2, p.l2),
	    0, "%s: connect s1 to s2", name);
	is_errno(mio_udp_socket_connect(p.s2, (struct sockaddr *)&p.a1, p.l1),
	    0, "%s: connect s2 to s1", name);
	peerlen = sizeof(peer);
	is_errno(mio_udp_socket_peer_addr(p.s1, (struct sockaddr *)&peer,
		     &peerlen),
	    0, "%s: peer_addr", name);
	ok(addr_equal(&peer, &p.a2), "%s: is s2", name);
	pair_register(&p, MIO_READABLE | MIO_WRITABLE,
	    MIO_READABLE | MIO_WRITABLE);
	expect_events(p.poll, p.events, { ID1, R_WRITABLE },
	    { ID2, R_WRITABLE });
	is_int(mio_udp_socket_send(p.s1, DATA1, DATA1_LEN), DATA1_LEN,
	    "%s: s1 sends", name);
	is_int(mio_udp_socket_send(p.s2, DATA2, DATA2_LEN), DATA2_LEN,
	    "%s: s2 sends", name);
	expect_events(p.poll, p.events, { ID1, R_READABLE },
	    { ID2, R_READABLE });
	is_int(mio_udp_socket_peek(p.s1, buf, sizeof(buf)), DATA2_LEN,
	    "%s: s1 peeks", name);
	is_int(mio_udp_socket_recv(p.s1, buf, sizeof(buf)), DATA2_LEN,
	    "%s: s1 receives", name);
	ok(memcmp(buf, DATA2, DATA2_LEN) == 0, "%s: s2's data", name);
	is_int(mio_udp_socket_recv(p.s2, buf, sizeof(buf)), DATA1_LEN,
	    "%s: s2 receives", name);
	ok(memcmp(buf, DATA1, DATA1_LEN) == 0, "%s: s1's data", name);
	pair_close(&p);
}

/*
 * mio's reconnect_udp_socket_sending and udp_socket_discard: connect may
 * change the peer, and a connected socket only hears its peer.
 */
static void
reconnect_and_discard(void)
{
	struct pair p;
	struct sockaddr_storage a3;
	socklen_t l3;
	char buf[32];

	pair_open(&p, AF_INET);
	mio_udp_socket *s3 = udp_socket_loopback(AF_INET, &a3, &l3);
	must(mio_registry_register(mio_poll_registry(p.poll),
		 mio_udp_socket_source(s3), ID3, MIO_READABLE),
	    "register s3");
	pair_register(&p, MIO_WRITABLE, MIO_READABLE);
	must(mio_udp_socket_connect(p.s1, (struct sockaddr *)&p.a2, p.l2),
	    "connect");
	is_int(mio_udp_socket_send(p.s1, DATA1, DATA1_LEN), DATA1_LEN,
	    "send to the first peer");
	expect_events(p.poll, p.events, { ID2, R_READABLE });
	is_int(mio_udp_socket_recv(p.s2, buf, sizeof(buf)), DATA1_LEN,
	    "the first peer receives it");
	is_errno(mio_udp_socket_connect(p.s1, (struct sockaddr *)&a3, l3), 0,
	    "reconnect to another peer");
	is_int(mio_udp_socket_send(p.s1, DATA2, DATA2_LEN), DATA2_LEN,
	    "send to the new peer");
	expect_events(p.poll, p.events, { ID3, R_READABLE });
	is_int(mio_udp_socket_recv(s3, buf, sizeof(buf)), DATA2_LEN,
	    "the new peer receives it");

	/* s1 now hears only s3: a datagram from s2 is dropped. */
	must(mio_registry_reregister(mio_poll_registry(p.poll),
		 mio_udp_socket_source(p.s1), ID1, MIO_READABLE),
	    "reregister");
	is_int(mio_udp_socket_send_to(p.s2, "x", 1, (struct sockaddr *)&p.a1,
		   p.l1),
	    1, "a stranger sends to the connected socket");
	is_int(mio_udp_socket_send_to(s3, DATA1, DATA1_LEN,
		   (struct sockaddr *)&p.a1, p.l1),
	    DATA1_LEN, "the peer sends");
	expect_events(p.poll, p.events, { ID1, R_READABLE });
	is_int(mio_udp_socket_recv(p.s1, buf, sizeof(buf)), DATA1_LEN,
	    "a connected socket receives its peer's datagram");
	is_errno(mio_udp_socket_recv(p.s1, buf, sizeof(buf)), -EAGAIN,
	    "and nothing from anyone else");
	mio_udp_socket_free(s3);
	pair_close(&p);
}

/* mio's connected/unconnected method tests: the errors say which is which. */
static void
method_errors(void)
{
	struct pair p;

	pair_open(&p, AF_INET);
	is_errno(mio_udp_socket_send(p.s1, DATA1, DATA1_LEN), -EDESTADDRREQ,
	    "send on an unconnected socket is -EDESTADDRREQ");
	must(mio_udp_socket_connect(p.s1, (struct sockaddr *)&p.a2, p.l2),
	    "connect");
	ssize_t rc = mio_udp_socket_send_to(p.s1, DATA1, DATA1_LEN,
	    (struct sockaddr *)&p.a2, p.l2);
	/* Linux allows send_to on a connected socket; the BSDs say EISCONN. */
	ok(rc == (ssize_t)DATA1_LEN || rc == -EISCONN,
	    "send_to on a connected socket sends (Linux) or is -EISCONN (%s)",
	    rc < 0 ? mio_strerror((int)rc) : "sent");
	is_errno(mio_udp_socket_send_to(p.s1, DATA1, DATA1_LEN, NULL, 0),
	    -EINVAL, "send_to without an address is -EINVAL");
	pair_close(&p);
}

/* mio's et_behavior_recv and et_behavior_recv_from. */
static void
edge_triggered_rearm(bool use_recv_from)
{
	struct pair p;
	char buf[32];
	const char *name = use_recv_from ? "recv_from" : "recv";

	pair_open(&p, AF_INET);
	must(mio_udp_socket_connect(p.s2, (struct sockaddr *)&p.a1, p.l1),
	    "connect");
	pair_register(&p, MIO_WRITABLE, MIO_READABLE);
	for (int round = 1; round <= 2; round++) {
		is_int(mio_udp_socket_send_to(p.s1, DATA1, DATA1_LEN,
			   (struct sockaddr *)&p.a2, p.l2),
		    DATA1_LEN, "%s round %d: send", name, round);
		expect_events(p.poll, p.events, { ID2, R_READABLE });
		ssize_t n = use_recv_from
		    ? mio_udp_socket_recv_from(p.s2, buf, sizeof(buf), NULL,
			  NULL)
		    : mio_udp_socket_recv(p.s2, buf, sizeof(buf));
		is_int(n, DATA1_LEN, "%s round %d: receive", name, round);
		n = use_recv_from
		    ? mio_udp_socket_recv_from(p.s2, buf, sizeof(buf), NULL,
			  NULL)
		    : mio_udp_socket_recv(p.s2, buf, sizeof(buf));
		is_errno(n, -EAGAIN, "%s round %d: drained to EAGAIN", name,
		    round);
	}
	pair_close(&p);
}

static void
options_v4(void)
{
	struct sockaddr_storage a;
	socklen_t l;
	mio_udp_socket *s = udp_socket_loopback(AF_INET, &a, &l);
	bool on = true;
	uint32_t value = 0;

	is_errno(mio_udp_socket_broadcast(s, &on), 0, "broadcast");
	ok(!on, "broadcast is off by default");
	is_errno(mio_udp_socket_set_broadcast(s, true), 0, "set_broadcast");
	mio_udp_socket_broadcast(s, &on);
	ok(on, "broadcast reads back on");
	is_errno(mio_udp_socket_multicast_loop_v4(s, &on), 0,
	    "multicast_loop_v4");
	ok(on, "multicast loop is on by default");
	is_errno(mio_udp_socket_set_multicast_loop_v4(s, false), 0,
	    "set_multicast_loop_v4 false");
	mio_udp_socket_multicast_loop_v4(s, &on);
	ok(!on, "reads back off");
	is_errno(mio_udp_socket_multicast_ttl_v4(s, &value), 0,
	    "multicast_ttl_v4");
	is_int(value, 1, "the multicast TTL is 1 by default");
	is_errno(mio_udp_socket_set_multicast_ttl_v4(s, 42), 0,
	    "set_multicast_ttl_v4 42");
	mio_udp_socket_multicast_ttl_v4(s, &value);
	is_int(value, 42, "reads back 42");
	is_errno(mio_udp_socket_set_ttl(s, 10), 0, "set_ttl 10");
	mio_udp_socket_ttl(s, &value);
	is_int(value, 10, "reads back 10");
	ok(mio_udp_socket_only_v6(s, &on) < 0,
	    "only_v6 on an IPv4 socket is an error");
	mio_udp_socket_free(s);
}

static void
options_v6(void)
{
	struct sockaddr_storage a;
	socklen_t l;
	bool on = false;
	uint32_t value = 0;

	if (!ipv6_available()) {
		skip(7, "IPv6: ::1 is not available");
		return;
	}
	mio_udp_socket *s = udp_socket_loopback(AF_INET6, &a, &l);
	is_errno(mio_udp_socket_multicast_loop_v6(s, &on), 0,
	    "multicast_loop_v6");
	ok(on, "IPv6 multicast loop is on by default");
	is_errno(mio_udp_socket_set_multicast_loop_v6(s, false), 0,
	    "set_multicast_loop_v6 false");
	mio_udp_socket_multicast_loop_v6(s, &on);
	ok(!on, "reads back off");
	is_errno(mio_udp_socket_only_v6(s, &on), 0, "only_v6 answers");
	is_errno(mio_udp_socket_set_ttl(s, 9), 0, "set_ttl sets the hop limit");
	mio_udp_socket_ttl(s, &value);
	is_int(value, 9, "reads back 9");
	mio_udp_socket_free(s);
}

/*
 * mio's multicast test joins groups; sending to them would need a socket
 * bound to the wildcard address, which these tests never bind, so this
 * checks membership only, on the loopback interface.
 */
static void
multicast_membership(void)
{
	struct sockaddr_storage a;
	socklen_t l;
	struct in_addr group, iface = { htonl(INADDR_LOOPBACK) };
	mio_udp_socket *s = udp_socket_loopback(AF_INET, &a, &l);

	inet_pton(AF_INET, "227.1.1.100", &group);
	int rc = mio_udp_socket_join_multicast_v4(s, &group, &iface);
	if (rc == -ENODEV || rc == -EADDRNOTAVAIL) {
		skip(3, "no multicast on the loopback interface (%s)",
		    mio_strerror(rc));
	} else {
		is_errno(rc, 0, "join 227.1.1.100 on loopback");
		is_errno(mio_udp_socket_leave_multicast_v4(s, &group, &iface),
		    0, "leave it");
		ok(mio_udp_socket_leave_multicast_v4(s, &group, &iface) < 0,
		    "leaving a group not joined is an error");
	}
	is_errno(mio_udp_socket_join_multicast_v4(s, NULL, &iface), -EINVAL,
	    "join without a group is -EINVAL");
	mio_udp_socket_free(s);
}

static void
raw_fd_and_registration(void)
{
	struct sockaddr_storage a;
	socklen_t l;
	mio_udp_socket *s = udp_socket_loopback(AF_INET, &a, &l), *adopted;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	registration_rules(mio_udp_socket_source(s), "udp socket");
	int fd = mio_udp_socket_into_fd(s);
	is_errno(mio_udp_socket_from_fd(fd, &adopted), 0,
	    "a released descriptor can be adopted again");
	is_int(mio_udp_socket_fd(adopted), fd, "the same descriptor");
	mio_udp_socket_free(adopted);
	ok(!fd_is_open(fd), "free closes it");
	is_errno(mio_udp_socket_bind((struct sockaddr *)&sun, sizeof(sun), &s),
	    -EAFNOSUPPORT, "bind to an AF_UNIX address is -EAFNOSUPPORT");
}

/* mio's udp_socket_no_events_after_deregister. */
static void
no_events_after_deregister(void)
{
	struct pair p;
	char buf[32];

	pair_open(&p, AF_INET);
	pair_register(&p, MIO_WRITABLE, MIO_READABLE);
	is_errno(mio_registry_deregister(mio_poll_registry(p.poll),
		     mio_udp_socket_source(p.s2)),
	    0, "deregister the receiver");
	is_int(mio_udp_socket_send_to(p.s1, DATA1, DATA1_LEN,
		   (struct sockaddr *)&p.a2, p.l2),
	    DATA1_LEN, "send to it");
	expect_events(p.poll, p.events, { ID1, R_WRITABLE });
	ok(no_event_with_token(p.events, ID2), "no event for the receiver");
	ok(wait_fd_readable(mio_udp_socket_fd(p.s2), 2000) &&
		mio_udp_socket_recv(p.s2, buf, sizeof(buf)) ==
		    (ssize_t)DATA1_LEN,
	    "although the datagram is there");
	pair_close(&p);
}

int
main(void)
{
	plan_lazy();
	diag("backend: %s", mio_backend());
	empty_datagram();
	unconnected(AF_INET, "IPv4");
	connected(AF_INET, "IPv4");
	if (ipv6_available()) {
		unconnected(AF_INET6, "IPv6");
		connected(AF_INET6, "IPv6");
	} else {
		skip(26, "IPv6: ::1 is not available");
	}
	reconnect_and_discard();
	method_errors();
	edge_triggered_rearm(false);
	edge_triggered_rearm(true);
	options_v4();
	options_v6();
	multicast_membership();
	raw_fd_and_registration();
	no_events_after_deregister();
	return 0;
}
