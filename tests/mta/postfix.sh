#!/bin/bash
# postfix.sh - relay-milter behind a real, private Postfix (TAP).
#
# Part 1: the scenario table through Postfix configured by the test
#         (unix socket, short milter timeouts).
# Part 2: faults: relay-milter down, killed mid-session, too slow; each must
#         give 4xx and deliver nothing, and a new session must work again
#         once relay-milter is back.
# Part 3: the scenario table through a second Postfix whose milter settings
#         are contrib/postfix/main.cf.snippet verbatim (only the port of the
#         socket is changed), so the documented settings are the tested ones.
# Part 4: contrib/postfix/master.cf.submission parses as a master.cf service.
#
# Postfix's own relay check is opened (check_client_access static:OK), so
# every verdict seen here is relay-milter's. XCLIENT plays the client
# address and SASL login. Everything is delivered to the discard transport.
# Set MTA_KEEP=1 to keep the temporary directory (kept anyway on failure).

. "$(dirname "$0")/../lib/mta.sh"

mta_need_root "the Postfix test"
command -v postfix >/dev/null || { echo "1..0 # SKIP postfix is not installed"; exit 0; }
[ -x "$RELAY_MILTER" ] || tap_bail "$RELAY_MILTER not built"
[ -x "$SMTPCHAT" ] || tap_bail "$SMTPCHAT not built"

TABLE=$top_srcdir/tests/mta/scenarios.txt
SNIPPET=$top_srcdir/contrib/postfix/main.cf.snippet
mta_init postfix

# pf_delivered - wait for Postfix to deliver; check accepted vs refused
#
# Every accepted plain recipient must show up as delivered by the discard
# transport, and no refused one may show up at all.
pf_delivered() {
	local log=$MTA_PF/maillog want got leaked i
	want=$(mta_simple_rcpts "$MTA_TMP/$MTA_RUN.accepted")
	for i in $(seq 1 300); do
		got=$(sed -n 's/.* postfix\/discard\[[0-9]*\]: [0-9A-F]*: to=\(<[^>]*>\),.* status=sent.*/\1/p' \
			"$log" | tr 'A-Z' 'a-z' | sort -u)
		[ -z "$(comm -23 <(echo "$want") <(echo "$got"))" ] && break
		sleep 0.1
	done
	leaked=$(comm -12 <(mta_simple_rcpts "$MTA_TMP/$MTA_RUN.refused") <(echo "$got"))
	if [ -n "$(comm -23 <(echo "$want") <(echo "$got"))" ]; then
		tap_fail "$MTA_RUN: every accepted recipient was delivered" \
			"missing: $(comm -23 <(echo "$want") <(echo "$got") | tr '\n' ' ')"
	elif [ -n "$leaked" ]; then
		tap_fail "$MTA_RUN: no refused recipient was delivered" "delivered: $leaked"
	else
		tap_ok "$MTA_RUN: accepted recipients delivered, refused ones not ($(echo "$want" | wc -l) delivered)"
	fi
}

# pf_not_delivered - the recipient must never reach the discard transport
#
# Wait until Postfix's queue is empty (everything accepted so far is
# delivered), so that a late delivery cannot slip past the check.
pf_not_delivered() {
	local i
	for i in $(seq 1 300); do
		postqueue -c "$MTA_PF/conf" -p 2>/dev/null | grep -q 'Mail queue is empty' && break
		sleep 0.1
	done
	if grep 'postfix/discard\[' "$MTA_PF/maillog" | grep -qF "to=<$1>"; then
		tap_fail "$2: <$1> was not delivered" "$(grep -F "to=<$1>" "$MTA_PF/maillog")"
	else
		tap_ok "$2: <$1> was not delivered"
	fi
}

