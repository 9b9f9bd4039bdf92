/* policy.h - the relay policy engine: facts in, verdict out */
#ifndef RM_POLICY_H
#define RM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "domainset.h"
#include "facts.h"
#include "limits.h"
#include "netset.h"

struct rule;

/* What happens to a connection without a client address (local submission). */
enum no_client {
	NO_CLIENT_TRUSTED,   /* treated like a trusted network */
	NO_CLIENT_UNTRUSTED, /* treated like any outside client (default) */
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
	struct netset *own_addresses; /* what user@[literal] may name */
	bool authenticated_relay;
	bool allow_routing_tricks;
	enum no_client no_client;
	struct reply relay_denied;   /* default 550 5.7.1 <%r>: Relay access denied */
	struct reply routing_denied; /* ... Relay access denied: sender-routed address */
	struct reply invalid_rcpt;   /* malformed recipient address */
	struct rule *rules;          /* ordered rules, before the built-in core */
	size_t nrules;
	const struct geo_provider *geo; /* NULL when no GeoIP database */
	struct users *users;            /* per-login settings; NULL when none */
	enum sender_ownership sender_ownership;
	char *sender_origin;     /* the domain the MTA appends to a bare sender; NULL: unknown */
	bool null_sender_reject; /* an authenticated client may not send from <> */
	bool dry_run;            /* mode = "dry-run": refusals are logged only */
	unsigned max_rcpts;      /* max_recipients_per_message; 0: no limit */
	struct limit *limits;    /* rate limits, judged for accepted recipients */
	size_t nlimits;
	struct limit_masks limit_masks; /* of limits, made when they are loaded */
};

/* policy_new - an empty policy with the default replies (NULL on ENOMEM) */
struct policy *policy_new(void);

/* policy_free - free a policy and everything it owns */
void policy_free(struct policy *policy);

/*
 * policy_decide - judge one recipient. Never fails: an unparseable
 * recipient is not local, a failed lookup is a temporary failure, and an
 * unauthorised client never relays. trace may be NULL; the verdict alone
 * carries what the decision line needs.
 */
void policy_decide(const struct policy *policy, const struct facts *facts, struct verdict *out,
    struct trace *trace);

#endif
