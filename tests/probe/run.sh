#!/bin/sh
# run.sh - relay-probe against private Postfix instances and a scripted fake
# server, all on loopback (TAP).
#
# Environment:
#	top_srcdir, top_builddir	set by "make check"; default: this tree
#	RELAY_PROBE			the binary (default $top_builddir/milter/relay-probe)
#	PF_MILTER			a milter socket (unix:/path or inet:127.0.0.1:PORT)
#					for the last test, which runs Postfix with its own relay
#					restrictions opened and this milter as the only relay
#					control, and expects relay-probe to find nothing.
#					Unset: the test starts $top_builddir/milter/relay-milter.
#	KEEP_TMP			keep the temporary directory (for debugging)
#
# The Postfix tests need root (Postfix's master does) and are skipped
# otherwise. Nothing is ever sent to any address but 127.0.0.1 and ::1.
# "cond && ok ... || notok ..." is safe here: ok and notok only echo.
# shellcheck disable=SC2015
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
PROBE=${RELAY_PROBE:-$top_builddir/milter/relay-probe}
FAKE="$top_srcdir/tests/probe/fakesmtp.pl"

# PF_MILTER is for the milter test only; the other instances run without.
probe_milter=${PF_MILTER:-}
unset PF_MILTER
. "$top_srcdir/tests/lib/postfix.sh"

mkdir -p "$top_builddir/tests/tmp" || exit 99
TMP=$(mktemp -d "$top_builddir/tests/tmp/probe.XXXXXX") || exit 99
# Postfix's daemons run as "postfix" and must reach the instances inside.
chmod 755 "$TMP" || exit 99
fake_pid=
milter_pid=

