/* janitor.h - remove the pid file and the unix socket at exit, also after a privilege drop */
#ifndef RM_JANITOR_H
#define RM_JANITOR_H

#include "daemon.h"

/*
 * janitor_start - fork a process that keeps root's rights for one job:
 * it waits for this process to end (any way it ends), then removes the pid
 * file (if it still names this process) and the unix socket (if it is
 * still the one this process created). Called just before the privilege
 * drop, when the unprivileged user could no longer remove them. The
 * janitor closes every other descriptor, so it holds neither the milter
 * socket nor the metrics listener open, and ignores the stop signals that
 * a service manager sends to the whole group. Either path may be NULL.
 * 0, or -1 (logged).
 */
int janitor_start(const char *pidfile, const char *socket_path, const struct daemon_inode *sock);

#endif
