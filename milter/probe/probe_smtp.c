/* probe_smtp.c - a small, defensive SMTP client for relay-probe */

/*
 * The server on the other end may be hostile or broken: every read has a
 * deadline, every reply is bounded in line length and line count, and every
 * byte we print is sanitised. We never send DATA; this module does not even
 * know how to.
 */

#include <arpa/inet.h>
#include <stdarg.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "probe_smtp.h"

/* XCLIENT attributes Postfix knows; anything else is a typo. */
static const char *const xclient_names[] = {"NAME", "ADDR", "PORT", "PROTO", "HELO", "LOGIN",
    "REVERSE_NAME", "DESTADDR", "DESTPORT", NULL};

/* now_ms - monotonic clock in milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* set_err - record why the last operation failed */
__attribute__((format(printf, 2, 3))) static void set_err(struct probe_smtp *s, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

/* sanitise - copy printable ASCII, replacing anything else with '?' */
static size_t sanitise(char *dst, size_t dstlen, const char *src, size_t n)
{
	size_t i, o = 0;

	if (dstlen == 0)
		return 0;
	for (i = 0; i < n && o + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		/* No control bytes or escape sequences reach a terminal. */
		dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[o] = '\0';
	return o;
}

/* trace_line - dump one line of dialogue to the trace stream */
static void trace_line(struct probe_smtp *s, const char *dir, const char *line, size_t n)
{
	char clean[PROBE_LINE_MAX + 1];

	if (s->trace == NULL)
		return;
	sanitise(clean, sizeof(clean), line, n);
	fprintf(s->trace, "%s %s\n", dir, clean);
	fflush(s->trace);
}

/* probe_smtp_init - prepare a session; timeout in seconds; trace may be NULL */
void probe_smtp_init(struct probe_smtp *s, int timeout, FILE *trace)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->timeout = timeout > 0 ? timeout : 30;
	s->trace = trace;
}

/* wait_fd - poll fd for events until the deadline; 1 ready, 0 timeout, -1 error */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int rc;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

/* set_blocking - switch O_NONBLOCK on or off */
static int set_blocking(int fd, bool blocking)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = blocking ? (fl & ~O_NONBLOCK) : (fl | O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

/* set_sock_timeouts - backstop so no blocking call (TLS included) waits forever */
static void set_sock_timeouts(int fd, int seconds)
{
	struct timeval tv;

	tv.tv_sec = seconds;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* record_peer - remember the server's address and family for domain literals */
static void record_peer(struct probe_smtp *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	s->peer_addr[0] = '\0';
	if (getpeername(s->fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	s->peer_family = ss.ss_family;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, s->peer_addr, sizeof(s->peer_addr));
		s->peer_port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, s->peer_addr, sizeof(s->peer_addr));
		s->peer_port = ntohs(sin6->sin6_port);
	}
}

/* connect_one - non-blocking connect to one address, bounded by the deadline */
static enum probe_status connect_one(struct probe_smtp *s, const struct addrinfo *ai,
    long long deadline)
{
	int fd, rc, soerr = 0;
	socklen_t sl = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		set_err(s, "socket: %s", strerror(errno));
		return PROBE_SMTP_ERR_CONNECT;
	}
	if (set_blocking(fd, false) != 0) {
		set_err(s, "fcntl: %s", strerror(errno));
		close(fd);
		return PROBE_SMTP_ERR_CONNECT;
	}
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (rc != 0 && errno != EINPROGRESS) {
		set_err(s, "connect: %s", strerror(errno));
		close(fd);
		return PROBE_SMTP_ERR_CONNECT;
	}
	if (rc != 0) {
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc == 0) {
			set_err(s, "connect: timed out after %d s", s->timeout);
			close(fd);
			return PROBE_SMTP_ERR_TIMEOUT;
		}
		if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
		    soerr != 0) {
			set_err(s, "connect: %s", strerror(soerr != 0 ? soerr : errno));
			close(fd);
			return PROBE_SMTP_ERR_CONNECT;
		}
	}
	if (set_blocking(fd, true) != 0) {
		set_err(s, "fcntl: %s", strerror(errno));
		close(fd);
		return PROBE_SMTP_ERR_CONNECT;
	}
	set_sock_timeouts(fd, s->timeout);
	s->fd = fd;
	record_peer(s);
	return PROBE_SMTP_OK;
}

