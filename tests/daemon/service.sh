#!/bin/sh
# service.sh - relay-milter as a service manager runs it (issue 15):
#   Type=notify: READY=1 only once the milter socket accepts connections,
#   RELOADING=1 and READY=1 around a reload, STOPPING=1 at the end;
#   journal priorities ("<N>" when JOURNAL_STREAM names stderr);
#   decision lines that start with the queue id; log_decisions;
#   log_format = "json" (every line parses, the same fields as kv);
#   socket_group, and that a local user outside it cannot connect;
#   the pid file and the socket removed at exit, also after -u, and
#   after a failed start-up; -V names every library.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${MILTERTEST:=$(command -v miltertest || true)}"
milter="$top_builddir/milter/relay-milter"
notifywait="$top_builddir/tests/daemon/notifywait"
lib="$top_srcdir/tests/milter/lib.lua"

# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

if [ -z "$MILTERTEST" ] || [ ! -x "$MILTERTEST" ] || [ ! -x "$notifywait" ]; then
	echo "1..0 # SKIP miltertest or tests/daemon/notifywait missing"
	exit 0
fi

# Readable by other users: the socket-group checks connect as them.
work=$(mktemp -d /tmp/rm-service.XXXXXX)
chmod 755 "$work"
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
sock="$work/milter.sock"
conf="$work/relay-milter.conf"
log="$work/milter.log"

# write_conf [more lines]: the configuration
write_conf() {
	{
		echo "socket = \"unix:$sock\";"
		echo "pidfile = \"$work/relay-milter.pid\";"
		echo "local_domains = [ \"example.com\" ];"
		for line in "$@"; do echo "$line"; done
	} >"$conf"
	chmod 644 "$conf"
}

# start [ARGS]: the daemon in the foreground, until its socket exists
start() {
	"$milter" -f -c "$conf" "$@" 2>"$log" &
	pid=$!
	for _ in $(seq 100); do
		[ -S "$sock" ] && grep -q "listening on" "$log" && return 0
		sleep 0.1
	done
	return 1
}

# stop: SIGTERM, and wait until it is gone
stop() {
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}

# traffic PREFIX: service.lua's three recipients, queue ids PREFIX1..3
traffic() {
	"$MILTERTEST" -D SOCKET="unix:$sock" -D LIB="$lib" -D SCRIPT="$1" \
	    -s "$top_srcdir/tests/daemon/service.lua" >/dev/null 2>&1
}

# --- Type=notify -------------------------------------------------------------
write_conf
out=$("$notifywait" "$work/notify" "$sock" -- "$milter" -f -c "$conf" 2>"$log")
first=$(printf '%s\n' "$out" | sed -n '1,2p' | tr '\n' '|')
case $first in
"notify READY=1 "*"|ready connect=ok|") tap OK "READY=1 comes once the milter socket accepts connections" ;;
*) tap FAIL "READY=1 comes once the milter socket accepts connections" "$out" ;;
esac
printf '%s\n' "$out" | sed -n '3,5p' | tr '\n' '|' | grep -q '^notify RELOADING=1 .*MONOTONIC_USEC=[0-9]*|notify READY=1 .*|ready connect=ok|$' &&
	tap OK "a reload says RELOADING=1, then READY=1" ||
	tap FAIL "a reload says RELOADING=1, then READY=1" "$out"
# (libmilter decides the exit status of a stop; what matters is that it ends, and says so)
printf '%s\n' "$out" | grep -q '^notify STOPPING=1' && printf '%s\n' "$out" | grep -qx 'exit [01]' &&
	grep -q 'relay-milter stopping' "$log" &&
	tap OK "SIGTERM: STOPPING=1, and it ends" || tap FAIL "SIGTERM: STOPPING=1, and it ends" "$out
$(cat "$log")"
[ ! -e "$sock" ] && [ ! -e "$work/relay-milter.pid" ] &&
	tap OK "the socket and the pid file are gone after a clean stop" ||
	tap FAIL "the socket and the pid file are gone after a clean stop" "$(ls -l "$work")"
