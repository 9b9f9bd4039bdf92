/* redis_keys.h - the Redis key names of a principal's counters, locks and index */
#ifndef RM_REDIS_KEYS_H
#define RM_REDIS_KEYS_H

#include <stddef.h>

/* A growable byte buffer: key names are built into one per decision. */
struct rkbuf {
	char *p;
	size_t len, cap;
	int failed; /* an allocation failed: every later append is dropped */
};

void rkbuf_init(struct rkbuf *b);
void rkbuf_free(struct rkbuf *b);
/* rkbuf_add - append n bytes */
void rkbuf_add(struct rkbuf *b, const char *s, size_t n);

/*
 * rk_escape - append s with '%', '{', '}', controls, space and DEL as %XX:
 * a principal can then never end the hash tag early nor be confused
 * with another, whatever bytes it holds
 */
void rk_escape(struct rkbuf *b, const char *s);

/* rk_unescape - undo rk_escape in place (the index holds escaped limit names) */
void rk_unescape(char *s, size_t *len);

/*
 * rk_base - "<prefix>{<principal, escaped>}:", the start of every key of
 * that principal; all of them share the hash tag, so one script may
 * touch them together even on a Redis Cluster
 */
void rk_base(struct rkbuf *b, const char *prefix, const char *principal);

#endif
