/* check_store.c - the embedded store: rolling windows, locks, all-or-nothing, memory, threads */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memory.h"
#include "siphash.h"
#include "store_open.h"
#include "unit.h"

/* The clock of the store under test: set by the test, never slept for. */
static int64_t clk;
#define T0 1700000000000LL /* a Unix time in ms, on a whole second */

static int64_t test_now(void *arg)
{
	(void)arg;
	return __atomic_load_n(&clk, __ATOMIC_RELAXED);
}

static void set_clock(int64_t ms)
{
	__atomic_store_n(&clk, ms, __ATOMIC_RELAXED);
}

static struct store *new_store(uint64_t max_keys)
{
	struct store *s = memory_store_new(max_keys, test_now, NULL);

	ck_assert_ptr_nonnull(s);
	return s;
}

static struct store_check sum_check(const char *principal, const char *limit, uint64_t max,
    uint32_t window)
{
	struct store_check c = {.principal = principal,
	    .limit = limit,
	    .kind = STORE_SUM,
	    .add = 1,
	    .max = max,
	    .window = window};

	return c;
}

static struct store_check distinct_check(const char *principal, const char *limit,
    const char *member, uint64_t max, uint32_t window)
{
	struct store_check c = {.principal = principal,
	    .limit = limit,
	    .kind = STORE_DISTINCT,
	    .member = member,
	    .max = max,
	    .window = window};

	return c;
}

/* decide1 - one check, committed */
static enum store_status decide1(struct store *s, const struct store_check *c,
    struct store_result *r)
{
	struct store_result spare;

	if (r == NULL)
		r = &spare;
	ck_assert_int_eq(store_decide(s, c, 1, true, r), 0);
	return r->status;
}

/* What status reports of one principal. */
struct seen {
	int n;
	uint64_t count;
	uint32_t window;
	int64_t lock_until;
	size_t nmembers;
	char members[8][80];
};

static void collect(void *arg, const char *principal, const struct store_entry *e)
{
	struct seen *sn = arg;

	(void)principal;
	sn->n++;
	sn->count = e->count;
	sn->window = e->window;
	sn->lock_until = e->lock_until;
	sn->nmembers = e->nmembers;
	for (size_t i = 0; i < e->nmembers && i < 8; i++)
		snprintf(sn->members[i], sizeof(sn->members[i]), "%s", e->members[i]);
}

static struct seen status_of(struct store *s, const char *principal)
{
	struct seen sn;

	memset(&sn, 0, sizeof(sn));
	ck_assert_int_eq(s->ops->status(s, principal, collect, &sn), 0);
	return sn;
}

static struct store_stats stats_of(struct store *s)
{
	struct store_stats st;

	s->ops->stats(s, &st);
	return st;
}

/* same_shard - n principal names "PREFIX<i>" that all live in one shard */
static void same_shard(struct store *s, const char *prefix, char names[][32], int n)
{
	int found = 0;

	for (int i = 0; found < n; i++) {
		snprintf(names[found], 32, "%s%d", prefix, i);
		if (found == 0 ||
		    memory_store_shard(s, names[found]) == memory_store_shard(s, names[0]))
			found++;
	}
}

START_TEST(test_sum_counts_to_max)
{
	struct store *s = new_store(1000);
	struct store_check c = sum_check("login:alice", "rcpt", 3, 60);
	struct store_result r;

	set_clock(T0);
	for (uint64_t i = 1; i <= 3; i++) {
		ck_assert_int_eq(decide1(s, &c, &r), STORE_OK);
		ck_assert_uint_eq(r.count, i);
	}
	ck_assert_int_eq(decide1(s, &c, &r), STORE_EXCEEDED);
	ck_assert_uint_eq(r.count, 3);
	ck_assert(r.first_exceeded);
	ck_assert(!r.lock_started);
	c.add = 5; /* an add larger than max never fits */
	c.max = 4;
	ck_assert_int_eq(decide1(s, &c, &r), STORE_EXCEEDED);
	s->ops->free(s);
}
END_TEST

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

/* next_arrival - the adversary's next time: bursts, slot edges, window edges */
static int64_t next_arrival(int64_t t, int64_t slot, int64_t wms)
{
	switch (rnd(6)) {
	case 0:
		return t; /* same instant */
	case 1:
		return t + 1; /* burst */
	case 2:
		return (t / slot + 1) * slot - 1; /* last ms of this slot */
	case 3:
		return (t / slot + 1) * slot; /* first ms of the next */
	case 4:
		return t + wms - (int64_t)rnd(3) + 1; /* about one window on */
	default:
		return t + (int64_t)rnd((uint64_t)wms); /* anywhere in the window */
	}
}

