/* metrics.c - counters of what the milter did, and their Prometheus text */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "limits.h"
#include "log.h"
#include "metrics.h"
#include "rules.h"
#include "snapshot.h"
#include "steps.h"

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

#define LABELS_MAX  256 /* distinct rule names ever seen; more share "other" */
#define LABEL_OTHER LABELS_MAX

struct label_slot {
	char *name; /* set once, by compare-and-swap; never changes after */
	unsigned long n[SLOT_N];
};

/* Configured rules by name, so that a rule keeps its counts across reloads. */
struct label_table {
	struct label_slot slot[LABELS_MAX + 1]; /* the last one is "other" */
};

static unsigned long counters[METRICS_NCOUNTERS];
static unsigned long recipients[SLOT_N]; /* by the deciding verdict */
static unsigned long dry_notes[SLOT_N];  /* dry-run verdicts noted, either way */
static struct label_table rules;
/* Limits by name, as rules: a slot's counters are these, not verdicts. */
enum {
	LIMIT_CHECKED,
	LIMIT_EXCEEDED,
	LIMIT_DRY_EXCEEDED,
	LIMIT_LOCKED,
	LIMIT_LOCKS_STARTED
};
static struct label_table limits;
static struct store *limits_store; /* its keys, evictions and locks, read at scrape */
/* How long RCPT decisions take: upper bounds of the buckets, in nanoseconds. */
static const unsigned long long rcpt_bounds[] = {10000, 30000, 100000, 300000, 1000000, 3000000,
    10000000, 30000000, 100000000};
#define NBOUNDS (sizeof(rcpt_bounds) / sizeof(rcpt_bounds[0]))
static unsigned long rcpt_buckets[NBOUNDS + 1]; /* the last: above every bound */
static unsigned long long rcpt_ns_sum;

