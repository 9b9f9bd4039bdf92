/* shard.c - one shard of the memory store: its principals by name and by expiry */
#include <stdlib.h>
#include <string.h>

#include "shard.h"

#define SHARD_BUCKETS0 16

int shard_init(struct shard *sh)
{
	memset(sh, 0, sizeof(*sh));
	if ((sh->buckets = calloc(SHARD_BUCKETS0, sizeof(sh->buckets[0]))) == NULL)
		return -1;
	sh->nbuckets = SHARD_BUCKETS0;
	if (pthread_mutex_init(&sh->mu, NULL) != 0) {
		free(sh->buckets);
		return -1;
	}
	return 0;
}

/* principal_free - p and its counters */
static void principal_free(struct principal *p)
{
	struct counter *c, *next;

	for (c = p->counters; c != NULL; c = next) {
		next = c->next;
		counter_free(c);
	}
	free(p);
}

void shard_fini(struct shard *sh)
{
	struct principal *p, *next;

	for (size_t b = 0; b < sh->nbuckets; b++)
		for (p = sh->buckets[b]; p != NULL; p = next) {
			next = p->next;
			principal_free(p);
		}
	free(sh->buckets);
	free(sh->heap);
	pthread_mutex_destroy(&sh->mu);
}

struct principal *shard_find(const struct shard *sh, uint64_t h, const char *name)
{
	struct principal *p;

