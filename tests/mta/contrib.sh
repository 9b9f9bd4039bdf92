#!/bin/bash
# contrib.sh - the integration files in contrib/ are valid and say what
# the README says (TAP). The Postfix snippet, the submission example and
# the Sendmail .mc lines are exercised by postfix.sh and sendmail.sh; this
# checks the systemd unit (as make generates it from its .in file) and that
# README quotes those files verbatim, so the documentation cannot drift
# from the tested files.

. "$(dirname "$0")/../lib/mta.sh"

UNIT_IN=$top_srcdir/contrib/systemd/relay-milter.service.in
UNIT=$top_builddir/contrib/systemd/relay-milter.service
DOC=$top_srcdir/README
SNIPPET=$top_srcdir/contrib/postfix/main.cf.snippet
MC=$top_srcdir/contrib/sendmail/relay-milter.mc
mta_init contrib

# --- the systemd unit ---------------------------------------------------------
# make generates it from relay-milter.service.in with configure's paths.
bin=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$UNIT" 2>/dev/null)
conf=$(sed -n 's/^ExecStart=.* -c \([^ ]*\).*/\1/p' "$UNIT" 2>/dev/null)
if [ ! -r "$UNIT" ]; then
	tap_fail "make generated the unit from relay-milter.service.in" "no $UNIT"
elif grep -q '@[a-z_]*@' "$UNIT" || ! grep -q '@sbindir@/relay-milter' "$UNIT_IN"; then
	tap_fail "make generated the unit from relay-milter.service.in" \
		"$(grep -n '@[a-z_]*@' "$UNIT")"
else
	case $bin:$conf in
	/*/sbin/relay-milter:/*/relay-milter.conf)
		tap_ok "make generated the unit with configure's paths ($bin, $conf)" ;;
	*)	tap_fail "make generated the unit with configure's paths" "ExecStart: $bin -c $conf" ;;
	esac
fi
# Point it at the built daemon and the sample configuration, so that
# systemd-analyze can check the commands exist; the man pages it names are
# not installed from the build tree, so it does not look them up.
sed -e "s#${bin:-/nonexistent}#$RELAY_MILTER#g" \
	-e "s#${conf:-/nonexistent}#$top_srcdir/conf/relay-milter.conf#g" \
	"$UNIT" >"$MTA_TMP/relay-milter.service"
if ! command -v systemd-analyze >/dev/null; then
	tap_skip "unit passes systemd-analyze verify" "systemd-analyze not installed"
	tap_skip "unit exposure level at most 2.0" "systemd-analyze not installed"
else
	out=$(cd "$MTA_TMP" && systemd-analyze verify --man=no relay-milter.service 2>&1)
	if [ -z "$out" ]; then
		tap_ok "unit passes systemd-analyze verify without a warning"
	else
		tap_fail "unit passes systemd-analyze verify without a warning" "$out"
	fi
	level=$(cd "$MTA_TMP" && systemd-analyze security --offline=yes --no-pager \
		relay-milter.service 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
		tap_ok "unit exposure level $level (systemd-analyze security), at most 2.0"
	else
		tap_fail "unit exposure level at most 2.0" "got: ${level:-no answer}"
	fi
fi
missing=
for d in User=relay-milter Group=relay-milter NoNewPrivileges=yes ProtectSystem=strict \
	ProtectHome=yes PrivateTmp=yes RuntimeDirectory=relay-milter Type=notify; do
	grep -qxF "$d" "$UNIT" || missing="$missing $d"
done
if [ -z "$missing" ]; then
	tap_ok "unit runs as user relay-milter with the required hardening"
else
	tap_fail "unit runs as user relay-milter with the required hardening" "missing:$missing"
fi
# libmilter stops on SIGHUP: a reload must be SIGUSR1
if grep -qx 'ExecReload=/bin/kill -USR1 \$MAINPID' "$UNIT" && ! grep -q '^ExecReload=.*HUP' "$UNIT"; then
	tap_ok "unit reloads with SIGUSR1, never SIGHUP"
else
	tap_fail "unit reloads with SIGUSR1, never SIGHUP" "$(grep '^ExecReload' "$UNIT")"
fi
# The options the unit passes exist and do what it expects.
pre=$(sed -n 's/^ExecStartPre=[^ ]* //p' "$MTA_TMP/relay-milter.service")
if [ -x "$RELAY_MILTER" ] && "$RELAY_MILTER" $pre >"$MTA_TMP/t.out" 2>&1; then
	tap_ok "ExecStartPre (relay-milter $pre) accepts the sample configuration"
else
	tap_fail "ExecStartPre (relay-milter $pre) accepts the sample configuration" \
		"$(cat "$MTA_TMP/t.out" 2>/dev/null)"
fi
start=$(sed -n 's/^ExecStart=[^ ]* //p' "$UNIT")
case " $start " in
*" -f "*) tap_ok "ExecStart keeps relay-milter in the foreground (-f) for Type=notify" ;;
*) tap_fail "ExecStart keeps relay-milter in the foreground (-f) for Type=notify" "$start" ;;
esac

# --- the README quotes the tested files verbatim --------------------------------
# Every indented setting line of README that looks like a
# main.cf setting or an m4 macro call must be a line of the tested file.
check_quotes() {
	local what=$1 file=$2 pattern=$3 line n=0 bad=
	while IFS= read -r line; do
		n=$((n + 1))
		grep -qxF "$line" "$file" || bad="$bad|$line"
	done < <(sed -n "s/^       *\\($pattern\\)/\\1/p" "$DOC")
	if [ $n -gt 0 ] && [ -z "$bad" ]; then
		tap_ok "README quotes $what verbatim ($n lines)"
	else
		local IFS='|'
		# shellcheck disable=SC2086
		tap_fail "README quotes $what verbatim" "not in $file:" ${bad#|}
	fi
}
check_quotes "main.cf.snippet" "$SNIPPET" '\(smtpd_milters\|non_smtpd_milters\|milter_[a-z_]*\) =.*'
check_quotes "relay-milter.mc" "$MC" '\(define\|INPUT_MAIL_FILTER\)(.*'

tap_done
