/* log.c - logging to syslog, to stderr, or to the journal through stderr */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define LOG_MSG_MAX 4096

static enum {
	TO_STDERR,
	TO_JOURNAL,
	TO_SYSLOG
} log_to = TO_STDERR;

/* stderr_is_journal - JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd gave us */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* log_open - to stderr (or the journal) when foreground, else syslog */
void log_open(const char *ident, bool to_stderr, int facility)
{
	if (to_stderr) {
		log_to = stderr_is_journal() ? TO_JOURNAL : TO_STDERR;
		return;
	}
	log_to = TO_SYSLOG;
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

/* log_journal - is stderr the journal? */
bool log_journal(void)
{
	return log_to == TO_JOURNAL;
}

/* tag - the word a stderr line gives its level, as Postfix does */
static const char *tag(enum log_level level)
{
	return level == LOG_LEVEL_ERR ? "error: " : level == LOG_LEVEL_WARNING ? "warning: " : "";
}

/*
 * emit - one line, whole. On stderr it goes out in a single writev(2),
 * without stdio's lock, so decision lines from many threads neither
 * interleave nor queue behind each other.
 */
static void emit(enum log_level level, const char *msg, size_t len)
{
	char prio[4] = {'<', (char)('0' + (int)level), '>', 0};
	struct iovec iov[4];
	int n = 0;

	if (log_to == TO_SYSLOG) {
		syslog((int)level, "%s%.*s", tag(level), (int)len, msg);
		return;
	}
	if (log_to == TO_JOURNAL)
		iov[n++] = (struct iovec){prio, 3};
	else
		iov[n++] = (struct iovec){(char *)"relay-milter: ", 14};
	iov[n++] = (struct iovec){(char *)tag(level), strlen(tag(level))};
	iov[n++] = (struct iovec){(char *)msg, len};
	iov[n++] = (struct iovec){(char *)"\n", 1};
	(void)!writev(STDERR_FILENO, iov, n);
}

static void vlog(enum log_level level, const char *fmt, va_list ap) LOG_PRINTF(2, 0);

/* vlog - format, then emit */
static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);

	if (n < 0)
		return;
	emit(level, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARNING, fmt, ap);
	va_end(ap);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
}

/* log_line - a line already formatted */
void log_line(enum log_level level, const char *msg, size_t len)
{
	emit(level, msg, len);
}
