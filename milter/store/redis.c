/* redis.c - the shared store: one atomic script per decision on Redis, a bounded answer without it */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decimal.h"
#include "redis.h"
#include "redis_keys.h"
#include "redis_store.h"

#define POOL_MAX      256    /* connections at most: libmilter runs one thread per SMTP client */
#define LOCKCACHE_CAP 100000 /* locks remembered for an outage */

void rs_log(struct redis_store *rs, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (rs->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rs->log(rs->log_arg, level, msg);
}

const char *rs_on_error_name(enum redis_on_error e)
{
	return e == REDIS_ON_ERROR_ACCEPT ? "accept" :
	    e == REDIS_ON_ERROR_LOCAL     ? "local" :
					    "tempfail";
}

/*
 * The arguments of one script call after EVALSHA and its SHA1 (rs_call
 * puts those in front), written as Redis reads them, "$<len>\r\n<bytes>\r\n",
 * into one buffer: hiredis has nothing left to format, and numbers need
 * no printf.
 */
struct rargs {
	struct rkbuf buf;
	size_t start; /* where the open argument's header goes */
	int argc;
};

#define RARG_GAP 13 /* "$", ten digits and CRLF: an argument's header at its longest */

static void rargs_init(struct rargs *a)
{
	rkbuf_init(&a->buf);
	a->argc = 0;
}

/* rargs_begin, rargs_end - one argument is whatever was appended between them */
static void rargs_begin(struct rargs *a)
{
	a->start = a->buf.len;
	rkbuf_add(&a->buf, "$0000000000\r\n", RARG_GAP);
}

/* rargs_end - the header, now that the length is known, closes up to the bytes */
static void rargs_end(struct rargs *a)
{
	char head[RARG_GAP], *e = head;
	size_t n;

	if (a->buf.failed)
		return;
	n = a->buf.len - a->start - RARG_GAP;
	*e++ = '$';
	e = decimal_put(e, n);
	*e++ = '\r';
	*e++ = '\n';
	memmove(a->buf.p + a->start + (e - head), a->buf.p + a->start + RARG_GAP, n);
	memcpy(a->buf.p + a->start, head, (size_t)(e - head));
	a->buf.len = a->start + (size_t)(e - head) + n;
	rkbuf_add(&a->buf, "\r\n", 2);
	a->argc++;
}

static void rargs_str(struct rargs *a, const char *s)
{
	rargs_begin(a);
	rkbuf_add(&a->buf, s, strlen(s));
	rargs_end(a);
}

static void rargs_num(struct rargs *a, unsigned long long v)
{
	char n[DECIMAL_MAX];

	rargs_begin(a);
	rkbuf_add(&a->buf, n, (size_t)(decimal_put(n, v) - n));
	rargs_end(a);
}

/* rargs_key - the hash of a principal: its base, then "p" */
static void rargs_key(struct rargs *a, const char *prefix, const char *principal)
{
	rargs_begin(a);
	rk_base(&a->buf, prefix, principal);
	rkbuf_add(&a->buf, "p", 1);
	rargs_end(a);
}

/* rargs_call - the script with these arguments; RERR_REPLY when the buffer could not grow */
static enum rerr rargs_call(struct redis_store *rs, enum rscript which, struct rargs *a,
    redisReply **r)
{
	*r = NULL;
	if (a->buf.failed)
		return RERR_REPLY; /* out of memory: on_error answers */
	return rs_call(rs, which, a->argc, a->buf.p, a->buf.len, r);
}

/*
 * principal_keys - KEYS: one hash per principal, in the order they first
 * appear; key[i] is the one of check i (from 1). The engine passes one copy
 * of a key to all its checks, so the pointers usually tell.
 */
static void principal_keys(struct redis_store *rs, struct rargs *a, const struct store_check *c,
    size_t n, size_t *key)
{
	size_t np = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		while (k < i && c[k].principal != c[i].principal &&
		    strcmp(c[k].principal, c[i].principal) != 0)
			k++;
		key[i] = k < i ? key[k] : ++np;
	}
	rargs_num(a, np);
	for (size_t i = 0, done = 0; i < n; i++)
		if (key[i] > done) {
			done = key[i];
			rargs_key(a, rs->prefix, c[i].principal);
		}
}

/* put_le - v in n bytes, the least significant first: struct's "<" (redis_script.c) */
static void put_le(char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (char)(v >> 8 * i);
}

