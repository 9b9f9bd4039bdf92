/*
 * memory.c - the embedded store: counters and locks in this process
 *
 * Principals are spread over MEMORY_SHARDS shards by a keyed hash; a
 * decision locks the shards its principals live in, in ascending order
 * (so two decisions never wait on each other in a circle), checks, counts
 * and unlocks: atomic across its principals, and parallel with every
 * decision that touches other shards. The clock is read under the locks,
 * so the decisions on one shard see time in the order they run.
 *
 * commit=false is a peek (what --explain shows): it reads under the same
 * locks and writes nothing, not even the pruning of old slots or the
 * reclaiming of expired principals.
 *
 * Memory is bounded: a shard holds ceil(max_keys / MEMORY_SHARDS)
 * principals; a new one in a full shard takes the place of the principal
 * that expires first (reclaimed if it has expired, else evicted and
 * counted). Expired principals are also reclaimed a few per decision, from
 * the top of the shard's expiry heap: never a scan on the decision path.
 *
 * Clock steps: a step backward leaves the slots "in the future" counted,
 * and locks last longer, so it never lets more through. A step forward
 * ages everything at once: slots and locks it jumps over are over, as if
 * that time had passed.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "memory.h"
#include "shard.h"
#include "siphash.h"

#define MS_RECLAIM 4 /* expired principals reclaimed per touched shard and decision */
#define MS_STACK   8 /* checks of a decision answered without an allocation */

struct memory_store {
	struct store base;
	int64_t (*now_ms)(void *arg);
	void *arg;
	uint64_t key[2]; /* of the hash: random, so clients cannot aim at one chain */
	size_t cap;      /* principals per shard */
	struct shard shards[MEMORY_SHARDS];
};

/* What one check of a decision found in the store. */
struct ms_work {
	struct shard *sh;
	uint64_t h;
	struct principal *p;
	struct counter *c;
	struct counter_span sp; /* the check's slot grid at the decision's now */
	int same;               /* the latest earlier check of the same principal, or -1 */
	int first;              /* the first check of its principal (itself, or an earlier one) */
	bool shrinks;           /* its counter changes window or kind: its end may come sooner */
};

/* realtime_ms - CLOCK_REALTIME in Unix milliseconds */
static int64_t realtime_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* now_seconds - Unix seconds of a time in milliseconds, rounded down */
static int64_t now_seconds(int64_t now)
{
	return now >= 0 ? now / 1000 : -((-now + 999) / 1000);
}

static uint64_t ms_hash(const struct memory_store *m, const char *principal)
{
	return siphash(m->key, principal, strlen(principal));
}

/*
 * The last principal a thread's decision hashed, and under which key: the
 * recipients of one transaction count under the same principals, and a
 * compare costs a fraction of SipHash. Keyed by the hash key itself, so a
 * store made later at the same address cannot take an old answer.
 */
#define MS_MEMO_NAME 128
static __thread struct {
	uint64_t key[2], h;
	char name[MS_MEMO_NAME]; /* "" when empty */
} ms_memo;

/* ms_hash_memo - ms_hash, through the thread's memo */
static uint64_t ms_hash_memo(const struct memory_store *m, const char *principal)
{
	size_t len;

	if (ms_memo.key[0] == m->key[0] && ms_memo.key[1] == m->key[1] &&
	    strcmp(ms_memo.name, principal) == 0 && principal[0] != 0)
		return ms_memo.h;
	if ((len = strlen(principal)) >= MS_MEMO_NAME)
		return siphash(m->key, principal, len);
	ms_memo.key[0] = m->key[0];
	ms_memo.key[1] = m->key[1];
	memcpy(ms_memo.name, principal, len + 1);
	return ms_memo.h = siphash(m->key, principal, len);
}

/* shard_index - the top bits pick the shard, the low ones the bucket */
static unsigned shard_index(uint64_t h)
{
	return (unsigned)(h >> 58);
}

unsigned memory_store_shard(const struct store *s, const char *principal)
{
	return shard_index(ms_hash((const struct memory_store *)s, principal));
}

/* next_shard - the lowest shard left in *mask, taken out of it */
static struct shard *next_shard(struct memory_store *m, uint64_t *mask)
{
	unsigned i = (unsigned)__builtin_ctzll(*mask);

	*mask &= *mask - 1;
	return &m->shards[i];
}