# cleanup - stop whatever we started, whatever happened
cleanup() {
	pf_stop
	if [ -n "$fake_pid" ]; then
		kill "$fake_pid" 2>/dev/null
		wait "$fake_pid" 2>/dev/null
		fake_pid=
	fi
	if [ -n "$milter_pid" ]; then
		kill "$milter_pid" 2>/dev/null
		wait "$milter_pid" 2>/dev/null
		milter_pid=
	fi
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

n=0
# ok DESC / notok DESC / skip DESC WHY - one TAP line each
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# expect_exit WANT DESC - compare $rc with WANT, show output on failure
expect_exit() {
	if [ "$rc" -eq "$1" ]; then
		ok "$2"
	else
		notok "$2 (exit $rc, want $1)"
		sed 's/^/#   /' "$TMP/out" "$TMP/err" | head -60
	fi
}

# probe ARGS... - run relay-probe, output in $TMP/out and $TMP/err, status in $rc
probe() {
	"$PROBE" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

# json_get PATH - a member of the JSON in $TMP/out ("summary.refused");
# booleans print as true/false, null as null; fails when it does not parse
json_get() {
	perl -MJSON::PP -e '
		local $/; my $v = decode_json(<STDIN>);
		for my $k (split /\./, $ARGV[0]) { $v = $v->{$k}; }
		print JSON::PP::is_bool($v) ? ($v ? "true" : "false") :
		    defined $v ? $v : "null", "\n";' "$1" <"$TMP/out"
}

# fake_start SCENARIO [v6] - start the fake server; sets fake_port
fake_start() {
	fake_stop
	rm -f "$TMP/fake.port"
	perl "$FAKE" "$1" "$TMP/fake.port" "$TMP/fake.log" "${2:-}" &
	fake_pid=$!
	_i=0
	while [ ! -s "$TMP/fake.port" ] && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	fake_port=$(cat "$TMP/fake.port" 2>/dev/null)
	[ -n "$fake_port" ]
}

# fake_stop - stop the fake server if it runs
fake_stop() {
	if [ -n "$fake_pid" ]; then
		kill "$fake_pid" 2>/dev/null
		wait "$fake_pid" 2>/dev/null
		fake_pid=
	fi
}

if [ ! -x "$PROBE" ]; then
	echo "1..0 # SKIP $PROBE not built"
	exit 0
fi

# --- the command line, no network ---------------------------------------
probe -V
[ $rc -eq 0 ] && grep -q '^relay-probe [0-9]' "$TMP/out" &&
    ok "-V prints the version" || notok "-V prints the version"
probe --help
[ $rc -eq 0 ] && grep -q 'HOST\[:PORT\]' "$TMP/out" &&
    ok "--help prints the synopsis" || notok "--help prints the synopsis"
for bad in "" "127.0.0.1:0" "127.0.0.1:65536" "127.0.0.1:25x" "[::1" \
    "[::1]:" "[]:25"; do
	probe -t 1 "$bad"
	expect_exit 2 "bad target '$bad' is a usage error"
done
probe
expect_exit 2 "no target is a usage error"
probe -t 0 127.0.0.1
expect_exit 2 "timeout 0 is refused"
probe -t 5s 127.0.0.1
expect_exit 2 "timeout with trailing garbage is refused"
probe --xclient FOO=bar 127.0.0.1
expect_exit 2 "unknown XCLIENT attribute is refused"
probe --xclient 'ADDR=1.2.3.4,' 127.0.0.1
expect_exit 2 "trailing comma in --xclient is refused"
probe -r 'exa mple.net' 127.0.0.1
expect_exit 2 "remote domain with a space is refused"
probe -f 'a>b@example.net' 127.0.0.1
expect_exit 2 "sender with an angle bracket is refused"

# --- a scripted fake server: protocol robustness -------------------------
# run_fake SCENARIO WANT DESC [ARGS...] - one run against the fake server
run_fake() {
	_sc=$1 _want=$2 _desc=$3
	shift 3
	if ! fake_start "$_sc"; then
		notok "$_desc (fake server did not start)"
		return
	fi
	probe -t 2 "$@" "127.0.0.1:$fake_port"
	expect_exit "$_want" "$_desc"
	fake_stop
}

run_fake refuse 0 "a server refusing everything: exit 0"
lines=$(grep -c ' refused ' "$TMP/out")
[ "$lines" -ge 20 ] && ok "at least 20 tests were run ($lines)" ||
    notok "at least 20 tests were run ($lines)"
grep -q '^summary: .*no relaying' "$TMP/out" &&
    ok "summary line says no relaying" || notok "summary line says no relaying"
for name in plain percent-local percent-literal bang-local bang-bare \
    quoted quoted-local quoted-percent-local route-local route-double \
    double-at-local literal-remote from-null from-local from-host \
    from-literal; do
	grep -q "^$name " "$TMP/out" || { notok "battery has test $name"; continue; }
	ok "battery has test $name"
done

t0=$(date +%s)
run_fake silent 2 "a silent server times out: exit 2"
t1=$(date +%s)
[ $((t1 - t0)) -le 6 ] && ok "the -t 2 timeout holds ($((t1 - t0)) s)" ||
    notok "the -t 2 timeout holds ($((t1 - t0)) s)"
grep -q 'no reply within' "$TMP/err" && ok "the timeout is reported" ||
    notok "the timeout is reported"
run_fake longline 2 "an overlong reply line: exit 2"
run_fake manylines 2 "a reply of 1000 lines: exit 2"
run_fake garbage 2 "a greeting that is not SMTP: exit 2"
run_fake codechange 2 "a reply code changing mid-reply: exit 2"
run_fake ehlo-refused 0 "EHLO refused: HELO fallback, exit 0" -v
grep -q '^> HELO relay-probe.invalid' "$TMP/err" &&
    ok "HELO was sent after EHLO was refused" ||
    notok "HELO was sent after EHLO was refused"
run_fake mail-refused 0 "MAIL FROM refused: recorded, exit 0"
[ "$(grep -c ' refused .*=> MAIL 550' "$TMP/out")" -ge 20 ] &&
    ok "each MAIL refusal is recorded and the battery goes on" ||
    notok "each MAIL refusal is recorded and the battery goes on"
run_fake 421-mid 2 "421 mid-session with nothing accepted: exit 2"
grep -q '421 4.7.0 closing' "$TMP/err" && ok "the 421 is reported" ||
    notok "the 421 is reported"
run_fake accept-first 1 "one recipient accepted, then 421: exit 1"
grep -q '^plain  *ACCEPTED ' "$TMP/out" && ok "the accepted test is ACCEPTED" ||
    notok "the accepted test is ACCEPTED"
run_fake rcpt-3xx 2 "354 to RCPT TO is a protocol error: exit 2"
run_fake stall-rcpt 2 "no reply to RCPT TO: exit 2"
run_fake binary 0 "control bytes in replies: exit 0" --json
if LC_ALL=C grep -q "$(printf '[\033\007]')" "$TMP/out" "$TMP/err"; then
	notok "no escape or BEL byte reaches the output"
else
	ok "no escape or BEL byte reaches the output"
fi
[ "$(json_get summary.refused)" -ge 20 ] 2>/dev/null &&
    ok "JSON with sanitised hostile text parses" ||
    notok "JSON with sanitised hostile text parses"
run_fake starttls-inject 2 "data pipelined after STARTTLS 220: exit 2" \
    --starttls
grep -q 'after its STARTTLS reply' "$TMP/err" &&
    ok "STARTTLS injection is named" || notok "STARTTLS injection is named"
t0=$(date +%s)
run_fake starttls-stall 2 "a stalled TLS handshake times out: exit 2" --starttls
t1=$(date +%s)
[ $((t1 - t0)) -le 6 ] && grep -q 'TLS handshake: no progress' "$TMP/err" &&
    ok "the TLS handshake timeout holds ($((t1 - t0)) s)" ||
    notok "the TLS handshake timeout holds ($((t1 - t0)) s)"
run_fake starttls-garbage 2 "plain text instead of a TLS handshake: exit 2" \
    --starttls
run_fake refuse 2 "--require-tls with STARTTLS refused (454): exit 2" \
    --require-tls
run_fake refuse 2 "--xclient when XCLIENT is not offered: exit 2" \
    --xclient ADDR=203.0.113.9
grep -q 'does not offer XCLIENT' "$TMP/err" &&
    ok "missing XCLIENT is named" || notok "missing XCLIENT is named"
run_fake refuse 0 "-b 3: battery over several connections, exit 0" -b 3 --json
[ "$(json_get summary.sessions)" -ge 9 ] 2>/dev/null &&
    ok "-b 3 opened a session per three tests" ||
    notok "-b 3 opened a session per three tests"
run_fake nohost 2 "no host name in greeting or EHLO, no -l: exit 2"
grep -q 'give it with -l' "$TMP/err" && ok "missing domain asks for -l" ||
    notok "missing domain asks for -l"
run_fake nohost 0 "no host name in greeting, -l given: exit 0" -l fake.test
grep -q 'RCPT TO:<relay-probe%example.net@fake.test>' "$TMP/out" &&
    ok "-l domain used in the battery" || notok "-l domain used in the battery"
run_fake refuse 0 "-l, -r and -f options: exit 0" \
    -l other.test -r far.example -f 'someone@far.example'
grep -q '^percent-local .*MAIL FROM:<someone@far.example> RCPT TO:<relay-probe%far.example@other.test>' "$TMP/out" &&
grep -q '^percent-host .*RCPT TO:<relay-probe%far.example@mx.fake.test>' "$TMP/out" &&
grep -q '^from-null .*MAIL FROM:<> ' "$TMP/out" &&
    ok "-l, -r, -f and the learned host name reach the addresses" ||
    notok "-l, -r, -f and the learned host name reach the addresses"
run_fake refuse 0 "learned domain drops the first label" --json
[ "$(json_get local_domain)" = fake.test ] &&
[ "$(json_get server.hostname)" = mx.fake.test ] &&
    ok "mx.fake.test gives domain fake.test" ||
    notok "mx.fake.test gives domain fake.test"
run_fake twolabel 0 "host name equal to domain: exit 0"
if grep -q '^percent-host ' "$TMP/out" ||
    ! grep -q '^percent-local .*@fake.test>' "$TMP/out"; then
	notok "tests repeating an address are dropped"
else
	ok "tests repeating an address are dropped"
fi
if fake_start refuse v6; then
	probe -t 2 "[::1]:$fake_port"
	expect_exit 0 "[::1]:PORT target works"
	grep -q 'RCPT TO:<relay-probe%example.net@\[IPv6:::1\]>' "$TMP/out" &&
	    ok "IPv6 domain literal is [IPv6:::1]" ||
	    notok "IPv6 domain literal is [IPv6:::1]"
	fake_stop
else
	skip "[::1]:PORT target works" "no IPv6 loopback"
	skip "IPv6 domain literal is [IPv6:::1]" "no IPv6 loopback"
fi
# Seeded random servers: whatever they send, relay-probe ends with 0, 1 or
# 2, its JSON parses and agrees with the exit status, and it sends no DATA.
bad=
for seed in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 \
    25 26 27 28 29 30; do
	case $((seed % 3)) in
	0) extra=--starttls ;;
	1) extra="--xclient=ADDR=192.0.2.9" ;;
	*) extra="-b2" ;;
	esac
	fake_start "random:$seed" || { bad="$bad $seed(start)"; continue; }
	probe -t 1 --json "$extra" "127.0.0.1:$fake_port"
	fake_stop
	case $rc in
	0 | 1 | 2) ;;
	*) bad="$bad $seed(exit $rc)"; continue ;;
	esac
	[ "$(json_get summary.exit)" = "$rc" ] || bad="$bad $seed(json)"
