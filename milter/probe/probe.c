/* probe.c - relay-probe: prove that an SMTP server is not an open relay */

/*
 * relay-probe [options] HOST[:PORT]
 *
 * Connects, greets, and runs a battery of relay tests (MAIL FROM, RCPT TO,
 * RSET; never DATA). Exit 0: nothing was accepted. Exit 1: the server
 * accepted at least one relay recipient. Exit 2: the audit could not be
 * completed (connect failure, protocol error, timeout, 421).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "domain.h"
#include "hostport.h"
#include "json.h"
#include "probe_smtp.h"
#include "probe_tests.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#define PROBE_EXIT_CLEAN 0
#define PROBE_EXIT_RELAY 1
#define PROBE_EXIT_ERROR 2

#define PROBE_USER           "relay-probe"
#define PROBE_REMOTE_LITERAL "[192.0.2.1]" /* RFC 5737 TEST-NET-1 */

/* Command-line options. */
struct probe_opts {
	const char *remote;
	const char *local;
	const char *from;
	const char *helo;
	const char *xclient;
	int timeout;
	int batch; /* tests per connection */
	bool json;
	bool starttls;
	bool require_tls;
	bool verbose;
	char host[PROBE_HOST_MAX];
	char port[8];
};

/* Everything one run learns and decides. */
struct probe_run {
	struct probe_opts opt;
	struct probe_smtp smtp;
	char banner[PROBE_TEXT_MAX];
	char hostname[PROBE_HOST_MAX];
	char local[PROBE_HOST_MAX];
	char literal[80];
	bool esmtp;
	bool starttls_offered;
	bool xclient_done;
	char tls[32]; /* negotiated TLS version, or "" */
	struct probe_case cases[PROBE_MAX_TESTS];
	struct probe_result results[PROBE_MAX_TESTS];
	size_t ncases;
	size_t nrun;
	unsigned sessions;         /* connections opened */
	char error[PROBE_ERR_MAX]; /* why the audit failed, or "" */
};

/* usage - print the synopsis and exit */
static void usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: relay-probe [options] HOST[:PORT]\n"
	    "       HOST may be a name, an IPv4 address or [IPv6]:PORT;"
	    " the port defaults to 25\n"
	    "  -r, --remote-domain DOMAIN  remote domain (default "
	    "example.net)\n"
	    "  -l, --local-domain DOMAIN   the server's domain (default: "
	    "learned from the greeting)\n"
	    "  -f, --from ADDRESS          MAIL FROM for the recipient tests\n"
	    "  -H, --helo NAME             EHLO name (default "
	    "relay-probe.invalid)\n"
	    "  -t, --timeout SECONDS       connect and reply timeout "
	    "(default 30)\n"
	    "  -b, --batch N               tests per connection "
	    "(default 8)\n"
	    "      --json                  one JSON document on stdout\n"
	    "      --starttls              use STARTTLS when offered\n"
	    "      --require-tls           fail unless STARTTLS succeeds\n"
	    "      --xclient ATTR=VALUE,...  send XCLIENT (Postfix) before "
	    "the tests\n"
	    "  -v, --verbose               dump the SMTP dialogue to stderr\n"
	    "  -h, --help                  this help\n"
	    "  -V, --version               print the version\n"
	    "Exit status: 0 nothing accepted, 1 the server relays, "
	    "2 error.\n");
	exit(status);
}

/* die_usage - complain about the command line and exit 2 */
__attribute__((format(printf, 1, 2), noreturn)) static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("relay-probe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'relay-probe --help'.\n", stderr);
	exit(PROBE_EXIT_ERROR);
}

/* valid_domain - a plain ASCII domain name, one trailing dot allowed */
static bool valid_domain(const char *d)
{
	return domain_valid(d, strlen(d));
}

/* valid_token - printable ASCII without spaces or angle brackets */
static bool valid_token(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n > max)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
			return false;
	}
	return true;
}

