/* metrics.c - counters of what the milter did, and their Prometheus text */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "rules.h"
#include "snapshot.h"

/* Per name: enforced accept/reject/tempfail, then the same not enforced (dry-run). */
enum {
	SLOT_ACCEPT,
	SLOT_REJECT,
	SLOT_TEMPFAIL,
	SLOT_DRY_ACCEPT,
	SLOT_DRY_REJECT,
	SLOT_DRY_TEMPFAIL,
	SLOT_N
};

#define LABELS_MAX 256 /* distinct rule (or reason) names ever seen; more share "other" */

struct label_slot {
	char *name; /* set once, by compare-and-swap; never changes after */
	unsigned long n[SLOT_N];
};

struct label_table {
	struct label_slot slot[LABELS_MAX];
	struct label_slot other;
};

static unsigned long counters[METRICS_NCOUNTERS];
static unsigned long recipients[SLOT_N]; /* by the deciding verdict */
static unsigned long dry_notes[SLOT_N];  /* dry-run verdicts noted, either way */
static struct label_table rules, reasons;

/* The names the built-in policy decides with, listed even before they fire. */
static const char *const builtin_rules[] = {"local-domain", "authenticated", "trusted-network",
    "default-deny", NULL};
static const char *const builtin_reasons[] = {"local", "authenticated", "trusted", "no-client",
    "denied", "routing-trick", "invalid-address", "lookup-failure", "rule", NULL};

