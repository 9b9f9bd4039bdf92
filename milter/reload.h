/* reload.h - re-read the configuration on SIGUSR1, keeping the old one on error */
#ifndef RM_RELOAD_H
#define RM_RELOAD_H

/* reload_now - load path and install it when valid; 0 or -1 (errors logged) */
int reload_now(const char *path);

/*
 * reload_start_thread - a thread that waits for SIGUSR1 and reloads. The
 * caller blocks SIGUSR1 before any thread exists (libmilter's included),
 * so that only this thread ever receives it.
 */
int reload_start_thread(const char *path);

#endif
