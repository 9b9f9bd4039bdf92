/*
 * enginebench - how the engine's tables and decision scale with size
 *
 * For 10^3 .. 10^6 local domains and trusted networks (half IPv4, half
 * IPv6) it reports: the time to build each table (add + finish), the bytes
 * the table holds and the process's resident memory, nanoseconds per
 * lookup for hits and misses, nanoseconds per full recipient decision
 * (policy_decide: parse, domain lookup, network lookup, reply text), and
 * the time conf_load takes to read the same tables from files.
 *
 * Timing: the queries are generated beforehand (random entries, so the
 * cache sees a realistic spread), each round times one pass over them in
 * CPU time, and the median of the rounds is reported.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "domainset.h"
#include "ipaddr.h"
#include "netset.h"
#include "policy.h"

#define EB_NQ     200000 /* queries per kind and round */
#define EB_ROUNDS 9

static uint64_t eb_rng = 0x2545F4914F6CDD1DULL;
static volatile unsigned long eb_sink; /* keeps lookups from being optimised away */

/* eb_rand - xorshift64*: reproducible runs */
static uint64_t eb_rand(void)
{
	eb_rng ^= eb_rng >> 12;
	eb_rng ^= eb_rng << 25;
	eb_rng ^= eb_rng >> 27;
	return eb_rng * 2685821657736338717ULL;
}

/*
 * eb_now - CPU time of this process in nanoseconds. Not wall time: on a
 * shared host other processes preempt us, and a lookup must not be charged
 * for the time it spent waiting for a CPU (their cache pollution remains).
 * The benchmark is single-threaded, so process and thread time agree.
 */
static uint64_t eb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* eb_die - report and exit */
static void __attribute__((noreturn)) eb_die(const char *what)
{
	fprintf(stderr, "enginebench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* eb_xmalloc - malloc or die */
static void *eb_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		eb_die("malloc");
	return p;
}

/* eb_status_kb - a "Vm...:" line of /proc/self/status, in kB */
static long eb_status_kb(const char *key)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	size_t kl = strlen(key);
	long kb = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, kl) == 0)
			kb = strtol(line + kl, NULL, 10);
	fclose(fp);
	return kb;
}

/* eb_rss_kb - current resident set size (kB) */
static long eb_rss_kb(void)
{
	return eb_status_kb("VmRSS:");
}

/* eb_peak_kb - peak resident set size of the process so far (kB) */
static long eb_peak_kb(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return ru.ru_maxrss;
}

/* eb_cmp_u64 - qsort comparator */
static int eb_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* eb_median - median of n values (sorts them) */
static uint64_t eb_median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), eb_cmp_u64);
	return v[n / 2];
}

/*
 * Domain names: "<label>.<label>.<tld>" with random lower-case labels.
 * Every tenth entry is a parent (".zone.tld": its subdomains match).
 * Misses have the same shape, with a label that no entry uses (a digit
 * prefix), so a miss probes as many labels as a hit.
 */
static const char *const eb_tlds[] = {
    "example",
    "com",
    "net",
    "org",
    "de",
    "fr",
    "nl",
    "co.uk",
    "io",
    "info",
};

/* eb_label - a random lower-case label of 5..12 letters */
static void eb_label(char *out)
{
	unsigned n = 5 + (unsigned)(eb_rand() % 8), i;

	for (i = 0; i < n; i++)
		out[i] = (char)('a' + eb_rand() % 26);
	out[n] = '\0';
}

/* One generated domain table and its queries. */
struct eb_domains {
	char **entries; /* as added: "a.b.tld" or ".b.tld" */
	size_t n;
	char **q_exact, **q_sub, **q_miss;
};

