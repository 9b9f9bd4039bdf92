/* redis_pool.c - hiredis connections handed to one thread at a time */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis_pool.h"

int rpool_init(struct rpool *p, size_t max)
{
	pthread_condattr_t ca;

	memset(p, 0, sizeof(*p));
	if ((p->idle = calloc(max, sizeof(*p->idle))) == NULL)
		return -1;
	p->max = max;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->freed, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

void rpool_destroy(struct rpool *p)
{
	for (size_t i = 0; i < p->nidle; i++)
		rconn_free(p->idle[i]);
	free(p->idle);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->freed);
	memset(p, 0, sizeof(*p));
}

/* wait_until - a timed wait on the monotonic clock; false at the deadline */
static bool wait_until(struct rpool *p, int64_t deadline)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline / 1000),
	    .tv_nsec = (long)(deadline % 1000) * 1000000};

	return pthread_cond_timedwait(&p->freed, &p->mu, &ts) != ETIMEDOUT;
}

int rpool_take(struct rpool *p, struct rconn **rc, struct raddr *addr, unsigned *gen,
    int64_t deadline)
{
	int got = -1;

	*rc = NULL;
	pthread_mutex_lock(&p->mu);
	while (p->have_addr) {
		if (p->nidle > 0) {
			*rc = p->idle[--p->nidle];
			got = 1;
			break;
		}
		if (p->open < p->max) {
			p->open++;
			*addr = p->addr;
			*gen = p->gen;
			got = 0;
			break;
		}
		if (!wait_until(p, deadline))
			break;
	}
	pthread_mutex_unlock(&p->mu);
	return got;
}

void rpool_give(struct rpool *p, struct rconn *rc, bool ok)
{
	pthread_mutex_lock(&p->mu);
	if (rc != NULL && ok && rc->gen == p->gen && p->nidle < p->max) {
		p->idle[p->nidle++] = rc;
		rc = NULL;
	} else
		p->open--;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->mu);
	rconn_free(rc);
}

/* drop_idle - under the mutex: close the idle ones (close(2) does not wait on the network) */
static void drop_idle(struct rpool *p)
{
	for (size_t i = 0; i < p->nidle; i++)
		rconn_free(p->idle[i]);
	p->open -= p->nidle;
	p->nidle = 0;
	p->gen++;
}

void rpool_target(struct rpool *p, const struct raddr *addr)
{
	pthread_mutex_lock(&p->mu);
	if (!p->have_addr || !raddr_same(&p->addr, addr)) {
		drop_idle(p);
		p->addr = *addr;
		p->have_addr = true;
	}
	pthread_cond_broadcast(&p->freed);
	pthread_mutex_unlock(&p->mu);
}

bool rpool_current(struct rpool *p, struct raddr *addr)
{
	bool have;

	pthread_mutex_lock(&p->mu);
	have = p->have_addr;
	if (have)
		*addr = p->addr;
	pthread_mutex_unlock(&p->mu);
	return have;
}

void rpool_flush(struct rpool *p)
{
	pthread_mutex_lock(&p->mu);
	drop_idle(p);
	pthread_mutex_unlock(&p->mu);
}

void rpool_add(struct rpool *p, struct rconn *rc)
{
	pthread_mutex_lock(&p->mu);
	if (p->open < p->max) {
		rc->gen = p->gen;
		p->idle[p->nidle++] = rc;
		p->open++;
		rc = NULL;
		pthread_cond_signal(&p->freed);
	}
	pthread_mutex_unlock(&p->mu);
	rconn_free(rc);
}

unsigned rpool_gen(struct rpool *p)
{
	unsigned g;

	pthread_mutex_lock(&p->mu);
	g = p->gen;
	pthread_mutex_unlock(&p->mu);
	return g;
}
