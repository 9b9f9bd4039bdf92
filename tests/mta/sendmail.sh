#!/bin/bash
# sendmail.sh - relay-milter behind a real, private Sendmail 8.17 (TAP).
#
# Sendmail comes from Debian's packages, unpacked (not installed: it
# conflicts with postfix) by contrib/fetch-sendmail. Its sendmail.cf is
# built with m4 from sendmail-cf and contrib/sendmail/relay-milter.mc
# verbatim (only the socket's port is changed), and it runs in the
# foreground (-bD) on loopback, in private mount and UTS namespaces that
# give it a fully qualified host name and a hosts file, so it never waits
# for DNS.
#
# What each case proves, given that Sendmail has no XCLIENT:
# - the client address the milter sees is the real peer address. The test
#   runs in a private network namespace (unshare -n) whose loopback
#   interface carries every client address of the scenario table
#   (192.0.2.25, 203.0.113.x, 2001:db8:..., as well as 127.0.0.2), and each
#   session connects FROM its row's address, so every row runs for real;
#   the IPv4-mapped row connects to an extra dual-stack listener that only
#   exists inside the namespace. Without namespaces only the 127.x and ::1
#   rows run, the rest SKIP;
# - the rows with a login authenticate with AUTH PLAIN against a private
#   Cyrus SASL database, so {auth_authen} comes from Sendmail's own AUTH;
# - Sendmail's relay check is opened (promiscuous_relay), so the verdicts
#   are relay-milter's; accepted messages stay in the private queue (queue-
#   only delivery, no queue runner), whose files show what was accepted;
# - faults: with F=T, relay-milter down, killed mid-session or stopped past
#   the T=R:5s timeout gives 4xx and queues nothing.

. "$(dirname "$0")/../lib/mta.sh"

mta_need_root "the Sendmail test"
[ -x "$RELAY_MILTER" ] || tap_bail "$RELAY_MILTER not built"
[ -x "$SMTPCHAT" ] || tap_bail "$SMTPCHAT not built"
command -v m4 >/dev/null || tap_bail "m4 is not installed (contrib/install-deps)"
command -v unshare >/dev/null || tap_bail "unshare is not installed (util-linux)"

TABLE=$top_srcdir/tests/mta/scenarios.txt
MC=$top_srcdir/contrib/sendmail/relay-milter.mc

# Fetch (apt-get) before leaving the host's network, then run the rest in
# a private network namespace where every client address of the table
# exists, so that Sendmail's peers are real and the whole table applies.
if [ -z "${MTA_NETNS:-}" ]; then
	MTA_FETCH_LOG=$(mktemp "${TMPDIR:-/tmp}/rm-fetch.XXXXXX")
	"$top_srcdir/contrib/fetch-sendmail" "$SENDMAIL_TREE" >"$MTA_FETCH_LOG" 2>&1
	MTA_FETCH_RC=$?
	export MTA_FETCH_LOG MTA_FETCH_RC
	mta_netns_enter "$@"
fi
mta_init sendmail

if [ "${MTA_FETCH_RC:-1}" = 0 ] && [ -x "$SENDMAIL_TREE/sendmail" ]; then
	tap_ok "Sendmail $(cat "$SENDMAIL_TREE/VERSION") unpacked from Debian packages in $SENDMAIL_TREE"
	rm -f "$MTA_FETCH_LOG"
else
	tap_fail "Sendmail unpacked from Debian packages (contrib/fetch-sendmail)"
	mta_diag "$MTA_FETCH_LOG"
	rm -f "$MTA_FETCH_LOG"
	tap_done
	exit 1
fi
if [ "$MTA_NETNS" = 1 ]; then
	if mta_netns_addresses "$TABLE"; then
		tap_ok "private network namespace with every client address of the table on lo"
	else
		tap_fail "private network namespace with every client address of the table on lo"
	fi
else
	echo "# no private network namespace here: rows from non-loopback clients are skipped"
fi
case $(cat "$SENDMAIL_TREE/VERSION") in
8.17*)	tap_ok "it is Sendmail 8.17" ;;
*)	tap_fail "it is Sendmail 8.17" "got: $(cat "$SENDMAIL_TREE/VERSION")" ;;
esac

# sm_tempfailed - a new session's transaction to $2 must be tempfailed
sm_tempfailed() {
	local what=$1 rcpt=$2 m r
	if ! mta_session_open sendmail 127.0.0.2 - fault.example.net; then
		case $MTA_WHY in
		*:\ 4*) tap_ok "$what: session tempfailed ($MTA_WHY)" ;;
		*) tap_fail "$what: tempfail" "$MTA_WHY" ;;
		esac
		mta_chat_close
		return
	fi
	mta_chat "MAIL FROM:<sender@example.net>"
	m=$REPLY
	mta_chat "RCPT TO:<$rcpt>"
	r=$REPLY
	mta_chat_close
	case $m:$r in
	4*)	tap_ok "$what: MAIL FROM tempfailed (${m%% *})" ;;
	2*:4*)	tap_ok "$what: RCPT TO <$rcpt> tempfailed (${r%% *})" ;;
	*)	tap_fail "$what: tempfail for <$rcpt>" "MAIL: $m" "RCPT: $r" ;;
	esac
}

# sm_session - a new untrusted session: RCPT $2 must get $3
sm_session() {
	if ! mta_session_open sendmail 127.0.0.2 - fault.example.net; then
		tap_fail "$1: session" "$MTA_WHY"; mta_chat_close; return
	fi
	mta_expect "$1" "MAIL FROM:<sender@example.net>" 250
	mta_expect "$1" "RCPT TO:<$2>" "$3"
	mta_chat_close
}

