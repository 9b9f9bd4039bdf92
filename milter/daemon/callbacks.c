/* callbacks.c - the libmilter callbacks: collect facts, ask the engine, answer */
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbacks.h"
#include "limits.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "snapshot.h"
#include "verdict_log.h"

#define FIELD_MAX     512 /* longer macro values and HELO names are cut here */
#define MSG_TEXT_MAX  512 /* a message's sender, login and {mail_addr} fit here most often */
#define MTA_ADDRS_MAX 2   /* {daemon_addr} and {if_addr} */

/* Per-connection state; the message part is reset by message_reset(). */
struct conn {
	struct snapshot *snap; /* pinned for the whole connection */
	unsigned long noreply; /* SMFIP_NR_* steps agreed in negotiation */
	struct ipaddr client;
	bool has_client;
	struct ipaddr mta_addrs[MTA_ADDRS_MAX];
	size_t nmta_addrs;
	bool mta_addrs_known; /* looked up: the first address literal asks */
	struct geo_cache geo; /* the engine fills it once per connection */
	/* per message */
	char *sender;     /* whole, never cut: ownership and login checks must see */
	char *login;      /* exactly what the MTA will act on; NULL until MAIL FROM */
	char *sender_mta; /* {mail_addr} once known (sender_mta()); NULL when the MTA sent none */
	bool sender_mta_known;
	char *msg_heap; /* sender and login when they do not fit msg_text, else NULL */
	char *msg_free; /* the part of msg_text they left free */
	unsigned rcpts;
	unsigned rcpts_accepted; /* let through: max_recipients_per_message counts these */
	uint64_t msgs_counted;   /* "messages" limits that counted this transaction */
	bool head_ok;            /* head holds this message's shared fields */
	/*
	 * Text buffers last: conn_new zeroes the fields above and only the
	 * first byte of these (a session is created per SMTP connection, and
	 * zeroing 6 kB each time would cost more than the decision itself).
	 */
	char qid[64];
	char msg_text[MSG_TEXT_MAX];     /* sender, login and {mail_addr}, one after the other */
	char client_text[IPADDR_STRLEN]; /* formatted once, for every decision line */
	char client_name[FIELD_MAX];
	char helo[FIELD_MAX];
	struct logline head;           /* the decision lines' shared fields, once per message */
	struct limit_keys keys;        /* the transaction's counting keys, each worked out once */
	struct verdict_cache verdicts; /* kept with the state for the next session */
};

/* Where the limits count: the daemon's, outside every configuration snapshot. */
static struct store *limits_store;

/* callbacks_set_store - the store every decision counts in (before the first connection) */
void callbacks_set_store(struct store *store)
{
	limits_store = store;
}

/*
 * One spare state, kept by conn_free for the next conn_new: the state is
 * 6 kB, too large for malloc's fast bins, and sessions come one after the
 * other on a connection. The exchange is atomic: any thread may take it.
 */
static struct conn *spare_conn;

/* conn_free - give the state back: kept as the spare, or freed */
static void conn_free(struct conn *c)
{
	free(__atomic_exchange_n(&spare_conn, c, __ATOMIC_ACQ_REL));
}

/* conn_new - a connection's state: the fields zeroed, the text buffers empty */
static struct conn *conn_new(void)
{
	struct conn *c = __atomic_exchange_n(&spare_conn, NULL, __ATOMIC_ACQ_REL);

	if (c == NULL) {
		if ((c = malloc(sizeof(*c))) == NULL)
			return NULL;
		verdict_cache_init(&c->verdicts); /* a spare state keeps its own */
	}
	memset(c, 0, offsetof(struct conn, qid));
	c->qid[0] = c->client_text[0] = c->client_name[0] = c->helo[0] = 0;
	c->head.len = 0;
	c->head.buf[0] = 0;
	limit_keys_reset(&c->keys);
	return c;
}

/* copy_field - bounded copy of a value the MTA (or the client) chose */
static void copy_field(char *dst, size_t len, const char *src)
{
	size_t n = src != NULL ? strnlen(src, len - 1) : 0; /* cut at len - 1 bytes */

	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = 0;
}

/*
 * SMFIC_QUIT_NC ends an SMTP session but keeps the milter connection:
 * libmilter calls xxfi_close (we free the state) and then xxfi_connect
 * for the next session without negotiating again. The no-reply flags
 * agreed at negotiation still hold for the connection, so they are kept
 * here, by context, in a small direct-mapped table: every connection
 * negotiates first and overwrites its slot, so a matching key is always
 * this connection's own entry; a slot taken by another context only costs
 * the replies (libmilter turns a reply into none and logs it), never a
 * missing one.
 */
