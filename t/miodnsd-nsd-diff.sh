#!/bin/sh
# t/miodnsd-nsd-diff.sh - miodnsd's authoritative answers compared with
# NSD's, section by section, for the same zones and the same questions.
#
# The zones are t/zones/rfc-types.zone (every record type), dname.zone
# (DNAME, wildcard-covered and SVCB/HTTPS targets), rfc4592.zone
# (wildcards), answers.zone (CNAME chains, a delegation with glue, empty
# non-terminals) and a zone of duplicates written here. NSD (started by
# this test in the foreground, its own configuration, database "" and
# zonesdir in the test's directory, stopped by PID) serves them on one
# port, miodnsd on another. The questions are generated from NSD's AXFR of
# each zone: every owner with every type it has, a few types it has not,
# its name in mixed case, a name below it and one beside it (and three
# names for DNAME's length limit); each is asked over UDP and TCP, with
# and without EDNS, of both servers with dig.
#
# Compared: the RCODE, the AA, TC, RD, RA, AD and CD flags (RA is clear
# from both: the miodnsd here has no upstream, so offers no recursion,
# RFC 1035 section 4.1.1), whether an OPT record came
# back, and the records of each section (owner names without regard to
# case, the order of records within a section ignored). Differences that
# are intended, with their reason, are normalised away before comparing:
#
#  - NSD adds the apex NS RRset to the authority section of positive
#    answers; miodnsd keeps it out, as RFC 2181 section 6.1 allows
#    ("may"), to keep answers small. The copies of the zones served here
#    name out-of-zone servers at the apex, so that NSD adds no addresses
#    for them either, and NSD's apex NS in such authority sections is
#    dropped.
#  - ANY (RFC 8482) is asked only at names with one RRset: both servers
#    answer with one RRset, and pick different ones when there are more
#    (miodnsd the CNAME or the lowest type). When that RRset does not fit
#    a UDP answer, miodnsd sends RFC 8482 section 4.2's synthesized HINFO
#    and NSD an empty answer with TC (big.answers.test over plain UDP).
#  - CNAME chains are cut after 8 links (ZONE_CNAME_CHAIN); NSD follows
#    longer ones. RFC 1034 section 4.3.2 lets the resolver go on from the
#    last target either way (c0, c1, c2.answers.test have 10, 9, 8).
#  - SVCB and HTTPS answers get their targets' addresses in the
#    additional section (RFC 9460 section 4); NSD 4.6 adds none, so the
#    additional section of such answers is not compared (t/zone checks it).
#
# Skipped when nsd or dig is missing. Only 127.0.0.1 is used.
set -u

. "${top_srcdir:-.}/t/miodnsd-lib.sh"

need_dig
command -v nsd >/dev/null 2>&1 ||
	[ -x /usr/sbin/nsd ] || skip_all "nsd not installed (Debian: nsd)"
NSD=$(command -v nsd || echo /usr/sbin/nsd)
zones="rfc.test dname.test example answers.test dup.test"

# ---- the zones -------------------------------------------------------------

# Copies a fixture with its apex NS names moved out of the zone.
copy_zone() {
	sed -e 's/^@\([[:space:]]*\)NS\([[:space:]]*\)ns[0-9]*$/@\1NS\2ns.example.net./' \
		"$top_srcdir/t/zones/$1" >"$tmp/$2.zone"
}

copy_zone rfc-types.zone rfc.test
copy_zone dname.zone dname.test
copy_zone rfc4592.zone example
copy_zone answers.zone answers.test
cat >"$tmp/dup.test.zone" <<'EOF'
$ORIGIN dup.test.
$TTL 300
@	SOA	ns.example.net. hostmaster 1 7200 900 1209600 60
@	NS	ns.example.net.
mx	MX	10 Host.dup.test.
mx	MX	10 host.DUP.test.
mx	MX	10 HOST.dup.test.
mx	MX	20 host.dup.test.
host	A	192.0.2.1
host	A	192.0.2.1
txt	TXT	"Case" "kept"
txt	TXT	"case" "kept"
srv	SRV	0 0 443 Host.dup.test.
srv	SRV	0 0 443 host.dup.test.
a.b.c.deep	A	192.0.2.2
del	NS	ns.del
	NS	ns.example.org.
ns.del	A	192.0.2.53
EOF

# ---- the servers -----------------------------------------------------------

# A free port for NSD: the one a miodnsd bound to port 0 got, released
# again (NSD binds UDP and TCP; another program may take it in between,
# and then NSD is started again on another).
free_port() {
	printf 'resolv-conf /dev/null\nbuiltin-zones none\n' >"$tmp/probe.conf"
	start_miodnsd -c "$tmp/probe.conf" -z "dup.test=$tmp/dup.test.zone"
	stop_miodnsd
	echo "$port"
}

