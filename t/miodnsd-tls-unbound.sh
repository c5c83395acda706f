#!/bin/sh
# t/miodnsd-tls-unbound.sh - miodnsd forwarding over TLS to unbound's TLS
# listener (tls-service-key, tls-service-pem), with t/tls-certs.sh's
# certificates: the answers of unbound's local data, one connection for
# many queries, an unbound restarted under a waiting query, and SERVFAIL
# when the name miodnsd expects is not the certificate's.
#
# unbound listens on port 853, so the test runs in a network namespace of
# its own holding only lo (unshare --net; root only), where that port is
# free and nothing leaves the machine. Without root, unshare, ip or
# unbound it skips.
set -u
if [ -z "${MIODNSD_TLS_NETNS:-}" ]; then
	why=
	if [ "$(id -u)" != 0 ]; then
		why="needs root for a network namespace (unbound binds port 853)"
	elif ! command -v unbound >/dev/null 2>&1; then
		why="unbound not installed"
	elif ! command -v unshare >/dev/null 2>&1 ||
	    ! command -v ip >/dev/null 2>&1 ||
	    ! unshare --net true 2>/dev/null; then
		why="no network namespaces here (unshare, ip)"
	fi
	if [ -n "$why" ]; then
		echo "1..0 # SKIP $why"
		exit 0
	fi
	MIODNSD_TLS_NETNS=1
	export MIODNSD_TLS_NETNS
	exec unshare --net -- sh "$0" "$@"
fi
ip link set lo up || { echo "Bail out! cannot bring lo up"; exit 1; }

. "${top_srcdir:-.}/t/miodnsd-lib.sh"
need_dig
[ -x "$top_builddir/t/dotprobe" ] || skip_all "built without TLS (OpenSSL 3)"
command -v kdig >/dev/null 2>&1 || skip_all "kdig not installed (knot-dnsutils)"
sh "$top_srcdir/t/tls-certs.sh" "$tmp" || {
	echo "Bail out! t/tls-certs.sh failed"; exit 1; }

cat >"$tmp/unbound.conf" <<EOF
server:
	interface: 127.0.0.1@853
	tls-port: 853
	tls-service-key: "$tmp/server.key"
	tls-service-pem: "$tmp/server.pem"
	do-ip6: no
	username: ""
	chroot: ""
	directory: "$tmp"
	pidfile: ""
	use-syslog: no
	logfile: ""
	do-daemonize: no
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
	local-zone: "unbound.test." static
	local-data: "www.unbound.test. 300 IN A 192.0.2.153"
	local-data: "mail.unbound.test. 300 IN A 192.0.2.25"
	local-data: "late.unbound.test. 300 IN A 192.0.2.99"
remote-control:
	control-enable: no
EOF

start_unbound() {
	unbound -d -c "$tmp/unbound.conf" >>"$tmp/unbound.log" 2>&1 &
	unbound_pid=$!
	test_pids="$test_pids $unbound_pid"
	wait_for '[ "$(kdig @127.0.0.1 -p 853 +tls +tls-ca="$tmp/ca.pem" \
		+tls-hostname=dot.test +time=1 +retry=0 +short \
		www.unbound.test A 2>/dev/null)" = 192.0.2.153 ]' 10
}

# stat NAME: one counter of the miodnsd under test.
stat() {
	q +short stats.miodnsd CH TXT | tr ' ' '\n' |
		sed -n "s/^\"$1=\([0-9]*\)\"\$/\1/p"
}

if ! start_unbound; then
	sed 's/^/# /' "$tmp/unbound.log"
	echo "Bail out! unbound's TLS listener did not answer"
	exit 1
fi

cat >"$tmp/m.conf" <<EOF
resolv-conf /dev/null
builtin-zones none
upstream-tls 127.0.0.1:853 dot.test
tls-ca $tmp/ca.pem
EOF
start_miodnsd -c "$tmp/m.conf"
is "$(q +short www.unbound.test A)" 192.0.2.153 \
	"forwarded over TLS to unbound: its answer"
like "$(q www.unbound.test A)" "*status: NOERROR*" "NOERROR"
for n in 1 2 3 4 5 6 7 8; do
	q +short mail.unbound.test A >/dev/null
	q +short "n$n.unbound.test" A >/dev/null
done
is "$(q +short mail.unbound.test A)" 192.0.2.25 "another name"
like "$(q nx.unbound.test A)" "*status: NXDOMAIN*" "NXDOMAIN passed on"
is "$(stat tls-upstream-handshakes)" 1 "every query over one connection"

# unbound restarted under a query whose deadline outlasts it.
kill -TERM "$unbound_pid"
wait "$unbound_pid"
(q +time=4 +short late.unbound.test A >"$tmp/restart" 2>&1) &
waiter=$!
sleep 0.3
start_unbound
wait "$waiter"
is "$(cat "$tmp/restart")" 192.0.2.99 \
	"a query sent while unbound was down is answered once it is back"
is "$(stat tls-upstream-handshakes)" 2 "over a second connection"
stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0 on SIGTERM"

sed "s/ dot.test\$/ other.test/" "$tmp/m.conf" >"$tmp/wrong.conf"
start_miodnsd -c "$tmp/wrong.conf"
like "$(q www.unbound.test A)" "*status: SERVFAIL*" \
	"unbound's certificate is not for the name expected: SERVFAIL"
is "$(q +short www.unbound.test A)" "" "never its answer"
stop_miodnsd
kill -TERM "$unbound_pid"
wait "$unbound_pid"
done_testing
