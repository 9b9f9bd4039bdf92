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

/*
 * A field's key with its separators in both forms, made at compile time
 * from a string literal: " key=" and ",\"key\":", each in an array of
 * LOGLINE_KEY_ROOM bytes padded with NULs, so that starting a field is one
 * copy of a fixed size (keys are 19 bytes at most: a longer one does not
 * compile). Each key is one static object (a GNU statement expression), not
 * built on the stack at every use.
 */
#define LOGLINE_KEY_ROOM 24
struct logline_key {
	char kv[LOGLINE_KEY_ROOM], json[LOGLINE_KEY_ROOM];
	unsigned char kv_len, json_len;
};
#define LOGLINE_KEY(key)                                                             \
	({                                                                           \
		static const struct logline_key logline_key_ = {" " key "=",         \
		    ",\"" key "\":", sizeof(key) + 1,                                \
		    sizeof(key) + 3 + 0 * sizeof(char[sizeof(key) <= 20 ? 1 : -1])}; \
		&logline_key_;                                                       \
	})

/* logline_start - a new line for the queue id (NULL or "": NOQUEUE, as Postfix) */
void logline_start(struct logline *l, enum logline_form form, const char *qid);

/*
 * logline_add - one field. Values come from the network: in key=value form
 * anything outside printable ASCII is written \xHH; in JSON, invalid UTF-8
 * becomes \ufffd; either way a value is shortened to LOGLINE_VALUE_MAX
 * bytes and marked with "...".
 */
#define logline_add(l, key, value) logline_add_n(l, LOGLINE_KEY(key), value)
void logline_add_n(struct logline *l, const struct logline_key *key, const char *value);

/*
 * logline_add_word - a field whose value is one of our own words (an
 * action, a reason, an enhanced code): printable, no space, nothing to escape
 */
#define logline_add_word(l, key, value) logline_add_word_n(l, LOGLINE_KEY(key), value)
void logline_add_word_n(struct logline *l, const struct logline_key *key, const char *value);

/* logline_add_none - a field that has no value: "-" in key=value form, null in JSON */
#define logline_add_none(l, key) logline_add_none_n(l, LOGLINE_KEY(key))
void logline_add_none_n(struct logline *l, const struct logline_key *key);

/* logline_add_uint - a field with a number (key: a string literal) */
#define logline_add_uint(l, key, value) logline_add_uint_n(l, LOGLINE_KEY(key), value)
void logline_add_uint_n(struct logline *l, const struct logline_key *key, unsigned long value);

/* logline_end - close the line (JSON's brace); buf is NUL-terminated throughout */
void logline_end(struct logline *l);

#endif
