#!/bin/sh
# sweep.sh - the allocation-failure sweep (issue 11): fail each allocation
# of one representative load in turn and check that the answer never opens
# what the full configuration keeps closed.
#
# The configuration has rules (an accept rule for 10.0.0.0/8 among them),
# users, limits and per-login overrides, a users_file, list files, both GeoIP databases, an @include and
# every daemon setting. For every N from 1
# to the number of allocations a whole run makes, tests/oom/failmalloc.so
# fails the Nth, and
#   relay-milter -c CONF --explain client=203.0.113.9 rcpt=<x@remote.test>
# must refuse (status 1) or stop with an out-of-memory error (status 2),
# never accept (status 0) and never die by a signal; "-t" must say valid
# or stop with an out-of-memory error. One TAP line per class of outcome.
#
# libconfig 1.5 (Debian 12) does not check its own allocations and dies of
# SIGSEGV when one fails inside config_read_file: such runs (the failing
# allocation was made by libconfig, read from its stack) are reported as
# a TODO line, not a pass. A crash anywhere else fails the test.
#
# A second, sparser sweep fails every allocation from N on (memory that
# never comes back), where even recording an error can fail.
# The ~1,300 allocations of start-up (libraries' constructors, before main
# reads its options; counted with -V) are sampled, every 25th; from there
# on, every one. SWEEP_STEP=K tries every Kth N only (default 1: all).
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
milter="$top_builddir/milter/relay-milter"
shim="$top_builddir/tests/oom/failmalloc.so"
mmdb="$top_builddir/tests/geoip/country.mmdb"
asn="$top_builddir/tests/geoip/asn.mmdb"
step=${SWEEP_STEP:-1}
# shellcheck source=tests/lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}
[ -x "$milter" ] || skip_all "relay-milter not built"
[ -f "$shim" ] || skip_all "tests/oom/failmalloc.so not built"
if [ ! -f "$mmdb" ] || [ ! -f "$asn" ]; then
	skip_all "tests/geoip/country.mmdb or asn.mmdb not built"
fi
# A sanitizer runtime must be the first library loaded, and it replaces malloc itself.
if ldd "$milter" 2>/dev/null | grep -q -e libasan -e libtsan -e libmsan; then
	skip_all "relay-milter is built with a sanitizer (it owns malloc)"
fi

work=$(mktemp -d /tmp/rm-oom.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

printf 'local.test\n.sub.local.test\nbücher.test\n' >"$work/domains.txt"
printf '192.0.2.0/24\n2001:db8::/32\n' >"$work/networks.txt"
printf 'carol carol@local.test, @carol.test\ncarol carol2@local.test\n' >"$work/users.txt"
cat >"$work/daemon.conf" <<CONF
socket = "unix:$work/milter.sock";
socket_mode = "0660";
user = "nobody";
pidfile = "$work/milter.pid";
syslog_facility = "local3";
metrics = "127.0.0.1:9899";
mode = "enforce";
no_client_address = "untrusted";
routing_denied_reply = "550 5.7.1 routed";
invalid_recipient_reply = "553 5.1.3 <%r>: bad address";
null_sender_authenticated = "reject";
CONF
conf="$work/sweep.conf"
cat >"$conf" <<CONF
@include "$work/daemon.conf"
local_domains = [ "local.test", ".local.test", "$work/domains.txt" ];
trusted_networks = [ "127.0.0.0/8", "::1", "$work/networks.txt" ];
own_addresses = [ "198.51.100.25" ];
relay_denied_reply = "554 5.7.1 <%r>: relaying denied for %c";
sender_ownership = "authenticated";
geoip = { country_db = "$mmdb"; asn_db = "$asn"; };
users = (
  { login = "alice"; senders = [ "alice@local.test", "@alice.test" ]; countries = [ "GB", "--" ]; },
  { login = "bob"; senders = [ "bob@local.test" ]; relay = false; limits = { login-hour = 0; }; }
);
max_recipients_per_message = 100;
limits = (
  { name = "login-hour"; per = "login"; count = "recipients"; max = 500; window = "1h"; recipient_local = false; },
  { name = "travel"; per = "login"; count = "countries"; max = 2; window = "6h"; lock = "24h"; },
  { name = "unauth"; per = "client"; authenticated = false; not_network = [ "10.0.0.0/8" ]; count = "recipients"; max = 20; window = "10m"; }
);
store = { type = "memory"; max_keys = 1000; };
users_file = "$work/users.txt";
rules = (
  { name = "audit"; not_network = [ "192.0.2.0/24" ]; recipient_local = false; action = "continue"; },
  { name = "slow"; helo = [ ".dyn.example.net", "localhost" ]; action = "tempfail"; dry_run = true; },
  { name = "bulk"; login = [ "bulk" ]; sender = [ "@example.com", "<>" ];
    recipient_domain = [ ".example.org" ]; action = "reject"; reply = "550 5.7.1 no bulk"; },
  { name = "abroad"; country = [ "NG" ]; authenticated = true; action = "reject"; },
  { name = "as"; asn = ( 64501, "AS64502" ); authenticated = true; action = "reject"; },
  { name = "partner"; network = [ "10.0.0.0/8" ]; action = "accept"; },
  { name = "partner6"; network = [ "2001:db8:1::/48" ]; recipient_domain = [ "remote.test" ];
    action = "accept"; }
);
CONF
chmod 644 "$work"/*

EXPLAIN="--explain client=203.0.113.9 rcpt=<x@remote.test>"

# The full configuration: valid, and it refuses the relay attempt.
"$milter" -c "$conf" -t >"$work/out" 2>&1
st=$?
tap "$([ $st -eq 0 ] && echo OK || echo FAIL)" "-t: the sweep's configuration is valid" "$(cat "$work/out")"
# shellcheck disable=SC2086 # the words of $EXPLAIN are its arguments
"$milter" -c "$conf" $EXPLAIN >"$work/out" 2>&1
st=$?
tap "$([ $st -eq 1 ] && echo OK || echo FAIL)" \
	"--explain: the full policy refuses 203.0.113.9 to remote.test" "$(cat "$work/out")"

# run_failing N ARGS - relay-milter -c CONF ARGS with allocation N failing; sets st
run_failing() {
	failing_n=$1
	shift
	rm -f "$work/trace"
	# in a subshell, so that the shell's note about a crash goes nowhere
	(FAILMALLOC_N=$failing_n FAILMALLOC_FROM=$from FAILMALLOC_TRACE="$work/trace" LD_PRELOAD="$shim" \
		"$milter" -c "$conf" "$@" >"$work/out" 2>"$work/err") 2>/dev/null
	st=$?
}

# crashed_in - the program or library that crashed (its first frame outside libc)
crashed_in() {
	sed -n '/^crash$/,$p' "$work/trace" 2>/dev/null | sed 1d |
		grep -v -e failmalloc -e 'libc\.so' | head -n 1 | sed 's/[([].*//'
}

