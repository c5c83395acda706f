#!/bin/sh
# t/miodnsd-cache.sh - miodnsd's answer cache and the merging of identical
# queries in flight. An upstream miodnsd serves cache.test with short TTLs
# and counts what it is asked (its stats.miodnsd "authoritative"); the
# miodnsd under test forwards to it and caches: a second query is a hit,
# TTLs count down and are clamped, a 2-second record expires and is
# fetched again, NXDOMAIN and NODATA are cached for the SOA's negative TTL,
# hits carry the client's ID and question case, SIGHUP keeps the cache
# unless the upstreams change. Then, in front of t/dnsstub (whose
# count.example.test counts the queries it received), 20 identical
# queries for a delayed answer cost one upstream query, and max-waiters
# caps the merging (past it SERVFAIL, never another upstream query); last, the same merging between two miodnsd instances,
# counted by the upstream instance's own statistics.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
need_dig

bad_exits=
stop() {
	stop_miodnsd
	[ "$miodnsd_rc" -eq 0 ] || bad_exits="$bad_exits $miodnsd_rc"
}

# stat PORT NAME: one counter of the miodnsd on PORT.
# stub_count: the queries t/dnsstub has received, this one included.
stub_count() {
	dig @127.0.0.1 -p "$stub_port" +time=2 +tries=1 +short \
		count.example.test TXT | tr -d '"'
}

# ttl NAME TYPE: the TTL of the first answer record (of the authority
# section's SOA with -n).
ttl() {
	if [ "$1" = -n ]; then
		shift
		q "$@" +noall +authority | awk '{ print $2; exit }'
	else
		q "$@" +noall +answer | awk '{ print $2; exit }'
	fi
}

cat >"$tmp/cache.test.zone" <<'EOF'
$TTL 300
@	IN SOA	ns1 hostmaster 1 7200 900 1209600 30
	IN NS	ns1
ns1	IN A	192.0.2.53
www	IN A	192.0.2.80
short 2	IN A	192.0.2.2
big	IN TXT	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	IN TXT	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	IN TXT	"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	IN TXT	"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
EOF
printf 'resolv-conf /dev/null\nbuiltin-zones none\nzone cache.test %s\n' \
	"$tmp/cache.test.zone" >"$tmp/up.conf"
start_miodnsd -c "$tmp/up.conf"
up_port=$port
up_pid=$miodnsd_pid
auth() {
	stat_on "$up_port" authoritative
}

printf 'upstream 127.0.0.1:%s\nbuiltin-zones none\n' "$up_port" >"$tmp/down.conf"
start_miodnsd -c "$tmp/down.conf" --max-ttl 100

# A hit: the second query is not forwarded.
a0=$(auth)
is "$(q www.cache.test A +short)" "192.0.2.80" "forwarded: the upstream's answer"
is "$(auth)" "$((a0 + 1))" "the upstream answered once"
is "$(q www.cache.test A +short)" "192.0.2.80" "asked again: the same answer"
is "$(auth)" "$((a0 + 1))" "from the cache: the upstream was not asked again"
is "$(stat_on "$port" cache-hits) $(stat_on "$port" cache-misses)" "1 1" \
	"stats.miodnsd: one hit, one miss"
like "$(q www.cache.test A)" "*flags: qr rd ra;*" "a hit is not authoritative (AA clear)"

# TTLs: clamped by --max-ttl, and counting down.
t1=$(ttl www.cache.test A)
ok $([ "$t1" -le 100 ] && [ "$t1" -ge 98 ]; echo $?) \
	"--max-ttl 100 clamps the upstream's 300 (got $t1)"
sleep 2
t2=$(ttl www.cache.test A)
ok $([ "$t2" -le $((t1 - 1)) ] && [ "$t2" -ge $((t1 - 3)) ]; echo $?) \
	"two seconds later the TTL is lower ($t1, then $t2)"

