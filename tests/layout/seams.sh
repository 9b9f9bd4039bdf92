#!/bin/sh
# seams.sh - the layers of milter/ stay layers (README, "Layout"):
#  - every quoted #include names a header of the file's own folder or of a
#    folder below it (util < engine < store < config < daemon; probe stands
#    on util; only the store may use hiredis);
#  - the build itself refuses an upward include: with each layer's own
#    compiler flags (from the Makefile), a daemon header or a library of a
#    layer above does not compile, while the layer's own headers do;
#  - modules include each other without a circle;
#  - the built-in step and reason names are spelt in the engine's table only.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${CC:=cc}"
src="$top_srcdir/milter"

# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

# below LAYER - the folders a file of LAYER may include from
below() {
	case $1 in
	util) echo "util" ;;
	engine) echo "engine util" ;;
	store) echo "store engine util" ;;
	config) echo "config store engine util" ;;
	daemon) echo "daemon config store engine util" ;;
	probe) echo "probe util" ;;
	esac
}

layers="util engine store config daemon probe"
stray=$(find "$src" -maxdepth 1 -name '*.[ch]')
[ -z "$stray" ] && tap OK "no C file directly in milter/" ||
	tap FAIL "no C file directly in milter/" "$stray"

for layer in $layers; do
	bad=
	for f in "$src/$layer"/*.[ch]; do
		for h in $(sed -n 's/^#[ \t]*include[ \t]*"\([^"]*\)".*/\1/p' "$f"); do
			# config.h is configure's output, for the two programs' version
			[ "$h" = config.h ] && { [ "$layer" = daemon ] || [ "$layer" = probe ]; } && continue
			ok=no
			case $h in */*) ;; *)
				for l in $(below "$layer"); do
					[ -f "$src/$l/$h" ] && ok=yes
				done ;;
			esac
			[ $ok = yes ] || bad="$bad ${f#"$src"/}:\"$h\""
		done
	done
	[ -z "$bad" ] && tap OK "milter/$layer includes only its own headers and those below it" ||
		tap FAIL "milter/$layer includes only its own headers and those below it" "upward or unknown:$bad"
done

# compiles LAYER_FLAGS TEXT - does a one-line C file compile with these flags?
compiles() {
	# shellcheck disable=SC2086
	printf '%s\nint rm_seam_probe;\n' "$2" | (cd "${top_builddir:-.}" && $CC $1 -fsyntax-only -x c - 2>/dev/null)
}

# refuses LAYER FLAGS INCLUDE... - each include fails to build in that layer
refuses() {
	layer=$1 flags=$2
	shift 2
	for inc in "$@"; do
		if compiles "$flags" "#include $inc"; then
			tap FAIL "milter/$layer cannot build with #include $inc"
		else
			tap OK "milter/$layer cannot build with #include $inc"
		fi
	done
}

# builds LAYER FLAGS INCLUDE - the positive control: the layer's own header compiles
builds() {
	if compiles "$2" "#include $3"; then
		tap OK "milter/$1 builds with its own #include $3"
	else
		tap FAIL "milter/$1 builds with its own #include $3" "flags: $2"
	fi
}

if [ -n "${ENGINE_CPPFLAGS:-}" ]; then
	builds engine "$ENGINE_CPPFLAGS" '"policy.h"'
	refuses engine "$ENGINE_CPPFLAGS" '<libmilter/mfapi.h>' '<syslog.h>' '<libconfig.h>' \
	    '<maxminddb.h>' '<microhttpd.h>' '<hiredis/hiredis.h>' '<systemd/sd-daemon.h>' \
	    '"log.h"' '"conf.h"' '"snapshot.h"' '"metrics.h"'
	refuses engine "$ENGINE_CPPFLAGS" '"store_open.h"' '"shard.h"' '"counter.h"'
	# the store: libc, pthread and hiredis, nothing of config or daemon
	builds store "${STORE_CPPFLAGS:-}" '"store_open.h"'
	refuses store "${STORE_CPPFLAGS:-}" '<libmilter/mfapi.h>' '<syslog.h>' '<libconfig.h>' \
	    '<maxminddb.h>' '<microhttpd.h>' '<systemd/sd-daemon.h>' '"conf.h"' '"snapshot.h"' \
	    '"log.h"' '"metrics.h"'
	builds util "$UTIL_CPPFLAGS" '"json.h"'
	refuses util "$UTIL_CPPFLAGS" '"policy.h"' '<libmilter/mfapi.h>' '<syslog.h>'
	builds store "${STORE_CPPFLAGS:-}" '"redis.h"'
	builds config "$CONFIG_CPPFLAGS" '"conf.h"'
	refuses config "$CONFIG_CPPFLAGS" '<libmilter/mfapi.h>' '<microhttpd.h>' '<hiredis/hiredis.h>' \
	    '"log.h"' '"metrics.h"' '"callbacks.h"'
	builds probe "$PROBE_CPPFLAGS" '"probe_tests.h"'
	refuses probe "$PROBE_CPPFLAGS" '<libmilter/mfapi.h>' '<libconfig.h>' '"policy.h"' '"conf.h"'
else
	tap OK "layer flags from the Makefile # SKIP not run through make check"
fi

# No circles: module X -> Y when a file of X includes a header of Y; a
# module is a family of files named alike in one folder (conf.c,
# conf_rules.c and conf_loader.h are config/conf; engine/store.h, the
# interface, and store/store_open.c are two modules). A header is the one
# the include path finds: the file's own folder first, then those below.
# tsort finds the loops.
# owner LAYER HEADER - the folder whose HEADER a file of LAYER includes
owner() {
	for l in $(below "$1"); do
		[ -f "$src/$l/$2" ] && { echo "$l"; return; }
	done
}
edges=$(for layer in $layers; do
	for f in "$src/$layer"/*.[ch]; do
		[ -f "$f" ] || continue
		m=$layer/$(basename "$f" | sed 's/[._].*//')
		sed -n 's/^#[ \t]*include[ \t]*"\([^"/]*\.h\)".*/\1/p' "$f" | while read -r h; do
			l=$(owner "$layer" "$h")
			[ -n "$l" ] || continue
			d=$l/$(echo "$h" | sed 's/[._].*//')
			[ "$d" != "$m" ] && echo "$m $d"
		done
	done
done | sort -u)
loops=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null)
[ -z "$loops" ] && tap OK "no import circles between modules" ||
	tap FAIL "no import circles between modules" "$loops"

# The hyphenated step and reason names, from the engine's table: no other
# file of the milter spells one of them as a string (the probe is another
# program with test names of its own).
names=$(sed -n 's/.*\] = "\([a-z-]*-[a-z-]*\)",$/\1/p' "$src/engine/steps.c")
[ "$(printf '%s\n' "$names" | wc -l)" -ge 10 ] &&
	tap OK "steps.c lists the hyphenated step and reason names" ||
	tap FAIL "steps.c lists the hyphenated step and reason names" "$names"
dups=
for name in $names; do
	hits=$(grep -ln "\"$name\"" "$src"/engine/*.[ch] "$src"/store/*.[ch] "$src"/config/*.[ch] \
	    "$src"/daemon/*.[ch] |
		grep -v '/engine/steps\.[ch]$')
	[ -n "$hits" ] && dups="$dups $name:$(echo "$hits" | tr '\n' ' ')"
done
[ -z "$dups" ] && tap OK "step and reason names are spelt in engine/steps.c only" ||
	tap FAIL "step and reason names are spelt in engine/steps.c only" "$dups"

echo "1..$n"
[ $failed -eq 0 ]
