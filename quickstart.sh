#!/bin/sh
# quickstart.sh - the README's two set-up commands, for a fresh Debian 12.
#
#   ./quickstart.sh run    build everything and start miodnsd on its
#                          embedded default (or, without c-ares, the example)
#   ./quickstart.sh test   build and run every test: make check with
#                          warnings as errors, the same tests under
#                          ASan+UBSan, other backend configurations, and
#                          make distcheck; the last line is the summary
#
# Each installs its own build dependencies with apt-get when they are
# missing (run it as root, or have them installed). CI runs "test".
set -u
cd "$(dirname "$0")" || exit 1
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

# Debian packages each mode needs; a package is installed only if missing.
build_pkgs="gcc make autoconf automake libtool pkg-config libc-ares-dev"
test_pkgs="$build_pkgs bind9-dnsutils knot-dnsutils valgrind dnsperf libssl-dev openssl unbound abigail-tools libcurl4-openssl-dev python3 nsd"
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

# install_check BUILD: make install into a scratch DESTDIR, then build and
# run the README's example the way a user would, through pkg-config.
install_check() {
	dest=$(mktemp -d) || return 1
	log "make install DESTDIR=$dest, then the README example via pkg-config"
	make -C "$1" install DESTDIR="$dest" >"$1/install.out" 2>&1 || {
		tail -n 20 "$1/install.out"; rm -rf "$dest"; return 1; }
	prefix=$(sed -n 's/^prefix=//p' "$1/libmio.pc")
	root=$dest$prefix
	ok=0
	for f in include/mio.h lib/pkgconfig/libmio.pc share/man/man3/mio.3; do
		[ -f "$root/$f" ] || { echo "not installed: $f"; ok=1; }
	done
	flags=$(PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_PATH="$root/lib/pkgconfig" \
		pkg-config --cflags --libs libmio) || ok=1
	cc -o "$dest/readiness" "$top/docs/examples/readiness.c" $flags \
		-Wl,-rpath,"$root/lib" || ok=1
	[ $ok -eq 0 ] && "$dest/readiness" || ok=1
	rm -rf "$dest"
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
