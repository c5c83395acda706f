#!/bin/sh
# run.sh - the DNS benchmark of docs/PERFORMANCE.md: dnsperf against
# miodnsd and its peers on loopback, all forwarding to the same NSD, in
# alternation, with the figures that stay stable on a small shared machine.
# `make bench-dns` and `make bench-dns-quick` call it.
#
#   run.sh [--quick] [-m miodnsd] [-o results] [-r repeats] [-s servers]
#          [--no-netns] [--threads-option OPT]
#
#   -m miodnsd    the daemon to measure (default: $MIODNSD, else
#                 daemon/miodnsd below the current directory, else
#                 _build/daemon/miodnsd of the source tree)
#   -o results    where to write (default: results/ beside this script;
#                 with --quick, results-quick/ in the current directory)
#   -r repeats    how often every server's session runs (default 5; quick 1)
#   -s servers    which servers, in this order (default: all of them:
#                 nsd miodnsd-auth dnsmasq dnsmasq-nocache miodnsd-nocache
#                 unbound unbound-2t miodnsd miodnsd-2t)
#   --quick       short runs, one repeat (about a minute; the full run takes
#                 about 11)
#   --no-netns    stay in the machine's network namespace
#   --threads-option OPT  how to ask miodnsd for N threads, OPT followed by
#                 N (default: probed, see below)
#
# Needs dnsperf, nsd, dnsmasq, unbound and dig; run as root it installs the
# missing Debian packages (dnsperf nsd dnsmasq-base unbound bind9-dnsutils)
# with apt-get, and then runs everything in a private network namespace
# holding only lo (unshare --net), so that no packet leaves the machine
# whatever a server tries. Each server is started here, in the foreground,
# with its own configuration in a temporary directory, on ports 53530 to
# 53534, and stopped by PID, also on an interrupt; no system service is
# used or started.
#
# DNS over TLS: when miodnsd takes listen-tls (probed like the rest),
# unbound and miodnsd also listen for DoT on 53534 with certificates made
# by t/tls-certs.sh, and their sessions add the hot set over 8 TLS
# connections (dnsperf -m dot) and the cost of a new connection: full
# handshakes with openssl s_time -new, per CPU-second of the server.
#
# NSD serves a generated zone of 10,000 names (gen-zone.sh) as the
# authoritative upstream of every forwarder. What miodnsd can do is probed
# first, and written to support.tsv: a local zone (-z ORIGIN=FILE, checked
# by an authoritative answer), an answer cache (an answer still given after
# its upstream has stopped) and worker threads (options tried with -n, then
# checked by the thread count of the running daemon). A server needing a
# feature the daemon lacks gets a "not supported yet" row, not a number.
#
# Writes into the results directory:
#   machine.txt    the machine, the date, the versions, the probes
#   support.tsv    what miodnsd supports
#   raw.tsv        one line per dnsperf run (columns named on line 1)
#   summary.tsv    medians per server, workload and transport
#   tables.md      the tables of docs/PERFORMANCE.md, also printed
#   qcpu.png latency.png  plots (gnuplot, plot.gp)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# note, have, rotate
. "$here/../lib.sh"
top=$(cd "$here/../.." && pwd)
PATH=$PATH:/usr/sbin:/sbin
export PATH

quick=no
miodnsd=${MIODNSD:-}
out=
repeats=
servers=
use_netns=yes
threads_option=
all_servers="nsd miodnsd-auth dnsmasq dnsmasq-nocache miodnsd-nocache unbound unbound-2t miodnsd miodnsd-2t"

usage() {
	echo "usage: run.sh [--quick] [-m miodnsd] [-o results] [-r repeats]" \
	    "[-s servers] [--no-netns] [--threads-option OPT]" >&2
	exit 2
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--quick) quick=yes ;;
		--no-netns) use_netns=no ;;
		--threads-option) [ $# -ge 2 ] || usage; threads_option=$2; shift ;;
		-m) [ $# -ge 2 ] || usage; miodnsd=$2; shift ;;
		-o) [ $# -ge 2 ] || usage; out=$2; shift ;;
		-r) [ $# -ge 2 ] || usage; repeats=$2; shift ;;
		-s) [ $# -ge 2 ] || usage; servers=$2; shift ;;
		*) usage ;;
		esac
		shift
	done
}
parse_args "$@"

die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

if [ $quick = yes ]; then
	: "${repeats:=1}"
	: "${out:=$(pwd)/results-quick}"
	hit_secs=2		# a timed run over the hot set, UDP
	tcp_secs=1		# the same over TCP (and DoT)
	hs_secs=1		# new TLS connections
	lat_secs=1		# a paced run for latency
	miss_tcp=no		# misses over TCP
	zero_loss_search=no	# step -Q down after a run with losses
else
	: "${repeats:=5}"
	: "${out:=$here/results}"
	hit_secs=5
	tcp_secs=4
	hs_secs=3
	lat_secs=3
	miss_tcp=yes
	zero_loss_search=yes
