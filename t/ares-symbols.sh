#!/bin/sh
# t/ares-symbols.sh - libmio-ares.so exports exactly the MIO_ARES_EXTERN
# functions of ares/mio-ares.h (nm -D), as t/symbols.sh checks for libmio.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}" "${NM:=nm}"
lib="$top_builddir/ares/.libs/libmio-ares.so"
header="$top_srcdir/ares/mio-ares.h"
if [ ! -f "$lib" ]; then
	echo "1..0 # SKIP no shared library built ($lib)"
	exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
$NM -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ { print $3 }' |
	sed 's/@.*//' | sort -u >"$tmp/exported"
grep '^MIO_ARES_EXTERN' "$header" |
	grep -o 'mio_ares_[a-z0-9_]*(' | tr -d '(' | sort -u >"$tmp/declared"
echo "1..3"
if [ -s "$tmp/declared" ]; then
	echo "ok 1 - mio-ares.h declares $(wc -l <"$tmp/declared") public functions"
else
	echo "not ok 1 - no MIO_ARES_EXTERN declaration found in $header"
fi
extra=$(comm -23 "$tmp/exported" "$tmp/declared" | tr '\n' ' ')
if [ -z "$extra" ]; then
	echo "ok 2 - nothing but the public API is exported"
else
	echo "not ok 2 - exported but not public: $extra"
fi
missing=$(comm -13 "$tmp/exported" "$tmp/declared" | tr '\n' ' ')
if [ -z "$missing" ]; then
	echo "ok 3 - every public function is exported"
else
	echo "not ok 3 - declared but not exported: $missing"
fi
