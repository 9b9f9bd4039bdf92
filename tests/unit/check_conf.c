/*
 * check_conf.c - the configuration loader, driven by fixtures in tests/conf:
 * good-*.conf must load without a warning; bad-*.conf must fail with
 * exactly the errors its "# expect: LINE: message" comments list, each at
 * its FILE:LINE; warn-*.conf must load with exactly the warnings its
 * "# warn: LINE: warning: message" comments list, and fail with the same
 * messages as errors when loaded strictly (-t --strict).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "rules.h"
#include "unit.h"

#define CONF_DIR     TEST_SRCDIR "/conf"
#define MAX_FIXTURES 64

static char *fixtures[MAX_FIXTURES];
static int nfixtures;

/* substitute - copy src to dst, replacing @TESTDIR@ with the fixture folder and
 * @GEOIPDIR@ with the test GeoIP databases' (written in the build tree) */
static void substitute(const char *src, char *dst, size_t len)
{
	static const struct {
		const char *tag, *value;
	} subst[] = {{"@TESTDIR@", CONF_DIR}, {"@GEOIPDIR@", TEST_GEOIPDIR}};
	size_t o = 0;

	while (*src && o + 1 < len) {
		size_t k = 0;

		while (k < 2 && strncmp(src, subst[k].tag, strlen(subst[k].tag)) != 0)
			k++;
		if (k < 2) {
			o += (size_t)snprintf(dst + o, len - o, "%s", subst[k].value);
			src += strlen(subst[k].tag);
		} else
			dst[o++] = *src++;
	}
	dst[o < len ? o : len - 1] = 0;
}

/* read_file - whole file into a NUL-terminated buffer */
static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 65536);

	ck_assert_msg(fp != NULL && buf != NULL, "open %s", path);
	fread(buf, 1, 65535, fp);
	fclose(fp);
	return buf;
}

/* materialise - the fixture with @TESTDIR@ filled in, as a temporary file */
static void materialise(const char *name, char *path, size_t len, char **text)
{
	char src[512];
	char *raw, *done = malloc(65536 * 2);
	FILE *fp;
	int fd;

	snprintf(src, sizeof(src), "%s/%s", CONF_DIR, name);
	raw = read_file(src);
	substitute(raw, done, 65536 * 2);
	free(raw);
	snprintf(path, len, "/tmp/rm-conf-XXXXXX");
	ck_assert((fd = mkstemp(path)) >= 0);
	fchmod(fd, 0644);
	fp = fdopen(fd, "w");
	fputs(done, fp);
	fclose(fp);
	*text = done;
}

/* expected - the "# expect:" lines, each as a full "FILE:LINE: message" */
static size_t expected(const char *text, const char *tag, const char *path, char out[][600],
    size_t max)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, tag)) != NULL && n < max; n++) {
		const char *e = p += strlen(tag);
		size_t len = strcspn(e, "\n");

		/* "5: msg" is in the file itself; "/path:5: msg" names a list file */
		if (*e == '/')
			snprintf(out[n], 600, "%.*s", (int)len, e);
		else
			snprintf(out[n], 600, "%s:%.*s", path, (int)len, e);
	}
	return n;
}

/* in_list - is msg one of the n strings? */
static bool in_list(char **list, size_t n, const char *msg)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], msg) == 0)
			return true;
	return false;
}

/*
 * check_warnings - a warn-*.conf loads with exactly its "# warn:" lines as
 * warnings; loaded strictly it fails with each of them as an error
 */
static void check_warnings(const char *name, const char *path, const char *text,
    const struct config *cfg, struct conf_errors *errs)
{
	char want[32][600], strict[600];
	struct conf_errors serrs = {.strict = true};
	struct config *scfg;
	size_t nwant = expected(text, "# warn: ", path, want, 32);

	ck_assert_msg(cfg != NULL && errs->n == 0, "%s: got %zu errors, first: %s", name, errs->n,
	    errs->n ? errs->msgs[0] : "-");
	ck_assert_msg(nwant > 0, "%s: no # warn: lines", name);
	for (size_t i = 0; i < nwant; i++)
		ck_assert_msg(in_list(errs->warns, errs->nwarns, want[i]),
		    "%s: missing warning \"%s\"; got %zu, first: %s", name, want[i], errs->nwarns,
		    errs->nwarns ? errs->warns[0] : "-");
	ck_assert_msg(errs->nwarns == nwant, "%s: got %zu warnings, want %zu (last: %s)", name,
	    errs->nwarns, nwant, errs->nwarns ? errs->warns[errs->nwarns - 1] : "-");
	scfg = conf_load(path, &serrs);
	ck_assert_msg(scfg == NULL, "%s: loaded with --strict, want refused", name);
	for (size_t i = 0; i < nwant; i++) {
		char *w = strstr(want[i], ": warning: ");

		snprintf(strict, sizeof(strict), "%.*s: (--strict) %s", (int)(w - want[i]), want[i],
		    w + 11);
		ck_assert_msg(in_list(serrs.msgs, serrs.n, strict),
		    "%s --strict: missing error \"%s\"", name, strict);
	}
	ck_assert_uint_eq(serrs.nwarns, 0);
	conf_errors_free(&serrs);
}

