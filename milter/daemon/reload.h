/* reload.h - re-read the configuration on SIGUSR1, keeping the old one on error */
#ifndef RM_RELOAD_H
#define RM_RELOAD_H

#include "conf.h"

/*
 * reload_install - make cfg current (ownership passes on success), its
 * rules mapped to their metrics counters first; -1 on ENOMEM
 */
int reload_install(struct config *cfg);

/* reload_now - load path and install it when valid; 0 or -1 (errors logged) */
int reload_now(const char *path);

/*
 * reload_start_thread - a thread that waits for SIGUSR1 (reload; socket is
 * only named in the summary line it logs) and
 * SIGUSR2 (counters to the log). The caller blocks both before any
 * thread exists (libmilter's included), so only this thread receives them.
 */
int reload_start_thread(const char *path, const char *socket);

#endif