/* probe_smtp_connect - connect to host:port (name or address), bounded by the timeout */
enum probe_status probe_smtp_connect(struct probe_smtp *s, const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	enum probe_status st = PROBE_SMTP_ERR_CONNECT;
	long long deadline = now_ms() + (long long)s->timeout * 1000;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		set_err(s, "%s: %s", host, gai_strerror(rc));
		return PROBE_SMTP_ERR_CONNECT;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		st = connect_one(s, ai, deadline);
		if (st == PROBE_SMTP_OK || st == PROBE_SMTP_ERR_TIMEOUT)
			break;
	}
	freeaddrinfo(res);
	return st;
}

/* tls_errstr - the most recent OpenSSL error as text, into s->err */
static void tls_errstr(struct probe_smtp *s, const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0) {
		set_err(s, "%s: %s", what, errno ? strerror(errno) : "connection closed");
		return;
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	set_err(s, "%s: %s", what, buf);
	ERR_clear_error();
}

/*
 * With TLS the socket is non-blocking and every OpenSSL call is retried
 * after poll() until the deadline: a blocking SSL_read would wait for a
 * whole record, and a server dribbling one byte at a time could hold it
 * for ever even with SO_RCVTIMEO.
 */

/* tls_retry - wait for what OpenSSL needs after result r <= 0; OK to retry */
static enum probe_status tls_retry(struct probe_smtp *s, int r, long long deadline,
    const char *what)
{
	int e = SSL_get_error(s->ssl, r), w;

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		w = wait_fd(s->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (w > 0)
			return PROBE_SMTP_OK;
		if (w == 0) {
			set_err(s, "%s: no progress within %d s", what, s->timeout);
			return PROBE_SMTP_ERR_TIMEOUT;
		}
		set_err(s, "poll: %s", strerror(errno));
		return PROBE_SMTP_ERR_IO;
	}
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
		set_err(s, "%s: server closed the connection", what);
		ERR_clear_error();
		return PROBE_SMTP_ERR_IO;
	}
	tls_errstr(s, what);
	return PROBE_SMTP_ERR_TLS;
}

/* tls_read - read some bytes through TLS, no later than the deadline */
static enum probe_status tls_read(struct probe_smtp *s, char *p, size_t n, size_t *got,
    long long deadline)
{
	enum probe_status st;
	int r;

	for (;;) {
		ERR_clear_error();
		r = SSL_read(s->ssl, p, n > 16384 ? 16384 : (int)n);
		if (r > 0) {
			*got = (size_t)r;
			return PROBE_SMTP_OK;
		}
		st = tls_retry(s, r, deadline, "TLS read");
		if (st == PROBE_SMTP_ERR_TIMEOUT)
			set_err(s, "no reply within %d s", s->timeout);
		if (st != PROBE_SMTP_OK)
			return st;
	}
}

/* tls_write - write everything through TLS, no later than the deadline */
static enum probe_status tls_write(struct probe_smtp *s, const char *p, size_t n,
    long long deadline)
{
	enum probe_status st;
	int r;

	while (n > 0) {
		ERR_clear_error();
		/* Without partial writes, a retry must repeat the same call. */
		r = SSL_write(s->ssl, p, (int)n);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		st = tls_retry(s, r, deadline, "TLS write");
		if (st != PROBE_SMTP_OK)
			return st;
	}
	return PROBE_SMTP_OK;
}

/* raw_read - read some bytes, waiting no later than the deadline */
static enum probe_status raw_read(struct probe_smtp *s, char *p, size_t n, size_t *got,
    long long deadline)
{
	ssize_t rc;
	int w;

	if (s->ssl != NULL)
		return tls_read(s, p, n, got, deadline);
	w = wait_fd(s->fd, POLLIN, deadline);
	if (w == 0) {
		set_err(s, "no reply within %d s", s->timeout);
		return PROBE_SMTP_ERR_TIMEOUT;
	}
	if (w < 0) {
		set_err(s, "poll: %s", strerror(errno));
		return PROBE_SMTP_ERR_IO;
	}
	do
		rc = read(s->fd, p, n);
	while (rc < 0 && errno == EINTR);
	if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		set_err(s, "no reply within %d s", s->timeout);
		return PROBE_SMTP_ERR_TIMEOUT;
	}
	if (rc < 0) {
		set_err(s, "read: %s", strerror(errno));
		return PROBE_SMTP_ERR_IO;
	}
	if (rc == 0) {
		set_err(s, "server closed the connection");
		return PROBE_SMTP_ERR_IO;
	}
	*got = (size_t)rc;
	return PROBE_SMTP_OK;
}

