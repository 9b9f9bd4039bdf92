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

/* daemon_socket_perms - let the MTA's user reach a unix socket */
int daemon_socket_perms(const char *spec, mode_t mode, const char *user)
{
	const char *path = daemon_socket_path(spec);
	struct passwd *pw;

	if (path == NULL)
		return 0;
	if (chmod(path, mode) < 0) {
		log_err("chmod %s: %s", path, strerror(errno));
		return -1;
	}
	/* Owned by the unprivileged user, so that it can remove it at exit. */
	if (user != NULL && (pw = getpwnam(user)) != NULL &&
	    chown(path, pw->pw_uid, pw->pw_gid) < 0) {
		log_err("chown %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
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
