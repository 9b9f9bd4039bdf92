/* conf_loader.h - what the parts of the configuration loader share (not for other layers) */
#ifndef RM_CONF_LOADER_H
#define RM_CONF_LOADER_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

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
	/* per-login limit overrides, checked against the limits at the end */
	struct override_src {
		struct user *u; /* its overrides[k]: the array may grow meanwhile */
		size_t k;
		const char *file;
		int line;
	} * overrides;
	size_t noverrides;
};

/* ld_bad - report a problem with one setting, at its own file and line */
void ld_bad(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ld_file - the file a setting came from (it may be @include'd) */
const char *ld_file(const struct loader *ld, const config_setting_t *s);

/* ld_type_name - how a libconfig type is called in messages */
const char *ld_type_name(int type);

/* ld_type_ok - does the setting have the type a key wants? */
bool ld_type_ok(const config_setting_t *s, int want);

/* ld_copy_string - replace *dst with a copy of the setting's string */
void ld_copy_string(struct loader *ld, const config_setting_t *s, char **dst);

/*
 * ld_word - the index of the setting's value among words (NULL-ended),
 * or -1 after reporting 'KEY: "v": expected "a", "b" or "c"'
 */
int ld_word(struct loader *ld, const config_setting_t *s, const char *const *words);

/* ld_int - an integer setting in [lo, hi]; false after reporting why not (what: its name) */
bool ld_int(struct loader *ld, const config_setting_t *s, const char *what, long long lo,
    long long hi, long long *v);

/* ld_int_wrapped - might libconfig have cut this integer setting to 32 bits? */
bool ld_int_wrapped(const struct loader *ld, const config_setting_t *s);

/* ld_need_geo - a setting needs a GeoIP database; checked once every key is read */
void ld_need_geo(struct loader *ld, const config_setting_t *s, bool country, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Key loaders, one per top-level key, in the files named for what they load. */
/* conf_lists.c */
void load_local_domains(struct loader *ld, const config_setting_t *s);
void load_trusted_networks(struct loader *ld, const config_setting_t *s);
void load_own_addresses(struct loader *ld, const config_setting_t *s);
/* conf_rules.c */
void load_rules(struct loader *ld, const config_setting_t *s);
struct rule;
/* ld_load_cond - one condition of a rule or a limit (what: "rule" or "limit") */
void ld_load_cond(struct loader *ld, const config_setting_t *s, struct rule *rule,
    const char *what);
/* ld_name_taken - is a name used by a rule, a limit or a built-in step? */
bool ld_name_taken(const struct loader *ld, const char *name);
/* conf_limits.c */
void load_limits(struct loader *ld, const config_setting_t *s);
void load_max_rcpts(struct loader *ld, const config_setting_t *s);
/* ld_duration - "30s", "10m", "1h", "7d" in seconds; -1 when not one */
long ld_duration(const char *text);
/* finish_limits - per-login overrides name limits: judged once every key is read */
void finish_limits(struct loader *ld);
/* conf_users.c */
void load_geoip(struct loader *ld, const config_setting_t *g);
void load_users(struct loader *ld, const config_setting_t *s);
void load_users_file(struct loader *ld, const config_setting_t *s);
void load_sender_ownership(struct loader *ld, const config_setting_t *s);
void load_null_sender(struct loader *ld, const config_setting_t *s);
/* conf_store.c */
void load_store(struct loader *ld, const config_setting_t *g);
/* conf_warn.c: settings that open the relay wide (warnings; errors with --strict) */
/* ld_network_risk - why trusting or owning this network opens the relay, or NULL */
const char *ld_network_risk(const char *entry);
/* ld_domain_risk - why this local domain ("name" or ".name", A-labels) opens the relay, or NULL */
const char *ld_domain_risk(const char *entry);
struct rule;
/* ld_check_rule - warn about an accept rule that relays for everyone */
void ld_check_rule(struct loader *ld, const config_setting_t *g, const struct rule *r);
/* finish_users_geo - what can be judged only once every key is read */
void finish_users_geo(struct loader *ld);

#endif
