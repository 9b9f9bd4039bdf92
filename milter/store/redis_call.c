/* redis_call.c - one script on Redis within the timeout, through the pool */
#include <stdio.h>
#include <string.h>

#include "redis_store.h"

/* log_reply_error - a script error or an out-of-memory Redis: at most once a minute */
static void log_reply_error(struct redis_store *rs, const char *err)
{
	long long now = rconn_now_ms(), last = atomic_load(&rs->reply_error_logged);

	if ((last == 0 || now - last >= 60000) &&
	    atomic_compare_exchange_strong(&rs->reply_error_logged, &last, now))
		rs_log(rs, REDIS_LOG_ERR, "store: redis: %s (decisions get on_error=%s)", err,
		    rs_on_error_name(rs->on_error));
}

/* lend - a connection for this call: pooled, or new (connected and authenticated in time) */
static struct rconn *lend(struct redis_store *rs, int64_t deadline, char *err, size_t errlen)
{
	struct rconn *rc;
	struct raddr a;
	unsigned gen;
	enum rerr why;
	int got = rpool_take(&rs->pool, &rc, &a, &gen, deadline);

	if (got > 0)
		return rc;
	if (got < 0) {
		snprintf(err, errlen, "no connection free within %u ms", rs->timeout_ms);
		return NULL;
	}
	if ((rc = rconn_connect(&a, deadline, err, errlen)) == NULL) {
		rpool_give(&rs->pool, NULL, false);
		rs_trip(rs, err);
		return NULL;
	}
	rc->gen = gen;
	why = rconn_hello(rc, rs->user, rs->pass, rs->db, false, deadline, err, errlen);
	if (why != RERR_OK) {
		rpool_give(&rs->pool, rc, false);
		rs_trip(rs, err);
		return NULL;
	}
	return rc;
}

enum rerr rs_call(struct redis_store *rs, enum rscript which, int argc, const char *args,
    size_t len, redisReply **out)
{
	int64_t deadline = rconn_now_ms() + rs->timeout_ms;
	char err[512];
	struct rconn *rc;
	enum rerr why = RERR_NOSCRIPT;

	*out = NULL;
	if ((rc = lend(rs, deadline, err, sizeof(err))) == NULL)
		return RERR_IO;
	if (atomic_load(&rs->have_sha))
		why = rconn_script(rc, "EVALSHA", rs->sha[which], argc, args, len, deadline, out,
		    err, sizeof(err));
	if (why == RERR_NOSCRIPT) /* a restarted or new master: its script cache is empty */
		why = rconn_script(rc, "EVAL", rscript_text[which], argc, args, len, deadline, out,
		    err, sizeof(err));
	rpool_give(&rs->pool, rc, why != RERR_IO);
	if (why == RERR_IO || why == RERR_ROLE || why == RERR_AUTH)
		rs_trip(rs, err);
	else if (why != RERR_OK)
		log_reply_error(rs, err);
	return why;
}
