#!/bin/sh
# t/miodnsd-threads.sh - miodnsd with worker threads (-t 2): dnsperf load
# over UDP and TCP with nothing lost and every answer right, both workers
# serving, counters that add up across them, one shared cache, a reload
# that every worker takes, and a clean exit; then a zone server and a
# caching forwarder, both with two workers, under dnsperf.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"

need_dig
command -v dnsperf >/dev/null 2>&1 || skip_all "dnsperf not installed"

# A zone of our own, to check answers and reloads on both workers.
zone_file() {
	cat <<EOF
\$ORIGIN zone.test.
\$TTL 300
@	IN SOA ns hostmaster $1 3600 600 86400 60
	IN NS ns
ns	IN A 192.0.2.53
www	IN A $2
EOF
}
zone_file 1 192.0.2.10 >"$tmp/zone.test.zone"

start_stub
start_miodnsd -u "127.0.0.1:$stub_port" -t 2 -z "zone.test=$tmp/zone.test.zone" -v

like "$(grep 'deadline' "$log")" "*, 2 threads" "the start-up line says 2 threads"
# (At least: a sanitizer may add a thread of its own.)
ok $([ "$(ls "/proc/$miodnsd_pid/task" | wc -l)" -ge 2 ]; echo $?) \
	"the process runs 2 threads"
is "$(stat threads)" 2 "stats.miodnsd says threads=2"

# 100 names below load.example.test (forwarded, then cached), a name of
# our zone, and a CHAOS name: 102 lines, each answered NOERROR.
i=0
while [ $i -lt 100 ]; do
	echo "q$i.load.example.test A"
	i=$((i + 1))
done >"$tmp/queries"
echo "www.zone.test A" >>"$tmp/queries"
echo "ns.zone.test A" >>"$tmp/queries"

before=$(stat udp-queries)
# 32 clients, each its own source port, so that the kernel's
# SO_REUSEPORT hash sends some to each worker (all 32 to one: 2^-31).
out=$(dnsperf -s 127.0.0.1 -p "$port" -d "$tmp/queries" -c 32 -l 3 \
	-Q 2000 -t 2 2>&1)
sent=$(dnsperf_field "$out" "Queries sent")
completed=$(dnsperf_field "$out" "Queries completed")
lost=$(dnsperf_field "$out" "Queries lost")
ok $([ "${sent:-0}" -gt 1000 ]; echo $?) "dnsperf over UDP sent $sent queries"
is "$lost" 0 "none lost"
is "$completed" "$sent" "every one completed"
like "$(printf '%s\n' "$out" | grep 'Response codes')" "*NOERROR $sent (100.00%)*" \
	"every one NOERROR"
after=$(stat udp-queries)
# The two stats queries count too: the one before and this one.
is "$((after - before))" "$((sent + 1))" \
	"udp-queries, added up over both workers, counts each query once"

kill -USR1 "$miodnsd_pid"
wait_for 'grep -q "queries by worker" "$log"'
workers=$(grep 'queries by worker' "$log" | tail -n 1)
like "$(grep 'queries: ' "$log" | tail -n 1)" "*queries: $after udp, 0 tcp, 0 in flight*" \
	"SIGUSR1 logs the counters of both workers added up"
like "$workers" "*: 0:[1-9]* 1:[1-9]*" "both workers answered queries: $workers"

hits=$(stat cache-hits)
upstream=$(stat upstream-queries)
ok $([ "$hits" -gt 900 ]; echo $?) "the cache answered most ($hits hits)"
# One cache for both workers: each of the 100 names is fetched at most
# once per worker (two workers may miss it at the same moment).
ok $([ "$upstream" -ge 100 ] && [ "$upstream" -le 200 ]; echo $?) \
	"the shared cache: 100 names cost $upstream upstream queries (100..200)"

out=$(dnsperf -m tcp -s 127.0.0.1 -p "$port" -d "$tmp/queries" -c 8 -l 2 \
	-Q 1000 -t 2 2>&1)
sent=$(dnsperf_field "$out" "Queries sent")
ok $([ "${sent:-0}" -gt 500 ]; echo $?) "dnsperf over TCP sent $sent queries"
is "$(dnsperf_field "$out" "Queries lost")" 0 "none lost over TCP"
like "$(printf '%s\n' "$out" | grep 'Response codes')" "*NOERROR $sent (100.00%)*" \
	"every one NOERROR over TCP"