/* eb_gen_domains - n entries plus EB_NQ queries of each kind */
static void eb_gen_domains(struct eb_domains *d, size_t n)
{
	char a[16], b[16], buf[300];
	size_t i, nexact = 0, nparent = 0;
	size_t *exact_idx = eb_xmalloc(n * sizeof(*exact_idx));
	size_t *parent_idx = eb_xmalloc(n * sizeof(*parent_idx));

	d->n = n;
	d->entries = eb_xmalloc(n * sizeof(*d->entries));
	for (i = 0; i < n; i++) {
		const char *tld = eb_tlds[eb_rand() % (sizeof(eb_tlds) / sizeof(eb_tlds[0]))];

		eb_label(a);
		eb_label(b);
		if (i % 10 == 9) {
			snprintf(buf, sizeof(buf), ".%s%zu.%s", b, i, tld);
			parent_idx[nparent++] = i;
		} else {
			snprintf(buf, sizeof(buf), "%s.%s%zu.%s", a, b, i, tld);
			exact_idx[nexact++] = i;
		}
		d->entries[i] = strdup(buf);
		if (d->entries[i] == NULL)
			eb_die("strdup");
	}
	d->q_exact = eb_xmalloc(EB_NQ * sizeof(char *));
	d->q_sub = eb_xmalloc(EB_NQ * sizeof(char *));
	d->q_miss = eb_xmalloc(EB_NQ * sizeof(char *));
	for (i = 0; i < EB_NQ; i++) {
		const char *e = d->entries[exact_idx[eb_rand() % nexact]];

		d->q_exact[i] = strdup(e);
		if (nparent > 0) {
			eb_label(a);
			snprintf(buf, sizeof(buf), "%s%s", a,
			    d->entries[parent_idx[eb_rand() % nparent]]);
		} else {
			snprintf(buf, sizeof(buf), "%s", e);
		}
		d->q_sub[i] = strdup(buf);
		eb_label(a);
		eb_label(b);
		snprintf(buf, sizeof(buf), "%s.9%s.%s", a, b,
		    eb_tlds[eb_rand() % (sizeof(eb_tlds) / sizeof(eb_tlds[0]))]);
		d->q_miss[i] = strdup(buf);
		if (d->q_exact[i] == NULL || d->q_sub[i] == NULL || d->q_miss[i] == NULL)
			eb_die("strdup");
	}
	free(exact_idx);
	free(parent_idx);
}

/* eb_free_domains - release a generated domain table */
static void eb_free_domains(struct eb_domains *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->entries[i]);
	for (i = 0; i < EB_NQ; i++) {
		free(d->q_exact[i]);
		free(d->q_sub[i]);
		free(d->q_miss[i]);
	}
	free(d->entries);
	free(d->q_exact);
	free(d->q_sub);
	free(d->q_miss);
}

/*
 * Networks: IPv4 entries are /24../32 inside an even-numbered /24, IPv6
 * entries /48../128 inside an even-numbered /48, so a query in an
 * odd-numbered /24 or /48 is a guaranteed miss that still lands among the
 * entries (not beyond the ends of a sorted table).
 */
struct eb_net {
	struct ipaddr addr;
	unsigned prefix;
};

struct eb_nets {
	struct eb_net *entries;
	char **text; /* "addr/prefix", as a configuration file has it */
	size_t n;
	struct ipaddr *q_hit4, *q_hit6, *q_miss4, *q_miss6;
};

/* eb_mask - clear the host bits of a beyond prefix */
static void eb_mask(struct ipaddr *a, unsigned prefix)
{
	unsigned bytes = a->family == IPADDR_V4 ? 4 : 16, i;

	for (i = 0; i < bytes; i++) {
		unsigned bit0 = i * 8;

		if (bit0 >= prefix)
			a->bytes[i] = 0;
		else if (bit0 + 8 > prefix)
			a->bytes[i] &= (uint8_t)(0xff << (8 - (prefix - bit0)));
	}
}

/* eb_random_in - a random address inside net */
static void eb_random_in(const struct eb_net *net, struct ipaddr *out)
{
	unsigned bytes = net->addr.family == IPADDR_V4 ? 4 : 16, i;

	*out = net->addr;
	for (i = 0; i < bytes; i++) {
		unsigned bit0 = i * 8;
		uint8_t r = (uint8_t)eb_rand();

		if (bit0 >= net->prefix)
			out->bytes[i] = r;
		else if (bit0 + 8 > net->prefix)
			out->bytes[i] |= (uint8_t)(r & (0xff >> (net->prefix - bit0)));
	}
}

/* eb_gen_v4 - an IPv4 entry (even /24) or a miss (odd /24) */
static void eb_gen_v4(struct ipaddr *a, bool miss)
{
	uint32_t v = (uint32_t)eb_rand();

	/* stay out of 0/8 and 224/3: the address must look like a client */
	v = (v % (0xDF000000u - 0x01000000u)) + 0x01000000u;
	if (miss)
		v |= 0x100;
	else
		v &= ~0x100u;
	a->family = IPADDR_V4;
	memset(a->bytes, 0, sizeof(a->bytes));
	a->bytes[0] = (uint8_t)(v >> 24);
	a->bytes[1] = (uint8_t)(v >> 16);
	a->bytes[2] = (uint8_t)(v >> 8);
	a->bytes[3] = (uint8_t)v;
}

