#!/bin/sh
# t/miodnsd-tls.sh - DNS over TLS in both directions, with certificates
# made by t/tls-certs.sh. The listener (listen-tls) answers kdig +tls from
# its zone, its cache and its upstream (t/dnsstub); t/dotprobe pipelines
# queries that are answered out of order, sends a handshake and records
# one byte per TCP segment, and resumes a session; a client stalled in the
# middle of its handshake does not hold up the others; garbage, a record
# that is not a handshake, and DNS lengths that lie inside TLS are shut
# out; access-control and the TCP slot rules (eviction of the idle)
# apply to TLS clients too. Then a second miodnsd
# forwards over TLS to the first (upstream-tls): right answers, one
# connection reused, a query whose deadline outlasts a restart of the
# upstream answered, SERVFAIL and never an answer for a certificate with
# the wrong name or expired, and reloads that change the name or fail.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
need_dig
DOTPROBE="$top_builddir/t/dotprobe"
RAW="$top_builddir/t/dnsraw"
[ -x "$DOTPROBE" ] || skip_all "built without TLS (OpenSSL 3)"
command -v kdig >/dev/null 2>&1 || skip_all "kdig not installed (knot-dnsutils)"
command -v openssl >/dev/null 2>&1 || skip_all "no openssl command"
sh "$top_srcdir/t/tls-certs.sh" "$tmp" || {
	echo "Bail out! t/tls-certs.sh failed"; exit 1; }

# tls_port: the TLS listener's port from the port file ("ADDR PORT tls").
tls_port() {
	awk '$3 == "tls" { print $2; exit }' "$tmp/ports"
}

# stat PORT NAME: one counter of the miodnsd on PORT (UDP).
kq() { # PORT ARGS...: kdig over TLS, verifying dot.test against our CA
	p=$1
	shift
	kdig @127.0.0.1 -p "$p" +tls +tls-ca="$tmp/ca.pem" \
		+tls-hostname=dot.test +time=2 +retry=0 "$@"
}

start_stub
cat >"$tmp/a.conf" <<EOF
resolv-conf /dev/null
upstream 127.0.0.1:$stub_port
listen-tls 127.0.0.1:0
tls-cert $tmp/server.pem
tls-key $tmp/server.key
tcp-idle-timeout 1000
allow-stats 127.0.0.1
EOF
start_miodnsd -c "$tmp/a.conf"
a_port=$port
a_pid=$miodnsd_pid
a_tls=$(tls_port)
ok $([ -n "$a_tls" ]; echo $?) "listen-tls bound a port ($a_tls)"

# ---- the listener ------------------------------------------------------------
is "$(kq "$a_tls" +short localhost A)" 127.0.0.1 \
	"kdig +tls: an answer from the built-in zone"
is "$(kq "$a_tls" +short a.example.test A)" \
	"$(q +short a.example.test A)" "kdig +tls: an upstream's answer"
before=$(stat_on "$a_port" cache-hits)
kq "$a_tls" +short a.example.test A >/dev/null
is "$(stat_on "$a_port" cache-hits)" $((before + 1)) "kdig +tls: a cache hit"
like "$(kq "$a_tls" a.example.test A 2>&1)" "*TLS*1.3*" "over TLS 1.3"
is "$(kq "$a_tls" +tls-hostname=other.test +short a.example.test A 2>/dev/null)" "" \
	"a client that wants another name gets nothing from us"

is "$("$DOTPROBE" -A "$tmp/ca.pem" "$a_tls" delay600.example.test \
	delay300.example.test a.example.test | tr '\n' ' ')" \
	"a.example.test NOERROR delay300.example.test NOERROR delay600.example.test NOERROR " \
	"three pipelined queries over TLS, answered as they complete"
is "$("$DOTPROBE" -A "$tmp/ca.pem" -s -T 8000 "$a_tls" q7.load.example.test \
	localhost | sort | tr '\n' ' ')" \
	"localhost NOERROR q7.load.example.test NOERROR " \
	"the handshake and the records sent one byte per TCP segment"
like "$("$DOTPROBE" -A "$tmp/ca.pem" -r "$a_tls" b.example.test)" \
	"*resumed" "a second connection resumes the session (ticket)"
ok $([ "$(stat_on "$a_port" tls-resumptions)" -ge 1 ]; echo $?) \
	"counted in tls-resumptions"

