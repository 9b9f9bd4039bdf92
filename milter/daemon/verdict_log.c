/* verdict_log.c - one log line per recipient decision */
#include <stdio.h>
#include <string.h>

#include "isotime.h"
#include "limits.h"
#include "log.h"
#include "rules.h"
#include "verdict_log.h"

/* add_continued - rules with action "continue" that matched: they log, not decide */
static void add_continued(struct logline *line, const struct verdict *v, const struct policy *p)
{
	char names[LOGLINE_VALUE_MAX + 4];
	size_t pos = 0;

	for (size_t i = 0; i < v->ncontinued && pos < LOGLINE_VALUE_MAX; i++) {
		const char *name = p->rules[v->continued[i]].name;
		size_t n = strlen(name);

		if (pos > 0)
			names[pos++] = ',';
		if (n > sizeof(names) - 1 - pos)
			n = sizeof(names) - 1 - pos; /* the line shortens it with "..." */
		memcpy(names + pos, name, n);
		pos += n;
	}
	names[pos] = 0;
	if (pos > 0)
		logline_add(line, "continued", names);
}

/* add_geo - the client's country and ASN, when a database is configured */
static void add_geo(struct logline *line, const struct facts *f, const struct policy *p)
{
	const struct geo_info *geo = f->geo && f->geo->done && p->geo ? &f->geo->info : NULL;

	if (geo == NULL)
		return;
	if (p->geo->has_country)
		logline_add(line, "country", geo->country_status < 0 ? "error" : geo->country);
	if (p->geo->has_asn) {
		if (geo->asn_status < 0)
			logline_add(line, "asn", "error");
		else
			logline_add_uint(line, "asn", geo->asn);
	}
}

/* count_text - "COUNT/MAX", for near= and the event lines */
static const char *count_text(const struct limit_seen *seen, char *buf, size_t len)
{
	snprintf(buf, len, "%llu/%llu", (unsigned long long)seen->result.count,
	    (unsigned long long)seen->max);
	return buf;
}

/*
 * add_near - an accepted recipient says nothing of its limits unless one
 * is close to its max: then near=NAME:COUNT/MAX names the closest first
 */
static void add_near(struct logline *line, const struct verdict *v, const struct policy *p)
{
	const struct limit_seen *best = NULL;
	char text[LOGLINE_VALUE_MAX + 1], count[48];

	for (size_t i = 0; i < v->nlimits; i++) {
		const struct limit_seen *s = &v->limits[i];

		if (s->exempt || s->result.status != STORE_OK ||
		    s->result.count * 100 < s->max * LIMIT_NEAR_PCT)
			continue;
		if (best == NULL || s->result.count * best->max > best->result.count * s->max)
			best = s;
	}
	if (best == NULL)
		return;
	snprintf(text, sizeof(text), "%s:%s", p->limits[best->limit].rule.name,
	    count_text(best, count, sizeof(count)));
	logline_add(line, "near", text);
}

/* verdict_head - the fields every recipient of one message shares */
void verdict_head(struct logline *head, enum logline_form form, const char *qid,
    const struct facts *f, const char *client_text)
{
	logline_start(head, form, qid);
	/* an address as ipaddr_format writes it, or "unknown": nothing to escape or quote */
	logline_add_word(head, "client", client_text);
	if (f->client_name && *f->client_name)
		logline_add(head, "client_name", f->client_name);
	if (f->helo && *f->helo)
		logline_add(head, "helo", f->helo);
	if (f->login && *f->login)
		logline_add(head, "login", f->login);
	else
		logline_add_none(head, "login"); /* a login that is "-" is written quoted */
	logline_add(head, "from", f->sender);
}

/* verdict_fields - " action= code= ecode= rule= reason=": the verdict's own */
static void verdict_fields(struct logline *line, const struct verdict *v)
{
	/* our own words need no escape; rule names come from the configuration */
	logline_add_word(line, "action", action_name(v->action));
	logline_add_uint(line, "code", (unsigned long)v->code);
	logline_add_word(line, "ecode", v->ecode);
	logline_add(line, "rule", v->rule);
	logline_add_word(line, "reason", v->reason);
}

/* cache_matches - the entry was written for a verdict with these very fields */
static bool cache_matches(const struct verdict_cache_entry *e, enum logline_form form,
    const struct verdict *v)
{
	return e->valid && e->form == form && e->action == v->action && e->code == v->code &&
	    e->why == v->why && e->rule == v->rule &&
	    memcmp(e->ecode, v->ecode, sizeof(e->ecode)) == 0;
}

/*
 * Room the line must have left for a cached copy, or for keeping what was
 * written: with this much to spare, writing the fields cuts nothing, so
 * the copy is byte for byte what writing them makes.
 */
#define CACHE_SPARE (VERDICT_CACHE_SEGMENT + LOGLINE_KEY_ROOM)

/* add_verdict_fields - the verdict's fields, copied from cache when it has them */
static void add_verdict_fields(struct logline *line, const struct verdict *v,
    struct verdict_cache *cache)
{
	struct verdict_cache_entry *e;
	size_t start = line->len, n;

