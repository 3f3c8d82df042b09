#!/usr/bin/env bash
# make-certs.sh OUTDIR — test PKI for tests/toolchain/tls_loopback.c.
#
# Writes ca.crt/ca.key, server.crt/server.key (CN=localhost, SAN DNS:localhost
# and IP:127.0.0.1) and client.crt/client.key, all ECDSA P-256 signed with
# SHA-256 — the only curve and hash the project's mbedTLS config verifies.
# Idempotent: existing files are kept, so repeated `make check` runs and the
# four targets of one run share the same PKI.
set -euo pipefail

readonly DAYS=3650

die() { echo "make-certs.sh: $*" >&2; exit 1; }

# Named-curve P-256 key in PKCS#8 PEM (mbedTLS parses PKCS#8 unencrypted).
new_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -pkeyopt ec_param_enc:named_curve -out "$1" 2>/dev/null
}

make_ca() {
    new_key ca.key
    openssl req -x509 -new -key ca.key -sha256 -days "$DAYS" \
        -subj "/O=vigil test/CN=vigil test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out ca.crt
}

# make_leaf NAME SUBJECT EXTFILE-CONTENT
make_leaf() {
    local name=$1 subj=$2 ext=$3
    new_key "$name.key"
    openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
    printf '%s\n' "$ext" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key \
        -CAcreateserial -sha256 -days "$DAYS" -extfile "$name.ext" \
        -out "$name.crt" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}

main() {
    [[ $# -eq 1 ]] || die "usage: make-certs.sh OUTDIR"
    command -v openssl >/dev/null || die "openssl not found (toolchain/packages.txt)"
    mkdir -p "$1"
    cd "$1"
    if [[ -s ca.crt && -s server.crt && -s server.key && -s client.crt && -s client.key ]]; then
        return 0
    fi
    # A partial set (interrupted run) is discarded: leaves must match the CA.
    rm -f ca.key ca.crt ca.srl server.* client.*
    make_ca
    make_leaf server "/O=vigil test/CN=localhost" \
        "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
    make_leaf client "/O=vigil test/CN=vigil-test-client" \
        "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
}

main "$@"
