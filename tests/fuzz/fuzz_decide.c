/*
 * fuzz_decide - libFuzzer target: the decision on arbitrary facts
 *
 * A fixed small policy without accept rules (loaded once with the
 * daemon's loader) judges facts taken from the input, one a line:
 *   client, helo, login, sender, rcpt, {rcpt_addr}, {rcpt_mailer},
 *   then the MTA's own addresses ({daemon_addr}, {if_addr}), up to four.
 * A missing line is a fact the MTA did not send; a client that does not
 * parse is no client.
 *
 * The invariant: a client that did not log in and is outside the trusted
 * networks (or has no address: no_client_address = "untrusted") is never
 * accepted for a recipient that either view calls remote: the address
 * as sent, or the MTA's resolution of it when it sent one. Here
 * "remote" is decided by this file alone, from the parsed address and the
 * policy's lists written out below, not by the engine's tables; a
 * wildcard or unspecified address of the MTA is never its own, nor is an
 * IPv4 address written as IPv6 ([IPv6:::ffff:a.b.c.d]).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "memory.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy_text[] =
    "local_domains = [ \"local.test\", \".sub.local.test\", \"b\xc3\xbc"
    "cher.test\" ];\n"
    "trusted_networks = [ \"192.0.2.0/24\", \"2001:db8::/32\" ];\n"
    "own_addresses = [ \"198.51.100.25\", \"2001:db8:25::25\" ];\n"
    "no_client_address = \"untrusted\";\n"
    "sender_ownership = \"everyone\";\n"
    "users = ( { login = \"alice\"; senders = [ \"alice@local.test\" ]; },\n"
    "          { login = \"bob\"; relay = false; } );\n"
    "rules = (\n"
    "  { name = \"audit\"; not_network = [ \"192.0.2.0/24\" ]; recipient_local = false;\n"
    "    action = \"continue\"; },\n"
    "  { name = \"no-localhost\"; helo = [ \"localhost\" ]; action = \"reject\"; },\n"
    "  { name = \"trial\"; recipient_domain = [ \".test\" ]; action = \"tempfail\";\n"
    "    dry_run = true; },\n"
    "  { name = \"bulk\"; sender = [ \"@bulk.test\" ]; login = [ \"bulk\" ];\n"
    "    action = \"reject\"; }\n"
    ");\n"
    "max_recipients_per_message = 3;\n"
    "limits = (\n"
    "  { name = \"l\"; per = \"login\"; count = \"recipients\"; max = 5; window = \"1h\"; },\n"
    "  { name = \"c\"; per = \"client\"; prefix_v6 = 48; count = \"messages\"; max = 3;\n"
    "    window = \"10m\"; recipient_local = false; },\n"
    "  { name = \"d\"; per = \"sender_domain\"; count = \"recipients\"; max = 4; window = \"1h\";\n"
    "    dry_run = true; },\n"
    "  { name = \"n\"; per = \"sender\"; count = \"networks\"; max = 2; window = \"1h\";\n"
    "    lock = \"1h\"; }\n"
    ");\n";

#define FUZZ_LINES    11
#define FUZZ_MTA_MAX  4
#define FUZZ_TEXT_MAX 8192

static struct config *fuzz_cfg;
static struct store *fuzz_store; /* small: the fuzzer also drives its eviction */

/* fuzz_policy - the policy, loaded once */
static const struct policy *fuzz_policy(void)
{
	char path[] = "/tmp/fuzz-decide.XXXXXX";
	struct conf_errors errs = {0};
	FILE *fp;
	int fd;

	if (fuzz_cfg != NULL)
		return fuzz_cfg->policy;
	if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL)
		abort();
	fputs(policy_text, fp);
	fchmod(fd, 0644);
	if (fclose(fp) != 0)
		abort();
	fuzz_cfg = conf_load(path, &errs);
	unlink(path);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "fuzz_decide: %s\n", errs.msgs[i]);
	if (fuzz_cfg == NULL || (fuzz_store = memory_store_new(64, NULL, NULL)) == NULL)
		abort();
	conf_errors_free(&errs);
	return fuzz_cfg->policy;
}

/* trusted - 192.0.2.0/24 or 2001:db8::/32, by hand */
static int trusted(const struct ipaddr *a)
{
	static const uint8_t v4[] = {192, 0, 2}, v6[] = {0x20, 0x01, 0x0d, 0xb8};

	if (a->family == IPADDR_V4)
		return memcmp(a->bytes, v4, sizeof(v4)) == 0;
	return memcmp(a->bytes, v6, sizeof(v6)) == 0;
}

/* unspecified - 0.0.0.0 or ::, a listener's wildcard: never anyone's own address */
static int unspecified(const struct ipaddr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->bytes, zero, a->family == IPADDR_V4 ? 4 : 16) == 0;
}