/* parse_target - HOST, HOST:PORT, [V6] or [V6]:PORT; a bare V6 has no port */
static bool parse_target(const char *arg, struct probe_opts *o)
{
	struct hostport hp;
	const char *why;

	if (hostport_parse(arg, HOSTPORT_PORT_OPTIONAL, &hp, &why) < 0 ||
	    strlen(hp.host) >= sizeof(o->host))
		return false;
	memcpy(o->host, hp.host, strlen(hp.host) + 1);
	snprintf(o->port, sizeof(o->port), "%u", hp.has_port ? hp.port : 25);
	return true;
}

/* parse_number - strict decimal 1..max, or exit with a usage error */
static int parse_number(const char *s, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		die_usage("bad %s \"%s\" (1..%ld)", what, s, max);
	return (int)v;
}

/* parse_opts - command line into o; exits on errors */
static void parse_opts(int argc, char **argv, struct probe_opts *o)
{
	enum {
		OPT_JSON = 256,
		OPT_STARTTLS,
		OPT_REQUIRE_TLS,
		OPT_XCLIENT
	};
	static const struct option longopts[] = {{"remote-domain", required_argument, NULL, 'r'},
	    {"local-domain", required_argument, NULL, 'l'}, {"from", required_argument, NULL, 'f'},
	    {"helo", required_argument, NULL, 'H'}, {"timeout", required_argument, NULL, 't'},
	    {"batch", required_argument, NULL, 'b'}, {"json", no_argument, NULL, OPT_JSON},
	    {"starttls", no_argument, NULL, OPT_STARTTLS},
	    {"require-tls", no_argument, NULL, OPT_REQUIRE_TLS},
	    {"xclient", required_argument, NULL, OPT_XCLIENT}, {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0}};
	char why[PROBE_ERR_MAX];
	int c;

	memset(o, 0, sizeof(*o));
	o->remote = "example.net";
	o->helo = "relay-probe.invalid";
	o->timeout = 30;
	o->batch = 8;
	while ((c = getopt_long(argc, argv, "r:l:f:H:t:b:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->remote = optarg;
			break;
		case 'l':
			o->local = optarg;
			break;
		case 'f':
			o->from = optarg;
			break;
		case 'H':
			o->helo = optarg;
			break;
		case 't':
			o->timeout = parse_number(optarg, 3600, "timeout");
			break;
		case 'b':
			o->batch = parse_number(optarg, PROBE_MAX_TESTS, "batch size");
			break;
		case 'v':
			o->verbose = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_STARTTLS:
			o->starttls = true;
			break;
		case OPT_REQUIRE_TLS:
			o->starttls = o->require_tls = true;
			break;
		case OPT_XCLIENT:
			o->xclient = optarg;
			break;
		case 'h':
			usage(stdout, PROBE_EXIT_CLEAN);
			break;
		case 'V':
			printf("relay-probe %s\n", PACKAGE_VERSION);
			exit(PROBE_EXIT_CLEAN);
		default:
			usage(stderr, PROBE_EXIT_ERROR);
		}
	}
	if (optind != argc - 1)
		die_usage("expected exactly one HOST[:PORT] argument");
	if (!parse_target(argv[optind], o))
		die_usage("bad target \"%s\" (HOST, HOST:PORT or [IPv6]:PORT)", argv[optind]);
	if (!valid_domain(o->remote))
		die_usage("bad remote domain \"%s\"", o->remote);
	if (o->local != NULL && !valid_domain(o->local))
		die_usage("bad local domain \"%s\"", o->local);
	if (o->from != NULL && !valid_token(o->from, 256))
		die_usage("bad sender \"%s\" (no spaces or angle brackets; "
			  "\"\" is the null sender)",
		    o->from);
	if (*o->helo == '\0' || !valid_token(o->helo, 255))
		die_usage("bad HELO name \"%s\"", o->helo);
	if (o->xclient != NULL && probe_smtp_xclient_check(o->xclient, why, sizeof(why)) != 0)
		die_usage("%s", why);
}

/*
 * learn_hostname - first word of a greeting, if it is a dotted domain name.
 * A dot is required: "220 ESMTP ready" must not make "esmtp" the domain.
 */
static bool learn_hostname(const char *text, char *out, size_t len)
{
	size_t n = strcspn(text, " \n"), i;

	out[0] = '\0';
	if (n == 0 || n >= len)
		return false;
	memcpy(out, text, n);
	out[n] = '\0';
	if (n > 1 && out[n - 1] == '.')
		out[--n] = '\0';
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	if (strchr(out, '.') != NULL && valid_domain(out))
		return true;
	out[0] = '\0';
	return false;
}

/* derive_local - a host name's domain: drop the first label of a.b.c */
static void derive_local(const char *host, char *out, size_t len)
{
	const char *dot = strchr(host, '.');

	/* mx.example.org -> example.org; example.org and localhost stay. */
	if (dot != NULL && strchr(dot + 1, '.') != NULL)
		snprintf(out, len, "%s", dot + 1);
	else
		snprintf(out, len, "%s", host);
}

/* make_literal - the server's address as an RFC 5321 domain literal */
static void make_literal(const struct probe_smtp *s, char *out, size_t len)
{
	const char *a = s->peer_addr;

	if (s->peer_family == AF_INET6 && strncasecmp(a, "::ffff:", 7) == 0 &&
	    strchr(a + 7, ':') == NULL)
		snprintf(out, len, "[%s]", a + 7);
	else if (s->peer_family == AF_INET6)
		snprintf(out, len, "[IPv6:%s]", a);
	else
		snprintf(out, len, "[%s]", a);
}

/* fail_run - record why the audit failed; always -1 */
__attribute__((format(printf, 2, 3))) static int fail_run(struct probe_run *run, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run->error, sizeof(run->error), fmt, ap);
	va_end(ap);
	return -1;
}

