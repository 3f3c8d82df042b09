/*
 * vigilctl_exporter.h — `vigilctl exporter`: observes /status of many
 * vigild devices over CoAP (or DTLS-PSK) and serves their state as
 * Prometheus metrics (docs/fleet.md).  The pieces:
 *
 *   vigilctl_exporter.c       command line, the poll loop, signals
 *   vigilctl_exporter_sd.c    devices file (Prometheus file_sd JSON, jansson)
 *                             and --psk-file
 *   vigilctl_exporter_dev.c   one device's non-blocking CoAP client:
 *                             Observe, Block2, Echo, pings, liveness
 *   vigilctl_exporter_dtls.c  one device's non-blocking DTLS-PSK session
 *   vigilctl_exporter_doc.c   status document (CBOR) -> struct exp_status
 *   vigilctl_exporter_http.c  /metrics (libmicrohttpd) and its text
 *
 * One thread, one poll(2) loop: a connected UDP socket per device (its
 * ICMP errors tell a refusing device at once), and libmicrohttpd's epoll
 * descriptor.  Each device has at most one CON request in flight (a
 * registration, a Block2 block or a ping), so the exporter never has more
 * than one outstanding exchange per device.  Memory per device is fixed:
 * struct exp_dev (8.6 KiB with the 4 KiB reassembly buffer), plus a DTLS
 * session (~40 KiB of mbedTLS record buffers) for coaps:// targets.
 */
#ifndef VIGIL_VIGILCTL_EXPORTER_H
#define VIGIL_VIGILCTL_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "coap.h"

/* Devices in one file; the process also needs one descriptor each. */
#define EXP_DEVICES_MAX 10000u
/* A target as written ("host:port" or a coap(s):// URI). */
#define EXP_TARGET_MAX 272
/* A target's labels, rendered as Prometheus label pairs
 * (name="value",...), escaped; longer label sets are refused. */
#define EXP_LABELS_MAX 512
/* Largest status document: vigild's STATUS_DOC_MAX (docs/coap.md). */
#define EXP_DOC_MAX 4096u
/* Health checks kept per device (vigild has 9 today). */
#define EXP_CHECKS_MAX 16
#define EXP_NAME_MAX 32       /* a check name, a state word */
#define EXP_INFO_MAX 48       /* id, board, firmware version/build */
#define EXP_JOBS_MAX 4        /* vigild lists the newest 4 jobs */
/* DTLS PSK (RFC 4279): identity and key sizes, as vigilctl_dtls.c. */
#define EXP_PSK_ID_MAX 128
#define EXP_PSK_KEY_MAX 64
/* Devices file size (a file_sd file of EXP_DEVICES_MAX entries with
 * labels fits) and the PSK file's. */
#define EXP_SD_FILE_MAX (8u * 1024u * 1024u)
#define EXP_PSK_FILE_MAX (1024u * 1024u)

/* ---- the devices file (vigilctl_exporter_sd.c) ---- */

struct exp_target {
	char target[EXP_TARGET_MAX];
	char labels[EXP_LABELS_MAX];  /* "" or a="b",c="d" */
};

/*
 * Parses a Prometheus file_sd document: a JSON array of objects with
 * "targets" (array of strings) and optional "labels" (object of string
 * values).  Labels whose names start with "__" are dropped (Prometheus
 * reserves them); names must match [a-zA-Z_][a-zA-Z0-9_]* and must not
 * be "instance" (the exporter's own label).  A target listed twice keeps
 * its first entry.  out[0..cap) receives the targets.
 * @retval >=0      number of targets
 * @retval -EBADMSG not such a document; err[0..errlen) says why
 * @retval -E2BIG   more than cap targets
 */
int exp_sd_parse(const char *buf, size_t len, struct exp_target *out,
		 size_t cap, char *err, size_t errlen);

/* Escapes v for a Prometheus label value (\\, \", \n) into out.
 * @retval bytes written (without NUL) / -ENOSPC */
int exp_label_escape(const char *v, char *out, size_t cap);

struct exp_psk {
	char target[EXP_TARGET_MAX];  /* as in the devices file, or "*" */
	char id[EXP_PSK_ID_MAX + 1];
	uint8_t key[EXP_PSK_KEY_MAX];
	size_t key_len;
};

/*
 * Parses a PSK file: lines "TARGET IDENTITY:HEXKEY" (vigild's coap.psk
 * form), '#' comments and blank lines; TARGET "*" applies to every
 * coaps:// target without a line of its own.
 * @retval >=0 entries / -EBADMSG (err says which line) / -E2BIG
 */
int exp_psk_parse(const char *buf, size_t len, struct exp_psk *out,
		  size_t cap, char *err, size_t errlen);

