/*
 * hal/linux/net_lwip_check.h — the lwIP configuration (lwipopts.h) used
 * only by tests/lwip/check.sh to compile net.c against lwIP's socket API.
 *
 * Debian's liblwip-dev ships a GNU Hurd lwipopts.h that routes the socket
 * API to the system's own headers (LWIP_SOCKET_EXTERNAL_HEADERS) and turns
 * the compat names off, which would make the check prove nothing.  The
 * script puts a one-line lwipopts.h that includes this file ahead of
 * /usr/include/lwip on the include path, so lwIP's own sockets.h, netdb.h
 * and inet.h declare everything and only what lwIP offers.
 */
#ifndef HAL_LINUX_NET_LWIP_CHECK_H
#define HAL_LINUX_NET_LWIP_CHECK_H

#define NO_SYS 0
#define LWIP_SOCKET 1
#define LWIP_NETCONN 1
/* socket(), connect(), ... as macros for lwip_socket(), lwip_connect() */
#define LWIP_COMPAT_SOCKETS 1
/* close(), read(), write(), fcntl(), ioctl() as lwIP macros too */
#define LWIP_POSIX_SOCKETS_IO_NAMES 1
#define LWIP_SOCKET_POLL 1
#define LWIP_SOCKET_SELECT 0
#define LWIP_DNS 1
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_TCP_KEEPALIVE 1
#define SO_REUSE 1
/* errno values come from the C library's <errno.h> (arch/cc.h) */
#define LWIP_ERRNO_STDINCLUDE 1
/* Keep <unistd.h> out: close()/read()/write() must be lwIP's.  ssize_t
 * still comes from <sys/types.h> through arch/cc.h. */
#define LWIP_NO_UNISTD_H 1

#endif
