#!/bin/sh
# run-ring.sh - runs the pipe-ring benchmark for every library built, in
# alternation, and writes the results, the tables and the plots that
# docs/PERFORMANCE.md reports. `make bench` and `make bench-quick` call it.
#
#   run-ring.sh [--quick] [-d dir] [-o results] [-r repeats]
#
#   -d dir      where the ring-* and rereg-mio programs are (default: .)
#   -o results  where to write (default: results/ beside this script)
#   -r repeats  how often the whole timing grid runs (default 5; quick 1)
#   --quick     a small grid (N 100 and 9000, A 1 and 100), for a smoke test
#
# Steps, each skipped with a note when its tool is missing:
#   machine.txt                 the machine, the date, the versions
#   ring-raw.tsv                one line per run of the timing grid
#   ring-loop.tsv ring-rearm.tsv  medians per configuration, ratios to epoll
#   ring-paired.tsv             libmio against epoll alone, many pairs
#   ring-callgrind.tsv          user-space instructions per event (valgrind)
#   ring-memory.tsv             heap per registered descriptor
#   ring-syscalls.tsv           system calls per event and per reregister,
#   reregister-strace.txt       and the strace -f proof for libmio (strace)
#   ring-*.png                  plots (gnuplot, plot.gp)
#   ring-tables.md              every table in Markdown, also printed
#
# Timing is noisy on a shared machine, so every configuration runs all
# programs back to back, in an order rotated on each repeat, and the tables
# show the median over repeats of each run's median. Instruction counts
# under callgrind do not depend on the machine's load.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# note, have, rotate, grid_args
. "$here/lib.sh"
grid_args run-ring.sh "$@"

# The grid. A goes up to N/2: with every other pair active the bytes never
# catch up with each other, whatever order a library dispatches in; denser
# rings merge bytes in an order-dependent way (see docs/PERFORMANCE.md).
if [ $quick = yes ]; then
	grid_n="100 9000"
	grid_a="1 100"
	writes=5000
	iterations=5
	: "${repeats:=1}"
	cg_configs="loop:1000:1 loop:1000:100 rearm:1000:100"
	paired_configs="loop:1000:100 rearm:1000:100"
	pairs=5
else
	grid_n="100 1000 3000 9000"
	grid_a="1 10 100 1000"
	writes=10000
	iterations=10
	: "${repeats:=5}"
	cg_configs="loop:1000:1 loop:1000:100 loop:9000:1000 rearm:1000:100 rearm:9000:1000"
	paired_configs="loop:1000:1 loop:1000:100 loop:9000:1000 rearm:9000:1000"
	pairs=15
fi

libs=
for lib in epoll mio libev libevent libuv; do
	[ -x "$bin/ring-$lib" ] && libs="$libs $lib"
done
case "$libs" in
*epoll*mio*) ;;
*) echo "run-ring.sh: $bin/ring-epoll and $bin/ring-mio are needed" >&2
   exit 1 ;;
esac
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# ---- the machine -------------------------------------------------------------

machine() {
	echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "mode:     $([ $quick = yes ] && echo quick || echo full)," \
	    "N in {$grid_n}, A in {$grid_a} and N/2, W=$writes," \
	    "$iterations iterations, $repeats repeats"
	echo "nproc:    $(nproc)"
	echo "cpu:      $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
	    "family $(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
	    "model $(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
	    "$(sed -n 's/^cpu MHz[[:space:]]*: //p' /proc/cpuinfo | head -1) MHz"
	grep -q '^flags.* hypervisor' /proc/cpuinfo &&
		echo "virtual:  yes (the hypervisor flag is set)"
	echo "kernel:   $(uname -sr)"
	echo "loadavg:  $(cut -d' ' -f1-3 /proc/loadavg) (at start)"
	echo "compiler: $(${CC:-cc} --version 2>/dev/null | head -1)"
	for lib in $libs; do
		echo "library:  $("$bin/ring-$lib" -V)"
	done
	for tool in valgrind strace gnuplot; do
		have $tool && echo "tool:     $($tool --version 2>&1 | head -1)"
	done
	return 0
}

# ---- the timing grid ---------------------------------------------------------

# The A values for one N: the grid's below N/2, then N/2.
actives() {
	for a in $grid_a; do
		[ $((a * 2)) -lt "$1" ] && printf '%s ' "$a"
	done
	echo $(($1 / 2))
}