start_nsd() {
	nsd_port=$(free_port)
	{
		printf 'server:\n\tip-address: 127.0.0.1\n\tport: %s\n' "$nsd_port"
		printf '\tdatabase: ""\n\tzonesdir: "%s"\n' "$tmp"
		printf '\tpidfile: "%s/nsd.pid"\n' "$tmp"
		printf '\txfrdfile: "%s/xfrd.state"\n' "$tmp"
		printf '\tzonelistfile: "%s/zone.list"\n' "$tmp"
		printf '\tusername: ""\n\tchroot: ""\n\tlogfile: "%s/nsd.log"\n' "$tmp"
		printf '\tserver-count: 1\n\tverbosity: 1\n\treuseport: no\n'
		printf 'remote-control:\n\tcontrol-enable: no\n'
		for z in $zones; do
			printf 'zone:\n\tname: %s\n\tzonefile: %s.zone\n' "$z" "$z"
			printf '\tprovide-xfr: 127.0.0.1 NOKEY\n'
		done
	} >"$tmp/nsd.conf"
	"$NSD" -d -c "$tmp/nsd.conf" >>"$tmp/nsd.log" 2>&1 &
	nsd_pid=$!
	test_pids="$test_pids $nsd_pid"
	if ! wait_for "dig @127.0.0.1 -p $nsd_port +time=1 +tries=1 +short \
	    dup.test SOA | grep -q hostmaster" 10; then
		echo "# nsd did not start:"
		sed 's/^/#   /' "$tmp/nsd.log"
		kill "$nsd_pid" 2>/dev/null
		wait "$nsd_pid"
		nsd_pid=
		return 1
	fi
}

for attempt in 1 2 3; do
	start_nsd && break
done
[ -n "${nsd_pid:-}" ] || { echo "Bail out! nsd did not start"; exit 1; }
zone_args=
for z in $zones; do
	zone_args="$zone_args -z $z=$tmp/$z.zone"
done
# No upstream at all: miodnsd is then an authoritative server, and refuses
# what is not in its zones, as NSD does; nothing may leave the machine.
printf 'resolv-conf /dev/null\nbuiltin-zones none\n' >"$tmp/miodnsd.conf"
start_miodnsd -c "$tmp/miodnsd.conf" $zone_args

# ---- the questions ---------------------------------------------------------

# NAME TYPE lines for every owner of zone $1, from NSD's AXFR.
questions() {
	dig @127.0.0.1 -p "$nsd_port" +time=2 +tries=1 +nocookie +noall \
	    +answer "$1" AXFR |
	awk '!/^;/ && $4 != "" { print tolower($1), $4 }' | sort -u |
	awk '
	function mixed(name,   out, i, c) {
		out = ""
		for (i = 1; i <= length(name); i++) {
			c = substr(name, i, 1)
			out = out (i % 2 ? toupper(c) : c)
		}
		return out
	}
	{ types[$1] = types[$1] " " $2; count[$1]++ }
	END {
		split("A AAAA MX TXT SVCB DNAME DS", extra, " ")
		for (name in types) {
			print name, "ANY-PROBE" count[name]
			n = split(types[name], have, " ")
			for (i = 1; i <= n; i++)
				print name, have[i]
			for (i = 1; i <= 7; i++)
				if (index(types[name] " ", " " extra[i] " ") == 0)
					print name, extra[i]
			print mixed(name), "A"
			print "below." name, "A"
			print "beside-" name, "TXT"
		}
	}' | awk '$2 == "ANY-PROBE1" { print $1, "ANY"; next }
		$2 !~ /^ANY-PROBE/ { print }'
}

# And a few that need a name no owner suggests: a DNAME result of 256
# octets (YXDOMAIN, RFC 6672 section 2.2) and one of 255.
long=abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz
{
	for z in $zones; do
		questions "$z"
	done
	echo "$(echo "$long" | cut -c1-60).long.dname.test. A"
	echo "$(echo "$long" | cut -c1-59).long.dname.test. A"
	echo "x.$(echo "$long" | cut -c1-57).long.dname.test. TXT"
} | sort -u >"$tmp/questions"
nquestions=$(wc -l <"$tmp/questions")
ok $([ "$nquestions" -gt 400 ]; echo $?) \
    "$nquestions questions from the zones' contents"

# ---- asking and comparing --------------------------------------------------

