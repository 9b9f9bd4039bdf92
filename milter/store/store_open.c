/* store_open.c - the store the settings name, opened at start-up */
#include <stdio.h>

#include "memory.h"
#include "redis.h"
#include "store_open.h"

/*
 * open_redis - the shared store; with on_error = "local" it falls back to
 * an embedded store of its own (max_keys principals)
 */
static struct store *open_redis(const struct store_settings *st, char *err, size_t errlen)
{
	struct store *local = NULL;

	if (st->on_error == STORE_ON_ERROR_LOCAL &&
	    (local = memory_store_new(st->max_keys, NULL, NULL)) == NULL) {
		snprintf(err, errlen, "memory store: out of memory");
		return NULL;
	}
	return redis_store_new(st, local, err, errlen);
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
