/*
 * nullmilter - a libmilter milter that decides nothing: the physical floor
 *
 * It asks the MTA for the same protocol steps relay-milter uses (connect,
 * HELO, MAIL, RCPT; no DATA, headers, end of headers, body or unknown
 * commands) and continues on every one, so the difference between it and
 * relay-milter under the same load is what relay-milter itself costs.
 *
 * -N asks for no replies to connect, HELO and MAIL (SMFIP_NR_*), as
 * relay-milter does: the benchmark's floor runs with it. -X rejects every recipient with
 * a 550 reply, to test a client's handling of rejections and aborts.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static int nm_noreply;   /* -N: set before smfi_main, read-only afterwards */
static int nm_rejectall; /* -X: reject every recipient (tests the load client) */

/* nm_reply - what every callback answers: continue, or nothing with -N */
static sfsistat nm_reply(int nr)
{
	return nr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* nm_negotiate - ask for exactly the steps relay-milter asks for */
static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	unsigned long want =
	    SMFIP_NODATA | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN;

	(void)ctx;
	(void)f2;
	(void)f3;
	if (nm_noreply)
		want |= SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL;
	*pf0 = 0;         /* no modification actions */
	*pf1 = want & f1; /* never ask for what the MTA cannot do */
	*pf2 = 0;
	*pf3 = 0;
	(void)f0;
	return SMFIS_CONTINUE;
}

/* nm_connect - continue */
static sfsistat nm_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	(void)ctx;
	(void)host;
	(void)sa;
	return nm_reply(nm_noreply);
}

/* nm_helo - continue */
static sfsistat nm_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx;
	(void)helo;
	return nm_reply(nm_noreply);
}

/* nm_envfrom - continue */
static sfsistat nm_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return nm_reply(nm_noreply);
}

/* nm_envrcpt - continue: every recipient, whatever it is (-X: reject) */
static sfsistat nm_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)argv;
	if (nm_rejectall) {
		(void)smfi_setreply(ctx, "550", "5.7.1", "rejected by nullmilter -X");
		return SMFIS_REJECT;
	}
	return SMFIS_CONTINUE;
}

/* nm_usage - print the synopsis and exit */
static void __attribute__((noreturn)) nm_usage(void)
{
	fputs("usage: nullmilter -s SOCKET [-N] [-X] [-b BACKLOG] [-D DEBUGLEVEL]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct smfiDesc desc;
	const char *sock = NULL;
	int ch, backlog = 0; /* 0: libmilter's default, as relay-milter */

	while ((ch = getopt(argc, argv, "s:NXb:D:h")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'N':
			nm_noreply = 1;
			break;
		case 'X':
			nm_rejectall = 1;
			break;
		case 'D':
			(void)smfi_setdbg(atoi(optarg));
			break;
		case 'b':
			backlog = atoi(optarg);
			if (backlog < 1)
				nm_usage();
			break;
		default:
			nm_usage();
		}
	}
	if (sock == NULL || optind != argc)
		nm_usage();

	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = "nullmilter";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = 0;
	desc.xxfi_connect = nm_connect;
	desc.xxfi_helo = nm_helo;
	desc.xxfi_envfrom = nm_envfrom;
	desc.xxfi_envrcpt = nm_envrcpt;
	desc.xxfi_negotiate = nm_negotiate;

	if (smfi_setconn((char *)sock) == MI_FAILURE ||
	    (backlog > 0 && smfi_setbacklog(backlog) == MI_FAILURE) ||
	    smfi_register(desc) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot set up %s\n", sock);
		return 1;
	}
	/* 1: remove a unix socket left over by a killed run */
	if (smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot open %s: %s\n", sock, strerror(errno));
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
