/* explain.h - judge a hypothetical transaction and show why (--explain) */
#ifndef RM_EXPLAIN_H
#define RM_EXPLAIN_H

#include <stdbool.h>
#include <stdio.h>

#include "policy.h"

/* Exit statuses of relay-milter --explain. */
#define EXPLAIN_ACCEPTED 0 /* every recipient would be accepted (dry-run refusals too) */
#define EXPLAIN_REFUSED  1 /* at least one would be rejected or tempfailed */
#define EXPLAIN_USAGE    2 /* bad arguments or a configuration with errors */

/*
 * explain_run - load conf_path with the daemon's own loader, judge each
 * rcpt= of the key=value facts in argv with the daemon's own engine, and
 * print verdict, reply, deciding rule and every rule tried, as text or
 * JSON, to out; errors go to err. Returns an EXPLAIN_* status.
 */
int explain_run(const char *conf_path, int argc, char *const *argv, bool json, FILE *out,
    FILE *err);

struct store;

/*
 * explain_policy - the same with a policy already built (tests plug in a
 * GeoIP fixture this way) and the store whose counts the limits are
 * judged on, read-only (NULL: limits are not judged); facts are checked
 * first, usage errors give 2.
 */
int explain_policy(const struct policy *policy, struct store *store, int argc, char *const *argv,
    bool json, FILE *out, FILE *err);

/* explain_usage - the fact keys --explain understands */
void explain_usage(FILE *fp);

#endif
