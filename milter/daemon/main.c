/* main.c - relay-milter: options, start-up order, and the milter main loop */
#include <getopt.h>
#include <pthread.h>
#include <pwd.h>
#include <libmilter/mfapi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "callbacks.h"
#include "config.h"
#include "conf.h"
#include "control.h"
#include "daemon.h"
#include "explain.h"
#include "janitor.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "notify.h"
#include "rules.h"
#include "reload.h"
#include "snapshot.h"
#include "steps.h"
#include "store.h"
#include "store_open.h"
#include "summary.h"
#include "versions.h"

#define DEFAULT_CONF SYSCONFDIR "/relay-milter.conf"

struct options {
	const char *conf;
	const char *socket;
	const char *user;
	const char *pidfile;
	int foreground;
	int check_only;
	int strict;    /* --strict: a near-open setting is an error */
	int explain;   /* --explain: the remaining arguments are KEY=VALUE facts */
	int json;      /* --json: explain as JSON */
	int syslog;    /* --syslog: log to syslog even in the foreground */
	int list_keys; /* --list-keys (hidden): every key the loader accepts */
	int control;   /* --control: the remaining arguments are COMMAND SELECTOR=VALUE */
};

static void usage(FILE *fp)
{
	fprintf(fp,
	    "usage: relay-milter [-c FILE] [-f] [-t [--strict]] [-s SOCKET] [-u USER] [-p PIDFILE] [-V] [-h]\n"
	    "       relay-milter [-c FILE] --explain [--json] KEY=VALUE... rcpt=ADDRESS...\n"
	    "       relay-milter [-c FILE] --control status|unlock|reset SELECTOR=VALUE\n"
	    "  -c FILE     configuration file (default %s)\n"
	    "  -f          stay in the foreground and log to stderr\n"
	    "  --syslog    with -f: log to syslog all the same\n"
	    "  -t          check the configuration and exit (0 valid, 1 not)\n"
	    "  --strict    a setting that opens the relay wide is an error, not a warning\n"
	    "  -s SOCKET   milter socket: unix:/path, inet:PORT@HOST, inet6:PORT@HOST\n"
	    "  -u USER     drop privileges to USER once the socket is open\n"
	    "  -p PIDFILE  write the process id here\n"
	    "  -V          print the version and exit\n"
	    "  -h          this help\n"
	    "  --explain   judge a hypothetical transaction and show why (exit 0 all\n"
	    "              accepted, 1 any refused, 2 usage or configuration error)\n"
	    "  --json      with --explain: JSON output\n"
	    "  --control   ask the running daemon (control_socket): status, unlock or reset\n"
	    "              a key: login=L, client=ADDR[/LEN], sender=ADDR, sender_domain=D\n",
	    DEFAULT_CONF);
}

/* parse_options - command line into opts; exits on -h, -V and errors */
static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"explain", no_argument, NULL, 'E'},
	    {"control", no_argument, NULL, 'C'},
	    {"json", no_argument, NULL, 'J'},
	    {"syslog", no_argument, NULL, 'L'},
	    {"list-keys", no_argument, NULL, 'K'},
	    {"strict", no_argument, NULL, 'S'},
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
		case 'C':
			o->control = 1;
			break;
		case 'J':
			o->json = 1;
			break;
		case 'L':
			o->syslog = 1;
			break;
		case 'K':
			o->list_keys = 1;
			break;
		case 'S':
			o->strict = 1;
			break;
		case 'V':
			versions_print(stdout);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if ((optind != argc && !o->explain && !o->control) || (o->json && !o->explain) ||
	    (o->explain && o->control)) {
		usage(stderr);
		exit(2);
	}
}

/* load_or_report - the first configuration; every error and warning goes to stderr */
static struct config *load_or_report(const char *path, int strict)
{
	struct conf_errors errs = {.strict = strict != 0};
	struct config *cfg = conf_load(path, &errs);
	char buf[600];

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	for (size_t i = 0; i < errs.nwarns; i++)
		fprintf(stderr, "%s\n", errs.warns[i]);
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
	for (const char *const *k = conf_limit_keys(); *k != NULL; k++)
		printf("limit %s\n", *k);
	for (const char *const *k = conf_store_keys(); *k != NULL; k++)
		printf("store %s\n", *k);
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

/* What start-up created, to be removed when it fails or the daemon stops. */
struct leftovers {
	const char *socket;      /* the spec, once the socket exists */
	struct daemon_inode ino; /* which socket that is */
	const char *pidfile;     /* once it holds our pid */
	const char *locked;      /* the pid file we hold the lock of, written or not */
	bool janitor;            /* a janitor removes them after the privilege drop */
};

/*
 * open_socket - create the listening socket, with its mode from the start,
 * and let the MTA (only) use it. A unix socket that a running process
 * answers on is left alone: replacing it would cut that daemon off.
 */
static int open_socket(const char *spec, const struct settings *s, const char *user,
    struct leftovers *left)
{
	mode_t old;
	int rc;

