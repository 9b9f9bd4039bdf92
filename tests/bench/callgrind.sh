#!/bin/sh
# callgrind.sh - instructions per transaction (issue 12), the stable figure
# on a shared machine: each milter runs under valgrind --tool=callgrind
# (every thread counted), milterload sends WARM transactions, the counters
# are zeroed, then TX transactions of 3 recipients each, a third of them to
# a remote domain from an outside client (refused), and the dump after them
# is divided by TX. The null milter (the floor) and relay-milter run in the
# same invocation, one after the other, with the same traffic:
#   persistent sessions (-M reuse) and one connection per transaction
#   (-M conn); IPv4 and IPv6 clients; a small configuration and one of
#   10^5 local domains + 10^5 networks; the decision line to a file
#   (stderr) and to syslog (a private /dev/log in a mount namespace,
#   tests/lib/devlog.sh; skipped where that cannot be made).
# Then the self cost of relay-milter's top functions in the main case.
#
# Environment: BENCH_BIN  build directory (default .)
#              CG_TX      measured transactions per case (default 2000)
#              CG_OUT     Markdown output (default callgrind-results.md)
#              CG_QUICK   1: the small-configuration rows only
#              CG_BASELINE  another relay-milter binary (say, the build before
#                         a change): measured in each relay row too, so an
#                         A/B comes from one run
set -eu

BIN=${BENCH_BIN:-.}
SRC=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
TX=${CG_TX:-2000}
WARM=200
OUT=${CG_OUT:-callgrind-results.md}
LOAD=$BIN/tests/bench/milterload
NULL=$BIN/tests/bench/nullmilter
RELAY=$BIN/milter/relay-milter
BASE=${CG_BASELINE:-}
LOGRECV=$BIN/tests/daemon/logrecv
for p in "$LOAD" "$NULL" "$RELAY" ${BASE:+"$BASE"}; do
	[ -x "$p" ] || { echo "callgrind.sh: $p not built (run make)" >&2; exit 1; }
done
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
	{ echo "callgrind.sh: valgrind not installed (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/relay-cg.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
say() { printf '%s\n' "callgrind: $*" >&2; }

# the configurations: small, and 10^5 + 10^5 entries from files
cat >"$work/small.conf" <<EOF
local_domains = [ "local.example", "bench.example" ];
trusted_networks = [ "127.0.0.0/8", "10.0.0.0/8" ];
EOF
awk 'BEGIN { for (i = 0; i < 100000; i++) printf("d%d.bench-mail.example\n", i) }' >"$work/domains.txt"
awk 'BEGIN { for (i = 0; i < 50000; i++) printf("10.%d.%d.%d/28\n", int(i / 2048), int(i / 8) % 256, (i % 8) * 32);
	for (i = 0; i < 50000; i++) printf("fd00:0:%x:%x::/64\n", int(2 * i / 65536), (2 * i) % 65536) }' >"$work/nets.txt"
