#!/bin/bash
# limits-bench.sh - what the limits cost (issues 13 and 14), same run,
# alternated: relay-milter with the seven limits of relay-milter.conf(5) on
# the embedded store, the same seven limits on a Redis store (a private
# redis-server on loopback, tests/lib/redis.sh), and the same configuration
# without limits, on the same traffic (a third local, a third refused relay
# attempts, a third authenticated sessions of 100,000 logins): instructions
# per transaction under callgrind, throughput and RCPT p50/p99 at 1, 8 and
# 64 connections, and Redis commands per recipient decision (INFO
# commandstats against the daemon's own count of decisions). The store alone
# is tests/bench/storebench (10^6 keys) and tests/bench/redis-bench.sh.
#
# Environment: BENCH_BIN build directory (default .), LB_TX callgrind
# transactions (default 2000), LB_DUR seconds per throughput run (default 5),
# LB_REPS runs of each configuration at each connection count (default 2),
# LB_CONNS connection counts (default "1 8 64"; the first table's rows need
# 64), LB_REDIS 0 to leave Redis out, LB_CALLGRIND 0 to leave callgrind out,
# LB_OUT Markdown output (default limits-results.md), LB_REDIS_NICE a nice
# value for redis-server (a Redis that shares the host's CPUs, given priority),
# LB_REDIS_UNIX=1 the daemon reaches Redis on its unix socket, not on TCP.
# bash: tests/lib/redis.sh needs it ($RANDOM).
set -eu

