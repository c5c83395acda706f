/*
 * udp-batch.c - datagrams in and out by the batch: recvmmsg(2) and
 * sendmmsg(2), one system call for many queries and many answers.
 *
 * A cache hit costs a few hundred nanoseconds of our own code and several
 * microseconds of the kernel's, much of it the fixed price of a system
 * call; reading and writing datagrams in batches shares that price out.
 *
 * Reading: udp_recv() fills up to UDP_BATCH slots from one socket. Each
 * slot has room for the largest datagram (64 KB, so that nothing a client
 * sends is cut short), allocated once per worker; pages a small query
 * never reaches are never touched, so the memory is mostly address space.
 * A batch that comes back short means the socket is empty: with
 * edge-triggered epoll and kqueue's EV_CLEAR, a datagram that arrives
 * after recvmmsg() stopped looking raises a new event, so the EAGAIN read
 * that would confirm it is not needed. The one exception (recvmmsg(2),
 * BUGS) is an error other than EAGAIN after some datagrams: the call
 * returns short and keeps the error for the next call, and the datagrams
 * behind it wait for the next arrival. On an unconnected UDP socket
 * without IP_RECVERR no such error is reported, so we accept that.
 *
 * Writing: udp_send() queues an answer (copied, since the caller's buffer
 * is reused for the next one), and the queue goes out with one
 * sendmmsg() when it is full, when an answer for another socket comes, or
 * at udp_flush(), which the loop calls after every batch of events. An
 * answer waits at most for the rest of its batch. A queue slot holds the
 * largest UDP answer (edns-size is at most 4096); anything larger would go
 * out at once with sendto().
 *
 * Where recvmmsg() or sendmmsg() is missing (macOS), the same functions
 * loop over recvmsg() and sendmsg().
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "dns/dns.h"
#include "front/udp-batch.h"

/* The largest answer a queue slot holds: edns-size's maximum. */
#define UDP_SLOT 4096

#if defined(HAVE_RECVMMSG) && defined(HAVE_SENDMMSG)
typedef struct mmsghdr udp_mmsg;
#define udp_recvmmsg(fd, msgs, n) recvmmsg(fd, msgs, n, 0, NULL)
#define udp_sendmmsg(fd, msgs, n) sendmmsg(fd, msgs, n, 0)
#else
typedef struct {
	struct msghdr msg_hdr;
	unsigned msg_len;
} udp_mmsg;

/* Without the batch calls: one message at a time, stopping at the first
 * failure, with the batch calls' results. */
static int
udp_mmsg_loop(int fd, udp_mmsg *msgs, unsigned n, bool send)
{
	unsigned i;
	ssize_t r;

	for (i = 0; i < n; i++) {
		r = send ? sendmsg(fd, &msgs[i].msg_hdr, 0) :
		    recvmsg(fd, &msgs[i].msg_hdr, 0);
		if (r < 0)
			break;
		msgs[i].msg_len = (unsigned)r;
	}
	return i > 0 ? (int)i : -1;
}
#define udp_recvmmsg(fd, msgs, n) udp_mmsg_loop(fd, msgs, n, false)
#define udp_sendmmsg(fd, msgs, n) udp_mmsg_loop(fd, msgs, n, true)
#endif

struct udp_out {
	int fd;				/* the queue's socket, or -1 */
	unsigned count;
	udp_mmsg msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct addr to[UDP_BATCH];
	uint8_t buf[UDP_BATCH][UDP_SLOT];
};

struct udp_inq {
	udp_mmsg msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct udp_in in[UDP_BATCH];
	uint8_t *bufs;		/* UDP_BATCH times DNS_MAX_MESSAGE */
};

/* One worker's batches, both ways. */
struct udp_batch {
	struct udp_inq *inq;
	struct udp_out *outq;
	struct counters *counters;
};

/* Points every slot's header at its buffer and address, once: a batch
 * call then changes only the lengths. */
static void
udp_batch_wire(struct udp_inq *inq, struct udp_out *outq)
{
	for (unsigned i = 0; i < UDP_BATCH; i++) {
		struct msghdr *h = &inq->msgs[i].msg_hdr;
		inq->in[i].msg = inq->bufs + (size_t)i * DNS_MAX_MESSAGE;
		inq->iov[i].iov_base = inq->bufs + (size_t)i * DNS_MAX_MESSAGE;
		inq->iov[i].iov_len = DNS_MAX_MESSAGE;
		h->msg_iov = &inq->iov[i];
		h->msg_iovlen = 1;
		h->msg_name = &inq->in[i].from.ss;
		h = &outq->msgs[i].msg_hdr;
		outq->iov[i].iov_base = outq->buf[i];
		h->msg_iov = &outq->iov[i];
		h->msg_iovlen = 1;
		h->msg_name = &outq->to[i].ss;
	}
	outq->fd = -1;
}

