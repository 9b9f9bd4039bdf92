#!/bin/bash
# redis.sh - the Redis store through the store interface (issue 14): exact
# totals from two processes, shared locks and distinct counts, key names and
# expiries, a wrong password, Redis killed or frozen under each on_error mode,
# limits resuming when it returns, and a Sentinel failover. Every server is a
# private instance on 127.0.0.1 (tests/lib/redis.sh).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
H="$top_builddir/tests/store/redis-harness"

# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"
# shellcheck source=../lib/redis.sh
. "$top_srcdir/tests/lib/redis.sh"

if ! redis_have; then
	echo "1..0 # SKIP redis-server, redis-sentinel or redis-cli not installed"
	exit 0
fi
redis_init || exit 1
trap redis_cleanup EXIT INT TERM

P=$(redis_free_port) && redis_start main "$P" || {
	echo "Bail out! cannot start redis-server"
	exit 1
}
S="127.0.0.1:$P"
cli() { redis-cli -h 127.0.0.1 -p "$P" "$@"; }

# field NAME LINE - the value of NAME=... in a harness summary
field() { printf '%s\n' "$2" | sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" | head -1; }

# --- exact across processes: 2 processes x 8 threads, limit 1000 ---
"$H" -s "$S" burst login:alice exact 1000 8 200 >"$RD/a.out" 2>/dev/null &
"$H" -s "$S" burst login:alice exact 1000 8 200 >"$RD/b.out" 2>/dev/null &
wait
a=$(field admitted "$(cat "$RD/a.out")")
b=$(field admitted "$(cat "$RD/b.out")")
[ "$((a + b))" -eq 1000 ] && tap OK "two processes x 8 threads admit exactly 1000 of 3200 ($a + $b)" ||
	tap FAIL "two processes x 8 threads admit exactly 1000 of 3200" "$(cat "$RD/a.out" "$RD/b.out")"

# --- one command per decision: what MONITOR sees from clients (not from scripts) ---
"$H" -s "$S" one login:count per 100000 >/dev/null 2>&1 # the scripts are loaded
cli monitor >"$RD/monitor" 2>/dev/null &
mon=$!
sleep 0.3
"$H" -s "$S" burst login:count per 100000 1 100 >/dev/null 2>&1
sleep 0.3
kill "$mon"
wait "$mon" 2>/dev/null
calls=$(grep -v ' lua\]' "$RD/monitor" | grep -v '"MONITOR"\|^OK' | awk '{ print $4 }' | sort | uniq -c | tr '\n' ' ')
# 100 decisions: 100 EVALSHA; ROLE and SCRIPT LOAD come once, when the harness connects
[ "$(grep -v ' lua\]' "$RD/monitor" | grep -c '"EVALSHA"')" -eq 100 ] &&
	[ "$(grep -v ' lua\]' "$RD/monitor" | grep -v '"MONITOR"\|^OK' | grep -vc '"EVALSHA"\|"ROLE"\|"SCRIPT"')" -eq 0 ] &&
	tap OK "one command per decision: 100 decisions, 100 EVALSHA ($calls)" ||
	tap FAIL "one command per decision" "$calls"

# --- a lock set through one process holds in another ---
"$H" -s "$S" burst login:bob locking 3 1 5 60 >/dev/null 2>&1
out=$("$H" -s "$S" one login:bob locking 3 60 2>/dev/null)
case $out in LOCKED*) tap OK "a lock set by one process refuses in another" ;;
*) tap FAIL "a lock set by one process refuses in another" "$out" ;; esac
out=$("$H" -s "$S" unlock login:bob 2>/dev/null)
[ "$out" = "unlocked=1" ] && tap OK "unlock lifts it ($out)" || tap FAIL "unlock lifts it" "$out"

# --- distinct members are shared ---
"$H" -s "$S" distinct login:carol travel 2 GB NG >/dev/null 2>&1
out=$("$H" -s "$S" distinct login:carol travel 2 GB US 2>/dev/null)
printf '%s\n' "$out" | grep -q '^GB OK count=2' && printf '%s\n' "$out" | grep -q '^US EXCEEDED' &&
	tap OK "distinct members are counted across processes (GB NG, then GB US)" ||
	tap FAIL "distinct members are counted across processes" "$out"

