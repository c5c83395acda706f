#!/bin/sh
# t/miodnsd-load.sh - 1000 queries in flight at once, none lost: UDP
# queries against an upstream that holds every answer for 300 ms, so all
# of them are pending together; then 128 pipelined over one TCP connection.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"

start_stub --delay 300
start_miodnsd -u "127.0.0.1:$stub_port"

is "$(probe -T 5000 -f 1000 "$port")" "sent 1000 answered 1000 wrong 0 duplicate 0" \
	"1000 concurrent UDP queries: every one answered, correctly, once"
kill -USR1 "$miodnsd_pid"
wait_for 'grep -q "queries: " "$log"'
like "$(grep 'queries: ' "$log" | tail -n 1)" "*0 in flight (peak 1000)*" \
	"all 1000 were in flight at the same time"

names=
i=0
while [ $i -lt 128 ]; do
	names="$names q$i.load.example.test"
	i=$((i + 1))
done
is "$(probe -T 5000 -p "$port" $names | wc -w)" 128 \
	"128 queries pipelined on one TCP connection (4 times the pipeline): all answered"

stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0"
done_testing
