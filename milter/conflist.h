/* conflist.h - list files: one entry per line, as Postfix's "/file" lists */
#ifndef RM_CONFLIST_H
#define RM_CONFLIST_H

#include "conf.h"

/* Adds one entry; returns 0, or -1 with *why set. */
typedef int (*conflist_add_fn)(void *ctx, const char *entry, const char **why);

/*
 * conflist_read - feed every entry of a list file to add. Blank lines and
 * "#" comments are skipped; leading and trailing blanks are trimmed. Each
 * bad entry is reported as "LISTFILE:LINE: entry: why"; a file that cannot
 * be read is reported at the configuration line that names it. Returns the
 * number of errors recorded.
 */
int conflist_read(const char *path, const char *conf_file, int conf_line, conflist_add_fn add,
    void *ctx, struct conf_errors *errs);

#endif
