/*
 * main.c — vigil-backupd's command line (docs/backupd.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backupd.h"
#include "log.h"

static void bd_usage(FILE *f)
{
	fprintf(f,
		"usage: vigil-backupd --data DIR [--plain [HOST:]PORT] [--tls [HOST:]PORT ...] [options]\n"
		"       vigil-backupd --data DIR --status[=cbor|json|diag]\n"
		"       vigil-backupd --data DIR --grant|--revoke DEVICE=READER\n"
		"       vigil-backupd export --data DIR [--db CONNINFO] --device NAME [--snapshot ID] DEST\n"
		"       vigil-backupd prune --data DIR [--db CONNINFO] [--keep-last N] [--keep-daily D]\n"
		"                     [--keep-weekly W] [--orphan-age S]\n"
		"  (export and prune take the --store and --s3-* options too)\n"
		"  --data DIR          metadata (backupd.sqlite) and files\n"
		"  --db CONNINFO       metadata in PostgreSQL instead (postgresql://...\n"
		"                      or key=value; also for --grant, export, prune;\n"
		"                      default: $VIGIL_BACKUPD_DB)\n"
		"  --instance NAME     this server's name among instances sharing DIR\n"
		"                      (its status socket, temp files; also for --status)\n"
		"  --plain [HOST:]PORT plain CyberBackup v3 listener (1256 by convention)\n"
		"  --tls [HOST:]PORT   TLS listener, mutual auth (1257 by convention)\n"
		"  --tls-cert FILE     server certificate (PEM)\n"
		"  --tls-key FILE      server private key (PEM)\n"
		"  --tls-ca FILE       CA certificate(s) for client certificates (PEM)\n"
		"  --tls-psk FILE      client pre-shared keys, identity:hexkey per line\n"
		"  --tls-min-version V 1.3 (default) or 1.2\n"
		"  --tls-max-version V 1.3 (default) or 1.2 (to test TLS 1.2 clients)\n"
		"  --timeout-ms N      idle / mid-request timeout (default 60000)\n"
		"  --max-payload N     per-request payload cap (default 16778240)\n"
		"  --max-conns N       concurrent connections (default and max %u)\n"
		"  --log-level L       err|warn|info|debug (default info)\n"
		"  --log-format F      text (default) or json (one object per line)\n"
		"  --partial-expiry S  keep cut vigil/2 uploads S seconds for a\n"
		"                      resume (default 86400; 0: never)\n"
		"  --grant DEVICE=READER   let the TLS identity READER restore\n"
		"                      DEVICE's files (--revoke: no longer)\n"
		"  --status[=FORMAT]   print the running server's status (cbor, the\n"
		"                      default; json; diag) and exit\n"
		BD_BLOB_USAGE,
		BD_CONNS_MAX);
}

/* Parses a decimal number in [lo, hi]; -1 on error. */
static long long bd_num(const char *s, long long lo, long long hi)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi)
		return -1;
	return v;
}

static int bd_level(const char *s)
{
	int i;

	for (i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (strcmp(s, log_level_name(i)) == 0)
			return i;
	return -1;
}

/* 1 when name is 1..32 of [A-Za-z0-9_] (it goes into file names). */
static int bd_instance_ok(const char *name)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz"
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

	return n > 0 && n <= 32 && name[n] == '\0';
}

/* VIGIL_BACKUPD_DB, when set, is the default of --db (for the server
 * and every subcommand): a password in it stays out of the command
 * line that ps shows.  @retval 0  @retval -1 (message on stderr) */
static int bd_db_from_env(struct bd_options *o)
{
	const char *env = getenv("VIGIL_BACKUPD_DB");

	if (env == NULL || env[0] == '\0')
		return 0;
	if (!bd_db_where_is_pg(env)) {
		fprintf(stderr, "vigil-backupd: VIGIL_BACKUPD_DB is no PostgreSQL "
			"connection string\n");
		return -1;
	}
	o->db = env;
	bd_store_use_db(env);
	return 0;
}

