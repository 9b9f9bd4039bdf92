#!/bin/sh
# run.sh - milter-protocol tests: the real daemon on a private unix socket,
# driven by miltertest (a third-party MTA-side client). Every Lua script is
# one TAP test; every recipient verdict it expects is a second TAP test,
# checked against the daemon's own decision log line.
#
# Two daemons run, one after the other: tests/milter/*.lua against
# test.conf, then tests/milter/users/*.lua against users/users.conf, which
# uses GeoIP databases written here by tests/geoip/make-mmdb.pl; then the
# country database is replaced, the daemon reloads, and users/reload/*.lua
# check the new one is in use.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${MILTERTEST:=$(command -v miltertest || true)}"
here="$top_srcdir/tests/milter"
milter="$top_builddir/milter/relay-milter"

if [ -z "$MILTERTEST" ] || [ ! -x "$MILTERTEST" ]; then
	echo "1..0 # SKIP miltertest not installed (apt-get install miltertest)"
	exit 0
fi

work=$(mktemp -d /tmp/rm-milter.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

# start_milter CONF NAME - run the daemon with CONF on $work/NAME.sock, log to $work/NAME.log
start_milter() {
	sock="$work/$2.sock"
	log="$work/$2.log"
	"$milter" -f -c "$1" -s "unix:$sock" 2>"$log" &
	pid=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
}

# check_expect - every key=value of an EXPECT line is on the log line of its qid
check_expect() {
	qid=$1; shift
	# a decision line starts with its queue id, as Postfix's: "QID: client=..."
	line=$(grep -F "relay-milter: $qid: " "$log" | head -1)
	[ -n "$line" ] || { echo "no decision logged for queue id $qid"; return 1; }
	for kv in "$@"; do
		case " $line " in *" $kv "*) ;; *) echo "want $kv in: $line"; return 1 ;; esac
	done
}

