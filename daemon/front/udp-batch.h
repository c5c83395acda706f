/*
 * udp-batch.h - datagrams in and out by the batch (recvmmsg, sendmmsg);
 * see udp-batch.c. One struct udp_batch per worker, owned by its front.
 */
#ifndef MIODNSD_UDP_BATCH_H
#define MIODNSD_UDP_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/stats.h"

/* Datagrams per recvmmsg() and per sendmmsg(). */
#define UDP_BATCH 32

struct udp_in {
	const uint8_t *msg;
	size_t len;
	struct addr from;
};

struct udp_batch;

/* 0 or -ENOMEM; failed sends are counted in counters. */
int udp_batch_new(struct udp_batch **out, struct counters *counters);
void udp_batch_free(struct udp_batch *ub);
int udp_recv(struct udp_batch *ub, int fd, struct udp_in **in);
void udp_send(struct udp_batch *ub, int fd, const struct addr *to,
    const uint8_t *msg, size_t len);
void udp_flush(struct udp_batch *ub);
void udp_flush_fd(struct udp_batch *ub, int fd);

#endif /* MIODNSD_UDP_BATCH_H */
