#!/usr/bin/env bash
# fetch-sources.sh DESTDIR — get the pinned upstream sources of musl and
# mbedTLS from Debian trixie's source packages, verify them, unpack them.
#
#   DESTDIR/dl/    the downloaded source packages (.dsc, orig, debian tarball)
#   DESTDIR/src/   one pristine upstream tree per orig tarball: musl-1.2.5,
#                  mbedtls-3.6.6 (Debian's patches are not applied)
#
# What to fetch is defined by toolchain/sources.sha256 alone: each line names
# an upstream tarball <pkg>_<version>.orig.tar.<ext> and its sha256. To bump
# a version, change that file (see toolchain/README.md).
#
# Why trixie source packages: Debian 12 ships musl 1.2.3 and mbedTLS 2.28
# (no TLS 1.3); trixie has musl 1.2.5 and mbedTLS 3.6 LTS, and its mirror is
# the only network this build may use. apt runs with a private sources file
# and private state under DESTDIR/apt, so the system's apt configuration,
# lists and caches are untouched. No mirror name is written anywhere: the
# URI is copied at run time from the system's own apt sources.
#
# Re-runs: tarballs already in DESTDIR/dl with the right sha256 are not
# downloaded again (offline re-runs work); trees already unpacked are kept.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
readonly SUMS="$HERE/sources.sha256"
readonly SUITE=trixie

die() { echo "fetch-sources.sh: $*" >&2; exit 1; }

# Tarball names listed in sources.sha256 (second field).
tarballs() { awk 'NF == 2 { print $2 }' "$SUMS"; }

# musl_1.2.5.orig.tar.gz -> musl ; -> 1.2.5
pkg_of() { echo "${1%%_*}"; }
ver_of() { local v=${1#*_}; echo "${v%.orig.tar.*}"; }

# True if every tarball is in DIR and matches its sha256.
all_verified() {
    (cd "$1" && sha256sum --check --strict --quiet "$SUMS") >/dev/null 2>&1
}

# The Debian mirror this machine is configured with, as apt itself reads
# it from every sources file (sources.list and any *.list or *.sources in
# sources.list.d, whatever their names): the repository of the base suite
# (bookworm, not -updates or -security), else the first Debian one. Prints
# "URI SOURCESENTRY" (the file:line of its entry, for Signed-By below).
mirror_entry() {
    apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(ORIGIN) $(SOURCESENTRY)' 2>/dev/null |
        awk '$3 == "Debian" && $2 !~ /-/ { print $1, $4; found = 1; exit }
             $3 == "Debian" && !first { first = $1 " " $4 }
             END { if (!found && first) print first }'
}

# The Signed-By of that entry, so apt checks trixie against the same
# keyring: a deb822 stanza's field, or a one-line entry's [signed-by=...].
signed_by() {
    local file=${1%:*} line=${1##*:}
    [[ -r $file ]] || return 0
    if [[ $file == *.sources ]]; then
        awk -v from="$line" 'NR >= from && /^[[:space:]]*$/ { exit }
            NR >= from && /^Signed-By:/ { print $2; exit }' "$file"
    else
        sed -n "${line}s/.*signed-by=\([^] ]*\).*/\1/p" "$file"
    fi
}

write_sources() {
    local file=$1 uri entry key
    read -r uri entry < <(mirror_entry) || true
    [[ -n ${uri:-} ]] || die "no Debian mirror in apt's sources (apt-get indextargets lists none)"
    key=$(signed_by "$entry")
    {
        echo "Types: deb-src"
        echo "URIs: $uri"
        echo "Suites: $SUITE"
        echo "Components: main"
        [[ -z $key ]] || echo "Signed-By: $key"
    } >"$file"
}

# apt-get with every path redirected into DESTDIR/apt.
private_apt() {
    local state=$APTDIR
    local -a opts=(
        -o "Dir::Etc::SourceList=$state/vigil-src.sources"
        -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$state/lists"
        -o "Dir::Cache=$state/cache"
        -o "Dir::Cache::archives=$state/cache/archives"
    )
    if [[ $(id -u) -eq 0 ]]; then
        # apt would drop to _apt, which cannot enter e.g. /root/.cache and
        # then warns and downloads as root anyway; say so up front. The
        # InRelease signature and our own sha256 check still apply.
        opts+=(-o APT::Sandbox::User=root)
    else
        # Non-root: our own lock files live in $state; skip the system's.
        opts+=(-o Debug::NoLocking=1)
    fi
    apt-get -q "${opts[@]}" "$@"
}

download() {
    local dl=$1 log=$APTDIR/apt.log t
    local -a pkgs=()
    mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
    write_sources "$APTDIR/vigil-src.sources"
    for t in $(tarballs); do pkgs+=("$(pkg_of "$t")"); done
    if ! private_apt update >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "apt-get update of the $SUITE deb-src index failed"
    fi
    # By name (the newest in the suite), then the orig tarball name and the
    # sha256 below pin the upstream version: a Debian-only revision bump
    # still matches, an upstream bump fails loudly.
    if ! (cd "$dl" && private_apt source --download-only "${pkgs[@]}") >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "apt-get source ${pkgs[*]} failed"
    fi
}

verify() {
    local dl=$1 t
    for t in $(tarballs); do
        [[ -f $dl/$t ]] || die "$t not found in $dl: the $SUITE source package moved to another upstream version? (toolchain/README.md: bumping a version)"
    done
    if ! (cd "$dl" && sha256sum --check --strict --quiet "$SUMS"); then
        die "sha256 mismatch in $dl (see above): refusing to build from unverified sources"
    fi
}

# Unpacks one tarball into src/<pkg>-<version>, via a temporary directory so
# an interrupted run never leaves a half tree under the final name.
unpack() {
    local dl=$1 src=$2 t=$3 name tmp top
    name="$(pkg_of "$t")-$(ver_of "$t")"
    [[ -d $src/$name ]] && return 0
    tmp=$(mktemp -d "$src/.unpack.XXXXXX")
    tar -xf "$dl/$t" -C "$tmp"
    top=$(find "$tmp" -mindepth 1 -maxdepth 1)
    [[ $(wc -l <<<"$top") -eq 1 && -d $top ]] || die "$t: expected one top-level directory"
    mv "$top" "$src/$name"
    rm -rf "$tmp"
}

main() {
    [[ $# -eq 1 ]] || die "usage: fetch-sources.sh DESTDIR"
    [[ -r $SUMS ]] || die "cannot read $SUMS"
    mkdir -p "$1"
    local dest t
    dest=$(cd "$1" && pwd)
    APTDIR=$dest/apt
    mkdir -p "$dest/dl" "$dest/src"
    if ! all_verified "$dest/dl"; then
        download "$dest/dl"
    fi
    verify "$dest/dl"
    rm -rf "$APTDIR"    # ~25 MB of index, needed only for the download
    rm -rf "$dest"/src/.unpack.*
    for t in $(tarballs); do unpack "$dest/dl" "$dest/src" "$t"; done
}

main "$@"