/* lock_shards - every shard in mask, lowest first */
static void lock_shards(struct memory_store *m, uint64_t mask)
{
	while (mask != 0)
		pthread_mutex_lock(&next_shard(m, &mask)->mu);
}

static void unlock_shards(struct memory_store *m, uint64_t mask)
{
	while (mask != 0)
		pthread_mutex_unlock(&next_shard(m, &mask)->mu);
}

/* reclaim - drop a few expired principals from the top of the heap */
static void reclaim(struct shard *sh, int64_t now)
{
	struct principal *p;

	for (int k = 0; k < MS_RECLAIM && (p = shard_first(sh, now)) != NULL; k++)
		shard_drop(sh, p);
}

/* expire_lock - a lock found over stops counting as one in force */
static void expire_lock(struct shard *sh, struct counter *c, int64_t now)
{
	if (c->lock_until != 0 && !counter_locked(c, now)) {
		c->lock_until = 0;
		sh->locks--;
	}
}

/* evaluate - what check finds in its counter c (NULL: none yet) */
static void evaluate(const struct store_check *ck, const struct counter *c,
    const struct counter_span *sp, int64_t now, struct store_result *out)
{
	const char *member = ck->member != NULL ? ck->member : "";
	bool same = c != NULL && c->kind == ck->kind;

	memset(out, 0, sizeof(*out));
	out->count = same ? counter_count(c, sp) : 0;
	if (c != NULL && counter_locked(c, now)) {
		out->status = STORE_LOCKED;
		out->until = c->lock_until;
	} else if (ck->kind == STORE_DISTINCT) {
		if (!(same && counter_has(c, member, sp)) && out->count >= ck->max)
			out->status = STORE_EXCEEDED;
	} else if (ck->add > ck->max || out->count > ck->max - ck->add) {
		out->status = STORE_EXCEEDED;
	}
}

/* refuses - a check that is not dry_run says no */
static bool refuses(const struct store_check *ck, const struct store_result *r)
{
	return !ck->dry_run && r->status != STORE_OK;
}

/*
 * make_room - a full shard gives up the principal that expires first;
 * those of the running decision are pinned, and when they are all that
 * is left the shard goes over its cap by them for a moment.
 */
static void make_room(struct memory_store *m, struct shard *sh, int64_t now)
{
	struct principal *p;

	while (sh->nkeys >= m->cap && (p = shard_first(sh, INT64_MAX)) != NULL) {
		if (p->expiry > now)
			sh->evictions++;
		shard_drop(sh, p);
	}
}

/* before - the counter of the previous check of the same principal, where the search starts */
static struct counter *before(const struct ms_work *w, size_t i)
{
	return w[i].same >= 0 ? w[w[i].same].c : NULL;
}

/* needs_counter - will check i write to its counter? */
static bool needs_counter(bool refused, const struct store_result *out, size_t i)
{
	return !refused || out[i].status == STORE_EXCEEDED;
}

/* same_principal - do checks i and j count for one principal? */
static bool same_principal(const struct ms_work *w, size_t i, size_t j)
{
	return w[i].first == w[j].first;
}

/*
 * new_principal - check i's principal, new, in one allocation with the
 * counters of every check of it that this decision writes: a new key
 * costs one malloc, not one per limit
 */
static int new_principal(struct memory_store *m, const struct store_check *checks, size_t n,
    struct ms_work *ws, size_t i, bool refused, const struct store_result *out, int64_t now)
{
	struct counter *prev = NULL;
	size_t room = 0;
	struct principal *p;
	char *mem;

	for (size_t j = i; j < n; j++)
		if (needs_counter(refused, out, j) && same_principal(ws, i, j))
			room += counter_size(checks[j].limit);
	make_room(m, ws[i].sh, now);
	if ((p = shard_add(ws[i].sh, ws[i].h, checks[i].principal, room, (void **)&mem)) == NULL)
		return -1;
	for (size_t j = i; j < n; j++) {
		if (!needs_counter(refused, out, j) || !same_principal(ws, i, j))
			continue;
		ws[j].p = p;
		ws[j].c = counter_init(mem, checks[j].limit, checks[j].kind, checks[j].window);
		mem += counter_size(checks[j].limit);
		shard_add_counter(p, ws[j].c, prev);
		prev = ws[j].c;
	}
	return 0;
}

