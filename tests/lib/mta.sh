# mta.sh - shared helpers for the real-MTA tests (tests/mta/*.sh); bash only.
#
# Sourced by tests/mta/postfix.sh and tests/mta/sendmail.sh. Provides:
#   TAP output      tap_ok, tap_fail, tap_skip, tap_bail, tap_done
#   cleanup         mta_atexit CMD...   (run in reverse order on any exit)
#   relay-milter    mta_milter_config, mta_milter_start, mta_milter_stop
#   Postfix         mta_postfix_setup, mta_postfix_start, mta_postfix_stop
#   Sendmail        mta_sendmail_setup, mta_sendmail_start, mta_sendmail_stop,
#                   mta_netns_enter, mta_netns_addresses
#   SMTP            mta_chat_open, mta_chat, mta_chat_data, mta_chat_close
#                   (through tests/mta/smtpchat)
#   scenarios       mta_scenarios FILE KIND, mta_check_decisions
#
# Every server is private: it listens on loopback only, at a free port,
# with its configuration, queue and logs under one temporary directory,
# and everything started here is stopped from an EXIT trap, even when a
# test fails or is interrupted.
#
# The relay-milter under test (tests/pkg/run.sh points these at the
# installed package):
#   RELAY_MILTER      the binary (default: the build tree's)
#   MTA_MILTER_BASE   a configuration to start from (e.g. the package's
#                     conffile): its socket, local_domains, trusted_networks
#                     and authenticated_relay lines become the test's, the
#                     rest is kept (default: a minimal one)
#   MTA_MILTER_USER   start relay-milter as this user, as its systemd unit
#                     does; the socket's folder is then that user's, mode
#                     0750, as the package's /run/relay-milter (default: root)

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${RELAY_MILTER:=$top_builddir/milter/relay-milter}"
: "${SMTPCHAT:=$top_builddir/tests/mta/smtpchat}"
export top_srcdir top_builddir

MTA_LOCAL_DOMAINS='"example.com", ".example.com"'
MTA_TRUSTED_NETWORKS='"127.0.0.1/32", "192.0.2.0/24", "2001:db8:1::/48"'

# --- TAP -------------------------------------------------------------------

tap_n=0
tap_failed=0

# tap_ok - report one passing case
tap_ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }

# tap_fail - report one failing case; further lines are diagnostics
tap_fail() {
	tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"; shift
	local l; for l in "$@"; do echo "#   $l"; done
}

# tap_skip - report a case that does not apply here, and why
tap_skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }

# tap_done - print the plan last (TAP allows it), so cases can be counted
tap_done() { echo "1..$tap_n"; }

# tap_bail - the harness itself is broken: say so and stop
tap_bail() { tap_failed=$((tap_failed + 1)); echo "Bail out! $*"; exit 99; }

# mta_diag - copy a file into the TAP stream as comments (for failures)
mta_diag() {
	[ -r "$1" ] || return 0
	echo "# --- last lines of $1"
	tail -n "${2:-20}" "$1" | sed 's/^/#   /'
}

# --- cleanup ---------------------------------------------------------------

mta_cleanup_cmds=()

# mta_atexit - register a command to run at exit (last registered runs first)
mta_atexit() { mta_cleanup_cmds=("$*" "${mta_cleanup_cmds[@]}"); }

# mta_run_cleanup - run every registered command once, ignoring failures
mta_run_cleanup() {
	local c
	trap - EXIT INT TERM HUP PIPE
	# an SMTP session still open (a failure or a signal hit mid-dialogue)
	[ -n "${MTA_CHAT_PID:-}" ] && kill "$MTA_CHAT_PID" 2>/dev/null
	for c in "${mta_cleanup_cmds[@]}"; do eval "$c" >/dev/null 2>&1 || :; done
	mta_cleanup_cmds=()
	if [ -n "${MTA_TMP:-}" ] && [ -z "${MTA_KEEP:-}" ] && [ "$tap_failed" -eq 0 ]; then
		rm -rf "$MTA_TMP"
	fi
	[ -n "${MTA_SOCKDIR:-}" ] && rm -rf "$MTA_SOCKDIR"
}
trap 'mta_run_cleanup' EXIT
trap 'exit 130' INT TERM HUP PIPE

