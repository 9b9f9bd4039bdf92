/* store_open.c - the store the settings name, opened at start-up */
#include <stdio.h>

#include "memory.h"
#include "store_open.h"

struct store *store_open(const struct store_settings *st, char *err, size_t errlen)
{
	struct store *s = NULL;

	switch (st->type) {
	case STORE_TYPE_MEMORY:
		if ((s = memory_store_new(st->max_keys, NULL, NULL)) == NULL)
			snprintf(err, errlen, "memory store: out of memory");
		break;
	case STORE_TYPE_REDIS:
		snprintf(err, errlen, "redis store not built");
		break;
	default:
		snprintf(err, errlen, "unknown store type %d", (int)st->type);
		break;
	}
	return s;
}
