#!/usr/bin/env bash
# tests/interop/node-coap/install.sh — installs node-coap (the npm package
# `coap`, pinned with its dependencies by package-lock.json) into
# $VIGIL_CACHE/npm/<hash of the lock> (default ~/.cache/vigil), outside
# git, once; prints the directory that holds node_modules.
# Needs node and npm (Debian: the nodejs and npm packages).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${VIGIL_CACHE:-$HOME/.cache/vigil}/npm"
key=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-12)
dir="$cache/node-coap-$key"
if [[ ! -f "$dir/.done" ]]; then
    command -v npm >/dev/null || {
        echo "install.sh: npm not found (Debian: apt-get install nodejs npm)" >&2
        exit 1; }
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock 9
    if [[ ! -f "$dir/.done" ]]; then
        rm -rf "$dir.tmp"
        mkdir -p "$dir.tmp"
        cp "$here/package.json" "$here/package-lock.json" "$dir.tmp/"
        # npm ci: exactly the lock's versions and integrity hashes.
        # The machine's trust store, not only node's built-in CAs: a
        # site's proxy or mirror CA is installed there.
        local_ca=()
        [[ -r /etc/ssl/certs/ca-certificates.crt ]] &&
            local_ca=(--cafile /etc/ssl/certs/ca-certificates.crt)
        (cd "$dir.tmp" && npm ci --no-audit --no-fund --ignore-scripts \
            "${local_ca[@]}" --cache "$cache/npm-cache" >&2)
        rm -rf "$dir"
        mv "$dir.tmp" "$dir"
        touch "$dir/.done"
    fi
fi
echo "$dir"
