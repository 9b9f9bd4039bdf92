/* redis_sentinel.c - where the master is now, asked of the sentinels */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_sentinel.h"

/* ask_one - one sentinel's answer; 0 with *out, -1 with err */
static int ask_one(const struct raddr *s, const char *master, unsigned timeout_ms,
    struct raddr *out, char *err, size_t errlen)
{
	const char *argv[] = {"SENTINEL", "get-master-addr-by-name", master};
	size_t lens[] = {8, 23, strlen(master)};
	int64_t deadline = rconn_now_ms() + timeout_ms;
	struct rconn *rc;
	redisReply *r = NULL;
	char where[300];
	int ok = -1;

	raddr_format(s, where, sizeof(where));
	if ((rc = rconn_connect(s, deadline, err, errlen)) == NULL)
		goto fail;
	if (rconn_command(rc, 3, argv, lens, deadline, &r, err, errlen) != RERR_OK)
		goto fail;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		snprintf(err, errlen, "does not know master \"%s\"", master);
		goto fail;
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->host, sizeof(out->host), "%s", r->element[0]->str);
	out->port = (unsigned)strtoul(r->element[1]->str, NULL, 10);
	ok = 0;
fail:
	if (ok < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "sentinel %s: %s", where, why);
	}
	if (r != NULL)
		freeReplyObject(r);
	rconn_free(rc);
	return ok;
}

int rsentinel_master(const struct raddr *sentinels, size_t n, const char *master,
    unsigned timeout_ms, struct raddr *out, char *err, size_t errlen)
{
	snprintf(err, errlen, "no sentinel");
	for (size_t i = 0; i < n; i++)
		if (ask_one(&sentinels[i], master, timeout_ms, out, err, errlen) == 0)
			return 0;
	return -1;
}