/* expect - check a step's status and reply code class */
static int expect(struct probe_run *run, enum probe_status st, const struct probe_reply *r,
    int code, const char *what)
{
	char one[PROBE_TEXT_MAX];

	if (st != PROBE_SMTP_OK)
		return fail_run(run, "%s: %s: %s", what, probe_smtp_strerror(st), run->smtp.err);
	if (r->code / 100 != code / 100)
		return fail_run(run, "%s refused: %d %s", what, r->code,
		    probe_smtp_oneline(r, one, sizeof(one)));
	return 0;
}

/* greet - EHLO/HELO and insist on a 2xx */
static int greet(struct probe_run *run, struct probe_reply *r)
{
	enum probe_status st = probe_smtp_ehlo(&run->smtp, run->opt.helo, r);

	if (expect(run, st, r, 250, "EHLO/HELO") != 0)
		return -1;
	run->esmtp = (run->smtp.caps & PROBE_CAP_ESMTP) != 0;
	return 0;
}

/* session_open - connect, banner, EHLO, STARTTLS, XCLIENT */
static int session_open(struct probe_run *run)
{
	struct probe_opts *o = &run->opt;
	struct probe_smtp *s = &run->smtp;
	struct probe_reply r;
	enum probe_status st;

	st = probe_smtp_connect(s, o->host, o->port);
	if (st != PROBE_SMTP_OK)
		return fail_run(run, "%s port %s: %s", o->host, o->port, s->err);
	make_literal(s, run->literal, sizeof(run->literal));
	st = probe_smtp_read_reply(s, &r);
	if (expect(run, st, &r, 220, "greeting") != 0)
		return -1;
	/* Later batches reconnect; what we learn comes from the first. */
	if (run->sessions++ == 0) {
		probe_smtp_oneline(&r, run->banner, sizeof(run->banner));
		(void)learn_hostname(r.text, run->hostname, sizeof(run->hostname));
	}
	if (greet(run, &r) != 0)
		return -1;
	if (run->hostname[0] == '\0')
		(void)learn_hostname(r.text, run->hostname, sizeof(run->hostname));
	run->starttls_offered = (s->caps & PROBE_CAP_STARTTLS) != 0;
	if (o->starttls && run->starttls_offered) {
		st = probe_smtp_starttls(s, o->host, &r);
		if (expect(run, st, &r, 220, "STARTTLS") != 0)
			return -1;
		snprintf(run->tls, sizeof(run->tls), "%s", probe_smtp_tls_version(s));
		if (greet(run, &r) != 0)
			return -1;
	} else if (o->require_tls)
		return fail_run(run, "server does not offer STARTTLS");
	if (o->xclient != NULL) {
		st = probe_smtp_xclient(s, o->xclient, &r);
		if (expect(run, st, &r, 220, "XCLIENT") != 0)
			return -1;
		run->xclient_done = true;
		if (greet(run, &r) != 0)
			return -1;
	}
	return 0;
}

