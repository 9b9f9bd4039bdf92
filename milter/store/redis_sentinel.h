/* redis_sentinel.h - where the master is now, asked of the sentinels */
#ifndef RM_REDIS_SENTINEL_H
#define RM_REDIS_SENTINEL_H

#include <stddef.h>

#include "redis_conn.h"

/*
 * rsentinel_master - SENTINEL get-master-addr-by-name over the sentinels
 * in turn, each within timeout_ms; the first that knows the master
 * answers. 0 with *out, or -1 with err (the last sentinel's failure).
 */
int rsentinel_master(const struct raddr *sentinels, size_t n, const char *master,
    unsigned timeout_ms, struct raddr *out, char *err, size_t errlen);

#endif
