/*
 * spex: the operator's command-line tool.
 *
 *	spex du [--json] [--apparent] [--bytes] PATH
 *	spex help [VERB]
 *	spex --version
 *
 * Verbs live in one table (name, summary, run, usage); add one there.
 * Exit status: 0 ok, 1 error (one line on stderr naming the path and the
 * reason), 2 usage.
 */
#include "report.h"
#include "scan.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#ifndef SPEX_VERSION
#define SPEX_VERSION "unknown"
#endif

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

struct verb {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the verb */
	void (*usage)(FILE *f);
};

static const struct verb *verb_find(const char *name);
static void main_usage(FILE *f);

/* --- du ------------------------------------------------------------------- */

#define DU_USAGE "usage: spex du [--json] [--apparent] [--bytes] PATH"

static void
du_usage(FILE *f)
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

static void
du_size(uint64_t v, int exact, char *buf, size_t len)
{
	if (exact)
		snprintf(buf, len, "%" PRIu64, v);
	else
		report_human_bytes(v, buf, len);
}

static void
du_percent(uint64_t v, uint64_t total, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f%%", total ? 100.0 * (double)v / (double)total : 0.0);
}

static void
du_table(const struct scan_result *r, int apparent, int exact)
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
		du_size(v, exact, size[c], sizeof(size[c]));
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

static int
du_run(int argc, char **argv)
{
	int json = 0, apparent = 0, exact = 0, opts_done = 0;
	const char *path = NULL;
	struct scan_result r;
	struct spx_error err = {0};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!opts_done && a[0] == '-' && a[1] != '\0') {
			if (strcmp(a, "--json") == 0) {
				json = 1;
			} else if (strcmp(a, "--apparent") == 0) {
				apparent = 1;
			} else if (strcmp(a, "--bytes") == 0) {
				exact = 1;
			} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
				du_usage(stdout);
				return EXIT_OK;
			} else if (strcmp(a, "--") == 0) {
				opts_done = 1;
			} else {
				fprintf(stderr, "spex du: unknown option '%s'\n" DU_USAGE "\n", a);
				return EXIT_USAGE;
			}
			continue;
		}
		if (path) {
			fprintf(stderr, "spex du: one PATH only ('%s', then '%s')\n" DU_USAGE "\n",
			        path, a);
			return EXIT_USAGE;
		}
		path = a;
	}
	if (!path) {
		fprintf(stderr, "spex du: missing PATH\n" DU_USAGE "\n");
		return EXIT_USAGE;
	}

	if (scan_sandbox(path, NULL, &r, &err) < 0) {
		fprintf(stderr, "spex du: %s\n", spx_error_msg(&err));
		spx_error_clear(&err);
		return EXIT_ERROR;
	}
	if (json) {
		_cleanup_free_ char *text = report_json(path, &r);
		puts(text);
	} else {
		du_table(&r, apparent, exact);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "spex du: write error on stdout\n");
		return EXIT_ERROR;
	}
	if (r.mounts_skipped)
		fprintf(stderr,
		        "spex du: note: %" PRIu64 " mount point(s) under '%s' not entered\n",
		        r.mounts_skipped, path);
	if (r.errors) {
		/* Like du: the totals are printed, the status says they are partial. */
		fprintf(stderr, "spex du: '%s': %" PRIu64 " entr%s unreadable, first: %s\n", path,
		        r.errors, r.errors == 1 ? "y" : "ies", r.first_error);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* --- help ----------------------------------------------------------------- */

static void
help_usage(FILE *f)
{
	fprintf(f, "usage: spex help [VERB]\n");
}

static int
help_run(int argc, char **argv)
{
	if (argc > 2) {
		help_usage(stderr);
		return EXIT_USAGE;
	}
	if (argc == 2) {
		const struct verb *v = verb_find(argv[1]);
		if (!v) {
			fprintf(stderr, "spex help: unknown verb '%s' (spex help lists them)\n",
			        argv[1]);
			return EXIT_USAGE;
		}
		v->usage(stdout);
		return EXIT_OK;
	}
	main_usage(stdout);
	return EXIT_OK;
}

/* --- the verb table ------------------------------------------------------- */

static const struct verb verbs[] = {
    {"du", "disk usage of a sandbox, by Spark category", du_run, du_usage},
    {"help", "help on spex or on one verb", help_run, help_usage},
};

static const struct verb *
verb_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	}
	return NULL;
}

static void
main_usage(FILE *f)
{
	fprintf(f, "usage: spex VERB [ARGS]\n"
	           "       spex --version\n"
	           "\n"
	           "verbs:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-6s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nspex help VERB, or spex VERB --help, for a verb's options.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("spex %s\n", SPEX_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		main_usage(stdout);
		return EXIT_OK;
	}
	const struct verb *v = verb_find(argv[1]);
	if (!v) {
		fprintf(stderr, "spex: unknown verb '%s' (spex help lists them)\n", argv[1]);
		return EXIT_USAGE;
	}
	return v->run(argc - 1, argv + 1);
}