/* get_counter - check i's principal and counter, made when missing; 0 or -1 */
static int get_counter(struct memory_store *m, const struct store_check *checks, size_t n,
    struct ms_work *ws, size_t i, bool refused, const struct store_result *out, int64_t now)
{
	struct ms_work *w = &ws[i];
	const struct store_check *ck = &checks[i];
	struct counter *c;

	if (w->p == NULL && w->same >= 0)
		w->p = ws[w->same].p; /* made by an earlier check */
	if (w->p == NULL)
		w->p = shard_find(w->sh, w->h, ck->principal);
	if (w->p == NULL && new_principal(m, checks, n, ws, i, refused, out, now) < 0)
		return -1;
	/* look_up found none, and the limits of one principal's checks have names of their own */
	if (w->c == NULL) {
		if ((c = counter_new(ck->limit, ck->kind, ck->window)) == NULL)
			return -1;
		shard_add_counter(w->p, c, before(ws, i));
		w->c = c;
	}
	w->shrinks = w->c->kind != ck->kind || w->c->window != ck->window; /* a reloaded limit */
	if (w->c->kind != ck->kind)
		counter_retype(w->c, ck->kind); /* the limit changed its kind: start over */
	return 0;
}

/* prepare - every allocation the decision's writes need, before any write */
static int prepare(struct memory_store *m, const struct store_check *checks, size_t n, bool refused,
    struct ms_work *w, const struct store_result *out, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		const struct store_check *ck = &checks[i];

		if (!needs_counter(refused, out, i))
			continue;
		if (get_counter(m, checks, n, w, i, refused, out, now) < 0)
			return -1;
		if (!refused &&
		    counter_reserve(w[i].c, ck->member != NULL ? ck->member : "", ck->max,
			&w[i].sp) < 0)
			return -1;
	}
	return 0;
}

/* note_exceeded - first_exceeded once, until an admission clears the mark */
static void note_exceeded(struct counter *c, struct store_result *r)
{
	r->first_exceeded = !c->over;
	c->over = true;
}

/* apply_refusal - nothing counted; the checks over their max are marked, and locked */
static void apply_refusal(const struct store_check *checks, size_t n, struct ms_work *w,
    struct store_result *out, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		struct counter *c = w[i].c;

		if (out[i].status != STORE_EXCEEDED)
			continue;
		expire_lock(w[i].sh, c, now);
		note_exceeded(c, &out[i]);
		if (checks[i].dry_run || checks[i].lock == 0)
			continue;
		w[i].sh->locks += c->lock_until == 0;
		c->lock_until = now_seconds(now) + checks[i].lock;
		out[i].lock_started = true;
		out[i].until = c->lock_until;
	}
}

/* apply_admission - every check counted, dry_run ones too */
static void apply_admission(const struct store_check *checks, size_t n, struct ms_work *w,
    struct store_result *out, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		const struct store_check *ck = &checks[i];
		struct counter *c = w[i].c;

		expire_lock(w[i].sh, c, now);
		out[i].count = counter_add(c, ck->member != NULL ? ck->member : "", ck->add,
		    ck->window, &w[i].sp, out[i].count);
		if (out[i].status == STORE_EXCEEDED)
			note_exceeded(c, &out[i]);
		else if (out[i].status == STORE_OK)
			c->over = false;
	}
}

/* release - the decision's principals unpinned, with their new expiry */
static void release(struct ms_work *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t e = 0, ce;
		bool exact = false;

		if (w[i].p == NULL || !w[i].p->pinned)
			continue;
		for (size_t j = i; j < n; j++) { /* the counters this decision wrote to */
			if (!same_principal(w, i, j) || w[j].c == NULL)
				continue;
			exact |= w[j].shrinks;
			if ((ce = counter_expiry(w[j].c)) > e)
				e = ce;
		}
		/*
		 * A counter whose window or kind changed may end sooner than
		 * the principal's old expiry says: worked out from all of them,
		 * or the dead keys would outlive the live ones they were meant
		 * to be evicted before.
		 */
		if (exact)
			shard_touch(w[i].sh, w[i].p);
		else
			shard_raise(w[i].sh, w[i].p, e);
	}
}

