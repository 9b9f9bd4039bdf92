/* netset.c - sets of IPv4/IPv6 networks as sorted, merged address ranges */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netset.h"

/* A 128-bit address as two host-order halves, so ranges compare as integers. */
struct u128 {
	uint64_t hi, lo;
};

struct range4 {
	uint32_t first, last;
};

struct range6 {
	struct u128 first, last;
};

/*
 * Lookups first search a small index holding the start of every
 * NETSET_BLOCK-th range (it stays in cache even for 10^6 networks), then
 * one block of the big array: two or three cache misses instead of the
 * dozen a plain binary search over megabytes takes.
 */
#define NETSET_BLOCK 16

struct netset {
	struct range4 *v4;
	struct range6 *v6;
	uint32_t *top4;    /* v4[k * NETSET_BLOCK].first */
	struct u128 *top6; /* v6[k * NETSET_BLOCK].first */
	size_t ntop4, ntop6;
	size_t n4, cap4, n6, cap6;
	size_t added;
	int finished;
};

/* netset_new - an empty set */
struct netset *netset_new(void)
{
	return calloc(1, sizeof(struct netset));
}

/* load_be64 - eight big-endian bytes as an integer */
static uint64_t load_be64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static uint32_t load_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/* hostmask64 - the host-bit mask of one 64-bit half for a prefix of 0..64 bits */
static uint64_t hostmask64(unsigned bits)
{
	return bits >= 64 ? 0 : bits == 0 ? UINT64_MAX : UINT64_MAX >> bits;
}

