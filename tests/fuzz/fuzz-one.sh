#!/bin/sh
# fuzz-one.sh TARGET WHAT - one fuzz run (run-fuzz.sh) as one TAP test
# case; fuzz-addr.sh, fuzz-conf.sh and fuzz-decide.sh call it.
# FUZZ_SECONDS sets the length of each run (.ci/run passes 60); unset or 0
# skips it, so a plain "make check" stays quick. Skipped too when clang is
# missing.
set -u

here=$(cd "$(dirname "$0")" && pwd)
seconds=${FUZZ_SECONDS:-0}
target=$1
what=$2

echo "1..1"
case $seconds in
'' | *[!0-9]*)
	echo "not ok 1 - fuzz $what # FUZZ_SECONDS is not a number: '$seconds'"
	exit 1
	;;
esac
if [ "$seconds" -eq 0 ]; then
	echo "ok 1 - fuzz $what # SKIP FUZZ_SECONDS not set"
	exit 0
fi
if ! command -v "${CLANG:-clang}" >/dev/null 2>&1; then
	echo "ok 1 - fuzz $what # SKIP clang not installed"
	exit 0
fi
# run-fuzz.sh reports on stderr, which lands in this test's .log file.
if "$here/run-fuzz.sh" "$seconds" "$target" >&2; then
	echo "ok 1 - fuzz $what for ${seconds}s: no crash"
else
	echo "not ok 1 - fuzz $what for ${seconds}s (see the log for the input)"
	exit 1
fi