	for (p = sh->buckets[h & (sh->nbuckets - 1)]; p != NULL; p = p->next)
		if (p->hash == (uint32_t)h && strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* --- the expiry heap: heap[0] has the smallest key --- */

static void heap_set(struct shard *sh, size_t i, struct shard_entry e)
{
	sh->heap[i] = e;
	e.p->heap = (uint32_t)i;
}

static void sift_up(struct shard *sh, size_t i)
{
	struct shard_entry e = sh->heap[i];

	while (i > 0 && sh->heap[(i - 1) / 2].key > e.key) {
		heap_set(sh, i, sh->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(sh, i, e);
}

static void sift_down(struct shard *sh, size_t i)
{
	struct shard_entry e = sh->heap[i];
	size_t c;

	while ((c = 2 * i + 1) < sh->nheap) {
		if (c + 1 < sh->nheap && sh->heap[c + 1].key < sh->heap[c].key)
			c++;
		if (sh->heap[c].key >= e.key)
			break;
		heap_set(sh, i, sh->heap[c]);
		i = c;
	}
	heap_set(sh, i, e);
}

/* heap_remove - p's entry out of the heap */
static void heap_remove(struct shard *sh, struct principal *p)
{
	size_t i = p->heap;
	struct principal *last;

	if (i == --sh->nheap)
		return;
	last = sh->heap[sh->nheap].p;
	heap_set(sh, i, sh->heap[sh->nheap]);
	sift_up(sh, i);
	sift_down(sh, last->heap);
}

/* heap_rekey - entry i gets key k, and its place */
static void heap_rekey(struct shard *sh, size_t i, int64_t k)
{
	int64_t old = sh->heap[i].key;

	sh->heap[i].key = k;
	if (k < old)
		sift_up(sh, i);
	else if (k > old)
		sift_down(sh, i);
}

/* expiry - the latest of p's counters' ends and lock ends */
static int64_t expiry(const struct principal *p)
{
	int64_t e = 0, ce;

	for (const struct counter *c = p->counters; c != NULL; c = c->next)
		if ((ce = counter_expiry(c)) > e)
			e = ce;
	return e;
}

/* settle - p's new expiry; the heap entry is rekeyed only for an earlier one (its key <= the old) */
static void settle(struct shard *sh, struct principal *p, int64_t e)
{
	int64_t old = p->expiry;

	p->expiry = e;
	if ((p->aside || p->expiry < old) && p->expiry < sh->heap[p->heap].key)
		heap_rekey(sh, p->heap, p->expiry);
	p->pinned = p->aside = false;
}

void shard_touch(struct shard *sh, struct principal *p)
{
	settle(sh, p, expiry(p));
}

void shard_raise(struct shard *sh, struct principal *p, int64_t e)
{
	settle(sh, p, e > p->expiry ? e : p->expiry);
}

struct principal *shard_first(struct shard *sh, int64_t until)
{
	struct principal *p;

	for (int k = 0; sh->nheap > 0 && sh->heap[0].key <= until && k < SHARD_FIXES; k++) {
		p = sh->heap[0].p;
		if (p->pinned) {
			p->aside = true; /* shard_touch brings it back */
			heap_rekey(sh, 0, INT64_MAX);
		} else if (sh->heap[0].key != p->expiry)
			heap_rekey(sh, 0, p->expiry);
		else
			break;
	}
	if (sh->nheap == 0)
		return NULL;
	p = sh->heap[0].p;
	return p->pinned || p->expiry > until ? NULL : p;
}

/* --- the table --- */

/* rehash - twice the buckets; on failure the chains just grow longer */
static void rehash(struct shard *sh)
{
	size_t n = sh->nbuckets * 2;
	struct principal **b = calloc(n, sizeof(b[0]));
	struct principal *p, *next;

	if (b == NULL)
		return;
	for (size_t i = 0; i < sh->nbuckets; i++)
		for (p = sh->buckets[i]; p != NULL; p = next) {
			next = p->next;
			p->next = b[p->hash & (n - 1)];
			b[p->hash & (n - 1)] = p;
		}
	free(sh->buckets);
	sh->buckets = b;
	sh->nbuckets = n;
}

/* heap_room - a heap place for one more principal */
static int heap_room(struct shard *sh)
{
	size_t cap = sh->heapcap ? sh->heapcap * 2 : 16;
	struct shard_entry *h;

	if (sh->nkeys < sh->heapcap)
		return 0;
	if ((h = realloc(sh->heap, cap * sizeof(h[0]))) == NULL)
		return -1;
	sh->heap = h;
	sh->heapcap = cap;
	return 0;
}

struct principal *shard_add(struct shard *sh, uint64_t h, const char *name, size_t room,
    void **rest)
{
	size_t len = strlen(name) + 1, head = (sizeof(struct principal) + len + 7) & ~(size_t)7;
	struct principal *p;
	size_t b;

	if (heap_room(sh) < 0 || (p = malloc(head + room)) == NULL)
		return NULL;
	memcpy(p->name, name, len);
	*rest = (char *)p + head;
	p->counters = NULL;
	p->hash = (uint32_t)h;
	p->expiry = 0;
	p->pinned = p->aside = true;
	if (sh->nkeys >= sh->nbuckets)
		rehash(sh);
	b = p->hash & (sh->nbuckets - 1);
	p->next = sh->buckets[b];
	sh->buckets[b] = p;
	sh->nkeys++;
	heap_set(sh, sh->nheap++, (struct shard_entry){.key = INT64_MAX, .p = p});
	return p;
}

void shard_drop(struct shard *sh, struct principal *p)
{
	struct principal **pp = &sh->buckets[p->hash & (sh->nbuckets - 1)];

	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	heap_remove(sh, p);
	for (const struct counter *c = p->counters; c != NULL; c = c->next)
		sh->locks -= c->lock_until != 0;
	sh->nkeys--;
	principal_free(p);
}

struct counter *shard_counter(const struct principal *p, const char *limit,
    const struct counter *after)
{
	struct counter *start = after != NULL ? after->next : p->counters, *c;

	for (c = start; c != NULL; c = c->next)
		if (strcmp(c->limit, limit) == 0)
			return c;
	for (c = p->counters; c != start; c = c->next)
		if (strcmp(c->limit, limit) == 0)
			return c;
	return NULL;
}

void shard_add_counter(struct principal *p, struct counter *c, struct counter *after)
{
	struct counter **at = after != NULL ? &after->next : &p->counters;

	c->next = *at;
	*at = c;
}
