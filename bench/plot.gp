# plot.gp - draws the pipe-ring plots from the tables run-ring.sh writes.
#
#   gnuplot -e "dir='bench/results'" bench/plot.gp
#
# Reads ring-loop.tsv, ring-rearm.tsv and ring-callgrind.tsv in dir and
# writes ring-loop.png, ring-rearm.png, ring-ratio.png and
# ring-instructions.png beside them. A "-" is a library that was not built.
if (!exists("dir")) dir = "bench/results"

set datafile separator "\t"
set datafile missing "-"
set terminal pngcairo size 1000,560 font "sans,10"
set grid ytics
set key outside right top
set xtics rotate by -45 nomirror
set offsets 0.5, 0.5, 0, 0
set style data linespoints

loop = dir."/ring-loop.tsv"
rearm = dir."/ring-rearm.tsv"
label(n, a) = sprintf("%d/%d", n, a)

# Columns of ring-<variant>.tsv: n a epoll_ns mio_ns libev_ns libevent_ns
# libuv_ns, then the four ratios to epoll.
set xlabel "configuration: N pairs / A active"
set ylabel "CPU ns per event"
set yrange [0:*]

set output dir."/ring-loop.png"
set title "Pipe ring, loop only: CPU time per event (lower is better)"
plot loop skip 1 using 0:3:xtic(label($1, $2)) title "epoll (floor)" lw 2, \
     "" skip 1 using 0:4 title "libmio" lw 2, \
     "" skip 1 using 0:5 title "libev", \
     "" skip 1 using 0:6 title "libevent", \
     "" skip 1 using 0:7 title "libuv"

set output dir."/ring-rearm.png"
set title "Pipe ring, every descriptor re-armed each iteration: CPU time per event"
plot rearm skip 1 using 0:3:xtic(label($1, $2)) title "epoll (floor)" lw 2, \
     "" skip 1 using 0:4 title "libmio" lw 2, \
     "" skip 1 using 0:5 title "libev", \
     "" skip 1 using 0:6 title "libevent", \
     "" skip 1 using 0:7 title "libuv"

set output dir."/ring-ratio.png"
set terminal pngcairo size 1000,800 font "sans,10"
set multiplot layout 2,1
set ylabel "time per event / epoll's"
set yrange [*:*]
unset xlabel
set title "Ratio to raw epoll, loop only (target for libmio: at most 1.02)"
plot loop skip 1 using 0:8:xtic(label($1, $2)) title "libmio" lw 2, \
     "" skip 1 using 0:9 title "libev", \
     "" skip 1 using 0:10 title "libevent", \
     "" skip 1 using 0:11 title "libuv", \
     1.02 title "1.02" with lines dt 2 lc rgb "black"
set xlabel "configuration: N pairs / A active"
set title "Ratio to raw epoll, with re-arm"
plot rearm skip 1 using 0:8:xtic(label($1, $2)) title "libmio" lw 2, \
     "" skip 1 using 0:9 title "libev", \
     "" skip 1 using 0:10 title "libevent", \
     "" skip 1 using 0:11 title "libuv", \
     1.02 title "1.02" with lines dt 2 lc rgb "black"
unset multiplot

# Columns of ring-callgrind.tsv: variant n a epoll mio libev libevent libuv.
set output dir."/ring-instructions.png"
set terminal pngcairo size 1000,560 font "sans,10"
set title "User-space instructions per event under callgrind (lower is better)"
set xlabel "variant N/A"
set ylabel "instructions per event"
set yrange [0:*]
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics norotate
set offsets 0, 0, 0, 0
plot dir."/ring-callgrind.tsv" skip 1 \
        using 4:xtic(sprintf("%s %d/%d", strcol(1), $2, $3)) title "epoll", \
     "" skip 1 using 5 title "libmio", \
     "" skip 1 using 6 title "libev", \
     "" skip 1 using 7 title "libevent", \
     "" skip 1 using 8 title "libuv"
