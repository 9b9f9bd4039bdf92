/* conf_users.c - users, users_file, sender ownership and the GeoIP databases they need */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geoip.h"
#include "linefile.h"
#include "conf_loader.h"
#include "users.h"

/* need_geo - remember a setting that needs a GeoIP database, checked at the end */
void ld_need_geo(struct loader *ld, const config_setting_t *s, bool country, const char *fmt, ...)
{
	struct geo_need *grown, *n;
	va_list ap;

	if ((grown = realloc(ld->needs, (ld->nneeds + 1) * sizeof(*grown))) == NULL) {
		ld_bad(ld, s, "out of memory");
		return;
	}
	ld->needs = grown;
	n = &ld->needs[ld->nneeds++];
	n->file = ld_file(ld, s);
	n->line = (int)config_setting_source_line(s);
	n->country = country;
	va_start(ap, fmt);
	vsnprintf(n->what, sizeof(n->what), fmt, ap);
	va_end(ap);
}

/* check_geo_needs - a country or asn setting without its database is an error */
static void check_geo_needs(struct loader *ld)
{
	for (size_t i = 0; i < ld->nneeds; i++) {
		const struct geo_need *n = &ld->needs[i];

		if (n->country ? !ld->country_db : !ld->asn_db)
			conf_error(ld->errs, n->file, n->line, "%s needs geoip.%s", n->what,
			    n->country ? "country_db" : "asn_db");
	}
}

/* geoip_handle - the configuration's GeoIP state, created on first need */
static struct geoip *geoip_handle(struct loader *ld, const config_setting_t *s)
{
	if (ld->cfg->geo_handle == NULL) {
		if ((ld->cfg->geo_handle = geoip_new()) == NULL) {
			ld_bad(ld, s, "out of memory");
			return NULL;
		}
		ld->cfg->geo_free = geoip_free;
	}
	return ld->cfg->geo_handle;
}

/*
 * load_geoip - geoip = { country_db = "..."; asn_db = "..."; }: each file
 * is opened now, so a missing or broken database stops the load (and -t)
 * at its own line, and a reload picks up a file geoipupdate replaced.
 */
void load_geoip(struct loader *ld, const config_setting_t *g)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(s);
		bool country = strcmp(key, "country_db") == 0;
		struct geoip *h;
		char err[600];

		if (!country && strcmp(key, "asn_db") != 0) {
			ld_bad(ld, s, "geoip: unknown key \"%s\"", key);
			continue;
		}
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			ld_bad(ld, s, "geoip: %s must be a string", key);
			continue;
		}
		/* configured, even if broken: one error for the file, none for its users */
		*(country ? &ld->country_db : &ld->asn_db) = true;
		if ((h = geoip_handle(ld, s)) == NULL)
			continue;
		if ((country ? geoip_open_country : geoip_open_asn)(h, config_setting_get_string(s),
			err, sizeof(err)) < 0)
			ld_bad(ld, s, "geoip: %s: %s", key, err);
		else
			ld->cfg->policy->geo = geoip_provider(h);
	}
}

/* users_set - the policy's user table, created on first need */
static struct users *users_set(struct loader *ld, const config_setting_t *s)
{
	struct policy *p = ld->cfg->policy;

	if (p->users == NULL && (p->users = users_new()) == NULL)
		ld_bad(ld, s, "out of memory");
	return p->users;
}

/* load_user_strings - a user's senders or countries list, element by element */
static void load_user_strings(struct loader *ld, const config_setting_t *s, struct user *u,
    bool senders)
{
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v, *why = NULL;
		int rc;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			ld_bad(ld, e, "user \"%s\": %s: each element must be a string", u->login,
			    config_setting_name(s));
			continue;
		}
		v = config_setting_get_string(e);
		rc = senders ? users_add_sender(ld->cfg->policy->users, u, v, &why) :
			       users_add_country(u, v, &why);
		if (rc < 0)
			ld_bad(ld, e, "user \"%s\": %s: \"%s\": %s", u->login,
			    config_setting_name(s), v, why);
	}
}

/* remember_override - checked against the limits once every key is read */
static void remember_override(struct loader *ld, const config_setting_t *s, struct user *u)
{
	struct override_src *grown;

	if ((grown = realloc(ld->overrides, (ld->noverrides + 1) * sizeof(*grown))) == NULL) {
		ld_bad(ld, s, "user \"%s\": limits: out of memory", u->login);
		return;
	}
	ld->overrides = grown;
	ld->overrides[ld->noverrides++] = (struct override_src){u, u->noverrides - 1,
	    ld_file(ld, s), (int)config_setting_source_line(s)};
}

/* load_user_limits - limits = { login-day = 100000; unauth-ip = 0; }: 0 exempts */
static void load_user_limits(struct loader *ld, const config_setting_t *g, struct user *u)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *why = NULL;
		char what[300];
		long long v;

		snprintf(what, sizeof(what), "user \"%s\": limits: %s", u->login,
		    config_setting_name(s));
		if (!ld_int(ld, s, what, 0, 1000000000LL, &v))
			continue;
		if (users_add_override(u, config_setting_name(s), (uint64_t)v, &why) < 0)
			ld_bad(ld, s, "user \"%s\": limits: %s: %s", u->login,
			    config_setting_name(s), why);
		else
			remember_override(ld, s, u);
	}
}

