/* teststore.h - the local store the harness gives on_error = "local" */
#ifndef RM_TESTSTORE_H
#define RM_TESTSTORE_H

#include <stdint.h>

struct store;

/* teststore_local - the embedded store (store/memory.c) on the wall clock */
struct store *teststore_local(uint64_t max_keys);

#endif
