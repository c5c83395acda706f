#!/bin/sh
# t/miodnsd-restart.sh - issue 15's outage proof: dnsperf sends distinct
# names (cache misses) to miodnsd at 5,000 q/s for 30 s while its one
# upstream, t/dnsstub, is killed and started again on the same port every
# 2 s, down 200 ms each time. Each query's deadline (3 s, the default)
# outlasts the outage, so miodnsd must answer every one: no SERVFAIL and
# nothing lost, from dnsperf's figures and from stats.miodnsd; and the
# restarts and miodnsd's retries must have happened, or the test proved
# nothing.
#
# The upstream's port is chosen by the first stub binding port 0; the
# later stubs bind it again with -p (a few tries: while it is free, another
# socket could take it, miodnsd's own random source ports among them).
# Under a sanitizer build the daemon and the stub are several times
# slower, so the rate drops to 2,000 q/s there (detected from the ASan
# runtime linked into the binary). MIODNSD_RESTART_QPS overrides the rate
# either way, and MIODNSD_RESTART_DOWN_MS the 200 ms outage (to study
# longer ones by hand).
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
need_dig
command -v dnsperf >/dev/null 2>&1 || skip_all "dnsperf not installed"

# The daemon is a libtool wrapper script in a shared build; the real
# binary is then in .libs.
asan_build() {
	for f in "$MIODNSD" "$top_builddir/daemon/.libs/miodnsd"; do
		[ -f "$f" ] && grep -q __asan_init "$f" 2>/dev/null && return 0
	done
	return 1
}

qps=5000
asan_build && qps=2000
qps=${MIODNSD_RESTART_QPS:-$qps}
seconds=30
down_ms=${MIODNSD_RESTART_DOWN_MS:-200}

# stub_gone PID: the stub has exited. It is not our child, and a zombie
# that init has yet to reap (which can take seconds in a container)
# answers kill -0.
stub_gone() {
	! kill -0 "$1" 2>/dev/null ||
		grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# restart_stub: stops the stub, waits until it is gone, keeps the port
# closed for $down_ms, and starts a new stub on the same port.
restart_stub() {
	kill "$stub_pid"
	wait_for "stub_gone $stub_pid" || return 1
	sleep "$((down_ms / 1000)).$(printf %03d $((down_ms % 1000)))"
	tries=0
	while [ "$tries" -lt 40 ]; do
		set -- $("$STUB" -d -p "$up" 2>>"$tmp/stub.log")
		if [ "${1:-}" = "$up" ]; then
			stub_pid=$2
			test_pids="$test_pids $2"
			rebind_tries=$((rebind_tries + tries))
			return 0
		fi
		sleep 0.025
		tries=$((tries + 1))
	done
	echo "# the stub could not bind port $up again:"
	tail -n 3 "$tmp/stub.log" | sed 's/^/#   /'
	ss -uatnp 2>/dev/null | grep ":$up " | sed 's/^/#   /'
	return 1
}

# Distinct names below load.example.test, which the stub answers with an
# A record: more than dnsperf sends in the run, so none repeats.
total=$((qps * seconds + qps))
seq 1 "$total" | sed 's/.*/r&.load.example.test A/' >"$tmp/queries"

start_stub
up=$stub_port
# The default settings (1 s attempts, 3 s deadline, max-inflight 2048);
# no cache, so that every query goes upstream. The queries sent while the
# port is closed wait for their 1 s attempt to time out (mio-ares does
# not hand ICMP refusals to c-ares, see ares/ports.c), so about
# 5,000 x (0.2 + 0.1) s are in flight at the peak: below max-inflight,
# past which the oldest would be jostled out with SERVFAIL by design.
# That is also why a sanitizer build, several times slower, runs at
# 2,000 q/s.
start_miodnsd -u "127.0.0.1:$up" \
	--builtin-zones localhost --cache-size 0

# -q: enough outstanding that dnsperf keeps its rate while answers wait
# for a retry.
dnsperf -s 127.0.0.1 -p "$port" -d "$tmp/queries" -c 4 -q 20000 \
	-l "$seconds" -Q "$qps" -t 5 >"$tmp/dnsperf.out" 2>&1 &
perf_pid=$!
test_pids="$test_pids $perf_pid"

# A restart every 2 s while dnsperf runs: 1.8 s up, 0.2 s down.
up_ms=$((2000 - down_ms))
[ "$up_ms" -ge 100 ] || up_ms=100
restarts=0
rebind_tries=0
failed=0
start=$(now_ms)
while [ $(($(now_ms) - start)) -lt $(((seconds - 2) * 1000)) ]; do
	sleep "$((up_ms / 1000)).$(printf %03d $((up_ms % 1000)))"
	[ -n "${MIODNSD_RESTART_OFF:-}" ] && continue
	if restart_stub; then
		restarts=$((restarts + 1))
	else
		failed=1
		break
	fi
done
wait "$perf_pid"
perf_rc=$?
out=$(cat "$tmp/dnsperf.out")

echo "# rate $qps q/s for $seconds s, $restarts upstream restarts" \
	"($rebind_tries failed binds of the port on the way)"
printf '%s\n' "$out" | grep -E 'Queries|Response codes|Run time|Average' |
	sed 's/^/# /'
is "$failed" 0 "the stub came back on port $up every time"
ok $([ "$restarts" -ge $((seconds / 2 - 2)) ]; echo $?) \
	"the upstream restarted every 2 s ($restarts times)"
is "$perf_rc" 0 "dnsperf ran"
sent=$(dnsperf_field "$out" "Queries sent")
completed=$(dnsperf_field "$out" "Queries completed")
lost=$(dnsperf_field "$out" "Queries lost")
ok $([ "${sent:-0}" -ge $((qps * seconds * 9 / 10)) ]; echo $?) \
	"dnsperf sent ${sent:-0} queries (at least 90% of $qps q/s x $seconds s)"
is "${lost:-x}" 0 "none lost"
is "${completed:-x}" "${sent:-y}" "all completed"
like "$(printf '%s\n' "$out" | grep 'Response codes')" \
	"*Response codes: *NOERROR ${sent:-y} (100.00%)*" \
	"every answer NOERROR, no SERVFAIL"

retries=$(stat upstream-retries)
echo "# miodnsd: servfail=$(stat servfail) timeouts=$(stat timeouts)" \
	"jostled=$(stat jostled) refused-busy=$(stat refused-busy)" \
	"upstream-queries=$(stat upstream-queries) upstream-retries=$retries" \
	"upstream-timeouts=$(stat upstream-timeouts)" \
	"inflight-peak=$(stat inflight-peak)"
is "$(stat servfail)" 0 "stats: servfail=0"
is "$(stat timeouts)" 0 "stats: timeouts=0"
is "$(stat jostled)" 0 "stats: jostled=0"
is "$(stat refused-busy)" 0 "stats: refused-busy=0"
ok $([ "${retries:-0}" -ge "$restarts" ]; echo $?) \
	"the outages cost retries upstream ($retries)"
stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0"

done_testing
