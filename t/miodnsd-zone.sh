#!/bin/sh
# t/miodnsd-zone.sh - miodnsd answering for itself: authoritative zones
# (every answer type, AA, case, TC over UDP and the whole RRset over TCP,
# ANY), CHAOS version.bind and stats.miodnsd with its allow-stats rule,
# zone errors at start and on SIGHUP, a reload picking up a new serial, the
# built-in zones of the embedded default, and a second miodnsd forwarding
# to the first.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
need_dig

# Every instance must exit 0 at SIGTERM: under ASan that also means no
# error and no leak.
bad_exits=
stop() {
	stop_miodnsd
	[ "$miodnsd_rc" -eq 0 ] || bad_exits="$bad_exits $miodnsd_rc"
}

# zone_file SERIAL ADDRESS: the test zone, zone.test.
zone_file() {
	cat <<EOF
\$ORIGIN zone.test.
\$TTL 300
@	IN SOA	ns1 hostmaster ( $1 7200 900 1209600 60 )
	IN NS	ns1
	IN MX	10 mail
	IN MX	20 mx.elsewhere.example.
	IN CAA	0 issue "ca.example.net"
ns1	IN A	192.0.2.1
www	IN A	$2
	IN AAAA	2001:db8::10
mail	IN A	192.0.2.25
	IN AAAA	2001:db8::25
txt	IN TXT	"first string" "second; string" "third"
_sip._tcp IN SRV 10 60 5060 www
alias	IN CNAME alias2
alias2	IN CNAME www
*.wild	IN A	192.0.2.99
sub	IN NS	ns.sub
ns.sub	IN A	192.0.2.53
EOF
	i=0
	while [ $i -lt 40 ]; do
		echo "big IN TXT \"record $i: padding padding padding padding padding padding padding padding\""
		i=$((i + 1))
	done
}
zone_file 1 192.0.2.10 >"$tmp/zone.test.zone"
cat >"$tmp/rev.zone" <<'EOF'
$TTL 300
@	IN SOA	ns1.zone.test. hostmaster.zone.test. 1 7200 900 1209600 60
	IN NS	ns1.zone.test.
10	IN PTR	www.zone.test.
EOF
start_stub
cat >"$tmp/conf" <<EOF
upstream 127.0.0.1:$stub_port
zone 2.0.192.in-addr.arpa rev.zone
EOF

# -n checks the zones too; relative paths are the config file's.
miodnsd_abs=$(cd "$(dirname "$MIODNSD")" && pwd)/miodnsd
out=$(cd / && "$miodnsd_abs" -n -c "$tmp/conf" -z "zone.test=$tmp/zone.test.zone" 2>&1)
ok $? "-n with two zones exits 0"
like "$out" "*zone 2.0.192.in-addr.arpa.: serial 1, $tmp/rev.zone*zone zone.test.: serial 1,*configuration OK*" \
	"it names each zone and its serial; the config file's relative path is its own directory's"

start_miodnsd -c "$tmp/conf" -z "zone.test=$tmp/zone.test.zone"

# Every answer type.
is "$(q www.zone.test A +short)" "192.0.2.10" "A"
is "$(q www.zone.test AAAA +short)" "2001:db8::10" "AAAA"
is "$(q zone.test MX +short | sort)" "10 mail.zone.test.
20 mx.elsewhere.example." "MX"
is "$(q zone.test MX +noall +additional | awk '{ print $1, $4, $5 }' | sort)" \
	"mail.zone.test. A 192.0.2.25
mail.zone.test. AAAA 2001:db8::25" \
	"MX: the in-zone target's addresses in the additional section"
is "$(q txt.zone.test TXT +short)" '"first string" "second; string" "third"' \
	"TXT with several strings"
is "$(q _sip._tcp.zone.test SRV +short)" "10 60 5060 www.zone.test." "SRV"
like "$(q _sip._tcp.zone.test SRV +noall +additional)" "*www.zone.test.*A*192.0.2.10*" \
	"SRV: the target's addresses in the additional section"
is "$(q zone.test CAA +short)" '0 issue "ca.example.net"' "CAA"
is "$(q -x 192.0.2.10 +short)" "www.zone.test." "PTR from a second zone"
is "$(q alias.zone.test A +short)" "alias2.zone.test.
www.zone.test.
192.0.2.10" "a CNAME chain followed to the address"
is "$(q host.wild.zone.test A +noall +answer | awk '{ print $1, $5 }')" \
	"host.wild.zone.test. 192.0.2.99" "a wildcard, owned by the query name"
