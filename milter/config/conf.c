/* conf.c - read, validate and compile the configuration file: errors, scalar keys, the key table */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>

#include "domain.h"
#include "hostport.h"
#include "idn.h"
#include "linefile.h"
#include "conf_loader.h"

typedef void (*key_fn)(struct loader *ld, const config_setting_t *s);

/* One row per top-level key: its name, its libconfig type, its loader. */
struct key {
	const char *name;
	int type; /* CONFIG_TYPE_*; CONFIG_TYPE_LIST accepts a list or an array */
	key_fn load;
};

/* push - append a formatted "FILE:LINE: message" to a list; -1 when memory runs out */
static int push(char ***list, size_t *n, const char *file, int line, const char *prefix,
    const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

static int push(char ***list, size_t *n, const char *file, int line, const char *prefix,
    const char *fmt, va_list ap)
{
	char msg[1024], *full, **grown;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if ((grown = realloc(*list, (*n + 1) * sizeof(char *))) == NULL)
		return -1;
	*list = grown;
	if (asprintf(&full, "%s:%d: %s%s", file ? file : "?", line, prefix, msg) < 0)
		return -1;
	(*list)[(*n)++] = full;
	return 0;
}

/*
 * conf_error - record one "FILE:LINE: message". When even that needs
 * memory there is none of, the error is counted as lost: the load fails
 * all the same, and the caller says that errors went unrecorded.
 */
void conf_error(struct conf_errors *errs, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (push(&errs->msgs, &errs->n, file, line, "", fmt, ap) < 0)
		errs->lost++;
	va_end(ap);
}

/*
 * conf_warn - a near-open setting: a warning, or with --strict an error; a
 * warning that cannot be recorded fails the load too (it might have been
 * the one that mattered)
 */
void conf_warn(struct conf_errors *errs, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	if (errs->strict)
		rc = push(&errs->msgs, &errs->n, file, line, "(--strict) ", fmt, ap);
	else
		rc = push(&errs->warns, &errs->nwarns, file, line, "warning: ", fmt, ap);
	va_end(ap);
	if (rc < 0)
		errs->lost++;
}

/* conf_errors_lost - the line that stands for the errors that were not recorded */
const char *conf_errors_lost(const struct conf_errors *errs, const char *path, char *buf,
    size_t len)
{
	if (errs->lost == 0)
		return NULL;
	snprintf(buf, len, "%s: out of memory (%zu error%s not recorded)", path, errs->lost,
	    errs->lost == 1 ? "" : "s");
	return buf;
}

void conf_errors_free(struct conf_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	for (size_t i = 0; i < errs->nwarns; i++)
		free(errs->warns[i]);
	free(errs->msgs);
	free(errs->warns);
	errs->msgs = errs->warns = NULL;
	errs->n = errs->nwarns = errs->lost = 0;
}

/* setting_file - the file a setting came from (it may be @include'd) */
const char *ld_file(const struct loader *ld, const config_setting_t *s)
{
	const char *f = config_setting_source_file(s);

	return f ? f : ld->path;
}

void ld_bad(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_error(ld->errs, ld_file(ld, s), (int)config_setting_source_line(s), "%s", msg);
}

/* type_name - how a libconfig type is called in messages */
const char *ld_type_name(int type)
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
bool ld_type_ok(const config_setting_t *s, int want)
{
	int t = config_setting_type(s);

	if (want == CONFIG_TYPE_LIST)
		return t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY;
	return t == want;
}

/* copy_string - replace *dst with a copy of the setting's string */
void ld_copy_string(struct loader *ld, const config_setting_t *s, char **dst)
{
	free(*dst);
	if ((*dst = strdup(config_setting_get_string(s))) == NULL)
		ld_bad(ld, s, "out of memory");
}

/* wide_int_in - does a line hold an integer literal (not in quotes or a comment) over 32 bits? */
static bool wide_int_in(const char *line)
{
	bool quoted = false;

	for (const char *t = line; *t; t++) {
		if (*t == '"')
			quoted = !quoted;
		else if (quoted && *t == '\\' && t[1] != 0)
			t++;
		else if (!quoted && (*t == '#' || (t[0] == '/' && (t[1] == '/' || t[1] == '*'))))
			break;
		else if (!quoted && *t >= '0' && *t <= '9' &&
		    (t == line || !(isalnum((unsigned char)t[-1]) || t[-1] == '_'))) {
			char *end;
			unsigned long long v = strtoull(t, &end, 0);

			if (v > 2147483647ULL && *end != 'L')
				return true;
			t = end - 1;
		}
	}
	return false;
}

/*
 * ld_int_wrapped - libconfig 1.5 keeps an integer without the L suffix in
 * 32 bits, so 4294967296 arrives as 0 and 4294967297 as 1: read the
 * setting's own line again and say whether it holds a wider literal
 */
bool ld_int_wrapped(const struct loader *ld, const config_setting_t *s)
{
	unsigned line = config_setting_source_line(s), n = 0;
	char *buf = NULL;
	size_t cap = 0;
	bool wide = false;
	FILE *fp;

	if (config_setting_type(s) != CONFIG_TYPE_INT || line == 0 ||
	    (fp = fopen(ld_file(ld, s), "r")) == NULL)
		return config_setting_type(s) == CONFIG_TYPE_INT && config_setting_get_int(s) <= 0;
	while (getline(&buf, &cap, fp) != -1)
		if (++n == line) {
			wide = wide_int_in(buf);
			break;
		}
	free(buf);
	fclose(fp);
	return wide;
}

/*
 * ld_int - an integer setting in [lo, hi] into *v; false after reporting
 * "WHAT: V: expected LO to HI" at its line (or "out of memory" when even
 * the check for a value libconfig cut to 32 bits could not be made)
 */
bool ld_int(struct loader *ld, const config_setting_t *s, const char *what, long long lo,
    long long hi, long long *v)
{
	int t = config_setting_type(s);

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		ld_bad(ld, s, "%s must be an integer", what);
		return false;
	}
	*v = config_setting_get_int64(s);
	errno = 0;
	if (ld_int_wrapped(ld, s)) {
		if (errno == ENOMEM)
			ld_bad(ld, s, "%s: out of memory", what);
		else
			ld_bad(ld, s, "%s: beyond 2147483647, which libconfig cuts to 32 bits",
			    what);
		return false;
	}
	if (*v < lo || *v > hi) {
		ld_bad(ld, s, "%s: %lld: expected %lld to %lld", what, *v, lo, hi);
		return false;
	}
	return true;
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
int ld_word(struct loader *ld, const config_setting_t *s, const char *const *words)
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
		    i == 0         ? "" :
			i + 1 == n ? " or " :
				     ", ",
		    words[i]);
	ld_bad(ld, s, "%s: \"%s\": expected %s", config_setting_name(s), v, expected);
	return -1;
}

