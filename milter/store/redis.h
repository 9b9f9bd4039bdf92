/* redis.h - the shared store: counts and locks on one Redis, for every host */
#ifndef RM_REDIS_H
#define RM_REDIS_H

#include <stddef.h>

#include "store.h"

/* The levels of the log callback: syslog's numbers (STORE_LOG_* too), without its header. */
#define REDIS_LOG_ERR     3
#define REDIS_LOG_WARNING 4
#define REDIS_LOG_INFO    6

typedef void (*redis_log_fn)(void *arg, int level, const char *msg);

/* What a Redis store answers while Redis cannot (on_error; the order of store_on_error). */
enum redis_on_error {
	REDIS_ON_ERROR_TEMPFAIL,
	REDIS_ON_ERROR_ACCEPT,
	REDIS_ON_ERROR_LOCAL,
};

/*
 * What the Redis store is told: store_open fills it from the store
 * settings, so that this module does not depend on them (the strings are
 * copied here; the caller keeps its own).
 */
struct redis_settings {
	char *const *servers; /* "HOST:PORT", "[V6]:PORT", "unix:/PATH" */
	size_t nservers;
	const char *sentinel_master; /* non-NULL: ask these sentinels */
	char *const *sentinels;
	size_t nsentinels;
	const char *username, *password, *prefix;
	unsigned database, timeout_ms, hosts;
	enum redis_on_error on_error;
	redis_log_fn log; /* state changes, once each; NULL: none */
	void *log_arg;
};

/*
 * redis_store_new - a store on the Redis of st (servers, or the master
 * the sentinels name). It connects and authenticates once before it
 * returns: credentials or a database Redis refuses are an error here,
 * with a clear message in err; a Redis that does not answer is not (it
 * is logged, and decisions get st->on_error's answer until it does).
 * local is the store on_error = "local" falls back to (owned from now
 * on; NULL for the other modes).
 */
struct store *redis_store_new(const struct redis_settings *st, struct store *local, char *err,
    size_t errlen);

#endif
