#!/bin/sh
# t/miodnsd-hostile.sh - a running miodnsd against what clients should not
# send (dns.md 4.3): the malformed queries of t/dns-hostile.c, each over
# UDP and over TCP with the exact reply expected (FORMERR with the client's
# ID and question, NOTIMP, BADVERS) or none (dropped); the largest
# messages; then TCP framed every wrong way: zero-length frames, a length
# larger than the data and a close, a query one byte per write, many
# queries in one write, a frame that never completes, a client that sends
# nothing. After all of it miodnsd must still be running, and answering.
# Last, a second miodnsd forwards to a hostile upstream (t/dnsraw -S) whose
# answers loop, point forward, lie in their counts and misplace OPTs: each
# one SERVFAIL or relayed cleaned up, never cached broken.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"

RAW="$top_builddir/t/dnsraw"

# todo_is GOT WANT DESC REASON: a check of a bug fixed after this script
# found it; REASON says which, should it come back.
todo_is() {
	test_count=$((test_count + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $test_count - $3"
	else
		echo "not ok $test_count - $3 (was: $4)"
		echo "#   got:  '$(echo "$1" | cut -c1-200)'"
		echo "#   want: '$2'"
	fi
}

# The question a.example.test A IN, our OPT, and the header of a query
# with ID beef, RD and one question, then 0, 1 or 2 additional records.
Q=0161076578616d706c6504746573740000010001
OPT=00002904d0000000000000
H0=beef01000001000000000000
H1=beef01000001000000000001
H2=beef01000001000000000002
# The rest of an additional record after its owner: type TXT, class IN,
# no rdata. (A TSIG record would make the query signed: NOTAUTH/BADKEY,
# t/miodnsd-flags.sh.)
RR=00100001000000000000
# The replies to ID beef; the answer's TTL counts down in the cache.
FORMERR_BARE=beef81810000000000000000
FORMERR_ECHO=beef81810001000000000000$Q
FORMERR_ECHO_OPT=beef81810001000000000001$Q$OPT
BADVERS=beef81800001000000000001${Q}00002904d0010000000000
ANSWER="beef81800001000100000000${Q}c00c00010001????????0004c0000201"

# repeat N TEXT: TEXT N times.
repeat() {
	awk -v n="$1" -v s="$2" 'BEGIN { while (n-- > 0) printf "%s", s }'
}

# name_hex NAME: a name in wire format, the root label included.
name_hex() {
	oldifs=$IFS
	IFS=.
	for label in $1; do
		printf '%02x' ${#label}
		printf '%s' "$label" | od -An -v -tx1 | tr -d ' \n'
	done
	IFS=$oldifs
	printf '00'
}

udp() {
	"$RAW" -T 1000 "$port" "$@"
}

tcp() {
	"$RAW" -t -f -T 1000 "$port" "$@"
}

# both WANT HEX DESC: sends HEX over UDP and over TCP and expects WANT (a
# pattern). For WANT "none", nothing: over TCP, a good query sent after it
# on the same connection must be answered, and it alone.
both() {
	if [ "$1" = none ]; then
		is "$("$RAW" -T 300 "$port" "$2")" none "UDP: $3"
		like "$(tcp "$2" "$H0$Q")" "$ANSWER" "TCP: $3"
	else
		like "$(udp "$2")" "$1" "UDP: $3"
		like "$(tcp "$2")" "$1" "TCP: $3"
	fi
}

# chain_query HOPS NAMES: a query whose first additional record's RDATA
# (at 43) is a chain of HOPS pointers, each to the one before, the first to
# the question, and whose NAMES next records are owned by the end of the
# chain (query_chain() of t/dns-hostile.c).
chain_query() {
	awk -v hops="$1" -v names="$2" -v q="$Q" 'BEGIN {
		printf "beef0100000100000000%04x%s", 1 + names, q
		printf "00ff00000100000000%04x", 2 * hops
		prev = 12
		for (i = 0; i < hops; i++) {
			printf "%04x", 49152 + prev
			prev = 43 + 2 * i
		}
		for (i = 0; i < names; i++)
			printf "%04xff010001000000000000", 49152 + prev
		printf "\n"
	}'
}

start_stub
cat >"$tmp/conf" <<EOF
upstream 127.0.0.1:$stub_port
tcp-idle-timeout 500
tcp-pipeline 8
EOF
start_miodnsd -c "$tmp/conf"

both "$ANSWER" "$H0$Q" "a good query is answered (what follows is not)"

# ---- dropped ---------------------------------------------------------------

both none "" "an empty message: dropped"
both none beef010000010000000000 "11 bytes: dropped"
both none "beef81000001000000000000$Q" "QR set (a response sent to us): dropped"

# ---- FORMERR, nothing to echo ----------------------------------------------

l63=$(repeat 63 x)
both "$FORMERR_BARE" "$H0" "a bare header counting a question: FORMERR"
both "$FORMERR_BARE" "beef01000000000000000000$Q" "QDCOUNT 0: FORMERR"
both "$FORMERR_BARE" "beef01000002000000000000${Q}01620000010001" \
	"QDCOUNT 2: FORMERR"
both "$FORMERR_BARE" "$H0$(name_hex "$(repeat 64 x)")00010001" \
	"a 64-octet label: FORMERR"
both "$FORMERR_BARE" "${H0}80610000010001" "label type 10: FORMERR"
both "$FORMERR_BARE" "${H0}05610000010001" \
	"a label running past the end: FORMERR"
both "$FORMERR_BARE" "$H0$(name_hex "$l63.$l63.$l63.$(repeat 62 x)")00010001" \
	"a 256-octet name: FORMERR"
both "$FORMERR_BARE" "${H0}c00c00010001" \
	"a question that is a pointer to itself: FORMERR"
both "$FORMERR_BARE" "${H0}0161c00c00010001" \
	"a question that loops back to its start: FORMERR"

# ---- FORMERR, the question echoed ------------------------------------------

both "$FORMERR_ECHO" "beef01000001ffff00000000$Q" \
	"ANCOUNT 65535, no record: FORMERR with the question"
both "$FORMERR_ECHO" "beef01000001000000010000$Q$OPT" \
	"OPT in the authority section: FORMERR"
both "$FORMERR_ECHO" "beef01000001000100000000$Q$OPT" \
	"OPT in the answer section: FORMERR"
both "$FORMERR_ECHO" "$H1${Q}c020$RR" "an owner that points to itself: FORMERR"
both "$FORMERR_ECHO" "$H2${Q}0162c02e${RR}c020$RR" \
	"A points to B, B back to A: FORMERR"
both "$FORMERR_ECHO" "$H2${Q}c02c${RR}016100$RR" "a forward pointer: FORMERR"
both "$FORMERR_ECHO" "$H1${Q}c004$RR" "a pointer into the header: FORMERR"
both "$FORMERR_ECHO" "$H1${Q}ffff$RR" "a pointer past the end: FORMERR"
both "$FORMERR_ECHO" "$H1${Q}c0" "a pointer with one byte left: FORMERR"
both "$FORMERR_ECHO" \
	"$H1$Q$(name_hex "$l63.$l63.$l63.$l63" | sed 's/00$//')c00e$RR" \
	"a name of 270 octets once decompressed: FORMERR"
both "$FORMERR_ECHO" "$H1${Q}0000fa00ff0000000000100102" \
	"an RDLENGTH past the end: FORMERR"
both "$FORMERR_ECHO" "$H0${Q}00" "a byte after the question: FORMERR"
both "$FORMERR_ECHO_OPT" "$H2$Q$OPT$OPT" "two OPT records: FORMERR"
both "$FORMERR_ECHO" "$H1${Q}047465737400002904d0000000000000" \
	"OPT owned by test., not the root: FORMERR"
both "$FORMERR_ECHO" "$H1${Q}00002904d0000000000006000a00080102" \
	"an EDNS option longer than its OPT: FORMERR"

# ---- other replies ---------------------------------------------------------

both "$BADVERS" "$H1${Q}00002904d0000100000000" \
	"EDNS version 1: BADVERS (1 in our OPT, 0 in the header)"
both "beefa9840001000000000000$Q" "beef29000001000000000000$Q" \
	"opcode UPDATE: NOTIMP, with the question"
nx=$(name_hex nx.example.test)00010001
like "$(udp "$H1${nx}0000290064000000000000")" \
	"beef81830001000000010001${nx}*$OPT" \
	"UDP: EDNS size 100 taken as 512: a 130-byte NXDOMAIN comes whole"
# Names the built-in localhost. zone answers (local.c): the longest, and
# one with NUL, '.', 0xff and space in a label.
long=$(name_hex "$l63.$l63.$l63.$(repeat 51 y).localhost")00010001
like "$(udp "$H0$long")" "beef8???0001*$long*" \
	"UDP: a 255-octet name in a local zone: answered, question echoed"
odd=04002eff20$(name_hex localhost)00ff0001
like "$(tcp "$H0$odd")" "beef8???0001*$odd*" \
	"TCP: NUL, '.', 0xff and space in a label of a local name: answered"

# ---- the largest messages --------------------------------------------------

echo "$H0$Q$(repeat $((65507 - 32)) aa)" >"$tmp/udp-max"
is "$(udp - <"$tmp/udp-max")" "$FORMERR_ECHO" \
	"UDP: a 65507-byte datagram, garbage after the question: FORMERR"
echo "$H0$Q$(repeat $((65535 - 32)) aa)" >"$tmp/tcp-max"
is "$("$RAW" -t -f -T 2000 "$port" - <"$tmp/tcp-max")" "$FORMERR_ECHO" \
	"TCP: a 65535-byte message, garbage after the question: FORMERR"

# ---- compression chains (CPU) ----------------------------------------------

hops_todo="no cap on compression hops in dns.c dns_skip_name()"
overrun_todo="dns.c dns_skip_name() lets the labels a pointer leads to run \
past the pointer, into records dns_build_answer() drops"
todo_is "$(chain_query 300 1 | udp -)" "$FORMERR_ECHO" \
	"UDP: a name reached through 300 chained pointers: FORMERR" "$hops_todo"
todo_is "$(chain_query 300 1 | tcp -)" "$FORMERR_ECHO" \
	"TCP: a name reached through 300 chained pointers: FORMERR" "$hops_todo"
chain_query 8169 4096 >"$tmp/chain"
start=$(now_ms)
out=$("$RAW" -t -f -T 5000 "$port" - <"$tmp/chain")
ms=$(($(now_ms) - start))
echo "# a 64 KB query of 4096 names 8169 pointers deep: $ms ms"
todo_is "$out" "$FORMERR_ECHO" \
	"TCP: a 64 KB query of 4096 names through an 8169-hop chain: FORMERR" \
	"$hops_todo"

# ---- TCP framing -----------------------------------------------------------

framed=$(printf '%04x' $((${#H0} / 2 + ${#Q} / 2)))$H0$Q
like "$("$RAW" -t -T 1000 "$port" 0000 0000 "$framed")" "$ANSWER" \
	"TCP: two zero-length frames, then a query: only the query answered"
is "$("$RAW" -t -h -n 0 -T 1000 "$port" 0000)" eof \
	"TCP: a zero-length frame and a close: closed, no reply"
is "$("$RAW" -t -h -T 1000 "$port" 0040beef0100)" eof \
	"TCP: a frame announcing 64 bytes, 4 sent, then a close: closed"
is "$("$RAW" -t -h -T 1000 "$port" "ffff$H0$Q")" eof \
	"TCP: a frame announcing 65535 bytes, 32 sent, then a close: closed"
like "$("$RAW" -t -h -T 1000 "$port" "$framed")" "$ANSWER
eof" "TCP: a query and a close: answered, then closed"
like "$("$RAW" -t -b 5 -T 2000 "$port" "$framed")" "$ANSWER" \
	"TCP: a query written one byte at a time, 5 ms apart: answered"

# 50 queries in one write (the pipeline takes 8 at a time), with a
# response, a bad query and an empty frame among them.
set --
i=1
while [ $i -le 50 ]; do
	name=$(name_hex "q$i.load.example.test")
	set -- "$@" "$(printf '%04x' $i)01000001000000000000${name}00010001"
	i=$((i + 1))
done
set -- "$@" "beef81000001000000000000$Q" "${H0}c00c00010001" ""
out=$("$RAW" -t -f -n 51 -T 3000 "$port" "$@")
is "$(echo "$out" | grep -c '^....8180000100010000')" 50 \
	"TCP: 50 pipelined queries in one write: 50 answers"
is "$(echo "$out" | cut -c1-4 | grep -v beef | sort -u | wc -l | tr -d ' ')" \
	50 "each for its own ID"
is "$(echo "$out" | grep -c "^$FORMERR_BARE\$")" 1 \
	"and a FORMERR for the bad query among them, the response dropped"

# Silent and slow clients: the idle timeout (500 ms) ends them.
out=$("$RAW" -t -i -T 3000 "$port")
ms=$(echo "$out" | sed -n 's/^eof after \([0-9]*\) ms$/\1/p')
ok $([ -n "$ms" ] && [ "$ms" -ge 400 ] && [ "$ms" -le 2000 ]; echo $?) \
	"TCP: a client that sends nothing is closed by the idle timeout ($out)"
is "$("$RAW" -t -T 3000 "$port" 00)" eof \
	"TCP: a frame that never completes (one byte of its length) is closed"
is "$("$RAW" -t -T 3000 "$port" "0020$H0")" eof \
	"TCP: a frame stuck halfway is closed"

# ---- still there -----------------------------------------------------------

kill -0 "$miodnsd_pid" 2>/dev/null
ok $? "miodnsd is still running (PID $miodnsd_pid)"
both "$ANSWER" "$H0$Q" "and answering"
stop_miodnsd
is "$miodnsd_rc" 0 "SIGTERM: miodnsd exits 0"

# ---- a hostile upstream ----------------------------------------------------
# t/dnsraw -S answers each name cN.example.test with its own bytes; every
# question is 21 bytes, so the records start at 33 (0x21). Each name is
# asked twice: what is relayed may come the second time from the cache.

qn() {
	echo "$(name_hex "$1.example.test")00010001"
}
# upstream_answer NAME COUNTS RECORDS: an answer to NAME A (QR AA RD,
# RA), COUNTS the hex of ANCOUNT, NSCOUNT and ARCOUNT.
upstream_answer() {
	echo "000085800001$2$(qn "$1")$3"
}
A=c00c000100010000012c0004c0000201
A_ANY_TTL="c00c00010001????????0004c0000201"
chain=$(awk 'BEGIN {
	printf "00ff00000100000000%04x", 2 * 300
	prev = 12
	for (i = 0; i < 300; i++) {
		printf "%04x", 49152 + prev
		prev = 44 + 2 * i
	}
	printf "%04x0001000100000e100004c0000201\n", 49152 + prev
}')
"$RAW" -S -T 30000 \
	"$(upstream_answer c1 000100000000 "$A")" \
	"$(upstream_answer c2 000100000000 "c021${A#c00c}")" \
	"$(upstream_answer c3 000200000000 "0162c033${A#c00c}c021${A#c00c}")" \
	"$(upstream_answer c4 000200000000 "c031${A#c00c}$A")" \
	"$(upstream_answer c5 00ff00000000 "$A")" \
	"$(upstream_answer c6 000100000000 c00c000100010000012c0010c0000201)" \
	"$(upstream_answer c7 000100000000 "$OPT")" \
	"$(upstream_answer c8 000100000003 "$A$OPT$OPT$A")" \
	"$(upstream_answer c9 000100000000 "${A}00ff00ff")" \
	"$(upstream_answer ca 000100000002 \
	    "c00c00100001 0000012c 0001 0d c02d000100010000012c0000 $OPT")" \
	"$(upstream_answer cb 000200000000 "$chain")" \
	"000085800002000000000000$(qn cc)$(qn cc)" \
	>"$tmp/upstream" 2>>"$tmp/upstream.log" &
test_pids="$test_pids $!"
if ! wait_for '[ -s "$tmp/upstream" ]'; then
	echo "Bail out! dnsraw -S did not start"
	exit 1
fi
printf 'upstream 127.0.0.1:%s\ntimeout 800\n' "$(cat "$tmp/upstream")" \
	>"$tmp/hostile"
start_miodnsd -c "$tmp/hostile"

# upstream NAME WANT DESC: asks twice over UDP, expects WANT (a pattern)
# both times.
upstream() {
	q=$(qn "$1")
	got=$(udp "$H0$q" "$H0$q" | tr '\n' ' ')
	like "$got" "$2 $2 " "upstream: $3"
}
servfail() {
	echo "beef81820001000000000000$(qn "$1")"
}
relayed() {
	echo "beef81800001000100000000$(qn "$1")$A_ANY_TTL"
}
upstream c1 "$(relayed c1)" "a good answer: relayed, then from the cache"
upstream c2 "$(servfail c2)" "an owner pointing to itself: SERVFAIL"
upstream c3 "$(servfail c3)" "A points to B, B back to A: SERVFAIL"
upstream c4 "$(servfail c4)" "a forward pointer: SERVFAIL"
upstream c5 "$(servfail c5)" "ANCOUNT 255, one record: SERVFAIL"
upstream c6 "$(servfail c6)" "an RDLENGTH past the end: SERVFAIL"
upstream c7 "$(servfail c7)" "OPT in the answer section: SERVFAIL"
upstream c8 "$(relayed c8)" \
	"two OPTs and a record after them: the record before them relayed"
upstream c9 "$(relayed c9)" "garbage after the last record: left out"
todo_is "$(udp "$H0$(qn ca)")" "$(servfail ca)" \
	"upstream: an owner whose labels run on into the OPT: SERVFAIL" \
	"$overrun_todo"
todo_is "$(udp "$H0$(qn cb)")" "$(servfail cb)" \
	"upstream: an owner reached through 300 chained pointers: SERVFAIL" \
	"$hops_todo"
is "$(udp "$H0$(qn cc)")" "$(servfail cc)" \
	"upstream: two questions (c-ares drops it): SERVFAIL at the deadline"
kill -0 "$miodnsd_pid" 2>/dev/null
ok $? "miodnsd is still running"
stop_miodnsd
is "$miodnsd_rc" 0 "SIGTERM: miodnsd exits 0"

done_testing
