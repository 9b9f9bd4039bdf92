/* log.h - syslog or stderr logging, and key=value decision lines */
#ifndef RM_LOG_H
#define RM_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* log_open - to stderr when foreground, else syslog with this facility */
void log_open(const char *ident, bool to_stderr, int facility);

void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_err(const char *fmt, ...) LOG_PRINTF(1, 2);

/* A line of key=value pairs, built without allocation. */
struct kvline {
	char buf[2048];
	size_t len;
};

/*
 * kv_add - append " key=value". Values come from the network: anything
 * outside printable ASCII is written \xHH, and a value with a space, quote
 * or backslash is double-quoted, so every line splits the same way; a
 * value longer than 200 bytes is cut and ends in "...".
 */
void kv_add(struct kvline *line, const char *key, const char *value);

/* kv_addf - kv_add with a formatted value */
void kv_addf(struct kvline *line, const char *key, const char *fmt, ...) LOG_PRINTF(3, 4);

#endif
