/*
 * cached.c - the stages between our own answers and the upstreams: the
 * forwarding policy, and the answer cache (dns/cache.h).
 *
 * stage_forward: with no upstream at all (zones only), what is not ours is
 * not our business: REFUSED, with Extended DNS Error 20 (Not
 * Authoritative) as NSD and Knot give. stage_cache: a hit allocates nothing and
 * touches no upstream. The hit is written straight into the reply buffer
 * and dressed where it lies: the cache checked every entry when it stored
 * it, so a hit that fits the client is not parsed again. Only one too
 * large for the client goes through dns_build_answer(), which truncates
 * it. Stale answers (serve-stale) would be one more lookup here, on a
 * miss, and at the deadline.
 *
 * The cache itself is shared by the workers and made by the main thread
 * (resolve_cache_configure): at start, and on reload, where a cache whose
 * settings changed is replaced (empty) and one whose upstreams changed is
 * flushed, since their answers may differ. Workers move to a replacement
 * through resolver_use(); each holds a reference to the one it uses.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#ifdef HAVE_SYS_RANDOM_H
#include <sys/random.h>
#endif

#include "resolve/cached.h"
#include "resolve/stages.h"

/* The cache the main thread made for the workers, and its settings; only
 * the main thread touches these. */
static struct cache *shared_cache;
static struct cache_config cache_conf;

bool
stage_forward(struct resolver *r, struct request *req)
{
	if (r->upstream->count > 0)
		return false;
	resolve_send_error(r, &req->reply, req->from, DNS_RCODE_REFUSED,
	    DNS_EDE_NOT_AUTHORITATIVE);
	return true;
}

/* The cache key of dq: its name, type, class and the header bits that
 * shape the upstream query. stage_check has let only a query
 * dns_parse_query() accepted this far, as cache_key_query() requires. */
static void
cached_key(struct resolver *r, const struct dns_query *dq,
    struct cache_key *key)
{
	unsigned flags = (dq->edns_do ? CACHE_KEY_DO : 0) |
	    (dq->flags2 & 0x10 ? CACHE_KEY_CD : 0) |
	    (dq->flags2 & 0x20 ? CACHE_KEY_AD : 0) |
	    (dq->flags1 & 0x01 ? CACHE_KEY_RD : 0);

	cache_key_query(key, r->cache, dq, flags);
}

/* A hit too large for its client: dns_build_answer() cuts it down. */
static size_t
cached_truncate(struct resolver *r, struct dns_reply *reply, size_t hlen)
{
	size_t len = 0;
	bool truncated;

	/* Past the access and forwarding stages: recursion is offered. */
	reply->ra = true;
	memcpy(r->hit_buf, r->reply_buf, hlen);
	if (dns_build_answer(reply, r->hit_buf, hlen, r->reply_buf,
	    sizeof(r->reply_buf), &len, &truncated) < 0)
		return 0;
	return len;
}

bool
stage_cache(struct resolver *r, struct request *req)
{
	const struct dns_query *dq = &req->dq;
	struct cache_client cc = { dq->id, dq->question, dq->question_len };
	size_t hlen, len;

	cached_key(r, dq, &req->key);
	req->keyed = true;
	if (!cache_lookup(r->cache, &req->key, batch_clock_ms(r->clock) / 1000,
	    &cc, r->reply_buf, DNS_MAX_MESSAGE, &hlen)) {
		COUNT(r->counters, cache_misses);
		return false;
	}
	len = dns_dress_hit(&req->reply, r->reply_buf, hlen);
	if (len == 0 && (len = cached_truncate(r, &req->reply, hlen)) == 0) {
		COUNT(r->counters, cache_misses);
		return false;
	}
	COUNT(r->counters, cache_hits);
	resolve_send(r, req->from, r->reply_buf, len);
	return true;
}

static void
cached_config(const struct config *conf, struct cache_config *cc)
{
	cache_config_defaults(cc);
	cc->max_entries = conf->cache_entries;
	cc->max_bytes = conf->cache_bytes;
	cc->min_ttl = conf->min_ttl;
	cc->max_ttl = conf->max_ttl;
	cc->max_negative_ttl = conf->max_negative_ttl;
}

static bool
cached_same_config(const struct cache_config *a, const struct cache_config *b)
{
	return a->max_entries == b->max_entries &&
	    a->max_bytes == b->max_bytes && a->min_ttl == b->min_ttl &&
	    a->max_ttl == b->max_ttl &&
	    a->max_negative_ttl == b->max_negative_ttl;
}

/* One seed for the daemon's life, so that keys made with the old cache
 * still mean the same to the new one and to the in-flight tables. */
static void
cached_seed(struct cache_config *cc)
{
	if (shared_cache != NULL) {
		memcpy(cc->seed, cache_conf.seed, sizeof(cc->seed));
		return;
	}
#ifdef HAVE_GETRANDOM
	if (getrandom(cc->seed, sizeof(cc->seed), 0) !=
	    (ssize_t)sizeof(cc->seed))
		fatal("getrandom");
#else
	arc4random_buf(cc->seed, sizeof(cc->seed));
#endif
}

/* Main thread: makes the shared cache fit conf (see the top of the
 * file). 0, or -1 with what was there kept. */
int
resolve_cache_configure(const struct config *conf, bool upstreams_changed)
{
	struct cache_config cc;
	struct cache *c;
	int rc;

	cached_config(conf, &cc);
	if (shared_cache != NULL && cached_same_config(&cc, &cache_conf)) {
		if (upstreams_changed)
			cache_flush(shared_cache);
		return 0;
	}
	cached_seed(&cc);
	if ((rc = cache_new(&c, &cc)) != 0) {
		log_warnx("cache: %s", strerror(-rc));
		return -1;
	}
	cache_free(shared_cache);
	shared_cache = c;
	cache_conf = cc;
	return 0;
}

struct cache *
resolve_shared_cache(void)
{
	return shared_cache;
}

void
resolve_cache_fini(void)
{
	cache_free(shared_cache);
	shared_cache = NULL;
}

/* The cache's own counters, for SIGUSR1 and the exit. */
void
resolve_log_cache(void)
{
	struct cache_stats st;

	if (shared_cache == NULL)
		return;
	cache_stats(shared_cache, &st);
	log_info("cache: %zu entries, %zu bytes; %llu stored, %llu evicted, "
	    "%llu expired, %llu not cacheable, %llu malformed", st.entries,
	    st.bytes, (unsigned long long)st.inserts,
	    (unsigned long long)st.evictions, (unsigned long long)st.expired,
	    (unsigned long long)st.uncacheable,
	    (unsigned long long)st.malformed);
}
