/* explain.c - judge a hypothetical transaction and show why (--explain) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "control.h"
#include "explain.h"
#include "limits.h"
#include "geo.h"
#include "ipaddr.h"
#include "json.h"
#include "log.h"
#include "policy.h"
#include "rules.h"
#include "verdict_log.h"

#define EXPLAIN_RCPT_MAX 100
#define EXPLAIN_MTA_MAX  2

struct explain_rcpt {
	const char *rcpt;
	const char *rcpt_addr; /* the MTA's {rcpt_addr}, or NULL */
	const char *mailer;    /* the MTA's {rcpt_mailer}, or NULL */
};

/* The hypothetical transaction, as the command line told it. */
struct explain_input {
	const char *client_text;
	struct ipaddr client;
	const char *client_name, *helo, *login, *from, *mail_addr;
	struct ipaddr mta[EXPLAIN_MTA_MAX];
	size_t nmta;
	struct explain_rcpt rcpts[EXPLAIN_RCPT_MAX];
	size_t nrcpts;
};

/* explain_usage - the fact keys --explain understands */
void explain_usage(FILE *fp)
{
	fprintf(fp,
	    "facts for --explain, as KEY=VALUE (rcpt= at least once):\n"
	    "  client=ADDRESS     client IP address (absent: no client address)\n"
	    "  client_name=NAME   client's reverse DNS name\n"
	    "  helo=NAME          HELO/EHLO name\n"
	    "  login=NAME         SMTP AUTH identity ({auth_authen})\n"
	    "  from=ADDRESS       MAIL FROM (default <>)\n"
	    "  mail_addr=ADDRESS  the MTA's form of the sender ({mail_addr})\n"
	    "  rcpt=ADDRESS       RCPT TO; repeat for several recipients\n"
	    "  rcpt_addr=ADDRESS  the MTA's resolution of the preceding rcpt ({rcpt_addr})\n"
	    "  mailer=NAME        the MTA's mailer for the preceding rcpt ({rcpt_mailer})\n"
	    "  mta_addr=ADDRESS   one of the MTA's own addresses ({daemon_addr}, {if_addr})\n");
}

/* set_once - a key that may appear only once */
static int set_once(const char **slot, const char *key, const char *value, FILE *err)
{
	if (*slot != NULL) {
		fprintf(err, "relay-milter: --explain: %s= given twice\n", key);
		return -1;
	}
	*slot = value;
	return 0;
}

/* last_rcpt_field - rcpt_addr= and mailer= belong to the rcpt= before them */
static int last_rcpt_field(struct explain_input *in, const char *key, const char *value, FILE *err)
{
	struct explain_rcpt *r;

	if (in->nrcpts == 0) {
		fprintf(err, "relay-milter: --explain: %s= must follow a rcpt=\n", key);
		return -1;
	}
	r = &in->rcpts[in->nrcpts - 1];
	return set_once(strcmp(key, "mailer") == 0 ? &r->mailer : &r->rcpt_addr, key, value, err);
}

