/*
 * storebench - the embedded store with a million principals
 *
 * Fills a memory store with N principals (login-like keys) and reports
 * the nanoseconds per decision and the resident memory the store added
 * (VmRSS of /proc/self/status, taken after the keys were generated, so
 * only the store is charged): first with one counter a principal, then
 * with two checks per decision (a recipient count and a DISTINCT country
 * set), then two-check decisions on random principals of the full store
 * (hits only, then with 10 % newcomers that must evict), then the
 * throughput of 1, 2 and 8 threads on random principals. The store runs on its own clock
 * (CLOCK_REALTIME), as in the daemon.
 *
 *   storebench [-n PRINCIPALS] [-d DECISIONS]
 *
 * Output: Markdown table rows, then one key=value line for scripts.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memory.h"

#define SB_NEW_SHARE 10 /* percent of the mixed decisions that bring a new principal */
#define SB_REPS      3  /* thread runs, the median reported */

static const char *const sb_countries[] = {"GB", "FR", "DE", "SE"};

static char **sb_names; /* the principals, generated before any measurement */
static char **sb_fresh; /* principals the store has not seen, for the mixed run */
static size_t sb_n, sb_nfresh;
static uint64_t sb_decisions = 2000000;

/* sb_rand - xorshift64*, one state per caller */
static uint64_t sb_rand(uint64_t *st)
{
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return *st * 2685821657736338717ULL;
}