cat >"$work/big.conf" <<EOF
local_domains = [ "local.example", "$work/domains.txt" ];
trusted_networks = [ "127.0.0.0/8", "$work/nets.txt" ];
EOF
chmod 644 "$work"/*.conf "$work"/*.txt

. "$SRC/tests/bench/callgrind-measure.sh"

. "$SRC/tests/lib/devlog.sh"
syslog_ok=no
devlog_available && [ -x "$LOGRECV" ] && syslog_ok=yes

null_args="-P"
relay_args="-e"
V4=198.51.100.0/24
V6=2001:db8:1::/48

rows=$work/rows
: >"$rows"
# row LABEL NULL_IR RELAY_IR [BASELINE_IR]
row() {
	awk -v l="$1" -v n="$2" -v r="$3" -v b="${4:-}" 'BEGIN {
		printf("| %s | %d | %d | %.2fx |", l, n, r, n > 0 ? r / n : 0)
		if (b != "")
			printf(" %d | %.2fx |", b, n > 0 ? b / n : 0)
		printf("\n") }' >>"$rows"
}

# base NAME MODE CLIENTS CONF: the baseline binary's Ir/tx, when there is one
base() {
	[ -n "$BASE" ] || return 0
	measure "base-$1" "$2" "$3" "$relay_args" -- "$BASE" -f -c "$4" -s "unix:$work/base-$1.sock"
}

for mode in reuse conn; do
	say "null milter and relay-milter, $mode, IPv4"
	n4=$(measure null-$mode $mode $V4 "$null_args" -- "$NULL" -N -s "unix:$work/null-$mode.sock")
	r4=$(measure relay-$mode $mode $V4 "$relay_args" -- "$RELAY" -f -c "$work/small.conf" \
	    -s "unix:$work/relay-$mode.sock")
	cp "$work/relay-$mode.out.1" "$work/profile-$mode.out" 2>/dev/null || true
	row "$mode, IPv4, small, stderr" "$n4" "$r4" "$(base $mode $mode $V4 "$work/small.conf")"
	[ "${CG_QUICK:-0}" = 1 ] && continue
	say "relay-milter, $mode, IPv6"
	n6=$(measure null6-$mode $mode $V6 "$null_args" -- "$NULL" -N -s "unix:$work/null6-$mode.sock")
	r6=$(measure relay6-$mode $mode $V6 "$relay_args" -- "$RELAY" -f -c "$work/small.conf" \
	    -s "unix:$work/relay6-$mode.sock")
	row "$mode, IPv6, small, stderr" "$n6" "$r6" "$(base 6-$mode $mode $V6 "$work/small.conf")"
	say "relay-milter, $mode, 10^5 + 10^5 entries"
	rb=$(measure relaybig-$mode $mode $V4 "$relay_args" -- "$RELAY" -f -c "$work/big.conf" \
	    -s "unix:$work/relaybig-$mode.sock")
	row "$mode, IPv4, 10^5+10^5, stderr" "$n4" "$rb" "$(base big-$mode $mode $V4 "$work/big.conf")"
	if [ $syslog_ok = yes ]; then
		say "relay-milter, $mode, syslog"
		export LOAD work TX WARM BASE relay_args
		# inside the namespace, in the foreground but logging to syslog; the
		# result comes back in a file
		devlog_run "$work/syslog.lines" "$work/olddev" "
			. '$SRC/tests/bench/callgrind-measure.sh'
			measure relaysys-$mode $mode $V4 '$relay_args' -- '$RELAY' -f --syslog \
			    -c '$work/small.conf' -s 'unix:$work/relaysys-$mode.sock' \
			    >'$work/relaysys-$mode.ir'
			[ -z \"\$BASE\" ] || measure basesys-$mode $mode $V4 '$relay_args' -- \"\$BASE\" \
			    -f --syslog -c '$work/small.conf' -s 'unix:$work/basesys-$mode.sock' \
			    >'$work/basesys-$mode.ir'" || true
		rs=$(cat "$work/relaysys-$mode.ir" 2>/dev/null || echo 0)
		bs=
		[ -z "$BASE" ] || bs=$(cat "$work/basesys-$mode.ir" 2>/dev/null || echo 0)
		row "$mode, IPv4, small, syslog" "$n4" "$rs" "$bs"
	fi
done

profile=$(callgrind_annotate --threshold=100 --auto=no "$work/profile-reuse.out" 2>/dev/null |
	sed -n '/file:function/,$p' | grep -v 'clone\.S:clone\|pthread_create\.c:start_thread' |
	sed -n -E 's/^ *([0-9,]+) +\( *[0-9.]+%\) +([^ ]+).*$/\1 \2/p' | head -20 |
	awk -v tx="$TX" '{ ir = $1; gsub(",", "", ir); printf("| %d | %s |\n", ir / tx, $2) }')
{
	echo "## Instructions per transaction (callgrind)"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), valgrind $(valgrind --version | sed 's/valgrind-//');"
	echo "$TX transactions after $WARM of warm-up, 3 recipients each, one third refused,"
	echo "one connection; user-space instructions of all the milter's threads per transaction;"
	echo "null milter and relay-milter measured in this run, one after the other."
	[ -z "$BASE" ] || echo "Baseline: $BASE, measured in the same run with the same traffic."
	echo
	if [ -n "$BASE" ]; then
		echo "| case | null milter Ir/tx | relay-milter Ir/tx | relay/null | baseline Ir/tx | baseline/null |"
		echo "|---|---:|---:|---:|---:|---:|"
	else
		echo "| case | null milter Ir/tx | relay-milter Ir/tx | relay/null |"
		echo "|---|---:|---:|---:|"
	fi
	cat "$rows"
	[ $syslog_ok = yes ] || echo "(syslog rows skipped: a private /dev/log needs root and unshare)"
	echo
	echo "stderr: the decision line to a file; syslog: one datagram a line to a private /dev/log"
	echo "(tests/lib/devlog.sh) read by tests/daemon/logrecv on the other core."
	echo
	echo "Self cost of relay-milter's top functions (persistent sessions, IPv4, small, stderr), Ir per transaction:"
	echo
	echo "| Ir/tx | function |"
	echo "|---:|---|"
	printf '%s\n' "$profile"
} >"$OUT"
cat "$OUT"
