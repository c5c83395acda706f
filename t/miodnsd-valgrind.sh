#!/bin/sh
# t/miodnsd-valgrind.sh - a short run of miodnsd under valgrind: UDP and
# TCP queries, truncation, SERVFAIL at the deadline, FORMERR, a zone and
# CHAOS answers, a reload that replaces the upstream and the zones (and one
# that fails), SIGUSR1, and SIGTERM with a query in flight; with two
# worker threads, so that their start, reload and exit are checked too.
# No invalid access and no leak of any kind may be reported. Skipped when
# valgrind is missing or miodnsd was built with AddressSanitizer.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
command -v valgrind >/dev/null 2>&1 || skip_all "valgrind not installed"
need_dig
if grep -q __asan_init "$top_builddir/daemon/miodnsd" \
	"$top_builddir/daemon/.libs/miodnsd" 2>/dev/null; then
	skip_all "miodnsd is built with AddressSanitizer"
fi

start_stub
first=$stub_port
start_stub --tag second
second=$stub_port
printf '$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\n MX 1 ns\nns A 192.0.2.7\n' \
	>"$tmp/vg.zone"
printf 'upstream 127.0.0.1:%s\ntimeout 800\nzone vg.test vg.zone\nthreads 2\n' "$first" >"$tmp/conf"
MIODNSD_WRAPPER="$top_builddir/libtool --mode=execute valgrind -q \
	--error-exitcode=99 --leak-check=full --show-leak-kinds=all \
	--errors-for-leak-kinds=all --log-file=$tmp/valgrind.log \
	--suppressions=$top_srcdir/t/miodnsd-valgrind.supp"
MIODNSD_START_WAIT=30
start_miodnsd -c "$tmp/conf"

is "$(q a.example.test A +short)" "192.0.2.1" "UDP answer under valgrind"
like "$(q big.example.test TXT +noedns +ignore)" "*flags: qr tc rd ra;*" "TC"
like "$(q huge.example.test TXT +tcp)" "*ANSWER: 16,*" "TCP, from an upstream TCP retry"
like "$(probe -T 3000 "$port" drop.example.test A)" "rcode=SERVFAIL*" "SERVFAIL at the deadline"
like "$(probe -R 010201000001000000000000 "$port")" "rcode=FORMERR*" "FORMERR"
like "$(probe -z 200 "$port")" "sent 200" "mangled queries"
like "$(q vg.test MX)" "*flags: qr aa rd ra;*ns.vg.test.*192.0.2.7*" "a zone answer"
like "$(q nx.vg.test MX)" "*NXDOMAIN*" "NXDOMAIN from the zone"
like "$(q stats.miodnsd CH TXT +short)" "*authoritative=2*" "stats.miodnsd"
printf 'upstream 127.0.0.1:%s\ntimeout 800\nzone vg.test vg.zone\nthreads 2\n' "$second" >"$tmp/conf"
sed -i 's/ 1 2 3 4 5/ 2 2 3 4 5/' "$tmp/vg.zone"
kill -HUP "$miodnsd_pid"
wait_for 'grep -q "configuration reloaded" "$log"' 10
is "$(q tag.example.test TXT +short)" '"second"' "reloaded to another upstream"
is "$(q vg.test SOA +short | cut -d' ' -f3)" 2 "and to the new zone"
echo 'bad A 1.2.3' >>"$tmp/vg.zone"
kill -HUP "$miodnsd_pid"
wait_for 'grep -q "reload failed" "$log"' 10
is "$(q vg.test SOA +short | cut -d' ' -f3)" 2 "a broken zone: the old one stays"
kill -USR1 "$miodnsd_pid"
probe -T 3000 "$port" delay300.example.test A >"$tmp/slow" &
slow_pid=$!
wait_inflight 1
stop_miodnsd
wait "$slow_pid"
like "$(cat "$tmp/slow")" "rcode=NOERROR*" "a query in flight at SIGTERM is answered"
is "$miodnsd_rc" 0 "valgrind reports no error and no leak (exit status)"
if [ -s "$tmp/valgrind.log" ]; then
	sed 's/^/# /' "$tmp/valgrind.log"
fi
done_testing
