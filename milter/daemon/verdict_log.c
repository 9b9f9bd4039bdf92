/* verdict_log.c - one key=value log line per recipient decision */
#include <stdio.h>
#include <string.h>

#include "rules.h"
#include "verdict_log.h"

/* add_continued - rules with action "continue" that matched: they log, not decide */
static void add_continued(struct kvline *line, const struct verdict *v, const struct policy *p)
{
	char names[256];
	size_t pos = 0;

	names[0] = 0;
	for (size_t i = 0; i < v->ncontinued; i++) {
		pos += (size_t)snprintf(names + pos, sizeof(names) - pos, "%s%s", pos ? "," : "",
		    p->rules[v->continued[i]].name);
		if (pos >= sizeof(names))
			break;
	}
	if (names[0] != 0)
		kv_add(line, "continued", names);
}

/* verdict_format - the decision as key=value pairs */
void verdict_format(struct kvline *line, const char *qid, const struct facts *f,
    const struct verdict *v, const struct policy *p)
{
	const struct geo_info *geo = f->geo && f->geo->done && p->geo ? &f->geo->info : NULL;
	char client[IPADDR_STRLEN];

	line->len = 0;
	line->buf[0] = 0;
	kv_add(line, "qid", qid && *qid ? qid : "NOQUEUE");
	kv_add(line, "client",
	    f->client ? ipaddr_format(f->client, client, sizeof(client)) : "unknown");
	if (f->client_name && *f->client_name)
		kv_add(line, "client_name", f->client_name);
	if (f->helo && *f->helo)
		kv_add(line, "helo", f->helo);
	kv_add(line, "login", f->login && *f->login ? f->login : "-");
	kv_add(line, "from", f->sender);
	kv_add(line, "rcpt", f->rcpt);
	if (geo != NULL && p->geo->has_country)
		kv_add(line, "country", geo->country_status < 0 ? "error" : geo->country);
	if (geo != NULL && p->geo->has_asn) {
		if (geo->asn_status < 0)
			kv_add(line, "asn", "error");
		else
			kv_addf(line, "asn", "%u", geo->asn);
	}
	kv_add(line, "action", action_name(v->action));
	kv_addf(line, "code", "%d", v->code);
	kv_add(line, "ecode", v->ecode);
	kv_add(line, "rule", v->rule);
	kv_add(line, "reason", v->reason);
	if (v->dry_run || v->dry_rule != NULL)
		kv_add(line, "dry_run", "yes");
	if (v->dry_rule != NULL) { /* a rule on trial matched; the rest decided */
		kv_add(line, "dry_run_rule", v->dry_rule);
		kv_add(line, "dry_run_action", action_name(v->dry_action));
	}
	add_continued(line, v, p);
}

/* verdict_log - log the decision line */
void verdict_log(const char *qid, const struct facts *f, const struct verdict *v,
    const struct policy *p)
{
	struct kvline line;

	verdict_format(&line, qid, f, v, p);
	log_info("%s", line.buf);
}
