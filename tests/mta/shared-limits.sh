#!/bin/bash
# shared-limits.sh - one Redis shared by two mail hosts, through real
# Postfix (issue 14): two private Postfix instances on loopback, each
# with its own relay-milter, both milters on one private redis-server.
# One login spreading its recipients over both hosts gets exactly its
# limit in total, reply by reply; Postfix delivers exactly the accepted
# recipients; a lock set off through host A is honoured by host B; each
# milter's decision lines carry its own Postfix's queue id. A control
# case at the end runs the same spread with the embedded memory store,
# where each host counts alone and the total is twice the limit: the
# shared case is what tells the two apart.

# shellcheck source=../lib/mta.sh
. "$(dirname "$0")/../lib/mta.sh"
# shellcheck source=../lib/redis.sh
. "$top_srcdir/tests/lib/redis.sh"

mta_need_root "the shared-limits Postfix test"
command -v postfix >/dev/null || { echo "1..0 # SKIP postfix is not installed"; exit 0; }
command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
	{ echo "1..0 # SKIP redis-server is not installed"; exit 0; }
[ -x "$RELAY_MILTER" ] || tap_bail "$RELAY_MILTER not built"
[ -x "$SMTPCHAT" ] || tap_bail "$SMTPCHAT not built"
mta_init shared-limits

MAX=7		# login-cap: remote recipients per login and hour, over both hosts
ROUNDS=5	# transactions per host, interleaved A, B, A, B, ...
declare -A PORT PF PID	# per host: its Postfix's SMTP port and directory, its milter's pid

# --- one private Redis ------------------------------------------------------
redis_init || tap_bail "cannot make the Redis directory"
mta_atexit redis_cleanup
RPORT=$(redis_free_port) || tap_bail "no free port for Redis"
redis_start main "$RPORT" || { mta_diag "$RD/main/log"; tap_bail "redis-server did not start"; }
cli() { redis-cli -h 127.0.0.1 -p "$RPORT" "$@"; }

# --- two relay-milters ------------------------------------------------------
# milter_conf HOST STORE - the configuration of host HOST's milter, with
# store STORE ("redis" or "memory"), in $MTA_TMP/milter-HOST.conf
milter_conf() {
	local h=$1 conf=$MTA_TMP/milter-$1.conf
	mta_milter_config "$conf" "unix:$MTA_SOCKDIR/$h.sock" ||
		tap_bail "cannot write the configuration of relay-milter $h"
	cat >>"$conf" <<EOF
control_socket = "$MTA_SOCKDIR/$h.control";
limits = (
  { name = "login-cap"; per = "login"; count = "recipients"; max = $MAX; window = "1h";
    recipient_local = false; },
  { name = "net-lock"; per = "login"; login = [ "roamer" ]; count = "networks"; max = 1;
    window = "1h"; lock = "1h"; recipient_local = false; }
);
EOF
	if [ "$2" = redis ]; then
		cat >>"$conf" <<EOF
store = { type = "redis"; servers = [ "127.0.0.1:$RPORT" ]; prefix = "rm:"; timeout_ms = 100;
  on_error = "tempfail"; };
EOF
	else
		echo 'store = { type = "memory"; };' >>"$conf"
	fi
	"$RELAY_MILTER" -t -c "$conf" >"$MTA_TMP/milter-$h.t" 2>&1 ||
		{ mta_diag "$MTA_TMP/milter-$h.t"; tap_bail "relay-milter -t refuses $conf"; }
}

# milter_up HOST STORE - (re)start host HOST's milter; its pid in PID[HOST]
milter_up() {
	local h=$1
	[ -n "${PID[$h]:-}" ] && mta_milter_stop "${PID[$h]}" "unix:$MTA_SOCKDIR/$h.sock"
	milter_conf "$h" "$2"
	# shellcheck disable=SC2034 # mta_milter_start reads them
	MTA_MILTER_CONF=$MTA_TMP/milter-$h.conf MTA_MILTER_LOG=$MTA_TMP/milter-$h.log
	mta_milter_start "unix:$MTA_SOCKDIR/$h.sock" || tap_bail "relay-milter $h did not start"
	PID[$h]=$MTA_MILTER_PID
}