/* eb_gen_v6 - an IPv6 entry in 2000::/3 (even /48) or a miss (odd /48) */
static void eb_gen_v6(struct ipaddr *a, bool miss)
{
	uint64_t hi = eb_rand(), lo = eb_rand();
	int i;

	hi = (hi & 0x1FFFFFFFFFFFFFFFULL) | 0x2000000000000000ULL;
	if (miss)
		hi |= 0x10000; /* the last bit of the /48 */
	else
		hi &= ~0x10000ULL;
	a->family = IPADDR_V6;
	for (i = 0; i < 8; i++) {
		a->bytes[i] = (uint8_t)(hi >> (56 - 8 * i));
		a->bytes[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
	}
}

/* eb_gen_nets - n entries (half IPv4, half IPv6) and their queries */
static void eb_gen_nets(struct eb_nets *t, size_t n)
{
	static const unsigned p4[] = {24, 24, 24, 25, 26, 27, 28, 29, 30, 32};
	static const unsigned p6[] = {48, 48, 48, 52, 56, 56, 60, 64, 64, 128};
	size_t i, n4 = (n + 1) / 2;

	t->n = n;
	t->entries = eb_xmalloc(n * sizeof(*t->entries));
	t->text = eb_xmalloc(n * sizeof(*t->text));
	for (i = 0; i < n; i++) {
		struct eb_net *e = &t->entries[i];
		char buf[IPADDR_STRLEN], text[IPADDR_STRLEN + 5];

		if (i < n4) {
			eb_gen_v4(&e->addr, false);
			e->prefix = p4[eb_rand() % 10];
		} else {
			eb_gen_v6(&e->addr, false);
			e->prefix = p6[eb_rand() % 10];
		}
		eb_mask(&e->addr, e->prefix);
		snprintf(text, sizeof(text), "%s/%u", ipaddr_format(&e->addr, buf, sizeof(buf)),
		    e->prefix);
		if ((t->text[i] = strdup(text)) == NULL)
			eb_die("strdup");
	}
	t->q_hit4 = eb_xmalloc(EB_NQ * sizeof(struct ipaddr));
	t->q_hit6 = eb_xmalloc(EB_NQ * sizeof(struct ipaddr));
	t->q_miss4 = eb_xmalloc(EB_NQ * sizeof(struct ipaddr));
	t->q_miss6 = eb_xmalloc(EB_NQ * sizeof(struct ipaddr));
	for (i = 0; i < EB_NQ; i++) {
		eb_random_in(&t->entries[eb_rand() % n4], &t->q_hit4[i]);
		eb_random_in(&t->entries[n4 + eb_rand() % (n - n4 > 0 ? n - n4 : 1)],
		    &t->q_hit6[i]);
		eb_gen_v4(&t->q_miss4[i], true);
		eb_gen_v6(&t->q_miss6[i], true);
	}
}

/* eb_free_nets - release a generated network table */
static void eb_free_nets(struct eb_nets *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->text[i]);
	free(t->text);
	free(t->entries);
	free(t->q_hit4);
	free(t->q_hit6);
	free(t->q_miss4);
	free(t->q_miss6);
}

/* eb_time_domains - median ns per domainset_contains over queries q */
static double eb_time_domains(const struct domainset *set, char **q, bool want)
{
	uint64_t r[EB_ROUNDS];
	size_t *len = eb_xmalloc(EB_NQ * sizeof(*len));
	unsigned k;
	size_t i, wrong = 0;

	for (i = 0; i < EB_NQ; i++)
		len[i] = strlen(q[i]);
	for (k = 0; k < EB_ROUNDS; k++) {
		uint64_t t0 = eb_now();
		unsigned long hits = 0;

		for (i = 0; i < EB_NQ; i++)
			hits += domainset_contains(set, q[i], len[i]);
		r[k] = eb_now() - t0;
		eb_sink += hits;
		wrong = want ? EB_NQ - hits : hits;
	}
	free(len);
	if (wrong != 0)
		fprintf(stderr, "enginebench: domain lookups: %zu of %d answers wrong\n", wrong,
		    EB_NQ);
	return (double)eb_median(r, EB_ROUNDS) / EB_NQ;
}