/* grow - make room for one more element in a dynamic array */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	if ((p = realloc(*arr, ncap * size)) == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* add_v4 - append the range of addr/prefix; -1 when host bits are set */
static int add_v4(struct netset *set, const uint8_t *b, unsigned prefix)
{
	uint32_t a = load_be32(b);
	uint32_t host = prefix >= 32 ? 0 : prefix == 0 ? UINT32_MAX : UINT32_MAX >> prefix;

	if (a & host)
		return -1;
	if (grow((void **)&set->v4, &set->cap4, set->n4, sizeof(*set->v4)) < 0)
		return -2;
	set->v4[set->n4].first = a;
	set->v4[set->n4].last = a | host;
	set->n4++;
	return 0;
}

/* add_v6 - append the range of addr/prefix; -1 when host bits are set */
static int add_v6(struct netset *set, const uint8_t *b, unsigned prefix)
{
	struct u128 a = {load_be64(b), load_be64(b + 8)};
	uint64_t mhi = hostmask64(prefix), mlo = hostmask64(prefix > 64 ? prefix - 64 : 0);

	if ((a.hi & mhi) || (a.lo & mlo))
		return -1;
	if (grow((void **)&set->v6, &set->cap6, set->n6, sizeof(*set->v6)) < 0)
		return -2;
	set->v6[set->n6].first = a;
	set->v6[set->n6].last = (struct u128){a.hi | mhi, a.lo | mlo};
	set->n6++;
	return 0;
}

/* netset_add_addr - add one network given in binary form */
int netset_add_addr(struct netset *set, const struct ipaddr *addr, unsigned prefix)
{
	int rc;

	if (set->finished)
		return -2;
	if (addr->family == IPADDR_V4)
		rc = prefix > 32 ? -1 : add_v4(set, addr->bytes, prefix);
	else
		rc = prefix > 128 ? -1 : add_v6(set, addr->bytes, prefix);
	if (rc == 0)
		set->added++;
	return rc;
}

/* parse_prefix - strict decimal prefix length, no sign, no trailing garbage */
static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (*s == 0 || strlen(s) > 3)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* netset_parse - a network written as text, into address and prefix */
int netset_parse(const char *text, struct ipaddr *addr, unsigned *prefix, const char **why)
{
	char buf[64];
	const char *slash;
	size_t len;
	int v6text;

	slash = strchr(text, '/');
	len = slash ? (size_t)(slash - text) : strlen(text);
	if (len == 0 || len >= sizeof(buf)) {
		*why = "malformed network address";
		return -1;
	}
	memcpy(buf, text, len);
	buf[len] = 0;
	if (ipaddr_parse(buf, addr) < 0) {
		*why = "malformed network address";
		return -1;
	}
	/* "::ffff:192.0.2.0/120" is folded to IPv4: its prefix counts from bit 96. */
	v6text = strchr(buf, ':') != NULL;
	if (slash == NULL)
		*prefix = addr->family == IPADDR_V4 ? 32 : 128;
	else if (parse_prefix(slash + 1, v6text ? 128 : 32, prefix) < 0) {
		*why = "malformed prefix length";
		return -1;
	}
	if (v6text && addr->family == IPADDR_V4) {
		if (slash != NULL && *prefix < 96) {
			*why = "IPv4-mapped prefix shorter than 96 bits";
			return -1;
		}
		if (slash != NULL)
			*prefix -= 96;
	}
	return 0;
}

/* netset_add - add a network written as text */
int netset_add(struct netset *set, const char *text, const char **why)
{
	struct ipaddr addr;
	unsigned prefix;
	int rc;

	if (netset_parse(text, &addr, &prefix, why) < 0)
		return -1;
	rc = netset_add_addr(set, &addr, prefix);
	if (rc == -1)
		*why = "address has bits set beyond the prefix length";
	else if (rc < 0)
		*why = rc == -2 && set->finished ? "set is read-only" : "out of memory";
	return rc < 0 ? -1 : 0;
}

static int cmp_range4(const void *a, const void *b)
{
	const struct range4 *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

static int cmp_range6(const void *a, const void *b)
{
	const struct range6 *x = a, *y = b;

	return u128_cmp(x->first, y->first);
}

/* merge4 - collapse sorted ranges that overlap or touch */
static size_t merge4(struct range4 *r, size_t n)
{
	size_t out = 0;

	for (size_t i = 1; i < n; i++) {
		if (r[out].last == UINT32_MAX || r[i].first <= r[out].last + 1) {
			if (r[i].last > r[out].last)
				r[out].last = r[i].last;
		} else
			r[++out] = r[i];
	}
	return n ? out + 1 : 0;
}

/* u128_succ - a+1, saturating at the top */
static struct u128 u128_succ(struct u128 a)
{
	if (a.lo != UINT64_MAX)
		return (struct u128){a.hi, a.lo + 1};
	if (a.hi != UINT64_MAX)
		return (struct u128){a.hi + 1, 0};
	return a;
}

static size_t merge6(struct range6 *r, size_t n)
{
	size_t out = 0;

	for (size_t i = 1; i < n; i++) {
		if (u128_cmp(r[i].first, u128_succ(r[out].last)) <= 0) {
			if (u128_cmp(r[i].last, r[out].last) > 0)
				r[out].last = r[i].last;
		} else
			r[++out] = r[i];
	}
	return n ? out + 1 : 0;
}

/* shrink - give back what merging freed; keep the old array if realloc fails */
static void shrink(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n == 0 || n == *cap || (p = realloc(*arr, n * size)) == NULL)
		return;
	*arr = p;
	*cap = n;
}

/* build_index - sample every block's first start; -1 on ENOMEM */
static int build_index(struct netset *set)
{
	set->ntop4 = (set->n4 + NETSET_BLOCK - 1) / NETSET_BLOCK;
	set->ntop6 = (set->n6 + NETSET_BLOCK - 1) / NETSET_BLOCK;
	set->top4 = malloc((set->ntop4 ? set->ntop4 : 1) * sizeof(*set->top4));
	set->top6 = malloc((set->ntop6 ? set->ntop6 : 1) * sizeof(*set->top6));
	if (set->top4 == NULL || set->top6 == NULL)
		return -1;
	for (size_t k = 0; k < set->ntop4; k++)
		set->top4[k] = set->v4[k * NETSET_BLOCK].first;
	for (size_t k = 0; k < set->ntop6; k++)
		set->top6[k] = set->v6[k * NETSET_BLOCK].first;
	return 0;
}

/* netset_finish - sort, merge and index; read-only afterwards */
int netset_finish(struct netset *set)
{
	if (set->finished)
		return 0;
	if (set->n4)
		qsort(set->v4, set->n4, sizeof(*set->v4), cmp_range4);
	if (set->n6)
		qsort(set->v6, set->n6, sizeof(*set->v6), cmp_range6);
	set->n4 = merge4(set->v4, set->n4);
	set->n6 = merge6(set->v6, set->n6);
	shrink((void **)&set->v4, &set->cap4, set->n4, sizeof(*set->v4));
	shrink((void **)&set->v6, &set->cap6, set->n6, sizeof(*set->v6));
	set->finished = 1;
	if (build_index(set) < 0) {
		/* an empty index matches nothing: the safe failure, and reported */
		set->ntop4 = set->ntop6 = 0;
		return -1;
	}
	return 0;
}

/* block4 - index of the first range of the block that may hold a, or -1 */
static long block4(const struct netset *set, uint32_t a)
{
	size_t lo = 0, hi = set->ntop4;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->top4[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? -1 : (long)((lo - 1) * NETSET_BLOCK);
}

static long block6(const struct netset *set, struct u128 a)
{
	size_t lo = 0, hi = set->ntop6;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u128_cmp(set->top6[mid], a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? -1 : (long)((lo - 1) * NETSET_BLOCK);
}

/* contains4 - the last range starting at or below a, found within its block */
static bool contains4(const struct netset *set, uint32_t a)
{
	long b = block4(set, a);
	size_t i, end;

	if (b < 0)
		return false;
	i = (size_t)b;
	end = i + NETSET_BLOCK < set->n4 ? i + NETSET_BLOCK : set->n4;
	while (i + 1 < end && set->v4[i + 1].first <= a)
		i++;
	return a <= set->v4[i].last;
}

static bool contains6(const struct netset *set, struct u128 a)
{
	long b = block6(set, a);
	size_t i, end;

	if (b < 0)
		return false;
	i = (size_t)b;
	end = i + NETSET_BLOCK < set->n6 ? i + NETSET_BLOCK : set->n6;
	while (i + 1 < end && u128_cmp(set->v6[i + 1].first, a) <= 0)
		i++;
	return u128_cmp(a, set->v6[i].last) <= 0;
}

/* netset_contains - is addr inside any network of the set? */
bool netset_contains(const struct netset *set, const struct ipaddr *addr)
{
	if (set == NULL || addr == NULL)
		return false;
	if (addr->family == IPADDR_V4)
		return contains4(set, load_be32(addr->bytes));
	return contains6(set, (struct u128){load_be64(addr->bytes), load_be64(addr->bytes + 8)});
}

size_t netset_count(const struct netset *set)
{
	return set->added;
}

size_t netset_memory(const struct netset *set)
{
	return sizeof(*set) + set->cap4 * sizeof(*set->v4) + set->cap6 * sizeof(*set->v6) +
	    set->ntop4 * sizeof(*set->top4) + set->ntop6 * sizeof(*set->top6);
}

void netset_free(struct netset *set)
{
	if (set == NULL)
		return;
	free(set->v4);
	free(set->v6);
	free(set->top4);
	free(set->top6);
	free(set);
}
