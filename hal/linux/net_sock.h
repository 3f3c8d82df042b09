/*
 * hal/linux/net_sock.h — the socket headers net.c is compiled against.
 *
 * Normally the platform's POSIX headers.  With HAL_NET_LWIP_CHECK defined
 * (tests/lwip/check.sh) only lwIP's socket API is visible instead:
 * net_lwip_check.h is then the lwipopts.h, LWIP_COMPAT_SOCKETS and
 * LWIP_POSIX_SOCKETS_IO_NAMES turn socket()/close()/fcntl()/... into
 * lwip_* macros, and no system socket header is included, so a call lwIP
 * does not offer (accept4, SOCK_NONBLOCK, pipe, ...) is an undeclared
 * identifier and fails the check.  Nothing but net.c includes this file.
 */
#ifndef HAL_LINUX_NET_SOCK_H
#define HAL_LINUX_NET_SOCK_H

#ifdef HAL_NET_LWIP_CHECK
#include "lwip/sockets.h"
#include "lwip/netdb.h"
#include "lwip/inet.h"
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#endif
