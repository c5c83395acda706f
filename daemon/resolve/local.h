/*
 * local.h - the zones miodnsd answers itself (local.c, which is also the
 * pipeline's local stage).
 *
 * Main thread: local_zones_load() loads every configured and built-in
 * zone into a new set, at start and on reload; the set goes to the
 * workers' resolvers through worker_publish() and resolver_use().
 */
#ifndef MIODNSD_LOCAL_H
#define MIODNSD_LOCAL_H

#include "core/conf.h"

struct zone_set;

/* 0 and the set in *out, or -1 after logging what failed. */
int local_zones_load(const struct config *conf, struct zone_set **out);

#endif /* MIODNSD_LOCAL_H */
