/* store_settings.h - which store the limits use, and how to reach it (store = { ... }) */
#ifndef RM_STORE_SETTINGS_H
#define RM_STORE_SETTINGS_H

/* Where limits keep counts and locks (store = { type; ... }); taken at start-up only. */
enum store_type {
	STORE_TYPE_MEMORY, /* in-process, one host (default) */
	STORE_TYPE_REDIS,  /* shared by every host on one Redis (store/redis.c) */
};

struct store_settings {
	enum store_type type;
	unsigned long max_keys; /* memory: principals held at most (default 1000000) */
};

#endif