out=$(q nx.zone.test A)
like "$out" "*status: NXDOMAIN*flags: qr aa rd ra;*ANSWER: 0, AUTHORITY: 1*" "NXDOMAIN, AA"
like "$out" "*AUTHORITY SECTION:*zone.test.*60*IN*SOA*ns1.zone.test. hostmaster.zone.test. 1 *" \
	"with the SOA, TTL the negative TTL (min of SOA TTL and MINIMUM)"
out=$(q www.zone.test TXT)
like "$out" "*status: NOERROR*flags: qr aa rd ra;*ANSWER: 0, AUTHORITY: 1*" \
	"NODATA: NOERROR, no answer"
like "$out" "*AUTHORITY SECTION:*zone.test.*60*IN*SOA*" "and the SOA"
out=$(q host.sub.zone.test A)
like "$out" "*status: NOERROR*flags: qr rd ra;*ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 2*" \
	"below a zone cut: a referral, not authoritative"
like "$out" "*AUTHORITY SECTION:*sub.zone.test.*NS*ns.sub.zone.test.*ADDITIONAL SECTION:*ns.sub.zone.test.*A*192.0.2.53*" \
	"NS in authority, glue in additional"
like "$(q www.zone.test A)" "*flags: qr aa rd ra;*" "AA on an answer"
is "$(q WwW.ZoNe.TeSt A +noall +answer | awk '{ print $1 }')" "WwW.ZoNe.TeSt." \
	"the query's case is kept in the answer"
like "$(probe -i 0x4321 "$port" Www.Zone.Test A)" \
	"rcode=NOERROR id=ok question=ok qd=1 an=1 ns=0 ar=0 aa=1 tc=0 edns=0*" \
	"no EDNS from the client, none back; ID and question echoed"

# Sizes: a 40-record RRset does not fit UDP.
like "$(q big.zone.test TXT +ignore)" "*flags: qr aa tc rd ra;*ANSWER: 0,*" \
	"UDP, EDNS 1232: a large RRset is truncated with TC"
like "$(probe "$port" big.zone.test TXT)" "*an=0 ns=0 ar=0 aa=1 tc=1 edns=0 len=*" \
	"UDP, 512 bytes: TC"
like "$(q big.zone.test TXT +tcp)" "*flags: qr aa rd ra;*ANSWER: 40,*" \
	"TCP: the whole RRset"
like "$(q big.zone.test TXT)" "*ANSWER: 40,*" "dig retries over TCP by itself"
out=$(q www.zone.test ANY)
like "$out" "*status: NOERROR*flags: qr aa rd ra;*ANSWER: 1,*" "ANY: one RRset (RFC 8482)"
like "$out" "*www.zone.test.*300*IN*A*192.0.2.10*" "the lowest type"
if command -v kdig >/dev/null 2>&1; then
	is "$(kdig @127.0.0.1 -p "$port" +time=2 +retry=0 +short alias.zone.test AAAA | tail -n 1)" \
		"2001:db8::10" "kdig: a CNAME chain"
else
	ok 0 "# SKIP kdig not installed"
fi
is "$(q a.example.test A +short)" "192.0.2.1" "other names are forwarded"
is "$(q www.example.test A +short)" "" "example.test is forwarded too when zones are given"
is "$(q foo.localhost A +short)" "127.0.0.1" "localhost. is built in"

# CHAOS.
version=$("$MIODNSD" -V | awk '{ print $2 }')
is "$(q version.bind CH TXT +short)" "\"miodnsd $version\"" "version.bind"
like "$(q VERSION.SERVER CH TXT)" "*flags: qr aa rd ra;*VERSION.SERVER.*0*CH*TXT*\"miodnsd $version\"*" \
	"version.server, authoritative, in the query's case"
like "$(q hostname.bind CH TXT)" "*status: REFUSED*" "other CHAOS names are refused, not forwarded"
stats=$(q stats.miodnsd CH TXT +short)
like "$stats" '"udp-queries=[1-9]*" "tcp-queries=[1-9]*" "answers=*" "authoritative=[1-9]*"*' \
	"stats.miodnsd from loopback: the counters, one string each"
like "$stats" '*"cache-hits=[0-9]*" "cache-misses=[1-9]*" "merged=0" "upstream-queries=[1-9]*"*' \
	"the cache's counters and the upstream queries"
like "$stats" '*"truncated=[1-9]*"*"tcp-connections=[1-9]*"*"uptime=*' \
	"truncations, TCP connections, uptime"
