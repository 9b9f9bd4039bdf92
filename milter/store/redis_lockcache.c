/* redis_lockcache.c - the locks Redis reported, kept in force locally while Redis is away */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis_lockcache.h"

struct lockcache_entry {
	struct lockcache_entry *next;
	uint64_t hash;
	int64_t until;
	char *limit; /* points into key, after the principal's NUL */
	char key[];  /* principal NUL limit NUL */
};

/* hash - FNV-1a of principal and limit */
static uint64_t hash(const char *principal, const char *limit)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = principal; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *p = limit; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

/* stripe_of - the stripe is chosen by principal alone, so that drop sees one stripe */
static size_t stripe_of(const char *principal)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = principal; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)(h % LOCKCACHE_STRIPES);
}

int lockcache_init(struct lockcache *lc, size_t cap)
{
	memset(lc, 0, sizeof(*lc));
	lc->cap = cap / LOCKCACHE_STRIPES + 1;
	lc->nbuckets = 256;
	for (size_t i = 0; i < LOCKCACHE_STRIPES; i++) {
		pthread_mutex_init(&lc->stripe[i].mu, NULL);
		if ((lc->stripe[i].buckets = calloc(lc->nbuckets, sizeof(void *))) == NULL)
			return -1;
	}
	return 0;
}

void lockcache_destroy(struct lockcache *lc)
{
	for (size_t i = 0; i < LOCKCACHE_STRIPES; i++) {
		for (size_t b = 0; lc->stripe[i].buckets && b < lc->nbuckets; b++)
			for (struct lockcache_entry *e = lc->stripe[i].buckets[b], *nx; e; e = nx) {
				nx = e->next;
				free(e);
			}
		free(lc->stripe[i].buckets);
		pthread_mutex_destroy(&lc->stripe[i].mu);
	}
	memset(lc, 0, sizeof(*lc));
}

/* find - the link that points at the entry, or at the end of its chain */
static struct lockcache_entry **find(struct lockcache *lc, size_t st, uint64_t h,
    const char *principal, const char *limit)
{
	struct lockcache_entry **pp = &lc->stripe[st].buckets[h % lc->nbuckets];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && strcmp((*pp)->key, principal) == 0 &&
		    strcmp((*pp)->limit, limit) == 0)
			break;
	return pp;
}

/* prune - a full stripe drops its expired entries, then any that end soonest in a bucket */
static void prune(struct lockcache *lc, size_t st, int64_t now)
{
	for (size_t b = 0; b < lc->nbuckets; b++) {
		struct lockcache_entry **pp = &lc->stripe[st].buckets[b];

		while (*pp) {
			struct lockcache_entry *e = *pp;

			if (e->until <= now || lc->stripe[st].n >= lc->cap) {
				*pp = e->next;
				free(e);
				lc->stripe[st].n--;
				atomic_fetch_sub(&lc->total, 1);
			} else
				pp = &e->next;
		}
	}
}

void lockcache_put(struct lockcache *lc, const char *principal, const char *limit, int64_t until)
{
	size_t st = stripe_of(principal), pl = strlen(principal), ll = strlen(limit);
	uint64_t h = hash(principal, limit);
	struct lockcache_entry **pp, *e;

	pthread_mutex_lock(&lc->stripe[st].mu);
	pp = find(lc, st, h, principal, limit);
	if (*pp != NULL)
		(*pp)->until = until;
	else if ((e = malloc(sizeof(*e) + pl + ll + 2)) != NULL) {
		if (lc->stripe[st].n >= lc->cap) {
			prune(lc, st, (int64_t)time(NULL));
			pp = find(lc, st, h, principal, limit);
		}
		e->hash = h;
		e->until = until;
		memcpy(e->key, principal, pl + 1);
		e->limit = e->key + pl + 1;
		memcpy(e->limit, limit, ll + 1);
		e->next = NULL;
		*pp = e;
		lc->stripe[st].n++;
		atomic_fetch_add(&lc->total, 1);
	}
	pthread_mutex_unlock(&lc->stripe[st].mu);
}

int64_t lockcache_get(struct lockcache *lc, const char *principal, const char *limit, int64_t now)
{
	size_t st;
	int64_t until = 0;

	if (atomic_load(&lc->total) == 0)
		return 0;
	st = stripe_of(principal);
	pthread_mutex_lock(&lc->stripe[st].mu);
	struct lockcache_entry *e = *find(lc, st, hash(principal, limit), principal, limit);
	if (e != NULL && e->until > now)
		until = e->until;
	pthread_mutex_unlock(&lc->stripe[st].mu);
	return until;
}

void lockcache_del(struct lockcache *lc, const char *principal, const char *limit)
{
	size_t st;
	struct lockcache_entry **pp, *e;

	if (atomic_load(&lc->total) == 0)
		return;
	st = stripe_of(principal);
	pthread_mutex_lock(&lc->stripe[st].mu);
	pp = find(lc, st, hash(principal, limit), principal, limit);
	if ((e = *pp) != NULL) {
		*pp = e->next;
		free(e);
		lc->stripe[st].n--;
		atomic_fetch_sub(&lc->total, 1);
	}
	pthread_mutex_unlock(&lc->stripe[st].mu);
}

long lockcache_drop(struct lockcache *lc, const char *principal)
{
	size_t st = stripe_of(principal);
	long n = 0;

	pthread_mutex_lock(&lc->stripe[st].mu);
	for (size_t b = 0; b < lc->nbuckets; b++) {
		struct lockcache_entry **pp = &lc->stripe[st].buckets[b];

		while (*pp) {
			struct lockcache_entry *e = *pp;

			if (strcmp(e->key, principal) == 0) {
				*pp = e->next;
				free(e);
				lc->stripe[st].n--;
				atomic_fetch_sub(&lc->total, 1);
				n++;
			} else
				pp = &e->next;
		}
	}
	pthread_mutex_unlock(&lc->stripe[st].mu);
	return n;
}

uint64_t lockcache_live(struct lockcache *lc, int64_t now)
{
	uint64_t n = 0;

	if (atomic_load(&lc->total) == 0)
		return 0;
	for (size_t st = 0; st < LOCKCACHE_STRIPES; st++) {
		pthread_mutex_lock(&lc->stripe[st].mu);
		for (size_t b = 0; b < lc->nbuckets; b++)
			for (struct lockcache_entry *e = lc->stripe[st].buckets[b]; e; e = e->next)
				n += e->until > now;
		pthread_mutex_unlock(&lc->stripe[st].mu);
	}
	return n;
}