# run_scripts DIR - every DIR/*.lua against the running daemon
run_scripts() {
	for script in "$1"/*.lua; do
		name=$(basename "$script" .lua)
		[ "$name" = lib ] && continue
		out=$("$MILTERTEST" -D SOCKET="unix:$sock" -D LIB="$here/lib.lua" -D SCRIPT="$name-" \
			-s "$script" 2>&1)
		rc=$?
		if [ $rc -eq 0 ] && kill -0 "$pid" 2>/dev/null; then
			tap OK "$name: milter replies"
		else
			tap FAIL "$name: milter replies (exit $rc)" "$(printf '%s\n' "$out" | tail -5)"
		fi
		sleep 0.2 # let the last decision reach the log
		# shellcheck disable=SC2086
		printf '%s\n' "$out" | sed -n 's/^EXPECT //p' >"$work/expect"
		bad=0
		total=0
		detail=
		while read -r first rest; do
			total=$((total + 1))
			# shellcheck disable=SC2086
			if ! why=$(check_expect "${first#qid=}" $rest); then
				bad=$((bad + 1))
				[ $bad -le 3 ] && detail="$detail$why
"
			fi
		done <"$work/expect"
		if [ $total -gt 0 ] && [ $bad -eq 0 ]; then
			tap OK "$name: $total decisions logged as expected"
		else
			tap FAIL "$name: $bad of $total decisions not as expected" "$detail"
		fi
	done
}

conf="$work/relay-milter.conf"
cp "$here/test.conf" "$conf"
chmod 644 "$conf"
start_milter "$conf" milter
run_scripts "$here"

# Clean shutdown on SIGTERM.
kill -TERM "$pid"
stopped=FAIL
for _ in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || { stopped=OK; break; }
	sleep 0.1
done
wait "$pid" 2>/dev/null
rc=$?
[ $stopped = OK ] && [ $rc -ne 0 ] && stopped=FAIL
tap $stopped "clean shutdown on SIGTERM (exit $rc)"
pid=
grep -q "relay-milter stopping" "$log" && tap OK "shutdown logged" || tap FAIL "shutdown logged"

# Users, sender ownership and GeoIP: databases written here, never downloaded.
mkdir "$work/geoip"
if /usr/bin/perl "$top_srcdir/tests/geoip/make-mmdb.pl" "$work/geoip" 2>"$work/perl.err"; then
	sed "s|@GEOIPDIR@|$work/geoip|g" "$here/users/users.conf" >"$work/users.conf"
	chmod 644 "$work/users.conf"
	start_milter "$work/users.conf" users
	run_scripts "$here/users"
	# geoipupdate replaces the file (a rename); SIGUSR1 makes new connections use it.
	mkdir "$work/geoip-new"
	reloaded=FAIL
	if /usr/bin/perl "$top_srcdir/tests/geoip/make-mmdb.pl" "$work/geoip-new" swapped &&
		mv "$work/geoip-new/country.mmdb" "$work/geoip/country.mmdb" && kill -USR1 "$pid"; then
		for _ in $(seq 50); do
			grep -q "reload: configuration .* loaded (generation 2)" "$log" &&
				{ reloaded=OK; break; }
			sleep 0.1
		done
	fi
	tap $reloaded "users: reload after the GeoIP database was replaced"
	run_scripts "$here/users/reload"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=
	[ $rc -eq 0 ] && tap OK "users: clean shutdown (exit 0)" ||
		tap FAIL "users: clean shutdown (exit $rc)" "$(tail -5 "$log")"
else
	tap FAIL "users: write the GeoIP test databases" "$(cat "$work/perl.err")"
fi

# Limits (issue 13): the embedded store, the control socket, a reload that keeps counts.
if [ -f "$work/geoip/country.mmdb" ]; then
	sed "s|@GEOIPDIR@|$work/geoip|g; s|@WORK@|$work|g" "$here/limits/limits.conf" >"$work/limits.conf"
	chmod 644 "$work/limits.conf"
	start_milter "$work/limits.conf" limits
	run_scripts "$here/limits"
	events=$(grep -c "event=limit limit=login-hour key=login:burst " "$log")
	[ "$events" = 1 ] && tap OK "limits: one event=limit line for burst's 100 refusals" ||
		tap FAIL "limits: one event=limit line for burst's 100 refusals (got $events)"
	grep -q "event=lock limit=travel key=login:traveller until=20[0-9-]*T[0-9:]*Z" "$log" &&
		tap OK "limits: event=lock with until= for traveller" ||
		tap FAIL "limits: event=lock with until= for traveller"
	# the counters by limit, through SIGUSR2's metrics lines
	kill -USR2 "$pid"
	sleep 0.5
	m_ok=OK
	for want in 'limit_exceeded_total{limit="login-hour"} 100' \
		'limit_locks_started_total{limit="travel"} 1' 'limit_locked_total{limit="travel"} 2' \
		'limit_dry_run_exceeded_total{limit="dry-cap"} 2' 'reason_recipients_total{reason="too-many-recipients",verdict="tempfail"} 1' \
		'locks_active 1'; do
		grep -qF "metrics: relay_milter_$want" "$log" || { m_ok=FAIL; m_why="missing: $want"; }
	done
	tap $m_ok "limits: metrics by limit, locks and reasons" "${m_why:-}"
	ctl() { "$milter" -c "$work/limits.conf" --control "$@"; }
	out=$(ctl status login=traveller 2>&1)
	case $out in
	*"limit=travel count=2 "*"locked_until="*"ok "*) tap OK "limits: --control status shows the lock" ;;
	*) tap FAIL "limits: --control status shows the lock" "$out" ;;
	esac
	out=$(ctl unlock login=traveller 2>&1) && case $out in "ok 1 locks lifted"*) true ;; *) false ;; esac &&
		tap OK "limits: --control unlock login=traveller" ||
		tap FAIL "limits: --control unlock login=traveller" "$out"
	out=$(ctl frobnicate login=traveller 2>&1) &&
		tap FAIL "limits: an unknown command fails" "$out" ||
		case $out in *"unknown command"*) tap OK "limits: an unknown command fails clearly" ;;
		*) tap FAIL "limits: an unknown command fails clearly" "$out" ;; esac
	out=$(ctl status user=traveller 2>&1) && tap FAIL "limits: an unknown selector fails" "$out" ||
		tap OK "limits: an unknown selector fails"
	kill -USR1 "$pid"
	reloaded=FAIL
	for _ in $(seq 50); do
		grep -q "reload: configuration .* loaded (generation 2)" "$log" && { reloaded=OK; break; }
		sleep 0.1
	done
	tap $reloaded "limits: reload"
	run_scripts "$here/limits/after"
	# --explain reads the running daemon's counts, and counts nothing
	out=$("$milter" -c "$work/limits.conf" --explain client=203.0.113.9 login=reloader \
		from=reloader@example.com rcpt=z@example.net 2>&1)
	case $out in
	*"reload-cap"*"login:reloader"*"10/10"*exceeded*) tap OK "limits: --explain shows count against max" ;;
	*) tap FAIL "limits: --explain shows count against max" "$out" ;;
	esac
	out=$(ctl status login=reloader 2>&1)
	case $out in
	*"limit=reload-cap count=10 "*) tap OK "limits: --explain counted nothing" ;;
	*) tap FAIL "limits: --explain counted nothing" "$out" ;;
	esac
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=
	[ $rc -eq 0 ] && tap OK "limits: clean shutdown (exit 0)" ||
		tap FAIL "limits: clean shutdown (exit $rc)" "$(tail -5 "$log")"
	[ ! -e "$work/control.sock" ] && tap OK "limits: control socket removed at exit" ||
		tap FAIL "limits: control socket removed at exit"
fi

echo "1..$n"
[ $failed -eq 0 ]
