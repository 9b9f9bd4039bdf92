#!/bin/bash
# run.sh - the Debian package, built, installed, used and purged (TAP).
#
#  1. contrib/build-deb builds relay-milter_V_A.deb and relay-probe_V_A.deb;
#     lintian reports no error and no warning on either.
#  2. apt-get installs both: the system user, Postfix in its group, the
#     conffile and its permissions, /run/relay-milter through tmpfiles.d,
#     the unit (systemd-analyze verify), relay-milter -t on the conffile.
#  3. The installed daemon runs as its unit runs it (user relay-milter, the
#     conffile) and user postfix can connect to its socket, others cannot.
#  4. tests/mta/postfix.sh against /usr/sbin/relay-milter, run as user
#     relay-milter, with the conffile adapted to the test's domains: every
#     scenario through a private Postfix reaching the socket through the
#     group the package set up.
#  5. A local edit of the conffile survives a reinstall and a remove;
#     apt-get purge leaves nothing but the system user, which Debian's
#     practice keeps (README.Debian); the test then removes that user too
#     if it made it, so the machine is as it was.
#
# Needs root and dpkg-buildpackage (contrib/install-deps installs all of it);
# skipped otherwise, when a relay-milter package or configuration is
# already on the machine (this test would purge it), or with
# RELAY_MILTER_SKIP_PKG=1. Whatever fails, the packages are purged at exit.
# The build-tree tests use milter/relay-milter and are not affected.

# shellcheck source=../lib/mta.sh
. "$(dirname "$0")/../lib/mta.sh"

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
[ -z "${RELAY_MILTER_SKIP_PKG:-}" ] || skip_all "RELAY_MILTER_SKIP_PKG is set"
[ "$(id -u)" -eq 0 ] || skip_all "the package test needs root (it installs the packages)"
for tool in dpkg-buildpackage dh dpkg apt-get; do
	command -v "$tool" >/dev/null || skip_all "$tool not installed (contrib/install-deps)"
done
for pkg in relay-milter relay-probe; do
	case $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) in
	'' | not-installed) ;;
	*) skip_all "package $pkg is on this machine already: not touching it" ;;
	esac
done
for f in /etc/relay-milter /usr/sbin/relay-milter /usr/bin/relay-probe; do
	[ ! -e "$f" ] || skip_all "$f exists (not from a package): not touching it"
done
[ -x "$SMTPCHAT" ] || tap_bail "$SMTPCHAT not built"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rm-pkg.XXXXXX") || tap_bail "cannot make a temporary directory"
chmod 0755 "$WORK"
# kept after a failure, for the build log and the daemon's log
pkg_rm_work() {
	if [ "$tap_failed" -eq 0 ]; then rm -rf "$WORK"; else echo "# kept $WORK" >&2; fi
}
mta_atexit pkg_rm_work
# Leave the machine as it was: a system user this test's install made goes
# at exit (after the purge, which keeps it).
had_user=
getent passwd relay-milter >/dev/null && had_user=1
pkg_forget_user() {
	[ -z "$had_user" ] || return 0
	getent passwd relay-milter >/dev/null && deluser --system --quiet relay-milter
	getent group relay-milter >/dev/null && delgroup --system --quiet relay-milter
	return 0
}
mta_atexit pkg_forget_user

# pkg_installed PKG - is PKG installed (or half-installed) in any way?
pkg_installed() {
	case $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) in
	'' | not-installed) return 1 ;;
	esac
	return 0
}

# pkg_purge - remove both packages entirely; at exit, whatever happened
pkg_purge() {
	local p=
	pkg_installed relay-milter && p="$p relay-milter"
	pkg_installed relay-probe && p="$p relay-probe"
	[ -n "$p" ] || return 0
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $p >"$WORK/purge.log" 2>&1 ||
		dpkg --purge $p >>"$WORK/purge.log" 2>&1
}

# pkg_check WHAT CMD... - one TAP line from a command's status; its output as diagnostics
pkg_check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$what"
	else
		local IFS=$'\n'
		# shellcheck disable=SC2086
		tap_fail "$what" ${out:-"(exit status $?)"}
	fi
}