# Normalises dig's output into sorted lines "question<TAB>section record",
# section 0 being the header: RCODE, AA and TC, and whether OPT came back;
# drops NSD's apex NS in the authority section of positive answers and
# the additional section of SVCB/HTTPS answers (see the top).
normalise() {
	awk -v zones=" $(echo $zones | sed 's/\([^ ]*\)/\1./g') " '
	function flush(   i, svcb) {
		if (q == "")
			return
		print q "\t0 " status " " flags edns
		for (i = 1; i <= nrec; i++)
			if (sec[i] == 1 && (type[i] == "svcb" || type[i] == "https"))
				svcb = 1
		for (i = 1; i <= nrec; i++) {
			if (sec[i] == 2 && ancount > 0 && status == "noerror" &&
			    type[i] == "ns" && index(zones, " " owner[i] " "))
				continue
			if (sec[i] == 3 && svcb)
				continue
			print q "\t" sec[i] " " rec[i]
		}
		q = ""; nrec = 0; edns = ""; section = 0
	}
	{ raw = $0; $0 = tolower($0) }
	/^;; got answer:/ { flush(); next }
	/^;; ->>header<<-/ { status = $6; sub(/,$/, "", status); next }
	/^;; flags:/ {
		line = $0; sub(/^;; flags:/, "", line); sub(/;.*/, "", line)
		n = split(line, f, " "); flags = ""
		for (i = 1; i <= n; i++)
			if (f[i] != "qr")
				flags = flags f[i] " "
		ancount = $0; sub(/.*answer: /, "", ancount); sub(/,.*/, "", ancount)
		next
	}
	/^; edns:/ { edns = "edns"; next }
	/^;; question section:/ { section = 0; next }
	/^;; answer section:/ { section = 1; next }
	/^;; authority section:/ { section = 2; next }
	/^;; additional section:/ { section = 3; next }
	/^;/ {
		if (section == 0 && NF >= 3) {
			split(raw, w, " ")
			q = substr(w[1], 2) " " $3
		}
		next
	}
	NF >= 4 {
		nrec++
		sec[nrec] = section; owner[nrec] = $1; type[nrec] = $4
		$1 = $1; rec[nrec] = $0
	}
	END { flush() }' | LC_ALL=C sort
}

# ask SERVER-PORT MODE: every question with dig, in one process.
ask() {
	case $2 in
	udp) opts="+notcp +ignore +noedns" ;;
	udp-edns) opts="+notcp +ignore +edns=0 +bufsize=1232" ;;
	tcp) opts="+tcp +noedns" ;;
	tcp-edns) opts="+tcp +edns=0 +bufsize=1232" ;;
	esac
	dig @127.0.0.1 -p "$1" +time=2 +tries=1 +norec +nocookie $opts \
	    +noall +comments +question +answer +authority +additional \
	    -f "$tmp/questions" 2>&1 | normalise
}

# The questions whose answers differ on purpose (see the top).
intended() {
	awk -F '\t' -v mode="$1" '
	{ q = tolower($1) }
	q ~ /^c[0-2]\.answers\.test\. / { next }
	mode == "udp" && q == "big.answers.test. any" { next }
	{ print }'
}

for mode in udp udp-edns tcp tcp-edns; do
	ask "$nsd_port" "$mode" >"$tmp/nsd.all.$mode"
	ask "$port" "$mode" >"$tmp/miodnsd.all.$mode"
	asked=$(cut -f1 "$tmp/nsd.all.$mode" | sort -u | wc -l)
	intended "$mode" <"$tmp/nsd.all.$mode" >"$tmp/nsd.$mode"
	intended "$mode" <"$tmp/miodnsd.all.$mode" >"$tmp/miodnsd.$mode"
	differing=$(diff "$tmp/nsd.$mode" "$tmp/miodnsd.$mode" |
	    sed -n 's/^[<>] \([^	]*\)	.*/\1/p' | sort -u)
	ndiff=$(printf '%s' "$differing" | grep -c . || true)
	ok $([ "$asked" -eq "$nquestions" ] && [ "$ndiff" -eq 0 ]; echo $?) \
	    "over $mode: $asked of $nquestions answered by NSD, $ndiff differ"
	printf '%s\n' "$differing" >"$tmp/differing.$mode"
	printf '%s\n' "$differing" | head -n "${DIFF_SHOW:-15}" |
	while read -r name type; do
		[ -n "$name" ] || continue
		echo "# $name $type:"
		for server in nsd miodnsd; do
			awk -F '\t' -v q="$name $type" -v s="$server" \
			    '$1 == q { printf "#   %-8s %s\n", s ":", $2 }' \
			    "$tmp/$server.$mode"
		done
	done
done

stop_miodnsd
kill -TERM "$nsd_pid" 2>/dev/null
wait "$nsd_pid"
done_testing