# --- a shortened window (a reload, same limit name): what a wide slot admitted still counts ---
# 30 days (slots of 27,000 s), then 96 s (slots of 1 s): the admission's wide slot began
# more than 96 s ago (waited for, at most 100 s, when the clock is just past a slot start),
# yet ends long after now - 96 s, so it is within the new window: max 1 refuses the next
# (prefix rw: keeps its 30-day keys out of the expiry check below).
now=$(cli time | head -1)
[ $((now % 27000)) -lt 100 ] && sleep $((100 - now % 27000))
"$H" -s "$S" -P rw: -w 2592000 one login:kim short 1 >/dev/null 2>&1
out=$("$H" -s "$S" -P rw: -w 96 one login:kim short 1 2>/dev/null)
case $out in EXCEEDED*count=1*) tap OK "a shortened window still counts what a wider slot admitted ($out)" ;;
*) tap FAIL "a shortened window still counts what a wider slot admitted" "$out" ;; esac
out=$("$H" -s "$S" -P rw: -w 96 status login:kim 2>/dev/null)
printf '%s\n' "$out" | grep -q '^login:kim short count=1 window=' &&
	tap OK "status counts it too ($out)" || tap FAIL "status counts it too" "$out"

# --- key names: hash tag of the principal, escaped; every key expires in time ---
"$H" -s "$S" one 'login:we{ir}d %x y' lim 5 30 >/dev/null 2>&1
"$H" -s "$S" burst 'login:we{ir}d %x y' lim 5 1 6 30 >/dev/null 2>&1
keys=$(cli --scan --pattern 'rm:{login:we*' | sort | tr '\n' ' ')
# (one hash per principal holds its counters and locks)
[ "$keys" = 'rm:{login:we%7Bir%7Dd%20%25x%20y}:p ' ] &&
	tap OK "keys carry the escaped principal as their hash tag" || tap FAIL "keys carry the escaped principal as their hash tag" "$keys"
bad=
for k in $(cli --scan --pattern 'rm:*'); do
	t=$(cli pttl "$k")
	lim=3686000 # 3600 s windows: 97 slots of 38 s (a lock of 30 s ends sooner)
	[ "$t" -gt 0 ] && [ "$t" -le "$lim" ] || bad="$bad $k=$t"
done
[ -z "$bad" ] && tap OK "every key expires, no later than its window and one slot (locks: their duration)" ||
	tap FAIL "every key expires, no later than its window and one slot" "$bad"
out=$("$H" -s "$S" status 'login:we{ir}d %x y' 2>/dev/null)
printf '%s\n' "$out" | grep -q '^login:we{ir}d %x y lim count=5 window=3600 lock_until=[1-9]' &&
	tap OK "status reads them back (count, window, lock)" || tap FAIL "status reads them back" "$out"
out=$("$H" -s "$S" reset 'login:we{ir}d %x y' 2>/dev/null)
[ "$out" = "reset=1" ] && tap OK "reset forgets the counts" || tap FAIL "reset forgets the counts" "$out"

# --- the layout before (a hash per counter, its index, an older lock key) is taken over ---
now=$(cli time | head -1)
cur=$((now - now % 38)) # 3600 s windows: slots of 38 s
cli hset 'rm:{login:old}:c:kept' v 2 k s w 3600 t 3 o $((cur - 96 * 38)) c "$cur" q 2 L 0 x 0 n 0 \
	"s$((cur - 38))" 1 >/dev/null
