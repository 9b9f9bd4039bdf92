/* daemon.c - process chores: socket permissions, pid file, privileges */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

/* daemon_socket_live - does a process accept connections on this unix socket now? */
bool daemon_socket_live(const char *spec)
{
	const char *path = daemon_socket_path(spec);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, rc;

	if (path == NULL || strlen(path) >= sizeof(sun.sun_path))
		return false;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return false;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return rc == 0;
}

/*
 * daemon_socket_perms - let the MTA's user reach the unix socket just
 * created: its owner (the unprivileged user, so that the next start can
 * replace it) and its group (socket_group). Through a descriptor opened
 * without following links, never by name: the directory may belong to the
 * user we drop to, who could otherwise swap the socket for a link to any
 * file between bind and chown. The mode was set at creation (daemon_umask).
 * On success *ino names the socket, for removing it later.
 */
int daemon_socket_perms(const char *spec, const char *user, const char *group,
    struct daemon_inode *ino)
{
	const char *path = daemon_socket_path(spec);
	struct passwd *pw = NULL;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	struct stat st;
	int fd, rc = 0;

	if (path == NULL)
		return 0;
	if (user != NULL && (pw = getpwnam(user)) != NULL) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (group != NULL && group_id(group, &gid) < 0)
		return -1;
	if ((fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0 ||
	    !S_ISSOCK(st.st_mode)) {
		log_err("milter socket %s: not the socket just created", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ino->dev = st.st_dev;
	ino->ino = st.st_ino;
	/*
	 * No chown when owner and group are already right: a unit that runs
	 * us as the user directly may forbid the chown system calls
	 * (SystemCallFilter=~@privileged), and nothing needs changing there.
	 */
	if ((uid != (uid_t)-1 && uid != st.st_uid) || (gid != (gid_t)-1 && gid != st.st_gid)) {
		if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) {
			log_err("chown %s: %s", path, strerror(errno));
			rc = -1;
		}
	}
	close(fd);
	return rc;
}

/* daemon_umask - the umask that gives a new socket exactly mode */
mode_t daemon_umask(mode_t mode)
{
	return (mode_t)(~mode & 0777);
}

/*
 * daemon_remove_owned - unlink the pid file if it names owner and the
 * socket if it is still the inode created. No stdio: the janitor calls
 * this after a fork.
 */
void daemon_remove_owned(const char *pidfile, pid_t owner, const char *socket_path,
    const struct daemon_inode *ino)
{
	struct stat st;

	if (pidfile != NULL && daemon_pidfile_names(pidfile, owner))
		unlink(pidfile);
	if (socket_path != NULL && ino != NULL && ino->ino != 0 && lstat(socket_path, &st) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_dev == ino->dev && st.st_ino == ino->ino)
		unlink(socket_path);
}

/* daemon_remove - remove what start-up created: only if it is still ours */
void daemon_remove(const char *pidfile, const char *spec, const struct daemon_inode *ino)
{
	daemon_remove_owned(pidfile, getpid(), spec ? daemon_socket_path(spec) : NULL, ino);
}

/* daemon_pidfile_names - does the pid file hold exactly this pid? (no stdio: after fork) */
bool daemon_pidfile_names(const char *path, pid_t pid)
{
	char buf[32];
	long v = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n && buf[i] != '\n'; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return false;
		v = v * 10 + (buf[i] - '0');
	}
	return v == (long)pid;
}

/*
 * daemon_pidfile_lock - open and lock the pid file, before anything else
 * is touched: a second instance stops here, and never removes the first
 * one's socket. Opened without following a link and refused unless it is
 * a plain file, since its directory may belong to the unprivileged user.
 * The lock lives as long as the descriptor, across the fork of the
 * detach. Returns the descriptor, or -1 (logged).
 */
int daemon_pidfile_lock(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644);
	struct stat st;

	if (fd < 0) {
		log_err("pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		log_err("pid file %s: not a plain file: refusing to write it", path);
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		log_err("pid file %s: locked: another relay-milter is running", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* daemon_pidfile_write - our pid into the locked pid file */
int daemon_pidfile_write(int fd, const char *path)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
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
