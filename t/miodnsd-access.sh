#!/bin/sh
# t/miodnsd-access.sh - access-control and response rate limiting seen
# from addresses other than loopback (issue 15). The script runs itself
# again in a network namespace of its own (unshare --net, as root) whose
# loopback interface also carries 192.0.2.1, 198.51.100.1 and 203.0.113.1
# (RFC 5737 documentation prefixes), so that clients in three prefixes
# can talk to miodnsd and nothing can leave the namespace. Without root or
# unshare it skips. Last, forged answers from a raw socket: in the
# namespace they can reach no process but ours.
set -u
if [ -z "${MIODNSD_IN_NETNS:-}" ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1 ||
	    ! unshare --net true 2>/dev/null; then
		echo "1..0 # SKIP needs root, ip and unshare --net"
		exit 0
	fi
	MIODNSD_IN_NETNS=1 exec unshare --net sh "$0" "$@"
fi
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
need_dig
ip link set lo up && ip addr add 192.0.2.1/24 dev lo &&
	ip addr add 198.51.100.1/24 dev lo && ip addr add 203.0.113.1/24 dev lo ||
	skip_all "could not add addresses in the namespace"

# start_outside ARGS: miodnsd on 127.0.0.1 (port) and 192.0.2.1 (oport).
start_outside() {
	start_miodnsd -l 192.0.2.1:0 -u "127.0.0.1:$stub_port" \
		--builtin-zones localhost "$@"
	oport=$(sed -n 's/^192\.0\.2\.1[: ]\([0-9]*\)$/\1/p' "$tmp/ports")
	[ -n "$oport" ] || { echo "Bail out! no port on 192.0.2.1"; exit 1; }
}

# from ADDR ARGS: t/dnsprobe from ADDR to miodnsd on 192.0.2.1.
from() {
	src=$1
	shift
	probe -T 1000 -a 192.0.2.1 -b "$src" "$@"
}

start_stub

# The defaults: loopback served, everyone else refused what would be
# forwarded or cached; local zones and version.bind are public.
: >"$log"
start_outside
is "$(grep -c 'without any access-control line' "$log")" 1 \
	"one warning at start for a non-loopback listener"
like "$(from 198.51.100.1 "$oport" a.example.test A)" "rcode=REFUSED id=ok*" \
	"default: 198.51.100.1 is REFUSED a forwarded name"
like "$(from 198.51.100.1 "$oport" localhost A)" "rcode=NOERROR id=ok*an=1*" \
	"but gets the local zone localhost. (authoritative data is public)"
like "$(dig -b 198.51.100.1 @192.0.2.1 -p "$oport" +time=1 +tries=1 +short \
	version.bind CH TXT)" '"miodnsd*' "and version.bind"
like "$(probe "$port" a.example.test A)" "rcode=NOERROR id=ok*an=1*" \
	"default: 127.0.0.1 is served"
like "$(from 192.0.2.1 "$oport" a.example.test A)" "rcode=REFUSED*" \
	"default: 192.0.2.1 (the listener's own address) is REFUSED"
is "$(stat access-refused)" 2 "access-refused=2"
stop_miodnsd

# Configured: a file with allow and deny lines, an option with refuse.
cat >"$tmp/access.conf" <<EOC
access-control 198.51.100.0/24 allow
access-control 203.0.113.0/24 deny
access-control 0.0.0.0/0 allow
EOC
: >"$log"
start_outside -c "$tmp/access.conf" --access-control "192.0.2.0/24 refuse"
is "$(grep -c 'without any access-control line' "$log")" 0 \
	"no warning with access-control lines"
like "$(from 198.51.100.1 "$oport" a.example.test A)" "rcode=NOERROR id=ok*an=1*" \
	"allow: 198.51.100.1 is served"
is "$(from 203.0.113.1 "$oport" a.example.test A)" "no answer" \
	"deny: 203.0.113.1 gets no answer"
is "$(from 203.0.113.1 "$oport" localhost A)" "no answer" \
	"not even for a local zone"
like "$(from 192.0.2.1 "$oport" a.example.test A)" "rcode=REFUSED*" \
	"refuse (the option): 192.0.2.1 is REFUSED"
like "$(probe "$port" a.example.test A)" "rcode=NOERROR id=ok*" \
	"127.0.0.1 is still served (the default's line)"
is "$(stat access-denied)" 2 "access-denied=2"
is "$(stat access-refused)" 1 "access-refused=1"
stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0"

# A bad line stops the configuration.
"$MIODNSD" -n --access-control "192.0.2.0/33 allow" >"$tmp/bad" 2>&1
ok $([ $? -ne 0 ]; echo $?) "a malformed access-control line is an error"
like "$(cat "$tmp/bad")" "*access-control*" "and says which"

# Rate limiting: 500 answers at once to 198.51.100.1 with ratelimit 50:
# 50 a second (100 if the burst spans two), half the excess truncated,
# half dropped; 203.0.113.1 meanwhile keeps full service, and loopback is
# not limited.
printf 'access-control 0.0.0.0/0 allow\nratelimit 50\n' >"$tmp/rrl.conf"
start_outside -c "$tmp/rrl.conf"
set -- $(from 198.51.100.1 -S 500 "$oport" localhost A)
echo "# flood: $*"
ok $([ "$4" -ge 50 ] && [ "$4" -le 100 ]; echo $?) \
	"a flood of 500 from one source: 50 to 100 answered ($4)"
ok $([ "${10}" -ge 190 ] && [ "${10}" -le 225 ]; echo $?) \
	"about half the excess truncated (${10})"
ok $([ "${14}" -ge 190 ] && [ "${14}" -le 225 ]; echo $?) \
	"the rest dropped (${14})"
is "$(from 203.0.113.1 -S 40 "$oport" localhost A)" \
	"sent 40 noerror 40 servfail 0 refused 0 truncated 0 other 0 none 0" \
	"meanwhile a second source gets every answer"
is "$(probe -T 1000 -S 500 "$port" localhost A)" \
	"sent 500 noerror 500 servfail 0 refused 0 truncated 0 other 0 none 0" \
	"loopback is not limited"
ok $([ "$(stat rrl-truncated)" -ge 190 ]; echo $?) "rrl-truncated counted"
ok $([ "$(stat rrl-dropped)" -ge 190 ]; echo $?) "rrl-dropped counted"
stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0"

# Forged answers from a raw socket, claiming the upstream's address and
# port: 1,500 identical queries for a name the stub answers 500 ms late,
# and meanwhile 20,000 forged answers (A 203.0.113.66, random IDs) at
# random ports, and 2,000 more at the port of the query before, handed to
# the attacker. Nobody may get the forged address.
: >"$tmp/stub.log"
start_stub -v
start_miodnsd -u "127.0.0.1:$stub_port" --builtin-zones localhost
probe "$port" q1.load.example.test A >/dev/null
old=$(sed -n 's/^stub: udp from port \([0-9]*\) .*/\1/p' "$tmp/stub.log" |
	tail -n 1)
"$PROBE" -T 3000 -S 1500 "$port" delay500.example.test A >"$tmp/victims" &
victims=$!
test_pids="$test_pids $victims"
# First, at the port of the query in flight, answers to another
# question: they reach its socket and are dropped (wrong ID), which
# upstream-stray shows.
wait_for "grep -q 'udp delay500' '$tmp/stub.log'"
now=$(grep -B1 'udp delay500' "$tmp/stub.log" |
	sed -n 's/^stub: udp from port \([0-9]*\) .*/\1/p' | tail -n 1)
forged_now=$(probe -F 200 -U "$stub_port" "$now" other.example.test)
forged=$(probe -F 20000 -U "$stub_port" 0 delay500.example.test)
forged_old=$(probe -F 2000 -U "$stub_port" "$old" delay500.example.test)
wait "$victims"
is "$forged $forged_old $forged_now" "forged 20000 forged 2000 forged 200" \
	"22,200 forged answers sent from a raw socket"
# A burst that fast overflows the socket's buffer: not all of it arrives,
# and how much does depends on how fast the backend drains it (over
# libkqueue 33 of 200 once). What this proves is that forged answers did
# reach the live socket, and were counted and dropped there.
ok $([ "$(stat upstream-stray)" -ge 1 ]; echo $?) \
	"those that reached the live port were dropped as stray ($(stat upstream-stray) of 200)"
is "$(cat "$tmp/victims")" \
	"sent 1500 noerror 64 servfail 1436 refused 0 truncated 0 other 0 none 0" \
	"the 1,500 clients: 64 answered, the rest SERVFAIL past max-waiters"
is "$(q +short delay500.example.test A)" "192.0.2.1" \
	"the answer they got and the cache kept is the upstream's, not the forged one"
stop_miodnsd
is "$miodnsd_rc" 0 "miodnsd exits 0"

done_testing
