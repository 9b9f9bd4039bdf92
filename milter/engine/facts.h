/* facts.h - what the engine is told and what it answers: facts, verdict, reply, trace */
#ifndef RM_FACTS_H
#define RM_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ipaddr.h"
#include "steps.h"
#include "store.h"

struct limit_keys; /* limits.h */

/*
 * Rules are tried in order for every recipient, so their number is
 * bounded (the loader refuses more); the verdict and the trace can then
 * hold every rule that continued or was tried, and nothing is dropped.
 */
#define POLICY_RULES_MAX 1024
/*
 * Rate limits are judged for every accepted recipient, and each counts a
 * message in one bit of a transaction's mask: the loader refuses more.
 */
#define LIMITS_MAX 64

enum action {
	ACTION_ACCEPT,   /* this recipient may pass; judging goes on for the others */
	ACTION_REJECT,   /* 5xx */
	ACTION_TEMPFAIL, /* 4xx */
	ACTION_CONTINUE, /* rules only: log and fall through to the next rule */
};

/* An SMTP reply; text may hold %r %s %l %c (recipient, sender, login, client). */
struct reply {
	int code;       /* 250, 451, 550, ... */
	char ecode[12]; /* "5.7.1" */
	char *text;
};

/* Country and ASN of the client, filled by a geo provider when rules need them. */
#define GEO_COUNTRY_UNKNOWN "--" /* private, reserved or unlisted address */
struct geo_info {
	char country[4];    /* ISO 3166 alpha-2, or GEO_COUNTRY_UNKNOWN */
	uint32_t asn;       /* 0 when unknown */
	int status;         /* 0 found, 1 not in database, -1 lookup failed (tempfail) */
	int country_status; /* the same, for the country database alone */
	int asn_status;     /* the same, for the ASN database alone */
};

/* Looks an address up; the milter plugs in libmaxminddb, tests a fixture. */
struct geo_provider {
	int (*lookup)(void *ctx, const struct ipaddr *addr, struct geo_info *out);
	void *ctx;
	bool has_country, has_asn;
};

/*
 * The client's GeoIP answer, kept by whoever owns the connection (the
 * callbacks, --explain) and filled by the engine on first need only: a
 * client is looked up once per connection, and only the engine decides
 * when. Zeroed means "not looked up yet".
 */
struct geo_cache {
	struct geo_info info;
	bool done;
};

/* Everything the MTA told us about one recipient of one transaction. */
struct facts {
	const struct ipaddr *client; /* NULL: no client address */
	const char *client_name;     /* reverse DNS name, or NULL */
	const char *helo;
	const char *login;       /* SMTP AUTH identity; NULL or "" if none */
	const char *sender;      /* MAIL FROM path as sent */
	const char *sender_mta;  /* the MTA's form of it ({mail_addr}), or NULL */
	const char *rcpt;        /* RCPT TO path as sent (argv[0]) */
	const char *rcpt_mta;    /* the MTA's resolution ({rcpt_addr}), or NULL */
	const char *rcpt_mailer; /* {rcpt_mailer}, or NULL */
	/*
	 * Or, when set, rcpt_mailer is asked of this on need: only a bare
	 * {rcpt_addr} (no domain) makes the mailer matter, and the daemon's
	 * macro look-up costs about what a domain lookup does.
	 */
	const char *(*rcpt_mailer_get)(void *arg);
	/* or, when set, sender_mta is asked of this on need: most policies never look */
	const char *(*sender_mta_get)(void *arg);
	/* or, when set, rcpt_mta is asked of this on need: a path that is not local needs none */
	const char *(*rcpt_mta_get)(void *arg);
	void *get_arg;                  /* given to each getter */
	const struct ipaddr *mta_addrs; /* the MTA's own addresses ({daemon_addr}, {if_addr}) */
	size_t nmta_addrs;
	/*
	 * Or, when set, the MTA's own addresses are asked of this on need
	 * (*n of them): only an address literal needs them, and their look-ups
	 * would cost every connection.
	 */
	const struct ipaddr *(*mta_addrs_get)(void *arg, size_t *n);
	time_t now;
	struct geo_cache *geo; /* the connection's; NULL: one lookup per decision */
	/* what the rate limits need: where counts live, and the transaction so far */
	struct store *store;     /* NULL: limits are not judged */
	bool peek;               /* ask the store, count nothing (--explain) */
	unsigned rcpts_accepted; /* recipients of this transaction let through so far */
	uint64_t msgs_counted;   /* bit i: "messages" limit i counted this transaction */
	struct limit_keys
	    *keys; /* the transaction's (limits.h), reset at MAIL; NULL: per decision */
};

