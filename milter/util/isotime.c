/* isotime.c - a Unix time as ISO 8601 in UTC */
#include <stdio.h>
#include <time.h>

#include "isotime.h"

const char *isotime(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}
