/* conf_store.c - store = { type; ... }: where the limits keep their counts and locks */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf_loader.h"
#include "hostport.h"

#define MAX_KEYS_DEFAULT   1000000UL
#define MAX_KEYS_MAX       100000000UL /* ~10 GB of counters: beyond it, a typo */
#define TIMEOUT_MS_DEFAULT 100
#define TIMEOUT_MS_MAX     10000 /* Postfix waits 30 s for a milter: far beyond a decision */
#define HOSTS_MAX          1000
#define DATABASE_MAX       65535
#define PREFIX_MAX         64
#define SERVERS_MAX        16
#define PASSWORD_MAX       512

/* What the keys of one store group said, judged once every key is read. */
struct store_seen {
	const config_setting_t *type, *redis_key, *servers, *sentinel, *password, *password_file,
	    *username;
};

/* want_int - an integer setting within lo..hi, else a FILE:LINE error (ld_int); -1 then */
static long long want_int(struct loader *ld, const config_setting_t *s, const char *key,
    long long lo, long long hi)
{
	char what[64];
	long long v;

	snprintf(what, sizeof(what), "store: %s", key);
	return ld_int(ld, s, what, lo, hi, &v) ? v : -1;
}

/* want_string - a string setting, else a FILE:LINE error; NULL then */
static const char *want_string(struct loader *ld, const config_setting_t *s, const char *key)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ld_bad(ld, s, "store: %s must be a string", key);
		return NULL;
	}
	return config_setting_get_string(s);
}

/* load_store_type - "memory" or "redis" */
static void load_store_type(struct loader *ld, const config_setting_t *s, struct store_seen *seen)
{
	static const char *const words[] = {"memory", "redis", NULL};
	int i;

	seen->type = s;
	if (want_string(ld, s, "type") && (i = ld_word(ld, s, words)) >= 0)
		ld->cfg->settings.store.type = i == 0 ? STORE_TYPE_MEMORY : STORE_TYPE_REDIS;
}

/* load_max_keys - how many principals the embedded store holds at most */
static void load_max_keys(struct loader *ld, const config_setting_t *s, struct store_seen *seen)
{
	long long v = want_int(ld, s, "max_keys", 1, (long long)MAX_KEYS_MAX);

	(void)seen;
	if (v > 0)
		ld->cfg->settings.store.max_keys = (unsigned long)v;
}

/* server_ok - "HOST:PORT", "[V6]:PORT" or "unix:/PATH"; why not, or NULL */
static const char *server_ok(const char *v)
{
	struct hostport hp;
	const char *why;

	if (strncmp(v, "unix:", 5) == 0)
		return v[5] == '/' ? NULL : "a unix socket's path must be absolute";
	return hostport_parse(v, 0, &hp, &why) < 0 ? why : NULL;
}

/* load_addresses - a list of server addresses into *out (servers, sentinel.servers) */
static void load_addresses(struct loader *ld, const config_setting_t *s, const char *key,
    char ***out, size_t *n)
{
	int len = config_setting_length(s);

	if (!config_setting_is_aggregate(s) || len < 1 || len > SERVERS_MAX) {
		ld_bad(ld, s,
		    "store: %s: expected a list of 1 to %d addresses such as "
		    "[ \"127.0.0.1:6379\" ]",
		    key, SERVERS_MAX);
		return;
	}
	if ((*out = calloc((size_t)len, sizeof(**out))) == NULL) {
		ld_bad(ld, s, "out of memory");
		return;
	}
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = want_string(ld, e, key), *why;

		if (v == NULL)
			continue;
		if ((why = server_ok(v)) != NULL)
			ld_bad(ld, e, "store: %s: \"%s\": %s", key, v, why);
		else
			ld_copy_string(ld, e, &(*out)[(*n)++]);
	}
}

static void load_servers(struct loader *ld, const config_setting_t *s, struct store_seen *seen)
{
	struct store_settings *st = &ld->cfg->settings.store;

	seen->servers = s;
	load_addresses(ld, s, "servers", &st->servers, &st->nservers);
}

