#!/bin/sh
# t/tls-certs.sh DIR - makes the certificates the TLS tests use, with
# `openssl req` and `openssl x509`, into DIR (which must exist):
#   ca.pem ca.key            a CA, valid for two days
#   server.pem server.key    dot.test, 127.0.0.1 and ::1, signed by the CA
#   wrong.pem wrong.key      other.test only: the wrong name for the tests
#   expired.pem expired.key  dot.test, whose validity ended a day ago
# P-256 keys: fast to make and to use. The configuration is written here,
# so the system's openssl.cnf cannot add or change extensions. An openssl
# that refuses a negative -days (it means "ended before it began") makes no
# expired.pem; the tests then skip what needs it. Exits non-zero, saying
# why on stderr, if any other certificate cannot be made.
set -eu
dir=$1
cd "$dir"
cat >openssl.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = miodnsd-test
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_dot]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:dot.test,IP:127.0.0.1,IP:::1
[leaf_other]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.test
CNF
newkey="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"

openssl req -x509 -config openssl.cnf -extensions ca $newkey \
	-keyout ca.key -out ca.pem -days 2 -subj /CN=miodnsd-test-ca 2>openssl.err

# leaf NAME CN EXTENSIONS DAYS
leaf() {
	openssl req -new -config openssl.cnf $newkey -keyout "$1.key" \
		-out "$1.csr" -subj "/CN=$2" 2>>openssl.err
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key \
		-CAcreateserial -days "$4" -extfile openssl.cnf \
		-extensions "$3" -out "$1.pem" 2>>openssl.err
}
leaf server dot.test leaf_dot 2
leaf wrong other.test leaf_other 2
leaf expired dot.test leaf_dot -1 || rm -f expired.pem expired.key
