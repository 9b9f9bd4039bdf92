/* decimal.h - an unsigned number in decimal, without printf: the RCPT path formats several */
#ifndef RM_DECIMAL_H
#define RM_DECIMAL_H

#include <stdint.h>

#define DECIMAL_MAX 20 /* the digits of UINT64_MAX */

/* decimal_put_long - decimal_put for any v (out of line) */
char *decimal_put_long(char *p, uint64_t v);

/*
 * decimal_put - v in decimal at p (at most DECIMAL_MAX bytes, no NUL);
 * returns the end. The short numbers the RCPT path writes most (an
 * address's bytes, reply codes) are written in line, without the digit
 * loop.
 */
static inline char *decimal_put(char *p, uint64_t v)
{
	if (v < 10) {
		p[0] = (char)('0' + v);
		return p + 1;
	}
	if (v < 100) {
		p[0] = (char)('0' + v / 10);
		p[1] = (char)('0' + v % 10);
		return p + 2;
	}
	if (v < 1000) {
		p[0] = (char)('0' + v / 100);
		p[1] = (char)('0' + v / 10 % 10);
		p[2] = (char)('0' + v % 10);
		return p + 3;
	}
	return decimal_put_long(p, v);
}

#endif