/* raw_write - write everything or fail, bounded by the timeout */
static enum probe_status raw_write(struct probe_smtp *s, const char *p, size_t n)
{
	long long deadline = now_ms() + (long long)s->timeout * 1000;
	ssize_t rc;

	if (s->ssl != NULL)
		return tls_write(s, p, n, deadline);
	while (n > 0) {
		if (wait_fd(s->fd, POLLOUT, deadline) <= 0) {
			set_err(s, "write timed out after %d s", s->timeout);
			return PROBE_SMTP_ERR_TIMEOUT;
		}
		rc = send(s->fd, p, n, MSG_NOSIGNAL);
		if (rc < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (rc < 0) {
			set_err(s, "write: %s", strerror(errno));
			return PROBE_SMTP_ERR_IO;
		}
		p += rc;
		n -= (size_t)rc;
	}
	return PROBE_SMTP_OK;
}

/* read_line - one line without CR LF into line (NUL-terminated), n its length */
static enum probe_status read_line(struct probe_smtp *s, char *line, size_t *n, long long deadline)
{
	char *nl;
	size_t got, len;
	enum probe_status st;

	for (;;) {
		nl = memchr(s->buf, '\n', s->len);
		if (nl != NULL)
			break;
		if (s->len >= PROBE_LINE_MAX) {
			set_err(s, "reply line longer than %d bytes", PROBE_LINE_MAX);
			return PROBE_SMTP_ERR_PROTO;
		}
		st = raw_read(s, s->buf + s->len, PROBE_LINE_MAX - s->len, &got, deadline);
		if (st != PROBE_SMTP_OK)
			return st;
		s->len += got;
	}
	len = (size_t)(nl - s->buf);
	memcpy(line, s->buf, len);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	*n = len;
	s->len -= (size_t)(nl - s->buf) + 1;
	memmove(s->buf, nl + 1, s->len);
	return PROBE_SMTP_OK;
}

/* parse_code - the reply code of one line, or -1 when malformed */
static int parse_code(const char *line, size_t n, bool *last)
{
	if (n < 3 || line[0] < '2' || line[0] > '5' || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return -1;
	/* "250" alone is a (sloppy) last line; otherwise ' ' or '-'. */
	if (n == 3 || line[3] == ' ')
		*last = true;
	else if (line[3] == '-')
		*last = false;
	else
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* append_text - add one line's text to the reply, truncating when full */
static void append_text(struct probe_reply *r, const char *text, size_t n)
{
	size_t used = strlen(r->text);

	if (r->nlines > 0 && used + 1 < sizeof(r->text))
		r->text[used++] = '\n';
	sanitise(r->text + used, sizeof(r->text) - used, text, n);
}

/* probe_smtp_read_reply - read one complete (possibly multi-line) reply */
enum probe_status probe_smtp_read_reply(struct probe_smtp *s, struct probe_reply *r)
{
	char line[PROBE_LINE_MAX + 1];
	long long deadline = now_ms() + (long long)s->timeout * 1000;
	enum probe_status st;
	size_t n;
	bool last = false;
	int code;

	memset(r, 0, sizeof(*r));
	if (s->fd < 0) {
		set_err(s, "not connected");
		return PROBE_SMTP_ERR_IO;
	}
	while (!last) {
		st = read_line(s, line, &n, deadline);
		if (st != PROBE_SMTP_OK)
			return st;
		trace_line(s, "<", line, n);
		code = parse_code(line, n, &last);
		if (code < 0) {
			char clean[80];

			sanitise(clean, sizeof(clean), line, n);
			set_err(s, "malformed reply line \"%s\"", clean);
			return PROBE_SMTP_ERR_PROTO;
		}
		if (r->nlines > 0 && code != r->code) {
			set_err(s,
			    "reply code changes from %d to %d "
			    "within one reply",
			    r->code, code);
			return PROBE_SMTP_ERR_PROTO;
		}
		if (r->nlines >= PROBE_REPLY_MAX_LINES) {
			set_err(s, "reply longer than %d lines", PROBE_REPLY_MAX_LINES);
			return PROBE_SMTP_ERR_PROTO;
		}
		r->code = code;
		append_text(r, n > 4 ? line + 4 : "", n > 4 ? n - 4 : 0);
		r->nlines++;
	}
	return PROBE_SMTP_OK;
}

/* probe_smtp_command - send one command line and read its reply */
enum probe_status probe_smtp_command(struct probe_smtp *s, struct probe_reply *r, const char *cmd)
{
	char out[PROBE_CMD_MAX + 3];
	size_t n = strlen(cmd);
	enum probe_status st;

	memset(r, 0, sizeof(*r));
	/* A CR or LF in an argument would smuggle in a second command. */
	if (n > PROBE_CMD_MAX || strpbrk(cmd, "\r\n") != NULL) {
		set_err(s,
		    "refusing to send an overlong or multi-line "
		    "command");
		return PROBE_SMTP_ERR_USAGE;
	}
	if (s->fd < 0) {
		set_err(s, "not connected");
		return PROBE_SMTP_ERR_IO;
	}
	trace_line(s, ">", cmd, n);
	memcpy(out, cmd, n);
	memcpy(out + n, "\r\n", 3);
	st = raw_write(s, out, n + 2);
	if (st != PROBE_SMTP_OK)
		return st;
	return probe_smtp_read_reply(s, r);
}

/* parse_caps - record the EHLO keywords we care about */
static void parse_caps(struct probe_smtp *s, const struct probe_reply *r)
{
	const char *p = r->text, *end, *sp;
	size_t n, kw;

	s->caps = PROBE_CAP_ESMTP;
	s->xclient_attrs[0] = '\0';
	/* The first line is the greeting (host name), not a keyword. */
	p = strchr(p, '\n');
	while (p != NULL) {
		p++;
		end = strchr(p, '\n');
		n = end ? (size_t)(end - p) : strlen(p);
		sp = memchr(p, ' ', n);
		kw = sp ? (size_t)(sp - p) : n;

		if (kw == 8 && strncasecmp(p, "STARTTLS", 8) == 0)
			s->caps |= PROBE_CAP_STARTTLS;
		else if (kw == 10 && strncasecmp(p, "PIPELINING", 10) == 0)
			s->caps |= PROBE_CAP_PIPELINING;
		else if (kw == 7 && strncasecmp(p, "XCLIENT", 7) == 0) {
			s->caps |= PROBE_CAP_XCLIENT;
			if (sp != NULL)
				snprintf(s->xclient_attrs, sizeof(s->xclient_attrs), "%.*s",
				    (int)(n - kw - 1), sp + 1);
		}
		p = end;
	}
}

/* probe_smtp_ehlo - EHLO (HELO when EHLO is refused), recording capabilities */
enum probe_status probe_smtp_ehlo(struct probe_smtp *s, const char *helo, struct probe_reply *r)
{
	char cmd[PROBE_CMD_MAX];
	enum probe_status st;

	s->caps = 0;
	s->xclient_attrs[0] = '\0';
	snprintf(cmd, sizeof(cmd), "EHLO %s", helo);
	st = probe_smtp_command(s, r, cmd);
	if (st != PROBE_SMTP_OK)
		return st;
	if (r->code / 100 == 2) {
		parse_caps(s, r);
		return PROBE_SMTP_OK;
	}
	/* An old server that does not speak ESMTP says 5xx; try HELO. */
	if (r->code / 100 != 5)
		return PROBE_SMTP_OK;
	snprintf(cmd, sizeof(cmd), "HELO %s", helo);
	return probe_smtp_command(s, r, cmd);
}

/* is_ip_literal - does the name look like an IP address (no SNI for those)? */
static bool is_ip_literal(const char *name)
{
	unsigned char tmp[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, tmp) == 1 || inet_pton(AF_INET6, name, tmp) == 1;
}

/* probe_smtp_starttls - STARTTLS and a TLS handshake; r gets the STARTTLS reply */
enum probe_status probe_smtp_starttls(struct probe_smtp *s, const char *servername,
    struct probe_reply *r)
{
	enum probe_status st;
	int rc;
	long long deadline;

	st = probe_smtp_command(s, r, "STARTTLS");
	if (st != PROBE_SMTP_OK || r->code != 220)
		return st;
	/*
	 * Anything already buffered was sent before the handshake and would
	 * be read as if it came through TLS (the CVE-2011-0411 class).
	 */
	if (s->len != 0) {
		set_err(s, "server sent data after its STARTTLS reply");
		return PROBE_SMTP_ERR_PROTO;
	}
	s->ctx = SSL_CTX_new(TLS_client_method());
	if (s->ctx == NULL) {
		tls_errstr(s, "SSL_CTX_new");
		return PROBE_SMTP_ERR_TLS;
	}
	/* An audit of relaying, not of certificates: do not verify. */
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_NONE, NULL);
	s->ssl = SSL_new(s->ctx);
	if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1) {
		tls_errstr(s, "SSL_new");
		return PROBE_SMTP_ERR_TLS;
	}
	if (servername != NULL && !is_ip_literal(servername))
		(void)SSL_set_tlsext_host_name(s->ssl, servername);
	if (set_blocking(s->fd, false) != 0) {
		set_err(s, "fcntl: %s", strerror(errno));
		return PROBE_SMTP_ERR_IO;
	}
	deadline = now_ms() + (long long)s->timeout * 1000;
	for (;;) {
		ERR_clear_error();
		rc = SSL_connect(s->ssl);
		if (rc == 1)
			break;
		st = tls_retry(s, rc, deadline, "TLS handshake");
		if (st != PROBE_SMTP_OK)
			return st;
	}
	s->caps = 0;
	if (s->trace != NULL) {
		fprintf(s->trace, "* TLS established: %s, %s\n", SSL_get_version(s->ssl),
		    SSL_get_cipher_name(s->ssl));
		fflush(s->trace);
	}
	return PROBE_SMTP_OK;
}

/* probe_smtp_tls_version - negotiated TLS protocol, or NULL without TLS */
const char *probe_smtp_tls_version(const struct probe_smtp *s)
{
	return s->ssl != NULL ? SSL_get_version(s->ssl) : NULL;
}

/* xclient_name_known - is this one of the XCLIENT attribute names? */
static bool xclient_name_known(const char *name, size_t n)
{
	int i;

	for (i = 0; xclient_names[i] != NULL; i++)
		if (strlen(xclient_names[i]) == n && strncasecmp(xclient_names[i], name, n) == 0)
			return true;
	return false;
}

/* probe_smtp_xclient_check - validate an XCLIENT spec before connecting */
int probe_smtp_xclient_check(const char *spec, char *why, size_t len)
{
	const char *p = spec, *eq, *end;
	size_t i;

	if (*spec == '\0') {
		snprintf(why, len, "empty XCLIENT attribute list");
		return -1;
	}
	while (*p != '\0') {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL || eq == p) {
			snprintf(why, len,
			    "XCLIENT attribute \"%.*s\" is not "
			    "NAME=value",
			    (int)(end - p), p);
			return -1;
		}
		if (!xclient_name_known(p, (size_t)(eq - p))) {
			snprintf(why, len, "unknown XCLIENT attribute \"%.*s\"", (int)(eq - p), p);
			return -1;
		}
		for (i = 1; eq + i < end; i++) {
			unsigned char c = (unsigned char)eq[i];

			if (c <= 0x20 || c >= 0x7f) {
				snprintf(why, len,
				    "XCLIENT value for %.*s "
				    "contains a space or non-ASCII byte",
				    (int)(eq - p), p);
				return -1;
			}
		}
		p = *end == ',' ? end + 1 : end;
		if (*end == ',' && *p == '\0') {
			snprintf(why, len, "trailing comma in XCLIENT list");
			return -1;
		}
	}
	return 0;
}