/* A worker's buffers; 0 or -ENOMEM. */
int
udp_batch_new(struct udp_batch **out, struct counters *counters)
{
	struct udp_batch *ub = calloc(1, sizeof(*ub));

	if (ub == NULL)
		return -ENOMEM;
	ub->counters = counters;
	if ((ub->inq = calloc(1, sizeof(*ub->inq))) == NULL ||
	    (ub->inq->bufs = malloc((size_t)UDP_BATCH *
	    DNS_MAX_MESSAGE)) == NULL ||
	    (ub->outq = calloc(1, sizeof(*ub->outq))) == NULL) {
		udp_batch_free(ub);
		return -ENOMEM;
	}
	udp_batch_wire(ub->inq, ub->outq);
	*out = ub;
	return 0;
}

void
udp_batch_free(struct udp_batch *ub)
{
	if (ub == NULL)
		return;
	if (ub->inq != NULL)
		free(ub->inq->bufs);
	free(ub->inq);
	free(ub->outq);
	free(ub);
}

/*
 * Reads up to UDP_BATCH datagrams from fd into *in (valid until the next
 * call). Returns how many, or -1 with errno (EAGAIN: none waiting).
 */
int
udp_recv(struct udp_batch *ub, int fd, struct udp_in **in)
{
	struct udp_inq *inq = ub->inq;
	int n;

	/* The kernel shortens each address length to the sender's. */
	for (unsigned i = 0; i < UDP_BATCH; i++)
		inq->msgs[i].msg_hdr.msg_namelen = sizeof(inq->in[i].from.ss);
	if ((n = udp_recvmmsg(fd, inq->msgs, UDP_BATCH)) <= 0)
		return -1;
	for (int i = 0; i < n; i++) {
		inq->in[i].len = inq->msgs[i].msg_len;
		inq->in[i].from.len = inq->msgs[i].msg_hdr.msg_namelen;
	}
	*in = inq->in;
	return n;
}

static void
udp_send_failed(struct udp_batch *ub, const struct addr *to)
{
	char buf[64];

	/* A full send buffer drops the answer, as the network might; the
	 * client will ask again. */
	COUNT(ub->counters, udp_send_failed);
	log_debug("send to %s: %s", addr_str(to, buf, sizeof(buf)),
	    strerror(errno));
}

/* Sends what is queued; a message the kernel refuses is counted and
 * skipped, and the rest still go. */
void
udp_flush(struct udp_batch *ub)
{
	struct udp_out *outq = ub->outq;
	unsigned off = 0;
	int r;

	while (off < outq->count) {
		r = udp_sendmmsg(outq->fd, outq->msgs + off,
		    outq->count - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			udp_send_failed(ub, &outq->to[off]);
			off++;
		} else {
			off += (unsigned)r;
		}
	}
	outq->count = 0;
	outq->fd = -1;
}

/* Queues an answer to to on fd (see the top of the file). */
void
udp_send(struct udp_batch *ub, int fd, const struct addr *to,
    const uint8_t *msg, size_t len)
{
	struct udp_out *outq = ub->outq;
	unsigned i;

	if (len > UDP_SLOT) {
		if (sendto(fd, msg, len, 0, (const struct sockaddr *)&to->ss,
		    to->len) != (ssize_t)len)
			udp_send_failed(ub, to);
		return;
	}
	if (outq->count == UDP_BATCH || (outq->fd != fd && outq->count > 0))
		udp_flush(ub);
	i = outq->count++;
	outq->fd = fd;
	memcpy(outq->buf[i], msg, len);
	outq->iov[i].iov_len = len;
	memcpy(&outq->to[i].ss, &to->ss, to->len);
	outq->to[i].len = to->len;
	outq->msgs[i].msg_hdr.msg_namelen = to->len;
}

/* fd is about to close: what is queued for it goes now. */
void
udp_flush_fd(struct udp_batch *ub, int fd)
{
	if (ub->outq->fd == fd)
		udp_flush(ub);
}
