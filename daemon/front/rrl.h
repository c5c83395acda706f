/*
 * rrl.h - response rate limiting for UDP answers, per client prefix, as
 * NSD's rrl-ratelimit and Knot's rate-limit do it.
 *
 * Answers are counted per client prefix (an IPv4 /24 or an IPv6 /56: one
 * network, not one address, because a reflection attack forges many
 * addresses of its victim's network) in the current second. Up to rate
 * answers a second pass; past that, every slip-th answer is sent truncated
 * (TC set, no records: a genuine client retries over TCP, which cannot be
 * forged) and the others are dropped. With slip 2, half of the excess is
 * truncated and half dropped; slip 1 truncates all of it, slip 0 drops all.
 *
 * The prefixes live in a fixed table of buckets that never grows: a prefix
 * hashes (with a keyed hash, so a sender cannot aim at one set) to a set
 * of 4 buckets, and a new prefix there takes over the bucket that matters
 * least (unused, stale, else the fewest answers this second) and starts
 * from zero. A flood of forged sources therefore costs no memory, a prefix
 * over its rate keeps its count unless 4 busier prefixes share its set,
 * and no prefix that did not send is ever limited.
 *
 *	struct rrl *rrl;
 *	rrl_new(&(struct rrl_config){ .rate = 200, .slip = 2 }, &rrl);
 *	switch (rrl_check(rrl, (struct sockaddr *)&peer, now_seconds)) {
 *	case RRL_SEND:	send the answer
 *	case RRL_SLIP:	send a truncated answer (header and question, TC)
 *	case RRL_DROP:	send nothing
 *	}
 *
 * Threads: an rrl is not thread-safe; each worker has its own, so the
 * limit applies per worker thread (a sender whose queries the kernel
 * spreads over N threads gets up to N times the rate).
 */
#ifndef MIODNSD_RRL_H
#define MIODNSD_RRL_H

#include <stdint.h>
#include <sys/socket.h>

enum rrl_verdict {
	RRL_SEND,
	RRL_SLIP,
	RRL_DROP,
};

struct rrl_config {
	unsigned rate;		/* answers a second per prefix; 0 is off */
	unsigned slip;		/* every slip-th excess answer is TC; 0 none */
	unsigned buckets;	/* rounded up to a power of two, at least 4;
				 * 0: 4096 */
	uint64_t seed;		/* the hash key; the daemon passes a random one */
};

struct rrl_counters {
	uint64_t sent;		/* answers within the limit (or rate 0) */
	uint64_t slipped;	/* answers sent truncated */
	uint64_t dropped;	/* answers not sent */
	uint64_t evictions;	/* buckets taken over by another prefix */
};

struct rrl;

/* Returns 0, -EINVAL (NULL config, or more than 2^24 buckets), -ENOMEM. */
int rrl_new(const struct rrl_config *config, struct rrl **out);
void rrl_free(struct rrl *rrl);

/*
 * What to do with one UDP answer to sa, now being a count of seconds on a
 * monotonic clock. Clients of other families than AF_INET and AF_INET6
 * always get RRL_SEND.
 */
enum rrl_verdict rrl_check(struct rrl *rrl, const struct sockaddr *sa,
    uint64_t now);

void rrl_get_counters(const struct rrl *rrl, struct rrl_counters *out);

/* A new rate (a reload); the counts so far stay. */
void rrl_set_rate(struct rrl *rrl, unsigned rate);

#endif /* MIODNSD_RRL_H */
