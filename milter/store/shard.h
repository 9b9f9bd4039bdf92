/* shard.h - one shard of the memory store: its principals by name and by expiry */
#ifndef RM_SHARD_H
#define RM_SHARD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "counter.h"

#define SHARD_FIXES 32 /* stale heap entries made exact per look at the top, at most */

/* One principal ("login:alice") and its counters. */
struct principal {
	struct principal *next; /* hash chain */
	struct counter *counters;
	int64_t expiry; /* ms: after it nothing of the principal counts and no lock holds */
	uint32_t hash;  /* the low half of its hash: cheap compares, rehash */
	uint32_t heap;  /* its index in the expiry heap */
	bool pinned;    /* in use by the running decision: never reclaimed nor evicted */
	bool aside;     /* its heap key is INT64_MAX until shard_touch */
	char name[];
};

/*
 * Each shard has its own lock, so decisions on principals of different
 * shards run in parallel; the heap's top is the principal that expires
 * first, so reclaiming and evicting never scan.
 *
 * The heap is lazy: an entry's key is at most its principal's expiry. A
 * decision usually pushes an expiry later, and leaves the heap alone
 * then (sifting a key down costs a cache miss a level); a stale key is
 * made exact only when it reaches the top. An earlier expiry is sifted
 * up at once, so the top's key is always the earliest of all.
 */
struct shard_entry {
	int64_t key; /* <= p->expiry; INT64_MAX for a pinned principal pushed aside */
	struct principal *p;
};

struct shard {
	pthread_mutex_t mu;
	struct principal **buckets; /* chained; a power of two */
	size_t nbuckets;
	struct shard_entry *heap; /* min-heap by key */
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

/*
 * shard_add - a new principal, pinned (shard_touch unpins it), with room
 * bytes more at *rest (8-aligned) for counters that live and go with it;
 * NULL when out of memory
 */
struct principal *shard_add(struct shard *sh, uint64_t h, const char *name, size_t room,
    void **rest);

/* shard_drop - take p out of table and heap and free it; the locks it held no longer count */
void shard_drop(struct shard *sh, struct principal *p);

/*
 * shard_first - the principal that expires first, if it is not pinned and
 * expires by until; else NULL. Stale keys on top are made exact on the way
 * (SHARD_FIXES at most: then the top as it is, which is near the first).
 */
struct principal *shard_first(struct shard *sh, int64_t until);

/* shard_touch - p's expiry recomputed after a change, and p unpinned */
void shard_touch(struct shard *sh, struct principal *p);

/*
 * shard_raise - p unpinned after a decision that could only make its
 * counters last longer (none changed its window or kind: shard_touch
 * then): its expiry at least e (the latest end of the counters it wrote),
 * the others' ends being covered by the old one. An expiry so kept a
 * little late (a lock that ended on its own) only delays the reclaiming
 * of p by at most that lock's end.
 */
void shard_raise(struct shard *sh, struct principal *p, int64_t e);

/*
 * shard_counter - p's counter for limit, or NULL. The checks of a
 * decision come in the order of the limits, and shard_add_counter keeps
 * the counters in that order: a search that starts after the counter
 * found for the previous check (after; NULL: from the first) finds the
 * next one at the first compare.
 */
struct counter *shard_counter(const struct principal *p, const char *limit,
    const struct counter *after);

/* shard_add_counter - c into p's list, after after (NULL: first) */
void shard_add_counter(struct principal *p, struct counter *c, struct counter *after);

#endif
