#!/bin/bash
# limits.sh - rate limits through a real Postfix (issue 13): a login over
# its limit gets 451 4.7.1 for the extra recipients, and Postfix delivers
# exactly the accepted ones; an unauthenticated trusted client is limited
# per client; max_recipients_per_message gives 452 4.5.3 at recipient 6.
# A private Postfix on loopback (XCLIENT sets the client and login the
# milter sees), a private relay-milter on a unix socket.

. "$(dirname "$0")/../lib/mta.sh"

mta_need_root "the Postfix limits test"
command -v postfix >/dev/null || { echo "1..0 # SKIP postfix is not installed"; exit 0; }
[ -x "$RELAY_MILTER" ] || tap_bail "$RELAY_MILTER not built"
[ -x "$SMTPCHAT" ] || tap_bail "$SMTPCHAT not built"
mta_init postfix-limits

mta_milter_config "$MTA_MILTER_CONF" || tap_bail "cannot write the configuration of relay-milter"
cat >>"$MTA_MILTER_CONF" <<EOF
max_recipients_per_message = 5;
limits = (
  { name = "login-cap"; per = "login"; count = "recipients"; max = 3; window = "1h";
    recipient_local = false; },
  { name = "host-cap"; per = "client"; authenticated = false; count = "recipients"; max = 2;
    window = "10m"; recipient_local = false; }
);
EOF
SOCK=unix:$MTA_SOCKDIR/relay-milter.sock
mta_milter_start "$SOCK" || tap_bail "relay-milter did not start"
cat >"$MTA_TMP/milter.cf" <<EOF
smtpd_milters = $SOCK
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
EOF
PF_PORT=$(mta_free_port) || tap_bail "no free port"
mta_postfix_setup pf "$PF_PORT" "$MTA_TMP/milter.cf"
mta_postfix_start || tap_bail "Postfix did not start"

# send CLIENT LOGIN RCPT=WANT... - one transaction; the accepted ones get DATA
send() {
	local client=$1 login=$2 spec rcpt want what
	shift 2
	if ! mta_session_open postfix "$client" "$login" limits.example.net; then
		tap_fail "session from $client" "$MTA_WHY"
		mta_chat_close
		return
	fi
	mta_chat "MAIL FROM:<sender@example.com>"
	for spec in "$@"; do
		rcpt=${spec%%=*} want=${spec#*=}
		what="$client ${login/-/unauthenticated}: RCPT TO:<$rcpt>"
		mta_chat "RCPT TO:<$rcpt>"
		case $REPLY in
		"$want"*) tap_ok "$what: ${REPLY%%[[:cntrl:]]*}" ;;
		*) tap_fail "$what: want $want" "got: $REPLY" ;;
		esac
	done
	mta_chat_data limits
	case $REPLY in 250*) ;; *) tap_fail "$client: DATA" "got: $REPLY" ;; esac
	mta_chat_close
}

send 203.0.113.50 alice a1@example.org="250" a2@example.org="250" a3@example.org="250" \
	a4@example.org="451 4.7.1" a5@example.org="451 4.7.1" alice@example.com="250"
# the same login from another client: the count is the login's
send 203.0.113.51 alice a6@example.org="451 4.7.1" b@example.com="250"
# a trusted host that does not log in: counted per client
send 192.0.2.40 - h1@example.org="250" h2@example.org="250" h3@example.org="451 4.7.1"
# recipient 6 of one message: 452 4.5.3, the first five stand
send 192.0.2.41 - u1@example.com="250" u2@example.com="250" u3@example.com="250" \
	u4@example.com="250" u5@example.com="250" u6@example.com="452 4.5.3"

# delivered: exactly the accepted recipients
want="a1@example.org a2@example.org a3@example.org alice@example.com h1@example.org h2@example.org"
want="$want b@example.com u1@example.com u2@example.com u3@example.com u4@example.com u5@example.com"
refused="a4@example.org a5@example.org a6@example.org h3@example.org u6@example.com"
for _ in $(seq 1 300); do
	got=$(sed -n 's/.* postfix\/discard\[[0-9]*\]: [0-9A-F]*: to=<\([^>]*\)>,.* status=sent.*/\1/p' \
		"$MTA_PF/maillog" | sort -u | tr '\n' ' ')
	missing=
	for r in $want; do case " $got " in *" $r "*) ;; *) missing="$missing $r" ;; esac; done
	[ -z "$missing" ] && break
	sleep 0.1
done
leaked=
for r in $refused; do case " $got " in *" $r "*) leaked="$leaked $r" ;; esac; done
[ -z "$missing" ] && tap_ok "Postfix delivered every accepted recipient" ||
	tap_fail "Postfix delivered every accepted recipient" "missing:$missing"
[ -z "$leaked" ] && tap_ok "Postfix delivered no refused recipient" ||
	tap_fail "Postfix delivered no refused recipient" "delivered:$leaked"
if grep -q "rule=login-cap reason=rate-limit" "$MTA_MILTER_LOG" &&
	grep -q "event=limit limit=login-cap key=login:alice " "$MTA_MILTER_LOG"; then
	tap_ok "decision lines and event=limit name the limit"
else
	tap_fail "decision lines and event=limit name the limit" "$(tail -5 "$MTA_MILTER_LOG")"
fi
# Postfix's queue id is on the refusal line
qid=$(grep "rule=login-cap reason=rate-limit" "$MTA_MILTER_LOG" | head -1 |
	sed 's/.*relay-milter[^:]*: \([^:]*\):.*/\1/')
if [ -n "$qid" ] && [ "$qid" != NOQUEUE ] && grep -q "$qid" "$MTA_PF/maillog"; then
	tap_ok "the refusal line carries Postfix's queue id ($qid)"
else
	tap_fail "the refusal line carries Postfix's queue id" "qid=$qid"
fi

tap_done
[ "$tap_failed" -eq 0 ]
