/* conf_lists.c - list keys: each element a value, or "/file" with one value a line */
#include <errno.h>
#include <string.h>

#include "linefile.h"
#include "conf_loader.h"

typedef int (*add_fn)(void *ctx, const char *entry, const char **why);
typedef const char *(*risk_fn)(const char *entry); /* why an entry opens the relay, or NULL */

#define LIST_LINE_MAX 1024

/* One list file being read: where its entries go and where errors go. */
struct list_read {
	struct loader *ld;
	const char *path;
	add_fn add;
	risk_fn risk;
	void *ctx;
};

/* list_line - one entry of a list file, reported at its own line */
static void list_line(void *arg, int lineno, char *entry, const char *why)
{
	struct list_read *r = arg;

	if (why != NULL)
		conf_error(r->ld->errs, r->path, lineno, "%s", why);
	else if (strchr(entry, ' ') != NULL || strchr(entry, '\t') != NULL)
		conf_error(r->ld->errs, r->path, lineno, "%s: one entry per line expected", entry);
	else if (r->add(r->ctx, entry, &why) < 0)
		conf_error(r->ld->errs, r->path, lineno, "%s: %s", entry, why);
	else if (r->risk != NULL && (why = r->risk(entry)) != NULL)
		conf_warn(r->ld->errs, r->path, lineno, "%s: %s", entry, why);
}

/*
 * load_file - every entry of a list file (one a line, as Postfix's
 * "/file" lists); a file that cannot be read is reported at the
 * configuration line that names it
 */
static void load_file(struct loader *ld, const config_setting_t *e, const char *path, add_fn add,
    risk_fn risk, void *ctx)
{
	struct list_read r = {ld, path, add, risk, ctx};
	int rc = linefile_read(path, LIST_LINE_MAX, list_line, &r);
	char buf[300];

	if (rc != 0)
		conf_error(ld->errs, ld_file(ld, e), (int)config_setting_source_line(e), "%s: %s",
		    path, linefile_error(rc, errno, buf, sizeof(buf)));
}

/* load_list - feed every element (and every line of every named file) to add */
static void load_list(struct loader *ld, const config_setting_t *s, add_fn add, risk_fn risk,
    void *ctx)
{
	int n = config_setting_length(s);

	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v, *why = NULL;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			ld_bad(ld, e, "%s: each element must be a string", config_setting_name(s));
			continue;
		}
		v = config_setting_get_string(e);
		if (v[0] == '/')
			load_file(ld, e, v, add, risk, ctx);
		else if (add(ctx, v, &why) < 0)
			ld_bad(ld, e, "%s: \"%s\": %s", config_setting_name(s), v, why);
		else if (risk != NULL && (why = risk(v)) != NULL)
			conf_warn(ld->errs, ld_file(ld, e), (int)config_setting_source_line(e),
			    "%s: \"%s\": %s", config_setting_name(s), v, why);
	}
}

/* add_domain - a local domain, UTF-8 or A-label, with an optional leading dot */
static int add_domain(void *ctx, const char *entry, const char **why)
{
	return domainset_add_name(ctx, entry, why);
}

static int add_network(void *ctx, const char *entry, const char **why)
{
	return netset_add(ctx, entry, why);
}

void load_local_domains(struct loader *ld, const config_setting_t *s)
{
	load_list(ld, s, add_domain, ld_domain_risk, ld->cfg->policy->local_domains);
}

void load_trusted_networks(struct loader *ld, const config_setting_t *s)
{
	load_list(ld, s, add_network, ld_network_risk, ld->cfg->policy->trusted_networks);
}

void load_own_addresses(struct loader *ld, const config_setting_t *s)
{
	load_list(ld, s, add_network, ld_network_risk, ld->cfg->policy->own_addresses);
}
