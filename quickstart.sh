#!/bin/sh
# quickstart.sh - the README's two set-up commands, for a fresh Debian 12.
#
#   ./quickstart.sh run    build everything and start miodnsd on its
#                          embedded default (or, without c-ares, the example)
#   ./quickstart.sh test   build and run every test: make check with
#                          warnings as errors, the same tests under
#                          ASan+UBSan, other backend configurations, the
#                          install checks, make abi-check and make
#                          distcheck; the last line is the summary
#
# Each installs its own build dependencies with apt-get when they are
# missing (run it as root, or have them installed). CI runs "test".
set -u
cd "$(dirname "$0")" || exit 1
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

# Debian packages each mode needs; a package is installed only if missing.
build_pkgs="gcc make autoconf automake libtool pkg-config libc-ares-dev"
test_pkgs="$build_pkgs bind9-dnsutils knot-dnsutils valgrind dnsperf libssl-dev openssl unbound abigail-tools libcurl4-openssl-dev python3 nsd cmake man-db"
run_pkgs="$build_pkgs bind9-dnsutils"

log() { printf '==> %s\n' "$*"; }

install_missing() {
	missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	log "installing:$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "missing Debian packages:$missing (run as root, or install them)" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null
}

bootstrap() {
	[ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ] && return 0
	log "bootstrap (autoreconf -fi)"
	./bootstrap >/dev/null 2>&1 || { ./bootstrap; return 1; }
}

# configure_build DIR [configure args...]: a fresh out-of-tree build.
configure_build() {
	dir=$1
	shift
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	log "configure in $dir: $*"
	(cd "$dir" && "$top/configure" -q "$@") || return 1
}

# check_build DIR: make check, printing the log of any failed test.
check_build() {
	log "make check in $1"
	if make -C "$1" -j"$jobs" check >"$1/check.out" 2>&1; then
		grep -E '^(# |PASS|FAIL|ERROR|SKIP)' "$1/check.out" | grep -v '^PASS' | head -40
		return 0
	fi
	tail -n 60 "$1/check.out"
	[ -f "$1/test-suite.log" ] && sed -n '1,200p' "$1/test-suite.log"
	return 1
}

# install_check BUILD: make install into a scratch DESTDIR, then use the
# installed tree the way a user would: the README's example through
# pkg-config, man pages by function name, both headers as strict C11, the
# CMake package (t/cmake-consumer) and the version node of every exported
# symbol. Each check prints one line.
install_check() {
	dest=$(mktemp -d) || return 1
	log "make install DESTDIR=$dest, then use the installed tree"
	make -C "$1" install DESTDIR="$dest" >"$1/install.out" 2>&1 || {
		tail -n 20 "$1/install.out"; rm -rf "$dest"; return 1; }
	prefix=$(sed -n 's/^prefix=//p' "$1/libmio.pc")
	root=$dest$prefix
	export PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_PATH="$root/lib/pkgconfig"
	ok=0
	for check in installed_files installed_example installed_man \
	    installed_headers installed_cmake installed_versions; do
		if $check >"$dest/check.out" 2>&1; then
			echo "    $check: ok"
		else
			echo "    $check: FAILED"
			sed 's/^/      /' "$dest/check.out" | tail -n 20
			ok=1
		fi
	done
	unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
	rm -rf "$dest"
	return $ok
}

installed_files() {
	for f in include/mio.h include/mio-sys.h lib/pkgconfig/libmio.pc \
	    lib/cmake/libmio/libmio-config.cmake share/man/man3/mio.3 \
	    share/doc/libmio/readiness.md share/doc/libmio/examples/echo.c; do
		[ -f "$root/$f" ] || { echo "not installed: $f"; return 1; }
	done
}

# The README's example, built through pkg-config and run.
installed_example() {
	flags=$(pkg-config --cflags --libs libmio) &&
	cc -o "$dest/readiness" "$top/docs/examples/readiness.c" $flags \
		-Wl,-rpath,"$root/lib" && "$dest/readiness"
}

