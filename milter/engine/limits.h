/* limits.h - rate limits, quotas and locks: which apply to a recipient, and what the store says */
#ifndef RM_LIMITS_H
#define RM_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "facts.h"
#include "ipaddr.h"
#include "rules.h"
#include "store.h"

/*
 * Limits are judged only for a recipient the policy accepted: they turn
 * an acceptance into a refusal, never the reverse, and a refused
 * recipient is never counted (LIMITS_MAX: facts.h).
 */
#define LIMIT_WINDOW_MAX (30U * 86400U) /* 30 days */
#define LIMIT_NEAR_PCT   90             /* an admission this close to max is logged (near=) */

/* Whose sending a limit counts. */
enum limit_per {
	PER_LOGIN,         /* the SMTP AUTH login */
	PER_CLIENT,        /* the client address, grouped by prefix_v4 / prefix_v6 */
	PER_SENDER,        /* the MAIL FROM address */
	PER_SENDER_DOMAIN, /* its domain */
	PER_N
};

/* What a limit counts. */
enum limit_count {
	COUNT_RECIPIENTS, /* accepted recipients */
	COUNT_MESSAGES,   /* transactions with at least one accepted recipient */
	COUNT_COUNTRIES,  /* distinct client countries (GeoIP) */
	COUNT_NETWORKS,   /* distinct client networks (/24, /48) */
	COUNT_N
};

struct limit {
	/*
	 * The name, the scope (conditions, through the rules' own predicate
	 * table), the action (tempfail or reject), the reply and dry_run.
	 */
	struct rule rule;
	enum limit_per per;
	enum limit_count count;
	uint64_t max;
	uint32_t window; /* seconds */
	uint32_t lock;   /* seconds; 0: exceeding does not lock */
	unsigned prefix_v4, prefix_v6;
};

/*
 * The counting keys of one transaction, each worked out once: login,
 * client, sender and the client's network stay the same from MAIL to the
 * end of the message. The daemon keeps one per transaction and resets it
 * at MAIL (facts->keys); without one, each decision works them out.
 */
struct limit_keys {
	char key[PER_N][LIMIT_PRINCIPAL_MAX];
	signed char state[PER_N];      /* 0 not yet, 1 in key, -1 the transaction has none */
	unsigned prefix_v4, prefix_v6; /* the client key's grouping */
	char network[IPADDR_STRLEN + 8];
	bool network_done;
};

/* limit_keys_reset - a new transaction: nothing worked out yet */
static inline void limit_keys_reset(struct limit_keys *k)
{
	memset(k->state, 0, sizeof(k->state));
	k->network_done = false;
}

/* Why the limits refuse an accepted recipient (limits_judge). */
struct limit_refusal {
	enum reason
	    why;       /* too-many-recipients, rate-limit, locked, lookup-failure, store-failure */
	int limit;     /* the limit that refused, or -1 */
	bool dry_run;  /* a dry_run limit: logged, the recipient let through */
	int64_t until; /* locked: when the lock ends (Unix seconds) */
};

/*
 * Which limits a decision could touch, by what it has: worked out once
 * per configuration, so that a decision without a login passes over the
 * per-login limits without looking at them.
 */
struct limit_masks {
	uint64_t per[PER_N]; /* bit i: limit i counts per this kind of key */
	uint64_t messages;   /* bit i: limit i counts messages */
};

/* limit_masks_make - the masks of limits[0 .. n) */
void limit_masks_make(struct limit_masks *m, const struct limit *limits, size_t n);

/* What limits_judge needs of the policy (policy.c fills it: no include circle). */
struct users;
struct limit_set {
	const struct limit *limits;
	size_t n;
	const struct limit_masks *masks; /* of limits; NULL: worked out per decision */
	unsigned max_rcpts;              /* max_recipients_per_message; 0: none */
	const struct users *users;
};

/*
 * limits_judge - for a recipient the policy accepted: max_recipients_per_
 * message, then every limit that applies, through one store call that
 * checks them together and, unless facts->peek, counts them. Every limit
 * that applied is in v->limits (with its count against max), and
 * v->msgs_counted says which "messages" limits now count the transaction.
 * 1 with r filled when the recipient is refused, else 0.
 */
int limits_judge(const struct limit_set *set, struct rule_ctx *ctx, struct verdict *v,
    struct limit_refusal *r);

/* limit_free_contents - what a limit owns (not the limit) */
void limit_free_contents(struct limit *l);

/* limit_per_name, limit_count_name - the configuration's words */
const char *limit_per_name(enum limit_per per);
const char *limit_count_name(enum limit_count count);

/*
 * limit_principal - the key a limit counts this decision under
 * ("login:alice", "client:2001:db8:1:2::/64", "sender:a@example.com",
 * "sender_domain:example.com") into buf; false when the decision has
 * none (no login for a per-login limit): the limit does not apply.
 */
bool limit_principal(const struct limit *l, struct rule_ctx *ctx, char *buf, size_t len);

/*
 * limit_client_key - "client:" and the client's network for a prefix;
 * also what the control socket uses for "client=ADDR"
 */
void limit_client_key(const struct ipaddr *a, unsigned prefix, char *buf, size_t len);

/* limit_login_key - "login:LOGIN" (the control socket's login=) */
void limit_login_key(const char *login, char *buf, size_t len);

/* limit_sender_key - "sender:a@example.com" or "sender_domain:example.com"; false: none */
bool limit_sender_key(const struct addr *s, const char *raw, bool domain_only, char *buf,
    size_t len);

#endif
