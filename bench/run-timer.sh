#!/bin/sh
# run-timer.sh - runs the timer benchmark (bench/timer-driver.c) for every
# library built, in alternation, and writes the tables that the "Timers"
# section of docs/PERFORMANCE.md reports. `make bench-timer` calls it.
#
#   run-timer.sh [--quick] [-d dir] [-o results] [-r repeats]
#
#   -d dir      where the timer-* programs are (default: .)
#   -o results  where to write (default: results/ beside this script)
#   -r repeats  how often the whole timing grid runs (default 3; quick 1)
#   --quick     N = 1,000 and 100,000 only, fewer iterations
#
# Writes:
#   timer-machine.txt    the machine, the date, the versions
#   timer-raw.tsv        one line per program run: the median of its repeats
#   timer-time.tsv       ns per timer: the median over the grid's repeats
#   timer-callgrind.tsv  user-space instructions per timer (valgrind), in
#                        the library calls alone and in the timed part
#   timer-tables.md      both in Markdown, with libmio's ratio to the best
#                        peer; also printed
#
# Besides libmio, libev, libevent and libuv it runs timer-wheel, a
# hierarchical timing wheel written only for the comparison (see
# bench/timer-wheel.c for what it does not guarantee).
#
# Timing is noisy on a shared machine: every configuration runs the
# programs back to back in an order rotated on each repeat. Instruction
# counts do not depend on the machine's load.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# note, have, rotate, grid_args
. "$here/lib.sh"
grid_args run-timer.sh "$@"

if [ $quick = yes ]; then
	grid_n="1000 100000"
	iterations=200000
	: "${repeats:=1}"
else
	grid_n="1000 10000 100000 1000000"
	iterations=1000000
	: "${repeats:=3}"
fi
modes="startstop round round-near expiry"
# Runs of one program for one configuration; its median is recorded.
inner=5
cg_iterations=100000

libs=
# wheel is the hierarchical-wheel prototype of bench/timer-wheel.c: shown
# for the heap-or-wheel choice, never counted as a peer.
for lib in mio libev libevent libuv wheel; do
	[ -x "$bin/timer-$lib" ] && libs="$libs $lib"
done
[ -n "$libs" ] || { echo "run-timer.sh: no timer-* program in $bin" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

{
	date -u '+date: %Y-%m-%d %H:%M UTC'
	echo "kernel: $(uname -sr)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "cpus: $(nproc)"
	echo "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)"
	echo "cc: $(${CC:-cc} --version | head -1)"
	for pkg in libev-dev libevent-dev libuv1-dev valgrind; do
		v=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || echo '?')
		echo "$pkg: $v"
	done
} >"$out/timer-machine.txt"

