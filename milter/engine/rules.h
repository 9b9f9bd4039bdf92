/* rules.h - ordered relay rules made of small three-way predicates */
#ifndef RM_RULES_H
#define RM_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "domainset.h"
#include "facts.h"
#include "netset.h"

/* The SMTP stage at which a condition's facts first exist. */
enum stage {
	STAGE_CONNECT,
	STAGE_HELO,
	STAGE_MAIL,
	STAGE_RCPT,
};

/*
 * One address as every layer sees it, worked out once per decision: the
 * path the client sent and the MTA's own resolution of it ({rcpt_addr},
 * {mail_addr}). Every condition that looks at an address asks here, so a
 * rule judges what the core judges and what the MTA will act on.
 */
#define VIEW_MAX   6 /* sent, MTA's, and two trick targets of each */
#define TRICKS_MAX 4
struct addr_view {
	const struct addr *form[VIEW_MAX]; /* the domains to judge: sent, then the MTA's */
	size_t n;
	/*
	 * Where the address goes cannot be told from its domains: a routing
	 * trick whose target is no domain, a form without a domain the MTA
	 * qualifies in a way we do not know, or an MTA resolution we cannot
	 * parse. A domain condition is then unsure (COND_UNSURE).
	 */
	bool unknown;
};

/* What one decision knows, parsed once and shared by every predicate. */
struct rule_ctx {
	const struct facts *facts;
	const struct addr *rcpt;
	const struct addr *rcpt_mta; /* {rcpt_addr} parsed, when the MTA sent it: rcpt itself
	                                when it is the path as sent, else rcpt_mta_parsed */
	struct addr rcpt_mta_parsed;
	bool rcpt_mta_same;  /* {rcpt_addr} is the path as sent, and rcpt its parse */
	bool rcpt_mta_asked; /* the three above and has_rcpt_mta are set (policy.c) */
	bool has_rcpt_mta;   /* the MTA sent a non-empty {rcpt_addr} */
	struct addr rcpt_trick[TRICKS_MAX]; /* where routing tricks in them lead */
	size_t ntricks;
	struct addr_view rcpt_view; /* the recipient, resolved: rule_rcpt_view (policy.c) */
	bool rcpt_viewed;           /* rcpt_view and ntricks are set */
	bool rcpt_local;
	bool allow_tricks;              /* policy: allow_routing_tricks */
	const char *sender_origin;      /* policy: what the MTA appends to a bare sender, or NULL */
	const struct geo_provider *geo; /* NULL: no GeoIP database */
	struct geo_cache *geo_cache;    /* facts->geo, or local_geo */
	struct geo_cache local_geo;
	bool geo_lookup; /* this decision looked the client up */
	/* MAIL FROM, parsed on first need (rule_sender): most decisions never look */
	struct addr sender, sender_mta, sender_qualified[VIEW_MAX];
	struct addr_view sender_view;
	bool sender_parsed;
};

/* rule_sender - the parsed MAIL FROM of this decision, as the client sent it */
const struct addr *rule_sender(struct rule_ctx *ctx);

/* rule_rcpt_view - the recipient in every form the core judges (policy.c) */
const struct addr_view *rule_rcpt_view(struct rule_ctx *ctx);

/* rule_sender_view - the sender as the MTA will deliver it (qualified, resolved) */
const struct addr_view *rule_sender_view(struct rule_ctx *ctx);

/*
 * A match result beside 1/0/-1: the forms of an address disagree (one is
 * in the list, another is not: the form sent, the MTA's, where a routing
 * trick leads) or one form's destination is unknown. It holds for a rule
 * that refuses and not for one that accepts, so doubt always ends in a
 * refusal: "recipient_domain = [ local ]; action = accept" never accepts
 * user%remote@local, and a reject rule for remote still stops it.
 */
#define COND_UNSURE 2

/* A condition's configured value: a boolean or a list of strings. */
struct cond_value {
	bool is_list;
	bool flag;
	const char *const *items;
	size_t n;
};

struct cond;

/*
 * One row per condition: a new condition is one row and one match
 * function. match returns 1 (holds), 0 (does not) or -1 (temporary
 * failure: a lookup broke, so the rule cannot be judged).
 */
struct cond_type {
	const char *name; /* configuration key */
	enum stage stage;
	bool wants_list; /* list of strings, else a boolean */
	bool lookup;     /* needs a lookup that may fail (GeoIP): judged last */
	/* compile value into c; on error -1, *why, and *item = the bad element */
	int (*compile)(struct cond *c, const struct cond_value *v, const char **why, size_t *item);
	int (*match)(const struct cond *c, struct rule_ctx *ctx);
	void (*free)(struct cond *c);
};

struct cond {
	const struct cond_type *type;
	bool negate; /* written "not_NAME" */
	bool flag;   /* a boolean's value; for asn: "--" (not in the database) listed */
	struct netset *nets;
	struct domainset *domains;
	char **strings;
	size_t nstrings;
	unsigned long *numbers;
	size_t nnumbers;
};

struct rule {
	char *name;
	struct cond *conds;
	size_t nconds;
	enum action action;
	struct reply reply; /* code 0: the action's default reply */
	bool dry_run;
};

/* cond_type_find - the row for a key ("country" or "not_country"), or NULL */
const struct cond_type *cond_type_find(const char *key, bool *negate);

/* cond_type_names - NULL-terminated list of condition keys (for docs tests) */
const char *const *cond_type_names(void);

/* rule_match - 1 when all conditions hold, 0 when one does not, -1 on failure */
int rule_match(const struct rule *rule, struct rule_ctx *ctx);

/* rule_free_contents - free what a rule owns (not the rule itself) */
void rule_free_contents(struct rule *rule);

/* rule_geo - the client's country and ASN, looked up on first need; never NULL */
const struct geo_info *rule_geo(struct rule_ctx *ctx);

#endif
