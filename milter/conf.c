/* conf.c - read, validate and compile the configuration file */
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "conflist.h"
#include "idn.h"
#include "log.h"
#include "geoip.h"
#include "metrics.h"
#include "rules.h"
#include "users.h"

/* A setting that needs a GeoIP database (rule condition, user countries). */
struct geo_need {
	const char *file;
	int line;
	bool country; /* else the ASN database */
	char what[200];
};

/* One load in progress: where errors go, and what is being built. */
struct loader {
	const char *path;
	struct conf_errors *errs;
	struct config *cfg;
	/* users, sender ownership and GeoIP: judged once every key is read */
	struct geo_need *needs;
	size_t nneeds;
	bool country_db, asn_db; /* configured (even if the file is broken) */
	const char *users_file, *users_file_src;
	int users_file_line;
	const char *ownership_src;
	int ownership_line;
};

typedef void (*key_fn)(struct loader *ld, const config_setting_t *s);

/* One row per top-level key: its name, its libconfig type, its loader. */
struct key {
	const char *name;
	int type; /* CONFIG_TYPE_*; CONFIG_TYPE_LIST accepts a list or an array */
	key_fn load;
};

/* conf_error - record one "FILE:LINE: message" */
void conf_error(struct conf_errors *errs, const char *file, int line, const char *fmt, ...)
{
	char msg[1024], *full;
	char **grown;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((grown = realloc(errs->msgs, (errs->n + 1) * sizeof(char *))) == NULL)
		return;
	errs->msgs = grown;
	if (asprintf(&full, "%s:%d: %s", file ? file : "?", line, msg) < 0)
		return;
	errs->msgs[errs->n++] = full;
}

void conf_errors_free(struct conf_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* setting_file - the file a setting came from (it may be @include'd) */
static const char *setting_file(const struct loader *ld, const config_setting_t *s)
{
	const char *f = config_setting_source_file(s);

	return f ? f : ld->path;
}

/* bad - report a problem with one setting, at its own file and line */
static void bad(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void bad(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_error(ld->errs, setting_file(ld, s), (int)config_setting_source_line(s), "%s", msg);
}

/* need_geo - a setting needs a GeoIP database; checked once every key is read */
static void need_geo(struct loader *ld, const config_setting_t *s, bool country,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* type_name - how a libconfig type is called in messages */
static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "true or false";
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		return "a list";
	case CONFIG_TYPE_GROUP:
		return "a group { ... }";
	}
	return "?";
}

/* type_ok - does the setting have the type a key wants? */
static bool type_ok(const config_setting_t *s, int want)
{
	int t = config_setting_type(s);

	if (want == CONFIG_TYPE_LIST)
		return t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY;
	return t == want;
}

/* copy_string - replace *dst with a copy of the setting's string */
static void copy_string(struct loader *ld, const config_setting_t *s, char **dst)
{
	free(*dst);
	if ((*dst = strdup(config_setting_get_string(s))) == NULL)
		bad(ld, s, "out of memory");
}

/* --- list keys: each element a value, or "/file" with one value a line --- */

typedef int (*add_fn)(void *ctx, const char *entry, const char **why);

/* load_list - feed every element (and every line of every named file) to add */
static void load_list(struct loader *ld, const config_setting_t *s, add_fn add, void *ctx)
{
	int n = config_setting_length(s);

	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v, *why = NULL;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			bad(ld, e, "%s: each element must be a string", config_setting_name(s));
			continue;
		}
		v = config_setting_get_string(e);
		if (v[0] == '/')
			conflist_read(v, setting_file(ld, e), (int)config_setting_source_line(e), add,
			    ctx, ld->errs);
		else if (add(ctx, v, &why) < 0)
			bad(ld, e, "%s: \"%s\": %s", config_setting_name(s), v, why);
	}
}

/* add_domain - a local domain, UTF-8 or A-label, with an optional leading dot */
static int add_domain(void *ctx, const char *entry, const char **why)
{
	char ace[300];
	int dot = entry[0] == '.';

	ace[0] = '.';
	if (idn_to_ascii(entry + dot, strlen(entry + dot), ace + 1, sizeof(ace) - 1, why) < 0)
		return -1;
	return domainset_add(ctx, ace + !dot, why);
}

static int add_network(void *ctx, const char *entry, const char **why)
{
	return netset_add(ctx, entry, why);
}

