#!/bin/sh
# limits-bench.sh - what the limits cost (issue 13), same run, alternated:
# relay-milter with the seven limits of relay-milter.conf(5) on the embedded
# store against the same configuration without them, on the same traffic
# (a third local, a third refused relay attempts, a third authenticated
# sessions of 100,000 logins): instructions per transaction under callgrind,
# and throughput and RCPT p99 at 64 connections. The store alone with one
# million keys is tests/bench/storebench (RSS and ns per decision).
#
# Environment: BENCH_BIN build directory (default .), LB_TX callgrind
# transactions (default 2000), LB_DUR seconds per throughput run (default 5),
# LB_OUT Markdown output (default limits-results.md).
set -eu

BIN=${BENCH_BIN:-.}
SRC=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
TX=${LB_TX:-2000}
WARM=200
DUR=${LB_DUR:-5}
OUT=${LB_OUT:-limits-results.md}
LOAD=$BIN/tests/bench/milterload
RELAY=$BIN/milter/relay-milter
for p in "$LOAD" "$RELAY"; do
	[ -x "$p" ] || { echo "limits-bench.sh: $p not built (run make)" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/relay-lb.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
say() { printf '%s\n' "limits-bench: $*" >&2; }

geo=
if /usr/bin/perl "$SRC/tests/geoip/make-mmdb.pl" "$work" 2>/dev/null; then
	geo="geoip = { country_db = \"$work/country.mmdb\"; };"
fi
cat >"$work/off.conf" <<EOF
local_domains = [ "local.example", "bench.example" ];
trusted_networks = [ "127.0.0.0/8", "10.0.0.0/8" ];
$geo
EOF
# the seven limits, with maxima no traffic here reaches: every check is
# made and counted, none refuses, so both runs give the same verdicts
travel='{ name = "travel"; per = "login"; count = "countries"; max = 200; window = "6h"; lock = "24h"; },'
[ -n "$geo" ] || travel=
cat "$work/off.conf" - >"$work/on.conf" <<EOF
max_recipients_per_message = 100;
limits = (
  { name = "login-hour"; per = "login"; count = "recipients"; max = 1000000; window = "1h"; recipient_local = false; },
  { name = "login-day"; per = "login"; count = "recipients"; max = 1000000; window = "24h"; recipient_local = false; },
  { name = "login-msgs"; per = "login"; count = "messages"; max = 1000000; window = "24h"; },
  { name = "unauth-ip"; per = "client"; authenticated = false; count = "recipients"; max = 1000000; window = "10m"; recipient_local = false; },
  { name = "trusted-host"; per = "client"; network = [ "10.0.0.0/8" ]; count = "recipients"; max = 1000000; window = "1h"; },
  $travel
  { name = "spread"; per = "login"; count = "networks"; max = 1000; window = "1h"; lock = "2h"; }
);
store = { type = "memory"; max_keys = 1000000; };
EOF
chmod 644 "$work"/*.conf

MIX=local=1,remote=1,auth=1
V4=198.51.100.0/24
rows=$work/rows
: >"$rows"

# callgrind: measure() of callgrind-measure.sh wants LOAD, work, TX, WARM
if command -v valgrind >/dev/null && command -v callgrind_control >/dev/null; then
	. "$SRC/tests/bench/callgrind-measure.sh"
	# measure() calls cg_run: ours, with the authenticated share
	cg_run() {
		"$LOAD" -s "unix:$sock" -c 1 -M "$mode" -n "$1" -r 3 -m "$MIX" \
		    -L local.example -R remote.example -a "$clients" -S 7 $extra -k 2>&1 |
		    sed -n 's/^milterload: mode=/mode=/p'
	}
	say "callgrind: without limits, with limits, without again"
	a=$(measure off1 reuse $V4 "-e" -- "$RELAY" -f -c "$work/off.conf" -s "unix:$work/off1.sock")
	b=$(measure on1 reuse $V4 "-e" -- "$RELAY" -f -c "$work/on.conf" -s "unix:$work/on1.sock")
	c=$(measure off2 reuse $V4 "-e" -- "$RELAY" -f -c "$work/off.conf" -s "unix:$work/off2.sock")
	awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { base = (a + c) / 2;
		printf("| instructions per transaction (callgrind) | %d, %d | %d | %.3fx |\n", a, c, b, base > 0 ? b / base : 0) }' >>"$rows"
fi

# kv KEY LINE - one value of milterload's key=value line
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# run64 CONF - throughput and p99 at 64 connections against a fresh daemon
run64() {
	rm -f "$work/t.sock"
	"$RELAY" -f -c "$work/$1.conf" -s "unix:$work/t.sock" 2>>"$work/$1.log" &
	pid=$!
	for _ in $(seq 100); do [ -S "$work/t.sock" ] && break; sleep 0.1; done
	line=$("$LOAD" -s "unix:$work/t.sock" -c 64 -M conn -d "$DUR" -r 3 -m "$MIX" \
	    -L local.example -R remote.example -a "$V4" -S 7 -e -k 2>&1 | sed -n 's/^milterload: mode=/mode=/p')
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
	echo "$(kv tps "$line") $(kv p99_us "$line") $(kv wrong "$line")"
}
say "64 connections: off, on, off, on ($DUR s each)"
set -- $(run64 off) $(run64 on) $(run64 off) $(run64 on)
awk -v t1="$1" -v p1="$2" -v t2="$4" -v p2="$5" -v t3="$7" -v p3="$8" -v t4="${10}" -v p4="${11}" \
    -v w="$3$6$9${12}" 'BEGIN {
	off = (t1 + t3) / 2; on = (t2 + t4) / 2
	printf("| throughput at 64 connections (tx/s) | %.0f, %.0f | %.0f, %.0f | %.2fx |\n", t1, t3, t2, t4, off > 0 ? on / off : 0)
	printf("| RCPT p99 at 64 connections (us) | %.0f, %.0f | %.0f, %.0f | %.2fx |\n", p1, p3, p2, p4, (p1 + p3) > 0 ? (p2 + p4) / (p1 + p3) : 0)
	if (w != "0000") printf("(wrong verdicts seen: %s)\n", w) }' >>"$rows"

{
	echo "## What the limits cost (embedded store)"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'); traffic: 3 recipients a transaction, mix $MIX"
	echo "(authenticated sessions from 100,000 logins), one connection for callgrind;"
	echo "the seven limits of relay-milter.conf(5) with maxima nothing reaches${geo:+ (GeoIP country database: yes)}."
	echo
	echo "| figure | without limits | with limits | with/without |"
	echo "|---|---:|---:|---:|"
	cat "$rows"
	echo
	echo "The store alone with one million keys: tests/bench/storebench (make bench-store, in make bench)."
} >"$OUT"
cat "$OUT"
