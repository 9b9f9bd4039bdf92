/* reply.c - SMTP replies: parsed from the configuration, filled by the engine */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"

/* action_name - the configuration word for an action */
const char *action_name(enum action action)
{
	switch (action) {
	case ACTION_ACCEPT:
		return "accept";
	case ACTION_REJECT:
		return "reject";
	case ACTION_TEMPFAIL:
		return "tempfail";
	case ACTION_CONTINUE:
		return "continue";
	}
	return "?";
}

/* reply_set - fill r from parts (text copied) */
int reply_set(struct reply *r, int code, const char *ecode, const char *text)
{
	char *copy = strdup(text ? text : "");

	if (copy == NULL)
		return -1;
	free(r->text);
	r->code = code;
	snprintf(r->ecode, sizeof(r->ecode), "%s", ecode ? ecode : "");
	r->text = copy;
	return 0;
}

void reply_clear(struct reply *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* ecode_valid - "C.SSS.DDD" (RFC 3463) whose class agrees with the reply code */
static bool ecode_valid(const char *s, size_t len, int code)
{
	size_t i = 0, part = 0, digits = 0;

	if (len < 5 || len > 11 || s[0] - '0' != code / 100)
		return false;
	for (; i < len; i++) {
		if (s[i] == '.') {
			if (digits == 0 || ++part > 2)
				return false;
			digits = 0;
		} else if (s[i] >= '0' && s[i] <= '9') {
			if (++digits > 3)
				return false;
		} else
			return false;
	}
	return part == 2 && digits > 0;
}

/* reply_parse - "550 5.7.1 text" into r */
int reply_parse(const char *text, struct reply *r, const char **why)
{
	const char *p = text, *ec = NULL;
	size_t eclen = 0;
	int code;

	if (!(p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
		p[2] <= '9' && (p[3] == ' ' || p[3] == 0))) {
		*why = "reply must start with a three-digit SMTP code (2xx-5xx)";
		return -1;
	}
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	p += 3;
	while (*p == ' ')
		p++;
	if (*p >= '2' && *p <= '5' && p[1] == '.') {
		ec = p;
		while (*p && *p != ' ')
			p++;
		eclen = (size_t)(p - ec);
		if (!ecode_valid(ec, eclen, code)) {
			*why =
			    "malformed enhanced status code, or its class differs from the reply code";
			return -1;
		}
		while (*p == ' ')
			p++;
	}
	for (const char *c = p; *c; c++) {
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
			*why = "reply text must be printable ASCII";
			return -1;
		}
	}
	if (reply_set(r, code, "", p) < 0) {
		*why = "out of memory";
		return -1;
	}
	if (ec != NULL) {
		memcpy(r->ecode, ec, eclen);
		r->ecode[eclen] = 0;
	} else
		snprintf(r->ecode, sizeof(r->ecode), "%d.7.1", code / 100);
	return 0;
}
