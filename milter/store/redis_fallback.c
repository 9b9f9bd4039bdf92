/* redis_fallback.c - what decisions get while Redis cannot answer (on_error) */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis_store.h"

#define CHECKS_ON_STACK 32

/* cached_locks - the locks Redis reported stay in force; true when one refuses */
static bool cached_locks(struct redis_store *rs, const struct store_check *checks, size_t n,
    struct store_result *out)
{
	int64_t now = (int64_t)time(NULL);
	bool refused = false;

	for (size_t i = 0; i < n; i++) {
		int64_t until =
		    lockcache_get(&rs->locks, checks[i].principal, checks[i].limit, now);

		if (until > 0) {
			out[i].status = STORE_LOCKED;
			out[i].until = until;
			refused |= !checks[i].dry_run;
		}
	}
	return refused;
}

/*
 * local_share - the embedded store, each max divided by hosts (at least
 * 1), so that the hosts together stay at or below the limit
 */
static int local_share(struct redis_store *rs, const struct store_check *checks, size_t n,
    bool commit, struct store_result *out)
{
	struct store_check stack_c[CHECKS_ON_STACK] = {0}, *c = stack_c;
	struct store_result stack_r[CHECKS_ON_STACK], *r = stack_r;
	int rc = -1;

	if (n > CHECKS_ON_STACK) {
		c = malloc(n * sizeof(*c));
		r = malloc(n * sizeof(*r));
		if (c == NULL || r == NULL)
			goto done;
	}
	for (size_t i = 0; i < n; i++) {
		c[i] = checks[i];
		c[i].max = checks[i].max / rs->hosts > 0 ? checks[i].max / rs->hosts : 1;
	}
	if ((rc = store_decide(rs->local, c, n, commit, r)) == 0)
		for (size_t i = 0; i < n; i++) {
			if (out[i].status == STORE_LOCKED)
				out[i].count = r[i].count;
			else
				out[i] = r[i];
		}
done:
	if (c != stack_c)
		free(c);
	if (r != stack_r)
		free(r);
	return rc;
}

int rs_fallback(struct redis_store *rs, const struct store_check *checks, size_t n, bool commit,
    struct store_result *out)
{
	bool refused;

	atomic_fetch_add(&rs->errors, 1);
	atomic_fetch_add(&rs->unanswered, 1);
	if (rs->on_error == REDIS_ON_ERROR_TEMPFAIL)
		return -1;
	memset(out, 0, n * sizeof(*out));
	refused = cached_locks(rs, checks, n, out);
	if (rs->on_error == REDIS_ON_ERROR_ACCEPT || rs->local == NULL)
		return 0;
	/* a cached lock refuses the decision: the local store only shows its counts */
	return local_share(rs, checks, n, commit && !refused, out);
}
