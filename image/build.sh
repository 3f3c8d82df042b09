#!/usr/bin/env bash
# build.sh BOARD — the appliance image of a board, into build/image/BOARD/
# (docs/images.md). The recipe is board/BOARD/image.conf:
#
#   IMAGE_KIND=qemu     kernel + initramfs + data disk for qemu-system:
#     vmlinuz           the pinned Debian 12 kernel, as packaged
#     initramfs.gz      busybox-static of the target arch as init and
#                       userland, image/rootfs/ (inittab, rcS, udhcpc hook,
#                       vigild-run), vigild, the board's modules
#     data-empty.img    the persistent data disk as flashed: ext4, empty
#   IMAGE_KIND=overlay  vigil-VERSION-BOARD-overlay.tar.gz, to unpack over
#                       a board's Debian / Raspberry Pi OS root file system:
#                       vigild, /etc/vigil.conf, the systemd unit and the
#                       sysvinit script (image/overlay/)
#   image.txt           version, inputs, and the sha256 of each output
#
# Same inputs, same bytes: every time stamp is SOURCE_DATE_EPOCH (the
# Makefile sets it to the last commit's time), archives are sorted and
# owned by root, gzip stores no name or time, and the data disk's UUID,
# hash seed and times are fixed.
#
# Environment: VIGIL_CACHE (downloads and unpacked kernels go to
# $VIGIL_CACHE/images), VERSION, VIGIL_GIT, SOURCE_DATE_EPOCH (set by
# the Makefile); IMAGE_OUT, another output directory (the
# reproducibility test builds a second copy there).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "image/build.sh: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: image/build.sh BOARD"
readonly BOARD=$1
readonly CONF=board/$BOARD/image.conf
[[ -r $CONF ]] || die "board $BOARD has no image recipe ($CONF)"
# shellcheck source=/dev/null
. "$CONF"
readonly CACHE=${VIGIL_CACHE:-$HOME/.cache/vigil}/images
readonly SDE=${SOURCE_DATE_EPOCH:-0}
readonly VERSION=${VERSION:-0.0.0} GIT=${VIGIL_GIT:-unknown}
readonly OUT=${IMAGE_OUT:-build/image/$BOARD}
readonly VIGILD=build/$BOARD/bin/vigild
[[ -x $VIGILD ]] || die "$VIGILD not built (make BOARD=$BOARD)"
export SOURCE_DATE_EPOCH=$SDE LC_ALL=C