/* add_fact - one KEY=VALUE argument */
static int add_fact(struct explain_input *in, const char *arg, FILE *err)
{
	const char *eq = strchr(arg, '='), *value;
	char key[32];
	size_t klen;

	if (eq == NULL || (klen = (size_t)(eq - arg)) == 0 || klen >= sizeof(key)) {
		fprintf(err, "relay-milter: --explain: \"%s\": expected KEY=VALUE\n", arg);
		return -1;
	}
	memcpy(key, arg, klen);
	key[klen] = 0;
	value = eq + 1;
	if (strcmp(key, "client") == 0) {
		if (ipaddr_parse(value, &in->client) < 0) {
			fprintf(err, "relay-milter: --explain: client=%s: not an IP address\n",
			    value);
			return -1;
		}
		return set_once(&in->client_text, key, value, err);
	}
	if (strcmp(key, "client_name") == 0)
		return set_once(&in->client_name, key, value, err);
	if (strcmp(key, "helo") == 0)
		return set_once(&in->helo, key, value, err);
	if (strcmp(key, "login") == 0)
		return set_once(&in->login, key, value, err);
	if (strcmp(key, "from") == 0)
		return set_once(&in->from, key, value, err);
	if (strcmp(key, "mail_addr") == 0)
		return set_once(&in->mail_addr, key, value, err);
	if (strcmp(key, "rcpt") == 0) {
		if (in->nrcpts == EXPLAIN_RCPT_MAX) {
			fprintf(err, "relay-milter: --explain: more than %d recipients\n",
			    EXPLAIN_RCPT_MAX);
			return -1;
		}
		in->rcpts[in->nrcpts++].rcpt = value;
		return 0;
	}
	if (strcmp(key, "rcpt_addr") == 0 || strcmp(key, "mailer") == 0)
		return last_rcpt_field(in, key, value, err);
	if (strcmp(key, "mta_addr") == 0) {
		if (in->nmta == EXPLAIN_MTA_MAX || ipaddr_parse(value, &in->mta[in->nmta]) < 0) {
			fprintf(err,
			    "relay-milter: --explain: mta_addr=%s: not an IP address "
			    "(at most %d)\n",
			    value, EXPLAIN_MTA_MAX);
			return -1;
		}
		in->nmta++;
		return 0;
	}
	fprintf(err, "relay-milter: --explain: unknown fact \"%s\"\n", key);
	return -1;
}

/* parse_facts - every argument, then the checks that need all of them */
static int parse_facts(struct explain_input *in, int argc, char *const *argv, FILE *err)
{
	for (int i = 0; i < argc; i++)
		if (add_fact(in, argv[i], err) < 0)
			return -1;
	if (in->nrcpts == 0) {
		fprintf(err, "relay-milter: --explain: no rcpt= given\n");
		return -1;
	}
	if (in->from == NULL)
		in->from = "<>";
	return 0;
}

/* result_name - a trace step's result in words (a limit: whether it refused) */
static const char *result_name(const struct trace_step *s)
{
	if (s->step == STEP_RATE_LIMIT || s->step == STEP_RECIPIENT_LIMIT)
		return s->result > 0 ? "refused" : "within";
	return s->result > 0 ? "match" : s->result == 0 ? "no match" : "lookup failed";
}

/* step_rule - the configured rule a trace step tried, or NULL for a built-in step */
static const struct rule *step_rule(const struct policy *p, const struct trace_step *s)
{
	return s->step == STEP_RULE && s->rule_index >= 0 ? &p->rules[s->rule_index] : NULL;
}

/* step_continues - a matched rule whose action is "continue" (it logs, not decides) */
static bool step_continues(const struct policy *p, const struct trace_step *s)
{
	const struct rule *r = step_rule(p, s);

	return s->result > 0 && r != NULL && r->action == ACTION_CONTINUE;
}

/* step_on_trial - a matched (or failed) rule with dry_run = true: noted, not obeyed */
static bool step_on_trial(const struct policy *p, const struct trace_step *s)
{
	const struct rule *r = step_rule(p, s);

	return s->result != 0 && r != NULL && r->dry_run;
}

/* step_note - how a matched rule that did not decide is marked in the text trace */
static const char *step_note(const struct policy *p, const struct trace_step *s)
{
	if (step_continues(p, s))
		return " (continue)";
	return step_on_trial(p, s) ? " (dry-run: not in force)" : "";
}

/* step_json_note - the same as extra JSON members */
static const char *step_json_note(const struct policy *p, const struct trace_step *s)
{
	if (step_continues(p, s))
		return ", \"continue\": true";
	return step_on_trial(p, s) ? ", \"dry_run\": true" : "";
}

/* refused - what the MTA is told: a refusal, unless dry-run lets it pass */
static bool refused(const struct verdict *v)
{
	return v->action != ACTION_ACCEPT && !v->dry_run;
}

/* --- text output --- */

/* text_geo - the GeoIP facts the rules saw */
static void text_geo(FILE *out, const struct facts *f)
{
	const struct geo_info *g = &f->geo->info;

	if (g->status < 0)
		fprintf(out, "geoip        lookup failed\n");
	else
		fprintf(out, "geoip        country=%s asn=%u%s\n", g->country, g->asn,
		    g->status == 1 ? " (not in database)" : "");
}