/* get_le - what put_le wrote */
static uint64_t get_le(const char *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | (unsigned char)p[i];
	return v;
}

/* double_bits - a double's IEEE 754 bits: put_le writes them as struct packs "d" under "<" */
static uint64_t double_bits(double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	return v;
}

#define SPEC_LEN   26                 /* SPEC: principal, kind, dry_run, add, max, window, lock */
#define ANSWER_LEN 15                 /* OUT: status, first_exceeded, lock_started, count, until */
#define MAX_EXACT  9007199254740992.0 /* 2^53: a max beyond is a double's, and no count reaches it */

/* rargs_spec - check c's numbers as the script unpacks them, key its principal's KEYS index */
static void rargs_spec(struct rargs *a, const struct store_check *c, size_t key)
{
	char s[SPEC_LEN];
	double max = (double)c->max;

	put_le(s, key, 4);
	s[4] = c->kind == STORE_DISTINCT ? 2 : 1;
	s[5] = c->dry_run ? 1 : 0;
	put_le(s + 6, c->add, 4);
	put_le(s + 10, double_bits(max < MAX_EXACT ? max : MAX_EXACT), 8);
	put_le(s + 18, c->window, 4);
	put_le(s + 22, c->lock, 4);
	rargs_begin(a);
	rkbuf_add(&a->buf, s, sizeof(s));
	rargs_end(a);
}

/* decide_args - KEYS and ARGV of the decide script: commit, then spec, member, name a check */
static void decide_args(struct redis_store *rs, struct rargs *a, const struct store_check *c,
    size_t n, bool commit)
{
	size_t onstack[64], *key = n <= 64 ? onstack : malloc(n * sizeof(*key));

	if (key == NULL) {
		a->buf.failed = 1;
		return;
	}
	principal_keys(rs, a, c, n, key);
	rargs_str(a, commit ? "1" : "0");
	for (size_t i = 0; i < n; i++) {
		rargs_spec(a, &c[i], key[i]);
		rargs_str(a, c[i].kind == STORE_DISTINCT && c[i].member ? c[i].member : "");
		rargs_begin(a);
		rk_escape(&a->buf, c[i].limit);
		rargs_end(a);
	}
	if (key != onstack)
		free(key);
}

/* decide_answer - ANSWER_LEN bytes per check into out; -1 when the reply is not that */
static int decide_answer(const redisReply *r, size_t n, struct store_result *out)
{
	if (r->type != REDIS_REPLY_STRING || r->len != ANSWER_LEN * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *e = r->str + ANSWER_LEN * i;
		double count;
		uint64_t bits = get_le(e + 3, 8);

		memcpy(&count, &bits, sizeof(count));
		if (e[0] < 0 || e[0] > 2 || !(count >= 0 && count <= MAX_EXACT))
			return -1;
		out[i].status = e[0] == 2 ? STORE_LOCKED : e[0] == 1 ? STORE_EXCEEDED : STORE_OK;
		out[i].first_exceeded = e[1] != 0;
		out[i].lock_started = e[2] != 0;
		out[i].count = (uint64_t)count;
		out[i].until = (int64_t)get_le(e + 11, 4);
	}
	return 0;
}

/* remember_locks - what Redis said of locks, for an outage */
static void remember_locks(struct redis_store *rs, const struct store_check *c, size_t n,
    const struct store_result *out)
{
	for (size_t i = 0; i < n; i++)
		if (out[i].status == STORE_LOCKED || out[i].lock_started)
			lockcache_put(&rs->locks, c[i].principal, c[i].limit, out[i].until);
		else
			lockcache_del(&rs->locks, c[i].principal, c[i].limit);
}

/* redis_decide - one EVALSHA for the whole decision, or on_error's answer */
static int redis_decide(struct store *s, const struct store_check *checks, size_t n, bool commit,
    struct store_result *out)
{
	struct redis_store *rs = (struct redis_store *)s;
	struct rargs a;
	redisReply *r = NULL;
	int rc = -1;

	if (n == 0)
		return 0;
	if (!atomic_load(&rs->up)) {
		rs_wake_healer(rs);
		return rs_fallback(rs, checks, n, commit, out);
	}
	rargs_init(&a);
	decide_args(rs, &a, checks, n, commit);
	if (rargs_call(rs, RSCRIPT_DECIDE, &a, &r) == RERR_OK)
		rc = decide_answer(r, n, out);
	rkbuf_free(&a.buf);
	if (r != NULL)
		freeReplyObject(r);
	if (rc < 0)
		return rs_fallback(rs, checks, n, commit, out);
	remember_locks(rs, checks, n, out);
	return 0;
}

