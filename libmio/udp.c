/*
 * udp.c - mio_udp_socket: mio::net::UdpSocket (src/net/udp.rs in mio 1.x).
 *
 * A struct mio__io_source and nothing else; every call is one system call
 * in net.c. Like mio, bind sets no SO_REUSEADDR. The IPv4 multicast TTL and
 * loop options are passed as one byte, which the BSDs require and Linux
 * accepts.
 */
#include "net.h"

#include <netinet/in.h>

struct mio_udp_socket {
	struct mio__io_source io;
};

static int
udp_fd(const mio_udp_socket *sock)
{
	return sock != NULL ? sock->io.fd : -1;
}

int
mio_udp_socket_bind(const struct sockaddr *addr, socklen_t addrlen,
    mio_udp_socket **out)
{
	int fd;

	if (out == NULL || addr == NULL ||
	    addrlen < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	int rc = mio__net_bind(SOCK_DGRAM, addr, addrlen, MIO__NET_NO_LISTEN,
	    false, &fd);
	if (rc != 0)
		return rc;
	mio_udp_socket *sock = mio__net_handle_wrap(sizeof(*sock), fd);
	if (sock == NULL)
		return -ENOMEM;
	*out = sock;
	return 0;
}

ssize_t
mio_udp_socket_send_to(mio_udp_socket *sock, const void *buf, size_t len,
    const struct sockaddr *addr, socklen_t addrlen)
{
	if (addr == NULL)
		return -EINVAL;
	return mio__net_send(udp_fd(sock), buf, len, addr, addrlen);
}

ssize_t
mio_udp_socket_recv_from(mio_udp_socket *sock, void *buf, size_t len,
    struct sockaddr *addr, socklen_t *addrlen)
{
	return mio__net_recv(udp_fd(sock), buf, len, 0, addr, addrlen);
}

ssize_t
mio_udp_socket_peek_from(mio_udp_socket *sock, void *buf, size_t len,
    struct sockaddr *addr, socklen_t *addrlen)
{
	return mio__net_recv(udp_fd(sock), buf, len, MSG_PEEK, addr, addrlen);
}

int
mio_udp_socket_connect(mio_udp_socket *sock, const struct sockaddr *addr,
    socklen_t addrlen)
{
	return mio__net_connect_fd(udp_fd(sock), addr, addrlen);
}

ssize_t
mio_udp_socket_send(mio_udp_socket *sock, const void *buf, size_t len)
{
	return mio__net_send(udp_fd(sock), buf, len, NULL, 0);
}

ssize_t
mio_udp_socket_recv(mio_udp_socket *sock, void *buf, size_t len)
{
	return mio__net_recv(udp_fd(sock), buf, len, 0, NULL, NULL);
}

ssize_t
mio_udp_socket_peek(mio_udp_socket *sock, void *buf, size_t len)
{
	return mio__net_recv(udp_fd(sock), buf, len, MSG_PEEK, NULL, NULL);
}

int
mio_udp_socket_set_broadcast(mio_udp_socket *sock, bool on)
{
	return mio__net_set_bool(udp_fd(sock), SOL_SOCKET, SO_BROADCAST, on);
}

int
mio_udp_socket_broadcast(const mio_udp_socket *sock, bool *on)
{
	return mio__net_get_bool(udp_fd(sock), SOL_SOCKET, SO_BROADCAST, on);
}

int
mio_udp_socket_set_multicast_loop_v4(mio_udp_socket *sock, bool on)
{
	return mio__net_set_byte(udp_fd(sock), IPPROTO_IP, IP_MULTICAST_LOOP,
	    on ? 1 : 0);
}

int
mio_udp_socket_multicast_loop_v4(const mio_udp_socket *sock, bool *on)
{
	unsigned char v;

	if (on == NULL)
		return -EINVAL;
	int rc = mio__net_get_byte(udp_fd(sock), IPPROTO_IP,
	    IP_MULTICAST_LOOP, &v);
	if (rc == 0)
		*on = v != 0;
	return rc;
}

int
mio_udp_socket_set_multicast_ttl_v4(mio_udp_socket *sock, uint32_t ttl)
{
	if (ttl > 255)
		return -EINVAL;
	return mio__net_set_byte(udp_fd(sock), IPPROTO_IP, IP_MULTICAST_TTL,
	    (unsigned char)ttl);
}

int
mio_udp_socket_multicast_ttl_v4(const mio_udp_socket *sock, uint32_t *ttl)
{
	unsigned char v;

	if (ttl == NULL)
		return -EINVAL;
	int rc = mio__net_get_byte(udp_fd(sock), IPPROTO_IP, IP_MULTICAST_TTL,
	    &v);
	if (rc == 0)
		*ttl = v;
	return rc;
}

int
mio_udp_socket_set_multicast_loop_v6(mio_udp_socket *sock, bool on)
{
	return mio__net_set_bool(udp_fd(sock), IPPROTO_IPV6,
	    IPV6_MULTICAST_LOOP, on);
}

int
mio_udp_socket_multicast_loop_v6(const mio_udp_socket *sock, bool *on)
{
	return mio__net_get_bool(udp_fd(sock), IPPROTO_IPV6,
	    IPV6_MULTICAST_LOOP, on);
}

int
mio_udp_socket_set_ttl(mio_udp_socket *sock, uint32_t ttl)
{
	return mio__net_set_ttl(udp_fd(sock), ttl);
}

int
mio_udp_socket_ttl(const mio_udp_socket *sock, uint32_t *ttl)
{
	return mio__net_get_ttl(udp_fd(sock), ttl);
}

/* IP_ADD_MEMBERSHIP or IP_DROP_MEMBERSHIP. */
static int
udp_membership_v4(mio_udp_socket *sock, int option,
    const struct in_addr *group, const struct in_addr *iface)
{
	struct ip_mreq mreq;
	int fd = udp_fd(sock);

	if (fd < 0 || group == NULL || iface == NULL)
		return -EINVAL;
	mreq.imr_multiaddr = *group;
	mreq.imr_interface = *iface;
	if (setsockopt(fd, IPPROTO_IP, option, &mreq, sizeof(mreq)) == -1)
		return -errno;
	return 0;
}

/* IPV6_JOIN_GROUP or IPV6_LEAVE_GROUP (RFC 3493 names). */
static int
udp_membership_v6(mio_udp_socket *sock, int option,
    const struct in6_addr *group, uint32_t iface)
{
	struct ipv6_mreq mreq;
	int fd = udp_fd(sock);

	if (fd < 0 || group == NULL)
		return -EINVAL;
	mreq.ipv6mr_multiaddr = *group;
	mreq.ipv6mr_interface = iface;
	if (setsockopt(fd, IPPROTO_IPV6, option, &mreq, sizeof(mreq)) == -1)
		return -errno;
	return 0;
}

int
mio_udp_socket_join_multicast_v4(mio_udp_socket *sock,
    const struct in_addr *group, const struct in_addr *iface)
{
	return udp_membership_v4(sock, IP_ADD_MEMBERSHIP, group, iface);
}

int
mio_udp_socket_leave_multicast_v4(mio_udp_socket *sock,
    const struct in_addr *group, const struct in_addr *iface)
{
	return udp_membership_v4(sock, IP_DROP_MEMBERSHIP, group, iface);
}

int
mio_udp_socket_join_multicast_v6(mio_udp_socket *sock,
    const struct in6_addr *group, uint32_t iface)
{
	return udp_membership_v6(sock, IPV6_JOIN_GROUP, group, iface);
}

int
mio_udp_socket_leave_multicast_v6(mio_udp_socket *sock,
    const struct in6_addr *group, uint32_t iface)
{
	return udp_membership_v6(sock, IPV6_LEAVE_GROUP, group, iface);
}

int
mio_udp_socket_only_v6(const mio_udp_socket *sock, bool *only_v6)
{
	return mio__net_get_bool(udp_fd(sock), IPPROTO_IPV6, IPV6_V6ONLY,
	    only_v6);
}

int
mio_udp_socket_take_error(mio_udp_socket *sock)
{
	return mio__net_take_error(udp_fd(sock));
}

int
mio_udp_socket_local_addr(const mio_udp_socket *sock, struct sockaddr *addr,
    socklen_t *addrlen)
{
	return mio__net_local_addr(udp_fd(sock), addr, addrlen);
}

int
mio_udp_socket_peer_addr(const mio_udp_socket *sock, struct sockaddr *addr,
    socklen_t *addrlen)
{
	return mio__net_peer_addr(udp_fd(sock), addr, addrlen);
}

mio_source *
mio_udp_socket_source(mio_udp_socket *sock)
{
	return sock != NULL ? &sock->io.source : NULL;
}

int
mio_udp_socket_fd(const mio_udp_socket *sock)
{
	return sock != NULL ? sock->io.fd : -EINVAL;
}

int
mio_udp_socket_from_fd(int fd, mio_udp_socket **out)
{
	if (out == NULL)
		return -EINVAL;
	int rc = mio__net_check_fd(fd);
	if (rc != 0)
		return rc;
	mio_udp_socket *sock = mio__net_handle_new(sizeof(*sock), fd);
	if (sock == NULL)
		return -ENOMEM;
	*out = sock;
	return 0;
}

int
mio_udp_socket_into_fd(mio_udp_socket *sock)
{
	return mio__net_handle_into_fd(sock != NULL ? &sock->io : NULL);
}

void
mio_udp_socket_free(mio_udp_socket *sock)
{
	mio__net_handle_free(sock != NULL ? &sock->io : NULL);
}