fi
: "${servers:=$all_servers}"
lat_rate=1000		# queries per second of the paced latency runs
origin=bench.test.
names=10000		# names in the zone
hot=1000		# names in the hot set
upstream_port=53530	# NSD, the upstream of every forwarder
sut_port=53531		# the server under test
sut_tls_port=53534	# its DNS-over-TLS listener (unbound, miodnsd)
probe_upstream_port=53532
probe_port=53533

# ---- packages and the network namespace ---------------------------------------

# The commands and the Debian packages that hold them. dnsmasq-base is the
# program without the service that the dnsmasq package enables.
need="dnsperf:dnsperf nsd:nsd dnsmasq:dnsmasq-base unbound:unbound dig:bind9-dnsutils"

install_missing() {
	missing=
	for pair in $need; do
		have "${pair%%:*}" || missing="$missing ${pair#*:}"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] ||
		die "missing commands; install the Debian packages$missing (or run as root)"
	note "installing:$missing"
	# Installing nsd or unbound may enable and start their services on
	# port 53; the benchmark neither uses nor needs them, and runs on other
	# ports in its own network namespace.
	DEBIAN_FRONTEND=noninteractive
	export DEBIAN_FRONTEND
	apt-get update -qq >/dev/null &&
		apt-get install -y -qq $missing >/dev/null ||
		die "apt-get install$missing failed"
}

if [ "${MIODNS_BENCH_NETNS:-}" = "" ]; then
	install_missing
	MIODNS_BENCH_NETNS=host
	export MIODNS_BENCH_NETNS
	if [ $use_netns = yes ] && [ "$(id -u)" = 0 ] && have unshare &&
	    have ip && unshare --net true 2>/dev/null; then
		MIODNS_BENCH_NETNS=private
		exec unshare --net -- sh "$here/run.sh" "$@"
	fi
	[ $use_netns = yes ] &&
		note "no private network namespace (needs root and unshare): using the machine's loopback"
fi
if [ "$MIODNS_BENCH_NETNS" = private ]; then
	ip link set lo up || die "ip link set lo up failed"
fi

# ---- the daemon ----------------------------------------------------------------

if [ -z "$miodnsd" ]; then
	for m in daemon/miodnsd "$top/_build/daemon/miodnsd"; do
		if [ -x "$m" ]; then
			miodnsd=$m
			break
		fi
	done
fi
[ -n "$miodnsd" ] && [ -x "$miodnsd" ] ||
	die "no miodnsd to measure: build it (make) or name it with -m"
case $miodnsd in /*) ;; *) miodnsd=$(pwd)/$miodnsd ;; esac

# CPU pinning, as on one core: the server on CPU 0, dnsperf and the NSD
# upstream on CPU 1. Servers with two threads get both CPUs.
if have taskset && [ "$(nproc)" -ge 2 ]; then
	server_cpu=0
	client_cpu=1
else
	server_cpu=all
	client_cpu=all
fi
hz=$(getconf CLK_TCK)

mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
srv_pid=
srv_cpus=all
upstream_pid=

cleanup() {
	[ -n "$srv_pid" ] && stop_pid "$srv_pid"
	[ -n "$upstream_pid" ] && stop_pid "$upstream_pid"
	srv_pid=
	upstream_pid=
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- processes -----------------------------------------------------------------

# Runs "$@" on the CPUs named by $1 ("all" for no pinning).
on_cpus() {
	cpus=$1
	shift
	if [ "$cpus" = all ]; then
		"$@"
	else
		taskset -c "$cpus" "$@"
	fi
}

proc_tree() {
	cat /proc/[0-9]*/stat 2>/dev/null |
	    awk -v root="$1" -v what="${2:-ticks}" -f "$here/proctree.awk"
}

# CPU ticks of a process and its descendants, 0 when there is none.
tree_ticks() {
	[ -n "$1" ] && proc_tree "$1" || echo 0
}

# VmHWM in KiB summed over a process and its descendants.
tree_hwm() {
	for p in $(proc_tree "$1" pids); do
		sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' \
		    "/proc/$p/status" 2>/dev/null
	done | awk '{ s += $1 } END { print s + 0 }'
}

# Busy ticks of the whole machine (steal included: time lost to other
# guests is noise too).
machine_busy() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# True while $1 runs (a zombie has exited).
alive() {
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$state" ] && [ "$state" != Z ]
}

# Stops a server started here: SIGTERM, then SIGKILL after 5 seconds, and
# whatever it forked.
stop_pid() {
	sp_kids=$(proc_tree "$1" pids || true)
	kill -TERM "$1" 2>/dev/null || true
	i=0
	while alive "$1" && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	# What it forked should have gone with it; whatever is left is killed,
	# and waited for (it is not this shell's child): the next server needs
	# the port.
	for sig in TERM KILL; do
		for k in $sp_kids; do
			[ "$k" = "$1" ] && continue
			kill -$sig "$k" 2>/dev/null || true
			i=0
			while alive "$k" && [ $i -lt 30 ]; do
				sleep 0.1
				i=$((i + 1))
			done
		done
	done
}

