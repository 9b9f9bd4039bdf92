/* main.c - relay-milter: options, start-up order, and the milter main loop */
#include <getopt.h>
#include <pthread.h>
#include <libmilter/mfapi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "callbacks.h"
#include "config.h"
#include "conf.h"
#include "daemon.h"
#include "explain.h"
#include "log.h"
#include "metrics_http.h"
#include "rules.h"
#include "reload.h"
#include "snapshot.h"
#include "steps.h"

#define DEFAULT_CONF SYSCONFDIR "/relay-milter.conf"

struct options {
	const char *conf;
	const char *socket;
	const char *user;
	const char *pidfile;
	int foreground;
	int check_only;
	int explain;   /* --explain: the remaining arguments are KEY=VALUE facts */
	int json;      /* --json: explain as JSON */
	int list_keys; /* --list-keys (hidden): every key the loader accepts */
};

static void usage(FILE *fp)
{
	fprintf(fp,
	    "usage: relay-milter [-c FILE] [-f] [-t] [-s SOCKET] [-u USER] [-p PIDFILE] [-V] [-h]\n"
	    "       relay-milter [-c FILE] --explain [--json] KEY=VALUE... rcpt=ADDRESS...\n"
	    "  -c FILE     configuration file (default %s)\n"
	    "  -f          stay in the foreground and log to stderr\n"
	    "  -t          check the configuration and exit (0 valid, 1 not)\n"
	    "  -s SOCKET   milter socket: unix:/path, inet:PORT@HOST, inet6:PORT@HOST\n"
	    "  -u USER     drop privileges to USER once the socket is open\n"
	    "  -p PIDFILE  write the process id here\n"
	    "  -V          print the version and exit\n"
	    "  -h          this help\n"
	    "  --explain   judge a hypothetical transaction and show why (exit 0 all\n"
	    "              accepted, 1 any refused, 2 usage or configuration error)\n"
	    "  --json      with --explain: JSON output\n",
	    DEFAULT_CONF);
}

/* parse_options - command line into opts; exits on -h, -V and errors */
static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"explain", no_argument, NULL, 'E'},
	    {"json", no_argument, NULL, 'J'},
	    {"list-keys", no_argument, NULL, 'K'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	o->conf = DEFAULT_CONF;
	while ((ch = getopt_long(argc, argv, "c:fts:u:p:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conf = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 't':
			o->check_only = 1;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 'E':
			o->explain = 1;
			break;
		case 'J':
			o->json = 1;
			break;
		case 'K':
			o->list_keys = 1;
			break;
		case 'V':
			printf("relay-milter %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if ((optind != argc && !o->explain) || (o->json && !o->explain)) {
		usage(stderr);
		exit(2);
	}
}

/* load_or_report - the first configuration; every error goes to stderr */
static struct config *load_or_report(const char *path)
{
	struct conf_errors errs = {0};
	struct config *cfg = conf_load(path, &errs);
	char buf[600];

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	if (conf_errors_lost(&errs, path, buf, sizeof(buf)) != NULL)
		fprintf(stderr, "%s\n", buf);
	conf_errors_free(&errs);
	return cfg;
}

/*
 * block_signals - before any thread exists: SIGUSR1 and SIGUSR2 are waited
 * for by the reload thread alone, and SIGTERM, SIGINT and SIGHUP by
 * libmilter's signal thread (it stops on all three), so no other thread
 * (libmilter's workers, libmicrohttpd's) may take them.
 */
static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * list_keys - every key the loader accepts, and the engine's built-in
 * steps and reasons, for the documentation test
 */
static void list_keys(void)
{
	for (const char *const *k = conf_keys(); *k != NULL; k++)
		printf("key %s\n", *k);
	for (const char *const *k = conf_rule_keys(); *k != NULL; k++)
		printf("rule %s\n", *k);
	for (const char *const *k = cond_type_names(); *k != NULL; k++)
		printf("condition %s\n", *k);
	for (int s = STEP_RULE + 1; s < STEP_N; s++)
		printf("step %s\n", step_name((enum step)s));
	for (int r = 0; r < REASON_N; r++)
		printf("reason %s\n", reason_name((enum reason)r));
}

/*
 * absolute_path - path made absolute against the current directory, for
 * reloads after daemon_detach has gone to "/". Symbolic links are kept as
 * written: an administrator may point the link at a new file and reload.
 */
static char *absolute_path(const char *path)
{
	char cwd[4096], *abs;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return strdup(path);
	if (asprintf(&abs, "%s/%s", cwd, path) < 0)
		return NULL;
	return abs;
}

/* open_socket - create the listening socket and let the MTA use it */
static int open_socket(const char *spec, const struct settings *s, const char *user)
{
	if (smfi_setconn((char *)spec) != MI_SUCCESS || smfi_opensocket(true) != MI_SUCCESS) {
		log_err("cannot open milter socket %s", spec);
		return -1;
	}
	return daemon_socket_perms(spec, s->socket_mode, user);
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct config *cfg;
	struct metrics_http *metrics = NULL;
	int metrics_fd = -1;
	char *conf_path;
	const char *spec, *user, *pidfile;
	int rc;

	parse_options(argc, argv, &o);
	if (o.list_keys) {
		list_keys();
		return 0;
	}
	if (o.explain)
		return explain_run(o.conf, argc - optind, argv + optind, o.json, stdout, stderr);
	if ((cfg = load_or_report(o.conf)) == NULL) {
		fprintf(stderr, "relay-milter: %s: configuration not valid\n", o.conf);
		return 1;
	}
	if (o.check_only) {
		printf("relay-milter: %s: configuration valid\n", o.conf);
		conf_free(cfg);
		return 0;
	}
	if ((conf_path = absolute_path(o.conf)) == NULL) {
		fprintf(stderr, "relay-milter: out of memory\n");
		return 1;
	}
	spec = o.socket ? o.socket : cfg->settings.socket;
	user = o.user ? o.user : cfg->settings.user;
	pidfile = o.pidfile ? o.pidfile : cfg->settings.pidfile;
	log_open("relay-milter", o.foreground, cfg->settings.syslog_facility);
	block_signals();
	if (reload_install(cfg) < 0 || callbacks_register() < 0 ||
	    open_socket(spec, &cfg->settings, user) < 0)
		return 1;
	/* Bound before the fork, so that a busy port fails where the caller sees it. */
	if (cfg->settings.metrics != NULL &&
	    (metrics_fd = metrics_http_bind(cfg->settings.metrics)) < 0)
		return 1;
	if (!o.foreground && daemon_detach() < 0) {
		log_err("cannot detach into the background");
		return 1;
	}
	/* Its thread starts after the fork: threads do not survive one. */
	if (metrics_fd >= 0 && (metrics = metrics_http_start(metrics_fd)) == NULL)
		return 1;
	if ((pidfile != NULL && daemon_pidfile(pidfile) < 0) ||
	    (user != NULL && daemon_drop(user) < 0) || reload_start_thread(conf_path) < 0)
		return 1;
	log_info("relay-milter %s listening on %s", PACKAGE_VERSION, spec);
	rc = smfi_main();
	log_info("relay-milter stopping");
	metrics_http_stop(metrics);
	if (pidfile != NULL)
		unlink(pidfile);
	snapshot_clear();
	free(conf_path);
	return rc == MI_SUCCESS ? 0 : 1;
}
