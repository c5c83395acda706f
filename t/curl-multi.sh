#!/bin/sh
# t/curl-multi.sh - docs/examples/curl-multi downloads several files at once
# from a local HTTP server (python3's http.server on 127.0.0.1, port 0) and
# every file arrives whole: the checksums match the served files.
#
# The server holds every request under /together/ until all of the run's
# requests have arrived (a barrier, 20 s at most, then 503), so the
# downloads pass only if the example really runs them concurrently. File
# sizes go from 0 bytes to a few MiB: the large ones need many reads after
# one readiness edge, which is what the example's drain loop is for.
# Skips when the example was not built (no libcurl) or python3 is missing.
set -u
: "${top_builddir:=.}"
bin=$top_builddir/docs/examples/curl-multi
if [ ! -x "$bin" ]; then
	echo "1..0 # SKIP docs/examples/curl-multi not built (configure found no libcurl)"
	exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP no python3 for the local HTTP server"
	exit 0
fi
# Only the local server: a proxy from the environment would send the
# requests elsewhere.
unset http_proxy https_proxy all_proxy ALL_PROXY HTTPS_PROXY
no_proxy='*'
export no_proxy
tmp=$(mktemp -d) || exit 1
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
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

cat >"$tmp/server.py" <<'EOF'
import functools, http.server, sys, threading
root, parties = sys.argv[1], int(sys.argv[2])
together = threading.Barrier(parties, timeout=20)

class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/together/"):
            try:
                together.wait()
            except threading.BrokenBarrierError:
                self.send_error(503, "the requests did not come together")
                return
        super().do_GET()

class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 64
    daemon_threads = True

server = Server(("127.0.0.1", 0), functools.partial(Handler, directory=root))
print(server.server_address[1], flush=True)
server.serve_forever()
EOF

# The files: 0 bytes to 5 MiB + 1, random content.
sizes="0 1 1000 65537 300000 1048576 3145731 5242881"
mkdir -p "$tmp/www/together" "$tmp/got" "$tmp/got404"
count=0
for size in $sizes; do
	head -c "$size" /dev/urandom >"$tmp/www/together/f$count"
	count=$((count + 1))
done
echo "hello" >"$tmp/www/present"

echo "1..$((count + 5))"

# Reading the port through a FIFO waits exactly until the server is bound.
mkfifo "$tmp/port.fifo" || exit 1
python3 "$tmp/server.py" "$tmp/www" "$count" >"$tmp/port.fifo" 2>"$tmp/server.err" &
server_pid=$!
port=
read -r port <"$tmp/port.fifo"
case $port in
'' | *[!0-9]*) port= ;;
esac
[ -n "$port" ]
result $? "the HTTP server is on 127.0.0.1 port ${port:-?} $(cat "$tmp/server.err")"
[ -n "$port" ] || exit 1

urls=
i=0
while [ $i -lt "$count" ]; do
	urls="$urls http://127.0.0.1:$port/together/f$i"
	i=$((i + 1))
done
# shellcheck disable=SC2086 # the URLs are split on purpose
timeout 120 "$bin" "$tmp/got" $urls >"$tmp/out" 2>"$tmp/err"
status=$?
result $status "$count concurrent downloads: exit $status $(cat "$tmp/err")"
ok200=$(awk '$2 == 200' "$tmp/out" | wc -l)
[ "$ok200" -eq "$count" ]
result $? "every transfer reported status 200 ($ok200 of $count): $(tr '\n' ';' <"$tmp/out")"

i=0
for size in $sizes; do
	want=$(sha256sum <"$tmp/www/together/f$i" | cut -d' ' -f1)
	got=$(sha256sum <"$tmp/got/$i" 2>/dev/null | cut -d' ' -f1)
	bytes=$(awk -v i=$i '$1 == i { print $3 }' "$tmp/out")
	[ "$want" = "$got" ] && [ "$bytes" = "$size" ]
	result $? "file $i ($size bytes) arrived whole: sha256 ${got:-none}, $bytes bytes reported"
	i=$((i + 1))
done

# A missing file fails its transfer, not the others, and the exit status.
timeout 60 "$bin" "$tmp/got404" "http://127.0.0.1:$port/missing" \
	"http://127.0.0.1:$port/present" >"$tmp/out404" 2>&1
status=$?
[ $status -eq 1 ] && grep -q '^0 404 ' "$tmp/out404" &&
	grep -q '^1 200 6 ' "$tmp/out404" && cmp -s "$tmp/got404/1" "$tmp/www/present"
result $? "a 404 fails the run (exit $status) but not the other download: $(tr '\n' ';' <"$tmp/out404")"

kill -0 "$server_pid" 2>/dev/null
result $? "the server is still running (stopped by PID at exit)"