timing() {
	"$bin/ring-epoll" -H >"$out/ring-raw.tsv"
	r=0
	while [ $r -lt "$repeats" ]; do
		note "timing: repeat $((r + 1)) of $repeats"
		for n in $grid_n; do
			for a in $(actives "$n"); do
				for variant in loop rearm; do
					flag=
					[ $variant = rearm ] && flag=-r
					for lib in $(rotate $r $libs); do
						"$bin/ring-$lib" $flag -n "$n" \
						    -a "$a" -w $writes \
						    -i $iterations \
						    >>"$out/ring-raw.tsv"
					done
				done
			done
		done
		r=$((r + 1))
	done
}

# Writes ring-<variant>.tsv: per configuration the median over repeats of
# iter_ns (per event, re-arm included) and of rearm_ns (per descriptor) for
# each library, and the median over repeats of the ratio of iter_ns to
# epoll's in the same repeat (the runs were back to back, so slow drifts of
# the machine cancel). "-" marks a library not built.
summarise() {
	awk -F'\t' -v variant="$1" -v libs="$libs" '
	function median(key, base,    n, i, j, v, t) {
		n = count[key]
		if (n == 0 || (base != "" && count[base] != n))
			return "-"
		for (i = 1; i <= n; i++)
			v[i] = base == "" ? value[key, i] : \
			    value[key, i] / value[base, i]
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
			}
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	NR == 1 || $2 != variant { next }
	{
		config = $3 SUBSEP $4
		if (!(config in seen)) {
			seen[config] = 1
			order[++nconfigs] = config
		}
		k = config SUBSEP $1
		value[k, ++count[k]] = $10
		rk = config SUBSEP $1 SUBSEP "rearm"
		value[rk, ++count[rk]] = $11
	}
	END {
		nl = split("epoll mio libev libevent libuv", all, " ")
		printf "n\ta"
		for (l = 1; l <= nl; l++) printf "\t%s_ns", all[l]
		for (l = 2; l <= nl; l++) printf "\t%s_ratio", all[l]
		for (l = 1; l <= nl; l++) printf "\t%s_rearm_ns", all[l]
		printf "\n"
		for (c = 1; c <= nconfigs; c++) {
			split(order[c], na, SUBSEP)
			printf "%s\t%s", na[1], na[2]
			for (l = 1; l <= nl; l++) {
				m = median(order[c] SUBSEP all[l], "")
				printf "\t%s", m == "-" ? "-" : sprintf("%.1f", m)
			}
			for (l = 2; l <= nl; l++) {
				m = median(order[c] SUBSEP all[l], \
				    order[c] SUBSEP all[1])
				printf "\t%s", m == "-" ? "-" : sprintf("%.3f", m)
			}
			for (l = 1; l <= nl; l++) {
				v = median(order[c] SUBSEP all[l] SUBSEP "rearm", "")
				printf "\t%s", v == "-" ? "-" : sprintf("%.1f", v)
			}
			printf "\n"
		}
	}' "$out/ring-raw.tsv" >"$out/ring-$1.tsv"
}

# Markdown for ring-<variant>.tsv: ns per event and ratio to epoll, and the
# verdict on libmio's target (within 2% of epoll, ahead of every peer).
table_timing() {
	awk -F'\t' -v variant="$1" '
	NR == 1 {
		print "| N | A | epoll ns/event | mio | libev | libevent | libuv | mio vs epoll | mio ahead of peers |"
		print "|---:|---:|---:|---:|---:|---:|---:|---:|:---|"
		next
	}
	{
		row = "| " $1 " | " $2 " | " $3
		for (l = 4; l <= 7; l++)
			row = row " | " ($l == "-" ? "-" : $l " (" $(l + 4) ")")
		pct = ($8 - 1) * 100
		ahead = "yes"
		for (l = 5; l <= 7; l++)
			if ($l != "-" && $l + 0 <= $4 + 0)
				ahead = "no"
		row = row sprintf(" | %+.1f%%%s | %s |", pct,
		    pct > 2 ? " **over**" : "", ahead)
		print row
	}' "$out/ring-$1.tsv"
}

table_rearm_cost() {
	awk -F'\t' '
	NR == 1 {
		print "| N | A | epoll | mio | libev | libevent | libuv |"
		print "|---:|---:|---:|---:|---:|---:|---:|"
		next
	}
	{ print "| " $1 " | " $2 " | " $12 " | " $13 " | " $14 " | " $15 " | " $16 " |" }
	' "$out/ring-rearm.tsv"
}