/* load_sentinel - sentinel = { master = "NAME"; servers = [ ... ]; } */
static void load_sentinel(struct loader *ld, const config_setting_t *g, struct store_seen *seen)
{
	struct store_settings *st = &ld->cfg->settings.store;
	const config_setting_t *master = NULL, *servers = NULL;

	seen->sentinel = g;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		ld_bad(ld, g,
		    "store: sentinel must be a group { master = \"...\"; servers = [ ... ]; }");
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(s);

		if (strcmp(key, "master") == 0)
			master = s;
		else if (strcmp(key, "servers") == 0)
			servers = s;
		else
			ld_bad(ld, s, "store: sentinel: unknown key \"%s\"", key);
	}
	if (master == NULL || servers == NULL)
		ld_bad(ld, g, "store: sentinel needs master and servers");
	if (master != NULL && want_string(ld, master, "sentinel.master") != NULL) {
		if (*config_setting_get_string(master) == '\0')
			ld_bad(ld, master, "store: sentinel.master: empty");
		else
			ld_copy_string(ld, master, &st->sentinel_master);
	}
	if (servers != NULL)
		load_addresses(ld, servers, "sentinel.servers", &st->sentinels, &st->nsentinels);
}

/* load_password - in the file only if others cannot read it (as Postfix does for SQL maps) */
static void load_password(struct loader *ld, const config_setting_t *s, struct store_seen *seen)
{
	struct stat sb;
	const char *v = want_string(ld, s, "password");

	seen->password = s;
	if (v == NULL)
		return;
	if (stat(ld_file(ld, s), &sb) == 0 && (sb.st_mode & S_IROTH)) {
		ld_bad(ld, s,
		    "store: password: %s is readable by others: make it unreadable to them "
		    "(chmod o-r) or use password_file",
		    ld_file(ld, s));
		return;
	}
	if (*v == '\0' || strlen(v) > PASSWORD_MAX)
		ld_bad(ld, s, "store: password: expected 1 to %d characters", PASSWORD_MAX);
	else
		ld_copy_string(ld, s, &ld->cfg->settings.store.password);
}

/* read_password - the first line of path into *out; why not, or NULL */
static const char *read_password(const char *path, char **out)
{
	static char why[300];
	char line[PASSWORD_MAX + 2];
	FILE *f = fopen(path, "r");
	size_t len;

	if (f == NULL) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		return why;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	len = strcspn(line, "\r\n");
	if (len == 0 || len > PASSWORD_MAX)
		return "expected a password of 1 to 512 characters on its first line";
	line[len] = '\0';
	if ((*out = strdup(line)) == NULL)
		return "out of memory";
	return NULL;
}

static void load_password_file(struct loader *ld, const config_setting_t *s,
    struct store_seen *seen)
{
	const char *v = want_string(ld, s, "password_file"), *why;

	seen->password_file = s;
	if (v == NULL)
		return;
	free(ld->cfg->settings.store.password);
	ld->cfg->settings.store.password = NULL;
	if ((why = read_password(v, &ld->cfg->settings.store.password)) != NULL)
		ld_bad(ld, s, "store: password_file: %s: %s", v, why);
}

static void load_username(struct loader *ld, const config_setting_t *s, struct store_seen *seen)
{
	const char *v = want_string(ld, s, "username");

	seen->username = s;
	if (v != NULL && (*v == '\0' || strpbrk(v, " \t\r\n") != NULL))
		ld_bad(ld, s, "store: username: \"%s\": expected a Redis ACL user name", v);
	else if (v != NULL)
		ld_copy_string(ld, s, &ld->cfg->settings.store.username);
}

static void load_database(struct loader *ld, const config_setting_t *s, struct store_seen *seen)
{
	long long v = want_int(ld, s, "database", 0, DATABASE_MAX);

	(void)seen;
	if (v >= 0)
		ld->cfg->settings.store.database = (unsigned)v;
}

/* load_prefix - of every key name: printable, and no brace that would move the hash tag */
static void load_prefix(struct loader *ld, const config_setting_t *s, struct store_seen *seen)
{
	const char *v = want_string(ld, s, "prefix");

	(void)seen;
	if (v == NULL)
		return;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '{' || *p == '}') {
			ld_bad(ld, s,
			    "store: prefix: \"%s\": printable ASCII without spaces or braces", v);
			return;
		}
	if (strlen(v) > PREFIX_MAX)
		ld_bad(ld, s, "store: prefix: longer than %d characters", PREFIX_MAX);
	else
		ld_copy_string(ld, s, &ld->cfg->settings.store.prefix);
}

static void load_timeout(struct loader *ld, const config_setting_t *s, struct store_seen *seen)
{
	long long v = want_int(ld, s, "timeout_ms", 1, TIMEOUT_MS_MAX);

	(void)seen;
	if (v > 0)
		ld->cfg->settings.store.timeout_ms = (unsigned)v;
}

