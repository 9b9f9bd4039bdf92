#!/bin/bash
# daemon.sh - two relay-milter daemons sharing one private Redis (issue 14):
# exact totals from 2 x 8 concurrent connections, a lock set through one
# honoured by the other, counts surviving a restart, --control reading
# Redis, and the start-up checks of -t (a wrong password, a password in a
# file others can read).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
: "${MILTERTEST:=$(command -v miltertest || true)}"
milter="$top_builddir/milter/relay-milter"
here="$top_srcdir/tests/store"

# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"
# shellcheck source=../lib/redis.sh
. "$top_srcdir/tests/lib/redis.sh"

if ! redis_have || [ -z "$MILTERTEST" ] || [ ! -x "$MILTERTEST" ]; then
	echo "1..0 # SKIP needs redis-server, redis-sentinel, redis-cli and miltertest"
	exit 0
fi
redis_init || exit 1
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	redis_cleanup
}
trap cleanup EXIT INT TERM

REDIS_PASS=pass-$$-$RANDOM
P=$(redis_free_port) && redis_start main "$P" --requirepass "$REDIS_PASS" || {
	echo "Bail out! cannot start redis-server"
	exit 1
}
cli() { redis-cli -h 127.0.0.1 -p "$P" --no-auth-warning -a "$REDIS_PASS" "$@"; }

# conf NAME [PASSWORD] - the instance's configuration, mode 0600
conf() {
	sed "s|@WORK@|$RD|g; s|@NAME@|$1|g; s|@PORT@|$P|g; s|@PASSWORD@|${2:-$REDIS_PASS}|g" \
		"$here/daemon.conf" >"$RD/$1.conf"
	chmod 600 "$RD/$1.conf"
}

# start NAME - a daemon on $RD/NAME.sock, its log in $RD/NAME.log; its pid in pid_NAME
start() {
	"$milter" -f -c "$RD/$1.conf" -s "unix:$RD/$1.sock" 2>>"$RD/$1.log" &
	eval "pid_$1=$!"
	pids="$pids $!"
	for _ in $(seq 50); do [ -S "$RD/$1.sock" ] && break; sleep 0.1; done
}

stop() {
	local p
	eval "p=\$pid_$1"
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}

# spread NAME LOGIN N TAG - one connection, N recipients; prints accepted=K refused=R
spread() {
	"$MILTERTEST" -D SOCKET="unix:$RD/$1.sock" -D LOGIN="$2" -D N="$3" -D TAG="$4" \
		-s "$here/spread.lua" 2>&1 | grep '^accepted='
}

conf a
conf b
start a
start b

# --- exact: 8 connections to each daemon, 50 recipients each, limit 300 ---
for i in 1 2 3 4 5 6 7 8; do
	spread a spread 50 "a$i" >"$RD/a$i.out" &
	spread b spread 50 "b$i" >"$RD/b$i.out" &
done
wait_jobs() { for j in $(jobs -p); do case " $pids " in *" $j "*) ;; *) wait "$j" ;; esac; done; }
wait_jobs
total=$(cat "$RD"/a?.out "$RD"/b?.out | sed -n 's/^accepted=\([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
via_a=$(cat "$RD"/a?.out | sed -n 's/^accepted=\([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
[ "$total" = 300 ] &&
	tap OK "two daemons x 8 connections, 800 recipients, limit 300: exactly 300 accepted ($via_a through a)" ||
	tap FAIL "two daemons x 8 connections: exactly 300 accepted" "total=$total $(cat "$RD"/a?.out "$RD"/b?.out | tr '\n' ' ')"

# --- a lock set through a holds in b ---
out=$(spread a locked 6 la)
case $out in "accepted=5 refused=1") tap OK "a: the 6th recipient of 'locked' exceeds and locks it" ;;
*) tap FAIL "a: the 6th recipient of 'locked' exceeds and locks it" "$out" ;; esac
out=$(spread b locked 1 lb)
sleep 0.2
grep -q 'rule=tight reason=locked' "$RD/b.log" && [ "$out" = "accepted=0 refused=1" ] &&
	tap OK "b: the lock set through a refuses there too (reason=locked)" ||
	tap FAIL "b: the lock set through a refuses there too" "$out $(tail -3 "$RD/b.log")"

