#!/bin/sh
# gen-zone.sh - writes the benchmark's zone to standard output: ORIGIN with
# COUNT names n00000 ... (default 10,000), each with an A, an AAAA, a TXT
# and an MX record, so that the miss workload has 4 * COUNT questions that
# all have answers (NOERROR with data, never NXDOMAIN).
#
#   gen-zone.sh [ORIGIN [COUNT]]      default: bench.test. 10000
#
# The MX of each name points at the next name, inside the zone, so an
# authoritative server adds that name's A and AAAA as additional records,
# as real MX answers carry them. TTLs are a day: nothing expires during a
# run.
set -eu

origin=${1:-bench.test.}
count=${2:-10000}
case $origin in *.) ;; *) origin=$origin. ;; esac

awk -v origin="$origin" -v count="$count" 'BEGIN {
	printf "$ORIGIN %s\n$TTL 86400\n", origin
	printf "@ IN SOA ns1 hostmaster 1 3600 900 604800 86400\n"
	printf "@ IN NS ns1\n"
	printf "ns1 IN A 127.0.0.1\n"
	for (i = 0; i < count; i++) {
		name = sprintf("n%05d", i)
		next_name = sprintf("n%05d", (i + 1) % count)
		printf "%s IN A 10.%d.%d.%d\n", name,
		    int(i / 65536) % 256, int(i / 256) % 256, i % 256
		printf "%s IN AAAA 2001:db8::%x\n", name, i + 1
		printf "%s IN TXT \"benchmark record %d\"\n", name, i
		printf "%s IN MX 10 %s\n", name, next_name
	}
}'
