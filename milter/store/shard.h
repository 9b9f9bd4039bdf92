/* shard.h - one shard of the memory store: its principals by name and by expiry */
#ifndef RM_SHARD_H
#define RM_SHARD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "counter.h"

#define SHARD_UNHEAPED UINT32_MAX /* a principal taken out of the heap while in use */

/* One principal ("login:alice") and its counters. */
struct principal {
	struct principal *next; /* hash chain */
	struct counter *counters;
	int64_t expiry; /* ms: after it nothing of the principal counts and no lock holds */
	uint32_t hash;  /* the low half of its hash: cheap compares, rehash */
	uint32_t heap;  /* its index in the expiry heap, or SHARD_UNHEAPED */
	char name[];
};

/*
 * Each shard has its own lock, so decisions on principals of different
 * shards run in parallel; the heap's top is the principal that expires
 * first, so reclaiming and evicting never scan.
 */
struct shard {
	pthread_mutex_t mu;
	struct principal **buckets; /* chained; a power of two */
	size_t nbuckets;
	struct principal **heap; /* min-heap by expiry */
	size_t nheap, heapcap;
	size_t nkeys;       /* principals held, in the heap or not */
	uint64_t evictions; /* principals dropped to make room */
	uint64_t locks;     /* counters with a lock set (expired ones go when found) */
} __attribute__((aligned(64)));

/* shard_init - an empty shard; 0 or -1 */
int shard_init(struct shard *sh);

/* shard_fini - free every principal (and its counters) */
void shard_fini(struct shard *sh);

/* shard_find - the principal called name with hash h, or NULL */
struct principal *shard_find(const struct shard *sh, uint64_t h, const char *name);

/* shard_add - a new principal, in the table but not yet the heap (shard_reheap); NULL: no memory */
struct principal *shard_add(struct shard *sh, uint64_t h, const char *name);

/* shard_drop - take p out of table and heap and free it; the locks it held no longer count */
void shard_drop(struct shard *sh, struct principal *p);

/* shard_top - the principal in the heap that expires first, or NULL */
struct principal *shard_top(const struct shard *sh);

/* shard_unheap - take p out of the heap while a decision uses it (it cannot be evicted) */
void shard_unheap(struct shard *sh, struct principal *p);

/* shard_reheap - put p back with its expiry recomputed (shard_add reserved its place) */
void shard_reheap(struct shard *sh, struct principal *p);

/* shard_counter - p's counter for limit, or NULL */
struct counter *shard_counter(const struct principal *p, const char *limit);

#endif