like "$(q stats.miodnsd CH TXT +tcp +short)" "*\"tcp-queries=[1-9]*\"*" "over TCP too"
like "$(q stats.miodnsd CH A)" "*status: NOERROR*flags: qr aa rd ra;*ANSWER: 0,*" \
	"stats.miodnsd of another type: NODATA"
kill -USR1 "$miodnsd_pid"
wait_for 'grep -q "authoritative, " "$log"'
like "$(grep 'local: ' "$log" | tail -n 1)" "*local: [1-9]* authoritative, [1-9]* chaos; cache: [0-9]* hits, [1-9]* misses, 0 merged*" \
	"SIGUSR1 logs the local answers"

# SIGHUP: a new serial; then a broken zone keeps the old one.
zone_file 2 192.0.2.11 >"$tmp/zone.test.zone"
kill -HUP "$miodnsd_pid"
wait_for 'grep -q "configuration reloaded" "$log"'
ok $? "SIGHUP: reloaded"
is "$(q zone.test SOA +short | awk '{ print $3 }')" "2" "the new serial is served"
is "$(q www.zone.test A +short)" "192.0.2.11" "with the new data"
{ zone_file 3 192.0.2.12; echo "broken IN A 192.0.2.300"; } >"$tmp/zone.test.zone"
kill -HUP "$miodnsd_pid"
wait_for 'grep -q "reload failed" "$log"'
ok $? "SIGHUP with a broken zone: the reload fails"
line=$(grep -n broken "$tmp/zone.test.zone" | cut -d: -f1)
like "$(grep 'zone.test.zone:' "$log")" "*zone zone.test.: $tmp/zone.test.zone:$line: *" \
	"the log names zone, file and line"
is "$(q zone.test SOA +short | awk '{ print $3 }')" "2" "the old zone is still served"
is "$(q www.zone.test A +short)" "192.0.2.11" "all of it"
stop
is "$miodnsd_rc" 0 "SIGTERM: exit 0"
zone_file 2 192.0.2.11 >"$tmp/zone.test.zone"

# A broken zone stops the start, naming file and line.
printf '$TTL 60\n@ IN SOA ns hm 1 2 3 4 5\n  IN NS ns\nns IN A 192.0.2.1\nbad IN MX mail\n' \
	>"$tmp/bad.zone"
"$MIODNSD" -l 127.0.0.1:0 -u "127.0.0.1:$stub_port" -z "bad.test=$tmp/bad.zone" \
	>"$tmp/bad.log" 2>&1
is "$?" 1 "a zone with an error: miodnsd does not start"
like "$(cat "$tmp/bad.log")" "*zone bad.test.: $tmp/bad.zone:5: *not starting*" \
	"the log names the zone, file and line"
out=$("$MIODNSD" -n -u "127.0.0.1:$stub_port" -z "bad.test=$tmp/bad.zone" 2>&1)
is "$?" 1 "-n finds the error too"
out=$("$MIODNSD" -n -u "127.0.0.1:$stub_port" -z "rev.test=$tmp/rev.zone" \
	-z "rev.test.=$tmp/rev.zone" 2>&1)
like "$out" "*zone rev.test.: given more than once*" "the same origin twice is an error"

# allow-stats: someone else's statistics are REFUSED; any lets us in.
start_miodnsd -u "127.0.0.1:$stub_port" --allow-stats 192.0.2.0/24 --allow-stats 2001:db8::/32
like "$(q stats.miodnsd CH TXT)" "*status: REFUSED*ANSWER: 0,*" \
	"allow-stats 192.0.2.0/24: loopback is refused"
is "$(q version.bind CH TXT +short)" "\"miodnsd $version\"" "version.bind is for everyone"
stop
printf 'upstream 127.0.0.1:%s\nallow-stats none\n' "$stub_port" >"$tmp/none"
start_miodnsd -c "$tmp/none"
like "$(q stats.miodnsd CH TXT +tcp)" "*status: REFUSED*" "allow-stats none: refused over TCP too"
stop
start_miodnsd -u "127.0.0.1:$stub_port" --allow-stats any
like "$(q stats.miodnsd CH TXT +short)" "*udp-queries=1*" "allow-stats any"
stop
if "$STUB" -6 -d >"$tmp/v6" 2>/dev/null; then
	read -r v6stub v6pid <"$tmp/v6"
	kill "$v6pid"
	start_miodnsd -l '[::1]:0' -u "127.0.0.1:$stub_port"
	v6port=$(sed -n 2p "$tmp/ports" | cut -d' ' -f2)
	like "$(dig @::1 -p "$v6port" +time=2 +tries=1 +short stats.miodnsd CH TXT)" \
		'"udp-queries=1"*' "by default ::1 may read the statistics too"
	stop