/*
 * Every span of W holds at most max admissions (checked by brute force
 * over the admitted times), and every refusal had at least max-add+1
 * admissions in the last (STORE_SLOTS + 1) slots: refused at most one slot early.
 */
START_TEST(test_never_over_admits)
{
	static const uint32_t windows[] = {1, 7, 60, 96, 100, 3600, 86400, 30 * 86400};
	uint32_t window = windows[_i % 8];
	int64_t wms = (int64_t)window * 1000, slot = (wms + STORE_SLOTS - 1) / STORE_SLOTS;
	uint64_t max;
	struct store *s = new_store(1000);
	struct store_check c = sum_check("client:192.0.2.7", "msgs", 1, window);
	enum {
		N = 3000
	};
	static int64_t adm[N];
	int nadm = 0, j;
	int64_t t;

	rng ^= (uint64_t)(_i + 1) * 0x9E3779B97F4A7C15ULL; /* each case its own arrivals */
	t = T0 + (int64_t)rnd(100000);
	max = 1 + rnd(20);
	c.max = max;

	if (slot < 1)
		slot = 1;
	for (int k = 0; k < N; k++) {
		struct store_result r;

		t = next_arrival(t, slot, wms);
		set_clock(t);
		if (decide1(s, &c, &r) == STORE_OK) {
			adm[nadm++] = t;
			continue;
		}
		for (j = nadm; j > 0 && adm[j - 1] > t - (STORE_SLOTS + 1) * slot; j--)
			;
		ck_assert_msg((uint64_t)(nadm - j) >= max,
		    "window %u max %lu: refused at %lld with only %d in the last %d slots", window,
		    (unsigned long)max, (long long)t, nadm - j, STORE_SLOTS + 1);
	}
	for (int i = 0; i < nadm; i++) {
		for (j = i; j < nadm && adm[j] < adm[i] + wms; j++)
			;
		ck_assert_msg((uint64_t)(j - i) <= max,
		    "window %u max %lu: %d admitted in [%lld, +W)", window, (unsigned long)max,
		    j - i, (long long)adm[i]);
	}
	ck_assert_int_gt(nadm, 0);
	s->ops->free(s);
}
END_TEST

/* W = 96 s: slots of one second. An admission still counts at t0 + W, not at t0 + W + slot. */
START_TEST(test_window_boundary)
{
	static const int64_t offsets[] = {0, 123, 999};
	struct store *s = new_store(1000);
	struct store_check c = sum_check("login:bob", "rcpt", 1, 96);
	int64_t t0 = T0 + offsets[_i];
	struct store_result r;

	set_clock(t0);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	set_clock(t0 + 96000 - 1);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_EXCEEDED);
	set_clock(t0 + 96000);
	ck_assert_int_eq(decide1(s, &c, &r), STORE_EXCEEDED);
	ck_assert_uint_eq(r.count, 1);
	set_clock(t0 + 96000 + 1000);
	ck_assert_int_eq(decide1(s, &c, &r), STORE_OK);
	ck_assert_uint_eq(r.count, 1);
	s->ops->free(s);
}
END_TEST

START_TEST(test_clock_backward)
{
	struct store *s = new_store(1000);
	struct store_check c = sum_check("login:carol", "rcpt", 3, 60);
	struct store_check l = sum_check("login:carol", "burst", 1, 60);
	struct store_result r;

	l.lock = 600;
	set_clock(T0);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	ck_assert_int_eq(decide1(s, &l, NULL), STORE_OK);
	ck_assert_int_eq(decide1(s, &l, &r), STORE_EXCEEDED);
	ck_assert(r.lock_started);
	/* an hour back: what was counted "in the future" still counts */
	set_clock(T0 - 3600 * 1000);
	ck_assert_int_eq(decide1(s, &c, &r), STORE_OK);
	ck_assert_uint_eq(r.count, 3);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_EXCEEDED);
	ck_assert_int_eq(decide1(s, &l, NULL), STORE_LOCKED);
	/* the add made while behind went into the later slot: all free one window after it */
	set_clock(T0 + 60000 - 1);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_EXCEEDED);
	set_clock(T0 + 61000);
	ck_assert_int_eq(decide1(s, &c, &r), STORE_OK);
	ck_assert_uint_eq(r.count, 1);
	s->ops->free(s);
}
END_TEST

/* A step forward ages everything: counts and locks it jumps over are over. */
START_TEST(test_clock_forward)
{
	struct store *s = new_store(1000);
	struct store_check c = sum_check("login:dave", "rcpt", 1, 3600);
	struct store_result r;

	c.lock = 600;
	set_clock(T0);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_EXCEEDED);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_LOCKED);
	set_clock(T0 + 2 * 86400 * 1000LL);
	ck_assert_int_eq(decide1(s, &c, &r), STORE_OK);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_uint_eq(stats_of(s).locks, 0);
	s->ops->free(s);
}
END_TEST