done
[ -z "$bad" ] && ok "30 random servers: exit 0-2, JSON parses and agrees" ||
    notok "30 random servers: exit 0-2, JSON parses and agrees; bad:$bad"
if grep -q '^DATA\|DATA RECEIVED' "$TMP/fake.log"; then
	notok "DATA was never sent to the fake server"
else
	ok "DATA was never sent to the fake server"
fi

# --- a private Postfix on loopback ---------------------------------------
PFTESTS=15
if ! pf_can_run; then
	i=0
	while [ $i -lt $PFTESTS ]; do
		skip "Postfix test" "needs root and an installed postfix"
		i=$((i + 1))
	done
	echo "1..$n"
	exit 0
fi

# pf_fresh NAME - a new instance under $TMP/NAME
pf_fresh() {
	pf_stop
	pf_setup "$TMP/$1"
}

# An open relay: trusted 127.0.0.0/8, relay restrictions permit it.
pf_fresh open &&
pf_conf 'smtpd_relay_restrictions = permit_mynetworks, reject' &&
pf_start || echo "# postfix (open) did not start"
PORT=$(pf_port)
probe -t 10 -v "127.0.0.1:$PORT"
expect_exit 1 "open-relay Postfix: exit 1"
relay=$(grep -c ' ACCEPTED ' "$TMP/out")
total=$(sed -n 's/^summary: .* \([0-9]*\) relay tests.*/\1/p' "$TMP/out")
[ -n "$total" ] && [ "$total" -ge 20 ] && [ "$relay" -eq "$total" ] &&
    ok "open-relay Postfix: all $total relay tests ACCEPTED" ||
    notok "open-relay Postfix: all relay tests ACCEPTED ($relay of $total)"
