# t/miodnsd-lib.sh - sourced by the t/miodnsd-*.sh tests: TAP helpers, and
# starting t/dnsstub and miodnsd on ephemeral loopback ports.
#
#   start_stub [flags]       sets stub_port and stub_pid
#   start_miodnsd [args]     miodnsd -l 127.0.0.1:0 -P ports-file args...,
#                            sets port and miodnsd_pid; logs in $log
#   stop_miodnsd             SIGTERM and wait; sets miodnsd_rc
#   wait_inflight N          until miodnsd has N queries in flight
#   q ARGS...                dig against miodnsd, short and quick
#   probe ARGS...            t/dnsprobe
#   ok STATUS DESC, is GOT WANT DESC, like GOT PATTERN DESC, done_testing
#
# miodnsd reports its ports with -P: "ADDR PORT" per listener, written
# once the sockets are bound. MIODNSD_WRAPPER (for example "valgrind ...")
# is put in front of the daemon's command.

: "${top_builddir:=.}" "${top_srcdir:=.}"
MIODNSD="$top_builddir/daemon/miodnsd"
STUB="$top_builddir/t/dnsstub"
PROBE="$top_builddir/t/dnsprobe"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/miodnsd-test.XXXXXX") || exit 1
log="$tmp/miodnsd.log"
test_pids=
test_count=0
test_failures=0

cleanup() {
	for p in $test_pids; do
		kill "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

ok() {
	test_count=$((test_count + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $test_count - $2"
	else
		echo "not ok $test_count - $2"
		test_failures=$((test_failures + 1))
	fi
}

is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
	fi
}

like() {
	case "$1" in
	$2) ok 0 "$3" ;;
	*)
		ok 1 "$3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
		;;
	esac
}

done_testing() {
	echo "1..$test_count"
	if [ "$test_failures" -ne 0 ] && [ -f "$log" ]; then
		echo "# miodnsd log:"
		sed 's/^/#   /' "$log"
	fi
	[ "$test_failures" -eq 0 ]
}

# stat_on PORT NAME: the counter NAME of the miodnsd answering on PORT,
# read from its stats.miodnsd; stat NAME: the same for the miodnsd that
# start_miodnsd started last ($port).
stat_on() {
	dig @127.0.0.1 -p "$1" +time=2 +tries=1 +short stats.miodnsd CH TXT |
		tr ' ' '\n' | sed -n "s/^\"$2=\([0-9]*\)\"\$/\1/p"
}

stat() {
	stat_on "$port" "$1"
}

# dnsperf_field OUTPUT LABEL: the first number after "LABEL:" in dnsperf's
# report.
dnsperf_field() {
	printf '%s\n' "$1" | sed -n "s/^ *$2: *\([0-9]*\).*/\1/p" | head -n 1
}

need_dig() {
	command -v dig >/dev/null 2>&1 || skip_all "dig not installed (bind9-dnsutils)"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# wait_for CONDITION-COMMAND [SECONDS]: polls every 20 ms.
wait_for() {
	tries=$((${2:-5} * 50))
	while [ "$tries" -gt 0 ]; do
		eval "$1" && return 0
		sleep 0.02
		tries=$((tries - 1))
	done
	return 1
}

# wait_inflight N: until a SIGUSR1 report shows N queries in flight.
wait_inflight() {
	wait_for "kill -USR1 $miodnsd_pid && sleep 0.02 &&
		grep 'queries: ' '$log' | tail -n 1 | grep -q ', $1 in flight'"
}

start_stub() {
	set -- $("$STUB" -d "$@" 2>>"$tmp/stub.log")
	stub_port=$1
	stub_pid=$2
	test_pids="$test_pids $2"
	[ -n "$stub_port" ] || { echo "Bail out! dnsstub did not start"; exit 1; }
}

start_miodnsd() {
	rm -f "$tmp/ports"
	${MIODNSD_WRAPPER:-} "$MIODNSD" -l 127.0.0.1:0 -P "$tmp/ports" "$@" \
		>>"$log" 2>&1 &
	miodnsd_pid=$!
	test_pids="$test_pids $miodnsd_pid"
	if ! wait_for '[ -s "$tmp/ports" ]' "${MIODNSD_START_WAIT:-5}"; then
		echo "# miodnsd did not start:"
		sed 's/^/#   /' "$log"
		echo "Bail out! miodnsd did not start"
		exit 1
	fi
	read -r addr port <"$tmp/ports"
}

stop_miodnsd() {
	kill -TERM "$miodnsd_pid" 2>/dev/null
	wait "$miodnsd_pid"
	miodnsd_rc=$?
}

q() {
	dig @127.0.0.1 -p "$port" +time=2 +tries=1 +nocookie "$@"
}

probe() {
	"$PROBE" "$@"
}
