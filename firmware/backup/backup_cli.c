/*
 * backup_cli.c — `vigild backup [OPTION]... PATH...` (backup_cli.h):
 * options, server resolution, the file walk, a progress line on a
 * terminal, the exit status.
 */
#include "backup_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup_client.h"
#include "backup_walk.h"
#include "config.h"
#include "num.h"

#define EXIT_USAGE 2

static const char usage_text[] =
	"Usage: vigild backup [OPTION]... PATH...\n"
	"  or:  vigild backup --config FILE [OPTION]...\n"
	"Backs up files and directories (recursive, symlinks not followed) "
	"to a\nCyberBackup v3 server; exit 0 only when every file was "
	"verified by cksum.\nWithout PATH: backup.paths of the --config "
	"file, the whole tree, and the\nserver's snapshot of the run is "
	"sealed (files deleted since are not in it).\n\n"
	"      --server URL     tcp://HOST:PORT or tls://HOST:PORT (default:\n"
	"                       backup.server of the --config file)\n"
	"      --tls-ca FILE    CA certificate(s) the server must chain to (tls)\n"
	"      --tls-cert FILE  client certificate (tls)\n"
	"      --tls-key FILE   its private key (tls)\n"
	"      --name NAME      client name (default: backup.name or\n"
	"                       device.name of --config, else the host name)\n"
	"      --state DIR      where me.info and the manifest of the last\n"
	"                       run live (default: data.dir of --config,\n"
	"                       else /var/lib/vigil)\n"
	"      --config FILE    validate FILE first (vigild configuration;\n"
	"                       its keys are the defaults of the options above\n"
	"                       and of --tls-*; tls.psk and tls.min_version\n"
	"                       come from it)\n"
	"      --pubkey MODE    auto (default), 160 or 162\n"
	"      --timeout MS     I/O timeout per operation (default 30000)\n"
	"      --retry-cap MS   longest backoff between attempts "
	"(default 30000)\n"
	"      --max-rate B     most file bytes per second (default:\n"
	"                       backup.max_rate of --config, else no limit)\n"
	"      --segment-max B  vigil/2: send files over B bytes in segments\n"
	"                       of B (default and most 2147483648; for tests)\n";

static struct backup_client cli;
/* backup.paths of the --config file ("" none) */
static const char *cli_cfg_paths = "";

struct job {
	unsigned ok, failed;
	unsigned unkept;        /* failed, and not kept in the snapshot */
	int tty;
};

static void progress(void *arg, const char *path, uint64_t done,
		     uint64_t total)
{
	(void)arg;
	if (done > total)
		done = total;
	fprintf(stderr, "\r%s: %3u%%", path,
		(unsigned)(total ? done * 100 / total : 100));
	if (done == total)
		fputc('\n', stderr);
}

/* A file that failed stays in the run's snapshot at its stored version
 * (it is not gone from the device); unkept ones stop the seal. */
static void one_file(struct job *j, const char *path)
{
	int ret;

	if (backup_client_send_file(&cli, path) == 0) {
		j->ok++;
		return;
	}
	j->failed++;
	fprintf(stderr, "vigild backup: %s\n", cli.e.err);
	/* -EINVAL: no v3 name, so never stored: nothing to keep */
	ret = backup_client_snapshot(&cli, path);
	if (ret != -EINVAL && (ret < 0 || cli.e.snap_id == 0))
		j->unkept++;
}

/* Every regular file under the paths of list (separated by sep, or one
 * path with sep '\0'), in walk order. */
static void one_arg(struct job *j, const char *list, char sep,
		    struct backup_walk_stats *st)
{
	static struct backup_walk w;
	int ret;

	backup_walk_start(&w, list, sep);
	while ((ret = backup_walk_next(&w, UINT32_MAX)) != 0)
		if (ret == 1)
			one_file(j, w.path);
	st->files += w.st.files;
	st->skipped += w.st.skipped;
	st->errors += w.st.errors;
	backup_walk_stop(&w);
}

static int usage(const char *msg, const char *arg)
{
	fprintf(stderr, "vigild backup: ");
	fprintf(stderr, msg, arg);
	fprintf(stderr, "\nTry 'vigild backup --help' for more information.\n");
	return EXIT_USAGE;
}

/* see backup_cli.h */
int backup_cli_resolve(const char *prog, struct backup_client_cfg *cfg,
		       const char *url)
{
	char host[BACKUP_HOST_MAX];
	uint16_t port = 0;
	int tls = 0;

	if (backup_url_parse(url, &tls, host, sizeof host, &port) < 0) {
		fprintf(stderr, "%s: bad server URL '%s' (want tcp://HOST:PORT "
			"or tls://HOST:PORT)\n", prog, url);
		return EXIT_USAGE;
	}
	cfg->tls = tls;
	snprintf(cfg->host, sizeof cfg->host, "%s", host);
	if (tls && !cfg->tls_ca[0] && !cfg->tls_psk[0]) {
		fprintf(stderr, "%s: tls:// needs --tls-ca FILE (or tls.psk "
			"in the --config file)\n", prog);
		return EXIT_USAGE;
	}
	if (backup_server_resolve(cfg, host, port) < 0) {
		fprintf(stderr, "%s: cannot resolve '%s'\n", prog, host);
		return 1;
	}
	return 0;
}

