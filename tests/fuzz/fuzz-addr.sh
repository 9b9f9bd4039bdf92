#!/bin/sh
# fuzz-addr.sh - the address-parser fuzz run as one TAP test case.
# FUZZ_SECONDS sets its length (.ci/run passes 60); unset or 0 skips it, so
# a plain "make check" stays quick. Skipped too when clang is missing.
set -u

here=$(cd "$(dirname "$0")" && pwd)
seconds=${FUZZ_SECONDS:-0}

echo "1..1"
case $seconds in
'' | *[!0-9]*)
	echo "not ok 1 - fuzz addr_parse # FUZZ_SECONDS is not a number: '$seconds'"
	exit 1
	;;
esac
if [ "$seconds" -eq 0 ]; then
	echo "ok 1 - fuzz addr_parse # SKIP FUZZ_SECONDS not set"
	exit 0
fi
if ! command -v "${CLANG:-clang}" >/dev/null 2>&1; then
	echo "ok 1 - fuzz addr_parse # SKIP clang not installed"
	exit 0
fi
# run-fuzz.sh reports on stderr, which lands in this test's .log file.
if "$here/run-fuzz.sh" "$seconds" >&2; then
	echo "ok 1 - fuzz addr_parse for ${seconds}s: no crash"
else
	echo "not ok 1 - fuzz addr_parse for ${seconds}s (see the log for the input)"
	exit 1
fi