START_TEST(test_distinct)
{
	struct store *s = new_store(1000);
	struct store_check gb = distinct_check("login:erin", "countries", "GB", 2, 3600);
	struct store_check fr = gb, de = gb;
	struct store_result r;
	struct seen sn;

	fr.member = "FR";
	de.member = "DE";
	set_clock(T0);
	ck_assert_int_eq(decide1(s, &gb, &r), STORE_OK);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_int_eq(decide1(s, &fr, &r), STORE_OK);
	ck_assert_uint_eq(r.count, 2);
	ck_assert_int_eq(decide1(s, &gb, &r), STORE_OK); /* refresh */
	ck_assert_uint_eq(r.count, 2);
	ck_assert_int_eq(decide1(s, &de, &r), STORE_EXCEEDED);
	ck_assert_uint_eq(r.count, 2);
	ck_assert(r.first_exceeded);
	sn = status_of(s, "login:erin");
	ck_assert_int_eq(sn.n, 1);
	ck_assert_uint_eq(sn.count, 2);
	ck_assert_uint_eq(sn.nmembers, 2);
	ck_assert(strcmp(sn.members[0], "DE") != 0 && strcmp(sn.members[1], "DE") != 0);
	/* GB seen again half an hour later: FR expires first */
	set_clock(T0 + 1800 * 1000);
	ck_assert_int_eq(decide1(s, &gb, NULL), STORE_OK);
	set_clock(T0 + 3600 * 1000 + 37500);
	ck_assert_int_eq(decide1(s, &de, &r), STORE_OK);
	ck_assert_uint_eq(r.count, 2);
	ck_assert_int_eq(decide1(s, &fr, NULL), STORE_EXCEEDED);
	s->ops->free(s);
}
END_TEST

/* names longer than an entry holds in place: kept whole, freed when they expire */
START_TEST(test_distinct_long_members)
{
	static const char *const m[] = {"ffff:ffff:ffff:ffff::/64", "2001:db8:abcd:ef01::/64",
	    "a-member-name-much-longer-than-any-network-or-country-code-is"};
	struct store *s = new_store(1000);
	struct store_check c = distinct_check("login:leo", "nets", m[0], 2, 60);
	struct store_result r;
	struct seen sn;

	set_clock(T0);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	ck_assert_int_eq(decide1(s, &c, &r), STORE_OK);
	ck_assert_uint_eq(r.count, 1);
	c.member = m[1];
	ck_assert_int_eq(decide1(s, &c, &r), STORE_OK);
	ck_assert_uint_eq(r.count, 2);
	c.member = m[2];
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_EXCEEDED);
	sn = status_of(s, "login:leo");
	ck_assert_uint_eq(sn.nmembers, 2);
	ck_assert(strcmp(sn.members[0], m[0]) == 0 || strcmp(sn.members[1], m[0]) == 0);
	ck_assert(strcmp(sn.members[0], m[1]) == 0 || strcmp(sn.members[1], m[1]) == 0);
	set_clock(T0 + 120 * 1000); /* both expire; the long one takes their place */
	ck_assert_int_eq(decide1(s, &c, &r), STORE_OK);
	ck_assert_uint_eq(r.count, 1);
	sn = status_of(s, "login:leo");
	ck_assert_uint_eq(sn.nmembers, 1);
	ck_assert_str_eq(sn.members[0], m[2]);
	s->ops->free(s);
}
END_TEST

/* dry_run may go past max, but the set stays bounded */
START_TEST(test_distinct_capped)
{
	struct store *s = new_store(1000);
	struct store_check c = distinct_check("client:198.51.100.1", "nets", NULL, 1, 3600);
	char member[16];
	struct seen sn;

	c.dry_run = true;
	set_clock(T0);
	for (int i = 0; i < 200; i++) {
		snprintf(member, sizeof(member), "m%d", i);
		c.member = member;
		ck_assert_int_eq(decide1(s, &c, NULL), i == 0 ? STORE_OK : STORE_EXCEEDED);
	}
	sn = status_of(s, "client:198.51.100.1");
	ck_assert_uint_le(sn.nmembers, 1 + 16);
	ck_assert_uint_ge(sn.nmembers, 2);
	s->ops->free(s);
}
END_TEST

