/* control.c - the control socket's server: one request a connection, from the daemon's own user */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "control.h"
#include "daemon.h"
#include "isotime.h"
#include "limits.h"
#include "log.h"
#include "logline.h"
#include "snapshot.h"
#include "store.h"

#define SELECT_MAX 8 /* keys one selector may name (client=ADDR: one per prefix in use) */
#define IO_TIMEOUT \
	2 /* seconds a client may take to send its whole request, or to read the answer */
#define REQUEST_MAX ((LIMITS_MAX + 1) * CONTROL_LINE_MAX) /* the longest peek */

struct control {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char spec[sizeof(((struct sockaddr_un *)0)->sun_path) + 8]; /* "unix:PATH" */
	struct daemon_inode ino; /* the socket created, removed only while it is that one */
	int fd;
	struct store *store;
	pthread_t thread;
	bool running;
	int stop; /* atomic */
};

typedef char key_buf[LIMIT_PRINCIPAL_MAX];

/* add_key - one more key for a selector, once */
static void add_key(key_buf *keys, size_t *n, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(keys[i], key) == 0)
			return;
	if (*n < SELECT_MAX)
		snprintf(keys[(*n)++], sizeof(key_buf), "%s", key);
}

/*
 * client_keys - the keys of a client: with /LEN that network alone, else
 * one per prefix the per-client limits group its family by
 */
static int client_keys(const struct policy *p, const char *v, key_buf *keys, size_t *n)
{
	char text[IPADDR_STRLEN + 8], *slash, *end;
	struct ipaddr a;
	unsigned long len = 0;
	key_buf k;

	snprintf(text, sizeof(text), "%s", v);
	if ((slash = strchr(text, '/')) != NULL) {
		*slash = 0;
		len = strtoul(slash + 1, &end, 10);
		if (*end != 0 || slash[1] == 0)
			return -1;
	}
	if (ipaddr_parse(text, &a) < 0 || len > (a.family == IPADDR_V4 ? 32U : 128U))
		return -1;
	if (slash != NULL) {
		limit_client_key(&a, (unsigned)len, k, sizeof(k));
		add_key(keys, n, k);
		return 0;
	}
	for (size_t i = 0; p != NULL && i < p->nlimits; i++) {
		if (p->limits[i].per != PER_CLIENT)
			continue;
		limit_client_key(&a,
		    a.family == IPADDR_V4 ? p->limits[i].prefix_v4 : p->limits[i].prefix_v6, k,
		    sizeof(k));
		add_key(keys, n, k);
	}
	if (*n == 0) {
		limit_client_key(&a, a.family == IPADDR_V4 ? 32 : 64, k, sizeof(k));
		add_key(keys, n, k);
	}
	return 0;
}

/* sender_keys - sender=ADDR and sender_domain=DOMAIN, normalised as the limits count them */
static int sender_keys(const char *v, bool domain, key_buf *keys, size_t *n)
{
	char path[ADDR_INPUT_MAX + 8];
	struct addr a;
	key_buf k;

	snprintf(path, sizeof(path), domain ? "x@%s" : "%s", v);
	if (addr_parse(path, &a) == ADDR_INVALID && domain)
		return -1;
	if (!limit_sender_key(&a, v, domain, k, sizeof(k)))
		return -1;
	add_key(keys, n, k);
	return 0;
}

/* select_keys - the keys a SELECTOR=VALUE names; -1 with *why */
static int select_keys(const struct policy *p, const char *sel, key_buf *keys, size_t *n,
    const char **why)
{
	const char *eq = strchr(sel, '='), *v = eq ? eq + 1 : NULL;
	size_t klen = eq ? (size_t)(eq - sel) : 0;
	key_buf k;

	*n = 0;
	*why = "expected login=, client=, sender=, sender_domain= or key=";
	if (v == NULL || *v == 0)
		return -1;
	if (klen == 3 && strncmp(sel, "key", 3) == 0) {
		add_key(keys, n, v);
		return 0;
	}
	if (klen == 5 && strncmp(sel, "login", 5) == 0) {
		limit_login_key(v, k, sizeof(k));
		add_key(keys, n, k);
		return 0;
	}
	if (klen == 6 && strncmp(sel, "client", 6) == 0) {
		*why = "client=: expected an IPv4 or IPv6 address, optionally /LEN";
		return client_keys(p, v, keys, n);
	}
	if ((klen == 6 && strncmp(sel, "sender", 6) == 0) ||
	    (klen == 13 && strncmp(sel, "sender_domain", 13) == 0)) {
		*why = "cannot parse that sender";
		return sender_keys(v, klen == 13, keys, n);
	}
	return -1;
}

/* What a status line needs beside the entry: where to write, and the limits' max. */
struct status_out {
	FILE *out;
	const struct policy *p;
	size_t entries;
};

/* entry_max - the configured max of a limit by name, or 0 when it is no longer configured */
static unsigned long long entry_max(const struct policy *p, const char *name)
{
	for (size_t i = 0; p != NULL && i < p->nlimits; i++)
		if (strcmp(p->limits[i].rule.name, name) == 0)
			return (unsigned long long)p->limits[i].max;
	return 0;
}

