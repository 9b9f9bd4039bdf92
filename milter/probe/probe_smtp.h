/* probe_smtp.h - the SMTP client side of relay-probe */
#ifndef RM_PROBE_SMTP_H
#define RM_PROBE_SMTP_H

#include <stddef.h>
#include <stdio.h>

/*
 * A hostile server controls every byte we read, so everything is bounded:
 * one reply line (RFC 5321 allows 512 octets; we accept twice that), the
 * number of lines in one reply, and the text we keep of it.
 */
#define PROBE_LINE_MAX        1024
#define PROBE_REPLY_MAX_LINES 64
#define PROBE_TEXT_MAX        4096
#define PROBE_CMD_MAX         1024
#define PROBE_HOST_MAX        256
#define PROBE_ERR_MAX         512

/* Status of every client operation. */
enum probe_status {
	PROBE_SMTP_OK = 0,
	PROBE_SMTP_ERR_CONNECT, /* could not connect */
	PROBE_SMTP_ERR_TIMEOUT, /* a read, write or connect timed out */
	PROBE_SMTP_ERR_IO,      /* read/write failed or the server closed */
	PROBE_SMTP_ERR_PROTO,   /* malformed, overlong or unexpected reply */
	PROBE_SMTP_ERR_TLS,     /* STARTTLS or TLS I/O failed */
	PROBE_SMTP_ERR_USAGE    /* the caller passed something unsendable */
};

/* One SMTP reply: its code and the text of every line, sanitised. */
struct probe_reply {
	int code;                  /* 200..599 */
	int nlines;                /* number of lines, at least 1 */
	char text[PROBE_TEXT_MAX]; /* line texts joined with '\n' */
};

/* EHLO capabilities we care about. */
#define PROBE_CAP_ESMTP      0x01 /* EHLO was accepted */
#define PROBE_CAP_STARTTLS   0x02
#define PROBE_CAP_XCLIENT    0x04
#define PROBE_CAP_PIPELINING 0x08

struct ssl_st;
struct ssl_ctx_st;

/* One client session. Fields are read by the caller, written by us. */
struct probe_smtp {
	int fd;
	struct ssl_ctx_st *ctx;
	struct ssl_st *ssl;
	int timeout; /* seconds, for connect and for every reply */
	FILE *trace; /* dialogue dump (verbose), or NULL */
	char buf[PROBE_LINE_MAX + 2];
	size_t len;                         /* bytes in buf */
	unsigned caps;                      /* PROBE_CAP_* from the last EHLO */
	char xclient_attrs[PROBE_TEXT_MAX]; /* attributes after XCLIENT */
	char peer_addr[64];                 /* the server's address as text */
	int peer_family;                    /* AF_INET or AF_INET6 */
	unsigned peer_port;
	char err[PROBE_ERR_MAX]; /* why the last operation failed */
};

/* probe_smtp_init - prepare a session; timeout in seconds; trace may be NULL */
void probe_smtp_init(struct probe_smtp *s, int timeout, FILE *trace);

/* probe_smtp_connect - connect to host:port (name or address), bounded by the timeout */
enum probe_status probe_smtp_connect(struct probe_smtp *s, const char *host, const char *port);

/* probe_smtp_read_reply - read one complete (possibly multi-line) reply */
enum probe_status probe_smtp_read_reply(struct probe_smtp *s, struct probe_reply *r);

/* probe_smtp_command - send one command line and read its reply */
enum probe_status probe_smtp_command(struct probe_smtp *s, struct probe_reply *r, const char *cmd);

/* probe_smtp_ehlo - EHLO (HELO when EHLO is refused), recording capabilities */
enum probe_status probe_smtp_ehlo(struct probe_smtp *s, const char *helo, struct probe_reply *r);

/* probe_smtp_starttls - STARTTLS and a TLS handshake; r gets the STARTTLS reply */
enum probe_status probe_smtp_starttls(struct probe_smtp *s, const char *servername,
    struct probe_reply *r);

/* probe_smtp_xclient - send XCLIENT with "NAME=value,..." attributes */
enum probe_status probe_smtp_xclient(struct probe_smtp *s, const char *spec, struct probe_reply *r);

/* probe_smtp_xclient_check - validate an XCLIENT spec before connecting */
int probe_smtp_xclient_check(const char *spec, char *why, size_t len);

/* probe_smtp_tls_version - negotiated TLS protocol, or NULL without TLS */
const char *probe_smtp_tls_version(const struct probe_smtp *s);

/* probe_smtp_close - free the session (does not send QUIT) */
void probe_smtp_close(struct probe_smtp *s);

/* probe_smtp_strerror - short name of a status */
const char *probe_smtp_strerror(enum probe_status st);

/* probe_smtp_oneline - a reply's text on one line ("a / b"), for output */
const char *probe_smtp_oneline(const struct probe_reply *r, char *buf, size_t len);

#endif
