/* callbacks.h - the libmilter callbacks: collect facts, ask the engine, answer */
#ifndef RM_CALLBACKS_H
#define RM_CALLBACKS_H

/* callbacks_register - hand relay-milter's filter description to libmilter */
int callbacks_register(void);

#endif
