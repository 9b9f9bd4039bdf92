/* counter.c - one principal's count for one limit: rolling-window slots or members, its lock */
#include <stdlib.h>
#include <string.h>

#include "counter.h"

/* floor_div - a / b rounded down, also for a clock before 1970 */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t counter_slot_ms(uint32_t window)
{
	int64_t ms = (int64_t)window * 1000;
	int64_t slot = (ms + STORE_SLOTS - 1) / STORE_SLOTS;

	return slot > 0 ? slot : 1;
}

/* slot_start - the start of the slot now falls in */
static int64_t slot_start(int64_t now, int64_t slot)
{
	return floor_div(now, slot) * slot;
}

/*
 * The current slot and the STORE_SLOTS before it, each counted whole:
 * STORE_SLOTS * slot >= window, so every admission of the last window is
 * in, and one made at t stops counting at its slot's start + (SLOTS+1) slots.
 */
void counter_span(struct counter_span *sp, int64_t now, uint32_t window)
{
	sp->slot = counter_slot_ms(window);
	sp->cur = slot_start(now, sp->slot);
	sp->since = sp->cur - STORE_SLOTS * sp->slot;
}

/* align8 - n rounded up, so that what follows in one block is aligned */
static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

size_t counter_size(const char *limit)
{
	return align8(sizeof(struct counter) + strlen(limit) + 1);
}

struct counter *counter_init(void *mem, const char *limit, enum store_kind kind, uint32_t window)
{
	struct counter *c = mem;

	memset(c, 0, sizeof(*c));
	strcpy(c->limit, limit);
	c->kind = (uint8_t)kind;
	c->window = window;
	c->u.slots = &c->first.slot;
	c->cap = 1;
	return c;
}

struct counter *counter_new(const char *limit, enum store_kind kind, uint32_t window)
{
	void *mem = malloc(counter_size(limit));
	struct counter *c;

	if (mem == NULL)
		return NULL;
	c = counter_init(mem, limit, kind, window);
	c->own = true;
	return c;
}

/* entries_inline - are the entries still the one kept in the counter itself? */
static bool entries_inline(const struct counter *c)
{
	return (const void *)c->u.slots == (const void *)&c->first;
}

/* member_name - the name of member entry m */
static const char *member_name(const struct counter_member *m)
{
	const char *p;

	if (m->name[COUNTER_INLINE - 1] == '\0')
		return m->name;
	memcpy(&p, m->name, sizeof(p));
	return p;
}

/* member_set - m gets name, in place when it fits; 0 or -1 */
static int member_set(struct counter_member *m, const char *name)
{
	size_t len = strlen(name);
	char *p;

	memset(m->name, 0, sizeof(m->name));
	if (len < COUNTER_INLINE) {
		memcpy(m->name, name, len);
		return 0;
	}
	if ((p = strdup(name)) == NULL)
		return -1;
	memcpy(m->name, &p, sizeof(p));
	m->name[COUNTER_INLINE - 1] = 1;
	return 0;
}

/* member_free - what member_set allocated */
static void member_free(struct counter_member *m)
{
	if (m->name[COUNTER_INLINE - 1] != '\0')
		free((char *)member_name(m));
}

void counter_clear(struct counter *c)
{
	if (c->kind == STORE_DISTINCT) {
		for (uint32_t i = 0; i < c->n; i++)
			member_free(&c->u.members[i]);
	}
	if (!entries_inline(c))
		free(c->u.slots);
	c->u.slots = &c->first.slot;
	c->n = 0;
	c->cap = 1;
	c->over = false;
}

void counter_free(struct counter *c)
{
	counter_clear(c);
	if (c->own)
		free(c);
}

void counter_retype(struct counter *c, enum store_kind kind)
{
	counter_clear(c);
	c->kind = (uint8_t)kind;
}

bool counter_locked(const struct counter *c, int64_t now)
{
	return c->lock_until != 0 && c->lock_until > floor_div(now, 1000);
}

