/* redis_script.h - the server-side Lua scripts of the Redis store */
#ifndef RM_REDIS_SCRIPT_H
#define RM_REDIS_SCRIPT_H

/* The scripts, in the order of their SHA1s in struct redis_store. */
enum rscript {
	RSCRIPT_DECIDE, /* one recipient decision: every check at once */
	RSCRIPT_STATUS, /* a principal's counters and locks */
	RSCRIPT_UNLOCK, /* lift a principal's locks */
	RSCRIPT_RESET,  /* forget a principal's counts */
	RSCRIPT_N
};

extern const char *const rscript_text[RSCRIPT_N];

#endif
