/* log.c - syslog or stderr logging, and key=value decision lines */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define KV_VALUE_MAX 200 /* bytes of one value kept in a log line */

static bool log_stderr = true;

/* log_open - to stderr when foreground, else syslog */
void log_open(const char *ident, bool to_stderr, int facility)
{
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

/*
 * vlog - one line, whole. On stderr it goes out in a single write(2),
 * without stdio's lock, so decision lines from many threads neither
 * interleave nor queue behind each other.
 */
static void vlog(int prio, const char *fmt, va_list ap) LOG_PRINTF(2, 0);

static void vlog(int prio, const char *fmt, va_list ap)
{
	const char *tag = prio == LOG_ERR ? "error: " : prio == LOG_WARNING ? "warning: " : "";
	char msg[4096], line[4200];
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!log_stderr) {
		syslog(prio, "%s", msg);
		return;
	}
	n = snprintf(line, sizeof(line), "relay-milter: %s%s\n", tag, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

/* kv_put - append one byte if it fits (one byte is kept for the NUL) */
static void kv_put(struct kvline *l, char c)
{
	if (l->len + 1 < sizeof(l->buf))
		l->buf[l->len++] = c;
}

/* kv_add - append " key=value", escaped */
void kv_add(struct kvline *l, const char *key, const char *value)
{
	bool quote = false;
	const unsigned char *v;

	if (value == NULL)
		value = "";
	for (v = (const unsigned char *)value; *v; v++)
		if (*v == ' ' || *v == '"' || *v == '\\' || *v == '=')
			quote = true;
	if (value[0] == 0)
		quote = true;
	if (l->len > 0)
		kv_put(l, ' ');
	for (; *key; key++)
		kv_put(l, *key);
	kv_put(l, '=');
	if (quote)
		kv_put(l, '"');
	for (v = (const unsigned char *)value; *v; v++) {
		if (v - (const unsigned char *)value >= KV_VALUE_MAX) {
			/* a hostile value must not push the verdict off the line */
			kv_put(l, '.');
			kv_put(l, '.');
			kv_put(l, '.');
			break;
		}
		if (*v < 0x20 || *v >= 0x7f) {
			char hex[5];

			snprintf(hex, sizeof(hex), "\\x%02x", *v);
			for (int i = 0; hex[i]; i++)
				kv_put(l, hex[i]);
			continue;
		}
		if (quote && (*v == '"' || *v == '\\'))
			kv_put(l, '\\');
		kv_put(l, (char)*v);
	}
	if (quote)
		kv_put(l, '"');
	l->buf[l->len] = 0;
}

/* kv_addf - kv_add with a formatted value */
void kv_addf(struct kvline *l, const char *key, const char *fmt, ...)
{
	char value[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	kv_add(l, key, value);
}