#define NR_SLOTS 1024
static struct {
	unsigned seq; /* odd while a writer changes the slot */
	const SMFICTX *ctx;
	unsigned long noreply;
} nr_slots[NR_SLOTS];
static pthread_mutex_t nr_lock = PTHREAD_MUTEX_INITIALIZER; /* writers, one at a time */

/* nr_slot - the slot a context hashes to */
static size_t nr_slot(const SMFICTX *ctx)
{
	uintptr_t v = (uintptr_t)ctx;

	return (size_t)((v >> 4) ^ (v >> 14)) & (NR_SLOTS - 1);
}

/* nr_remember - keep the no-reply flags negotiated on this context */
static void nr_remember(const SMFICTX *ctx, unsigned long noreply)
{
	size_t i = nr_slot(ctx);
	unsigned seq;

	pthread_mutex_lock(&nr_lock);
	seq = __atomic_load_n(&nr_slots[i].seq, __ATOMIC_RELAXED);
	__atomic_store_n(&nr_slots[i].seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE); /* odd before the fields change */
	__atomic_store_n(&nr_slots[i].ctx, ctx, __ATOMIC_RELAXED);
	__atomic_store_n(&nr_slots[i].noreply, noreply, __ATOMIC_RELAXED);
	__atomic_store_n(&nr_slots[i].seq, seq + 2, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&nr_lock);
}

/*
 * nr_recall - the flags negotiated on this context, 0 when unknown: read
 * without the lock (a sequence lock: read again while a writer was at the
 * slot), as every session of a reused connection asks
 */
static unsigned long nr_recall(const SMFICTX *ctx)
{
	size_t i = nr_slot(ctx);
	const SMFICTX *who;
	unsigned long nr;
	unsigned s1, s2;

	do {
		s1 = __atomic_load_n(&nr_slots[i].seq, __ATOMIC_ACQUIRE);
		who = __atomic_load_n(&nr_slots[i].ctx, __ATOMIC_RELAXED);
		nr = __atomic_load_n(&nr_slots[i].noreply, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the fields before the second look */
		s2 = __atomic_load_n(&nr_slots[i].seq, __ATOMIC_RELAXED);
	} while ((s1 & 1) != 0 || s1 != s2);
	return who == ctx ? nr : 0;
}

/* conn_get - this connection's state, created on first use */
static struct conn *conn_get(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL && (c = conn_new()) != NULL) {
		if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
			conn_free(c);
			return NULL;
		}
		c->noreply = nr_recall(ctx); /* after QUIT_NC; negotiation overwrites */
		metrics_add(METRICS_ACTIVE_CONNECTIONS);
	}
	if (c != NULL && c->snap == NULL && (c->snap = snapshot_acquire()) != NULL)
		verdict_cache_use(&c->verdicts, c->snap->generation);
	return c;
}

/* message_reset - forget one transaction: new MAIL FROM, RSET, end, abort */
static void message_reset(struct conn *c)
{
	if (c->msg_heap != NULL) { /* most messages fit the state's own buffer */
		free(c->msg_heap);
		c->msg_heap = NULL;
	}
	c->sender = NULL;
	c->login = NULL;
	c->sender_mta = NULL;
	c->sender_mta_known = false;
	c->qid[0] = 0;
	c->rcpts = 0;
	c->rcpts_accepted = 0;
	c->msgs_counted = 0;
	limit_keys_reset(&c->keys);
	c->head_ok = false;
}