grep -q "relay-milter [0-9.]* started: config=.* generation=1 local_domains=1 .*rules=0 .*mode=enforce" "$log" &&
	grep -q "relay-milter [0-9.]* reloaded: .* generation=2 " "$log" &&
	tap OK "one summary line at start and after the reload" ||
	tap FAIL "one summary line at start and after the reload" "$(cat "$log")"

# --- the journal's priorities ------------------------------------------------
write_conf 'mode = "dry-run";'
: >"$log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$log") start
traffic J
stop
grep -q '^<6>relay-milter [0-9.]* started: ' "$log" && grep -q '^<4>warning: mode dry-run: NOTHING IS ENFORCED' "$log" &&
	grep -q '^<6>J2: client=203.0.113.9 ' "$log" &&
	tap OK "with JOURNAL_STREAM on stderr, lines carry <6> and <4>, the dry-run warning loud" ||
	tap FAIL "with JOURNAL_STREAM on stderr, lines carry <6> and <4>, the dry-run warning loud" "$(cat "$log")"
JOURNAL_STREAM=1:1 start
stop
grep -q '^relay-milter: relay-milter [0-9.]* started' "$log" &&
	tap OK "a JOURNAL_STREAM that is not our stderr changes nothing" ||
	tap FAIL "a JOURNAL_STREAM that is not our stderr changes nothing" "$(head -3 "$log")"

# --- decision lines: the queue id first, log_decisions ----------------------
write_conf
start && traffic K
stop
line=$(grep -F 'relay-milter: K1: ' "$log")
case $line in
"relay-milter: K1: client=203.0.113.9 client_name=client.example.net helo=mx.example.net login=- from=<sender@example.org> rcpt=<bob@example.com> action=accept "*) tap OK "a decision line starts with its queue id, as Postfix's" ;;
*) tap FAIL "a decision line starts with its queue id, as Postfix's" "$(grep K1 "$log")" ;;
esac
grep -qF 'relay-milter: K3: client=203.0.113.9 client_name=client.example.net helo=mx.example.net login=- from=<sender@example.org> rcpt="<\"q \\\"x\\\" \xff\"@example.net>" action=reject code=501 ' "$log" &&
	tap OK "a hostile 8-bit recipient is escaped and the verdict follows it" ||
	tap FAIL "a hostile 8-bit recipient is escaped and the verdict follows it" "$(grep K3 "$log")"
write_conf 'log_decisions = "refusals";'
start && traffic R
stop
! grep -q 'R1: ' "$log" && grep -q 'R2: .*action=reject' "$log" && grep -q 'R3: .*action=reject' "$log" &&
	tap OK 'log_decisions = "refusals": only the refusals are logged' ||
	tap FAIL 'log_decisions = "refusals": only the refusals are logged' "$(grep ': client=' "$log")"
write_conf 'log_decisions = "none";'
start && traffic N
stop
! grep -q 'N[123]: ' "$log" && tap OK 'log_decisions = "none": no decision line' ||
	tap FAIL 'log_decisions = "none": no decision line' "$(cat "$log")"

