# redis.sh - private redis-server and redis-sentinel instances for the tests;
# source it after tap.sh. Every instance listens on 127.0.0.1 only, on a port
# chosen free at run time, in its own folder under $RD, with no persistence;
# redis_cleanup (install it with trap) stops them all.
# shellcheck shell=bash

RD=
# redis_have - are the server programs installed?
redis_have() {
	command -v redis-server >/dev/null 2>&1 && command -v redis-sentinel >/dev/null 2>&1 &&
		command -v redis-cli >/dev/null 2>&1
}

# redis_init - the folder every instance lives in
redis_init() {
	RD=$(mktemp -d "${TMPDIR:-/tmp}/rm-redis.XXXXXX") || return 1
}

# redis_free_port - a TCP port nobody uses, below the ephemeral range
redis_free_port() {
	local lo=10000 hi p i
	hi=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "${hi:-0}" -gt $((lo + 1000)) ] 2>/dev/null || hi=32768
	for i in $(seq 1 50); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
		if ! ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# redis_wait PORT - until it answers PING (5 s)
redis_wait() {
	local i
	for i in $(seq 1 50); do
		redis-cli -h 127.0.0.1 -p "$1" --no-auth-warning ${REDIS_PASS:+-a "$REDIS_PASS"} ping 2>/dev/null |
			grep -q PONG && return 0
		sleep 0.1
	done
	return 1
}

# redis_start NAME PORT [ARG...] - a redis-server on 127.0.0.1:PORT in $RD/NAME
redis_start() {
	local name=$1 port=$2
	shift 2
	mkdir -p "$RD/$name" || return 1
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$RD/$name" --daemonize yes --pidfile "$RD/$name/pid" \
		--logfile "$RD/$name/log" "$@" || return 1
	redis_wait "$port"
}

# redis_pid NAME - the instance's process id
redis_pid() {
	cat "$RD/$1/pid" 2>/dev/null
}

# redis_kill NAME [SIGNAL] - stop one instance (KILL by default)
redis_kill() {
	local pid
	pid=$(redis_pid "$1") || return 1
	kill -"${2:-KILL}" "$pid" 2>/dev/null
	if [ "${2:-KILL}" = KILL ]; then
		while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
		rm -f "$RD/$1/pid"
	fi
}

# redis_sentinel NAME PORT MASTERPORT - a sentinel watching master "mail"
redis_sentinel() {
	local name=$1 port=$2 mport=$3
	mkdir -p "$RD/$name" || return 1
	cat >"$RD/$name/sentinel.conf" <<EOC
port $port
bind 127.0.0.1
daemonize yes
pidfile $RD/$name/pid
logfile $RD/$name/log
dir $RD/$name
sentinel monitor mail 127.0.0.1 $mport 2
sentinel down-after-milliseconds mail 1000
sentinel failover-timeout mail 4000
sentinel parallel-syncs mail 1
EOC
	redis-sentinel "$RD/$name/sentinel.conf" || return 1
	redis_wait "$port"
}

# redis_cleanup - stop every instance (CONT first: a stopped one cannot die of TERM)
redis_cleanup() {
	local f pid
	[ -n "$RD" ] && [ -d "$RD" ] || return 0
	for f in "$RD"/*/pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill -CONT "$pid" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
	done
	rm -rf "$RD"
}
