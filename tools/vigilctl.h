/*
 * vigilctl.h — what the vigilctl subcommands share: the command table
 * entry, exit codes and the usage-error helper.  Each subcommand lives in
 * tools/vigilctl_<name>.c and exports one entry point, listed in the table
 * in vigilctl.c.
 */
#ifndef VIGIL_VIGILCTL_H
#define VIGIL_VIGILCTL_H

#define VIGILCTL_OK 0    /* done */
#define VIGILCTL_FAIL 1  /* bad input, I/O or remote error (on stderr) */
#define VIGILCTL_USAGE 2 /* bad command line */

struct vigilctl_cmd {
	const char *name;     /* argv[1] */
	const char *synopsis; /* what follows the name in the usage text */
	const char *summary;  /* one line for `vigilctl --help` */
	/* argv[0] is the command name; returns a VIGILCTL_* exit code. */
	int (*run)(int argc, char **argv);
};

/* Subcommands. */
int vigilctl_cbor(int argc, char **argv);
int vigilctl_status(int argc, char **argv);  /* vigilctl_status.c */
int vigilctl_backup(int argc, char **argv);
int vigilctl_probe(int argc, char **argv);
int vigilctl_pki(int argc, char **argv);    /* vigilctl_pki.c */
int vigilctl_exporter(int argc, char **argv); /* vigilctl_exporter.c */
int vigilctl_restore(int argc, char **argv); /* vigilctl_restore.c */

/*
 * Prints "vigilctl: CMD: message" and a pointer to CMD's --help on stderr
 * (CMD may be NULL for the top level).
 * @retval VIGILCTL_USAGE
 */
int vigilctl_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The mbedTLS f_rng of vigilctl's key material (DTLS handshakes, and
 * through PSA the keys of `pki`; vigilctl_dtls.c): getrandom only, no
 * fallback, unlike CoAP message ids and tokens (vcoap_random).  A
 * failure is reported on stderr.  @retval 0  @retval an mbedTLS error */
int vigilctl_rng(void *ctx, unsigned char *out, size_t len);

#endif
