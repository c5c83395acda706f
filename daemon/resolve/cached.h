/*
 * cached.h - the answer cache the main thread makes for every worker
 * (cached.c, which is also the pipeline's cache stage).
 *
 * Main thread only: at start and on every reload, resolve_cache_configure()
 * makes the shared cache fit the configuration; worker_publish() hands
 * resolve_shared_cache() to the workers, each of which takes a reference.
 */
#ifndef MIODNSD_CACHED_H
#define MIODNSD_CACHED_H

#include <stdbool.h>

#include "core/conf.h"

struct cache;

/* 0, or -1 with the cache that was there kept. */
int resolve_cache_configure(const struct config *conf,
    bool upstreams_changed);
struct cache *resolve_shared_cache(void);
void resolve_cache_fini(void);
/* The cache's own counters, to the log. */
void resolve_log_cache(void);

#endif /* MIODNSD_CACHED_H */
