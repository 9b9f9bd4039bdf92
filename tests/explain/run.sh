#!/bin/sh
# run.sh - golden tests for relay-milter --explain. Each NAME.in holds one
# command line (shell words): [--json] CONFIG KEY=VALUE...; NAME.out is the
# expected stdout and stderr followed by "exit STATUS". The configurations
# sit beside them and are named relative to this folder, so messages are
# stable. REGEN=1 rewrites the .out files from the current output.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
here="$top_srcdir/tests/explain"
milter="$top_builddir/milter/relay-milter"
work=$(mktemp -d /tmp/rm-explain.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

n=0
failed=0
cd "$here" || exit 1
for in in *.in; do
	name=${in%.in}
	n=$((n + 1))
	line=$(sed -n '/^[^#]/{p;q;}' "$in")
	eval "set -- $line"
	json=
	[ "$1" = --json ] && { json=--json; shift; }
	conf=$1
	shift
	{ "$milter" -c "$conf" --explain $json "$@" 2>&1; echo "exit $?"; } >"$work/$name.got"
	if [ "${REGEN:-}" = 1 ]; then
		cp "$work/$name.got" "$name.out"
	fi
	if [ -f "$name.out" ] && diff -u "$name.out" "$work/$name.got" >"$work/$name.diff"; then
		echo "ok $n - explain $name"
	else
		failed=$((failed + 1))
		echo "not ok $n - explain $name"
		[ -f "$name.out" ] || echo "# missing $name.out"
		sed 's/^/# /' "$work/$name.diff" 2>/dev/null | head -40
	fi
done
echo "1..$n"
[ $failed -eq 0 ]
