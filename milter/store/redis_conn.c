/* redis_conn.c - one hiredis connection: connect, authenticate, run a command, within a deadline */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "decimal.h"
#include "hostport.h"
#include "redis_conn.h"

int raddr_parse(const char *text, struct raddr *a, const char **why)
{
	struct hostport hp;

	memset(a, 0, sizeof(*a));
	if (strncmp(text, "unix:", 5) == 0) {
		if (text[5] != '/') {
			*why =
			    "a unix socket's path must be absolute (\"unix:/run/redis/redis.sock\")";
			return -1;
		}
		if (strlen(text + 5) >= sizeof(a->host)) {
			*why = "the path is too long";
			return -1;
		}
		a->unix_sock = true;
		strcpy(a->host, text + 5);
		return 0;
	}
	if (hostport_parse(text, 0, &hp, why) < 0)
		return -1;
	snprintf(a->host, sizeof(a->host), "%s", hp.host);
	a->port = hp.port;
	return 0;
}

void raddr_format(const struct raddr *a, char *buf, size_t len)
{
	if (a->unix_sock)
		snprintf(buf, len, "unix:%s", a->host);
	else if (strchr(a->host, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", a->host, a->port);
	else
		snprintf(buf, len, "%s:%u", a->host, a->port);
}

bool raddr_same(const struct raddr *a, const struct raddr *b)
{
	return a->unix_sock == b->unix_sock && a->port == b->port && strcmp(a->host, b->host) == 0;
}

int64_t rconn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ms_left - the milliseconds before deadline, at least 1 (0 would mean "wait forever") */
static int64_t ms_left(int64_t deadline)
{
	int64_t ms = deadline - rconn_now_ms();

	return ms < 1 ? 1 : ms;
}

static struct timeval timeval_of(int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

/*
 * set_timeout - the socket's timeouts to the time before deadline. A call
 * starts with the whole timeout_ms left, nearly always the same millisecond
 * count as the call before: then the two setsockopt calls are not made again.
 */
static void set_timeout(struct rconn *rc, int64_t deadline)
{
	int64_t ms = ms_left(deadline);

	if (ms != rc->timeout_ms) {
		redisSetTimeout(rc->c, timeval_of(ms));
		rc->timeout_ms = ms;
	}
}

struct rconn *rconn_connect(const struct raddr *a, int64_t deadline, char *err, size_t errlen)
{
	struct timeval tv = timeval_of(ms_left(deadline));
	redisContext *c;
	struct rconn *rc;

	c = a->unix_sock ? redisConnectUnixWithTimeout(a->host, tv) :
			   redisConnectWithTimeout(a->host, (int)a->port, tv);
	if (c == NULL || c->err) {
		snprintf(err, errlen, "connect: %s", c ? c->errstr : "out of memory");
		redisFree(c);
		return NULL;
	}
	if ((rc = calloc(1, sizeof(*rc))) == NULL) {
		snprintf(err, errlen, "out of memory");
		redisFree(c);
		return NULL;
	}
	rc->c = c;
	return rc;
}

/* classify - what an error reply means for the store */
static enum rerr classify(const char *msg)
{
	static const struct {
		const char *prefix;
		enum rerr why;
	} table[] = {
	    {"NOSCRIPT", RERR_NOSCRIPT},
	    {"READONLY", RERR_ROLE},
	    {"MASTERDOWN", RERR_ROLE},
	    {"LOADING", RERR_ROLE},
	    {"NOAUTH", RERR_AUTH},
	    {"WRONGPASS", RERR_AUTH},
	    {"NOPERM", RERR_AUTH},
	    {"ERR AUTH", RERR_AUTH},
	    {"ERR invalid password", RERR_AUTH},
	    {"ERR DB index", RERR_AUTH},
	    {"ERR Client sent AUTH", RERR_AUTH},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strncmp(msg, table[i].prefix, strlen(table[i].prefix)) == 0)
			return table[i].why;
	return RERR_REPLY;
}

/* io_error - the context's own error text */
static enum rerr io_error(struct rconn *rc, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", rc->c->err ? rc->c->errstr : "no reply");
	return RERR_IO;
}

/* take_reply - one pipelined reply; an error reply classified */
static enum rerr take_reply(struct rconn *rc, const char *what, redisReply **out, char *err,
    size_t errlen)
{
	void *r = NULL;

	if (redisGetReply(rc->c, &r) != REDIS_OK || r == NULL)
		return io_error(rc, err, errlen);
	*out = r;
	if ((*out)->type == REDIS_REPLY_ERROR) {
		enum rerr why = classify((*out)->str);

		snprintf(err, errlen, "%s: %s", what, (*out)->str);
		freeReplyObject(*out);
		*out = NULL;
		return why;
	}
	return RERR_OK;
}

/* check_master - ROLE's answer: RERR_OK for a master, RERR_ROLE with err for a replica */
static enum rerr check_master(const redisReply *r, char *err, size_t errlen)
{
	const char *role = "?";

	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_STRING)
		role = r->element[0]->str;
	if (strcmp(role, "master") == 0)
		return RERR_OK;
	snprintf(err, errlen, "not a master (ROLE: %s)", role);
	return RERR_ROLE;
}

enum rerr rconn_hello(struct rconn *rc, const char *user, const char *pass, unsigned db,
    bool want_master, int64_t deadline, char *err, size_t errlen)
{
	static const char *const names[] = {"AUTH", "SELECT", "ROLE"};
	bool sent[3] = {pass != NULL, db != 0, want_master};
	enum rerr why = RERR_OK;
	char dbs[16], scratch[256];

	set_timeout(rc, deadline);
	if (pass != NULL && user != NULL)
		redisAppendCommand(rc->c, "AUTH %s %s", user, pass);
	else if (pass != NULL)
		redisAppendCommand(rc->c, "AUTH %s", pass);
	snprintf(dbs, sizeof(dbs), "%u", db);
	if (db != 0)
		redisAppendCommand(rc->c, "SELECT %s", dbs);
	if (want_master)
		redisAppendCommand(rc->c, "ROLE");
	/* read every reply, so that the connection stays in step; keep the first failure */
	for (int i = 0; i < 3; i++) {
		/* its text is the one worth reading (AUTH's, not ROLE's NOAUTH after it) */
		char *text = why == RERR_OK ? err : scratch;
		size_t textlen = why == RERR_OK ? errlen : sizeof(scratch);
		redisReply *r = NULL;
		enum rerr w;

		if (!sent[i])
			continue;
		if ((w = take_reply(rc, names[i], &r, text, textlen)) == RERR_IO)
			return w;
		if (w == RERR_OK && i == 2)
			w = check_master(r, text, textlen);
		if (r != NULL)
			freeReplyObject(r);
		if (why == RERR_OK)
			why = w;
	}
	return why;
}

enum rerr rconn_command(struct rconn *rc, int argc, const char **argv, const size_t *lens,
    int64_t deadline, redisReply **out, char *err, size_t errlen)
{
	*out = NULL;
	set_timeout(rc, deadline);
	if (redisAppendCommandArgv(rc->c, argc, argv, lens) != REDIS_OK)
		return io_error(rc, err, errlen);
	return take_reply(rc, argv[0], out, err, errlen);
}

/* put - s at p; the end */
static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

enum rerr rconn_script(struct rconn *rc, const char *cmd, const char *arg1, int argc,
    const char *args, size_t len, int64_t deadline, redisReply **out, char *err, size_t errlen)
{
	char head[80], *p = head;
	size_t clen = strlen(cmd), alen = strlen(arg1);

	*out = NULL;
	/* cmd is EVALSHA or EVAL: head has room; "*<argc>\r\n$<len>\r\n<cmd>\r\n$<len>\r\n", then arg1, CRLF and the rest */
	*p++ = '*';
	p = decimal_put(p, (uint64_t)argc + 2);
	p = put(p, "\r\n$", 3);
	p = decimal_put(p, clen);
	p = put(put(p, "\r\n", 2), cmd, clen);
	p = put(p, "\r\n$", 3);
	p = put(decimal_put(p, alen), "\r\n", 2);
	set_timeout(rc, deadline);
	if (redisAppendFormattedCommand(rc->c, head, (size_t)(p - head)) != REDIS_OK ||
	    redisAppendFormattedCommand(rc->c, arg1, alen) != REDIS_OK ||
	    redisAppendFormattedCommand(rc->c, "\r\n", 2) != REDIS_OK ||
	    redisAppendFormattedCommand(rc->c, args, len) != REDIS_OK)
		return io_error(rc, err, errlen);
	return take_reply(rc, cmd, out, err, errlen);
}

void rconn_free(struct rconn *rc)
{
	if (rc == NULL)
		return;
	redisFree(rc->c);
	free(rc);
}