/* choose_domains - local domain and host name from options or greeting */
static int choose_domains(struct probe_run *run)
{
	if (run->opt.local != NULL)
		snprintf(run->local, sizeof(run->local), "%s", run->opt.local);
	else if (run->hostname[0] != '\0')
		derive_local(run->hostname, run->local, sizeof(run->local));
	else
		return fail_run(run,
		    "cannot learn the server's domain from "
		    "its greeting; give it with -l");
	if (run->hostname[0] == '\0')
		snprintf(run->hostname, sizeof(run->hostname), "%s", run->local);
	return 0;
}

/* print_result_text - one line for one test */
static void print_result_text(const struct probe_case *tc, const struct probe_result *res)
{
	char one[PROBE_TEXT_MAX];

	printf("%-20s %-8s MAIL FROM:<%s> RCPT TO:<%s> => ", tc->name,
	    probe_verdict_name(res->verdict, tc->kind), tc->from, tc->rcpt);
	if (res->reply.code != 0)
		printf("%s %d %s\n", res->stage, res->reply.code,
		    probe_smtp_oneline(&res->reply, one, sizeof(one)));
	else
		printf("%s %s\n", res->stage, res->error);
	fflush(stdout);
}

/* quit - polite QUIT; its outcome changes nothing */
static void quit(struct probe_run *run)
{
	struct probe_reply r;

	if (run->smtp.fd >= 0)
		(void)probe_smtp_command(&run->smtp, &r, "QUIT");
}

/* build_battery - expand the tests for this server */
static void build_battery(struct probe_run *run)
{
	struct probe_params p;

	memset(&p, 0, sizeof(p));
	p.user = PROBE_USER;
	p.remote = run->opt.remote;
	p.local = run->local;
	p.host = run->hostname;
	p.literal = run->literal;
	p.remote_literal = PROBE_REMOTE_LITERAL;
	p.from = run->opt.from;
	run->ncases = probe_tests_build(&p, run->cases, PROBE_MAX_TESTS);
}

/* reconnect - QUIT and open a fresh session for the next batch */
static int reconnect(struct probe_run *run)
{
	quit(run);
	probe_smtp_close(&run->smtp);
	probe_smtp_init(&run->smtp, run->opt.timeout, run->opt.verbose ? stderr : NULL);
	return session_open(run);
}

/*
 * run_battery - every test in order; stops when the session dies.
 * Servers count refused recipients and hang up after a few (Postfix:
 * smtpd_hard_error_limit, 20, with delays from smtpd_soft_error_limit, 10),
 * so the tests run in batches, each on a fresh connection.
 */
static void run_battery(struct probe_run *run)
{
	char why[PROBE_ERR_MAX];
	size_t i;

	for (i = 0; i < run->ncases; i++) {
		if (i > 0 && i % (size_t)run->opt.batch == 0 && reconnect(run) != 0) {
			snprintf(why, sizeof(why), "%s", run->error);
			fail_run(run, "reconnecting before test %s: %s", run->cases[i].name, why);
			break;
		}
		int rc = probe_tests_run(&run->smtp, &run->cases[i], &run->results[i]);

		run->nrun = i + 1;
		if (!run->opt.json)
			print_result_text(&run->cases[i], &run->results[i]);
		if (rc != 0) {
			fail_run(run, "stopped after test %s: %s", run->cases[i].name,
			    run->smtp.err);
			break;
		}
	}
}

