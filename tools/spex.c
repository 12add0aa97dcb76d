/*
 * spex: the operator's command-line tool (docs/cli.md, docs/spex.1).
 *
 *	spex du [--json] [--apparent] [--bytes] PATH
 *	spex inspect [--json] [--bytes] [SANDBOX...]
 *	spex ls [--json] [--bytes] [WORK_DIR]
 *	spex gc [--older-than DURATION] [--apply] [--log-tail SIZE] [--json] [--bytes] [WORK_DIR]
 *	spex help [VERB]
 *	spex --version
 *
 * Verbs live in one table (name, summary, run, usage); add one there and
 * its run and usage functions in cmd.h and tools/cmd_<verb>.c. The
 * conventions they share (exit status 0 ok, 1 error, 2 usage; one-line
 * errors; width, colour, sizes) are in cli.h.
 */
#include "cli.h"
#include "cmd.h"
#include "util.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#ifndef SPEX_VERSION
#define SPEX_VERSION "unknown"
#endif

struct verb {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the verb */
	void (*usage)(FILE *f);
};

static int help_run(int argc, char **argv);
static void help_usage(FILE *f);

static const struct verb verbs[] = {
    {"du", "disk usage of a sandbox, by Spark category", cmd_du, cmd_du_usage},
    {"inspect", "a sandbox: executor, tasks, processes, cgroup, disk, warnings", cmd_inspect,
     cmd_inspect_usage},
    {"ls", "the sandboxes of an agent work dir, largest first", cmd_ls, cmd_ls_usage},
    {"gc", "reclaim Spark leftovers in sandboxes of dead executors", cmd_gc, cmd_gc_usage},
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
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\n"
	           "spex help VERB, or spex VERB --help, for a verb's options.\n"
	           "Exit status: 0 ok, 1 error, 2 usage error. See spex(1).\n");
}

static void
help_usage(FILE *f)
{
	fprintf(f, "usage: spex help [VERB]\n");
}

static int
help_run(int argc, char **argv)
{
	if (argc > 2) {
		cli_err("help", "one VERB only");
		help_usage(stderr);
		return CLI_USAGE;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		help_usage(stdout);
		return cli_finish("help", CLI_OK);
	}
	if (argc == 2) {
		const struct verb *v = verb_find(argv[1]);
		if (!v) {
			cli_err("help", "unknown verb '%s' (spex help lists them)", argv[1]);
			return CLI_USAGE;
		}
		v->usage(stdout);
		return cli_finish("help", CLI_OK);
	}
	main_usage(stdout);
	return cli_finish("help", CLI_OK);
}

int
main(int argc, char **argv)
{
	setlocale(LC_CTYPE, ""); /* wcwidth(), the codeset: cli_term_init(), cli_err() */
	if (argc < 2) {
		main_usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("spex %s\n", SPEX_VERSION);
		return cli_finish("--version", CLI_OK);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		main_usage(stdout);
		return cli_finish("--help", CLI_OK);
	}
	const struct verb *v = verb_find(argv[1]);
	if (!v) {
		cli_err(NULL, "unknown verb '%s' (spex help lists them)", argv[1]);
		return CLI_USAGE;
	}
	return v->run(argc - 1, argv + 1);
}