static void load_local_domains(struct loader *ld, const config_setting_t *s)
{
	load_list(ld, s, add_domain, ld->cfg->policy->local_domains);
}

static void load_trusted_networks(struct loader *ld, const config_setting_t *s)
{
	load_list(ld, s, add_network, ld->cfg->policy->trusted_networks);
}

static void load_own_addresses(struct loader *ld, const config_setting_t *s)
{
	load_list(ld, s, add_network, ld->cfg->policy->own_addresses);
}

/* --- scalar keys --- */

static void load_authenticated_relay(struct loader *ld, const config_setting_t *s)
{
	ld->cfg->policy->authenticated_relay = config_setting_get_bool(s);
}

static void load_allow_routing_tricks(struct loader *ld, const config_setting_t *s)
{
	ld->cfg->policy->allow_routing_tricks = config_setting_get_bool(s);
}

/*
 * load_word - the index of the setting's value among words (NULL-ended),
 * or -1 after reporting 'KEY: "v": expected "a", "b" or "c"'
 */
static int load_word(struct loader *ld, const config_setting_t *s, const char *const *words)
{
	const char *v = config_setting_get_string(s);
	char expected[256];
	size_t n = 0, pos = 0;

	for (; words[n] != NULL; n++)
		if (strcmp(v, words[n]) == 0)
			return (int)n;
	expected[0] = 0;
	for (size_t i = 0; i < n && pos < sizeof(expected); i++)
		pos += (size_t)snprintf(expected + pos, sizeof(expected) - pos, "%s\"%s\"",
		    i == 0 ? "" : i + 1 == n ? " or " : ", ", words[i]);
	bad(ld, s, "%s: \"%s\": expected %s", config_setting_name(s), v, expected);
	return -1;
}

static void load_no_client(struct loader *ld, const config_setting_t *s)
{
	static const char *const words[] = {"trusted", "untrusted", NULL};
	int i = load_word(ld, s, words);

	if (i >= 0)
		ld->cfg->policy->no_client = i == 0 ? NO_CLIENT_TRUSTED : NO_CLIENT_UNTRUSTED;
}

static void load_mode(struct loader *ld, const config_setting_t *s)
{
	static const char *const words[] = {"enforce", "dry-run", NULL};
	int i = load_word(ld, s, words);

	if (i >= 0)
		ld->cfg->policy->dry_run = i == 1;
}

/* socket_valid - "unix:/path", "local:/path", "inet:PORT@HOST", "inet6:PORT@HOST" */
static bool socket_valid(const char *v)
{
	const char *p;
	char *end;
	long port;

	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0)
		return strchr(v, '/') != NULL && strchr(v, '/')[1] != 0;
	if (strncmp(v, "inet:", 5) == 0)
		p = v + 5;
	else if (strncmp(v, "inet6:", 6) == 0)
		p = v + 6;
	else
		return false;
	if (*p < '0' || *p > '9')
		return false;
	port = strtol(p, &end, 10);
	return port > 0 && port < 65536 && (*end == 0 || (*end == '@' && end[1] != 0));
}

static void load_socket(struct loader *ld, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (!socket_valid(v))
		bad(ld, s, "socket: \"%s\": expected unix:/path, inet:PORT@HOST or inet6:PORT@HOST", v);
	else
		copy_string(ld, s, &ld->cfg->settings.socket);
}

static void load_socket_mode(struct loader *ld, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	char *end;
	unsigned long m = strtoul(v, &end, 8);

	if (*v < '0' || *v > '7' || *end != 0 || m > 0777)
		bad(ld, s, "socket_mode: \"%s\": expected an octal mode such as \"0660\"", v);
	else
		ld->cfg->settings.socket_mode = (mode_t)m;
}

static void load_user(struct loader *ld, const config_setting_t *s)
{
	if (config_setting_get_string(s)[0] == 0)
		bad(ld, s, "user: must not be empty");
	else
		copy_string(ld, s, &ld->cfg->settings.user);
}

static void load_pidfile(struct loader *ld, const config_setting_t *s)
{
	if (config_setting_get_string(s)[0] != '/')
		bad(ld, s, "pidfile: must be an absolute path");
	else
		copy_string(ld, s, &ld->cfg->settings.pidfile);
}

static void load_facility(struct loader *ld, const config_setting_t *s)
{
	int f = log_facility(config_setting_get_string(s));

	if (f < 0)
		bad(ld, s, "syslog_facility: \"%s\": unknown facility", config_setting_get_string(s));
	else
		ld->cfg->settings.syslog_facility = f;
}