# reload_a: SIGHUP to A, and wait until it has reloaded once more.
reload_a() {
	n=$(grep -c "configuration reloaded" "$log")
	kill -HUP "$a_pid"
	wait_for '[ "$(grep -c "configuration reloaded" "$log")" -gt "$n" ]' 5
}
"$DOTPROBE" -A "$tmp/ca.pem" -r -W 1500 "$a_tls" c.load.example.test \
	>"$tmp/across" &
sleep 0.2
reload_a
wait $!
like "$(cat "$tmp/across")" "*resumed" \
	"a session resumes across a reload that leaves the certificate alone"
# Seconds after the certificate was made: a new modification time even on
# a file system that keeps whole seconds.
touch "$tmp/server.pem"
"$DOTPROBE" -A "$tmp/ca.pem" -r -W 1500 "$a_tls" d.load.example.test \
	>"$tmp/across" &
sleep 0.2
reload_a
wait $!
like "$(cat "$tmp/across")" "*not resumed" \
	"not across a reload that finds the certificate changed (new keys)"

# A client that sends half a ClientHello and waits.
"$RAW" -t -T 1500 "$a_tls" 160301020001 >"$tmp/stalled" &
stalled=$!
test_pids="$test_pids $stalled"
sleep 0.1
start=$(now_ms)
is "$(kq "$a_tls" +short localhost A)" 127.0.0.1 \
	"a client stalled mid-handshake does not hold up another"
ok $([ $(($(now_ms) - start)) -lt 1000 ]; echo $?) "which is served at once"
wait "$stalled"

# Hostile input.
is "$("$RAW" -t -T 2000 "$a_tls" 474554202f20485454502f312e310d0a0d0a)" eof \
	"garbage instead of a ClientHello: the connection is closed"
is "$("$RAW" -t -T 2000 "$a_tls" 17030300051122334455)" eof \
	"application data before any handshake: closed"
is "$("$DOTPROBE" -A "$tmp/ca.pem" -T 4000 -R ffff0000 "$a_tls")" \
	"closed after 0 answers" \
	"a DNS length of 65535 and 2 bytes inside TLS: closed when idle"
is "$("$DOTPROBE" -A "$tmp/ca.pem" -T 4000 -R 0005aabbccddee "$a_tls")" \
	"closed after 0 answers" "a 5-byte DNS message inside TLS: no answer"
ok $([ "$(stat_on "$a_port" tls-failures)" -ge 2 ]; echo $?) \
	"failed handshakes counted in tls-failures"
is "$(kq "$a_tls" +short localhost A)" 127.0.0.1 "still serving after all that"

# TLS connections share the TCP slots and their rules (issue 15): with
# every slot held by a client stalled in its handshake, a new client
# takes the place of the one idle the longest.
sed 's/^listen-tls .*/listen-tls 127.0.0.1:0/' "$tmp/a.conf" >"$tmp/slots.conf"
echo "max-tcp-clients 4" >>"$tmp/slots.conf"
start_miodnsd -c "$tmp/slots.conf"
slots_tls=$(tls_port)
stalled=
for i in 1 2 3 4 5 6; do
	"$RAW" -t -T 3000 "$slots_tls" 160301020001 >/dev/null &
	stalled="$stalled $!"
done
test_pids="$test_pids $stalled"
sleep 0.3
is "$(kq "$slots_tls" +short localhost A)" 127.0.0.1 \
	"every slot held by a stalled handshake: a new TLS client is served"
ok $([ "$(stat_on "$port" tcp-evicted)" -ge 1 ]; echo $?) \
	"by evicting an idle one (tcp-evicted $(stat_on "$port" tcp-evicted))"
kill $stalled 2>/dev/null
wait $stalled 2>/dev/null
kill -TERM "$miodnsd_pid"
wait "$miodnsd_pid"

# Access control sees a TLS client as it sees any other.
sed 's/^allow-stats .*/access-control 127.0.0.1 refuse/' "$tmp/a.conf" |
	sed 's/^listen-tls .*/listen-tls 127.0.0.1:0/' >"$tmp/acl.conf"
start_miodnsd -c "$tmp/acl.conf"
like "$(kq "$(tls_port)" a.example.test A 2>&1)" "*status: REFUSED*" \
	"access-control refuse: a TLS client is REFUSED too"