# render TEMPLATE OUTPUT WORD=value...: the template with @WORD@ replaced.
render() {
	r_in=$here/$1
	r_out=$2
	shift 2
	r_sed=
	for kv in "$@"; do
		r_sed="$r_sed;s|@${kv%%=*}@|${kv#*=}|g"
	done
	sed -e "${r_sed#;}" "$r_in" >"$r_out"
}

# dig one question; prints the answer section's records (+short).
ask() {
	dig +tries=1 +time=1 +short @127.0.0.1 -p "$1" "$2" "${3:-A}" 2>/dev/null
}

# wait_ready PORT PID: until the server answers ns1 (a name in no query
# file, so that no workload finds it cached), at most 15 seconds.
wait_ready() {
	i=0
	while [ $i -lt 150 ]; do
		alive "$2" || return 1
		[ "$(ask "$1" "ns1.$origin")" = 127.0.0.1 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# start NAME PORT UPSTREAM_PORT [extra miodnsd options...]: starts a server
# in the background and sets started_pid once it answers.
start() {
	s_name=$1
	s_port=$2
	s_up=$3
	shift 3
	s_dir=$tmp/$s_name-$s_port
	rm -rf "$s_dir"
	mkdir -p "$s_dir"
	s_cpus=$server_cpu
	case $s_name in
	nsd|nsd-upstream)
		[ $s_name = nsd-upstream ] && s_cpus=$client_cpu
		render nsd.conf.in "$s_dir/nsd.conf" PORT="$s_port" \
		    DIR="$s_dir" ORIGIN="$origin" ZONEFILE="$tmp/bench.zone"
		set -- nsd -d -c "$s_dir/nsd.conf" ;;
	dnsmasq|dnsmasq-nocache)
		s_cache=50000
		[ $s_name = dnsmasq-nocache ] && s_cache=0
		render dnsmasq.conf.in "$s_dir/dnsmasq.conf" PORT="$s_port" \
		    UPSTREAM_PORT="$s_up" CACHE=$s_cache
		# Stay the user who runs this: the package's dnsmasq user
		# exists only with the service.
		set -- dnsmasq -k -C "$s_dir/dnsmasq.conf" \
		    --user="$(id -un)" --group="$(id -gn)" ;;
	unbound|unbound-2t)
		s_threads=1
		if [ $s_name = unbound-2t ]; then
			s_threads=2
			s_cpus=all
		fi
		render unbound.conf.in "$s_dir/unbound.conf" PORT="$s_port" \
		    UPSTREAM_PORT="$s_up" DIR="$s_dir" ORIGIN="$origin" \
		    THREADS=$s_threads
		[ $has_tls = yes ] && tls_unbound >>"$s_dir/unbound.conf"
		set -- unbound -d -c "$s_dir/unbound.conf" ;;
	miodnsd*)
		[ $s_name = miodnsd-2t ] && s_cpus=all
		render miodnsd.conf.in "$s_dir/miodnsd.conf" PORT="$s_port" \
		    UPSTREAM_PORT="$s_up"
		# The cache's size, when it has one, and the thread setting.
		case $s_name in
		miodnsd|miodnsd-2t) s_more=$cache_conf ;;
		miodnsd-nocache) s_more=$nocache_conf ;;
		*) s_more= ;;
		esac
		[ $has_tls = yes ] && [ "$s_name" != miodnsd-probe ] &&
			s_more="$s_more
$tls_conf"
		for line in "$s_more" "$conf_extra"; do
			[ -z "$line" ] || printf '%s\n' "$line" >>"$s_dir/miodnsd.conf"
		done
		set -- "$miodnsd" -c "$s_dir/miodnsd.conf" -q "$@" ;;
	*)
		die "unknown server $s_name" ;;
	esac
	[ "$s_cpus" = all ] || set -- taskset -c "$s_cpus" "$@"
	# exec: the PID is the server's own (taskset execs it too), not a
	# subshell's, so that it can be stopped by signal and waited for.
	exec "$@" >"$s_dir/log" 2>&1 &
	started_pid=$!
	if ! wait_ready "$s_port" $started_pid; then
		note "$s_name did not start or does not answer: $*"
		sed 's/^/    /' "$s_dir/log" >&2
		stop_pid $started_pid
		started_pid=
		return 1
	fi
}

# ---- DNS over TLS ----------------------------------------------------------------

# unbound's TLS listener, added to its configuration: a second server:
# clause (unbound merges them) with the benchmark's certificate.
tls_unbound() {
	printf 'server:\n\tinterface: 127.0.0.1@%s\n\ttls-port: %s\n' \
	    $sut_tls_port $sut_tls_port
	printf '\ttls-service-key: "%s"\n\ttls-service-pem: "%s"\n' \
	    "$tmp/certs/server.key" "$tmp/certs/server.pem"
}

