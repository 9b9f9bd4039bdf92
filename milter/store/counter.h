/* counter.h - one principal's count for one limit: rolling-window slots or members, its lock */
#ifndef RM_COUNTER_H
#define RM_COUNTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * Times are Unix milliseconds. A slot is named by its start time, not by
 * its number, so a changed window keeps its history: the old slots are
 * counted whole against the new grid while they stay within it.
 */
struct counter_slot {
	int64_t start;
	uint32_t count; /* saturates */
	uint32_t
	    width; /* ms: the slot of the window it was made for, which may have changed since */
};

/*
 * A member's name is kept in its entry when it fits (a country, an IPv4
 * network, most IPv6 ones): a set is then one array, and finding a member
 * costs no pointer chase. A longer name is allocated, its pointer in the
 * first bytes and name[COUNTER_INLINE - 1] == 1 as the mark.
 */
#define COUNTER_INLINE 24

struct counter_member {
	int64_t seen; /* start of the slot it was last seen in */
	char name[COUNTER_INLINE];
};

/* The extra members a dry_run DISTINCT check may add past its max. */
#define COUNTER_DRY_SLACK 16

struct counter {
	struct counter *next; /* the principal's other counters */
	int64_t lock_until;   /* Unix seconds; 0: none (maybe expired: see counter_locked) */
	union {
		struct counter_slot *slots;     /* STORE_SUM: ascending start */
		struct counter_member *members; /* STORE_DISTINCT: unordered */
	} u;
	uint32_t window; /* seconds, as last used */
	uint32_t n, cap;
	uint8_t kind; /* enum store_kind */
	bool over;    /* went over its max, and no admission since */
	bool own;     /* an allocation of its own (else inside its principal's) */
	/*
	 * The first entry lives here: a key that is counted once (most of a
	 * busy store's) then costs one allocation, not two.
	 */
	union {
		struct counter_slot slot;
		struct counter_member member;
	} first;
	char limit[]; /* the limit's name */
};

/* counter_slot_ms - the slot of a window: ceil(window / STORE_SLOTS), at least 1 ms */
int64_t counter_slot_ms(uint32_t window);

/* The slot grid of one check at one moment: worked out once per check and decision. */
struct counter_span {
	int64_t slot;  /* ms: counter_slot_ms of the window */
	int64_t cur;   /* the start of the slot now falls in */
	int64_t since; /* the oldest slot start the check still counts */
};

/* counter_span - the grid of window at now */
void counter_span(struct counter_span *sp, int64_t now, uint32_t window);

/* counter_new - an empty counter for limit; NULL when out of memory */
struct counter *counter_new(const char *limit, enum store_kind kind, uint32_t window);

/* counter_size - the bytes counter_init needs for limit (a multiple of 8) */
size_t counter_size(const char *limit);

/* counter_init - an empty counter for limit in mem, which its owner frees */
struct counter *counter_init(void *mem, const char *limit, enum store_kind kind, uint32_t window);

/* counter_free - the counter and what it holds */
void counter_free(struct counter *c);

/* counter_clear - forget the counts (the lock and the kind stay) */
void counter_clear(struct counter *c);

/* counter_retype - start over as another kind, when a limit changed its kind */
void counter_retype(struct counter *c, enum store_kind kind);

/* counter_locked - the lock is in force at now */
bool counter_locked(const struct counter *c, int64_t now);

/* counter_count - what counts within the span (as a check of its window sees it) */
uint64_t counter_count(const struct counter *c, const struct counter_span *sp);

/* counter_has - DISTINCT: member was seen within the span */
bool counter_has(const struct counter *c, const char *member, const struct counter_span *sp);

/*
 * counter_reserve - make room for one counter_add at now: prune what went
 * out of the window and allocate, so that the adds of one decision cannot
 * fail half-way. 0, or -1 when out of memory (nothing counted then).
 */
int counter_reserve(struct counter *c, const char *member, uint64_t max,
    const struct counter_span *sp);

/*
 * counter_add - count add (SUM) or see member (DISTINCT) in the span's
 * current slot, after counter_reserve; the count after it, from before
 * (what counter_count said before), so a sum is not added up again.
 */
uint64_t counter_add(struct counter *c, const char *member, uint32_t add, uint32_t window,
    const struct counter_span *sp, uint64_t before);

/* counter_expiry - when nothing of it counts any more and its lock is over (ms); 0: already */
int64_t counter_expiry(const struct counter *c);

/* counter_members - DISTINCT: fill names with the members within window; how many */
uint32_t counter_members(const struct counter *c, const struct counter_span *sp,
    const char **names);

#endif
