# plot.gp - draws the DNS benchmark's plots from plot.tsv (report.awk).
#
#   gnuplot -e "dir='bench/dns/results'" bench/dns/plot.gp
#
# Writes qcpu.png (queries per server CPU-second per workload) and
# latency.png (average and p99 latency of paced runs) into dir. A "-" is a
# figure not measured (a workload a server does not run, or a feature
# miodnsd does not have yet).
if (!exists("dir")) dir = "bench/dns/results"

set datafile separator "\t"
set datafile missing "-"
set terminal pngcairo size 1000,520 font "sans,10"
set grid ytics
set key outside below horizontal
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics nomirror rotate by -20
set yrange [0:*]
data = dir."/plot.tsv"

set output dir."/qcpu.png"
set title "Queries per server CPU-second, median (higher is better)"
set ylabel "queries per CPU-second"
set format y "%.0s%c"
plot data skip 1 using 2:xtic(1) title "hot set, UDP", \
     "" skip 1 using 3 title "misses (NSD, miodnsd-auth: the whole zone), UDP", \
     "" skip 1 using 4 title "mixed, UDP", \
     "" skip 1 using 5 title "hot set, TCP"

set output dir."/latency.png"
set title "Latency of paced queries (1000 QPS), median of runs (lower is better)"
set ylabel "microseconds"
set format y "%.0f"
plot data skip 1 using 6:xtic(1) title "hot set, average", \
     "" skip 1 using 7 title "hot set, p99", \
     "" skip 1 using 8 title "misses, average", \
     "" skip 1 using 9 title "misses, p99"
