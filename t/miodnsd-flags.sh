#!/bin/sh
# t/miodnsd-flags.sh - the header flags, Extended DNS Errors and TSIG
# answers of miodnsd, as dig sees them (issue 16).
#
# RA says whether this server offers this client recursion (RFC 1035
# 4.1.1): set on every reply of an instance with upstreams to a client
# access control allows (forwarded, cached, local, NOTIMP, SERVFAIL),
# clear on every reply to a client that may only see the zones, and on
# every reply of an instance without upstreams, as from NSD. CD is copied
# back; AD is never ours. EDE (RFC 8914) goes only to EDNS clients. A
# TSIG-signed query gets NOTAUTH with TSIG error BADKEY (RFC 8945 5.2.1),
# whatever the name. Everything runs on 127.0.0.1, on ephemeral ports.
set -u
. "${top_srcdir:-.}/t/miodnsd-lib.sh"
need_dig

# flags ARGS: dig's flags line, e.g. "qr aa rd ra".
flags() {
	q "$@" | sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p'
}

# status ARGS: the RCODE dig read, e.g. "NOERROR".
status() {
	q "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}

# ede ARGS: the Extended DNS Error dig read, e.g. "20 (Not Authoritative)",
# or nothing.
ede() {
	q "$@" | sed -n 's/^; EDE: //p'
}

key=hmac-sha256:k.example:c2VjcmV0LXRoZS1kYWVtb24tZG9lcy1ub3QtaGF2ZQ==

# ---- an instance with an upstream, for a client allowed to recurse ----
start_stub
start_miodnsd -u "127.0.0.1:$stub_port" --builtin-zones localhost
is "$(flags a.example.test A)" "qr rd ra" \
	"forwarded: RA set (the stub itself sets no RA)"
is "$(flags a.example.test A)" "qr rd ra" "cached: RA set"
is "$(flags +norecurse a.example.test A)" "qr ra" \
	"cached, RD clear: RD copied, RA still set"
is "$(flags localhost A)" "qr aa rd ra" "local zone: AA and RA"
is "$(flags version.bind CH TXT)" "qr aa rd ra" "CHAOS: AA and RA"
is "$(flags +opcode=status localhost A)" "qr rd ra" "NOTIMP: RA set"
is "$(status +opcode=status localhost A)" "NOTIMP" "opcode STATUS: NOTIMP"
is "$(flags +cdflag b.example.test A)" "qr rd ra cd" \
	"CD copied from the query to the reply"
is "$(flags +adflag c.example.test A)" "qr rd ra" \
	"AD: not set by a forwarder that validates nothing"
# The stub sets AD on ad.example.test: relayed to clients that set AD or
# DO (RFC 6840 5.7-5.8), cleared for the others, from upstream or cache.
for pass in upstream cache; do
	is "$(flags +noadflag ad.example.test A)" "qr rd ra" \
		"AD from upstream ($pass): cleared for a client without AD or DO"
	is "$(flags +adflag ad.example.test A)" "qr rd ra ad" \
		"AD from upstream ($pass): relayed to a client that set AD"
	is "$(flags +noadflag +dnssec ad.example.test A)" "qr rd ra ad" \
		"AD from upstream ($pass): relayed to a DO client"
done
is "$(status -y "$key" localhost A)" "NOTAUTH" \
	"TSIG, unknown key, local zone: NOTAUTH"
like "$(q -y "$key" localhost A)" "*TSIG*BADKEY*" "with TSIG error BADKEY"
is "$(status -y "$key" d.example.test A)" "NOTAUTH" \
	"TSIG, forwarded name: NOTAUTH too, never an unsigned success"
if command -v kdig >/dev/null 2>&1; then
	like "$(kdig @127.0.0.1 -p "$port" +time=2 +retry=0 -y "$key" \
	    localhost A 2>&1)" "*status: BADKEY*" "kdig reads BADKEY"
else
	ok 0 "# SKIP kdig not installed"
fi
stop_miodnsd

# ---- the same instance, for a client access control refuses ----
start_miodnsd -u "127.0.0.1:$stub_port" --builtin-zones localhost \
	--access-control "127.0.0.0/8 refuse"
is "$(status a.example.test A)" "REFUSED" "refused client: REFUSED"
is "$(flags a.example.test A)" "qr rd" "refused: RA clear"
is "$(ede a.example.test A)" "18 (Prohibited)" "refused: EDE 18"
is "$(ede +noedns a.example.test A)" "" "no EDE without EDNS"
is "$(flags localhost A)" "qr aa rd" \
	"refused client, local zone: answered, RA clear"
stop_miodnsd

# ---- stats.miodnsd for a client allow-stats does not let in ----
start_miodnsd -u "127.0.0.1:$stub_port" --builtin-zones localhost \
	--allow-stats 192.0.2.0/24
is "$(status stats.miodnsd CH TXT)" "REFUSED" "stats.miodnsd: REFUSED"
is "$(ede stats.miodnsd CH TXT)" "18 (Prohibited)" "stats.miodnsd: EDE 18"
is "$(ede version.bind CH TXT)" "" "version.bind: no EDE"
stop_miodnsd

# ---- an upstream that never answers ----
start_stub --drop
start_miodnsd -u "127.0.0.1:$stub_port" --builtin-zones localhost \
	--timeout 400
is "$(status e.example.test A)" "SERVFAIL" "dead upstream: SERVFAIL"
is "$(ede f.example.test A)" "22 (No Reachable Authority)" \
	"dead upstream: EDE 22"
is "$(flags g.example.test A)" "qr rd ra" "dead upstream: RA set"
stop_miodnsd

# ---- an instance without upstreams: zones only ----
: >"$tmp/empty-resolv"
printf 'resolv-conf %s\nbuiltin-zones localhost\n' "$tmp/empty-resolv" \
	>"$tmp/auth.conf"
printf '$ORIGIN z.test.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.53\n' \
	>"$tmp/z.zone"
start_miodnsd -c "$tmp/auth.conf" -z "z.test=$tmp/z.zone"
is "$(flags ns.z.test A)" "qr aa rd" "zones only: RA clear on an answer"
is "$(flags nx.z.test A)" "qr aa rd" "zones only: and on NXDOMAIN"
is "$(status a.example.test A)" "REFUSED" "zones only: other names REFUSED"
is "$(flags a.example.test A)" "qr rd" "zones only: RA clear on REFUSED"
is "$(ede a.example.test A)" "20 (Not Authoritative)" \
	"zones only: EDE 20, as NSD and Knot"
is "$(flags +opcode=status ns.z.test A)" "qr rd" \
	"zones only: RA clear on NOTIMP"
is "$(status -y "$key" ns.z.test A)" "NOTAUTH" "zones only: TSIG NOTAUTH"
stop_miodnsd

done_testing
