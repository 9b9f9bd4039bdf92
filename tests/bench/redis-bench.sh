#!/bin/bash
# redis-bench.sh - the Redis store against the embedded one (issue 14), as a
# Markdown table: decisions per second and decide latency p50/p99 at 1, 8 and
# 64 threads, and Redis commands per decision (INFO commandstats). A private
# redis-server on a free loopback port (tests/lib/redis.sh), stopped after.
# Environment: BENCH_BIN (build folder), REDIS_BENCH_OUT (Markdown file),
#              BENCH_DURATION (seconds per run, default 3), REPS (default 3)
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
BIN=${BENCH_BIN:-.}
OUT=${REDIS_BENCH_OUT:-redis-bench-results.md}
DUR=${BENCH_DURATION:-3}
REPS=${REPS:-3}
SB=$BIN/tests/bench/redisbench

# shellcheck source=../lib/redis.sh
. "$top_srcdir/tests/lib/redis.sh"
if ! redis_have; then
	echo "redis-bench: redis-server not installed: skipped" >&2
	exit 0
fi
redis_init
trap redis_cleanup EXIT INT TERM
P=$(redis_free_port)
redis_start bench "$P"
cli() { redis-cli -h 127.0.0.1 -p "$P" "$@"; }

kv() { printf '%s\n' "$2" | sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

{
	echo "## Store: Redis (loopback) vs embedded, $(nproc) CPUs, ${DUR} s runs, median of $REPS (alternated)"
	echo
	echo "One decision = the six checks of an authenticated recipient under issue 13's"
	echo "limits (3 sums and a client sum, 2 distinct counts), 10,000 logins."
	echo
	echo "| threads | memory dec/s | memory p50 us | memory p99 us | redis dec/s | redis p50 us | redis p99 us | redis/memory |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$OUT"
decisions=0
cli config resetstat >/dev/null
for t in 1 8 64; do
	: >"$BIN/.sb-mem" && : >"$BIN/.sb-red"
	for _ in $(seq "$REPS"); do
		"$SB" -t "$t" -d "$DUR" >>"$BIN/.sb-mem"
		line=$("$SB" -r "127.0.0.1:$P" -t "$t" -d "$DUR")
		echo "$line" >>"$BIN/.sb-red"
		decisions=$((decisions + $(kv decisions "$line")))
	done
	col() { while read -r l; do kv "$1" "$l"; done <"$2" | median; }
	m=$(col per_s "$BIN/.sb-mem") r=$(col per_s "$BIN/.sb-red")
	printf '| %s | %s | %s | %s | %s | %s | %s | %.2f |\n' "$t" "$m" "$(col p50_us "$BIN/.sb-mem")" \
		"$(col p99_us "$BIN/.sb-mem")" "$r" "$(col p50_us "$BIN/.sb-red")" "$(col p99_us "$BIN/.sb-red")" \
		"$(echo "$r $m" | awk '{ print $1 / $2 }')" >>"$OUT"
done
rm -f "$BIN/.sb-mem" "$BIN/.sb-red"
stats=$(cli info commandstats | tr -d '\r')
evalsha=$(printf '%s\n' "$stats" | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\).*/\1/p')
eval_=$(printf '%s\n' "$stats" | sed -n 's/^cmdstat_eval:calls=\([0-9]*\).*/\1/p')
inner=$(printf '%s\n' "$stats" | awk -F'[:=,]' '/^cmdstat_/ && $1 !~ /evalsha|eval$|script|config|info|role/ { n += $3 } END { print n + 0 }')
{
	echo
	echo "Redis commands per decision (INFO commandstats over all $decisions decisions):"
	echo "EVALSHA $(echo "${evalsha:-0} ${eval_:-0} $decisions" | awk '{ printf "%.3f", ($1 + $2) / $3 }')"
	echo "(EVAL ${eval_:-0}); inside the script, $(echo "$inner $decisions" | awk '{ printf "%.1f", $1 / $2 }')"
	echo "Redis calls per decision (TIME, HMGET, HSET, PEXPIREAT, ...: one round trip):"
	printf '%s\n' "$stats" | awk -F'[:=,]' -v d="$decisions" '/^cmdstat_/ && $1 !~ /evalsha|eval$|script|config|info|role/ {
		sub(/^cmdstat_/, "", $1); printf "%s %.2f ", toupper($1), $3 / d } END { print "" }'
	echo "Script time (EVALSHA usec_per_call, Redis's own time per decision): $(printf '%s\n' "$stats" |
		sed -n 's/^cmdstat_evalsha:.*usec_per_call=\([0-9.]*\).*/\1/p') us"
} >>"$OUT"
cat "$OUT"
