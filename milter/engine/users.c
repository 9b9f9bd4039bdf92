/* users.c - per-login settings and the sender ownership index */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "users.h"

/* A string-keyed open-addressing hash table; the key is copied. */
struct slot {
	uint32_t hash; /* 0: empty */
	char *key;
	void *value;
};

struct table {
	struct slot *slots;
	size_t mask, used;
	bool borrowed; /* keys belong to the values (a login): not copied, not freed */
};

/* Who owns one sender pattern: user ids, sorted once the set is finished. */
struct owners {
	unsigned *ids;
	size_t n, cap;
};

struct users {
	struct table by_login;  /* login -> struct user * */
	struct table by_sender; /* "local@domain" or "@domain" -> struct owners * */
	struct user **list;
	size_t n, cap;
};

/* hash - FNV-1a, never 0 */
static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h | 1;
}

/* table_slot - the slot of key, or the empty slot where it belongs */
static struct slot *table_slot(const struct table *t, const char *key, uint32_t h)
{
	size_t i = h & t->mask;

	for (;; i = (i + 1) & t->mask) {
		struct slot *s = &t->slots[i];

		if (s->hash == 0 || (s->hash == h && strcmp(s->key, key) == 0))
			return s;
	}
}

/* table_get - the value stored under key, or NULL */
static void *table_get(const struct table *t, const char *key)
{
	if (t->slots == NULL)
		return NULL;
	return table_slot(t, key, hash(key))->value;
}

/* table_grow - double the table, keeping the load factor at most one half */
static int table_grow(struct table *t)
{
	size_t n = t->slots ? (t->mask + 1) * 2 : 64;
	struct slot *old = t->slots, *s;
	size_t oldn = t->slots ? t->mask + 1 : 0;

	if ((t->slots = calloc(n, sizeof(*t->slots))) == NULL) {
		t->slots = old;
		return -1;
	}
	t->mask = n - 1;
	for (size_t i = 0; i < oldn; i++) {
		if (old[i].hash == 0)
			continue;
		s = table_slot(t, old[i].key, old[i].hash);
		*s = old[i];
	}
	free(old);
	return 0;
}

/* table_put - add key (not present yet) with value, copying key unless borrowed */
static int table_put(struct table *t, const char *key, void *value)
{
	struct slot *s;
	uint32_t h = hash(key);

	if ((t->used + 1) * 2 > (t->slots ? t->mask + 1 : 0) && table_grow(t) < 0)
		return -1;
	s = table_slot(t, key, h);
	if ((s->key = t->borrowed ? (char *)key : strdup(key)) == NULL)
		return -1;
	s->hash = h;
	s->value = value;
	t->used++;
	return 0;
}

/* table_free - free keys and slots; values through fn */
static void table_free(struct table *t, void (*fn)(void *))
{
	for (size_t i = 0; t->slots != NULL && i <= t->mask; i++) {
		if (t->slots[i].hash == 0)
			continue;
		if (!t->borrowed)
			free(t->slots[i].key);
		if (fn != NULL)
			fn(t->slots[i].value);
	}
	free(t->slots);
}

/* users_new - an empty table */
struct users *users_new(void)
{
	struct users *set = calloc(1, sizeof(*set));

	if (set != NULL)
		set->by_login.borrowed = true;
	return set;
}

/* users_add - a new login */
struct user *users_add(struct users *set, const char *login, const char **why)
{
	struct user *u;

	if (login[0] == 0) {
		*why = "empty login";
		return NULL;
	}
	if (table_get(&set->by_login, login) != NULL) {
		*why = "login listed twice";
		return NULL;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct user **l = realloc(set->list, cap * sizeof(*l));

		if (l == NULL)
			goto nomem;
		set->list = l;
		set->cap = cap;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL)
		goto nomem;
	if ((u->login = strdup(login)) == NULL || table_put(&set->by_login, u->login, u) < 0) {
		free(u->login);
		free(u);
		goto nomem;
	}
	u->relay = true;
	u->id = (unsigned)set->n;
	set->list[set->n++] = u;
	return u;
nomem:
	*why = "out of memory";
	return NULL;
}

/* users_get - an existing login, or a new one */
struct user *users_get(struct users *set, const char *login, const char **why)
{
	struct user *u = table_get(&set->by_login, login);

	return u != NULL ? u : users_add(set, login, why);
}

/* users_add_country - one more country the login may relay from */
int users_add_country(struct user *u, const char *code, const char **why)
{
	char(*grown)[3];

	if (!(strcmp(code, "--") == 0 ||
		(strlen(code) == 2 && code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' &&
		    code[1] <= 'Z'))) {
		*why = "expected a two-letter upper-case country code or \"--\"";
		return -1;
	}
	if ((grown = realloc(u->countries, (u->ncountries + 1) * sizeof(*grown))) == NULL) {
		*why = "out of memory";
		return -1;
	}
	u->countries = grown;
	memcpy(u->countries[u->ncountries++], code, 3);
	return 0;
}

/* users_add_override - the login's own max for one limit; a name given twice is an error */
int users_add_override(struct user *u, const char *limit, uint64_t max, const char **why)
{
	struct limit_override *grown;
	char *name;

	for (size_t i = 0; i < u->noverrides; i++)
		if (strcmp(u->overrides[i].name, limit) == 0) {
			*why = "limit named twice";
			return -1;
		}
	if ((name = strdup(limit)) == NULL ||
	    (grown = realloc(u->overrides, (u->noverrides + 1) * sizeof(*grown))) == NULL) {
		free(name);
		*why = "out of memory";
		return -1;
	}
	u->overrides = grown;
	u->overrides[u->noverrides++] = (struct limit_override){name, -1, max};
	return 0;
}