/* server_offers - is the attribute name in the server's XCLIENT list? */
static bool server_offers(const struct probe_smtp *s, const char *name, size_t n)
{
	const char *p = s->xclient_attrs;

	while (*p != '\0') {
		size_t w = strcspn(p, " ");

		if (w == n && strncasecmp(p, name, n) == 0)
			return true;
		p += w;
		p += strspn(p, " ");
	}
	return false;
}

/* xtext_append - append value in xtext form (RFC 3461) to cmd */
static bool xtext_append(char *cmd, size_t len, const char *v, size_t n)
{
	size_t o = strlen(cmd), i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (o + 4 >= len)
			return false;
		if (c > 0x20 && c < 0x7f && c != '+' && c != '=')
			cmd[o++] = (char)c;
		else
			o += (size_t)snprintf(cmd + o, len - o, "+%02X", c);
	}
	cmd[o] = '\0';
	return true;
}

/* probe_smtp_xclient - send XCLIENT with "NAME=value,..." attributes */
enum probe_status probe_smtp_xclient(struct probe_smtp *s, const char *spec, struct probe_reply *r)
{
	char cmd[PROBE_CMD_MAX] = "XCLIENT";
	const char *p = spec, *eq, *end;
	char why[PROBE_ERR_MAX];
	size_t o;

