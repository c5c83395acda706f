#!/bin/sh
# t/symbols.sh - the shared library exports exactly the public API: every
# MIO_EXTERN function of mio.h and mio-timer.h, and nothing else (checked
# with nm -D).
# t/ares-symbols.sh runs it for libmio-ares with these three set:
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}" "${NM:=nm}"
lib=${SYMBOLS_LIB:-"$top_builddir/libmio/.libs/libmio.so"}
header=${SYMBOLS_HEADER:-"$top_srcdir/libmio/mio.h $top_srcdir/libmio/mio-timer.h"}
extern=${SYMBOLS_EXTERN:-MIO_EXTERN}
if [ ! -f "$lib" ]; then
	echo "1..0 # SKIP no shared library built ($lib)"
	exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
$NM -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ { print $3 }' |
	sed 's/@.*//' | sort -u >"$tmp/exported"
# $header may name several headers, separated by spaces.
# shellcheck disable=SC2086
cat $header | grep "^$extern" |
	grep -o 'mio_[a-z0-9_]*(' | tr -d '(' | sort -u >"$tmp/declared"
echo "1..3"
if [ -s "$tmp/declared" ]; then
	echo "ok 1 - $(for h in $header; do basename "$h"; done | tr '\n' ' ')declares $(wc -l <"$tmp/declared") public functions"
else
	echo "not ok 1 - no $extern declaration found in $header"
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
