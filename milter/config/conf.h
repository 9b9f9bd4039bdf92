/* conf.h - read, validate and compile the configuration file */
#ifndef RM_CONF_H
#define RM_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "policy.h"
#include "store_settings.h"

#define CONF_DEFAULT_SOCKET "inet:8894@127.0.0.1"

/* Daemon settings: these take effect only at start-up. */
/* Which decisions get a log line (log_decisions). */
enum log_decisions {
	LOG_DECISIONS_ALL,      /* every recipient (default) */
	LOG_DECISIONS_REFUSALS, /* refusals only, dry-run would-be refusals included */
	LOG_DECISIONS_NONE,
};

/* How a decision line is written (log_format): the same fields either way. */
enum log_format {
	LOG_FORMAT_KV,   /* QID: key=value ... (default) */
	LOG_FORMAT_JSON, /* one JSON object a line, for log shippers */
};

/* Daemon settings: socket, user, pidfile, syslog and metrics take effect only at start-up. */
struct settings {
	char *socket;
	mode_t socket_mode; /* applied to a unix socket after it is created */
	char *socket_group; /* the unix socket's group, so the MTA can reach it; NULL = keep */
	char *user;         /* drop privileges to this user; NULL = stay */
	char *pidfile;
	int syslog_facility;
	char *metrics; /* "127.0.0.1:9899": the HTTP /metrics listener; NULL = off */
	enum log_decisions log_decisions; /* these two apply on reload too */
	enum log_format log_format;
	char *control_socket; /* unix socket of --control; NULL = off */
	struct store_settings store;
};

/* One loaded configuration: the compiled policy plus daemon settings. */
struct config {
	char *path;
	struct policy *policy;
	struct settings settings;
	time_t loaded;
	void *geo_handle; /* owned GeoIP state, freed with the config */
	void (*geo_free)(void *handle);
	unsigned *rule_ids;  /* per rule, its metrics counter slot: set by the daemon, freed here */
	unsigned *limit_ids; /* the same per limit */
};

/*
 * Every problem found in one load, each "FILE:LINE: what is wrong"; and
 * every setting that is valid but opens the relay wide (0.0.0.0/0 among
 * the trusted networks, "com" as a local domain, an accept rule for
 * everyone), each "FILE:LINE: warning: ...". With strict set (-t
 * --strict), such a warning is an error and the load fails.
 */
struct conf_errors {
	char **msgs;
	size_t n;
	char **warns;
	size_t nwarns;
	bool strict;
	size_t lost; /* errors that could not be recorded (out of memory): still errors */
};

/*
 * conf_load - read path and everything it names, and compile it. Returns
 * NULL with errs filled when anything is wrong: a configuration is used
 * whole or not at all.
 */
struct config *conf_load(const char *path, struct conf_errors *errs);

void conf_free(struct config *config);

/* conf_error - record one error (printf-style) */
void conf_error(struct conf_errors *errs, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* conf_warn - record one near-open setting (an error when errs->strict) */
void conf_warn(struct conf_errors *errs, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void conf_errors_free(struct conf_errors *errs);

/* conf_errors_lost - "PATH: out of memory (N errors not recorded)", or NULL if none was lost */
const char *conf_errors_lost(const struct conf_errors *errs, const char *path, char *buf,
    size_t len);

/* store_defaults - the embedded store with its defaults (conf_store.c) */
void store_defaults(struct store_settings *st);

/* store_settings_free - free what store settings own and zero them */
void store_settings_free(struct store_settings *st);

/* conf_keys - NULL-terminated names of every top-level key (for docs tests) */
const char *const *conf_keys(void);

/* conf_limit_keys, conf_store_keys - a limit's own keys, the store group's keys */
const char *const *conf_limit_keys(void);
const char *const *conf_store_keys(void);

/* conf_rule_keys - NULL-terminated names of a rule's own (non-condition) keys */
const char *const *conf_rule_keys(void);

#endif
