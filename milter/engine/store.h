/* store.h - where limits keep their counts and locks: one call per recipient decision */
#ifndef RM_STORE_H
#define RM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The counters and locks of the rate limits live outside the immutable
 * configuration: a reload keeps them, and several hosts may share them
 * (the Redis store). The engine works out which limits apply to one
 * recipient and hands them all to one store_decide() call; the store
 * checks and counts them together, atomically, on its own clock. Every
 * implementation (store/memory.c, store/redis.c) follows these rules:
 *
 * - A counter is named by its principal ("login:alice") and the limit's
 *   name, never by its max or window: a changed limit keeps its history.
 *   The checks of one decision name each counter once (limit names are
 *   unique in a configuration).
 * - Rolling window: a window W is cut into STORE_SLOTS slots of
 *   ceil(W / STORE_SLOTS); a check counts the current slot and the
 *   STORE_SLOTS before it whole, so no span of W ever holds more than max
 *   admissions, and a refusal comes at most one slot early.
 * - One decision is all or nothing: when any check that is not dry_run
 *   refuses (locked, or over its max), nothing of the decision is counted.
 *   Otherwise every check is counted, dry_run ones too.
 * - A check over its max whose lock is set locks its principal for that
 *   limit for lock seconds (not for a dry_run check); while locked, the
 *   check refuses without counting.
 */
#define STORE_SLOTS 96 /* a 24 h window: refused at most 15 minutes early */

/* What one limit counts for one principal. */
enum store_kind {
	STORE_SUM,      /* add to a count: recipients, messages */
	STORE_DISTINCT, /* distinct members seen: countries, networks */
};

/* One limit, as it applies to one recipient decision. */
struct store_check {
	const char *principal; /* "login:alice", "client:192.0.2.7/32": the counted key */
	const char *limit;     /* the limit's name; with principal it names the counter */
	enum store_kind kind;
	const char *member; /* STORE_DISTINCT: the value seen ("GB", "192.0.2.0/24") */
	uint32_t add;       /* STORE_SUM: what this decision adds (1) */
	uint64_t max;       /* admitted while count (after adding) stays <= max */
	uint32_t window;    /* seconds, 1 .. 30 days */
	uint32_t lock;      /* seconds a principal over max stays locked; 0: no lock */
	bool dry_run;       /* counted; an excess is reported, never enforced, never locks */
};

enum store_status {
	STORE_OK,       /* within its max */
	STORE_EXCEEDED, /* this decision would go over max */
	STORE_LOCKED,   /* the principal is locked for this limit */
};

/* The answer for one check, in the order of the checks. */
struct store_result {
	enum store_status status;
	uint64_t count;      /* after this decision when it was counted, else as found */
	int64_t until;       /* STORE_LOCKED, or a lock just started: its end (Unix seconds) */
	bool first_exceeded; /* the principal went over this limit now (log it once) */
	bool lock_started;   /* this decision started the lock (log it once) */
};

/* A principal's state for one limit, as status reports it. */
struct store_entry {
	const char *limit;
	enum store_kind kind;
	uint64_t count;       /* within the window last used for it */
	uint32_t window;      /* that window, seconds */
	int64_t lock_until;   /* 0: not locked */
	const char **members; /* STORE_DISTINCT: the members within the window */
	size_t nmembers;
};

/* What the metrics show of a store. */
struct store_stats {
	uint64_t keys;      /* principals held */
	uint64_t evictions; /* principals dropped because the store was full */
	uint64_t locks;     /* locks in force */
	uint64_t errors;    /* decisions the store could not answer */
};

struct store;

typedef void (*store_entry_fn)(void *arg, const char *principal, const struct store_entry *e);

struct store_ops {
	/*
	 * decide - check, and with commit also count, every check of one
	 * recipient decision at once; out[i] answers checks[i]. 0, or -1 when
	 * the store cannot answer (the caller refuses temporarily).
	 */
	int (*decide)(struct store *s, const struct store_check *checks, size_t n, bool commit,
	    struct store_result *out);
	/*
	 * status - each counter and lock of principal, through fn; 0 or -1.
	 * The entry and its strings live for the call only, and fn may run
	 * under the store's lock: it must not call the store.
	 */
	int (*status)(struct store *s, const char *principal, store_entry_fn fn, void *arg);
	/* unlock - lift the principal's locks; how many, or -1 */
	long (*unlock)(struct store *s, const char *principal);
	/* reset - forget the principal's counts (its locks stay); how many, or -1 */
	long (*reset)(struct store *s, const char *principal);
	void (*stats)(struct store *s, struct store_stats *out);
	void (*free)(struct store *s);
};

/* Every implementation starts with this. */
struct store {
	const struct store_ops *ops;
};

static inline int store_decide(struct store *s, const struct store_check *checks, size_t n,
    bool commit, struct store_result *out)
{
	return s->ops->decide(s, checks, n, commit, out);
}

#endif