/* see backup_cli.h */
void backup_cli_defaults(struct backup_client_cfg *cfg)
{
	if (!cfg->state_dir[0])
		snprintf(cfg->state_dir, sizeof cfg->state_dir, "/var/lib/vigil");
	if (!cfg->name[0] &&
	    (gethostname(cfg->name, sizeof cfg->name - 1) != 0 || !cfg->name[0]))
		snprintf(cfg->name, sizeof cfg->name, "vigil");
}

/* see backup_cli.h */
int backup_cli_config(const char *prog, const char *path,
		      struct backup_client_cfg *bc, const char **server)
{
	static struct config cfg;
	static struct config_errors errs;

	if (config_load(&cfg, path, &errs) == 0) {
		if (*server == NULL && cfg.backup_server[0])
			*server = cfg.backup_server;
		cli_cfg_paths = cfg.backup_paths;
		if (!bc->name[0])
			snprintf(bc->name, sizeof bc->name, "%s",
				 cfg.backup_name[0] ? cfg.backup_name
						    : cfg.device_name);
		if (!bc->state_dir[0])
			snprintf(bc->state_dir, sizeof bc->state_dir, "%s",
				 cfg.data_dir);
		if (!bc->tls_ca[0])
			snprintf(bc->tls_ca, sizeof bc->tls_ca, "%s", cfg.tls_ca);
		if (!bc->tls_cert[0])
			snprintf(bc->tls_cert, sizeof bc->tls_cert, "%s",
				 cfg.tls_cert);
		if (!bc->tls_key[0])
			snprintf(bc->tls_key, sizeof bc->tls_key, "%s",
				 cfg.tls_key);
		snprintf(bc->tls_psk, sizeof bc->tls_psk, "%s", cfg.tls_psk);
		bc->tls_allow12 = cfg.tls_min_version == CONFIG_TLS_1_2;
		if (bc->max_rate == 0)
			bc->max_rate = (uint64_t)cfg.backup_max_rate;
		return 0;
	}
	fprintf(stderr, "%s: %s: invalid configuration "
		"(see vigild --check-config)\n", prog, path);
	return 1;
}

/* *out gets v, a number of at most 32 bits.  @retval 1 @retval -1 not */
static int num_u32(const char *v, uint32_t *out)
{
	uint64_t n;

	if (num_u64(v, UINT32_MAX, &n) != 0)
		return -1;
	*out = (uint32_t)n;
	return 1;
}

/* see backup_cli.h */
int backup_cli_common_opt(const char *a, const char *v,
			  struct backup_client_cfg *cfg)
{
	if (!strcmp(a, "--state"))
		snprintf(cfg->state_dir, sizeof cfg->state_dir, "%s", v);
	else if (!strcmp(a, "--tls-ca"))
		snprintf(cfg->tls_ca, sizeof cfg->tls_ca, "%s", v);
	else if (!strcmp(a, "--tls-cert"))
		snprintf(cfg->tls_cert, sizeof cfg->tls_cert, "%s", v);
	else if (!strcmp(a, "--tls-key"))
		snprintf(cfg->tls_key, sizeof cfg->tls_key, "%s", v);
	else if (!strcmp(a, "--timeout"))
		return num_u32(v, &cfg->io_timeout_ms);
	else
		return 0;
	return 1;
}

/* backup's own numeric options, as backup_cli_common_opt. */
static int number_opt(const char *a, const char *v,
		      struct backup_client_cfg *cfg)
{
	if (!strcmp(a, "--max-rate"))
		return num_u64(v, UINT64_MAX, &cfg->max_rate) ? -1 : 1;
	if (!strcmp(a, "--segment-max"))
		return num_u64(v, UINT64_MAX, &cfg->segment_max) ? -1 : 1;
	if (!strcmp(a, "--retry-cap"))
		return num_u32(v, &cfg->retry_cap_ms);
	return 0;
}

/* Parses options into cfg; *first gets the index of the first PATH. */
static int parse_opts(int argc, char **argv, struct backup_client_cfg *cfg,
		      const char **server, const char **config, int *first)
{
	int i, ret;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return -1;
		}
		if (!v)
			return usage("%s needs a value", a);
		i++;
		ret = backup_cli_common_opt(a, v, cfg);
		if (ret == 0)
			ret = number_opt(a, v, cfg);
		if (ret < 0)
			return usage("bad number '%s'", v);
		if (ret > 0)
			continue;
		if (!strcmp(a, "--server"))
			*server = v;
		else if (!strcmp(a, "--name"))
			snprintf(cfg->name, sizeof cfg->name, "%s", v);
		else if (!strcmp(a, "--config"))
			*config = v;
		else if (!strcmp(a, "--pubkey") && !strcmp(v, "auto"))
			cfg->pubkey = BACKUP_PUBKEY_AUTO;
		else if (!strcmp(a, "--pubkey") && !strcmp(v, "160"))
			cfg->pubkey = BACKUP_PUBKEY_160;
		else if (!strcmp(a, "--pubkey") && !strcmp(v, "162"))
			cfg->pubkey = BACKUP_PUBKEY_162;
		else
			return usage("unknown option or value '%s'", a);
	}
	*first = i;
	return 0;
}