# ID and question case of the client, on a hit. dnsprobe sets no AD bit,
# unlike dig, so its first query is a miss of its own key.
probe -e 1232 "$port" www.cache.test A >/dev/null
h0=$(stat_on "$port" cache-hits)
like "$(probe -i 0x4321 -e 1232 "$port" WwW.CaChE.TeSt A)" \
	"rcode=NOERROR id=ok question=ok qd=1 an=1 *" \
	"a hit carries the client's ID and question, in its own case"
like "$(q WWW.CACHE.TEST A +noall +answer)" "WWW.CACHE.TEST.*IN*A*192.0.2.80*" \
	"dig: the answer's owner is spelled as asked"
is "$(stat_on "$port" cache-hits)" "$((h0 + 2))" "both were hits (the key is case-blind)"
like "$(q www.cache.test A +tcp)" "*192.0.2.80*" "a hit over TCP"
a0=$(auth)
like "$(q www.cache.test A +norecurse)" "*192.0.2.80*" "a query without RD"
is "$(auth)" "$((a0 + 1))" "RD is part of the key: it was asked upstream"

# A hit is dressed for the client that asks, not for the one whose question
# filled the cache: our OPT only if it sent one, and its own size limit.
h0=$(stat_on "$port" cache-hits)
like "$(probe "$port" www.cache.test A)" \
	"rcode=NOERROR id=ok question=ok qd=1 an=1 ns=0 ar=0 aa=0 tc=0 edns=0*" \
	"a hit without EDNS after one with it: no OPT"
like "$(probe -e 4096 "$port" www.cache.test A)" "*ar=1 aa=0 tc=0 edns=1232 *" \
	"a hit with EDNS 4096: our OPT, with our size"
probe -e 1232 "$port" big.cache.test TXT >/dev/null
h1=$(stat_on "$port" cache-hits)
like "$(probe "$port" big.cache.test TXT)" \
	"rcode=NOERROR id=ok question=ok qd=1 an=0 ns=0 ar=0 aa=0 tc=1 edns=0*" \
	"an 800-byte hit for a client without EDNS: the bare question with TC"
like "$(probe -e 1232 "$port" big.cache.test TXT)" \
	"rcode=NOERROR id=ok question=ok qd=1 an=4 ns=0 ar=1 aa=0 tc=0 edns=1232*" \
	"the same hit with EDNS 1232: whole"
is "$(stat_on "$port" cache-hits)" "$((h1 + 2))" "both were hits"
ok $([ "$h1" -ge "$((h0 + 2))" ]; echo $?) "and the two before them"

# Expiry: a 2-second record is fetched again once it has run out.
a0=$(auth)
is "$(q short.cache.test A +short)" "192.0.2.2" "short-lived record"
is "$(q short.cache.test A +short)" "192.0.2.2" "at once: a hit"
is "$(auth)" "$((a0 + 1))" "one upstream query"
sleep 3
is "$(q short.cache.test A +short)" "192.0.2.2" "after 3 s: still answered"
is "$(auth)" "$((a0 + 2))" "but fetched again upstream: the entry had expired"

# Negative caching (RFC 2308): NXDOMAIN and NODATA, for the negative TTL.
a0=$(auth)
like "$(q nx.cache.test A)" "*status: NXDOMAIN*" "NXDOMAIN forwarded"
out=$(q nx.cache.test A)
like "$out" "*status: NXDOMAIN*AUTHORITY SECTION:*cache.test.*IN*SOA*" \
	"asked again: NXDOMAIN with the SOA"
is "$(auth)" "$((a0 + 1))" "from the cache"
t=$(ttl -n nx.cache.test A)
ok $([ "$t" -le 30 ] && [ "$t" -ge 27 ]; echo $?) \
	"the SOA's TTL is the negative TTL, min(300, MINIMUM 30) (got $t)"
like "$(q www.cache.test TXT)" "*status: NOERROR*ANSWER: 0, AUTHORITY: 1*" "NODATA forwarded"
like "$(q www.cache.test TXT)" "*status: NOERROR*ANSWER: 0, AUTHORITY: 1*" "NODATA again"
is "$(auth)" "$((a0 + 2))" "NODATA cached too"