/* reply_for - SMFIS_NOREPLY when the MTA agreed not to wait for this step */
static sfsistat reply_for(const struct conn *c, unsigned long step)
{
	return c != NULL && (c->noreply & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* Macros asked for at each stage, so no MTA-side configuration is needed. */
static const struct {
	int stage;
	const char *macros;
} wanted_macros[] = {
    {SMFIM_CONNECT, "{daemon_addr} {if_addr}"},
    {SMFIM_ENVFROM, "i {auth_authen} {mail_addr}"},
    {SMFIM_ENVRCPT, "i {rcpt_addr} {rcpt_mailer}"},
};

/* rm_negotiate - ask for the steps and macros we use, and nothing else */
static sfsistat rm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	const unsigned long skip =
	    SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA;
	const unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL;
	struct conn *c = conn_get(ctx);

	(void)f2;
	(void)f3;
	*pf0 = f0 & SMFIF_SETSYMLIST;
	*pf1 = f1 & (skip | noreply);
	*pf2 = 0;
	*pf3 = 0;
	if (c != NULL)
		c->noreply = *pf1 & noreply;
	nr_remember(ctx, *pf1 & noreply);
	if (*pf0 & SMFIF_SETSYMLIST) {
		for (size_t i = 0; i < sizeof(wanted_macros) / sizeof(wanted_macros[0]); i++)
			smfi_setsymlist(ctx, wanted_macros[i].stage,
			    (char *)wanted_macros[i].macros);
	}
	return SMFIS_CONTINUE;
}

/* add_mta_addr - remember one of the MTA's own addresses, for user@[literal] */
static void add_mta_addr(struct conn *c, const char *text)
{
	if (text != NULL && c->nmta_addrs < MTA_ADDRS_MAX &&
	    ipaddr_parse(text, &c->mta_addrs[c->nmta_addrs]) == 0)
		c->nmta_addrs++;
}

/*
 * mta_addrs - the MTA's own addresses, for the engine on need: looked up
 * once a connection, at the first address literal. The connect macros
 * stay until the session ends, and later stages name the same addresses.
 */
static const struct ipaddr *mta_addrs(void *ctx, size_t *n)
{
	struct conn *c = smfi_getpriv(ctx);

	if (!c->mta_addrs_known) {
		c->nmta_addrs = 0;
		add_mta_addr(c, smfi_getsymval(ctx, "{daemon_addr}"));
		add_mta_addr(c, smfi_getsymval(ctx, "{if_addr}"));
		c->mta_addrs_known = true;
	}
	*n = c->nmta_addrs;
	return c->mta_addrs;
}

/* rm_connect - the client's address and name */
static sfsistat rm_connect(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
	struct conn *c = conn_get(ctx);

	metrics_add(METRICS_CONNECTIONS);
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	c->has_client = ipaddr_from_sockaddr(hostaddr, &c->client) == 0;
	verdict_client(c->has_client ? &c->client : NULL, c->client_text, sizeof(c->client_text));
	copy_field(c->client_name, sizeof(c->client_name), hostname);
	c->mta_addrs_known = false; /* this session's macros: asked on need (mta_addrs) */
	return reply_for(c, SMFIP_NR_CONN);
}

static sfsistat rm_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	copy_field(c->helo, sizeof(c->helo), helo);
	return reply_for(c, SMFIP_NR_HELO);
}

/* put_text - copy n bytes and a NUL at *at, which then points past them; the copy */
static char *put_text(char **at, const char *s, size_t n)
{
	char *d = *at;

	memcpy(d, s, n);
	d[n] = 0;
	*at = d + n + 1;
	return d;
}

/*
 * rm_envfrom - a new transaction: sender and login. The two strings share
 * one buffer: the state's own when they fit, else one allocation, whole
 * (never cut); {mail_addr} goes after them when the engine asks for it.
 */
static sfsistat rm_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);
	const char *login = smfi_getsymval(ctx, "{auth_authen}");
	const char *sender = argv && argv[0] ? argv[0] : "";
	size_t ls, ll, need;
	char *at;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	metrics_add(METRICS_TRANSACTIONS);
	message_reset(c);
	if (login == NULL)
		login = "";
	ls = strlen(sender);
	ll = strlen(login);
	need = ls + 1 + ll + 1;
	at = c->msg_text;
	if (need > sizeof(c->msg_text) && (at = c->msg_heap = malloc(need)) == NULL)
		return SMFIS_TEMPFAIL; /* no half-known transaction: RCPT will tempfail */
	c->sender = put_text(&at, sender, ls);
	c->login = put_text(&at, login, ll);
	c->msg_free = c->msg_heap != NULL ? c->msg_text : at;
	return reply_for(c, SMFIP_NR_MAIL); /* the queue id is asked at RCPT, which sees MAIL's */
}

/* escape_percent - libmilter treats a lone % in reply text as a format */
static void escape_percent(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 2 < len; in++) {
		if (*in == '%')
			out[o++] = '%';
		out[o++] = *in;
	}
	out[o] = 0;
}

/* reply_text - the text for smfi_setreply: as it is, unless a '%' needs doubling */
static const char *reply_text(const char *text, char *buf, size_t len)
{
	if (strchr(text, '%') == NULL)
		return text;
	escape_percent(text, buf, len);
	return buf;
}

