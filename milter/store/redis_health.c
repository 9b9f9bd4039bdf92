/* redis_health.c - the Redis store's circuit breaker and the thread that heals it */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "redis_script.h"
#include "redis_sentinel.h"
#include "redis_store.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000

/* load_scripts - SCRIPT LOAD each script once, to learn its SHA1 for EVALSHA */
static enum rerr load_scripts(struct redis_store *rs, struct rconn *rc, char *err, size_t errlen)
{
	char sha[RSCRIPT_N][41];

	if (atomic_load(&rs->have_sha))
		return RERR_OK;
	for (int i = 0; i < RSCRIPT_N; i++) {
		const char *argv[] = {"SCRIPT", "LOAD", rscript_text[i]};
		size_t lens[] = {6, 4, strlen(rscript_text[i])};
		redisReply *r;
		enum rerr why = rconn_command(rc, 3, argv, lens, rconn_now_ms() + rs->timeout_ms,
		    &r, err, errlen);

		if (why != RERR_OK)
			return why;
		if (r->type != REDIS_REPLY_STRING || r->len != 40) {
			snprintf(err, errlen, "SCRIPT LOAD: unexpected reply");
			freeReplyObject(r);
			return RERR_REPLY;
		}
		memcpy(sha[i], r->str, 41);
		freeReplyObject(r);
	}
	pthread_mutex_lock(&rs->shamu);
	memcpy(rs->sha, sha, sizeof(sha));
	atomic_store(&rs->have_sha, true);
	pthread_mutex_unlock(&rs->shamu);
	return RERR_OK;
}

/* try_server - connect to one candidate and check that it is a usable master */
static struct rconn *try_server(struct redis_store *rs, const struct raddr *a, enum rerr *why,
    char *err, size_t errlen)
{
	int64_t deadline = rconn_now_ms() + rs->timeout_ms;
	struct rconn *rc;
	char where[300], msg[512];

	raddr_format(a, where, sizeof(where));
	if ((rc = rconn_connect(a, deadline, msg, sizeof(msg))) == NULL)
		*why = RERR_IO;
	else if ((*why = rconn_hello(rc, rs->user, rs->pass, rs->db, true, deadline, msg,
		      sizeof(msg))) == RERR_OK)
		*why = load_scripts(rs, rc, msg, sizeof(msg));
	if (*why == RERR_OK)
		return rc;
	snprintf(err, errlen, "%s: %s", where, msg);
	rconn_free(rc);
	return NULL;
}

/* candidates - where the master may be: what the sentinels say, or every server */
static size_t candidates(struct redis_store *rs, struct raddr *one, const struct raddr **list,
    char *err, size_t errlen)
{
	if (rs->master == NULL) {
		*list = rs->servers;
		return rs->nservers;
	}
	if (rsentinel_master(rs->sentinels, rs->nsentinels, rs->master, rs->timeout_ms, one, err,
		errlen) < 0)
		return 0;
	*list = one;
	return 1;
}

/* opened - the breaker closes again: log the change once (up, failover) */
static void opened(struct redis_store *rs, const struct raddr *a, bool starting)
{
	char where[300], was[300];

	raddr_format(a, where, sizeof(where));
	if (starting)
		rs_log(rs, REDIS_LOG_INFO,
		    "store: redis %s: connected (database %u, prefix \"%s\")", where, rs->db,
		    rs->prefix);
	else if (rs->have_last && !raddr_same(&rs->last, a)) {
		raddr_format(&rs->last, was, sizeof(was));
		rs_log(rs, REDIS_LOG_WARNING,
		    "store: redis failover: master now %s (was %s); %llu decisions answered by "
		    "on_error=%s meanwhile",
		    where, was, (unsigned long long)atomic_load(&rs->unanswered),
		    rs_on_error_name(rs->on_error));
	} else
		rs_log(rs, REDIS_LOG_WARNING,
		    "store: redis %s: available again; %llu decisions answered by on_error=%s "
		    "meanwhile",
		    where, (unsigned long long)atomic_load(&rs->unanswered),
		    rs_on_error_name(rs->on_error));
	rs->last = *a;
	rs->have_last = true;
}

enum rerr rs_heal(struct redis_store *rs, bool starting, char *err, size_t errlen)
{
	const struct raddr *list;
	struct raddr one;
	enum rerr why = RERR_IO, worst = RERR_IO;
	size_t n = candidates(rs, &one, &list, err, errlen);

	for (size_t i = 0; i < n; i++) {
		struct rconn *rc = try_server(rs, &list[i], &why, err, errlen);

		if (rc != NULL) {
			rpool_target(&rs->pool, &list[i]);
			rpool_add(&rs->pool, rc);
			opened(rs, &list[i], starting);
			atomic_store(&rs->up, 1);
			return RERR_OK;
		}
		if (why == RERR_AUTH)
			worst =
			    why; /* a refusal of our credentials is worth more than a dead server */
	}
	return n == 0 ? RERR_IO : worst == RERR_AUTH ? worst : why;
}

void rs_trip(struct redis_store *rs, const char *why)
{
	struct raddr a;
	char where[300] = "(no master known)";

	if (atomic_exchange(&rs->up, 0) == 0)
		return; /* already down: logged when it went */
	atomic_store(&rs->unanswered, 0);
	if (rpool_current(&rs->pool, &a))
		raddr_format(&a, where, sizeof(where));
	rs_log(rs, REDIS_LOG_ERR, "store: redis %s unavailable (%s): on_error=%s until it answers",
	    where, why, rs_on_error_name(rs->on_error));
	rpool_flush(&rs->pool);
	rs_wake_healer(rs);
}

/* sleep_ms - wait on the healer's condition, so that free need not wait the backoff out */
static void sleep_ms(struct redis_store *rs, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (!rs->stopping && pthread_cond_timedwait(&rs->hcv, &rs->hmu, &ts) != ETIMEDOUT)
		;
}

/* healer - while the breaker is open: try again, backing off from 50 ms to 1 s */
static void *healer(void *arg)
{
	struct redis_store *rs = arg;
	int64_t backoff = BACKOFF_MIN_MS;
	char err[512];

	pthread_mutex_lock(&rs->hmu);
	while (!rs->stopping) {
		if (atomic_load(&rs->up)) {
			pthread_cond_wait(&rs->hcv, &rs->hmu);
			backoff = BACKOFF_MIN_MS;
			continue;
		}
		pthread_mutex_unlock(&rs->hmu);
		enum rerr why = rs_heal(rs, false, err, sizeof(err));
		pthread_mutex_lock(&rs->hmu);
		if (why == RERR_OK)
			continue;
		sleep_ms(rs, backoff);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	pthread_mutex_unlock(&rs->hmu);
	return NULL;
}

void rs_wake_healer(struct redis_store *rs)
{
	pthread_mutex_lock(&rs->hmu);
	/* started on demand, never before the first decision: the daemon may fork after opening */
	if (!rs->healer_started && !rs->stopping &&
	    pthread_create(&rs->healer, NULL, healer, rs) == 0)
		rs->healer_started = true;
	pthread_cond_broadcast(&rs->hcv);
	pthread_mutex_unlock(&rs->hmu);
}

void rs_stop_healer(struct redis_store *rs)
{
	pthread_mutex_lock(&rs->hmu);
	rs->stopping = true;
	pthread_cond_broadcast(&rs->hcv);
	pthread_mutex_unlock(&rs->hmu);
	if (rs->healer_started)
		pthread_join(rs->healer, NULL);
}
