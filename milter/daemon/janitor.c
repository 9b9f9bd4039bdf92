/* janitor.c - remove the pid file and the unix socket at exit, also after a privilege drop */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "janitor.h"
#include "log.h"

/* pidfile_names - does the pid file hold exactly this pid? (no stdio: after fork) */
static int pidfile_names(const char *path, pid_t pid)
{
	char buf[32];
	long v = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	for (ssize_t i = 0; i < n && buf[i] != '\n'; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return 0;
		v = v * 10 + (buf[i] - '0');
	}
	return v == (long)pid;
}

/* same_socket - is path still the socket that was there (same device and inode)? */
static int same_socket(const char *path, const struct stat *was)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == was->st_dev &&
	    st.st_ino == was->st_ino;
}

/* janitor_wait - the janitor's whole life: wait for EOF on the pipe, clean, exit */
static void janitor_wait(int fd, pid_t owner, const char *pidfile, const char *socket_path,
    const struct stat *sock)
{
	static const int stops[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE};
	sigset_t none;
	char c;

	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		signal(stops[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "relay-janitor");
	closefrom(fd + 1);
	for (int i = 0; i < fd; i++)
		close(i);
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	if (pidfile != NULL && pidfile_names(pidfile, owner))
		unlink(pidfile);
	if (socket_path != NULL && same_socket(socket_path, sock))
		unlink(socket_path);
	_exit(0);
}

/* janitor_start - fork the janitor; this process keeps the pipe's write end */
int janitor_start(const char *pidfile, const char *socket_path)
{
	struct stat sock = {0};
	pid_t owner = getpid(), pid;
	int p[2];

	if (pidfile == NULL && socket_path == NULL)
		return 0;
	if (socket_path != NULL && lstat(socket_path, &sock) < 0)
		socket_path = NULL;
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		log_err("cannot start the process that cleans up at exit: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		/* the read end must be the highest descriptor left open */
		if (dup2(p[0], 1023) < 0)
			_exit(1);
		janitor_wait(1023, owner, pidfile, socket_path, &sock);
	}
	close(p[0]);
	return 0;
}