/* load_user_entry - one { login = ...; senders = [...]; countries = [...]; relay = ...; } */
static void load_user_entry(struct loader *ld, const config_setting_t *g)
{
	const config_setting_t *login = config_setting_get_member(g, "login");
	const char *why = NULL;
	struct user *u;

	if (login == NULL || config_setting_type(login) != CONFIG_TYPE_STRING) {
		ld_bad(ld, login ? login : g, "users: each user needs a login string");
		return;
	}
	if ((u = users_add(ld->cfg->policy->users, config_setting_get_string(login), &why)) ==
	    NULL) {
		ld_bad(ld, login, "users: login \"%s\": %s", config_setting_get_string(login), why);
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(s);
		bool is_senders = strcmp(key, "senders") == 0;

		if (s == login)
			continue;
		if (strcmp(key, "relay") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_BOOL)
				ld_bad(ld, s, "user \"%s\": relay must be true or false", u->login);
			else
				u->relay = config_setting_get_bool(s);
		} else if (is_senders || strcmp(key, "countries") == 0) {
			if (!ld_type_ok(s, CONFIG_TYPE_LIST)) {
				ld_bad(ld, s, "user \"%s\": %s must be a list", u->login, key);
				continue;
			}
			if (!is_senders && config_setting_length(s) == 0) {
				ld_bad(ld, s,
				    "user \"%s\": countries: empty list (leave it out for no limit)",
				    u->login);
				continue;
			}
			load_user_strings(ld, s, u, is_senders);
			if (!is_senders)
				ld_need_geo(ld, s, true, "user \"%s\": countries", u->login);
		} else if (strcmp(key, "limits") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_GROUP)
				ld_bad(ld, s, "user \"%s\": limits must be a group { NAME = N; }",
				    u->login);
			else
				load_user_limits(ld, s, u);
		} else
			ld_bad(ld, s, "user \"%s\": unknown key \"%s\"", u->login, key);
	}
}

/* load_users - users = ( { login = ...; ... }, ... ) */
void load_users(struct loader *ld, const config_setting_t *s)
{
	if (users_set(ld, s) == NULL)
		return;
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(g) != CONFIG_TYPE_GROUP)
			ld_bad(ld, g, "users: each user must be a group { ... }");
		else
			load_user_entry(ld, g);
	}
}

/* load_users_file - remembered, and read once every key is known */
void load_users_file(struct loader *ld, const config_setting_t *s)
{
	if (config_setting_get_string(s)[0] != '/') {
		ld_bad(ld, s, "users_file: must be an absolute path");
		return;
	}
	if (users_set(ld, s) == NULL)
		return;
	ld->users_file = config_setting_get_string(s);
	ld->users_file_src = ld_file(ld, s);
	ld->users_file_line = (int)config_setting_source_line(s);
}

#define USERS_LINE_MAX 65536

/* users_file_line - "LOGIN SENDER[, SENDER...]"; the senders add to the login's own */
static void users_file_line(void *arg, int lineno, char *line, const char *why)
{
	struct loader *ld = arg;
	struct users *set = ld->cfg->policy->users;
	const char *path = ld->users_file;
	char *login, *tok, *save = NULL;
	struct user *u;
	int n = 0;

	if (why != NULL) {
		conf_error(ld->errs, path, lineno, "%s", why);
		return;
	}
	login = strtok_r(line, " \t", &save);
	if ((u = users_get(set, login, &why)) == NULL) {
		conf_error(ld->errs, path, lineno, "%s: %s", login, why);
		return;
	}
	while ((tok = strtok_r(NULL, " \t,", &save)) != NULL) {
		n++;
		if (users_add_sender(set, u, tok, &why) < 0)
			conf_error(ld->errs, path, lineno, "%s: \"%s\": %s", login, tok, why);
	}
	if (n == 0)
		conf_error(ld->errs, path, lineno, "%s: no sender addresses", login);
}

/*
 * read_users_file - one login a line, then its sender addresses separated
 * by commas or blanks; blank lines and "#" comments are skipped. A login
 * may appear on several lines, and also in "users": its senders add up.
 */
static void read_users_file(struct loader *ld)
{
	char buf[300];
	int rc;

	if (ld->users_file == NULL)
		return;
	if ((rc = linefile_read(ld->users_file, USERS_LINE_MAX, users_file_line, ld)) != 0)
		conf_error(ld->errs, ld->users_file_src, ld->users_file_line, "users_file: %s: %s",
		    ld->users_file, linefile_error(rc, errno, buf, sizeof(buf)));
}

/* load_sender_ownership - "off", "authenticated" or "everyone" */
void load_sender_ownership(struct loader *ld, const config_setting_t *s)
{
	static const char *const words[] = {"off", "authenticated", "everyone", NULL};
	static const enum sender_ownership values[] = {SENDER_OWNERSHIP_OFF,
	    SENDER_OWNERSHIP_AUTHENTICATED, SENDER_OWNERSHIP_EVERYONE};
	int i = ld_word(ld, s, words);

	if (i < 0)
		return;
	ld->cfg->policy->sender_ownership = values[i];
	ld->ownership_src = ld_file(ld, s);
	ld->ownership_line = (int)config_setting_source_line(s);
}

/* load_null_sender - null_sender_authenticated: "allow" or "reject" */
void load_null_sender(struct loader *ld, const config_setting_t *s)
{
	static const char *const words[] = {"allow", "reject", NULL};
	int i = ld_word(ld, s, words);

	if (i >= 0)
		ld->cfg->policy->null_sender_reject = i == 1;
}

/* finish_users_geo - what can be judged only once every key is read */
void finish_users_geo(struct loader *ld)
{
	struct policy *p = ld->cfg->policy;

	read_users_file(ld);
	check_geo_needs(ld);
	if (p->sender_ownership != SENDER_OWNERSHIP_OFF && p->users == NULL)
		conf_error(ld->errs, ld->ownership_src, ld->ownership_line,
		    "sender_ownership: needs users or users_file (nobody would own any address)");
	if (p->users != NULL)
		users_finish(p->users);
	free(ld->needs);
}
