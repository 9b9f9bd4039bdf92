/* conf_limits.c - limits = ( { name; per; count; max; window; lock; conditions...; } ), max_recipients_per_message */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_loader.h"
#include "limits.h"
#include "users.h"

#define DISTINCT_MAX   1000 /* countries or networks held per key: a bound on memory */
#define MAX_RCPTS_MAX  100000
#define LIMIT_NAME_MAX 200 /* it is logged, and --explain hands it to the daemon */

/* ld_duration - "30s", "10m", "1h", "24h", "7d": seconds, or -1 */
long ld_duration(const char *text)
{
	static const struct {
		char unit;
		long seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	char *end;
	long n;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	n = strtol(text, &end, 10);
	if (n <= 0 || n > (long)LIMIT_WINDOW_MAX || end[0] == 0 || end[1] != 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (end[0] == units[i].unit)
			return n > (long)LIMIT_WINDOW_MAX / units[i].seconds ?
			    (long)LIMIT_WINDOW_MAX + 1 :
			    n * units[i].seconds;
	return -1;
}

/* limit_word - a word among the table's names (per, count, action), or -1 after an error */
static int limit_word(struct loader *ld, const config_setting_t *s, const struct limit *l,
    const char *(*name)(int), int n, const char *expected)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ld_bad(ld, s, "limit \"%s\": %s must be a string", l->rule.name,
		    config_setting_name(s));
		return -1;
	}
	v = config_setting_get_string(s);
	for (int i = 0; i < n; i++)
		if (name(i) != NULL && strcmp(v, name(i)) == 0)
			return i;
	ld_bad(ld, s, "limit \"%s\": %s \"%s\": expected %s", l->rule.name, config_setting_name(s),
	    v, expected);
	return -1;
}

static const char *per_word(int i)
{
	return limit_per_name((enum limit_per)i);
}

static const char *count_word(int i)
{
	return limit_count_name((enum limit_count)i);
}

static const char *action_word(int i)
{
	return i == 0 ? "tempfail" : i == 1 ? "reject" : NULL;
}

/* limit_seconds - a window or lock duration, 1 s to 30 days */
static long limit_seconds(struct loader *ld, const config_setting_t *s, const struct limit *l)
{
	long v = -1;

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		v = ld_duration(config_setting_get_string(s));
	if (v < 0)
		ld_bad(ld, s,
		    "limit \"%s\": %s: expected a duration such as \"30s\", \"10m\", "
		    "\"1h\", \"24h\" or \"7d\"",
		    l->rule.name, config_setting_name(s));
	else if (v > (long)LIMIT_WINDOW_MAX)
		ld_bad(ld, s, "limit \"%s\": %s: %s is over 30 days", l->rule.name,
		    config_setting_name(s), config_setting_get_string(s));
	return v > (long)LIMIT_WINDOW_MAX ? -1 : v;
}

/* limit_number - an integer key in [lo, hi], or -1 after an error */
static long long limit_number(struct loader *ld, const config_setting_t *s, const struct limit *l,
    long long lo, long long hi)
{
	char what[300];
	long long v;

	snprintf(what, sizeof(what), "limit \"%s\": %s", l->rule.name, config_setting_name(s));
	return ld_int(ld, s, what, lo, hi, &v) ? v : -1;
}

/* A limit's own keys (the rest are conditions), for the documentation test. */
static const char *const limit_keys[] = {"name", "per", "count", "max", "window", "lock",
    "prefix_v4", "prefix_v6", "action", "reply", "dry_run", NULL};

const char *const *conf_limit_keys(void)
{
	return limit_keys;
}

/* What a limit group says besides its conditions, and where. */
struct limit_src {
	const config_setting_t *per, *count, *max, *window, *reply, *action;
};

/* limit_key - one of a limit's own keys; false when s is a condition */
static bool limit_key(struct loader *ld, const config_setting_t *s, struct limit *l,
    struct limit_src *src)
{
	const char *key = config_setting_name(s);
	long long v;
	int w;