# --- two Postfix instances ---------------------------------------------------
for h in A B; do
	milter_up $h redis
	cat >"$MTA_TMP/milter-$h.cf" <<EOF
smtpd_milters = unix:$MTA_SOCKDIR/$h.sock
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
EOF
	port=$(mta_free_port) || tap_bail "no free port"
	mta_postfix_setup "pf-$h" "$port" "$MTA_TMP/milter-$h.cf"
	mta_postfix_start || tap_bail "Postfix $h did not start"
	PORT[$h]=$port PF[$h]=$MTA_PF
done
tap_ok "one redis-server (port $RPORT), two relay-milters on it, two Postfix (ports ${PORT[A]}, ${PORT[B]})"

# host H - the SMTP sessions that follow go to Postfix H
host() { MTA_PORT=${PORT[$1]} MTA_PF=${PF[$1]}; }

# send HOST CLIENT LOGIN TAG RCPT=WANT... - one session and transaction on
# host HOST; each RCPT reply must start with WANT; the accepted ones get
# DATA. Every recipient lands in $MTA_TMP/TAG.HOST.accepted or .refused.
send() {
	local h=$1 client=$2 login=$3 tag=$4 spec rcpt want what
	shift 4
	host "$h"
	if ! mta_session_open postfix "$client" "$login" shared.example.net; then
		tap_fail "$h: session from $client as $login" "$MTA_WHY"
		mta_chat_close
		return
	fi
	mta_chat "MAIL FROM:<$login@example.com>"
	for spec in "$@"; do
		rcpt=${spec%%=*} want=${spec#*=}
		what="$h $client $login: RCPT TO:<$rcpt>"
		mta_chat "RCPT TO:<$rcpt>"
		case $REPLY in
		"$want"*) tap_ok "$what: ${REPLY%%[[:cntrl:]]*}" ;;
		*) tap_fail "$what: want $want" "got: $REPLY" ;;
		esac
		case $REPLY in
		2*) echo "$rcpt" >>"$MTA_TMP/$tag.$h.accepted" ;;
		*) echo "$rcpt" >>"$MTA_TMP/$tag.$h.refused" ;;
		esac
	done
	mta_chat_data "$tag"
	case $REPLY in 250*) ;; *) tap_fail "$h: end of DATA" "got: $REPLY" ;; esac
	mta_chat_close
}

# spread LOGIN TAG MODE - ROUNDS transactions on each host, interleaved;
# each has a local recipient (never counted: it opens Postfix's queue
# file, so every refusal has a queue id) and two remote ones. MODE
# "shared": the remote recipients up to MAX in total get 250, the rest
# 451 4.7.1; "per-host": each host counts alone, MAX on each.
spread() {
	local login=$1 tag=$2 mode=$3 i h n=0 _ seen want
	local -A on=([A]=0 [B]=0)
	local -a args
	for i in $(seq 1 "$ROUNDS"); do
		for h in A B; do
			args=("local-$tag$h$i@example.com=250")
			for _ in 1 2; do
				n=$((n + 1)) on[$h]=$((on[$h] + 1))
				[ "$mode" = shared ] && seen=$n || seen=${on[$h]}
				want="451 4.7.1"
				[ "$seen" -le $MAX ] && want=250
				args+=("$tag$n@example.org=$want")
			done
			send "$h" 203.0.113.50 "$login" "$tag" "${args[@]}"
		done
	done
}

# delivered HOST - the recipients Postfix HOST delivered (discarded), sorted
delivered() {
	sed -n 's/.* postfix\/discard\[[0-9]*\]: [0-9A-F]*: to=<\([^>]*\)>,.* status=sent.*/\1/p' \
		"${PF[$1]}/maillog" 2>/dev/null | sort -u
}

