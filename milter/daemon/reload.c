/* reload.c - re-read the configuration on SIGUSR1, keeping the old one on error */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "reload.h"
#include "snapshot.h"
#include "summary.h"

static const char *reload_path, *reload_socket;

/* same - two optional strings are equal */
static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* restart_only - log one setting that a running daemon cannot apply */
static void restart_only(const char *key, const char *value)
{
	log_warn("reload: %s changed to %s; it takes effect only after a restart", key,
	    value ? value : "(unset)");
}

/*
 * warn_restart_only - settings bound at start-up: the socket is open, the
 * privileges are dropped, the pidfile written, syslog opened and the
 * metrics listener bound. The new values are kept in the snapshot but
 * not applied; the log says so, so nobody waits for a change that never comes.
 */
static void warn_restart_only(const struct settings *old, const struct settings *new)
{
	char mode[8];

	if (!same(old->socket, new->socket))
		restart_only("socket", new->socket);
	if (old->socket_mode != new->socket_mode) {
		snprintf(mode, sizeof(mode), "%04o", (unsigned)new->socket_mode);
		restart_only("socket_mode", mode);
	}
	if (!same(old->user, new->user))
		restart_only("user", new->user);
	if (!same(old->pidfile, new->pidfile))
		restart_only("pidfile", new->pidfile);
	if (old->syslog_facility != new->syslog_facility)
		restart_only("syslog_facility", "another facility");
	if (!same(old->metrics, new->metrics))
		restart_only("metrics", new->metrics);
	if (!same(old->control_socket, new->control_socket))
		restart_only("control_socket", new->control_socket);
	if (old->store.type != new->store.type || old->store.max_keys != new->store.max_keys)
		restart_only("store", "another store");
}

/* reload_install - map the rules to their counters, then make cfg current */
int reload_install(struct config *cfg)
{
	if (cfg->rule_ids == NULL && cfg->policy->nrules > 0 &&
	    (cfg->rule_ids = metrics_rule_ids(cfg->policy)) == NULL)
		return -1;
	if (cfg->limit_ids == NULL && cfg->policy->nlimits > 0 &&
	    (cfg->limit_ids = metrics_limit_ids(cfg->policy)) == NULL)
		return -1;
	return snapshot_install(cfg);
}

/* reload_now - load path and install it when valid */
int reload_now(const char *path)
{
	struct conf_errors errs = {0};
	struct config *cfg = conf_load(path, &errs);
	struct snapshot *old;
	char buf[600];

	if (cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			log_err("%s", errs.msgs[i]);
		if (conf_errors_lost(&errs, path, buf, sizeof(buf)) != NULL)
			log_err("%s", buf);
		log_err("reload: %s has errors; the running configuration stays in force", path);
		conf_errors_free(&errs);
		metrics_add(METRICS_RELOAD_FAILURES);
		return -1;
	}
	for (size_t i = 0; i < errs.nwarns; i++)
		log_warn("%s", errs.warns[i]);
	conf_errors_free(&errs);
	if ((old = snapshot_acquire()) != NULL) {
		warn_restart_only(&old->config->settings, &cfg->settings);
		snapshot_release(old);
	}
	if (reload_install(cfg) < 0) {
		conf_free(cfg);
		log_err("reload: out of memory; the running configuration stays in force");
		metrics_add(METRICS_RELOAD_FAILURES);
		return -1;
	}
	metrics_add(METRICS_RELOADS);
	log_info("reload: configuration %s loaded (generation %lu)", path, snapshot_generation());
	if ((old = snapshot_acquire()) != NULL) {
		summary_log("reloaded", old, reload_socket);
		snapshot_release(old);
	}
	return 0;
}

/* reload_loop - wait for SIGUSR1 (reload) and SIGUSR2 (counters to the log) forever */
static void *reload_loop(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			notify_reloading();
			reload_now(reload_path);
			notify_ready(); /* the old configuration or the new one: either serves */
		} else if (sig == SIGUSR2)
			metrics_log();
	}
	return NULL;
}

/* reload_start_thread - start the signal thread */
int reload_start_thread(const char *path, const char *socket)
{
	pthread_t tid;

	reload_path = path;
	reload_socket = socket;
	if (pthread_create(&tid, NULL, reload_loop, NULL) != 0)
		return -1;
	pthread_detach(tid);
	return 0;
}
