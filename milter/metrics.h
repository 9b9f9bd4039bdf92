/* metrics.h - counters of what the milter did, and their Prometheus text */
#ifndef RM_METRICS_H
#define RM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "policy.h"

/*
 * Every counter is a process-wide atomic: the callbacks add with one
 * relaxed increment and never take a lock. Counters by rule and by reason
 * are keyed by name in a fixed table that only ever grows, so a reload that
 * renames or drops a rule never invalidates a pointer a callback holds, and
 * a rule that keeps its name across reloads keeps its counts.
 */
enum metrics_counter {
	METRICS_CONNECTIONS,
	METRICS_TRANSACTIONS,
	METRICS_GEO_LOOKUPS,
	METRICS_GEO_FAILURES,
	METRICS_RELOADS,
	METRICS_RELOAD_FAILURES,
	METRICS_NCOUNTERS
};

/* metrics_add - count one event */
void metrics_add(enum metrics_counter which);

/* metrics_decision - count one recipient verdict: by verdict, rule, reason, dry-run */
void metrics_decision(const struct verdict *v);

/* metrics_geo - count one GeoIP lookup; status < 0 is a failure */
void metrics_geo(int status);

/* metrics_rule_count - a rule's count for one action (dry_run: would-be refusals) */
unsigned long metrics_rule_count(const char *rule, enum action action, bool dry_run);

/* metrics_reason_count - recipients decided with this reason */
unsigned long metrics_reason_count(const char *reason);

/* metrics_counter_value - the value of one simple counter */
unsigned long metrics_counter_value(enum metrics_counter which);

/*
 * metrics_format - every counter in Prometheus text format (version 0.0.4)
 * into a malloc'ed string; NULL on ENOMEM. It pins the current snapshot to
 * report its generation and age, and lists its rules even before they fire.
 */
char *metrics_format(size_t *len);

/* metrics_log - the same counters as "metrics: name value" log lines (SIGUSR2) */
void metrics_log(void);

/* metrics_reset - forget every count and free the name tables (tests, exit) */
void metrics_reset(void);

/* A listening address for the HTTP endpoint. */
struct metrics_listen {
	struct sockaddr_storage ss;
	socklen_t len;
	bool v6;
};

/*
 * metrics_listen_parse - "127.0.0.1:9899" or "[::1]:9899" (numeric only:
 * no DNS at start-up; port 0 picks a free one). 0, or -1 with *why.
 */
int metrics_listen_parse(const char *text, struct metrics_listen *out, const char **why);

#endif
