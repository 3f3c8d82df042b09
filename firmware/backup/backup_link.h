/*
 * backup_link.h — what the backup client publishes about its connection
 * to the backup server, for the passive health check (health_checks.c)
 * and the status document.
 *
 * The backup client owns and writes it; everyone else only reads it.  The
 * health check never opens a connection of its own: an automatic probe
 * competing with the client's connection once cut a request header in
 * half on the server ("Socket closed while reading 23 bytes"), so the
 * link is judged only from this struct:
 *   state UP and activity younger than BACKUP_LINK_FRESH_MS  -> pass
 *   state UP, activity BACKUP_LINK_FRESH_MS..STALE_MS old    -> warn
 *   state UP, activity BACKUP_LINK_STALE_MS or older         -> fail
 *   state DOWN or CONNECTING                                 -> fail
 *   state OFF (no backup server configured)                  -> skip
 * The client must touch last_activity_ms on every byte sent or received
 * (its keepalives included), or an idle but healthy link reads as stale.
 */
#ifndef VIGIL_BACKUP_LINK_H
#define VIGIL_BACKUP_LINK_H

#include <stdint.h>

#define BACKUP_LINK_FRESH_MS 30000u
#define BACKUP_LINK_STALE_MS 60000u
/* "connect 192.0.2.1:1234: Connection refused" fits with room. */
#define BACKUP_LINK_ERR_MAX 64

enum backup_link_state {
	BACKUP_LINK_OFF = 0,    /* no server configured (zeroed struct) */
	BACKUP_LINK_DOWN,       /* disconnected, waiting for the next try */
	BACKUP_LINK_CONNECTING, /* connect or handshake in progress */
	BACKUP_LINK_UP,         /* connected and usable */
};

struct backup_link {
	enum backup_link_state state;
	uint64_t state_since_ms;   /* hal_clock_mono_ms of the last change */
	uint64_t last_activity_ms; /* mono: last byte sent or received */
	int last_error;            /* negative errno of the last failure, 0 */
	char last_error_text[BACKUP_LINK_ERR_MAX]; /* "" when none */
	uint32_t reconnects;       /* successful connects after the first */
};

#endif