static void __attribute__((noreturn)) sb_die(const char *what)
{
	fprintf(stderr, "storebench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* sb_ns - a clock in nanoseconds */
static uint64_t sb_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* sb_rss_kb - resident memory of this process */
static long sb_rss_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(fp);
	return kb;
}

/* sb_load - the one-minute load average: other work on the host skews wall-time figures */
static double sb_load(void)
{
	double l[1];

	return getloadavg(l, 1) == 1 ? l[0] : -1;
}

/* sb_gen - count login-like names "login:<letters><i>@<domain>" */
static char **sb_gen(size_t count, const char *tag, uint64_t seed)
{
	static const char *const domains[] = {"example.org", "mail.example.net", "example.com"};
	char **v = malloc(count * sizeof(*v));
	char buf[96], user[12];

	if (v == NULL)
		sb_die("malloc");
	for (size_t i = 0; i < count; i++) {
		size_t len = 3 + sb_rand(&seed) % 6;

		for (size_t k = 0; k < len; k++)
			user[k] = (char)('a' + sb_rand(&seed) % 26);
		user[len] = '\0';
		snprintf(buf, sizeof(buf), "login:%s%s%zu@%s", user, tag, i, domains[i % 3]);
		if ((v[i] = strdup(buf)) == NULL)
			sb_die("strdup");
	}
	return v;
}

/* sb_checks - the checks of one decision on principal: one or two */
static size_t sb_checks(struct store_check *c, const char *principal, int two, uint64_t r)
{
	c[0] = (struct store_check){.principal = principal,
	    .limit = "rcpt",
	    .kind = STORE_SUM,
	    .add = 1,
	    .max = 1000,
	    .window = 3600,
	    .lock = 600};
	if (!two)
		return 1;
	c[1] = (struct store_check){.principal = principal,
	    .limit = "countries",
	    .kind = STORE_DISTINCT,
	    .member = sb_countries[r % 4],
	    .max = 3,
	    .window = 86400};
	return 2;
}

/* sb_decide - one committed decision, or die */
static void sb_decide(struct store *s, const char *principal, int two, uint64_t r)
{
	struct store_check c[2];
	struct store_result out[2];
	size_t n = sb_checks(c, principal, two, r);

	if (store_decide(s, c, n, true, out) != 0)
		sb_die("store_decide");
}

/* sb_fill - one decision per principal, in order; CPU ns per decision */
static double sb_fill(struct store *s, int two)
{
	uint64_t t0 = sb_ns(CLOCK_PROCESS_CPUTIME_ID), r = 42;

	for (size_t i = 0; i < sb_n; i++)
		sb_decide(s, sb_names[i], two, sb_rand(&r));
	return (double)(sb_ns(CLOCK_PROCESS_CPUTIME_ID) - t0) / (double)sb_n;
}

/* sb_mixed - random principals of the full store, share % of them new; CPU ns per decision */
static double sb_mixed(struct store *s, uint64_t count, uint64_t share)
{
	uint64_t t0, r = 7, x;
	size_t fresh = 0;

	t0 = sb_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (uint64_t i = 0; i < count; i++) {
		x = sb_rand(&r);
		if (x % 100 < share && fresh < sb_nfresh)
			sb_decide(s, sb_fresh[fresh++], 2, x);
		else
			sb_decide(s, sb_names[(x >> 8) % sb_n], 2, x);
	}
	return (double)(sb_ns(CLOCK_PROCESS_CPUTIME_ID) - t0) / (double)count;
}

struct sb_thread {
	struct store *s;
	uint64_t seed, count;
};

static void *sb_worker(void *arg)
{
	struct sb_thread *t = arg;
	uint64_t x;

	for (uint64_t i = 0; i < t->count; i++) {
		x = sb_rand(&t->seed);
		sb_decide(t->s, sb_names[(x >> 8) % sb_n], 2, x);
	}
	return NULL;
}

/* sb_threads - decisions per second of nthreads together (wall time) */
static double sb_threads(struct store *s, int nthreads, uint64_t total)
{
	pthread_t tid[8];
	struct sb_thread t[8];
	uint64_t per = total / (uint64_t)nthreads, t0, dt;

	t0 = sb_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < nthreads; i++) {
		t[i] = (struct sb_thread){.s = s,
		    .seed = sb_ns(CLOCK_MONOTONIC) + (uint64_t)i,
		    .count = per};
		if (pthread_create(&tid[i], NULL, sb_worker, &t[i]) != 0)
			sb_die("pthread_create");
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	dt = sb_ns(CLOCK_MONOTONIC) - t0;
	return (double)(per * (uint64_t)nthreads) * 1e9 / (double)dt;
}

/* sb_threads_median - the middle of SB_REPS runs: the host may be shared */
static double sb_threads_median(struct store *s, int nthreads)
{
	double v[SB_REPS], x;

	for (int i = 0; i < SB_REPS; i++) {
		v[i] = sb_threads(s, nthreads, sb_decisions / 2);
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			x = v[j];
			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	}
	return v[SB_REPS / 2];
}

/* sb_store - a store of sb_n principals at most */
static struct store *sb_store(void)
{
	struct store *s = memory_store_new(sb_n, NULL, NULL);

	if (s == NULL)
		sb_die("memory_store_new");
	return s;
}

/* sb_fill_row - fill a new store; print its row; the store stays for more runs */
static struct store *sb_fill_row(int two, long *kb)
{
	long before = sb_rss_kb(), after;
	struct store *s = sb_store();
	double ns = sb_fill(s, two);
	struct store_stats st;

	after = sb_rss_kb();
	s->ops->stats(s, &st);
	*kb = after - before;
	printf("| fill, %s | %zu | %.0f | %ld / %ld | %.0f | %" PRIu64 " |\n",
	    two ? "2 checks (SUM + DISTINCT)" : "1 check (SUM)", sb_n, ns, before, after,
	    (double)*kb * 1024 / (double)sb_n, st.keys);
	return s;
}

int main(int argc, char **argv)
{
	struct store *s;
	struct store_stats st;
	double hits, mixed, tps[3];
	static const int threads[3] = {1, 2, 8};
	long kb1, kb2;
	int opt;

	sb_n = 1000000;
	while ((opt = getopt(argc, argv, "n:d:")) != -1) {
		switch (opt) {
		case 'n':
			sb_n = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			sb_decisions = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: storebench [-n PRINCIPALS] [-d DECISIONS]\n");
			return 2;
		}
	}
	if (sb_n == 0 || sb_decisions == 0)
		return 2;
	sb_nfresh = (size_t)(sb_decisions * SB_NEW_SHARE / 100 + 1);
	sb_names = sb_gen(sb_n, "", 1);
	sb_fresh = sb_gen(sb_nfresh, "new", 2);

	printf(
	    "| run | principals | CPU ns/decision | RSS kB before / after | bytes/principal | keys |\n");
	printf("|---|---:|---:|---:|---:|---:|\n");
	s = sb_fill_row(0, &kb1);
	s->ops->free(s);
	malloc_trim(0); /* the next row's "before" without the first store's pages */
	s = sb_fill_row(1, &kb2);
	hits = sb_mixed(s, sb_decisions, 0);
	s->ops->stats(s, &st);
	printf("| hits: random principals of the full store | %zu | %.0f | - / %ld | | %" PRIu64
	       " (%" PRIu64 " evicted) |\n",
	    sb_n, hits, sb_rss_kb(), st.keys, st.evictions);
	mixed = sb_mixed(s, sb_decisions, SB_NEW_SHARE);
	s->ops->stats(s, &st);
	printf(
	    "| mixed: %d %% new principals, each evicting one | %zu | %.0f | - / %ld | | %" PRIu64
	    " (%" PRIu64 " evicted) |\n",
	    SB_NEW_SHARE, sb_n, mixed, sb_rss_kb(), st.keys, st.evictions);
	for (int i = 0; i < 3; i++)
		tps[i] = sb_threads_median(s, threads[i]);
	printf(
	    "\nThroughput on the full store, random principals, 2 checks, wall time, median of %d "
	    "(%ld CPUs, load average %.2f):\n\n",
	    SB_REPS, sysconf(_SC_NPROCESSORS_ONLN), sb_load());
	printf("| threads | decisions/s |\n|---:|---:|\n");
	for (int i = 0; i < 3; i++)
		printf("| %d | %.0f |\n", threads[i], tps[i]);
	printf("\nstorebench: principals=%zu kb_one_counter=%ld kb_two_checks=%ld hit_ns=%.0f "
	       "mixed_ns=%.0f tps1=%.0f tps2=%.0f tps8=%.0f\n",
	    sb_n, kb1, kb2, hits, mixed, tps[0], tps[1], tps[2]);
	s->ops->free(s);
	return 0;
}