/* status_line - one counter or lock of a key */
static void status_line(void *arg, const char *principal, const struct store_entry *e)
{
	struct status_out *so = arg;
	struct logline line;
	char members[LOGLINE_VALUE_MAX + 1], t[40];
	size_t pos = 0;

	logline_start(&line, LOGLINE_KV, "status");
	logline_add(&line, "key", principal);
	logline_add(&line, "limit", e->limit);
	logline_add_uint(&line, "count", (unsigned long)e->count);
	logline_add_uint(&line, "max", (unsigned long)entry_max(so->p, e->limit));
	logline_add_uint(&line, "window", (unsigned long)e->window);
	if (e->lock_until != 0)
		logline_add_word(&line, "locked_until", isotime(e->lock_until, t, sizeof(t)));
	members[0] = 0;
	for (size_t i = 0; i < e->nmembers && pos + 2 < sizeof(members); i++)
		pos += (size_t)snprintf(members + pos, sizeof(members) - pos, "%s%s", i ? "," : "",
		    e->members[i]);
	if (e->nmembers > 0)
		logline_add(&line, "members", members);
	logline_end(&line);
	fprintf(so->out, "%s\n", line.buf);
	so->entries++;
}

/* key_command - status, unlock or reset of every key a selector names */
static void key_command(struct store *store, const char *cmd, const char *sel, FILE *out)
{
	struct snapshot *snap = snapshot_acquire();
	const struct policy *p = snap ? snap->config->policy : NULL;
	struct status_out so = {out, p, 0};
	key_buf keys[SELECT_MAX];
	const char *why;
	size_t n;
	long done = 0, r;

	if (select_keys(p, sel, keys, &n, &why) < 0) {
		fprintf(out, "error: %s: %s\n", sel, why);
		snapshot_release(snap);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(cmd, "status") == 0)
			r = store->ops->status(store, keys[i], status_line, &so);
		else if (strcmp(cmd, "unlock") == 0)
			r = store->ops->unlock(store, keys[i]);
		else
			r = store->ops->reset(store, keys[i]);
		if (r < 0) {
			fprintf(out, "error: the store cannot answer now\n");
			snapshot_release(snap);
			return;
		}
		done += r;
	}
	snapshot_release(snap);
	if (strcmp(cmd, "status") == 0)
		fprintf(out, "ok %zu entries\n", so.entries);
	else {
		fprintf(out, "ok %ld %s\n", done,
		    strcmp(cmd, "unlock") == 0 ? "locks lifted" : "counters cleared");
		log_info("control: %s %s: %ld %s", cmd, sel, done,
		    strcmp(cmd, "unlock") == 0 ? "locks lifted" : "counters cleared");
	}
}

/* unhex - decode a hex field in place; "-" is the empty string; -1 when not hex */
static int unhex(char *s)
{
	size_t n = strlen(s), o = 0;

	if (strcmp(s, "-") == 0) {
		s[0] = 0;
		return 0;
	}
	if (n % 2 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		char pair[3] = {s[i], s[i + 1], 0}, *end;
		unsigned long v = strtoul(pair, &end, 16);

		if (*end != 0 || v == 0)
			return -1;
		s[o++] = (char)v;
	}
	s[o] = 0;
	return 0;
}

/* The strings of the checks of one peek, decoded. */
struct peek_strings {
	char principal[LIMIT_PRINCIPAL_MAX * 2 + 1], limit[1024], member[256];
};

/* peek_check - one "check P L KIND M ADD MAX WINDOW LOCK DRY" line */
static int peek_check(char *line, struct store_check *c, struct peek_strings *ps)
{
	unsigned kind, add, window, lock, dry;
	unsigned long long max;

	if (sscanf(line, "check %600s %1023s %u %255s %u %llu %u %u %u", ps->principal, ps->limit,
		&kind, ps->member, &add, &max, &window, &lock, &dry) != 9 ||
	    unhex(ps->principal) < 0 || unhex(ps->limit) < 0 || unhex(ps->member) < 0 || kind > 1)
		return -1;
	*c = (struct store_check){ps->principal, ps->limit, kind ? STORE_DISTINCT : STORE_SUM,
	    ps->member, add, max, window, lock, dry != 0};
	return 0;
}

