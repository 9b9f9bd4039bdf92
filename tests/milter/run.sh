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

echo "1..$n"
[ $failed -eq 0 ]
