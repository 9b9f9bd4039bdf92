#!/bin/sh
# run-fuzz.sh - build the address-parser fuzz target with clang and run it
#
# usage: tests/fuzz/run-fuzz.sh [SECONDS]    (default 60)
#
# Builds tests/fuzz/fuzz_addr.c straight from the engine sources with
# libFuzzer, ASan and UBSan into a temporary directory, runs it for SECONDS
# on a copy of tests/fuzz/corpus-addr (the committed seeds never change),
# and exits non-zero on any crash, leak, sanitizer report or build error.
# A crashing input is printed and kept in $FUZZ_ARTIFACT_DIR (default: the
# current directory, normally the build tree) as crash-*, leak-*, timeout-*.
set -eu

seconds=${1:-60}
case $seconds in
'' | *[!0-9]*)
	echo "run-fuzz.sh: SECONDS must be a number, got '$seconds'" >&2
	exit 2
	;;
esac

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cc=${CLANG:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "run-fuzz.sh: $cc not found (contrib/install-deps installs clang)" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-addr.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# shellcheck disable=SC2046
"$cc" -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_GNU_SOURCE -Wall -Wextra -Werror -I"$top/milter/engine" -I"$top/milter/util" \
	$(pkg-config --cflags libidn2) \
	"$here/fuzz_addr.c" "$top/milter/engine/addr.c" "$top/milter/engine/idn.c" "$top/milter/engine/ipaddr.c" "$top/milter/util/domain.c" \
	$(pkg-config --libs libidn2) -o "$tmp/fuzz_addr"

mkdir "$tmp/corpus"
cp "$here"/corpus-addr/* "$tmp/corpus/"

# -max_len above ADDR_INPUT_MAX so the length limit itself is fuzzed. The
# fuzzer runs in the background so that INT/TERM (a CI timeout) stop it at
# once: a shell defers traps until a foreground child exits.
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	"$tmp/fuzz_addr" -max_total_time="$seconds" -max_len=5000 -timeout=10 \
	-dict="$here/addr.dict" \
	-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$tmp/" \
	"$tmp/corpus" >"$tmp/log" 2>&1 &
fuzz_pid=$!
interrupted=no
trap 'interrupted=yes; kill "$fuzz_pid" 2>/dev/null' INT TERM
status=0
wait "$fuzz_pid" || status=$?
if [ "$interrupted" = yes ]; then
	wait "$fuzz_pid" || true
	echo "run-fuzz.sh: interrupted" >&2
	exit 130
fi

grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$tmp/log" || true
if [ "$status" -ne 0 ]; then
	tail -n 60 "$tmp/log" >&2
	for f in "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$tmp"/oom-*; do
		[ -e "$f" ] || continue
		echo "run-fuzz.sh: input that failed ($(basename "$f")):" >&2
		od -c "$f" | head -n 40 >&2
		cp "$f" "${FUZZ_ARTIFACT_DIR:-.}/" &&
			echo "run-fuzz.sh: kept $(basename "$f") in ${FUZZ_ARTIFACT_DIR:-.}" >&2
	done
	echo "run-fuzz.sh: fuzzing failed (status $status)" >&2
	exit 1
fi
echo "run-fuzz.sh: no crash in ${seconds}s"
