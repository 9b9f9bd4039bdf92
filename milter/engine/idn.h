/* idn.h - internationalised domain names to their A-label (xn--) form */
#ifndef RM_IDN_H
#define RM_IDN_H

#include <stddef.h>

/*
 * idn_to_ascii - convert a domain written in UTF-8 or ASCII (any mix of
 * U-labels and A-labels) to lower-case A-label form in out (outlen bytes,
 * at least 256). Pure ASCII input is only lower-cased (no libidn2 call, the
 * hot path). Returns 0, or -1 with *why set when the name is not a valid IDN.
 */
int idn_to_ascii(const char *in, size_t len, char *out, size_t outlen, const char **why);

/* idn_library_version - the libidn2 this process runs with */
const char *idn_library_version(void);

#endif