# pf_tempfailed - a new session's transaction to $2 must be tempfailed
#
# Postfix may refuse already at MAIL FROM (the milter connection failed
# when the session began) or at RCPT TO; either is a 4xx, and the
# recipient must never get a 2xx.
pf_tempfailed() {
	local what=$1 rcpt=$2 m r
	if ! mta_session_open postfix 203.0.113.98 - fault.example.net; then
		case $MTA_WHY in
		*\ 4[0-9][0-9]*|*:\ 4*) tap_ok "$what: session tempfailed ($MTA_WHY)" ;;
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
	case $m in
	4*)	tap_ok "$what: MAIL FROM tempfailed (${m%% *} ${m#* })"; return ;;
	esac
	case $m:$r in
	2*:4*)	tap_ok "$what: RCPT TO <$rcpt> tempfailed (${r%% *})" ;;
	*)	tap_fail "$what: tempfail for <$rcpt>" "MAIL: $m" "RCPT: $r" ;;
	esac
}

# pf_session - a new session from an untrusted client must get "want" at
# RCPT for recipient $2 ($1 = label, $3 = RCPT reply, $4 = MAIL reply)
pf_session() {
	local what=$1 rcpt=$2 want=$3
	if ! mta_session_open postfix 203.0.113.99 - fault.example.net; then
		tap_fail "$what: session" "$MTA_WHY"; mta_chat_close; return
	fi
	mta_expect "$what" "MAIL FROM:<sender@example.net>" "$4"
	mta_expect "$what" "RCPT TO:<$rcpt>" "$want"
	mta_chat_close
}

# === Part 1: the scenario table, test's own milter settings ===============
mta_milter_config "$MTA_MILTER_CONF" || tap_bail "cannot write the configuration of relay-milter"
SOCK=unix:$MTA_SOCKDIR/relay-milter.sock
mta_milter_start "$SOCK" || tap_bail "relay-milter did not start"
cat >"$MTA_TMP/own-milter.cf" <<EOF
# the test's milter settings: 2 s timeouts so the slow-milter case is quick
smtpd_milters = $SOCK
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 2s
milter_command_timeout = 2s
EOF
PF_PORT=$(mta_free_port) || tap_bail "no free port"
mta_postfix_setup pf-own "$PF_PORT" "$MTA_TMP/own-milter.cf"
mta_postfix_start || tap_bail "Postfix did not start"

MTA_RUN=postfix
mta_scenarios "$TABLE" postfix
pf_delivered
mta_check_decisions

# === Part 2: faults =========================================================
# 2a. relay-milter not running at all: the socket is gone.
mta_milter_stop "$MTA_MILTER_PID"
pf_tempfailed "milter down, remote recipient" fault1@example.org
pf_tempfailed "milter down, local recipient" fault2@example.com
pf_not_delivered fault1@example.org "milter down"
pf_not_delivered fault2@example.com "milter down"

# 2b. the same session succeeds once relay-milter is back.
mta_milter_start "$SOCK" || tap_bail "relay-milter did not restart"
pf_session "milter restarted" fault3@example.org 550 250
if mta_session_open postfix 192.0.2.98 - fault.example.net; then
	mta_expect "milter restarted, trusted" "MAIL FROM:<sender@example.net>" 250
	mta_expect "milter restarted, trusted" "RCPT TO:<fault4@example.org>" 250
	mta_chat_data restarted
	case $REPLY in 250*) tap_ok "milter restarted: message accepted" ;;
	*) tap_fail "milter restarted: message accepted" "got: $REPLY" ;; esac
fi
mta_chat_close

# 2c. relay-milter killed in the middle of a session.
if mta_session_open postfix 192.0.2.97 - fault.example.net; then
	mta_expect "killed mid-session" "MAIL FROM:<sender@example.net>" 250
	mta_expect "killed mid-session" "RCPT TO:<fault5@example.org>" 250
	kill -KILL "$MTA_MILTER_PID"
	wait "$MTA_MILTER_PID" 2>/dev/null
	mta_expect "killed mid-session" "RCPT TO:<fault6@example.org>" 4
	mta_expect_data_refused "killed mid-session"
