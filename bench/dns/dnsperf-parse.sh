#!/bin/sh
# dnsperf-parse.sh - reads the output of one dnsperf 2.x run and prints one
# tab-separated line:
#
#   sent completed lost_pct noerror_pct qps run_s avg_us p50_us p99_us max_us samples
#
#   dnsperf-parse.sh FILE
#
# The first six come from dnsperf's statistics; noerror_pct is the share of
# completed queries answered NOERROR (every question of the benchmark has
# an answer, so anything else is an error, not a cheaper answer). The
# latencies come from the per-query lines that `dnsperf -v` prints
# ("> NOERROR name type seconds"): dnsperf 2.10 has no histogram, so the
# percentiles (nearest rank) are computed here; without -v they are "-".
set -eu
[ $# -eq 1 ] || { echo "usage: dnsperf-parse.sh FILE" >&2; exit 2; }
file=$1

summary=$(awk '
/Queries sent:/      { sent = $3 }
/Queries completed:/ { completed = $3 }
/Queries lost:/      { lost = $3 }
/Response codes:/ {
	for (i = 3; i < NF; i++)
		if ($i == "NOERROR") {
			noerror = $(i + 1)
			sub(/,$/, "", noerror)
		}
}
/Queries per second:/ { qps = $4 }
/Run time \(s\):/     { run = $4 }
END {
	if (sent == "") {
		print "-\t-\t-\t-\t-\t-"
		exit
	}
	printf "%d\t%d\t%.2f\t%.2f\t%.1f\t%.3f\n", sent, completed,
	    (sent > 0 ? 100 * lost / sent : 0),
	    (completed > 0 ? 100 * noerror / completed : 0), qps, run
}' "$file")

latency=$(awk '$1 == ">" && $NF ~ /^[0-9.]+$/ { print $NF * 1e6 }' "$file" |
    sort -g | awk '
{ v[NR] = $1; sum += $1 }
function rank(p,    k) {
	k = int(p * NR)
	if (k < p * NR)
		k++
	return v[k < 1 ? 1 : k]
}
END {
	if (NR == 0) {
		print "-\t-\t-\t-\t0"
		exit
	}
	printf "%.1f\t%.1f\t%.1f\t%.1f\t%d\n", sum / NR, rank(0.5),
	    rank(0.99), v[NR], NR
}')

printf '%s\t%s\n' "$summary" "$latency"
