/*
 * milterload - load client playing the MTA side of the milter protocol
 *
 * It speaks milter protocol version 6 as Postfix and Sendmail do: option
 * negotiation (honouring the steps the milter asks to skip and the steps it
 * will not answer), macros before each step, connect, HELO, MAIL, RCPT,
 * then end of message or abort, then quit. Many threads, each with its own
 * connection, drive a mix of local, remote, authenticated and trusted
 * transactions, and the client reports throughput, RCPT latency and every
 * reply it got, so a wrong verdict shows up beside the speed.
 *
 * Only loopback and unix sockets are accepted: this is a benchmark, not a
 * traffic generator for other machines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#define ML_MAXCONC   1024
#define ML_MAXRCPT   1000
#define ML_MAXRANGES 64
#define ML_PKT_MAX   (1024 * 1024) /* refuse larger replies: broken peer */
#define ML_WBUF      8192
#define ML_RBUF      8192
#define ML_NSTAGES   (SMFIM_LAST + 1)

/* Transaction classes of the mix; each has its own expected verdict. */
enum ml_class {
	ML_LOCAL,   /* recipient in a local domain: continue/accept */
	ML_REMOTE,  /* remote recipient, no auth, untrusted client: 5xx */
	ML_AUTH,    /* remote recipient, SMTP AUTH: continue/accept */
	ML_TRUSTED, /* remote recipient from a trusted network: continue/accept */
	ML_NCLASS,
};

static const char *const ml_class_names[ML_NCLASS] = {
    "local",
    "remote",
    "auth",
    "trusted",
};

/* Reply kinds counted for RCPT. */
enum ml_reply {
	MR_CONTINUE,
	MR_ACCEPT,
	MR_REJECT,
	MR_TEMPFAIL,
	MR_5XX,
	MR_4XX,
	MR_DISCARD,
	MR_OTHER,
	MR_NOREPLY,
	MR_SKIPPED,
	MR_NKIND,
};

static const char *const ml_reply_names[MR_NKIND] = {
    "continue",
    "accept",
    "reject",
    "tempfail",
    "r5xx",
    "r4xx",
    "discard",
    "other",
    "noreply",
    "skipped",
};

/* One address range to draw client addresses from. */
struct ml_range {
	int family; /* AF_INET or AF_INET6 */
	uint8_t base[16];
	unsigned prefix;
};

/* A growable list of ranges (from -a/-t, literal or file). */
struct ml_ranges {
	struct ml_range *v;
	size_t n, cap;
};

/* A growable list of domains (from -L/-R, literal or file). */
struct ml_domains {
	char **v;
	size_t n, cap;
};

/* Everything the command line sets; read-only once threads run. */
struct ml_opts {
	const char *socket;
	int family; /* AF_UNIX, AF_INET, AF_INET6 */
	struct sockaddr_storage sa;
	socklen_t salen;
	unsigned conc;
	double duration;
	unsigned long ntx;
	unsigned rcpts;
	unsigned weights[ML_NCLASS];
	unsigned wsum;
	struct ml_domains local, remote;
	struct ml_ranges untrusted, trusted;
	bool reuse;
	bool expect;
	bool keyval;
	bool strict;          /* -V: check for stray replies at QUIT */
	bool pretend;         /* -P: follow the expected verdicts' path */
	unsigned per_session; /* messages per SMTP session */
	unsigned timeout;     /* seconds to wait for a reply */
	uint64_t seed;
	int verbose;
};

/* Per-thread counters, merged at the end (no sharing on the hot path). */
struct ml_stats {
	uint64_t tx, rcpts, sessions, connects, reconnects;
	uint64_t replies[MR_NKIND];
	uint64_t stage_other; /* non-continue outside RCPT/EOM */
	uint64_t errors, wrong;
	uint64_t wrong_class[ML_NCLASS];
	uint32_t *lat; /* RCPT reply latency, ns */
	size_t nlat, latcap;
};

/* One milter connection with its buffers and negotiated flags. */
struct ml_conn {
	int fd;
	uint32_t version, actions, pflags;
	char *symlist[ML_NSTAGES]; /* macros the milter asked for, or NULL */
	unsigned char wbuf[ML_WBUF];
	size_t wlen;
	unsigned char rbuf[ML_RBUF];
	size_t rpos, rlen;
	unsigned char *pkt; /* last packet read */
	size_t pktcap;
};

/* What a worker thread owns. */
struct ml_worker {
	pthread_t tid;
	unsigned id;
	uint64_t rng;
	struct ml_stats st;
	struct ml_conn conn;
	bool connected;
	bool qnc_ok; /* libmilter will accept QUIT_NC now */
	unsigned long serial;
};

static struct ml_opts opts;
static atomic_long ml_remaining;    /* -n: transactions left to claim */
static struct timespec ml_deadline; /* -d: when to stop */
static atomic_int ml_warned_qnc;

/* ml_die - print a message and exit: only before the threads start */
static void __attribute__((noreturn, format(printf, 1, 2))) ml_die(const char *fmt, ...)
{
	va_list ap;

	fputs("milterload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ml_xrealloc - realloc or die */
static void *ml_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		ml_die("out of memory");
	return q;
}

/* ml_now - monotonic time in nanoseconds */
static uint64_t ml_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ml_rand - xorshift64*: fast, per thread, good enough for load mixes */
static uint64_t ml_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ULL;
}

/* ml_parse_uint - strict unsigned parse: digits only, within [min, max] */
static unsigned long ml_parse_uint(const char *opt, const char *s, unsigned long min,
    unsigned long max)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		ml_die("%s: not a number: %s", opt, s);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		ml_die("%s: want an integer in [%lu, %lu]: %s", opt, min, max, s);
	return v;
}

/* ml_is_loopback - is this address 127.0.0.0/8 or ::1 (or v4-mapped 127/8)? */
static bool ml_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

/*
 * ml_parse_socket - "unix:/path", "local:/path", "inet:PORT@HOST" or
 * "inet6:PORT@HOST" (HOST a loopback literal or "localhost").
 */
