/* json.h - JSON string literals that always parse, whatever bytes they hold */
#ifndef RM_JSON_H
#define RM_JSON_H

#include <stddef.h>
#include <stdio.h>

/*
 * json_escape - the body of a JSON string for s (without the quotes) into
 * out: '"' and '\' escaped, control bytes and DEL as \u00XX, valid UTF-8
 * kept as it is, and every byte that is not valid UTF-8 (overlong forms,
 * surrogates, stray continuation bytes, cut sequences) replaced by
 * \ufffd. Never cuts an escape or a character: stops at the last whole
 * one that fits in cap - 1 bytes. Returns the bytes written (NUL ends
 * out); *used (if not NULL) is the bytes of s consumed, strlen(s) when
 * all of it fitted.
 */
size_t json_escape(char *out, size_t cap, const char *s, size_t *used);

/* json_write - s as a quoted JSON string to fp, or null when s is NULL */
void json_write(FILE *fp, const char *s);

#endif
