/* redis_store.h - the Redis store's state, shared by its files (not for other layers) */
#ifndef RM_REDIS_STORE_H
#define RM_REDIS_STORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "redis_conn.h"
#include "redis_lockcache.h"
#include "redis_pool.h"
#include "redis_script.h"
#include "redis.h"
#include "store.h"

struct redis_store {
	struct store base;
	/* the settings, copied */
	struct raddr *servers, *sentinels;
	size_t nservers, nsentinels;
	char *master, *user, *pass, *prefix;
	unsigned db, timeout_ms, hosts;
	enum redis_on_error on_error;
	redis_log_fn log;
	void *log_arg;
	struct store *local; /* on_error = "local" */
	struct rpool pool;
	struct lockcache locks;
	/* the scripts' SHA1s, learnt once from SCRIPT LOAD; EVAL until then */
	pthread_mutex_t shamu;
	char sha[RSCRIPT_N][41];
	atomic_bool have_sha;
	/* the circuit breaker: decisions go to Redis only while up */
	atomic_int up;
	atomic_uint_fast64_t errors;     /* decisions Redis did not answer, ever */
	atomic_uint_fast64_t unanswered; /* since the current outage began */
	atomic_llong reply_error_logged; /* when an error reply was last logged (monotonic ms) */
	/* the healer thread: finds the master and reconnects while Redis is away */
	pthread_mutex_t hmu;
	pthread_cond_t hcv;
	pthread_t healer;
	bool healer_started, stopping;
	struct raddr last; /* the master last used, to tell a failover */
	bool have_last;
};

/* rs_log - one line through the program's log callback */
void rs_log(struct redis_store *rs, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* rs_on_error_name - the configuration's word */
const char *rs_on_error_name(enum redis_on_error e);

/* redis_health.c */
/*
 * rs_heal - find the master (sentinels, or the servers in turn), connect,
 * authenticate, check its role, load the scripts, and open the breaker
 * again; RERR_OK, or why not with err
 */
enum rerr rs_heal(struct redis_store *rs, bool starting, char *err, size_t errlen);
/* rs_trip - Redis is away: log it once, close the pool, wake the healer */
void rs_trip(struct redis_store *rs, const char *why);
/* rs_wake_healer - start the healer if need be; it runs while the breaker is open */
void rs_wake_healer(struct redis_store *rs);
/* rs_stop_healer - before the store is freed */
void rs_stop_healer(struct redis_store *rs);

/* redis_call.c */
/*
 * rs_call - one script on Redis within timeout_ms: EVALSHA and the SHA1
 * (EVAL and the text on NOSCRIPT), then the argc arguments at args, len
 * bytes already in the protocol's form. RERR_OK with *out
 * (freeReplyObject it); failures that mean Redis is away (I/O, role,
 * credentials) trip the breaker.
 */
enum rerr rs_call(struct redis_store *rs, enum rscript which, int argc, const char *args,
    size_t len, redisReply **out);

/* redis_fallback.c */
/* rs_fallback - the answer of on_error while Redis cannot give one; 0 or -1 like decide */
int rs_fallback(struct redis_store *rs, const struct store_check *checks, size_t n, bool commit,
    struct store_result *out);

#endif
