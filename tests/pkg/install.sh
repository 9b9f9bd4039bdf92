#!/bin/sh
# install.sh - `make install` never overwrites a configuration (TAP):
# into a DESTDIR, the first install puts the sample at
# $sysconfdir/relay-milter.conf and in the documentation folder with the
# README and contrib's files, and the unit made from its .in file with
# configure's paths in the systemd unit folder; a second install keeps a
# locally edited configuration; `make uninstall` keeps it while it differs
# from the sample and removes it once it is the sample again.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

[ -f "$top_builddir/Makefile" ] || { echo "1..0 # SKIP no configured build tree"; exit 0; }
dest=$(mktemp -d "${TMPDIR:-/tmp}/rm-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT INT TERM
# an outer make (make check) must not pass its flags or jobserver on
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
inst() { make -s -C "$top_builddir" "$@" DESTDIR="$dest" >"$dest.out" 2>&1; }
sample=$top_srcdir/conf/relay-milter.conf

if inst install; then
	tap OK "make install DESTDIR=..."
else
	tap FAIL "make install DESTDIR=..." "$(tail -20 "$dest.out")"
	rm -f "$dest.out"
	echo "1..$n"
	exit 1
fi

unit=$(find "$dest" -path '*/systemd/system/relay-milter.service' | head -1)
bin=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "${unit:-/dev/null}")
conf=$(sed -n 's/^ExecStart=.* -c \([^ ]*\).*/\1/p' "${unit:-/dev/null}")
if [ -n "$unit" ] && [ -x "$dest$bin" ] && [ -n "$conf" ] && ! grep -q '@[a-z_]*@' "$unit"; then
	tap OK "the unit is in ${unit#"$dest"}, with configure's paths ($bin, $conf)"
else
	tap FAIL "the unit is in the systemd unit folder with configure's paths" \
		"unit: ${unit:-none}; ExecStart: $bin -c $conf"
fi
if [ -n "$conf" ] && cmp -s "$sample" "$dest$conf"; then
	tap OK "no configuration yet: the sample is installed as $conf"
else
	tap FAIL "no configuration yet: the sample is installed as $conf"
fi
doc=$(find "$dest" -path '*/doc/relay-milter/README' | head -1)
doc=${doc%/README}
missing=
for f in README relay-milter.conf postfix/README postfix/main.cf.snippet \
	postfix/master.cf.submission sendmail/relay-milter.mc grafana/relay-milter.json; do
	[ -f "$doc/$f" ] || missing="$missing $f"
done
if [ -n "$doc" ] && [ -z "$missing" ] && cmp -s "$sample" "$doc/relay-milter.conf"; then
	tap OK "${doc#"$dest"}: README, the sample, contrib's Postfix, Sendmail and Grafana files"
else
	tap FAIL "the documentation folder holds README, the sample and contrib's files" \
		"folder: ${doc:-none}; missing:$missing"
fi

echo '# a local edit' >>"$dest$conf"
if inst install && grep -q '^# a local edit$' "$dest$conf" && grep -q 'exists: kept' "$dest.out"; then
	tap OK "a second make install keeps the edited $conf (and says so)"
else
	tap FAIL "a second make install keeps the edited $conf" "$(tail -5 "$dest.out")"
fi
if inst uninstall && grep -q '^# a local edit$' "$dest$conf" && [ ! -e "$dest$bin" ] &&
	[ ! -e "$unit" ]; then
	tap OK "make uninstall removes the programs and the unit, keeps the edited $conf"
else
	tap FAIL "make uninstall keeps the edited $conf" "$(tail -5 "$dest.out")"
fi
cp "$sample" "$dest$conf"
if inst uninstall && [ ! -e "$dest$conf" ] && [ -z "$(find "$dest" -type f)" ]; then
	tap OK "make uninstall removes $conf while it is the sample; nothing is left"
else
	tap FAIL "make uninstall removes $conf while it is the sample" "left: $(find "$dest" -type f)"
fi
rm -f "$dest.out"

echo "1..$n"
[ "$failed" -eq 0 ]
