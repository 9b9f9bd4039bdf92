/*
 * logrecv.c - a syslogd that only writes down what it receives, for the
 * tests and the benchmark: logrecv PATH binds a datagram socket at PATH
 * (the /dev/log of a private mount namespace) and writes each datagram
 * as one line to standard output until SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sigaction sa = {.sa_handler = on_term};
	char buf[8192];
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: logrecv PATH\n");
		return 2;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		perror("logrecv: bind");
		return 2;
	}
	chmod(argv[1], 0666);
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: recv returns */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!stop) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n <= 0)
			continue;
		if (buf[n - 1] == '\n')
			n--;
		buf[n] = 0;
		puts(buf);
	}
	unlink(argv[1]);
	return 0;
}
