/* probe_tests.c - the relay test battery: one table row per classic trick */

/*
 * Open relays are rarely found with a plain remote recipient; they are found
 * with addresses that look local to one layer and remote to the next. Each
 * row below is one such address (or one sender that some servers trust),
 * written as a template:
 *
 *	$u  the local part ("relay-probe")     $r  the remote domain
 *	$l  the server's domain                $h  the server's host name
 *	$i  the server's address, "[192.0.2.25]" or "[IPv6:...]"
 *	$x  a remote address literal           $f  the default sender
 *
 * A test is MAIL FROM, RCPT TO, RSET. We never send DATA: a 2xx reply to
 * RCPT TO is proof enough, and no mail leaves the server.
 */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "probe_tests.h"

struct probe_template {
	const char *name;
	enum probe_kind kind;
	const char *from;
	const char *rcpt;
};

static const struct probe_template battery[] = {
    /* The plain case, and the trailing dot some checks forget. */
    {"plain", PROBE_KIND_RELAY, "$f", "$u@$r"},
    {"plain-dot", PROBE_KIND_RELAY, "$f", "$u@$r."},
    /* Percent hack: user%remote@local routes onward to remote. */
    {"percent-local", PROBE_KIND_RELAY, "$f", "$u%$r@$l"},
    {"percent-host", PROBE_KIND_RELAY, "$f", "$u%$r@$h"},
    {"percent-literal", PROBE_KIND_RELAY, "$f", "$u%$r@$i"},
    {"percent-bare", PROBE_KIND_RELAY, "$f", "$u%$r"},
    /* UUCP bang paths. */
    {"bang-local", PROBE_KIND_RELAY, "$f", "$r!$u@$l"},
    {"bang-host", PROBE_KIND_RELAY, "$f", "$r!$u@$h"},
    {"bang-literal", PROBE_KIND_RELAY, "$f", "$r!$u@$i"},
    {"bang-bare", PROBE_KIND_RELAY, "$f", "$r!$u"},
    /* Quoted local parts hiding an @, % or !. */
    {"quoted", PROBE_KIND_RELAY, "$f", "\"$u@$r\""},
    {"quoted-local", PROBE_KIND_RELAY, "$f", "\"$u@$r\"@$l"},
    {"quoted-literal", PROBE_KIND_RELAY, "$f", "\"$u@$r\"@$i"},
    {"quoted-percent-local", PROBE_KIND_RELAY, "$f", "\"$u%$r\"@$l"},
    {"quoted-bang-local", PROBE_KIND_RELAY, "$f", "\"$r!$u\"@$l"},
    /* RFC 821 source routes through us to the remote domain. */
    {"route-local", PROBE_KIND_RELAY, "$f", "@$l:$u@$r"},
    {"route-double", PROBE_KIND_RELAY, "$f", "@$h,@$l:$u@$r"},
    {"route-literal", PROBE_KIND_RELAY, "$f", "@$i:$u@$r"},
    /* Several @: local to the last parser, remote to the next. */
    {"double-at-local", PROBE_KIND_RELAY, "$f", "$u@$r@$l"},
    {"double-at-literal", PROBE_KIND_RELAY, "$f", "$u@$r@$i"},
    /* A domain literal that is not the server. */
    {"literal-remote", PROBE_KIND_RELAY, "$f", "$u@$x"},
    /* Senders some servers wrongly trust, each with a remote recipient. */
    {"from-null", PROBE_KIND_RELAY, "", "$u@$r"},
    {"from-remote", PROBE_KIND_RELAY, "$u@$r", "$u@$r"},
    {"from-local", PROBE_KIND_RELAY, "$u@$l", "$u@$r"},
    {"from-postmaster", PROBE_KIND_RELAY, "postmaster@$l", "$u@$r"},
    {"from-host", PROBE_KIND_RELAY, "postmaster@$h", "$u@$r"},
    {"from-literal", PROBE_KIND_RELAY, "$u@$i", "$u@$r"},
    /* Controls: local recipients. A refusal here means the server
	 * refuses this client altogether, and the refusals above prove
	 * less than they seem to. */
    {"control-local", PROBE_KIND_CONTROL, "$f", "postmaster@$l"},
    {"control-literal", PROBE_KIND_CONTROL, "$f", "postmaster@$i"},
};

/* expand - fill one template; false when the result does not fit */
static bool expand(const struct probe_params *p, const char *tpl, char *out, size_t len)
{
	char deffrom[PROBE_ADDR_MAX];
	const char *v;
	size_t o = 0, n;

	for (; *tpl != '\0'; tpl++) {
		if (*tpl != '$') {
			if (o + 1 >= len)
				return false;
			out[o++] = *tpl;
			continue;
		}
		switch (*++tpl) {
		case 'u':
			v = p->user;
			break;
		case 'r':
			v = p->remote;
			break;
		case 'l':
			v = p->local;
			break;
		case 'h':
			v = p->host;
			break;
		case 'i':
			v = p->literal;
			break;
		case 'x':
			v = p->remote_literal;
			break;
		case 'f':
			if (p->from != NULL)
				v = p->from;
			else {
				snprintf(deffrom, sizeof(deffrom), "%s@%s", p->user, p->remote);
				v = deffrom;
			}
			break;
		default:
			return false; /* a bug in the table */
		}
		n = strlen(v);
		if (o + n >= len)
			return false;
		memcpy(out + o, v, n);
		o += n;
	}
	out[o] = '\0';
	return true;
}

