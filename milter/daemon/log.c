/* log.c - logging to syslog, to stderr, or to the journal through stderr */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_MSG_MAX 4096
#define SYSLOG_PATH "/dev/log"

static enum {
	TO_STDERR,
	TO_JOURNAL,
	TO_SYSLOG
} log_to = TO_STDERR;

/*
 * Our own syslog(3): one datagram to /dev/log per line, as glibc sends
 * it (RFC 3164: "<PRI>Mmm dd hh:mm:ss ident[pid]: message"), without
 * glibc's two printf passes and its localtime per line. The timestamp is
 * made once a second; the socket is reconnected when syslogd restarted.
 */
static struct {
	int fd;
	int facility;
	char ident[32];
	char pid[16];              /* "[1234]: " */
	size_t ident_len, pid_len; /* measured once, when they are set */
	pthread_mutex_t lock;      /* only for reconnecting */
} sl = {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

/* Two timestamp slots: one is read while the other is rewritten. */
static struct stamp {
	time_t sec;
	char text[16]; /* "Dec  3 17:03:22" */
} stamps[2];
static unsigned stamp_cur;
static pthread_mutex_t stamp_lock = PTHREAD_MUTEX_INITIALIZER;

/* stamp_now - the RFC 3164 timestamp of this second, formatted at most once a second */
static const char *stamp_now(void)
{
	time_t now = time(NULL);
	struct stamp *s = &stamps[__atomic_load_n(&stamp_cur, __ATOMIC_ACQUIRE)];
	struct tm tm;

	if (s->sec == now)
		return s->text;
	pthread_mutex_lock(&stamp_lock);
	s = &stamps[stamp_cur];
	if (s->sec != now) {
		struct stamp *next = &stamps[stamp_cur ^ 1];

		localtime_r(&now, &tm);
		strftime(next->text, sizeof(next->text), "%b %e %H:%M:%S", &tm);
		next->sec = now;
		__atomic_store_n(&stamp_cur, stamp_cur ^ 1, __ATOMIC_RELEASE);
		s = next;
	}
	pthread_mutex_unlock(&stamp_lock);
	return s->text;
}

/* syslog_connect - a datagram socket connected to /dev/log; -1 when there is none */
static int syslog_connect(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX, .sun_path = SYSLOG_PATH};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * syslog_reconnect - replace the socket that failed (one thread does it).
 * The new connection is moved onto the old descriptor's number, never
 * freeing it: another thread may be about to send through it, and a
 * number closed here could meanwhile become an MTA's milter connection.
 */
static int syslog_reconnect(int failed)
{
	int fd;

	pthread_mutex_lock(&sl.lock);
	fd = __atomic_load_n(&sl.fd, __ATOMIC_ACQUIRE);
	if (fd == failed) {
		int fresh = syslog_connect();

		if (failed < 0)
			fd = fresh;
		else if (fresh >= 0) {
			dup3(fresh, failed,
			    O_CLOEXEC); /* atomic: the number always names a syslog socket */
			close(fresh);
		}
		__atomic_store_n(&sl.fd, fd, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&sl.lock);
	return fd;
}

/* syslog_send - one line as one datagram; reconnect and retry once if syslogd went away */
static void syslog_send(enum log_level level, const char *tag, const char *msg, size_t len)
{
	char pri[8];
	struct iovec iov[7];
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 7};
	int fd = __atomic_load_n(&sl.fd, __ATOMIC_ACQUIRE), p = sl.facility | (int)level, n = 0;

	/* "<PRI>" without printf: PRI is at most 191 */
	pri[n++] = '<';
	if (p >= 100)
		pri[n++] = (char)('0' + p / 100);
	if (p >= 10)
		pri[n++] = (char)('0' + p / 10 % 10);
	pri[n++] = (char)('0' + p % 10);
	pri[n++] = '>';
	iov[0] = (struct iovec){pri, (size_t)n};
	iov[1] = (struct iovec){(char *)stamp_now(), 15};
	iov[2] = (struct iovec){(char *)" ", 1};
	iov[3] = (struct iovec){sl.ident, sl.ident_len};
	iov[4] = (struct iovec){sl.pid, sl.pid_len};
	iov[5] = (struct iovec){(char *)tag, tag[0] != 0 ? strlen(tag) : 0};
	iov[6] = (struct iovec){(char *)msg, len};
	for (int attempt = 0; attempt < 2; attempt++) {
		if (fd >= 0 && sendmsg(fd, &mh, MSG_NOSIGNAL) >= 0)
			return;
		if (fd >= 0 && errno != ECONNREFUSED && errno != ENOTCONN && errno != EBADF &&
		    errno != ENOENT)
			return; /* syslogd is there but refuses this line */
		fd = syslog_reconnect(fd);
	}
}

/* log_forked - after a fork: the pid in every syslog line is the new one */
void log_forked(void)
{
	snprintf(sl.pid, sizeof(sl.pid), "[%ld]: ", (long)getpid());
	sl.pid_len = strlen(sl.pid);
}

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
	snprintf(sl.ident, sizeof(sl.ident), "%s", ident);
	sl.ident_len = strlen(sl.ident);
	sl.facility = facility;
	log_forked();
	syslog_reconnect(-1);
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
	const char *t = tag(level);
	struct iovec iov[4];
	int n = 0;

	if (log_to == TO_SYSLOG) {
		syslog_send(level, t, msg, len);
		return;
	}
	if (log_to == TO_JOURNAL)
		iov[n++] = (struct iovec){prio, 3};
	else
		iov[n++] = (struct iovec){(char *)"relay-milter: ", 14};
	iov[n++] = (struct iovec){(char *)t, t[0] != 0 ? strlen(t) : 0}; /* most lines have none */
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
