/* check_idn.c - domains in UTF-8 and A-label form compare as one name */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idn.h"
#include "unit.h"

/* One row per form; want NULL means idn_to_ascii must refuse the name. */
struct idn_case {
	const char *in;
	const char *want;
};

static const struct idn_case cases[] = {
    /* ASCII: lower-cased, one trailing dot removed, nothing else. */
    {"example.com", "example.com"},
    {"Example.COM", "example.com"},
    {"example.com.", "example.com"},
    {"EXAMPLE.COM.", "example.com"},
    {"localhost", "localhost"},
    /* idn_to_ascii converts; label syntax is addr.c's job. */
    {"ex_ample.com", "ex_ample.com"},
    {"example.com..", "example.com."},

    /* U-labels and A-labels give the same name. */
    {"b\xc3\xbc"
     "cher.example",
	"xn--bcher-kva.example"},
    {"xn--bcher-kva.example", "xn--bcher-kva.example"},
    {"XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example"},
    {"Xn--Bcher-Kva.Example.", "xn--bcher-kva.example"},
    {"B\xc3\xbc"
     "cher.example",
	"xn--bcher-kva.example"},
    /* ASCII letters fold; a capital U-label is not IDNA2008 (no UTS #46 mapping) */
    {"B\xc3\x9c"
     "CHER.EXAMPLE",
	NULL},
    {"b\xc3\xbc"
     "cher.example.",
	"xn--bcher-kva.example"},
    /* Not NFC (u + combining diaeresis): refused, not normalised. */
    {"bu\xcc\x88"
     "cher.example",
	NULL},
    /* A mix of U-labels and A-labels in one name. */
    {"m\xc3\xbcnchen.xn--bcher-kva.example", "xn--mnchen-3ya.xn--bcher-kva.example"},
    {"\xe6\x97\xa5\xe6\x9c\xac.jp", "xn--wgv71a.jp"},
    {"\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", "xn--r8jz45g.xn--zckzah"},
    /* Ideographic full stop: a separator only under UTS #46, which the MTA does not apply. */
    {"\xe4\xbe\x8b\xe3\x81\x88\xe3\x80\x82\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", NULL},
    /* Non-transitional: sharp s stays a distinct letter (not "fass.de"). */
    {"fa\xc3\x9f.de", "xn--fa-hia.de"},
    /* Fullwidth letters, a fullwidth dot, a soft hyphen: not mapped, refused. */
    {"\xef\xbc\xa1\xef\xbc\xa2.example", NULL},
    {"example\xef\xbc\x8e"
     "com",
	NULL},
    {"exa\xc2\xadmple.com", NULL},
    /* Zero-width space: not mapped to nothing, refused. */
    {"\xe2\x80\x8b.example", NULL},
    /* Disallowed in IDNA2008: no transitional fallback. */
    {"\xe2\x98\x83.example", NULL},
    /* ... but not when a deviation character would make it another name. */
    {"loc\xe2\x80\x8d"
     "al.example",
	NULL},
    {"loc\xe2\x80\x8c"
     "al.example",
	NULL},
    {"fa\xc3\x9f\xe2\x98\x83.de", NULL},
    {"\xcf\x82\xe2\x98\x83.gr", NULL},
    /* Capital sharp s is not mapped to "ss". */
    {"\xe1\xba\x9e.de", NULL},

    /* Refused: empty, bad UTF-8, bad punycode after mapping, too long. */
    {"", NULL},
    {".", NULL},
    {"\xff\xfe.example", NULL},
    {"b\xc3.example", NULL},
    {"\xc0\xaf.example", NULL},
    {"\xed\xa0\x80.example", NULL},
    {"b\xc3\xbc"
     "cher.xn--zz",
	NULL},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* show - quote a test input, 8-bit bytes escaped */
static const char *show(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s != '\0' && n + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return buf;
}

START_TEST(test_idn_table)
{
	const struct idn_case *c = &cases[_i];
	char out[256], in[256];
	const char *why = NULL;
	int rc;

	show(c->in, in, sizeof(in));
	memset(out, 'Z', sizeof(out));
	rc = idn_to_ascii(c->in, strlen(c->in), out, sizeof(out), &why);
	if (c->want == NULL) {
		ck_assert_msg(rc == -1, "input %s: got \"%s\", want an error", in, out);
		ck_assert_msg(why != NULL && *why != '\0', "input %s: got no reason, want one", in);
		return;
	}
	ck_assert_msg(rc == 0, "input %s: got error \"%s\", want \"%s\"", in, why ? why : "?",
	    c->want);
	ck_assert_msg(strcmp(out, c->want) == 0, "input %s: got \"%s\", want \"%s\"", in, out,
	    c->want);
}
END_TEST

START_TEST(test_idn_length_arg)
{
	const char *why;
	char out[256];

	/* Only the first len bytes count: "example.comXYZ" with len 11. */
	ck_assert_int_eq(idn_to_ascii("example.comXYZ", 11, out, sizeof(out), &why), 0);
	ck_assert_msg(strcmp(out, "example.com") == 0, "input len 11: got \"%s\", want \"%s\"", out,
	    "example.com");
	/* A NUL inside the counted bytes is an error, not a shorter name. */
	ck_assert_msg(idn_to_ascii("exa\0mple.com", 12, out, sizeof(out), &why) == -1,
	    "input exa\\0mple.com: got \"%s\", want an error", out);
	/* The output buffer must hold any valid name. */
	ck_assert_msg(idn_to_ascii("example.com", 11, out, 100, &why) == -1,
	    "input outlen 100: got success, want an error");
}
END_TEST

START_TEST(test_idn_long)
{
	char in[2048], out[256];
	const char *why;
	size_t i;

	/* 253 ASCII characters pass, 254 do not. */
	memset(in, 'a', 253);
	for (i = 63; i < 253; i += 64)
		in[i] = '.';
	in[253] = '\0';
	ck_assert_msg(idn_to_ascii(in, 253, out, sizeof(out), &why) == 0,
	    "input 253 chars: got error %s, want success", why);
	ck_assert_uint_eq(strlen(out), 253);
	in[253] = 'a';
	ck_assert_msg(idn_to_ascii(in, 254, out, sizeof(out), &why) == -1,
	    "input 254 chars: got \"%s\", want an error", out);
	/* The same with a trailing dot is still 253. */
	in[253] = '.';
	ck_assert_msg(idn_to_ascii(in, 254, out, sizeof(out), &why) == 0,
	    "input 253 chars + dot: got error %s, want success", why);
	/* 2000 bytes of UTF-8 never fit. */
	for (i = 0; i + 2 <= 2000; i += 2)
		memcpy(in + i, "\xc3\xbc", 2);
	ck_assert_msg(idn_to_ascii(in, 2000, out, sizeof(out), &why) == -1,
	    "input 1000 u-umlauts: got \"%s\", want an error", out);
	/* 120 u-umlauts in one label: valid UTF-8, but an A-label over 63. */
	for (i = 0; i < 240; i += 2)
		memcpy(in + i, "\xc3\xbc", 2);
	memcpy(in + 240, ".example", 9);
	ck_assert_msg(idn_to_ascii(in, strlen(in), out, sizeof(out), &why) == -1,
	    "input 120 u-umlauts: got \"%s\", want an error", out);
}
END_TEST

/* idn_suite - conversions, refusals and buffer limits */
static Suite *idn_suite(void)
{
	Suite *s = suite_create("idn");
	TCase *tc = tcase_create("forms");

	tcase_add_loop_test(tc, test_idn_table, 0, (int)NCASES);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, test_idn_length_arg);
	tcase_add_test(tc, test_idn_long);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(idn_suite)