/* slot_counts - does any of the slot lie at or after since? */
static bool slot_counts(const struct counter_slot *s, int64_t since)
{
	return s->start + (int64_t)s->width > since;
}

/*
 * Entries "in the future" (after a clock step backward) count: a clock
 * that goes back must never let more through.
 */
uint64_t counter_count(const struct counter *c, const struct counter_span *sp)
{
	int64_t since = sp->since;
	uint64_t sum = 0;

	if (c->kind == STORE_DISTINCT) {
		for (uint32_t i = 0; i < c->n; i++)
			sum += c->u.members[i].seen >= since;
		return sum;
	}
	/*
	 * A slot counts while any of it is within the window: a slot made for
	 * a longer window (before a reload shortened it) is wider than the
	 * current grid, and judging it by its start would let its late
	 * admissions go too soon.
	 */
	for (uint32_t i = 0; i < c->n; i++)
		if (slot_counts(&c->u.slots[i], since))
			sum += c->u.slots[i].count;
	return sum;
}

/* member_find - the index of member, or c->n */
static uint32_t member_find(const struct counter *c, const char *member)
{
	uint32_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(member_name(&c->u.members[i]), member) == 0)
			break;
	return i;
}

bool counter_has(const struct counter *c, const char *member, const struct counter_span *sp)
{
	uint32_t i = member_find(c, member);

	return i < c->n && c->u.members[i].seen >= sp->since;
}

/* prune_slots - drop the slots older than since (the oldest come first) */
static void prune_slots(struct counter *c, int64_t since)
{
	uint32_t k = 0;

	while (k < c->n && !slot_counts(&c->u.slots[k], since))
		k++;
	if (k > 0) {
		memmove(c->u.slots, c->u.slots + k, (c->n - k) * sizeof(c->u.slots[0]));
		c->n -= k;
	}
}

/* prune_members - drop the members not seen since, keeping the order of the rest */
static void prune_members(struct counter *c, int64_t since)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < c->n; i++) {
		if (c->u.members[i].seen < since)
			member_free(&c->u.members[i]);
		else
			c->u.members[k++] = c->u.members[i];
	}
	c->n = k;
}

/* grow - room for one more entry of size bytes */
static int grow(struct counter *c, size_t size)
{
	uint32_t cap = c->cap ? c->cap * 2 : 1;
	void *p;

	if (c->n < c->cap)
		return 0;
	if (c->cap >= UINT32_MAX / 2)
		return -1;
	if (entries_inline(c)) {
		if ((p = malloc(cap * size)) == NULL)
			return -1;
		memcpy(p, c->u.slots, c->n * size);
	} else if ((p = realloc(c->u.slots, cap * size)) == NULL)
		return -1;
	c->u.slots = p;
	c->cap = cap;
	return 0;
}

/* oldest_member - the member seen longest ago */
static uint32_t oldest_member(const struct counter *c)
{
	uint32_t o = 0;

	for (uint32_t i = 1; i < c->n; i++)
		if (c->u.members[i].seen < c->u.members[o].seen)
			o = i;
	return o;
}

/*
 * reserve_member - a new member gets its entry now, marked not seen
 * (INT64_MIN never counts); a full set (only dry_run checks fill it past
 * max) gives up its oldest member rather than grow without bound.
 */
static int reserve_member(struct counter *c, const char *member, uint64_t max)
{
	struct counter_member m;
	uint32_t i;

	if (member_find(c, member) < c->n)
		return 0;
	if (member_set(&m, member) < 0)
		return -1;
	m.seen = INT64_MIN;
	if (max < UINT32_MAX && c->n >= max + COUNTER_DRY_SLACK && c->n > 0) {
		i = oldest_member(c);
		member_free(&c->u.members[i]);
	} else {
		if (grow(c, sizeof(c->u.members[0])) < 0) {
			member_free(&m);
			return -1;
		}
		i = c->n++;
	}
	c->u.members[i] = m;
	return 0;
}

