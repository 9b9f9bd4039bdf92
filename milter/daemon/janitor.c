/* janitor.c - remove the pid file and the unix socket at exit, also after a privilege drop */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "daemon.h"
#include "janitor.h"
#include "log.h"

/* janitor_wait - the janitor's whole life: wait for EOF on the pipe, clean, exit */
static void janitor_wait(int fd, pid_t owner, const char *pidfile, const char *socket_path,
    const struct daemon_inode *sock)
{
	static const int stops[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE};
	sigset_t none;
	char c;

	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		signal(stops[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "relay-janitor");
	/* every other descriptor goes, wherever the pipe's end is (low limits, too) */
	closefrom(fd + 1);
	for (int i = 0; i < fd; i++)
		close(i);
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	daemon_remove_owned(pidfile, owner, socket_path, sock);
	_exit(0);
}

/* janitor_start - fork the janitor; this process keeps the pipe's write end */
int janitor_start(const char *pidfile, const char *socket_path, const struct daemon_inode *sock)
{
	pid_t owner = getpid(), pid;
	int p[2];

	if (pidfile == NULL && socket_path == NULL)
		return 0;
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		log_err("cannot start the process that cleans up at exit: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		janitor_wait(p[0], owner, pidfile, socket_path, sock);
	}
	close(p[0]);
	return 0;
}
