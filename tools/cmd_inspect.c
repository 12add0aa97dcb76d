/*
 * spex inspect [--json] [--bytes] [SANDBOX...]: one sandbox in depth
 * (docs/cli.md).
 */
#include "cli.h"
#include "clock.h"
#include "cmd.h"
#include "disk_policy.h"
#include "inspect.h"
#include "jsonout.h"
#include "settings_layer.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INSPECT_USAGE "usage: spex inspect [--json] [--bytes] [SANDBOX...]"

void
cmd_inspect_usage(FILE *f)
{
	fprintf(f, INSPECT_USAGE
	        "\n"
	        "\n"
	        "A sandbox in depth: the executor (live, dead or unknown, from\n"
	        ".spex/state.json), its tasks, their processes (live executors), their\n"
	        "cgroup limits and usage, disk usage by category (a fresh scan), the disk\n"
	        "history as a sparkline, and warnings. Without SANDBOX, the current\n"
	        "directory when it holds .spex/.\n"
	        "\n"
	        "  --json       one JSON document (schema spex.inspect/1)\n"
	        "  --bytes      exact byte counts instead of human units\n"
	        "  -h, --help   this help\n");
}

static const char *
env_get(const char *name)
{
	return getenv(name);
}

/* Where the log caps come from: the executors' own settings (environment
 * over /etc/spex/spex.json or SPEX_CONFIG), or the environment alone when
 * that file is broken (said once; inspect still works). */
static config_getenv_fn
caps_source(void)
{
	struct spx_error err = {0};

	if (settings_setup(env_get, SETTINGS_DEFAULT_PATH, &err) == 0)
		return settings_layer_get;
	cli_err("inspect", "note: %s; log caps from the environment only", spx_error_msg(&err));
	spx_error_clear(&err);
	return env_get;
}

/* A size setting (SPEX_LOG_HEAD, SPEX_LOG_TAIL) from get, or dflt when unset. */
static int
env_size(config_getenv_fn get, const char *name, uint64_t dflt, uint64_t *ret)
{
	const char *s = get(name);
	struct spx_error err = {0};

	*ret = dflt;
	if (!s || !*s)
		return 0;
	if (parse_bytes(s, ret, &err) < 0) {
		cli_err("inspect", "%s: %s", name, spx_error_msg(&err));
		spx_error_clear(&err);
		return -1;
	}
	return 0;
}

enum { OPT_JSON, OPT_BYTES, OPT_HELP };

static const struct cli_option inspect_opts[] = {
    {"--json", NULL, false, OPT_JSON},
    {"--bytes", NULL, false, OPT_BYTES},
    {"--help", "-h", false, OPT_HELP},
};

int
cmd_inspect(int argc, char **argv)
{
	_cleanup_free_ const char **paths = xcalloc((size_t)argc + 1, sizeof(*paths));
	size_t npaths = 0;
	bool json = false;
	const char *v;
	struct cli_parser p;
	struct cli_term t;
	struct spx_error err = {0};
	uint64_t head, tail;
	int64_t now_ms;
	int o, rc = CLI_OK;

	cli_term_init(&t);
	cli_parser_init(&p, "inspect", INSPECT_USAGE, inspect_opts, ARRAY_SIZE(inspect_opts), argc,
	                argv);
	while ((o = cli_next(&p, &v)) != CLI_END) {
		switch (o) {
		case CLI_BAD:
			return CLI_USAGE;
		case OPT_JSON:
			json = true;
			break;
		case OPT_BYTES:
			t.exact = true;
			break;
		case OPT_HELP:
			cmd_inspect_usage(stdout);
			return cli_finish("inspect", CLI_OK);
		default:
			paths[npaths++] = v;
		}
	}
	if (npaths == 0) {
		struct stat st;
		if (lstat(".spex", &st) < 0 || !S_ISDIR(st.st_mode))
			return cli_usage_error(&p, "no SANDBOX given and the current directory has "
			                           "no .spex/");
		paths[npaths++] = ".";
	}
	config_getenv_fn get = caps_source();
	if (env_size(get, "SPEX_LOG_HEAD", INSPECT_LOG_HEAD, &head) < 0 ||
	    env_size(get, "SPEX_LOG_TAIL", INSPECT_LOG_TAIL, &tail) < 0)
		return CLI_ERROR;
	if (clock_now_ms(&now_ms, &err) < 0) {
		cli_err("inspect", "%s", spx_error_msg(&err));
		spx_error_clear(&err);
		return CLI_ERROR;
	}

	cJSON *doc = NULL, *arr = NULL;
	if (json) {
		doc = jo_object();
		jo_str(doc, "schema", "spex.inspect/1");
		jo_time(doc, "now", now_ms);
		arr = jo_add_array(doc, "sandboxes");
	}
	for (size_t i = 0, shown = 0; i < npaths; i++) {
		struct inspect_view view;
		if (inspect_gather(paths[i], now_ms, head, tail, &view, &err) < 0) {
			cli_err("inspect", "%s", spx_error_msg(&err));
			spx_error_clear(&err);
			inspect_view_free(&view);
			rc = CLI_ERROR;
			continue;
		}
		/* A part that could not be read is an error too; the rest is shown. */
		const char *problem = view.state_error  ? view.state_error
		                      : view.scan_error ? view.scan_error
		                                        : view.hist_error;
		if (problem) {
			cli_err("inspect", "%s", problem);
			rc = CLI_ERROR;
		}
		if (json) {
			if (!cJSON_AddItemToArray(arr, inspect_json(&view)))
				jo_chk(NULL);
		} else {
			if (shown++ > 0)
				fputc('\n', stdout);
			inspect_print(&view, &t, stdout);
		}
		inspect_view_free(&view);
	}
	if (json)
		jo_print(doc, stdout);
	return cli_finish("inspect", rc);
}