static void ml_parse_socket(const char *spec)
{
	const char *rest;
	char host[INET6_ADDRSTRLEN + 3];
	const char *at;
	unsigned long port;
	char portbuf[8];
	size_t hl;

	memset(&opts.sa, 0, sizeof(opts.sa));
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&opts.sa;

		rest = strchr(spec, ':') + 1;
		if (*rest == '\0' || strlen(rest) >= sizeof(sun->sun_path))
			ml_die("bad unix socket path: %s", spec);
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, rest, strlen(rest) + 1);
		opts.salen = sizeof(*sun);
		opts.family = AF_UNIX;
		return;
	}
	if (strncmp(spec, "inet:", 5) == 0)
		rest = spec + 5;
	else if (strncmp(spec, "inet6:", 6) == 0)
		rest = spec + 6;
	else
		ml_die("socket must be unix:/path, inet:PORT@HOST or inet6:PORT@HOST: %s", spec);
	at = strchr(rest, '@');
	if (at == NULL || at == rest || (size_t)(at - rest) >= sizeof(portbuf))
		ml_die("socket wants PORT@HOST: %s", spec);
	memcpy(portbuf, rest, (size_t)(at - rest));
	portbuf[at - rest] = '\0';
	port = ml_parse_uint("-s port", portbuf, 1, 65535);
	at++;
	hl = strlen(at);
	if (hl >= sizeof(host))
		ml_die("host too long: %s", spec);
	if (at[0] == '[' && hl > 2 && at[hl - 1] == ']') {
		memcpy(host, at + 1, hl - 2);
		host[hl - 2] = '\0';
	} else {
		memcpy(host, at, hl + 1);
	}
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	{
		struct sockaddr_in *sin = (struct sockaddr_in *)&opts.sa;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&opts.sa;

		if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons((uint16_t)port);
			opts.salen = sizeof(*sin);
			opts.family = AF_INET;
		} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			opts.salen = sizeof(*s6);
			opts.family = AF_INET6;
		} else {
			ml_die("host must be an address literal: %s", spec);
		}
	}
	if (!ml_is_loopback(&opts.sa))
		ml_die("refusing non-loopback address %s: benchmarks stay on this host", host);
}

/* ml_range_parse - parse "a.b.c.d/len" or "v6/len" (or a bare address) */
static int ml_range_parse(const char *text, struct ml_range *r)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	unsigned max;
	size_t len = strlen(text);

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len + 1);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	memset(r, 0, sizeof(*r));
	if (inet_pton(AF_INET, buf, r->base) == 1) {
		r->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, r->base) == 1) {
		r->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	r->prefix = max;
	if (slash != NULL) {
		char *end;
		unsigned long p;

		if (*slash < '0' || *slash > '9')
			return -1;
		p = strtoul(slash, &end, 10);
		if (*end != '\0' || p > max)
			return -1;
		r->prefix = (unsigned)p;
	}
	return 0;
}

/* ml_ranges_push - append one range */
static void ml_ranges_push(struct ml_ranges *rs, const struct ml_range *r)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 16;
		rs->v = ml_xrealloc(rs->v, rs->cap * sizeof(*rs->v));
	}
	rs->v[rs->n++] = *r;
}

/* ml_domains_push - append one domain (copied) */
static void ml_domains_push(struct ml_domains *ds, const char *d)
{
	if (ds->n == ds->cap) {
		ds->cap = ds->cap ? ds->cap * 2 : 16;
		ds->v = ml_xrealloc(ds->v, ds->cap * sizeof(*ds->v));
	}
	ds->v[ds->n] = strdup(d);
	if (ds->v[ds->n] == NULL)
		ml_die("out of memory");
	ds->n++;
}

/* ml_trim - strip comments and surrounding blanks from a line, in place */
static char *ml_trim(char *line)
{
	char *p, *end;

	if ((p = strchr(line, '#')) != NULL)
		*p = '\0';
	p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return p;
}

/*
 * ml_add_list - an argument that starts with "/" names a file with one
 * entry per line (as the relay-milter configuration does); otherwise it is
 * the entry itself. ranges != NULL: CIDR entries; else domain entries.
 */
static void ml_add_list(const char *opt, const char *arg, struct ml_ranges *ranges,
    struct ml_domains *domains)
{
	struct ml_range r;

	if (arg[0] == '/') {
		FILE *fp = fopen(arg, "r");
		char line[512];
		unsigned lineno = 0;

		if (fp == NULL)
			ml_die("%s: %s: %s", opt, arg, strerror(errno));
		while (fgets(line, sizeof(line), fp) != NULL) {
			char *e = ml_trim(line);

			lineno++;
			if (*e == '\0')
				continue;
			if (ranges != NULL) {
				if (ml_range_parse(e, &r) != 0)
					ml_die("%s:%u: bad network: %s", arg, lineno, e);
				ml_ranges_push(ranges, &r);
			} else {
				/* ".example.com" entries mean subdomains: use a host in it */
				if (e[0] == '.') {
					char host[sizeof(line) + 3];

					snprintf(host, sizeof(host), "mx%s", e);
					ml_domains_push(domains, host);
				} else {
					ml_domains_push(domains, e);
				}
			}
		}
		fclose(fp);
		return;
	}
	if (ranges != NULL) {
		if (ml_range_parse(arg, &r) != 0)
			ml_die("%s: bad network: %s", opt, arg);
		ml_ranges_push(ranges, &r);
	} else {
		if (arg[0] == '\0' || strchr(arg, '@') != NULL || strchr(arg, ' ') != NULL)
			ml_die("%s: bad domain: %s", opt, arg);
		ml_domains_push(domains, arg);
	}
}

/* ml_parse_mix - "local=60,remote=30,auth=10[,trusted=N]" */
static void ml_parse_mix(const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int c;

	if (copy == NULL)
		ml_die("out of memory");
	memset(opts.weights, 0, sizeof(opts.weights));
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (eq == NULL)
			ml_die("-m: want class=weight: %s", tok);
		*eq++ = '\0';
		for (c = 0; c < ML_NCLASS; c++)
			if (strcmp(tok, ml_class_names[c]) == 0)
				break;
		if (c == ML_NCLASS)
			ml_die("-m: unknown class %s (local, remote, auth, trusted)", tok);
		opts.weights[c] = (unsigned)ml_parse_uint("-m", eq, 0, 1000000);
	}
	free(copy);
	opts.wsum = 0;
	for (c = 0; c < ML_NCLASS; c++)
		opts.wsum += opts.weights[c];
	if (opts.wsum == 0)
		ml_die("-m: all weights are zero");
}