# mta_init - make the private directories; $1 names the test
#
# MTA_TMP lives in the build tree (kept after a failure for the logs);
# MTA_SOCKDIR holds the milter's unix socket under /tmp, because a socket
# path must fit in 108 bytes and user postfix must be able to reach it.
mta_init() {
	mkdir -p "$top_builddir/tests/mta"
	MTA_TMP=$(mktemp -d "$top_builddir/tests/mta/$1.tmp.XXXXXX") ||
		tap_bail "cannot make a temporary directory"
	MTA_SOCKDIR=$(mktemp -d "${TMPDIR:-/tmp}/rm-$1.XXXXXX") ||
		tap_bail "cannot make a socket directory"
	chmod 0755 "$MTA_TMP" "$MTA_SOCKDIR"
	MTA_MILTER_LOG=$MTA_TMP/milter.log
	MTA_MILTER_CONF=$MTA_TMP/relay-milter.conf
	if [ -n "${MTA_MILTER_USER:-}" ]; then
		# like /run/relay-milter: the milter's user owns it, its group
		# (which Postfix must be in) may enter; the configuration must be
		# readable by that user, so it lives here too
		chown "$MTA_MILTER_USER:$(id -gn "$MTA_MILTER_USER")" "$MTA_SOCKDIR" &&
			chmod 0750 "$MTA_SOCKDIR" ||
			tap_bail "cannot give $MTA_SOCKDIR to user $MTA_MILTER_USER"
		MTA_MILTER_CONF=$MTA_SOCKDIR/relay-milter.conf
	fi
}

# mta_free_port - print a TCP port nobody uses, below the ephemeral range
#
# Ports in the ephemeral range may be taken at any moment by an outgoing
# connection, so pick from 10000 up to the start of that range, and skip a
# port any socket (listening, connected or in TIME_WAIT) still uses.
mta_free_port() {
	local lo=10000 hi p i
	hi=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "${hi:-0}" -gt $((lo + 1000)) ] 2>/dev/null || hi=32768
	for i in $(seq 1 50); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
		if ! ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null | grep -q .; then
			echo "$p"; return 0
		fi
	done
	return 1
}

# mta_wait_port - wait until something listens on HOST PORT ($3 s, default 10)
mta_wait_port() {
	local i
	for i in $(seq 1 $((${3:-10} * 10))); do
		ss -Htln "( sport = :$2 )" 2>/dev/null | grep -qF "$1:$2" && return 0
		sleep 0.1
	done
	return 1
}

# mta_need_root - the MTAs need root to start; skip the whole test if not
mta_need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP $1 needs root (it starts a private MTA)"; exit 0
	fi
}

# --- relay-milter ----------------------------------------------------------

# mta_milter_config - write the test configuration of relay-milter to $1
#
# $2 = its socket (default unix:$MTA_SOCKDIR/relay-milter.sock), for a
# test that runs more than one relay-milter.
# From $MTA_MILTER_BASE if set: each of the lines the test needs must be
# there once, and is replaced.
mta_milter_config() {
	local sock=${2:-unix:$MTA_SOCKDIR/relay-milter.sock}
	if [ -n "${MTA_MILTER_BASE:-}" ]; then
		local key n
		sed -e "s|^socket = .*|socket = \"$sock\";|" \
			-e "s|^local_domains = .*|local_domains = [ $MTA_LOCAL_DOMAINS ];|" \
			-e "s|^trusted_networks = .*|trusted_networks = [ $MTA_TRUSTED_NETWORKS ];|" \
			-e "s|^authenticated_relay = .*|authenticated_relay = true;|" \
			"$MTA_MILTER_BASE" >"$1" || return 1
		# the base's own rules (the sample's are all commented out) give way to the test's
		awk '/^rules *= *\(/ { skip = 1 } !skip { print } skip && /^\);/ { skip = 0 }' "$1" >"$1.tmp" &&
			mv "$1.tmp" "$1" && mta_milter_rules >>"$1" || return 1
		chmod 0644 "$1"
		for key in socket local_domains trusted_networks authenticated_relay rules; do
			n=$(grep -c "^$key = " "$1")
			[ "$n" = 1 ] || { echo "# $MTA_MILTER_BASE: $n lines \"$key = \", want 1"; return 1; }
		done
		return 0
	fi
	cat >"$1" <<EOF
# written by tests/lib/mta.sh
socket = "$sock";
socket_mode = "0666";
local_domains = [ $MTA_LOCAL_DOMAINS ];
trusted_networks = [ $MTA_TRUSTED_NETWORKS ];
authenticated_relay = true;
EOF
	mta_milter_rules >>"$1"
}