fi
mta_chat_close
pf_not_delivered fault5@example.org "killed mid-session"
pf_not_delivered fault6@example.org "killed mid-session"
mta_milter_stop "$MTA_MILTER_PID"
mta_milter_start "$SOCK" || tap_bail "relay-milter did not restart"
pf_session "restarted after kill" fault7@example.org 550 250

# 2d. relay-milter too slow: SIGSTOP it; Postfix waits milter_command_timeout
# (2 s here) or milter_connect_timeout, then applies milter_default_action.
if mta_session_open postfix 192.0.2.96 - fault.example.net; then
	mta_expect "slow milter" "MAIL FROM:<sender@example.net>" 250
	kill -STOP "$MTA_MILTER_PID"
	t0=$(date +%s)
	mta_expect "slow milter" "RCPT TO:<fault8@example.org>" 4
	t1=$(date +%s)
	if [ $((t1 - t0)) -ge 1 ] && [ $((t1 - t0)) -le 10 ]; then
		tap_ok "slow milter: tempfail came after the 2 s timeout ($((t1 - t0)) s)"
	else
		tap_fail "slow milter: tempfail after the timeout" "took $((t1 - t0)) s"
	fi
fi
mta_chat_close
pf_tempfailed "slow milter, new session" fault9@example.org
kill -CONT "$MTA_MILTER_PID"
pf_not_delivered fault8@example.org "slow milter"
pf_not_delivered fault9@example.org "slow milter"
pf_session "slow milter resumed" fault10@example.org 550 250

mta_postfix_stop "$MTA_PF"
mta_milter_stop "$MTA_MILTER_PID"

# === Part 3: the contrib snippet, verbatim ===================================
if [ ! -r "$SNIPPET" ]; then
	tap_fail "contrib/postfix/main.cf.snippet exists"
else
	MPORT=$(mta_free_port) || tap_bail "no free port"
	# Only the socket's port changes; every other line is the file as shipped.
	sed "s/inet:127\.0\.0\.1:8894/inet:127.0.0.1:$MPORT/" "$SNIPPET" >"$MTA_TMP/snippet.cf"
	if grep -q "inet:127.0.0.1:$MPORT" "$MTA_TMP/snippet.cf"; then
		tap_ok "snippet: socket line found and rewritten to port $MPORT"
	else
		tap_fail "snippet: has smtpd_milters = inet:127.0.0.1:8894"
	fi
	MTA_MILTER_LOG=$MTA_TMP/milter-snippet.log
	mta_milter_start "inet:$MPORT@127.0.0.1" || tap_bail "relay-milter did not start on inet:$MPORT"
	PF_PORT=$(mta_free_port) || tap_bail "no free port"
	mta_postfix_setup pf-snippet "$PF_PORT" "$MTA_TMP/snippet.cf"
	mta_postfix_start || tap_bail "Postfix with the snippet did not start"
	MTA_RUN=postfix-snippet
	mta_scenarios "$TABLE" postfix
	pf_delivered
	mta_check_decisions
fi

# === Part 4: the submission example is valid master.cf =========================
SUB=$top_srcdir/contrib/postfix/master.cf.submission
if [ -r "$SUB" ]; then
	cat "$SUB" >>"$MTA_PF/conf/master.cf"
	out=$(postconf -c "$MTA_PF/conf" -M submission/inet 2>&1)
	warn=$(postconf -c "$MTA_PF/conf" -M 2>&1 >/dev/null)
	if [ -z "$warn" ] && echo "$out" | grep -q 'smtpd_milters=inet:127.0.0.1:8894'; then
		tap_ok "contrib/postfix/master.cf.submission parses as a submission service"
	else
		tap_fail "contrib/postfix/master.cf.submission parses" "$out" "$warn"
	fi
else
	tap_fail "contrib/postfix/master.cf.submission exists"
fi

tap_done