/* load_metrics - the /metrics listener: a numeric "ADDRESS:PORT" */
static void load_metrics(struct loader *ld, const config_setting_t *s)
{
	struct metrics_listen addr;
	const char *why;

	if (metrics_listen_parse(config_setting_get_string(s), &addr, &why) < 0)
		bad(ld, s, "metrics: \"%s\": %s", config_setting_get_string(s), why);
	else
		copy_string(ld, s, &ld->cfg->settings.metrics);
}

/* load_reply_key - a reply template that must be a 4xx or 5xx */
static void load_reply_key(struct loader *ld, const config_setting_t *s, struct reply *r)
{
	const char *why;

	if (reply_parse(config_setting_get_string(s), r, &why) < 0)
		bad(ld, s, "%s: %s", config_setting_name(s), why);
	else if (r->code < 400)
		bad(ld, s, "%s: a refusal needs a 4xx or 5xx code", config_setting_name(s));
}

static void load_relay_denied(struct loader *ld, const config_setting_t *s)
{
	load_reply_key(ld, s, &ld->cfg->policy->relay_denied);
}

static void load_routing_denied(struct loader *ld, const config_setting_t *s)
{
	load_reply_key(ld, s, &ld->cfg->policy->routing_denied);
}

static void load_invalid_rcpt(struct loader *ld, const config_setting_t *s)
{
	load_reply_key(ld, s, &ld->cfg->policy->invalid_rcpt);
}

/* --- rules --- */

/* parse_action - a rule's action word */
static int parse_action(const char *v, enum action *out)
{
	static const enum action all[] = {ACTION_ACCEPT, ACTION_REJECT, ACTION_TEMPFAIL,
	    ACTION_CONTINUE};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(v, action_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	}
	return -1;
}

/* load_cond - one condition of a rule, compiled through its table row */
static void load_cond(struct loader *ld, const config_setting_t *s, struct rule *rule)
{
	const char *key = config_setting_name(s), **items = NULL;
	char (*nums)[24] = NULL;
	const struct cond_type *type;
	struct cond_value v = {0};
	struct cond *c;
	const char *why = NULL;
	size_t bad_item = 0;
	bool negate;

	if ((type = cond_type_find(key, &negate)) == NULL) {
		bad(ld, s, "rule \"%s\": unknown key \"%s\"", rule->name, key);
		return;
	}
	if (!type_ok(s, type->wants_list ? CONFIG_TYPE_LIST : CONFIG_TYPE_BOOL)) {
		bad(ld, s, "rule \"%s\": %s must be %s", rule->name, key,
		    type_name(type->wants_list ? CONFIG_TYPE_LIST : CONFIG_TYPE_BOOL));
		return;
	}
	v.is_list = type->wants_list;
	if (v.is_list) {
		v.n = (size_t)config_setting_length(s);
		if (v.n == 0) {
			bad(ld, s, "rule \"%s\": %s: empty list", rule->name, key);
			return;
		}
		/* Integers (asn = [ 64500 ]) are handed to the row as their decimal text. */
		items = calloc(v.n, sizeof(char *));
		nums = calloc(v.n, sizeof(*nums));
		if (items == NULL || nums == NULL)
			goto out;
		for (size_t i = 0; i < v.n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			int t = config_setting_type(e);

			if (t == CONFIG_TYPE_STRING)
				items[i] = config_setting_get_string(e);
			else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
				snprintf(nums[i], sizeof(nums[i]), "%lld", config_setting_get_int64(e));
				items[i] = nums[i];
			} else {
				bad(ld, e, "rule \"%s\": %s: each element must be a string", rule->name, key);
				goto out;
			}
		}
	} else
		v.flag = config_setting_get_bool(s);
	v.items = items;
	c = &rule->conds[rule->nconds];
	memset(c, 0, sizeof(*c));
	c->type = type;
	c->negate = negate;
	if (type->compile(c, &v, &why, &bad_item) < 0) {
		const config_setting_t *at = v.is_list ? config_setting_get_elem(s, (unsigned)bad_item) : s;

		bad(ld, at ? at : s, "rule \"%s\": %s: %s%s%s%s", rule->name, key,
		    v.is_list ? "\"" : "", v.is_list ? items[bad_item] : "", v.is_list ? "\": " : "", why);
		type->free(c);
	} else {
		rule->nconds++;
		if (type->lookup)
			need_geo(ld, s, strcmp(type->name, "asn") != 0, "rule \"%s\": %s", rule->name,
			    key);
	}