static void load_no_client(struct loader *ld, const config_setting_t *s)
{
	static const char *const words[] = {"trusted", "untrusted", NULL};
	int i = ld_word(ld, s, words);

	if (i >= 0)
		ld->cfg->policy->no_client = i == 0 ? NO_CLIENT_TRUSTED : NO_CLIENT_UNTRUSTED;
}

static void load_mode(struct loader *ld, const config_setting_t *s)
{
	static const char *const words[] = {"enforce", "dry-run", NULL};
	int i = ld_word(ld, s, words);

	if (i >= 0)
		ld->cfg->policy->dry_run = i == 1;
}

/* socket_valid - "unix:/path", "local:/path", "inet:PORT@HOST", "inet6:PORT@HOST" */
static bool socket_valid(const char *v)
{
	struct hostport hp;
	const char *why;

	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0)
		return strchr(v, '/') != NULL && strchr(v, '/')[1] != 0;
	if (strncmp(v, "inet:", 5) == 0)
		return hostport_parse(v + 5, HOSTPORT_MILTER, &hp, &why) == 0;
	if (strncmp(v, "inet6:", 6) == 0)
		return hostport_parse(v + 6, HOSTPORT_MILTER, &hp, &why) == 0;
	return false;
}

static void load_socket(struct loader *ld, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (!socket_valid(v))
		ld_bad(ld, s,
		    "socket: \"%s\": expected unix:/path, inet:PORT@HOST or inet6:PORT@HOST", v);
	else
		ld_copy_string(ld, s, &ld->cfg->settings.socket);
}