/* Reads a whole file of at most max bytes into a malloc'd, NUL-terminated
 * buffer.  @retval 0 / -errno (-EFBIG when larger) */
int exp_read_file(const char *path, size_t max, char **buf, size_t *len);

/* ---- the status document (vigilctl_exporter_doc.c) ---- */

struct exp_check {
	char name[EXP_NAME_MAX];
	char state[EXP_NAME_MAX];     /* starting/healthy/degraded/unhealthy */
	char kind[EXP_NAME_MAX];      /* required/wanted */
	char result[EXP_NAME_MAX];
	double runs, fails;
};

struct exp_job {
	char state[EXP_NAME_MAX];
	double bytes_done, files_failed;
	bool used;
};

/* Numbers of the document; NaN when absent or null. */
enum exp_num {
	N_TIME, N_UPTIME_AGENT, N_UPTIME_SYSTEM,
	N_BOOT_COUNT, N_BOOT_RESET_TIME, N_BOOT_WDT_STREAK, N_SAFE_MODE,
	N_WDT_OPEN, N_WDT_TIMEOUT, N_WDT_KICKS, N_WDT_KICK_ERRORS,
	N_WDT_LAST_KICK, N_WDT_GATED, N_WDT_STOPPED,
	N_BACKUP_SINCE, N_BACKUP_RECONNECTS, N_BACKUP_CONFIGURED,
	N_BACKUP_LAST_SUCCESS, N_BACKUP_LAST_ERROR_TIME,
	N_CONNS, N_CONN_ERRORS,
	N_LOAD1, N_LOAD5, N_LOAD15, N_MEM_TOTAL, N_MEM_AVAILABLE,
	N_TEMPERATURE, N_STORAGE_FREE, N_STORAGE_TOTAL, N_PROCS,
	N_COAP_REQUESTS, N_COAP_REJECTED, N_COAP_OBSERVERS,
	N_COUNT
};

struct exp_status {
	double num[N_COUNT];
	char id[EXP_INFO_MAX], board[EXP_INFO_MAX], arch[EXP_INFO_MAX];
	char version[EXP_INFO_MAX], build[EXP_INFO_MAX];
	char last_reset[EXP_NAME_MAX];
	char overall[EXP_NAME_MAX];
	char backup_state[EXP_NAME_MAX], backup_link[EXP_NAME_MAX];
	struct exp_check checks[EXP_CHECKS_MAX];
	unsigned nchecks;
	struct exp_job jobs[EXP_JOBS_MAX];
};

/*
 * Reads a status document (docs/status.cddl) into *st.  Unknown keys
 * are skipped, missing ones stay absent (NaN / ""), text longer than its
 * field is cut, checks beyond EXP_CHECKS_MAX are dropped.
 * @retval 0        read
 * @retval -EBADMSG not well-formed CBOR, or not a map at the top
 * @retval -EMSGSIZE nested deeper than CBOR_MAX_DEPTH
 */
int exp_status_decode(const uint8_t *buf, size_t len, struct exp_status *st);

/* ---- one device (vigilctl_exporter_dev.c) ---- */

/* Exporter-wide settings and counters. */
struct exp_conf {
	unsigned down_after_ms;       /* silent this long: down (90 s) */
	unsigned ack_timeout_ms;      /* RFC 7252 ACK_TIMEOUT (2 s) */
};

enum exp_err {
	E_TIMEOUT,        /* a request got no answer */
	E_RESET,          /* the device answered with RST */
	E_REFUSED,        /* ICMP: nothing listens at the address */
	E_RESPONSE,       /* an error response (4.xx/5.xx) or no Observe */
	E_DOCUMENT,       /* a document that is not CBOR */
	E_BLOCK,          /* an inconsistent Block2 transfer */
	E_DTLS,           /* a DTLS handshake or record failed */
	E_SOCKET,         /* a socket error or an unresolvable name */
	E_COUNT
};

struct exp_stats {
	uint64_t notifications;       /* documents received (incl. the first) */
	uint64_t registrations;       /* GET Observe=0 sent (not retries) */
	uint64_t pings;               /* CoAP pings sent */
	uint64_t echo_repeats;        /* requests repeated with an Echo */
	uint64_t errors[E_COUNT];
};

struct exp_dtls;                      /* vigilctl_exporter_dtls.c */

/* What is in flight (one CON at a time). */
enum exp_xchg { X_NONE, X_HANDSHAKE, X_REGISTER, X_BLOCK, X_PING };

struct exp_dev {
	struct exp_target t;
	char host[256];
	uint16_t port;
	bool secure;
	bool present;                 /* seen in the last devices file */
	int fd;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct exp_dtls *dtls;        /* coaps:// only */
	const struct exp_psk *psk;