out:
	free(items);
	free(nums);
}

/* The keys of a rule group that are not conditions. */
static const char *const rule_keys[] = {"name", "action", "reply", "dry_run", NULL};

/* conf_rule_keys - NULL-terminated names of a rule's own keys (for docs tests) */
const char *const *conf_rule_keys(void)
{
	return rule_keys;
}

/* rule_setting - the rule's own keys (not conditions); false if s is a condition */
static bool rule_setting(struct loader *ld, const config_setting_t *s, struct rule *rule,
    const config_setting_t **reply)
{
	const char *key = config_setting_name(s);

	if (strcmp(key, "name") == 0 || strcmp(key, "action") == 0) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			bad(ld, s, "rule \"%s\": %s must be a string", rule->name, key);
		return true;
	}
	if (strcmp(key, "reply") == 0) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			bad(ld, s, "rule \"%s\": reply must be a string", rule->name);
		else
			*reply = s;
		return true;
	}
	if (strcmp(key, "dry_run") == 0) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			bad(ld, s, "rule \"%s\": dry_run must be true or false", rule->name);
		else
			rule->dry_run = config_setting_get_bool(s);
		return true;
	}
	return false;
}

/* load_rule_reply - a rule's reply must fit its action */
static void load_rule_reply(struct loader *ld, const config_setting_t *s, struct rule *rule)
{
	const char *why;

	if (rule->action != ACTION_REJECT && rule->action != ACTION_TEMPFAIL) {
		bad(ld, s, "rule \"%s\": a reply needs action \"reject\" or \"tempfail\"", rule->name);
		return;
	}
	if (reply_parse(config_setting_get_string(s), &rule->reply, &why) < 0)
		bad(ld, s, "rule \"%s\": reply: %s", rule->name, why);
	else if (rule->reply.code / 100 != (rule->action == ACTION_REJECT ? 5 : 4))
		bad(ld, s, "rule \"%s\": reply code %d does not fit action \"%s\" (%s)", rule->name,
		    rule->reply.code, action_name(rule->action),
		    rule->action == ACTION_REJECT ? "5xx" : "4xx");
}

/* name_taken - is a rule name used by an earlier rule or the built-in core? */
static bool name_taken(const struct policy *p, const char *name)
{
	static const char *const builtin[] = {"local-domain", "authenticated", "trusted-network",
	    "default-deny", "sender-ownership"};

	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (strcmp(builtin[i], name) == 0)
			return true;
	for (size_t i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].name, name) == 0)
			return true;
	return false;
}

/* load_rule - one { name = ...; conditions...; action = ...; } group */
static void load_rule(struct loader *ld, const config_setting_t *g, struct rule *rule)
{
	const config_setting_t *name = config_setting_get_member(g, "name");
	const config_setting_t *action = config_setting_get_member(g, "action");
	const config_setting_t *reply = NULL;
	int n = config_setting_length(g);
	char fallback[32];

	snprintf(fallback, sizeof(fallback), "#%u", config_setting_index(g) + 1);
	if (name != NULL && config_setting_type(name) == CONFIG_TYPE_STRING &&
	    config_setting_get_string(name)[0] != 0) {
		rule->name = strdup(config_setting_get_string(name));
		if (name_taken(ld->cfg->policy, rule->name))
			bad(ld, name, "rule \"%s\": name used twice (or by a built-in rule)", rule->name);
	} else {
		rule->name = strdup(fallback);
		bad(ld, g, "rule %s: needs a name", fallback);
	}
	if (action == NULL)
		bad(ld, g, "rule \"%s\": needs an action", rule->name);
	else if (config_setting_type(action) == CONFIG_TYPE_STRING &&
	    parse_action(config_setting_get_string(action), &rule->action) < 0)
		bad(ld, action, "rule \"%s\": action \"%s\": expected accept, reject, tempfail or continue",
		    rule->name, config_setting_get_string(action));
	if ((rule->conds = calloc((size_t)n + 1, sizeof(*rule->conds))) == NULL)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);

		if (!rule_setting(ld, s, rule, &reply))
			load_cond(ld, s, rule);
	}
	if (reply != NULL)
		load_rule_reply(ld, reply, rule);
}