# mta_milter_rules - the rules every test configuration has, from a base too
mta_milter_rules() {
	cat <<EOF
# Rules that look safe must judge the address the MTA acts on (issue 11):
# only the rows for rule.example.com and blocked.example meet them.
rules = (
  { name = "rule-domain"; recipient_domain = [ "rule.example.com" ]; action = "accept"; },
  { name = "blocked-domain"; recipient_domain = [ "blocked.example" ]; action = "reject"; }
);
EOF
}

# mta_milter_start - start relay-milter in the foreground on socket $1
#
# The daemon's stderr log is appended to $MTA_MILTER_LOG. Returns
# non-zero if it does not come up within ten seconds. A test that runs
# several sets MTA_MILTER_CONF and MTA_MILTER_LOG before each start; each
# is stopped at exit with its own pid and socket.
mta_milter_start() {
	local sock=$1 i path
	local -a run=("$RELAY_MILTER")
	[ -f "$MTA_MILTER_CONF" ] || mta_milter_config "$MTA_MILTER_CONF" || return 1
	if [ -n "${MTA_MILTER_USER:-}" ]; then
		run=(setpriv --reuid="$MTA_MILTER_USER" --regid="$(id -g "$MTA_MILTER_USER")"
			--init-groups "$RELAY_MILTER")
	fi
	"${run[@]}" -c "$MTA_MILTER_CONF" -f -s "$sock" >>"$MTA_MILTER_LOG" 2>&1 &
	MTA_MILTER_PID=$!
	MTA_MILTER_SOCK=$sock
	mta_atexit "mta_milter_stop $MTA_MILTER_PID $sock"
	for i in $(seq 1 100); do
		case $sock in
		unix:*)	path=${sock#unix:}; [ -S "$path" ] && return 0 ;;
		inet:*)	mta_wait_port 127.0.0.1 "$(echo "$sock" | sed 's/^inet:\([0-9]*\)@.*/\1/')" &&
				return 0 ;;
		esac
		kill -0 "$MTA_MILTER_PID" 2>/dev/null || break
		sleep 0.1
	done
	mta_diag "$MTA_MILTER_LOG"
	return 1
}