	memset(r, 0, sizeof(*r));
	if (probe_smtp_xclient_check(spec, why, sizeof(why)) != 0) {
		set_err(s, "%s", why);
		return PROBE_SMTP_ERR_USAGE;
	}
	if (!(s->caps & PROBE_CAP_XCLIENT)) {
		set_err(s, "server does not offer XCLIENT to this client");
		return PROBE_SMTP_ERR_PROTO;
	}
	while (*p != '\0') {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (!server_offers(s, p, (size_t)(eq - p))) {
			set_err(s,
			    "server does not offer XCLIENT attribute "
			    "%.*s",
			    (int)(eq - p), p);
			return PROBE_SMTP_ERR_PROTO;
		}
		o = strlen(cmd);
		if (o + (size_t)(eq - p) + 3 >= sizeof(cmd))
			goto toolong;
		snprintf(cmd + o, sizeof(cmd) - o, " %.*s=", (int)(eq - p), p);
		for (o = strlen(cmd) - (size_t)(eq - p) - 1; cmd[o] != '='; o++)
			cmd[o] = (char)toupper((unsigned char)cmd[o]);
		if (!xtext_append(cmd, sizeof(cmd), eq + 1, (size_t)(end - eq - 1)))
			goto toolong;
		p = *end == ',' ? end + 1 : end;
	}
	return probe_smtp_command(s, r, cmd);
toolong:
	set_err(s, "XCLIENT command too long");
	return PROBE_SMTP_ERR_USAGE;
}