START_TEST(test_fixture)
{
	const char *name = fixtures[_i];
	char path[64], want[32][600];
	struct conf_errors errs = {0};
	struct config *cfg;
	char *text;
	size_t nwant;

	materialise(name, path, sizeof(path), &text);
	nwant = expected(text, "# expect: ", path, want, 32);
	cfg = conf_load(path, &errs);
	if (strncmp(name, "good-", 5) == 0) {
		ck_assert_msg(cfg != NULL && errs.n == 0, "%s: got %zu errors, first: %s", name,
		    errs.n, errs.n ? errs.msgs[0] : "-");
		ck_assert_msg(errs.nwarns == 0, "%s: got %zu warnings, first: %s", name,
		    errs.nwarns, errs.nwarns ? errs.warns[0] : "-");
	} else if (strncmp(name, "warn-", 5) == 0) {
		check_warnings(name, path, text, cfg, &errs);
	} else {
		ck_assert_msg(cfg == NULL, "%s: loaded, want errors", name);
		ck_assert_msg(nwant > 0, "%s: no # expect: lines", name);
		for (size_t i = 0; i < nwant; i++) {
			bool found = false;

			for (size_t j = 0; j < errs.n && !found; j++)
				found = strcmp(errs.msgs[j], want[i]) == 0 ||
				    (strstr(want[i], "syntax error") &&
					strncmp(errs.msgs[j], want[i], strlen(want[i])) == 0);
			ck_assert_msg(found, "%s: missing error \"%s\"; got %zu: %s%s%s", name,
			    want[i], errs.n, errs.n ? errs.msgs[0] : "", errs.n > 1 ? " | " : "",
			    errs.n > 1 ? errs.msgs[1] : "");
		}
		ck_assert_msg(errs.n == nwant, "%s: got %zu errors, want %zu (first extra: %s)",
		    name, errs.n, nwant, errs.n ? errs.msgs[errs.n - 1] : "-");
	}
	conf_free(cfg);
	conf_errors_free(&errs);
	unlink(path);
	free(text);
}
END_TEST

/* The loader reads what it claims: values from good-full.conf reach the policy. */
START_TEST(test_values)
{
	char path[64];
	struct conf_errors errs = {0};
	struct config *cfg;
	struct ipaddr a;
	char *text;

	materialise("good-full.conf", path, sizeof(path), &text);
	cfg = conf_load(path, &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->settings.socket, "unix:/run/relay-milter/relay-milter.sock");
	ck_assert_int_eq(cfg->settings.socket_mode, 0666);
	ck_assert_str_eq(cfg->settings.user, "relay-milter");
	ck_assert(!cfg->policy->authenticated_relay && cfg->policy->allow_routing_tricks);
	ck_assert_int_eq(cfg->policy->no_client, NO_CLIENT_UNTRUSTED);
	ck_assert_str_eq(cfg->policy->sender_origin, "example.com");
	ck_assert(domainset_contains(cfg->policy->local_domains, "xn--bcher-kva.example", 21));
	ck_assert(domainset_contains(cfg->policy->local_domains, "a.example.org", 13));
	ck_assert(!domainset_contains(cfg->policy->local_domains, "example.net", 11));
	ipaddr_parse("2001:db8:100::9", &a);
	ck_assert(netset_contains(cfg->policy->trusted_networks, &a));
	ipaddr_parse("192.0.2.200", &a);
	ck_assert(netset_contains(cfg->policy->trusted_networks, &a));
	ipaddr_parse("198.51.100.25", &a);
	ck_assert(netset_contains(cfg->policy->own_addresses, &a));
	ck_assert_uint_eq(cfg->policy->nrules, 4);
	ck_assert_str_eq(cfg->policy->rules[3].name, "bulk");
	ck_assert_int_eq(cfg->policy->relay_denied.code, 554);
	conf_free(cfg);
	unlink(path);
	free(text);
}
END_TEST

/* A file that anyone may rewrite is refused outright. */
START_TEST(test_world_writable)
{
	char path[64];
	struct conf_errors errs = {0};
	char *text;

	materialise("good-minimal.conf", path, sizeof(path), &text);
	chmod(path, 0666);
	ck_assert_ptr_null(conf_load(path, &errs));
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "writable by everyone"));
	conf_errors_free(&errs);
	ck_assert_ptr_null(conf_load("/nonexistent/relay-milter.conf", &errs));
	ck_assert_str_eq(errs.msgs[0],
	    "/nonexistent/relay-milter.conf:0: cannot open: No such file or directory");
	conf_errors_free(&errs);
	unlink(path);
	free(text);
}
END_TEST