/* principal_call - status, unlock or reset: KEYS[1] the principal's hash, ARGV[1] its base */
static redisReply *principal_call(struct redis_store *rs, enum rscript which, const char *principal)
{
	struct rargs a;
	redisReply *r = NULL;

	if (!atomic_load(&rs->up)) {
		rs_wake_healer(rs);
		return NULL;
	}
	rargs_init(&a);
	rargs_str(&a, "1");
	rargs_key(&a, rs->prefix, principal);
	rargs_begin(&a);
	rk_base(&a.buf, rs->prefix, principal);
	rargs_end(&a);
	if (rargs_call(rs, which, &a, &r) != RERR_OK)
		r = NULL;
	rkbuf_free(&a.buf);
	return r;
}

/* report_entry - one element of the status script's answer, through fn */
static int report_entry(const char *principal, const redisReply *e, store_entry_fn fn, void *arg)
{
	const char **members = NULL;
	struct store_entry se;
	char *name;
	size_t len;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 6 ||
	    e->element[0]->type != REDIS_REPLY_STRING || e->element[5]->type != REDIS_REPLY_ARRAY)
		return -1;
	len = e->element[0]->len;
	if ((name = malloc(len + 1)) == NULL)
		return -1;
	memcpy(name, e->element[0]->str, len + 1);
	rk_unescape(name, &len);
	memset(&se, 0, sizeof(se));
	se.limit = name;
	se.kind = e->element[1]->type == REDIS_REPLY_STRING && e->element[1]->str[0] == 'd' ?
	    STORE_DISTINCT :
	    STORE_SUM;
	se.count = (uint64_t)e->element[2]->integer;
	se.window = (uint32_t)e->element[3]->integer;
	se.lock_until = e->element[4]->integer;
	se.nmembers = e->element[5]->elements;
	if (se.nmembers > 0 && (members = calloc(se.nmembers, sizeof(*members))) != NULL)
		for (size_t i = 0; i < se.nmembers; i++)
			members[i] = e->element[5]->element[i]->str;
	else
		se.nmembers = 0;
	se.members = members;
	fn(arg, principal, &se);
	free(members);
	free(name);
	return 0;
}

static int redis_status(struct store *s, const char *principal, store_entry_fn fn, void *arg)
{
	struct redis_store *rs = (struct redis_store *)s;
	redisReply *r = principal_call(rs, RSCRIPT_STATUS, principal);
	int rc = 0;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < r->elements; i++)
		rc = report_entry(principal, r->element[i], fn, arg);
	if (r != NULL)
		freeReplyObject(r);
	return rc;
}

/* count_reply - the integer a script answered, or -1 */
static long count_reply(redisReply *r)
{
	long n = r != NULL && r->type == REDIS_REPLY_INTEGER ? (long)r->integer : -1;

	if (r != NULL)
		freeReplyObject(r);
	return n;
}

static long redis_unlock(struct store *s, const char *principal)
{
	struct redis_store *rs = (struct redis_store *)s;

	/* the copies first: a lock lifted stays lifted even if Redis does not answer now */
	lockcache_drop(&rs->locks, principal);
	if (rs->local != NULL)
		rs->local->ops->unlock(rs->local, principal);
	return count_reply(principal_call(rs, RSCRIPT_UNLOCK, principal));
}

static long redis_reset(struct store *s, const char *principal)
{
	struct redis_store *rs = (struct redis_store *)s;

	if (rs->local != NULL)
		rs->local->ops->reset(rs->local, principal);
	return count_reply(principal_call(rs, RSCRIPT_RESET, principal));
}

/* redis_stats - keys and evictions are the local fallback's; Redis keeps its own (INFO keyspace) */
static void redis_stats(struct store *s, struct store_stats *out)
{
	struct redis_store *rs = (struct redis_store *)s;

	memset(out, 0, sizeof(*out));
	if (rs->local != NULL)
		rs->local->ops->stats(rs->local, out);
	out->locks += lockcache_live(&rs->locks, (int64_t)time(NULL));
	out->errors = atomic_load(&rs->errors);
}

