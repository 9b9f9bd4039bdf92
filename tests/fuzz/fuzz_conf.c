/*
 * fuzz_conf.c - libFuzzer target: the configuration loader on arbitrary
 * files
 *
 * The input is up to three files separated by lines "%%": the
 * configuration, then two files it may name as "@1" and "@2" (list files,
 * users_file, @include, a GeoIP database, which holds NUL bytes). Each is written to a private
 * folder, "@1" and "@2" are replaced by the paths, and conf_load reads
 * the result. Invariants: no crash, leak or undefined behaviour; a load
 * fails exactly when it reports an error; every error is "FILE:LINE: what"
 * for a file of the folder. A configuration that loads then judges a few
 * fixed transactions, so that what the loader compiled is also used.
 *
 * So that no input makes the loader read a device or a file of the
 * machine (/dev/zero never ends), the configuration may name no path of
 * its own: an input with an absolute path or a \x escape is skipped, and
 * the folder is the current directory, for relative @include names.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TEXT_MAX 65536
#define FUZZ_SEP      "\n%%\n" /* between the files of one input */

static char fuzz_dir[64];
static char fuzz_paths[3][96]; /* the configuration, @1 and @2 */

/* fuzz_setup - a private folder, made the current directory */
static void fuzz_setup(void)
{
	if (fuzz_dir[0] != 0)
		return;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/fuzz-conf.XXXXXX");
	if (mkdtemp(fuzz_dir) == NULL || chdir(fuzz_dir) < 0)
		abort();
	for (int i = 0; i < 3; i++)
		snprintf(fuzz_paths[i], sizeof(fuzz_paths[i]), "%s/%s", fuzz_dir,
		    i == 0     ? "main.conf" :
			i == 1 ? "one" :
				 "two");
}

/* names_own_path - does the text name a file of its own, or hide one in an escape? */
static int names_own_path(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		/* a network's prefix ("10.0.0.0/8", "::/0") is the only slash allowed */
		if (text[i] == '/' &&
		    !(i > 0 &&
			(text[i - 1] == ':' || (text[i - 1] >= '0' && text[i - 1] <= '9') ||
			    (text[i - 1] >= 'a' && text[i - 1] <= 'f') ||
			    (text[i - 1] >= 'A' && text[i - 1] <= 'F'))))
			return 1;
		if (text[i] == '\\' && i + 1 < len && (text[i + 1] == 'x' || text[i + 1] == 'X'))
			return 1;
	}
	return 0;
}

/* write_file - data to path; the configuration with @1 and @2 replaced */
static void write_file(const char *path, const uint8_t *data, size_t len, int expand)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		abort();
	for (size_t i = 0; i < len; i++) {
		if (expand && data[i] == '@' && i + 1 < len &&
		    (data[i + 1] == '1' || data[i + 1] == '2')) {
			fputs(fuzz_paths[data[i + 1] - '0'], fp);
			i++;
		} else
			fputc(data[i], fp);
	}
	if (fclose(fp) != 0)
		abort();
}

/* error_well_formed - "FILE:LINE: what", FILE inside the folder */
static int error_well_formed(const char *msg)
{
	size_t n = strlen(fuzz_dir);
	const char *p;

	if (strncmp(msg, fuzz_dir, n) != 0 || msg[n] != '/')
		return 0;
	if ((p = strchr(msg + n, ':')) == NULL || p[1] < '0' || p[1] > '9')
		return 0;
	for (p++; *p >= '0' && *p <= '9'; p++)
		;
	return p[0] == ':' && p[1] == ' ' && p[2] != 0;
}

/* judge - a few transactions against a configuration that loaded */
static void judge(const struct policy *p)
{
	static const char *const facts[][4] = {
	    /* client, login, sender, recipient */
	    {"203.0.113.9", NULL, "<a@remote.test>", "<x@remote.test>"},
	    {"10.1.2.3", NULL, "<>", "<postmaster@example.com>"},
	    {"2001:db8::25", "alice", "<alice@example.com>", "<x@example.org>"},
	    {NULL, NULL, "<bob>", "<user%remote.test@example.com>"},
	};
	struct ipaddr client;
	struct verdict *v = malloc(sizeof(*v));
	struct trace *t = malloc(sizeof(*t));

	if (v == NULL || t == NULL)
		abort();
	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
		struct geo_cache geo = {0};
		struct facts f = {0};

		if (facts[i][0] != NULL && ipaddr_parse(facts[i][0], &client) == 0)
			f.client = &client;
		f.helo = "mail.example.net";
		f.login = facts[i][1];
		f.sender = facts[i][2];
		f.rcpt = facts[i][3];
		f.geo = &geo;
		policy_decide(p, &f, v, t);
		if (v->rule == NULL || t->n == 0)
			abort();
	}
	free(v);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[3] = {data, NULL, NULL};
	size_t len[3] = {size, 0, 0};
	struct conf_errors errs = {0};
	struct config *cfg;

	if (size > FUZZ_TEXT_MAX)
		return 0;
	fuzz_setup();
	/* split at the first two separator lines */
	for (int k = 0; k < 2; k++) {
		const uint8_t *sep = memmem(part[k], len[k], FUZZ_SEP, sizeof(FUZZ_SEP) - 1);

		if (sep == NULL)
			break;
		part[k + 1] = sep + sizeof(FUZZ_SEP) - 1;
		len[k + 1] = len[k] - (size_t)(part[k + 1] - part[k]);
		len[k] = (size_t)(sep - part[k]);
	}
	if (names_own_path((const char *)part[0], len[0]))
		return 0;
	write_file(fuzz_paths[0], part[0], len[0], 1);
	write_file(fuzz_paths[1], part[1] ? part[1] : data, part[1] ? len[1] : 0, 0);
	write_file(fuzz_paths[2], part[2] ? part[2] : data, part[2] ? len[2] : 0, 0);
	cfg = conf_load(fuzz_paths[0], &errs);
	if ((cfg == NULL) != (errs.n > 0 || errs.lost > 0))
		abort();
	for (size_t i = 0; i < errs.n; i++)
		if (!error_well_formed(errs.msgs[i])) {
			fprintf(stderr, "fuzz_conf: not FILE:LINE: \"%s\"\n", errs.msgs[i]);
			abort();
		}
	conf_errors_free(&errs);
	if (cfg != NULL)
		judge(cfg->policy);
	conf_free(cfg);
	return 0;
}
