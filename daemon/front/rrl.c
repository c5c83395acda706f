/*
 * rrl.c - response rate limiting: a fixed table of per-prefix counters.
 *
 * A bucket holds the prefix it counts, the second it counts in and how
 * many answers went to the prefix in that second. The prefix is reduced to
 * 64 bits: an IPv4 /24 as 0x4 followed by its 24 bits, an IPv6 /56 as its
 * 56 bits with 0x6 above them, so the two families never share a key. An
 * IPv4-mapped IPv6 client counts as its IPv4 /24.
 *
 * The hash is a 64-bit multiply-xorshift mix (splitmix64's finaliser) of
 * key ^ seed: not cryptographic, but with a random seed a sender cannot
 * tell which of its prefixes share a set.
 *
 * The table is set-associative: the hash picks a set of RRL_WAYS buckets,
 * and a prefix not in its set takes the bucket there that matters least:
 * an unused one, else one last counted in an earlier second (its count
 * would start again anyway), else the one with the fewest answers this
 * second. A direct-mapped table reset a prefix's count whenever another
 * prefix hashed to its bucket, so a flood spread over many prefixes was
 * never limited (review finding 11); now a prefix over its rate is only
 * displaced by RRL_WAYS prefixes that answered more in the same second.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "rrl.h"

#define RRL_DEFAULT_BUCKETS 4096u
#define RRL_WAYS 4u
#define RRL_MAX_BUCKETS (1u << 24)

struct rrl_bucket {
	uint64_t key;		/* 0 while unused: no real key is 0 */
	uint64_t second;
	uint32_t count;		/* answers to the prefix in that second */
};

struct rrl {
	struct rrl_bucket *buckets;
	uint32_t mask;
	unsigned rate, slip;
	uint64_t seed;
	struct rrl_counters counters;
};

static uint64_t
rrl_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

int
rrl_new(const struct rrl_config *config, struct rrl **out)
{
	unsigned want, size = 1;
	struct rrl *rrl;

	if (config == NULL || config->buckets > RRL_MAX_BUCKETS)
		return -EINVAL;
	want = config->buckets ? config->buckets : RRL_DEFAULT_BUCKETS;
	size = RRL_WAYS;
	while (size < want)
		size <<= 1;
	if ((rrl = calloc(1, sizeof(*rrl))) == NULL)
		return -ENOMEM;
	if ((rrl->buckets = calloc(size, sizeof(*rrl->buckets))) == NULL) {
		free(rrl);
		return -ENOMEM;
	}
	rrl->mask = size / RRL_WAYS - 1;	/* of the sets */
	rrl->rate = config->rate;
	rrl->slip = config->slip;
	rrl->seed = config->seed;
	*out = rrl;
	return 0;
}

void
rrl_free(struct rrl *rrl)
{
	if (rrl == NULL)
		return;
	free(rrl->buckets);
	free(rrl);
}

static uint64_t
rrl_key_v4(const uint8_t *a)
{
	return (uint64_t)0x4 << 24 | (uint64_t)a[0] << 16 |
	    (uint64_t)a[1] << 8 | a[2];
}

/* The prefix key of a client, or 0 for one that is not limited. */
static uint64_t
rrl_key(const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *a;
	uint64_t key = 0x6;

	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
		return rrl_key_v4(a);
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (memcmp(a, mapped, 12) == 0)
		return rrl_key_v4(a + 12);
	for (int i = 0; i < 7; i++)
		key = key << 8 | a[i];
	return key;
}

/* The verdict for the n-th answer past the limit in one second (n >= 1). */
static enum rrl_verdict
rrl_excess(struct rrl *rrl, uint32_t n)
{
	if (rrl->slip != 0 && n % rrl->slip == 0) {
		rrl->counters.slipped++;
		return RRL_SLIP;
	}
	rrl->counters.dropped++;
	return RRL_DROP;
}

/* Whether bucket a matters less than b in second now (see the top). */
static bool
rrl_less(const struct rrl_bucket *a, const struct rrl_bucket *b,
    uint64_t now)
{
	if (a->key == 0 || b->key == 0)
		return a->key == 0 && b->key != 0;
	if ((a->second != now) != (b->second != now))
		return a->second != now;
	return a->second != now ? a->second < b->second : a->count < b->count;
}

/* The bucket of key: its own, or the one of its set it takes over. */
static struct rrl_bucket *
rrl_bucket(struct rrl *rrl, uint64_t key, uint64_t now)
{
	struct rrl_bucket *set = &rrl->buckets[(rrl_mix(key ^ rrl->seed) &
	    rrl->mask) * RRL_WAYS];
	struct rrl_bucket *victim = &set[0];

	for (unsigned i = 0; i < RRL_WAYS; i++) {
		if (set[i].key == key)
			return &set[i];
		if (i > 0 && rrl_less(&set[i], victim, now))
			victim = &set[i];
	}
	if (victim->key != 0)
		rrl->counters.evictions++;
	victim->key = key;
	victim->second = now;
	victim->count = 0;
	return victim;
}

enum rrl_verdict
rrl_check(struct rrl *rrl, const struct sockaddr *sa, uint64_t now)
{
	uint64_t key = rrl_key(sa);
	struct rrl_bucket *b;

	if (rrl->rate == 0 || key == 0) {
		rrl->counters.sent++;
		return RRL_SEND;
	}
	b = rrl_bucket(rrl, key, now);
	if (b->second != now) {
		b->second = now;
		b->count = 0;
	}
	if (b->count < UINT32_MAX)
		b->count++;
	if (b->count <= rrl->rate) {
		rrl->counters.sent++;
		return RRL_SEND;
	}
	return rrl_excess(rrl, b->count - rrl->rate);
}

void
rrl_set_rate(struct rrl *rrl, unsigned rate)
{
	rrl->rate = rate;
}

void
rrl_get_counters(const struct rrl *rrl, struct rrl_counters *out)
{
	*out = rrl->counters;
}
