/* users.h - per-login settings: owned sender addresses, relay rights, countries */
#ifndef RM_USERS_H
#define RM_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/*
 * Logins are compared byte for byte, exactly as the MTA passes them in
 * {auth_authen}: whether a site's logins look like addresses or bare names
 * does not matter. Sender patterns are "local@domain" or "@domain" (every
 * address of that domain); they compare without regard to case, the domain
 * in A-label form. Both lookups are hashed: by login, and from a sender
 * address (and from its "@domain") to the logins that own it.
 */
struct users;

/* A login's own max for one rate limit (users: limits = { NAME = N; }); 0: exempt. */
struct limit_override {
	char *name;   /* the limit's name, as written */
	int index;    /* into the policy's limits, set once every key is read; -1 unknown */
	uint64_t max; /* 0: the limit does not count this login */
};

struct user {
	char *login;
	struct limit_override *overrides;
	size_t noverrides;
	bool relay;           /* false: this login never relays */
	char (*countries)[3]; /* ISO codes or "--"; none: from anywhere */
	size_t ncountries;
	unsigned id; /* index, used by the sender index */
};

struct users *users_new(void);

/* users_add - a new login (relay allowed, no country limit); NULL with *why */
struct user *users_add(struct users *set, const char *login, const char **why);

/* users_get - the login if added already, else a new one; NULL with *why */
struct user *users_get(struct users *set, const char *login, const char **why);

/* users_add_country - limit a login to one more country ("GB", or "--") */
int users_add_country(struct user *u, const char *code, const char **why);

/* users_add_sender - the login owns "local@domain" or "@domain"; -1 with *why */
int users_add_sender(struct users *set, struct user *u, const char *pattern, const char **why);

/* users_finish - read-only and thread-safe afterwards */
void users_finish(struct users *set);

/* users_add_override - the login's own max for a limit; -1 with *why */
int users_add_override(struct user *u, const char *limit, uint64_t max, const char **why);

/* users_override - the login's own max for limit index i, or NULL when it has none */
const struct limit_override *users_override(const struct user *u, int i);

/* users_find - the settings of a login, or NULL */
const struct user *users_find(const struct users *set, const char *login);

/* users_owns - does this login own the (parsed) sender address? */
bool users_owns(const struct users *set, const struct user *u, const struct addr *sender);

/* users_owned - does any login own the sender address? */
bool users_owned(const struct users *set, const struct addr *sender);

/* users_country_ok - may the login relay from this country (or "--")? */
bool users_country_ok(const struct user *u, const char *country);

size_t users_count(const struct users *set);
void users_free(struct users *set);

#endif
