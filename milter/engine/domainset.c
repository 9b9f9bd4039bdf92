/* domainset.c - domain sets in an open-addressing hash table */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "domainset.h"
#include "idn.h"

#define DOMAIN_MAX DOMAIN_NAME_MAX

#define MATCH_EXACT     0x1 /* "example.com" */
#define MATCH_SUBDOMAIN 0x2 /* ".example.com" */

/* One slot: names live in one arena, so a million entries are two allocations. */
struct slot {
	uint32_t hash;
	uint32_t offset; /* into arena; 0 marks an empty slot */
	uint8_t len;
	uint8_t flags;
};

struct domainset {
	struct slot *slots;
	size_t mask; /* slot count - 1 (a power of two) */
	size_t used;
	size_t added;
	char *arena;
	size_t arena_len, arena_cap;
	/* label counts of ".parent" entries: parents outside it are never probed */
	unsigned sub_min_labels, sub_max_labels;
	int finished;
};

/* count_labels - labels in a name without a trailing dot */
static unsigned count_labels(const char *name, size_t len)
{
	unsigned n = 1;

	for (size_t i = 0; i < len; i++)
		n += name[i] == '.';
	return n;
}

/*
 * hash_name - over an already lower-cased name, eight bytes a step (a
 * multiply and a fold each), then a final 64-bit mix: names that differ
 * only in their last characters ("d1.example", "d2.example") must not land
 * in neighbouring slots, where linear probing would make long runs of them.
 * The name must be followed by eight NULs (NAME_PAD): the last step reads
 * them with it.
 */
#define NAME_PAD 8
#define HASH_K   0xff51afd7ed558ccdull

static inline uint64_t load64(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static uint32_t hash_name(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		h = (h ^ load64(s + i)) * HASH_K;
		h ^= h >> 32;
	}
	if (i < len) { /* the last bytes, and the NULs after them */
		h = (h ^ load64(s + i)) * HASH_K;
		h ^= h >> 32;
	}
	h ^= h >> 33;
	h *= HASH_K;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h | 1; /* never 0 */
}

/*
 * lower8 - eight bytes with ASCII A-Z lower-cased and every other byte as
 * it was (bytes from 0x80 on included), as lower() does one at a time
 */
static inline uint64_t lower8(uint64_t x)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7full, high = 0x8080808080808080ull;
	uint64_t h = x & low7;
	uint64_t from_a = h + 0x3f3f3f3f3f3f3f3full; /* high bit set: 'A' or above */
	uint64_t past_z = h + 0x2525252525252525ull; /* high bit set: above 'Z' */

	return x | ((from_a & ~past_z & ~x & high) >> 2);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 'a' - 'A') : c;
}

/* domainset_new - an empty set */
struct domainset *domainset_new(void)
{
	struct domainset *set = calloc(1, sizeof(*set));

	if (set == NULL)
		return NULL;
	set->mask = 63;
	set->slots = calloc(set->mask + 1, sizeof(*set->slots));
	set->arena_cap = 4096;
	set->arena = malloc(set->arena_cap);
	if (set->slots == NULL || set->arena == NULL) {
		domainset_free(set);
		return NULL;
	}
	set->arena_len = 1; /* offset 0 means "empty slot" */
	return set;
}

/* find_slot - the slot holding name, or the empty slot where it belongs */
static struct slot *find_slot(const struct domainset *set, const char *name, size_t len, uint32_t h)
{
	size_t i = h & set->mask;

	for (;;) {
		struct slot *s = &set->slots[i];

		if (s->offset == 0)
			return s;
		if (s->hash == h && s->len == len && memcmp(set->arena + s->offset, name, len) == 0)
			return s;
		i = (i + 1) & set->mask;
	}
}

/* rehash - double the table to keep the load factor at or below one half */
static int rehash(struct domainset *set)
{
	size_t oldn = set->mask + 1;
	struct slot *old = set->slots;

	set->slots = calloc(oldn * 2, sizeof(*set->slots));
	if (set->slots == NULL) {
		set->slots = old;
		return -1;
	}
	set->mask = oldn * 2 - 1;
	for (size_t i = 0; i < oldn; i++) {
		if (old[i].offset == 0)
			continue;
		size_t j = old[i].hash & set->mask;

		while (set->slots[j].offset != 0)
			j = (j + 1) & set->mask;
		set->slots[j] = old[i];
	}
	free(old);
	return 0;
}

/* arena_store - copy a name into the arena; its offset, or 0 on failure */
static uint32_t arena_store(struct domainset *set, const char *name, size_t len)
{
	uint32_t off;

	if (set->arena_len + len > UINT32_MAX)
		return 0;
	if (set->arena_len + len > set->arena_cap) {
		size_t ncap = set->arena_cap * 2 + len;
		char *p = realloc(set->arena, ncap);

		if (p == NULL)
			return 0;
		set->arena = p;
		set->arena_cap = ncap;
	}
	off = (uint32_t)set->arena_len;
	memcpy(set->arena + off, name, len);
	set->arena_len += len;
	return off;
}

