#!/bin/sh
# leak.sh - 1,000 reloads (good, broken, with pinned snapshots) and no
# leak: under valgrind --leak-check=full, or, in an AddressSanitizer build
# (valgrind cannot run those), under LeakSanitizer. Any definite or
# indirect leak, or any memory error, fails.
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
prog="$top_builddir/tests/unit/check_reload"
reloads=${RM_RELOADS:-1000}

if [ ! -x "$prog" ]; then
	echo "1..0 # SKIP $prog not built (Check missing?)"
	exit 0
fi
log=$(mktemp /tmp/rm-leak.XXXXXX)
trap 'rm -f "$log"' EXIT INT TERM
# CK_FORK=no: the checker must see the test itself, not a forked child.
export CK_FORK=no CK_TAP_LOG_FILE_NAME=/dev/null RM_RELOADS="$reloads"

if ldd "$prog" 2>/dev/null | grep -q libasan; then
	ASAN_OPTIONS=detect_leaks=1 "$prog" >"$log" 2>&1
	rc=$?
	tool=LeakSanitizer
	summary=$(grep -E "SUMMARY|leaked in" "$log")
elif command -v valgrind >/dev/null 2>&1; then
	valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 --log-file="$log" "$prog" >/dev/null 2>&1
	rc=$?
	tool=valgrind
	summary=$(grep -E "total heap usage|definitely lost|indirectly lost|ERROR SUMMARY" "$log" |
		sed 's/^==[0-9]*== *//')
else
	echo "1..0 # SKIP valgrind not installed (apt-get install valgrind)"
	exit 0
fi
if [ $rc -eq 0 ]; then
	echo "ok 1 - $reloads reloads under $tool: no leak, no memory error"
else
	echo "not ok 1 - $reloads reloads under $tool (exit $rc)"
	grep -A12 -E "definitely lost in|indirectly lost in|Invalid|uninitialised|ERROR: |Direct leak" \
		"$log" | head -60 | sed 's/^/# /'
fi
[ -n "$summary" ] && printf '%s\n' "$summary" | sed 's/^/# /'
echo "1..1"
[ $rc -eq 0 ]
