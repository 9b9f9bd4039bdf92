/* idn.c - internationalised domain names to their A-label (xn--) form */
#include <idn2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "idn.h"

/*
 * A 253-byte A-label name is at most about 4 UTF-8 bytes per code point
 * of its U-label form: cap the input well above any real name.
 */
#define IDN_INPUT_MAX 1024
#define IDN_NAME_MAX  253 /* RFC 1035, without the trailing dot */

/* idn_lower - ASCII lower-case in place; other bytes are left alone */
static void idn_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* idn_is_ascii - true when no byte has the high bit set */
static bool idn_is_ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* idn_store - copy a converted name out, lower-cased */
static int idn_store(const char *name, char *out, size_t outlen, const char **why)
{
	size_t n = strlen(name);

	if (n == 0) {
		*why = "empty domain";
		return -1;
	}

	if (n > IDN_NAME_MAX || n >= outlen) {
		*why = "domain longer than 253 characters";
		return -1;
	}
	memcpy(out, name, n);
	out[n] = '\0';
	idn_lower(out);
	return 0;
}

/* idn_to_ascii - UTF-8 or ASCII domain to lower-case A-label form */
int idn_to_ascii(const char *in, size_t len, char *out, size_t outlen, const char **why)
{
	char buf[IDN_INPUT_MAX + 1];
	char *ascii = NULL;
	int rc;

	*why = NULL;
	if (out == NULL || outlen < 256) {
		*why = "output buffer too small";
		return -1;
	}
	out[0] = '\0';
	if (in == NULL || len == 0) {
		*why = "empty domain";
		return -1;
	}
	if (len > IDN_INPUT_MAX) {
		*why = "domain longer than 253 characters";
		return -1;
	}
	if (memchr(in, '\0', len) != NULL) {
		*why = "NUL byte in domain";
		return -1;
	}
	memcpy(buf, in, len);
	buf[len] = '\0';
	/* "example." and "example" are the same name; strip the root dot first. */
	if (buf[len - 1] == '.')
		buf[--len] = '\0';
	if (len == 0) {
		*why = "empty domain";
		return -1;
	}

	/* The hot path: ASCII names (A-labels included) need no conversion. */
	if (idn_is_ascii(buf, len)) {
		if (len > IDN_NAME_MAX) {
			*why = "domain longer than 253 characters";
			return -1;
		}
		for (size_t i = 0; i <= len; i++) /* the NUL too */
			out[i] =
			    buf[i] >= 'A' && buf[i] <= 'Z' ? (char)(buf[i] - 'A' + 'a') : buf[i];
		return 0;
	}

	/*
	 * IDNA2008 alone (RFC 5891), no UTS #46 mapping: the MTA does not map
	 * either (Postfix with SMTPUTF8 routes user@local\u3002test to smtp),
	 * so a fullwidth dot or letter, a soft hyphen, a capital U-label or
	 * a name not in NFC is refused here, never folded into a local one.
	 * ASCII letters are folded first: that much every MTA does.
	 */
	idn_lower(buf);
	rc = idn2_to_ascii_8z(buf, &ascii, IDN2_NO_TR46);
	if (rc != IDN2_OK) {
		idn2_free(ascii);
		*why = idn2_strerror(rc);
		return -1;
	}
	rc = idn_store(ascii, out, outlen, why);
	idn2_free(ascii);
	return rc;
}

/* idn_library_version - the libidn2 this process runs with */
const char *idn_library_version(void)
{
	return idn2_check_version(NULL);
}