# mta_milter_stop - stop relay-milter (TERM, then KILL); $1 = pid, $2 = its socket
mta_milter_stop() {
	local pid=${1:-$MTA_MILTER_PID} sock=${2:-$MTA_MILTER_SOCK} i
	[ -n "$pid" ] || return 0
	kill -CONT "$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	case $sock in unix:*) rm -f "${sock#unix:}" ;; esac
	return 0
}

# --- Postfix ---------------------------------------------------------------

# mta_postfix_setup - write a private Postfix instance into $MTA_TMP/postfix
#
# $1 = instance name (its directory under $MTA_TMP), $2 = SMTP port,
# $3 = a file with the milter lines of main.cf. Postfix's
# own relay check is opened (check_client_access static:OK comes first),
# so the milter alone decides; every transport is discard, so nothing
# can leave; XCLIENT is allowed from loopback so a test can play any
# client address and login.
mta_postfix_setup() {
	local d=$MTA_TMP/$1 port=$2 milter_cf=$3
	MTA_PF=$d
	MTA_PORT=$port
	mkdir -p "$d/conf" "$d/queue" "$d/data"
	chmod 0755 "$d" "$d/conf"
	# master takes its lock in data_directory, as user postfix
	chown postfix "$d/data"
	cat >"$d/conf/main.cf" <<EOF
# written by tests/lib/mta.sh: a private instance, loopback only
compatibility_level = 3.6
config_directory = $d/conf
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.relay-milter.test
mydomain = relay-milter.test
# unqualified recipients (RCPT TO:<postmaster>) are qualified with a local domain
myorigin = example.com
mydestination =
relay_domains =
mynetworks = 127.0.0.1/32
inet_interfaces = loopback-only
inet_protocols = all
smtpd_banner = \$myhostname ESMTP
smtpd_relay_restrictions = check_client_access static:OK, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_authorized_xclient_hosts = 127.0.0.0/8, [::1]/128
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 100
in_flow_delay = 0
default_transport = discard:remote
relay_transport = discard:relay
local_transport = discard:local
virtual_transport = discard:virtual
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file = $d/maillog
maillog_file_prefixes = $d
EOF
	cat "$milter_cf" >>"$d/conf/main.cf"
	cat >"$d/conf/master.cf" <<EOF
# written by tests/lib/mta.sh: nothing chrooted, smtpd on loopback only
127.0.0.1:$port inet n - n - - smtpd
[::1]:$port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# mta_postfix_start - check and start the private Postfix; wait for smtpd
mta_postfix_start() {
	local d=$MTA_PF
	if ! postfix -c "$d/conf" check >"$d/check.log" 2>&1; then
		mta_diag "$d/check.log"; return 1
	fi
	mta_atexit "mta_postfix_stop $d"
	if ! postfix -c "$d/conf" start >"$d/start.log" 2>&1; then
		mta_diag "$d/start.log"; mta_diag "$d/maillog"; return 1
	fi
	mta_wait_port 127.0.0.1 "$MTA_PORT" 30 && mta_wait_port "[::1]" "$MTA_PORT" 30 && return 0
	mta_diag "$d/maillog"
	return 1
}

# mta_postfix_stop - stop the private Postfix and wait for its master to go
mta_postfix_stop() {
	local d=${1:-$MTA_PF} pid i
	[ -n "$d" ] || return 0
	pid=$(cat "$d/queue/pid/master.pid" 2>/dev/null | tr -d ' ')
	postfix -c "$d/conf" stop >/dev/null 2>&1
	[ -n "$pid" ] || return 0
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	postfix -c "$d/conf" abort >/dev/null 2>&1
	kill -KILL "$pid" 2>/dev/null
	return 0
}

# --- SMTP dialogue ---------------------------------------------------------

# mta_chat_open - connect smtpchat as a coprocess; greeting lands in REPLY
#
# $1 = host, $2 = port, $3 = optional source address to bind.
mta_chat_open() {
	local bind=()
	[ -n "${3:-}" ] && bind=(-b "$3")
	coproc MTA_CHAT { exec "$SMTPCHAT" -t "${MTA_CHAT_TIMEOUT:-30}" "${bind[@]}" "$1" "$2" 2>&1; }
	MTA_CHAT_IN=${MTA_CHAT[1]}
	MTA_CHAT_OUT=${MTA_CHAT[0]}
	mta_chat_read
}

# mta_chat_read - read the next reply line of the coprocess into REPLY
mta_chat_read() {
	REPLY=
	if ! read -r -t 120 REPLY <&"$MTA_CHAT_OUT"; then
		REPLY=${REPLY:-EOF}
		return 1
	fi
	return 0
}

# mta_chat - send one command, put the reply line in REPLY
mta_chat() {
	{ echo "$1" >&"$MTA_CHAT_IN"; } 2>/dev/null || { REPLY=EOF; return 1; }
	mta_chat_read
}

# mta_chat_data - send a small message after DATA; final reply in REPLY
mta_chat_data() {
	mta_chat DATA || return 1
	case $REPLY in 354*) ;; *) return 1 ;; esac
	mta_chat_body "$1"
}

# mta_chat_body - send the text of a small message after a 354 reply
mta_chat_body() {
	{ printf "%s\n" "Subject: relay-milter test $1" "" "test $1" "." >&"$MTA_CHAT_IN"; } 2>/dev/null
	mta_chat_read
}

# mta_chat_close - say QUIT and reap the coprocess
mta_chat_close() {
	local pid=${MTA_CHAT_PID:-}
	[ -n "$pid" ] || return 0
	{ echo QUIT >&"$MTA_CHAT_IN"; } 2>/dev/null
	exec {MTA_CHAT_IN}>&- 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# mta_expect WHAT CMD WANT - send one command on the open session, check the reply class
mta_expect() {
	mta_chat "$2"
	case $REPLY in
	$3*)	tap_ok "$1: \"$2\" -> ${REPLY%% *}" ;;
	*)	tap_fail "$1: \"$2\"" "got:  $REPLY" "want: $3..." ;;
	esac
}

# mta_expect_data_refused WHAT - with the milter gone, DATA or its end must fail
mta_expect_data_refused() {
	mta_chat DATA
	case $REPLY in
	4*|5*)	tap_ok "$1: DATA refused (${REPLY%% *})" ;;
	354*)	mta_chat_body killed
		case $REPLY in 4*) tap_ok "$1: end of DATA tempfailed" ;;
		*) tap_fail "$1: end of DATA tempfailed" "got: $REPLY" ;; esac ;;
	*)	tap_fail "$1: DATA refused" "got: $REPLY" ;;
	esac
}

# mta_reply_code - print "CODE ENH" of a reply line ("550 5.7.1 ...")
mta_reply_code() {
	local code enh
	read -r code enh _ <<<"$1"
	case $enh in [245].[0-9]*.[0-9]*) ;; *) enh=- ;; esac
	echo "$code $enh"
}

