/*
 * spex ls [--json] [--bytes] [WORK_DIR]: the sandboxes of an agent work
 * dir, largest first (docs/cli.md).
 */
#include "cli.h"
#include "clock.h"
#include "cmd.h"
#include "jsonout.h"
#include "summary.h"
#include "util.h"

#include <inttypes.h>
#include <string.h>

#define LS_USAGE "usage: spex ls [--json] [--bytes] [WORK_DIR]"

void
cmd_ls_usage(FILE *f)
{
	fprintf(f, LS_USAGE
	        "\n"
	        "\n"
	        "Every sandbox of a Mesos agent work dir (default " WORKDIR_DEFAULT "), that is\n"
	        "WORK_DIR/slaves/*/frameworks/*/executors/*/runs/*, largest first: framework,\n"
	        "executor, executor liveness (live, dead, unknown), age, total disk usage and\n"
	        "its largest category. Symlinks (the agent's `latest` links) are not followed.\n"
	        "\n"
	        "  --json       the list as JSON (schema spex.ls/1)\n"
	        "  --bytes      exact byte counts instead of human units\n"
	        "  -h, --help   this help\n");
}

/* "shuffle 73%", or "-" when the sandbox is empty or was not scanned. */
static void
top_text(const struct sandbox_summary *s, char *buf, size_t len)
{
	int top = s->scanned ? summary_top(s->scan.bytes) : -1;
	if (top < 0) {
		snprintf(buf, len, "-");
		return;
	}
	unsigned pct =
	    (unsigned)(100.0 * (double)s->scan.bytes[top] / (double)s->scan.total_bytes + 0.5);
	snprintf(buf, len, "%s %u%%", disk_cat_name(top), pct);
}

/* The colour of a liveness. */
static const char *
live_color(enum liveness l)
{
	return l == LIVENESS_LIVE ? CLI_GREEN : l == LIVENESS_DEAD ? CLI_RED : CLI_YELLOW;
}

struct ls_cols {
	size_t fw, ex, total, top;
};

#define STATE_W 7
#define AGE_W   6

/* One row of the table, fitted to the width; l < 0 for the header (no colour). */
static void
ls_row(const struct cli_term *t, const struct ls_cols *c, const char *fw, const char *ex, int l,
       const char *state, const char *age, const char *total, const char *top)
{
	char a[512], b[512], line[2048], fit[2048];
	int at, n;

	/* Ids keep their end (what tells them apart), the header its start. */
	cli_fit(fw, c->fw, t->utf8, l >= 0, a, sizeof(a));
	cli_fit(ex, c->ex, t->utf8, l >= 0, b, sizeof(b));
	/* Pad by columns, not bytes ("…" is 3 bytes). */
	at = snprintf(line, sizeof(line), "%s%*s  %s%*s  ", a, (int)(c->fw - cli_cols(a)), "", b,
	              (int)(c->ex - cli_cols(b)), "");
	if (at < 0 || (size_t)at >= sizeof(line))
		return;
	n = snprintf(line + at, sizeof(line) - (size_t)at, "%-*s  %*s  %*s  %s", STATE_W, state,
	             AGE_W, age, (int)c->total, total, top);
	if (n < 0)
		return;
	cli_fit(line, (size_t)t->width, t->utf8, false, fit, sizeof(fit));
	/* The state column is coloured when it is whole on the line. */
	if (l < 0 || !t->color || strlen(fit) < (size_t)at + STATE_W ||
	    strncmp(fit, line, (size_t)at + STATE_W) != 0) {
		puts(fit);
		return;
	}
	printf("%.*s%s%.*s%s%s\n", at, fit, cli_sgr(t, live_color((enum liveness)l)), STATE_W,
	       fit + at, cli_sgr(t, CLI_RESET), fit + at + STATE_W);
}

/* The table, sized to the width. */
static void
ls_human(const struct workdir *w, const struct sandbox_summary *v, size_t n,
         const struct cli_term *t, int64_t now_ms)
{
	char(*tot)[32] = xcalloc(n + 1, sizeof(*tot));
	char(*top)[32] = xcalloc(n + 1, sizeof(*top));
	struct ls_cols c = {.fw = strlen("FRAMEWORK"),
	                    .ex = strlen("EXECUTOR"),
	                    .total = strlen("TOTAL"),
	                    .top = strlen("TOP")};

	for (size_t i = 0; i < n; i++) {
		if (v[i].scanned)
			cli_size(t, v[i].scan.total_bytes, tot[i], sizeof(tot[i]));
		else
			snprintf(tot[i], sizeof(tot[i]), "?");
		top_text(&v[i], top[i], sizeof(top[i]));
		c.fw = CLI_MAX(c.fw, cli_width(v[i].ref->framework_id, t->utf8));
		c.ex = CLI_MAX(c.ex, cli_width(v[i].ref->executor_id, t->utf8));
		c.total = CLI_MAX(c.total, strlen(tot[i]));
		c.top = CLI_MAX(c.top, strlen(top[i]));
	}
	/* framework, executor, state, age, total, top, two spaces between */
	size_t fixed = STATE_W + AGE_W + c.total + c.top + 5 * 2;
	size_t flex[2] = {c.fw, c.ex};
	cli_shrink(flex, 2, (size_t)t->width > fixed ? (size_t)t->width - fixed : 0, 6);
	c.fw = flex[0];
	c.ex = flex[1];

	ls_row(t, &c, "FRAMEWORK", "EXECUTOR", -1, "STATE", "AGE", "TOTAL", "TOP");
	for (size_t i = 0; i < n; i++) {
		char age[16];
		clock_human_duration(clock_diff_ms(now_ms, v[i].since_ms), age, sizeof(age));
		ls_row(t, &c, v[i].ref->framework_id, v[i].ref->executor_id, (int)v[i].live,
		       liveness_name(v[i].live), age, tot[i], top[i]);
	}
	if (n == 0) {
		_cleanup_free_ char *none = xasprintf("no sandboxes under %s", w->path);
		cli_put_fit(stdout, none, (size_t)t->width, t->utf8, false);
		putchar('\n');
	}
	free(tot);
	free(top);
}

