/* fuzz_addr.c - libFuzzer target: addr_parse on arbitrary bytes */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_check - the invariants every parse result keeps, whatever the input */
static void fuzz_check(const struct addr *a, enum addr_kind kind)
{
	const char *p;
	size_t n;

	if (kind != a->kind || (unsigned)kind > ADDR_INVALID)
		abort();
	/* Both strings end inside their arrays, so every reader is safe. */
	if (memchr(a->local, '\0', sizeof(a->local)) == NULL ||
	    memchr(a->domain, '\0', sizeof(a->domain)) == NULL)
		abort();
	if ((a->kind == ADDR_INVALID) != (a->error != NULL))
		abort();
	if ((a->kind == ADDR_MAILBOX || a->kind == ADDR_NODOMAIN) && a->local[0] == '\0')
		abort();
	/* Escapes are decoded, but never into a control character. */
	for (p = a->local; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	if (a->kind != ADDR_MAILBOX) {
		if (a->domain[0] != '\0' || a->literal)
			abort();
		return;
	}
	n = strlen(a->domain);
	if (n == 0 || n > 253 || a->domain[n - 1] == '.')
		abort();
	for (p = a->domain; *p != '\0'; p++)
		if ((*p >= 'A' && *p <= 'Z') || (unsigned char)*p >= 0x80 ||
		    (unsigned char)*p <= 0x20)
			abort();
	if (a->literal && a->literal_ip.family != IPADDR_V4 && a->literal_ip.family != IPADDR_V6)
		abort();
	/* A parse is stable: the canonical form parses to the same domain. */
	if (!a->literal) {
		struct addr again;
		char *text = malloc(n + 4);

		if (text == NULL)
			abort();
		text[0] = 'x';
		text[1] = '@';
		memcpy(text + 2, a->domain, n + 1);
		if (addr_parse(text, &again) != ADDR_MAILBOX ||
		    strcmp(again.domain, a->domain) != 0)
			abort();
		free(text);
	}
}

/*
 * fuzz_roundtrip - quote the decoded local part again (escaping '"' and
 * '\'), rebuild the path and parse it: the same local part and domain
 * must come back, or decoding and the grammar disagree.
 */
static void fuzz_roundtrip(const struct addr *a)
{
	char text[2 * ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 8];
	struct addr again;
	const char *p;
	size_t n = 0;

	if (a->kind != ADDR_MAILBOX && a->kind != ADDR_NODOMAIN)
		return;
	text[n++] = '<';
	text[n++] = '"';
	for (p = a->local; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			text[n++] = '\\';
		text[n++] = *p;
	}
	text[n++] = '"';
	if (a->kind == ADDR_MAILBOX)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "@%s%s%s", a->literal ? "[" : "",
		    a->domain, a->literal ? "]" : "");
	text[n++] = '>';
	text[n] = '\0';
	if (addr_parse(text, &again) != a->kind || strcmp(again.local, a->local) != 0 ||
	    strcmp(again.domain, a->domain) != 0 || again.literal != a->literal)
		abort();
	if (a->literal && !ipaddr_equal(&again.literal_ip, &a->literal_ip))
		abort();
}

/* LLVMFuzzerTestOneInput - parse a NUL-terminated copy of the input */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr a;
	enum addr_kind kind;
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&a, 0xa5, sizeof(a));
	kind = addr_parse(text, &a);
	fuzz_check(&a, kind);
	fuzz_roundtrip(&a);
	addr_trick_name(a.tricks);
	free(text);
	return 0;
}