static void load_rules(struct loader *ld, const config_setting_t *s)
{
	struct policy *p = ld->cfg->policy;
	int n = config_setting_length(s);

	if ((p->rules = calloc((size_t)n + 1, sizeof(*p->rules))) == NULL)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			bad(ld, g, "rules: each rule must be a group { ... }");
			continue;
		}
		load_rule(ld, g, &p->rules[p->nrules]);
		p->nrules++;
	}
}

/* --- users, sender ownership and GeoIP --- */

/* need_geo - remember a setting that needs a GeoIP database, checked at the end */
static void need_geo(struct loader *ld, const config_setting_t *s, bool country,
    const char *fmt, ...)
{
	struct geo_need *grown, *n;
	va_list ap;

	if ((grown = realloc(ld->needs, (ld->nneeds + 1) * sizeof(*grown))) == NULL)
		return;
	ld->needs = grown;
	n = &ld->needs[ld->nneeds++];
	n->file = setting_file(ld, s);
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
			bad(ld, s, "out of memory");
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
static void load_geoip(struct loader *ld, const config_setting_t *g)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(s);
		bool country = strcmp(key, "country_db") == 0;
		struct geoip *h;
		char err[600];

		if (!country && strcmp(key, "asn_db") != 0) {
			bad(ld, s, "geoip: unknown key \"%s\"", key);
			continue;
		}
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			bad(ld, s, "geoip: %s must be a string", key);
			continue;
		}
		/* configured, even if broken: one error for the file, none for its users */
		*(country ? &ld->country_db : &ld->asn_db) = true;
		if ((h = geoip_handle(ld, s)) == NULL)
			continue;
		if ((country ? geoip_open_country : geoip_open_asn)(h, config_setting_get_string(s), err,
			sizeof(err)) < 0)
			bad(ld, s, "geoip: %s: %s", key, err);
		else
			ld->cfg->policy->geo = geoip_provider(h);
	}
}

/* users_set - the policy's user table, created on first need */
static struct users *users_set(struct loader *ld, const config_setting_t *s)
{
	struct policy *p = ld->cfg->policy;

	if (p->users == NULL && (p->users = users_new()) == NULL)
		bad(ld, s, "out of memory");
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
			bad(ld, e, "user \"%s\": %s: each element must be a string", u->login,
			    config_setting_name(s));
			continue;
		}
		v = config_setting_get_string(e);
		rc = senders ? users_add_sender(ld->cfg->policy->users, u, v, &why) :
			       users_add_country(u, v, &why);
		if (rc < 0)
			bad(ld, e, "user \"%s\": %s: \"%s\": %s", u->login, config_setting_name(s), v,
			    why);
	}
}

/* load_user_entry - one { login = ...; senders = [...]; countries = [...]; relay = ...; } */
static void load_user_entry(struct loader *ld, const config_setting_t *g)
{
	const config_setting_t *login = config_setting_get_member(g, "login");
	const char *why = NULL;
	struct user *u;

	if (login == NULL || config_setting_type(login) != CONFIG_TYPE_STRING) {
		bad(ld, login ? login : g, "users: each user needs a login string");
		return;
	}
	if ((u = users_add(ld->cfg->policy->users, config_setting_get_string(login), &why)) == NULL) {
		bad(ld, login, "users: login \"%s\": %s", config_setting_get_string(login), why);
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
				bad(ld, s, "user \"%s\": relay must be true or false", u->login);
			else
				u->relay = config_setting_get_bool(s);
		} else if (is_senders || strcmp(key, "countries") == 0) {
			if (!type_ok(s, CONFIG_TYPE_LIST)) {
				bad(ld, s, "user \"%s\": %s must be a list", u->login, key);
				continue;
			}
			if (!is_senders && config_setting_length(s) == 0) {
				bad(ld, s, "user \"%s\": countries: empty list (leave it out for no limit)",
				    u->login);
				continue;
			}
			load_user_strings(ld, s, u, is_senders);
			if (!is_senders)
				need_geo(ld, s, true, "user \"%s\": countries", u->login);
		} else
			bad(ld, s, "user \"%s\": unknown key \"%s\"", u->login, key);
	}
}

/* load_users - users = ( { login = ...; ... }, ... ) */
static void load_users(struct loader *ld, const config_setting_t *s)
{
	if (users_set(ld, s) == NULL)
		return;
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(g) != CONFIG_TYPE_GROUP)
			bad(ld, g, "users: each user must be a group { ... }");
		else
			load_user_entry(ld, g);
	}
}

