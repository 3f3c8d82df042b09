#!/usr/bin/env bash
# image_bench.sh — `make bench`'s image numbers: the size of each board's
# image (from its manifest, build/image/BOARD/image.txt), and for the qemu
# boards (TCG, no KVM, 1 vCPU each), the time from
# starting qemu to (a) the first answer to CoAP /status from the host
# (kernel, init, DHCP, vigild up) and (b) the first /status whose
# health.overall is "healthy" (every check confirmed). Each boot is a
# first boot on a fresh copy of the image's empty data disk with the
# image's own configuration, so (b) includes the default health timing:
# checks every 30 s, a state confirmed by 3 results in a row, which puts
# healthy about 60 s after vigild starts. The next board starts booting
# once the previous one answered, so boots never overlap (only the idle
# health waits do). Wall-clock times on a shared
# machine: compare them between runs, not against a limit.
set -euo pipefail
cd "$(dirname "$0")/../.."

readonly CTL=build/host/bin/vigilctl
readonly LIMIT=120   # seconds a boot may take before it counts as failed

sizes() {
    local b f
    for b in "$@"; do
        [[ -f build/image/$b/image.txt ]] || continue
        awk -v b="$b" '/bytes$/ { printf "  %-14s %-34s %10d bytes\n", b, $2, $3 }' \
            "build/image/$b/image.txt"
    done
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# boot_to_healthy BOARD FILE: writes "ANSWER_MS" to FILE.answer when
# /status first answers, then "ANSWER_MS HEALTHY_MS" to FILE; or fails.
boot_to_healthy() {
    local board=$1 file=$2 work port pid t0 doc answered=
    work=$(mktemp -d)
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cp "build/image/$board/data-empty.img" "$work/data.img"
    t0=$(now_ms)
    image/boot.sh "$board" --quiet --data "$work/data.img" --coap-port "$port" \
        </dev/null >"$work/serial.log" 2>&1 &
    pid=$!
    # shellcheck disable=SC2064
    trap "kill $pid 2>/dev/null; rm -rf '$work'" RETURN
    while :; do
        if doc=$("$CTL" status --json --timeout 1 --ack-timeout 0.2 \
            "coap://127.0.0.1:$port" 2>/dev/null); then
            if [[ -z $answered ]]; then
                answered=$(($(now_ms) - t0))
                echo "$answered" >"$file.answer"
            fi
            if [[ $doc =~ \"overall\":\ *\"healthy\" ]]; then
                echo "$answered $(($(now_ms) - t0))" >"$file"
                return 0
            fi
            sleep 0.2
        fi
        if ! kill -0 "$pid" 2>/dev/null || (($(now_ms) - t0 > LIMIT * 1000)); then
            echo "image_bench: $board not healthy within $LIMIT s; serial:" >&2
            tail -n 20 "$work/serial.log" >&2
            echo failed >"$file.answer"
            return 1
        fi
    done
}

echo "image sizes:"
sizes qemu-x86_64 qemu-aarch64 qemu-armv7 rpi4 bbb
secs() { printf '%d.%d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }

echo "power-on to first CoAP answer / to healthy (qemu TCG, first boot):"
boards=(qemu-x86_64 qemu-aarch64 qemu-armv7)
out=$(mktemp -d)
pids=()
for b in "${boards[@]}"; do
    boot_to_healthy "$b" "$out/$b" &
    pids+=($!)
    # bounded: boot_to_healthy writes the file or ends within LIMIT
    until [[ -s $out/$b.answer ]] || ! kill -0 "${pids[-1]}" 2>/dev/null; do sleep 0.2; done
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
for b in "${boards[@]}"; do
    read -r answer healthy <"$out/$b" || { rc=1; continue; }
    printf '  %-14s %s / %s\n' "$b" "$(secs "$answer")" "$(secs "$healthy")"
done
rm -rf "$out"
exit "$rc"
