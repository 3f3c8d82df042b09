#!/usr/bin/env bash
# run.sh TCDIR OUTDIR — proves the toolchain's mbedTLS builds work on every
# target: compiles tests/toolchain/tls_loopback.c against TCDIR/mbedtls/<t>
# for the host (glibc gcc) and for each musl arch (static), then runs each
# (ARM ones under qemu-user) with a test PKI from make-certs.sh.
# Prints the tls_loopback lines of every target and one closing
# "N passed, N failed" line over all of them.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TC=${1:?usage: run.sh TCDIR OUTDIR}
OUT=${2:?usage: run.sh TCDIR OUTDIR}
CFLAGS=(-std=c11 -D_GNU_SOURCE -O1 -Wall -Wextra -Werror
	-I "$ROOT/toolchain" "-DMBEDTLS_CONFIG_FILE=\"vigil_mbedtls_config.h\"")

compiler_of() {
	case $1 in
	host) echo gcc ;;
	*) echo "$TC/musl/$1/bin/musl-gcc" ;;
	esac
}

runner_of() {
	case $1 in
	aarch64) echo qemu-aarch64-static ;;
	armv7) echo qemu-arm-static ;;
	*) echo "" ;;
	esac
}

passed=0 failed=0
"$HERE/make-certs.sh" "$OUT/pki" || { echo "0 passed, 1 failed"; exit 1; }
for t in host x86_64 aarch64 armv7; do
	bin=$OUT/$t/tls_loopback
	mkdir -p "$OUT/$t"
	static=-static
	[[ $t == host ]] && static=
	if ! "$(compiler_of "$t")" "${CFLAGS[@]}" -I "$TC/mbedtls/$t/include" \
		"$HERE/tls_loopback.c" -o "$bin" $static -L "$TC/mbedtls/$t/lib" \
		-lmbedtls -lmbedx509 -lmbedcrypto; then
		echo "not ok - $t: tls_loopback does not build"
		failed=$((failed + 1))
		continue
	fi
	log=$OUT/$t/run.log
	# shellcheck disable=SC2046  # empty runner = run natively
	$(runner_of "$t") "$bin" "$OUT/pki" >"$log" 2>&1
	rc=$?
	sed "s/^\(not \)\?ok - /&$t: /" "$log" | grep -v '^[0-9]* passed, '
	p=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | cut -d' ' -f1)
	f=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | cut -d' ' -f3)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if ((rc != 0)) && [[ ${f:-0} == 0 ]]; then
		echo "not ok - $t: exit $rc"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