# Certificates (t/tls-certs.sh), and whether miodnsd takes listen-tls;
# sets tls_conf, the lines its configuration gets.
probe_tls() {
	mkdir -p "$tmp/certs"
	if ! have openssl || ! sh "$top/t/tls-certs.sh" "$tmp/certs"; then
		support tls unknown "no certificates: no openssl, or t/tls-certs.sh failed"
		return 0
	fi
	tls_conf="listen-tls 127.0.0.1:$sut_tls_port
tls-cert $tmp/certs/server.pem
tls-key $tmp/certs/server.key"
	printf '%s\n' "$tls_conf" >"$tmp/tls.conf"
	if "$miodnsd" -n -c "$tmp/tls.conf" -l 127.0.0.1:$probe_port \
	    -u 127.0.0.1:$upstream_port >"$tmp/probe.out" 2>&1; then
		has_tls=yes
		support tls yes "listen-tls accepted; dnsperf -m dot against miodnsd and unbound"
	else
		support tls "not supported yet" "listen-tls refused: $(head -1 "$tmp/probe.out")"
	fi
}

# measure_handshakes REPEAT SERVER: full TLS handshakes, one connection
# each (openssl s_time -new) for hs_secs, and the server's CPU time;
# appends a "handshake dot" line to raw.tsv: qps is handshakes per second,
# q_per_cpu_s handshakes per CPU-second of the server.
measure_handshakes() {
	alive "$srv_pid" || return 0
	h_s0=$(tree_ticks "$srv_pid")
	h_w0=$(date +%s.%N)
	on_cpus "$client_cpu" openssl s_time -connect 127.0.0.1:$sut_tls_port \
	    -new -time $hs_secs >"$tmp/s_time.out" 2>&1 || true
	h_w1=$(date +%s.%N)
	h_s1=$(tree_ticks "$srv_pid")
	h_n=$(sed -n 's/^\([0-9]*\) connections in [0-9]* real seconds.*/\1/p' \
	    "$tmp/s_time.out" | tail -1)
	if [ -z "$h_n" ]; then
		note "openssl s_time failed against $2"
		return 0
	fi
	awk -v OFS='\t' -v r="$1" -v s="$2" -v n="$h_n" -v hz="$hz" \
	    -v t="$((h_s1 - h_s0))" -v w="$h_w0 $h_w1" 'BEGIN {
		split(w, x, " ")
		wall = x[2] - x[1]
		print r, s, "handshake", "dot", "-", n, n, 0, "-",
		    sprintf("%.0f", n / wall), sprintf("%.2f", wall),
		    sprintf("%.2f", t / hz),
		    (t > 0 ? sprintf("%.0f", n / (t / hz)) : "-"),
		    "-", "-", "-", "-", "-", "-", "-", "-", "-",
		    "openssl s_time -new"
	}' >>"$out/raw.tsv"
	tail -1 "$out/raw.tsv" | awk -F'\t' '{
		printf "    %-15s %-8s %-4s %9s handshakes/s %8s per CPU-s\n",
		    $2, $3, $4, $10, $13 }' >&2
}

# The DoT rows of a server with a TLS listener: the hot set over 8 TLS
# connections (the cache is warm), then new connections.
measure_dot() {
	[ $has_tls = yes ] || return 0
	case $2 in unbound*|miodnsd|miodnsd-2t) ;; *) return 0 ;; esac
	measure $1 $2 hit dot sat "$3" -m dot -p $sut_tls_port \
	    -d "$tmp/q/hot.txt" -l $tcp_secs $sat
	measure_handshakes $1 $2
}

# ---- what miodnsd supports ----------------------------------------------------

# Options of the server variants that need a feature, set by the probes.
zone_args=
threads_args=
threads_conf=
conf_extra=
cache_conf=
nocache_conf=
has_cache=no
has_zone=no
has_threads=no
has_tls=no
tls_conf=

support() {
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$out/support.tsv"
	note "miodnsd $1: $2 ($3)"
}

probe_zone() {
	if ! "$miodnsd" -n -l 127.0.0.1:$probe_port \
	    -u 127.0.0.1:$upstream_port -z "$origin=$tmp/bench.zone" \
	    >"$tmp/probe.out" 2>&1; then
		support zone "not supported yet" "-z $origin=FILE refused: $(head -1 "$tmp/probe.out")"
		return 0
	fi
	if ! start miodnsd-probe $probe_port $probe_upstream_port \
	    -z "$origin=$tmp/bench.zone"; then
		support zone "not supported yet" "-z accepted by -n, but the daemon did not start or did not answer from the zone"
		return 0
	fi
	# The upstream given is not running: only the zone can answer, and
	# only an authoritative answer shows that it did.
	p_flags=$(dig +tries=1 +time=1 +norec @127.0.0.1 -p $probe_port \
	    "n00005.$origin" A 2>/dev/null | sed -n 's/^;; flags: \([^;]*\);.*/\1/p')
	p_answer=$(ask $probe_port "n00005.$origin")
	stop_pid $started_pid
	case " $p_flags " in
	*" aa "*)
		if [ "$p_answer" = 10.0.0.5 ]; then
			has_zone=yes
			zone_args="-z $origin=$tmp/bench.zone"
			support zone yes "-z ORIGIN=FILE, authoritative answers"
			return 0
		fi ;;
	esac
	support zone "not supported yet" "-z accepted, but no authoritative answer (flags: ${p_flags:-none}, answer: ${p_answer:-none})"
}