START_TEST(test_lock_lifecycle)
{
	struct store *s = new_store(1000);
	struct store_check c = sum_check("login:frank", "rcpt", 1, 60);
	struct store_result r;
	struct seen sn;
	int64_t until;

	c.lock = 600;
	set_clock(T0 + 500);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	ck_assert_int_eq(decide1(s, &c, &r), STORE_EXCEEDED);
	ck_assert(r.lock_started);
	ck_assert_int_eq(r.until, T0 / 1000 + 600);
	until = r.until;
	ck_assert_uint_eq(stats_of(s).locks, 1);
	ck_assert_int_eq(decide1(s, &c, &r), STORE_LOCKED);
	ck_assert(!r.lock_started);
	ck_assert(!r.first_exceeded);
	ck_assert_int_eq(r.until, until);
	sn = status_of(s, "login:frank");
	ck_assert_int_eq(sn.lock_until, until);
	/* held to its last millisecond, then over (the count, 60 s, long gone) */
	set_clock(until * 1000 - 1);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_LOCKED);
	set_clock(until * 1000);
	ck_assert_int_eq(decide1(s, &c, &r), STORE_OK);
	ck_assert_uint_eq(stats_of(s).locks, 0);
	/* locked again; reset forgets the count, not the lock; unlock lifts it */
	ck_assert_int_eq(decide1(s, &c, &r), STORE_EXCEEDED);
	ck_assert(r.lock_started);
	ck_assert_int_eq(s->ops->reset(s, "login:frank"), 1);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_LOCKED);
	ck_assert_int_eq(s->ops->unlock(s, "login:frank"), 1);
	ck_assert_uint_eq(stats_of(s).locks, 0);
	ck_assert_int_eq(decide1(s, &c, &r), STORE_OK);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_int_eq(s->ops->unlock(s, "login:frank"), 0);
	ck_assert_int_eq(s->ops->unlock(s, "login:nobody"), 0);
	ck_assert_int_eq(s->ops->reset(s, "login:nobody"), 0);
	s->ops->free(s);
}
END_TEST

START_TEST(test_first_exceeded_once)
{
	struct store *s = new_store(1000);
	struct store_check c = sum_check("login:grace", "rcpt", 1, 60);
	struct store_result r;

	set_clock(T0);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	ck_assert_int_eq(decide1(s, &c, &r), STORE_EXCEEDED);
	ck_assert(r.first_exceeded);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(decide1(s, &c, &r), STORE_EXCEEDED);
		ck_assert(!r.first_exceeded);
	}
	set_clock(T0 + 61000);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	ck_assert_int_eq(decide1(s, &c, &r), STORE_EXCEEDED);
	ck_assert(r.first_exceeded);
	s->ops->free(s);
}
END_TEST

/* _i 0: two shards; _i 1: one shard holding both principals */
START_TEST(test_all_or_nothing)
{
	struct store *s = new_store(1000);
	char names[2][32];
	struct store_check c[2];
	struct store_result r[2];

	if (_i == 1) {
		same_shard(s, "client:", names, 2);
	} else {
		snprintf(names[0], 32, "login:heidi");
		for (int i = 0;; i++) {
			snprintf(names[1], 32, "client:%d", i);
			if (memory_store_shard(s, names[1]) != memory_store_shard(s, names[0]))
				break;
		}
	}
	c[0] = sum_check(names[0], "rcpt", 5, 60);
	c[1] = sum_check(names[1], "rcpt", 1, 60);
	set_clock(T0);
	ck_assert_int_eq(store_decide(s, c, 2, true, r), 0);
	ck_assert(r[0].status == STORE_OK && r[1].status == STORE_OK);
	ck_assert(r[0].count == 1 && r[1].count == 1);
	ck_assert_int_eq(store_decide(s, c, 2, true, r), 0);
	ck_assert_int_eq(r[0].status, STORE_OK);
	ck_assert_int_eq(r[1].status, STORE_EXCEEDED);
	ck_assert_uint_eq(r[0].count, 1); /* as found: not counted */
	ck_assert_uint_eq(status_of(s, names[0]).count, 1);
	ck_assert_int_eq(decide1(s, &c[0], &r[0]), STORE_OK);
	ck_assert_uint_eq(r[0].count, 2);
	s->ops->free(s);
}
END_TEST

