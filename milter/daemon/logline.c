/* logline.c - one decision line, as "QID: key=value ..." or as one JSON object */
#include <string.h>

#include "json.h"
#include "logline.h"

#define ELLIPSIS "..."

/* put - append n bytes; the buffer is sized so that a decision line always fits */
static void put(struct logline *l, const char *s, size_t n)
{
	if (l->len + n >= sizeof(l->buf))
		n = sizeof(l->buf) - 1 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = 0;
}

/* kv_special - bytes that make a value quoted, or escaped, in key=value form */
static const unsigned char kv_class[256] = {
    /* 1: quote the value; 2: write \xHH */
    [0 ... 0x1f] = 2,
    [' '] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    ['='] = 1,
    [0x7f ... 0xff] = 2,
};

/* kv_needs_quotes - empty, or with a byte that would split the line otherwise */
static bool kv_needs_quotes(const unsigned char *v)
{
	if (*v == 0)
		return true;
	for (; *v; v++)
		if (kv_class[*v] == 1)
			return true;
	return false;
}

/* kv_value - the escaped value; runs of plain bytes are copied whole */
static void kv_value(struct logline *l, const char *value)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *v = (const unsigned char *)value;
	bool quote = kv_needs_quotes(v);
	size_t budget = LOGLINE_VALUE_MAX;

	if (quote)
		put(l, "\"", 1);
	while (*v) {
		size_t run = 0;

		while (v[run] && kv_class[v[run]] == 0 && run < budget)
			run++;
		put(l, (const char *)v, run);
		v += run;
		budget -= run;
		if (*v == 0)
			break;
		if (budget < 4) {
			put(l, ELLIPSIS, 3); /* a hostile value must not push the verdict off */
			break;
		}
		if (kv_class[*v] == 2) {
			char esc[4] = {'\\', 'x', hex[*v >> 4], hex[*v & 0xf]};

			put(l, esc, 4);
			budget -= 4;
		} else if (*v == '"' || *v == '\\') {
			char esc[2] = {'\\', (char)*v};

			put(l, esc, 2);
			budget -= 2;
		} else { /* ' ' or '=': the quotes are enough */
			put(l, (const char *)v, 1);
			budget--;
		}
		v++;
	}
	if (quote)
		put(l, "\"", 1);
}

/* json_value - the escaped value, quoted */
static void json_value(struct logline *l, const char *value)
{
	char tmp[LOGLINE_VALUE_MAX + 1];
	size_t used, n = json_escape(tmp, sizeof(tmp), value, &used);

	put(l, "\"", 1);
	put(l, tmp, n);
	if (value[used] != 0)
		put(l, ELLIPSIS, 3);
	put(l, "\"", 1);
}

/* logline_start - the queue id first, as Postfix's own lines */
void logline_start(struct logline *l, enum logline_form form, const char *qid)
{
	l->len = 0;
	l->buf[0] = 0;
	l->form = form;
	if (qid == NULL || *qid == 0)
		qid = "NOQUEUE";
	if (form == LOGLINE_JSON) {
		put(l, "{\"qid\":", 7);
		json_value(l, qid);
		return;
	}
	kv_value(l, qid);
	put(l, ":", 1);
}

/* add_key - the separator and the key of one field */
static void add_key(struct logline *l, const char *key)
{
	size_t klen = strlen(key);

	if (l->form == LOGLINE_JSON) {
		put(l, ",\"", 2);
		put(l, key, klen);
		put(l, "\":", 2);
	} else {
		put(l, " ", 1);
		put(l, key, klen);
		put(l, "=", 1);
	}
}

/* logline_add - one field, escaped for the line's form */
void logline_add(struct logline *l, const char *key, const char *value)
{
	add_key(l, key);
	if (value == NULL)
		value = "";
	if (l->form == LOGLINE_JSON)
		json_value(l, value);
	else
		kv_value(l, value);
}

/* logline_add_uint - a number, formatted without printf (a JSON number in JSON) */
void logline_add_uint(struct logline *l, const char *key, unsigned long value)
{
	char digits[24];
	size_t i = sizeof(digits);

	do
		digits[--i] = (char)('0' + value % 10);
	while ((value /= 10) != 0);
	add_key(l, key);
	put(l, digits + i, sizeof(digits) - i);
}

/* logline_end - close a JSON object */
void logline_end(struct logline *l)
{
	if (l->form == LOGLINE_JSON)
		put(l, "}", 1);
}