if grep -q '^> DATA' "$TMP/err" || ! grep -q '^> RSET' "$TMP/err"; then
	notok "DATA never sent (dialogue dump)"
else
	ok "DATA never sent (dialogue dump)"
fi
probe -t 10 --json "127.0.0.1:$PORT"
[ $rc -eq 1 ] &&
[ "$(json_get summary.relay)" = true ] &&
[ "$(json_get summary.accepted)" = "$total" ] &&
    ok "open-relay Postfix: --json parses and says relay" ||
    notok "open-relay Postfix: --json parses and says relay"

# Protected: nothing trusted, relaying only for SASL clients; XCLIENT from
# loopback so we can pose as an outside client (or as a logged-in one).
pf_fresh protected &&
pf_conf 'mynetworks =' 'smtpd_authorized_xclient_hosts = 127.0.0.0/8' \
    'smtpd_sasl_auth_enable = yes' \
    'smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination' &&
pf_start || echo "# postfix (protected) did not start"
PORT=$(pf_port)
probe -t 10 --xclient ADDR=203.0.113.9 "127.0.0.1:$PORT"
expect_exit 0 "protected Postfix, untrusted client via XCLIENT: exit 0"
refused=$(grep -c ' refused .*=> RCPT 554 5.7.1 .*Relay access denied' "$TMP/out")
! grep -q ' ACCEPTED ' "$TMP/out" && [ "$refused" -ge 20 ] &&
    ok "nothing ACCEPTED, $refused refused as relay attempts" ||
    notok "nothing ACCEPTED, $refused refused as relay attempts"
[ "$(grep -c '^control-.* accepted ' "$TMP/out")" -eq 2 ] &&
    ok "local control recipients accepted" ||
    notok "local control recipients accepted"
probe -t 10 --json --xclient ADDR=203.0.113.9,NAME=client.example.org \
    "127.0.0.1:$PORT"
[ $rc -eq 0 ] &&
[ "$(json_get summary.accepted)" = 0 ] &&
[ "$(json_get server.xclient)" = "ADDR=203.0.113.9,NAME=client.example.org" ] &&
    ok "protected Postfix: --json parses, 0 accepted" ||
    notok "protected Postfix: --json parses, 0 accepted"
