/* fakegeo.h - a GeoIP provider for unit tests: a fixed table, no database */
#ifndef RM_FAKEGEO_H
#define RM_FAKEGEO_H

#include <string.h>

#include "policy.h"

/*
 * 203.0.113.1-127 GB AS64500, 203.0.113.128-255 NG AS64501,
 * 198.51.100.x US AS64502, 100.64.0.66 breaks the lookup (a corrupt
 * database), everything else is not listed ("--", AS 0).
 */
static __attribute__((unused)) int fakegeo_lookup(void *ctx, const struct ipaddr *a,
    struct geo_info *out)
{
	(void)ctx;
	strcpy(out->country, GEO_COUNTRY_UNKNOWN);
	out->asn = 0;
	out->status = out->country_status = out->asn_status = 1;
	if (a->family != IPADDR_V4)
		return 0;
	if (a->bytes[0] == 100 && a->bytes[1] == 64 && a->bytes[2] == 0 && a->bytes[3] == 66) {
		out->status = out->country_status = out->asn_status = -1;
		return -1;
	}
	if (a->bytes[0] == 203 && a->bytes[1] == 0 && a->bytes[2] == 113) {
		strcpy(out->country, a->bytes[3] < 128 ? "GB" : "NG");
		out->asn = a->bytes[3] < 128 ? 64500 : 64501;
	} else if (a->bytes[0] == 198 && a->bytes[1] == 51 && a->bytes[2] == 100) {
		strcpy(out->country, "US");
		out->asn = 64502;
	} else
		return 0;
	out->status = out->country_status = out->asn_status = 0;
	return 0;
}

static const struct geo_provider fakegeo
    __attribute__((unused)) = {fakegeo_lookup, NULL, true, true};

#endif