# pkg_mode PATH - "mode owner:group" of a file
pkg_mode() { stat -c '%a %U:%G' "$1" 2>/dev/null; }

# pkg_want WHAT PATH "MODE OWNER:GROUP" - permissions of one path
pkg_want() {
	local got
	got=$(pkg_mode "$2")
	if [ "$got" = "$3" ]; then
		tap_ok "$1: $2 is $3"
	else
		tap_fail "$1: $2 is $3" "got: ${got:-missing}"
	fi
}

t0=$(date +%s)
elapsed() { echo "# ($(($(date +%s) - t0)) s)"; }

# === 1. build and lintian ===================================================
version=$(sed -n 's/^AC_INIT(\[relay-milter\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
arch=$(dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null || dpkg --print-architecture)
DEBS=$WORK/debs
MILTER_DEB=$DEBS/relay-milter_${version}_$arch.deb
PROBE_DEB=$DEBS/relay-probe_${version}_$arch.deb
# The test harness exports the build tree's compiler settings: not for the package.
if env -u CC -u CFLAGS -u CPPFLAGS -u LDFLAGS -u UTIL_CPPFLAGS -u ENGINE_CPPFLAGS \
	-u CONFIG_CPPFLAGS -u PROBE_CPPFLAGS DEB_BUILD_OPTIONS="noautodbgsym parallel=2" \
	timeout 600 "$top_srcdir/contrib/build-deb" "$DEBS" >"$WORK/build-deb.out" 2>&1 &&
	[ -f "$MILTER_DEB" ] && [ -f "$PROBE_DEB" ]; then
	tap_ok "contrib/build-deb builds $(basename "$MILTER_DEB") and $(basename "$PROBE_DEB")"
else
	tap_fail "contrib/build-deb builds relay-milter_${version}_$arch.deb and relay-probe_${version}_$arch.deb" \
		"$(tail -n 30 "$WORK/build-deb.out")"
	tap_done
	exit 1
fi
elapsed

if command -v lintian >/dev/null; then
	for deb in "$MILTER_DEB" "$PROBE_DEB"; do
		# exit status 0: no tag of severity warning or above, no lintian error
		if timeout 300 lintian --fail-on error,warning --tag-display-limit 0 "$deb" \
			>"$WORK/lintian.out" 2>&1; then
			tap_ok "lintian: no error, no warning on $(basename "$deb")"
		else
			IFS=$'\n' read -r -d '' -a lines < <(grep -v 'running with root privileges' "$WORK/lintian.out" | tail -n 20)
			tap_fail "lintian: no error, no warning on $(basename "$deb")" "${lines[@]}"
		fi
	done
else
	tap_skip "lintian on both packages" "lintian not installed (contrib/install-deps)"
fi
elapsed

# What each package holds: relay-probe is the tool alone.
probe_files=$(dpkg-deb -c "$PROBE_DEB" | awk '{ print $6 }' | grep -v '/$' | sed 's,^\./,/,' |
	grep -v '^/usr/share/doc/relay-probe/')
if [ "$probe_files" = "$(printf '/usr/bin/relay-probe\n/usr/share/man/man1/relay-probe.1.gz')" ]; then
	tap_ok "relay-probe holds /usr/bin/relay-probe and relay-probe(1) only"
else
	# shellcheck disable=SC2086
	tap_fail "relay-probe holds /usr/bin/relay-probe and relay-probe(1) only" $probe_files
fi
deps=$(dpkg-deb -f "$PROBE_DEB" Depends)
case $deps in
*milter* | *libconfig* | *maxminddb* | *microhttpd* | *idn2* | *adduser*)
	tap_fail "relay-probe depends on nothing of the daemon" "Depends: $deps" ;;
*) tap_ok "relay-probe depends on nothing of the daemon ($deps)" ;;
esac

# === 2. install ===============================================================
mta_atexit pkg_purge
if (cd "$DEBS" && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q \
	--no-install-recommends "./$(basename "$MILTER_DEB")" "./$(basename "$PROBE_DEB")") \
	>"$WORK/install.log" 2>&1 && pkg_installed relay-milter && pkg_installed relay-probe; then
	tap_ok "apt-get install ./relay-milter_*.deb ./relay-probe_*.deb"
