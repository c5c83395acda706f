/*
 * inflight.h - merging identical queries in flight: while one upstream
 * query for a key is pending, later clients asking the same question wait
 * for its answer instead of sending their own (DNSpooq, CVE-2020-25686:
 * every duplicate upstream query is one more chance for a spoofed answer).
 *
 * A table maps a key (cache.h; computed once per query) to the pending
 * upstream query and the clients waiting for it. A waiter is a struct the
 * daemon embeds in its own per-query state, carrying a cookie that is
 * handed back when the answer comes; joining and cancelling allocate
 * nothing and take constant time. Only a key's first waiter allocates (its
 * table entry). Each key takes at most max_waiters waiters, so one popular
 * name cannot tie up every query slot behind one slow upstream.
 *
 * The calls for one client query:
 *
 *	switch (inflight_join(table, &key, &q->waiter)) {
 *	case INFLIGHT_NEW:	send upstream; inflight_set_pending()
 *	case INFLIGHT_JOINED:	wait
 *	case INFLIGHT_FULL:
 *	case INFLIGHT_NOMEM:	send upstream on its own, unmerged
 *	}
 *
 * and for the upstream's outcome, inflight_complete(table, &key, done,
 * arg), which calls done(arg, cookie) once per waiter in the order they
 * joined. A client that goes away early leaves with
 * inflight_cancel_waiter(); the last one to leave learns the pending
 * upstream query, which nobody waits for any more.
 *
 * Threads: a table is not thread-safe. Each worker thread has its own
 * (next to its own poll and c-ares channels), so identical queries are
 * merged within a thread; with N threads a key costs at most N upstream
 * queries at a time.
 */
#ifndef MIODNSD_INFLIGHT_H
#define MIODNSD_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "cache.h"

struct inflight;
struct inflight_entry;

/* Embedded in the daemon's query; the fields are inflight.c's. */
struct inflight_waiter {
	TAILQ_ENTRY(inflight_waiter) link;
	struct inflight_entry *entry;	/* NULL when not waiting */
	void *cookie;
};

struct inflight_config {
	unsigned max_waiters;	/* per key, the first one included; >= 1 */
	unsigned buckets;	/* rounded up to a power of two */
	/* Allocator for the table and its entries; NULL for malloc/free. */
	void *(*alloc)(size_t size);
	void (*dealloc)(void *ptr);
};

enum inflight_join_result {
	INFLIGHT_NEW,		/* the first: the caller sends upstream */
	INFLIGHT_JOINED,	/* waits for the pending upstream query */
	INFLIGHT_FULL,		/* max_waiters reached (or already waiting) */
	INFLIGHT_NOMEM,		/* no memory for a new key */
};

struct inflight_stats {
	uint64_t started;	/* INFLIGHT_NEW: upstream queries needed */
	uint64_t merged;	/* INFLIGHT_JOINED: upstream queries saved */
	uint64_t full;		/* INFLIGHT_FULL and INFLIGHT_NOMEM */
	uint64_t completed;	/* waiters handed an outcome */
	uint64_t cancelled;	/* waiters that left early */
	size_t keys;		/* keys pending now */
	size_t waiters;		/* waiters now */
};

/* Called by inflight_complete() for each waiter, with the waiter already
 * out of the table: it may free the memory holding the waiter. */
typedef void inflight_done_fn(void *arg, void *cookie);

/* Defaults: 64 waiters per key, 1024 buckets, malloc. */
void inflight_config_defaults(struct inflight_config *conf);

/* Creates an empty table: 0, -EINVAL (max_waiters 0), or -ENOMEM. */
int inflight_new(struct inflight **out, const struct inflight_config *conf);

/*
 * Frees a table and its entries; NULL is ignored. Waiters still waiting
 * are not called and not touched: their memory may already be gone.
 */
void inflight_free(struct inflight *table);

/* Prepares a waiter carrying cookie; it waits for nothing yet. */
void inflight_waiter_init(struct inflight_waiter *waiter, void *cookie);

/* Whether the waiter is waiting for a key. */
bool inflight_waiting(const struct inflight_waiter *waiter);

/*
 * Adds waiter to key's waiters, creating the entry if the key has none.
 * A waiter waits for one key at a time: one already waiting gets
 * INFLIGHT_FULL. Allocates only for INFLIGHT_NEW.
 */
enum inflight_join_result inflight_join(struct inflight *table,
    const struct cache_key *key, struct inflight_waiter *waiter);

/* The daemon's handle on the upstream query a waiter waits for (NULL
 * until set, and for a waiter not waiting). */
void *inflight_pending(const struct inflight_waiter *waiter);
void inflight_set_pending(struct inflight_waiter *waiter, void *pending);

/* How many waiters wait for key (0 if it is not pending). */
size_t inflight_count(const struct inflight *table,
    const struct cache_key *key);

/*
 * Ends key's wait: removes its entry, then calls done(arg, cookie) for
 * every waiter in the order they joined. Each waiter is out of the table
 * before its call, so done may free it, cancel waiters not yet called
 * (they are then skipped), or join the same key again, which starts a new
 * entry. Returns the number of calls made; 0 if key is not pending.
 */
size_t inflight_complete(struct inflight *table, const struct cache_key *key,
    inflight_done_fn *done, void *arg);

/*
 * Takes a waiter out of its key's waiters without calling it. Returns
 * true if it was the last one: the entry is gone and *pending (if not
 * NULL) receives its pending upstream query, which the caller may now
 * abandon. Returns false otherwise, also for a waiter not waiting, or one
 * whose key is being completed.
 */
bool inflight_cancel_waiter(struct inflight *table,
    struct inflight_waiter *waiter, void **pending);

/* The table's counters. */
void inflight_stats(const struct inflight *table,
    struct inflight_stats *stats);

#endif /* MIODNSD_INFLIGHT_H */
