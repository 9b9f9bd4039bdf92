/* domainset.h - sets of domains, exact and with subdomains */
#ifndef RM_DOMAINSET_H
#define RM_DOMAINSET_H

#include <stdbool.h>
#include <stddef.h>

/*
 * "example.com" matches that domain only; ".example.com" matches every
 * subdomain of it (not example.com itself), as Postfix's parent_domain_*
 * convention. Matching ignores case and one trailing dot. Entries are
 * stored in an open-addressing hash table: a lookup costs one probe per
 * label of the queried name, whatever the size of the set.
 *
 * Internationalised names are expected in A-label (xn--) form here; callers
 * convert with idn.h first.
 */
struct domainset;

struct domainset *domainset_new(void);

/*
 * domainset_add - add "example.com" or ".example.com" (LDH labels, 1-63
 * octets each, 253 in all). Returns 0, or -1 with *why set to a static
 * message. Not allowed after domainset_finish().
 */
int domainset_add(struct domainset *set, const char *text, const char **why);

/*
 * domainset_add_name - the same for a name as an operator writes it: in
 * UTF-8 or A-labels, any ASCII case, one trailing dot (idn.h); every list
 * that takes domains goes through here, so all accept the same names
 */
int domainset_add_name(struct domainset *set, const char *text, const char **why);

/* domainset_finish - the set is read-only and thread-safe afterwards */
void domainset_finish(struct domainset *set);

/* domainset_contains - does the (finished) set match this domain? */
bool domainset_contains(const struct domainset *set, const char *domain, size_t len);

size_t domainset_count(const struct domainset *set);
size_t domainset_memory(const struct domainset *set);
void domainset_free(struct domainset *set);

#endif