probe_threads() {
	if [ -n "$threads_option" ]; then
		candidates=$threads_option
	else
		candidates="--threads -T -j --workers conf:threads conf:workers conf:worker-threads"
	fi
	found=
	for c in $candidates; do
		case $c in
		conf:*)
			printf '%s 2\n' "${c#conf:}" >"$tmp/threads.conf"
			set -- -c "$tmp/threads.conf" ;;
		*)
			set -- "$c" 2 ;;
		esac
		if "$miodnsd" -n "$@" -l 127.0.0.1:$probe_port \
		    -u 127.0.0.1:$upstream_port >/dev/null 2>&1; then
			found=$c
			break
		fi
	done
	if [ -z "$found" ]; then
		support threads "not supported yet" "none of $candidates accepted (miodnsd -n)"
		return 0
	fi
	# start writes its own configuration file: a keyword is added to it.
	case $found in
	conf:*) t_args= t_conf="${found#conf:} 2" ;;
	*) t_args="$found 2" t_conf= ;;
	esac
	if ! start_threaded miodnsd-probe $probe_port $upstream_port; then
		support threads "not supported yet" "$found 2 accepted, but the daemon did not start with it"
		return 0
	fi
	t_count=$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$started_pid/status")
	stop_pid $started_pid
	if [ "${t_count:-1}" -ge 2 ]; then
		has_threads=yes
		threads_args=$t_args
		threads_conf=$t_conf
		support threads yes "$found 2: $t_count threads"
	else
		support threads "not supported yet" "$found 2 accepted, but the daemon runs ${t_count:-?} thread(s)"
	fi
}

# start_threaded NAME PORT UPSTREAM: start with the thread option found,
# command-line words (t_args) or a configuration line (t_conf).
start_threaded() {
	conf_extra=$t_conf
	start "$@" $t_args && rc=0 || rc=1
	conf_extra=
	return $rc
}

# An answer cache answers a question again after its upstream has gone.
probe_cache() {
	if ! start nsd $probe_upstream_port 0; then
		support cache unknown "the probe's NSD did not start"
		return 0
	fi
	p_nsd=$started_pid
	if ! start miodnsd-probe $probe_port $probe_upstream_port; then
		stop_pid $p_nsd
		support cache unknown "miodnsd did not start"
		return 0
	fi
	p_first=$(ask $probe_port "n00007.$origin" AAAA)
	stop_pid $p_nsd
	p_again=$(ask $probe_port "n00007.$origin" AAAA)
	stop_pid $started_pid
	if [ -n "$p_first" ] && [ "$p_again" = "$p_first" ]; then
		has_cache=yes
		support cache yes "an answer is given again after the upstream stopped"
		# Room for every answer of the zone, as the peers get, and the
		# cache turned off for the variant that forwards everything.
		printf 'cache-size 50000\ncache-bytes 67108864\n' >"$tmp/cache.conf"
		if "$miodnsd" -n -c "$tmp/cache.conf" -l 127.0.0.1:$probe_port \
		    -u 127.0.0.1:$upstream_port >/dev/null 2>&1; then
			cache_conf=$(cat "$tmp/cache.conf")
			nocache_conf="cache-size 0"
			support cache-settings yes "$(echo $cache_conf); off: $nocache_conf"
		else
			support cache-settings "not supported yet" "cache-size and cache-bytes refused: the default size"
		fi
	else
		support cache "not supported yet" "no answer once the upstream stopped: every query is forwarded"
	fi
}

# ---- one measurement -------------------------------------------------------------

printf 'repeat\tserver\tworkload\tproto\trate\tsent\tcompleted\tlost_pct\tnoerror_pct\tqps\twall_s\tserver_cpu_s\tq_per_cpu_s\tavg_us\tp50_us\tp99_us\tmax_us\tsamples\thwm_kb\tclient_cpu_s\tother_cpu_s\tload1\tnote\n' >"$tmp/raw.head"

