/* conflist.c - list files: one entry per line */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflist.h"

#define LIST_LINE_MAX 1024

/* trim - strip a comment and surrounding blanks, in place */
static char *trim(char *s)
{
	char *end, *hash = strchr(s, '#');

	if (hash != NULL)
		*hash = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = 0;
	return s;
}

/* conflist_read - feed every entry of a list file to add */
int conflist_read(const char *path, const char *conf_file, int conf_line, conflist_add_fn add,
    void *ctx, struct conf_errors *errs)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t got;
	int lineno = 0, nerr = 0;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		conf_error(errs, conf_file, conf_line, "%s: cannot open: %s", path, strerror(errno));
		return 1;
	}
	while ((got = getline(&buf, &cap, fp)) != -1) {
		const char *why = NULL;
		char *entry;

		lineno++;
		if (got > LIST_LINE_MAX || strlen(buf) != (size_t)got) {
			conf_error(errs, path, lineno, "line too long or contains a NUL byte");
			nerr++;
			continue;
		}
		entry = trim(buf);
		if (*entry == 0)
			continue;
		if (strchr(entry, ' ') != NULL || strchr(entry, '\t') != NULL) {
			conf_error(errs, path, lineno, "%s: one entry per line expected", entry);
			nerr++;
		} else if (add(ctx, entry, &why) < 0) {
			conf_error(errs, path, lineno, "%s: %s", entry, why);
			nerr++;
		}
	}
	if (ferror(fp)) {
		conf_error(errs, conf_file, conf_line, "%s: read error: %s", path, strerror(errno));
		nerr++;
	}
	free(buf);
	fclose(fp);
	return nerr;
}
