#!/bin/sh
# t/tls.sh - runs t/tls, miodnsd's TLS engine test, on certificates made
# for it by t/tls-certs.sh in a temporary directory. Skips when miodnsd's
# TLS support was not built (configure found no OpenSSL 3, or
# --disable-tls) or when there is no openssl command to make certificates.
# Other TLS tests source it with tls_prog set to their program's name.
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
: "${tls_prog:=tls}"
if [ ! -x "$top_builddir/t/$tls_prog" ]; then
	echo "1..0 # SKIP built without TLS (OpenSSL 3)"
	exit 0
fi
if ! command -v openssl >/dev/null 2>&1; then
	echo "1..0 # SKIP no openssl command to make certificates"
	exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
if ! sh "$top_srcdir/t/tls-certs.sh" "$tmp"; then
	echo "Bail out! t/tls-certs.sh failed: $(tail -n 3 "$tmp/openssl.err" 2>/dev/null)"
	exit 1
fi
"$top_builddir/t/$tls_prog" "$tmp"
