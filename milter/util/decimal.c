/* decimal.c - an unsigned number in decimal, without printf */
#include "decimal.h"

char *decimal_put(char *p, uint64_t v)
{
	char tmp[DECIMAL_MAX];
	unsigned n = 0;

	/* the short numbers the RCPT path writes most (address bytes, reply codes) */
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
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}
