/* daemon.h - process chores: socket permissions, pid file, privileges */
#ifndef RM_DAEMON_H
#define RM_DAEMON_H

#include <sys/types.h>

/* daemon_socket_path - the file of a unix:/local: socket spec, or NULL */
const char *daemon_socket_path(const char *spec);

/* daemon_socket_perms - chmod, and chown to user and group (if any), a unix socket */
int daemon_socket_perms(const char *spec, mode_t mode, const char *user, const char *group);

/* daemon_remove - remove the pid file and the unix socket of spec (either may be NULL) */
void daemon_remove(const char *pidfile, const char *spec);

/* daemon_pidfile - write our pid; -1 on error (logged) */
int daemon_pidfile(const char *path);

/* daemon_drop - become user (and its groups); -1 on error (logged) */
int daemon_drop(const char *user);

/* daemon_detach - fork into the background, new session, stdio to /dev/null */
int daemon_detach(void);

#endif
