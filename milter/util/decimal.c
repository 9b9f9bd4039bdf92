/* decimal.c - an unsigned number in decimal, without printf */
#include "decimal.h"

char *decimal_put_long(char *p, uint64_t v)
{
	char tmp[DECIMAL_MAX];
	unsigned n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}