deb_path() {
    local pkg=${1%%=*} ver=${1#*=}
    echo "$CACHE/debs/${pkg}_${ver//:/%3a}_${DEB_ARCH}.deb"
}

# The kernel and the chosen modules, unpacked once per package and module
# list into the cache (the full package is ~350 MB unpacked; only the
# kernel and a few MB of modules are kept).
kernel_dir() {
    local deb key dir tmp
    deb=$(deb_path "$KERNEL_DEB")
    key=$(printf '%s\n' "$(basename "$deb")" "$MODULES" "$(sha256sum image/kmods.py)" |
        sha256sum | cut -c1-12)
    dir=$CACHE/kernel/${KERNEL_DEB%%=*}-$DEB_ARCH-$key
    if [[ ! -f $dir/.done ]]; then
        rm -rf "$dir"
        tmp=$(mktemp -d "$CACHE/kernel/.unpack.XXXXXX")
        # shellcheck disable=SC2064  # $tmp now: ~350 MB if interrupted
        trap "rm -rf '$tmp'" EXIT
        dpkg-deb -x "$deb" "$tmp/pkg"
        mkdir -p "$tmp/out"
        cp "$tmp"/pkg/boot/vmlinuz-* "$tmp/out/vmlinuz"
        # shellcheck disable=SC2086  # a list of names
        image/kmods.py "$tmp"/pkg/lib/modules/* "$tmp/out/modules" $MODULES >&2
        touch "$tmp/out/.done"
        mv "$tmp/out" "$dir"
        rm -rf "$tmp"
        trap - EXIT
    fi
    echo "$dir"
}

busybox_bin() {
    local deb dir
    deb=$(deb_path "$BUSYBOX_DEB")
    dir=$CACHE/busybox/$(basename "$deb" .deb)
    if [[ ! -x $dir/busybox ]]; then
        rm -rf "$dir" && mkdir -p "$dir"
        dpkg-deb --fsys-tarfile "$deb" | tar -xO ./bin/busybox >"$dir/busybox.tmp"
        chmod 755 "$dir/busybox.tmp" && mv "$dir/busybox.tmp" "$dir/busybox"
    fi
    echo "$dir/busybox"
}

stage_qemu() {
    local stage=$1 kdir=$2 bb=$3
    cp -a image/rootfs/. "$stage/"
    mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,root} \
        "$stage/var/lib/vigil" "$stage/lib/modules"
    install -m 755 "$bb" "$stage/bin/busybox"
    ln -s busybox "$stage/bin/sh"
    ln -s bin/busybox "$stage/init"
    install -m 755 "$VIGILD" "$stage/usr/sbin/vigild"
    cp "$kdir"/modules/*.ko "$kdir/modules/load.list" "$stage/lib/modules/"
    echo "vigil-$BOARD" >"$stage/etc/hostname"
    echo "vigil $VERSION (git $GIT) $BOARD image of $(date -u -d "@$SDE" +%F)" \
        >"$stage/etc/vigil-release"
}

# An empty ext4 data disk, made without root; UUID and hash seed derived
# from the board, times from SOURCE_DATE_EPOCH, so it is reproducible.
data_disk() {
    local img=$1 uuid
    uuid=$(printf '%s' "vigil-data-$BOARD" | sha256sum |
        sed -E 's/^(.{8})(.{4}).(.{3}).(.{3})(.{12}).*/\1-\2-4\3-8\4-\5/')
    rm -f "$img"
    truncate -s 16M "$img"
    E2FSPROGS_FAKE_TIME=$SDE mke2fs -q -F -t ext4 -L vigil-data -U "$uuid" \
        -E "root_owner=0:0,hash_seed=$uuid" -b 1024 "$img"
}

manifest() {
    local f
    {
        echo "vigil $VERSION $BOARD image"
        echo "vigild: $GIT"
        echo "source_date_epoch: $SDE"
        [[ -z ${KERNEL_DEB:-} ]] || echo "kernel: $KERNEL_DEB ($DEB_ARCH)"
        [[ -z ${BUSYBOX_DEB:-} ]] || echo "busybox: $BUSYBOX_DEB ($DEB_ARCH)"
        [[ -z ${MODULES:-} ]] || echo "modules: $(tr '\n' ' ' <"$2/modules/load.list")"
        echo "sha256:"
        for f in "${@:3}"; do
            echo "  $(sha256sum "$OUT/$f" | cut -d' ' -f1)  $f  $(stat -c %s "$OUT/$f") bytes"
        done
    } >"$OUT/image.txt"
}

build_qemu() {
    local kdir bb stage
    image/fetch-debs.sh "$CACHE" "$DEB_ARCH" "$KERNEL_DEB" "$BUSYBOX_DEB"
    kdir=$(kernel_dir)
    bb=$(busybox_bin)
    stage=$OUT/stage
    rm -rf "$stage" && mkdir -p "$stage"
    stage_qemu "$stage" "$kdir" "$bb"
    image/mkcpio.py "$stage" "$OUT/initramfs.gz"
    cp "$kdir/vmlinuz" "$OUT/vmlinuz.tmp" && mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
    data_disk "$OUT/data-empty.img"
    rm -rf "$stage"
    manifest "$kdir" "$kdir" vmlinuz initramfs.gz data-empty.img
}

build_overlay() {
    local stage=$OUT/stage name=vigil-$VERSION-$BOARD-overlay.tar.gz
    rm -rf "$stage" && mkdir -p "$stage"
    cp -a image/overlay/. "$stage/"
    install -D -m 755 "$VIGILD" "$stage/usr/sbin/vigild"
    install -D -m 644 "board/$BOARD/vigil.conf" "$stage/etc/vigil.conf"
    install -D -m 644 docs/boards.md "$stage/usr/share/doc/vigil/boards.md"
    # Top-level names only, no "./" entry: unpacking with tar -C / must
    # not touch / itself (nor replace a merged-/usr /lib symlink, hence
    # the unit under usr/lib).
    (cd "$stage" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | sort) >"$OUT/top.list"
    tar --sort=name --mtime="@$SDE" --owner=0 --group=0 --numeric-owner \
        --mode='go-w' -C "$stage" -T "$OUT/top.list" -cf - | gzip -9n >"$OUT/$name.tmp"
    rm -f "$OUT/top.list"
    mv "$OUT/$name.tmp" "$OUT/$name"
    rm -rf "$stage"
    manifest "" "" "$name"
}

mkdir -p "$OUT" "$CACHE/kernel"
case $IMAGE_KIND in
qemu) build_qemu ;;
overlay) build_overlay ;;
*) die "$CONF: IMAGE_KIND must be qemu or overlay" ;;
esac
echo "image $BOARD: $OUT"
sed -n '/^sha256:/,$p' "$OUT/image.txt" | tail -n +2