static void load_on_error(struct loader *ld, const config_setting_t *s, struct store_seen *seen)
{
	static const char *const words[] = {"tempfail", "accept", "local", NULL};
	static const enum store_on_error values[] = {STORE_ON_ERROR_TEMPFAIL, STORE_ON_ERROR_ACCEPT,
	    STORE_ON_ERROR_LOCAL};
	int i;

	(void)seen;
	if (want_string(ld, s, "on_error") && (i = ld_word(ld, s, words)) >= 0)
		ld->cfg->settings.store.on_error = values[i];
}

static void load_hosts(struct loader *ld, const config_setting_t *s, struct store_seen *seen)
{
	long long v = want_int(ld, s, "hosts", 1, HOSTS_MAX);

	(void)seen;
	if (v > 0)
		ld->cfg->settings.store.hosts = (unsigned)v;
}

/* One row per key of the store group; redis: the key means nothing to the embedded store. */
static const struct {
	const char *name;
	void (*load)(struct loader *ld, const config_setting_t *s, struct store_seen *seen);
	bool redis;
} store_keys[] = {
    {"type", load_store_type, false},
    {"max_keys", load_max_keys, false},
    {"servers", load_servers, true},
    {"sentinel", load_sentinel, true},
    {"password", load_password, true},
    {"password_file", load_password_file, true},
    {"username", load_username, true},
    {"database", load_database, true},
    {"prefix", load_prefix, true},
    {"timeout_ms", load_timeout, true},
    {"on_error", load_on_error, true},
    {"hosts", load_hosts, true},
};

#define NSTORE_KEYS (sizeof(store_keys) / sizeof(store_keys[0]))

/* conf_store_keys - the store group's keys, for the documentation test */
const char *const *conf_store_keys(void)
{
	static const char *names[NSTORE_KEYS + 1];

	for (size_t i = 0; i < NSTORE_KEYS; i++)
		names[i] = store_keys[i].name;
	return names;
}

/* store_defaults - the embedded store, a million principals */
void store_defaults(struct store_settings *st)
{
	memset(st, 0, sizeof(*st));
	st->type = STORE_TYPE_MEMORY;
	st->max_keys = MAX_KEYS_DEFAULT;
	st->timeout_ms = TIMEOUT_MS_DEFAULT;
	st->on_error = STORE_ON_ERROR_TEMPFAIL;
	st->hosts = 1;
}

/* judge - what only the keys together say */
static void judge(struct loader *ld, const config_setting_t *g, const struct store_seen *seen)
{
	const struct store_settings *st = &ld->cfg->settings.store;

	if (st->type != STORE_TYPE_REDIS) {
		if (seen->redis_key != NULL)
			ld_bad(ld, seen->redis_key, "store: %s: only for type = \"redis\"",
			    config_setting_name(seen->redis_key));
		return;
	}
	if (seen->servers != NULL && seen->sentinel != NULL)
		ld_bad(ld, seen->sentinel,
		    "store: servers and sentinel exclude each other (the sentinels name the server)");
	else if (seen->servers == NULL && seen->sentinel == NULL)
		ld_bad(ld, g, "store: type = \"redis\" needs servers or sentinel");
	if (seen->password != NULL && seen->password_file != NULL)
		ld_bad(ld, seen->password_file,
		    "store: password and password_file exclude each other");
	if (seen->username != NULL && seen->password == NULL && seen->password_file == NULL)
		ld_bad(ld, seen->username, "store: username needs password or password_file");
}

/* load_store - store = { type = "memory" | "redis"; ... } */
void load_store(struct loader *ld, const config_setting_t *g)
{
	struct store_seen seen = {0};

	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(s);
		size_t k = 0;

		while (k < sizeof(store_keys) / sizeof(store_keys[0]) &&
		    strcmp(store_keys[k].name, key) != 0)
			k++;
		if (k == sizeof(store_keys) / sizeof(store_keys[0])) {
			ld_bad(ld, s, "store: unknown key \"%s\"", key);
			continue;
		}
		if (store_keys[k].redis && seen.redis_key == NULL)
			seen.redis_key = s;
		store_keys[k].load(ld, s, &seen);
	}
	judge(ld, g, &seen);
}

/* free_list - a list of strings and its count */
static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* store_settings_free - what the store settings own */
void store_settings_free(struct store_settings *st)
{
	free_list(st->servers, st->nservers);
	free_list(st->sentinels, st->nsentinels);
	free(st->sentinel_master);
	free(st->username);
	if (st->password != NULL)
		explicit_bzero(st->password, strlen(st->password));
	free(st->password);
	free(st->prefix);
	memset(st, 0, sizeof(*st));
}
