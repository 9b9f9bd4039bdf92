/* reload.c - re-read the configuration on SIGUSR1, keeping the old one on error */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "reload.h"
#include "snapshot.h"

static const char *reload_path;

/* same - two optional strings are equal */
static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* warn_restart_only - settings that a running daemon cannot apply */
static void warn_restart_only(const struct settings *old, const struct settings *new)
{
	if (!same(old->socket, new->socket))
		log_warn("reload: socket changed to %s; it takes effect only after a restart",
		    new->socket);
	if (!same(old->user, new->user))
		log_warn("reload: user changed; it takes effect only after a restart");
	if (old->socket_mode != new->socket_mode)
		log_warn("reload: socket_mode changed; it takes effect only after a restart");
}

/* reload_now - load path and install it when valid */
int reload_now(const char *path)
{
	struct conf_errors errs = {0};
	struct config *cfg = conf_load(path, &errs);
	struct snapshot *old;

	if (cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			log_err("%s", errs.msgs[i]);
		log_err("reload: %s has errors; the running configuration stays in force", path);
		conf_errors_free(&errs);
		return -1;
	}
	if ((old = snapshot_acquire()) != NULL) {
		warn_restart_only(&old->config->settings, &cfg->settings);
		snapshot_release(old);
	}
	if (snapshot_install(cfg) < 0) {
		conf_free(cfg);
		log_err("reload: out of memory; the running configuration stays in force");
		return -1;
	}
	log_info("reload: configuration %s loaded (generation %lu)", path, snapshot_generation());
	return 0;
}

/* reload_loop - wait for SIGUSR1 forever */
static void *reload_loop(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		if (sigwait(&set, &sig) == 0 && sig == SIGUSR1)
			reload_now(reload_path);
	}
	return NULL;
}

/* reload_start_thread - start the SIGUSR1 thread */
int reload_start_thread(const char *path)
{
	pthread_t tid;

	reload_path = path;
	if (pthread_create(&tid, NULL, reload_loop, NULL) != 0)
		return -1;
	pthread_detach(tid);
	return 0;
}