else
	tap_fail "apt-get install ./relay-milter_*.deb ./relay-probe_*.deb" "$(tail -n 20 "$WORK/install.log")"
	tap_done
	exit 1
fi
elapsed

# The system user and group.
IFS=: read -r _ _ uid gid _ home shell <<<"$(getent passwd relay-milter)"
group=$(getent group "${gid:-none}" | cut -d: -f1)
if [ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ "$group" = relay-milter ] &&
	[ "$home" = /nonexistent ] && [ "$shell" = /usr/sbin/nologin ]; then
	tap_ok "system user relay-milter (uid $uid, group relay-milter, no home, no shell)"
else
	tap_fail "system user relay-milter" "$(getent passwd relay-milter)" "group: $group"
fi
if getent passwd postfix >/dev/null; then
	if id -Gn postfix | tr ' ' '\n' | grep -qx relay-milter; then
		tap_ok "user postfix is in group relay-milter"
	else
		tap_fail "user postfix is in group relay-milter" "$(id postfix)"
	fi
else
	tap_skip "user postfix is in group relay-milter" "Postfix is not installed"
fi

# The conffile.
CONF=/etc/relay-milter/relay-milter.conf
if dpkg-query -W -f='${Conffiles}\n' relay-milter | grep -q "^ $CONF "; then
	tap_ok "$CONF is a conffile of relay-milter"
else
	tap_fail "$CONF is a conffile of relay-milter" "$(dpkg-query -W -f='${Conffiles}' relay-milter)"
fi
pkg_want "conffile" "$CONF" "644 root:root"
pkg_want "configuration folder" /etc/relay-milter "755 root:root"
missing=
for line in 'socket = "unix:/run/relay-milter/relay-milter.sock";' 'socket_mode = "0660";'; do
	grep -qxF "$line" "$CONF" || missing="$missing|$line"
done
grep -q '^user *=' "$CONF" && missing="$missing|no active user line (the unit starts it as relay-milter)"
if [ -z "$missing" ]; then
	tap_ok "the conffile listens on unix:/run/relay-milter/relay-milter.sock, mode 0660"
else
	IFS='|' read -r -a lines <<<"${missing#|}"
	tap_fail "the conffile's socket settings" "${lines[@]}"
