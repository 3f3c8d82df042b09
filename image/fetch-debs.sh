#!/usr/bin/env bash
# fetch-debs.sh CACHEDIR DEB_ARCH PKG=VERSION... — the pinned Debian 12
# binary packages an appliance image is made of (kernel, busybox-static),
# for the target's architecture, downloaded into CACHEDIR/debs/ and
# checked against image/debs.sha256.
#
# Why no `dpkg --add-architecture`: apt runs with private lists and cache
# (CACHEDIR/apt-ARCH) and APT::Architectures=ARCH, so a foreign package is
# downloaded exactly as with a foreign architecture added, but the
# machine's dpkg and apt state stay untouched and no root is needed. The
# sources are the machine's own apt sources (no mirror name is written
# anywhere). Packages already in CACHEDIR/debs with the right sha256 are
# not downloaded again: re-runs work offline.
#
# The apt file name holds package, version and architecture, so a changed
# pin is a different file (a stale download is never used), and the sha256
# list makes a changed or damaged file fail loudly.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
readonly SUMS="$HERE/debs.sha256"

die() { echo "fetch-debs.sh: $*" >&2; exit 1; }

# linux-image-6.1.0-50-amd64=6.1.176-1 amd64 -> its apt file name
deb_file() {
    local pkg=${1%%=*} ver=${1#*=}
    echo "${pkg}_${ver//:/%3a}_$2.deb"
}

# The expected sha256 of a file name, or nothing.
expected_sum() { awk -v f="$1" '$2 == f { print $1 }' "$SUMS"; }

verified() {
    local dir=$1 f=$2 want
    want=$(expected_sum "$f")
    [[ -n $want && -f $dir/$f ]] || return 1
    [[ $(sha256sum "$dir/$f" | cut -d' ' -f1) == "$want" ]]
}

private_apt() {
    local state=$1
    shift
    local -a opts=(
        -o "APT::Architectures=$ARCH" -o "APT::Architecture=$ARCH"
        -o "Dir::State::Lists=$state/lists"
        -o "Dir::State::status=/dev/null"
        -o "Dir::Cache=$state/cache"
        -o "Dir::Cache::archives=$state/cache/archives"
    )
    if [[ $(id -u) -eq 0 ]]; then
        # apt would drop to _apt, which cannot enter /root/.cache; the
        # InRelease signature and our sha256 list still apply.
        opts+=(-o APT::Sandbox::User=root)
    else
        opts+=(-o Debug::NoLocking=1)
    fi
    apt-get -q "${opts[@]}" "$@"
}

download() {
    local debs=$1 state=$CACHE/apt-$ARCH log
    shift
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
    log=$state/apt.log
    # One index that fails (a mirror mid-sync) need not matter: the
    # download below says whether what we pin was found.
    if ! private_apt "$state" update >"$log" 2>&1; then
        echo "fetch-debs.sh: apt-get update for $ARCH had errors (going on):" >&2
        grep -E '^(E|Err):' "$log" | head -n 5 >&2
    fi
    if ! (cd "$debs" && private_apt "$state" download "$@") >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "apt-get download $* failed: a pinned version no longer on the mirror? (docs/images.md: bumping the kernel)"
    fi
    rm -rf "$state"   # ~20 MB of index, needed only for the download
}

main() {
    [[ $# -ge 3 ]] || die "usage: fetch-debs.sh CACHEDIR DEB_ARCH PKG=VERSION..."
    CACHE=$1 ARCH=$2
    shift 2
    local debs=$CACHE/debs p f
    local -a missing=()
    mkdir -p "$debs"
    for p in "$@"; do
        f=$(deb_file "$p" "$ARCH")
        [[ -n $(expected_sum "$f") ]] || die "$f has no sha256 in $SUMS (add it when bumping a pin)"
        verified "$debs" "$f" || missing+=("${p%%=*}:$ARCH=${p#*=}")
    done
    ((${#missing[@]} == 0)) || download "$debs" "${missing[@]}"
    for p in "$@"; do
        f=$(deb_file "$p" "$ARCH")
        verified "$debs" "$f" || die "$debs/$f: missing or sha256 mismatch; refusing to build from it"
    done
}

main "$@"