# --- --control reads and lifts what is in Redis, from either daemon ---
out=$("$milter" -c "$RD/b.conf" --control status login=spread 2>&1)
case $out in *"limit=login-hour count=300 "*) tap OK "b --control status: count=300 from Redis" ;;
*) tap FAIL "b --control status: count=300 from Redis" "$out" ;; esac
out=$("$milter" -c "$RD/b.conf" --control unlock login=locked 2>&1)
out2=$(spread a locked 1 lc)
case $out in "ok 1 "*) [ "$out2" = "accepted=0 refused=1" ] ;; *) false ;; esac &&
	tap OK "b --control unlock lifts the lock for a too (then it is over max again)" ||
	tap FAIL "b --control unlock lifts the lock for a too" "$out / $out2"

# --- counts survive a restart of a daemon (they live in Redis) ---
stop a
start a
out=$(spread a spread 1 ra)
[ "$out" = "accepted=0 refused=1" ] && tap OK "a restarted: 'spread' is still at its limit" ||
	tap FAIL "a restarted: 'spread' is still at its limit" "$out"
grep -q 'store: redis 127.0.0.1:'"$P"': connected' "$RD/a.log" &&
	tap OK "a logs the store it connected to" || tap FAIL "a logs the store it connected to" "$(cat "$RD/a.log")"

# --- Redis gone: on_error tempfail answers 4.3.0 within the timeout, logged once ---
redis_kill main STOP
t0=$(date +%s%N)
out=$(spread b fresh 5 fb)
ms=$((($(date +%s%N) - t0) / 1000000))
redis_kill main CONT
sleep 0.3
[ "$out" = "accepted=0 refused=5" ] && [ "$(grep -c 'unavailable' "$RD/b.log")" = 1 ] &&
	grep -q 'reason=store-failure' "$RD/b.log" &&
	tap OK "b, Redis frozen: 5 recipients tempfailed in ${ms} ms (timeout 200 ms), outage logged once" ||
	tap FAIL "b, Redis frozen: recipients tempfailed, outage logged once" "$out $ms ms $(grep -c unavailable "$RD/b.log")"
ok=
for _ in $(seq 30); do
	out=$(spread b fresh2 1 fc)
	[ "$out" = "accepted=1 refused=0" ] && { ok=1; break; }
	sleep 0.1
done
[ -n "$ok" ] && grep -q 'available again' "$RD/b.log" &&
	tap OK "b: limits resume when Redis answers again" || tap FAIL "b: limits resume when Redis answers again" "$out"

# --- -t: a wrong password is a clear start-up error; a readable password is refused ---
conf wrong not-the-password
out=$("$milter" -t -c "$RD/wrong.conf" 2>&1)
rc=$?
[ $rc -ne 0 ] && printf '%s\n' "$out" | grep -q "store: redis 127.0.0.1:$P: AUTH: WRONGPASS" &&
	tap OK "-t with a wrong password: $(printf '%s\n' "$out" | head -1)" ||
	tap FAIL "-t with a wrong password: a clear error" "rc=$rc $out"
conf open
chmod 644 "$RD/open.conf"
out=$("$milter" -t -c "$RD/open.conf" 2>&1)
rc=$?
[ $rc -ne 0 ] && printf '%s\n' "$out" | grep -q "password: .* is readable by others" &&
	tap OK "-t refuses a password in a file others can read" ||
	tap FAIL "-t refuses a password in a file others can read" "rc=$rc $out"
conf good
out=$("$milter" -t -c "$RD/good.conf" 2>&1) && tap OK "-t with the right password passes" ||
	tap FAIL "-t with the right password passes" "$out"

echo "1..$n"
[ "$failed" -eq 0 ]
