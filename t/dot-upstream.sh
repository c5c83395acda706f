#!/bin/sh
# t/dot-upstream.sh - runs t/dot-upstream (miodnsd's DNS-over-TLS upstream
# client against a DoT server of its own) on t/tls-certs.sh's certificates.
: "${top_srcdir:=.}"
tls_prog=dot-upstream
. "$top_srcdir/t/tls.sh"