/* duplicate - has an earlier test already sent exactly this pair? */
static bool duplicate(const struct probe_case *out, size_t n, const struct probe_case *tc)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(out[i].from, tc->from) == 0 && strcmp(out[i].rcpt, tc->rcpt) == 0)
			return true;
	return false;
}

/* probe_tests_build - expand the battery; returns the number of tests */
size_t probe_tests_build(const struct probe_params *p, struct probe_case *out, size_t max)
{
	size_t i, n = 0;
	struct probe_case tc;

	for (i = 0; i < sizeof(battery) / sizeof(battery[0]) && n < max; i++) {
		memset(&tc, 0, sizeof(tc));
		snprintf(tc.name, sizeof(tc.name), "%s", battery[i].name);
		tc.kind = battery[i].kind;
		if (!expand(p, battery[i].from, tc.from, sizeof(tc.from)) ||
		    !expand(p, battery[i].rcpt, tc.rcpt, sizeof(tc.rcpt)))
			continue;
		/* When host name and domain coincide, some rows repeat. */
		if (duplicate(out, n, &tc))
			continue;
		out[n++] = tc;
	}
	return n;
}

/* verdict_of - map a reply code to a verdict */
static enum probe_verdict verdict_of(int code)
{
	switch (code / 100) {
	case 2:
		return PROBE_V_ACCEPTED;
	case 4:
		return PROBE_V_TEMPFAIL;
	case 5:
		return PROBE_V_REFUSED;
	default:
		return PROBE_V_ERROR; /* 3xx to MAIL or RCPT makes no sense */
	}
}

/* fail - record a session failure in the result; always -1 */
static int fail(struct probe_smtp *s, struct probe_result *res, enum probe_status st,
    const char *stage)
{
	res->verdict = PROBE_V_ERROR;
	res->stage = stage;
	snprintf(res->error, sizeof(res->error), "%s: %s", probe_smtp_strerror(st), s->err);
	return -1;
}

/* closing - did the server announce it is closing (421)? */
static bool closing(struct probe_smtp *s, const struct probe_reply *r)
{
	char one[PROBE_TEXT_MAX];

	if (r->code != 421)
		return false;
	snprintf(s->err, sizeof(s->err), "server closed the session: 421 %s",
	    probe_smtp_oneline(r, one, sizeof(one)));
	return true;
}

/* probe_tests_run - run one test (MAIL, RCPT, RSET); 0 to go on, -1 to stop */
int probe_tests_run(struct probe_smtp *s, const struct probe_case *tc, struct probe_result *res)
{
	char cmd[PROBE_CMD_MAX];
	struct probe_reply rset;
	enum probe_status st;

	memset(res, 0, sizeof(*res));
	res->stage = "MAIL";
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>", tc->from);
	st = probe_smtp_command(s, &res->reply, cmd);
	if (st != PROBE_SMTP_OK)
		return fail(s, res, st, "MAIL");
	if (res->reply.code / 100 == 2) {
		res->stage = "RCPT";
		snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>", tc->rcpt);
		st = probe_smtp_command(s, &res->reply, cmd);
		if (st != PROBE_SMTP_OK)
			return fail(s, res, st, "RCPT");
		res->verdict = verdict_of(res->reply.code);
	} else {
		/* MAIL refused: record it; the RCPT was never judged. */
		res->verdict = verdict_of(res->reply.code);
		if (res->verdict == PROBE_V_ACCEPTED)
			res->verdict = PROBE_V_ERROR;
	}
	if (res->verdict == PROBE_V_ERROR)
		snprintf(res->error, sizeof(res->error), "unexpected reply code %d",
		    res->reply.code);
	if (closing(s, &res->reply))
		return -1;
	st = probe_smtp_command(s, &rset, "RSET");
	if (st != PROBE_SMTP_OK) {
		snprintf(s->err + strlen(s->err), sizeof(s->err) - strlen(s->err), " (after RSET)");
		return -1;
	}
	if (closing(s, &rset))
		return -1;
	if (rset.code / 100 != 2) {
		snprintf(s->err, sizeof(s->err), "RSET refused with %d", rset.code);
		return -1;
	}
	return 0;
}

/* probe_verdict_name - "ACCEPTED", "refused", ... */
const char *probe_verdict_name(enum probe_verdict v, enum probe_kind kind)
{
	switch (v) {
	case PROBE_V_NOTRUN:
		return "not-run";
	case PROBE_V_ACCEPTED:
		/* Upper case only where it means the server relays. */
		return kind == PROBE_KIND_RELAY ? "ACCEPTED" : "accepted";
	case PROBE_V_REFUSED:
		return "refused";
	case PROBE_V_TEMPFAIL:
		return "tempfail";
	case PROBE_V_ERROR:
		return "error";
	}
	return "unknown";
}
