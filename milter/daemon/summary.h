/* summary.h - one start-up (and reload) line that says what is in force */
#ifndef RM_SUMMARY_H
#define RM_SUMMARY_H

#include "snapshot.h"

/*
 * summary_log - "relay-milter VERSION EVENT: config=FILE generation=N
 * local_domains=N trusted_networks=N own_addresses=N users=N rules=N
 * geoip=... mode=enforce socket=SPEC"; in mode dry-run a warning follows
 * that nothing is enforced
 */
void summary_log(const char *event, const struct snapshot *snap, const char *socket);

#endif
