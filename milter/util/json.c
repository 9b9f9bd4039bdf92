/* json.c - JSON string literals that always parse, whatever bytes they hold */
#include <string.h>

#include "json.h"

#define REPLACEMENT "\\ufffd"

/* utf8_len - length of the valid UTF-8 sequence at s (RFC 3629), 0 if invalid */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		/* no overlong forms (e0 80..9f) and no surrogates (ed a0..bf) */
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;
		return (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		/* no overlong forms (f0 80..8f), nothing above U+10FFFF (f4 90..) */
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4 :
												 0;
	}
	return 0;
}

/* piece - the text one input character becomes; *in_len is the bytes it used */
static const char *piece(const unsigned char *s, char *buf, size_t *in_len, size_t *out_len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n;

	*in_len = 1;
	if (*s == '"' || *s == '\\') {
		buf[0] = '\\';
		buf[1] = (char)*s;
		*out_len = 2;
		return buf;
	}
	if (*s < 0x20 || *s == 0x7f) {
		memcpy(buf, "\\u00", 4);
		buf[4] = hex[*s >> 4];
		buf[5] = hex[*s & 0xf];
		*out_len = 6;
		return buf;
	}
	if (*s < 0x80) {
		*out_len = 1;
		return (const char *)s;
	}
	if ((n = utf8_len(s)) == 0) {
		*out_len = sizeof(REPLACEMENT) - 1;
		return REPLACEMENT;
	}
	*in_len = *out_len = n;
	return (const char *)s;
}

/* json_escape - the escaped body of s into out */
size_t json_escape(char *out, size_t cap, const char *s, size_t *used)
{
	const unsigned char *start = (const unsigned char *)(s ? s : ""), *p = start;
	size_t pos = 0;

	if (used != NULL)
		*used = 0;
	if (cap == 0)
		return 0;
	while (*p) {
		char buf[8];
		size_t in, n;
		const char *text = piece(p, buf, &in, &n);

		if (pos + n >= cap)
			break;
		memcpy(out + pos, text, n);
		pos += n;
		p += in;
	}
	out[pos] = 0;
	if (used != NULL)
		*used = (size_t)(p - start);
	return pos;
}

/* json_write - a quoted JSON string (or null) to fp */
void json_write(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	while (*p) {
		char buf[8];
		size_t in, n;
		const char *text = piece(p, buf, &in, &n);

		fwrite(text, 1, n, fp);
		p += in;
	}
	fputc('"', fp);
}
