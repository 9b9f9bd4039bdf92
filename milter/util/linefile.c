/* linefile.c - files of one entry a line: list files, users_file */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linefile.h"

/* trim - strip a comment and the blanks and line ends around what is left */
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

/* linefile_read - every line of path to fn */
int linefile_read(const char *path, size_t max, linefile_fn fn, void *ctx)
{
	char *buf = NULL, *entry;
	size_t cap = 0;
	ssize_t got;
	int lineno = 0, err = 0, saved;
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return LINEFILE_OPEN;
	while ((got = getline(&buf, &cap, fp)) != -1) {
		lineno++;
		if ((size_t)got > max || strlen(buf) != (size_t)got)
			fn(ctx, lineno, NULL, "line too long or contains a NUL byte");
		else if (*(entry = trim(buf)) != 0)
			fn(ctx, lineno, entry, NULL);
	}
	/*
	 * getline fails without setting the stream's error flag when it runs
	 * out of memory: a loop that ends before the end of the file is an
	 * error too, or the rest of the file would be silently dropped.
	 */
	saved = errno;
	if (ferror(fp) || !feof(fp))
		err = saved ? saved : EIO;
	free(buf);
	fclose(fp);
	if (err != 0) {
		errno = err;
		return LINEFILE_READ;
	}
	return 0;
}
