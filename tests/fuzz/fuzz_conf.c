/*
 * fuzz_conf.c - libFuzzer target: the configuration loader on arbitrary
 * files
 *
 * The input is up to three files separated by NUL bytes: the
 * configuration, then two files it may name as "@1" and "@2" (list files,
 * users_file, @include, a GeoIP database). Each is written to a private
 * folder, "@1" and "@2" are replaced by the paths, and conf_load reads
 * the result. Invariants: no crash, leak or undefined behaviour; a load
 * fails exactly when it reports an error; every error is "FILE:LINE: what"
 * for a file of the folder.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TEXT_MAX 65536

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[3] = {data, NULL, NULL};
	size_t len[3] = {size, 0, 0};
	struct conf_errors errs = {0};
	struct config *cfg;

	if (size > FUZZ_TEXT_MAX)
		return 0;
	fuzz_setup();
	/* split at the first two NUL bytes */
	for (int k = 0; k < 2; k++) {
		const uint8_t *nul = memchr(part[k], 0, len[k]);

		if (nul == NULL)
			break;
		part[k + 1] = nul + 1;
		len[k + 1] = len[k] - (size_t)(nul + 1 - part[k]);
		len[k] = (size_t)(nul - part[k]);
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
	conf_free(cfg);
	return 0;
}