	if (strcmp(key, "name") == 0)
		return true;
	if (strcmp(key, "per") == 0) {
		src->per = s;
		if ((w = limit_word(ld, s, l, per_word, PER_N,
			 "\"login\", \"client\", \"sender\" or \"sender_domain\"")) >= 0)
			l->per = (enum limit_per)w;
	} else if (strcmp(key, "count") == 0) {
		src->count = s;
		if ((w = limit_word(ld, s, l, count_word, COUNT_N,
			 "\"recipients\", \"messages\", \"countries\" or \"networks\"")) >= 0)
			l->count = (enum limit_count)w;
	} else if (strcmp(key, "max") == 0) {
		src->max = s;
		if ((v = limit_number(ld, s, l, 1, 1000000000LL)) > 0)
			l->max = (uint64_t)v;
	} else if (strcmp(key, "window") == 0) {
		src->window = s;
		if ((v = limit_seconds(ld, s, l)) > 0)
			l->window = (uint32_t)v;
	} else if (strcmp(key, "lock") == 0) {
		if ((v = limit_seconds(ld, s, l)) > 0)
			l->lock = (uint32_t)v;
	} else if (strcmp(key, "prefix_v4") == 0) {
		if ((v = limit_number(ld, s, l, 1, 32)) > 0)
			l->prefix_v4 = (unsigned)v;
	} else if (strcmp(key, "prefix_v6") == 0) {
		if ((v = limit_number(ld, s, l, 1, 128)) > 0)
			l->prefix_v6 = (unsigned)v;
	} else if (strcmp(key, "action") == 0) {
		src->action = s;
		if ((w = limit_word(ld, s, l, action_word, 2, "\"tempfail\" or \"reject\"")) >= 0)
			l->rule.action = w == 0 ? ACTION_TEMPFAIL : ACTION_REJECT;
	} else if (strcmp(key, "reply") == 0) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			ld_bad(ld, s, "limit \"%s\": reply must be a string", l->rule.name);
		else
			src->reply = s;
	} else if (strcmp(key, "dry_run") == 0) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			ld_bad(ld, s, "limit \"%s\": dry_run must be true or false", l->rule.name);
		else
			l->rule.dry_run = config_setting_get_bool(s);
	} else
		return false;
	return true;
}

/* limit_reply - a limit's own reply must fit its action */
static void limit_reply(struct loader *ld, const config_setting_t *s, struct limit *l)
{
	const char *why;

	if (reply_parse(config_setting_get_string(s), &l->rule.reply, &why) < 0)
		ld_bad(ld, s, "limit \"%s\": reply: %s", l->rule.name, why);
	else if (l->rule.reply.code / 100 != (l->rule.action == ACTION_REJECT ? 5 : 4))
		ld_bad(ld, s, "limit \"%s\": reply code %d does not fit action \"%s\" (%s)",
		    l->rule.name, l->rule.reply.code, action_name(l->rule.action),
		    l->rule.action == ACTION_REJECT ? "5xx" : "4xx");
}

/* limit_complete - every key a limit needs, and values that fit together */
static void limit_complete(struct loader *ld, const config_setting_t *g, struct limit *l,
    const struct limit_src *src)
{
	static const char *const needed[] = {"per", "count", "max", "window"};
	const config_setting_t *have[] = {src->per, src->count, src->max, src->window};

	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (have[i] == NULL)
			ld_bad(ld, g, "limit \"%s\": needs %s", l->rule.name, needed[i]);
	if (src->count != NULL && l->count == COUNT_COUNTRIES)
		ld_need_geo(ld, src->count, true, "limit \"%s\": count = \"countries\"",
		    l->rule.name);
	if (src->max != NULL && l->max > DISTINCT_MAX &&
	    (l->count == COUNT_COUNTRIES || l->count == COUNT_NETWORKS))
		ld_bad(ld, src->max, "limit \"%s\": max: a distinct count is at most %d",
		    l->rule.name, DISTINCT_MAX);
	if (src->reply != NULL)
		limit_reply(ld, src->reply, l);
}

