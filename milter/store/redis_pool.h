/* redis_pool.h - hiredis connections handed to one thread at a time */
#ifndef RM_REDIS_POOL_H
#define RM_REDIS_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "redis_conn.h"

/*
 * A hiredis context is not thread-safe: each is lent to one caller at a
 * time. The mutex guards the idle list only; nobody holds it while
 * talking to Redis. A new target (failover) or an outage bumps the
 * generation, so connections made for the old one are closed when
 * they come back instead of being reused.
 */
struct rpool {
	pthread_mutex_t mu;
	pthread_cond_t freed;
	struct rconn **idle;
	size_t nidle;
	size_t open; /* idle and lent, and slots reserved for new ones */
	size_t max;
	unsigned gen;
	struct raddr addr; /* where new connections go */
	bool have_addr;
};

int rpool_init(struct rpool *p, size_t max);
void rpool_destroy(struct rpool *p);

/*
 * rpool_take - 1 with an idle connection in *rc; 0 with a slot reserved
 * for a new one to *addr of generation *gen (connect, then rpool_give);
 * -1 when there is no target or no slot came free before deadline
 */
int rpool_take(struct rpool *p, struct rconn **rc, struct raddr *addr, unsigned *gen,
    int64_t deadline);

/* rpool_give - back to the pool when ok and still current, else closed; NULL frees a slot */
void rpool_give(struct rpool *p, struct rconn *rc, bool ok);

/* rpool_add - a connection made elsewhere (the healer's) joins the current generation */
void rpool_add(struct rpool *p, struct rconn *rc);

/* rpool_target - where new connections go from now on; the idle ones are closed */
void rpool_target(struct rpool *p, const struct raddr *addr);

/* rpool_current - the target now, false when there is none */
bool rpool_current(struct rpool *p, struct raddr *addr);

/* rpool_flush - close the idle connections; lent ones are closed when they come back */
void rpool_flush(struct rpool *p);

/* rpool_gen - the generation a connection made now belongs to */
unsigned rpool_gen(struct rpool *p);

#endif
