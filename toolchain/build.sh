#!/usr/bin/env bash
# build.sh TCDIR — build the whole vigil toolchain into TCDIR (absolute path).
#
#   TCDIR/fetch/               pinned, sha256-verified sources (fetch-sources.sh)
#   TCDIR/musl/<arch>/         static musl 1.2.5 sysroot + bin/musl-gcc wrapper,
#                              arch = x86_64 aarch64 armv7
#   TCDIR/mbedtls/<target>/    include/ + lib/libmbed{tls,x509,crypto}.a built
#                              with toolchain/vigil_mbedtls_config.h,
#                              target = x86_64 aarch64 armv7 (musl, -Os) and
#                              host (glibc gcc, -O2 -g -fPIC: unit tests with
#                              sanitizers, vigil-backupd, vigilctl)
#   TCDIR/logs/<step>.log      full output of each step
#   TCDIR/.done                written last; the Makefile builds only without it
#
# The Makefile names TCDIR after a hash of this script, fetch-sources.sh,
# sources.sha256 and the mbedTLS config, so any change to them builds a new
# toolchain and a finished TCDIR is never modified again.
#
# Re-runs: every piece (musl per arch, mbedTLS per target) deletes its build
# and output directories before it starts and leaves a stamp when it is
# complete, so after an interruption finished pieces are kept and the broken
# one is rebuilt from scratch. A lock makes concurrent builds of the same
# TCDIR wait for each other instead of interleaving.
#
# Parallelism: each piece runs make -j$(nproc); pieces run one after another
# (two cores are already busy with one make -j2).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
readonly CONFIG_DEFS=(-I "$HERE" "-DMBEDTLS_CONFIG_FILE=\"vigil_mbedtls_config.h\"")
# mbedTLS for the musl targets (vigild): no unwind tables (32 KB of
# .eh_frame in vigild on aarch64, and C needs none), and LTO code beside
# the plain code (-ffat-lto-objects): vigild links with -flto across vigil
# and mbedTLS, the unit tests link the plain code.  The archives are made
# with gcc-ar so that their index covers the LTO symbols.
readonly MUSL_CFLAGS="-Os -ffunction-sections -fdata-sections \
-fno-asynchronous-unwind-tables -fno-unwind-tables -flto -ffat-lto-objects"
readonly HOST_CFLAGS="-O2 -g -fPIC"
JOBS=$(nproc)
readonly JOBS
T0=$SECONDS

die() { echo "build.sh: $*" >&2; exit 1; }

# step NAME FUNC ARGS... — runs FUNC with its output in logs/NAME.log and
# prints one line with the elapsed time; on failure shows the log's tail and
# stops. FUNC runs in a fresh bash (this script with --run): a function
# called as an `if` condition would run with `set -e` silently disabled,
# and a failed configure must not carry on into make.
step() {
    local name=$1 log="$TC/logs/$1.log" t=$SECONDS
    shift
    printf 'toolchain: %-18s' "$name"
    if ! TC=$TC "$BASH" "${BASH_SOURCE[0]}" --run "$@" >"$log" 2>&1; then
        echo " FAILED after $((SECONDS - t))s; last lines of $log:"
        tail -n 30 "$log"
        die "step '$name' failed"
    fi
    echo " $((SECONDS - t))s"
}

# piece NAME CMD... — a step that is skipped when its stamp exists.
piece() {
    local name=$1
    if [[ -e $TC/stamps/$name ]]; then
        printf 'toolchain: %-18s done earlier\n' "$name"
        return 0
    fi
    step "$@"
    touch "$TC/stamps/$name"
}

# Cross prefix of each musl arch; x86_64 uses the host gcc.
cross_of() {
    case $1 in
        x86_64) echo "" ;;
        aarch64) echo "aarch64-linux-gnu-" ;;
        armv7) echo "arm-linux-gnueabihf-" ;;
        *) die "unknown arch $1" ;;
    esac
}

musl_target_of() {
    case $1 in
        x86_64) echo "x86_64-linux-gnu" ;;
        aarch64) echo "aarch64-linux-gnu" ;;
        armv7) echo "arm-linux-gnueabihf" ;;
    esac
}

# Fails fast (seconds, not minutes) if the config is inconsistent: mbedTLS's
# build_info.h includes check_config.h, which #errors on bad combinations.
check_config() {
    local src=$1
    echo '#include "mbedtls/build_info.h"' |
        gcc "${CONFIG_DEFS[@]}" -I "$src/include" -x c -fsyntax-only -
}

