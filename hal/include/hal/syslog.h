/*
 * hal/syslog.h — sending log lines to the system logger without ever
 * blocking: a line the logger cannot take at once is dropped and counted.
 */
#ifndef HAL_SYSLOG_H
#define HAL_SYSLOG_H

#include <stddef.h>

/* Severities, RFC 5424 numbering. */
#define HAL_SYSLOG_ERR     3
#define HAL_SYSLOG_WARNING 4
#define HAL_SYSLOG_INFO    6
#define HAL_SYSLOG_DEBUG   7

/*
 * Connects to the local logger (/dev/log on Linux) as ident.
 * @retval 0 connected  @retval -ENOENT no logger  @retval -EMFILE
 */
int hal_syslog_open(const char *ident);

/*
 * Sends one message (no newline needed) at a severity.
 * @retval 0 sent
 * @retval -EAGAIN logger busy: dropped (counted by hal_syslog_dropped)
 * @retval -ENOTCONN not open
 */
int hal_syslog_send(int severity, const char *msg, size_t len);

/* Messages dropped since open. */
unsigned long hal_syslog_dropped(void);

void hal_syslog_close(void);

#endif
