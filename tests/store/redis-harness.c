/* redis-harness.c - drives the Redis store through the store interface, for tests/store/redis.sh */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store_open.h"
#include "store_settings.h"

static struct store_settings st;
static struct store *store;
static uint32_t window = 3600; /* -w: the window of every check, seconds */

/* now_ms - a monotonic clock for latencies */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* log_line - the store's state changes, on stderr, for the script to count */
static void log_line(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "log %d: %s\n", level, msg);
}

static void usage(void)
{
	fprintf(stderr,
	    "usage: redis-harness [-s HOST:PORT]... [-m MASTER -S HOST:PORT...] [-p PASSWORD]\n"
	    "  [-u USER] [-e tempfail|accept|local] [-t TIMEOUT_MS] [-H HOSTS] [-P PREFIX] [-w WINDOW]\n"
	    "  CMD ...\n"
	    "  open | one P L MAX [LOCK] | burst P L MAX THREADS TRIES [LOCK]\n"
	    "  distinct P L MAX MEMBER... | run SECONDS P L MAX THREADS [LOCK]\n"
	    "  status P | unlock P | reset P | keys P L\n");
	exit(2);
}

/* add - a list setting's next entry */
static void add(char ***v, size_t *n, const char *s)
{
	*v = realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = strdup(s);
}

static void options(int argc, char **argv)
{
	int c;

	st.type = STORE_TYPE_REDIS;
	st.max_keys = 100000;
	st.timeout_ms = 100;
	st.hosts = 1;
	st.prefix = "rm:";
	st.log = log_line;
	while ((c = getopt(argc, argv, "s:S:m:p:u:e:t:H:P:d:w:")) != -1)
		switch (c) {
		case 's':
			add(&st.servers, &st.nservers, optarg);
			break;
		case 'S':
			add(&st.sentinels, &st.nsentinels, optarg);
			break;
		case 'm':
			st.sentinel_master = optarg;
			break;
		case 'p':
			st.password = optarg;
			break;
		case 'u':
			st.username = optarg;
			break;
		case 'd':
			st.database = (unsigned)atoi(optarg);
			break;
		case 'e':
			st.on_error = strcmp(optarg, "accept") == 0 ? STORE_ON_ERROR_ACCEPT :
			    strcmp(optarg, "local") == 0            ? STORE_ON_ERROR_LOCAL :
								      STORE_ON_ERROR_TEMPFAIL;
			break;
		case 't':
			st.timeout_ms = (unsigned)atoi(optarg);
			break;
		case 'H':
			st.hosts = (unsigned)atoi(optarg);
			break;
		case 'P':
			st.prefix = optarg;
			break;
		case 'w':
			window = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
}

/* check - one SUM check of one recipient */
static struct store_check check(const char *p, const char *l, const char *max, const char *lock)
{
	struct store_check c = {.principal = p,
	    .limit = l,
	    .kind = STORE_SUM,
	    .add = 1,
	    .max = strtoull(max, NULL, 10),
	    .window = window,
	    .lock = lock ? (uint32_t)atoi(lock) : 0};
	return c;
}

static const char *status_name(int rc, const struct store_result *r)
{
	if (rc < 0)
		return "ERROR";
	return r->status == STORE_OK ? "OK" : r->status == STORE_EXCEEDED ? "EXCEEDED" : "LOCKED";
}

static int cmd_one(char **a, int n)
{
	struct store_check c;
	struct store_result r;
	int rc;

	if (n < 3)
		usage();
	c = check(a[0], a[1], a[2], n > 3 ? a[3] : NULL);
	rc = store_decide(store, &c, 1, true, &r);
	printf("%s count=%llu until=%lld first=%d lock_started=%d\n", status_name(rc, &r),
	    (unsigned long long)r.count, (long long)r.until, r.first_exceeded, r.lock_started);
	return 0;
}

/* One run of many decisions over threads; what they got. */
struct tally {
	struct store_check c;
	int tries;
	double until; /* run: stop then (ms) */
	atomic_int ok, exceeded, locked, errors, late;
	atomic_llong max_us;
	double late_ms;
};

static void *worker(void *arg)
{
	struct tally *t = arg;

	for (int i = 0; t->until > 0 ? now_ms() < t->until : i < t->tries; i++) {
		struct store_result r;
		double t0 = now_ms();
		int rc = store_decide(store, &t->c, 1, true, &r);
		long long us = (long long)((now_ms() - t0) * 1000);
		long long m = atomic_load(&t->max_us);

		while (us > m && !atomic_compare_exchange_weak(&t->max_us, &m, us))
			;
		if (us > t->late_ms * 1000)
			atomic_fetch_add(&t->late, 1);
		if (rc < 0)
			atomic_fetch_add(&t->errors, 1);
		else if (r.status == STORE_OK)
			atomic_fetch_add(&t->ok, 1);
		else if (r.status == STORE_EXCEEDED)
			atomic_fetch_add(&t->exceeded, 1);
		else
			atomic_fetch_add(&t->locked, 1);
		if (t->until > 0)
			usleep(2000);
	}
	return NULL;
}

static int spread(struct tally *t, int threads)
{
	pthread_t th[256];

	if (threads < 1 || threads > 256)
		usage();
	t->late_ms = st.timeout_ms + 50; /* the margin a test allows */
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, t);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	printf("admitted=%d exceeded=%d locked=%d errors=%d late=%d max_ms=%.1f\n",
	    atomic_load(&t->ok), atomic_load(&t->exceeded), atomic_load(&t->locked),
	    atomic_load(&t->errors), atomic_load(&t->late), atomic_load(&t->max_us) / 1000.0);
	return 0;
}