/* users_override - a login has few overrides: a short walk, only for logins that have any */
const struct limit_override *users_override(const struct user *u, int i)
{
	for (size_t k = 0; u != NULL && k < u->noverrides; k++)
		if (u->overrides[k].index == i)
			return &u->overrides[k];
	return NULL;
}

/* lower_copy - ASCII lower case into out */
static void lower_copy(char *out, const char *in)
{
	for (; *in; in++)
		*out++ = (*in >= 'A' && *in <= 'Z') ? (char)(*in + 'a' - 'A') : *in;
	*out = 0;
}

#define KEY_MAX (ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 2)

/* address_key - "local@domain" in lower case, from a parsed mailbox */
static void address_key(const struct addr *a, char key[KEY_MAX])
{
	size_t n;

	lower_copy(key, a->local);
	n = strlen(key);
	key[n++] = '@';
	lower_copy(key + n, a->domain);
}

/* users_add_sender - the login owns an address or a whole domain */
int users_add_sender(struct users *set, struct user *u, const char *pattern, const char **why)
{
	char key[KEY_MAX], probe[ADDR_DOMAIN_MAX + 8];
	struct owners *o;
	struct addr a;
	int whole = pattern[0] == '@';

	/* "@domain" is parsed as "x@domain", so both forms normalise alike (IDN too) */
	if (whole) {
		if (strlen(pattern) > ADDR_DOMAIN_MAX + 1)
			goto bad;
		memcpy(probe, "x", 2);
		strcat(probe, pattern);
		pattern = probe;
	}
	if (addr_parse(pattern, &a) != ADDR_MAILBOX || a.literal || a.tricks != 0)
		goto bad;
	if (whole)
		snprintf(key, sizeof(key), "@%s", a.domain);
	else
		address_key(&a, key);
	if ((o = table_get(&set->by_sender, key)) == NULL) {
		if ((o = calloc(1, sizeof(*o))) == NULL || table_put(&set->by_sender, key, o) < 0) {
			free(o);
			*why = "out of memory";
			return -1;
		}
	}
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 1;
		unsigned *ids = realloc(o->ids, cap * sizeof(*ids));

		if (ids == NULL) {
			*why = "out of memory";
			return -1;
		}
		o->ids = ids;
		o->cap = cap;
	}
	o->ids[o->n++] = u->id;
	return 0;
bad:
	*why = "expected an address or @domain";
	return -1;
}

/* cmp_id - order of user ids, for qsort and bsearch */
static int cmp_id(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* users_finish - sort every owner list once, for binary search */
void users_finish(struct users *set)
{
	struct table *t = &set->by_sender;

	for (size_t i = 0; t->slots != NULL && i <= t->mask; i++) {
		struct owners *o = t->slots[i].value;

		if (t->slots[i].hash != 0 && o->n > 1)
			qsort(o->ids, o->n, sizeof(*o->ids), cmp_id);
	}
}

/* users_find - by login, byte for byte */
const struct user *users_find(const struct users *set, const char *login)
{
	if (set == NULL || login == NULL)
		return NULL;
	return table_get(&set->by_login, login);
}

/* owners_of - who owns the address itself, and who its whole domain */
static void owners_of(const struct users *set, const struct addr *a, const struct owners **addr,
    const struct owners **domain)
{
	char key[KEY_MAX];

	*addr = *domain = NULL;
	if (set == NULL || a->kind != ADDR_MAILBOX || a->literal)
		return;
	address_key(a, key);
	*addr = table_get(&set->by_sender, key);
	/* the last @: a quoted local part may hold one too ("bob@x"@example.org) */
	*domain = table_get(&set->by_sender, strrchr(key, '@'));
}

/* has_id - is this user among the owners? */
static bool has_id(const struct owners *o, unsigned id)
{
	return o != NULL && bsearch(&id, o->ids, o->n, sizeof(*o->ids), cmp_id) != NULL;
}

/* users_owns - does this login own the sender? */
bool users_owns(const struct users *set, const struct user *u, const struct addr *sender)
{
	const struct owners *a, *d;

	if (u == NULL)
		return false;
	owners_of(set, sender, &a, &d);
	return has_id(a, u->id) || has_id(d, u->id);
}

/* users_owned - does anyone own the sender? */
bool users_owned(const struct users *set, const struct addr *sender)
{
	const struct owners *a, *d;

	owners_of(set, sender, &a, &d);
	return a != NULL || d != NULL;
}

/* users_country_ok - no list means anywhere */
bool users_country_ok(const struct user *u, const char *country)
{
	if (u == NULL || u->ncountries == 0)
		return true;
	for (size_t i = 0; i < u->ncountries; i++)
		if (strcmp(u->countries[i], country) == 0)
			return true;
	return false;
}

/* users_count - how many logins */
size_t users_count(const struct users *set)
{
	return set ? set->n : 0;
}

/* owners_free - one owner list */
static void owners_free(void *p)
{
	struct owners *o = p;

	free(o->ids);
	free(o);
}

/* users_free - the table and every login in it */
void users_free(struct users *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++) {
		free(set->list[i]->login);
		free(set->list[i]->countries);
		for (size_t k = 0; k < set->list[i]->noverrides; k++)
			free(set->list[i]->overrides[k].name);
		free(set->list[i]->overrides);
		free(set->list[i]);
	}
	free(set->list);
	table_free(&set->by_login, NULL);
	table_free(&set->by_sender, owners_free);
	free(set);
}
