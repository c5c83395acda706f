#!/bin/sh
# t/miodnsd-relay.sh - miodnsd relays answers correctly: A, AAAA, MX and TXT
# byte for byte but for the ID and AA (a forwarder is no authority), NXDOMAIN, TC over UDP and the whole answer
# over TCP, EDNS sizes, ID and question echoed; FORMERR, NOTIMP and BADVERS
# for what clients should not send; mangled queries crash nothing.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
need_dig

start_stub
# No cache: what is tested is the relaying, byte for byte, and a cache
# counts TTLs down and serves negative answers with their negative TTL
# (t/miodnsd-cache.sh tests that).
start_miodnsd -u "127.0.0.1:$stub_port" --cache-size 0

# Real clients.
is "$(q a.example.test A +short)" "192.0.2.1" "dig: A relayed"
is "$(q a.example.test AAAA +short)" "2001:db8::1" "dig: AAAA relayed"
is "$(q a.example.test MX +short)" "10 mail.example.test." "dig: MX relayed"
is "$(q a.example.test TXT +short)" '"hello world"' "dig: TXT relayed"
like "$(q nx.example.test A)" "*status: NXDOMAIN*" "dig: NXDOMAIN relayed"
like "$(q a.example.test +dnssec)" "*flags: do; udp: 1232*" \
	"dig: our OPT goes back with DO echoed and size 1232"
if command -v kdig >/dev/null 2>&1; then
	is "$(kdig @127.0.0.1 -p "$port" +time=2 +retry=0 +short a.example.test A)" \
		"192.0.2.1" "kdig: A relayed"
	is "$(kdig @127.0.0.1 -p "$port" +time=2 +retry=0 +tcp +short big.example.test TXT | wc -l)" \
		"4" "kdig: TXT over TCP"
else
	ok 0 "# SKIP kdig not installed"
	ok 0 "# SKIP kdig not installed"
fi

