/* store_settings.h - which store the limits use, and how to reach it (store = { ... }) */
#ifndef RM_STORE_SETTINGS_H
#define RM_STORE_SETTINGS_H

#include <stddef.h>

/* Where limits keep counts and locks (store = { type; ... }); taken at start-up only. */
enum store_type {
	STORE_TYPE_MEMORY, /* in-process, one host (default) */
	STORE_TYPE_REDIS,  /* shared by every host on one Redis (store/redis.c) */
};

/* What a Redis store answers while Redis cannot (on_error). */
enum store_on_error {
	STORE_ON_ERROR_TEMPFAIL, /* decide fails: the engine tempfails 4.3.0 */
	STORE_ON_ERROR_ACCEPT,   /* every check OK, nothing counted (logged, stats.errors) */
	STORE_ON_ERROR_LOCAL,    /* the embedded store, each max divided by hosts */
};

/* The levels of the log callback: syslog's numbers, without its header. */
#define STORE_LOG_ERR     3
#define STORE_LOG_WARNING 4
#define STORE_LOG_INFO    6

/* Where a store reports its state changes (up, down, failover): once each, never per recipient. */
typedef void (*store_log_fn)(void *arg, int level, const char *msg);

struct store_settings {
	enum store_type type;
	unsigned long max_keys; /* memory, and redis's local fallback: principals held at most */
	/* redis: servers tried in turn (the one that is master wins), or sentinels */
	char **servers; /* "HOST:PORT", "[V6]:PORT", "unix:/PATH" */
	size_t nservers;
	char *sentinel_master; /* non-NULL: servers come from these sentinels */
	char **sentinels;      /* "HOST:PORT" */
	size_t nsentinels;
	char *username; /* Redis 6 ACL user, or NULL */
	char *password; /* from password or password_file, or NULL */
	unsigned database;
	char *prefix;        /* of every key name (default "rm:") */
	unsigned timeout_ms; /* connect and each command (default 100) */
	enum store_on_error on_error;
	unsigned hosts; /* on_error = "local": each max divided by it (at least 1) */
	/* set by the program before store_open, never by the configuration */
	store_log_fn log;
	void *log_arg;
};

#endif
