/* summary.c - one start-up (and reload) line that says what is in force */
#include "config.h"
#include "geoip.h"
#include "log.h"
#include "summary.h"
#include "users.h"

/* summary_log - what is in force, once at start and after each reload */
void summary_log(const char *event, const struct snapshot *snap, const char *socket)
{
	const struct config *cfg = snap->config;
	const struct policy *p = cfg->policy;
	char geo[256];

	geoip_describe(cfg->geo_handle, geo, sizeof(geo));
	log_info("relay-milter %s %s: config=%s generation=%lu local_domains=%zu "
		 "trusted_networks=%zu own_addresses=%zu users=%zu rules=%zu geoip=\"%s\" "
		 "mode=%s socket=%s",
	    PACKAGE_VERSION, event, cfg->path, snap->generation, domainset_count(p->local_domains),
	    netset_count(p->trusted_networks), netset_count(p->own_addresses),
	    p->users ? users_count(p->users) : 0, p->nrules, geo,
	    p->dry_run ? "dry-run" : "enforce", socket ? socket : cfg->settings.socket);
	if (p->dry_run)
		log_warn("mode dry-run: NOTHING IS ENFORCED; every refusal is only logged "
			 "(dry_run=yes) and the recipient let through");
}