# mta_match - does "CODE ENH" match the wanted pattern "5xx/5.7.1"?
mta_match() {
	local got_code=${1% *} got_enh=${1#* } want_code=${2%/*} want_enh=${2#*/}
	# shellcheck disable=SC2053
	[[ $got_code == ${want_code//x/[0-9]} ]] || return 1
	[ "$want_enh" = "*" ] || [ "$got_enh" = "$want_enh" ]
}

# --- the scenario table ----------------------------------------------------

# mta_is_v6 - is $1 an IPv6 address?
mta_is_v6() { case $1 in *:*) return 0 ;; esac; return 1; }

# mta_sendmail_can_play - can a Sendmail client really come from address $1?
#
# Sendmail has no XCLIENT: the milter sees the real peer address. In a
# private network namespace (MTA_NETNS=1, see mta_netns_enter) every
# client address of the table is put on the namespace's own loopback
# interface and can be bound; otherwise only 127.0.0.0/8 and ::1 can.
# An IPv4-mapped client needs the dual-stack listener that only exists in
# the namespace (MTA_PORT46).
mta_sendmail_can_play() {
	case $1 in
	::ffff:*)	[ -n "${MTA_PORT46:-}" ] && return 0
			MTA_WHY="an IPv4-mapped client needs a dual-stack listener (private network namespace)"
			return 1 ;;
	127.*|::1)	return 0 ;;
	esac
	[ "${MTA_NETNS:-}" = 1 ] && return 0
	MTA_WHY="Sendmail has no XCLIENT: cannot come from $1 without a private network namespace"
	return 1
}

# mta_netns_enter - re-run this test in a private network namespace
#
# Only loopback exists there; the test puts the table's client addresses
# on it (mta_netns_addresses). Nothing it sends can leave the namespace.
# Returns (without re-running) if namespaces are not available.
mta_netns_enter() {
	[ -n "${MTA_NETNS:-}" ] && return 0
	if unshare -n true 2>/dev/null && command -v ip >/dev/null; then
		MTA_NETNS=1 exec unshare -n "$BASH" "$0" "$@"
	fi
	MTA_NETNS=none
}

# mta_netns_addresses - bring lo up with every client address of table $1
mta_netns_addresses() {
	local a
	[ "${MTA_NETNS:-}" = 1 ] || return 0
	ip link set lo up || return 1
	for a in $(awk '!/^#/ && NF >= 7 { print $3 }' "$1" | sort -u); do
		case $a in
		127.*|::1) ;;
		::ffff:*) ip addr add "${a#::ffff:}/32" dev lo || return 1 ;;
		*:*)	ip -6 addr add "$a/128" dev lo nodad || return 1 ;;
		*)	ip addr add "$a/32" dev lo || return 1 ;;
		esac
	done
}

# mta_session_open - open an SMTP session as the row's client; 0 on success
#
# Postfix: connect over the client's address family, then XCLIENT sets
# the address (and LOGIN) the milter sees. Sendmail: connect from the
# client address itself, then AUTH PLAIN if the row has a login.
# On failure MTA_WHY says what went wrong.
mta_session_open() {
	local kind=$1 client=$2 login=$3 helo=$4 host=127.0.0.1 port=$MTA_PORT src= x
	mta_is_v6 "$client" && host=::1
	if [ "$kind" = sendmail ]; then
		src=$client
		case $client in
		::ffff:*) host=::ffff:127.0.0.1 port=$MTA_PORT46 ;;
		esac
	fi
	mta_chat_open "$host" "$port" "$src"
	case $REPLY in 220*) ;; *) MTA_WHY="greeting: $REPLY"; return 1 ;; esac
	mta_chat "EHLO $helo"
	case $REPLY in 250*) ;; *) MTA_WHY="EHLO: $REPLY"; return 1 ;; esac
	if [ "$kind" = postfix ]; then
		x="ADDR=$client"
		mta_is_v6 "$client" && x="ADDR=IPV6:$client"
		[ "$login" != - ] && x="$x LOGIN=$login"
		mta_chat "XCLIENT $x"
		case $REPLY in 220*) ;; *) MTA_WHY="XCLIENT $x: $REPLY"; return 1 ;; esac
		mta_chat "EHLO $helo"
		case $REPLY in 250*) ;; *) MTA_WHY="EHLO after XCLIENT: $REPLY"; return 1 ;; esac
	elif [ "$login" != - ]; then
		x=$(printf '\0%s\0%s' "$login" "$MTA_SASL_SECRET" | base64 -w0)
		mta_chat "AUTH PLAIN $x"
		case $REPLY in 235*) ;; *) MTA_WHY="AUTH PLAIN as $login: $REPLY"; return 1 ;; esac
	fi
	return 0
}

