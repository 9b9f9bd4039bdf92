/* isotime.h - a Unix time as ISO 8601 in UTC, the one form the log, replies and --control use */
#ifndef RM_ISOTIME_H
#define RM_ISOTIME_H

#include <stddef.h>
#include <stdint.h>

#define ISOTIME_LEN 32 /* "2026-12-04T19:00:00Z" and a NUL, with room */

/* isotime - "YYYY-MM-DDTHH:MM:SSZ" into buf; the number itself if it is no date */
const char *isotime(int64_t t, char *buf, size_t len);

#endif