/* ml_usage - print the synopsis and exit */
static void __attribute__((noreturn)) ml_usage(void)
{
	fputs(
	    "usage: milterload -s SOCKET [-c CONC] [-d SECONDS | -n TRANSACTIONS] [-r RCPTS]\n"
	    "                  [-m local=60,remote=30,auth=10,trusted=0] [-L DOMAIN|/FILE]...\n"
	    "                  [-R DOMAIN|/FILE]... [-a CIDR|/FILE]... [-t CIDR|/FILE]...\n"
	    "                  [-M reuse|conn] [-x MSGS] [-T TIMEOUT] [-S SEED] [-e] [-k] [-v] [-V] [-P]\n"
	    "  -s  unix:/path, inet:PORT@127.0.0.1 or inet6:PORT@[::1] (loopback only)\n"
	    "  -c  concurrent connections (threads), default 1\n"
	    "  -d  run for SECONDS (default 5), or -n: run exactly TRANSACTIONS\n"
	    "  -r  recipients per message, default 1\n"
	    "  -m  weights of the transaction classes\n"
	    "  -L  local recipient domains; -R remote recipient domains\n"
	    "  -a  untrusted client ranges; -t trusted client ranges (class trusted)\n"
	    "  -M  reuse: many sessions per milter connection (SMFIC_QUIT_NC);\n"
	    "      conn: one milter connection per session, as Postfix does\n"
	    "  -x  messages per SMTP session, default 1\n"
	    "  -e  check verdicts: local/auth/trusted continue or accept, remote 5xx\n"
	    "  -k  also print one key=value line for scripts\n"
	    "  -V  protocol self-check: after QUIT the milter must close with no stray reply\n"
	    "  -P  end each message as the expected verdicts would (remote: ABORT), whatever\n"
	    "      the replies: drives a baseline milter along relay-milter's protocol path\n",
	    stderr);
	exit(2);
}

/* ml_parse_args - fill opts from argv, with defaults */
static void ml_parse_args(int argc, char **argv)
{
	int ch;
	bool have_n = false, have_d = false;

	opts.conc = 1;
	opts.duration = 5;
	opts.rcpts = 1;
	opts.per_session = 1;
	opts.timeout = 10;
	opts.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	ml_parse_mix("local=60,remote=30,auth=10");
	while ((ch = getopt(argc, argv, "s:c:d:n:r:m:L:R:a:t:M:x:T:S:ekvVPh")) != -1) {
		switch (ch) {
		case 's':
			opts.socket = optarg;
			ml_parse_socket(optarg);
			break;
		case 'c':
			opts.conc = (unsigned)ml_parse_uint("-c", optarg, 1, ML_MAXCONC);
			break;
		case 'd': {
			char *end;

			errno = 0;
			opts.duration = strtod(optarg, &end);
			if (errno || *end != '\0' || !(opts.duration > 0) || opts.duration > 86400)
				ml_die("-d: want seconds in (0, 86400]: %s", optarg);
			have_d = true;
			break;
		}
		case 'n':
			opts.ntx = ml_parse_uint("-n", optarg, 1, LONG_MAX);
			have_n = true;
			break;
		case 'r':
			opts.rcpts = (unsigned)ml_parse_uint("-r", optarg, 1, ML_MAXRCPT);
			break;
		case 'm':
			ml_parse_mix(optarg);
			break;
		case 'L':
			ml_add_list("-L", optarg, NULL, &opts.local);
			break;
		case 'R':
			ml_add_list("-R", optarg, NULL, &opts.remote);
			break;
		case 'a':
			ml_add_list("-a", optarg, &opts.untrusted, NULL);
			break;
		case 't':
			ml_add_list("-t", optarg, &opts.trusted, NULL);
			break;
		case 'M':
			if (strcmp(optarg, "reuse") == 0)
				opts.reuse = true;
			else if (strcmp(optarg, "conn") == 0)
				opts.reuse = false;
			else
				ml_die("-M: reuse or conn: %s", optarg);
			break;
		case 'x':
			opts.per_session = (unsigned)ml_parse_uint("-x", optarg, 1, 100000);
			break;
		case 'T':
			opts.timeout = (unsigned)ml_parse_uint("-T", optarg, 1, 3600);
			break;
		case 'S':
			opts.seed = ml_parse_uint("-S", optarg, 0, ULONG_MAX);
			break;
		case 'e':
			opts.expect = true;
			break;
		case 'k':
			opts.keyval = true;
			break;
		case 'v':
			opts.verbose++;
			break;
		case 'V':
			opts.strict = true;
			break;
		case 'P':
			opts.pretend = true;
			break;
		default:
			ml_usage();
		}
	}
	if (optind != argc || opts.socket == NULL)
		ml_usage();
	if (have_n && have_d)
		ml_die("-d and -n exclude each other");
	if (opts.local.n == 0)
		ml_domains_push(&opts.local, "local.example");
	if (opts.remote.n == 0)
		ml_domains_push(&opts.remote, "remote.example");
	if (opts.untrusted.n == 0) {
		struct ml_range r;

		(void)ml_range_parse("192.0.2.0/24", &r);
		ml_ranges_push(&opts.untrusted, &r);
		(void)ml_range_parse("2001:db8::/48", &r);
		ml_ranges_push(&opts.untrusted, &r);
	}
	if (opts.weights[ML_TRUSTED] > 0 && opts.trusted.n == 0)
		ml_die("-m trusted=N needs trusted client ranges (-t)");
}

/* --- the wire: 4-byte big-endian length, command byte, data --- */

/* mc_flush - write everything buffered; 0 or -1 */
static int mc_flush(struct ml_conn *c)
{
	size_t off = 0;

	while (off < c->wlen) {
		ssize_t n = write(c->fd, c->wbuf + off, c->wlen - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)n;
	}
	c->wlen = 0;
	return 0;
}

/* mc_put - buffer one packet; packets are flushed only before a read */
static int mc_put(struct ml_conn *c, char cmd, const void *data, size_t len)
{
	uint32_t nl = htonl((uint32_t)(len + 1));

	if (5 + len > ML_WBUF)
		return -1;
	if (c->wlen + 5 + len > ML_WBUF && mc_flush(c) != 0)
		return -1;
	memcpy(c->wbuf + c->wlen, &nl, 4);
	c->wbuf[c->wlen + 4] = (unsigned char)cmd;
	if (len > 0)
		memcpy(c->wbuf + c->wlen + 5, data, len);
	c->wlen += 5 + len;
	return 0;
}