/*
 * last_takes - does a sum's add at sp go to its last slot (one at or after
 * the current: the clock stepped back, or a coarser window's slot)?
 * counter_reserve and counter_add must agree on it: room is made only for
 * a new slot.
 */
static struct counter_slot *last_takes(struct counter *c, const struct counter_span *sp)
{
	struct counter_slot *last = c->n > 0 ? &c->u.slots[c->n - 1] : NULL;

	return last != NULL && last->start >= sp->cur ? last : NULL;
}

int counter_reserve(struct counter *c, const char *member, uint64_t max,
    const struct counter_span *sp)
{
	if (c->kind == STORE_DISTINCT) {
		prune_members(c, sp->since);
		return reserve_member(c, member, max);
	}
	prune_slots(c, sp->since);
	if (last_takes(c, sp) != NULL)
		return 0; /* no room to make */
	return grow(c, sizeof(c->u.slots[0]));
}

/*
 * A slot at or after the current one (the clock stepped back, or a coarser
 * window's slot) takes the add: it counts at least as long as the current
 * slot would, and the slots stay in ascending order.
 */
uint64_t counter_add(struct counter *c, const char *member, uint32_t add, uint32_t window,
    const struct counter_span *sp, uint64_t before)
{
	struct counter_slot *last;
	uint32_t i, was;

	c->window = window;
	if (c->kind == STORE_DISTINCT) {
		if ((i = member_find(c, member)) < c->n && c->u.members[i].seen < sp->cur)
			c->u.members[i].seen = sp->cur;
		return counter_count(c, sp); /* a full set may have given up a member */
	}
	if ((last = last_takes(c, sp)) != NULL) {
		was = last->count;
		last->count = last->count > UINT32_MAX - add ? UINT32_MAX : last->count + add;
		if (last->width < sp->slot)
			last->width = (uint32_t)sp->slot;
		return before + (last->count - was);
	}
	if (c->n >= c->cap)
		return before; /* counter_reserve made room; never here */
	c->u.slots[c->n].start = sp->cur;
	c->u.slots[c->n].count = add;
	c->u.slots[c->n].width = (uint32_t)sp->slot;
	c->n++;
	return before + add;
}

int64_t counter_expiry(const struct counter *c)
{
	int64_t last = INT64_MIN, e = 0, slot = counter_slot_ms(c->window);

	if (c->kind == STORE_DISTINCT) {
		for (uint32_t i = 0; i < c->n; i++)
			if (c->u.members[i].seen > last)
				last = c->u.members[i].seen;
	} else {
		/* the last moment a slot still counts: its end, plus the window's other slots */
		for (uint32_t i = 0; i < c->n; i++)
			if (c->u.slots[i].start + (int64_t)c->u.slots[i].width > last)
				last = c->u.slots[i].start + (int64_t)c->u.slots[i].width;
		if (last != INT64_MIN)
			last -= slot;
	}
	if (last != INT64_MIN)
		e = last + (STORE_SLOTS + 1) * slot;
	/*
	 * A sum's slot counts while the grid's current slot starts before its
	 * end + STORE_SLOTS slots: a slot of another width (the window was
	 * changed) ends off the grid, and counts until the grid's next start.
	 */
	if (last != INT64_MIN && c->kind == STORE_SUM)
		e = -floor_div(-e, slot) * slot;
	if (c->lock_until != 0 && c->lock_until * 1000 > e)
		e = c->lock_until * 1000;
	return e;
}

uint32_t counter_members(const struct counter *c, const struct counter_span *sp, const char **names)
{
	int64_t since = sp->since;
	uint32_t k = 0;

	if (c->kind != STORE_DISTINCT)
		return 0;
	for (uint32_t i = 0; i < c->n; i++)
		if (c->u.members[i].seen >= since)
			names[k++] = member_name(&c->u.members[i]);
	return k;
}