/* peek - explain's read-only decision: the checks, then one result line each */
static void peek(struct store *store, const char *arg, FILE *in, FILE *out)
{
	static __thread struct peek_strings ps[LIMITS_MAX];
	struct store_check checks[LIMITS_MAX];
	struct store_result res[LIMITS_MAX];
	char line[CONTROL_LINE_MAX];
	char *end;
	unsigned long n = strtoul(arg, &end, 10);

	if (*end != 0 || n == 0 || n > LIMITS_MAX) {
		fprintf(out, "error: peek: expected 1 to %d checks\n", LIMITS_MAX);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (fgets(line, sizeof(line), in) == NULL ||
		    peek_check(line, &checks[i], &ps[i]) < 0) {
			fprintf(out, "error: peek: check %zu malformed\n", i + 1);
			return;
		}
	if (store->ops->decide(store, checks, n, false, res) < 0) {
		fprintf(out, "error: the store cannot answer now\n");
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(out, "result %d %llu %lld\n", (int)res[i].status,
		    (unsigned long long)res[i].count, (long long)res[i].until);
	fprintf(out, "ok\n");
}

/* control_handle - one request line: "COMMAND ARGUMENT" */
void control_handle(struct store *store, const char *request, FILE *in, FILE *out)
{
	char line[CONTROL_LINE_MAX], *arg;

	snprintf(line, sizeof(line), "%s", request);
	line[strcspn(line, "\r\n")] = 0;
	if ((arg = strchr(line, ' ')) == NULL) {
		fprintf(out,
		    "error: expected \"COMMAND SELECTOR=VALUE\" (status, unlock, reset)\n");
		return;
	}
	*arg++ = 0;
	if (strcmp(line, "status") == 0 || strcmp(line, "unlock") == 0 ||
	    strcmp(line, "reset") == 0)
		key_command(store, line, arg, out);
	else if (strcmp(line, "peek") == 0)
		peek(store, arg, in, out);
	else
		fprintf(out, "error: unknown command \"%s\" (expected status, unlock or reset)\n",
		    line);
}

/* now_ms - the monotonic clock, for a connection's deadline */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * read_request - the whole request, up to the client's end of writing,
 * within one deadline: a client that trickles bytes is cut off after
 * IO_TIMEOUT in all, so it cannot hold the (single) server thread. The
 * length read, or -1.
 */
static ssize_t read_request(int fd, char *buf, size_t cap)
{
	long long deadline = now_ms() + IO_TIMEOUT * 1000;
	size_t len = 0;

	while (len < cap) {
		struct pollfd pfd = {fd, POLLIN, 0};
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		if ((n = read(fd, buf + len, cap - len)) < 0 && errno != EINTR)
			return -1;
		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
	}
	return (ssize_t)len;
}

/* serve_one - one connection: a request read whole, its answer, closed */
static void serve_one(struct control *c, int fd)
{
	static char buf[REQUEST_MAX + 1]; /* one connection at a time: the server's thread */
	struct timeval tv = {IO_TIMEOUT, 0};
	char line[CONTROL_LINE_MAX];
	ssize_t len = read_request(fd, buf, REQUEST_MAX);
	FILE *in = NULL, *out;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((out = fdopen(fd, "w")) == NULL) {
		close(fd);
		return;
	}
	if (len < 0)
		fprintf(out, "error: no complete request within %d s\n", IO_TIMEOUT);
	else if (len == REQUEST_MAX)
		fprintf(out, "error: request too long\n");
	else if ((in = fmemopen(buf, (size_t)len, "r")) == NULL)
		fprintf(out, "error: out of memory\n");
	else if (fgets(line, sizeof(line), in) != NULL)
		control_handle(c->store, line, in, out);
	if (in != NULL)
		fclose(in);
	fclose(out);
}

/* control_loop - accept until control_stop; a slow client costs at most IO_TIMEOUT */
static void *control_loop(void *arg)
{
	struct control *c = arg;
	struct pollfd pfd = {c->fd, POLLIN, 0};

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		int fd;

		if (poll(&pfd, 1, 500) <= 0)
			continue;
		if ((fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
			serve_one(c, fd);
	}
	return NULL;
}

/* control_open - the socket, 0600 from the start, for the daemon's user */
struct control *control_open(const char *path, const char *user)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct control *c;
	mode_t old;

	if (strlen(path) >= sizeof(sa.sun_path) || (c = calloc(1, sizeof(*c))) == NULL) {
		log_err("control socket %s: path too long, or out of memory", path);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(c->spec, sizeof(c->spec), "unix:%s", path);
	if (daemon_socket_live(c->spec)) {
		log_err("control socket %s: in use by a running process", path);
		free(c);
		return NULL;
	}
	unlink(path);      /* stale: nobody answers on it */
	old = umask(0177); /* 0600 from the start: no moment where others may connect */
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(c->fd, 16) < 0) {
		log_err("control socket %s: %s", path, strerror(errno));
		umask(old);
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return NULL;
	}
	umask(old);
	/* for the daemon's user, through a descriptor that never follows a link */
	if (daemon_socket_perms(c->spec, user, NULL, &c->ino) < 0) {
		close(c->fd);
		daemon_remove(NULL, c->spec, &c->ino);
		free(c);
		return NULL;
	}
	return c;
}

/* control_start - the thread that answers */
int control_start(struct control *c, struct store *store)
{
	c->store = store;
	if (pthread_create(&c->thread, NULL, control_loop, c) != 0) {
		log_err("control socket %s: cannot start its thread", c->path);
		return -1;
	}
	c->running = true;
	return 0;
}

/* control_stop - the thread ends within one poll interval */
void control_stop(struct control *c)
{
	if (c == NULL)
		return;
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	if (c->running)
		pthread_join(c->thread, NULL);
	close(c->fd);
	daemon_remove(NULL, c->spec, &c->ino); /* only while it is still the socket we made */
	free(c);
}
