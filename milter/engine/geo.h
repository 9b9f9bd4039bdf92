/* geo.h - the client's country and ASN, looked up once per connection */
#ifndef RM_GEO_H
#define RM_GEO_H

#include "facts.h"

/*
 * geo_fill - the cached answer for client, looking it up first when the
 * cache is empty: with no provider or no client address the answer is
 * "not in the database", a failed lookup is status -1 (a temporary
 * failure). Returns true when this call made the lookup.
 */
bool geo_fill(struct geo_cache *cache, const struct geo_provider *provider,
    const struct ipaddr *client);

#endif