/* mc_read_full - read exactly len bytes through the read buffer */
static int mc_read_full(struct ml_conn *c, unsigned char *out, size_t len)
{
	while (len > 0) {
		size_t avail = c->rlen - c->rpos, take;

		if (avail == 0) {
			ssize_t n = read(c->fd, c->rbuf, sizeof(c->rbuf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1; /* EOF, error or SO_RCVTIMEO */
			c->rpos = 0;
			c->rlen = (size_t)n;
			avail = c->rlen;
		}
		take = avail < len ? avail : len;
		memcpy(out, c->rbuf + c->rpos, take);
		c->rpos += take;
		out += take;
		len -= take;
	}
	return 0;
}

/* mc_get - flush pending output, then read one packet; data is NUL-terminated */
static int mc_get(struct ml_conn *c, char *cmd, size_t *len)
{
	unsigned char hdr[5];
	uint32_t nl;

	if (c->wlen > 0 && mc_flush(c) != 0)
		return -1;
	if (mc_read_full(c, hdr, 5) != 0)
		return -1;
	memcpy(&nl, hdr, 4);
	nl = ntohl(nl);
	if (nl < 1 || nl > ML_PKT_MAX)
		return -1;
	*cmd = (char)hdr[4];
	*len = nl - 1;
	if (c->pktcap < *len + 1) {
		c->pktcap = *len + 1;
		c->pkt = ml_xrealloc(c->pkt, c->pktcap);
	}
	if (*len > 0 && mc_read_full(c, c->pkt, *len) != 0)
		return -1;
	c->pkt[*len] = '\0';
	return 0;
}

/* mc_close - drop the connection (the symbol lists stay valid only per connection) */
static void mc_close(struct ml_conn *c)
{
	int i;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->wlen = c->rpos = c->rlen = 0;
	for (i = 0; i < ML_NSTAGES; i++) {
		free(c->symlist[i]);
		c->symlist[i] = NULL;
	}
}

/* mc_open - connect to the milter socket with a reply timeout */
static int mc_open(struct ml_conn *c)
{
	struct timeval tv;
	int one = 1;

	c->fd = socket(opts.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	tv.tv_sec = opts.timeout;
	tv.tv_usec = 0;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (opts.family != AF_UNIX)
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&opts.sa, opts.salen) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

/* mc_be32 - read a big-endian 32-bit value */
static uint32_t mc_be32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/*
 * mc_negotiate - SMFIC_OPTNEG: offer version 6, every action and every
 * protocol flag; keep what the milter answers, including the macro lists
 * it asked for with smfi_setsymlist (stage number + NUL-terminated list).
 */
static int mc_negotiate(struct ml_conn *c)
{
	unsigned char out[12];
	uint32_t v;
	char cmd;
	size_t len, off;

	v = htonl(SMFI_PROT_VERSION);
	memcpy(out, &v, 4);
	v = htonl(SMFI_CURR_ACTS);
	memcpy(out + 4, &v, 4);
	v = htonl(SMFI_CURR_PROT);
	memcpy(out + 8, &v, 4);
	if (mc_put(c, SMFIC_OPTNEG, out, sizeof(out)) != 0)
		return -1;
	if (mc_get(c, &cmd, &len) != 0 || cmd != SMFIC_OPTNEG || len < 12)
		return -1;
	c->version = mc_be32(c->pkt);
	c->actions = mc_be32(c->pkt + 4);
	c->pflags = mc_be32(c->pkt + 8);
	if (c->version < 2 || c->version > SMFI_PROT_VERSION)
		return -1;
	/* A milter may only ask for what was offered. */
	if ((c->pflags & ~(uint32_t)(SMFI_CURR_PROT | SMFI_INTERNAL)) != 0 ||
	    (c->actions & ~(uint32_t)SMFI_CURR_ACTS) != 0)
		return -1;
	for (off = 12; off + 4 < len;) {
		uint32_t stage = mc_be32(c->pkt + off);
		const char *list = (const char *)c->pkt + off + 4;
		size_t l = strnlen(list, len - off - 4);

		if (off + 4 + l >= len || stage >= ML_NSTAGES)
			return -1;
		free(c->symlist[stage]);
		c->symlist[stage] = strdup(list);
		off += 4 + l + 1;
	}
	return 0;
}

/* mc_wanted - should macro name go out at this stage (setsymlist honoured)? */
static bool mc_wanted(const struct ml_conn *c, int stage, const char *name)
{
	const char *list = c->symlist[stage], *p;
	size_t nl = strlen(name), bare = nl;
	const char *bname = name;

	if (list == NULL)
		return true;
	if (name[0] == '{') { /* "{x}" and "x" name the same macro */
		bname = name + 1;
		bare = nl - 2;
	}
	for (p = list; *p != '\0';) {
		size_t wl;
		const char *w;

		while (*p == ' ' || *p == ',')
			p++;
		w = p;
		while (*p != '\0' && *p != ' ' && *p != ',')
			p++;
		wl = (size_t)(p - w);
		if (wl == 0)
			continue;
		if (w[0] == '{' && wl > 2 && w[wl - 1] == '}') {
			w++;
			wl -= 2;
		}
		if (wl == bare && strncmp(w, bname, bare) == 0)
			return true;
	}
	return false;
}

/*
 * mc_macros - one SMFIC_MACRO packet for command cmd: pairs of name and
 * value in a NULL-terminated array. Nothing is sent if no macro is wanted.
 */
static int mc_macros(struct ml_conn *c, int stage, char cmd, const char *const *pairs)
{
	unsigned char buf[2048];
	size_t off = 1;
	int i, n = 0;

	buf[0] = (unsigned char)cmd;
	for (i = 0; pairs[i] != NULL; i += 2) {
		size_t a = strlen(pairs[i]) + 1, b = strlen(pairs[i + 1]) + 1;

		if (!mc_wanted(c, stage, pairs[i]))
			continue;
		if (off + a + b > sizeof(buf))
			return -1;
		memcpy(buf + off, pairs[i], a);
		memcpy(buf + off + a, pairs[i + 1], b);
		off += a + b;
		n++;
	}
	if (n == 0)
		return 0;
	return mc_put(c, SMFIC_MACRO, buf, off);
}

/* mc_is_final - final replies end a step; progress and EOM actions precede one */
static bool mc_is_final(char cmd)
{
	switch (cmd) {
	case SMFIR_CONTINUE:
	case SMFIR_ACCEPT:
	case SMFIR_REJECT:
	case SMFIR_TEMPFAIL:
	case SMFIR_REPLYCODE:
	case SMFIR_DISCARD:
	case SMFIR_CONN_FAIL:
	case SMFIR_SHUTDOWN:
	case SMFIR_SKIP:
		return true;
	default:
		return false;
	}
}

/* mc_known_action - replies a milter may send before the final one at EOM */
static bool mc_known_action(char cmd)
{
	switch (cmd) {
	case SMFIR_PROGRESS:
	case SMFIR_ADDRCPT:
	case SMFIR_DELRCPT:
	case SMFIR_ADDRCPT_PAR:
	case SMFIR_REPLBODY:
	case SMFIR_CHGFROM:
	case SMFIR_ADDHEADER:
	case SMFIR_INSHEADER:
	case SMFIR_CHGHEADER:
	case SMFIR_QUARANTINE:
		return true;
	default:
		return false;
	}
}

/*
 * mc_reply - read until a final reply; returns its command byte, or 0 on a
 * transport or protocol error. eom allows modification actions first.
 */
static char mc_reply(struct ml_conn *c, bool eom)
{
	char cmd;
	size_t len;

	for (;;) {
		if (mc_get(c, &cmd, &len) != 0)
			return 0;
		if (mc_is_final(cmd)) {
			if (cmd == SMFIR_REPLYCODE && (len < 4 || c->pkt[len - 1] != '\0'))
				return 0;
			return cmd;
		}
		if (cmd == SMFIR_PROGRESS || (eom && mc_known_action(cmd)))
			continue;
		return 0;
	}
}

/* ml_classify - map a final reply to the counted kind */
static enum ml_reply ml_classify(char cmd, const unsigned char *data)
{
	switch (cmd) {
	case SMFIR_CONTINUE:
		return MR_CONTINUE;
	case SMFIR_ACCEPT:
		return MR_ACCEPT;
	case SMFIR_REJECT:
		return MR_REJECT;
	case SMFIR_TEMPFAIL:
		return MR_TEMPFAIL;
	case SMFIR_DISCARD:
		return MR_DISCARD;
	case SMFIR_REPLYCODE:
		if (data[0] == '5')
			return MR_5XX;
		if (data[0] == '4')
			return MR_4XX;
		return MR_OTHER;
	default:
		return MR_OTHER;
	}
}

/* ml_verdict_ok - does this RCPT outcome match the class's expectation? */
static bool ml_verdict_ok(enum ml_class cls, enum ml_reply r)
{
	if (cls == ML_REMOTE)
		return r == MR_5XX || r == MR_REJECT;
	return r == MR_CONTINUE || r == MR_ACCEPT || r == MR_NOREPLY;
}

/* --- one worker: sessions, messages, statistics --- */

/* ml_lat_push - keep one RCPT latency sample */
static void ml_lat_push(struct ml_stats *st, uint64_t ns)
{
	if (st->nlat == st->latcap) {
		st->latcap = st->latcap ? st->latcap * 2 : 65536;
		st->lat = ml_xrealloc(st->lat, st->latcap * sizeof(*st->lat));
	}
	st->lat[st->nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* ml_claim - may this worker start another transaction? */
static bool ml_claim(void)
{
	if (opts.ntx > 0)
		return atomic_fetch_sub(&ml_remaining, 1) > 0;
	return ml_now() <
	    (uint64_t)ml_deadline.tv_sec * 1000000000u + (uint64_t)ml_deadline.tv_nsec;
}

/* ml_pick_class - draw a transaction class by weight */
static enum ml_class ml_pick_class(struct ml_worker *w)
{
	unsigned x = (unsigned)(ml_rand(&w->rng) % opts.wsum);
	int c;

	for (c = 0; c < ML_NCLASS - 1; c++) {
		if (x < opts.weights[c])
			return (enum ml_class)c;
		x -= opts.weights[c];
	}
	return (enum ml_class)c;
}

/* ml_pick_addr - random address inside a random range; text into buf */
static int ml_pick_addr(struct ml_worker *w, const struct ml_ranges *rs, char *buf, size_t len)
{
	const struct ml_range *r = &rs->v[ml_rand(&w->rng) % rs->n];
	uint8_t a[16];
	unsigned bytes = r->family == AF_INET ? 4 : 16, i;

	for (i = 0; i < bytes; i++) {
		unsigned bit0 = i * 8;
		uint8_t rnd = (uint8_t)ml_rand(&w->rng), mask;

		if (bit0 + 8 <= r->prefix)
			mask = 0xff;
		else if (bit0 >= r->prefix)
			mask = 0;
		else
			mask = (uint8_t)(0xff << (8 - (r->prefix - bit0)));
		a[i] = (uint8_t)((r->base[i] & mask) | (rnd & (uint8_t)~mask));
	}
	if (inet_ntop(r->family, a, buf, (socklen_t)len) == NULL)
		return -1;
	return r->family == AF_INET ? SMFIA_INET : SMFIA_INET6;
}

/*
 * ml_step - send a command (after its macros) and, unless the milter said it
 * never replies to it, wait for the reply. Returns the reply, 'n' for none,
 * 0 on error.
 */
static char ml_step(struct ml_conn *c, char cmd, const void *data, size_t len, uint32_t nr_flag)
{
	if (mc_put(c, cmd, data, len) != 0)
		return 0;
	if (c->pflags & nr_flag)
		return 'n';
	return mc_reply(c, false);
}

/* ml_fail - count an error and drop the connection */
static int ml_fail(struct ml_worker *w, const char *what)
{
	w->st.errors++;
	if (opts.verbose)
		fprintf(stderr, "milterload: worker %u: %s failed\n", w->id, what);
	mc_close(&w->conn);
	w->connected = false;
	return -1;
}

/*
 * ml_message - one transaction: MAIL, RCPTs, then DATA..EOM if a recipient
 * was accepted, else ABORT. Returns 1 when the message ended normally, 0
 * when the session must end (the milter is done with it), -1 on error.
 */
static int ml_message(struct ml_worker *w, enum ml_class cls, const char *addr)
{
	struct ml_conn *c = &w->conn;
	char mailaddr[300], rcpt[330], rcptaddr[320], qid[32], login[32], hdr[64];
	const char *dom;
	bool remote = cls != ML_LOCAL, done = false;
	unsigned i, accepted = 0;
	char r;

	(void)addr;
	w->serial++;
	snprintf(qid, sizeof(qid), "%X%06lX", w->id, w->serial & 0xffffff);
	w->qnc_ok = false;

	/* MAIL FROM, with the login of authenticated sessions */
	if (!(c->pflags & SMFIP_NOMAIL)) {
		const char *mac_auth[] = {"i", qid, "{auth_authen}", login, "{mail_addr}", mailaddr,
		    NULL};
		const char *mac_noauth[] = {"i", qid, "{mail_addr}", mailaddr, NULL};
		char args[400];
		size_t al;

		snprintf(login, sizeof(login), "user%lu",
		    (unsigned long)(ml_rand(&w->rng) % 100000));
		dom = cls == ML_AUTH ? opts.local.v[ml_rand(&w->rng) % opts.local.n] :
				       opts.remote.v[ml_rand(&w->rng) % opts.remote.n];
		snprintf(mailaddr, sizeof(mailaddr), "sender%lu@%s",
		    (unsigned long)(ml_rand(&w->rng) % 1000), dom);
		/* argv[0] is the path, then ESMTP parameters, each NUL-terminated */
		al = (size_t)snprintf(args, sizeof(args), "<%s>", mailaddr) + 1;
		memcpy(args + al, "SIZE=1024", 10);
		al += 10;
		if (mc_macros(c, SMFIM_ENVFROM, SMFIC_MAIL,
			cls == ML_AUTH ? mac_auth : mac_noauth) != 0)
			return ml_fail(w, "MAIL macros");
		r = ml_step(c, SMFIC_MAIL, args, al, SMFIP_NR_MAIL);
		if (r == 0)
			return ml_fail(w, "MAIL");
		if (r != SMFIR_CONTINUE && r != 'n') {
			w->st.stage_other++;
			/* The milter ended this message; an MTA would not go on. */
			for (i = 0; i < opts.rcpts; i++) {
				w->st.replies[MR_SKIPPED]++;
				if (opts.expect && cls == ML_REMOTE && r == SMFIR_ACCEPT) {
					w->st.wrong++;
					w->st.wrong_class[cls]++;
				}
			}
			w->st.tx++;
			w->st.rcpts += opts.rcpts;
			if (r == SMFIR_CONN_FAIL || r == SMFIR_SHUTDOWN)
				return 0;
			return 1;
		}
	}

	/* RCPT TO, one at a time, each judged on its own */
	for (i = 0; i < opts.rcpts; i++) {
		enum ml_reply kind;
		uint64_t t0;

		if (done || (c->pflags & SMFIP_NORCPT)) {
			w->st.replies[done ? MR_SKIPPED : MR_NOREPLY]++;
			if (done && opts.expect && cls == ML_REMOTE) {
				w->st.wrong++;
				w->st.wrong_class[cls]++;
			}
			accepted++;
			continue;
		}
		dom = remote ? opts.remote.v[ml_rand(&w->rng) % opts.remote.n] :
			       opts.local.v[ml_rand(&w->rng) % opts.local.n];
		snprintf(rcptaddr, sizeof(rcptaddr), "rcpt%lu@%s",
		    (unsigned long)(ml_rand(&w->rng) % 100000), dom);
		snprintf(rcpt, sizeof(rcpt), "<%s>", rcptaddr);
		{
			const char *mac[] = {"{rcpt_addr}", rcptaddr, "{rcpt_mailer}",
			    remote ? "smtp" : "local", NULL};

			if (mc_macros(c, SMFIM_ENVRCPT, SMFIC_RCPT, mac) != 0)
				return ml_fail(w, "RCPT macros");
		}
		t0 = ml_now();
		r = ml_step(c, SMFIC_RCPT, rcpt, strlen(rcpt) + 1, SMFIP_NR_RCPT);
		if (r == 0)
			return ml_fail(w, "RCPT");
		if (r == 'n') {
			kind = MR_NOREPLY;
		} else {
			ml_lat_push(&w->st, ml_now() - t0);
			kind = ml_classify(r, c->pkt);
		}
		w->st.replies[kind]++;
		if (opts.expect && !ml_verdict_ok(cls, kind)) {
			w->st.wrong++;
			w->st.wrong_class[cls]++;
			if (opts.verbose > 1)
				fprintf(stderr,
				    "milterload: wrong verdict class=%s client=%s rcpt=%s reply=%s %s\n",
				    ml_class_names[cls], addr, rcptaddr, ml_reply_names[kind],
				    r == SMFIR_REPLYCODE ? (const char *)c->pkt : "");
		}
		/* -P: a baseline milter that decides nothing is driven along the
		 * path the expected verdicts would take (ABORT for a refused
		 * message), so both milters see the same round trips */
		if (opts.pretend)
			kind = cls == ML_REMOTE ? MR_5XX : MR_CONTINUE;
		if (kind == MR_CONTINUE || kind == MR_NOREPLY || kind == MR_ACCEPT)
			accepted++;
		/* accept/discard end the milter's part of this message: the MTA
		 * sends it no more recipients (so later ones go unjudged) */
		if (kind == MR_ACCEPT || kind == MR_DISCARD)
			done = true;
		if (r == SMFIR_CONN_FAIL || r == SMFIR_SHUTDOWN) {
			w->st.tx++;
			w->st.rcpts += i + 1;
			return 0;
		}
	}
	w->st.tx++;
	w->st.rcpts += opts.rcpts;
	if (done)
		return 1; /* libmilter is back in HELO state: QUIT_NC would be ignored */

	if (accepted == 0) {
		/* No recipient left: the client will RSET or QUIT, the MTA aborts. */
		if (mc_put(c, SMFIC_ABORT, NULL, 0) != 0)
			return ml_fail(w, "ABORT");
		/* libmilter goes ABRT -> (skipped UNKNOWN) -> QUIT_NC only when
		 * the milter asked for no unknown commands. */
		w->qnc_ok = (c->pflags & SMFIP_NOUNKNOWN) != 0;
		return 1;
	}

	/* DATA, headers, end of headers, body, end of message */
	if (!(c->pflags & SMFIP_NODATA)) {
		r = ml_step(c, SMFIC_DATA, NULL, 0, SMFIP_NR_DATA);
		if (r == 0)
			return ml_fail(w, "DATA");
		if (r != SMFIR_CONTINUE && r != 'n') {
			w->st.stage_other++;
			return 1;
		}
	}
	if (!(c->pflags & SMFIP_NOHDRS)) {
		static const char hname[] = "Subject";

		snprintf(hdr, sizeof(hdr), "%s%c benchmark %s", hname, '\0', qid);
		r = ml_step(c, SMFIC_HEADER, hdr, sizeof(hname) + strlen(hdr + sizeof(hname)) + 1,
		    SMFIP_NR_HDR);
		if (r == 0)
			return ml_fail(w, "HEADER");
		if (r != SMFIR_CONTINUE && r != 'n') {
			w->st.stage_other++;
			return 1;
		}
	}
	if (!(c->pflags & SMFIP_NOEOH)) {
		r = ml_step(c, SMFIC_EOH, NULL, 0, SMFIP_NR_EOH);
		if (r == 0)
			return ml_fail(w, "EOH");
		if (r != SMFIR_CONTINUE && r != 'n') {
			w->st.stage_other++;
			return 1;
		}
	}
	if (!(c->pflags & SMFIP_NOBODY)) {
		static const char body[] = "Benchmark body.\r\n";

		r = ml_step(c, SMFIC_BODY, body, sizeof(body) - 1, SMFIP_NR_BODY);
		if (r == 0)
			return ml_fail(w, "BODY");
		if (r != SMFIR_CONTINUE && r != SMFIR_SKIP && r != 'n') {
			w->st.stage_other++;
			return 1;
		}
	}
	if (mc_put(c, SMFIC_BODYEOB, NULL, 0) != 0)
		return ml_fail(w, "EOB");
	r = mc_reply(c, true);
	if (r == 0)
		return ml_fail(w, "EOB");
	if (r != SMFIR_CONTINUE && r != SMFIR_ACCEPT)
		w->st.stage_other++;
	if (r == SMFIR_CONN_FAIL || r == SMFIR_SHUTDOWN)
		return 0;
	/* libmilter stays in ENDM only after "continue" */
	w->qnc_ok = r == SMFIR_CONTINUE;
	return 1;
}

/*
 * ml_drain - after QUIT the milter must close without another word: any
 * byte left means the client and the milter disagreed about which steps
 * get replies (-V, a protocol self-check; it costs a wait for the close).
 */
static int ml_drain(struct ml_conn *c)
{
	unsigned char b;

	if (c->rpos != c->rlen)
		return -1;
	return read(c->fd, &b, 1) == 0 ? 0 : -1;
}

/*
 * ml_session - one SMTP session: (re)connect and negotiate if needed,
 * CONNECT and HELO, per_session messages, then QUIT or QUIT_NC.
 */
static void ml_session(struct ml_worker *w)
{
	struct ml_conn *c = &w->conn;
	enum ml_class cls = ml_pick_class(w);
	char addr[INET6_ADDRSTRLEN], host[96], info[700], helo[96];
	unsigned m;
	int fam, rc = 1;
	char r;

	if (!w->connected) {
		if (mc_open(c) != 0) {
			ml_fail(w, "connect");
			usleep(10000); /* the milter is down or its backlog full */
			return;
		}
		w->st.connects++;
		if (mc_negotiate(c) != 0) {
			ml_fail(w, "OPTNEG");
			return;
		}
		w->connected = true;
	}
	w->st.sessions++;
	fam = ml_pick_addr(w, cls == ML_TRUSTED ? &opts.trusted : &opts.untrusted, addr,
	    sizeof(addr));
	if (fam < 0) {
		ml_fail(w, "address");
		return;
	}
	snprintf(host, sizeof(host), "client%lu.%s", (unsigned long)(ml_rand(&w->rng) % 100000),
	    opts.remote.v[0]);
	snprintf(helo, sizeof(helo), "%s", host);

	if (!(c->pflags & SMFIP_NOCONNECT)) {
		char underscore[200];
		const char *mac[] = {"j", "mx.bench.example", "_", underscore, "{daemon_addr}",
		    "198.51.100.25", "{daemon_name}", "bench-smtpd", NULL};
		size_t hl = strlen(host) + 1, al = strlen(addr) + 1;
		uint16_t port = htons((uint16_t)(1024 + ml_rand(&w->rng) % 60000));

		snprintf(underscore, sizeof(underscore), "%s [%s]", host, addr);
		if (mc_macros(c, SMFIM_CONNECT, SMFIC_CONNECT, mac) != 0)
			goto fail;
		memcpy(info, host, hl);
		info[hl] = (char)fam;
		memcpy(info + hl + 1, &port, 2);
		memcpy(info + hl + 3, addr, al);
		r = ml_step(c, SMFIC_CONNECT, info, hl + 3 + al, SMFIP_NR_CONN);
		if (r == 0)
			goto fail;
		if (r != SMFIR_CONTINUE && r != 'n') {
			w->st.stage_other++;
			rc = 0;
		}
	}
	if (rc == 1 && !(c->pflags & SMFIP_NOHELO)) {
		r = ml_step(c, SMFIC_HELO, helo, strlen(helo) + 1, SMFIP_NR_HELO);
		if (r == 0)
			goto fail;
		if (r != SMFIR_CONTINUE && r != 'n') {
			w->st.stage_other++;
			rc = 0;
		}
	}
	w->qnc_ok = false;
	for (m = 0; rc == 1 && m < opts.per_session; m++) {
		if (m > 0 && !ml_claim())
			break;
		rc = ml_message(w, cls, addr);
		if (rc < 0)
			return;
	}
	if (rc == 0 && m == 0) {
		/* connect/helo refused: still one transaction the client tried */
		w->st.tx++;
		w->st.rcpts += opts.rcpts;
		w->st.replies[MR_SKIPPED] += opts.rcpts;
	}
	if (opts.reuse && rc == 1 && w->qnc_ok) {
		if (mc_put(c, SMFIC_QUIT_NC, NULL, 0) != 0)
			goto fail;
		return; /* flushed with the next session's first packets */
	}
	if (opts.reuse && rc == 1 && !w->qnc_ok) {
		w->st.reconnects++;
		if (!(c->pflags & SMFIP_NOUNKNOWN) && atomic_exchange(&ml_warned_qnc, 1) == 0)
			fprintf(stderr,
			    "milterload: milter did not negotiate SMFIP_NOUNKNOWN: "
			    "libmilter ignores QUIT_NC after ABORT, reconnecting instead\n");
	}
	if (mc_put(c, SMFIC_QUIT, NULL, 0) != 0 || mc_flush(c) != 0)
		goto fail;
	if (opts.strict && ml_drain(c) != 0)
		goto fail;
	mc_close(c);
	w->connected = false;
	return;
fail:
	ml_fail(w, "session");
}

/* ml_worker_main - run sessions until the budget or the clock runs out */
static void *ml_worker_main(void *arg)
{
	struct ml_worker *w = arg;

	w->conn.fd = -1;
	while (ml_claim())
		ml_session(w);
	if (w->connected) {
		if (mc_put(&w->conn, SMFIC_QUIT, NULL, 0) != 0 || mc_flush(&w->conn) != 0 ||
		    (opts.strict && ml_drain(&w->conn) != 0))
			ml_fail(w, "QUIT");
		mc_close(&w->conn);
	}
	free(w->conn.pkt);
	return NULL;
}

/* ml_cmp_u32 - qsort comparator */
static int ml_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* ml_pct - percentile (0..100) of sorted samples, in microseconds */
static double ml_pct(const uint32_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i] / 1000.0;
}

/* ml_report - merge the workers' counters and print them */
static int ml_report(struct ml_worker *ws, double elapsed)
{
	struct ml_stats t;
	unsigned i, k;
	size_t off = 0;
	double p50, p99;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < opts.conc; i++)
		t.nlat += ws[i].st.nlat;
	t.lat = ml_xrealloc(NULL, t.nlat * sizeof(*t.lat));
	for (i = 0; i < opts.conc; i++) {
		struct ml_stats *s = &ws[i].st;

		t.tx += s->tx;
		t.rcpts += s->rcpts;
		t.sessions += s->sessions;
		t.connects += s->connects;
		t.reconnects += s->reconnects;
		t.stage_other += s->stage_other;
		t.errors += s->errors;
		t.wrong += s->wrong;
		for (k = 0; k < MR_NKIND; k++)
			t.replies[k] += s->replies[k];
		for (k = 0; k < ML_NCLASS; k++)
			t.wrong_class[k] += s->wrong_class[k];
		if (s->nlat > 0)
			memcpy(t.lat + off, s->lat, s->nlat * sizeof(*s->lat));
		off += s->nlat;
		free(s->lat);
	}
	qsort(t.lat, t.nlat, sizeof(*t.lat), ml_cmp_u32);
	p50 = ml_pct(t.lat, t.nlat, 50);
	p99 = ml_pct(t.lat, t.nlat, 99);

	printf("milterload: %s mode, %u connection%s, %.2f s, %u rcpt/msg\n",
	    opts.reuse ? "reuse" : "conn", opts.conc, opts.conc == 1 ? "" : "s", elapsed,
	    opts.rcpts);
	printf("  transactions %" PRIu64 " (%.1f/s), recipients %" PRIu64 " (%.1f/s)\n", t.tx,
	    t.tx / elapsed, t.rcpts, t.rcpts / elapsed);
	printf("  sessions %" PRIu64 ", milter connections %" PRIu64 ", reconnects %" PRIu64 "\n",
	    t.sessions, t.connects, t.reconnects);
	printf("  RCPT latency p50 %.1f us, p99 %.1f us (%zu samples)\n", p50, p99, t.nlat);
	printf("  RCPT replies:");
	for (k = 0; k < MR_NKIND; k++)
		printf(" %s=%" PRIu64, ml_reply_names[k], t.replies[k]);
	printf("\n  other non-continue replies %" PRIu64 ", errors %" PRIu64, t.stage_other,
	    t.errors);
	if (opts.expect) {
		printf(", wrong verdicts %" PRIu64 " (", t.wrong);
		for (k = 0; k < ML_NCLASS; k++)
			printf("%s%s=%" PRIu64, k ? " " : "", ml_class_names[k], t.wrong_class[k]);
		printf(")");
	}
	printf("\n");
	if (opts.keyval) {
		printf("milterload: mode=%s conc=%u elapsed=%.3f tx=%" PRIu64
		       " tps=%.1f rcpts=%" PRIu64 " rps=%.1f p50_us=%.1f p99_us=%.1f",
		    opts.reuse ? "reuse" : "conn", opts.conc, elapsed, t.tx, t.tx / elapsed,
		    t.rcpts, t.rcpts / elapsed, p50, p99);
		for (k = 0; k < MR_NKIND; k++)
			printf(" %s=%" PRIu64, ml_reply_names[k], t.replies[k]);
		printf(" stage_other=%" PRIu64 " errors=%" PRIu64 " wrong=%" PRIu64
		       " connects=%" PRIu64 " reconnects=%" PRIu64 "\n",
		    t.stage_other, t.errors, t.wrong, t.connects, t.reconnects);
	}
	fflush(stdout);
	free(t.lat);
	return t.errors > 0 || (opts.expect && t.wrong > 0) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct ml_worker *ws;
	uint64_t t0, t1;
	unsigned i;
	int rc;

	ml_parse_args(argc, argv);
	ws = calloc(opts.conc, sizeof(*ws));
	if (ws == NULL)
		ml_die("out of memory");
	atomic_store(&ml_remaining, (long)opts.ntx);
	clock_gettime(CLOCK_MONOTONIC, &ml_deadline);
	ml_deadline.tv_sec += (time_t)opts.duration;
	ml_deadline.tv_nsec += (long)((opts.duration - (double)(time_t)opts.duration) * 1e9);
	if (ml_deadline.tv_nsec >= 1000000000L) {
		ml_deadline.tv_sec++;
		ml_deadline.tv_nsec -= 1000000000L;
	}
	t0 = ml_now();
	for (i = 0; i < opts.conc; i++) {
		ws[i].id = i;
		ws[i].rng = opts.seed + 0x9E3779B97F4A7C15ULL * (i + 1);
		if (ws[i].rng == 0)
			ws[i].rng = 1;
		if (pthread_create(&ws[i].tid, NULL, ml_worker_main, &ws[i]) != 0)
			ml_die("pthread_create: %s", strerror(errno));
	}
	for (i = 0; i < opts.conc; i++)
		pthread_join(ws[i].tid, NULL);
	t1 = ml_now();
	rc = ml_report(ws, (double)(t1 - t0) / 1e9);
	free(ws);
	return rc;
}