fi
pkg_check "relay-milter -t -c $CONF accepts the conffile" /usr/sbin/relay-milter -t -c "$CONF"
out=$(/usr/sbin/relay-milter -t 2>&1)
case $out in
*"$CONF: configuration valid"*) tap_ok "relay-milter -t without -c checks $CONF" ;;
*) tap_fail "relay-milter -t without -c checks $CONF" "$out" ;;
esac
pkg_check "relay-probe -V runs" /usr/bin/relay-probe -V
missing=
for f in README.Debian README.gz relay-milter.conf postfix/README.gz postfix/main.cf.snippet \
	postfix/master.cf.submission sendmail/relay-milter.mc grafana/relay-milter.json copyright; do
	[ -f "/usr/share/doc/relay-milter/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then
	tap_ok "/usr/share/doc/relay-milter: README, README.Debian, the sample, contrib's snippets, the dashboard"
else
	tap_fail "/usr/share/doc/relay-milter holds the documentation" "missing:$missing"
fi
if zgrep -q "$CONF" /usr/share/man/man8/relay-milter.8.gz &&
	! zgrep -q '/etc/relay-milter\.conf' /usr/share/man/man8/relay-milter.8.gz /usr/share/man/man5/relay-milter.conf.5.gz; then
	tap_ok "the man pages name $CONF"
else
	tap_fail "the man pages name $CONF" \
		"$(zgrep -n '/etc/relay-milter[./]' /usr/share/man/man8/relay-milter.8.gz | head -3)"
fi

# /run/relay-milter through tmpfiles.d.
if command -v systemd-tmpfiles >/dev/null; then
	rmdir /run/relay-milter 2>/dev/null
	systemd-tmpfiles --create relay-milter.conf >"$WORK/tmpfiles.out" 2>&1
	pkg_want "systemd-tmpfiles --create relay-milter.conf" /run/relay-milter "750 relay-milter:relay-milter"
else
	tap_skip "systemd-tmpfiles --create relay-milter.conf" "systemd-tmpfiles not installed"
fi

# The unit.
UNIT=$(dpkg -L relay-milter | grep '/systemd/system/relay-milter\.service$' | head -1)
if [ -n "$UNIT" ] && grep -qx 'Type=notify' "$UNIT" &&
	grep -qxF "ExecStart=/usr/sbin/relay-milter -f -c $CONF" "$UNIT" &&
	grep -qx 'User=relay-milter' "$UNIT" && grep -qx 'ExecReload=/bin/kill -USR1 \$MAINPID' "$UNIT"; then
	tap_ok "unit $UNIT: Type=notify, user relay-milter, the conffile, reload by SIGUSR1"
else
	tap_fail "the unit in the systemd unit folder" "unit: ${UNIT:-none}" \
		"$(grep -E '^(Type|User|ExecStart|ExecReload)=' "${UNIT:-/dev/null}")"
fi
if [ -L /etc/systemd/system/multi-user.target.wants/relay-milter.service ]; then
	tap_ok "relay-milter.service is enabled (multi-user.target.wants)"
else
	tap_fail "relay-milter.service is enabled (multi-user.target.wants)"
fi
if command -v systemd-analyze >/dev/null && [ -n "$UNIT" ]; then
	man=yes
	command -v man >/dev/null || man=no
	out=$(systemd-analyze verify --man=$man "$UNIT" 2>&1)
	if [ -z "$out" ]; then
		tap_ok "systemd-analyze verify --man=$man $UNIT: no warning"
	else
		IFS=$'\n' read -r -d '' -a lines <<<"$out"
		tap_fail "systemd-analyze verify $UNIT: no warning" "${lines[@]}"
	fi
else
	tap_skip "systemd-analyze verify on the installed unit" "systemd-analyze not installed"
fi

# === 3. the service as its unit runs it ======================================
SOCK=/run/relay-milter/relay-milter.sock
# pkg_connect USER - can USER (with its groups) connect to the socket?
pkg_connect() {
	setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups perl -MIO::Socket::UNIX \
		-e 'IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect $ARGV[0]: $!\n"' "$SOCK"
}
daemon=
if [ -d /run/systemd/system ]; then
	# systemd runs here: the package started the service
	pkg_check "systemctl is-active relay-milter" systemctl is-active relay-milter
else
	# what the unit's RuntimeDirectory= would make, if tmpfiles.d did not
	[ -d /run/relay-milter ] || install -d -o relay-milter -g relay-milter -m 0750 /run/relay-milter
	setpriv --reuid=relay-milter --regid=relay-milter --init-groups \
		/usr/sbin/relay-milter -f -c "$CONF" >"$WORK/daemon.log" 2>&1 &
	daemon=$!
	mta_atexit "kill $daemon"
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && break
		kill -0 "$daemon" 2>/dev/null || break
		sleep 0.1
	done
	if [ -S "$SOCK" ]; then
		tap_ok "relay-milter -f -c $CONF as user relay-milter (as the unit starts it) listens"
	else
		tap_fail "relay-milter -f -c $CONF as user relay-milter listens" "$(tail -5 "$WORK/daemon.log")"
	fi
fi
pkg_want "the milter socket" "$SOCK" "660 relay-milter:relay-milter"
if getent passwd postfix >/dev/null; then
	pkg_check "user postfix can connect to $SOCK (through group relay-milter)" pkg_connect postfix
else
	tap_skip "user postfix can connect to $SOCK" "Postfix is not installed"
fi
if pkg_connect nobody >/dev/null 2>&1; then
	tap_fail "user nobody cannot connect to $SOCK"
else
	tap_ok "user nobody cannot connect to $SOCK"
fi
if [ -n "$daemon" ]; then
	kill "$daemon" 2>/dev/null
	wait "$daemon" 2>/dev/null
	rm -f "$SOCK"
fi
elapsed

# === 4. Postfix end to end, against the installed daemon =====================
# The conffile adapted to the test's domains (tests/lib/mta.sh,
# MTA_MILTER_BASE); relay-milter runs as user relay-milter and Postfix's
# smtpd reaches its 0660 socket through the group the package gave it.
if [ -r "$top_srcdir/tests/mta/postfix.sh" ]; then
	while IFS= read -r line; do
		case $line in
		"ok "*" # SKIP "*)
			d=${line#ok * - }
			tap_skip "installed: ${d%% # SKIP *}" "${d#* # SKIP }" ;;
		"ok "*) tap_ok "installed: ${line#ok * - }" ;;
		"not ok "*) tap_fail "installed: ${line#not ok * - }" ;;
		"Bail out!"*) tap_fail "installed: tests/mta/postfix.sh: $line" ;;
		"1..0"*) tap_skip "Postfix end to end with the installed package" "${line#*# SKIP }" ;;
		"1.."*) ;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done < <(RELAY_MILTER=/usr/sbin/relay-milter MTA_MILTER_BASE=$CONF MTA_MILTER_USER=relay-milter \
		timeout 600 bash "$top_srcdir/tests/mta/postfix.sh" 2>&1)