# measure REPEAT SERVER WORKLOAD PROTO RATE NOTE dnsperf-options...
# One dnsperf run against the server under test; appends a line to raw.tsv
# and leaves lost_pct and qps set.
measure() {
	m_rep=$1 m_srv=$2 m_work=$3 m_proto=$4 m_rate=$5 m_note=$6
	shift 6
	lost_pct=- qps=-
	# Without a server every query would wait for its timeout.
	if [ -z "$srv_pid" ] || ! alive "$srv_pid"; then
		note "$m_srv is not running: no $m_work $m_proto run"
		return 0
	fi
	m_load=$(cut -d' ' -f1 /proc/loadavg)
	m_b0=$(machine_busy)
	m_w0=$(date +%s.%N)
	m_s0=$(tree_ticks "$srv_pid")
	m_u0=$(tree_ticks "$upstream_pid")
	if [ "$m_client" = all ]; then
		set -- dnsperf -s 127.0.0.1 -p $sut_port -T 1 -t 2 "$@"
	else
		set -- taskset -c "$m_client" dnsperf -s 127.0.0.1 \
		    -p $sut_port -T 1 -t 2 "$@"
	fi
	# dnsperf's own CPU time: the shell that runs it reads its cutime and
	# cstime once dnsperf has been waited for.
	m_c=$(sh -c 'o=$1; shift; "$@" >"$o" 2>&1
	    sed "s/^.*) //" /proc/$$/stat | awk "{ print \$14 + \$15 }"' \
	    sh "$tmp/perf.out" "$@")
	m_s1=$(tree_ticks "$srv_pid")
	m_u1=$(tree_ticks "$upstream_pid")
	m_w1=$(date +%s.%N)
	m_b1=$(machine_busy)
	m_hwm=$(tree_hwm "$srv_pid")
	m_parsed=$(sh "$here/dnsperf-parse.sh" "$tmp/perf.out")
	if ! alive "$srv_pid"; then
		m_note="${m_note:+$m_note; }the server died"
	fi
	case $m_parsed in
	-*)	note "dnsperf failed: $*"
		sed 's/^/    /' "$tmp/perf.out" | tail -5 >&2
		m_note="${m_note:+$m_note; }dnsperf failed" ;;
	esac
	printf '%s\n' "$m_parsed" | awk -F'\t' -v OFS='\t' -v hz="$hz" \
	    -v head="$m_rep	$m_srv	$m_work	$m_proto	$m_rate" \
	    -v s="$((m_s1 - m_s0))" -v u="$((m_u1 - m_u0))" \
	    -v b="$((m_b1 - m_b0))" -v c="$m_c" -v hwm="$m_hwm" \
	    -v load="$m_load" -v note="${m_note:--}" \
	    -v wall="$m_w0 $m_w1" '{
		split(wall, w, " ")
		# A server that died has no times left to read.
		cpu = s < 0 ? "-" : sprintf("%.2f", s / hz)
		qpc = (s > 0 && $2 != "-") ? sprintf("%.0f", $2 / (s / hz)) : "-"
		other = (b - s - u - c) / hz
		print head, $1, $2, $3, $4, $5, sprintf("%.2f", w[2] - w[1]),
		    cpu, qpc,
		    $7, $8, $9, $10, $11, hwm, sprintf("%.2f", c / hz),
		    sprintf("%.2f", other < 0 ? 0 : other), load, note
	}' >>"$out/raw.tsv"
	lost_pct=$(printf '%s\n' "$m_parsed" | cut -f3)
	qps=$(printf '%s\n' "$m_parsed" | cut -f5)
	tail -1 "$out/raw.tsv" | awk -F'\t' '{
		printf "    %-15s %-8s %-4s %-5s %9s QPS lost %5s%% %8s q/CPU-s  p99 %s us\n",
		    $2, $3, $4, $5, $10, $8, $13, $16 }' >&2
}

m_client=$client_cpu

# Moves a process and its descendants, every thread, to the CPUs $2.
repin() {
	[ -n "$1" ] || return 0
	for p in $(proc_tree "$1" pids || true); do
		taskset -a -p -c "$2" "$p" >/dev/null 2>&1 || true
	done
}

# A paced run for latency, with the server, the upstream and dnsperf free
# to run on any CPU: at 1,000 queries a second a pinned server has to wait
# for its CPU whenever something else runs there, and the p99 would show
# the machine's other work rather than the server's latency.
measure_paced() {
	if [ "$server_cpu" = all ]; then
		measure "$@"
		return 0
	fi
	every=0-$(($(nproc) - 1))
	[ "$srv_cpus" = all ] || repin "$srv_pid" "$every"
	repin "$upstream_pid" "$every"
	m_client=all
	measure "$@"
	m_client=$client_cpu
	[ "$srv_cpus" = all ] || repin "$srv_pid" "$srv_cpus"
	repin "$upstream_pid" "$client_cpu"
}

# A pass over the hot set that fills the cache; not measured.
warm() {
	on_cpus "$client_cpu" dnsperf -s 127.0.0.1 -p $sut_port -T 1 -t 2 \
	    -d "$tmp/q/hot.txt" -n 1 -c 8 -q 100 >/dev/null 2>&1 || true
}

