/* verdict_log.h - one key=value log line per recipient decision */
#ifndef RM_VERDICT_LOG_H
#define RM_VERDICT_LOG_H

#include "log.h"
#include "policy.h"

/* verdict_format - the decision as key=value pairs (no logging) */
void verdict_format(struct kvline *line, const char *qid, const struct facts *f,
    const struct verdict *v, const struct policy *p);

/* verdict_log - log the decision line */
void verdict_log(const char *qid, const struct facts *f, const struct verdict *v,
    const struct policy *p);

#endif
