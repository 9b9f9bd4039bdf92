/* linefile.c - files of one entry a line: list files, users_file */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/*
 * linefile_open - O_NONBLOCK so that a FIFO cannot hang the open, fstat
 * on what was opened (no window between the check and the use), then back
 * to blocking reads of the regular file
 */
FILE *linefile_open(const char *path, int *rc)
{
	struct stat st;
	FILE *fp;
	int fd = linefile_open_regular(path, &st, rc), err;

	if (fd < 0)
		return NULL;
	if (st.st_mode & S_IWOTH) {
		*rc = LINEFILE_WRITABLE;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		*rc = LINEFILE_OPEN;
		goto fail;
	}
	return fp;
fail:
	err = errno;
	close(fd);
	errno = err;
	return NULL;
}

/* linefile_open_regular - a regular file's descriptor, opened without blocking */
int linefile_open_regular(const char *path, struct stat *st, int *rc)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), err;

	*rc = LINEFILE_OPEN;
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		*rc = LINEFILE_NOTREG;
		close(fd);
		return -1;
	}
	*rc = 0;
	return fd;
}

/* linefile_error - the message for a LINEFILE_* code */
const char *linefile_error(int rc, int err, char *buf, size_t len)
{
	switch (rc) {
	case LINEFILE_NOTREG:
		return "not a regular file";
	case LINEFILE_WRITABLE:
		return "writable by everyone: refusing to use it";
	case LINEFILE_READ:
		snprintf(buf, len, "read error: %s", strerror(err));
		return buf;
	}
	snprintf(buf, len, "cannot open: %s", strerror(err));
	return buf;
}

/* linefile_read - every line of path to fn */
int linefile_read(const char *path, size_t max, linefile_fn fn, void *ctx)
{
	char *buf = NULL, *entry;
	size_t cap = 0;
	ssize_t got;
	int lineno = 0, err = 0, rc, saved;
	FILE *fp = linefile_open(path, &rc);

	if (fp == NULL)
		return rc;
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
