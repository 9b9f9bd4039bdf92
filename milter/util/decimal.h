/* decimal.h - an unsigned number in decimal, without printf: the RCPT path formats several */
#ifndef RM_DECIMAL_H
#define RM_DECIMAL_H

#include <stdint.h>

#define DECIMAL_MAX 20 /* the digits of UINT64_MAX */

/* decimal_put - v in decimal at p (at most DECIMAL_MAX bytes, no NUL); returns the end */
char *decimal_put(char *p, uint64_t v);

#endif
