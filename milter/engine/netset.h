/* netset.h - sets of IPv4/IPv6 networks with fast membership tests */
#ifndef RM_NETSET_H
#define RM_NETSET_H

#include <stdbool.h>
#include <stddef.h>

#include "ipaddr.h"

/*
 * Built once (netset_add... then netset_finish), then immutable and safe to
 * share between threads. Lookups are O(log n) over sorted, merged ranges
 * with a cache-resident index over them: no linear scan, whatever the size.
 */
struct netset;

struct netset *netset_new(void);

/*
 * netset_add - add "a.b.c.d", "a.b.c.d/len", "v6addr" or "v6addr/len".
 * Host bits beyond the prefix are refused (likely a typo). Returns 0, or -1
 * with *why set to a static message. Not allowed after netset_finish().
 */
int netset_add(struct netset *set, const char *text, const char **why);

/*
 * netset_parse - "a.b.c.d/len" and the other forms of netset_add into an
 * address and a prefix length (an IPv4-mapped network counts as IPv4);
 * 0, or -1 with *why
 */
int netset_parse(const char *text, struct ipaddr *addr, unsigned *prefix, const char **why);

/* netset_add_addr - add one network given in binary form */
int netset_add_addr(struct netset *set, const struct ipaddr *addr, unsigned prefix);

/*
 * netset_finish - sort, merge and index; the set is read-only afterwards.
 * -1 when memory ran out: the set then matches nothing, so a caller that
 * ignores the error fails closed (no network trusted).
 */
int netset_finish(struct netset *set);

/* netset_contains - is addr inside any network of the (finished) set? */
bool netset_contains(const struct netset *set, const struct ipaddr *addr);

/* netset_count - number of entries added (before merging) */
size_t netset_count(const struct netset *set);

/* netset_memory - bytes held, for benchmarks */
size_t netset_memory(const struct netset *set);

void netset_free(struct netset *set);

#endif