/* text_header - the transaction as understood */
static void text_header(FILE *out, const struct explain_input *in, const struct policy *p,
    const struct facts *f)
{
	fprintf(out, "client       %s\n", in->client_text ? in->client_text : "(none)");
	if (in->client_name != NULL)
		fprintf(out, "client_name  %s\n", in->client_name);
	if (in->helo != NULL)
		fprintf(out, "helo         %s\n", in->helo);
	fprintf(out, "login        %s\n", in->login && *in->login ? in->login : "(none)");
	fprintf(out, "from         %s\n", in->from);
	if (p->geo != NULL)
		text_geo(out, f);
	fprintf(out, "mode         %s\n", p->dry_run ? "dry-run" : "enforce");
}

/* limit_status - what the store said of one limit, in a word */
static const char *limit_status(const struct limit_seen *s)
{
	if (s->exempt)
		return "exempt";
	return s->result.status == STORE_LOCKED ? "locked" :
	    s->result.status == STORE_EXCEEDED  ? "exceeded" :
						  "ok";
}

/*
 * text_limits - every limit that applies, its key and the running
 * daemon's count against max (explain asks, never counts)
 */
static void text_limits(FILE *out, const struct policy *p, const struct verdict *v)
{
	if (v->nlimits > 0)
		fprintf(out, "  limits\n");
	for (size_t i = 0; i < v->nlimits; i++) {
		const struct limit_seen *s = &v->limits[i];
		const struct limit *l = &p->limits[s->limit];

		fprintf(out, "    %-16s %-32s %llu/%llu per %us %s%s\n", l->rule.name, s->principal,
		    (unsigned long long)s->result.count, (unsigned long long)s->max, l->window,
		    limit_status(s), l->rule.dry_run ? " (dry-run)" : "");
	}
}

/* text_rcpt - one recipient's verdict and the rules tried for it */
static void text_rcpt(FILE *out, const struct policy *p, const struct facts *f,
    const struct verdict *v, const struct trace *t)
{
	struct logline line;

	fprintf(out, "\nrcpt %s\n", f->rcpt);
	if (v->dry_run)
		fprintf(out, "  verdict    accept (dry-run: would %s)\n", action_name(v->action));
	else
		fprintf(out, "  verdict    %s\n", action_name(v->action));
	fprintf(out, "  reply      %d %s %s%s\n", v->code, v->ecode, v->text,
	    v->dry_run ? " (not sent: dry-run)" : "");
	fprintf(out, "  rule       %s (reason: %s)\n", v->rule, v->reason);
	if (v->dry_rule != NULL)
		fprintf(out, "  dry-run    %s would %s (not in force)\n", v->dry_rule,
		    action_name(v->dry_action));
	fprintf(out, "  tried\n");
	for (size_t i = 0; i < t->n; i++)
		fprintf(out, "    %2zu. %-24s %s%s\n", i + 1, t->steps[i].rule,
		    result_name(&t->steps[i]), step_note(p, &t->steps[i]));
	text_limits(out, p, v);
	verdict_format(&line, LOGLINE_KV, NULL, f, v, p);
	fprintf(out, "  log       %s\n", line.buf);
}

/* --- JSON output --- */

/* json_opt - a string member, or null */
static void json_opt(FILE *out, const char *key, const char *value)
{
	fprintf(out, "\"%s\": ", key);
	json_write(out, value);
}

/* json_header - the transaction, as the first members of the object */
static void json_header(FILE *out, const struct explain_input *in, const struct policy *p,
    const struct facts *f)
{
	fputs("{\n  ", out);
	json_opt(out, "client", in->client_text);
	fputs(",\n  ", out);
	json_opt(out, "client_name", in->client_name);
	fputs(",\n  ", out);
	json_opt(out, "helo", in->helo);
	fputs(",\n  ", out);
	json_opt(out, "login", in->login && *in->login ? in->login : NULL);
	fputs(",\n  ", out);
	json_opt(out, "from", in->from);
	fprintf(out, ",\n  \"mode\": \"%s\",\n  \"geoip\": ", p->dry_run ? "dry-run" : "enforce");
	if (p->geo == NULL)
		fputs("null", out);
	else {
		const struct geo_info *g = &f->geo->info;

		fputs("{", out);
		json_opt(out, "country", g->status < 0 ? NULL : g->country);
		fprintf(out, ", \"asn\": %u, \"status\": \"%s\"}", g->asn,
		    g->status < 0      ? "failed" :
			g->status == 1 ? "not-found" :
					 "found");
	}
	fputs(",\n  \"recipients\": [", out);
}

