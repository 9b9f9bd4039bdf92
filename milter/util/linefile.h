/* linefile.h - files of one entry a line: list files, users_file */
#ifndef RM_LINEFILE_H
#define RM_LINEFILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

/*
 * Called for every line that holds something, with the line number; a
 * "#" comment and the blanks around the entry are already gone. why is
 * NULL, or says why the line could not be read ("line too long or
 * contains a NUL byte"), and then line is NULL.
 */
typedef void (*linefile_fn)(void *ctx, int lineno, char *line, const char *why);

/*
 * linefile_read - feed every line of path (at most max bytes each) to fn.
 * 0, or with errno set LINEFILE_OPEN (cannot be opened) or LINEFILE_READ
 * (a read error, perhaps after some lines were fed); or LINEFILE_NOTREG
 * (a FIFO, a device, a directory: never read, so it cannot hang a load)
 * or LINEFILE_WRITABLE (writable by everyone: anyone could rewrite it).
 */
#define LINEFILE_OPEN     (-1)
#define LINEFILE_READ     (-2)
#define LINEFILE_NOTREG   (-3)
#define LINEFILE_WRITABLE (-4)
int linefile_read(const char *path, size_t max, linefile_fn fn, void *ctx);

/*
 * linefile_open - open path for reading only if it is a regular file that
 * not everyone may write; never blocks on a FIFO. NULL with *rc set to a
 * LINEFILE_* code (and errno for LINEFILE_OPEN).
 */
FILE *linefile_open(const char *path, int *rc);

/*
 * linefile_open_regular - the descriptor of path, read-only, opened
 * without blocking (a FIFO cannot hang it) and only if it is a regular
 * file, checked on what was opened; st is its fstat. -1 with *rc
 * LINEFILE_OPEN (errno set) or LINEFILE_NOTREG.
 */
int linefile_open_regular(const char *path, struct stat *st, int *rc);

/* linefile_error - "cannot open: No such file or directory" and the like, for a code */
const char *linefile_error(int rc, int err, char *buf, size_t len);

#endif