	if (cache == NULL || v->rule == NULL || v->reason == NULL ||
	    line->len + CACHE_SPARE >= sizeof(line->buf)) {
		verdict_fields(line, v);
		return;
	}
	for (size_t i = 0; i < VERDICT_CACHE_N; i++) {
		e = &cache->e[i];
		if (cache_matches(e, line->form, v)) {
			memcpy(line->buf + line->len, e->text, e->len);
			line->len += e->len;
			line->buf[line->len] = 0;
			return;
		}
	}
	verdict_fields(line, v);
	n = line->len - start;
	if (n > VERDICT_CACHE_SEGMENT || memchr(v->ecode, 0, sizeof(v->ecode)) == NULL)
		return;
	e = &cache->e[cache->next];
	cache->next = (cache->next + 1) % VERDICT_CACHE_N;
	e->valid = true;
	e->form = line->form;
	e->action = v->action;
	e->code = v->code;
	memcpy(e->ecode, v->ecode, sizeof(e->ecode));
	e->why = v->why; /* the reason is reason_name(why), a static word */
	e->rule = v->rule;
	e->len = (unsigned char)n;
	memcpy(e->text, line->buf + start, n);
}

/* verdict_cache_init - an empty cache */
void verdict_cache_init(struct verdict_cache *cache)
{
	for (size_t i = 0; i < VERDICT_CACHE_N; i++)
		cache->e[i].valid = false;
	cache->next = 0;
	cache->generation = 0;
}

/* verdict_cache_use - emptied for another configuration: rule names are known by address */
void verdict_cache_use(struct verdict_cache *cache, unsigned long generation)
{
	if (cache->generation != generation) {
		verdict_cache_init(cache);
		cache->generation = generation;
	}
}

/* tail - the recipient's own fields and the verdict, after the head */
static void tail(struct logline *line, const struct facts *f, const struct verdict *v,
    const struct policy *p, struct verdict_cache *cache)
{
	logline_add(line, "rcpt", f->rcpt);
	add_geo(line, f, p);
	add_verdict_fields(line, v, cache);
	if (v->dry_run)
		logline_add_word(line, "dry_run", "yes");
	if (v->dry_rule != NULL) {
		logline_add(line, "trial_rule", v->dry_rule);
		logline_add_word(line, "trial_action", action_name(v->dry_action));
	}
	add_continued(line, v, p);
	if (v->action == ACTION_ACCEPT)
		add_near(line, v, p);
	logline_end(line);
}

/* verdict_tail - the recipient's own fields and the verdict, after the head */
void verdict_tail(struct logline *line, const struct facts *f, const struct verdict *v,
    const struct policy *p)
{
	tail(line, f, v, p, NULL);
}

/* event_line - one event=limit or event=lock line for one limit and key */
static void event_line(enum logline_form form, const char *qid, const struct facts *f,
    const struct limit_seen *s, const struct policy *p, bool lock)
{
	const struct limit *l = &p->limits[s->limit];
	struct logline line;
	char buf[48];

	logline_start(&line, form, qid);
	logline_add_word(&line, "event", lock ? "lock" : "limit");
	logline_add(&line, "limit", l->rule.name);
	logline_add(&line, "key", s->principal);
	if (lock)
		logline_add_word(&line, "until", isotime(s->result.until, buf, sizeof(buf)));
	else
		logline_add_word(&line, "count", count_text(s, buf, sizeof(buf)));
	if (l->rule.dry_run)
		logline_add_word(&line, "dry_run", "yes");
	logline_add(&line, "rcpt", f->rcpt);
	logline_end(&line);
	log_line(LOG_LEVEL_WARNING, line.buf, line.len);
}

/* verdict_events - the store said a key went over a limit, or a lock started: once each */
void verdict_events(enum logline_form form, const char *qid, const struct facts *f,
    const struct verdict *v, const struct policy *p)
{
	for (size_t i = 0; i < v->nlimits; i++) {
		const struct limit_seen *s = &v->limits[i];

		if (s->result.first_exceeded)
			event_line(form, qid, f, s, p, false);
		if (s->result.lock_started)
			event_line(form, qid, f, s, p, true);
	}
}

/* verdict_client - the client address as the line shows it */
const char *verdict_client(const struct ipaddr *client, char *buf, size_t len)
{
	if (client != NULL)
		return ipaddr_format(client, buf, len);
	snprintf(buf, len, "unknown");
	return buf;
}

/* verdict_format - the whole decision line at once */
void verdict_format(struct logline *line, enum logline_form form, const char *qid,
    const struct facts *f, const struct verdict *v, const struct policy *p)
{
	char client[IPADDR_STRLEN];

	verdict_head(line, form, qid, f, verdict_client(f->client, client, sizeof(client)));
	verdict_tail(line, f, v, p);
}

/* verdict_refused - a refusal, enforced or not */
bool verdict_refused(const struct verdict *v)
{
	return v->action != ACTION_ACCEPT;
}

/* verdict_log - log the decision line: the message's head, then this recipient */
void verdict_log(struct logline *head, const struct facts *f, const struct verdict *v,
    const struct policy *p, struct verdict_cache *cache)
{
	size_t len = head->len;

	/* the recipient's fields go after the head's, and are taken off again */
	tail(head, f, v, p, cache);
	log_line(LOG_LEVEL_INFO, head->buf, head->len);
	head->len = len;
	head->buf[len] = 0;
}