/* hash_all - each check's hash and shard; the mask of the shards to lock */
static uint64_t hash_all(struct memory_store *m, const struct store_check *checks, size_t n,
    struct ms_work *w)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < n; i++) {
		/*
		 * Most limits of a decision share its login or client: hash each
		 * once. The engine passes one copy of each key, so the pointers
		 * tell first.
		 */
		w[i].same = -1;
		for (size_t j = i; j-- > 0 && w[i].same < 0;)
			if (checks[j].principal == checks[i].principal ||
			    strcmp(checks[j].principal, checks[i].principal) == 0)
				w[i].same = (int)j;
		w[i].first = w[i].same >= 0 ? w[w[i].same].first : (int)i;
		w[i].h = w[i].same >= 0 ? w[w[i].same].h : ms_hash_memo(m, checks[i].principal);
		w[i].sh = &m->shards[shard_index(w[i].h)];
		mask |= 1ULL << shard_index(w[i].h);
	}
	return mask;
}

/* look_up - under the locks: each check's principal and counter, pinned when committing */
static void look_up(const struct store_check *checks, size_t n, bool commit, struct ms_work *w)
{
	for (size_t i = 0; i < n; i++) {
		w[i].p = w[i].same >= 0 ? w[w[i].same].p :
					  shard_find(w[i].sh, w[i].h, checks[i].principal);
		w[i].c =
		    w[i].p != NULL ? shard_counter(w[i].p, checks[i].limit, before(w, i)) : NULL;
		if (commit && w[i].p != NULL)
			w[i].p->pinned = true;
		w[i].shrinks = false; /* get_counter tells, for the checks that write */
	}
}

/* decide_locked - the decision, with its shards locked */
static int decide_locked(struct memory_store *m, const struct store_check *checks, size_t n,
    bool commit, struct store_result *out, struct ms_work *w, uint64_t mask)
{
	int64_t now = m->now_ms(m->arg);
	bool refused = false;
	int rc;

	while (commit && mask != 0)
		reclaim(next_shard(m, &mask), now);
	look_up(checks, n, commit, w);
	for (size_t i = 0; i < n; i++) {
		counter_span(&w[i].sp, now, checks[i].window);
		evaluate(&checks[i], w[i].c, &w[i].sp, now, &out[i]);
		refused |= refuses(&checks[i], &out[i]);
	}
	if (!commit)
		return 0;
	if ((rc = prepare(m, checks, n, refused, w, out, now)) == 0) {
		if (refused)
			apply_refusal(checks, n, w, out, now);
		else
			apply_admission(checks, n, w, out, now);
	}
	release(w, n);
	return rc;
}

static int ms_decide(struct store *s, const struct store_check *checks, size_t n, bool commit,
    struct store_result *out)
{
	struct memory_store *m = (struct memory_store *)s;
	struct ms_work stack[MS_STACK], *w = stack;
	uint64_t mask;
	int rc;

	if (n > MS_STACK && (w = calloc(n, sizeof(*w))) == NULL)
		return -1;
	mask = hash_all(m, checks, n, w);
	lock_shards(m, mask);
	rc = decide_locked(m, checks, n, commit, out, w, mask);
	unlock_shards(m, mask);
	if (w != stack)
		free(w);
	return rc;
}

/* principal_shard - the shard of principal, locked, and the clock read under its lock */
static struct shard *principal_shard(struct memory_store *m, const char *principal, uint64_t *h,
    int64_t *now)
{
	struct shard *sh;

	*h = ms_hash(m, principal);
	sh = &m->shards[shard_index(*h)];
	pthread_mutex_lock(&sh->mu);
	*now = m->now_ms(m->arg);
	return sh;
}

/* report - one counter as a store_entry, through fn; 0 or -1 */
static int report(const struct principal *p, const struct counter *c, int64_t now,
    store_entry_fn fn, void *arg)
{
	struct counter_span sp;
	struct store_entry e = {
	    .limit = c->limit,
	    .kind = (enum store_kind)c->kind,
	    .window = c->window,
	    .lock_until = counter_locked(c, now) ? c->lock_until : 0,
	};
	const char **names = NULL;

	counter_span(&sp, now, c->window);
	e.count = counter_count(c, &sp);
	if (c->kind == STORE_DISTINCT && c->n > 0) {
		if ((names = malloc(c->n * sizeof(names[0]))) == NULL)
			return -1;
		e.nmembers = counter_members(c, &sp, names);
		e.members = names;
	}
	fn(arg, p->name, &e);
	free(names);
	return 0;
}