/* Built-in steps and reasons: fixed, so counted by their index alone. */
static unsigned long steps[STEP_N][SLOT_N];
static unsigned long reasons[REASON_N][SLOT_N];

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
static unsigned long slot_total(const unsigned long *n)
{
	unsigned long sum = 0;

	for (int i = 0; i < SLOT_N; i++)
		sum += get(&n[i]);
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
 * slot_find - the slot index of name, claimed on first use. Lock-free: an
 * empty slot is taken by compare-and-swap, and a thread that loses the
 * race drops its copy and looks at the winner's name. Names are never
 * removed. Only reloads and scrapes call it, never the RCPT path.
 */
static unsigned slot_find(struct label_table *t, const char *name)
{
	unsigned h = name_hash(name) % LABELS_MAX;

	for (unsigned i = 0; i < LABELS_MAX; i++, h = (h + 1) % LABELS_MAX) {
		char *cur = __atomic_load_n(&t->slot[h].name, __ATOMIC_ACQUIRE);

		if (cur == NULL) {
			char *copy = strdup(name);

			if (copy == NULL)
				return LABEL_OTHER;
			if (__atomic_compare_exchange_n(&t->slot[h].name, &cur, copy, false,
				__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return h;
			free(copy); /* cur now holds the name that won */
		}
		if (strcmp(cur, name) == 0)
			return h;
	}
	return LABEL_OTHER;
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

/* metrics_rule_ids - claim a counter slot for each rule of p, by name */
unsigned *metrics_rule_ids(const struct policy *p)
{
	unsigned *ids = calloc(p->nrules + 1, sizeof(*ids));

	if (ids == NULL)
		return NULL;
	for (size_t i = 0; i < p->nrules; i++)
		ids[i] = slot_find(&rules, p->rules[i].name);
	return ids;
}

/* metrics_limit_ids - claim a counter slot for each limit of p, by name */
unsigned *metrics_limit_ids(const struct policy *p)
{
	unsigned *ids = calloc(p->nlimits + 1, sizeof(*ids));

	if (ids == NULL)
		return NULL;
	for (size_t i = 0; i < p->nlimits; i++)
		ids[i] = slot_find(&limits, p->limits[i].rule.name);
	return ids;
}

/* metrics_limits - every limit that applied to one recipient: checked, exceeded, locked */
void metrics_limits(const struct verdict *v, const unsigned *limit_ids, const struct policy *p)
{
	for (size_t i = 0; i < v->nlimits && limit_ids != NULL; i++) {
		const struct limit_seen *s = &v->limits[i];
		unsigned long *n = limits.slot[limit_ids[s->limit]].n;

		bump(&n[LIMIT_CHECKED]);
		if (s->result.status == STORE_LOCKED)
			bump(&n[LIMIT_LOCKED]);
		else if (s->result.status == STORE_EXCEEDED)
			bump(&n[p->limits[s->limit].rule.dry_run ? LIMIT_DRY_EXCEEDED :
								   LIMIT_EXCEEDED]);
		if (s->result.lock_started)
			bump(&n[LIMIT_LOCKS_STARTED]);
	}
}

/* metrics_set_store - the store whose size and locks the metrics show */
void metrics_set_store(struct store *store)
{
	limits_store = store;
}

/* metrics_add - count one event */
void metrics_add(enum metrics_counter which)
{
	if (which < METRICS_NCOUNTERS)
		bump(&counters[which]);
}

/* metrics_sub - take one off a gauge */
void metrics_sub(enum metrics_counter which)
{
	if (which < METRICS_NCOUNTERS)
		__atomic_sub_fetch(&counters[which], 1, __ATOMIC_RELAXED);
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

/* decider - the counters of the rule or step at (rule, step) */
static unsigned long *decider(enum step step, int rule, const unsigned *rule_ids)
{
	if (step != STEP_RULE)
		return steps[step];
	if (rule < 0 || rule_ids == NULL)
		return rules.slot[LABEL_OTHER].n;
	return rules.slot[rule_ids[rule]].n;
}

/*
 * metrics_decision - count one recipient verdict: the deciding rule or
 * step (not enforced in mode "dry-run"), its reason, and a dry_run rule
 * noted on the way. Indexes only: no name is looked at here.
 */
void metrics_decision(const struct verdict *v, const unsigned *rule_ids)
{
	int i = slot_index(v->action, v->dry_run);

	bump(&recipients[i]);
	bump(&decider(v->step, v->rule_index, rule_ids)[i]);
	if (v->why < REASON_N)
		bump(&reasons[v->why][i]);
	if (v->dry_run)
		bump(&dry_notes[i]);
	if (v->dry_rule_index >= 0) {
		i = slot_index(v->dry_action, true);
		bump(&decider(STEP_RULE, v->dry_rule_index, rule_ids)[i]);
		bump(&dry_notes[i]);
	}
}

/* metrics_rcpt_time - one decision's time into its bucket (not cumulative: summed at scrape) */
void metrics_rcpt_time(unsigned long long ns)
{
	size_t i = 0;

	while (i < NBOUNDS && ns > rcpt_bounds[i])
		i++;
	bump(&rcpt_buckets[i]);
	__atomic_add_fetch(&rcpt_ns_sum, ns, __ATOMIC_RELAXED);
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

/* metrics_rule_count - a rule's (or built-in step's) count for one action */
unsigned long metrics_rule_count(const char *rule, enum action action, bool dry_run)
{
	enum step step = step_find(rule);
	const struct label_slot *s;

	if (step != STEP_RULE)
		return get(&steps[step][slot_index(action, dry_run)]);
	s = slot_peek(&rules, rule);
	return s ? get(&s->n[slot_index(action, dry_run)]) : 0;
}

/* metrics_reason_count - recipients decided with this reason, whatever the verdict */
unsigned long metrics_reason_count(const char *reason)
{
	for (int r = 0; r < REASON_N; r++)
		if (strcmp(reason_name((enum reason)r), reason) == 0)
			return slot_total(reasons[r]);
	return 0;
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
	fprintf(fp, "# HELP relay_milter_%s %s\n# TYPE relay_milter_%s %s\n", name, help, name,
	    type);
}

/* simple - one unlabelled counter or gauge */
static void simple(FILE *fp, const char *name, const char *type, const char *help,
    unsigned long value)
{
	head(fp, name, type, help);
	fprintf(fp, "relay_milter_%s %lu\n", name, value);
}

static const char *const slot_verdict[SLOT_N] = {"accept", "reject", "tempfail", "accept", "reject",
    "tempfail"};

/* sample_row - the enforced or the dry-run samples of one label value */
static void sample_row(FILE *fp, const char *metric, const char *label, const char *name,
    const unsigned long *n, bool dry)
{
	for (int i = dry ? SLOT_DRY_ACCEPT : SLOT_ACCEPT; i < (dry ? SLOT_N : SLOT_DRY_ACCEPT);
	     i++) {
		fprintf(fp, "relay_milter_%s{%s=\"", metric, label);
		label_escape(fp, name);
		fprintf(fp, "\",verdict=\"%s\"} %lu\n", slot_verdict[i], get(&n[i]));
	}
}

/* by_rule - one family by rule: the built-in steps, then every rule name ever seen */
static void by_rule(FILE *fp, const char *metric, bool dry)
{
	for (int s = STEP_RULE + 1; s < STEP_N; s++)
		sample_row(fp, metric, "rule", step_name((enum step)s), steps[s], dry);
	for (size_t i = 0; i < LABELS_MAX; i++) {
		const char *name = __atomic_load_n(&rules.slot[i].name, __ATOMIC_ACQUIRE);

		if (name != NULL)
			sample_row(fp, metric, "rule", name, rules.slot[i].n, dry);
	}
	if (slot_total(rules.slot[LABEL_OTHER].n) != 0)
		sample_row(fp, metric, "rule", "other", rules.slot[LABEL_OTHER].n, dry);
}

/* by_reason - one family by reason: every reason, even at zero */
static void by_reason(FILE *fp, const char *metric, bool dry)
{
	for (int r = 0; r < REASON_N; r++)
		sample_row(fp, metric, "reason", reason_name((enum reason)r), reasons[r], dry);
}

/* register_names - list the current rules and limits even before they fire */
static void register_names(const struct snapshot *snap)
{
	if (snap == NULL)
		return;
	for (size_t i = 0; i < snap->config->policy->nrules; i++)
		slot_find(&rules, snap->config->policy->rules[i].name);
	for (size_t i = 0; i < snap->config->policy->nlimits; i++)
		slot_find(&limits, snap->config->policy->limits[i].rule.name);
}

/* by_limit - one counter of every limit ever configured */
static void by_limit(FILE *fp, const char *metric, const char *help, int which)
{
	head(fp, metric, "counter", help);
	for (size_t i = 0; i <= LABELS_MAX; i++) {
		const char *name = i < LABELS_MAX ?
		    __atomic_load_n(&limits.slot[i].name, __ATOMIC_ACQUIRE) :
		    (slot_total(limits.slot[i].n) ? "other" : NULL);

		if (name == NULL)
			continue;
		fprintf(fp, "relay_milter_%s{limit=\"", metric);
		label_escape(fp, name);
		fprintf(fp, "\"} %lu\n", get(&limits.slot[i].n[which]));
	}
}

/* format_limits - per-limit counters, and the store's size, evictions and locks */
static void format_limits(FILE *fp)
{
	struct store_stats st = {0};

	by_limit(fp, "limit_checks_total", "Accepted recipients a limit applied to.",
	    LIMIT_CHECKED);
	by_limit(fp, "limit_exceeded_total", "Recipients refused for going over a limit.",
	    LIMIT_EXCEEDED);
	by_limit(fp, "limit_dry_run_exceeded_total",
	    "Recipients over a dry_run limit, let through.", LIMIT_DRY_EXCEEDED);
	by_limit(fp, "limit_locked_total", "Recipients refused because their key was locked.",
	    LIMIT_LOCKED);
	by_limit(fp, "limit_locks_started_total", "Locks started by a limit.", LIMIT_LOCKS_STARTED);
	if (limits_store != NULL)
		limits_store->ops->stats(limits_store, &st);
	simple(fp, "locks_active", "gauge", "Keys locked now.", (unsigned long)st.locks);
	simple(fp, "store_keys", "gauge", "Keys (logins, clients, senders) the store holds.",
	    (unsigned long)st.keys);
	simple(fp, "store_evictions_total", "counter",
	    "Keys dropped, closest to expiry first, because the store was full.",
	    (unsigned long)st.evictions);
	simple(fp, "store_errors_total", "counter", "Decisions the store could not answer.",
	    (unsigned long)st.errors);
}

/* format_config - generation and age of the running configuration */
static void format_config(FILE *fp, const struct snapshot *snap)
{
	time_t now = time(NULL), loaded = snap ? snap->config->loaded : 0;

	simple(fp, "config_generation", "gauge",
	    "Configurations loaded since start; 1 is the first.", snap ? snap->generation : 0);
	simple(fp, "config_loaded_timestamp_seconds", "gauge",
	    "When the running configuration was loaded (Unix time).", (unsigned long)loaded);
	simple(fp, "config_age_seconds", "gauge",
	    "Seconds since the running configuration was loaded.",
	    snap && now > loaded ? (unsigned long)(now - loaded) : 0);
}

/* format_rcpt_time - the histogram as Prometheus wants it: cumulative buckets */
static void format_rcpt_time(FILE *fp)
{
	unsigned long cum = 0;

	head(fp, "rcpt_decision_seconds", "histogram",
	    "Time from a RCPT to its verdict: facts, policy and decision line.");
	for (size_t i = 0; i <= NBOUNDS; i++) {
		cum += get(&rcpt_buckets[i]);
		if (i < NBOUNDS)
			fprintf(fp, "relay_milter_rcpt_decision_seconds_bucket{le=\"%g\"} %lu\n",
			    (double)rcpt_bounds[i] / 1e9, cum);
		else
			fprintf(fp, "relay_milter_rcpt_decision_seconds_bucket{le=\"+Inf\"} %lu\n",
			    cum);
	}
	fprintf(fp, "relay_milter_rcpt_decision_seconds_sum %.9f\n",
	    (double)__atomic_load_n(&rcpt_ns_sum, __ATOMIC_RELAXED) / 1e9);
	fprintf(fp, "relay_milter_rcpt_decision_seconds_count %lu\n", cum);
}

/* proc_number - the Nth (from 1) space-separated field of a /proc file, as a number */
static double proc_number(const char *path, int field, const char *after)
{
	char buf[2048], *p;
	FILE *fp = fopen(path, "r");
	size_t n;
	int i;

	if (fp == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = 0;
	/* /proc/self/stat's second field (the name) may hold spaces: start after it */
	p = after ? strrchr(buf, *after) : buf;
	if (p == NULL)
		return -1;
	for (i = 1; i < field && *p; i++) {
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	return *p ? strtod(p, NULL) : -1;
}

/* boot_time - the system's boot time (Unix seconds), from /proc/stat */
static double boot_time(void)
{
	char line[256];
	double t = -1;
	FILE *fp = fopen("/proc/stat", "r");

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "btime ", 6) == 0)
			t = strtod(line + 6, NULL);
	fclose(fp);
	return t;
}

/* open_fds - descriptors open now */
static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* opendir's own */
}

/* format_process - the process metrics, in the names Prometheus's clients use */
static void format_process(FILE *fp)
{
	struct rusage ru;
	struct rlimit rl;
	double ticks = (double)sysconf(_SC_CLK_TCK),
	       start = proc_number("/proc/self/stat", 21, ")");
	double rss = proc_number("/proc/self/statm", 2, NULL), btime = boot_time();

	getrusage(RUSAGE_SELF, &ru);
	fprintf(fp,
	    "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
	    "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.6f\n",
	    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		ru.ru_stime.tv_usec / 1e6);
	if (rss >= 0)
		fprintf(fp,
		    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
		    "# TYPE process_resident_memory_bytes gauge\n"
		    "process_resident_memory_bytes %.0f\n",
		    rss * (double)sysconf(_SC_PAGESIZE));
	fprintf(fp,
	    "# HELP process_open_fds Number of open file descriptors.\n"
	    "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n",
	    open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		fprintf(fp,
		    "# HELP process_max_fds Maximum number of open file descriptors.\n"
		    "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
	if (start >= 0 && btime >= 0 && ticks > 0)
		fprintf(fp,
		    "# HELP process_start_time_seconds Start time of the process since unix "
		    "epoch in seconds.\n# TYPE process_start_time_seconds gauge\n"
		    "process_start_time_seconds %.2f\n",
		    btime + start / ticks);
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
	by_rule(fp, "rule_recipients_total", false);
	head(fp, "rule_dry_run_total", "counter",
	    "Would-be refusals by each rule, let through by dry-run.");
	by_rule(fp, "rule_dry_run_total", true);
	head(fp, "reason_recipients_total", "counter", "Recipients by reason, enforced.");
	by_reason(fp, "reason_recipients_total", false);
	head(fp, "reason_dry_run_total", "counter", "Would-be refusals by reason, let through.");
	by_reason(fp, "reason_dry_run_total", true);
	simple(fp, "geoip_lookups_total", "counter", "GeoIP lookups of client addresses.",
	    get(&counters[METRICS_GEO_LOOKUPS]));
	simple(fp, "geoip_failures_total", "counter", "GeoIP lookups that failed (tempfail).",
	    get(&counters[METRICS_GEO_FAILURES]));
	simple(fp, "reloads_total", "counter", "Successful configuration reloads.",
	    get(&counters[METRICS_RELOADS]));
	simple(fp, "reload_failures_total", "counter",
	    "Reloads refused because the new configuration had errors.",
	    get(&counters[METRICS_RELOAD_FAILURES]));
	simple(fp, "connections_active", "gauge", "SMTP connections open now.",
	    get(&counters[METRICS_ACTIVE_CONNECTIONS]));
	format_limits(fp);
	format_rcpt_time(fp);
	format_config(fp, snap);
	snapshot_release(snap);
	head(fp, "build_info", "gauge", "Always 1; the version relay-milter was built as.");
	fprintf(fp, "relay_milter_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	format_process(fp);
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

/* metrics_reset - forget every count (not thread-safe: tests and exit only) */
void metrics_reset(void)
{
	for (size_t i = 0; i < LABELS_MAX; i++) {
		free(rules.slot[i].name);
		free(limits.slot[i].name);
	}
	memset(&rules, 0, sizeof(rules));
	memset(&limits, 0, sizeof(limits));
	memset(steps, 0, sizeof(steps));
	memset(reasons, 0, sizeof(reasons));
	memset(counters, 0, sizeof(counters));
	memset(recipients, 0, sizeof(recipients));
	memset(dry_notes, 0, sizeof(dry_notes));
	memset(rcpt_buckets, 0, sizeof(rcpt_buckets));
	rcpt_ns_sum = 0;
}
