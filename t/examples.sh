#!/bin/sh
# t/examples.sh - the programs in docs/examples/ build and do what the
# README says they do.
set -u
: "${top_builddir:=.}"
echo "1..2"
out=$("$top_builddir/docs/examples/readiness" 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
	echo "ok 1 - docs/examples/readiness exits 0"
else
	echo "not ok 1 - docs/examples/readiness exited $rc: $out"
fi
case "$out" in
*"token 7 readable: ping"*"1 event(s) from"*) echo "ok 2 - and prints the event it waited for" ;;
*) echo "not ok 2 - unexpected output: $out" ;;
esac