# SIGHUP with the same upstreams keeps the cache; new ones flush it.
a0=$(auth)
kill -HUP "$miodnsd_pid"
wait_for 'grep -q "configuration reloaded" "$log"'
ok $? "SIGHUP: reloaded"
is "$(q www.cache.test A +short)" "192.0.2.80" "answered after the reload"
is "$(auth)" "$a0" "from the cache kept across the reload"
start_stub
printf 'upstream 127.0.0.1:%s\nupstream 127.0.0.1:%s\nbuiltin-zones none\n' \
	"$up_port" "$stub_port" >"$tmp/down.conf"
kill -HUP "$miodnsd_pid"
wait_for 'grep -q "new upstreams, cache flushed" "$log"'
ok $? "SIGHUP with another upstream: the cache is flushed"
is "$(q www.cache.test A +short)" "192.0.2.80" "answered after the reload"
is "$(auth)" "$((a0 + 1))" "asked upstream again"
kill -USR1 "$miodnsd_pid"
wait_for 'grep -q "cache: [1-9][0-9]* hits" "$log"'
like "$(grep 'local: ' "$log" | tail -n 1)" "*cache: [1-9]* hits, [1-9]* misses, 0 merged*" \
	"SIGUSR1 logs hits and misses"
like "$(grep 'cache: [0-9]* entries' "$log" | tail -n 1)" \
	"*cache: [1-9]* entries, [1-9]* bytes; [1-9]* stored, 0 evicted, [1-9]* expired, 0 not cacheable, 0 malformed*" \
	"and the cache's own counters"
stop
miodnsd_pid=$up_pid
stop

# --min-ttl: a 2-second record is kept for 60 seconds.
printf 'resolv-conf /dev/null\nbuiltin-zones none\nzone cache.test %s\n' \
	"$tmp/cache.test.zone" >"$tmp/up.conf"
start_miodnsd -c "$tmp/up.conf"
up_port=$port
up_pid=$miodnsd_pid
start_miodnsd -u "127.0.0.1:$up_port" --builtin-zones none --min-ttl 60
q short.cache.test A >/dev/null
t=$(ttl short.cache.test A)
ok $([ "$t" -le 60 ] && [ "$t" -ge 58 ]; echo $?) "--min-ttl 60 raises a TTL of 2 (got $t)"
stop
start_miodnsd -u "127.0.0.1:$up_port" --builtin-zones none --cache-size 0
a0=$(auth)
q www.cache.test A >/dev/null
q www.cache.test A >/dev/null
is "$(auth)" "$((a0 + 2))" "--cache-size 0: nothing is cached"
stop
miodnsd_pid=$up_pid
stop

# Merging: 20 identical queries while the upstream takes 600 ms (1500 ms
# for 20 dig processes to start) cost one
# upstream query, and everyone gets the answer. (c-ares 1.18 sends one
# query per attempt; later ones may resend after their adaptive timeout,
# hence the generous upstream-timeout.)
printf 'upstream 127.0.0.1:%s\nupstream-timeout 2500\nbuiltin-zones none\n' \
	"$stub_port" >"$tmp/merge.conf"
start_miodnsd -c "$tmp/merge.conf"
names=
for i in $(seq 20); do
	names="$names delay600.example.test"
done
c0=$(stub_count)
out=$(probe -p "$port" $names)
c1=$(stub_count)
is "$(echo "$out" | tr ' ' '\n' | grep -c '^delay600\.example\.test$')" 20 \
	"20 identical queries over one TCP connection: 20 answers"
is "$((c1 - c0 - 1))" 1 "the upstream received one query for them"
is "$(stat_on "$port" merged)" 19 "merged=19"
c0=$(stub_count)
digs=
for i in $(seq 10); do
	q delay1500.example.test A +noall +answer >"$tmp/udp.$i" &
	digs="$digs $!"
	q DELAY1500.EXAMPLE.TEST A +noall +answer >"$tmp/udp-uc.$i" &
	digs="$digs $!"