START_TEST(test_dry_run)
{
	struct store *s = new_store(1000);
	struct store_check c[2];
	struct store_result r[2];
	int firsts = 0;

	c[0] = sum_check("login:ivan", "rcpt", 10, 60);
	c[1] = sum_check("login:ivan", "trial", 1, 60);
	c[1].dry_run = true;
	c[1].lock = 600;
	set_clock(T0);
	for (uint64_t i = 1; i <= 4; i++) {
		ck_assert_int_eq(store_decide(s, c, 2, true, r), 0);
		ck_assert_int_eq(r[0].status, STORE_OK);
		ck_assert_int_eq(r[1].status, i == 1 ? STORE_OK : STORE_EXCEEDED);
		ck_assert_uint_eq(r[1].count, i); /* counted though over */
		ck_assert(!r[1].lock_started);
		firsts += r[1].first_exceeded;
	}
	ck_assert_int_eq(firsts, 1);
	ck_assert_uint_eq(stats_of(s).locks, 0);
	/* refused by the enforced check: the dry_run one is not counted either */
	c[0].max = 4;
	ck_assert_int_eq(store_decide(s, c, 2, true, r), 0);
	ck_assert_int_eq(r[0].status, STORE_EXCEEDED);
	ck_assert_uint_eq(r[1].count, 4);
	s->ops->free(s);
}
END_TEST

START_TEST(test_peek_changes_nothing)
{
	struct store *s = new_store(1000);
	struct store_check c = sum_check("login:judy", "rcpt", 1, 60);
	struct store_result r;

	c.lock = 600;
	set_clock(T0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(store_decide(s, &c, 1, false, &r), 0);
		ck_assert_int_eq(r.status, STORE_OK);
		ck_assert_uint_eq(r.count, 0);
	}
	ck_assert_uint_eq(stats_of(s).keys, 0);
	ck_assert_int_eq(status_of(s, "login:judy").n, 0);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(store_decide(s, &c, 1, false, &r), 0);
		ck_assert_int_eq(r.status, STORE_EXCEEDED);
		ck_assert_uint_eq(r.count, 1);
		ck_assert(!r.lock_started && !r.first_exceeded);
	}
	ck_assert_uint_eq(stats_of(s).locks, 0);
	/* the committed decision still sees its first excess */
	ck_assert_int_eq(decide1(s, &c, &r), STORE_EXCEEDED);
	ck_assert(r.first_exceeded && r.lock_started);
	/* a peek after expiry reclaims nothing */
	set_clock(T0 + 3600 * 1000);
	ck_assert_int_eq(store_decide(s, &c, 1, false, &r), 0);
	ck_assert_uint_eq(stats_of(s).keys, 1);
	ck_assert_uint_eq(stats_of(s).locks, 1);
	s->ops->free(s);
}
END_TEST

/* 128 keys: two a shard. The third principal of a shard evicts the one expiring first. */
START_TEST(test_eviction_closest_to_expiry)
{
	struct store *s = new_store(128);
	char n[4][32];
	struct store_check c;
	struct store_stats st;

	same_shard(s, "login:u", n, 4);
	set_clock(T0);
	c = sum_check(n[0], "rcpt", 10, 3600);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	c = sum_check(n[1], "rcpt", 10, 60); /* expires first */
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	c = sum_check(n[2], "rcpt", 10, 600);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	st = stats_of(s);
	ck_assert_uint_eq(st.keys, 2);
	ck_assert_uint_eq(st.evictions, 1);
	ck_assert_int_eq(status_of(s, n[1]).n, 0);
	ck_assert_int_eq(status_of(s, n[0]).n, 1);
	ck_assert_int_eq(status_of(s, n[2]).n, 1);
	/* once they have expired, a newcomer reclaims: no eviction counted */
	set_clock(T0 + 7200 * 1000);
	c = sum_check(n[3], "rcpt", 10, 60);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	st = stats_of(s);
	ck_assert_uint_le(st.keys, 2);
	ck_assert_uint_eq(st.evictions, 1);
	s->ops->free(s);
}
END_TEST

/*
 * The heap is lazy (keys lag behind expiries): under random traffic and
 * resets an evicted principal never expires later than one that stayed.
 */