/* What one rate limit that applies gave for one recipient. */
#define LIMIT_PRINCIPAL_MAX 300 /* longer keys end in a hash of the whole */
struct limit_seen {
	uint16_t limit; /* index into the policy's limits */
	bool exempt;    /* a per-login override of 0: not counted */
	uint64_t max;   /* after a per-login override */
	struct store_result result;
	/*
	 * The key: in the transaction's limit_keys (facts->keys), which
	 * outlive the decision, or in own (no limit_keys, or a second
	 * grouping of the client's address).
	 */
	const char *principal;
	char own[LIMIT_PRINCIPAL_MAX];
};

/* The outcome for one recipient. */
struct verdict {
	enum action action; /* ACCEPT, REJECT or TEMPFAIL */
	int code;           /* SMTP code (250 when accepted) */
	char ecode[12];
	char text[512];   /* expanded reply text, printable ASCII only */
	enum step step;   /* the built-in step that decided, or STEP_RULE */
	int rule_index;   /* the configured rule that decided; -1 for a built-in step */
	const char *rule; /* the decider's name: the rule's, or the step's */
	enum reason why;
	const char *reason; /* reason_name(why) */
	bool dry_run;       /* would have refused; let through */
	/*
	 * A matching rule with dry_run = true is not in force: it is noted here
	 * and judging goes on, so a rule under trial can neither refuse nor let
	 * through a recipient the rest of the policy would judge otherwise.
	 */
	int dry_rule_index;     /* first dry_run rule that matched, or -1 */
	const char *dry_rule;   /* its name, or NULL */
	enum action dry_action; /* what it would have done */
	bool rcpt_local;        /* the recipient is in a local domain */
	bool geo_lookup;        /* this decision looked the client up */
	size_t ncontinued;      /* matching rules with action "continue", in order */
	uint16_t continued[POLICY_RULES_MAX];
	/* rate limits: the one that refused, and every one that applied */
	int limit_index;       /* the deciding limit (STEP_RATE_LIMIT), or -1 */
	uint64_t msgs_counted; /* facts->msgs_counted and what this recipient counted */
	size_t nlimits;
	struct limit_seen limits[LIMITS_MAX];
};

/* One line of an explanation: a rule or built-in step tried and what it gave. */
struct trace_step {
	enum step step;   /* STEP_RULE: a configured rule */
	int rule_index;   /* the rule (or the limit, for STEP_RATE_LIMIT), or -1 */
	const char *rule; /* its name */
	int result;       /* 1 matched (a limit: refused), 0 no match, -1 temporary failure */
};

/* Every step of one decision: each rule at most once, then the built-in steps. */
struct trace {
	struct trace_step steps[POLICY_RULES_MAX + STEP_N + LIMITS_MAX];
	size_t n;
};

/* action_name - "accept", "reject", "tempfail" or "continue" */
const char *action_name(enum action action);

/* reply_parse - "550 5.7.1 text" into r (text copied); 0 or -1 with *why */
int reply_parse(const char *text, struct reply *r, const char **why);

/* reply_set - fill r from parts (text copied); -1 on ENOMEM */
int reply_set(struct reply *r, int code, const char *ecode, const char *text);

/* reply_clear - free the text and zero r */
void reply_clear(struct reply *r);

#endif
