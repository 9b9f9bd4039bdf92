/* steps.h - the built-in steps of the policy and the reasons a verdict gives */
#ifndef RM_STEPS_H
#define RM_STEPS_H

/*
 * The one list of these names: the policy decides with them, the metrics
 * count by them, the decision line and --explain print them. Nothing else
 * spells a step or a reason (tests/layout/seams.sh checks it).
 */
enum step {
	STEP_RULE,             /* a configured rule: its own name is used */
	STEP_SENDER_OWNERSHIP, /* may this client use this MAIL FROM? */
	STEP_LOCAL_DOMAIN,     /* the recipient is ours */
	STEP_AUTHENTICATED,    /* the client logged in */
	STEP_TRUSTED_NETWORK,  /* the client is inside trusted_networks */
	STEP_DEFAULT_DENY,     /* nothing granted relaying */
	STEP_RECIPIENT_LIMIT,  /* max_recipients_per_message, for an accepted recipient */
	STEP_RATE_LIMIT,       /* a configured limit: its own name is used */
	STEP_N
};

enum reason {
	REASON_LOCAL,
	REASON_AUTHENTICATED,
	REASON_TRUSTED,
	REASON_NO_CLIENT,
	REASON_DENIED,
	REASON_ROUTING_TRICK,
	REASON_INVALID_ADDRESS,
	REASON_LOOKUP_FAILURE,
	REASON_RULE,
	REASON_SENDER_NOT_OWNED,
	REASON_NULL_SENDER,
	REASON_SENDER_UNVERIFIABLE,
	REASON_LOGIN_NO_RELAY,
	REASON_LOGIN_COUNTRY,
	REASON_TOO_MANY_RECIPIENTS,
	REASON_RATE_LIMIT,
	REASON_LOCKED,
	REASON_STORE_FAILURE,
	REASON_N
};

/* step_name - "local-domain", ...; NULL for STEP_RULE (the rule has a name) */
const char *step_name(enum step step);

/* step_find - the built-in step called name, or STEP_RULE when none is */
enum step step_find(const char *name);

/* reason_name - "local", "denied", ... */
const char *reason_name(enum reason reason);

#endif
