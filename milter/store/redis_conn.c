/* redis_conn.c - one hiredis connection: connect, authenticate, run a command, within a deadline */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

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

/* left - the time before deadline as a timeval, at least 1 ms (0 would mean "wait forever") */
static struct timeval left(int64_t deadline)
{
	int64_t ms = deadline - rconn_now_ms();
	struct timeval tv;

	if (ms < 1)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

struct rconn *rconn_connect(const struct raddr *a, int64_t deadline, char *err, size_t errlen)
{
	struct timeval tv = left(deadline);
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

enum rerr rconn_hello(struct rconn *rc, const char *user, const char *pass, unsigned db,
    bool want_master, int64_t deadline, char *err, size_t errlen)
{
	enum rerr why = RERR_OK;
	char dbs[16];
	int sent = 0;

	redisSetTimeout(rc->c, left(deadline));
	if (pass != NULL) {
		if (user != NULL)
			redisAppendCommand(rc->c, "AUTH %s %s", user, pass);
		else
			redisAppendCommand(rc->c, "AUTH %s", pass);
		sent |= 1;
	}
	if (db != 0) {
		snprintf(dbs, sizeof(dbs), "%u", db);
		redisAppendCommand(rc->c, "SELECT %s", dbs);
		sent |= 2;
	}
	if (want_master) {
		redisAppendCommand(rc->c, "ROLE");
		sent |= 4;
	}
	/* read every reply, so that the connection stays in step; keep the first failure */
	for (int bit = 1; bit <= 4; bit <<= 1) {
		redisReply *r = NULL;
		enum rerr w;

		if (!(sent & bit))
			continue;
		w = take_reply(rc,
		    bit == 1     ? "AUTH" :
			bit == 2 ? "SELECT" :
				   "ROLE",
		    &r, err, errlen);
		if (w == RERR_IO)
			return w;
		if (w == RERR_OK && bit == 4 &&
		    (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
			r->element[0]->type != REDIS_REPLY_STRING ||
			strcmp(r->element[0]->str, "master") != 0)) {
			snprintf(err, errlen, "not a master (ROLE: %s)",
			    r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
				    r->element[0]->type == REDIS_REPLY_STRING ?
				r->element[0]->str :
				"?");
			w = RERR_ROLE;
		}
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
	redisSetTimeout(rc->c, left(deadline));
	if (redisAppendCommandArgv(rc->c, argc, argv, lens) != REDIS_OK)
		return io_error(rc, err, errlen);
	return take_reply(rc, argv[0], out, err, errlen);
}

void rconn_free(struct rconn *rc)
{
	if (rc == NULL)
		return;
	redisFree(rc->c);
	free(rc);
}
