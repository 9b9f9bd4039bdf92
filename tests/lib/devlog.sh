# devlog.sh - run a command with a /dev/log of its own: in a private mount
# namespace, /dev is replaced by a tmpfs holding the usual device nodes
# (bound from the real /dev) and a datagram socket served by
# tests/daemon/logrecv, so syslog lines can be read without touching the
# host's /dev/log (which may not even exist). Needs root and unshare(1).
# shellcheck shell=sh

# devlog_available - can this host make a private /dev?
devlog_available() {
	[ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
	    unshare -m true 2>/dev/null
}

# devlog_run LOGFILE WORKDIR SCRIPT - run sh -c SCRIPT with a private
# /dev/log whose datagrams are appended to LOGFILE; $LOGRECV is the
# receiver binary, WORKDIR an empty folder of the caller's for the real /dev
# (it stays empty on the host). In the script, devlog_restart (a shell
# function) restarts the receiver; the caller's exported variables are there.
devlog_run() {
	DEVLOG_OUT=$1 DEVLOG_OLD=$2 DEVLOG_SCRIPT=$3 LOGRECV=$LOGRECV unshare -m sh -c '
		set -e
		mount --make-rprivate /
		old=$DEVLOG_OLD
		mkdir -p "$old"
		mount --rbind /dev "$old"
		mount -t tmpfs -o mode=755 tmpfs /dev
		for n in null zero urandom random full tty; do
			touch "/dev/$n"
			mount --bind "$old/$n" "/dev/$n"
		done
		mkdir /dev/pts /dev/shm
		mount --rbind "$old/pts" /dev/pts
		mount --rbind "$old/shm" /dev/shm
		ln -s /proc/self/fd /dev/fd
		set +e
		recv_pid=
		devlog_start() { "$LOGRECV" /dev/log >>"$DEVLOG_OUT" & recv_pid=$!;
			for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S /dev/log ] && break; sleep 0.1; done; }
		devlog_stop() { [ -n "$recv_pid" ] && kill "$recv_pid" && wait "$recv_pid"; recv_pid=; }
		devlog_restart() { devlog_stop; devlog_start; }
		devlog_start
		eval "$DEVLOG_SCRIPT"
		rc=$?
		devlog_stop
		exit $rc'
}
