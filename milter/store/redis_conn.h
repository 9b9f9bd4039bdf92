/* redis_conn.h - one hiredis connection: connect, authenticate, run a command, within a deadline */
#ifndef RM_REDIS_CONN_H
#define RM_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

/* Where a Redis or a Sentinel listens. */
struct raddr {
	char host[256]; /* a unix socket's path when unix_sock */
	unsigned port;
	bool unix_sock;
};

/* raddr_parse - "HOST:PORT", "[V6]:PORT" or "unix:/PATH"; 0, or -1 with *why */
int raddr_parse(const char *text, struct raddr *a, const char **why);

/* raddr_format - as written in the configuration, for logs */
void raddr_format(const struct raddr *a, char *buf, size_t len);

/* raddr_same - the same server? */
bool raddr_same(const struct raddr *a, const struct raddr *b);

/* What went wrong talking to a server. */
enum rerr {
	RERR_OK,
	RERR_IO,       /* refused, reset, closed or timed out: the server is unavailable */
	RERR_AUTH,     /* it refused our credentials or database: a configuration error */
	RERR_ROLE,     /* not a master (READONLY, a replica, loading): ask again where it is */
	RERR_NOSCRIPT, /* its script cache lacks the script: send it whole */
	RERR_REPLY,    /* any other error reply (a script error, out of memory) */
};

/* A connection, tagged with the pool generation it was made in. */
struct rconn {
	redisContext *c;
	unsigned gen;
	int64_t timeout_ms; /* what the socket's timeouts are set to; 0: not yet */
};

/* rconn_now_ms - a monotonic clock for deadlines */
int64_t rconn_now_ms(void);

/* rconn_connect - connect within the time left before deadline; NULL with err */
struct rconn *rconn_connect(const struct raddr *a, int64_t deadline, char *err, size_t errlen);

/*
 * rconn_hello - AUTH (username and password when set), SELECT db, and
 * with want_master ROLE, in one round trip; RERR_OK or why not, with err
 */
enum rerr rconn_hello(struct rconn *rc, const char *user, const char *pass, unsigned db,
    bool want_master, int64_t deadline, char *err, size_t errlen);

/*
 * rconn_command - one command, binary safe; its reply in *out (the caller
 * frees it) when RERR_OK, else why not with err (the connection is then
 * unusable after RERR_IO)
 */
enum rerr rconn_command(struct rconn *rc, int argc, const char **argv, const size_t *lens,
    int64_t deadline, redisReply **out, char *err, size_t errlen);

/*
 * rconn_script - cmd (EVALSHA or EVAL) with arg1 (the SHA1 or the script),
 * then argc more arguments, len bytes at args already in the protocol's
 * form ("$<len>\r\n<bytes>\r\n" each); the reply as rconn_command's
 */
enum rerr rconn_script(struct rconn *rc, const char *cmd, const char *arg1, int argc,
    const char *args, size_t len, int64_t deadline, redisReply **out, char *err, size_t errlen);

void rconn_free(struct rconn *rc);

#endif
