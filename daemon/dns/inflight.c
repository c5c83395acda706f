/*
 * inflight.c - the table of inflight.h: pending keys in a chained hash
 * table indexed by the key's hash (computed once, by cache_key_init()),
 * each with the list of its waiters in the order they joined.
 *
 * An entry that is being completed is taken out of the hash table first
 * and marked, so that the callbacks may join the same key (a new entry)
 * or cancel waiters of the one being completed (they are simply skipped)
 * without either call finding a half-finished entry.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inflight.h"

struct inflight_entry {
	struct inflight_entry *next;	/* in its bucket */
	TAILQ_HEAD(, inflight_waiter) waiters;
	size_t count;
	void *pending;
	bool completing;		/* out of the table, being completed */
	struct cache_key key;
};

struct inflight {
	struct inflight_config conf;
	struct inflight_entry **buckets;
	size_t bucket_mask;
	struct inflight_stats stats;
};

static void *
inflight_alloc(const struct inflight_config *conf, size_t size)
{
	return conf->alloc != NULL ? conf->alloc(size) : malloc(size);
}

static void
inflight_dealloc(const struct inflight_config *conf, void *ptr)
{
	if (conf->dealloc != NULL)
		conf->dealloc(ptr);
	else
		free(ptr);
}

void
inflight_config_defaults(struct inflight_config *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->max_waiters = 64;
	conf->buckets = 1024;
}

int
inflight_new(struct inflight **out, const struct inflight_config *conf)
{
	struct inflight *table;
	size_t buckets = 1;

	if (conf->max_waiters == 0)
		return -EINVAL;
	while (buckets < conf->buckets && buckets < ((size_t)1 << 24))
		buckets *= 2;
	if ((table = inflight_alloc(conf, sizeof(*table))) == NULL)
		return -ENOMEM;
	memset(table, 0, sizeof(*table));
	table->conf = *conf;
	table->buckets = inflight_alloc(conf,
	    buckets * sizeof(*table->buckets));
	if (table->buckets == NULL) {
		inflight_dealloc(conf, table);
		return -ENOMEM;
	}
	memset(table->buckets, 0, buckets * sizeof(*table->buckets));
	table->bucket_mask = buckets - 1;
	*out = table;
	return 0;
}

void
inflight_free(struct inflight *table)
{
	if (table == NULL)
		return;
	for (size_t i = 0; i <= table->bucket_mask; i++) {
		struct inflight_entry *e = table->buckets[i], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			inflight_dealloc(&table->conf, e);
		}
	}
	inflight_dealloc(&table->conf, table->buckets);
	inflight_dealloc(&table->conf, table);
}

void
inflight_waiter_init(struct inflight_waiter *waiter, void *cookie)
{
	memset(waiter, 0, sizeof(*waiter));
	waiter->cookie = cookie;
}

bool
inflight_waiting(const struct inflight_waiter *waiter)
{
	return waiter->entry != NULL;
}

/* The slot pointing to key's entry, or to the NULL ending its bucket. */
static struct inflight_entry **
inflight_slot(const struct inflight *table, const struct cache_key *key)
{
	struct inflight_entry **slot = &table->buckets[key->hash &
	    table->bucket_mask];

	while (*slot != NULL && !cache_key_equal(&(*slot)->key, key))
		slot = &(*slot)->next;
	return slot;
}

static void
inflight_add(struct inflight *table, struct inflight_entry *e,
    struct inflight_waiter *waiter)
{
	TAILQ_INSERT_TAIL(&e->waiters, waiter, link);
	waiter->entry = e;
	e->count++;
	table->stats.waiters++;
}

enum inflight_join_result
inflight_join(struct inflight *table, const struct cache_key *key,
    struct inflight_waiter *waiter)
{
	struct inflight_entry **slot = inflight_slot(table, key), *e = *slot;

	if (waiter->entry != NULL ||
	    (e != NULL && e->count >= table->conf.max_waiters)) {
		table->stats.full++;
		return INFLIGHT_FULL;
	}
	if (e != NULL) {
		inflight_add(table, e, waiter);
		table->stats.merged++;
		return INFLIGHT_JOINED;
	}
	if ((e = inflight_alloc(&table->conf, sizeof(*e))) == NULL) {
		table->stats.full++;
		return INFLIGHT_NOMEM;
	}
	memset(e, 0, offsetof(struct inflight_entry, key));
	e->key = *key;
	TAILQ_INIT(&e->waiters);
	*slot = e;
	inflight_add(table, e, waiter);
	table->stats.keys++;
	table->stats.started++;
	return INFLIGHT_NEW;
}

void *
inflight_pending(const struct inflight_waiter *waiter)
{
	return waiter->entry != NULL ? waiter->entry->pending : NULL;
}

void
inflight_set_pending(struct inflight_waiter *waiter, void *pending)
{
	if (waiter->entry != NULL)
		waiter->entry->pending = pending;
}

size_t
inflight_count(const struct inflight *table, const struct cache_key *key)
{
	struct inflight_entry *e = *inflight_slot(table, key);

	return e != NULL ? e->count : 0;
}

/* Takes waiter off its entry's list; the entry itself stays. */
static void
inflight_remove(struct inflight *table, struct inflight_waiter *waiter)
{
	struct inflight_entry *e = waiter->entry;

	TAILQ_REMOVE(&e->waiters, waiter, link);
	waiter->entry = NULL;
	e->count--;
	table->stats.waiters--;
}

size_t
inflight_complete(struct inflight *table, const struct cache_key *key,
    inflight_done_fn *done, void *arg)
{
	struct inflight_entry **slot = inflight_slot(table, key), *e = *slot;
	struct inflight_waiter *waiter;
	size_t calls = 0;

	if (e == NULL)
		return 0;
	*slot = e->next;
	e->completing = true;
	table->stats.keys--;
	while ((waiter = TAILQ_FIRST(&e->waiters)) != NULL) {
		inflight_remove(table, waiter);
		table->stats.completed++;
		calls++;
		done(arg, waiter->cookie);
	}
	inflight_dealloc(&table->conf, e);
	return calls;
}

bool
inflight_cancel_waiter(struct inflight *table, struct inflight_waiter *waiter,
    void **pending)
{
	struct inflight_entry *e = waiter->entry, **slot;

	if (e == NULL)
		return false;
	inflight_remove(table, waiter);
	table->stats.cancelled++;
	if (e->completing || e->count > 0)
		return false;
	slot = inflight_slot(table, &e->key);
	*slot = e->next;
	table->stats.keys--;
	if (pending != NULL)
		*pending = e->pending;
	inflight_dealloc(&table->conf, e);
	return true;
}

void
inflight_stats(const struct inflight *table, struct inflight_stats *stats)
{
	*stats = table->stats;
}