/* json_rcpt - one recipient as one line */
static void json_rcpt(FILE *out, const struct policy *p, const struct facts *f,
    const struct verdict *v, const struct trace *t, bool first)
{
	fprintf(out, "%s\n    {", first ? "" : ",");
	json_opt(out, "rcpt", f->rcpt);
	fprintf(out, ", \"verdict\": \"%s\", \"action\": \"%s\", \"dry_run\": %s, \"code\": %d, ",
	    refused(v) ? action_name(v->action) : "accept", action_name(v->action),
	    v->dry_run ? "true" : "false", v->code);
	json_opt(out, "ecode", v->ecode);
	fputs(", ", out);
	json_opt(out, "text", v->text);
	fputs(", ", out);
	json_opt(out, "rule", v->rule);
	fputs(", ", out);
	json_opt(out, "reason", v->reason);
	fputs(", ", out);
	json_opt(out, "dry_run_rule", v->dry_rule);
	fputs(", ", out);
	json_opt(out, "dry_run_action", v->dry_rule ? action_name(v->dry_action) : NULL);
	fprintf(out, ", \"local\": %s, \"trace\": [", v->rcpt_local ? "true" : "false");
	for (size_t i = 0; i < t->n; i++) {
		fputs(i ? ", {" : "{", out);
		json_opt(out, "rule", t->steps[i].rule);
		fprintf(out, ", \"result\": \"%s\"%s}",
		    t->steps[i].result > 0      ? "match" :
			t->steps[i].result == 0 ? "no-match" :
						  "failed",
		    step_json_note(p, &t->steps[i]));
	}
	fputs("], \"limits\": [", out);
	for (size_t i = 0; i < v->nlimits; i++) {
		const struct limit_seen *s = &v->limits[i];

		fputs(i ? ", {" : "{", out);
		json_opt(out, "limit", p->limits[s->limit].rule.name);
		fputs(", ", out);
		json_opt(out, "key", s->principal);
		fprintf(out,
		    ", \"count\": %llu, \"max\": %llu, \"window\": %u, \"status\": \"%s\"}",
		    (unsigned long long)s->result.count, (unsigned long long)s->max,
		    p->limits[s->limit].window, limit_status(s));
	}
	fputs("]}", out);
}

/* --- the run --- */

/* base_facts - what every recipient of the transaction shares */
static void base_facts(const struct explain_input *in, struct facts *f, struct geo_cache *geo)
{
	memset(f, 0, sizeof(*f));
	memset(geo, 0, sizeof(*geo));
	f->geo = geo;
	f->client = in->client_text ? &in->client : NULL;
	f->client_name = in->client_name;
	f->helo = in->helo;
	f->login = in->login;
	f->sender = in->from;
	f->sender_mta = in->mail_addr;
	f->mta_addrs = in->mta;
	f->nmta_addrs = in->nmta;
	f->now = time(NULL);
}

