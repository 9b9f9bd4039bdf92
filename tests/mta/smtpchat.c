/*
 * smtpchat - a line-at-a-time SMTP client for the real-MTA tests.
 *
 * Usage: smtpchat [-b SRCADDR] [-t SECONDS] HOST PORT
 *
 * Reads SMTP commands from standard input, one per line, sends each with
 * CRLF and prints the server's complete reply as ONE line on standard output
 * ("250 2.1.5 Ok"; the last line of a multi-line reply, which carries the
 * final code). The server greeting is printed first. After a 354 reply the
 * lines up to and including "." are message text: they are sent without
 * waiting for a reply, and only the reply to the final dot is printed.
 *
 * Why not swaks: the tests need several transactions on one connection,
 * a session held open while the milter is killed, and a chosen source
 * address for Sendmail (which has no XCLIENT). A shell coprocess talking to
 * this program does all three. Output is flushed per line so that a
 * coprocess reader never waits on a buffer.
 *
 * "EOF" is printed when the server closes the connection, "TIMEOUT" when no
 * complete reply arrives in time; either ends the program with status 1.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#define CHAT_LINE 4096

static int chat_timeout = 30; /* seconds per reply */

/* chat_usage - explain the command line and exit */
static void chat_usage(void)
{
	fprintf(stderr, "usage: smtpchat [-b SRCADDR] [-t SECONDS] HOST PORT\n");
	exit(2);
}

/* chat_connect - open a TCP connection, optionally from a chosen address */
static int chat_connect(const char *host, const char *port, const char *src)
{
	struct addrinfo hints, *res, *bres = NULL;
	int fd, err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((err = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "smtpchat: %s port %s: %s\n", host, port, gai_strerror(err));
		exit(2);
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) < 0) {
		perror("smtpchat: socket");
		exit(2);
	}
	if (src != NULL) {
		/* Sendmail sees the real peer address: bind it first. */
		hints.ai_family = res->ai_family;
		hints.ai_flags = AI_NUMERICHOST;
		if ((err = getaddrinfo(src, NULL, &hints, &bres)) != 0) {
			fprintf(stderr, "smtpchat: %s: %s\n", src, gai_strerror(err));
			exit(2);
		}
		if (bind(fd, bres->ai_addr, bres->ai_addrlen) < 0) {
			fprintf(stderr, "smtpchat: bind %s: %s\n", src, strerror(errno));
			exit(2);
		}
		freeaddrinfo(bres);
	}
	if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		fprintf(stderr, "smtpchat: connect %s port %s: %s\n", host, port, strerror(errno));
		exit(2);
	}
	freeaddrinfo(res);
	return (fd);
}

/* chat_getline - read one CRLF- or LF-terminated line from the server */
static int chat_getline(int fd, char *buf, size_t len)
{
	struct pollfd pfd;
	size_t n = 0;
	char c;
	ssize_t r;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, chat_timeout * 1000) <= 0)
			return (-2);
		if ((r = read(fd, &c, 1)) <= 0)
			return (-1);
		if (c == '\n')
			break;
		if (c != '\r' && n < len - 1)
			buf[n++] = c;
	}
	buf[n] = 0;
	return (0);
}

/* chat_reply - print the server's reply; return its code, or -1 at end */
static int chat_reply(int fd)
{
	char line[CHAT_LINE];
	int st;

	/* Continuation lines have '-' after the code; the last has ' ' or nothing. */
	do {
		if ((st = chat_getline(fd, line, sizeof(line))) < 0) {
			printf("%s\n", st == -2 ? "TIMEOUT" : "EOF");
			fflush(stdout);
			return (-1);
		}
	} while (strlen(line) > 3 && line[3] == '-');
	printf("%s\n", line);
	fflush(stdout);
	return (atoi(line));
}

/* chat_send - send one line with CRLF */
static void chat_send(int fd, const char *line)
{
	size_t len = strlen(line);
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, line, len)) < 0) {
			if (errno == EINTR)
				continue;
			printf("EOF\n");
			fflush(stdout);
			exit(1);
		}
		line += w;
		len -= (size_t)w;
	}
	if (write(fd, "\r\n", 2) != 2) {
		printf("EOF\n");
		fflush(stdout);
		exit(1);
	}
}

/* main - connect, print the greeting, then one reply per command */
int main(int argc, char **argv)
{
	char line[CHAT_LINE];
	const char *src = NULL;
	int ch, fd, code, in_data = 0;

	while ((ch = getopt(argc, argv, "b:t:")) != -1) {
		switch (ch) {
		case 'b':
			src = optarg;
			break;
		case 't':
			chat_timeout = atoi(optarg);
			if (chat_timeout <= 0)
				chat_usage();
			break;
		default:
			chat_usage();
		}
	}
	if (argc - optind != 2)
		chat_usage();
	fd = chat_connect(argv[optind], argv[optind + 1], src);
	if (chat_reply(fd) < 0)
		return (1);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\r\n")] = 0;
		chat_send(fd, line);
		if (in_data && strcmp(line, ".") != 0)
			continue;
		in_data = 0;
		if ((code = chat_reply(fd)) < 0)
			return (1);
		if (code == 354)
			in_data = 1;
	}
	close(fd);
	return (0);
}
