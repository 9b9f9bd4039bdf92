/* store_open.c - the store the settings name, opened at start-up */
#include <stdio.h>

#include "memory.h"
#include "redis.h"
#include "store_open.h"

/* redis_mode - the configuration's on_error, in the Redis store's terms */
static enum redis_on_error redis_mode(enum store_on_error e)
{
	switch (e) {
	case STORE_ON_ERROR_ACCEPT:
		return REDIS_ON_ERROR_ACCEPT;
	case STORE_ON_ERROR_LOCAL:
		return REDIS_ON_ERROR_LOCAL;
	default:
		return REDIS_ON_ERROR_TEMPFAIL;
	}
}

/*
 * open_redis - the shared store, told what it needs of the settings; with
 * on_error = "local" it falls back to an embedded store of its own
 * (max_keys principals)
 */
static struct store *open_redis(const struct store_settings *st, char *err, size_t errlen)
{
	struct store *local = NULL;

	if (st->on_error == STORE_ON_ERROR_LOCAL &&
	    (local = memory_store_new(st->max_keys, NULL, NULL)) == NULL) {
		snprintf(err, errlen, "memory store: out of memory");
		return NULL;
	}
	struct redis_settings rs = {
	    .servers = st->servers,
	    .nservers = st->nservers,
	    .sentinel_master = st->sentinel_master,
	    .sentinels = st->sentinels,
	    .nsentinels = st->nsentinels,
	    .username = st->username,
	    .password = st->password,
	    .prefix = st->prefix,
	    .database = st->database,
	    .timeout_ms = st->timeout_ms,
	    .hosts = st->hosts,
	    .on_error = redis_mode(st->on_error),
	    .log = st->log,
	    .log_arg = st->log_arg,
	};

	return redis_store_new(&rs, local, err, errlen);
}

struct store *store_open(const struct store_settings *st, char *err, size_t errlen)
{
	struct store *s = NULL;

	switch (st->type) {
	case STORE_TYPE_MEMORY:
		if ((s = memory_store_new(st->max_keys, NULL, NULL)) == NULL)
			snprintf(err, errlen, "memory store: out of memory");
		break;
	case STORE_TYPE_REDIS:
		s = open_redis(st, err, errlen);
		break;
	default:
		snprintf(err, errlen, "unknown store type %d", (int)st->type);
		break;
	}
	return s;
}