static int cmd_burst(char **a, int n)
{
	static struct tally t;

	if (n < 5)
		usage();
	t.c = check(a[0], a[1], a[2], n > 5 ? a[5] : NULL);
	t.tries = atoi(a[4]);
	return spread(&t, atoi(a[3]));
}

static int cmd_run(char **a, int n)
{
	static struct tally t;

	if (n < 5)
		usage();
	t.c = check(a[1], a[2], a[3], n > 5 ? a[5] : NULL);
	t.until = now_ms() + atof(a[0]) * 1000;
	return spread(&t, atoi(a[4]));
}

static int cmd_distinct(char **a, int n)
{
	if (n < 4)
		usage();
	for (int i = 3; i < n; i++) {
		struct store_check c = check(a[0], a[1], a[2], NULL);
		struct store_result r;
		int rc;

		c.kind = STORE_DISTINCT;
		c.member = a[i];
		rc = store_decide(store, &c, 1, true, &r);
		printf("%s %s count=%llu\n", a[i], status_name(rc, &r),
		    (unsigned long long)r.count);
	}
	return 0;
}

static void print_entry(void *arg, const char *principal, const struct store_entry *e)
{
	(void)arg;
	printf("%s %s count=%llu window=%u lock_until=%lld", principal, e->limit,
	    (unsigned long long)e->count, e->window, (long long)e->lock_until);
	for (size_t i = 0; i < e->nmembers; i++)
		printf(" %s", e->members[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	char err[512];
	const char *cmd;
	int rc = 0;

	options(argc, argv);
	if (optind >= argc)
		usage();
	cmd = argv[optind];
	argv += optind + 1;
	argc -= optind + 1;
	if ((store = store_open(&st, err, sizeof(err))) == NULL) {
		printf("error: %s\n", err);
		return 1;
	}
	if (strcmp(cmd, "open") == 0)
		printf("ok\n");
	else if (strcmp(cmd, "one") == 0)
		rc = cmd_one(argv, argc);
	else if (strcmp(cmd, "burst") == 0)
		rc = cmd_burst(argv, argc);
	else if (strcmp(cmd, "run") == 0)
		rc = cmd_run(argv, argc);
	else if (strcmp(cmd, "distinct") == 0)
		rc = cmd_distinct(argv, argc);
	else if (strcmp(cmd, "status") == 0 && argc == 1)
		rc = store->ops->status(store, argv[0], print_entry, NULL) < 0;
	else if (strcmp(cmd, "unlock") == 0 && argc == 1)
		printf("unlocked=%ld\n", store->ops->unlock(store, argv[0]));
	else if (strcmp(cmd, "reset") == 0 && argc == 1)
		printf("reset=%ld\n", store->ops->reset(store, argv[0]));
	else
		usage();
	store->ops->free(store);
	return rc;
}