/* code_text - a reply code as text; the three digits every reply has without snprintf */
static void code_text(int code, char *out, size_t len)
{
	if (code < 100 || code > 999) {
		snprintf(out, len, "%d", code);
		return;
	}
	out[0] = (char)('0' + code / 100);
	out[1] = (char)('0' + code / 10 % 10);
	out[2] = (char)('0' + code % 10);
	out[3] = 0;
}

/*
 * enhanced_code_ok - an enhanced code as smfi_setreply takes one: class 2,
 * 4 or 5, then two parts of one to three digits
 */
static bool enhanced_code_ok(const char *s)
{
	size_t i = 2, d;

	if (!((s[0] == '2' || s[0] == '4' || s[0] == '5') && s[1] == '.'))
		return false;
	for (d = 0; d < 3 && s[i] >= '0' && s[i] <= '9'; d++)
		i++;
	if (d == 0 || s[i++] != '.')
		return false;
	for (d = 0; d < 3 && s[i] >= '0' && s[i] <= '9'; d++)
		i++;
	return d > 0 && s[i] == 0;
}

/*
 * reply_line - "ECODE TEXT" in buf, the text's '%' doubled, for
 * smfi_setreply with no separate enhanced code: libmilter then joins "CODE
 * " and this, the very reply it would make of the three parts, with fewer
 * of its byte-at-a-time copies. NULL when the code is one libmilter would
 * refuse, or the line is long: then the parts go as they are.
 */
static const char *reply_line(const struct verdict *v, char *buf, size_t len)
{
	size_t e = strlen(v->ecode), t = strlen(v->text);

	if (!enhanced_code_ok(v->ecode) || e + 1 + 2 * t >= len)
		return NULL;
	memcpy(buf, v->ecode, e);
	buf[e] = ' ';
	if (memchr(v->text, '%', t) == NULL)
		memcpy(buf + e + 1, v->text, t + 1);
	else
		escape_percent(v->text, buf + e + 1, len - e - 1);
	return buf;
}