cli expire 'rm:{login:old}:c:kept' 3700 >/dev/null
cli set 'rm:{login:old}:l:held' $((now + 600)) EX 600 >/dev/null
cli sadd 'rm:{login:old}:i' kept held >/dev/null
cli expire 'rm:{login:old}:i' 3700 >/dev/null
a=$("$H" -s "$S" one login:old kept 4 2>/dev/null)
b=$("$H" -s "$S" one login:old kept 4 2>/dev/null)
c=$("$H" -s "$S" one login:old held 100 2>/dev/null)
keys=$(cli --scan --pattern 'rm:{login:old}*' | tr '\n' ' ')
case "$a|$b|$c|$keys" in
"OK count=4 "*"|EXCEEDED count=4 "*"|LOCKED count=0 until=$((now + 600)) "*"|rm:{login:old}:p ")
	tap OK "the layout before is taken over: its 3 counted, its lock held, its keys gone" ;;
*) tap FAIL "the layout before is taken over" "$a | $b | $c | $keys" ;;
esac

# --- a wrong password: a clear error when the store opens ---
PW=$(redis_free_port) && redis_start pw "$PW" --requirepass s3cret
out=$("$H" -s "127.0.0.1:$PW" -p wrong open 2>&1)
rc=$?
[ $rc -ne 0 ] && printf '%s\n' "$out" | grep -q "error: redis 127.0.0.1:$PW: AUTH: WRONGPASS" &&
	tap OK "a wrong password is a clear error when the store opens" ||
	tap FAIL "a wrong password is a clear error when the store opens" "rc=$rc $out"
out=$("$H" -s "127.0.0.1:$PW" -p s3cret one login:pw p 5 2>&1 | grep -v '^log')
case $out in OK*) tap OK "the right password works" ;; *) tap FAIL "the right password works" "$out" ;; esac
out=$("$H" -s "127.0.0.1:$PW" open 2>&1)
printf '%s\n' "$out" | grep -q "error: redis .*NOAUTH" &&
	tap OK "no password where one is needed: a clear error" || tap FAIL "no password where one is needed" "$out"
redis_kill pw

# outage MODE SIGNAL - a run of 4 s, 8 threads, Redis killed (or stopped) after 1 s
outage() {
	local mode=$1 sig=$2 key="login:out-$1-$2" out log
	"$H" -s "$S" -e "$mode" -H 4 -t 100 run 4 "$key" o 1000000 8 >"$RD/run.out" 2>"$RD/run.log" &
	sleep 1
	redis_kill main "$sig"
	wait
	out=$(cat "$RD/run.out")
	log=$(cat "$RD/run.log")
	echo "$out" >"$RD/outage-$mode-$sig"
	if [ "$sig" = STOP ]; then redis_kill main CONT; else redis_start main "$P"; fi
	[ "$(field late "$out")" = 0 ] &&
		tap OK "$mode, Redis $sig: every decision within timeout_ms + 50 ms (max $(field max_ms "$out") ms)" ||
		tap FAIL "$mode, Redis $sig: every decision within timeout_ms + 50 ms" "$out"
	[ "$(printf '%s\n' "$log" | grep -c 'unavailable')" = 1 ] &&
		tap OK "$mode, Redis $sig: the outage is logged once" ||
		tap FAIL "$mode, Redis $sig: the outage is logged once" "$log"
	case $mode in
	tempfail) [ "$(field errors "$out")" -gt 0 ] && [ "$(field exceeded "$out")" = 0 ] ;;
	accept) [ "$(field errors "$out")" = 0 ] && [ "$(field admitted "$out")" -gt 0 ] ;;
	local) [ "$(field errors "$out")" = 0 ] && [ "$(field admitted "$out")" -gt 0 ] ;;
	esac && tap OK "$mode, Redis $sig: decisions get the $mode answer ($out)" ||
		tap FAIL "$mode, Redis $sig: decisions get the $mode answer" "$out"
}
for sig in KILL STOP; do
	for mode in tempfail accept local; do
		outage "$mode" "$sig"
	done
done

# --- on_error = "local": each host enforces max / hosts ---
"$H" -s "127.0.0.1:1" -e local -H 4 burst login:dana share 100 4 50 >"$RD/share.out" 2>/dev/null
out=$(cat "$RD/share.out")
[ "$(field admitted "$out")" = 25 ] && tap OK "local: with Redis away, max 100 over 4 hosts admits 25 here" ||
	tap FAIL "local: with Redis away, max 100 over 4 hosts admits 25 here" "$out"