BIN=${BENCH_BIN:-.}
SRC=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
TX=${LB_TX:-2000}
WARM=200
DUR=${LB_DUR:-5}
REPS=${LB_REPS:-2}
CONNS=${LB_CONNS:-1 8 64}
OUT=${LB_OUT:-limits-results.md}
LOAD=$BIN/tests/bench/milterload
RELAY=$BIN/milter/relay-milter
for p in "$LOAD" "$RELAY"; do
	[ -x "$p" ] || { echo "limits-bench.sh: $p not built (run make)" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/relay-lb.XXXXXX")
pid=
# shellcheck source=../lib/redis.sh
. "$SRC/tests/lib/redis.sh"
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; redis_cleanup; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
say() { printf '%s\n' "limits-bench: $*" >&2; }

# the Redis rows: a private redis-server on a free loopback port, no persistence
redis=
if [ "${LB_REDIS:-1}" = 0 ]; then
	redis_skip="LB_REDIS=0"
elif ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	redis_skip="redis-server not installed"
elif ! redis_init || ! RP=$(redis_free_port) ||
	! redis_start lb "$RP" ${LB_REDIS_UNIX:+--unixsocket "$RD/lb.sock" --unixsocketperm 700}; then
	redis_skip="redis-server did not start"
else
	redis=1 redis_skip=
	[ -z "${LB_REDIS_NICE:-}" ] || renice -n "$LB_REDIS_NICE" -p "$(redis_pid lb)" >/dev/null
fi
[ -z "$redis_skip" ] || say "Redis rows skipped: $redis_skip"
cli() { redis-cli -h 127.0.0.1 -p "$RP" "$@"; }
# rfresh - every Redis run starts from an empty database and zeroed statistics
rfresh() { cli flushall >/dev/null && cli config resetstat >/dev/null; }

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
# made and counted, none refuses, so all runs give the same verdicts
travel='{ name = "travel"; per = "login"; count = "countries"; max = 200; window = "6h"; lock = "24h"; },'
[ -n "$geo" ] || travel=
cat "$work/off.conf" - >"$work/limits.conf" <<EOF
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
EOF
cat "$work/limits.conf" - >"$work/on.conf" <<EOF
store = { type = "memory"; max_keys = 1000000; };
EOF
rserver=127.0.0.1:${RP:-1}
[ -z "${LB_REDIS_UNIX:-}" ] || rserver=unix:$RD/lb.sock
# on_error = "tempfail": a decision Redis did not answer is a 451, a wrong verdict
cat "$work/limits.conf" - >"$work/redis.conf" <<EOF
store = { type = "redis"; servers = [ "$rserver" ]; timeout_ms = 1000; on_error = "tempfail"; };
EOF
chmod 644 "$work"/*.conf
CFGS="off on${redis:+ redis}"

MIX=local=1,remote=1,auth=1
V4=198.51.100.0/24
rows=$work/rows
rrows=$work/rrows
: >"$rows"
: >"$rrows"

# callgrind: measure() of callgrind-measure.sh wants LOAD, work, TX, WARM
cg_off1=0 cg_on=0 cg_redis=0 cg_off2=0
if [ "${LB_CALLGRIND:-1}" = 0 ]; then
	say "callgrind rows skipped: LB_CALLGRIND=0"
elif command -v valgrind >/dev/null && command -v callgrind_control >/dev/null; then
	. "$SRC/tests/bench/callgrind-measure.sh"
	# measure() calls cg_run: ours, with the authenticated share
	cg_run() {
		"$LOAD" -s "unix:$sock" -c 1 -M "$mode" -n "$1" -r 3 -m "$MIX" \
		    -L local.example -R remote.example -a "$clients" -S 7 $extra -k 2>&1 |
		    sed -n 's/^milterload: mode=/mode=/p'
	}
	say "callgrind: without limits, memory store, ${redis:+Redis store, }without again"
	cg_off1=$(measure off1 reuse $V4 "-e" -- "$RELAY" -f -c "$work/off.conf" -s "unix:$work/off1.sock")
	cg_on=$(measure on1 reuse $V4 "-e" -- "$RELAY" -f -c "$work/on.conf" -s "unix:$work/on1.sock")
	if [ -n "$redis" ]; then
		rfresh
		cg_redis=$(measure redis1 reuse $V4 "-e" -- "$RELAY" -f -c "$work/redis.conf" -s "unix:$work/redis1.sock")
	fi
	cg_off2=$(measure off2 reuse $V4 "-e" -- "$RELAY" -f -c "$work/off.conf" -s "unix:$work/off2.sock")
	awk -v a="$cg_off1" -v b="$cg_on" -v c="$cg_off2" 'BEGIN { base = (a + c) / 2;
		printf("| instructions per transaction (callgrind) | %d, %d | %d | %.3fx |\n", a, c, b, base > 0 ? b / base : 0) }' >>"$rows"
	rm -f "$work"/*.out.* "$work"/*.log
else
	say "callgrind rows skipped: valgrind not installed"
fi

# kv KEY LINE - one value of a key=value line
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# metric NAME LOG - a counter of the daemon's SIGUSR2 dump (0 when absent)
metric() { awk -v m="relay_milter_$1" '$(NF - 1) == m { v = $NF } END { print v + 0 }' "$2"; }
# cstat CMD STATS FIELD - one field of a cmdstat_CMD line of INFO commandstats
cstat() { printf '%s\n' "$2" | awk -F'[:,=]' -v c="cmdstat_$1" -v f="$3" '$1 == c { for (i = 2; i < NF; i += 2) if ($i == f) v = $(i + 1) } END { print v + 0 }'; }
# rcpu - redis-server's CPU time so far, in clock ticks
rcpu() { awk '{ print $14 + $15 }' "/proc/$(redis_pid lb)/stat" 2>/dev/null || echo 0; }
# mcpu PID - a process's user and system CPU time so far, in clock ticks: "USER SYSTEM"
mcpu() { awk '{ print $14, $15 }' "/proc/$1/stat" 2>/dev/null || echo 0 0; }

# run CONF CONNS - one throughput run against a fresh daemon; prints a
# key=value record: the load's figures, the store decisions the daemon made
# (its metrics, dumped by SIGUSR2), and for Redis the commands it was sent
run() {
	log=$work/run.log
	rm -f "$work/t.sock" "$log"
	[ "$1" != redis ] || rfresh
	"$RELAY" -f -c "$work/$1.conf" -s "unix:$work/t.sock" 2>"$log" &
	pid=$!
	for _ in $(seq 100); do [ -S "$work/t.sock" ] && break; sleep 0.1; done
	c0=0
	[ "$1" != redis ] || c0=$(rcpu)
	m0=$(mcpu "$pid")
	line=$("$LOAD" -s "unix:$work/t.sock" -c "$2" -M conn -d "$DUR" -r 3 -m "$MIX" \
	    -L local.example -R remote.example -a "$V4" -S 7 -e -k 2>&1 | sed -n 's/^milterload: mode=/mode=/p')
	m1=$(mcpu "$pid")
	c1=0
	[ "$1" != redis ] || c1=$(rcpu)
	kill -USR2 "$pid" 2>/dev/null || true
	for _ in $(seq 50); do grep -q 'relay_milter_store_errors_total' "$log" && break; sleep 0.1; done
	# KILL: its counters are out, and a TERM waits seconds for libmilter's listener
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
	# one decision for every recipient a limit applies to: login-hour applies to
	# every authenticated (remote) recipient, no limit to local or refused ones
	dec=$(metric 'limit_checks_total{limit="login-hour"}' "$log")
	rec="cfg=$1 conns=$2 tx=$(kv tx "$line") tps=$(kv tps "$line") p50=$(kv p50_us "$line")"
	rec="$rec p99=$(kv p99_us "$line") wrong=$(kv wrong "$line") errors=$(kv errors "$line")"
	rec="$rec tempfail=$(($(kv tempfail "$line") + $(kv r4xx "$line"))) decisions=$dec"
	rec="$rec checks=$(awk '$(NF - 1) ~ /^relay_milter_limit_checks_total/ { n += $NF } END { print n + 0 }' "$log")"
	rec="$rec store_errors=$(metric store_errors_total "$log")"
	# shellcheck disable=SC2086
	rec="$rec $(printf '%s %s\n' "$m0" "$m1" | awk '{ printf("musr=%d msys=%d", $3 - $1, $4 - $2) }')"
	if [ "$1" = redis ]; then
		st=$(cli info commandstats | tr -d '\r')
		# the daemon's own commands, and the calls its script made inside Redis
		top=$(printf '%s\n' "$st" | awk -F'[:=,]' '/^cmdstat_(evalsha|eval|script|role|ping|select|auth|hello|client)/ { n += $3 } END { print n + 0 }')
		all=$(printf '%s\n' "$st" | awk -F'[:=,]' '/^cmdstat_/ && $1 !~ /^cmdstat_(config|info|flushall)/ { n += $3 } END { print n + 0 }')
		rec="$rec evalsha=$(cstat evalsha "$st" calls) eval=$(cstat eval "$st" calls) top=$top inner=$((all - top))"
		rec="$rec evalsha_usec=$(cstat evalsha "$st" usec) rcpu_ticks=$((c1 - c0))"
	fi
	echo "$rec"
	[ "${line:+x}" ] || say "run $1 at $2 connections: no result from milterload"
}

runs=$work/runs
: >"$runs"
# the Redis round trip: one decision of the store alone (same script, six
# checks), redisbench at one thread against the same server
rtt=
if [ -n "$redis" ] && [ -x "$BIN/tests/bench/redisbench" ]; then
	rfresh
	rtt=$("$BIN/tests/bench/redisbench" -r "127.0.0.1:$RP" -t 1 -d 2 2>/dev/null || true)
	say "Redis round trip (redisbench, 1 thread): $rtt"
fi
# each rep starts the round of configurations one further along, so none
# always runs first (or right after another)
for rep in $(seq "$REPS"); do
	for c in $CONNS; do
		order=$(echo "$CFGS" | awk -v r="$rep" '{ for (i = 0; i < NF; i++) printf(" %s", $((i + r - 1) % NF + 1)) }')
		say "rep $rep/$REPS, $c connections:$order ($DUR s each)"
		for cfg in $order; do
			run "$cfg" "$c" >>"$runs"
		done
	done
done

# the first table's throughput rows (64 connections, without and with limits)
if printf ' %s ' "$CONNS" | grep -q ' 64 '; then
	awk -v reps="$REPS" '
	function val(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
	val("conns") == 64 && (val("cfg") == "off" || val("cfg") == "on") {
		c = val("cfg"); n[c]++; t[c, n[c]] = val("tps"); p[c, n[c]] = val("p99"); w = w val("wrong")
		ts[c] += val("tps"); ps[c] += val("p99") }
	function list(a, c,   i, s) { for (i = 1; i <= n[c]; i++) s = s (i > 1 ? ", " : "") sprintf("%.0f", a[c, i]); return s }
	END {
		printf("| throughput at 64 connections (tx/s) | %s | %s | %.2fx |\n", list(t, "off"), list(t, "on"), ts["off"] > 0 ? (ts["on"] / n["on"]) / (ts["off"] / n["off"]) : 0)
		printf("| RCPT p99 at 64 connections (us) | %s | %s | %.2fx |\n", list(p, "off"), list(p, "on"), ps["off"] > 0 ? (ps["on"] / n["on"]) / (ps["off"] / n["off"]) : 0)
		if (w !~ /^0*$/) printf("(wrong verdicts seen: %s)\n", w) }' "$runs" >>"$rows"
fi

# the second table: no limits, memory, Redis; medians of the reps, alternated
awk -v conns="$CONNS" -v redis="$redis" -v cg_off1="$cg_off1" -v cg_off2="$cg_off2" \
    -v cg_on="$cg_on" -v cg_redis="$cg_redis" -v hz="$(getconf CLK_TCK)" \
    -v rtt50="$(kv p50_us "$rtt")" -v rtt99="$(kv p99_us "$rtt")" '
function val(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
function med(key,   m, i, j, v, x) {
	m = n[key]
	for (i = 1; i <= m; i++) v[i] = s[key, i]
	for (i = 2; i <= m; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { x = v[j]; v[j] = v[j - 1]; v[j - 1] = x }
	return m == 0 ? 0 : (m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2)
}
function cell(key,   i, l) {
	if (n[key] == 0) return "-"
	for (i = 1; i <= n[key]; i++) l = l (i > 1 ? ", " : "") sprintf("%.0f", s[key, i])
	return sprintf("%.0f (%s)", med(key), l)
}
function ratio(a, b) { return b > 0 ? sprintf("%.2fx", a / b) : "-" }
{
	c = val("cfg"); k = val("conns")
	for (f = 1; f <= NF; f++) { split($f, kvp, "="); nm = kvp[1]
		if (nm == "tps" || nm == "p50" || nm == "p99") { key = c SUBSEP k SUBSEP nm; s[key, ++n[key]] = kvp[2] }
		else if (nm != "cfg" && nm != "conns") sum[c, nm] += kvp[2]
		if (nm == "musr" || nm == "msys" || nm == "tx") cpu[c, k, nm] += kvp[2]
		if (c == "redis" && (nm == "evalsha" || nm == "evalsha_usec" || nm == "rcpu_ticks" || nm == "tx")) per[k, nm] += kvp[2] }
}
END {
	nc = split(conns, cs, " ")
	if (cg_on > 0) {
		base = (cg_off1 + cg_off2) / 2
		printf("| instructions per transaction (callgrind) | %d, %d | %d | %s | %s | %s |\n", cg_off1, cg_off2, cg_on,
		    redis ? cg_redis : "-", ratio(cg_on, base), redis ? ratio(cg_redis, cg_on) : "-")
	}
	for (i = 1; i <= nc; i++) {
		k = cs[i]; lab = k == 1 ? "1 connection" : k " connections"
		split("tps p50 p99", fs, " ")
		split("throughput at %s (tx/s)|RCPT p50 at %s (us)|RCPT p99 at %s (us)", ls, "|")
		for (j = 1; j <= 3; j++) {
			f = fs[j]
			printf("| " ls[j] " | %s | %s | %s | %s | %s |\n", lab, cell("off" SUBSEP k SUBSEP f), cell("on" SUBSEP k SUBSEP f),
			    redis ? cell("redis" SUBSEP k SUBSEP f) : "-", ratio(med("on" SUBSEP k SUBSEP f), med("off" SUBSEP k SUBSEP f)),
			    redis ? ratio(med("redis" SUBSEP k SUBSEP f), med("on" SUBSEP k SUBSEP f)) : "-")
		}
	}
	# the daemon CPU (all runs at that count): where the system time of the Redis store shows
	for (i = 1; i <= nc; i++) {
		k = cs[i]; lab = k == 1 ? "1 connection" : k " connections"
		for (j = 1; j <= 3; j++) {
			cf = j == 1 ? "off" : j == 2 ? "on" : "redis"
			mu[j] = cpu[cf, k, "tx"] > 0 ? cpu[cf, k, "musr"] * 1e6 / hz / cpu[cf, k, "tx"] : 0
			ms[j] = cpu[cf, k, "tx"] > 0 ? cpu[cf, k, "msys"] * 1e6 / hz / cpu[cf, k, "tx"] : 0
		}
		printf("| relay-milter CPU per transaction at %s (user + system, us) | %.0f + %.0f | %.0f + %.0f | %s | | |\n", lab,
		    mu[1], ms[1], mu[2], ms[2], redis ? sprintf("%.0f + %.0f", mu[3], ms[3]) : "-")
	}
	printf("| wrong verdicts, errors, tempfails (all runs) | %d, %d, %d | %d, %d, %d | %s | | |\n",
	    sum["off", "wrong"], sum["off", "errors"], sum["off", "tempfail"], sum["on", "wrong"], sum["on", "errors"], sum["on", "tempfail"],
	    redis ? sprintf("%d, %d, %d", sum["redis", "wrong"], sum["redis", "errors"], sum["redis", "tempfail"]) : "-")
	printf("| store decisions, checks (all runs; checks per decision) | - | %d, %d (%.2f) | %s | | |\n", sum["on", "decisions"], sum["on", "checks"],
	    sum["on", "decisions"] > 0 ? sum["on", "checks"] / sum["on", "decisions"] : 0,
	    redis ? sprintf("%d, %d (%.2f)", sum["redis", "decisions"], sum["redis", "checks"], sum["redis", "decisions"] > 0 ? sum["redis", "checks"] / sum["redis", "decisions"] : 0) : "-")
	if (redis) {
		d = sum["redis", "decisions"]
		printf("| store errors (relay_milter_store_errors_total, all runs) | - | %d | %d | | |\n", sum["on", "store_errors"], sum["redis", "store_errors"])
		printf("| Redis EVALSHA+EVAL per store decision | - | - | %.3f | | |\n", d > 0 ? (sum["redis", "evalsha"] + sum["redis", "eval"]) / d : 0)
		printf("| Redis commands the daemon sent per decision (EVALSHA, SCRIPT LOAD, ROLE, ...) | - | - | %.3f | | |\n", d > 0 ? sum["redis", "top"] / d : 0)
		printf("| Redis calls inside the script per decision (TIME, HGETALL, HINCRBY, ...) | - | - | %.2f | | |\n", d > 0 ? sum["redis", "inner"] / d : 0)
		for (i = 1; i <= nc; i++) {
			k = cs[i]; lab = k == 1 ? "1 connection" : k " connections"
			printf("| EVALSHA usec_per_call at %s (Redis INFO commandstats) | - | - | %.2f | | |\n", lab,
			    per[k, "evalsha"] > 0 ? per[k, "evalsha_usec"] / per[k, "evalsha"] : 0)
		}
		for (i = 1; i <= nc; i++) {
			k = cs[i]; lab = k == 1 ? "1 connection" : k " connections"
			printf("| redis-server CPU per transaction at %s (us) | - | - | %.1f | | |\n", lab,
			    per[k, "tx"] > 0 ? per[k, "rcpu_ticks"] * 1e6 / hz / per[k, "tx"] : 0)
		}
	}
	# the targets (issue 14)
	for (i = 1; i <= nc; i++) if (cs[i] == 64) has64 = 1
	if (redis && has64) {
		r = med("on" SUBSEP 64 SUBSEP "tps") > 0 ? med("redis" SUBSEP 64 SUBSEP "tps") / med("on" SUBSEP 64 SUBSEP "tps") : 0
		printf("\n64 connections redis/memory: %.2f (target >= 0.85): %s\n", r, r >= 0.85 ? "met" : "NOT met")
		jump = med("redis" SUBSEP 64 SUBSEP "p99") - med("on" SUBSEP 64 SUBSEP "p99")
		if (rtt99 != "")
			printf("64 connections RCPT p99 redis - memory: %+.0f us; the Redis round trip (one store decision, redisbench at 1 thread): p50 %.0f us, p99 %.0f us: %s\n",
			    jump, rtt50, rtt99, jump <= rtt99 ? "no jump beyond it" : "a jump beyond it")
		else
			printf("64 connections RCPT p99 redis - memory: %+.0f us (redisbench not built: no round trip)\n", jump)
	}
}' "$runs" >"$rrows"

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
	echo
	echo "## Redis store vs embedded store vs no limits"
	echo
	echo "Same run and traffic; $(nproc) CPUs; each configuration against a fresh daemon, in turn"
	echo "($CFGS) at each connection count ($CONNS), $REPS times, $DUR s each, one connection per"
	echo "transaction (-M conn); medians, each run in parentheses. Every verdict checked (milterload -e)."
	if [ -n "$redis" ]; then
		echo "Redis $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p') on $rserver (no persistence), flushed before each run;"
		echo "store decisions from the daemon's metrics (limit_checks_total of login-hour, which applies to"
		echo "every recipient a limit applies to here), Redis commands from INFO commandstats."
		echo "Callgrind counts the daemon only, not redis-server: its CPU is the row below."
	else
		echo "Redis rows skipped: $redis_skip."
	fi
	echo
	echo "| figure | no limits | memory store | Redis store | memory/none | redis/memory |"
	echo "|---|---:|---:|---:|---:|---:|"
	cat "$rrows"
} >"$OUT"
cat "$OUT"
