/* redis_lockcache.h - the locks Redis reported, kept in force locally while Redis is away */
#ifndef RM_REDIS_LOCKCACHE_H
#define RM_REDIS_LOCKCACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define LOCKCACHE_STRIPES 16

struct lockcache_entry;

/*
 * Striped, so that decisions on different principals do not wait on one
 * another; touched on the RCPT path only when a lock is seen or the
 * cache holds any.
 */
struct lockcache {
	struct {
		pthread_mutex_t mu;
		struct lockcache_entry **buckets;
		size_t n;
	} stripe[LOCKCACHE_STRIPES];
	size_t nbuckets; /* per stripe */
	size_t cap;      /* per stripe */
	atomic_size_t total;
};

int lockcache_init(struct lockcache *lc, size_t cap);
void lockcache_destroy(struct lockcache *lc);

/* lockcache_put - principal's lock for limit ends at until (Unix s) */
void lockcache_put(struct lockcache *lc, const char *principal, const char *limit, int64_t until);

/* lockcache_get - its end while in force at now, else 0 */
int64_t lockcache_get(struct lockcache *lc, const char *principal, const char *limit, int64_t now);

/* lockcache_del - Redis says it is not locked (any more) */
void lockcache_del(struct lockcache *lc, const char *principal, const char *limit);

/* lockcache_drop - forget every lock of principal (unlock); how many */
long lockcache_drop(struct lockcache *lc, const char *principal);

/* lockcache_live - locks in force at now */
uint64_t lockcache_live(struct lockcache *lc, int64_t now);

#endif
