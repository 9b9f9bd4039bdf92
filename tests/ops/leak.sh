#!/bin/sh
# leak.sh - 1,000 reloads (good, broken, with pinned snapshots) under
# valgrind: any definite or indirect leak, or any memory error, fails.
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
prog="$top_builddir/tests/unit/check_reload"

if ! command -v valgrind >/dev/null 2>&1; then
	echo "1..0 # SKIP valgrind not installed (apt-get install valgrind)"
	exit 0
fi
if [ ! -x "$prog" ]; then
	echo "1..0 # SKIP $prog not built (Check missing?)"
	exit 0
fi
log=$(mktemp /tmp/rm-leak.XXXXXX)
trap 'rm -f "$log"' EXIT INT TERM
# CK_FORK=no: valgrind must see the test itself, not a forked child.
CK_FORK=no CK_TAP_LOG_FILE_NAME=/dev/null RM_RELOADS=${RM_RELOADS:-1000} \
	valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--error-exitcode=99 --log-file="$log" "$prog" >/dev/null 2>&1
rc=$?
summary=$(grep -E "total heap usage|definitely lost|indirectly lost|ERROR SUMMARY" "$log" | sed 's/^==[0-9]*== *//')
if [ $rc -eq 0 ]; then
	echo "ok 1 - ${RM_RELOADS:-1000} reloads under valgrind: no leak, no memory error"
	printf '%s\n' "$summary" | sed 's/^/# /'
else
	echo "not ok 1 - ${RM_RELOADS:-1000} reloads under valgrind (exit $rc)"
	grep -A12 -E "definitely lost in|indirectly lost in|Invalid|uninitialised" "$log" | head -60 | sed 's/^/# /'
	printf '%s\n' "$summary" | sed 's/^/# /'
fi
echo "1..1"
[ $rc -eq 0 ]
