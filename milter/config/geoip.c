/* geoip.c - country and AS number of a client, from MaxMind DB files */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "geoip.h"
#include "linefile.h"

struct geoip {
	MMDB_s country;
	MMDB_s asn;
	bool has_country, has_asn;
	struct geo_provider provider;
};

/* geoip_new - no database open yet */
struct geoip *geoip_new(void)
{
	struct geoip *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->provider.lookup = geoip_lookup;
	g->provider.ctx = g;
	return g;
}

/* copy_all - every byte of in to out; -1 with errno */
static int copy_all(int in, int out)
{
	char buf[65536];
	ssize_t got;

	while ((got = read(in, buf, sizeof(buf))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (ssize_t done = 0; done < got;) {
			ssize_t put = write(out, buf + done, (size_t)(got - done));

			if (put < 0 && errno != EINTR)
				return -1;
			done += put > 0 ? put : 0;
		}
	}
	return 0;
}

/*
 * private_copy - the database copied into memory of our own, sealed, as a
 * descriptor: libmaxminddb maps the file it opens, and a file changed in
 * place under a mapping (cp, truncate, anything but a rename) kills the
 * process with SIGBUS on the next lookup. The copy cannot change: it has
 * no name, and its seals forbid writing, shrinking and growing. The file
 * is opened without blocking and must be a regular file, so a FIFO does
 * not hang the load. -1 with err filled.
 */
static int private_copy(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int in, out = -1, saved, rc;

	if ((in = linefile_open_regular(path, &st, &rc)) < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    rc == LINEFILE_NOTREG ? "not a regular file" : strerror(errno));
		return -1;
	}
	if ((out = memfd_create("relay-milter-geoip", MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0 ||
	    copy_all(in, out) < 0 ||
	    fcntl(out, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		saved = errno;
		snprintf(err, errlen, "%s: cannot make a private copy: %s", path, strerror(saved));
		if (out >= 0)
			close(out);
		close(in);
		return -1;
	}
	close(in);
	return out;
}

/*
 * open_db - open a private copy of one database and check it is of the
 * kind asked for. The type test only refuses the obvious mix-up (an ASN
 * file given as country_db and the reverse): GeoIP2 has many database
 * types that carry the country fields (Country, City, Enterprise, DB-IP's
 * lite files).
 */
static int open_db(MMDB_s *db, const char *path, const char *refuse, const char *refuse2, char *err,
    size_t errlen)
{
	char copy[64];
	int fd, rc, saved;
	const char *type;

	/* libmaxminddb opens a path: the copy's own, which maps the copy */
	if ((fd = private_copy(path, err, errlen)) < 0)
		return -1;
	snprintf(copy, sizeof(copy), "/proc/self/fd/%d", fd);
	rc = MMDB_open(copy, MMDB_MODE_MMAP, db);
	saved = errno;
	close(fd); /* the mapping keeps the copy */
	if (rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) {
		snprintf(err, errlen, "%s: cannot open its private copy %s: %s", path, copy,
		    strerror(saved));
		return -1;
	}
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: not a usable MaxMind DB file: %s", path,
		    MMDB_strerror(rc));
		return -1;
	}
	type = db->metadata.database_type ? db->metadata.database_type : "";
	if (strcasestr(type, refuse) != NULL || (refuse2 && strcasestr(type, refuse2) != NULL)) {
		snprintf(err, errlen, "%s: is a \"%s\" database, not the kind this key wants", path,
		    type);
		MMDB_close(db);
		return -1;
	}
	return 0;
}

/* geoip_open_country - open the country database */
int geoip_open_country(struct geoip *g, const char *path, char *err, size_t errlen)
{
	if (g->has_country) {
		MMDB_close(&g->country);
		g->has_country = g->provider.has_country = false;
	}
	if (open_db(&g->country, path, "ASN", NULL, err, errlen) < 0)
		return -1;
	g->has_country = g->provider.has_country = true;
	return 0;
}

/* geoip_open_asn - open the ASN database */
int geoip_open_asn(struct geoip *g, const char *path, char *err, size_t errlen)
{
	if (g->has_asn) {
		MMDB_close(&g->asn);
		g->has_asn = g->provider.has_asn = false;
	}
	if (open_db(&g->asn, path, "Country", "City", err, errlen) < 0)
		return -1;
	g->has_asn = g->provider.has_asn = true;
	return 0;
}

/* geoip_provider - the engine's view */
const struct geo_provider *geoip_provider(const struct geoip *g)
{
	return &g->provider;
}

/* to_sockaddr - the engine's address as libmaxminddb wants it */
static socklen_t to_sockaddr(const struct ipaddr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == IPADDR_V4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		return sizeof(*sin6);
	}
}

/*
 * find - the database record for addr: 0 found, 1 not listed, -1 broken.
 * An IPv6 client in an IPv4-only database is simply not listed.
 */
static int find(const MMDB_s *db, const struct sockaddr *sa, MMDB_entry_s *entry)
{
	MMDB_lookup_result_s r;
	int err = MMDB_SUCCESS;

	r = MMDB_lookup_sockaddr(db, sa, &err);
	if (err == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
		return 1;
	if (err != MMDB_SUCCESS)
		return -1;
	if (!r.found_entry)
		return 1;
	*entry = r.entry;
	return 0;
}

/*
 * get - one value by path: 1 when present, 0 when absent (or of another
 * shape than the path expects), -1 when the data section is broken.
 */
static int get(MMDB_entry_s *entry, MMDB_entry_data_s *data, const char *k1, const char *k2)
{
	int rc = MMDB_get_value(entry, data, k1, k2, NULL);

	if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
	    rc == MMDB_INVALID_LOOKUP_PATH_ERROR)
		return 0;
	if (rc != MMDB_SUCCESS)
		return -1;
	return data->has_data ? 1 : 0;
}