START_TEST(test_eviction_order_random)
{
	static const uint32_t windows[] = {60, 600, 3600, 86400};
	enum {
		NP = 64,
		CAP = 8
	};
	struct store *s = new_store(MEMORY_SHARDS * CAP);
	static char n[NP][32];
	int64_t expiry[NP] = {0}, t = T0;
	bool before[NP], after;
	uint64_t ev = 0;

	rng ^= 0x5DEECE66DULL;
	same_shard(s, "client:", n, NP);
	for (int step = 0; step < 3000; step++) {
		int k = (int)rnd(NP), evicted = 0;
		uint32_t w = windows[k % 4];
		int64_t slot = ((int64_t)w * 1000 + STORE_SLOTS - 1) / STORE_SLOTS;
		struct store_check c = sum_check(n[k], "msgs", 1000000, w);
		struct store_stats st;

		t += (int64_t)rnd(20000);
		set_clock(t);
		if (rnd(8) == 0) { /* an earlier expiry: nothing left to count */
			int r = (int)rnd(NP);

			s->ops->reset(s, n[r]);
			expiry[r] = 0;
		}
		for (int i = 0; i < NP; i++)
			before[i] = status_of(s, n[i]).n > 0;
		ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
		expiry[k] = t / slot * slot + (STORE_SLOTS + 1) * slot;
		for (int i = 0; i < NP; i++) {
			after = status_of(s, n[i]).n > 0;
			if (i == k || !before[i] || after || expiry[i] <= t)
				continue;
			evicted++; /* gone before its time: evicted */
			for (int j = 0; j < NP; j++)
				ck_assert_msg(j == k || status_of(s, n[j]).n == 0 ||
					expiry[j] >= expiry[i],
				    "step %d: evicted %s (expiry %lld), kept %s (expiry %lld)",
				    step, n[i], (long long)expiry[i], n[j], (long long)expiry[j]);
		}
		st = stats_of(s);
		ck_assert_uint_eq(st.evictions, ev + (uint64_t)evicted);
		ck_assert_uint_le(st.keys, CAP);
		ev = st.evictions;
	}
	ck_assert_uint_gt(ev, 100);
	s->ops->free(s);
}
END_TEST

/* Expired principals go a few per decision on their shard, never all at once. */
START_TEST(test_incremental_reclaim)
{
	struct store *s = new_store(100000);
	char n[21][32];
	struct store_check c;
	uint64_t keys, prev;

	same_shard(s, "client:", n, 21);
	set_clock(T0);
	for (int i = 0; i < 20; i++) {
		c = sum_check(n[i], "msgs", 10, 60);
		ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	}
	ck_assert_uint_eq(stats_of(s).keys, 20);
	set_clock(T0 + 3600 * 1000);
	c = sum_check(n[20], "msgs", 10, 60);
	prev = 21;
	for (int round = 0; round < 10; round++) {
		ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
		keys = stats_of(s).keys;
		ck_assert_uint_lt(keys, prev);
		ck_assert_uint_ge(keys + 4, prev); /* at most 4 a decision */
		prev = keys;
		if (keys == 1)
			break;
	}
	ck_assert_uint_eq(stats_of(s).keys, 1);
	ck_assert_uint_eq(status_of(s, n[20]).count, 5);
	s->ops->free(s);
}
END_TEST

/*
 * A new principal's first counters share its allocation, a later one has
 * its own: reclaiming and evicting such a principal frees each block once
 * (ASan and valgrind would see a double or wrong free).
 */
START_TEST(test_principal_block_freed)
{
	struct store *s = new_store(64); /* one key a shard */
	struct store_check c[3];
	struct store_result r[3];
	char n[3][32];

	same_shard(s, "login:", n, 3);
	set_clock(T0);
	c[0] = sum_check(n[0], "hour", 10, 60);
	c[1] = distinct_check(n[0], "countries", "a-member-name-longer-than-inline", 5, 60);
	ck_assert_int_eq(store_decide(s, c, 2, true, r), 0);
	c[2] = sum_check(n[0], "day", 10, 86400); /* a limit added later: its own allocation */
	ck_assert_int_eq(decide1(s, &c[2], NULL), STORE_OK);
	c[0] = sum_check(n[1], "hour", 10, 60); /* the shard is full: n[0] is evicted */
	ck_assert_int_eq(decide1(s, &c[0], NULL), STORE_OK);
	ck_assert_uint_eq(stats_of(s).evictions, 1);
	set_clock(T0 + 86400 * 1000LL * 3); /* n[1] expired: reclaimed by n[2]'s decision */
	c[0] = sum_check(n[2], "hour", 10, 60);
	ck_assert_int_eq(decide1(s, &c[0], NULL), STORE_OK);
	ck_assert_uint_eq(stats_of(s).keys, 1);
	s->ops->free(s);
}
END_TEST

/*
 * A limit reloaded with a shorter window: the principal's keys end with
 * what still counts, not with the old window, so a dead key is reclaimed
 * (and evicted) before the live ones, as if the window had always been
 * the new one.
 */
START_TEST(test_shortened_window_reclaimed)
{
	struct store *s = new_store(100000);
	char n[2][32];
	struct store_check c;

	same_shard(s, "login:", n, 2);
	set_clock(T0);
	c = sum_check(n[0], "rcpt", 10, 30 * 86400);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	set_clock(T0 + 1000);
	c = sum_check(n[0], "rcpt", 10, 3600); /* the reload: 30 days become an hour */
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	/* the 30-day slot (7.5 h wide) and 96 slots of the hour later: nothing of it counts */
	set_clock(T0 + 2 * 86400 * 1000LL);
	c = sum_check(n[1], "rcpt", 10, 3600);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	ck_assert_uint_eq(stats_of(s).keys, 1); /* the old code kept it for 30 days */
	s->ops->free(s);
}
END_TEST

