#!/bin/sh
# json-bytes.sh - relay-milter --explain --json always writes JSON that
# parses, whatever bytes the facts hold: invalid UTF-8 (a stray 0xff, a
# cut sequence, an overlong form, a surrogate) and control bytes in every
# fact, one fact at a time and all at once (issue 10: one JSON writer).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
milter="$top_builddir/milter/relay-milter"
conf="$top_srcdir/tests/explain/core.conf"

# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

work=$(mktemp -d /tmp/rm-jsonbytes.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
cp "$conf" "$work/core.conf" && chmod 644 "$work/core.conf"

bad=$(printf 'x\377y\303z\300\257w\355\240\200v\001\037\177"q\\')
parses() { # parses FILE: strict UTF-8 JSON, one object
	/usr/bin/perl -MJSON::PP -e 'local $/; open(my $f, "<", $ARGV[0]) or die;
		my $o = JSON::PP->new->utf8->decode(<$f>); ref $o eq "HASH" or die "not an object\n"' "$1"
}
for fact in client_name helo login from rcpt rcpt_addr mailer all; do
	set -- client=203.0.113.9
	case $fact in
	rcpt) set -- "$@" "rcpt=<v$bad@example.net>" ;;
	rcpt_addr | mailer) set -- "$@" rcpt=v@example.net "$fact=$bad" ;;
	all) set -- "$@" "client_name=$bad" "helo=$bad" "login=$bad" "from=<$bad@example.org>" \
		"rcpt=<$bad@example.net>" "rcpt_addr=$bad" "mailer=$bad" ;;
	*) set -- "$@" "$fact=$bad" rcpt=v@example.net ;;
	esac
	"$milter" -c "$work/core.conf" --explain --json "$@" >"$work/out" 2>"$work/err"
	if err=$(parses "$work/out" 2>&1); then
		tap OK "--explain --json parses with invalid UTF-8 and control bytes in $fact"
	else
		tap FAIL "--explain --json parses with invalid UTF-8 and control bytes in $fact" "$err
$(od -c "$work/out" | head -8)"
	fi
done

echo "1..$n"
[ $failed -eq 0 ]