# --- log_format = "json": the same fields as the kv form --------------------
write_conf
start && traffic S
stop
grep -F 'relay-milter: S' "$log" | sed 's/^relay-milter: //' >"$work/kv"
write_conf 'log_format = "json";'
start && traffic S
stop
grep -F 'relay-milter: {' "$log" | sed 's/^relay-milter: //' >"$work/json"
cmp=$(/usr/bin/perl -MJSON::PP -e '
	sub kv { my ($l) = @_; my %h; $l =~ s/^(\S+): // or return; $h{qid} = $1;
		while ($l =~ /\G ?([a-z_]+)=("((?:[^"\\]|\\.)*)"|(\S*))/gc) {
			my ($key, $q, $p) = ($1, $3, $4); my $v = defined $q ? $q : $p;
			$v =~ s/\\(["\\])/$1/g; $h{$key} = $v; }
		return \%h; }
	open(my $k, "<", $ARGV[0]) or die; open(my $j, "<", $ARGV[1]) or die;
	my @k = <$k>; my @j = <$j>; my $bad = 0;
	@k == 3 && @j == 3 or die "kv lines: " . scalar(@k) . ", json lines: " . scalar(@j) . "\n";
	for my $i (0 .. $#k) {
		my $o = eval { decode_json($j[$i]) } or die "line $i does not parse: $j[$i]";
		my $h = kv($k[$i]);
		my $ka = join(",", sort keys %$h); my $ja = join(",", sort keys %$o);
		$ka eq $ja or die "fields differ: kv $ka, json $ja\n";
		for my $f (keys %$h) {
			next if $f eq "rcpt" && $i == 2; # \xHH in kv, the raw byte (as U+FFFD) in JSON
			my $jv = defined $o->{$f} ? $o->{$f} : "-"; # none: "-" in kv, null in JSON
			$h->{$f} eq $jv or die "$f: kv \"$h->{$f}\", json \"$jv\"\n";
		}
	}
	print "ok\n";' "$work/kv" "$work/json" 2>&1)
[ "$cmp" = ok ] && tap OK 'log_format = "json": every line parses and has the kv form'"'"'s fields and values' ||
	tap FAIL 'log_format = "json": every line parses and has the kv form'"'"'s fields and values' "$cmp
$(cat "$work/kv" "$work/json")"

# --- socket_group: the MTA's group may connect, other local users may not ----
write_conf 'socket_group = "postfix";' 'socket_mode = "0660";'
start
[ "$(stat -c '%G %a' "$sock")" = "postfix 660" ] && tap OK "socket_group and socket_mode set the socket's group and mode" ||
	tap FAIL "socket_group and socket_mode set the socket's group and mode" "$(ls -l "$sock")"
setpriv --reuid=postfix --regid=postfix --init-groups "$notifywait" -c "$sock" &&
	tap OK "a process of the socket's group connects" ||
	tap FAIL "a process of the socket's group connects"
if setpriv --reuid=nobody --regid=nogroup --clear-groups "$notifywait" -c "$sock"; then
	tap FAIL "a local user outside the socket's group cannot connect"
else
	tap OK "a local user outside the socket's group cannot connect"
fi
stop

# --- -u: the pid file and the socket still go, a failed start leaves neither -
write_conf
start -u nobody
[ "$(stat -c %U "$sock")" = nobody ] && [ -f "$work/relay-milter.pid" ] && stop &&
	sleep 0.5 && [ ! -e "$sock" ] && [ ! -e "$work/relay-milter.pid" ] &&
	tap OK "after -u nobody the socket and the root-owned pid file are removed at exit" ||
	tap FAIL "after -u nobody the socket and the root-owned pid file are removed at exit" "$(ls -l "$work")"
"$milter" -f -c "$conf" -u no-such-user-rm 2>"$log"
rc=$?
sleep 0.3 # (a janitor may be the one that removes them)
[ $rc -ne 0 ] && [ ! -e "$sock" ] && [ ! -e "$work/relay-milter.pid" ] &&
	tap OK "a start-up that fails at the privilege drop leaves neither behind" ||
	tap FAIL "a start-up that fails at the privilege drop leaves neither behind" "exit $rc; $(ls -l "$work")"

# --- a second instance, a planted link, a low descriptor limit ------------------
write_conf
start
first=$pid
pid=
"$milter" -f -c "$conf" 2>"$work/second.log"
rc=$?
"$notifywait" -c "$sock" && [ $rc -ne 0 ] && grep -q 'locked: another relay-milter is running' "$work/second.log" &&
	tap OK "a second instance on the same pid file stops, and the first keeps its socket" ||
	tap FAIL "a second instance on the same pid file stops, and the first keeps its socket" "exit $rc: $(cat "$work/second.log")"
sed 's|^pidfile = .*|pidfile = "'"$work"'/other.pid";|' "$conf" >"$work/other.conf"
chmod 644 "$work/other.conf"
"$milter" -f -c "$work/other.conf" 2>"$work/second.log"
rc=$?
"$notifywait" -c "$sock" && [ $rc -ne 0 ] && grep -q 'in use by a running process' "$work/second.log" &&
	tap OK "a second instance on the same socket stops without replacing the live one" ||
	tap FAIL "a second instance on the same socket stops without replacing the live one" "exit $rc: $(cat "$work/second.log")"
pid=$first
stop
echo important >"$work/victim"
chmod 600 "$work/victim"
ln -s "$work/victim" "$work/relay-milter.pid"
"$milter" -f -c "$conf" -u nobody 2>"$work/link.log"
rc=$?
[ $rc -ne 0 ] && [ "$(cat "$work/victim")" = important ] && [ "$(stat -c '%U %a' "$work/victim")" = "root 600" ] &&
	tap OK "a pid file planted as a link is refused, and its target left as it was" ||
	tap FAIL "a pid file planted as a link is refused, and its target left as it was" "exit $rc: $(cat "$work/link.log"); $(ls -l "$work/victim")"
rm -f "$work/relay-milter.pid" "$work/victim"
(ulimit -n 512 && exec "$milter" -f -c "$conf" -u nobody) 2>"$log" &
pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && grep -q "listening on" "$log" && break; sleep 0.1; done
stop
sleep 0.5
[ ! -e "$sock" ] && [ ! -e "$work/relay-milter.pid" ] &&
	tap OK "with 512 descriptors allowed, the socket and pid file still go after -u" ||
	tap FAIL "with 512 descriptors allowed, the socket and pid file still go after -u" "$(ls -l "$work")"
line=$("$milter" -c "$conf" --explain client=203.0.113.9 login=- rcpt=x@example.com | sed -n 's/^  log *//p')
none=$("$milter" -c "$conf" --explain client=203.0.113.9 rcpt=x@example.com | sed -n 's/^  log *//p')
case "$line|$none" in
*' login="-" '*'|'*' login=- '*) tap OK 'a login that is "-" is written quoted; no login stays login=-' ;;
*) tap FAIL 'a login that is "-" is written quoted; no login stays login=-' "$line
$none" ;;
esac

