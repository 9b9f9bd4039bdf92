/* logline.h - one decision line, as "QID: key=value ..." or as one JSON object */
#ifndef RM_LOGLINE_H
#define RM_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>

#define LOGLINE_VALUE_MAX 200 /* bytes of one written value; a longer one ends in "..." */
#define LOGLINE_FIELDS    20  /* fields a decision line may have */
/*
 * Room for every field at its longest, so that no field is ever cut off
 * the end: long values are shortened, never the line.
 */
#define LOGLINE_MAX (80 + LOGLINE_FIELDS * (LOGLINE_VALUE_MAX + 24))

enum logline_form {
	LOGLINE_KV,   /* values with a space, quote, backslash or = are double-quoted */
	LOGLINE_JSON, /* {"qid":"...","key":"value",...} */
};

struct logline {
	char buf[LOGLINE_MAX];
	size_t len;
	enum logline_form form;
};

/* logline_start - a new line for the queue id (NULL or "": NOQUEUE, as Postfix) */
void logline_start(struct logline *l, enum logline_form form, const char *qid);

/*
 * logline_add - one field. Values come from the network: in key=value form
 * anything outside printable ASCII is written \xHH; in JSON, invalid UTF-8
 * becomes \ufffd; either way a value is shortened to LOGLINE_VALUE_MAX
 * bytes and marked with "...".
 */
void logline_add(struct logline *l, const char *key, const char *value);

/* logline_add_uint - a field with a number */
void logline_add_uint(struct logline *l, const char *key, unsigned long value);

/* logline_end - close the line (JSON's brace); buf is NUL-terminated throughout */
void logline_end(struct logline *l);

#endif