else
	tap_fail "tests/mta/postfix.sh exists"
fi
elapsed

# === 5. upgrade, remove, purge ================================================
# A local edit of the conffile survives reinstalling the package (dpkg's
# upgrade path, without a question: the package's version did not change).
echo '# a local edit (tests/pkg/run.sh)' >>"$CONF"
if timeout 120 dpkg -i "$MILTER_DEB" </dev/null >"$WORK/reinstall.log" 2>&1 &&
	grep -qx '# a local edit (tests/pkg/run.sh)' "$CONF"; then
	tap_ok "reinstalling relay-milter keeps a local edit of $CONF"
else
	tap_fail "reinstalling relay-milter keeps a local edit of $CONF" "$(tail -n 10 "$WORK/reinstall.log")"
fi
# Remove keeps the conffile (and the edit), the rest goes.
DEBIAN_FRONTEND=noninteractive timeout 120 apt-get remove -y -q relay-milter >"$WORK/remove.log" 2>&1
if [ "$(dpkg-query -W -f='${db:Status-Status}' relay-milter 2>/dev/null)" = config-files ] &&
	grep -qx '# a local edit (tests/pkg/run.sh)' "$CONF" && [ ! -e /usr/sbin/relay-milter ]; then
	tap_ok "apt-get remove relay-milter keeps $CONF, removes the program"
else
	tap_fail "apt-get remove relay-milter keeps $CONF, removes the program" \
		"status: $(dpkg-query -W -f='${db:Status-Status}' relay-milter 2>&1)" "$(tail -n 5 "$WORK/remove.log")"
fi
pkg_purge
if pkg_installed relay-milter || pkg_installed relay-probe; then
	tap_fail "apt-get purge relay-milter relay-probe" "$(tail -n 20 "$WORK/purge.log")"
else
	tap_ok "apt-get purge relay-milter relay-probe"
fi
left=
for f in /etc/relay-milter /run/relay-milter /usr/sbin/relay-milter /usr/bin/relay-probe \
	/usr/share/doc/relay-milter /usr/share/doc/relay-probe \
	/usr/share/man/man8/relay-milter.8.gz /usr/share/man/man5/relay-milter.conf.5.gz \
	/usr/share/man/man1/relay-probe.1.gz /usr/lib/tmpfiles.d/relay-milter.conf \
	/etc/systemd/system/multi-user.target.wants/relay-milter.service \
	/var/lib/systemd/deb-systemd-helper-enabled/relay-milter.service.dsh-also \
	/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/relay-milter.service \
	${UNIT:-/lib/systemd/system/relay-milter.service}; do
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done
if [ -z "$left" ]; then
	tap_ok "purge leaves no file behind (configuration, runtime folder, unit, programs, docs)"
else
	tap_fail "purge leaves no file behind" "left:$left"
fi
if getent passwd relay-milter >/dev/null; then
	tap_ok "the system user relay-milter stays after purge (Debian's practice, README.Debian)"
else
	tap_fail "the system user relay-milter stays after purge"
fi
elapsed

tap_done
[ "$tap_failed" -eq 0 ]