# man finds every function by its own name, and the pages name the
# installed documentation, which is there.
installed_man() {
	page=$(MANPATH="$root/share/man" man -w mio_poll_poll) &&
	echo "man -w mio_poll_poll: $page" &&
	[ "$page" = "$root/share/man/man3/mio_poll.3" ] &&
	MANPATH="$root/share/man" MANPAGER=cat man mio_registry_register \
		2>/dev/null | grep -q 'mio_registry_register_fd' &&
	grep -q "$prefix/share/doc/libmio/readiness.md" "$root/share/man/man3/mio.3" ||
		return 1
	for doc in $(cat "$root"/share/man/man[38]/*.[38] |
	    sed -n "s|^\.IR\{0,1\} \($prefix/share/doc/[^ )]*\).*|\1|p" |
	    sed 's/\\-/-/g' | sort -u); do
		[ -f "$dest$doc" ] || { echo "a page names $doc, not installed"; return 1; }
	done
}

# Both headers as strict C11 with the usual warnings, no feature macros.
installed_headers() {
	printf '#include <mio.h>\nint x;\n' >"$dest/h.c"
	cc -std=c11 -Wall -Wextra -Wpedantic -Werror \
		$(pkg-config --cflags libmio) -c "$dest/h.c" -o "$dest/h.o" || return 1
	[ -f "$root/lib/pkgconfig/libmio-ares.pc" ] || return 0
	printf '#include <mio-ares.h>\nint x;\n' >"$dest/h.c"
	cc -std=c11 -Wall -Wextra -Wpedantic -Werror \
		$(pkg-config --cflags libmio-ares) -c "$dest/h.c" -o "$dest/h.o"
}

# find_package(libmio) with libmio::libmio and libmio::ares.
installed_cmake() {
	if [ ! -f "$root/lib/pkgconfig/libmio-ares.pc" ]; then
		echo "no mio-ares in this build: the consumer needs libmio::ares"
		return 1
	fi
	cmake -S "$top/t/cmake-consumer" -B "$dest/cmake" \
		-DCMAKE_PREFIX_PATH="$root" &&
	cmake --build "$dest/cmake" && "$dest/cmake/consumer"
}

# Every exported symbol carries its library's version node.
installed_versions() {
	for lib in libmio.so:LIBMIO_0 libmio-ares.so:LIBMIO_ARES_0; do
		file=$root/lib/${lib%%:*}
		[ -f "$file" ] || continue
		objdump -T "$file" |
			awk -v node="${lib#*:}" '$NF ~ /^mio_/ && !/\*UND\*/ {
				n++; if ($(NF - 1) != node) { bad++; print "not in " node ": " $NF } }
				END { print n + 0 " symbols"; exit !(n > 0 && bad == 0) }' ||
			return 1
	done
}

# install_libs_only: configure --disable-daemon installs the libraries and
# no miodnsd.
install_libs_only() {
	dir=_build-libs
	configure_build "$dir" --enable-werror --disable-daemon || return 1
	dest=$(mktemp -d) || return 1
	log "make install DESTDIR=$dest in $dir: the libraries alone"
	ok=0
	make -C "$dir" -j"$jobs" install DESTDIR="$dest" >"$dir/install.out" 2>&1 || {
		tail -n 20 "$dir/install.out"; ok=1; }
	[ -n "$(find "$dest" -name 'libmio.so*')" ] || { echo "no libmio.so"; ok=1; }
	[ -z "$(find "$dest" -name 'miodnsd*')" ] || { echo "miodnsd installed"; ok=1; }
	rm -rf "$dest" "$dir"
	return $ok
}

failed_steps=0
step() {
	"$@" || { failed_steps=$((failed_steps + 1)); log "FAILED: $*"; }
}

# Counts TAP results in the .trs files of the build directories given.
summary() {
	passed=0 failed=0 skipped=0
	for dir in "$@"; do
		[ -d "$dir" ] || continue
		counts=$(find "$dir" -name '*.trs' -exec cat {} + 2>/dev/null |
			awk '/^:test-result: (PASS|XFAIL)/ { p++ }
			     /^:test-result: (FAIL|XPASS|ERROR)/ { f++ }
			     /^:test-result: SKIP/ { s++ }
			     END { printf "%d %d %d", p, f, s }')
		set -- $counts "$@"
		passed=$((passed + $1)) failed=$((failed + $2)) skipped=$((skipped + $3))
		shift 3
	done
	failed=$((failed + failed_steps))
	if [ "$skipped" -gt 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
	[ "$failed" -eq 0 ]
}

mode_test() {
	install_missing $test_pkgs || exit 1
	bootstrap || exit 1
	builds="_build _build-asan"
	step configure_build _build --enable-werror
	step check_build _build
	step configure_build _build-asan --enable-werror --disable-shared \
		CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
	step check_build _build-asan
	if [ -f "$top/quickstart.d/extra-configs" ]; then
		# Further backend configurations (see quickstart.d/extra-configs).
		. "$top/quickstart.d/extra-configs"
	fi
	step install_check _build
	step install_libs_only
	if command -v abidw >/dev/null 2>&1; then
		log "make abi-check (docs/abi.md)"
		step make -C _build abi-check
	else
		log "make abi-check not run: no abidw (Debian: abigail-tools)"
	fi
	log "make distcheck"
	if ! make -C _build -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
		>_build/distcheck.out 2>&1; then
		tail -n 40 _build/distcheck.out
		failed_steps=$((failed_steps + 1))
		log "FAILED: make distcheck"
	else
		log "make distcheck passed"
	fi
	summary $builds
}

mode_run() {
	install_missing $run_pkgs || exit 1
	bootstrap || exit 1
	if [ ! -f _build/Makefile ]; then
		configure_build _build || exit 1
	fi
	log "make"
	make -C _build -j"$jobs" >/dev/null || make -C _build || exit 1
	if [ -x _build/daemon/miodnsd ]; then
		log "starting miodnsd on its embedded default (Ctrl-C stops it);"
		log "query it from another terminal: dig @127.0.0.1 -p 5353 www.example.test"
		exec _build/daemon/miodnsd "$@"
	fi
	make -C _build docs/examples/readiness >/dev/null || exit 1
	log "miodnsd is not built yet; running the example docs/examples/readiness"
	exec _build/docs/examples/readiness
}

case "${1:-}" in
test) mode_test ;;
run) shift; mode_run "$@" ;;
*) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
