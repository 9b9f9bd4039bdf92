/* domain.h - the syntax of a domain name, checked one way everywhere */
#ifndef RM_DOMAIN_H
#define RM_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#define DOMAIN_NAME_MAX  253 /* octets, without a trailing dot */
#define DOMAIN_LABEL_MAX 63

/*
 * domain_check - NULL when the len bytes at name are an LDH domain name
 * (RFC 1035/5321: labels of 1-63 letters, digits and inner hyphens, 253
 * octets in all, no trailing dot), else why not. Letters of either case.
 */
const char *domain_check(const char *name, size_t len);

/* domain_valid - the same, as a yes or no; one trailing dot is allowed here */
bool domain_valid(const char *name, size_t len);

#endif