build_musl() {
    local arch=$1 src=$2 cross bld prefix
    cross=$(cross_of "$arch")
    bld=$TC/build/musl-$arch
    prefix=$TC/musl/$arch
    rm -rf "$bld" "$prefix"
    mkdir -p "$bld"
    cd "$bld"
    # Out of tree: the source tree stays pristine and shared by all arches.
    # x86_64: the host compiler, named explicitly (an empty CROSS_COMPILE
    # would make configure look for <target>-gcc). --enable-wrapper=gcc:
    # configure installs musl-gcc only when it finds the cross compiler's
    # glibc headers (libc6-dev-*-cross, a mere Recommends); we need the
    # wrapper whether or not they are there.
    if [[ -z $cross ]]; then
        CC=gcc AR=ar RANLIB=ranlib "$src/configure" --target="$(musl_target_of "$arch")" \
            --prefix="$prefix" --disable-shared --enable-wrapper=gcc
    else
        "$src/configure" --target="$(musl_target_of "$arch")" \
            CROSS_COMPILE="$cross" --prefix="$prefix" --disable-shared --enable-wrapper=gcc
    fi
    make -j"$JOBS"
    make install
    [[ -x $prefix/bin/musl-gcc ]]
    rm -rf "$bld"
}

# mbedTLS's make builds inside its tree, so each target gets its own copy of
# the parts that receive objects (library/, 3rdparty/) plus include/; the
# scripts it only references are linked.
prepare_mbedtls_tree() {
    local src=$1 bld=$2 d
    mkdir -p "$bld"
    cp -a "$src/library" "$src/3rdparty" "$src/include" "$bld/"
    for d in scripts framework; do ln -s "$src/$d" "$bld/$d"; done
}

mbedtls_cc_of() {
    case $1 in
        host) echo "gcc" ;;
        *) echo "$TC/musl/$1/bin/musl-gcc" ;;
    esac
}

build_mbedtls() {
    local target=$1 src=$2 bld out cflags ar
    bld=$TC/build/mbedtls-$target
    out=$TC/mbedtls/$target
    rm -rf "$bld" "$out"
    prepare_mbedtls_tree "$src" "$bld"
    if [[ $target == host ]]; then
        cflags=$HOST_CFLAGS ar=ar
    else
        cflags=$MUSL_CFLAGS ar="$(cross_of "$target")gcc-ar"
    fi
    # CFLAGS as one string: mbedTLS's Makefile expands it unquoted.
    make -C "$bld/library" -j"$JOBS" CC="$(mbedtls_cc_of "$target")" AR="$ar" \
        CFLAGS="$cflags -I$HERE -DMBEDTLS_CONFIG_FILE='\"vigil_mbedtls_config.h\"'" \
        libmbedcrypto.a libmbedx509.a libmbedtls.a
    mkdir -p "$out/lib"
    cp -a "$src/include" "$out/include"
    cp "$bld"/library/libmbed{tls,x509,crypto}.a "$out/lib/"
    rm -rf "$bld"
}

build_all() {
    local musl_src mbed_src arch target
    musl_src=$(echo "$TC"/fetch/src/musl-*)
    mbed_src=$(echo "$TC"/fetch/src/mbedtls-*)
    [[ -d $musl_src && -d $mbed_src ]] || die "sources missing under $TC/fetch/src"
    step config-check check_config "$mbed_src"
    for arch in x86_64 aarch64 armv7; do
        piece "musl-$arch" build_musl "$arch" "$musl_src"
    done
    for target in host x86_64 aarch64 armv7; do
        piece "mbedtls-$target" build_mbedtls "$target" "$mbed_src"
    done
}

fetch() { "$HERE/fetch-sources.sh" "$TC/fetch"; }

main() {
    if [[ ${1:-} == --run ]]; then   # internal: one step, see step()
        shift
        "$@"
        return
    fi
    [[ $# -eq 1 ]] || die "usage: build.sh TCDIR (absolute path)"
    [[ $1 == /* ]] || die "TCDIR must be an absolute path: $1"
    TC=${1%/}
    mkdir -p "$TC/logs" "$TC/stamps"
    exec 9>"$TC/.lock"
    flock 9     # another build of the same TCDIR finishes first
    if [[ -e $TC/.done ]]; then
        echo "toolchain: $TC already complete"
        return 0
    fi
    echo "toolchain: building into $TC (logs in $TC/logs)"
    step fetch fetch
    build_all
    rm -rf "$TC/build"
    touch "$TC/.done"
    echo "toolchain: total $((SECONDS - T0))s"
}

main "$@"
