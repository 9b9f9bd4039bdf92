#!/bin/sh
# dashboard.sh - contrib/grafana/relay-milter.json cannot query a metric the
# daemon does not export (TAP). The expected names are read from the
# dashboard itself: every relay_milter_* and process_* name in a query
# (panel targets, annotations, template variables). The daemon is started
# from the build tree with the metrics listener on a free loopback port
# ("127.0.0.1:0"), and each name must be a sample of its /metrics answer.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
milter="$top_builddir/milter/relay-milter"
dashboard="$top_srcdir/contrib/grafana/relay-milter.json"

# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

if ! command -v curl >/dev/null 2>&1; then
	echo "1..0 # SKIP curl not installed (apt-get install curl)"
	exit 0
fi
if ! perl -MJSON::PP -e 1 2>/dev/null; then
	echo "1..0 # SKIP perl JSON::PP not installed"
	exit 0
fi

work=$(mktemp -d /tmp/rm-dashboard.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# --- the dashboard: valid JSON, and the names its queries use ---
# Prints one metric name a line; fails on a JSON error, a panel without a
# datasource or a query, or two panels with one id.
perl -MJSON::PP -e '
	local $/;
	open my $fh, "<", $ARGV[0] or die "$ARGV[0]: $!\n";
	my $d = JSON::PP->new->decode(<$fh>);
	my (@expr, %id, @bad);
	my @panels = @{$d->{panels} || []};
	push @panels, @{$_->{panels} || []} for @panels;
	for my $p (@panels) {
		push @bad, "two panels have id $p->{id}" if $id{$p->{id}}++;
		next if $p->{type} eq "row";
		push @bad, "panel \"$p->{title}\" has no datasource" unless $p->{datasource};
		my @t = @{$p->{targets} || []};
		push @bad, "panel \"$p->{title}\" has no query" unless @t;
		for (@t) {
			defined $_->{expr} && length $_->{expr}
			    ? push @expr, $_->{expr} : push @bad, "panel \"$p->{title}\": a target without expr";
		}
	}
	push @expr, $_->{expr} for grep { defined $_->{expr} } @{$d->{annotations}{list} || []};
	for (@{$d->{templating}{list} || []}) {
		my $q = $_->{query};
		push @expr, ref $q ? $q->{query} : $q if defined $q && $_->{type} eq "query";
	}
	die join("\n", @bad) . "\n" if @bad;
	my %seen;
	for (@expr) { $seen{$1} = 1 while /\b((?:relay_milter|process)_[a-z0-9_]+)/g }
	print "$_\n" for sort keys %seen;
' "$dashboard" >"$work/wanted" 2>"$work/json.err"
if [ $? -eq 0 ] && [ -s "$work/wanted" ]; then
	tap OK "the dashboard parses; its queries use $(wc -l <"$work/wanted") metrics"
else
	tap FAIL "the dashboard parses and queries relay-milter metrics" "$(cat "$work/json.err")"
	echo "1..$n"
	exit 1
fi

# --- the daemon's /metrics ---
conf="$work/relay-milter.conf"
log="$work/milter.log"
cat >"$conf" <<EOF
metrics = "127.0.0.1:0";
socket_mode = "0600";
local_domains = [ "example.com" ];
trusted_networks = [ "192.0.2.0/24" ];
EOF
chmod 644 "$conf"
"$milter" -f -c "$conf" -s "unix:$work/milter.sock" 2>"$log" &
pid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*metrics: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
	[ -n "$port" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/metrics" >"$work/metrics"; then
	tap OK "the daemon answers /metrics on 127.0.0.1:$port"
else
	tap FAIL "the daemon answers /metrics" "$(tail -5 "$log")"
	echo "1..$n"
	exit 1
fi

# Sample names, and the families that HELP/TYPE announce.
{
	sed -n 's/^\([a-zA-Z_:][a-zA-Z0-9_:]*\)[{ ].*/\1/p' "$work/metrics"
	sed -n 's/^# TYPE \([a-zA-Z_:][a-zA-Z0-9_:]*\) .*/\1/p' "$work/metrics"
} | sort -u >"$work/have"

missing=
while read -r name; do
	if grep -qxF "$name" "$work/have"; then
		tap OK "dashboard metric $name is exported"
	else
		tap FAIL "dashboard metric $name is exported" "not in /metrics"
		missing="$missing $name"
	fi
done <"$work/wanted"
[ -z "$missing" ] || echo "# the dashboard queries metrics the daemon does not export:$missing"

echo "1..$n"
[ "$failed" -eq 0 ]
