/* metrics.h - counters of what the milter did, and their Prometheus text */
#ifndef RM_METRICS_H
#define RM_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

/*
 * Every counter is a process-wide atomic: the callbacks add with one
 * relaxed increment and never take a lock. Built-in steps and reasons are
 * counted by their index in the engine's table (steps.h). Configured rules
 * are counted in a table keyed by name that only ever grows: each loaded
 * configuration maps its rule indexes to slots once (metrics_rule_ids), so
 * the RCPT path never hashes a name, a reload never invalidates a slot a
 * callback holds, and a rule that keeps its name keeps its counts.
 */
enum metrics_counter {
	METRICS_CONNECTIONS,
	METRICS_TRANSACTIONS,
	METRICS_GEO_LOOKUPS,
	METRICS_GEO_FAILURES,
	METRICS_RELOADS,
	METRICS_RELOAD_FAILURES,
	METRICS_ACTIVE_CONNECTIONS, /* a gauge: up at connect, down at close */
	METRICS_NCOUNTERS
};

/* metrics_add - count one event */
void metrics_add(enum metrics_counter which);

/* metrics_sub - take one off a gauge */
void metrics_sub(enum metrics_counter which);

/*
 * metrics_rule_ids - the counter slot of each of p's rules, claimed by name
 * now; malloc'ed, for the configuration to keep (NULL on ENOMEM: its rules
 * then count as "other")
 */
unsigned *metrics_rule_ids(const struct policy *p);

/* metrics_limit_ids - the same for p's limits (NULL on ENOMEM: they count as "other") */
unsigned *metrics_limit_ids(const struct policy *p);

/* metrics_limits - count the limits that applied to one recipient, by slot */
void metrics_limits(const struct verdict *v, const unsigned *limit_ids, const struct policy *p);

struct store;

/* metrics_set_store - the store whose keys, evictions and locks a scrape shows */
void metrics_set_store(struct store *store);

/* metrics_decision - count one recipient verdict: by verdict, rule, reason, dry-run */
void metrics_decision(const struct verdict *v, const unsigned *rule_ids);

/*
 * metrics_rcpt_time - one RCPT decision took ns nanoseconds (facts,
 * policy, decision line): relay_milter_rcpt_decision_seconds, a histogram
 */
void metrics_rcpt_time(unsigned long long ns);

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

#endif
