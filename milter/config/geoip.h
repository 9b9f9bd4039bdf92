/* geoip.h - country and AS number of a client, from MaxMind DB files */
#ifndef RM_GEOIP_H
#define RM_GEOIP_H

#include <stddef.h>

#include "policy.h"

/*
 * One set of open databases (a country database, an ASN database, or
 * both), opened when a configuration is loaded and shared read-only by
 * every thread: libmaxminddb allows concurrent lookups on one MMDB_s.
 * The configuration that opened it owns it (config->geo_handle), so a
 * reload opens the new files and the old ones close when the last
 * connection using the old configuration ends.
 *
 * Works with MaxMind GeoLite2/GeoIP2 Country and City databases and
 * DB-IP's "lite" Country/City databases (same layout), and with the
 * GeoLite2/DB-IP ASN databases.
 */
struct geoip;

/* geoip_new - no database open yet; NULL on ENOMEM */
struct geoip *geoip_new(void);

/* geoip_open_country - open the country database; -1 with a message in err */
int geoip_open_country(struct geoip *g, const char *path, char *err, size_t errlen);

/* geoip_open_asn - open the ASN database; -1 with a message in err */
int geoip_open_asn(struct geoip *g, const char *path, char *err, size_t errlen);

/* geoip_provider - the engine's view of g: lookup function and flags */
const struct geo_provider *geoip_provider(const struct geoip *g);

/*
 * geoip_lookup - fill out for addr. country is the ISO 3166 code of
 * "country" (where the address is located), else of "registered_country"
 * (where its block is registered), else GEO_COUNTRY_UNKNOWN; asn is
 * "autonomous_system_number", else 0. Per database, status is 0 (found),
 * 1 (address not listed: private, reserved, or an IPv6 client in an
 * IPv4-only database) or -1 (the database is broken). Returns -1 when
 * every configured database failed, else 0.
 */
int geoip_lookup(void *g, const struct ipaddr *addr, struct geo_info *out);

/*
 * geoip_describe - "country=GeoLite2-Country(built 2026-11-01) asn=none",
 * for the start-up line; "none" when g is NULL
 */
void geoip_describe(const struct geoip *g, char *buf, size_t len);

/* geoip_library_version - the libmaxminddb this process runs with */
const char *geoip_library_version(void);

/* geoip_free - close the databases (a void * for config->geo_free) */
void geoip_free(void *g);

#endif
