#!/bin/sh
# t/miodnsd-trust.sh - miodnsd against spoofing (issue 15): a fresh random
# source port for every upstream query with many in flight, one upstream
# query per question however many clients ask it (past max-waiters:
# SERVFAIL, never a second query), the counters of both, an upstream
# that restarts within a query's deadline costing no SERVFAIL, and 0x20
# against an upstream that echoes case. t/dnsstub -v
# logs the source port of every UDP query it receives.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
need_dig

# Answers 20 ms late, so that the 100 queries the probe keeps outstanding
# are in flight upstream at once.
start_stub -v --delay 20
: >"$tmp/stub.log"
echo "max-inflight 4096" >"$tmp/trust.conf"
start_miodnsd -c "$tmp/trust.conf" -u "127.0.0.1:$stub_port" \
	--builtin-zones localhost --cache-size 0
is "$(probe -T 5000 -w 100 -f 2000 "$port")" \
	"sent 2000 answered 2000 wrong 0 duplicate 0" \
	"2000 forwarded queries, 100 outstanding: all answered"
queries=$(grep -c '^stub: udp from port' "$tmp/stub.log")
ports=$(sed -n 's/^stub: udp from port \([0-9]*\) .*/\1/p' "$tmp/stub.log" |
	sort -u | wc -l)
echo "# $ports distinct source ports in $queries upstream queries"
is "$queries" 2000 "2000 upstream queries"
ok $([ "$ports" -ge 1900 ]; echo $?) \
	"at least 1900 distinct source ports among them ($ports)"
ids=$(sed -n 's/^stub: udp from port [0-9]* id \([0-9]*\)$/\1/p' \
	"$tmp/stub.log" | sort -u | wc -l)
ok $([ "$ids" -ge 1900 ]; echo $?) "and as many distinct IDs ($ids)"
is "$(stat upstream-ports)" 2000 "upstream-ports=2000"
is "$(stat upstream-stray)" 0 "upstream-stray=0"
stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0"

# 1,500 identical queries at once: one upstream query; the first 64
# (max-waiters) get the answer, the rest SERVFAIL at once.
start_stub
start_miodnsd -u "127.0.0.1:$stub_port" --builtin-zones localhost
c0=$(dig @127.0.0.1 -p "$stub_port" +short count.example.test TXT | tr -d '"')
out=$(probe -T 3000 -S 1500 "$port" delay500.example.test A)
c1=$(dig @127.0.0.1 -p "$stub_port" +short count.example.test TXT | tr -d '"')
is "$out" "sent 1500 noerror 64 servfail 1436 refused 0 truncated 0 other 0 none 0" \
	"1500 identical queries: 64 answered, 1436 SERVFAIL"
is "$((c1 - c0 - 1))" 1 "exactly one upstream query"
is "$(stat merged)" 63 "merged=63"
is "$(stat servfail-waiters)" 1436 "servfail-waiters=1436"
kill -USR1 "$miodnsd_pid"
wait_for "grep -q 'servfail (max-waiters) 1436' '$log'"
like "$(grep 'trust: ' "$log" | tail -n 1)" \
	"*access refused 0, denied 0;*servfail (max-waiters) 1436; upstream ports 1,*" \
	"SIGUSR1 logs the same counters"
stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0"

# An upstream that restarts: down when the query comes, back on the same
# port 700 ms later; attempts of 300 ms, then rounds with backoff until
# the 3 s deadline.
start_stub
up=$stub_port
echo "upstream-timeout 300" >"$tmp/restart.conf"
start_miodnsd -c "$tmp/restart.conf" -u "127.0.0.1:$up" \
	--builtin-zones localhost
kill "$stub_pid"
wait_for "! kill -0 $stub_pid 2>/dev/null"
"$PROBE" -T 4000 "$port" a.example.test A >"$tmp/restart" &
waiter=$!
test_pids="$test_pids $waiter"
sleep 0.7
start_stub -p "$up"
wait "$waiter"
like "$(cat "$tmp/restart")" "rcode=NOERROR id=ok*an=1*" \
	"an upstream restarting within the deadline: answered, no SERVFAIL"
ok $([ "$(stat upstream-retries)" -ge 2 ]; echo $?) \
	"after retries ($(stat upstream-retries))"
stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0"

# use-caps-for-id (0x20; t/query checks the random case itself): the
# stub echoes the question as it came, so answers are taken.
start_stub
echo "use-caps-for-id yes" >"$tmp/caps.conf"
start_miodnsd -c "$tmp/caps.conf" -u "127.0.0.1:$stub_port" \
	--builtin-zones localhost
like "$(probe "$port" abcdefghijklmnopqrstuvwxyz.load.example.test A)" \
	"rcode=NOERROR id=ok question=ok*an=1*" "0x20: answered"
is "$(stat upstream-caps-mismatch)" 0 "0x20: no mismatch from an upstream that echoes"
stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0"

done_testing