# Byte for byte, with and without EDNS: what the stub says directly and
# through miodnsd is the same but for the ID and AA, which miodnsd clears,
# and RA, which miodnsd sets as its own offer (the stub sets none). c-ares 1.28 and later hand
# over answers they have parsed and written again (compressed their own
# way), so with them the records are compared instead of the bytes.
set -- $("$MIODNSD" -V | sed -n 's/.*c-ares \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
if [ "${1:-1}" -eq 1 ] && [ "${2:-0}" -lt 28 ]; then
	rewrites=no
else
	rewrites=yes
fi
# same_answer NAME TYPE EDNS-SIZE (0 for none)
same_answer() {
	if [ $rewrites = no ]; then
		edns=
		[ "$3" -gt 0 ] && edns="-e $3"
		probe $edns -C "$stub_port" "$port" "$1" "$2"
		return
	fi
	opts="+noall +answer +authority +additional +nocookie +time=2 +tries=1"
	[ "$3" -gt 0 ] && opts="$opts +bufsize=$3" || opts="$opts +noedns"
	a=$(dig @127.0.0.1 -p "$stub_port" $opts "$1" "$2")
	b=$(dig @127.0.0.1 -p "$port" $opts "$1" "$2")
	[ "$a" = "$b" ] && echo "same len=records" || echo "differ: $a / $b"
}
for rr in "a.example.test A" "a.example.test AAAA" "a.example.test MX" \
	"a.example.test TXT" "nx.example.test A" "big.example.test TXT"; do
	set -- $rr
	like "$(same_answer "$1" "$2" 1232)" "same len=*" \
		"$1 $2 with EDNS: identical to the upstream's answer but for ID and AA"
done
for rr in "a.example.test A" "a.example.test TXT" "nx.example.test A"; do
	set -- $rr
	like "$(same_answer "$1" "$2" 0)" "same len=*" \
		"$1 $2 without EDNS: identical but for ID and AA (our OPT upstream removed)"
done
like "$(probe -i 0x1234 -e 1232 "$port" A.eXaMpLe.TeSt A)" \
	"rcode=NOERROR id=ok question=ok qd=1 an=1 *" \
	"the client's ID and question (in its own case) are echoed"

# Truncation to the client's limit.
like "$(q big.example.test TXT +noedns +ignore)" "*flags: qr tc rd ra;*ANSWER: 0*" \
	"dig: 900-byte answer over UDP without EDNS is truncated with TC"
like "$(probe "$port" big.example.test TXT)" \
	"*rcode=NOERROR id=ok question=ok qd=1 an=0 ns=0 ar=0 aa=0 tc=1 edns=0*" \
	"probe: the truncated answer is the bare question, no OPT"
like "$(probe -e 1232 "$port" big.example.test TXT)" \
	"*an=4 ns=0 ar=1 aa=0 tc=0 edns=1232*" "with EDNS 1232 it fits"
like "$(probe -e 4096 "$port" huge.example.test TXT)" "*an=0 ns=0 ar=1 aa=0 tc=1 edns=1232*" \
	"4 KB over UDP with EDNS 4096: capped at 1232, so TC"
like "$(probe -e 600 "$port" big.example.test TXT)" "*tc=1 edns=1232*" \
	"a client's own smaller size is honoured"
like "$(q big.example.test TXT +noedns +tcp)" "*ANSWER: 4,*" \
	"dig +tcp: the whole answer over TCP"
like "$(probe -t "$port" huge.example.test TXT)" "*an=16 ns=0 ar=0 aa=0 tc=0 edns=0*" \
	"4 KB answer (fetched upstream over TCP) whole over TCP"
like "$(probe -t -s "$port" a.example.test A)" "rcode=NOERROR id=ok question=ok *an=1*" \
	"a TCP query written a byte at a time is answered"

# What clients should not send.
like "$(probe -R 0101000000010000000000000161076578616d706c6504746573740000010001 "$port")" \
	"rcode=NOERROR id=ok*" "probe -R works (a valid query in hex)"
like "$(probe -R 010201000001000000000000 "$port")" "rcode=FORMERR id=ok*qd=0*" \
	"question missing: FORMERR"
like "$(probe -R 0103010000010000000000000361626300 "$port")" "rcode=FORMERR id=ok*" \
	"question without type and class: FORMERR"
like "$(probe -R 01040100000100000000000005610000010001 "$port")" "rcode=FORMERR id=ok*" \
	"label running past the end: FORMERR"
like "$(probe -R 0105010000010000000000000161c00c00010001 "$port")" "rcode=FORMERR id=ok*" \
	"compression pointer in the question: FORMERR"
like "$(probe -R 0106010000020000000000000161000001000101620000010001 "$port")" "rcode=FORMERR id=ok*" \
	"two questions: FORMERR"
like "$(probe -R 01070100000100000000000201610000010001000029040000000000000000002904d0000000000000 "$port")" \
	"rcode=FORMERR id=ok*" "two OPT records: FORMERR"
like "$(probe -R 0108010000010000000000000161000001000100ff "$port")" "rcode=FORMERR id=ok*" \
	"trailing garbage: FORMERR"
like "$(probe -R 0109010000010000000000010161000001000100002904d000010000000a "$port")" \
	"rcode=FORMERR id=ok*" "OPT whose RDATA runs past the end: FORMERR"
like "$(probe -R 010a0100000100000000000101610000010001000029 "$port")" \
	"rcode=FORMERR id=ok*" "OPT cut short: FORMERR"
is "$(probe -T 300 -R 0102030405 "$port")" "no answer" "5 bytes: no header, dropped"
is "$(probe -T 300 -R 810b8180000100000000000001610000010001 "$port")" "no answer" \
	"a response (QR set) sent to us: dropped"
like "$(probe -R 010c1000000100000000000001610000010001 "$port")" "rcode=NOTIMP id=ok question=ok*" \
	"opcode STATUS: NOTIMP, question echoed"
like "$(probe -R 010d2000000100000000000001610000060001 "$port")" "rcode=NOTIMP id=ok*" \
	"opcode NOTIFY: NOTIMP"
like "$(probe -t "$port" a.example.test AXFR)" "rcode=NOTIMP id=ok question=ok*" \
	"zone transfer: NOTIMP"
like "$(probe -R 010e010000010000000000010161000001000100002904d0000100000000 "$port")" \
	"rcode=RCODE16 id=ok*edns=1232*" "EDNS version 1: BADVERS in our OPT"
like "$(probe "$port" a.example.test OPT)" "rcode=FORMERR id=ok*" "qtype OPT: FORMERR"

# Mangled queries must crash nothing, and leave it answering.
like "$(probe -z 3000 "$port")" "sent 3000" "3000 mangled queries sent (UDP, some TCP)"
is "$(q a.example.test A +short)" "192.0.2.1" "and miodnsd still answers"
like "$(probe -t "$port" a.example.test A)" "rcode=NOERROR*" "over TCP too"

stop_miodnsd
is "$miodnsd_rc" 0 "SIGTERM: miodnsd exits 0"

# IPv6: a listener on ::1 in front of an upstream on ::1.
if "$STUB" -6 -d >"$tmp/v6" 2>/dev/null; then
	read -r v6stub v6pid <"$tmp/v6"
	test_pids="$test_pids $v6pid"
	start_miodnsd -l '[::1]:0' -u "[::1]:$v6stub"
	v6port=$(sed -n 2p "$tmp/ports" | cut -d' ' -f2)
	is "$(sed -n 2p "$tmp/ports" | cut -d' ' -f1)" "::1" \
		"the port file lists the IPv6 listener"
	is "$(dig @::1 -p "$v6port" +time=2 +tries=1 +short a.example.test)" \
		"192.0.2.1" "an IPv6 listener and an IPv6 upstream"
	stop_miodnsd
else
	ok 0 "# SKIP no IPv6 loopback"
	ok 0 "# SKIP no IPv6 loopback"
fi

# An upstream that does not speak EDNS: c-ares cuts our 11-byte OPT off.
start_stub --no-edns
start_miodnsd -u "127.0.0.1:$stub_port"
is "$(q a.example.test A +short)" "192.0.2.1" "an upstream without EDNS still answers"
stop_miodnsd

done_testing
