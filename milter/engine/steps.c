/* steps.c - the built-in steps of the policy and the reasons a verdict gives */
#include <stddef.h>
#include <string.h>

#include "steps.h"

static const char *const step_names[STEP_N] = {
    [STEP_RULE] = NULL,
    [STEP_SENDER_OWNERSHIP] = "sender-ownership",
    [STEP_LOCAL_DOMAIN] = "local-domain",
    [STEP_AUTHENTICATED] = "authenticated",
    [STEP_TRUSTED_NETWORK] = "trusted-network",
    [STEP_DEFAULT_DENY] = "default-deny",
    [STEP_RECIPIENT_LIMIT] = "recipient-limit",
    [STEP_RATE_LIMIT] = "rate-limit",
};

static const char *const reason_names[REASON_N] = {
    [REASON_LOCAL] = "local",
    [REASON_AUTHENTICATED] = "authenticated",
    [REASON_TRUSTED] = "trusted",
    [REASON_NO_CLIENT] = "no-client",
    [REASON_DENIED] = "denied",
    [REASON_ROUTING_TRICK] = "routing-trick",
    [REASON_INVALID_ADDRESS] = "invalid-address",
    [REASON_LOOKUP_FAILURE] = "lookup-failure",
    [REASON_RULE] = "rule",
    [REASON_SENDER_NOT_OWNED] = "sender-not-owned",
    [REASON_NULL_SENDER] = "null-sender",
    [REASON_SENDER_UNVERIFIABLE] = "sender-unverifiable",
    [REASON_LOGIN_NO_RELAY] = "login-no-relay",
    [REASON_LOGIN_COUNTRY] = "login-country",
    [REASON_TOO_MANY_RECIPIENTS] = "too-many-recipients",
    [REASON_RATE_LIMIT] = "rate-limit",
    [REASON_LOCKED] = "locked",
    [REASON_STORE_FAILURE] = "store-failure",
};

/* step_name - the name of a built-in step */
const char *step_name(enum step step)
{
	return step < STEP_N ? step_names[step] : NULL;
}

/* step_find - which built-in step a name is, if any */
enum step step_find(const char *name)
{
	for (int i = STEP_RULE + 1; i < STEP_N; i++)
		if (strcmp(step_names[i], name) == 0)
			return (enum step)i;
	return STEP_RULE;
}

/* reason_name - the token of a reason */
const char *reason_name(enum reason reason)
{
	return reason < REASON_N ? reason_names[reason] : "?";
}
