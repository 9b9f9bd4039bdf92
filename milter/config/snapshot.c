/* snapshot.c - the current configuration, reference-counted and swapped whole */
#include <pthread.h>
#include <stdlib.h>

#include "snapshot.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *current;
static unsigned long generations;

/* snapshot_install - make config current */
int snapshot_install(struct config *config)
{
	struct snapshot *snap = calloc(1, sizeof(*snap)), *old;

	if (snap == NULL)
		return -1;
	snap->config = config;
	snap->refs = 1;
	pthread_mutex_lock(&current_lock);
	snap->generation = ++generations;
	old = current;
	current = snap;
	pthread_mutex_unlock(&current_lock);
	if (old != NULL)
		snapshot_release(old);
	return 0;
}

/* snapshot_acquire - pin the current snapshot */
struct snapshot *snapshot_acquire(void)
{
	struct snapshot *snap;

	/* The lock makes "read pointer, take reference" one step against a swap. */
	pthread_mutex_lock(&current_lock);
	snap = current;
	if (snap != NULL)
		__atomic_add_fetch(&snap->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&current_lock);
	return snap;
}

/* snapshot_release - unpin, freeing on the last reference */
void snapshot_release(struct snapshot *snap)
{
	if (snap == NULL)
		return;
	if (__atomic_sub_fetch(&snap->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		conf_free(snap->config);
		free(snap);
	}
}

/* snapshot_generation - generation of the current snapshot */
unsigned long snapshot_generation(void)
{
	unsigned long g;

	pthread_mutex_lock(&current_lock);
	g = current ? current->generation : 0;
	pthread_mutex_unlock(&current_lock);
	return g;
}

/* snapshot_clear - drop the current snapshot */
void snapshot_clear(void)
{
	struct snapshot *old;

	pthread_mutex_lock(&current_lock);
	old = current;
	current = NULL;
	pthread_mutex_unlock(&current_lock);
	snapshot_release(old);
}