/* Applies one option; 0 ok, -1 bad value. */
static int bd_opt_set(struct bd_options *o, int ch, const char *arg)
{
	long long v;
	int taken = bd_blob_opt(&o->store, ch, arg);

	if (taken != 0)
		return taken > 0 ? 0 : -1;
	switch (ch) {
	case 'd':
		o->data_dir = arg;
		return 0;
	case 'b':
		if (!bd_db_where_is_pg(arg))
			return -1;
		o->db = arg;
		bd_store_use_db(arg);
		return 0;
	case 'I':
		o->instance = arg;
		return bd_instance_ok(arg) ? bd_status_set_instance(arg) : -1;
	case 'p':
		o->plain = arg;
		return 0;
	case 's':
		o->tls = arg;
		return 0;
	case 'C':
		o->tls_cert = arg;
		return 0;
	case 'K':
		o->tls_key = arg;
		return 0;
	case 'A':
		o->tls_ca = arg;
		return 0;
	case 'P':
		o->tls_psk = arg;
		return 0;
	case 'V':
	case 'X':
		if (strcmp(arg, "1.2") != 0 && strcmp(arg, "1.3") != 0)
			return -1;
		if (ch == 'V')
			o->tls_allow12 = strcmp(arg, "1.2") == 0;
		else
			o->tls_only12 = strcmp(arg, "1.2") == 0;
		return 0;
	case 't':
		v = bd_num(arg, 100, 86400000);
		o->timeout_ms = (uint32_t)v;
		return v < 0 ? -1 : 0;
	case 'm':
		v = bd_num(arg, V3_REQ_SMALL_MAX, V3_PAYLOAD_CAP_DEFAULT);
		o->max_payload = (uint32_t)v;
		return v < 0 ? -1 : 0;
	case 'E':
		v = bd_num(arg, 0, 30 * 86400);
		o->partial_expiry_s = (uint32_t)v;
		return v < 0 ? -1 : 0;
	case 'c':
		v = bd_num(arg, 1, BD_CONNS_MAX);
		o->max_conns = (unsigned)v;
		return v < 0 ? -1 : 0;
	case 'l':
		o->log_level = bd_level(arg);
		return o->log_level < 0 ? -1 : 0;
	case 'F':
		o->log_format = log_format_word(arg);
		return o->log_format < 0 ? -1 : 0;
	default:
		return -1;
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "db", required_argument, NULL, 'b' },
		{ "instance", required_argument, NULL, 'I' },
		{ "plain", required_argument, NULL, 'p' },
		{ "tls", required_argument, NULL, 's' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "tls-ca", required_argument, NULL, 'A' },
		{ "tls-psk", required_argument, NULL, 'P' },
		{ "tls-min-version", required_argument, NULL, 'V' },
		{ "tls-max-version", required_argument, NULL, 'X' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "max-payload", required_argument, NULL, 'm' },
		{ "max-conns", required_argument, NULL, 'c' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'F' },
		{ "status", optional_argument, NULL, 'S' },
		{ "grant", required_argument, NULL, 'G' },
		{ "partial-expiry", required_argument, NULL, 'E' },
		{ "revoke", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		BD_BLOB_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct bd_options o = {
		.timeout_ms = BD_TIMEOUT_MS_DEFAULT,
		.max_payload = V3_PAYLOAD_CAP_DEFAULT,
		.max_conns = BD_CONNS_MAX,
		.partial_expiry_s = 86400,
		.log_level = LOG_INFO,
	};
	const char *status = NULL, *grant = NULL;
	int ch, revoke = 0;

	if (bd_db_from_env(&o) != 0)
		return 2;
	if (argc > 1 && strcmp(argv[1], "export") == 0)
		return bd_export_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "prune") == 0)
		return bd_prune_main(argc - 1, argv + 1);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'h') {
			bd_usage(stdout);
			return 0;
		}
		if (ch == 'S') {
			status = optarg != NULL ? optarg : "cbor";
			continue;
		}
		if (ch == 'G' || ch == 'R') {
			grant = optarg;
			revoke = ch == 'R';
			continue;
		}
		if (ch == '?' || bd_opt_set(&o, ch, optarg) != 0) {
			if (ch != '?')
				fprintf(stderr, "vigil-backupd: bad value for option: %s\n",
					optarg);
			bd_usage(stderr);
			return 2;
		}
	}
	if (optind != argc || o.data_dir == NULL) {
		fprintf(stderr, "vigil-backupd: --data DIR is required\n");
		bd_usage(stderr);
		return 2;
	}
	if (grant != NULL)
		return bd_catalog_grant(o.data_dir, grant, revoke);
	if (status != NULL) {
		if (strcmp(status, "cbor") != 0 && strcmp(status, "json") != 0 &&
		    strcmp(status, "diag") != 0) {
			fprintf(stderr, "vigil-backupd: --status: want cbor, json or diag\n");
			return 2;
		}
		return bd_status_query(o.data_dir, status);
	}
	log_configure(o.log_level, 1, 0);
	(void)log_set_format(o.log_format); /* checked by bd_opt_set */
	return bd_run(&o);
}