/* eb_time_nets - median ns per netset_contains over queries q */
static double eb_time_nets(const struct netset *set, const struct ipaddr *q, bool want)
{
	uint64_t r[EB_ROUNDS];
	unsigned k;
	size_t i, wrong = 0;

	for (k = 0; k < EB_ROUNDS; k++) {
		uint64_t t0 = eb_now();
		unsigned long hits = 0;

		for (i = 0; i < EB_NQ; i++)
			hits += netset_contains(set, &q[i]);
		r[k] = eb_now() - t0;
		eb_sink += hits;
		wrong = want ? EB_NQ - hits : hits;
	}
	if (wrong != 0)
		fprintf(stderr, "enginebench: network lookups: %zu of %d answers wrong\n", wrong,
		    EB_NQ);
	return (double)eb_median(r, EB_ROUNDS) / EB_NQ;
}

/* Recipient decisions: one pre-built set of facts per query. */
enum eb_case {
	EB_LOCAL,
	EB_TRUSTED,
	EB_DENIED,
	EB_NCASE
};
static const char *const eb_case_names[EB_NCASE] = {"local", "trusted", "denied"};

/*
 * eb_time_decide - median ns per policy_decide for one case. The facts of
 * consecutive decisions lie next to each other in memory, as a recipient
 * the MTA just sent is hot in cache; the tables are what is probed at random.
 */
static double eb_time_decide(const struct policy *p, const struct eb_domains *d,
    const struct eb_nets *t, enum eb_case which)
{
	enum {
		NDQ = EB_NQ / 4,
		RLEN = 128
	};
	char *rcpt = eb_xmalloc((size_t)NDQ * RLEN);
	struct ipaddr *client = eb_xmalloc(NDQ * sizeof(*client));
	uint64_t r[EB_ROUNDS];
	enum action want = which == EB_DENIED ? ACTION_REJECT : ACTION_ACCEPT;
	size_t i, wrong = 0;
	unsigned k;

	for (i = 0; i < NDQ; i++) {
		size_t j = eb_rand() % EB_NQ;

		snprintf(rcpt + i * RLEN, RLEN, "<user%zu@%s>", i,
		    which == EB_LOCAL ? d->q_exact[j] : d->q_miss[j]);
		if (which == EB_TRUSTED)
			client[i] = (i & 1) ? t->q_hit6[j] : t->q_hit4[j];
		else
			client[i] = (i & 1) ? t->q_miss6[j] : t->q_miss4[j];
	}
	for (k = 0; k < EB_ROUNDS; k++) {
		uint64_t t0 = eb_now();
		unsigned long ok = 0;

		for (i = 0; i < NDQ; i++) {
			struct facts f;
			struct verdict v;

			memset(&f, 0, sizeof(f));
			f.client = &client[i];
			f.helo = "client.example";
			f.sender = "<sender@remote.example>";
			f.rcpt = rcpt + i * RLEN;
			policy_decide(p, &f, &v, NULL);
			ok += v.action == want;
		}
		r[k] = eb_now() - t0;
		eb_sink += ok;
		wrong = NDQ - ok;
	}
	if (wrong != 0)
		fprintf(stderr, "enginebench: %s decisions: %zu of %d verdicts wrong\n",
		    eb_case_names[which], wrong, NDQ);
	free(rcpt);
	free(client);
	return (double)eb_median(r, EB_ROUNDS) / NDQ;
}