/* bump - one relaxed atomic increment: counters need no ordering */
static void bump(unsigned long *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* get - read a counter another thread may be bumping */
static unsigned long get(const unsigned long *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* slot_total - everything counted under one name */
static unsigned long slot_total(const struct label_slot *s)
{
	unsigned long sum = 0;

	for (int i = 0; i < SLOT_N; i++)
		sum += get(&s->n[i]);
	return sum;
}

/* name_hash - FNV-1a, enough to spread a few dozen rule names */
static unsigned name_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/*
 * slot_find - the slot of name, claimed on first use. Lock-free: an empty
 * slot is taken by compare-and-swap, and a thread that loses the race
 * drops its copy and looks at the winner's name. Names are never removed.
 */
static struct label_slot *slot_find(struct label_table *t, const char *name)
{
	unsigned h = name_hash(name) % LABELS_MAX;

	for (unsigned i = 0; i < LABELS_MAX; i++, h = (h + 1) % LABELS_MAX) {
		char *cur = __atomic_load_n(&t->slot[h].name, __ATOMIC_ACQUIRE);

		if (cur == NULL) {
			char *copy = strdup(name);

			if (copy == NULL)
				return &t->other;
			if (__atomic_compare_exchange_n(&t->slot[h].name, &cur, copy, false,
				__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return &t->slot[h];
			free(copy); /* cur now holds the name that won */
		}
		if (strcmp(cur, name) == 0)
			return &t->slot[h];
	}
	return &t->other;
}

/* slot_peek - the slot of name if it was ever counted, else NULL */
static const struct label_slot *slot_peek(const struct label_table *t, const char *name)
{
	unsigned h = name_hash(name) % LABELS_MAX;

	for (unsigned i = 0; i < LABELS_MAX; i++, h = (h + 1) % LABELS_MAX) {
		const char *cur = __atomic_load_n(&t->slot[h].name, __ATOMIC_ACQUIRE);

		if (cur == NULL)
			return NULL;
		if (strcmp(cur, name) == 0)
			return &t->slot[h];
	}
	return NULL;
}

/* metrics_add - count one event */
void metrics_add(enum metrics_counter which)
{
	if (which < METRICS_NCOUNTERS)
		bump(&counters[which]);
}

/* slot_index - where an action is counted, enforced or not */
static int slot_index(enum action action, bool dry)
{
	switch (action) {
	case ACTION_REJECT:
		return dry ? SLOT_DRY_REJECT : SLOT_REJECT;
	case ACTION_TEMPFAIL:
		return dry ? SLOT_DRY_TEMPFAIL : SLOT_TEMPFAIL;
	case ACTION_ACCEPT:
	case ACTION_CONTINUE:
		break;
	}
	return dry ? SLOT_DRY_ACCEPT : SLOT_ACCEPT;
}

/*
 * metrics_decision - count one recipient verdict: the deciding rule (not
 * enforced in mode "dry-run"), and a dry_run rule noted on the way.
 */
void metrics_decision(const struct verdict *v)
{
	int i = slot_index(v->action, v->dry_run);

	bump(&recipients[i]);
	bump(&slot_find(&rules, v->rule ? v->rule : "?")->n[i]);
	bump(&slot_find(&reasons, v->reason ? v->reason : "?")->n[i]);
	if (v->dry_run)
		bump(&dry_notes[i]);
	if (v->dry_rule != NULL) {
		i = slot_index(v->dry_action, true);
		bump(&slot_find(&rules, v->dry_rule)->n[i]);
		bump(&dry_notes[i]);
	}
}

/* metrics_geo - count one GeoIP lookup */
void metrics_geo(int status)
{
	bump(&counters[METRICS_GEO_LOOKUPS]);
	if (status < 0)
		bump(&counters[METRICS_GEO_FAILURES]);
}

/* metrics_counter_value - the value of one simple counter */
unsigned long metrics_counter_value(enum metrics_counter which)
{
	return which < METRICS_NCOUNTERS ? get(&counters[which]) : 0;
}

/* metrics_rule_count - a rule's count for one action */
unsigned long metrics_rule_count(const char *rule, enum action action, bool dry_run)
{
	const struct label_slot *s = slot_peek(&rules, rule);
	return s ? get(&s->n[slot_index(action, dry_run)]) : 0;
}

/* metrics_reason_count - recipients decided with this reason, whatever the verdict */
unsigned long metrics_reason_count(const char *reason)
{
	const struct label_slot *s = slot_peek(&reasons, reason);

	return s ? slot_total(s) : 0;
}

/* label_escape - a label value as Prometheus wants it: \\ \" \n escaped */
static void label_escape(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(fp, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

/* head - the HELP and TYPE lines of one metric */
static void head(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP relay_milter_%s %s\n# TYPE relay_milter_%s %s\n", name, help, name, type);
}

/* simple - one unlabelled counter or gauge */
static void simple(FILE *fp, const char *name, const char *type, const char *help,
    unsigned long value)
{
	head(fp, name, type, help);
	fprintf(fp, "relay_milter_%s %lu\n", name, value);
}

static const char *const slot_verdict[SLOT_N] = {"accept", "reject", "tempfail", "accept",
    "reject", "tempfail"};

/* labelled - one metric family over a name table: enforced or dry-run slots */
static void labelled(FILE *fp, const struct label_table *t, const char *metric,
    const char *label, bool dry)
{
	const struct label_slot *all[LABELS_MAX + 1];
	size_t n = 0;

	for (size_t i = 0; i < LABELS_MAX; i++)
		if (__atomic_load_n(&t->slot[i].name, __ATOMIC_ACQUIRE) != NULL)
			all[n++] = &t->slot[i];
	all[n++] = &t->other;
	for (size_t k = 0; k < n; k++) {
		const struct label_slot *s = all[k];
		const char *name = s == &t->other ? "other" : s->name;

		if (s == &t->other && slot_total(s) == 0)
			continue;
		for (int i = dry ? SLOT_DRY_ACCEPT : SLOT_ACCEPT;
		     i < (dry ? SLOT_N : SLOT_DRY_ACCEPT); i++) {
			fprintf(fp, "relay_milter_%s{%s=\"", metric, label);
			label_escape(fp, name);
			fprintf(fp, "\",verdict=\"%s\"} %lu\n", slot_verdict[i], get(&s->n[i]));
		}
	}
}

/* register_names - list the current rules and the built-in names, even at zero */
static void register_names(const struct snapshot *snap)
{
	for (size_t i = 0; builtin_rules[i] != NULL; i++)
		slot_find(&rules, builtin_rules[i]);
	for (size_t i = 0; builtin_reasons[i] != NULL; i++)
		slot_find(&reasons, builtin_reasons[i]);
	if (snap == NULL)
		return;
	for (size_t i = 0; i < snap->config->policy->nrules; i++)
		slot_find(&rules, snap->config->policy->rules[i].name);
}

/* format_config - generation and age of the running configuration */
static void format_config(FILE *fp, const struct snapshot *snap)
{
	time_t now = time(NULL), loaded = snap ? snap->config->loaded : 0;

	simple(fp, "config_generation", "gauge",
	    "Configurations loaded since start; 1 is the first.", snap ? snap->generation : 0);
	simple(fp, "config_loaded_timestamp_seconds", "gauge",
	    "When the running configuration was loaded (Unix time).", (unsigned long)loaded);
	simple(fp, "config_age_seconds", "gauge", "Seconds since the running configuration was loaded.",
	    snap && now > loaded ? (unsigned long)(now - loaded) : 0);
}

/* metrics_format - every counter in Prometheus text format */
char *metrics_format(size_t *len)
{
	struct snapshot *snap = snapshot_acquire();
	char *buf = NULL;
	size_t size = 0;
	FILE *fp;

	register_names(snap);
	if ((fp = open_memstream(&buf, &size)) == NULL) {
		snapshot_release(snap);
		return NULL;
	}
	simple(fp, "connections_total", "counter", "SMTP connections seen.",
	    get(&counters[METRICS_CONNECTIONS]));
	simple(fp, "transactions_total", "counter", "Transactions (MAIL FROM) seen.",
	    get(&counters[METRICS_TRANSACTIONS]));
	head(fp, "recipients_total", "counter",
	    "Recipients by the verdict the MTA was given (dry-run refusals count as accept).");
	fprintf(fp, "relay_milter_recipients_total{verdict=\"accept\"} %lu\n",
	    get(&recipients[SLOT_ACCEPT]) + get(&recipients[SLOT_DRY_REJECT]) +
		get(&recipients[SLOT_DRY_TEMPFAIL]));
	fprintf(fp, "relay_milter_recipients_total{verdict=\"reject\"} %lu\n",
	    get(&recipients[SLOT_REJECT]));
	fprintf(fp, "relay_milter_recipients_total{verdict=\"tempfail\"} %lu\n",
	    get(&recipients[SLOT_TEMPFAIL]));
	head(fp, "dry_run_total", "counter",
	    "Verdicts not enforced (mode dry-run, or a dry_run rule), by would-be verdict.");
	for (int i = SLOT_DRY_ACCEPT; i < SLOT_N; i++)
		fprintf(fp, "relay_milter_dry_run_total{verdict=\"%s\"} %lu\n", slot_verdict[i],
		    get(&dry_notes[i]));
	head(fp, "rule_recipients_total", "counter", "Recipients decided by each rule, enforced.");
	labelled(fp, &rules, "rule_recipients_total", "rule", false);
	head(fp, "rule_dry_run_total", "counter",
	    "Would-be refusals by each rule, let through by dry-run.");
	labelled(fp, &rules, "rule_dry_run_total", "rule", true);
	head(fp, "reason_recipients_total", "counter", "Recipients by reason, enforced.");
	labelled(fp, &reasons, "reason_recipients_total", "reason", false);
	head(fp, "reason_dry_run_total", "counter", "Would-be refusals by reason, let through.");
	labelled(fp, &reasons, "reason_dry_run_total", "reason", true);
	simple(fp, "geoip_lookups_total", "counter", "GeoIP lookups of client addresses.",
	    get(&counters[METRICS_GEO_LOOKUPS]));
	simple(fp, "geoip_failures_total", "counter", "GeoIP lookups that failed (tempfail).",
	    get(&counters[METRICS_GEO_FAILURES]));
	simple(fp, "reloads_total", "counter", "Successful configuration reloads.",
	    get(&counters[METRICS_RELOADS]));
	simple(fp, "reload_failures_total", "counter",
	    "Reloads refused because the new configuration had errors.",
	    get(&counters[METRICS_RELOAD_FAILURES]));
	format_config(fp, snap);
	snapshot_release(snap);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	if (len != NULL)
		*len = size;
	return buf;
}

/* metrics_log - every sample as one log line (SIGUSR2) */
void metrics_log(void)
{
	char *text = metrics_format(NULL), *line, *save = NULL;

	if (text == NULL) {
		log_err("metrics: out of memory");
		return;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#')
			log_info("metrics: %s", line);
	free(text);
}

/* table_reset - free the names of one table and zero it */
static void table_reset(struct label_table *t)
{
	for (size_t i = 0; i < LABELS_MAX; i++)
		free(t->slot[i].name);
	memset(t, 0, sizeof(*t));
}

/* metrics_reset - forget every count (not thread-safe: tests and exit only) */
void metrics_reset(void)
{
	table_reset(&rules);
	table_reset(&reasons);
	memset(counters, 0, sizeof(counters));
	memset(recipients, 0, sizeof(recipients));
	memset(dry_notes, 0, sizeof(dry_notes));
}

/* parse_port - decimal 0..65535, nothing after it */
static int parse_port(const char *s, unsigned *port)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9' || strlen(s) > 5)
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != 0 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* metrics_listen_parse - "ADDR:PORT" or "[ADDR6]:PORT", numeric only */
int metrics_listen_parse(const char *text, struct metrics_listen *out, const char **why)
{
	char host[64];
	const char *colon, *start = text;
	size_t hlen;
	unsigned port;

	memset(out, 0, sizeof(*out));
	*why = "expected \"ADDRESS:PORT\", e.g. \"127.0.0.1:9899\" or \"[::1]:9899\"";
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		start = text + 1;
		hlen = (size_t)(close - start);
		colon = close + 1;
	} else {
		if ((colon = strrchr(text, ':')) == NULL || strchr(text, ':') != colon)
			return -1;
		hlen = (size_t)(colon - text);
	}
	if (hlen == 0 || hlen >= sizeof(host) || parse_port(colon + 1, &port) < 0)
		return -1;
	memcpy(host, start, hlen);
	host[hlen] = 0;
	if (text[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*s6);
		out->v6 = true;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		out->len = sizeof(*s4);
	}
	return 0;
}