/* ms_status - fn runs under the shard's lock: it must not call the store */
static int ms_status(struct store *s, const char *principal, store_entry_fn fn, void *arg)
{
	struct memory_store *m = (struct memory_store *)s;
	const struct principal *p;
	struct shard *sh;
	int64_t now;
	uint64_t h;
	int rc = 0;

	sh = principal_shard(m, principal, &h, &now);
	if ((p = shard_find(sh, h, principal)) != NULL)
		for (const struct counter *c = p->counters; c != NULL && rc == 0; c = c->next)
			rc = report(p, c, now, fn, arg);
	pthread_mutex_unlock(&sh->mu);
	return rc;
}

/* ms_unlock - the locks in force lifted (expired ones dropped silently) */
static long ms_unlock(struct store *s, const char *principal)
{
	struct memory_store *m = (struct memory_store *)s;
	struct principal *p;
	struct shard *sh;
	int64_t now;
	uint64_t h;
	long n = 0;

	sh = principal_shard(m, principal, &h, &now);
	if ((p = shard_find(sh, h, principal)) != NULL) {
		for (struct counter *c = p->counters; c != NULL; c = c->next) {
			if (c->lock_until == 0)
				continue;
			n += counter_locked(c, now);
			c->lock_until = 0;
			sh->locks--;
		}
		shard_touch(sh, p);
	}
	pthread_mutex_unlock(&sh->mu);
	return n;
}

/* ms_reset - the counters that held counts forgotten, with their "over" marks */
static long ms_reset(struct store *s, const char *principal)
{
	struct memory_store *m = (struct memory_store *)s;
	struct principal *p;
	struct shard *sh;
	int64_t now;
	uint64_t h;
	long n = 0;

	sh = principal_shard(m, principal, &h, &now);
	if ((p = shard_find(sh, h, principal)) != NULL) {
		for (struct counter *c = p->counters; c != NULL; c = c->next) {
			n += c->n > 0;
			counter_clear(c);
		}
		shard_touch(sh, p);
	}
	pthread_mutex_unlock(&sh->mu);
	return n;
}

static void ms_stats(struct store *s, struct store_stats *out)
{
	struct memory_store *m = (struct memory_store *)s;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < MEMORY_SHARDS; i++) {
		struct shard *sh = &m->shards[i];

		pthread_mutex_lock(&sh->mu);
		out->keys += sh->nkeys;
		out->evictions += sh->evictions;
		out->locks += sh->locks;
		pthread_mutex_unlock(&sh->mu);
	}
}

static void ms_free(struct store *s)
{
	struct memory_store *m = (struct memory_store *)s;

	if (m == NULL)
		return;
	for (unsigned i = 0; i < MEMORY_SHARDS; i++)
		shard_fini(&m->shards[i]);
	free(m);
}

static const struct store_ops memory_ops = {
    .decide = ms_decide,
    .status = ms_status,
    .unlock = ms_unlock,
    .reset = ms_reset,
    .stats = ms_stats,
    .free = ms_free,
};

/* hash_key - random; a weak fallback only if the kernel has no entropy to give */
static void hash_key(uint64_t key[2])
{
	if (getrandom(key, 2 * sizeof(key[0]), GRND_NONBLOCK) == (ssize_t)(2 * sizeof(key[0])))
		return;
	key[0] = (uint64_t)realtime_ms(NULL) ^ ((uint64_t)getpid() << 32);
	key[1] = (uint64_t)(uintptr_t)key ^ (uint64_t)clock();
}

struct store *memory_store_new(uint64_t max_keys, int64_t (*now_ms)(void *arg), void *arg)
{
	struct memory_store *m;
	unsigned i;

	if (posix_memalign((void **)&m, 64, sizeof(*m)) != 0)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->base.ops = &memory_ops;
	m->now_ms = now_ms != NULL ? now_ms : realtime_ms;
	m->arg = arg;
	m->cap = (size_t)((max_keys + MEMORY_SHARDS - 1) / MEMORY_SHARDS);
	if (m->cap == 0)
		m->cap = 1;
	hash_key(m->key);
	for (i = 0; i < MEMORY_SHARDS; i++)
		if (shard_init(&m->shards[i]) < 0)
			break;
	if (i < MEMORY_SHARDS) {
		while (i-- > 0)
			shard_fini(&m->shards[i]);
		free(m);
		return NULL;
	}
	return &m->base;
}