/*
 * A slot of a wider grid (the window was shortened while it was current)
 * ends off the new grid and counts until the grid's next slot starts: its
 * principal must live that long, or the store forgets an admission early.
 * Window 1000 s: slots of 10,417 ms; 960 s: 10,000 ms.
 */
START_TEST(test_off_grid_slot_kept)
{
	struct store *s = new_store(1000);
	const int64_t s0 =
	    100001LL * 10417; /* a slot start of the 1000 s grid, off the 960 s one */
	const int64_t x = s0 + 10417 + 96 * 10000; /* its end and 96 slots of the new grid */
	struct store_check c;

	set_clock(s0 + 1);
	c = sum_check("login:ivy", "rcpt", 10, 1000);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	set_clock(s0 + 2); /* the new grid's slot starts before s0: the add goes to the wide slot */
	c = sum_check("login:ivy", "rcpt", 10, 960);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_OK);
	ck_assert(x % 10000 != 0);
	set_clock(x); /* the new grid's current slot starts before x: both still count */
	c = sum_check("login:ivy", "rcpt", 2, 960);
	ck_assert_int_eq(decide1(s, &c, NULL), STORE_EXCEEDED);
	s->ops->free(s);
}
END_TEST

START_TEST(test_status_reset)
{
	struct store *s = new_store(1000);
	struct store_check c[2];
	struct store_result r[2];
	struct seen sn;

	c[0] = sum_check("login:kim", "rcpt", 10, 3600);
	c[1] = distinct_check("login:kim", "countries", "SE", 3, 86400);
	set_clock(T0);
	ck_assert_int_eq(store_decide(s, c, 2, true, r), 0);
	ck_assert_int_eq(store_decide(s, c, 2, true, r), 0);
	sn = status_of(s, "login:kim");
	ck_assert_int_eq(sn.n, 2);
	ck_assert_int_eq(s->ops->reset(s, "login:kim"), 2);
	ck_assert_int_eq(decide1(s, &c[0], &r[0]), STORE_OK);
	ck_assert_uint_eq(r[0].count, 1);
	/* emptied by the reset, kim was reclaimed before the decision; it counts anew */
	sn = status_of(s, "login:kim");
	ck_assert_int_eq(sn.n, 1);
	ck_assert_uint_eq(sn.count, 1);
	ck_assert_uint_eq(sn.window, 3600);
	s->ops->free(s);
}
END_TEST

/* --- threads --- */

struct hammer {
	struct store *s;
	int tries;
	int admitted;
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	struct store_check c[2];
	struct store_result r[2];

	c[0] = sum_check("login:shared", "rcpt", 1000, 3600);
	c[1] = sum_check("client:192.0.2.1", "rcpt", 100000, 3600);
	for (int i = 0; i < h->tries; i++) {
		ck_assert_int_eq(store_decide(h->s, c, 2, true, r), 0);
		h->admitted += r[0].status == STORE_OK;
	}
	return NULL;
}

START_TEST(test_threads_one_principal)
{
	struct store *s = new_store(1000);
	pthread_t t[8];
	struct hammer h[8];
	int total = 0;

	set_clock(T0);
	for (int i = 0; i < 8; i++) {
		h[i] = (struct hammer){.s = s, .tries = 500};
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &h[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		total += h[i].admitted;
	}
	ck_assert_int_eq(total, 1000);
	ck_assert_uint_eq(status_of(s, "login:shared").count, 1000);
	ck_assert_uint_eq(status_of(s, "client:192.0.2.1").count, 1000);
	s->ops->free(s);
}
END_TEST

/*
 * A decision stuck inside shard A (its clock blocks until B's decision is
 * done) does not stop a decision on shard B: no global lock.
 */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static pthread_t gate_thread;
static bool gate_armed, gate_open, gate_timed_out;

static int64_t gated_now(void *arg)
{
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&gate_mu);
	if (gate_armed && pthread_equal(pthread_self(), gate_thread)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 10;
		while (!gate_open && !gate_timed_out)
			gate_timed_out = pthread_cond_timedwait(&gate_cv, &gate_mu, &ts) != 0;
	}
	pthread_mutex_unlock(&gate_mu);
	return T0;
}

static void *stuck_decision(void *arg)
{
	struct store_check c = sum_check("login:slow", "rcpt", 10, 60);
	struct store_result r;

	ck_assert_int_eq(store_decide(arg, &c, 1, true, &r), 0);
	return NULL;
}