/* limit_name - the name, required and not used by a rule, a limit or a step */
static void limit_name(struct loader *ld, const config_setting_t *g, struct limit *l)
{
	const config_setting_t *name = config_setting_get_member(g, "name");
	char fallback[32];

	if (name != NULL && config_setting_type(name) == CONFIG_TYPE_STRING &&
	    config_setting_get_string(name)[0] != 0) {
		if (strlen(config_setting_get_string(name)) > LIMIT_NAME_MAX)
			ld_bad(ld, name, "limit: name longer than %d bytes", LIMIT_NAME_MAX);
		else if (ld_name_taken(ld, config_setting_get_string(name)))
			ld_bad(ld, name,
			    "limit \"%s\": name used twice (by a rule, a limit or a "
			    "built-in step)",
			    config_setting_get_string(name));
		if ((l->rule.name = strdup(config_setting_get_string(name))) == NULL)
			ld_bad(ld, name, "limit: out of memory");
		return;
	}
	snprintf(fallback, sizeof(fallback), "#%u", config_setting_index(g) + 1);
	ld_bad(ld, name ? name : g, "limit %s: needs a name", fallback);
	l->rule.name = strdup(fallback);
}

/* load_limit - one { name; per; count; max; window; ...; conditions } group */
static void load_limit(struct loader *ld, const config_setting_t *g, struct limit *l)
{
	struct limit_src src = {0};
	int n = config_setting_length(g);

	l->rule.action = ACTION_TEMPFAIL;
	l->prefix_v4 = 32;
	l->prefix_v6 = 64;
	limit_name(ld, g, l);
	if (l->rule.name == NULL)
		return;
	/* without its conditions the limit would count everyone */
	if ((l->rule.conds = calloc((size_t)n + 1, sizeof(*l->rule.conds))) == NULL) {
		ld_bad(ld, g, "limit \"%s\": out of memory", l->rule.name);
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);

		if (!limit_key(ld, s, l, &src))
			ld_load_cond(ld, s, &l->rule, "limit");
	}
	limit_complete(ld, g, l, &src);
}

/* load_limits - the limits list; judged for every accepted recipient, so bounded */
void load_limits(struct loader *ld, const config_setting_t *s)
{
	struct policy *p = ld->cfg->policy;
	int n = config_setting_length(s);

	if (n > LIMITS_MAX) {
		ld_bad(ld, s, "limits: %d limits, at most %d", n, LIMITS_MAX);
		return;
	}
	if ((p->limits = calloc((size_t)n + 1, sizeof(*p->limits))) == NULL) {
		ld_bad(ld, s, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			ld_bad(ld, g, "limits: each limit must be a group { ... }");
			continue;
		}
		load_limit(ld, g, &p->limits[p->nlimits]);
		p->nlimits++;
	}
}

/* load_max_rcpts - max_recipients_per_message = N; 0: no limit */
void load_max_rcpts(struct loader *ld, const config_setting_t *s)
{
	long long v;

	if (ld_int(ld, s, "max_recipients_per_message", 0, MAX_RCPTS_MAX, &v))
		ld->cfg->policy->max_rcpts = (unsigned)v;
}

/* finish_limits - every per-login override names a configured limit */
void finish_limits(struct loader *ld)
{
	struct policy *p = ld->cfg->policy;

	limit_masks_make(&p->limit_masks, p->limits, p->nlimits);
	for (size_t i = 0; i < ld->noverrides; i++) {
		struct limit_override *o = &ld->overrides[i].u->overrides[ld->overrides[i].k];

		for (size_t k = 0; k < p->nlimits && o->index < 0; k++)
			if (p->limits[k].rule.name && strcmp(p->limits[k].rule.name, o->name) == 0)
				o->index = (int)k;
		if (o->index < 0)
			conf_error(ld->errs, ld->overrides[i].file, ld->overrides[i].line,
			    "user \"%s\": limits: %s: no such limit", ld->overrides[i].u->login,
			    o->name);
		else if (o->max > DISTINCT_MAX &&
		    (p->limits[o->index].count == COUNT_COUNTRIES ||
			p->limits[o->index].count == COUNT_NETWORKS))
			conf_error(ld->errs, ld->overrides[i].file, ld->overrides[i].line,
			    "user \"%s\": limits: %s: a distinct count is at most %d",
			    ld->overrides[i].u->login, o->name, DISTINCT_MAX);
	}
	free(ld->overrides);
	ld->overrides = NULL;
	ld->noverrides = 0;
}