/* own_literal - user@[addr] names this server: own_addresses, or an MTA address */
static int own_literal(const struct ipaddr *ip, const struct ipaddr *mta, size_t nmta)
{
	struct ipaddr own;

	if ((ipaddr_parse("198.51.100.25", &own) == 0 && ipaddr_equal(ip, &own)) ||
	    (ipaddr_parse("2001:db8:25::25", &own) == 0 && ipaddr_equal(ip, &own)))
		return 1;
	for (size_t i = 0; i < nmta; i++)
		if (!unspecified(&mta[i]) && ipaddr_equal(ip, &mta[i]))
			return 1;
	return 0;
}

/* local_name - one of local_domains: two names, and what lies below ".sub.local.test" */
static int local_name(const char *d)
{
	size_t n = strlen(d), sub = strlen(".sub.local.test");

	return strcasecmp(d, "local.test") == 0 || strcasecmp(d, "xn--bcher-kva.test") == 0 ||
	    (n > sub && strcasecmp(d + n - sub, ".sub.local.test") == 0);
}

/* view_local - does this view of the recipient name this server? */
static int view_local(const char *text, int mta_view, const char *mailer, const struct ipaddr *mta,
    size_t nmta)
{
	struct addr a;

	if (addr_parse(text, &a) == ADDR_INVALID || a.tricks != 0)
		return 0;
	switch (a.kind) {
	case ADDR_NODOMAIN:
		/* the MTA qualifies a bare user; it is local only if it says so (Sendmail) */
		return !mta_view || (mailer != NULL && strcmp(mailer, "local") == 0);
	case ADDR_MAILBOX:
		/* an IPv4 address in IPv6 form is not the MTA's own (Postfix: smtp) */
		if (a.literal && a.literal_ip.family == IPADDR_V4 &&
		    strncasecmp(a.domain, "IPv6:", 5) == 0)
			return 0;
		return a.literal ? own_literal(&a.literal_ip, mta, nmta) : local_name(a.domain);
	default:
		return 0;
	}
}

/* verdict_sane - what goes back over SMTP is well formed */
static void verdict_sane(const struct verdict *v)
{
	if (memchr(v->text, 0, sizeof(v->text)) == NULL)
		abort();
	for (const char *p = v->text; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
	if (v->action == ACTION_ACCEPT ?
		v->code != 250 :
		v->code < 400 || v->code > 599 || (v->action == ACTION_TEMPFAIL) != (v->code < 500))
		abort();
	if (v->action == ACTION_CONTINUE || v->rule == NULL || v->reason == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct policy *p = fuzz_policy();
	char *text, *line[FUZZ_LINES] = {0}, *s;
	struct ipaddr client, mta[FUZZ_MTA_MAX];
	struct facts f = {0};
	struct verdict *v;
	size_t n = 0, nmta = 0;
	int unauthorised;

	if (size > FUZZ_TEXT_MAX || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	for (s = text; n < FUZZ_LINES && s != NULL; n++) {
		line[n] = s;
		if ((s = strchr(s, '\n')) != NULL)
			*s++ = 0;
	}
	if (line[0] != NULL && ipaddr_parse(line[0], &client) == 0)
		f.client = &client;
	f.helo = line[1];
	f.login = line[2];
	f.sender = line[3];
	f.rcpt = line[4];
	f.rcpt_mta = line[5];
	f.rcpt_mailer = line[6];
	for (size_t i = 7; i < FUZZ_LINES && line[i] != NULL; i++)
		if (ipaddr_parse(line[i], &mta[nmta]) == 0)
			nmta++;
	f.mta_addrs = mta;
	f.nmta_addrs = nmta;
	f.store = fuzz_store;
	f.rcpts_accepted = size % 5; /* where in its message this recipient comes */
	if ((v = malloc(sizeof(*v))) == NULL)
		abort();
	policy_decide(p, &f, v, NULL);
	verdict_sane(v);
	unauthorised =
	    (f.login == NULL || f.login[0] == 0) && (f.client == NULL || !trusted(f.client));
	if (unauthorised && v->action == ACTION_ACCEPT &&
	    (!view_local(f.rcpt ? f.rcpt : "", 0, NULL, mta, nmta) ||
		(f.rcpt_mta != NULL && f.rcpt_mta[0] != 0 &&
		    !view_local(f.rcpt_mta, 1, f.rcpt_mailer, mta, nmta)))) {
		fprintf(stderr, "fuzz_decide: accepted <%s> (MTA: %s) for an unauthorised client\n",
		    f.rcpt ? f.rcpt : "", f.rcpt_mta ? f.rcpt_mta : "-");
		abort();
	}
	free(v);
	free(text);
	return 0;
}