else
	ok 0 "# SKIP no IPv6 loopback"
fi

# The embedded default: nothing but where to listen. It reads the
# system's resolv.conf but asks nothing upstream for these names (and
# nothing else is asked: tests never leave the machine).
if "$MIODNSD" -n -l 127.0.0.1:0 >/dev/null 2>&1; then
	start_miodnsd
	like "$(q www.example.test A)" "*flags: qr aa rd ra;*www.example.test.*3600*IN*A*192.0.2.10*" \
		"embedded default: www.example.test from the built-in zone"
	is "$(q ftp.example.test A +short)" "www.example.test.
192.0.2.10" "its CNAME"
	is "$(q mail.example.test AAAA +short)" "2001:db8::25" "its AAAA"
	is "$(q localhost A +short) $(q x.y.localhost AAAA +short)" "127.0.0.1 ::1" \
		"and localhost. (RFC 6761)"
	like "$(q stats.miodnsd CH TXT +short)" "*upstream-queries=0*" "none of it went upstream"
	stop
else
	for i in 1 2 3 4 5; do
		ok 0 "# SKIP no usable nameserver in /etc/resolv.conf"
	done
fi

# A zone replaces the built-in zone of the same origin; builtin-zones all
# keeps example.test beside -z zones.
printf '$TTL 60\n@ IN SOA ns hm 1 2 3 4 5\n  IN NS ns\n  IN A 127.0.0.2\nns IN A 127.0.0.2\n' \
	>"$tmp/localhost.zone"
start_miodnsd -u "127.0.0.1:$stub_port" -z "localhost=$tmp/localhost.zone" --builtin-zones all
is "$(q localhost A +short)" "127.0.0.2" "-z localhost replaces the built-in localhost."
is "$(q www.example.test A +short)" "192.0.2.10" "builtin-zones all: example.test beside -z"
like "$(probe -z 1000 "$port")" "sent 1000" \
	"1000 mangled queries, most for names in example.test"
is "$(q www.example.test AAAA +short)" "2001:db8::10" "crash nothing"
stop

# Zones and no upstream at all: an authoritative server, REFUSED for the rest.
: >"$tmp/empty-resolv"
printf 'resolv-conf %s\nbuiltin-zones none\n' "$tmp/empty-resolv" >"$tmp/auth"
start_miodnsd -c "$tmp/auth" -z "zone.test=$tmp/zone.test.zone"
is "$(q www.zone.test A +short)" "192.0.2.11" "zones only, no upstream: the zone answers"
like "$(q a.example.test A)" "*status: REFUSED*" "the rest is REFUSED"
like "$(q localhost A)" "*status: REFUSED*" "builtin-zones none: no localhost."
stop

# Two instances: one serves the zone, the other forwards to it.
start_miodnsd -u "127.0.0.1:$stub_port" -z "zone.test=$tmp/zone.test.zone"
auth_port=$port
auth_pid=$miodnsd_pid
start_miodnsd -u "127.0.0.1:$auth_port"
fwd_pid=$miodnsd_pid
opts="+noall +answer +authority +additional +nocookie +time=2 +tries=1"
for rr in "www.zone.test A" "zone.test MX" "alias.zone.test A" "nx.zone.test A" \
	"txt.zone.test TXT" "host.wild.zone.test A" "host.sub.zone.test A"; do
	set -- $rr
	direct=$(dig @127.0.0.1 -p "$auth_port" $opts "$1" "$2")
	relayed=$(dig @127.0.0.1 -p "$port" $opts "$1" "$2")
	is "$relayed" "$direct" "forwarded $1 $2: the same records as from the zone"
done
out=$(q www.zone.test A)
like "$out" "*flags: qr rd ra;*192.0.2.11*" "the forwarder clears AA"
like "$(q nx.zone.test A)" "*status: NXDOMAIN*flags: qr rd ra;*" "on NXDOMAIN too"
like "$(q big.zone.test TXT +tcp)" "*ANSWER: 40,*" "a large RRset through both, over TCP"
is "$(q version.bind CH TXT +short)" "\"miodnsd $version\"" \
	"the forwarder answers version.bind itself"
like "$(dig @127.0.0.1 -p "$auth_port" +short stats.miodnsd CH TXT)" \
	"*\"udp-queries=[1-9]*\"*\"authoritative=[1-9]*\"*" \
	"the zone server counted the forwarded queries"
stop
miodnsd_pid=$auth_pid
stop
is "$bad_exits" "" "every instance exited 0 at SIGTERM"

done_testing
