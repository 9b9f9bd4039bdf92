/* idn.c - internationalised domain names to their A-label (xn--) form */
#include <idn2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "idn.h"

/*
 * A 253-byte A-label name is at most about 4 UTF-8 bytes per code point,
 * but UTS #46 maps some code points to nothing (soft hyphen, ZWJ), so the
 * input has no natural bound: cap it well above any real name.
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

/*
 * idn_has_deviation - does the name hold a UTS #46 deviation character
 * (ZWNJ, ZWJ, sharp s, final sigma)? These are exactly where transitional
 * and non-transitional processing disagree: transitionally "loc<ZWJ>al"
 * is "local", while IDNA2008 refuses it. A name that only converts
 * transitionally must not contain one, or it would look local to us and
 * be something else to the MTA.
 */
static bool idn_has_deviation(const char *s)
{
	return strstr(s, "\xe2\x80\x8c") != NULL || strstr(s, "\xe2\x80\x8d") != NULL ||
	    strstr(s, "\xc3\x9f") != NULL || strstr(s, "\xcf\x82") != NULL;
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
	if (idn_is_ascii(buf, len))
		return idn_store(buf, out, outlen, why);

	/*
	 * IDNA2008 with UTS #46 non-transitional mapping, as browsers and
	 * current registries use; transitional processing (ß -> ss) only when
	 * the name is refused otherwise (symbols such as U+2603 that IDNA2008
	 * disallows but UTS #46 allows), and never for a deviation character.
	 */
	rc = idn2_to_ascii_8z(buf, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	/* out of memory is not a name IDNA2008 refuses: no second, looser try */
	if (rc != IDN2_OK && rc != IDN2_MALLOC && !idn_has_deviation(buf)) {
		idn2_free(ascii);
		ascii = NULL;
		rc = idn2_to_ascii_8z(buf, &ascii, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
	}
	if (rc != IDN2_OK) {
		idn2_free(ascii);
		*why = idn2_strerror(rc);
		return -1;
	}
	rc = idn_store(ascii, out, outlen, why);
	idn2_free(ascii);
	return rc;
}