done
wait $digs
c1=$(stub_count)
is "$(cat "$tmp"/udp.* | grep -c '^delay1500\.example\.test\..*IN.*A.*192\.0\.2\.1$')" 10 \
	"20 identical UDP queries from 20 clients: the 10 in lower case answered"
is "$(cat "$tmp"/udp-uc.* | grep -c '^DELAY1500\.EXAMPLE\.TEST\..*IN.*A.*192\.0\.2\.1$')" 10 \
	"and the 10 in upper case, each in its own case"
is "$((c1 - c0 - 1))" 1 "one upstream query"
is "$(stat_on "$port" merged)" 38 "merged=38"
stop
start_miodnsd -c "$tmp/merge.conf" --max-waiters 5
names=
for i in $(seq 12); do
	names="$names delay602.example.test"
done
c0=$(stub_count)
out=$(probe -p "$port" $names)
c1=$(stub_count)
is "$(echo "$out" | tr ' ' '\n' | grep -c '^delay602\.example\.test$')" 12 \
	"--max-waiters 5 and 12 identical queries: 12 answers"
is "$((c1 - c0 - 1))" 1 "one upstream query, never one past max-waiters"
is "$(stat_on "$port" merged)" 4 "merged=4"
is "$(stat_on "$port" servfail-waiters)" 7 "servfail-waiters=7: SERVFAIL past the cap"
stop

# Clients that leave early: every waiter's deadline passes before the
# upstream answers; each gets SERVFAIL, the upstream query is abandoned,
# and its late answer goes nowhere.
start_miodnsd -c "$tmp/merge.conf" --timeout 300
digs=
for i in $(seq 5); do
	q delay900.example.test A >"$tmp/early.$i" &
	digs="$digs $!"
done
wait $digs
is "$(cat "$tmp"/early.* | grep -c 'status: SERVFAIL')" 5 \
	"5 merged clients past their deadline: 5 SERVFAIL"
is "$(stat_on "$port" timeouts)" 5 "timeouts=5"
sleep 1	# time for the late answer (900 ms after the query) to come
is "$(q a.example.test A +short)" "192.0.2.1" "the daemon carries on after the late answer"
is "$(q delay900.example.test A +short)" "" "the late answer was not cached (nor answered)"
stop

# SIGTERM while merged clients wait: they are answered before the exit.
start_miodnsd -c "$tmp/merge.conf"
digs=
for i in $(seq 5); do
	q delay800.example.test A +short >"$tmp/term.$i" &
	digs="$digs $!"
done
wait_inflight 5
ok $? "5 merged queries in flight"
kill -TERM "$miodnsd_pid"
wait $digs
is "$(cat "$tmp"/term.* | grep -c '^192\.0\.2\.1$')" 5 \
	"SIGTERM: the 5 waiting clients get the answer"
stop

# Two instances: a front miodnsd forwards to a second one, which forwards
# to the stub without caching. 20 identical queries to the front while the
# answer takes 600 ms: the second instance's own counters show that it
# received one query.
start_miodnsd -u "127.0.0.1:$stub_port" --builtin-zones none --cache-size 0
back_port=$port
back_pid=$miodnsd_pid
start_miodnsd -u "127.0.0.1:$back_port" --builtin-zones none
b0=$(stat_on "$back_port" udp-queries)
names=
for i in $(seq 20); do
	names="$names delay600.example.test"
done
out=$(probe -p "$port" $names)
is "$(echo "$out" | tr ' ' '\n' | grep -c '^delay600\.example\.test$')" 20 \
	"two instances: 20 identical queries to the front, 20 answers"
b1=$(stat_on "$back_port" udp-queries)
is "$((b1 - b0 - 1))" 1 \
	"the upstream miodnsd counted one query for them (its stats.miodnsd)"
is "$(stat_on "$port" merged)" 19 "the front merged 19"
stop
miodnsd_pid=$back_pid
stop

is "$bad_exits" "" "every miodnsd exited 0"
done_testing