/* judge_all - every recipient in order, as the callbacks would; returns the status */
static int judge_all(const struct explain_input *in, const struct policy *p, struct store *store,
    bool json, FILE *out)
{
	struct facts f;
	struct geo_cache geo;
	struct verdict *v = malloc(sizeof(*v));
	struct trace *t = malloc(sizeof(*t));
	int status = EXPLAIN_ACCEPTED;
	size_t accepted = 0;

	if (v == NULL || t == NULL) {
		free(v);
		free(t);
		fprintf(stderr, "relay-milter: --explain: out of memory\n");
		return EXPLAIN_USAGE;
	}
	base_facts(in, &f, &geo);
	f.store = store;
	f.peek = true;
	if (p->geo != NULL)
		geo_fill(&geo, p->geo,
		    f.client); /* show the country and ASN even when no rule needs them */
	if (json)
		json_header(out, in, p, &f);
	else
		text_header(out, in, p, &f);
	for (size_t i = 0; i < in->nrcpts; i++) {
		f.rcpt = in->rcpts[i].rcpt;
		f.rcpt_mta = in->rcpts[i].rcpt_addr;
		f.rcpt_mailer = in->rcpts[i].mailer;
		policy_decide(p, &f, v, t);
		if (refused(v))
			status = EXPLAIN_REFUSED;
		else
			accepted++;
		/* the transaction goes on as in the daemon: its recipients, its message */
		if (v->action == ACTION_ACCEPT || v->dry_run)
			f.rcpts_accepted++;
		f.msgs_counted = v->msgs_counted;
		if (json)
			json_rcpt(out, p, &f, v, t, i == 0);
		else
			text_rcpt(out, p, &f, v, t);
	}
	free(v);
	free(t);
	if (json)
		fprintf(out, "\n  ],\n  \"accepted\": %zu,\n  \"refused\": %zu\n}\n", accepted,
		    in->nrcpts - accepted);
	else
		fprintf(out, "\nsummary      %zu accepted, %zu refused\n", accepted,
		    in->nrcpts - accepted);
	return status;
}

/* explain_policy - judge the facts in argv against a loaded policy, and print */
int explain_policy(const struct policy *policy, struct store *store, int argc, char *const *argv,
    bool json, FILE *out, FILE *err)
{
	struct explain_input *in = calloc(1, sizeof(*in));
	int status;

	if (in == NULL) {
		fprintf(err, "relay-milter: --explain: out of memory\n");
		return EXPLAIN_USAGE;
	}
	if (parse_facts(in, argc, argv, err) < 0) {
		explain_usage(err);
		free(in);
		return EXPLAIN_USAGE;
	}
	status = judge_all(in, policy, store, json, out);
	free(in);
	return status;
}

/*
 * daemon_counts - the running daemon's counts through its control socket,
 * or NULL (then no limit is judged, and the reader is told why)
 */
static struct store *daemon_counts(const struct config *cfg, FILE *err)
{
	const char *path = cfg->settings.control_socket;
	struct store *store;
	struct store_check probe = {"explain:probe", "explain", STORE_SUM, NULL, 1, 1, 1, 0, true};
	struct store_result res;

	if (cfg->policy->nlimits == 0)
		return NULL;
	if (path == NULL) {
		fprintf(err,
		    "relay-milter: --explain: no control_socket configured: limits are "
		    "not judged (their counts live in the running daemon)\n");
		return NULL;
	}
	if ((store = control_peek_store(path)) != NULL &&
	    store->ops->decide(store, &probe, 1, false, &res) == 0)
		return store;
	fprintf(err, "relay-milter: --explain: no daemon answers on %s: limits are not judged\n",
	    path);
	if (store != NULL)
		store->ops->free(store);
	return NULL;
}

/* explain_run - load with the daemon's loader, then judge and print */
int explain_run(const char *conf_path, int argc, char *const *argv, bool json, FILE *out, FILE *err)
{
	struct conf_errors errs = {0};
	struct config *cfg;
	struct store *store;
	char buf[600];
	int status;

	if ((cfg = conf_load(conf_path, &errs)) == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(err, "%s\n", errs.msgs[i]);
		if (conf_errors_lost(&errs, conf_path, buf, sizeof(buf)) != NULL)
			fprintf(err, "%s\n", buf);
		fprintf(err, "relay-milter: %s: configuration not valid\n", conf_path);
		conf_errors_free(&errs);
		return EXPLAIN_USAGE;
	}
	conf_errors_free(&errs); /* warnings: -t shows them; the verdicts are what is asked here */
	store = daemon_counts(cfg, err);
	status = explain_policy(cfg->policy, store, argc, argv, json, out, err);
	if (store != NULL)
		store->ops->free(store);
	conf_free(cfg);
	return status;
}
