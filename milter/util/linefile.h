/* linefile.h - files of one entry a line: list files, users_file */
#ifndef RM_LINEFILE_H
#define RM_LINEFILE_H

#include <stddef.h>

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
 * (a read error, perhaps after some lines were fed).
 */
#define LINEFILE_OPEN (-1)
#define LINEFILE_READ (-2)
int linefile_read(const char *path, size_t max, linefile_fn fn, void *ctx);

#endif
