/*
 * notifywait.c - stands in for systemd's side of Type=notify, for
 * tests/daemon/service.sh:
 *   notifywait NOTIFY_PATH MILTER_SOCKET -- COMMAND...
 * binds a datagram socket at NOTIFY_PATH, runs COMMAND with NOTIFY_SOCKET
 * pointing at it, and prints one line per message ("notify READY=1 ...");
 * when READY=1 arrives it tries to connect to MILTER_SOCKET at once and
 * prints "ready connect=ok" or "ready connect=failed". It then sends
 * SIGUSR1 (a reload), waits for RELOADING=1 and READY=1 again, sends
 * SIGTERM and waits for the command to end (at most 10 s each step).
 *   notifywait -c MILTER_SOCKET
 * only tries to connect: exit 0 when it can.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* try_connect - can a client reach the unix socket at path now? */
static int try_connect(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), rc;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return rc == 0;
}

/* wait_for - read messages until one holds want; 0, or -1 after 10 s */
static int wait_for(int fd, const char *want, const char *milter)
{
	char buf[4096];

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 10000) <= 0) {
			printf("timeout waiting for %s\n", want);
			return -1;
		}
		if ((n = recv(fd, buf, sizeof(buf) - 1, 0)) <= 0)
			continue;
		buf[n] = 0;
		for (char *c = buf; *c; c++)
			if (*c == '\n')
				*c = ' ';
		printf("notify %s\n", buf);
		if (strncmp(buf, "READY=1", 7) == 0 && milter != NULL)
			printf("ready connect=%s\n", try_connect(milter) ? "ok" : "failed");
		if (strstr(buf, want) != NULL)
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, status;
	pid_t pid;

	if (argc == 3 && strcmp(argv[1], "-c") == 0)
		return try_connect(argv[2]) ? 0 : 1;
	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: notifywait NOTIFY_PATH MILTER_SOCKET -- COMMAND...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		perror("notifywait: bind");
		return 2;
	}
	if ((pid = fork()) == 0) {
		setenv("NOTIFY_SOCKET", argv[1], 1);
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	if (wait_for(fd, "READY=1", argv[2]) == 0) {
		kill(pid, SIGUSR1);
		if (wait_for(fd, "RELOADING=1", NULL) == 0)
			wait_for(fd, "READY=1", argv[2]);
	}
	kill(pid, SIGTERM);
	wait_for(fd, "STOPPING=1", NULL);
	waitpid(pid, &status, 0);
	printf("exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	unlink(argv[1]);
	return 0;
}
