/* redis.h - the shared store: counts and locks on one Redis, for every host */
#ifndef RM_REDIS_H
#define RM_REDIS_H

#include <stddef.h>

#include "store.h"
#include "store_settings.h"

/*
 * redis_store_new - a store on the Redis of st (servers, or the master
 * the sentinels name). It connects and authenticates once before it
 * returns: credentials or a database Redis refuses are an error here,
 * with a clear message in err; a Redis that does not answer is not (it
 * is logged, and decisions get st->on_error's answer until it does).
 * local is the store on_error = "local" falls back to (owned from now
 * on; NULL for the other modes).
 */
struct store *redis_store_new(const struct store_settings *st, struct store *local, char *err,
    size_t errlen);

#endif
