/* conf_warn.c - settings that are valid but open the relay wide: warned about, refused by --strict */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf_loader.h"
#include "netset.h"
#include "rules.h"

/*
 * The shortest prefixes that are still a site's own: a trusted IPv4 /8
 * (10.0.0.0/8) is common, anything wider trusts a sixteenth of the
 * Internet or more; an IPv6 /16 already spans many registries.
 */
#define WIDE_V4 8
#define WIDE_V6 16

/* ld_network_risk - why trusting (or owning) this network opens the relay, or NULL */
const char *ld_network_risk(const char *entry)
{
	struct ipaddr addr;
	unsigned prefix;
	const char *why;

	if (netset_parse(entry, &addr, &prefix, &why) < 0)
		return NULL;
	if (prefix == 0)
		return "covers every address: an open relay";
	if (prefix < (addr.family == IPADDR_V4 ? WIDE_V4 : WIDE_V6))
		return "a very short prefix: a large part of the Internet relays";
	return NULL;
}

/*
 * Single labels that are not top-level domains of the public DNS: RFC
 * 2606/6761/6762 names and the private ones sites use. Any other single
 * label is taken for a TLD.
 */
static const char *const private_labels[] = {"test", "example", "invalid", "localhost", "local",
    "localdomain", "lan", "home", "internal", "intranet", "corp", "private", NULL};

/*
 * Second-level labels under which a country code's registry sells names
 * (co.uk, com.au, ne.jp, ...): a small built-in stand-in for the public
 * suffix list, enough to catch the common mistakes.
 */
static const char *const suffix_labels[] = {"co", "com", "net", "org", "ac", "gov", "edu", "or",
    "ne", "go", "mil", "ltd", "plc", "nom", "gob", "gen", NULL};

/* in_words - is the label (len bytes) one of words? */
static bool in_words(const char *label, size_t len, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strlen(*words) == len && strncasecmp(*words, label, len) == 0)
			return true;
	return false;
}

/* ld_domain_risk - why this local domain ("name" or ".name", one trailing dot) opens the relay */
const char *ld_domain_risk(const char *entry)
{
	char name[300];
	const char *dot;
	size_t n;

	snprintf(name, sizeof(name), "%s", entry[0] == '.' ? entry + 1 : entry);
	if ((n = strlen(name)) > 0 && name[n - 1] == '.')
		name[--n] = 0;
	if (n == 0)
		return NULL;
	if ((dot = strchr(name, '.')) == NULL)
		return in_words(name, n, private_labels) ?
		    NULL :
		    "a top-level domain: mail for all of it is taken as local and relayed";
	/* "co.uk": a known second-level label under a two-letter country code */
	if (strchr(dot + 1, '.') == NULL && strlen(dot + 1) == 2 &&
	    in_words(name, (size_t)(dot - name), suffix_labels))
		return "a public suffix: mail for every domain below it is taken as local and "
		       "relayed";
	return NULL;
}

/* flag_is - does the rule hold the boolean condition name with this effective value? */
static bool flag_is(const struct rule *r, const char *name, bool want)
{
	for (size_t i = 0; i < r->nconds; i++) {
		const struct cond *c = &r->conds[i];

		if (strcmp(c->type->name, name) == 0 && (c->flag != c->negate) == want)
			return true;
	}
	return false;
}

/* has_list - does the rule hold the list condition name, not negated? */
static bool has_list(const struct rule *r, const char *name)
{
	for (size_t i = 0; i < r->nconds; i++)
		if (strcmp(r->conds[i].type->name, name) == 0 && !r->conds[i].negate)
			return true;
	return false;
}

/* restricts_client - does a condition keep unauthenticated outsiders out? */
static bool restricts_client(const struct rule *r)
{
	return flag_is(r, "authenticated", true) || has_list(r, "login") || has_list(r, "network");
}

/*
 * restricts_recipient - does a condition keep remote recipients out? A
 * named list of domains is a deliberate relay (a backup MX), not an open one.
 */
static bool restricts_recipient(const struct rule *r)
{
	return flag_is(r, "recipient_local", true) || has_list(r, "recipient_domain");
}

/*
 * ld_check_rule - warn about an accept rule that relays for everyone:
 * one with no condition at all, or one that neither limits the client
 * (authenticated, login, network) nor the recipient (recipient_local,
 * recipient_domain). A dry_run rule accepts nothing and is not warned.
 */
void ld_check_rule(struct loader *ld, const config_setting_t *g, const struct rule *r)
{
	if (r->action != ACTION_ACCEPT || r->dry_run)
		return;
	if (r->nconds == 0)
		conf_warn(ld->errs, ld_file(ld, g), (int)config_setting_source_line(g),
		    "rule \"%s\": accepts every recipient from every client: an open relay",
		    r->name);
	else if (!restricts_client(r) && !restricts_recipient(r))
		conf_warn(ld->errs, ld_file(ld, g), (int)config_setting_source_line(g),
		    "rule \"%s\": accepts unauthenticated clients from any network for remote "
		    "recipients: an open relay for whoever meets its other conditions",
		    r->name);
}