	if (daemon_socket_live(spec)) {
		log_err("milter socket %s: in use by a running process", spec);
		return -1;
	}
	old = umask(daemon_umask(s->socket_mode));
	rc = smfi_setconn((char *)spec) == MI_SUCCESS && smfi_opensocket(true) == MI_SUCCESS;
	umask(old);
	if (!rc) {
		log_err("cannot open milter socket %s", spec);
		return -1;
	}
	left->socket = spec;
	return daemon_socket_perms(spec, user, s->socket_group, &left->ino);
}

/*
 * fail - start-up failed: remove what it created (a failed privilege drop
 * leaves us root, so this works even when a janitor was started)
 */
static int fail(const struct leftovers *left)
{
	daemon_remove(left->pidfile, left->socket, &left->ino);
	if (left->locked != NULL && left->pidfile == NULL)
		unlink(left->locked); /* created, locked, never written: ours alone */
	return 1;
}

/* fail_control - the same, with the control socket (NULL: none yet) */
static int fail_control(const struct leftovers *left, struct control *control)
{
	control_stop(control);
	return fail(left);
}

/*
 * drop_privileges - become user, leaving behind a janitor (still root)
 * that removes the pid file and socket at exit, which the user could not
 */
static int drop_privileges(const char *user, struct leftovers *left)
{
	const char *path = left->socket ? daemon_socket_path(left->socket) : NULL;

	if (user == NULL)
		return 0;
	if (getpwnam(user) == NULL) {
		log_err("user %s: no such user", user);
		return -1;
	}
	if (getuid() == 0 && janitor_start(left->pidfile, path, &left->ino) == 0)
		left->janitor = true;
	return daemon_drop(user);
}

static int run(const struct options *o, struct config *cfg, char *conf_path, const char *spec,
    const char *user, const char *pidfile);

/* store_log - the store's changes of state (Redis up, down, failover): once each, in the log */
static void store_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level <= STORE_LOG_ERR)
		log_err("%s", msg);
	else if (level == STORE_LOG_WARNING)
		log_warn("%s", msg);
	else
		log_info("%s", msg);
}

/* store_log_stderr - the same for -t, which has no log */
static void store_log_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "relay-milter: %s%s\n", level <= STORE_LOG_WARNING ? "warning: " : "", msg);
}

/*
 * open_store - where the limits count, for the daemon's lifetime: outside
 * every configuration, so a reload keeps counts and locks
 */
static struct store *open_store(const struct store_settings *st)
{
	struct store_settings with_log = *st;
	char err[512];
	struct store *store;

	with_log.log = store_log;
	store = store_open(&with_log, err, sizeof(err));

	if (store == NULL) {
		log_err("store: %s", err);
		return NULL;
	}
	callbacks_set_store(store);
	metrics_set_store(store);
	return store;
}

/* check_store - -t: the store can be opened as configured (a Redis password, say) */
static int check_store(const struct config *cfg)
{
	struct store_settings with_log = cfg->settings.store;
	char err[512];
	struct store *store;

	if (cfg->policy->nlimits == 0 && cfg->settings.store.type == STORE_TYPE_MEMORY)
		return 0;
	with_log.log = store_log_stderr;
	if ((store = store_open(&with_log, err, sizeof(err))) == NULL) {
		fprintf(stderr, "relay-milter: store: %s\n", err);
		return -1;
	}
	store->ops->free(store);
	return 0;
}

/* control_main - --control: the socket named by the configuration, one command */
static int control_main(const struct options *o, int argc, char **argv)
{
	struct config *cfg = load_or_report(o->conf, 0);
	int rc;

	if (cfg == NULL) {
		fprintf(stderr, "relay-milter: %s: configuration not valid\n", o->conf);
		return 1;
	}
	rc = control_run(cfg->settings.control_socket, argc, argv, stdout, stderr);
	conf_free(cfg);
	return rc;
}

