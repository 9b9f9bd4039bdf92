/* redisbench.c - decide latency and throughput of a store (memory or Redis), for make bench */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store_open.h"
#include "store_settings.h"

#define PRINCIPALS  10000
#define MAX_SAMPLES 4000000 /* per run: enough for 64 threads at memory speed for a few s */
#define MAX_THREADS 256

struct worker {
	pthread_t th;
	unsigned seed;
	long decisions, errors;
	float *lat_us; /* this thread's share of the samples */
	long nlat, cap;
};

static struct store *store;
static double stop_at;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * checks_for - what a decision of an authenticated recipient looks like
 * under issue 13's seven limits: three sums on the login, one on the
 * client, two distinct counts; max so high that every one is admitted
 */
static size_t checks_for(unsigned *seed, struct store_check *c, char (*keys)[64])
{
	static const char *const countries[] = {"GB", "NG", "US", "DE"};
	unsigned login = (unsigned)rand_r(seed) % PRINCIPALS;

	snprintf(keys[0], 64, "login:user%u", login);
	snprintf(keys[1], 64, "client:198.51.%u.%u/32", login % 250, login / 250 % 250);
	snprintf(keys[2], 64, "198.51.%u.0/24", login % 250);
	const struct store_check all[] = {
	    {keys[0], "login-hour", STORE_SUM, NULL, 1, 1000000000, 3600, 0, false},
	    {keys[0], "login-day", STORE_SUM, NULL, 1, 1000000000, 86400, 0, false},
	    {keys[0], "login-msgs", STORE_SUM, NULL, 1, 1000000000, 86400, 0, false},
	    {keys[1], "unauth-ip", STORE_SUM, NULL, 1, 1000000000, 600, 0, false},
	    {keys[0], "travel", STORE_DISTINCT, countries[login % 4], 1, 1000, 21600, 86400, false},
	    {keys[0], "spread", STORE_DISTINCT, keys[2], 1, 1000, 3600, 7200, false},
	};
	memcpy(c, all, sizeof(all));
	return sizeof(all) / sizeof(all[0]);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct store_check c[8];
	struct store_result r[8];
	char keys[3][64];

	while (now_s() < stop_at) {
		size_t n = checks_for(&w->seed, c, keys);
		double t0 = now_s();

		if (store_decide(store, c, n, true, r) < 0)
			w->errors++;
		if (w->nlat < w->cap)
			w->lat_us[w->nlat++] = (float)((now_s() - t0) * 1e6);
		w->decisions++;
	}
	return NULL;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static struct worker w[MAX_THREADS];
	struct store_settings st = {.type = STORE_TYPE_MEMORY, .max_keys = 1000000};
	char err[512], *server = NULL;
	float *all;
	long total = 0, errors = 0, nlat = 0;
	int threads = 1, opt;
	double secs = 3, t0;

	while ((opt = getopt(argc, argv, "r:t:d:")) != -1)
		switch (opt) {
		case 'r':
			server = optarg;
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'd':
			secs = atof(optarg);
			break;
		default:
			fprintf(stderr,
			    "usage: redisbench [-r HOST:PORT] [-t THREADS] [-d SECONDS]\n");
			return 2;
		}
	if (threads < 1 || threads > MAX_THREADS)
		return 2;
	if (server != NULL) {
		st.type = STORE_TYPE_REDIS;
		st.servers = &server;
		st.nservers = 1;
		st.timeout_ms = 1000;
	}
	if ((store = store_open(&st, err, sizeof(err))) == NULL) {
		fprintf(stderr, "redisbench: %s\n", err);
		return 1;
	}
	all = malloc(MAX_SAMPLES * sizeof(*all));
	stop_at = (t0 = now_s()) + secs;
	for (int i = 0; i < threads; i++) {
		w[i].seed = (unsigned)i * 7919u + 1;
		w[i].lat_us = all + (long)i * (MAX_SAMPLES / threads);
		w[i].cap = MAX_SAMPLES / threads;
		pthread_create(&w[i].th, NULL, run, &w[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].th, NULL);
		total += w[i].decisions;
		errors += w[i].errors;
		memmove(all + nlat, w[i].lat_us, (size_t)w[i].nlat * sizeof(*all));
		nlat += w[i].nlat;
	}
	secs = now_s() - t0;
	qsort(all, (size_t)nlat, sizeof(*all), cmp_float);
	printf("store=%s threads=%d decisions=%ld errors=%ld per_s=%.0f p50_us=%.1f p99_us=%.1f\n",
	    server ? "redis" : "memory", threads, total, errors, total / secs,
	    nlat ? all[nlat / 2] : 0.0, nlat ? all[nlat * 99 / 100] : 0.0);
	store->ops->free(store);
	free(all);
	return errors != 0;
}