/* Counts for the summary. */
struct probe_counts {
	size_t accepted, refused, tempfail, error, ctl_ok, ctl_total;
};

/* count - tally the verdicts of the tests that ran */
static void count(const struct probe_run *run, struct probe_counts *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < run->nrun; i++) {
		const struct probe_result *res = &run->results[i];

		if (run->cases[i].kind == PROBE_KIND_CONTROL) {
			c->ctl_total++;
			c->ctl_ok += res->verdict == PROBE_V_ACCEPTED;
			continue;
		}
		switch (res->verdict) {
		case PROBE_V_ACCEPTED:
			c->accepted++;
			break;
		case PROBE_V_REFUSED:
			c->refused++;
			break;
		case PROBE_V_TEMPFAIL:
			c->tempfail++;
			break;
		case PROBE_V_ERROR:
			c->error++;
			break;
		case PROBE_V_NOTRUN:
			break;
		}
	}
}

/* exit_status - 1 if anything relayed, else 2 on any error, else 0 */
static int exit_status(const struct probe_run *run, const struct probe_counts *c)
{
	if (c->accepted > 0)
		return PROBE_EXIT_RELAY;
	if (run->error[0] != '\0' || c->error > 0)
		return PROBE_EXIT_ERROR;
	return PROBE_EXIT_CLEAN;
}

/* print_summary_text - the closing line of text output */
static void print_summary_text(const struct probe_run *run, const struct probe_counts *c,
    int status)
{
	size_t relay_tests = 0, i;

	for (i = 0; i < run->ncases; i++)
		relay_tests += run->cases[i].kind == PROBE_KIND_RELAY;
	if (run->error[0] != '\0')
		fprintf(stderr, "relay-probe: error: %s\n", run->error);
	printf("summary: %s %s port %s: %zu relay tests, %zu accepted, "
	       "%zu refused, %zu tempfail, %zu error; controls %zu/%zu "
	       "accepted; %s\n",
	    run->opt.host, run->literal[0] ? run->literal : "-", run->opt.port, relay_tests,
	    c->accepted, c->refused, c->tempfail, c->error, c->ctl_ok, c->ctl_total,
	    status == PROBE_EXIT_RELAY     ? "OPEN RELAY" :
		status == PROBE_EXIT_CLEAN ? "no relaying" :
					     "audit incomplete");
	if (status == PROBE_EXIT_CLEAN && c->ctl_ok < c->ctl_total)
		printf("warning: a local recipient was not accepted either; "
		       "the server may refuse this client altogether\n");
	if (status == PROBE_EXIT_CLEAN && c->tempfail > 0)
		printf("warning: %zu tests were tempfailed; they prove "
		       "nothing\n",
		    c->tempfail);
}

/* json_kv - "key": "string" with a trailing comma unless last */
static void json_kv(FILE *fp, const char *key, const char *val, bool last)
{
	fprintf(fp, "\"%s\": ", key);
	json_write(fp, val);
	fputs(last ? "" : ", ", fp);
}

/* print_json_test - one element of the "tests" array */
static void print_json_test(FILE *fp, const struct probe_case *tc, const struct probe_result *res,
    bool last)
{
	fputs("    {", fp);
	json_kv(fp, "name", tc->name, false);
	json_kv(fp, "kind", tc->kind == PROBE_KIND_RELAY ? "relay" : "control", false);
	json_kv(fp, "mail_from", tc->from, false);
	json_kv(fp, "rcpt_to", tc->rcpt, false);
	json_kv(fp, "verdict", probe_verdict_name(res->verdict, tc->kind), false);
	json_kv(fp, "stage", res->stage, false);
	if (res->reply.code != 0)
		fprintf(fp, "\"code\": %d, ", res->reply.code);
	else
		fputs("\"code\": null, ", fp);
	json_kv(fp, "text", res->reply.code != 0 ? res->reply.text : NULL, false);
	json_kv(fp, "error", res->error[0] ? res->error : NULL, true);
	fprintf(fp, "}%s\n", last ? "" : ",");
}

