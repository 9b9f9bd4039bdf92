# callgrind-measure.sh - measure(): one milter's instructions per transaction
# under callgrind, for tests/bench/callgrind.sh (sourced, also inside the
# private mount namespace of its syslog rows). Needs LOAD, work, TX, WARM.
# shellcheck shell=sh

# measure NAME MODE CLIENTS LOADARGS -- CMD...: Ir per transaction, printed.
# With PIDFILE set, CMD detaches and the pid to control is read from it.
measure() {
	name=$1 mode=$2 clients=$3 extra=$4
	shift 5
	sock="$work/$name.sock"
	rm -f "$sock" "$work/$name.out"*
	valgrind --tool=callgrind --callgrind-out-file="$work/$name.out" "$@" \
	    2>>"$work/$name.log" &
	vpid=$!
	for _ in $(seq 600); do [ -S "$sock" ] && break; sleep 0.1; done
	if [ -n "${PIDFILE:-}" ]; then
		for _ in $(seq 100); do [ -s "$PIDFILE" ] && break; sleep 0.1; done
		vpid=$(cat "$PIDFILE")
	fi
	cg_run "$WARM" >/dev/null
	callgrind_control -z "$vpid" >/dev/null
	line=$(cg_run "$TX")
	callgrind_control -d "$vpid" >/dev/null
	kill "$vpid" 2>/dev/null || true
	wait "$vpid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$vpid" 2>/dev/null || break; sleep 0.1; done
	ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$(ls "$work/$name.out".* | sort | tail -1)" 2>/dev/null || echo 0)
	case $line in *" errors=0 wrong=0 "*) ;; *) echo "callgrind: $name: $line" >&2 ;; esac
	echo "$((${ir:-0} / TX))"
}

# cg_run N - N transactions of 3 recipients, a third of them refused
cg_run() {
	"$LOAD" -s "unix:$sock" -c 1 -M "$mode" -n "$1" -r 3 -m local=2,remote=1 \
	    -L local.example -R remote.example -a "$clients" $extra -k 2>&1 |
	    sed -n 's/^milterload: mode=/mode=/p'
}
