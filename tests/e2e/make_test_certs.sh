#!/usr/bin/env bash
# Test certificates for the TLS end-to-end checks, made fresh with the openssl CLI (nothing
# secret is committed): a test CA, a server certificate it signs for localhost and 127.0.0.1
# (subjectAltName), one it signs for another name only (wrong.example), and an unrelated CA.
# usage: make_test_certs.sh DIR   (writes ca.pem, server.pem, server.key, wrong-host.pem,
#                                  wrong-host.key, other-ca.pem into DIR; keys are EC P-256)
set -euo pipefail
dir=${1:?usage: make_test_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=2
ca() { # NAME SUBJECT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
    -out "$1.pem" -days $days -subj "/CN=$2" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
leaf() { # NAME SAN
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
    -subj "/CN=phrony test server" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$2" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days $days \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca "phrony test CA"
ca other-ca "phrony untrusted test CA"
leaf server "DNS:localhost,IP:127.0.0.1"
leaf wrong-host "DNS:wrong.example"
rm -f other-ca.key ca.srl
