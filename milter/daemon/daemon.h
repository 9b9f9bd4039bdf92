/* daemon.h - process chores: socket permissions, pid file, privileges */
#ifndef RM_DAEMON_H
#define RM_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

/* daemon_socket_path - the file of a unix:/local: socket spec, or NULL */
const char *daemon_socket_path(const char *spec);

/* The unix socket we created, so that only that one is ever removed. */
struct daemon_inode {
	dev_t dev;
	ino_t ino; /* 0: none */
};

/* daemon_socket_live - does a process accept connections on this unix socket now? */
bool daemon_socket_live(const char *spec);

/* daemon_umask - the umask under which a new socket gets exactly mode */
mode_t daemon_umask(mode_t mode);

/*
 * daemon_socket_perms - chown the socket just created to user and group
 * (if any), through a descriptor, never following a link; fills *ino
 */
int daemon_socket_perms(const char *spec, const char *user, const char *group,
    struct daemon_inode *ino);

/* daemon_remove - remove the pid file if it names us and the socket if it is ino */
void daemon_remove(const char *pidfile, const char *spec, const struct daemon_inode *ino);

/* daemon_remove_owned - the same for the process owner and a socket path (after fork) */
void daemon_remove_owned(const char *pidfile, pid_t owner, const char *socket_path,
    const struct daemon_inode *ino);

/* daemon_pidfile_names - does the pid file hold exactly this pid? */
bool daemon_pidfile_names(const char *path, pid_t pid);

/* daemon_pidfile_lock - open (no link followed) and lock the pid file; fd or -1 (logged) */
int daemon_pidfile_lock(const char *path);

/* daemon_pidfile_write - write our pid into the locked pid file; -1 (logged) */
int daemon_pidfile_write(int fd, const char *path);

/* daemon_drop - become user (and its groups); -1 on error (logged) */
int daemon_drop(const char *user);

/* daemon_detach - fork into the background, new session, stdio to /dev/null */
int daemon_detach(void);

#endif
