/* verdict_log.h - one log line per recipient decision */
#ifndef RM_VERDICT_LOG_H
#define RM_VERDICT_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "logline.h"
#include "policy.h"

/*
 * verdict_format - the decision line for qid (no logging): "QID: client=...
 * helo=... login=... from=... rcpt=... [country= asn=] action= code= ecode=
 * rule= reason= [dry_run=yes] [trial_rule= trial_action=] [continued=]
 * [near=LIMIT:COUNT/MAX]",
 * or the same fields as one JSON object. dry_run=yes means this verdict
 * was not enforced; trial_rule names a dry_run rule that matched on the
 * way while the rest of the policy decided.
 */
void verdict_format(struct logline *line, enum logline_form form, const char *qid,
    const struct facts *f, const struct verdict *v, const struct policy *p);

/*
 * verdict_head - what every recipient of one message shares: the queue id,
 * client, client_name, helo, login and from, formatted once per message
 */
void verdict_head(struct logline *head, enum logline_form form, const char *qid,
    const struct facts *f, const char *client_text);

/* verdict_tail - append the recipient's fields and the verdict to a copy of the head */
void verdict_tail(struct logline *line, const struct facts *f, const struct verdict *v,
    const struct policy *p);

/* verdict_client - the client's address into buf as the line shows it ("unknown" when none) */
const char *verdict_client(const struct ipaddr *client, char *buf, size_t len);

/* verdict_refused - a refusal, enforced or not (log_decisions = "refusals" logs these) */
bool verdict_refused(const struct verdict *v);

/*
 * verdict_events - "QID: event=limit limit= key= count=N/MAX rcpt=" when a
 * key first goes over a limit, and "QID: event=lock limit= key= until=
 * rcpt=" when a lock starts: once per key and limit, not per recipient
 */
void verdict_events(enum logline_form form, const char *qid, const struct facts *f,
    const struct verdict *v, const struct policy *p);

/*
 * The verdict's own fields, " action= code= ecode= rule= reason=", as the
 * last few decisions wrote them: most recipients share one of a handful of
 * verdicts, and copying their text is cheaper than writing it again. A
 * cache belongs to one thread at a time (a connection's state) and to one
 * configuration: the rule is known by its name's address, which holds
 * while the snapshot it was written for is pinned (verdict_cache_use).
 */
#define VERDICT_CACHE_N       2
#define VERDICT_CACHE_SEGMENT 224 /* bytes of the fields' text */
struct verdict_cache {
	unsigned long generation; /* the snapshot's the entries were written for */
	struct verdict_cache_entry {
		bool valid;
		enum logline_form form;
		enum action action;
		int code;
		char ecode[sizeof(((struct verdict *)0)->ecode)];
		enum reason why;
		const char *rule;
		unsigned char len;
		char text[VERDICT_CACHE_SEGMENT];
	} e[VERDICT_CACHE_N];
	unsigned next; /* the entry a miss replaces */
};

/* verdict_cache_init - an empty cache */
void verdict_cache_init(struct verdict_cache *cache);

/*
 * verdict_cache_use - the cache for decisions under snapshot generation:
 * emptied when it was written under another
 */
void verdict_cache_use(struct verdict_cache *cache, unsigned long generation);

/*
 * verdict_log - log the decision line for one recipient of the message
 * head was made for (written after the head in its own buffer, then taken
 * off: head is as it was on return); cache (or NULL) holds the verdict
 * fields written lately
 */
void verdict_log(struct logline *head, const struct facts *f, const struct verdict *v,
    const struct policy *p, struct verdict_cache *cache);

#endif