/* answer - the one place a verdict becomes a milter reply */
static sfsistat answer(SMFICTX *ctx, const struct verdict *v)
{
	char code[8], text[sizeof(v->text) * 2];
	const char *shown, *line;
	int rc;

	if (v->action == ACTION_ACCEPT || v->dry_run)
		return SMFIS_CONTINUE; /* never SMFIS_ACCEPT: later recipients still need judging */
	code_text(v->code, code, sizeof(code));
	if ((line = reply_line(v, text, sizeof(text))) != NULL)
		rc = smfi_setreply(ctx, code, NULL, (char *)line);
	else
		rc = smfi_setreply(ctx, code, (char *)v->ecode,
		    (char *)reply_text(v->text, text, sizeof(text)));
	if (rc != MI_SUCCESS) {
		shown = reply_text(v->text, text, sizeof(text));
		log_warn("cannot set reply \"%s %s %s\"; the MTA's default is used", code, v->ecode,
		    shown);
	}
	return v->action == ACTION_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* log_decision - the decision line, as log_decisions and log_format say */
static void log_decision(struct conn *c, const struct facts *f, const struct verdict *v)
{
	const struct settings *s = &c->snap->config->settings;
	enum logline_form form = s->log_format == LOG_FORMAT_JSON ? LOGLINE_JSON : LOGLINE_KV;

	if (s->log_decisions == LOG_DECISIONS_NONE ||
	    (s->log_decisions == LOG_DECISIONS_REFUSALS && !verdict_refused(v)))
		return;
	if (!c->head_ok || c->head.form != form) {
		verdict_head(&c->head, form, c->qid, f, c->client_text);
		c->head_ok = true;
	}
	verdict_log(&c->head, f, v, c->snap->config->policy, &c->verdicts);
}

/* note_limits - what the transaction carries to its next recipient, and the limit events */
static void note_limits(struct conn *c, const struct facts *f, const struct verdict *v)
{
	const struct settings *s = &c->snap->config->settings;

	if (v->action == ACTION_ACCEPT || v->dry_run)
		c->rcpts_accepted++;
	c->msgs_counted = v->msgs_counted;
	if (v->nlimits == 0)
		return;
	metrics_limits(v, c->snap->config->limit_ids, c->snap->config->policy);
	verdict_events(s->log_format == LOG_FORMAT_JSON ? LOGLINE_JSON : LOGLINE_KV, c->qid, f, v,
	    c->snap->config->policy);
}

/* rcpt_addr - {rcpt_addr} of the recipient being judged, for the engine on need */
static const char *rcpt_addr(void *ctx)
{
	return smfi_getsymval(ctx, "{rcpt_addr}");
}

/* rcpt_mailer - {rcpt_mailer} of the recipient being judged, for the engine on need */
static const char *rcpt_mailer(void *ctx)
{
	return smfi_getsymval(ctx, "{rcpt_mailer}");
}

/*
 * sender_mta - {mail_addr}, for the engine on need (most policies never
 * look): asked once a message, as MAIL's macros stay until the next MAIL
 * and RCPT's do not name it, and kept after the sender and login; a value
 * with no room there is lent for this decision alone
 */
static const char *sender_mta(void *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	const char *v;
	size_t n = 0;

	if (c->sender_mta_known)
		return c->sender_mta;
	if ((v = smfi_getsymval(ctx, "{mail_addr}")) != NULL &&
	    (n = strlen(v)) >= (size_t)(c->msg_text + sizeof(c->msg_text) - c->msg_free))
		return v; /* asked again by the next decision */
	c->sender_mta = v != NULL ? put_text(&c->msg_free, v, n) : NULL;
	c->sender_mta_known = true;
	return c->sender_mta;
}

/* rm_envrcpt - judge one recipient */
static sfsistat rm_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);
	struct facts f;
	struct verdict v;
	const char *qid;
	struct timespec t0, t1;

	if (c == NULL || c->snap == NULL || c->sender == NULL)
		return SMFIS_TEMPFAIL; /* no configuration, or no MAIL FROM seen: the safe answer */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/*
	 * The queue id, MAIL's or this RCPT's (Postfix names it once it opens
	 * the queue file, at the first accepted recipient); the line's head
	 * names it too
	 */
	if ((qid = smfi_getsymval(ctx, "i")) != NULL && strncmp(qid, c->qid, sizeof(c->qid)) != 0) {
		copy_field(c->qid, sizeof(c->qid), qid);
		c->head_ok = false;
	}
	memset(&f, 0, sizeof(f));
	f.client = c->has_client ? &c->client : NULL;
	f.client_name = c->client_name;
	f.helo = c->helo;
	f.login = c->login;
	f.sender = c->sender;
	f.sender_mta_get = sender_mta; /* asked only when the engine needs it */
	f.rcpt = argv ? argv[0] : NULL;
	f.rcpt_mta_get = rcpt_addr;      /* asked only when the engine needs it */
	f.rcpt_mailer_get = rcpt_mailer; /* asked only when the engine needs it */
	f.get_arg = ctx;
	f.mta_addrs_get = mta_addrs; /* asked only for an address literal */
	f.now = time(NULL);
	f.geo = &c->geo;
	f.store = limits_store;
	f.rcpts_accepted = c->rcpts_accepted;
	f.msgs_counted = c->msgs_counted;
	f.keys = &c->keys;
	policy_decide(c->snap->config->policy, &f, &v, NULL);
	metrics_decision(&v, c->snap->config->rule_ids);
	if (v.geo_lookup)
		metrics_geo(c->geo.info.status);
	c->rcpts++;
	log_decision(c, &f, &v);
	note_limits(c, &f, &v); /* after the decision line: a grep by queue id finds it first */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_rcpt_time((unsigned long long)(t1.tv_sec - t0.tv_sec) * 1000000000ULL +
	    (unsigned long long)(t1.tv_nsec - t0.tv_nsec));
	return answer(ctx, &v);
}

static sfsistat rm_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		message_reset(c);
	return SMFIS_CONTINUE;
}

static sfsistat rm_abort(SMFICTX *ctx)
{
	return rm_eom(ctx);
}

/* rm_close - free everything the connection held */
static sfsistat rm_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		message_reset(c);
		snapshot_release(c->snap);
		conn_free(c);
		metrics_sub(METRICS_ACTIVE_CONNECTIONS);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

/* callbacks_register - hand our filter description to libmilter */
int callbacks_register(void)
{
	struct smfiDesc desc = {
	    .xxfi_name = "relay-milter",
	    .xxfi_version = SMFI_VERSION,
	    .xxfi_flags = SMFIF_NONE,
	    .xxfi_connect = rm_connect,
	    .xxfi_helo = rm_helo,
	    .xxfi_envfrom = rm_envfrom,
	    .xxfi_envrcpt = rm_envrcpt,
	    .xxfi_eom = rm_eom,
	    .xxfi_abort = rm_abort,
	    .xxfi_close = rm_close,
	    .xxfi_negotiate = rm_negotiate,
	};

	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