static void load_socket_mode(struct loader *ld, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	char *end;
	unsigned long m = strtoul(v, &end, 8);

	if (*v < '0' || *v > '7' || *end != 0 || m > 0777)
		ld_bad(ld, s, "socket_mode: \"%s\": expected an octal mode such as \"0660\"", v);
	else
		ld->cfg->settings.socket_mode = (mode_t)m;
}

static void load_socket_group(struct loader *ld, const config_setting_t *s)
{
	if (config_setting_get_string(s)[0] == 0)
		ld_bad(ld, s, "socket_group: must not be empty");
	else
		ld_copy_string(ld, s, &ld->cfg->settings.socket_group);
}

static void load_log_decisions(struct loader *ld, const config_setting_t *s)
{
	static const char *const words[] = {"all", "refusals", "none", NULL};
	static const enum log_decisions values[] = {LOG_DECISIONS_ALL, LOG_DECISIONS_REFUSALS,
	    LOG_DECISIONS_NONE};
	int i = ld_word(ld, s, words);

	if (i >= 0)
		ld->cfg->settings.log_decisions = values[i];
}

static void load_log_format(struct loader *ld, const config_setting_t *s)
{
	static const char *const words[] = {"kv", "json", NULL};
	int i = ld_word(ld, s, words);

	if (i >= 0)
		ld->cfg->settings.log_format = i == 1 ? LOG_FORMAT_JSON : LOG_FORMAT_KV;
}

static void load_user(struct loader *ld, const config_setting_t *s)
{
	if (config_setting_get_string(s)[0] == 0)
		ld_bad(ld, s, "user: must not be empty");
	else
		ld_copy_string(ld, s, &ld->cfg->settings.user);
}

static void load_pidfile(struct loader *ld, const config_setting_t *s)
{
	if (config_setting_get_string(s)[0] != '/')
		ld_bad(ld, s, "pidfile: must be an absolute path");
	else
		ld_copy_string(ld, s, &ld->cfg->settings.pidfile);
}

/* facility - a syslog facility by name, -1 if unknown */
static int facility(const char *name)
{
	static const struct {
		const char *name;
		int value;
	} table[] = {
	    {"mail", LOG_MAIL},
	    {"daemon", LOG_DAEMON},
	    {"user", LOG_USER},
	    {"local0", LOG_LOCAL0},
	    {"local1", LOG_LOCAL1},
	    {"local2", LOG_LOCAL2},
	    {"local3", LOG_LOCAL3},
	    {"local4", LOG_LOCAL4},
	    {"local5", LOG_LOCAL5},
	    {"local6", LOG_LOCAL6},
	    {"local7", LOG_LOCAL7},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcasecmp(table[i].name, name) == 0)
			return table[i].value;
	return -1;
}

static void load_facility(struct loader *ld, const config_setting_t *s)
{
	int f = facility(config_setting_get_string(s));

	if (f < 0)
		ld_bad(ld, s, "syslog_facility: \"%s\": unknown facility",
		    config_setting_get_string(s));
	else
		ld->cfg->settings.syslog_facility = f;
}

/* load_metrics - the /metrics listener: a numeric "ADDRESS:PORT" */
static void load_metrics(struct loader *ld, const config_setting_t *s)
{
	struct hostport_addr addr;
	const char *why;

	if (hostport_listen(config_setting_get_string(s), &addr, &why) < 0)
		ld_bad(ld, s, "metrics: \"%s\": %s", config_setting_get_string(s), why);
	else
		ld_copy_string(ld, s, &ld->cfg->settings.metrics);
}

/* load_control_socket - the unix socket of --control: an absolute path */
static void load_control_socket(struct loader *ld, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (v[0] != '/' || strlen(v) >= 108)
		ld_bad(ld, s, "control_socket: \"%s\": expected an absolute path (under 108 bytes)",
		    v);
	else
		ld_copy_string(ld, s, &ld->cfg->settings.control_socket);
}

