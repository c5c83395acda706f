#!/bin/sh
# t/miodnsd-lockout.sh - TCP that cannot be locked out (issue 15): 200
# idle connections do not keep a new client waiting (the longest idle
# one makes room); with few descriptors (ulimit -n) and connections that
# keep queries in flight, accepting goes on with a spare descriptor and
# TCP answers again within 2 s of the attack's end. Then fairness: with
# every slot held by one /24 with slow queries, another /24 still gets
# in; a denied client is closed at accept without closing anyone else's
# connection; a half-closed client owed an answer keeps its slot while an
# idle one can make room; and the descriptor limit (soft raised to hard,
# max-inflight fitted to a low hard one). t/dnsprobe -H holds the
# attacking connections; the test kills it by PID.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
need_dig

# unlike GOT PATTERN DESC: GOT does not match the shell pattern.
unlike() {
	case "$1" in
	$2) ok 1 "$3"; echo "#   got: '$1'" ;;
	*) ok 0 "$3" ;;
	esac
}

# tcp_probe [MS [NAME]]: one TCP query for NAME (a.example.test, which is
# forwarded), waiting MS (3000) for its answer; sets out and ms.
tcp_probe() {
	out=$(probe -E -t -T "${1:-3000}" "$port" "${2:-a.example.test}" A \
		2>"$tmp/elapsed")
	ms=$(cat "$tmp/elapsed")
}

# hold ARGS: t/dnsprobe -H in the background, until its "open N".
hold() {
	: >"$tmp/hold"
	"$PROBE" -T 30000 -H "$@" >"$tmp/hold" &
	holder=$!
	test_pids="$test_pids $holder"
	wait_for '[ -s "$tmp/hold" ]' 10 || { echo "Bail out! no holder"; exit 1; }
}

unhold() {
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
}

start_stub

# 200 idle connections against max-tcp-clients 64.
start_miodnsd -u "127.0.0.1:$stub_port"
hold 200 "$port"
wait_for '[ "$(stat tcp-evicted)" -ge 136 ]' 5
tcp_probe
like "$out" "rcode=NOERROR id=ok*" \
	"200 idle connections held: a new TCP client is answered"
ok $([ "$ms" -le 1000 ]; echo $?) "within a second ($ms ms)"
ok $([ "$(stat tcp-evicted)" -ge 137 ]; echo $?) \
	"idle connections closed to make room (tcp-evicted $(stat tcp-evicted))"
is "$(stat tcp-refused)" 0 "no new connection refused"
unhold
stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0"

# 40 descriptors, room for 1000 connections: 300 connections that each
# keep a query in flight (drop.example.test is never answered) exhaust
# the descriptors and fill the accept queue.
printf '#!/bin/sh\nulimit -n 40\nexec "$@"\n' >"$tmp/lowfd"
chmod +x "$tmp/lowfd"
# A deadline of 20 s: recovery must not wait for the queries to end.
printf 'max-tcp-clients 1000\ntimeout 20000\nupstream-timeout 20000\n' \
	>"$tmp/lowfd.conf"
MIODNSD_WRAPPER="$tmp/lowfd" start_miodnsd -c "$tmp/lowfd.conf" \
	-u "127.0.0.1:$stub_port"
hold 300 "$port" drop.example.test
wait_for 'grep -q "out of descriptors" "$log"' 5
shed=$(($(stat tcp-shed) + $(stat tcp-evicted)))
ok $([ "$shed" -gt 0 ]; echo $?) \
	"out of descriptors: busy and idle connections closed, accepting goes on ($shed)"
is "$(grep -c 'out of descriptors' "$log")" 1 "logged once"
unhold
start=$(now_ms)
answered=1
# localhost. is answered by miodnsd itself: what is measured is TCP
# accepting again, not whether a descriptor is free yet for an upstream
# socket (the attacker's connections with queries in flight keep theirs
# until the deadline; under ASan, forwarding takes longer to recover).
while [ $(($(now_ms) - start)) -lt 2000 ]; do
	tcp_probe 400 localhost
	case "$out" in
	rcode=NOERROR*) answered=0; break ;;
	esac
	sleep 0.1
done
ok "$answered" "TCP answers again within 2 s of the attack's end ($(($(now_ms) - start)) ms)"
stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0"

# Fairness between networks: 8 slots, all held by connections from
# 127.0.0.0/24 that each keep a query in flight. A client from another
# /24 takes the slot of the quietest of them; one more from the network
# that holds them all is closed instead.
printf 'max-tcp-clients 8\ntimeout 20000\nupstream-timeout 20000\n' \
	>"$tmp/fair.conf"
