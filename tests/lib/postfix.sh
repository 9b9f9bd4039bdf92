# postfix.sh - start and stop a private Postfix instance on loopback (sourced)
#
# Usage (POSIX sh):
#	. "$top_srcdir/tests/lib/postfix.sh"
#	pf_setup "$dir"              # write $dir/etc/{main,master}.cf, pick a port
#	pf_conf 'smtpd_relay_restrictions = permit_mynetworks, reject'
#	pf_start                     # start and wait until smtpd answers
#	relay-probe "127.0.0.1:$(pf_port)"
#	pf_stop                      # always; safe to call twice
#
# Install "trap pf_stop EXIT INT TERM" (or call pf_stop from your own trap)
# right after pf_setup, so a failing test never leaves Postfix running.
#
# The instance has its own config_directory, queue_directory and
# data_directory under $dir, listens on 127.0.0.1 only, on a free high port,
# and delivers everything (local, virtual, relay, remote) to the discard
# transport: nothing ever leaves. It needs root (Postfix's master does);
# pf_can_run says whether we can.
# DIR and every directory above it must be searchable by user "postfix"
# (mktemp -d makes 0700 directories: chmod 755 them).
#
# Environment:
#	PF_MILTER	if set (e.g. unix:/path/to/sock or inet:127.0.0.1:PORT),
#			adds smtpd_milters = $PF_MILTER and
#			milter_default_action = tempfail.
#	PF_HOSTNAME	myhostname (default mx.probe.test)
#	PF_DOMAIN	mydomain (default probe.test)
#
# Functions set these variables: PF_DIR, PF_PORT. The state lives in PF_*
# variables, so one shell runs one instance at a time (use subshells for
# more). Postfix logs to $PF_DIR/maillog; pf_start shows it on failure.
# pf_reload makes a running instance re-read main.cf after pf_conf.

PF_DIR=
PF_PORT=
PF_STARTED=
# /usr/sbin is not on every PATH.
PF_POSTFIX=$(command -v postfix 2>/dev/null || echo /usr/sbin/postfix)
PF_POSTCONF=$(command -v postconf 2>/dev/null || echo /usr/sbin/postconf)

# pf_can_run - 0 when Postfix is installed and we may start it (root)
pf_can_run() {
	[ "$(id -u)" -eq 0 ] || return 1
	[ -x "$PF_POSTFIX" ] && [ -x "$PF_POSTCONF" ] || return 1
	getent passwd postfix >/dev/null 2>&1 || return 1
	getent group postdrop >/dev/null 2>&1 || return 1
	return 0
}

# pf_free_port - print a TCP port on 127.0.0.1 nobody listens on right now
pf_free_port() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(Listen => 1, Proto => "tcp",
		    LocalAddr => "127.0.0.1", LocalPort => 0) or die "$!\n";
		print $s->sockport, "\n";'
}

# pf_wait_port PORT SECONDS - wait until something accepts on 127.0.0.1:PORT
pf_wait_port() {
	perl -MIO::Socket::INET -MTime::HiRes=sleep -e '
		my ($port, $secs) = @ARGV;
		for (1 .. $secs * 10) {
			exit 0 if IO::Socket::INET->new(PeerAddr => "127.0.0.1",
			    PeerPort => $port, Proto => "tcp", Timeout => 1);
			sleep 0.1;
		}
		exit 1;' "$1" "$2"
}