/* write_file - a small file with the given mode */
static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	ck_assert_msg(fp != NULL, "create %s", path);
	fputs(text, fp);
	fclose(fp);
	ck_assert(chmod(path, mode) == 0);
}

/* load_one - load a configuration text from dir/main.conf; the first error or "" */
static void load_one(const char *dir, const char *text, char *first, size_t len)
{
	char path[300];
	struct conf_errors errs = {0};
	struct config *cfg;

	snprintf(path, sizeof(path), "%s/main.conf", dir);
	write_file(path, text, 0644);
	cfg = conf_load(path, &errs);
	snprintf(first, len, "%s", errs.n ? errs.msgs[0] : "");
	ck_assert_msg((cfg == NULL) == (errs.n > 0), "loaded with %zu errors", errs.n);
	conf_free(cfg);
	conf_errors_free(&errs);
}

/*
 * Every file a configuration names (list files, users_file, @include) is
 * refused when everyone may write it or when it is not a regular file: a
 * FIFO must not hang -t or a reload (the test's timeout catches a hang).
 */
START_TEST(test_named_files)
{
	static const char *const kinds[] = {"writable", "fifo", "directory"};
	static const char *const uses[][2] = {
	    {"local_domains = [ \"", "\" ];\n"},
	    {"trusted_networks = [ \"", "\" ];\n"},
	    {"users_file = \"", "\";\nsender_ownership = \"authenticated\";\n"},
	    {"@include \"", "\"\n"},
	};
	static const char *const bodies[] = {"example.com\n", "192.0.2.0/24\n",
	    "alice alice@example.com\n", "local_domains = [ \"example.com\" ];\n"};
	char dir[] = "/tmp/rm-files-XXXXXX", file[300], text[600], first[1200];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/named", dir);
	for (size_t u = 0; u < sizeof(uses) / sizeof(uses[0]); u++) {
		/* the same file, safe: it loads */
		write_file(file, bodies[u], 0644);
		snprintf(text, sizeof(text), "%s%s%s", uses[u][0], file, uses[u][1]);
		load_one(dir, text, first, sizeof(first));
		ck_assert_msg(first[0] == 0, "use %zu, safe file: got \"%s\"", u, first);
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			const char *want = k == 0 ? "writable by everyone: refusing to use it" :
						    "not a regular file";

			unlink(file);
			rmdir(file);
			if (k == 0)
				write_file(file, bodies[u], 0666);
			else if (k == 1)
				ck_assert(mkfifo(file, 0644) == 0);
			else
				ck_assert(mkdir(file, 0755) == 0);
			load_one(dir, text, first, sizeof(first));
			ck_assert_msg(strstr(first, want) != NULL && strstr(first, ":1: ") != NULL,
			    "use %zu, %s file: got \"%s\", want \"FILE:1: ...%s\"", u, kinds[k],
			    first, want);
		}
		unlink(file);
		rmdir(file);
	}
	/* the top file itself */
	snprintf(file, sizeof(file), "%s/main.conf", dir);
	unlink(file);
	ck_assert(mkfifo(file, 0644) == 0);
	{
		struct conf_errors errs = {0};

		ck_assert_ptr_null(conf_load(file, &errs));
		ck_assert_msg(errs.n == 1 && strstr(errs.msgs[0], "not a regular file") != NULL,
		    "FIFO as the configuration: got \"%s\"", errs.n ? errs.msgs[0] : "");
		conf_errors_free(&errs);
	}
	unlink(file);
	ck_assert(rmdir(dir) == 0);
}
END_TEST

/* The sample configuration shipped in conf/ is valid. */
START_TEST(test_sample)
{
	struct conf_errors errs = {0};
	struct config *cfg = conf_load(TEST_SRCDIR "/../conf/relay-milter.conf", &errs);

	ck_assert_msg(cfg != NULL, "sample: %s", errs.n ? errs.msgs[0] : "?");
	ck_assert_msg(errs.nwarns == 0, "sample: %s", errs.nwarns ? errs.warns[0] : "?");
	conf_free(cfg);
	conf_errors_free(&errs);
}
END_TEST

static int is_fixture(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0 &&
	    (strncmp(d->d_name, "good-", 5) == 0 || strncmp(d->d_name, "bad-", 4) == 0 ||
		strncmp(d->d_name, "warn-", 5) == 0);
}

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");
	struct dirent **list;
	int n = scandir(CONF_DIR, &list, is_fixture, alphasort);

	for (int i = 0; i < n; i++) {
		if (nfixtures < MAX_FIXTURES)
			fixtures[nfixtures++] = strdup(list[i]->d_name);
		free(list[i]);
	}
	if (n > 0)
		free(list);
	tcase_add_loop_test(tc, test_fixture, 0, nfixtures);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_world_writable);
	tcase_add_test(tc, test_named_files);
	tcase_add_test(tc, test_sample);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(conf_suite)