/* eb_write_tables - the generated tables as the files a configuration names */
static int eb_write_tables(const char *dir, const struct eb_domains *d, const struct eb_nets *t,
    char *conf, size_t conflen)
{
	char dpath[4096], npath[4096];
	FILE *fp;
	size_t i;

	snprintf(dpath, sizeof(dpath), "%s/domains.txt", dir);
	snprintf(npath, sizeof(npath), "%s/networks.txt", dir);
	snprintf(conf, conflen, "%s/bench.conf", dir);
	if ((fp = fopen(dpath, "w")) == NULL)
		return -1;
	fputs("# generated by enginebench\n", fp);
	for (i = 0; i < d->n; i++)
		fprintf(fp, "%s\n", d->entries[i]);
	if (fclose(fp) != 0)
		return -1;
	if ((fp = fopen(npath, "w")) == NULL)
		return -1;
	for (i = 0; i < t->n; i++)
		fprintf(fp, "%s\n", t->text[i]);
	if (fclose(fp) != 0)
		return -1;
	if ((fp = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(fp,
	    "local_domains = [ \"%s\" ];\ntrusted_networks = [ \"%s\" ];\n"
	    "authenticated_relay = true;\n",
	    dpath, npath);
	if (fclose(fp) != 0)
		return -1;
	chmod(conf, 0644);
	chmod(dpath, 0644);
	chmod(npath, 0644);
	return 0;
}

/*
 * eb_time_conf - load the tables written to dir with conf_load in a fresh
 * child process (this program run with -l), so its peak RSS is that of
 * the configuration alone (what the daemon holds), not of this program's
 * generators. Returns seconds, or -1;
 * *peak_mb gets the child's peak RSS.
 */
static double eb_time_conf(const char *dir, const struct eb_domains *d, const struct eb_nets *t,
    double *peak_mb)
{
	char conf[4200];
	int fds[2], status;
	pid_t pid;
	double res[2] = {-1, -1};

	*peak_mb = -1;
	if (eb_write_tables(dir, d, t, conf, sizeof(conf)) != 0) {
		fprintf(stderr, "enginebench: cannot write tables to %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	if (pipe(fds) != 0)
		eb_die("pipe");
	fflush(stdout);
	if ((pid = fork()) < 0)
		eb_die("fork");
	if (pid == 0) {
		char fdarg[16];

		/* a fresh image: the child's RSS must not include ours */
		close(fds[0]);
		snprintf(fdarg, sizeof(fdarg), "%d", fds[1]);
		execl("/proc/self/exe", "enginebench", "-l", conf, "-w", fdarg, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (read(fds[0], res, sizeof(res)) != (ssize_t)sizeof(res))
		res[0] = -1;
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		res[0] = -1;
	*peak_mb = res[1];
	return res[0];
}

/* eb_child_load - the -l mode: time one conf_load, write seconds to fd */
static int eb_child_load(const char *conf, int fd)
{
	struct conf_errors errs = {0};
	struct config *cfg;
	uint64_t t0, t1;
	double res[2];

	t0 = eb_now();
	cfg = conf_load(conf, &errs);
	t1 = eb_now();
	if (cfg == NULL) {
		size_t i;

		for (i = 0; i < errs.n && i < 5; i++)
			fprintf(stderr, "enginebench: conf_load: %s\n", errs.msgs[i]);
		return 1;
	}
	/* VmHWM belongs to this image only; ru_maxrss would include the
	 * parent's pages counted before exec */
	res[0] = (double)(t1 - t0) / 1e9;
	res[1] = eb_status_kb("VmHWM:") / 1024.0;
	if (write(fd, res, sizeof(res)) != (ssize_t)sizeof(res))
		return 1;
	conf_free(cfg);
	conf_errors_free(&errs);
	return 0;
}

/* eb_usage - synopsis */
static void __attribute__((noreturn)) eb_usage(void)
{
	fputs("usage: enginebench [-m MAXSIZE] [-C TMPDIR] [-k]\n"
	      "  -m  largest table size (power of ten, default 1000000)\n"
	      "  -C  also time conf_load of the tables written under TMPDIR\n"
	      "  -k  key=value lines for scripts instead of the table\n",
	    stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	size_t max = 1000000, n;
	const char *confdir = NULL, *childconf = NULL;
	bool keyval = false;
	int ch, childfd = -1;

	while ((ch = getopt(argc, argv, "m:C:kl:w:h")) != -1) {
		switch (ch) {
		case 'l':
			childconf = optarg;
			break;
		case 'w':
			childfd = atoi(optarg);
			break;
		case 'm': {
			char *end;

			errno = 0;
			max = strtoul(optarg, &end, 10);
			if (errno || *end != '\0' || max < 1000 || max > 10000000)
				eb_usage();
			break;
		}
		case 'C':
			confdir = optarg;
			break;
		case 'k':
			keyval = true;
			break;
		default:
			eb_usage();
		}
	}
	if (optind != argc)
		eb_usage();
	if (childconf != NULL)
		return eb_child_load(childconf, childfd);

	if (!keyval)
		printf(
		    "| entries | domains load ms | domains MB | nets load ms | nets MB | RSS growth MB"
		    " | peak RSS MB | dom exact ns | dom sub ns | dom miss ns | v4 hit ns | v4 miss ns"
		    " | v6 hit ns | v6 miss ns | decide local ns | decide trusted ns | decide denied ns"
		    " | conf_load s | conf_load peak RSS MB |\n"
		    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (n = 1000; n <= max; n *= 10) {
		struct eb_domains d;
		struct eb_nets t;
		struct domainset *ds;
		struct netset *ns;
		struct policy *p;
		const char *why = NULL;
		uint64_t t0, t_dom, t_net;
		long rss0, rss1;
		double dx, dsub, dmiss, h4, m4, h6, m6, dec[EB_NCASE], conf_s = -1, conf_mb = -1;
		size_t i;
		int e;

		eb_gen_domains(&d, n);
		eb_gen_nets(&t, n);
		rss0 = eb_rss_kb();

		t0 = eb_now();
		if ((ds = domainset_new()) == NULL)
			eb_die("domainset_new");
		for (i = 0; i < n; i++)
			if (domainset_add(ds, d.entries[i], &why) != 0) {
				fprintf(stderr, "enginebench: domainset_add %s: %s\n", d.entries[i],
				    why);
				return 1;
			}
		domainset_finish(ds);
		t_dom = eb_now() - t0;

		t0 = eb_now();
		if ((ns = netset_new()) == NULL)
			eb_die("netset_new");
		for (i = 0; i < n; i++)
			if (netset_add(ns, t.text[i], &why) != 0) {
				fprintf(stderr, "enginebench: netset_add %s: %s\n", t.text[i], why);
				return 1;
			}
		netset_finish(ns);
		t_net = eb_now() - t0;
		rss1 = eb_rss_kb();

		dx = eb_time_domains(ds, d.q_exact, true);
		dsub = eb_time_domains(ds, d.q_sub, true);
		dmiss = eb_time_domains(ds, d.q_miss, false);
		h4 = eb_time_nets(ns, t.q_hit4, true);
		m4 = eb_time_nets(ns, t.q_miss4, false);
		h6 = eb_time_nets(ns, t.q_hit6, true);
		m6 = eb_time_nets(ns, t.q_miss6, false);

		if ((p = policy_new()) == NULL)
			eb_die("policy_new");
		p->local_domains = ds;
		p->trusted_networks = ns;
		p->authenticated_relay = true;
		for (e = 0; e < EB_NCASE; e++)
			dec[e] = eb_time_decide(p, &d, &t, (enum eb_case)e);

		if (!keyval)
			printf("| %zu | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f", n, t_dom / 1e6,
			    domainset_memory(ds) / 1048576.0, t_net / 1e6,
			    netset_memory(ns) / 1048576.0, (rss1 - rss0) / 1024.0,
			    eb_peak_kb() / 1024.0);
		else
			printf(
			    "enginebench: entries=%zu dom_load_ms=%.1f dom_mb=%.2f net_load_ms=%.1f"
			    " net_mb=%.2f rss_growth_mb=%.1f peak_rss_mb=%.1f",
			    n, t_dom / 1e6, domainset_memory(ds) / 1048576.0, t_net / 1e6,
			    netset_memory(ns) / 1048576.0, (rss1 - rss0) / 1024.0,
			    eb_peak_kb() / 1024.0);
		policy_free(p); /* frees ds and ns too */

		if (confdir != NULL)
			conf_s = eb_time_conf(confdir, &d, &t, &conf_mb);
		if (!keyval) {
			printf(
			    " | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f",
			    dx, dsub, dmiss, h4, m4, h6, m6, dec[EB_LOCAL], dec[EB_TRUSTED],
			    dec[EB_DENIED]);
			if (conf_s >= 0)
				printf(" | %.2f | %.1f |\n", conf_s, conf_mb);
			else
				printf(" | - | - |\n");
		} else {
			printf(
			    " dom_exact_ns=%.1f dom_sub_ns=%.1f dom_miss_ns=%.1f v4_hit_ns=%.1f"
			    " v4_miss_ns=%.1f v6_hit_ns=%.1f v6_miss_ns=%.1f decide_local_ns=%.1f"
			    " decide_trusted_ns=%.1f decide_denied_ns=%.1f conf_load_s=%.3f"
			    " conf_peak_rss_mb=%.1f\n",
			    dx, dsub, dmiss, h4, m4, h6, m6, dec[EB_LOCAL], dec[EB_TRUSTED],
			    dec[EB_DENIED], conf_s, conf_mb);
		}
		fflush(stdout);
		eb_free_domains(&d);
		eb_free_nets(&t);
	}
	return 0;
}