# dnsperf keeps 100 queries outstanding (-q 100, -c 8 sockets or
# connections): saturation that cannot overrun the server's socket buffer,
# so a loss is a query the server dropped or never answered.
sat="-c 8 -q 100"
paced="-c 1 -q 10 -Q $lat_rate -v"

# When the run at saturation lost queries, steps the rate down (-Q) until a
# run of two seconds loses none; records that rate as "zeroloss".
step_down() {
	[ $zero_loss_search = yes ] || return 0
	awk -v l="$lost_pct" 'BEGIN { exit !(l > 0) }' || return 0
	for f in 0.9 0.75 0.5 0.25; do
		rate=$(awk -v q="$qps" -v f=$f 'BEGIN { printf "%d", q * f }')
		measure "$1" "$2" zeroloss udp "$rate" "stepped down" \
		    -d "$tmp/q/hot.txt" -l 2 $sat -Q "$rate"
		awk -v l="$lost_pct" 'BEGIN { exit !(l == 0) }' && return 0
	done
	return 0
}

restart() {
	stop_pid "$srv_pid"
	srv_pid=
	srv_start "$1"
}

srv_start() {
	case $1 in
	miodnsd-auth) start "$1" $sut_port $upstream_port $zone_args ;;
	miodnsd-2t)
		t_args=$threads_args t_conf=$threads_conf
		start_threaded "$1" $sut_port $upstream_port ;;
	*) start "$1" $sut_port $upstream_port ;;
	esac || return 1
	srv_pid=$started_pid
	srv_cpus=$s_cpus
}

# ---- sessions: one server, every workload -------------------------------------------

# A caching forwarder: misses first (the cache is empty), then the hot set,
# then after restarts the mixed load, paced misses and misses over TCP.
session_forwarder() {
	r=$1 s=$2 hn=
	if [ $s = miodnsd ] || [ $s = miodnsd-2t ]; then
		[ $has_cache = yes ] || hn="no cache: forwarded"
	fi
	srv_start $s || return 0
	measure $r $s miss udp sat "" -d "$tmp/q/miss.txt" -n 1 $sat
	warm
	measure $r $s hit udp sat "$hn" -d "$tmp/q/hot.txt" -l $hit_secs $sat
	step_down $r $s
	measure_paced $r $s lat-hit udp $lat_rate "$hn" -d "$tmp/q/hot.txt" \
	    -l $lat_secs $paced
	measure $r $s hit tcp sat "$hn" -m tcp -d "$tmp/q/hot.txt" \
	    -l $tcp_secs $sat
	measure_dot $r $s "$hn"
	restart $s || return 0
	warm
	measure $r $s mixed udp sat "" -d "$tmp/q/mixed.txt" -n 1 $sat
	restart $s || return 0
	measure_paced $r $s lat-miss udp $lat_rate "" -d "$tmp/q/miss.txt" \
	    -l $lat_secs $paced
	if [ $miss_tcp = yes ]; then
		restart $s || return 0
		measure $r $s miss tcp sat "" -m tcp -d "$tmp/q/miss.txt" \
		    -n 1 $sat
	fi
	stop_pid "$srv_pid"
	srv_pid=
}

# dnsmasq and miodnsd with their caches off: the hot set, every query
# forwarded.
session_nocache() {
	r=$1 s=$2
	srv_start $s || return 0
	measure $r $s hit udp sat "no cache: forwarded" \
	    -d "$tmp/q/hot.txt" -l $hit_secs $sat
	measure_paced $r $s lat-hit udp $lat_rate "no cache: forwarded" \
	    -d "$tmp/q/hot.txt" -l $lat_secs $paced
	measure $r $s hit tcp sat "no cache: forwarded" -m tcp \
	    -d "$tmp/q/hot.txt" -l $tcp_secs $sat
	stop_pid "$srv_pid"
	srv_pid=
}

# An authoritative server: the hot set, then every question of the zone,
# three passes ("miss" is only the name of the query file here; one pass is
# too short for the 10 ms ticks of /proc to time it well).
session_auth() {
	r=$1 s=$2
	srv_start $s || return 0
	measure $r $s hit udp sat "" -d "$tmp/q/hot.txt" -l $hit_secs $sat
	step_down $r $s
	measure_paced $r $s lat-hit udp $lat_rate "" -d "$tmp/q/hot.txt" \
	    -l $lat_secs $paced
	measure $r $s hit tcp sat "" -m tcp -d "$tmp/q/hot.txt" -l $tcp_secs $sat
	measure $r $s miss udp sat "" -d "$tmp/q/miss.txt" -n 3 $sat
	stop_pid "$srv_pid"
	srv_pid=
}

unsupported() {
	printf '%s\t%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\tnot supported yet: %s\n' \
	    all "$1" all "$2" >>"$out/raw.tsv"
	note "$1: not supported yet ($2)"
}