# Prints the median of the 4th column of a program's output.
median_of_runs() {
	sort -t '	' -k4 -g | awk -F '\t' '{ v[NR] = $4 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---- time ------------------------------------------------------------------
printf 'repeat\tlib\tn\tmode\tns_per_timer\n' >"$out/timer-raw.tsv"
r=1
while [ $r -le "$repeats" ]; do
	for n in $grid_n; do
		for mode in $modes; do
			# Expiry at small N times a few microseconds: more runs.
			k=$inner
			[ "$mode" = expiry ] && [ "$n" -lt 100000 ] && k=21
			for lib in $(rotate "$r" $libs); do
				note "time: repeat $r N=$n $mode $lib"
				ns=$("$bin/timer-$lib" -m "$mode" -n "$n" \
				    -i "$iterations" -r "$k" | median_of_runs)
				printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$lib" "$n" \
				    "$mode" "$ns" >>"$out/timer-raw.tsv"
			done
		done
	done
	r=$((r + 1))
done
printf 'lib\tn\tmode\tns_per_timer\n' >"$out/timer-time.tsv"
awk -F '\t' 'NR > 1 { k = $2 "\t" $3 "\t" $4; v[k] = v[k] " " $5 }
END {
	for (k in v) {
		m = split(substr(v[k], 2), a, " ")
		for (i = 1; i <= m; i++)
			for (j = i + 1; j <= m; j++)
				if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		med = m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
		printf "%s\t%.1f\n", k, med
	}
}' "$out/timer-raw.tsv" | sort -t '	' -k3,3 -k2,2n -k1,1 >>"$out/timer-time.tsv"

# ---- instructions under callgrind -------------------------------------------
# "lib" is the inclusive count of the backend's calls (timer_backend_*:
# the library's start, stop, pre-wait step and loop round, with the one-line
# wrapper each backend has); "all" adds the driver's loop.
printf 'lib\tn\tmode\tinstr_lib\tinstr_all\n' >"$out/timer-callgrind.tsv"
if have valgrind && have callgrind_annotate; then
	for n in $grid_n; do
		for mode in $modes; do
			for lib in $libs; do
				note "callgrind: N=$n $mode $lib"
				valgrind --tool=callgrind \
				    --callgrind-out-file="$tmp/cg.out" \
				    --collect-atstart=no \
				    --toggle-collect="timer_measured_${mode%-near}" \
				    "$bin/timer-$lib" -m "$mode" -n "$n" \
				    -i "$cg_iterations" >"$tmp/cg.txt" 2>"$tmp/cg.err" ||
					{ cat "$tmp/cg.err" >&2; exit 1; }
				handled=$(cut -f5 "$tmp/cg.txt")
				all=$(sed -n 's/^summary: //p' "$tmp/cg.out")
				libpart=$(callgrind_annotate --inclusive=yes --auto=no \
				    "$tmp/cg.out" 2>/dev/null | awk '
				    $0 ~ /:timer_backend_(start|stop|flush|round) / {
					gsub(",", "", $1); s += $1 } END { print s + 0 }')
				awk -v l="$lib" -v n="$n" -v m="$mode" -v h="$handled" \
				    -v a="$all" -v p="$libpart" 'BEGIN {
					printf "%s\t%s\t%s\t%.1f\t%.1f\n", l, n, m, p / h, a / h }' \
				    >>"$out/timer-callgrind.tsv"
			done
		done
	done
else
	note "valgrind or callgrind_annotate missing: no instruction counts"
fi

# ---- tables -----------------------------------------------------------------
# One table per mode and measure: a row per N, a column per library, and
# libmio's ratio to the best peer, libev, libevent or libuv (below 1:
# libmio is cheaper).
table() {
	file=$1 col=$2 title=$3
	awk -F '\t' -v col="$col" -v title="$title" -v libs="$libs" '
	NR == 1 { next }
	{ v[$3 "," $2 "," $1] = $col; ns[$2] = 1; ms[$3] = 1 }
	END {
		nl = split(libs, L, " ")
		split("startstop round round-near expiry", M, " ")
		for (mi = 1; mi <= 4; mi++) {
			m = M[mi]
			if (!(m in ms)) continue
			printf "\n%s, %s\n\n| N |", title, m
			for (i = 1; i <= nl; i++)
				printf " %s |", L[i] == "mio" ? "libmio" : L[i]
			printf " libmio / best peer |\n|---:|"
			for (i = 1; i <= nl; i++) printf "---:|"
			printf "---:|\n"
			cnt = 0
			for (n in ns) order[++cnt] = n + 0
			for (i = 1; i <= cnt; i++)
				for (j = i + 1; j <= cnt; j++)
					if (order[j] < order[i]) { t = order[i]; order[i] = order[j]; order[j] = t }
			for (k = 1; k <= cnt; k++) {
				n = order[k]; best = ""
				printf "| %d |", n
				for (i = 1; i <= nl; i++) {
					x = v[m "," n "," L[i]]
					printf " %s |", x
					if (L[i] != "mio" && L[i] != "wheel" && x != "" &&
					    (best == "" || x + 0 < best + 0))
						best = x
				}
				mine = v[m "," n ",mio"]
				if (best != "" && mine != "" && best + 0 > 0)
					printf " %.2f |\n", mine / best
				else
					printf " |\n"
			}
		}
	}' "$file"
}

{
	echo "# Timer benchmark"
	echo
	sed 's/^/    /' "$out/timer-machine.txt"
	table "$out/timer-time.tsv" 4 "Nanoseconds per timer (median)"
	if [ "$(wc -l <"$out/timer-callgrind.tsv")" -gt 1 ]; then
		table "$out/timer-callgrind.tsv" 4 \
		    "User-space instructions per timer in the library calls (callgrind)"
		table "$out/timer-callgrind.tsv" 5 \
		    "User-space instructions per timer, the whole timed part (callgrind)"
	fi
} >"$out/timer-tables.md"
cat "$out/timer-tables.md"
