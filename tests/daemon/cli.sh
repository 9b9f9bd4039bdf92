#!/bin/sh
# cli.sh - the daemon's command line: -t, -V, -h, bad options, -p, -u,
# socket permissions, detaching without -f, and an inet socket.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
milter="$top_builddir/milter/relay-milter"
work=$(mktemp -d /tmp/rm-cli.XXXXXX)
chmod 755 "$work"
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	sleep 0.2
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

n=0
failed=0
check() { # check DESCRIPTION COMMAND...: the command's status is the verdict
	desc=$1
	shift
	n=$((n + 1))
	if "$@" >"$work/out" 2>&1; then
		echo "ok $n - $desc"
	else
		failed=$((failed + 1))
		echo "not ok $n - $desc"
		sed 's/^/# /' "$work/out" | head -10
	fi
}

conf="$work/good.conf"
cat >"$conf" <<CONF
local_domains = [ "example.com" ];
trusted_networks = [ "127.0.0.0/8" ];
socket_mode = "0666";
CONF
chmod 644 "$conf"
bad="$work/bad.conf"
printf 'local_domains = [ "example.com" ];\ntrusted_networks = [ "10.0.0.1/8" ];\ncolour = 1;\n' >"$bad"
chmod 644 "$bad"

# wait_for TEST [TENTHS]: poll up to 5 s, or TENTHS tenths of a second
wait_for() {
	for _ in $(seq "${2:-50}"); do
		eval "$1" && return 0
		sleep 0.1
	done
	return 1
}

check "-t accepts a valid configuration" "$milter" -t -c "$conf"
check "-t refuses a broken one with exit 1" sh -c "! '$milter' -t -c '$bad'"
check "-t names FILE:LINE of every error" sh -c "
	'$milter' -t -c '$bad' 2>&1 | grep -qx '$bad:2: trusted_networks: \"10.0.0.1/8\": address has bits set beyond the prefix length' &&
	'$milter' -t -c '$bad' 2>&1 | grep -qx '$bad:3: unknown key \"colour\"'"
check "a broken configuration stops the daemon before it listens" sh -c "
	! '$milter' -f -c '$bad' -s unix:$work/never.sock && [ ! -e $work/never.sock ]"
check "-V prints the version" sh -c "'$milter' -V | grep -q '^relay-milter [0-9]'"
check "-h prints usage and exits 0" sh -c "'$milter' -h | grep -q '^usage: relay-milter'"
check "an unknown option exits 2" sh -c "'$milter' -Z; [ \$? -eq 2 ]"
check "a stray argument exits 2" sh -c "'$milter' -t -c '$conf' extra; [ \$? -eq 2 ]"

# Foreground with -p and a unix socket of mode 0666.
"$milter" -f -c "$conf" -s "unix:$work/fg.sock" -p "$work/fg.pid" 2>"$work/fg.log" &
fg=$!
pids="$pids $fg"
check "-f creates the unix socket" wait_for "[ -S $work/fg.sock ]"
check "socket_mode 0666 is applied" sh -c "[ \$(stat -c %a $work/fg.sock) = 666 ]"
check "-p writes the daemon's pid" sh -c "[ \"\$(cat $work/fg.pid)\" = $fg ]"
check "-f logs to stderr" grep -q "listening on unix:$work/fg.sock" "$work/fg.log"
kill "$fg"
# libmilter's listener notices the stop only at its next poll: allow 20 s
check "SIGTERM removes the pid file" wait_for "[ ! -e $work/fg.pid ]" 200

# Without -f it detaches; the pid file names the background process.
"$milter" -c "$conf" -s "unix:$work/bg.sock" -p "$work/bg.pid"
check "without -f the parent returns at once, the daemon keeps running" \
	wait_for "[ -s $work/bg.pid ] && kill -0 \$(cat $work/bg.pid)"
bg=$(cat "$work/bg.pid" 2>/dev/null)
pids="$pids $bg"

# -u drops privileges (only meaningful as root).
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	"$milter" -f -c "$conf" -s "unix:$work/u.sock" -u nobody 2>"$work/u.log" &
	u=$!
	pids="$pids $u"
	check "-u runs the daemon as that user" wait_for \
		"[ \"\$(awk '/^Uid:/ {print \$2}' /proc/$u/status)\" = \$(id -u nobody) ]"
	check "-u hands the socket to that user" sh -c "[ \$(stat -c %U $work/u.sock) = nobody ]"
else
	n=$((n + 1)); echo "ok $n - # SKIP -u needs root"
fi

# An inet socket on a free loopback port.
# free_port - a loopback port nobody listens on now
free_port() {
	while :; do
		p=$(awk 'BEGIN { srand(); print 20000 + int(rand() * 20000) }')
		grep -q ":$(printf '%04X' "$p") " /proc/net/tcp /proc/net/tcp6 2>/dev/null || break
	done
	echo "$p"
}
port=$(free_port)
"$milter" -f -c "$conf" -s "inet:$port@127.0.0.1" 2>"$work/inet.log" &
pids="$pids $!"
hexport=$(printf '%04X' "$port")
check "inet:PORT@127.0.0.1 listens on loopback" wait_for \
	"grep -q '0100007F:$hexport 00000000:0000 0A' /proc/net/tcp"

echo "1..$n"
[ $failed -eq 0 ]
