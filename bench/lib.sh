# bench/lib.sh - shell helpers shared by the benchmark scripts
# (bench/run-ring.sh, bench/run-timer.sh and bench/dns/run.sh), which
# source it.

note() { printf '==> %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# Prints the remaining arguments rotated left by $1 places: each repeat of
# a benchmark starts the programs in another order, so that none is always
# the first to run on a cold machine.
rotate() {
	k=$(($1 % ($# - 1)))
	shift
	while [ $k -gt 0 ]; do
		first=$1
		shift
		set -- "$@" "$first"
		k=$((k - 1))
	done
	echo "$@"
}

# The options of the grid benchmarks (run-ring.sh, run-timer.sh), which
# take the same ones: $1 is the script's name for the usage line, the rest
# its arguments. Sets bin, out, quick and repeats (empty: the script's
# default); $here must be the bench directory.
grid_args() {
	grid_name=$1
	shift
	bin=.
	out=$here/results
	quick=no
	repeats=
	while [ $# -gt 0 ]; do
		case $1 in
		--quick) quick=yes ;;
		-d) [ $# -ge 2 ] || grid_usage "$grid_name"; bin=$2; shift ;;
		-o) [ $# -ge 2 ] || grid_usage "$grid_name"; out=$2; shift ;;
		-r) [ $# -ge 2 ] || grid_usage "$grid_name"; repeats=$2; shift ;;
		*) grid_usage "$grid_name" ;;
		esac
		shift
	done
}

grid_usage() {
	echo "usage: $1 [--quick] [-d dir] [-o results] [-r repeats]" >&2
	exit 2
}
