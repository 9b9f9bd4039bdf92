/* policy.h - the relay policy engine: facts in, verdict out */
#ifndef RM_POLICY_H
#define RM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "domainset.h"
#include "ipaddr.h"
#include "netset.h"

struct rule;

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

/* What happens to a connection without a client address (local submission). */
enum no_client {
	NO_CLIENT_TRUSTED,   /* treated like a trusted network (default) */
	NO_CLIENT_UNTRUSTED, /* treated like any outside client */
};

/* Who may use a sender address that a login owns (users, users_file). */
enum sender_ownership {
	SENDER_OWNERSHIP_OFF,           /* no check (default) */
	SENDER_OWNERSHIP_AUTHENTICATED, /* a login may use only the addresses it owns */
	SENDER_OWNERSHIP_EVERYONE,      /* ... and nobody unauthenticated may use an owned one */
};

struct users;

/*
 * The compiled configuration: immutable once built, shared by all threads.
 * The conf module fills it; the engine only reads it.
 */
struct policy {
	struct domainset *local_domains;
	struct netset *trusted_networks;
	struct netset *own_addresses;   /* what user@[literal] may name */
	bool authenticated_relay;
	bool allow_routing_tricks;
	enum no_client no_client;
	struct reply relay_denied;      /* default 550 5.7.1 <%r>: Relay access denied */
	struct reply routing_denied;    /* ... Relay access denied: sender-routed address */
	struct reply invalid_rcpt;      /* malformed recipient address */
	struct rule *rules;             /* ordered rules, before the built-in core */
	size_t nrules;
	const struct geo_provider *geo; /* NULL when no GeoIP database */
	struct users *users;            /* per-login settings; NULL when none */
	enum sender_ownership sender_ownership;
	bool null_sender_reject;        /* an authenticated client may not send from <> */
	bool dry_run;                   /* mode = "dry-run": refusals are logged only */
};

/* Everything the MTA told us about one recipient of one transaction. */
struct facts {
	const struct ipaddr *client; /* NULL: no client address */
	const char *client_name;     /* reverse DNS name, or NULL */
	const char *helo;
	const char *login;           /* SMTP AUTH identity; NULL or "" if none */
	const char *sender;          /* MAIL FROM path as sent */
	const char *rcpt;            /* RCPT TO path as sent (argv[0]) */
	const char *rcpt_mta;        /* the MTA's resolution ({rcpt_addr}), or NULL */
	const char *rcpt_mailer;     /* {rcpt_mailer}, or NULL */
	const struct ipaddr *mta_addrs; /* the MTA's own addresses ({daemon_addr}, {if_addr}) */
	size_t nmta_addrs;
	time_t now;
	/* Filled by the engine on first need and kept for later recipients. */
	struct geo_info geo;
	bool geo_done;
};

/* The outcome for one recipient. */
struct verdict {
	enum action action;      /* ACCEPT, REJECT or TEMPFAIL */
	int code;                /* SMTP code (250 when accepted) */
	char ecode[12];
	char text[512];          /* expanded reply text, printable ASCII only */
	const char *rule;        /* name of the rule that decided */
	const char *reason;      /* short token: local, authenticated, trusted, denied, ... */
	bool dry_run;            /* would have refused; let through */
	/*
	 * A matching rule with dry_run = true is not in force: it is noted here
	 * and judging goes on, so a rule under trial can neither refuse nor let
	 * through a recipient the rest of the policy would judge otherwise.
	 */
	const char *dry_rule;    /* first dry_run rule that matched, or NULL */
	enum action dry_action;  /* what it would have done */
	bool rcpt_local;         /* the recipient is in a local domain */
};

/* One line of an explanation: a rule tried and what it gave. */
struct trace_step {
	const char *rule;
	int result; /* 1 matched, 0 no match, -1 temporary failure */
};

#define POLICY_TRACE_MAX 64

struct trace {
	struct trace_step steps[POLICY_TRACE_MAX];
	size_t n;
};

/* policy_new - an empty policy with the default replies (NULL on ENOMEM) */
struct policy *policy_new(void);

/* policy_free - free a policy and everything it owns */
void policy_free(struct policy *policy);

/*
 * policy_decide - judge one recipient. Never fails: an unparseable
 * recipient is not local, a failed lookup is a temporary failure, and an
 * unauthorised client never relays. trace may be NULL.
 */
void policy_decide(const struct policy *policy, struct facts *facts, struct verdict *out,
    struct trace *trace);

/* action_name - "accept", "reject", "tempfail" or "continue" */
const char *action_name(enum action action);

/* reply_parse - "550 5.7.1 text" into r (text copied); 0 or -1 with *why */
int reply_parse(const char *text, struct reply *r, const char **why);

/* reply_set - fill r from parts (text copied); -1 on ENOMEM */
int reply_set(struct reply *r, int code, const char *ecode, const char *text);

void reply_clear(struct reply *r);

#endif
