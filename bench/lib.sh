# bench/lib.sh - shell helpers shared by the benchmark scripts
# (bench/run-ring.sh and bench/dns/run.sh), which source it.

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
