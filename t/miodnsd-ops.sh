#!/bin/sh
# t/miodnsd-ops.sh - running miodnsd: -n checks the configuration, our own
# address is skipped in resolv.conf, SIGUSR1 logs counters, SIGHUP reloads
# without dropping the listening sockets or the queries in flight, a bad
# reload changes nothing, SIGTERM lets queries in flight finish, -d writes
# a pidfile and returns once the daemon is up, --user drops privileges.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
need_dig

# -n: check the configuration and exit.
start_stub --tag first
first=$stub_port
start_stub --tag second
second=$stub_port
printf 'upstream 127.0.0.1:%s\ntimeout 1500\n' "$first" >"$tmp/conf"
out=$("$MIODNSD" -n -c "$tmp/conf" 2>&1)
ok $? "-n: a good configuration exits 0"
like "$out" "*configuration OK*" "and says so"
printf 'upstream 127.0.0.1:%s\nfrobnicate yes\ntimeout soon\n' "$first" >"$tmp/bad"
out=$("$MIODNSD" -n -c "$tmp/bad" 2>&1)
ok $([ $? -eq 1 ]; echo $?) "-n: a bad configuration exits 1"
like "$out" "*unknown keyword \"frobnicate\"*bad:2*timeout*bad:3*" \
	"naming each bad line"

# resolv.conf: our own listening address is not an upstream.
printf 'nameserver 127.0.0.1\nnameserver 192.0.2.53\n' >"$tmp/resolv"
printf 'resolv-conf %s\n' "$tmp/resolv" >"$tmp/rconf"
out=$("$MIODNSD" -n -c "$tmp/rconf" -l 127.0.0.1:53 2>&1)
ok $? "-n with upstreams from resolv.conf"
like "$out" "*skipping nameserver 127.0.0.1:53: it is our own listening address*" \
	"resolv.conf: our own address is skipped (no forwarding loop)"
printf 'nameserver 127.0.0.1\n' >"$tmp/resolv"
out=$("$MIODNSD" -n -c "$tmp/rconf" -l 0.0.0.0:53 2>&1)
ok $([ $? -eq 1 ]; echo $?) "only ourselves in resolv.conf: no upstream, exit 1"
like "$out" "*no upstream server*" "and says why"
out=$("$MIODNSD" -n -u 127.0.0.1:5300 -l 127.0.0.1:5300 2>&1)
ok $([ $? -eq 1 ]; echo $?) "-u naming our own listening address is refused"

# SIGUSR1 and SIGHUP.
start_miodnsd -c "$tmp/conf"
before=$(cat "$tmp/ports")
is "$(q tag.example.test TXT +short)" '"first"' "answers come from the first upstream"
kill -USR1 "$miodnsd_pid"
wait_for 'grep -q "queries: " "$log"'
like "$(grep 'queries: ' "$log" | tail -n 1)" "*queries: 1 udp, 0 tcp, 0 in flight (peak 1); answers 1*" \
	"SIGUSR1 logs the counters"

probe -p "$port" delay1000.example.test @500/tag.example.test >"$tmp/pipe" &
probe_pid=$!
probe -T 3000 "$port" delay800.example.test A >"$tmp/slow" &
slow_pid=$!
wait_inflight 2
printf 'upstream 127.0.0.1:%s\ntimeout 1500\n' "$second" >"$tmp/conf"
kill -HUP "$miodnsd_pid"
wait_for 'grep -q "configuration reloaded" "$log"'
ok $? "SIGHUP: the configuration is reloaded"
is "$(q tag.example.test TXT +short)" '"second"' "answers now come from the second upstream"
is "$(cat "$tmp/ports")" "$before" "on the same port"
wait "$slow_pid"
like "$(cat "$tmp/slow")" "rcode=NOERROR id=ok*an=1*" \
	"a query in flight during the reload is answered (old upstream drained)"
wait "$probe_pid"
is "$(cat "$tmp/pipe")" "tag.example.test delay1000.example.test" \
	"a TCP connection opened before the reload keeps working after it"

printf 'upstream nowhere\n' >"$tmp/conf"
kill -HUP "$miodnsd_pid"
wait_for 'grep -q "reload failed" "$log"'
ok $? "a bad configuration on SIGHUP is refused"
is "$(q tag.example.test TXT +short)" '"second"' "and the running one stays"

# SIGTERM with a query in flight.
probe -T 3000 "$port" delay500.example.test A >"$tmp/slow" &
slow_pid=$!
wait_inflight 1
start=$(now_ms)
stop_miodnsd
ms=$(($(now_ms) - start))
is "$miodnsd_rc" 0 "SIGTERM: exit status 0"
wait "$slow_pid"
like "$(cat "$tmp/slow")" "rcode=NOERROR id=ok*" "the query in flight got its answer first"
ok $([ "$ms" -lt 1500 ]; echo $?) "and the exit followed it ($ms ms)"
is "$(probe -T 300 "$port" a.example.test A)" "no answer" "nothing answers any more"

# SIGINT, a second signal, and -d with a pidfile.
"$MIODNSD" -d -p "$tmp/pid" -P "$tmp/dports" -l 127.0.0.1:0 -u "127.0.0.1:$first" 2>>"$log"
ok $? "-d returns 0 once the daemon is up"
pid=$(cat "$tmp/pid" 2>/dev/null)
test_pids="$test_pids $pid"
ok $(kill -0 "$pid" 2>/dev/null; echo $?) "the pidfile names a live process"
read -r daddr dport <"$tmp/dports"
is "$(dig @127.0.0.1 -p "$dport" +time=2 +tries=1 +short a.example.test)" "192.0.2.1" \
	"the daemon answers"
kill -INT "$pid"
wait_for '! kill -0 "$pid" 2>/dev/null'
ok $? "SIGINT stops it"
ok $([ ! -e "$tmp/pid" ]; echo $?) "and the pidfile is removed"

# --user, when we can.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	start_miodnsd -u "127.0.0.1:$first" --user nobody
	nobody=$(id -u nobody)
	# The port file is written before privileges are dropped (it may
	# need them), so the switch may still be under way.
	wait_for "[ \"\$(awk '/^Uid:/ { print \$2 }' /proc/$miodnsd_pid/status)\" = $nobody ]"
	uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$miodnsd_pid/status" 2>/dev/null)
	is "$uid" "$nobody$nobody$nobody$nobody" "--user nobody: every uid is nobody's"
	is "$(q a.example.test +short)" "192.0.2.1" "and it still answers"
	stop_miodnsd
else
	ok 0 "# SKIP --user needs root and a nobody user"
	ok 0 "# SKIP --user needs root and a nobody user"
fi

done_testing
