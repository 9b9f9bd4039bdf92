/* memory.h - the embedded store: counters and locks in this process, sharded */
#ifndef RM_MEMORY_H
#define RM_MEMORY_H

#include <stdint.h>

#include "store.h"

#define MEMORY_SHARDS 64 /* one bit each in a decision's mask of shards to lock */

/*
 * memory_store_new - a store of at most max_keys principals (per shard
 * ceil(max_keys / MEMORY_SHARDS)); now_ms(arg) is its clock in Unix
 * milliseconds, NULL for CLOCK_REALTIME. NULL when out of memory.
 */
struct store *memory_store_new(uint64_t max_keys, int64_t (*now_ms)(void *arg), void *arg);

/* memory_store_shard - which shard holds principal (tests and benchmark pick keys with it) */
unsigned memory_store_shard(const struct store *s, const char *principal);

#endif
