#!/bin/sh
# callgrind-hit.sh - user-space instructions per cache hit of miodnsd,
# counted by callgrind, which gives the same figure on a busy machine as on
# an idle one (docs/PERFORMANCE.md). `make bench-dns` runs it after run.sh.
#
#   callgrind-hit.sh [-m miodnsd] [-l libtool] [-o results]
#
#   -m miodnsd   the daemon (default: daemon/miodnsd)
#   -l libtool   run it through `libtool --mode=execute`, for a daemon
#                still in its build tree (a libtool wrapper script)
#   -o results   where to write callgrind-hit.tsv (default: the current
#                directory)
#
# A miodnsd serving the benchmark's zone stands in for the upstream (it is
# not measured). The forwarder under callgrind answers one pass over the
# hot set, which fills its cache, then PASSES more; it runs twice, with
# SHORT and with LONG passes, and the difference between the two counts,
# divided by the queries between them, is the cost of a hit alone, without
# start-up, the misses of the first pass or the exit. Only 127.0.0.1 is
# used, on ports the kernel picks (each daemon binds port 0 and reports the
# port with -P), so that two runs at once on one machine cannot answer
# each other's queries.
#
# Writes callgrind-hit.tsv: the total, then every function with at least
# one instruction per hit (exclusive counts), most expensive first.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

miodnsd=daemon/miodnsd
libtool=
out=.
while [ $# -gt 0 ]; do
	case $1 in
	-m) miodnsd=$2; shift ;;
	-l) libtool=$2; shift ;;
	-o) out=$2; shift ;;
	*) echo "usage: callgrind-hit.sh [-m miodnsd] [-l libtool]" \
	    "[-o results]" >&2; exit 2 ;;
	esac
	shift
done
for c in valgrind callgrind_annotate dnsperf dig; do
	have $c || { note "callgrind-hit: $c is missing: not run"; exit 0; }
done

up_port=
port=
short=10
long=60
tmp=$(mktemp -d)
up_pid=
fw_pid=
cleanup() {
	for p in $fw_pid $up_pid; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_answer PORT: until the server on PORT answers (at most 30 s:
# valgrind starts slowly).
wait_answer() {
	for _ in $(seq 60); do
		dig @127.0.0.1 -p "$1" +time=1 +tries=1 +short n00000.bench.test A \
		    >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	note "callgrind-hit: no answer on port $1"
	exit 1
}

# bound_port FILE: the port a daemon wrote to its -P file (at most 30 s:
# valgrind starts slowly).
bound_port() {
	for _ in $(seq 60); do
		if [ -s "$1" ]; then
			awk 'NR == 1 { print $2 }' "$1"
			return 0
		fi
		sleep 0.5
	done
	note "callgrind-hit: no port in $1"
	exit 1
}

sh "$here/gen-zone.sh" bench.test. >"$tmp/zone"
sh "$here/gen-queries.sh" "$tmp/q" >/dev/null
printf 'resolv-conf /dev/null\nbuiltin-zones none\nlisten 127.0.0.1:0\nzone bench.test %s\n' \
    "$tmp/zone" >"$tmp/up.conf"
$miodnsd -c "$tmp/up.conf" -q -P "$tmp/up.port" &
up_pid=$!
up_port=$(bound_port "$tmp/up.port")
wait_answer $up_port
# The forwarder as run.sh configures it.
printf 'listen 127.0.0.1:0\nupstream 127.0.0.1:%s\nmax-inflight 4096\n' \
    $up_port >"$tmp/fw.conf"

# count PASSES: the instructions of a run answering 1 + PASSES passes.
count() {
	${libtool:+$libtool --mode=execute} valgrind --tool=callgrind \
	    --callgrind-out-file="$tmp/cg.$1" $miodnsd -c "$tmp/fw.conf" -q \
	    -P "$tmp/fw.port.$1" 2>"$tmp/vg.$1" &
	fw_pid=$!
	port=$(bound_port "$tmp/fw.port.$1")
	wait_answer $port
	dnsperf -s 127.0.0.1 -p $port -d "$tmp/q/hot.txt" -n 1 -c 8 -q 100 \
	    >/dev/null 2>&1
	dnsperf -s 127.0.0.1 -p $port -d "$tmp/q/hot.txt" -n "$1" -c 8 \
	    -q 100 >"$tmp/perf.$1" 2>&1
	kill $fw_pid
	wait $fw_pid || true
	fw_pid=
	grep -q 'Queries lost: *0 ' "$tmp/perf.$1" ||
	    { note "callgrind-hit: queries lost"; cat "$tmp/perf.$1" >&2; exit 1; }
	# Lines such as "1,234 ( 5.67%)  /path/file.c:function [object]".
	callgrind_annotate --threshold=100 --auto=no "$tmp/cg.$1" |
	    sed -n -E -e 's/^ *([0-9,]+) .*PROGRAM TOTALS.*/\1 TOTAL/p' \
		-e 's/^ *([0-9,]+) \([^)]*\) +([^ ]*\/)?([^ /]+).*/\1 \3/p' |
	    tr -d , >"$tmp/f.$1"
}
count $short
count $long
hits=$(( (long - short) * $(wc -l <"$tmp/q/hot.txt") ))
# per_hit WHICH: the total (WHICH = total) or the functions, per hit.
per_hit() {
	awk -v hits=$hits -v which=$1 '
		NR == FNR { a[$2] += $1; next }
		{ b[$2] += $1 }
		END {
			for (f in b) {
				d = (b[f] - a[f]) / hits
				if ((f == "TOTAL") == (which == "total") && d >= 1)
					printf "%s\t%.0f\n", f, d
			}
		}' "$tmp/f.$short" "$tmp/f.$long"
}
{
	printf 'function\tinstructions_per_hit\n'
	per_hit total
	per_hit functions | sort -t "$(printf '\t')" -k2,2nr
} >"$out/callgrind-hit.tsv"
note "callgrind-hit: $(sed -n 2p "$out/callgrind-hit.tsv" | cut -f2)" \
    "user-space instructions per cache hit ($out/callgrind-hit.tsv)"