start_miodnsd -c "$tmp/fair.conf" -u "127.0.0.1:$stub_port"
hold 8 "$port" drop.example.test
wait_inflight 8
out=$(probe -b 127.0.0.9 -t -T 1000 "$port" localhost A 2>&1)
unlike "$out" "rcode=*" "8 busy connections from one /24: a new one from it is closed"
is "$(stat tcp-evicted)" 0 "without closing one of the others"
out=$(probe -b 127.0.1.1 -t -T 2000 "$port" localhost A)
like "$out" "rcode=NOERROR*" "but a client of another /24 is answered"
is "$(stat tcp-evicted)" 1 "one of the busy /24's connections made room"
unhold
stop_miodnsd

# A denied client is closed at accept: it takes no slot and cannot close
# an allowed client's idle connection to make room.
printf 'max-tcp-clients 2\naccess-control 127.0.2.0/24 deny\n' \
	>"$tmp/deny.conf"
start_miodnsd -c "$tmp/deny.conf" -u "127.0.0.1:$stub_port"
hold 2 "$port"
wait_for '[ "$(stat tcp-open)" = 2 ]' 5
out=$(probe -b 127.0.2.1 -t -T 1000 "$port" localhost A 2>&1)
unlike "$out" "rcode=*" "a denied client's connection is closed"
is "$(stat tcp-evicted)" 0 "without closing an allowed idle connection"
is "$(stat access-denied)" 1 "access-denied counts it"
is "$(stat tcp-open)" 2 "the allowed connections stay open"
unhold
stop_miodnsd

# A client that closed its side with an answer still owed keeps its slot
# while an idle connection can make room (python3 half-closes).
if command -v python3 >/dev/null 2>&1; then
	printf 'max-tcp-clients 2\n' >"$tmp/half.conf"
	start_miodnsd -c "$tmp/half.conf" -u "127.0.0.1:$stub_port"
	hold 1 "$port"
	python3 - "$port" >"$tmp/half" 2>&1 <<'PY' &
import socket, struct, sys
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
for label in b"delay1000", b"example", b"test":
    q += bytes([len(label)]) + label
q += b"\0" + struct.pack(">HH", 1, 1)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(struct.pack(">H", len(q)) + q)
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
got = b""
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        got += b
except OSError:
    pass
print("answer" if len(got) > 14 and got[2:4] == b"\x12\x34" else "none")
PY
	half=$!
	test_pids="$test_pids $half"
	wait_inflight 1
	out=$(probe -t -T 2000 "$port" localhost A)
	like "$out" "rcode=NOERROR*" "all slots taken: a new client is answered"
	wait "$half"
	is "$(cat "$tmp/half")" answer \
		"the half-closed client still owed an answer gets it; the idle one made room"
	unhold
	stop_miodnsd
else
	ok 0 "# SKIP no python3"
	ok 0 "# SKIP no python3"
fi

# Descriptors (every query in flight may hold a socket): a soft limit
# below the hard one is raised to it at start; a hard limit too low for
# max-inflight (2,048) lowers it to fit, with a warning.
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -gt 4096 ] && [ -d /proc/self ]; then
	printf '#!/bin/sh\nulimit -Sn 256\nexec "$@"\n' >"$tmp/softfd"
	chmod +x "$tmp/softfd"
	MIODNSD_WRAPPER="$tmp/softfd" start_miodnsd -u "127.0.0.1:$stub_port"
	is "$(awk '/^Max open files/ { print $4 }' "/proc/$miodnsd_pid/limits")" \
		"$hard" "a soft descriptor limit of 256 is raised to the hard one"
	stop_miodnsd
else
	ok 0 "# SKIP hard descriptor limit $hard, or no /proc"
fi
if [ "$hard" = unlimited ] || [ "$hard" -ge 512 ]; then
	printf '#!/bin/sh\nulimit -n 512\nexec "$@"\n' >"$tmp/hardfd"
	chmod +x "$tmp/hardfd"
	MIODNSD_WRAPPER="$tmp/hardfd" start_miodnsd -u "127.0.0.1:$stub_port"
	like "$(grep -o 'max-inflight lowered from [0-9]* to [0-9]*' "$log" |
		tail -n 1)" "max-inflight lowered from 2048 to 4[0-9][0-9]" \
		"a hard limit of 512 descriptors lowers max-inflight to fit, with a warning"
	like "$(probe -t "$port" a.example.test A)" "rcode=NOERROR*" \
		"and forwarding works"
	stop_miodnsd
else
	ok 0 "# SKIP hard descriptor limit $hard"
	ok 0 "# SKIP hard descriptor limit $hard"
fi

done_testing
