#!/bin/sh
# run-fuzz.sh - build one fuzz target with clang and run it
#
# usage: tests/fuzz/run-fuzz.sh [SECONDS [TARGET]]    (default 60, addr)
#
# TARGET is addr (the address parser), conf (the configuration loader on
# a configuration and the files it names) or decide (the decision on
# arbitrary facts). Builds tests/fuzz/fuzz_TARGET.c straight from the
# sources it needs with libFuzzer, ASan and UBSan into a temporary
# directory, runs it for SECONDS on a copy of tests/fuzz/corpus-TARGET (the
# committed seeds never change), and exits non-zero on any crash, leak,
# sanitizer report or build error.
# A crashing input is printed and kept in $FUZZ_ARTIFACT_DIR (default: the
# current directory, normally the build tree) as crash-*, leak-*, timeout-*.
set -eu

seconds=${1:-60}
target=${2:-addr}
case $seconds in
'' | *[!0-9]*)
	echo "run-fuzz.sh: SECONDS must be a number, got '$seconds'" >&2
	exit 2
	;;
esac

case $target in
addr | conf | decide) ;;
*)
	echo "run-fuzz.sh: TARGET must be addr, conf or decide, got '$target'" >&2
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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# What each target is built from: the address parser alone, or every
# layer up to the loader (the daemon layer is never needed).
m=$top/milter
case $target in
addr)
	srcs="$m/engine/addr.c $m/engine/idn.c $m/engine/ipaddr.c $m/util/domain.c $m/util/decimal.c"
	incs="-I$m/engine -I$m/util"
	pkgs=libidn2
	libs=
	max_len=5000 # above ADDR_INPUT_MAX, so the length limit itself is fuzzed
	;;
conf | decide)
	# the embedded store, not the Redis one (no server here)
	srcs="$m/util/*.c $m/engine/*.c $m/config/*.c $m/store/memory.c $m/store/shard.c
		$m/store/counter.c $m/store/siphash.c"
	incs="-I$m/config -I$m/store -I$m/engine -I$m/util"
	pkgs="libidn2 libconfig libmaxminddb"
	libs=-lpthread
	max_len=$([ "$target" = conf ] && echo 8192 || echo 2048)
	;;
esac

# shellcheck disable=SC2046,SC2086
"$cc" -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_GNU_SOURCE -Wall -Wextra -Werror $incs \
	$(pkg-config --cflags $pkgs) \
	"$here/fuzz_$target.c" $srcs \
	$(pkg-config --libs $pkgs) $libs -o "$tmp/fuzz"

mkdir "$tmp/corpus"
cp "$here/corpus-$target"/* "$tmp/corpus/"
dict=
[ -f "$here/$target.dict" ] && dict=-dict="$here/$target.dict"

# Leaks of libraries we cannot fix are listed in lsan.supp, each with why.
# The fuzzer runs in the background so that INT/TERM (a CI timeout) stop
# it at once: a shell defers traps until a foreground child exits.
# shellcheck disable=SC2086 # $dict is one word or none
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
LSAN_OPTIONS=suppressions="$here/lsan.supp" \
	"$tmp/fuzz" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
	$dict \
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
echo "run-fuzz.sh: $target: no crash in ${seconds}s"