/* domainset_add - add "example.com" or ".example.com" */
int domainset_add(struct domainset *set, const char *text, const char **why)
{
	char name[DOMAIN_MAX + NAME_PAD];
	uint8_t flag = MATCH_EXACT;
	size_t len = strlen(text);
	struct slot *s;
	uint32_t h;

	if (set->finished) {
		*why = "set is read-only";
		return -1;
	}
	if (len > 0 && text[0] == '.') {
		flag = MATCH_SUBDOMAIN;
		text++;
		len--;
	}
	if (!domain_valid(text, len)) {
		*why = "malformed domain name";
		return -1;
	}
	if (text[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++)
		name[i] = lower(text[i]);
	memset(name + len, 0, NAME_PAD);
	h = hash_name(name, len);
	s = find_slot(set, name, len, h);
	if (s->offset == 0) {
		if ((s->offset = arena_store(set, name, len)) == 0) {
			*why = "out of memory";
			return -1;
		}
		s->hash = h;
		s->len = (uint8_t)len;
		if (++set->used * 2 > set->mask + 1) {
			if (rehash(set) < 0) {
				*why = "out of memory";
				return -1;
			}
			s = find_slot(set, name, len, h); /* the slot moved */
		}
	}
	s->flags |= flag;
	if (flag == MATCH_SUBDOMAIN) {
		unsigned labels = count_labels(name, len);

		if (set->sub_max_labels == 0 || labels < set->sub_min_labels)
			set->sub_min_labels = labels;
		if (labels > set->sub_max_labels)
			set->sub_max_labels = labels;
	}
	set->added++;
	return 0;
}

/* domainset_finish - give back spare arena space; read-only afterwards */
void domainset_finish(struct domainset *set)
{
	char *p;

	if (set->finished)
		return;
	if ((p = realloc(set->arena, set->arena_len)) != NULL) {
		set->arena = p;
		set->arena_cap = set->arena_len;
	}
	set->finished = 1;
}

/* lookup_hashed - the match flags stored for name whose hash is h (0 when absent) */
static uint8_t lookup_hashed(const struct domainset *set, const char *name, size_t len, uint32_t h)
{
	const struct slot *s = find_slot(set, name, len, h);

	return s->offset ? s->flags : 0;
}

/* lookup - the match flags stored for name (0 when absent) */
static uint8_t lookup(const struct domainset *set, const char *name, size_t len)
{
	return lookup_hashed(set, name, len, hash_name(name, len));
}

/* lower_hash - name lower-cased into out (room for len + NAME_PAD bytes), padded, hashed */
static uint32_t lower_hash(const char *name, size_t len, char *out)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w = lower8(load64(name + i));

		memcpy(out + i, &w, sizeof(w));
	}
	if (i < len && len >= 8) { /* the last eight bytes, overlapping the ones before */
		uint64_t w = lower8(load64(name + len - 8));

		memcpy(out + len - 8, &w, sizeof(w));
	} else
		for (; i < len; i++)
			out[i] = lower(name[i]);
	memset(out + len, 0, NAME_PAD);
	return hash_name(out, len);
}

/*
 * domainset_contains - exact match on the whole name, then a subdomain
 * match on each parent: "a.b.example.com" tries "b.example.com" and
 * "example.com" and "com" for a ".parent" entry, skipping parents with
 * more or fewer labels than any ".parent" entry has.
 */
bool domainset_contains(const struct domainset *set, const char *domain, size_t len)
{
	char name[DOMAIN_MAX + NAME_PAD];
	unsigned labels;

	if (set == NULL || set->used == 0)
		return false;
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len > DOMAIN_MAX)
		return false;
	if (lookup_hashed(set, name, len, lower_hash(domain, len, name)) & MATCH_EXACT)
		return true;
	if (set->sub_max_labels == 0)
		return false;
	labels = count_labels(name, len);
	for (size_t i = 0; i < len; i++) {
		if (name[i] != '.' || i + 1 >= len)
			continue;
		labels--; /* name + i + 1 has this many labels */
		if (labels > set->sub_max_labels)
			continue;
		if (labels < set->sub_min_labels)
			break;
		if (lookup(set, name + i + 1, len - i - 1) & MATCH_SUBDOMAIN)
			return true;
	}
	return false;
}

size_t domainset_count(const struct domainset *set)
{
	return set->added;
}

size_t domainset_memory(const struct domainset *set)
{
	return sizeof(*set) + (set->mask + 1) * sizeof(*set->slots) + set->arena_cap;
}

void domainset_free(struct domainset *set)
{
	if (set == NULL)
		return;
	free(set->slots);
	free(set->arena);
	free(set);
}

/* domainset_add_name - a domain as an operator writes it: UTF-8 or A-labels, maybe ".name" */
int domainset_add_name(struct domainset *set, const char *text, const char **why)
{
	char ace[2 + 256]; /* "." and what idn_to_ascii needs */
	int dot = text[0] == '.';

	ace[0] = '.';
	if (idn_to_ascii(text + dot, strlen(text + dot), ace + 1, sizeof(ace) - 1, why) < 0)
		return -1;
	return domainset_add(set, ace + !dot, why);
}
