#!/usr/bin/env bash
# install-packages.sh — make sure every package in toolchain/packages.txt is
# installed. Prints nothing and exits 0 when they all are (the Makefile runs
# this on every build, so the common case must be silent and fast: one
# dpkg-query call, no apt). Otherwise, as root, installs the missing ones
# from the configured mirror; as non-root, names them and fails.
set -euo pipefail

LIST="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/packages.txt"
readonly LIST

die() { echo "install-packages.sh: $*" >&2; exit 1; }

# Package names from the list: comments and blank lines dropped, and a
# "PKG unless-command CMD" line only where CMD is not on PATH.
wanted_packages() {
    local pkg word cmd
    while read -r pkg word cmd; do
        [[ -n $pkg ]] || continue
        if [[ $word == unless-command ]]; then
            command -v "$cmd" >/dev/null && continue
        elif [[ -n $word ]]; then
            die "packages.txt: cannot read '$pkg $word $cmd'"
        fi
        echo "$pkg"
    done < <(sed -e 's/#.*//' "$LIST")
}

# Prints the wanted packages dpkg does not report as installed.
missing_packages() {
    local installed
    # dpkg-query exits 1 if some name is unknown to it; those are missing.
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' \
        "$@" 2>/dev/null | awk '$2 == "installed" { print $1 }' || true)
    local p
    for p in "$@"; do
        grep -qxF "$p" <<<"$installed" || echo "$p"
    done
}

readonly LOCK_WAIT=300   # seconds: other jobs on this host may be running apt

# run_logged LOG CMD... — runs CMD with output in LOG; on failure shows the
# log's tail, because apt's real error is usually in the last lines. While
# another apt holds a lock, waits and retries (apt-get update has no lock
# timeout of its own; DPkg::Lock::Timeout only covers the dpkg lock).
run_logged() {
    local log=$1 waited=0
    shift
    until "$@" >"$log" 2>&1; do
        if grep -q 'Could not get lock' "$log" && ((waited < LOCK_WAIT)); then
            ((waited == 0)) && echo "install-packages.sh: apt is busy, waiting up to ${LOCK_WAIT}s"
            sleep 5
            waited=$((waited + 5))
            continue
        fi
        echo "install-packages.sh: '$*' failed; last lines of its output:" >&2
        tail -n 30 "$log" >&2
        return 1
    done
}

install_missing() {
    local log
    log=$(mktemp)
    # shellcheck disable=SC2064  # expand $log now: it is local
    trap "rm -f '$log'" EXIT
    echo "install-packages.sh: installing $*"
    run_logged "$log" apt-get -q update ||
        die "apt-get update failed"
    run_logged "$log" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout="$LOCK_WAIT" "$@" ||
        die "could not install: $*"
}

main() {
    [[ -r $LIST ]] || die "cannot read $LIST"
    command -v dpkg-query >/dev/null || die "dpkg-query not found: this script needs Debian"
    local -a wanted missing
    mapfile -t wanted < <(wanted_packages)
    mapfile -t missing < <(missing_packages "${wanted[@]}")
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ $(id -u) -ne 0 ]]; then
        die "missing packages: ${missing[*]}
  run as root: $0   (or: apt-get install --no-install-recommends ${missing[*]})"
    fi
    install_missing "${missing[@]}"
    mapfile -t missing < <(missing_packages "${wanted[@]}")
    [[ ${#missing[@]} -eq 0 ]] || die "still missing after install: ${missing[*]}"
}

main "$@"