# ---- libmio against epoll, paired ------------------------------------------------

# The 2% target is smaller than this machine's noise between runs, so a few
# configurations run epoll and libmio back to back many times; the ratio of
# each pair is one sample and the table shows their median and quartiles.
paired() {
	printf 'variant\tn\ta\tpairs\tq1\tmedian\tq3\tverdict\n' \
	    >"$out/ring-paired.tsv"
	for config in $paired_configs; do
		variant=${config%%:*}
		rest=${config#*:}
		n=${rest%%:*}
		a=${rest#*:}
		note "paired: $variant N=$n A=$a, $pairs pairs"
		flag=
		[ $variant = rearm ] && flag=-r
		k=0
		: >"$tmp/pairs"
		while [ $k -lt $pairs ]; do
			# Alternate which program goes first.
			first=epoll
			second=mio
			if [ $((k % 2)) = 1 ]; then
				first=mio
				second=epoll
			fi
			for lib in $first $second; do
				"$bin/ring-$lib" $flag -n "$n" -a "$a" -w $writes \
				    -i $iterations
			done | awk -F'\t' '{ v[$1] = $10 }
			    END { print v["mio"] / v["epoll"] }' >>"$tmp/pairs"
			k=$((k + 1))
		done
		sort -g "$tmp/pairs" | awk -v OFS='\t' -v head="$variant	$n	$a" '
		{ r[NR] = $1 }
		function q(p,    x, i) {
			x = 1 + (NR - 1) * p
			i = int(x)
			return i == NR ? r[i] : r[i] + (x - i) * (r[i + 1] - r[i])
		}
		END {
			verdict = q(0.75) <= 1.02 ? "within 2%" : \
			    q(0.25) > 1.02 ? "over 2%" : "not resolved"
			printf "%s\t%d\t%.3f\t%.3f\t%.3f\t%s\n", head, NR,
			    q(0.25), q(0.5), q(0.75), verdict
		}' >>"$out/ring-paired.tsv"
	done
}

table_paired() {
	awk -F'\t' '
	NR == 1 {
		print "| variant | N | A | pairs | q1 | median mio/epoll | q3 | verdict |"
		print "|:---|---:|---:|---:|---:|---:|---:|:---|"
		next
	}
	{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }
	' "$out/ring-paired.tsv"
}

# ---- instructions under callgrind ----------------------------------------------

# Prints the instructions callgrind counted inside the given functions.
callgrind_count() {
	cg_program=$1
	shift
	cg_toggles=
	for f in $1; do
		cg_toggles="$cg_toggles --toggle-collect=$f"
	done
	shift
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
	    --collect-atstart=no $cg_toggles "$cg_program" "$@" \
	    >/dev/null 2>"$tmp/cg.err" ||
		{ cat "$tmp/cg.err" >&2; return 1; }
	sed -n 's/^summary: //p' "$tmp/cg.out"
}

instructions() {
	cg_w=5000
	cg_i=3
	# The driver's warm-up is not counted: only the cg_i timed rounds.
	rounds=$cg_i
	{
		printf 'variant\tn\ta'
		for lib in epoll mio libev libevent libuv; do
			printf '\t%s' $lib
		done
		printf '\tmio_ratio'
		for lib in epoll mio libev libevent libuv; do
			printf '\t%s_rearm' $lib
		done
		printf '\tmio_rearm_ratio\n'
	} >"$out/ring-callgrind.tsv"
	for config in $cg_configs; do
		variant=${config%%:*}
		rest=${config#*:}
		n=${rest%%:*}
		a=${rest#*:}
		note "callgrind: $variant N=$n A=$a"
		flag=
		[ $variant = rearm ] && flag=-r
		per_event=
		per_fd=
		for lib in epoll mio libev libevent libuv; do
			if [ ! -x "$bin/ring-$lib" ]; then
				per_event="$per_event	-"
				per_fd="$per_fd	-"
				continue
			fi
			set -- $flag -n "$n" -a "$a" -w $cg_w -i $cg_i
			ir=$(callgrind_count "$bin/ring-$lib" \
			    "ring_measured_dispatch ring_measured_rearm" "$@")
			per_event="$per_event	$(awk -v x="$ir" \
			    -v e=$(((a + cg_w) * rounds)) \
			    'BEGIN { printf "%.1f", x / e }')"
			if [ $variant = loop ]; then
				per_fd="$per_fd	-"
				continue
			fi
			ir=$(callgrind_count "$bin/ring-$lib" ring_measured_rearm "$@")
			per_fd="$per_fd	$(awk -v x="$ir" -v f=$((n * rounds)) \
			    'BEGIN { printf "%.1f", x / f }')"
		done
		printf '%s\t%s\t%s%s\t-%s\t-\n' $variant $n $a "$per_event" \
		    "$per_fd" | awk -F'\t' -v OFS='\t' '
		function ratio(x, y) {
			return x == "-" || y == "-" ? "-" : sprintf("%.3f", x / y)
		}
		{ $9 = ratio($5, $4); $15 = ratio($11, $10); print }' \
		    >>"$out/ring-callgrind.tsv"
	done
}

table_instructions() {
	awk -F'\t' '
	function pct(r) {
		return r == "-" ? "-" : sprintf("%+.1f%%", (r - 1) * 100)
	}
	NR == 1 {
		print "| variant | N | A | epoll | mio | libev | libevent | libuv | mio vs epoll | re-arm per descriptor: epoll | mio | libev | libevent | libuv |"
		print "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		next
	}
	{
		over = $9 != "-" && $9 > 1.05 ? " **over**" : ""
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s%s | %s | %s | %s | %s | %s |\n",
		    $1, $2, $3, $4, $5, $6, $7, $8, pct($9), over,
		    $10, $11, $12, $13, $14
	}' "$out/ring-callgrind.tsv"
}

# ---- memory ------------------------------------------------------------------

# Heap the library and its watchers hold, at its peak over every run of a
# given N; per descriptor as the slope between the smallest and largest N,
# which leaves out fixed costs such as event buffers.
memory() {
	awk -F'\t' -v libs="$libs" '
	NR == 1 { next }
	{
		k = $1 SUBSEP $3
		if (!(k in peak) || $13 + 0 > peak[k]) peak[k] = $13 + 0
		if (!(k in rss) || $14 + 0 > rss[k]) rss[k] = $14 + 0
		if (nmin == "" || $3 + 0 < nmin) nmin = $3 + 0
		if (nmax == "" || $3 + 0 > nmax) nmax = $3 + 0
	}
	END {
		printf "lib\theap_bytes_n%d\theap_bytes_n%d\tbytes_per_fd\tmaxrss_kb_n%d\n", nmin, nmax, nmax
		n = split(libs, l, " ")
		for (i = 1; i <= n; i++) {
			lo = peak[l[i], nmin]; hi = peak[l[i], nmax]
			printf "%s\t%d\t%d\t%.1f\t%d\n", l[i], lo, hi,
			    (hi - lo) / (nmax - nmin), rss[l[i], nmax]
		}
	}' "$out/ring-raw.tsv" >"$out/ring-memory.tsv"
}

table_memory() {
	awk -F'\t' '
	NR == 1 {
		print "| library | " $2 " | " $3 " | heap bytes per descriptor | " $5 " |"
		print "|:---|---:|---:|---:|---:|"
		next
	}
	{ print "| " $1 " | " $2 " | " $3 " | " $4 " | " $5 " |" }
	' "$out/ring-memory.tsv"
}

# ---- system calls under strace ---------------------------------------------------

# Runs a program under strace -c and keeps the per-call counts: name count.
strace_counts() {
	strace -f -c -o "$tmp/strace.out" "$@" >/dev/null
	awk '$4 ~ /^[0-9]+$/ && $NF != "total" { print $NF, $4 }' \
	    "$tmp/strace.out"
}

# Prints "total name=x ..." for the difference between two count files,
# divided by a number of operations.
strace_delta() {
	awk -v per="$3" '
	FILENAME == ARGV[1] { before[$1] = $2; names[$1] = 1; next }
	{ after[$1] = $2; names[$1] = 1 }
	END {
		total = 0
		for (n in names) {
			d = (after[n] - before[n]) / per
			if (d < 0.005 && d > -0.005) continue
			total += d
			list = list sprintf(" %s=%.2f", n, d)
		}
		printf "%.2f%s\n", total, list
	}' "$1" "$2"
}

syscalls() {
	sn=1000
	si=2
	rounds=$((si + 1)) # the warm-up round moves bytes too
	printf 'lib\tper_event_a1\tper_event_a100\tper_reregister\n' \
	    >"$out/ring-syscalls.tsv"
	for lib in $libs; do
		note "strace: $lib"
		p=$bin/ring-$lib
		row=$lib
		for a in 1 100; do
			strace_counts "$p" -n $sn -a $a -w 1000 -i $si >"$tmp/s1"
			strace_counts "$p" -n $sn -a $a -w 3000 -i $si >"$tmp/s2"
			row="$row	$(strace_delta "$tmp/s1" "$tmp/s2" $((2000 * rounds)))"
		done
		# The warm-up round does not re-arm: si re-arms of sn each.
		strace_counts "$p" -n $sn -a 1 -w 1000 -i $si >"$tmp/s1"
		strace_counts "$p" -r -n $sn -a 1 -w 1000 -i $si >"$tmp/s2"
		row="$row	$(strace_delta "$tmp/s1" "$tmp/s2" $((sn * si)))"
		echo "$row" >>"$out/ring-syscalls.tsv"
	done
	reregister_proof
}

# The system calls between the getppid() markers of rereg-mio: each span
# must be exactly one EPOLL_CTL_MOD.
reregister_proof() {
	if [ ! -x "$bin/rereg-mio" ]; then
		note "no $bin/rereg-mio: reregister proof skipped"
		return 0
	fi
	strace -f -o "$tmp/rereg.trace" "$bin/rereg-mio"
	awk '
	/getppid\(/ { span++; next }
	span == 1 || span == 2 {
		sub(/^\[pid +[0-9]+\] /, ""); sub(/^[0-9]+ +/, "")
		calls[span]++
		if ($0 ~ /^epoll_ctl\(.*EPOLL_CTL_MOD/) mods[span]++
		text[span] = text[span] "    " $0 "\n"
	}
	END {
		name[1] = "mio_registry_reregister_fd()"
		name[2] = "mio_registry_reregister() of a source"
		bad = 0
		for (s = 1; s <= 2; s++) {
			printf "%s: %d system call(s)\n%s", name[s], calls[s], text[s]
			if (calls[s] != 1 || mods[s] != 1) bad = 1
		}
		printf "verdict: %s\n", bad ? "FAIL, not one epoll_ctl(EPOLL_CTL_MOD) each" : \
		    "one epoll_ctl(EPOLL_CTL_MOD) per reregister"
		exit bad
	}' "$tmp/rereg.trace" >"$out/reregister-strace.txt" || {
		cat "$out/reregister-strace.txt" >&2
		return 1
	}
}

table_syscalls() {
	awk -F'\t' '
	NR == 1 {
		print "| library | per event, A=1 | per event, A=100 | per reregister |"
		print "|:---|:---|:---|:---|"
		next
	}
	{ print "| " $1 " | " $2 " | " $3 " | " $4 " |" }
	' "$out/ring-syscalls.tsv"
}

# ---- the whole run -------------------------------------------------------------

note "libraries:$libs; results into $out"
machine >"$out/machine.txt"
timing
summarise loop
summarise rearm
memory
paired
if have valgrind; then
	instructions
else
	note "valgrind not found: instruction counts skipped"
fi
if have strace; then
	syscalls
else
	note "strace not found: system call counts skipped"
fi
if have gnuplot; then
	note "plots"
	gnuplot -e "dir='$out'" "$here/plot.gp"
else
	note "gnuplot not found: plots skipped"
fi

{
	echo "## Machine"
	echo
	sed 's/^/    /' "$out/machine.txt"
	echo
	echo "## Loop: CPU ns per event (ratio to epoll)"
	echo
	table_timing loop
	echo
	echo "## Re-arm: CPU ns per event, re-arm of all N included (ratio to epoll)"
	echo
	table_timing rearm
	echo
	echo "## libmio against epoll, paired runs (ratio of CPU ns per event)"
	echo
	table_paired
	echo
	echo "## Re-arm call alone: CPU ns per descriptor"
	echo
	table_rearm_cost
	echo
	echo "## Heap per registered descriptor"
	echo
	table_memory
	if [ -s "$out/ring-callgrind.tsv" ]; then
		echo
		echo "## User-space instructions (callgrind)"
		echo
		table_instructions
	fi
	if [ -s "$out/ring-syscalls.tsv" ]; then
		echo
		echo "## System calls (strace -c, differences between runs)"
		echo
		table_syscalls
		echo
		sed 's/^/    /' "$out/reregister-strace.txt"
	fi
} >"$out/ring-tables.md"
cat "$out/ring-tables.md"