# mta_want - pick the expected reply for MTA kind $2 from "W[,kind:W]..."
#
# Most rows expect the same reply from every MTA; where an MTA refuses an
# address by itself before the milter sees it, the row names that MTA's
# own reply, e.g. "550/5.7.1,sendmail:553/5.1.3".
mta_want() {
	local w def= alt
	local IFS=,
	for w in $1; do
		case $w in
		*:*)	[ "${w%%:*}" = "$2" ] && alt=${w#*:} ;;
		*)	def=$w ;;
		esac
	done
	echo "${alt:-$def}"
}

# mta_transaction - one MAIL FROM, the RCPTs of a row, DATA if any passed
#
# $1 = sender, then RCPT=WANT words. Sets MTA_WHY to the mismatches and
# appends accepted and refused recipients to $MTA_TMP/$MTA_RUN.accepted
# and .refused, so that delivery can be checked later.
mta_transaction() {
	local from=$1 spec rcpt want got accepted=0 bad=
	shift
	MTA_WHY=
	# "<path>+SMTPUTF8" in the table: MAIL FROM:<path> SMTPUTF8
	case $from in *+SMTPUTF8) from="${from%+SMTPUTF8} SMTPUTF8" ;; esac
	mta_chat "MAIL FROM:$from"
	case $REPLY in 250*) ;; *) MTA_WHY="MAIL FROM:$from: $REPLY"; return 1 ;; esac
	for spec in "$@"; do
		rcpt=${spec%=*}
		want=$(mta_want "${spec##*=}" "$MTA_KIND")
		mta_chat "RCPT TO:$rcpt"
		got=$(mta_reply_code "$REPLY")
		if ! mta_match "$got" "$want"; then
			bad="$bad|RCPT TO:$rcpt: got \"$REPLY\", want $want"
		fi
		case $REPLY in
		2*)	accepted=1; echo "$rcpt" >>"$MTA_TMP/$MTA_RUN.accepted" ;;
		*)	echo "$rcpt" >>"$MTA_TMP/$MTA_RUN.refused" ;;
		esac
	done
	if [ $accepted = 1 ]; then
		mta_chat_data "$MTA_RUN"
		case $REPLY in 250*) ;; *) bad="$bad|end of DATA: got \"$REPLY\", want 250" ;; esac
	else
		mta_chat RSET
	fi
	MTA_WHY=${bad#|}
	[ -z "$bad" ]
}

# mta_scenarios - run every row of the table $1 through MTA kind $2
#
# $MTA_PORT is the MTA's SMTP port, $MTA_RUN a label for the TAP lines.
# One TAP line per row. Rows whose session column is "same" continue the
# previous row's connection (several transactions on one connection).
mta_scenarios() {
	local file=$1 kind=$2 name conn client login helo from rest open=0 skip=
	local -a rcpts
	MTA_KIND=$kind
	: >"$MTA_TMP/$MTA_RUN.accepted"
	: >"$MTA_TMP/$MTA_RUN.refused"
	while read -r name conn client login helo from rest; do
		case $name in ''|'#'*) continue ;; esac
		read -r -a rcpts <<<"$rest"
		if [ "$conn" = new ]; then
			[ $open = 1 ] && mta_chat_close
			open=0 skip=
			if [ "$kind" = sendmail ] && ! mta_sendmail_can_play "$client"; then
				skip=$MTA_WHY
			elif [ "$kind" = sendmail ] && [ "$login" != - ] && [ -z "${MTA_SASL_SECRET:-}" ]; then
				skip="no SASL for Sendmail here (saslpasswd2 missing)"
			elif [ "$kind" = sendmail ] && [ "${from%+SMTPUTF8}" != "$from" ]; then
				skip="the Sendmail test instance does not offer SMTPUTF8"
			fi
			if [ -z "$skip" ]; then
				if ! mta_session_open "$kind" "$client" "$login" "$helo"; then
					tap_fail "$MTA_RUN: $name" "$MTA_WHY"
					mta_chat_close
					skip="session did not open"
					continue
				fi
				open=1
			fi
		fi
		if [ -n "$skip" ]; then
			tap_skip "$MTA_RUN: $name" "$skip"
			continue
		fi
		if mta_transaction "$from" "${rcpts[@]}"; then
			tap_ok "$MTA_RUN: $name"
		else
			local IFS='|'
			# shellcheck disable=SC2086
			tap_fail "$MTA_RUN: $name" $MTA_WHY
			unset IFS
		fi
	done <"$file"
	[ $open = 1 ] && mta_chat_close
	return 0
}

