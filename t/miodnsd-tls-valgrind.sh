#!/bin/sh
# t/miodnsd-tls-valgrind.sh - DNS over TLS in both directions under
# valgrind: a miodnsd with two workers, a TLS listener and a TLS upstream
# (a second miodnsd, not under valgrind, in front of t/dnsstub) answers
# kdig +tls, pipelined and resumed t/dotprobe connections and garbage,
# forwards over TLS, reloads (new TLS contexts while connections hold the
# old ones), and exits on SIGTERM. No invalid access and no leak of any
# kind may be reported. Skipped when valgrind is missing, miodnsd was
# built with AddressSanitizer or without TLS.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
command -v valgrind >/dev/null 2>&1 || skip_all "valgrind not installed"
need_dig
DOTPROBE="$top_builddir/t/dotprobe"
[ -x "$DOTPROBE" ] || skip_all "built without TLS (OpenSSL 3)"
command -v kdig >/dev/null 2>&1 || skip_all "kdig not installed (knot-dnsutils)"
if grep -q __asan_init "$top_builddir/daemon/miodnsd" \
	"$top_builddir/daemon/.libs/miodnsd" 2>/dev/null; then
	skip_all "miodnsd is built with AddressSanitizer"
fi
sh "$top_srcdir/t/tls-certs.sh" "$tmp" || {
	echo "Bail out! t/tls-certs.sh failed"; exit 1; }

tls_port() {
	awk '$3 == "tls" { print $2; exit }' "$tmp/ports"
}

start_stub
cat >"$tmp/up.conf" <<EOF
resolv-conf /dev/null
upstream 127.0.0.1:$stub_port
listen-tls 127.0.0.1:0
tls-cert $tmp/server.pem
tls-key $tmp/server.key
EOF
start_miodnsd -c "$tmp/up.conf"
up_pid=$miodnsd_pid
up_tls=$(tls_port)

cat >"$tmp/conf" <<EOF
resolv-conf /dev/null
upstream-tls 127.0.0.1:$up_tls dot.test
tls-ca $tmp/ca.pem
listen-tls 127.0.0.1:0
tls-cert $tmp/server.pem
tls-key $tmp/server.key
threads 2
# Room for a 1 s answer under valgrind on a busy machine.
upstream-timeout 4000
timeout 8000
EOF
MIODNSD_WRAPPER="$top_builddir/libtool --mode=execute valgrind -q \
	--error-exitcode=99 --leak-check=full --show-leak-kinds=all \
	--errors-for-leak-kinds=all --log-file=$tmp/valgrind.log \
	--suppressions=$top_srcdir/t/miodnsd-valgrind.supp"
MIODNSD_START_WAIT=30
start_miodnsd -c "$tmp/conf"
tls=$(tls_port)
kq() {
	kdig @127.0.0.1 -p "$tls" +tls +tls-ca="$tmp/ca.pem" \
		+tls-hostname=dot.test +time=5 +retry=0 "$@"
}

is "$(q +time=5 a.example.test A +short)" 192.0.2.1 \
	"forwarded over TLS under valgrind"
is "$(kq +short localhost A)" 127.0.0.1 "kdig +tls: a zone answer"
is "$(kq +short q1.load.example.test A)" 192.0.2.2 \
	"kdig +tls: an answer from the TLS upstream"
is "$("$DOTPROBE" -A "$tmp/ca.pem" -T 5000 "$tls" delay300.example.test \
	a.example.test | tr '\n' ' ')" \
	"a.example.test NOERROR delay300.example.test NOERROR " \
	"pipelined over TLS, answered out of order"
like "$("$DOTPROBE" -A "$tmp/ca.pem" -T 5000 -r "$tls" b.load.example.test)" \
	"*resumed" "a resumed session"
is "$("$top_builddir/t/dnsraw" -t -T 3000 "$tls" 474554202f0d0a0d0a)" eof \
	"garbage instead of a ClientHello"

# A connection open across a reload keeps the old context.
"$DOTPROBE" -A "$tmp/ca.pem" -T 9000 "$tls" delay1000.example.test \
	>"$tmp/across" 2>&1 &
across=$!
sleep 0.2
kill -HUP "$miodnsd_pid"
wait_for 'grep -q "configuration reloaded" "$log"' 20
wait "$across"
like "$(cat "$tmp/across")" "*delay1000.example.test NOERROR*" \
	"a TLS connection open across a reload is answered"
is "$(kq +short c.load.example.test A)" 192.0.2.2 \
	"after the reload, TLS both ways"
stop_miodnsd
is "$miodnsd_rc" 0 "valgrind reports no error and no leak (exit status)"
if [ -s "$tmp/valgrind.log" ]; then
	sed 's/^/# /' "$tmp/valgrind.log"
fi
kill -TERM "$up_pid"
wait "$up_pid"
done_testing