	/* the exchange in flight */
	enum exp_xchg x;
	uint16_t mid, x_mid;
	uint8_t x_msg[128];           /* the CON, for retransmission */
	size_t x_len;
	unsigned x_tx;                /* transmissions so far */
	uint64_t x_next_ms, x_deadline_ms, x_wait_ms;
	bool x_acked;                 /* Empty ACK: a separate response comes */
	bool x_echoed;                /* already repeated with an Echo */
	uint32_t x_block;             /* X_BLOCK: the block asked for */
	uint8_t x_szx;
	uint8_t blk_token[4];
	bool dtls_up;                 /* coaps://: the handshake is done */

	/* the observation */
	uint8_t obs_token[8];
	bool observing;               /* registration answered with Observe */
	bool have_seq;
	uint32_t seq;
	uint64_t seq_ms;
	uint64_t heard_ms;            /* last datagram from the device */
	uint64_t refresh_ms;          /* re-register then: 3/4 of Max-Age
				       * after the last document */
	uint64_t retry_ms;            /* next registration attempt */
	unsigned backoff_ms;

	/* Block2 reassembly */
	uint8_t etag[COAP_ETAG_MAX];
	size_t etag_len;
	unsigned restarts;
	size_t body_len;
	uint8_t body[EXP_DOC_MAX];

	/* what the last document said */
	bool have_status;
	uint64_t status_ms;           /* when it arrived (monotonic) */
	struct exp_status st;
	const char *last_error;       /* static text, for the log */
	/* the poll loop's */
	uint64_t next_ms;             /* exp_dev_tick is due */
	bool was_up;                  /* for the log of up/down changes */
	bool open;                    /* exp_dev_open worked */
};

/* Sets d up for its target (resolves the name, opens the socket,
 * starts the registration at now).  @retval 0 / -errno (*why) */
int exp_dev_open(struct exp_dev *d, const struct exp_psk *psk, uint64_t now,
		 const char **why);
void exp_dev_close(struct exp_dev *d);

/* Reads what the socket has (POLLIN). */
void exp_dev_input(struct exp_dev *d, const struct exp_conf *c,
		   struct exp_stats *s, uint64_t now);

/* Timers: retransmission, refresh, ping, retry.  @retval when it wants
 * to run next (monotonic ms) */
uint64_t exp_dev_tick(struct exp_dev *d, const struct exp_conf *c,
		      struct exp_stats *s, uint64_t now);

/* Whether the device is up: observed, with a document, and heard within
 * down_after. */
bool exp_dev_up(const struct exp_dev *d, const struct exp_conf *c,
		uint64_t now);

/* ---- DTLS (vigilctl_exporter_dtls.c) ---- */

/* A session for d (non-blocking; the handshake runs from exp_dtls_*
 * calls).  @retval 0 / -ENOMEM / -EIO */
int exp_dtls_new(struct exp_dev *d);
void exp_dtls_free(struct exp_dev *d);
/* Drives the handshake.  @retval 1 done / 0 in progress / <0 failed */
int exp_dtls_handshake(struct exp_dev *d);
/* When the handshake wants to be driven again (its timer), or 0. */
uint64_t exp_dtls_timer_ms(const struct exp_dev *d);
/* One record out.  @retval 0 / -EIO */
int exp_dtls_send(struct exp_dev *d, const uint8_t *buf, size_t len);
/* One record in (non-blocking).  @retval >0 bytes / 0 nothing (yet) /
 * -ECONNRESET closed / -EIO */
int exp_dtls_recv(struct exp_dev *d, uint8_t *buf, size_t cap);
/* Once per process: mbedTLS on the C heap, PSA.  @retval 0 / -EIO */
int exp_dtls_init(void);

/* ---- /metrics (vigilctl_exporter_http.c) ---- */

struct exp_state {
	struct exp_dev **devs;
	size_t ndevs;
	struct exp_conf conf;
	struct exp_stats stats;
	uint64_t sd_reloads, sd_errors;
	bool sd_ok;                   /* the last read of the file worked */
	uint64_t scrapes;
};

/* Renders the metrics text into a malloc'd buffer.
 * @retval 0 / -ENOMEM */
int exp_metrics_render(const struct exp_state *x, uint64_t now,
		       double wall_now, char **out, size_t *len);

struct MHD_Daemon;
/* Starts libmicrohttpd on host:port (epoll, driven by the caller's loop).
 * @retval the daemon / NULL (*why) */
struct MHD_Daemon *exp_http_start(const char *listen, struct exp_state *x,
				  const char **why);
/* The descriptor to poll for the HTTP side, and its timeout (ms, -1). */
int exp_http_fd(struct MHD_Daemon *h);
int exp_http_timeout(struct MHD_Daemon *h);
void exp_http_run(struct MHD_Daemon *h);
void exp_http_stop(struct MHD_Daemon *h);

#endif
