/* store_open.h - the store the settings name, opened at start-up */
#ifndef RM_STORE_OPEN_H
#define RM_STORE_OPEN_H

#include <stddef.h>

#include "store.h"
#include "store_settings.h"

/* store_open - the store of st; NULL with the reason in err */
struct store *store_open(const struct store_settings *st, char *err, size_t errlen);

#endif