probe -t 10 --xclient ADDR=203.0.113.9,LOGIN=alice "127.0.0.1:$PORT"
expect_exit 1 "protected Postfix, XCLIENT LOGIN (authenticated): exit 1"
if [ -f /proc/net/if_inet6 ]; then
	probe -t 10 --xclient ADDR=IPV6:2001:db8::9 "127.0.0.1:$PORT"
	expect_exit 0 "protected Postfix, IPv6 client via XCLIENT: exit 0"
else
	skip "protected Postfix, IPv6 client via XCLIENT" "no IPv6"
fi
pf_stop
probe -t 5 "127.0.0.1:$PORT"
expect_exit 2 "closed port: exit 2"
grep -q 'Connection refused' "$TMP/err" && ok "closed port: connection refused reported" ||
    notok "closed port: connection refused reported"

# STARTTLS with a throw-away self-signed certificate.
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=mx.probe.test \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1; then
	pf_fresh tls &&
	pf_conf 'mynetworks =' 'smtpd_tls_security_level = may' \
	    "smtpd_tls_cert_file = $TMP/cert.pem" \
	    "smtpd_tls_key_file = $TMP/key.pem" \
	    'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination' &&
	pf_start || echo "# postfix (tls) did not start"
	probe -t 10 --require-tls --json "127.0.0.1:$(pf_port)"
	tls=$(json_get server.tls)
	[ $rc -eq 0 ] && [ "${tls#TLSv1.}" != "$tls" ] &&
	    ok "--require-tls through Postfix STARTTLS: exit 0, TLS used" ||
	    { notok "--require-tls through Postfix STARTTLS: exit 0, TLS used"
	      sed 's/^/#   /' "$TMP/err"; }
	pf_stop
	pf_fresh notls && pf_start || echo "# postfix (notls) did not start"
	probe -t 10 --require-tls "127.0.0.1:$(pf_port)"
	expect_exit 2 "--require-tls without STARTTLS offered: exit 2"
else
	skip "--require-tls through Postfix STARTTLS" "no openssl to make a certificate"
	skip "--require-tls without STARTTLS offered" "no openssl"
fi

# milter_start - run the built relay-milter on a private unix socket; sets
# probe_milter. Its configuration knows the instance's domains and nothing
# else: no trusted network, so an outside client may not relay.
milter_start() {
	_m="$top_builddir/milter/relay-milter"
	[ -x "$_m" ] || return 1
	mkdir -p "$TMP/milter" && chown postfix "$TMP/milter" || return 1
	cat >"$TMP/milter/relay-milter.conf" <<EOF
local_domains = [ "probe.test", "mx.probe.test", "localhost" ];
trusted_networks = [ ];
own_addresses = [ "127.0.0.1" ];
EOF
	"$_m" -f -c "$TMP/milter/relay-milter.conf" \
	    -s "unix:$TMP/milter/sock" -u postfix >"$TMP/milter/log" 2>&1 &
	milter_pid=$!
	_i=0
	while [ ! -S "$TMP/milter/sock" ] && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -S "$TMP/milter/sock" ] || return 1
	probe_milter="unix:$TMP/milter/sock"
}

# Postfix's own relay restrictions opened; relay-milter alone decides.
# PF_MILTER names a milter someone else runs; else we start the built one.
if [ -z "$probe_milter" ] && ! milter_start; then
	skip "Postfix opened, relay-milter the only control" \
	    "PF_MILTER not set and no usable milter/relay-milter"
else
	PF_MILTER=$probe_milter
	pf_fresh milter &&
	pf_conf 'mynetworks =' 'smtpd_authorized_xclient_hosts = 127.0.0.0/8' \
	    'smtpd_relay_restrictions = check_client_access static:OK, reject_unauth_destination' &&
	pf_start || echo "# postfix (milter) did not start"
	unset PF_MILTER
	probe -t 10 --json --xclient ADDR=203.0.113.9 "127.0.0.1:$(pf_port)"
	# Exit 0 alone would also follow from everything tempfailing.
	if [ $rc -eq 0 ] &&
	    [ "$(json_get summary.refused)" -ge 20 ] &&
	    [ "$(json_get summary.tempfail)" = 0 ] &&
	    [ "$(json_get summary.controls_accepted)" = 2 ]; then
		ok "Postfix opened, relay-milter the only control: all refused, controls accepted, exit 0"
	else
		notok "Postfix opened, relay-milter the only control (exit $rc)"
		sed 's/^/#   /' "$TMP/err"
		[ -f "$TMP/milter/log" ] && sed 's/^/#   milter: /' "$TMP/milter/log" | tail -20
	fi
fi
pf_stop

echo "1..$n"
