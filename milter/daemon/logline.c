/* logline.c - one decision line, as "QID: key=value ..." or as one JSON object */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "decimal.h"
#include "json.h"
#include "logline.h"

#define ELLIPSIS "..."

/* put - append n bytes; the buffer is sized so that a decision line always fits */
static inline void put(struct logline *l, const char *s, size_t n)
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

/*
 * kv_needs_quotes - empty, with a byte that would split the line, or "-":
 * a bare - is the line's own word for "none" (login=-), so a value that is
 * literally "-" is written "-" in quotes
 */
static bool kv_needs_quotes(const unsigned char *v)
{
	if (*v == 0 || (v[0] == '-' && v[1] == 0))
		return true;
	for (; *v; v++)
		if (kv_class[*v] == 1)
			return true;
	return false;
}

#ifdef __SSE2__
/*
 * plain16 - a bit for each of the 16 bytes at v that needs no escape:
 * printable ASCII but for space, '"', '\\' and '=' (the bytes from 0x80
 * on are negative as signed chars, so "above 0x20" leaves them out)
 */
static inline unsigned plain16(const unsigned char *v)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)v);
	__m128i ok = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x20)),
	    _mm_cmplt_epi8(x, _mm_set1_epi8(0x7f)));
	__m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
				       _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
	    _mm_cmpeq_epi8(x, _mm_set1_epi8('=')));

	return (unsigned)_mm_movemask_epi8(_mm_andnot_si128(bad, ok));
}
#endif

/*
 * plain_run - how many of the n bytes at v need no escape: 16 a step
 * where SSE2 is (the last step overlaps the one before, never reading past
 * v + n), else four table look-ups a step, as most values have nothing to
 * escape
 */
static inline __attribute__((always_inline)) size_t plain_run(const unsigned char *v, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	if (n >= 16) {
		unsigned m;

		for (; i + 16 <= n; i += 16)
			if ((m = plain16(v + i)) != 0xffff)
				return i + (size_t)__builtin_ctz(~m);
		if (i == n)
			return n;
		/* the bytes before i are plain: the first that is not lies at i or after */
		if ((m = plain16(v + n - 16)) == 0xffff)
			return n;
		return n - 16 + (size_t)__builtin_ctz(~m);
	}
#endif
	for (; i + 4 <= n; i += 4)
		if ((kv_class[v[i]] | kv_class[v[i + 1]] | kv_class[v[i + 2]] |
			kv_class[v[i + 3]]) != 0)
			break;
	while (i < n && kv_class[v[i]] == 0)
		i++;
	return i;
}

/* kv_escaped - a value with something to escape, quote or shorten; runs of plain bytes whole */
static __attribute__((noinline)) void kv_escaped(struct logline *l, const char *value, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *v = (const unsigned char *)value;
	size_t budget = LOGLINE_VALUE_MAX, run;
	const unsigned char *end = v + len;
	bool quote = kv_needs_quotes(v);

	if (quote)
		put(l, "\"", 1);
	while (v < end) {
		run = plain_run(v, (size_t)(end - v) < budget ? (size_t)(end - v) : budget);
		put(l, (const char *)v, run);
		v += run;
		budget -= run;
		if (v == end)
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

/* kv_value - the escaped value: the common case (nothing to escape, not too long) in one copy */
static void kv_value(struct logline *l, const char *value)
{
	size_t len = strlen(value);

	if (len > 0 && len <= LOGLINE_VALUE_MAX &&
	    plain_run((const unsigned char *)value, len) == len && !(len == 1 && value[0] == '-'))
		put(l, value, len);
	else
		kv_escaped(l, value, len);
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

/* add_key - the separator and the key of one field, in one copy */
static inline void add_key(struct logline *l, const struct logline_key *key)
{
	bool json = l->form == LOGLINE_JSON;
	size_t n = json ? key->json_len : key->kv_len;

	if (l->len + key->json_len >= sizeof(l->buf)) /* the longer form: one rule for both */
		return;
	if (l->len + LOGLINE_KEY_ROOM <= sizeof(l->buf)) /* the whole array: its NULs too */
		memcpy(l->buf + l->len, json ? key->json : key->kv, LOGLINE_KEY_ROOM);
	else
		memcpy(l->buf + l->len, json ? key->json : key->kv, n + 1); /* the NUL too */
	l->len += n;
}

/* logline_add_n - one field, escaped for the line's form */
void logline_add_n(struct logline *l, const struct logline_key *key, const char *value)
{
	add_key(l, key);
	if (value == NULL)
		value = "";
	if (l->form == LOGLINE_JSON)
		json_value(l, value);
	else
		kv_value(l, value);
}

/* logline_add_word_n - our own word, copied as it is (quoted in JSON) */
void logline_add_word_n(struct logline *l, const struct logline_key *key, const char *value)
{
	add_key(l, key);
	if (l->form == LOGLINE_JSON)
		put(l, "\"", 1);
	put(l, value, strlen(value));
	if (l->form == LOGLINE_JSON)
		put(l, "\"", 1);
}

/* logline_add_none_n - no value: a bare "-" (a value "-" is quoted), or JSON's null */
void logline_add_none_n(struct logline *l, const struct logline_key *key)
{
	add_key(l, key);
	if (l->form == LOGLINE_JSON)
		put(l, "null", 4);
	else
		put(l, "-", 1);
}

/* logline_add_uint_n - a number, formatted without printf (a JSON number in JSON) */
void logline_add_uint_n(struct logline *l, const struct logline_key *key, unsigned long value)
{
	char digits[DECIMAL_MAX];

	add_key(l, key);
	if (l->len + DECIMAL_MAX < sizeof(l->buf)) { /* room for any number: in place */
		l->len = (size_t)(decimal_put(l->buf + l->len, value) - l->buf);
		l->buf[l->len] = 0;
		return;
	}
	put(l, digits, (size_t)(decimal_put(digits, value) - digits));
}

/* logline_end - close a JSON object */
void logline_end(struct logline *l)
{
	if (l->form == LOGLINE_JSON)
		put(l, "}", 1);
}