# pf_setup DIR - create a fresh instance under DIR (main.cf, master.cf, dirs)
pf_setup() {
	PF_DIR=$1
	mkdir -p "$PF_DIR/etc" "$PF_DIR/spool" "$PF_DIR/data" || return 1
	# Postfix daemons run as "postfix" and must traverse these.
	chmod 755 "$PF_DIR" "$PF_DIR/etc" "$PF_DIR/spool" || return 1
	chown postfix "$PF_DIR/data" || return 1
	PF_PORT=$(pf_free_port) || return 1
	# IPv6 enabled when the kernel has it: XCLIENT ADDR=IPV6:... needs it.
	_pf_protocols=ipv4
	[ -f /proc/net/if_inet6 ] && _pf_protocols=all
	: >"$PF_DIR/maillog"
	cat >"$PF_DIR/etc/main.cf" <<EOF
# private test instance: loopback only, nothing is ever delivered
compatibility_level = 3.6
config_directory = $PF_DIR/etc
queue_directory = $PF_DIR/spool
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = $_pf_protocols
myhostname = ${PF_HOSTNAME:-mx.probe.test}
mydomain = ${PF_DOMAIN:-probe.test}
myorigin = \$myhostname
mydestination = \$myhostname, \$mydomain, localhost
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP Postfix (private test instance)
default_transport = discard
local_transport = discard
relay_transport = discard
virtual_transport = discard
local_recipient_maps =
alias_maps =
alias_database =
biff = no
smtpd_peername_lookup = no
disable_dns_lookups = yes
smtp_dns_support_level = disabled
maillog_file_prefixes = $PF_DIR
maillog_file = $PF_DIR/maillog
master_service_disable =
EOF
	if [ -n "${PF_MILTER:-}" ]; then
		pf_conf "smtpd_milters = $PF_MILTER" \
		    'milter_default_action = tempfail'
	fi
	# Only the services a loopback smtpd needs; no chroot (column 5 = n).
	cat >"$PF_DIR/etc/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
}

# pf_conf 'name = value' ... - set main.cf parameters (before pf_start)
pf_conf() {
	for _pf_kv in "$@"; do
		"$PF_POSTCONF" -c "$PF_DIR/etc" -e "$_pf_kv" || return 1
	done
}

# pf_port - print the smtpd port of the instance
pf_port() {
	echo "$PF_PORT"
}

# pf_start - start the instance and wait until smtpd accepts connections
pf_start() {
	"$PF_POSTFIX" -c "$PF_DIR/etc" check >>"$PF_DIR/maillog" 2>&1 || {
		echo "# postfix check failed:" >&2
		sed 's/^/#   /' "$PF_DIR/maillog" >&2
		return 1
	}
	# Even a failed start may leave a master behind: always stop.
	PF_STARTED=yes
	"$PF_POSTFIX" -c "$PF_DIR/etc" start >>"$PF_DIR/maillog" 2>&1 || {
		echo "# postfix start failed:" >&2
		sed 's/^/#   /' "$PF_DIR/maillog" >&2
		return 1
	}
	pf_wait_port "$PF_PORT" 20 || {
		echo "# postfix does not answer on 127.0.0.1:$PF_PORT" >&2
		sed 's/^/#   /' "$PF_DIR/maillog" >&2
		return 1
	}
}

# pf_stop - stop the instance (waits for master to exit); safe to repeat
pf_stop() {
	[ -n "$PF_STARTED" ] || return 0
	PF_STARTED=
	# master.pid stays behind after stop: wait (up to 10 s) for the
	# process itself.
	_pf_pid=$(tr -dc 0-9 <"$PF_DIR/spool/pid/master.pid" 2>/dev/null)
	"$PF_POSTFIX" -c "$PF_DIR/etc" stop >>"$PF_DIR/maillog" 2>&1
	_pf_i=0
	while [ -n "$_pf_pid" ] && kill -0 "$_pf_pid" 2>/dev/null &&
	    [ $_pf_i -lt 100 ]; do
		sleep 0.1
		_pf_i=$((_pf_i + 1))
	done
	if [ -n "$_pf_pid" ] && kill -0 "$_pf_pid" 2>/dev/null; then
		"$PF_POSTFIX" -c "$PF_DIR/etc" abort >>"$PF_DIR/maillog" 2>&1
	fi
	return 0
}

# pf_reload - make a running instance re-read main.cf (after pf_conf)
pf_reload() {
	"$PF_POSTFIX" -c "$PF_DIR/etc" reload >>"$PF_DIR/maillog" 2>&1
}
