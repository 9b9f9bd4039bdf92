/* siphash.h - a keyed hash of principal names, so clients cannot pick colliding names */
#ifndef RM_SIPHASH_H
#define RM_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* siphash - SipHash-1-3 of the len bytes at p under the 128-bit key k */
uint64_t siphash(const uint64_t k[2], const void *p, size_t len);

#endif
