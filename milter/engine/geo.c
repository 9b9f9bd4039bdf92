/* geo.c - the client's country and ASN, looked up once per connection */
#include <string.h>

#include "geo.h"

/* geo_fill - look the client up unless the cache already knows it */
bool geo_fill(struct geo_cache *cache, const struct geo_provider *g, const struct ipaddr *client)
{
	struct geo_info *info = &cache->info;

	if (cache->done)
		return false;
	memset(info, 0, sizeof(*info));
	memcpy(info->country, GEO_COUNTRY_UNKNOWN, sizeof(GEO_COUNTRY_UNKNOWN));
	info->status = info->country_status = info->asn_status = 1;
	if (g != NULL && client != NULL && g->lookup(g->ctx, client, info) < 0)
		info->status = info->country_status = info->asn_status = -1;
	cache->done = true;
	return g != NULL && client != NULL;
}
