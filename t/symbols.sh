#!/bin/sh
# t/symbols.sh - the shared library exports exactly the public API: every
# MIO_EXTERN function of mio.h and mio-timer.h, and nothing else (checked
# with nm -D), and where configure found the linker to take a version
# script, every one of them carries the version node (objdump -T), so that
# a program records which node each symbol came from.
# t/ares-symbols.sh runs it for libmio-ares with these four set:
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}" "${NM:=nm}" "${OBJDUMP:=objdump}"
: "${MIO_VERSION_SCRIPT:=no}"
lib=${SYMBOLS_LIB:-"$top_builddir/libmio/.libs/libmio.so"}
header=${SYMBOLS_HEADER:-"$top_srcdir/libmio/mio.h $top_srcdir/libmio/mio-timer.h"}
extern=${SYMBOLS_EXTERN:-MIO_EXTERN}
node=${SYMBOLS_NODE:-LIBMIO_0}
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
echo "1..4"
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

# objdump -T prints, for each defined dynamic symbol, its section, size,
# version and name; the node itself appears as an *ABS* symbol.
if [ "$MIO_VERSION_SCRIPT" != yes ]; then
	echo "ok 4 # SKIP the linker takes no version script (configure)"
	exit 0
fi
$OBJDUMP -T "$lib" | awk '$NF ~ /^mio_/ && !/\*UND\*/ { print $(NF - 1), $NF }' \
	>"$tmp/versions"
unversioned=$(awk -v node="$node" '$1 != node { print $2 "@" $1 }' \
	"$tmp/versions" | tr '\n' ' ')
count=$(wc -l <"$tmp/versions")
if [ -z "$unversioned" ] && [ "$count" -eq "$(wc -l <"$tmp/declared")" ]; then
	echo "ok 4 - all $count exported symbols carry the version node $node"
else
	echo "not ok 4 - $count versioned symbols; not in $node: $unversioned"
fi
