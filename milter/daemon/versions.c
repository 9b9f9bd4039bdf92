/* versions.c - what relay-milter -V prints */
#include <libmilter/mfapi.h>
#include <microhttpd.h>

#include "config.h"
#include "geoip.h"
#include "idn.h"
#include "versions.h"

/* line - one library: the version it was built with, and the one it runs with */
static void line(FILE *fp, const char *lib, const char *built, const char *running)
{
	fprintf(fp, "  %-14s built %-10s running %s\n", lib, built, running);
}

/* versions_print - -V */
void versions_print(FILE *fp)
{
	unsigned major = 0, minor = 0, patch = 0;
	char milter[32], built[32];

	smfi_version(&major, &minor, &patch);
	snprintf(milter, sizeof(milter), "%u.%u.%u", major, minor, patch);
	snprintf(built, sizeof(built), "%u.%u.%u", (unsigned)SM_LM_VRS_MAJOR(SMFI_VERSION),
	    (unsigned)SM_LM_VRS_MINOR(SMFI_VERSION), (unsigned)SM_LM_VRS_PLVL(SMFI_VERSION));
	fprintf(fp, "relay-milter %s\n", PACKAGE_VERSION);
	line(fp, "libmilter", built, milter);
	/* libconfig has no run-time version call */
	line(fp, "libconfig", BUILT_LIBCONFIG, "(as built)");
	line(fp, "libmaxminddb", BUILT_LIBMAXMINDDB, geoip_library_version());
	line(fp, "libidn2", BUILT_LIBIDN2, idn_library_version());
	line(fp, "libmicrohttpd", BUILT_LIBMICROHTTPD, MHD_get_version());
	line(fp, "libsystemd", BUILT_LIBSYSTEMD, "(as built)");
	/* OpenSSL is relay-probe's alone: relay-probe -V reports it */
	line(fp, "OpenSSL", "(not linked)", "(see relay-probe -V)");
}