/* The list as spex.ls/1. */
static void
ls_json(const struct workdir *w, const struct sandbox_summary *v, size_t n, int64_t now_ms)
{
	cJSON *doc = jo_object();

	jo_str(doc, "schema", "spex.ls/1");
	jo_str(doc, "work_dir", w->path);
	jo_time(doc, "now", now_ms);
	cJSON *arr = jo_add_array(doc, "sandboxes");
	for (size_t i = 0; i < n; i++) {
		const struct sandbox_summary *s = &v[i];
		cJSON *o = jo_push_object(arr);
		jo_str(o, "path", s->ref->rel);
		jo_str(o, "agent_id", s->ref->agent_id);
		jo_str(o, "framework_id", s->ref->framework_id);
		jo_str(o, "executor_id", s->ref->executor_id);
		jo_str(o, "run_id", s->ref->run_id);
		jo_str(o, "liveness", liveness_name(s->live));
		jo_str(o, "liveness_reason", s->why);
		jo_bool(o, "state_file", s->has_state);
		jo_str(o, "state_error", s->state_error);
		jo_int(o, "executor_pid", s->has_state ? s->state.pid : STATE_NONE);
		jo_time(o, "since", s->since_ms);
		jo_secs(o, "age_s", CLI_MAX(clock_diff_ms(now_ms, s->since_ms), 0));
		if (s->scanned) {
			int top = summary_top(s->scan.bytes);
			jo_u64(o, "allocated_bytes", s->scan.total_bytes);
			jo_categories(o, "categories", s->scan.bytes);
			jo_str(o, "top_category", top >= 0 ? disk_cat_name(top) : NULL);
		} else {
			jo_chk(cJSON_AddNullToObject(o, "allocated_bytes"));
			jo_chk(cJSON_AddNullToObject(o, "categories"));
			jo_chk(cJSON_AddNullToObject(o, "top_category"));
		}
		jo_str(o, "scan_error", s->scan_error);
		jo_bool(o, "other_file_system", s->ref->other_dev);
	}
	jo_u64(doc, "symlinks_skipped", w->symlinks_skipped);
	jo_u64(doc, "errors", w->errors);
	jo_print(doc, stdout);
}

enum { OPT_JSON, OPT_BYTES, OPT_HELP };

static const struct cli_option ls_opts[] = {
    {"--json", NULL, false, OPT_JSON},
    {"--bytes", NULL, false, OPT_BYTES},
    {"--help", "-h", false, OPT_HELP},
};

int
cmd_ls(int argc, char **argv)
{
	const char *dir = NULL, *v;
	bool json = false;
	struct cli_parser p;
	struct cli_term t;
	struct workdir w;
	struct spx_error err = {0};
	int64_t now_ms;
	int o, rc = CLI_OK;

	cli_term_init(&t);
	cli_parser_init(&p, "ls", LS_USAGE, ls_opts, ARRAY_SIZE(ls_opts), argc, argv);
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
			cmd_ls_usage(stdout);
			return cli_finish("ls", CLI_OK);
		default:
			if (dir)
				return cli_usage_error(&p, "one WORK_DIR only ('%s', then '%s')",
				                       dir, v);
			dir = v;
		}
	}
	if (clock_now_ms(&now_ms, &err) < 0 ||
	    workdir_open(dir ? dir : WORKDIR_DEFAULT, &w, &err) < 0) {
		cli_err("ls", "%s", spx_error_msg(&err));
		spx_error_clear(&err);
		return CLI_ERROR;
	}
	struct sandbox_summary *sums = xcalloc(w.n + 1, sizeof(*sums));
	for (size_t i = 0; i < w.n; i++) {
		summary_load(&w, &w.runs[i], true, &sums[i]);
		if (sums[i].state_error || sums[i].scan_error) {
			cli_err("ls", "%s",
			        sums[i].state_error ? sums[i].state_error : sums[i].scan_error);
			rc = CLI_ERROR;
		}
	}
	summary_sort(sums, w.n);
	if (json)
		ls_json(&w, sums, w.n, now_ms);
	else
		ls_human(&w, sums, w.n, &t, now_ms);
	if (w.errors) {
		cli_err("ls", "%s/%s", w.path, w.first_error);
		rc = CLI_ERROR;
	}
	for (size_t i = 0; i < w.n; i++)
		summary_clear(&sums[i]);
	free(sums);
	workdir_close(&w);
	return cli_finish("ls", rc);
}
