/* callbacks.h - the libmilter callbacks: collect facts, ask the engine, answer */
#ifndef RM_CALLBACKS_H
#define RM_CALLBACKS_H

struct store;

/* callbacks_set_store - where the limits count (NULL: limits are not judged) */
void callbacks_set_store(struct store *store);

/* callbacks_register - hand relay-milter's filter description to libmilter */
int callbacks_register(void);

#endif
