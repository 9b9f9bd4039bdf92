/* daemon.c - process chores: socket permissions, pid file, privileges */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

/* daemon_socket_path - the file of a unix:/local: socket spec */
const char *daemon_socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/* group_id - the gid of a group name; -1 (logged) when there is none */
static int group_id(const char *name, gid_t *gid)
{
	struct group *gr = getgrnam(name);

	if (gr == NULL) {
		log_err("socket_group %s: no such group", name);
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

/*
 * daemon_socket_perms - let the MTA's user reach a unix socket: its mode,
 * its group (socket_group), and the unprivileged user as owner so that
 * the socket can be replaced by the next start
 */
int daemon_socket_perms(const char *spec, mode_t mode, const char *user, const char *group)
{
	const char *path = daemon_socket_path(spec);
	struct passwd *pw = NULL;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	struct stat st;

	if (path == NULL)
		return 0;
	if (user != NULL && (pw = getpwnam(user)) != NULL) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (group != NULL && group_id(group, &gid) < 0)
		return -1;
	/*
	 * No chown when owner and group are already right: a unit that runs
	 * us as the user directly may forbid the chown system calls
	 * (SystemCallFilter=~@privileged), and nothing needs changing there.
	 */
	if (lstat(path, &st) == 0 && (uid == (uid_t)-1 || uid == st.st_uid) &&
	    (gid == (gid_t)-1 || gid == st.st_gid)) {
		uid = (uid_t)-1;
		gid = (gid_t)-1;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0) {
		log_err("chown %s: %s", path, strerror(errno));
		return -1;
	}
	if (chmod(path, mode) < 0) {
		log_err("chmod %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* daemon_remove - remove what start-up created, when it fails or the daemon stops */
void daemon_remove(const char *pidfile, const char *spec)
{
	const char *path = spec ? daemon_socket_path(spec) : NULL;
	struct stat st;

	if (pidfile != NULL)
		unlink(pidfile);
	if (path != NULL && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
}

/* daemon_pidfile - write our pid */
int daemon_pidfile(const char *path)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL) {
		log_err("pid file %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0) {
		log_err("pid file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* daemon_drop - become user, with its groups and no way back */
int daemon_drop(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		log_err("user %s: no such user", user);
		return -1;
	}
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		log_err("cannot become user %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		log_err("privileges could be regained after dropping to %s", user);
		return -1;
	}
	return 0;
}

/* daemon_detach - fork into the background */
int daemon_detach(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return chdir("/");
}