/* load_reply_key - a reply template that must be a 4xx or 5xx */
static void load_reply_key(struct loader *ld, const config_setting_t *s, struct reply *r)
{
	const char *why;

	if (reply_parse(config_setting_get_string(s), r, &why) < 0)
		ld_bad(ld, s, "%s: %s", config_setting_name(s), why);
	else if (r->code < 400)
		ld_bad(ld, s, "%s: a refusal needs a 4xx or 5xx code", config_setting_name(s));
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

/*
 * load_sender_origin - the domain the MTA appends to a bare MAIL FROM
 * (Postfix $myorigin, Sendmail $j or MASQUERADE_AS), in A-label form
 */
static void load_sender_origin(struct loader *ld, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s), *why = NULL;
	char ace[256];
	struct policy *p = ld->cfg->policy;

	if (idn_to_ascii(v, strlen(v), ace, sizeof(ace), &why) < 0 ||
	    (why = domain_check(ace, strlen(ace))) != NULL) {
		ld_bad(ld, s, "sender_origin: \"%s\": %s", v, why ? why : "invalid domain");
		return;
	}
	free(p->sender_origin);
	if ((p->sender_origin = strdup(ace)) == NULL)
		ld_bad(ld, s, "out of memory");
}

/* Every top-level key, with its type and loader. */
static const struct key top_keys[] = {
    {"socket", CONFIG_TYPE_STRING, load_socket},
    {"socket_mode", CONFIG_TYPE_STRING, load_socket_mode},
    {"socket_group", CONFIG_TYPE_STRING, load_socket_group},
    {"user", CONFIG_TYPE_STRING, load_user},
    {"pidfile", CONFIG_TYPE_STRING, load_pidfile},
    {"syslog_facility", CONFIG_TYPE_STRING, load_facility},
    {"log_decisions", CONFIG_TYPE_STRING, load_log_decisions},
    {"log_format", CONFIG_TYPE_STRING, load_log_format},
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
    {"sender_origin", CONFIG_TYPE_STRING, load_sender_origin},
    {"control_socket", CONFIG_TYPE_STRING, load_control_socket},
    {"store", CONFIG_TYPE_GROUP, load_store},
    {"limits", CONFIG_TYPE_LIST, load_limits},
    {"max_recipients_per_message", CONFIG_TYPE_INT, load_max_rcpts},
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
		if (!ld_type_ok(s, top_keys[i].type))
			ld_bad(ld, s, "%s must be %s", name, ld_type_name(top_keys[i].type));
		else
			top_keys[i].load(ld, s);
		return;
	}
	ld_bad(ld, s, "unknown key \"%s\"", name);
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
	cfg->settings.syslog_facility = LOG_MAIL;
	store_defaults(&cfg->settings.store);
	if (cfg->path == NULL || cfg->policy == NULL || cfg->settings.socket == NULL ||
	    (cfg->policy->local_domains = domainset_new()) == NULL ||
	    (cfg->policy->trusted_networks = netset_new()) == NULL ||
	    (cfg->policy->own_addresses = netset_new()) == NULL) {
		conf_free(cfg);
		return NULL;
	}
	return cfg;
}

/* file_problem - why a configuration file may not be used, or NULL; fp the opened file */
static const char *file_problem(const char *path, FILE **fp, char *buf, size_t len)
{
	int rc;

	if ((*fp = linefile_open(path, &rc)) != NULL)
		return NULL;
	return linefile_error(rc, errno, buf, len);
}

#define INCLUDE_DEPTH_MAX 10 /* libconfig's own limit */

/* include_target - the file of an "@include" line (libconfig reads them at line start), or NULL */
static const char *include_target(char *line)
{
	char *s = line, *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "@include", 8) != 0 || (s[8] != ' ' && s[8] != '\t'))
		return NULL;
	for (s += 8; *s == ' ' || *s == '\t'; s++)
		;
	if (*s != '"' || (end = strchr(s + 1, '"')) == NULL)
		return NULL;
	*end = 0;
	return s + 1;
}

/*
 * check_includes - every @include'd file is held to the rules of the top
 * file (a regular file that not everyone may write) before libconfig
 * opens it: a FIFO would hang -t and the reload thread for good. A file
 * that does not exist is left to libconfig, which says so at its line.
 */