kill -TERM "$miodnsd_pid"
wait "$miodnsd_pid"

# ---- the upstream ----------------------------------------------------------------
# B forwards to A over TLS.
cat >"$tmp/b.conf" <<EOF
resolv-conf /dev/null
builtin-zones none
upstream-tls 127.0.0.1:$a_tls dot.test
tls-ca $tmp/ca.pem
allow-stats 127.0.0.1
EOF
start_miodnsd -c "$tmp/b.conf"
b_port=$port
b_pid=$miodnsd_pid
is "$(q +short a.example.test A)" "$(dig @127.0.0.1 -p "$a_port" +short a.example.test A)" \
	"forwarded over TLS: the right answer"
is "$(q +short localhost A)" 127.0.0.1 "A's zone through the TLS upstream"
accepted=$(stat_on "$a_port" tls-handshakes)
for n in 1 2 3 4 5; do q +short "n$n.example.test" A >/dev/null; done
is "$(stat_on "$a_port" tls-handshakes)" "$accepted" \
	"five more queries on the same connection (no new handshake)"

# Restart A's TLS side under B: a query with a long deadline waits.
miodnsd_pid=$a_pid stop_miodnsd
sed -i "s/^listen-tls .*/listen-tls 127.0.0.1:$a_tls/" "$tmp/a.conf"
(q +time=4 +short restart.load.example.test A >"$tmp/restart" 2>&1) &
waiter=$!
sleep 0.3
start_miodnsd -c "$tmp/a.conf"
a_pid=$miodnsd_pid
wait "$waiter"
like "$(cat "$tmp/restart")" "192.0.2.*" \
	"the upstream restarted: the query is sent again and answered"
kill -TERM "$b_pid"
wait "$b_pid"

# C expects another name; D talks to a server with an expired certificate.
sed "s/ dot.test\$/ other.test/" "$tmp/b.conf" >"$tmp/c.conf"
start_miodnsd -c "$tmp/c.conf"
like "$(q a.example.test A)" "*status: SERVFAIL*" \
	"a certificate for another name: SERVFAIL"
is "$(q +short a.example.test A)" "" "never an answer"
# A reload to the right name makes a new TLS upstream.
cp "$tmp/b.conf" "$tmp/c.conf"
kill -HUP "$miodnsd_pid"
wait_for 'grep -q "configuration reloaded" "$log"' 5
is "$(q +short a.example.test A)" 192.0.2.1 \
	"reloaded to the name the certificate carries: answers"
# A reload with a certificate that cannot be read changes nothing.
printf 'listen-tls 127.0.0.1:0\ntls-cert %s/missing.pem\ntls-key %s/server.key\n' \
	"$tmp" "$tmp" >>"$tmp/c.conf"
kill -HUP "$miodnsd_pid"
wait_for 'grep -q "reload failed" "$log"' 5
like "$(grep 'missing.pem' "$log")" "*tls-cert*missing.pem*No such file*" \
	"a reload with a missing tls-cert fails, naming the file"
is "$(q +short b2.load.example.test A)" 192.0.2.2 "and the running one serves on"
kill -TERM "$miodnsd_pid"
wait "$miodnsd_pid"

sed -e "s#server.pem#expired.pem#" -e "s#server.key#expired.key#" \
	-e "s/^listen-tls .*/listen-tls 127.0.0.1:0/" "$tmp/a.conf" >"$tmp/e.conf"
start_miodnsd -c "$tmp/e.conf"
e_pid=$miodnsd_pid
e_tls=$(tls_port)
sed "s/^upstream-tls .*/upstream-tls 127.0.0.1:$e_tls dot.test/" \
	"$tmp/b.conf" >"$tmp/d.conf"
start_miodnsd -c "$tmp/d.conf"
like "$(q a.example.test A)" "*status: SERVFAIL*" \
	"an expired certificate: SERVFAIL"
ok $([ "$(stat_on "$port" tls-upstream-failures)" -ge 1 ]; echo $?) \
	"counted in tls-upstream-failures"
kill -TERM "$miodnsd_pid" "$e_pid"
wait "$miodnsd_pid" "$e_pid"

miodnsd_pid=$a_pid
stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0 on SIGTERM"
done_testing