# --- metrics a service dashboard needs --------------------------------------------
write_conf 'metrics = "127.0.0.1:0";'
start
port=$(sed -n 's/.*metrics: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
m=$(curl -sf "http://127.0.0.1:$port/metrics")
# 64 clients that connect and say nothing must not lock the scrapes out
/usr/bin/perl -MIO::Socket::INET -e '
	$| = 1; my @s;
	for (1 .. 64) { push @s, IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]") or last }
	print scalar(@s), "\n"; sleep 6' "$port" >"$work/idle" &
idle=$!
sleep 1
t0=$(date +%s)
curl -sf -m 5 "http://127.0.0.1:$port/metrics" >/dev/null && [ "$(cat "$work/idle")" = 64 ] &&
	tap OK "a scrape is served while 64 idle connections are open ($(($(date +%s) - t0)) s)" ||
	tap FAIL "a scrape is served while 64 idle connections are open" "idle connections: $(cat "$work/idle")"
wait "$idle"
stop
now=$(date +%s)
printf '%s\n' "$m" | awk -v now="$now" '
	$1 == "relay_milter_build_info{version=\"'"$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$top_builddir/config.h")"'\"}" && $2 == 1 { b = 1 }
	$1 == "relay_milter_connections_active" && $2 == 0 { a = 1 }
	$1 == "process_cpu_seconds_total" && $2 > 0 { c = 1 }
	$1 == "process_resident_memory_bytes" && $2 > 1000000 { r = 1 }
	$1 == "process_open_fds" && $2 > 2 { f = 1 }
	$1 == "process_start_time_seconds" && $2 > now - 300 && $2 <= now + 1 { s = 1 }
	END { exit !(b && a && c && r && f && s) }' &&
	tap OK "/metrics has build_info, connections_active and the process_* metrics, with sane values" ||
	tap FAIL "/metrics has build_info, connections_active and the process_* metrics, with sane values" \
	    "$(printf '%s\n' "$m" | grep -E '^(relay_milter_build_info|relay_milter_connections_active|process_)')"

# --- syslog: our own writer, one datagram a line, back after syslogd restarts ---
. "$top_srcdir/tests/lib/devlog.sh"
LOGRECV="$top_builddir/tests/daemon/logrecv"
if devlog_available && [ -x "$LOGRECV" ]; then
	write_conf
	: >"$work/syslog"
	export milter conf sock work MILTERTEST lib top_srcdir
	devlog_run "$work/syslog" "$work/olddev" '
		"$milter" -c "$conf" && for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
		"$MILTERTEST" -D SOCKET="unix:$sock" -D LIB="$lib" -D SCRIPT=Y -s "$top_srcdir/tests/daemon/service.lua" >/dev/null 2>&1
		sleep 0.3
		devlog_restart # as when syslogd restarts: the old socket is gone, a new one is there
		"$MILTERTEST" -D SOCKET="unix:$sock" -D LIB="$lib" -D SCRIPT=Z -s "$top_srcdir/tests/daemon/service.lua" >/dev/null 2>&1
		sleep 0.3
		kill "$(cat "$work/relay-milter.pid")"
		for _ in $(seq 50); do [ -e "$work/relay-milter.pid" ] || break; sleep 0.1; done'
	dpid=$(sed -n 's/^<22>... .. ..:..:.. relay-milter\[\([0-9]*\)\]: relay-milter [0-9.]* started: .*/\1/p' "$work/syslog")
	grep -q "^<22>[A-Z][a-z][a-z] [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] relay-milter\[$dpid\]: Y2: client=203.0.113.9 .*rcpt=<victim@example.net> action=reject code=550 " "$work/syslog" &&
		[ -n "$dpid" ] &&
		tap OK "syslog: one RFC 3164 datagram a line, facility mail, the detached daemon's pid" ||
		tap FAIL "syslog: one RFC 3164 datagram a line, facility mail, the detached daemon's pid" "$(head -5 "$work/syslog")"
	[ "$(grep -c ': Z[123]: client=' "$work/syslog")" = 3 ] &&
		tap OK "syslog: after syslogd restarts, the next lines arrive again" ||
		tap FAIL "syslog: after syslogd restarts, the next lines arrive again" "$(grep -c ': [YZ][123]: ' "$work/syslog") decision lines: $(tail -4 "$work/syslog")"
else
	tap OK "syslog path # SKIP needs root, unshare and tests/daemon/logrecv"
fi

# --- a start-up that fails before the pid file is written leaves no pid file ---
write_conf
"$milter" -f -c "$conf" -s "unix:$work/no-such-dir/none.sock" 2>"$work/early.log"
rc=$?
[ $rc -ne 0 ] && [ ! -e "$work/relay-milter.pid" ] &&
	tap OK "a start-up that fails at the socket leaves no (empty) pid file behind" ||
	tap FAIL "a start-up that fails at the socket leaves no (empty) pid file behind" "exit $rc; $(ls -l "$work")"

# --- -V ------------------------------------------------------------------------
v=$("$milter" -V)
missing=
for l in libmilter libconfig libmaxminddb libidn2 libmicrohttpd libsystemd OpenSSL; do
	printf '%s\n' "$v" | grep -q "^  $l " || missing="$missing $l"
done
[ -z "$missing" ] && printf '%s\n' "$v" | head -1 | grep -q '^relay-milter [0-9]' &&
	tap OK "-V names the version and every library" || tap FAIL "-V names the version and every library" "$v"

echo "1..$n"
[ $failed -eq 0 ]