static void check_includes(FILE *fp, const char *path, struct conf_errors *errs, int depth)
{
	char *line = NULL, buf[300];
	size_t cap = 0;
	int lineno = 0;

	while (getline(&line, &cap, fp) != -1) {
		const char *inc, *why;
		struct stat st;
		FILE *sub;

		lineno++;
		if ((inc = include_target(line)) == NULL || stat(inc, &st) < 0)
			continue;
		if ((why = file_problem(inc, &sub, buf, sizeof(buf))) != NULL)
			conf_error(errs, path, lineno, "@include \"%s\": %s", inc, why);
		else {
			if (depth < INCLUDE_DEPTH_MAX)
				check_includes(sub, inc, errs, depth + 1);
			fclose(sub);
		}
	}
	free(line);
}

/*
 * tree_whole - did libconfig build every setting whole? libconfig 1.5
 * does not check its allocations: when copying a name or a string fails,
 * it keeps the setting without one (and the loader would trip over the
 * NULL). A member of a group without a name, or a string without a
 * value, can only come from that: the file is refused as out of memory.
 */
static bool tree_whole(struct loader *ld, const config_setting_t *s)
{
	const config_setting_t *parent = config_setting_parent(s);
	bool whole = true;

	if (parent != NULL && config_setting_is_group(parent) && config_setting_name(s) == NULL)
		whole = false;
	else if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    config_setting_get_string(s) == NULL)
		whole = false;
	if (!whole) {
		ld_bad(ld, s, "out of memory while reading the file");
		return false;
	}
	for (int i = 0; config_setting_is_aggregate(s) && i < config_setting_length(s); i++)
		if (!tree_whole(ld, config_setting_get_elem(s, (unsigned)i)))
			return false;
	return true;
}

/* conf_load - read path and compile it, whole or not at all */
struct config *conf_load(const char *path, struct conf_errors *errs)
{
	struct loader ld = {.path = path, .errs = errs};
	const config_setting_t *root;
	size_t before = errs->n, lost_before = errs->lost;
	const char *problem;
	char buf[300];
	config_t lc;
	FILE *fp;

	/* the very file checked is the one read: no window to swap it */
	if ((problem = file_problem(path, &fp, buf, sizeof(buf))) != NULL) {
		conf_error(errs, path, 0, "%s", problem);
		return NULL;
	}
	check_includes(fp, path, errs, 0);
	if (errs->n > before || errs->lost > lost_before || fseek(fp, 0, SEEK_SET) < 0) {
		fclose(fp);
		return NULL;
	}
	if ((ld.cfg = config_new(path)) == NULL) {
		conf_error(errs, path, 0, "out of memory");
		fclose(fp);
		return NULL;
	}
	config_init(&lc);
	errno = 0;
	if (config_read(&lc, fp) != CONFIG_TRUE) {
		/*
		 * libconfig says only "file I/O error" or "cannot open include
		 * file": say why (fopen may have run out of memory)
		 */
		int saved = errno;
		bool why =
		    saved != 0 && (config_error_type(&lc) == CONFIG_ERR_FILE_IO || saved == ENOMEM);

		conf_error(errs, config_error_file(&lc) ? config_error_file(&lc) : path,
		    config_error_line(&lc), "%s%s%s", config_error_text(&lc), why ? ": " : "",
		    why ? strerror(saved) : "");
	} else {
		root = config_root_setting(&lc);
		if (tree_whole(&ld, root)) {
			for (int i = 0; i < config_setting_length(root); i++)
				load_top(&ld, config_setting_get_elem(root, (unsigned)i));
			finish_limits(&ld);
			finish_users_geo(&ld);
		}
	}
	fclose(fp);
	config_destroy(&lc);
	domainset_finish(ld.cfg->policy->local_domains);
	if (netset_finish(ld.cfg->policy->trusted_networks) < 0 ||
	    netset_finish(ld.cfg->policy->own_addresses) < 0)
		conf_error(errs, path, 0, "out of memory");
	if (errs->n > before || errs->lost > lost_before) {
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
	free(cfg->settings.socket_group);
	free(cfg->settings.pidfile);
	free(cfg->settings.metrics);
	free(cfg->settings.control_socket);
	store_settings_free(&cfg->settings.store);
	free(cfg->rule_ids);
	free(cfg->limit_ids);
	free(cfg->path);
	free(cfg);
}
