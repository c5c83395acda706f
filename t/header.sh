#!/bin/sh
# t/header.sh - <mio.h> as a user compiles it: strict C99 and C11, C++,
# and MIO_NO_INLINE; and <mio-ares.h>, when mio-ares is built, under strict
# C99 and C11 with no feature macro (c-ares 1.18's ares.h needs fd_set). The object files show which path each build takes:
# the epoll build's inline poll and registration call epoll_wait() and
# epoll_ctl() themselves (mio-inline-epoll.h); MIO_NO_INLINE, and every
# other backend, call the exported functions.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}" "${NM:=nm}" "${CC:=cc}"
: "${MIO_BUILD_ARES:=no}" "${CARES_CFLAGS:=}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
inc="-I$top_builddir/libmio -I$top_srcdir/libmio"
n=0
fails=0

check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
		[ -s "$tmp/err" ] && sed 's/^/# /' "$tmp/err" | head -20
	fi
	: >"$tmp/err"
}

skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}

# Every macro of the inline paths, with a compound literal (a top-level
# comma in a macro argument) where C allows one and struct timespec is
# complete (not in strict C99 without a POSIX feature macro: NO_TIMESPEC).
cat >"$tmp/use.c" <<'EOF'
#include <mio.h>

int use(mio_poll *poll, mio_events *events, const mio_registry *reg, int fd);

int
use(mio_poll *poll, mio_events *events, const mio_registry *reg, int fd)
{
	int n = mio_poll_poll(poll, events, NULL);
#if !defined(__cplusplus) && !defined(NO_TIMESPEC)
	n += mio_poll_poll(poll, events, &(struct timespec){ 0, 0 });
#endif
	n += mio_registry_register_fd(reg, fd, 1, MIO_READABLE);
	n += mio_registry_reregister_fd(reg, fd, 2, MIO_WRITABLE);
	MIO_EVENTS_FOREACH(ev, events) {
		n += (int)mio_event_token(ev);
	}
	return n;
}
EOF

# Whether the object has an undefined reference to each named symbol.
undefined() {
	for sym in "$@"; do
		$NM -u "$tmp/use.o" | grep -q "[[:space:]]$sym\$" || return 1
	done
}

inline=$(sed -n 's/^#define MIO_SYS_INLINE_EPOLL //p' \
    "$top_builddir/libmio/mio-sys.h")

# The warnings a careful user turns on; the header must stay quiet.
warn="-pedantic -Wall -Wextra -Wconversion -Wsign-conversion -Wcast-qual \
    -Wshadow -Wundef -Werror"

echo "1..12"
# Strict C99 hides struct timespec without a POSIX feature macro; mio.h
# then declares it itself, and only the compound literal needs it complete.
for std in "c99 -DNO_TIMESPEC" "c99 -D_POSIX_C_SOURCE=200809L" c11; do
	$CC -std=$std $warn $inc -c "$tmp/use.c" -o "$tmp/use.o" 2>"$tmp/err"
	check $? "mio.h compiles as -std=$std with the strict warnings"
done
if [ "$inline" = 1 ]; then
	undefined epoll_wait epoll_ctl
	check $? "the epoll build polls and registers inline"
	undefined mio_poll_poll mio_registry_register_fd \
	    mio_registry_reregister_fd
	check $? "and calls the exported functions for the other cases"
else
	undefined mio_poll_poll mio_registry_register_fd \
	    mio_registry_reregister_fd
	check $? "this build calls the exported functions"
	skip "the inline paths are the epoll build's"
fi

$CC -std=c11 -Wall -Wextra -Werror -DMIO_NO_INLINE $inc -c "$tmp/use.c" \
    -o "$tmp/use.o" 2>"$tmp/err"
check $? "mio.h compiles with MIO_NO_INLINE"
undefined mio_poll_poll mio_registry_register_fd \
    mio_registry_reregister_fd mio_event_token && ! undefined epoll_wait
check $? "MIO_NO_INLINE calls the exported functions"

if command -v c++ >/dev/null 2>&1; then
	c++ -x c++ -std=c++11 $warn $inc -c "$tmp/use.c" \
	    -o "$tmp/use.o" 2>"$tmp/err"
	check $? "mio.h compiles as C++11"
	c++ -x c++ -std=c++98 $warn $inc -c "$tmp/use.c" -o "$tmp/use98.o" \
	    2>"$tmp/err"
	check $? "mio.h compiles as C++98 (which calls the functions)"
	undefined mio_poll_poll && ! undefined _Z13mio_poll_pollP8mio_pollP10mio_eventsPK8timespec
	check $? "C++ reaches the exported functions with C linkage"
else
	skip "no c++ compiler"
	skip "no c++ compiler"
	skip "no c++ compiler"
fi
# The companion header, as a user of libmio-ares compiles it.
cat >"$tmp/ares.c" <<'EOF'
#include <mio-ares.h>

int use_ares(mio_ares *resolver, mio_token token);

int
use_ares(mio_ares *resolver, mio_token token)
{
	return mio_ares_owns_token(resolver, token) ? ARES_SUCCESS : -1;
}
EOF
for std in c99 c11; do
	if [ "$MIO_BUILD_ARES" != yes ]; then
		skip "mio-ares is not built"
		continue
	fi
	$CC -std=$std -Wall -Wextra -Wpedantic -Werror $CARES_CFLAGS \
	    -I"$top_srcdir/ares" $inc -c "$tmp/ares.c" -o "$tmp/ares.o" \
	    2>"$tmp/err"
	check $? "mio-ares.h compiles as -std=$std -Wall -Wextra -Wpedantic"
done
[ $fails = 0 ]
