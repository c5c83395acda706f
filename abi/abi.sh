#!/bin/sh
# abi/abi.sh - make abi-check and make abi-update (docs/abi.md).
#
#   abi.sh check|update DIR FACTS NAME=LIB[:HEADER...] ...
#
# For each library, abidw describes the built LIB (restricted to the types
# of the public HEADERs, each a file or a directory of public headers only)
# and abidiff compares that with DIR/NAME.abi, the description committed in
# the tree. FACTS is abi/facts, whose output (the layout the inline event
# path compiles into callers, which abidw cannot see) is compared with
# DIR/facts.txt.
#
# check fails on what breaks programs built against the committed ABI:
# abidiff's incompatible-change bit (8), any removed or changed function or
# variable, and any changed fact. Added functions are reported but pass,
# since new symbols arrive between releases; "update" rewrites the
# descriptions, which is done once per release (and after an intended
# change, together with a new -version-info, see configure.ac).
#
# DIR is per CPU and backend (abi/x86_64-epoll): the native record and the
# sizes differ between them. A build with no committed description there
# is reported and passes. The library must be shared and carry DWARF
# (the default -g); ABIDW, ABIDIFF and OBJDUMP name the tools.
set -u
: "${ABIDW:=abidw}" "${ABIDIFF:=abidiff}" "${OBJDUMP:=objdump}"
mode=$1 dir=$2 facts=$3
shift 3
abidw_flags="--no-corpus-path --no-comp-dir-path --no-show-locs --drop-private-types"

for tool in "$ABIDW" "$ABIDIFF"; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "abi-$mode: $tool not found (Debian: apt-get install abigail-tools)" >&2
		exit 1
	}
done
if [ "$mode" = check ] && [ ! -d "$dir" ]; then
	echo "abi-check: no ABI description for this CPU and backend ($dir):" \
	    "nothing to compare; make abi-update writes one"
	exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0

# describe NAME LIB HEADERDIRS: abidw's description into $tmp/NAME.abi.
describe() {
	headers=
	for h in $(echo "$3" | tr ':' ' '); do
		if [ -d "$h" ]; then
			headers="$headers --headers-dir $h"
		else
			headers="$headers --header-file $h"
		fi
	done
	if [ ! -f "$2" ]; then
		echo "abi-$mode: $2 is not built (configure --enable-shared)" >&2
		return 1
	fi
	if ! $OBJDUMP -h "$2" | grep -q '\.debug_info'; then
		echo "abi-$mode: $2 has no debug information (build with -g)" >&2
		return 1
	fi
	$ABIDW $abidw_flags $headers --out-file "$tmp/$1.abi" "$2"
}

# compare NAME: abidiff of the committed and the built description.
compare() {
	if [ ! -f "$dir/$1.abi" ]; then
		echo "abi-check: FAIL: $1: no $dir/$1.abi (make abi-update adds it)"
		return 1
	fi
	$ABIDIFF "$dir/$1.abi" "$tmp/$1.abi" >"$tmp/$1.diff" 2>&1
	rc=$?
	sed 's/^/    /' "$tmp/$1.diff"
	if [ $((rc & 3)) -ne 0 ]; then
		echo "abi-check: FAIL: $1: abidiff could not compare (exit $rc)"
		return 1
	fi
	if [ $((rc & 8)) -ne 0 ] ||
	    grep -Eq '(^|[^0-9])[1-9][0-9]* (Removed|Changed)' "$tmp/$1.diff"; then
		echo "abi-check: FAIL: $1: incompatible with $dir/$1.abi" \
		    "(an ABI break needs a new soname, see docs/abi.md)"
		return 1
	fi
	if [ $((rc & 4)) -ne 0 ]; then
		echo "abi-check: $1: compatible additions only" \
		    "(make abi-update records them at the next release)"
	else
		echo "abi-check: $1: same ABI as $dir/$1.abi"
	fi
}

"$facts" >"$tmp/facts.txt" || { echo "abi-$mode: $facts failed" >&2; exit 1; }
for spec in "$@"; do
	name=${spec%%=*}
	rest=${spec#*=}
	lib=${rest%%:*}
	headerdirs=${rest#*:}
	describe "$name" "$lib" "$headerdirs" || exit 1
	if [ "$mode" = check ]; then
		compare "$name" || failed=1
	else
		mkdir -p "$dir" && cp "$tmp/$name.abi" "$dir/$name.abi" || exit 1
		echo "abi-update: wrote $dir/$name.abi"
	fi
done
if [ "$mode" = check ]; then
	if diff -u "$dir/facts.txt" "$tmp/facts.txt" >"$tmp/facts.diff"; then
		echo "abi-check: inline layout: same as $dir/facts.txt"
	else
		sed 's/^/    /' "$tmp/facts.diff"
		echo "abi-check: FAIL: the layout compiled into callers changed" \
		    "(an ABI break, see docs/abi.md)"
		failed=1
	fi
else
	cp "$tmp/facts.txt" "$dir/facts.txt" && echo "abi-update: wrote $dir/facts.txt"
fi
exit $failed
