#!/bin/sh
# t/miodnsd-tcp.sh - miodnsd over TCP: pipelined queries answered out of
# order as they complete, more queries than the per-connection pipeline,
# the idle timeout, the connection cap, clients that leave early.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
need_dig

start_stub
cat >"$tmp/conf" <<EOF
upstream 127.0.0.1:$stub_port
tcp-idle-timeout 400
max-tcp-clients 4
tcp-pipeline 8
EOF
start_miodnsd -c "$tmp/conf"

is "$(probe -p "$port" delay600.example.test delay300.example.test a.example.test)" \
	"a.example.test delay300.example.test delay600.example.test" \
	"three pipelined queries are answered as they complete, out of order"

names=
i=0
while [ $i -lt 100 ]; do
	names="$names q$i.load.example.test"
	i=$((i + 1))
done
out=$(probe -p "$port" $names)
is "$(echo "$out" | wc -w)" 100 "100 queries in one write, pipeline limit 8: all answered"
like "$out" "q0.load.example.test *q99.load.example.test*" "on the same connection"

is "$(probe -p "$port" a.example.test @300/tag.example.test)" \
	"a.example.test tag.example.test" "a connection used again after a pause"

start=$(now_ms)
out=$(probe -T 3000 -I "$port")
elapsed=$(($(now_ms) - start))
like "$out" "closed after *" "an idle connection is closed"
ok $([ "$elapsed" -ge 350 ] && [ "$elapsed" -lt 2000 ]; echo $?) \
	"after the 400 ms idle timeout ($elapsed ms)"

is "$(probe -T 2000 -c 6 "$port")" "answered 4 closed 2" \
	"max-tcp-clients 4: two of six simultaneous connections are refused"
is "$(probe -t "$port" a.example.test A | cut -d' ' -f1)" "rcode=NOERROR" \
	"and a new connection works once they are gone"

# A client that gives up before its answer: nothing breaks.
is "$(probe -t -T 100 "$port" delay500.example.test A)" "no answer" \
	"a TCP client leaves before its answer"
# Nothing announces the late answer; give the upstream's 500 ms time to
# arrive and be dropped.
sleep 0.6
is "$(probe -t "$port" a.example.test A | cut -d' ' -f1)" "rcode=NOERROR" \
	"its answer is dropped and miodnsd carries on"
like "$(q big.example.test TXT +tcp +noedns)" "*ANSWER: 4,*" "dig +tcp still fine"

stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0 on SIGTERM"

# A client that asks faster than it reads: 1,000 pipelined queries for a
# 4 KB answer (4.2 MB in all, far past the 256 KiB cap on unsent answers)
# read slowly through a 4 KB receive buffer. Reading its queries pauses
# while answers pile up, and every one arrives (python3 reads them).
if command -v python3 >/dev/null 2>&1; then
	start_miodnsd -u "127.0.0.1:$stub_port"
	cat >"$tmp/slow.py" <<'PY'
import socket, struct, sys, time
port, nq = int(sys.argv[1]), int(sys.argv[2])
q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
for label in b"huge", b"example", b"test":
    q += bytes([len(label)]) + label
q += b"\0" + struct.pack(">HH", 16, 1)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.sendall((struct.pack(">H", len(q)) + q) * nq)
s.settimeout(10)
buf, answers, t0 = b"", 0, time.time()
while answers < nq and time.time() - t0 < 30:
    try:
        d = s.recv(4096)
    except OSError:
        break
    if not d:
        break
    buf += d
    while len(buf) >= 2 and len(buf) >= 2 + (buf[0] << 8 | buf[1]):
        buf = buf[2 + (buf[0] << 8 | buf[1]):]
        answers += 1
    time.sleep(0.001)
print("answers %d" % answers)
PY
	is "$(python3 "$tmp/slow.py" "$port" 1000)" "answers 1000" \
		"a slow reader pipelining 4.2 MB of answers gets every one"
	stop_miodnsd
else
	ok 0 "# SKIP no python3"
fi
done_testing