# --- a lock seen from Redis stays in force while Redis is away (accept) ---
"$H" -s "$S" -e accept run 3 login:erin kept 5 4 60 >"$RD/kept.out" 2>"$RD/kept.log" &
sleep 1
redis_kill main
wait
redis_start main "$P"
out=$(cat "$RD/kept.out")
[ "$(field admitted "$out")" = 5 ] && [ "$(field locked "$out")" -gt 0 ] &&
	tap OK "accept: a lock seen before the outage keeps refusing during it ($out)" ||
	tap FAIL "accept: a lock seen before the outage keeps refusing during it" "$out $(cat "$RD/kept.log")"

# --- limits resume when Redis returns ---
"$H" -s "$S" -e tempfail run 5 login:fay back 1000000 4 >"$RD/back.out" 2>"$RD/back.log" &
sleep 1
redis_kill main
sleep 1
redis_start main "$P"
wait
# what the counter holds, as Redis has it
counted=$(field count "$("$H" -s "$S" status login:fay 2>/dev/null)")
grep -q 'available again' "$RD/back.log" && [ "${counted:-0}" -gt 0 ] &&
	tap OK "after Redis returns the same process counts in it again ($counted counted there)" ||
	tap FAIL "after Redis returns the same process counts in it again" "counted=$counted $(cat "$RD/back.out" "$RD/back.log")"
out=$("$H" -s "$S" burst login:gus again 50 8 20 2>/dev/null)
[ "$(field admitted "$out")" = 50 ] && tap OK "and enforces exactly again ($out)" ||
	tap FAIL "and enforces exactly again" "$out"

# --- Sentinel: master, replica, 3 sentinels; the master killed ---
M=$(redis_free_port) && redis_start smaster "$M" &&
	R=$(redis_free_port) && redis_start sreplica "$R" --replicaof 127.0.0.1 "$M" || {
	tap FAIL "sentinel set-up"
	echo "1..$n"
	exit 1
}
SS=
for i in 1 2 3; do
	p=$(redis_free_port) && redis_sentinel "sent$i" "$p" "$M" && SS="$SS -S 127.0.0.1:$p"
done
sleep 2 # the sentinels find the replica and each other
# shellcheck disable=SC2086
out=$("$H" -m mail $SS burst login:hal fo 100 4 10 2>/dev/null)
[ "$(field admitted "$out")" = 40 ] && tap OK "sentinel: decisions go to the master it names" ||
	tap FAIL "sentinel: decisions go to the master it names" "$out"
# shellcheck disable=SC2086
"$H" -m mail $SS -e tempfail run 14 login:ivy fo 1000000 4 >"$RD/fo.out" 2>"$RD/fo.log" &
sleep 2
redis_kill smaster
wait
grep -q "failover: master now 127.0.0.1:$R" "$RD/fo.log" &&
	tap OK "sentinel: the store follows the new master without a restart" ||
	tap FAIL "sentinel: the store follows the new master without a restart" "$(cat "$RD/fo.out" "$RD/fo.log" "$RD"/sent1/log | tail -40)"
[ "$(field late "$(cat "$RD/fo.out")")" = 0 ] && tap OK "sentinel: no decision waited beyond the timeout" ||
	tap FAIL "sentinel: no decision waited beyond the timeout" "$(cat "$RD/fo.out")"
# shellcheck disable=SC2086
out=$("$H" -m mail $SS burst login:jo after 50 8 20 2>/dev/null)
n2=$(field count "$("$H" -s "127.0.0.1:$R" status login:jo 2>/dev/null)")
[ "$(field admitted "$out")" = 50 ] && [ "$n2" = 50 ] &&
	tap OK "sentinel: after the failover, limits are enforced exactly through the new master" ||
	tap FAIL "sentinel: after the failover, limits are enforced exactly through the new master" "$out n2=$n2"

echo "1..$n"
[ "$failed" -eq 0 ]
