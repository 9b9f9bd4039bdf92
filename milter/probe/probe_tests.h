/* probe_tests.h - the relay test battery of relay-probe */
#ifndef RM_PROBE_TESTS_H
#define RM_PROBE_TESTS_H

#include <stddef.h>

#include "probe_smtp.h"

#define PROBE_NAME_MAX  32
#define PROBE_ADDR_MAX  512
#define PROBE_MAX_TESTS 64

/* What a test is for. */
enum probe_kind {
	PROBE_KIND_RELAY,  /* accepting it means the server relays */
	PROBE_KIND_CONTROL /* a local recipient; should be accepted */
};

/* The verdict on one test. */
enum probe_verdict {
	PROBE_V_NOTRUN = 0,
	PROBE_V_ACCEPTED, /* 2xx to RCPT TO */
	PROBE_V_REFUSED,  /* 5xx to MAIL FROM or RCPT TO */
	PROBE_V_TEMPFAIL, /* 4xx to MAIL FROM or RCPT TO */
	PROBE_V_ERROR     /* the session failed during this test */
};

/* What the battery is built from. */
struct probe_params {
	const char *user;           /* local part, e.g. "relay-probe" */
	const char *remote;         /* remote domain, e.g. "example.net" */
	const char *local;          /* the server's domain */
	const char *host;           /* the server's host name */
	const char *literal;        /* the server's address, "[127.0.0.1]" */
	const char *remote_literal; /* a remote address, "[192.0.2.1]" */
	const char *from;           /* default MAIL FROM, or NULL for user@remote */
};

/* One expanded test. */
struct probe_case {
	char name[PROBE_NAME_MAX];
	enum probe_kind kind;
	char from[PROBE_ADDR_MAX]; /* without angle brackets; "" = null sender */
	char rcpt[PROBE_ADDR_MAX];
};

/* The outcome of one test. */
struct probe_result {
	enum probe_verdict verdict;
	const char *stage;              /* "MAIL", "RCPT" or "RSET" */
	struct probe_reply reply;       /* the deciding reply */
	char error[PROBE_ERR_MAX + 64]; /* set when verdict is PROBE_V_ERROR */
};

/* probe_tests_build - expand the battery; returns the number of tests */
size_t probe_tests_build(const struct probe_params *p, struct probe_case *out, size_t max);

/* probe_tests_run - run one test (MAIL, RCPT, RSET); 0 to go on, -1 to stop */
int probe_tests_run(struct probe_smtp *s, const struct probe_case *tc, struct probe_result *res);

/* probe_verdict_name - "ACCEPTED", "refused", ... */
const char *probe_verdict_name(enum probe_verdict v, enum probe_kind kind);

#endif
