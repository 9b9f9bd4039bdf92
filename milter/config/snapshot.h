/* snapshot.h - the current configuration, reference-counted and swapped whole */
#ifndef RM_SNAPSHOT_H
#define RM_SNAPSHOT_H

#include "conf.h"

/*
 * Each connection pins the snapshot current when it began, and uses only
 * that one until it closes: a reload installs a new snapshot and never
 * disturbs a transaction in flight. The last release frees the old one.
 */
struct snapshot {
	struct config *config;
	unsigned long generation; /* 1 for the first configuration loaded */
	int refs;                 /* atomic; the "current" slot holds one */
};

/* snapshot_install - make config current (ownership passes); -1 on ENOMEM */
int snapshot_install(struct config *config);

/* snapshot_acquire - pin the current snapshot (NULL before the first install) */
struct snapshot *snapshot_acquire(void);

/* snapshot_release - unpin; frees the snapshot when it was the last user */
void snapshot_release(struct snapshot *snap);

/* snapshot_generation - generation of the current snapshot, 0 if none */
unsigned long snapshot_generation(void);

/* snapshot_clear - drop the current snapshot (at exit, for leak checks) */
void snapshot_clear(void);

#endif