/* probe_smtp_close - free the session (does not send QUIT) */
void probe_smtp_close(struct probe_smtp *s)
{
	if (s->ssl != NULL) {
		/* A quiet shutdown: the peer may already be gone. */
		SSL_set_quiet_shutdown(s->ssl, 1);
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->ctx != NULL) {
		SSL_CTX_free(s->ctx);
		s->ctx = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	s->len = 0;
}

/* probe_smtp_strerror - short name of a status */
const char *probe_smtp_strerror(enum probe_status st)
{
	switch (st) {
	case PROBE_SMTP_OK:
		return "ok";
	case PROBE_SMTP_ERR_CONNECT:
		return "cannot connect";
	case PROBE_SMTP_ERR_TIMEOUT:
		return "timeout";
	case PROBE_SMTP_ERR_IO:
		return "connection lost";
	case PROBE_SMTP_ERR_PROTO:
		return "protocol error";
	case PROBE_SMTP_ERR_TLS:
		return "TLS error";
	case PROBE_SMTP_ERR_USAGE:
		return "usage error";
	}
	return "unknown error";
}

/* probe_smtp_oneline - a reply's text on one line ("a / b"), for output */
const char *probe_smtp_oneline(const struct probe_reply *r, char *buf, size_t len)
{
	size_t i, o = 0;

	if (len == 0)
		return "";
	for (i = 0; r->text[i] != '\0' && o + 4 < len; i++) {
		if (r->text[i] == '\n') {
			memcpy(buf + o, " / ", 3);
			o += 3;
		} else
			buf[o++] = r->text[i];
	}
	buf[o] = '\0';
	return buf;
}
