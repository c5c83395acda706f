#!/bin/sh
# gen-queries.sh - writes the dnsperf query files of the DNS benchmark for
# the zone that gen-zone.sh makes (same ORIGIN and COUNT) into DIR:
#
#   hot.txt    the hot set: the A records of the first HOT names, in order;
#              run in a loop, every query after the first pass is a cache
#              hit
#   miss.txt   every other question of the zone (A, AAAA, TXT and MX of
#              every name, less the hot set), each once, in a fixed
#              shuffled order; run once right after a server starts, every
#              query is a cache miss
#   mixed.txt  MIXED of those misses (taken from the end of miss.txt),
#              each followed by four hot-set queries: 20% misses, to be
#              run once after a restart and a pass over hot.txt
#
#   gen-queries.sh DIR [ORIGIN [COUNT [HOT [MIXED]]]]
#                  default: bench.test. 10000 1000 8000
#
# The shuffle uses a fixed seed, so the files are the same on every run.
set -eu

[ $# -ge 1 ] || { echo "usage: gen-queries.sh DIR [ORIGIN [COUNT [HOT [MIXED]]]]" >&2; exit 2; }
dir=$1
origin=${2:-bench.test.}
count=${3:-10000}
hot=${4:-1000}
mixed=${5:-8000}
case $origin in *.) ;; *) origin=$origin. ;; esac
mkdir -p "$dir"

awk -v origin="$origin" -v count="$count" -v hot="$hot" \
    -v mixed="$mixed" -v dir="$dir" 'BEGIN {
	split("A AAAA TXT MX", types, " ")
	for (i = 0; i < hot; i++)
		printf "n%05d.%s A\n", i, origin > (dir "/hot.txt")
	n = 0
	for (i = 0; i < count; i++)
		for (t = 1; t <= 4; t++)
			if (!(i < hot && types[t] == "A"))
				q[n++] = sprintf("n%05d.%s %s", i, origin, types[t])
	# Fisher-Yates with a fixed seed: the same order on every run.
	srand(8)
	for (i = n - 1; i > 0; i--) {
		j = int(rand() * (i + 1))
		tmp = q[i]; q[i] = q[j]; q[j] = tmp
	}
	for (i = 0; i < n; i++)
		print q[i] > (dir "/miss.txt")
	if (mixed > n)
		mixed = n
	h = 0
	for (i = n - mixed; i < n; i++) {
		print q[i] > (dir "/mixed.txt")
		for (k = 0; k < 4; k++) {
			printf "n%05d.%s A\n", h, origin > (dir "/mixed.txt")
			h = (h + 1) % hot
		}
	}
}'