/* print_json - the whole run as one JSON document */
static void print_json(const struct probe_run *run, const struct probe_counts *c, int status)
{
	FILE *fp = stdout;
	size_t i;

	fputs("{\n  ", fp);
	json_kv(fp, "version", PACKAGE_VERSION, false);
	fputs("\n  \"server\": {", fp);
	json_kv(fp, "host", run->opt.host, false);
	fprintf(fp, "\"port\": %s, ", run->opt.port);
	json_kv(fp, "address", run->smtp.peer_addr[0] ? run->smtp.peer_addr : NULL, false);
	json_kv(fp, "banner", run->banner[0] ? run->banner : NULL, false);
	json_kv(fp, "hostname", run->hostname[0] ? run->hostname : NULL, false);
	fprintf(fp, "\"esmtp\": %s, \"starttls_offered\": %s, ", run->esmtp ? "true" : "false",
	    run->starttls_offered ? "true" : "false");
	json_kv(fp, "tls", run->tls[0] ? run->tls : NULL, false);
	json_kv(fp, "xclient", run->xclient_done ? run->opt.xclient : NULL, true);
	fputs("},\n  ", fp);
	json_kv(fp, "helo", run->opt.helo, false);
	json_kv(fp, "local_domain", run->local[0] ? run->local : NULL, false);
	json_kv(fp, "remote_domain", run->opt.remote, false);
	fputs("\n  \"tests\": [\n", fp);
	for (i = 0; i < run->nrun; i++)
		print_json_test(fp, &run->cases[i], &run->results[i], i + 1 == run->nrun);
	fprintf(fp,
	    "  ],\n  \"summary\": {\"tests\": %zu, \"run\": %zu, "
	    "\"accepted\": %zu, \"refused\": %zu, \"tempfail\": %zu, "
	    "\"error\": %zu, \"controls\": %zu, \"controls_accepted\": %zu, "
	    "\"sessions\": %u, \"relay\": %s, ",
	    run->ncases, run->nrun, c->accepted, c->refused, c->tempfail, c->error, c->ctl_total,
	    c->ctl_ok, run->sessions, status == PROBE_EXIT_RELAY ? "true" : "false");
	json_kv(fp, "failure", run->error[0] ? run->error : NULL, false);
	fprintf(fp, "\"exit\": %d}\n}\n", status);
}

/* main - parse, probe, report */
int main(int argc, char **argv)
{
	static struct probe_run run; /* large; keep it off the stack */
	struct probe_counts c;
	int status;

	/* A server that vanishes mid-write must not kill us silently. */
	signal(SIGPIPE, SIG_IGN);
	parse_opts(argc, argv, &run.opt);
	probe_smtp_init(&run.smtp, run.opt.timeout, run.opt.verbose ? stderr : NULL);
	if (session_open(&run) == 0 && choose_domains(&run) == 0) {
		if (!run.opt.json)
			printf("# %s %s port %s: %s\n# local domain %s, "
			       "host name %s, remote domain %s%s%s\n",
			    run.opt.host, run.literal, run.opt.port, run.banner, run.local,
			    run.hostname, run.opt.remote, run.tls[0] ? ", TLS " : "", run.tls);
		build_battery(&run);
		run_battery(&run);
		if (run.error[0] == '\0')
			quit(&run);
	}
	probe_smtp_close(&run.smtp);
	count(&run, &c);
	status = exit_status(&run, &c);
	if (run.opt.json) {
		if (run.error[0] != '\0')
			fprintf(stderr, "relay-probe: error: %s\n", run.error);
		print_json(&run, &c, status);
	} else
		print_summary_text(&run, &c, status);
	return status;
}
