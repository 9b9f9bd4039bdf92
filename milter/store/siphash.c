/* siphash.c - SipHash-1-3 (Aumasson, Bernstein): keyed, fast on short strings */

#include <string.h>

#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* sipround - one round over the four state words (inlined: a call costs as much as a round) */
static inline __attribute__((always_inline)) void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

/* load64 - eight bytes, little-endian, from any alignment: one load, not eight */
static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

uint64_t siphash(const uint64_t k[2], const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t v[4] = {k[0] ^ 0x736f6d6570736575ULL, k[1] ^ 0x646f72616e646f6dULL,
	    k[0] ^ 0x6c7967656e657261ULL, k[1] ^ 0x7465646279746573ULL};
	uint64_t m, b = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load64(s + i);
		v[3] ^= m;
		sipround(v);
		v[0] ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)s[i + j] << (8 * j);
	v[3] ^= b;
	sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	sipround(v);
	sipround(v);
	sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