START_TEST(test_threads_parallel_shards)
{
	struct store *s = memory_store_new(1000, gated_now, NULL);
	struct store_check c = sum_check("", "rcpt", 10, 60);
	char other[32];
	struct store_result r;

	for (int i = 0;; i++) {
		snprintf(other, sizeof(other), "login:fast%d", i);
		if (memory_store_shard(s, other) != memory_store_shard(s, "login:slow"))
			break;
	}
	c.principal = other;
	pthread_mutex_lock(&gate_mu);
	gate_armed = true;
	ck_assert_int_eq(pthread_create(&gate_thread, NULL, stuck_decision, s), 0);
	pthread_mutex_unlock(&gate_mu);
	usleep(50000); /* let it take its shard's lock (if it has not, the test proves less) */
	ck_assert_int_eq(store_decide(s, &c, 1, true, &r), 0);
	pthread_mutex_lock(&gate_mu);
	gate_open = true;
	pthread_cond_signal(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	pthread_join(gate_thread, NULL);
	ck_assert(!gate_timed_out);
	ck_assert_uint_eq(stats_of(s).keys, 2);
	s->ops->free(s);
}
END_TEST

START_TEST(test_store_open)
{
	struct store_settings st = {.type = STORE_TYPE_MEMORY, .max_keys = 10};
	char err[128] = "";
	struct store *s = store_open(&st, err, sizeof(err));
	struct store_check c = sum_check("login:x", "rcpt", 1, 60);
	struct store_result r;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(store_decide(s, &c, 1, true, &r), 0);
	ck_assert_int_eq(r.status, STORE_OK);
	s->ops->free(s);
	st.type = STORE_TYPE_REDIS;
	ck_assert_ptr_null(store_open(&st, err, sizeof(err)));
	ck_assert_str_eq(err, "redis needs servers or a sentinel");
}
END_TEST

/*
 * The keyed hash is SipHash-1-3 as published: the reference vectors (key
 * 00..0f, message 00..len-1), over the full blocks and every tail length,
 * so a faster load or an unrolled round cannot change a principal's shard.
 */
START_TEST(test_siphash_vectors)
{
	static const struct {
		size_t len;
		uint64_t want;
	} v[] = {{0, 0xabac0158050fc4dcULL}, {1, 0xc9f49bf37d57ca93ULL}, {7, 0xd3927d989bb11140ULL},
	    {8, 0x369095118d299a8eULL}, {9, 0x25a48eb36c063de4ULL}, {15, 0xd320d86d2a519956ULL},
	    {16, 0xcc4fdd1a7d908b66ULL}, {17, 0x9cf2689063dbd80cULL}, {31, 0x2370dd1f8c21d1bcULL},
	    {63, 0x9d199062b7bbb3a8ULL}};
	const uint64_t k[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
	unsigned char in[64];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ck_assert_msg(siphash(k, in, v[i].len) == v[i].want, "length %zu", v[i].len);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *su = suite_create("store");
	TCase *tc = tcase_create("memory");

	tcase_add_test(tc, test_sum_counts_to_max);
	tcase_add_loop_test(tc, test_never_over_admits, 0, 48);
	tcase_add_loop_test(tc, test_window_boundary, 0, 3);
	tcase_add_test(tc, test_clock_backward);
	tcase_add_test(tc, test_clock_forward);
	tcase_add_test(tc, test_distinct);
	tcase_add_test(tc, test_distinct_long_members);
	tcase_add_test(tc, test_distinct_capped);
	tcase_add_test(tc, test_lock_lifecycle);
	tcase_add_test(tc, test_first_exceeded_once);
	tcase_add_loop_test(tc, test_all_or_nothing, 0, 2);
	tcase_add_test(tc, test_dry_run);
	tcase_add_test(tc, test_peek_changes_nothing);
	tcase_add_test(tc, test_eviction_closest_to_expiry);
	tcase_add_test(tc, test_eviction_order_random);
	tcase_add_test(tc, test_incremental_reclaim);
	tcase_add_test(tc, test_principal_block_freed);
	tcase_add_test(tc, test_shortened_window_reclaimed);
	tcase_add_test(tc, test_off_grid_slot_kept);
	tcase_add_test(tc, test_status_reset);
	tcase_add_test(tc, test_threads_one_principal);
	tcase_add_test(tc, test_threads_parallel_shards);
	tcase_add_test(tc, test_store_open);
	tcase_add_test(tc, test_siphash_vectors);
	suite_add_tcase(su, tc);
	return su;
}

UNIT_MAIN(store_suite)