# A reload: every worker serves the new zone once the log says so. Each
# dig comes from a new source port, so both workers are asked.
zone_file 2 192.0.2.11 >"$tmp/zone.test.zone"
kill -HUP "$miodnsd_pid"
wait_for 'grep -q "configuration reloaded" "$log"'
ok $? "SIGHUP: reloaded"
answers=
i=0
while [ $i -lt 16 ]; do
	answers="$answers$(q www.zone.test A +short) "
	i=$((i + 1))
done
is "$(echo $answers | tr ' ' '\n' | sort -u | tr '\n' ' ')" "192.0.2.11 " \
	"16 queries after the reload: each gets the new data"
is "$(grep -c 'slow to take' "$log")" 0 "every worker took the reload at once"

stop_miodnsd
is "$miodnsd_rc" 0 "SIGTERM: miodnsd exits 0"
like "$(tail -n 1 "$log")" "*exiting" "after both workers stopped"
like "$(sed -n '/shutting down/,$p' "$log" | grep 'queries by worker')" \
	"*: 0:[1-9]* 1:[1-9]*" "the log at exit (-v) still has both workers' counts"

# Two instances, as deployed: a zone server (2 workers) of 200 names, and
# a caching forwarder (2 workers) in front of it, under dnsperf. The zone
# server's own counters say how often the forwarder had to ask.
i=0
{
	zone_file 3 192.0.2.12
	while [ $i -lt 200 ]; do
		echo "h$i IN A 192.0.2.$((i % 250))"
		i=$((i + 1))
	done
} >"$tmp/zone.test.zone"
: >"$tmp/empty-resolv"
printf 'resolv-conf %s\nbuiltin-zones none\nthreads 2\n' "$tmp/empty-resolv" \
	>"$tmp/auth.conf"
start_miodnsd -c "$tmp/auth.conf" -z "zone.test=$tmp/zone.test.zone"
auth_port=$port
auth_pid=$miodnsd_pid
start_miodnsd -t 2 -u "127.0.0.1:$auth_port"
i=0
while [ $i -lt 200 ]; do
	echo "h$i.zone.test A"
	[ $((i % 4)) -eq 0 ] && echo "nx$i.zone.test A"
	i=$((i + 1))
done >"$tmp/zone-queries"
out=$(dnsperf -s 127.0.0.1 -p "$port" -d "$tmp/zone-queries" -c 32 -l 3 \
	-Q 2000 -t 2 2>&1)
sent=$(dnsperf_field "$out" "Queries sent")
ok $([ "${sent:-0}" -gt 1000 ]; echo $?) "zone server behind a forwarder: dnsperf sent $sent"
is "$(dnsperf_field "$out" "Queries lost")" 0 "none lost"
codes=$(printf '%s\n' "$out" | grep 'Response codes')
# 250 lines, 50 of them NXDOMAIN: a fifth of the answers, to within the
# 250-query cycle dnsperf may stop in.
noerror=$(printf '%s\n' "$codes" | sed -n 's/.*NOERROR \([0-9]*\) .*/\1/p')
nxdomain=$(printf '%s\n' "$codes" | sed -n 's/.*NXDOMAIN \([0-9]*\) .*/\1/p')
is "$((noerror + nxdomain))" "$sent" "every answer NOERROR or NXDOMAIN: $codes"
ok $([ $((nxdomain * 5 - sent)) -le 250 ] && [ $((sent - nxdomain * 5)) -le 250 ]; echo $?) \
	"NXDOMAIN for the names not in the zone, and only those ($nxdomain)"
auth_queries=$(port=$auth_port; stat authoritative)
ok $([ "$auth_queries" -ge 250 ] && [ "$auth_queries" -le 500 ]; echo $?) \
	"the zone server answered each of the 250 names once or twice ($auth_queries), the rest were cache hits"
stop_miodnsd
is "$miodnsd_rc" 0 "the forwarder exits 0"
miodnsd_pid=$auth_pid
stop_miodnsd
is "$miodnsd_rc" 0 "the zone server exits 0"

# "threads 0": one worker per CPU.
printf 'threads 0\nupstream 127.0.0.1:%s\n' "$stub_port" >"$tmp/auto.conf"
start_miodnsd -c "$tmp/auto.conf"
cpus=$(nproc)
[ "$cpus" -gt 64 ] && cpus=64
is "$(stat threads)" "$cpus" "threads 0: one per CPU we may run on"
stop_miodnsd
is "$miodnsd_rc" 0 "and exits 0"

done_testing
