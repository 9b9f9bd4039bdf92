#!/bin/sh
# docs.sh - the manual and the sample cannot drift from the loader: every
# key relay-milter accepts (it lists them itself with --list-keys) has an
# entry ".B KEY" in relay-milter.conf(5) and appears in conf/relay-milter.conf,
# the sample passes relay-milter -t, and both man pages format without
# warnings.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
milter="$top_builddir/milter/relay-milter"
man5="$top_srcdir/milter/config/relay-milter.conf.5"
man8="$top_srcdir/milter/daemon/relay-milter.8"
sample="$top_srcdir/conf/relay-milter.conf"

# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

listed=$("$milter" --list-keys)
keys=$(printf '%s\n' "$listed" | grep -v '^step \|^reason ')
[ -n "$keys" ] && tap OK "relay-milter --list-keys lists $(printf '%s\n' "$keys" | wc -l) keys" ||
	tap FAIL "relay-milter --list-keys lists the keys"

printf '%s\n' "$keys" | {
	missing_man=
	missing_sample=
	while read -r kind key; do
		grep -qx "\.B $key" "$man5" || missing_man="$missing_man $kind:$key"
		case $kind in
		key) grep -qE "^#? *$key *=" "$sample" || missing_sample="$missing_sample $key" ;;
		*) grep -qw -- "$key" "$sample" || missing_sample="$missing_sample $kind:$key" ;;
		esac
	done
	echo "$missing_man|$missing_sample"
} >"${TMPDIR:-/tmp}/rm-docs.$$"
result=$(cat "${TMPDIR:-/tmp}/rm-docs.$$")
rm -f "${TMPDIR:-/tmp}/rm-docs.$$"
missing_man=${result%%|*}
missing_sample=${result#*|}
[ -z "$missing_man" ] && tap OK "every key has an entry in relay-milter.conf(5)" ||
	tap FAIL "every key has an entry in relay-milter.conf(5)" "undocumented:$missing_man"
[ -z "$missing_sample" ] && tap OK "every key appears in conf/relay-milter.conf" ||
	tap FAIL "every key appears in conf/relay-milter.conf" "missing:$missing_sample"

# The sample is installed world-readable from a read-only tree; check a copy.
tmp=$(mktemp /tmp/rm-sample.XXXXXX)
cp "$sample" "$tmp" && chmod 644 "$tmp"
out=$("$milter" -t -c "$tmp" 2>&1) && tap OK "the sample passes relay-milter -t" ||
	tap FAIL "the sample passes relay-milter -t" "$out"
rm -f "$tmp"

# The engine's built-in steps and reasons (its one table, steps.c) are all
# in relay-milter(8), where the metrics and the decision line are described.
for kind in step reason; do
	missing=
	for name in $(printf '%s\n' "$listed" | sed -n "s/^$kind //p"); do
		grep -qw -- "$name" "$man8" || missing="$missing $name"
	done
	count=$(printf '%s\n' "$listed" | grep -c "^$kind ")
	[ "$count" -gt 0 ] && [ -z "$missing" ] && tap OK "relay-milter(8) names every built-in $kind ($count)" ||
		tap FAIL "relay-milter(8) names every built-in $kind" "missing:$missing"
done

# Every restart-only setting named in reload.c is named in relay-milter(8) too.
for key in socket socket_mode user pidfile syslog_facility metrics; do
	grep -q "^\.BR $key ,\?\$" "$man8" || grep -q "^\.BR $key \.\$" "$man8" || {
		tap FAIL "relay-milter(8) lists restart-only $key"
		continue
	}
	tap OK "relay-milter(8) lists restart-only $key"
done

if command -v groff >/dev/null 2>&1; then
	for page in "$man8" "$man5"; do
		w=$(groff -man -ww -z "$page" 2>&1)
		[ -z "$w" ] && tap OK "$(basename "$page") formats without warnings" ||
			tap FAIL "$(basename "$page") formats without warnings" "$w"
	done
fi

echo "1..$n"
[ $failed -eq 0 ]