/* serve - the daemon's settings, copied, then the daemon */
static int serve(const struct options *o, struct config *cfg, char *conf_path)
{
	/* Copies: a reload frees the configuration these came from. */
	char *spec = strdup(o->socket ? o->socket : cfg->settings.socket);
	char *user =
	    o->user || cfg->settings.user ? strdup(o->user ? o->user : cfg->settings.user) : NULL;
	char *pidfile = o->pidfile || cfg->settings.pidfile ?
	    strdup(o->pidfile ? o->pidfile : cfg->settings.pidfile) :
	    NULL;
	int rc;

	if (spec == NULL || (user == NULL && (o->user || cfg->settings.user)) ||
	    (pidfile == NULL && (o->pidfile || cfg->settings.pidfile))) {
		fprintf(stderr, "relay-milter: out of memory\n");
		rc = 1;
	} else
		rc = run(o, cfg, conf_path, spec, user, pidfile);
	free(spec);
	free(user);
	free(pidfile);
	return rc;
}

/* run - the daemon from socket to exit; cfg is installed first */
static int run(const struct options *o, struct config *cfg, char *conf_path, const char *spec,
    const char *user, const char *pidfile)
{
	const char *metrics_at = cfg->settings.metrics;
	struct leftovers left = {NULL, {0, 0}, NULL, NULL, false};
	struct metrics_http *metrics = NULL;
	struct control *control = NULL;
	struct store *store;
	struct snapshot *snap;
	int metrics_fd = -1, pid_fd = -1, rc;

	log_open("relay-milter", o->foreground && !o->syslog, cfg->settings.syslog_facility);
	block_signals();
	if (reload_install(cfg) < 0 || callbacks_register() < 0)
		return 1;
	/* the pid file's lock first: a second instance stops before it touches the socket */
	if (pidfile != NULL && (pid_fd = daemon_pidfile_lock(pidfile)) < 0)
		return 1;
	left.locked = pidfile;
	if (open_socket(spec, &cfg->settings, user, &left) < 0)
		return fail_control(&left, control);
	/* Bound before the fork, so that a busy port fails where the caller sees it. */
	if (metrics_at != NULL && (metrics_fd = metrics_http_bind(metrics_at)) < 0)
		return fail_control(&left, control);
	if ((store = open_store(&cfg->settings.store)) == NULL)
		return fail_control(&left, control);
	if (cfg->settings.control_socket != NULL &&
	    (control = control_open(cfg->settings.control_socket, user)) == NULL)
		return fail_control(&left, control);
	if (!o->foreground && daemon_detach() < 0) {
		log_err("cannot detach into the background");
		return fail_control(&left, control);
	}
	log_forked();
	/* Its thread starts after the fork: threads do not survive one. */
	if (metrics_fd >= 0 && (metrics = metrics_http_start(metrics_fd)) == NULL)
		return fail_control(&left, control);
	if (control != NULL && control_start(control, store) < 0)
		return fail_control(&left, control);
	if (pid_fd >= 0 && daemon_pidfile_write(pid_fd, pidfile) < 0)
		return fail_control(&left, control);
	left.pidfile = pidfile; /* the lock is held until exit: pid_fd stays open */
	if (drop_privileges(user, &left) < 0 || reload_start_thread(conf_path, spec) < 0)
		return fail_control(&left, control);
	snap = snapshot_acquire();
	summary_log("started", snap, spec);
	snapshot_release(snap);
	log_info("relay-milter %s listening on %s", PACKAGE_VERSION, spec);
	notify_ready(); /* the socket listens since smfi_opensocket */
	rc = smfi_main();
	notify_stopping();
	log_info("relay-milter stopping");
	metrics_http_stop(metrics);
	control_stop(control);
	if (!left.janitor)
		daemon_remove(left.pidfile, left.socket, &left.ino);
	snapshot_clear();
	/* libmilter's workers are gone: no decision holds the store now */
	callbacks_set_store(NULL);
	metrics_set_store(NULL);
	store->ops->free(store);
	return rc == MI_SUCCESS ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct config *cfg;
	char *conf_path;
	int rc;

	parse_options(argc, argv, &o);
	if (o.list_keys) {
		list_keys();
		return 0;
	}
	if (o.explain)
		return explain_run(o.conf, argc - optind, argv + optind, o.json, stdout, stderr);
	if (o.control)
		return control_main(&o, argc - optind, argv + optind);
	if ((cfg = load_or_report(o.conf, o.strict)) == NULL) {
		fprintf(stderr, "relay-milter: %s: configuration not valid\n", o.conf);
		return 1;
	}
	if (o.check_only) {
		rc = check_store(cfg);
		if (rc == 0)
			printf("relay-milter: %s: configuration valid\n", o.conf);
		conf_free(cfg);
		return rc == 0 ? 0 : 1;
	}
	if ((conf_path = absolute_path(o.conf)) == NULL) {
		fprintf(stderr, "relay-milter: out of memory\n");
		conf_free(cfg);
		return 1;
	}
	rc = serve(&o, cfg, conf_path);
	free(conf_path);
	return rc;
}
