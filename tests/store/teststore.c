/* teststore.c - a stand-in local store until store/memory.c lands: totals per principal and limit */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "teststore.h"

struct tcount {
	struct tcount *next;
	uint64_t n;
	char key[];
};

struct tstore {
	struct store base;
	pthread_mutex_t mu;
	struct tcount *all;
};

static struct tcount *find(struct tstore *t, const struct store_check *c)
{
	size_t pl = strlen(c->principal), ll = strlen(c->limit);

	for (struct tcount *e = t->all; e; e = e->next)
		if (strncmp(e->key, c->principal, pl) == 0 && e->key[pl] == '/' &&
		    strcmp(e->key + pl + 1, c->limit) == 0)
			return e;
	struct tcount *e = calloc(1, sizeof(*e) + pl + ll + 2);
	memcpy(e->key, c->principal, pl);
	e->key[pl] = '/';
	memcpy(e->key + pl + 1, c->limit, ll);
	e->next = t->all;
	t->all = e;
	return e;
}

static int t_decide(struct store *s, const struct store_check *c, size_t n, bool commit,
    struct store_result *out)
{
	struct tstore *t = (struct tstore *)s;
	bool refuse = false;

	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < n; i++) {
		struct tcount *e = find(t, &c[i]);

		memset(&out[i], 0, sizeof(out[i]));
		out[i].count = e->n;
		if (e->n + c[i].add > c[i].max) {
			out[i].status = STORE_EXCEEDED;
			refuse |= !c[i].dry_run;
		}
	}
	for (size_t i = 0; commit && !refuse && i < n; i++)
		out[i].count = find(t, &c[i])->n += c[i].add;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

static int t_status(struct store *s, const char *p, store_entry_fn fn, void *arg)
{
	(void)s, (void)p, (void)fn, (void)arg;
	return 0;
}

static long t_none(struct store *s, const char *p)
{
	(void)s, (void)p;
	return 0;
}

static void t_stats(struct store *s, struct store_stats *out)
{
	(void)s;
	memset(out, 0, sizeof(*out));
}

static void t_free(struct store *s)
{
	struct tstore *t = (struct tstore *)s;

	for (struct tcount *e = t->all, *nx; e; e = nx) {
		nx = e->next;
		free(e);
	}
	free(t);
}

static const struct store_ops t_ops = {t_decide, t_status, t_none, t_none, t_stats, t_free};

struct store *teststore_local(uint64_t max_keys)
{
	struct tstore *t = calloc(1, sizeof(*t));

	(void)max_keys;
	t->base.ops = &t_ops;
	pthread_mutex_init(&t->mu, NULL);
	return &t->base;
}