# ---- the machine ------------------------------------------------------------------

version_of() {
	case $1 in
	nsd) nsd -v 2>&1 | head -1 ;;
	unbound) unbound -V 2>&1 | sed -n 's/^Version /unbound /p' ;;
	dnsmasq) dnsmasq -v 2>&1 | head -1 | sed 's/  Copyright.*//' ;;
	dnsperf) dnsperf -h 2>&1 | sed -n 's/^Version /dnsperf /p' ;;
	miodnsd) "$miodnsd" -V 2>&1 | head -1 ;;
	esac
}

machine() {
	echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "mode:     $([ $quick = yes ] && echo quick || echo full)," \
	    "$repeats repeat(s); hot set ${hit_secs} s, TCP ${tcp_secs} s," \
	    "paced ${lat_secs} s at $lat_rate QPS; dnsperf $sat -T 1 -t 2"
	echo "servers:  $servers"
	echo "nproc:    $(nproc)"
	echo "cpu:      $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
	    "$(sed -n 's/^cpu MHz[[:space:]]*: //p' /proc/cpuinfo | head -1) MHz"
	grep -q '^flags.* hypervisor' /proc/cpuinfo &&
		echo "virtual:  yes (the hypervisor flag is set)"
	echo "kernel:   $(uname -sr)"
	echo "loadavg:  $(cut -d' ' -f1-3 /proc/loadavg) (at start)"
	echo "network:  $MIODNS_BENCH_NETNS namespace, loopback only"
	echo "pinning:  server CPU $server_cpu, dnsperf and the NSD upstream" \
	    "CPU $client_cpu (two-thread servers and paced runs: none)"
	echo "miodnsd:  $miodnsd"
	for p in miodnsd nsd unbound dnsmasq dnsperf; do
		echo "version:  $(version_of $p)"
	done
	return 0
}

# ---- the run ----------------------------------------------------------------------

note "zone of $names names and query files in $tmp"
sh "$here/gen-zone.sh" $origin $names >"$tmp/bench.zone"
sh "$here/gen-queries.sh" "$tmp/q" $origin $names $hot

rm -f "$out/support.tsv" "$out/raw.tsv"
printf 'feature\tstatus\tdetail\n' >"$out/support.tsv"
cp "$tmp/raw.head" "$out/raw.tsv"
started=$(date +%s)

start nsd-upstream $upstream_port 0 || die "the NSD upstream did not start"
upstream_pid=$started_pid
note "NSD upstream on 127.0.0.1:$upstream_port, PID $upstream_pid"

support forward yes "$(version_of miodnsd)"
probe_zone
probe_cache
probe_threads
probe_tls
machine >"$out/machine.txt"
cat "$out/support.tsv" | sed 1d | sed 's/^/support:  /' >>"$out/machine.txt"

run_servers=
for s in $servers; do
	case $s in
	miodnsd-auth)
		[ $has_zone = yes ] || {
			unsupported $s "miodnsd has no local zones (-z)"; continue; } ;;
	miodnsd-2t)
		[ $has_threads = yes ] || {
			unsupported $s "miodnsd has no worker threads"; continue; } ;;
	miodnsd-nocache)
		[ -n "$nocache_conf" ] || {
			unsupported $s "no cache to turn off: miodnsd itself forwards every query"
			continue; } ;;
	esac
	run_servers="$run_servers $s"
done

r=1
while [ $r -le "$repeats" ]; do
	for s in $(rotate $((r - 1)) $run_servers); do
		note "repeat $r of $repeats: $s"
		case $s in
		nsd|miodnsd-auth) session_auth $r $s ;;
		dnsmasq-nocache|miodnsd-nocache) session_nocache $r $s ;;
		*) session_forwarder $r $s ;;
		esac
	done
	r=$((r + 1))
done

echo "loadavg:  $(cut -d' ' -f1-3 /proc/loadavg) (at the end)" >>"$out/machine.txt"
echo "duration: $(( $(date +%s) - started )) s" >>"$out/machine.txt"

awk -F'\t' -v OFS='\t' -v mode=summary -f "$here/report.awk" \
    "$out/support.tsv" "$out/raw.tsv" >"$out/summary.tsv"
awk -F"\t" -v OFS="\t" -v mode=tables -v hot=$hot -v names=$names -v ncpu="$(nproc)" \
    -f "$here/report.awk" "$out/support.tsv" "$out/raw.tsv" >"$out/tables.md"
awk -F'\t' -v OFS='\t' -v mode=plot -f "$here/report.awk" \
    "$out/support.tsv" "$out/raw.tsv" >"$out/plot.tsv"
if have gnuplot; then
	gnuplot -e "dir='$out'" "$here/plot.gp" ||
		note "gnuplot failed; the tables are complete"
else
	note "no gnuplot: no plots"
fi
cat "$out/tables.md"
note "results in $out ($(( $(date +%s) - started )) s)"