/* The last run's manifest from the state directory (a damaged one is
 * dropped: every file is then sent once). */
static void manifest_load(const struct backup_client_cfg *cfg)
{
	static struct bk_manifest mf;

	if (bk_mf_load(&mf, cfg->state_dir) == -EBADMSG)
		fprintf(stderr, "vigild backup: %s/%s unusable; sending every "
			"file\n", cfg->state_dir, BACKUP_MANIFEST_FILE);
	cli.mf = &mf;
}

static void manifest_save(const struct backup_client_cfg *cfg)
{
	int ret;

	if (cli.mf->full > 0)
		fprintf(stderr, "vigild backup: manifest full (%u entries): %u "
			"files not recorded\n", BACKUP_MANIFEST_MAX,
			cli.mf->full);
	ret = bk_mf_save(cli.mf, cfg->state_dir);
	if (ret < 0)
		fprintf(stderr, "vigild backup: cannot write %s/%s: %s\n",
			cfg->state_dir, BACKUP_MANIFEST_FILE, strerror(-ret));
}

/* The whole tree was walked and each file is verified or kept: the
 * server's snapshot of this run is sealed (a server without sealed
 * snapshots is not asked). */
static void seal(const struct job *j, const struct backup_walk_stats *st)
{
	if (!(cli.e.xcaps & V3X_CAP_SNAPSHOT))
		return;
	if (st->errors || j->unkept) {
		fprintf(stderr, "vigild backup: snapshot not sealed: %u paths "
			"unreadable, %u failed files not kept\n", st->errors,
			j->unkept);
		return;
	}
	if (backup_client_snapshot(&cli, NULL) == 0 && cli.e.snap_id)
		fprintf(stderr, "vigild backup: snapshot %llu sealed: %u "
			"files\n", (unsigned long long)cli.e.snap_id,
			(unsigned)cli.e.snap_count);
	else
		fprintf(stderr, "vigild backup: snapshot not sealed: %s\n",
			cli.e.err);
}

static int run(const struct backup_client_cfg *cfg, int argc, char **argv,
	       int first)
{
	struct backup_walk_stats st = { 0, 0, 0 };
	struct job j = { 0, 0, 0, isatty(2) };

	backup_crypto_init();
	/* one run: the engine counts its sessions from bke_init */
	if (backup_client_init(&cli, cfg) < 0 ||
	    backup_client_connect(&cli) < 0) {
		fprintf(stderr, "vigild backup: %s\n", cli.e.err);
		backup_client_close(&cli);
		return 1;
	}
	if (j.tty)
		cli.cfg.progress = progress;
	manifest_load(cfg);
	for (int i = first; i < argc; i++)
		one_arg(&j, argv[i], '\0', &st);
	if (first >= argc) {    /* the configured tree: the whole of it */
		one_arg(&j, cli_cfg_paths, ',', &st);
		seal(&j, &st);
	}
	manifest_save(cfg);
	backup_client_close(&cli);
	if (j.failed || st.errors) {
		fprintf(stderr, "vigild backup: %u of %u files failed, %u paths "
			"unreadable\n", j.failed, j.ok + j.failed, st.errors);
		return 1;
	}
	if (j.ok == 0) {
		fprintf(stderr, "vigild backup: no regular files to back up "
			"(%u skipped)\n", st.skipped);
		return 1;
	}
	fprintf(stderr, "vigild backup: %u files verified, %u skipped; %u "
		"unchanged (%llu bytes) recorded by the server without "
		"sending\n", j.ok, st.skipped, cli.files_deduped,
		(unsigned long long)cli.bytes_deduped);
	return 0;
}

/* see backup_cli.h */
int backup_cli_main(int argc, char **argv)
{
	static struct backup_client_cfg cfg;
	const char *server = NULL, *config = NULL;
	int first = argc, ret;

	ret = parse_opts(argc, argv, &cfg, &server, &config, &first);
	if (ret != 0)
		return ret < 0 ? 0 : ret;
	if (config && backup_cli_config("vigild backup", config, &cfg, &server))
		return 1;
	backup_cli_defaults(&cfg);
	if (!server)
		return usage("%s", "--server URL is required (or backup.server "
			     "in the --config file)");
	if (first >= argc && !cli_cfg_paths[0])
		return usage("%s", "no PATH given (and no backup.paths in a "
			     "--config file)");
	ret = backup_cli_resolve("vigild backup", &cfg, server);
	return ret ? ret : run(&cfg, argc, argv, first);
}
