/* conf_store.c - store = { type; ... }: where the limits keep their counts and locks */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_loader.h"

#define MAX_KEYS_DEFAULT 1000000UL
#define MAX_KEYS_MAX     100000000UL /* ~10 GB of counters: beyond it, a typo */

/* load_store_type - "memory" or "redis" */
static void load_store_type(struct loader *ld, const config_setting_t *s)
{
	static const char *const words[] = {"memory", "redis", NULL};
	int i;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ld_bad(ld, s, "store: type must be a string");
		return;
	}
	if ((i = ld_word(ld, s, words)) >= 0)
		ld->cfg->settings.store.type = i == 0 ? STORE_TYPE_MEMORY : STORE_TYPE_REDIS;
}

/* load_max_keys - how many principals the embedded store holds at most */
static void load_max_keys(struct loader *ld, const config_setting_t *s)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		ld_bad(ld, s, "store: max_keys must be an integer");
		return;
	}
	v = config_setting_get_int64(s);
	if (ld_int_wrapped(ld, s) || v < 1 || (unsigned long long)v > MAX_KEYS_MAX)
		ld_bad(ld, s, "store: max_keys: %lld: expected 1 to %lu", v, MAX_KEYS_MAX);
	else
		ld->cfg->settings.store.max_keys = (unsigned long)v;
}

/* One row per key of the store group. */
static const struct {
	const char *name;
	void (*load)(struct loader *ld, const config_setting_t *s);
} store_keys[] = {
    {"type", load_store_type},
    {"max_keys", load_max_keys},
};

#define NSTORE_KEYS (sizeof(store_keys) / sizeof(store_keys[0]))

/* conf_store_keys - the store group's keys, for the documentation test */
const char *const *conf_store_keys(void)
{
	static const char *names[NSTORE_KEYS + 1];

	for (size_t i = 0; i < NSTORE_KEYS; i++)
		names[i] = store_keys[i].name;
	return names;
}

/* store_defaults - the embedded store, a million principals */
void store_defaults(struct store_settings *st)
{
	memset(st, 0, sizeof(*st));
	st->type = STORE_TYPE_MEMORY;
	st->max_keys = MAX_KEYS_DEFAULT;
}

/* load_store - store = { type = "memory"; max_keys = N; } */
void load_store(struct loader *ld, const config_setting_t *g)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(s);
		size_t k = 0;

		while (k < sizeof(store_keys) / sizeof(store_keys[0]) &&
		    strcmp(store_keys[k].name, key) != 0)
			k++;
		if (k == sizeof(store_keys) / sizeof(store_keys[0]))
			ld_bad(ld, s, "store: unknown key \"%s\"", key);
		else
			store_keys[k].load(ld, s);
	}
}

/* store_settings_free - what the store settings own */
void store_settings_free(struct store_settings *st)
{
	memset(st, 0, sizeof(*st));
}