# sm_not_queued - recipient $1 must not be in the private queue
sm_not_queued() {
	if mta_sendmail_queued | grep -qxF "<$1>"; then
		tap_fail "$2: <$1> was not queued"
	else
		tap_ok "$2: <$1> was not queued"
	fi
}

# === the scenario table =====================================================
mta_milter_config "$MTA_MILTER_CONF" || tap_bail "cannot write the configuration of relay-milter"
MPORT=$(mta_free_port) || tap_bail "no free port"
SOCK="inet:$MPORT@127.0.0.1"
mta_milter_start "$SOCK" || tap_bail "relay-milter did not start"

[ -r "$MC" ] || tap_bail "$MC is missing"
sed "s/S=inet:8894@127\.0\.0\.1/S=inet:$MPORT@127.0.0.1/" "$MC" >"$MTA_TMP/milter.mc"
SM_PORT=$(mta_free_port) || tap_bail "no free port"
LOGINS=$(awk '!/^#/ && NF >= 6 && $4 != "-" { print $4 }' "$TABLE" | sort -u)
mta_sendmail_setup sm "$SM_PORT" "$MTA_TMP/milter.mc" "$LOGINS" || tap_bail "sendmail.cf was not built"
if grep -qxF "Xrelay-milter, S=inet:$MPORT@127.0.0.1, F=T, T=C:5s;S:5s;R:5s;E:10s" "$MTA_SM/sendmail.cf" &&
	grep -q '^O Milter.macros.connect=.*{daemon_addr}' "$MTA_SM/sendmail.cf"; then
	tap_ok "sendmail.cf built from contrib/sendmail/relay-milter.mc (X line, macros)"
else
	tap_fail "sendmail.cf built from contrib/sendmail/relay-milter.mc" \
		"$(grep -E '^(Xrelay|O Milter)' "$MTA_SM/sendmail.cf")"
fi
mta_sendmail_start || tap_bail "Sendmail did not start"

MTA_RUN=sendmail
mta_scenarios "$TABLE" sendmail
want=$(mta_simple_rcpts "$MTA_TMP/$MTA_RUN.accepted")
got=$(mta_sendmail_queued)
missing=$(comm -23 <(echo "$want") <(echo "$got"))
leaked=$(comm -12 <(mta_simple_rcpts "$MTA_TMP/$MTA_RUN.refused") <(echo "$got"))
if [ -n "$missing" ] || [ -n "$leaked" ]; then
	tap_fail "sendmail: queued exactly the accepted recipients" \
		"missing: $(echo $missing)" "refused but queued: $(echo $leaked)"
else
	tap_ok "sendmail: queued exactly the accepted recipients ($(echo "$want" | wc -l))"
fi
mta_check_decisions

# === faults ================================================================
# relay-milter not running: F=T makes Sendmail tempfail.
mta_milter_stop "$MTA_MILTER_PID"
sm_tempfailed "milter down, remote recipient" fault1@example.org
sm_tempfailed "milter down, local recipient" fault2@example.com
sm_not_queued fault1@example.org "milter down"
sm_not_queued fault2@example.com "milter down"

# back again: a new session gets relay-milter's verdicts
mta_milter_start "$SOCK" || tap_bail "relay-milter did not restart"
sm_session "milter restarted" fault3@example.org 550

# killed in the middle of a session
if mta_session_open sendmail 127.0.0.1 - fault.example.net; then
	mta_expect "killed mid-session" "MAIL FROM:<sender@example.net>" 250
	mta_expect "killed mid-session" "RCPT TO:<fault4@example.org>" 250
	kill -KILL "$MTA_MILTER_PID"
	wait "$MTA_MILTER_PID" 2>/dev/null
	mta_expect "killed mid-session" "RCPT TO:<fault5@example.org>" 4
	mta_expect_data_refused "killed mid-session"
else
	tap_fail "killed mid-session: session" "$MTA_WHY"
fi
mta_chat_close
sm_not_queued fault4@example.org "killed mid-session"
sm_not_queued fault5@example.org "killed mid-session"
mta_milter_stop "$MTA_MILTER_PID"
mta_milter_start "$SOCK" || tap_bail "relay-milter did not restart"
sm_session "restarted after kill" fault6@example.org 550

# too slow: SIGSTOP; Sendmail waits T=R:5s for the reply, then tempfails
if mta_session_open sendmail 127.0.0.1 - fault.example.net; then
	mta_expect "slow milter" "MAIL FROM:<sender@example.net>" 250
	kill -STOP "$MTA_MILTER_PID"
	t0=$(date +%s)
	mta_expect "slow milter" "RCPT TO:<fault7@example.org>" 4
	t1=$(date +%s)
	if [ $((t1 - t0)) -ge 4 ] && [ $((t1 - t0)) -le 15 ]; then
		tap_ok "slow milter: tempfail came after the 5 s timeout ($((t1 - t0)) s)"
	else
		tap_fail "slow milter: tempfail after the 5 s timeout" "took $((t1 - t0)) s"
	fi
else
	tap_fail "slow milter: session" "$MTA_WHY"
fi
mta_chat_close
kill -CONT "$MTA_MILTER_PID"
sm_not_queued fault7@example.org "slow milter"
sm_session "slow milter resumed" fault8@example.org 550

tap_done