# mta_simple_rcpts - print the plain <local@domain> recipients of list $1
#
# Recipients written as routing tricks are left out: the MTA logs them
# rewritten, so they cannot be looked up verbatim.
mta_simple_rcpts() {
	grep -E '^<[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+>$' "$1" 2>/dev/null | tr 'A-Z' 'a-z' | sort -u
}

# --- Sendmail --------------------------------------------------------------

: "${SENDMAIL_TREE:=/var/cache/relay-milter/sendmail}"
MTA_SM_HOST=sm.relay-milter.test

# mta_sendmail_setup - write a private Sendmail instance into $MTA_TMP/$1
#
# $2 = SMTP port, $3 = the mc lines for the milter (a file), $4 = the SASL
# logins to create. The .cf is built with m4 from Debian's sendmail-cf.
# Sendmail's own relay check is opened (FEATURE(promiscuous_relay)) so the
# milter alone decides, its load-average limits are lifted (a busy test
# machine must not make it refuse connections or only queue), and delivery is queue-only into the private queue,
# which no queue runner ever reads: nothing can leave, and the queue files
# show exactly which recipients were accepted.
mta_sendmail_setup() {
	local d=$MTA_TMP/$1 port=$2 milter_mc=$3 logins=$4 cf=$SENDMAIL_TREE/root/usr/share/sendmail/cf u
	local listen46=
	MTA_SM=$d
	MTA_PORT=$port
	MTA_PORT46=
	# Inside the private network namespace only, also listen on all
	# addresses of an IPv6 socket: IPv4 clients reach it as IPv4-mapped
	# IPv6 peers (::ffff:192.0.2.26). Sendmail 8.17 hands such a peer to
	# the milter as plain IPv4 (seen with a stand-in milter), as Postfix
	# does; the row checks the verdict end to end.
	if [ "${MTA_NETNS:-}" = 1 ]; then
		MTA_PORT46=$(mta_free_port) || return 1
		listen46="DAEMON_OPTIONS(\`Port=$MTA_PORT46, Addr=::, Name=MTA46, Family=inet6')dnl"
	fi
	mkdir -p "$d/queue" "$d/sasl"
	chmod 0700 "$d/queue"
	printf '127.0.0.1 localhost %s sm\n::1 localhost ip6-localhost\n' "$MTA_SM_HOST" >"$d/hosts"
	printf '%s: files\n' passwd group shadow hosts networks services protocols \
		ethers rpc netgroup >"$d/nsswitch.conf"
	printf 'hosts files\naliases files\n' >"$d/service.switch"
	: >"$d/aliases"
	MTA_SASL_SECRET=
	if command -v saslpasswd2 >/dev/null 2>&1; then
		MTA_SASL_SECRET=relay-milter-test-secret
		for u in $logins; do
			echo "$MTA_SASL_SECRET" | saslpasswd2 -p -f "$d/sasl/sasldb2" -u "$MTA_SM_HOST" -c "$u"
		done
		cat >"$d/sasl/Sendmail.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $d/sasl/sasldb2
mech_list: PLAIN LOGIN
EOF
	fi
	{
		cat <<EOF
divert(-1)
# written by tests/lib/mta.sh: a private Sendmail, loopback only
divert(0)dnl
include(\`$cf/m4/cf.m4')dnl
VERSIONID(\`relay-milter test instance')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$MTA_SM_HOST')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`QUEUE_DIR', \`$d/queue')dnl
define(\`MSP_QUEUE_DIR', \`$d/queue')dnl
define(\`STATUS_FILE', \`$d/statistics')dnl
define(\`ALIAS_FILE', \`$d/aliases')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$d/service.switch')dnl
define(\`confHOSTS_FILE', \`$d/hosts')dnl
define(\`confHELP_FILE', \`$SENDMAIL_TREE/root/etc/mail/helpfile')dnl
define(\`confDELIVERY_MODE', \`queueonly')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confQUEUE_LA', \`1000')dnl
define(\`confREFUSE_LA', \`1000')dnl
define(\`confDELAY_LA', \`0')dnl
define(\`confDONT_BLAME_SENDMAIL', \`GroupWritableDirPathSafe,InsufficientEntropy,TrustStickyBit')dnl
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
define(\`confAUTH_OPTIONS', \`A')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`promiscuous_relay')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`accept_unqualified_senders')dnl
DAEMON_OPTIONS(\`Port=$port, Addr=127.0.0.1, Name=MTA')dnl
DAEMON_OPTIONS(\`Port=$port, Addr=::1, Name=MTA6, Family=inet6')dnl
$listen46
EOF
		cat "$milter_mc"
		echo "MAILER(\`smtp')dnl"
	} >"$d/sendmail.mc"
	m4 "$d/sendmail.mc" >"$d/sendmail.cf" 2>"$d/m4.log" || { mta_diag "$d/m4.log"; return 1; }
	# The hostname is fully qualified and resolvable from the private hosts
	# file, so Sendmail never waits for DNS; the mounts and the hostname are
	# private to Sendmail's own mount and UTS namespaces.
	cat >"$d/run.sh" <<EOF
#!/bin/sh
set -e
mount --bind '$d/hosts' /etc/hosts
mount --bind '$d/nsswitch.conf' /etc/nsswitch.conf
[ ! -d /usr/lib/sasl2 ] || mount --bind '$d/sasl' /usr/lib/sasl2
hostname '$MTA_SM_HOST'
LD_LIBRARY_PATH='$SENDMAIL_TREE/lib'
export LD_LIBRARY_PATH
exec '$SENDMAIL_TREE/sendmail' -C '$d/sendmail.cf' -bD -X '$d/smtp.trace'
EOF
	chmod 0755 "$d/run.sh"
}

# mta_sendmail_start - start the private Sendmail in the foreground (-bD)
mta_sendmail_start() {
	local d=$MTA_SM
	setsid unshare -u -m "$d/run.sh" >"$d/sendmail.out" 2>&1 &
	MTA_SM_PID=$!
	mta_atexit "mta_sendmail_stop $MTA_SM_PID"
	mta_wait_port 127.0.0.1 "$MTA_PORT" 30 && mta_wait_port "[::1]" "$MTA_PORT" 30 &&
		{ [ -z "$MTA_PORT46" ] || mta_wait_port "*" "$MTA_PORT46" 30; } && return 0
	echo "# Sendmail (pid $MTA_SM_PID) is not listening on port $MTA_PORT:"
	ps -o pid,stat,etime,args -p "$MTA_SM_PID" | sed 's/^/#   /'
	ss -Htan "( sport = :$MTA_PORT )" | sed 's/^/#   /'
	mta_diag "$d/sendmail.out"
	mta_diag "$d/smtp.trace"
	return 1
}

# mta_sendmail_stop - stop Sendmail and the children serving connections
mta_sendmail_stop() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	# setsid made it a process group leader: signal the group, children too
	if [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ]; then
		kill -TERM -- "-$pid" 2>/dev/null
	else
		kill -TERM "$pid" 2>/dev/null
	fi
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# mta_sendmail_queued - print the recipients of the queued messages
mta_sendmail_queued() {
	cat "$MTA_SM"/queue/qf* 2>/dev/null | sed -n 's/^R[^:]*:\(<.*>\)$/\1/p' | tr 'A-Z' 'a-z' | sort -u
}

# mta_check_decisions - every verdict of run $MTA_RUN must be relay-milter's
#
# For each plain recipient the MTA accepted (refused), relay-milter's log
# must hold a decision line "rcpt=<...> action=accept" ("action=reject"):
# this shows the MTA passed the case to the milter and did not decide it
# by itself.
mta_check_decisions() {
	local log=$MTA_MILTER_LOG r bad= n=0
	for r in $(mta_simple_rcpts "$MTA_TMP/$MTA_RUN.accepted"); do
		n=$((n + 1))
		grep -qiF "rcpt=$r action=accept" "$log" || bad="$bad $r(accept)"
	done
	for r in $(mta_simple_rcpts "$MTA_TMP/$MTA_RUN.refused"); do
		n=$((n + 1))
		grep -qiF "rcpt=$r action=reject" "$log" || bad="$bad $r(reject)"
	done
	if [ -z "$bad" ] && [ $n -gt 0 ]; then
		tap_ok "$MTA_RUN: relay-milter logged the matching decision for all $n recipients"
	else
		tap_fail "$MTA_RUN: relay-milter logged the matching decision for every recipient" \
			"no matching decision line for:$bad"
		mta_diag "$log"
	fi
}