# check_delivered TAG - each Postfix delivered exactly the recipients it accepted
check_delivered() {
	local tag=$1 h want got i
	for h in A B; do
		want=$(cat "$MTA_TMP"/*."$h".accepted | sort -u)
		for i in $(seq 1 300); do
			got=$(delivered "$h")
			[ "$got" = "$want" ] && break
			sleep 0.1
		done
		if [ "$got" = "$want" ]; then
			tap_ok "$tag: Postfix $h delivered exactly its $(echo "$want" | wc -l) accepted recipients"
		else
			tap_fail "$tag: Postfix $h delivered exactly its accepted recipients" \
				"missing: $(comm -23 <(echo "$want") <(echo "$got") | tr '\n' ' ')" \
				"extra:   $(comm -13 <(echo "$want") <(echo "$got") | tr '\n' ' ')"
		fi
	done
}

# count TAG HOST accepted|refused - how many remote recipients of TAG
count() { local c; c=$(grep -c "@example.org" "$MTA_TMP/$1.$2.$3" 2>/dev/null); echo "${c:-0}"; }

# --- one login, its recipients spread over both hosts ------------------------
spread spreader s shared
a=$(count s A accepted) b=$(count s B accepted)
[ $((a + b)) = $MAX ] &&
	tap_ok "spreader: exactly $MAX remote recipients accepted in total ($a through A, $b through B)" ||
	tap_fail "spreader: exactly $MAX remote recipients accepted in total" "A: $a, B: $b"
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ "$(count s B refused)" -gt 0 ] && [ "$(count s A refused)" -gt 0 ] &&
	tap_ok "spreader: both hosts accepted some and refused some" ||
	tap_fail "spreader: both hosts accepted some and refused some" \
		"A: $a accepted, $(count s A refused) refused; B: $b accepted, $(count s B refused) refused"

# --- a lock set off through A holds in B -------------------------------------
# net-lock allows roamer one /24: a second network exceeds it and locks
send A 203.0.113.50 roamer l local-l1@example.com=250 l1@example.net=250
# B sees the network A counted (it is the same one): accepted
send B 203.0.113.60 roamer l local-l2@example.com=250 l2@example.net=250
send A 198.51.100.7 roamer l local-l3@example.com=250 l3@example.net="451 4.7.1"
# back on the first network, through B: only the lock refuses it
send B 203.0.113.50 roamer l local-l4@example.com=250 l4@example.net="451 4.7.1"
sleep 0.2
lockline=$(grep -F "rcpt=<l4@example.net>" "$MTA_TMP/milter-B.log")
case $lockline in
*"rule=net-lock reason=locked"*) tap_ok "B refused roamer for the lock set through A (rule=net-lock reason=locked)" ;;
*) tap_fail "B refused roamer for the lock set through A" "B's line: $lockline" ;;
esac
grep -q "event=lock limit=net-lock key=login:roamer " "$MTA_TMP/milter-A.log" &&
	! grep -q "event=lock" "$MTA_TMP/milter-B.log" &&
	tap_ok "A logged the lock (event=lock), B only honoured it" ||
	tap_fail "A logged the lock (event=lock), B only honoured it" \
		"A: $(grep event= "$MTA_TMP/milter-A.log" | tail -2)" "B: $(grep event= "$MTA_TMP/milter-B.log" | tail -2)"

check_delivered shared

# --- each milter's decision lines --------------------------------------------
# decisions HOST TAG - every recipient HOST's Postfix answered has one
# decision line in HOST's milter log (and none in the other's); every
# remote one carries a queue id of HOST's Postfix (the local recipient
# that opens the transaction comes before Postfix opens its queue file:
# NOQUEUE); the refused remote ones say rule=login-cap reason=rate-limit
decisions() {
	local h=$1 tag=$2 other=A log r line qid n=0
	local -a bad=()
	[ "$h" = A ] && other=B
	log=$MTA_TMP/milter-$h.log
	while read -r r; do
		n=$((n + 1))
		line=$(grep -F "rcpt=<$r> action=" "$log")
		[ "$(echo "$line" | grep -c .)" = 1 ] || { bad+=("$r: $(echo "$line" | grep -c .) lines"); continue; }
		grep -qF "rcpt=<$r> action=" "$MTA_TMP/milter-$other.log" && bad+=("$r: also in $other's log")
		qid=$(echo "$line" | sed -n 's/.*relay-milter[^:]*: \([0-9A-Z][0-9A-Z]*\): .*/\1/p')
		case $r in local-*) [ "$qid" = NOQUEUE ] && continue ;; esac
		if [ -z "$qid" ] || ! grep -q "postfix/cleanup\[[0-9]*\]: $qid: " "${PF[$h]}/maillog"; then
			bad+=("$r: queue id \"$qid\" is not one of Postfix $h's")
		fi
		if grep -qxF "$r" "$MTA_TMP/$tag.$h.accepted"; then
			case $line in *" action=accept "*) ;; *) bad+=("$r: $line") ;; esac
		else
			case $line in
			*" action=tempfail code=451 ecode=4.7.1 rule=login-cap reason=rate-limit"*) ;;
			*) bad+=("$r: $line") ;;
			esac
		fi
	done < <(cat "$MTA_TMP/$tag.$h.accepted" "$MTA_TMP/$tag.$h.refused" 2>/dev/null)
	if [ ${#bad[@]} = 0 ] && [ $n -gt 0 ]; then
		tap_ok "$tag: $h's milter logged all $n decisions of Postfix $h, with its queue ids"
	else
		tap_fail "$tag: $h's milter logged every decision of Postfix $h, with its queue ids" "${bad[@]}"
	fi
}
decisions A s
decisions B s
# the first refusal says which limit and count, under the same queue id
first=s$((MAX + 1))@example.org
grep -qxF "$first" "$MTA_TMP/s.A.refused" && h=A || h=B
qid=$(grep -F "rcpt=<$first> action=" "$MTA_TMP/milter-$h.log" | sed -n 's/.*relay-milter[^:]*: \([0-9A-F]*\): .*/\1/p')
if [ -n "$qid" ] &&
	grep -qF "$qid: event=limit limit=login-cap key=login:spreader count=$MAX/$MAX rcpt=<$first>" "$MTA_TMP/milter-$h.log"; then
	tap_ok "$h logged event=limit login-cap count=$MAX/$MAX at the first refusal ($first, $qid)"
else
	mapfile -t lines < <(grep -h "event=limit limit=login-cap" "$MTA_TMP"/milter-?.log)
	tap_fail "$h logged event=limit login-cap count=$MAX/$MAX at the first refusal ($first)" \
		"qid=$qid" "${lines[@]}"
fi

# --- the count lives in Redis: either daemon reads it -------------------------
keys=$(cli --scan --pattern 'rm:*' | wc -l)
[ "$keys" -gt 0 ] && tap_ok "Redis holds the counts ($keys keys under rm:)" ||
	tap_fail "Redis holds the counts under rm:" "none"
for h in A B; do
	out=$("$RELAY_MILTER" -c "$MTA_TMP/milter-$h.conf" --control status login=spreader 2>&1)
	case $out in
	*"limit=login-cap count=$MAX "*) tap_ok "$h --control status login=spreader: login-cap count=$MAX" ;;
	*) tap_fail "$h --control status login=spreader: login-cap count=$MAX" "$out" ;;
	esac
done

# --- control: the embedded memory store counts per host ----------------------
# Not what is under test: it shows that the spread above would tell a
# per-host store apart (there the total is twice the limit).
milter_up A memory
milter_up B memory
spread solo m per-host
a=$(count m A accepted) b=$(count m B accepted)
[ "$a" = $MAX ] && [ "$b" = $MAX ] &&
	tap_ok "control, memory store: $MAX accepted on each host, $((a + b)) = 2 x $MAX in total" ||
	tap_fail "control, memory store: $MAX accepted on each host" "A: $a, B: $b"
check_delivered control

tap_done
[ "$tap_failed" -eq 0 ]
