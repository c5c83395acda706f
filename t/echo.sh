#!/bin/sh
# t/echo.sh - docs/examples/echo serves TCP and UDP echo over IPv4 and
# IPv6: started on port 0 it prints the ports it got, and its own client
# mode (-c) talks to them. IPv6 is skipped when ::1 cannot be bound.
set -u
: "${top_builddir:=.}"
echo_bin=$top_builddir/docs/examples/echo
tmp=$(mktemp -d) || exit 1
pids=
serving=
cleanup() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
n=0

result() { # status description
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
	fi
}

skip_n() { # count reason
	i=0
	while [ $i -lt "$1" ]; do
		n=$((n + 1))
		i=$((i + 1))
		echo "ok $n # SKIP $2"
	done
}

# start NAME ADDRESS: runs a server on ADDRESS port 0 and collects the
# lines it prints before "ready" in $tmp/NAME.ports. Reading its output
# through a FIFO waits exactly as long as the server needs: no sleeping.
start() {
	mkfifo "$tmp/$1.fifo" || return 1
	"$echo_bin" "$2" 0 >"$tmp/$1.fifo" 2>"$tmp/$1.err" &
	pid=$!
	pids="$pids $pid"
	: >"$tmp/$1.ports"
	while IFS= read -r line; do
		if [ "$line" = ready ]; then
			serving="$serving $pid"
			return 0
		fi
		echo "$line" >>"$tmp/$1.ports"
	done <"$tmp/$1.fifo"
	return 1
}

# port NAME PROTO: the port the server printed for PROTO.
port() {
	awk -v p="$2" '$1 == p { print $3; exit }' "$tmp/$1.ports"
}

# exchange PROTO ADDRESS PORT MESSAGE: the client's reply must be MESSAGE.
exchange() {
	reply=$("$echo_bin" -c "$1" "$2" "$3" "$4" 2>"$tmp/client.err")
	[ $? -eq 0 ] && [ "$reply" = "$4" ]
}

big=$(awk 'BEGIN { for (i = 0; i < 6000; i++) printf "0123456789" }')

family() { # NAME ADDRESS
	tcp=$(port "$1" tcp)
	udp=$(port "$1" udp)
	[ -n "$tcp" ] && [ "$tcp" != 0 ] && [ -n "$udp" ] && [ "$udp" != 0 ]
	result $? "$1: the server printed its TCP ($tcp) and UDP ($udp) ports"
	exchange tcp "$2" "$tcp" "hello over tcp"
	result $? "$1: TCP echo"
	exchange udp "$2" "$udp" "hello over udp"
	result $? "$1: UDP echo"
	exchange tcp "$2" "$tcp" "$big"
	result $? "$1: TCP echo of 60000 bytes, through a 4 KiB buffer"
}

echo "1..9"
if start v4 127.0.0.1; then
	family v4 127.0.0.1
else
	result 1 "v4: the server did not start: $(cat "$tmp/v4.err")"
	skip_n 3 "no IPv4 server"
fi
if start v6 ::1; then
	family v6 ::1
elif grep -q -e EADDRNOTAVAIL -e EAFNOSUPPORT "$tmp/v6.err"; then
	skip_n 4 "::1 is not available: $(cat "$tmp/v6.err")"
else
	result 1 "v6: the server did not start: $(cat "$tmp/v6.err")"
	skip_n 3 "no IPv6 server"
fi
alive=0
for pid in $serving; do
	kill -0 "$pid" 2>/dev/null || alive=1
done
result $alive "the servers survived every client"