/* iso_code - record.iso_code if it is two upper-case letters: 1, 0 absent, -1 broken */
static int iso_code(MMDB_entry_s *entry, const char *record, char out[4])
{
	MMDB_entry_data_s d;
	int rc = get(entry, &d, record, "iso_code");

	if (rc <= 0)
		return rc;
	if (d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2 || d.utf8_string[0] < 'A' ||
	    d.utf8_string[0] > 'Z' || d.utf8_string[1] < 'A' || d.utf8_string[1] > 'Z')
		return 0;
	memcpy(out, d.utf8_string, 2);
	out[2] = 0;
	return 1;
}

/*
 * lookup_country - "country" is where MaxMind (or DB-IP) places the
 * address, which is what a per-login country limit is about; some blocks
 * (anycast, satellite, some cloud ranges) carry only "registered_country",
 * the country of the organisation holding the block, used as the fallback.
 * "represented_country" (a military base or embassy abroad) is not used:
 * it names who the network serves, not where the client is.
 */
static int lookup_country(const struct geoip *g, const struct sockaddr *sa, char out[4])
{
	MMDB_entry_s e;
	int rc = find(&g->country, sa, &e);

	if (rc != 0)
		return rc;
	if ((rc = iso_code(&e, "country", out)) != 0)
		return rc < 0 ? -1 : 0;
	if ((rc = iso_code(&e, "registered_country", out)) != 0)
		return rc < 0 ? -1 : 0;
	return 1;
}

/* lookup_asn - "autonomous_system_number" of the ASN database */
static int lookup_asn(const struct geoip *g, const struct sockaddr *sa, uint32_t *asn)
{
	MMDB_entry_data_s d;
	MMDB_entry_s e;
	int rc = find(&g->asn, sa, &e);

	if (rc != 0)
		return rc;
	if ((rc = get(&e, &d, "autonomous_system_number", NULL)) <= 0)
		return rc < 0 ? -1 : 1;
	if (d.type == MMDB_DATA_TYPE_UINT32)
		*asn = d.uint32;
	else if (d.type == MMDB_DATA_TYPE_UINT16)
		*asn = d.uint16;
	else if (d.type == MMDB_DATA_TYPE_UINT64 && d.uint64 <= 0xffffffffu)
		*asn = (uint32_t)d.uint64;
	else
		return 1;
	return 0;
}

/* geoip_lookup - country and AS number of one address */
int geoip_lookup(void *ctx, const struct ipaddr *addr, struct geo_info *out)
{
	const struct geoip *g = ctx;
	struct sockaddr_storage ss;

	strcpy(out->country, GEO_COUNTRY_UNKNOWN);
	out->asn = 0;
	out->country_status = out->asn_status = 1;
	to_sockaddr(addr, &ss);
	if (g->has_country &&
	    (out->country_status = lookup_country(g, (struct sockaddr *)&ss, out->country)) != 0)
		strcpy(out->country, GEO_COUNTRY_UNKNOWN);
	if (g->has_asn && (out->asn_status = lookup_asn(g, (struct sockaddr *)&ss, &out->asn)) != 0)
		out->asn = 0;
	if (out->country_status < 0 || out->asn_status < 0)
		out->status = -1;
	else
		out->status = out->country_status == 0 || out->asn_status == 0 ? 0 : 1;
	return (!g->has_country || out->country_status < 0) &&
		(!g->has_asn || out->asn_status < 0) ?
	    -1 :
	    0;
}

/* geoip_free - close the databases */
void geoip_free(void *ctx)
{
	struct geoip *g = ctx;

	if (g == NULL)
		return;
	if (g->has_country)
		MMDB_close(&g->country);
	if (g->has_asn)
		MMDB_close(&g->asn);
	free(g);
}

/* describe_db - "KIND built YYYY-MM-DD" of one open database, or "KIND none" */
static size_t describe_db(char *buf, size_t len, const char *kind, const MMDB_s *db, bool open)
{
	char date[16] = "";
	time_t built;
	struct tm tm;
	int n;

	if (!open)
		n = snprintf(buf, len, "%s=none", kind);
	else {
		built = (time_t)db->metadata.build_epoch;
		if (gmtime_r(&built, &tm) != NULL)
			strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		n = snprintf(buf, len, "%s=%s(built %s)", kind,
		    db->metadata.database_type ? db->metadata.database_type : "?", date);
	}
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/* geoip_describe - which databases are open and when they were built */
void geoip_describe(const struct geoip *g, char *buf, size_t len)
{
	size_t n;

	if (g == NULL) {
		snprintf(buf, len, "none");
		return;
	}
	n = describe_db(buf, len, "country", &g->country, g->has_country);
	if (n + 1 < len) {
		buf[n++] = ' ';
		describe_db(buf + n, len - n, "asn", &g->asn, g->has_asn);
	}
}

/* geoip_library_version - the libmaxminddb this process runs with */
const char *geoip_library_version(void)
{
	return MMDB_lib_version();
}