/* load_users_file - remembered, and read once every key is known */
static void load_users_file(struct loader *ld, const config_setting_t *s)
{
	if (config_setting_get_string(s)[0] != '/') {
		bad(ld, s, "users_file: must be an absolute path");
		return;
	}
	if (users_set(ld, s) == NULL)
		return;
	ld->users_file = config_setting_get_string(s);
	ld->users_file_src = setting_file(ld, s);
	ld->users_file_line = (int)config_setting_source_line(s);
}

/* users_file_line - "LOGIN SENDER[, SENDER...]"; the senders add to the login's own */
static void users_file_line(struct loader *ld, char *line, const char *path, int lineno)
{
	struct users *set = ld->cfg->policy->users;
	const char *why = NULL;
	char *login, *tok, *save = NULL;
	struct user *u;
	int n = 0;

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
	char *buf = NULL;
	size_t cap = 0;
	ssize_t got;
	int lineno = 0;
	FILE *fp;

	if (ld->users_file == NULL)
		return;
	if ((fp = fopen(ld->users_file, "r")) == NULL) {
		conf_error(ld->errs, ld->users_file_src, ld->users_file_line,
		    "users_file: %s: cannot open: %s", ld->users_file, strerror(errno));
		return;
	}
	while ((got = getline(&buf, &cap, fp)) != -1) {
		char *p = buf, *hash;

		lineno++;
		if (strlen(buf) != (size_t)got || got > 65536) {
			conf_error(ld->errs, ld->users_file, lineno, "line too long or contains a NUL byte");
			continue;
		}
		if ((hash = strchr(p, '#')) != NULL)
			*hash = 0;
		p[strcspn(p, "\r\n")] = 0;
		p += strspn(p, " \t");
		if (*p != 0)
			users_file_line(ld, p, ld->users_file, lineno);
	}
	if (ferror(fp))
		conf_error(ld->errs, ld->users_file_src, ld->users_file_line,
		    "users_file: %s: read error: %s", ld->users_file, strerror(errno));
	free(buf);
	fclose(fp);
}

/* load_sender_ownership - "off", "authenticated" or "everyone" */
static void load_sender_ownership(struct loader *ld, const config_setting_t *s)
{
	static const char *const words[] = {"off", "authenticated", "everyone", NULL};
	static const enum sender_ownership values[] = {SENDER_OWNERSHIP_OFF,
	    SENDER_OWNERSHIP_AUTHENTICATED, SENDER_OWNERSHIP_EVERYONE};
	int i = load_word(ld, s, words);

	if (i < 0)
		return;
	ld->cfg->policy->sender_ownership = values[i];
	ld->ownership_src = setting_file(ld, s);
	ld->ownership_line = (int)config_setting_source_line(s);
}

/* load_null_sender - null_sender_authenticated: "allow" or "reject" */
static void load_null_sender(struct loader *ld, const config_setting_t *s)
{
	static const char *const words[] = {"allow", "reject", NULL};
	int i = load_word(ld, s, words);

	if (i >= 0)
		ld->cfg->policy->null_sender_reject = i == 1;
}

/* finish_users_geo - what can be judged only once every key is read */
static void finish_users_geo(struct loader *ld)
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

/* Every top-level key, with its type and loader. */
static const struct key top_keys[] = {
	{"socket", CONFIG_TYPE_STRING, load_socket},
	{"socket_mode", CONFIG_TYPE_STRING, load_socket_mode},
	{"user", CONFIG_TYPE_STRING, load_user},
	{"pidfile", CONFIG_TYPE_STRING, load_pidfile},
	{"syslog_facility", CONFIG_TYPE_STRING, load_facility},
	{"metrics", CONFIG_TYPE_STRING, load_metrics},
	{"mode", CONFIG_TYPE_STRING, load_mode},
	{"local_domains", CONFIG_TYPE_LIST, load_local_domains},
	{"trusted_networks", CONFIG_TYPE_LIST, load_trusted_networks},
	{"own_addresses", CONFIG_TYPE_LIST, load_own_addresses},
	{"authenticated_relay", CONFIG_TYPE_BOOL, load_authenticated_relay},
	{"allow_routing_tricks", CONFIG_TYPE_BOOL, load_allow_routing_tricks},
	{"no_client_address", CONFIG_TYPE_STRING, load_no_client},
	{"relay_denied_reply", CONFIG_TYPE_STRING, load_relay_denied},
	{"routing_denied_reply", CONFIG_TYPE_STRING, load_routing_denied},
	{"invalid_recipient_reply", CONFIG_TYPE_STRING, load_invalid_rcpt},
	{"rules", CONFIG_TYPE_LIST, load_rules},
	/* users, sender ownership and GeoIP */
	{"geoip", CONFIG_TYPE_GROUP, load_geoip},
	{"users", CONFIG_TYPE_LIST, load_users},
	{"users_file", CONFIG_TYPE_STRING, load_users_file},
	{"sender_ownership", CONFIG_TYPE_STRING, load_sender_ownership},
	{"null_sender_authenticated", CONFIG_TYPE_STRING, load_null_sender},
};