# first - at most the first 20 words of a list, for a readable diagnostic
first() {
	# shellcheck disable=SC2086
	set -- $1
	if [ $# -gt 20 ]; then
		echo "$(echo "$@" | cut -d' ' -f1-20) ... ($# in all)"
	else
		echo "$@"
	fi
}

# sweep NAME GOOD ARGS - every N of one command, outcomes counted by class
sweep() {
	name=$1 good=$2
	shift 2
	FAILMALLOC_COUNT="$work/count" LD_PRELOAD="$shim" "$milter" -c "$conf" "$@" >/dev/null 2>&1
	total=$(cat "$work/count" 2>/dev/null || echo 0)
	FAILMALLOC_COUNT="$work/count" LD_PRELOAD="$shim" "$milter" -V >/dev/null 2>&1
	startup=$(($(cat "$work/count" 2>/dev/null || echo 1) - 1))
	refused=0 nomem=0 fine=0 opened=0 unclean=0 crash=0 known=0
	opened_at='' unclean_at='' crash_at='' known_at=
	i=1
	while [ "$i" -le "$total" ]; do
		{ run_failing "$i" "$@"; } 2>/dev/null
		if [ "$st" -gt 128 ]; then
			o=$(crashed_in)
			case $o in
			*libconfig.so*)
				known=$((known + 1))
				known_at="$known_at $i"
				;;
			*)
				crash=$((crash + 1))
				crash_at="$crash_at $i(sig $((st - 128)), in ${o:-?})"
				;;
			esac
		elif [ "$st" -eq 0 ]; then
			if [ "$good" = refused ]; then
				opened=$((opened + 1))
				opened_at="$opened_at $i"
			else
				fine=$((fine + 1))
			fi
		elif [ "$st" -eq 1 ] && [ "$good" = refused ] && grep -q 'refused$' "$work/out"; then
			refused=$((refused + 1))
		elif grep -q -i -e 'out of memory' -e 'cannot allocate memory' \
			-e 'out of dynamic memory' -e 'memory allocation call failed' "$work/err"; then
			nomem=$((nomem + 1))
		else
			unclean=$((unclean + 1))
			unclean_at="$unclean_at $i(status:$st)"
			[ "$unclean" -le 3 ] && sed "s/^/# N=$i: /" "$work/err" | head -n 3
		fi
		if [ "$i" -lt "$startup" ] && [ $((i + 25)) -lt "$startup" ]; then
			i=$((i + 25))
		elif [ "$i" -lt "$startup" ]; then
			i=$startup
		else
			i=$((i + step))
		fi
	done
	echo "# $name: $total allocations ($startup at start-up); refused $refused," \
		"out-of-memory error $nomem, valid $fine, accepted $opened, other error $unclean, crash $crash, libconfig crash $known"
	tap "$([ "$total" -gt 100 ] && echo OK || echo FAIL)" "$name: counted $total allocations"
	if [ "$good" = refused ]; then
		tap "$([ "$opened" -eq 0 ] && echo OK || echo FAIL)" \
			"$name: no failed allocation makes it accept the relay attempt" \
			"accepted at N = $(first "$opened_at")"
	fi
	tap "$([ "$unclean" -eq 0 ] && echo OK || echo FAIL)" \
		"$name: every failed load says out of memory" "at N = $(first "$unclean_at")"
	tap "$([ "$crash" -eq 0 ] && echo OK || echo FAIL)" \
		"$name: no crash outside libconfig" "at N = $(first "$crash_at")"
	if [ "$known" -eq 0 ]; then
		tap OK "$name: no crash inside libconfig"
	else
		n=$((n + 1))
		echo "not ok $n - $name: $known crashes inside libconfig # TODO libconfig 1.5 does not check its allocations"
		echo "# at N = $(first "$known_at")"
	fi
}

from=0
# shellcheck disable=SC2086
sweep "--explain" refused $EXPLAIN
sweep "-t" valid -t
from=1 step=$((step * 25))
# shellcheck disable=SC2086
sweep "--explain, every allocation from N on failing" refused $EXPLAIN

echo "1..$n"
[ "$failed" -eq 0 ]
