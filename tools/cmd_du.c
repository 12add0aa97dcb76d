/*
 * spex du [--json] [--apparent] [--bytes] PATH: disk usage of a sandbox by
 * Spark category (docs/disk-report.md).
 */
#include "cli.h"
#include "cmd.h"
#include "jsonout.h"
#include "report.h"
#include "scan.h"
#include "summary.h"
#include "util.h"

#include <inttypes.h>
#include <string.h>

#define DU_USAGE "usage: spex du [--json] [--apparent] [--bytes] PATH"

void
cmd_du_usage(FILE *f)
{
	fprintf(f, DU_USAGE
	        "\n"
	        "\n"
	        "Disk usage of a sandbox, by Spark category (shuffle, blocks, spark_temp,\n"
	        "dist, logs, dumps, spex, other). Symlinks are not followed, other file\n"
	        "systems are not entered, hard links count once.\n"
	        "\n"
	        "  --json       the scan as JSON (schema spex.disk/1)\n"
	        "  --apparent   sizes are apparent sizes (st_size), not allocated blocks\n"
	        "  --bytes      exact byte counts instead of human units\n"
	        "  -h, --help   this help\n");
}

/* v as a percentage of total, one decimal ("0.0%" when total is 0). */
static void
du_percent(uint64_t v, uint64_t total, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f%%", total ? 100.0 * (double)v / (double)total : 0.0);
}

/* Print the scan as a table: every category, then the total. */
static void
du_table(const struct scan_result *r, const struct cli_term *t, int apparent)
{
	const uint64_t *sizes = apparent ? r->apparent : r->bytes;
	uint64_t total = apparent ? r->total_apparent : r->total_bytes;
	uint64_t files = 0;
	char size[CAT_COUNT + 1][32], pct[CAT_COUNT + 1][16], nfiles[CAT_COUNT + 1][24];
	int wsize = 4, wfiles = 5, wname = 8;

	for (int c = 0; c <= CAT_COUNT; c++) {
		uint64_t v = c < CAT_COUNT ? sizes[c] : total;
		uint64_t f = c < CAT_COUNT ? r->files[c] : files;
		if (c < CAT_COUNT)
			files += r->files[c];
		cli_size(t, v, size[c], sizeof(size[c]));
		du_percent(v, total, pct[c], sizeof(pct[c]));
		snprintf(nfiles[c], sizeof(nfiles[c]), "%" PRIu64, f);
		if ((int)strlen(size[c]) > wsize)
			wsize = (int)strlen(size[c]);
		if ((int)strlen(nfiles[c]) > wfiles)
			wfiles = (int)strlen(nfiles[c]);
		if (c < CAT_COUNT && (int)strlen(disk_cat_name(c)) > wname)
			wname = (int)strlen(disk_cat_name(c));
	}
	printf("%-*s  %*s  %6s  %*s\n", wname, "category", wsize, "size", "%", wfiles, "files");
	for (int c = 0; c <= CAT_COUNT; c++) {
		printf("%-*s  %*s  %6s  %*s\n", wname, c < CAT_COUNT ? disk_cat_name(c) : "total",
		       wsize, size[c], pct[c], wfiles, nfiles[c]);
	}
}

enum { OPT_JSON, OPT_APPARENT, OPT_BYTES, OPT_HELP };

static const struct cli_option du_opts[] = {
    {"--json", NULL, false, OPT_JSON},
    {"--apparent", NULL, false, OPT_APPARENT},
    {"--bytes", NULL, false, OPT_BYTES},
    {"--help", "-h", false, OPT_HELP},
};

int
cmd_du(int argc, char **argv)
{
	bool json = false, apparent = false;
	const char *path = NULL, *v;
	struct cli_parser p;
	struct cli_term t;
	struct scan_result r;
	struct spx_error err = {0};
	int o;

	cli_term_init(&t);
	cli_parser_init(&p, "du", DU_USAGE, du_opts, ARRAY_SIZE(du_opts), argc, argv);
	while ((o = cli_next(&p, &v)) != CLI_END) {
		switch (o) {
		case CLI_BAD:
			return CLI_USAGE;
		case OPT_JSON:
			json = true;
			break;
		case OPT_APPARENT:
			apparent = true;
			break;
		case OPT_BYTES:
			t.exact = true;
			break;
		case OPT_HELP:
			cmd_du_usage(stdout);
			return cli_finish("du", CLI_OK);
		default: /* CLI_ARG */
			if (path)
				return cli_usage_error(&p, "one PATH only ('%s', then '%s')", path,
				                       v);
			path = v;
		}
	}
	if (!path)
		return cli_usage_error(&p, "missing PATH");

	if (summary_scan(path, &r, &err) < 0) {
		cli_err("du", "%s", spx_error_msg(&err));
		spx_error_clear(&err);
		return CLI_ERROR;
	}
	if (json) {
		/* JSON text is UTF-8: a path of another encoding gets U+FFFD. */
		_cleanup_free_ char *root = jo_utf8(path, 0);
		_cleanup_free_ char *first = jo_utf8(r.first_error, sizeof(r.first_error));
		snprintf(r.first_error, sizeof(r.first_error), "%s", first);
		_cleanup_free_ char *text = report_json(root, &r);
		puts(text);
	} else {
		du_table(&r, &t, apparent);
	}
	int rc = cli_finish("du", CLI_OK);
	if (rc != CLI_OK)
		return rc;
	if (r.mounts_skipped)
		cli_err("du", "%s: note: %" PRIu64 " mount point%s below not entered", path,
		        r.mounts_skipped, r.mounts_skipped == 1 ? "" : "s");
	if (r.errors) {
		/* Like du: the totals are printed, the status says they are partial. */
		cli_err("du", "%s: %" PRIu64 " entr%s unreadable, first: %s", path, r.errors,
		        r.errors == 1 ? "y" : "ies", r.first_error);
		return CLI_ERROR;
	}
	return CLI_OK;
}