#define NKEYS (sizeof(top_keys) / sizeof(top_keys[0]))

/* conf_keys - every top-level key */
const char *const *conf_keys(void)
{
	static const char *names[NKEYS + 1];

	for (size_t i = 0; i < NKEYS; i++)
		names[i] = top_keys[i].name;
	return names;
}

/* load_top - dispatch one top-level setting through the key table */
static void load_top(struct loader *ld, const config_setting_t *s)
{
	const char *name = config_setting_name(s);

	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(top_keys[i].name, name) != 0)
			continue;
		if (!type_ok(s, top_keys[i].type))
			bad(ld, s, "%s must be %s", name, type_name(top_keys[i].type));
		else
			top_keys[i].load(ld, s);
		return;
	}
	bad(ld, s, "unknown key \"%s\"", name);
}

/* config_new - an empty configuration with every default in place */
static struct config *config_new(const char *path)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	cfg->path = strdup(path);
	cfg->policy = policy_new();
	cfg->settings.socket = strdup(CONF_DEFAULT_SOCKET);
	cfg->settings.socket_mode = 0660;
	cfg->settings.syslog_facility = log_facility("mail");
	if (cfg->path == NULL || cfg->policy == NULL || cfg->settings.socket == NULL ||
	    (cfg->policy->local_domains = domainset_new()) == NULL ||
	    (cfg->policy->trusted_networks = netset_new()) == NULL ||
	    (cfg->policy->own_addresses = netset_new()) == NULL) {
		conf_free(cfg);
		return NULL;
	}
	return cfg;
}

/* check_file - refuse a file that others may rewrite, as OpenSMTPD does */
static int check_file(const char *path, struct conf_errors *errs)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		conf_error(errs, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		conf_error(errs, path, 0, "writable by everyone: refusing to use it");
		return -1;
	}
	return 0;
}

/* conf_load - read path and compile it, whole or not at all */
struct config *conf_load(const char *path, struct conf_errors *errs)
{
	struct loader ld = {.path = path, .errs = errs};
	const config_setting_t *root;
	size_t before = errs->n;
	config_t lc;

	if (check_file(path, errs) < 0)
		return NULL;
	if ((ld.cfg = config_new(path)) == NULL) {
		conf_error(errs, path, 0, "out of memory");
		return NULL;
	}
	config_init(&lc);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		conf_error(errs, config_error_file(&lc) ? config_error_file(&lc) : path,
		    config_error_line(&lc), "%s", config_error_text(&lc));
	} else {
		root = config_root_setting(&lc);
		for (int i = 0; i < config_setting_length(root); i++)
			load_top(&ld, config_setting_get_elem(root, (unsigned)i));
		finish_users_geo(&ld);
	}
	config_destroy(&lc);
	domainset_finish(ld.cfg->policy->local_domains);
	if (netset_finish(ld.cfg->policy->trusted_networks) < 0 ||
	    netset_finish(ld.cfg->policy->own_addresses) < 0)
		conf_error(errs, path, 0, "out of memory");
	if (errs->n > before) {
		conf_free(ld.cfg);
		return NULL;
	}
	ld.cfg->loaded = time(NULL);
	return ld.cfg;
}

/* conf_free - free a configuration and everything it owns */
void conf_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	policy_free(cfg->policy);
	if (cfg->geo_free != NULL)
		cfg->geo_free(cfg->geo_handle);
	free(cfg->settings.socket);
	free(cfg->settings.user);
	free(cfg->settings.pidfile);
	free(cfg->settings.metrics);
	free(cfg->path);
	free(cfg);
}
