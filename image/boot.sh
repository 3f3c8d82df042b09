#!/usr/bin/env bash
# boot.sh BOARD [--data IMG] [--coap-port N] [--quiet] [-- QEMU-ARGS...]
# `make boot`: boots the board's image (image/build.sh) under qemu-system,
# TCG, no KVM, with the serial console on this terminal (Ctrl-A X quits,
# Ctrl-A C toggles qemu's monitor) and vigild's CoAP port forwarded to
# 127.0.0.1 on the host. The image's data disk is a copy of
# data-empty.img, build/image/BOARD/data.img, kept between boots like a
# board's flash (delete it to start afresh). tests/e2e boots the same way,
# with its own disk and port and a QMP socket after `--`.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "image/boot.sh: $*" >&2; exit 1; }

[[ $# -ge 1 ]] || die "usage: image/boot.sh BOARD [--data IMG] [--coap-port N] [--quiet] [-- QEMU-ARGS...]"
readonly BOARD=$1
shift
readonly DIR=build/image/$BOARD
[[ -r board/$BOARD/image.conf ]] || die "board $BOARD has no image recipe"
# shellcheck source=/dev/null
. "board/$BOARD/image.conf"
[[ $IMAGE_KIND == qemu ]] || die "$BOARD is not a qemu board (its image is an overlay)"

data=$DIR/data.img quiet=0
case $BOARD in   # one default port per board, so all three can run at once
qemu-x86_64) port=15683 ;;
qemu-aarch64) port=25683 ;;
*) port=35683 ;;
esac
while [[ $# -gt 0 ]]; do
    case $1 in
    --data) data=$2; shift 2 ;;
    --coap-port) port=$2; shift 2 ;;
    --quiet) quiet=1; shift ;;
    --) shift; break ;;
    *) die "unknown option $1" ;;
    esac
done
for f in vmlinuz initramfs.gz data-empty.img; do
    [[ -f $DIR/$f ]] || die "$DIR/$f missing: make image BOARD=$BOARD"
done
if [[ ! -f $data ]]; then
    cp "$DIR/data-empty.img" "$data"
fi

if ((!quiet)); then
    cat <<EOF
Booting $(sed -n 1p "$DIR/image.txt") (qemu $QEMU, TCG).
  data disk:    $data (kept between boots; delete it to start afresh)
  serial:       this terminal; vigild's console prompt is 'vigil>'.
                Ctrl-A X quits qemu, Ctrl-A C switches to its monitor.
  CoAP status:  build/host/bin/vigilctl status coap://127.0.0.1:$port
                coap-client-notls -m get coap://127.0.0.1:$port/status
EOF
fi
# shellcheck disable=SC2086  # QEMU_MACHINE is a list of arguments
exec "$QEMU" $QEMU_MACHINE -smp 1 -nographic -no-user-config -nodefaults \
    -serial mon:stdio \
    -kernel "$DIR/vmlinuz" -initrd "$DIR/initramfs.gz" \
    -append "console=$CONSOLE quiet panic=5" \
    -netdev "user,id=net0,hostfwd=udp:127.0.0.1:$port-:5683" \
    -device virtio-net-pci,netdev=net0,romfile= \
    -drive "file=$data,if=none,format=raw,id=data0" \
    -device virtio-blk-pci,drive=data0 \
    "$@"
