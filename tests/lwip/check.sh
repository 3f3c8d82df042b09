#!/bin/sh
# tests/lwip/check.sh — proves hal/linux/net.c and net_addr.c use only
# lwIP's socket API.
#
# Compiles net.c with -fsyntax-only against the lwIP headers of Debian's
# liblwip-dev, with HAL_NET_LWIP_CHECK set so hal/linux/net_sock.h includes
# lwIP's sockets.h/netdb.h/inet.h instead of the system's socket headers.
# Debian's own lwipopts.h (GNU Hurd's, which routes sockets to the system
# headers) is shadowed by a generated one that includes
# hal/linux/net_lwip_check.h.  Any call or constant lwIP lacks (accept4,
# SOCK_NONBLOCK, ...) is then undeclared and fails the build.
#
# Usage: tests/lwip/check.sh [CC]   (default: $CC or cc)
# Prints "ok - lwip socket subset" or the compiler errors, then the
# "N passed, N failed" line; exits non-zero on failure.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
cc=${1:-${CC:-cc}}
lwip=${LWIP_INCLUDE:-/usr/include/lwip}

if [ ! -f "$lwip/lwip/sockets.h" ]; then
	echo "not ok - lwip socket subset: no lwIP headers at $lwip (apt-get install liblwip-dev)"
	echo "0 passed, 1 failed"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lwip-check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
printf '#include "%s/hal/linux/net_lwip_check.h"\n' "$root" >"$tmp/lwipopts.h"

# -I$tmp first so lwip/opt.h's #include "lwipopts.h" finds ours;
# _POSIX_C_SOURCE gives SSIZE_MAX, which stops lwIP's arch.h from
# typedef'ing its own ssize_t over the system's.
if "$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -DHAL_NET_LWIP_CHECK \
	-Wall -Wextra -Werror=implicit-function-declaration \
	-Werror=implicit-int -fsyntax-only \
	-I"$tmp" -I"$lwip" -I"$root/hal/include" \
	"$root/hal/linux/net.c" "$root/hal/linux/net_addr.c" >"$tmp/out" 2>&1; then
	cat "$tmp/out"
	echo "ok - lwip socket subset"
	echo "1 passed, 0 failed"
	exit 0
fi
cat "$tmp/out"
echo "not ok - lwip socket subset"
echo "0 passed, 1 failed"
exit 1
