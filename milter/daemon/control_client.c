/* control_client.c - relay-milter --control, and --explain's read-only view of the daemon's counts */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "store.h"

#define CLIENT_TIMEOUT 5 /* seconds: the daemon answers at once or not at all */

/* control_connect - a connection to the daemon's control socket, or -1 */
static int control_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {CLIENT_TIMEOUT, 0};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* control_open_stream - the connection as one read-write stream */
static FILE *control_open_stream(const char *path)
{
	int fd = control_connect(path);
	FILE *fp;

	if (fd < 0)
		return NULL;
	if ((fp = fdopen(fd, "r+")) == NULL)
		close(fd);
	return fp;
}

/* control_run - send one command, print the answer; 0 when it ends in "ok" */
int control_run(const char *path, int argc, char **argv, FILE *out, FILE *err)
{
	char line[CONTROL_LINE_MAX];
	bool ok = false;
	FILE *fp;

	if (argc != 2 || strchr(argv[1], '=') == NULL || strchr(argv[0], '\n') ||
	    strchr(argv[1], '\n')) {
		fprintf(err,
		    "relay-milter: --control: expected COMMAND SELECTOR=VALUE, e.g. "
		    "\"status login=alice\" (status, unlock, reset; login=, client=, "
		    "sender=, sender_domain=, key=)\n");
		return 2;
	}
	if (path == NULL) {
		fprintf(err, "relay-milter: --control: the configuration sets no control_socket\n");
		return 1;
	}
	if ((fp = control_open_stream(path)) == NULL) {
		fprintf(err,
		    "relay-milter: --control: %s: cannot connect: %s (is relay-milter "
		    "running, and are you its user?)\n",
		    path, strerror(errno));
		return 1;
	}
	fprintf(fp, "%s %s\n", argv[0], argv[1]);
	fflush(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		ok = strncmp(line, "ok", 2) == 0;
		fputs(line, strncmp(line, "error", 5) == 0 ? err : out);
	}
	fclose(fp);
	return ok ? 0 : 1;
}

/* The peek store: the daemon's socket; counting is refused. */
struct peek_store {
	struct store base;
	char *path;
};

/* put_hex - a string as hex ("-" when empty): no byte of it can break the line */
static void put_hex(FILE *fp, const char *s)
{
	if (s == NULL || *s == 0) {
		fputs(" -", fp);
		return;
	}
	fputc(' ', fp);
	for (; *s; s++)
		fprintf(fp, "%02x", (unsigned char)*s);
}

/* peek_decide - the daemon judges the checks read-only, on its own counts and clock */
static int peek_decide(struct store *s, const struct store_check *checks, size_t n, bool commit,
    struct store_result *out)
{
	struct peek_store *ps = (struct peek_store *)s;
	char line[CONTROL_LINE_MAX];
	FILE *fp;
	size_t got = 0;
	bool ok = false;

	if (commit || (fp = control_open_stream(ps->path)) == NULL)
		return -1; /* explain never counts */
	fprintf(fp, "peek %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		fputs("check", fp);
		put_hex(fp, checks[i].principal);
		put_hex(fp, checks[i].limit);
		fprintf(fp, " %d", checks[i].kind == STORE_DISTINCT);
		put_hex(fp, checks[i].member);
		fprintf(fp, " %u %llu %u %u %d\n", checks[i].add, (unsigned long long)checks[i].max,
		    checks[i].window, checks[i].lock, checks[i].dry_run);
	}
	fflush(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		int status;
		unsigned long long count;
		long long until;

		if (got < n && sscanf(line, "result %d %llu %lld", &status, &count, &until) == 3) {
			memset(&out[got], 0, sizeof(out[got]));
			out[got].status = (enum store_status)status;
			out[got].count = count;
			out[got++].until = until;
		} else
			ok = strncmp(line, "ok", 2) == 0;
	}
	fclose(fp);
	return ok && got == n ? 0 : -1;
}

static int peek_status(struct store *s, const char *principal, store_entry_fn fn, void *arg)
{
	(void)s, (void)principal, (void)fn, (void)arg;
	return -1;
}

static long peek_refuse(struct store *s, const char *principal)
{
	(void)s, (void)principal;
	return -1;
}

static void peek_stats(struct store *s, struct store_stats *out)
{
	(void)s;
	memset(out, 0, sizeof(*out));
}

static void peek_free(struct store *s)
{
	struct peek_store *ps = (struct peek_store *)s;

	if (ps != NULL)
		free(ps->path);
	free(ps);
}

static const struct store_ops peek_ops = {
    peek_decide,
    peek_status,
    peek_refuse,
    peek_refuse,
    peek_stats,
    peek_free,
};

/* control_peek_store - explain's store: the daemon at path, asked, never counting */
struct store *control_peek_store(const char *path)
{
	struct peek_store *ps = calloc(1, sizeof(*ps));

	if (ps == NULL || (ps->path = strdup(path)) == NULL) {
		free(ps);
		return NULL;
	}
	ps->base.ops = &peek_ops;
	return &ps->base;
}
