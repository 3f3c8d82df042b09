/*
 * vigilctl_status.h — what the CoAP subcommands of vigilctl share: the
 * command line and request/print path (vigilctl_status.c, which also has
 * `status`), `backup` and `probe` (vigilctl_backup.c), and the table
 * printer (vigilctl_table.c).
 */
#ifndef VIGIL_VIGILCTL_STATUS_H
#define VIGIL_VIGILCTL_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <stdbool.h>

#include "vigilctl_coap.h"

/* Longest --reason: vigild keeps a console line's worth per cancelled
 * job (128 bytes, docs/coap.md) and answers 4.00 to more. */
#define VCTL_REASON_MAX 128

/* The command line of status/backup/probe. */
struct vctl_opts {
	const char *cmd;              /* "status", "backup", "probe" */
	const char *uri;
	const char *pos[3];           /* arguments after the URI */
	int npos;
	bool json, cbor, observe;
	unsigned count;
	unsigned timeout_ms, ack_timeout_ms;
	int block_szx;                /* -1: none asked for */
	const char *reason, *psk_id, *psk_key;
	/* checks pos[], sets what the request needs.  @retval NULL fine /
	 * the usage error (static text) */
	const char *(*check_pos)(struct vctl_opts *o);
	const char *path;             /* backup: the resource */
	int body_len;                 /* backup: bytes of its body */
};

/* Defaults for cmd (check_pos: no arguments after the URI). */
void vctl_opts_init(struct vctl_opts *o, const char *cmd);

/* Parses argv, checks it, opens the client (and the DTLS session).
 * @retval -1 ready / an exit code to return (help, usage, failure) */
int vctl_setup(struct vctl_opts *o, struct vcoap_uri *u, int argc,
	       char **argv);

/* Sends q, prints the response as o asks, closes the client.
 * @retval an exit code */
int vctl_request(const struct vctl_opts *o, const struct vcoap_req *q);

/* Decimal s in 0..max.  @retval 0 / -EINVAL */
int vctl_parse_uint(const char *s, unsigned long max, unsigned long *v);

/* Exit codes beyond vigilctl.h's 0/1/2, so that scripts can tell "the
 * agent is not answering" from "the agent said no" (1). */
#define VIGILCTL_TIMEOUT 3 /* no response before --timeout */
#define VIGILCTL_RESET 4   /* the server answered with a CoAP Reset */

/*
 * Prints the CBOR item buf[0..len) as an aligned, human-readable table:
 * a map's scalar members as "key  value" lines, nested maps as indented
 * sections, arrays of maps as numbered entries.  Known status-document
 * keys get units (uptime as days/hours, epoch-second times as UTC dates,
 * byte counts as KiB/MiB); everything else prints as CBOR diagnostic
 * notation, so an unknown document still prints completely.  Nothing is
 * written when the item is malformed.
 * @retval 0        printed
 * @retval -EBADMSG not one well-formed CBOR item (or deeper than
 *                  CBOR_MAX_DEPTH)
 * @retval -EIO     write error
 */
int vigilctl_table(FILE *f, const uint8_t *buf, size_t len);

#endif