static void redis_free(struct store *s)
{
	struct redis_store *rs = (struct redis_store *)s;

	if (rs == NULL)
		return;
	rs_stop_healer(rs);
	rpool_destroy(&rs->pool);
	lockcache_destroy(&rs->locks);
	if (rs->local != NULL)
		rs->local->ops->free(rs->local);
	pthread_mutex_destroy(&rs->shamu);
	pthread_mutex_destroy(&rs->hmu);
	pthread_cond_destroy(&rs->hcv);
	free(rs->servers);
	free(rs->sentinels);
	free(rs->master);
	free(rs->user);
	free(rs->pass);
	free(rs->prefix);
	free(rs);
}

static const struct store_ops redis_ops = {
    .decide = redis_decide,
    .status = redis_status,
    .unlock = redis_unlock,
    .reset = redis_reset,
    .stats = redis_stats,
    .free = redis_free,
};

/* parse_list - the configuration's addresses; -1 with err */
static int parse_list(char *const *text, size_t n, struct raddr **out, char *err, size_t errlen)
{
	const char *why;

	if ((*out = calloc(n ? n : 1, sizeof(**out))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (raddr_parse(text[i], &(*out)[i], &why) < 0) {
			snprintf(err, errlen, "redis server \"%s\": %s", text[i], why);
			return -1;
		}
	return 0;
}

/* dup_or_null - a copy of a setting's string */
static int dup_or_null(const char *s, char **out)
{
	*out = s != NULL ? strdup(s) : NULL;
	return s != NULL && *out == NULL ? -1 : 0;
}

/* copy_settings - what the store keeps of st; -1 with err */
static int copy_settings(struct redis_store *rs, const struct redis_settings *st, char *err,
    size_t errlen)
{
	if (st->sentinel_master == NULL && st->nservers == 0) {
		snprintf(err, errlen, "redis needs servers or a sentinel");
		return -1;
	}
	if (parse_list(st->servers, st->nservers, &rs->servers, err, errlen) < 0 ||
	    parse_list(st->sentinels, st->nsentinels, &rs->sentinels, err, errlen) < 0)
		return -1;
	rs->nservers = st->nservers;
	rs->nsentinels = st->nsentinels;
	if (dup_or_null(st->sentinel_master, &rs->master) < 0 ||
	    dup_or_null(st->username, &rs->user) < 0 || dup_or_null(st->password, &rs->pass) < 0 ||
	    dup_or_null(st->prefix ? st->prefix : "rm:", &rs->prefix) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rs->db = st->database;
	rs->timeout_ms = st->timeout_ms ? st->timeout_ms : 100;
	rs->hosts = st->hosts ? st->hosts : 1;
	rs->on_error = st->on_error;
	rs->log = st->log;
	rs->log_arg = st->log_arg;
	return 0;
}

/* init_sync - the mutexes and the healer's condition (on the monotonic clock) */
static void init_sync(struct redis_store *rs)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&rs->shamu, NULL);
	pthread_mutex_init(&rs->hmu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rs->hcv, &ca);
	pthread_condattr_destroy(&ca);
}

struct store *redis_store_new(const struct redis_settings *st, struct store *local, char *err,
    size_t errlen)
{
	struct redis_store *rs = calloc(1, sizeof(*rs));
	char why[512];
	enum rerr first;

	if (rs == NULL) {
		snprintf(err, errlen, "out of memory");
		if (local != NULL)
			local->ops->free(local);
		return NULL;
	}
	rs->base.ops = &redis_ops;
	rs->local = local;
	init_sync(rs);
	if (rpool_init(&rs->pool, POOL_MAX) < 0 || lockcache_init(&rs->locks, LOCKCACHE_CAP) < 0) {
		snprintf(err, errlen, "out of memory");
		redis_free(&rs->base);
		return NULL;
	}
	if (copy_settings(rs, st, err, errlen) < 0) {
		redis_free(&rs->base);
		return NULL;
	}
	if (rs->on_error == REDIS_ON_ERROR_LOCAL && rs->local == NULL) {
		snprintf(err, errlen, "redis: on_error = \"local\" without a local store");
		redis_free(&rs->base);
		return NULL;
	}
	/* credentials Redis refuses are a configuration error; a Redis away is an outage */
	first = rs_heal(rs, true, why, sizeof(why));
	if (first == RERR_AUTH) {
		snprintf(err, errlen, "redis %s", why);
		redis_free(&rs->base);
		return NULL;
	}
	if (first != RERR_OK)
		rs_log(rs, REDIS_LOG_ERR,
		    "store: redis unavailable at start-up (%s): on_error=%s until it answers", why,
		    rs_on_error_name(rs->on_error));
	return &rs->base;
}
