/* log.h - logging to syslog, to stderr, or to the journal through stderr */
#ifndef RM_LOG_H
#define RM_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Levels, as syslog's priorities (journald reads them from a "<N>" prefix). */
enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_INFO = 6,
};

/*
 * log_open - to stderr when foreground, else syslog with this facility
 * (one datagram a line to /dev/log, as glibc's syslog(3) sends them).
 * When JOURNAL_STREAM names our stderr (systemd connected it to the
 * journal), each stderr line starts with "<N>" so the journal keeps its
 * priority.
 */
void log_open(const char *ident, bool to_stderr, int facility);

/* log_forked - the process forked (daemon_detach): syslog lines name the new pid */
void log_forked(void);

/* log_journal - is stderr the journal? */
bool log_journal(void);

void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_err(const char *fmt, ...) LOG_PRINTF(1, 2);

/* log_line - one line already formatted (decision lines): no printf on the way */
void log_line(enum log_level level, const char *msg, size_t len);

#endif
