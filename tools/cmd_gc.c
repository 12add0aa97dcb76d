/*
 * spex gc [--older-than DURATION] [--apply] [--log-tail SIZE] [--json]
 * [--bytes] [WORK_DIR]: reclaim Spark's leftovers in the sandboxes of dead
 * executors (docs/cli.md). A dry run unless --apply.
 */
#include "cli.h"
#include "clock.h"
#include "cmd.h"
#include "disk_policy.h"
#include "duration.h"
#include "gc_policy.h"
#include "jsonout.h"
#include "procinfo.h"
#include "reclaim.h"
#include "summary.h"
#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GC_USAGE                                                                                   \
	"usage: spex gc [--older-than DURATION] [--apply] [--log-tail SIZE]\n"                     \
	"               [--json] [--bytes] [WORK_DIR]"
#define GC_LOG_TAIL     (32ull << 20) /* SPEX_LOG_TAIL's default */
#define GC_LOG_TAIL_MAX (1ull << 40)  /* 1 TiB: more is a typo (and reclaim adds to it) */

void
cmd_gc_usage(FILE *f)
{
	fprintf(f, GC_USAGE
	        "\n"
	        "\n"
	        "Reclaim what Spark leaves in the sandboxes of dead executors under an agent\n"
	        "work dir (default " WORKDIR_DEFAULT "): block-manager directories, Spark's\n"
	        "temp directories, the extracted distribution, and the head of stdout/stderr\n"
	        "beyond their last --log-tail bytes. Sandboxes of live executors, without a\n"
	        "state file, or with a process working in them are never touched. Symlinks\n"
	        "are never followed, other file systems never entered. A dry run unless\n"
	        "--apply.\n"
	        "\n"
	        "  --older-than DURATION  only sandboxes whose state was last written at least\n"
	        "                         this long ago (5mins, 6hrs, 2days, 1weeks)\n"
	        "  --apply                remove; without it, only say what would be freed\n"
	        "  --log-tail SIZE        bytes of stdout/stderr kept (default 32MiB, at most\n"
	        "                         1TiB)\n"
	        "  --json                 the plan or the result as JSON (schema spex.gc/1)\n"
	        "  --bytes                exact byte counts instead of human units\n"
	        "  -h, --help             this help\n");
}

struct gc_run {
	const struct cli_term *t;
	const struct workdir *w;
	bool apply, json;
	int64_t now_ms, older_than_ms;
	struct reclaim_opts ropts;
	uint64_t planned, freed;
	size_t sandboxes; /* with something to reclaim */
	int rc;
	cJSON *arr; /* with --json */
};

static void human_heading(const struct gc_run *g, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The sandbox's path on a line (cut at its start when too wide: the run id
 * stays), then "  <text>". */
static void
human_heading(const struct gc_run *g, const char *rel, const char *fmt, ...)
{
	va_list ap;
	char text[512], path[1024];

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	puts(cli_fit(rel, (size_t)g->t->width, g->t->utf8, true, path, sizeof(path)));
	fputs("  ", stdout);
	cli_put_fit(stdout, text, (size_t)g->t->width - 2, g->t->utf8, false);
	putchar('\n');
}

/* One planned item: kind, name (cut to fit) and its size (planned, or freed). */
static void
human_item(const struct gc_run *g, const struct reclaim_item *it, uint64_t bytes)
{
	char size[32], name[512], tail[32];
	int wsize = g->t->exact ? 14 : 9;
	size_t wname = (size_t)g->t->width > (size_t)(2 + 10 + 2 + 2 + wsize)
	                   ? (size_t)g->t->width - (2 + 10 + 2 + 2 + wsize)
	                   : 8;

	if (it->kind == RECLAIM_LOG)
		snprintf(name, sizeof(name), "%s (keeps the last %s)", it->name,
		         cli_size(g->t, g->ropts.log_tail, tail, sizeof(tail)));
	else
		snprintf(name, sizeof(name), "%s", it->name);
	printf("  %-10s  ", reclaim_kind_name(it->kind));
	cli_put_fit(stdout, name, wname, g->t->utf8, true);
	printf("  %*s\n", wsize, cli_size(g->t, bytes, size, sizeof(size)));
}

/* Is the sandbox open at fd still dead and unused? (Re-read right before
 * removing anything.) *ret_why says why not. */
static bool
still_dead(int fd, const char *what, const char **ret_why)
{
	struct sandbox_state st;
	struct spx_error err = {0};

	int rc = state_load(fd, what, &st, &err);
	spx_error_clear(&err);
	if (rc != 1) {
		*ret_why = "state file gone or unreadable";
		return false;
	}
	enum liveness l = state_liveness(&st, ret_why);
	state_clear(&st);
	if (l != LIVENESS_DEAD) {
		*ret_why = l == LIVENESS_LIVE ? "became live" : "liveness unknown";
		return false;
	}
	if (procinfo_dir_user(fd) != 0) {
		*ret_why = "a process works in it";
		return false;
	}
	return true;
}

/* With --json, a new object for the sandbox in g->arr with what is known
 * before planning; NULL without --json. */
static cJSON *
json_sandbox(struct gc_run *g, const struct sandbox_summary *s, enum gc_verdict verdict,
             int64_t age_ms)
{
	if (!g->json)
		return NULL;
	cJSON *o = jo_push_object(g->arr);
	jo_str(o, "path", s->ref->rel);
	jo_str(o, "framework_id", s->ref->framework_id);
	jo_str(o, "executor_id", s->ref->executor_id);
	jo_str(o, "liveness", liveness_name(s->live));
	jo_str(o, "liveness_reason", s->why);
	jo_secs(o, "age_s", age_ms);
	jo_str(o, "action",
	       verdict == GC_RECLAIM ? (g->apply ? "reclaimed" : "planned") : "skipped");
	jo_str(o, "skip_reason", verdict == GC_RECLAIM ? NULL : gc_verdict_text(verdict));
	return o;
}

/* Plan, and with --apply carry out, the reclaim of one dead sandbox. */
static void
gc_reclaim(struct gc_run *g, const struct sandbox_summary *s, int fd, cJSON *jo, int64_t age_ms)
{
	struct reclaim_plan plan;
	struct cleanup_result res = {0};
	struct spx_error err = {0};
	char a[32], ago[16];
	_cleanup_free_ char *what = xasprintf("%s/%s", g->w->path, s->ref->rel);
	cJSON *items = jo ? jo_add_array(jo, "items") : NULL;

	if (reclaim_plan(fd, &g->ropts, &plan, &err) < 0) {
		cli_err("gc", "%s: %s", what, spx_error_msg(&err));
		spx_error_clear(&err);
		g->rc = CLI_ERROR;
		return;
	}
	if (!g->json)
		human_heading(g, s->ref->rel, "dead (%s), last state %s ago%s", s->why,
		              clock_human_duration(age_ms, ago, sizeof(ago)),
		              plan.n ? "" : ": nothing to reclaim");
	const char *why = NULL;
	bool go = g->apply && plan.n > 0 && still_dead(fd, what, &why);
	if (g->apply && plan.n > 0 && !go && !g->json)
		printf("  skipped at the last moment: %s\n", why);
	uint64_t freed = 0;
	for (size_t i = 0; i < plan.n; i++) {
		const struct reclaim_item *it = &plan.items[i];
		uint64_t before = res.reclaimed_bytes;
		if (go)
			reclaim_apply(fd, it, &g->ropts, &res);
		uint64_t got = res.reclaimed_bytes - before;
		if (!g->json)
			human_item(g, it, go ? got : it->bytes);
		if (items) {
			cJSON *x = jo_push_object(items);
			jo_str(x, "kind", reclaim_kind_name(it->kind));
			jo_str(x, "name", it->name);
			jo_u64(x, "bytes", it->bytes);
			jo_u64(x, "entries", it->entries);
			if (go)
				jo_u64(x, "freed_bytes", got);
			else
				jo_chk(cJSON_AddNullToObject(x, "freed_bytes"));
		}
	}
	freed = res.reclaimed_bytes;
	if (plan.n > 0) {
		g->sandboxes++;
		g->planned += plan.bytes;
		g->freed += freed;
		if (!g->json)
			printf("  %s %s\n", go ? "freed" : "would free",
			       cli_size(g->t, go ? freed : plan.bytes, a, sizeof(a)));
	}
	uint64_t errors = plan.errors + res.errors;
	const char *first = plan.first_error[0] ? plan.first_error : res.first_error;
	if (errors) {
		cli_err("gc", "%s: %" PRIu64 " entr%s not %s, first: %s", what, errors,
		        errors == 1 ? "y" : "ies", go ? "removed" : "examined", first);
		g->rc = CLI_ERROR;
	}
	if (jo) {
		jo_str(jo, "action",
		       !g->apply           ? "planned"
		       : go || plan.n == 0 ? "reclaimed"
		                           : "skipped");
		jo_u64(jo, "planned_bytes", plan.bytes);
		if (go)
			jo_u64(jo, "freed_bytes", freed);
		else
			jo_chk(cJSON_AddNullToObject(jo, "freed_bytes"));
		jo_str(jo, "aborted", g->apply && plan.n > 0 && !go ? why : NULL);
		jo_u64(jo, "errors", errors);
		jo_str(jo, "first_error", errors ? first : NULL);
	}
	reclaim_plan_free(&plan);
}

/* Say why the sandbox is skipped (a line, or the JSON fields). */
static void
gc_skipped(struct gc_run *g, const struct sandbox_summary *s, enum gc_verdict v, int64_t age_ms,
           pid_t busy, cJSON *jo)
{
	char a[16], b[32];
	struct proc_info pi;

	if (jo) {
		jo_chk(cJSON_AddArrayToObject(jo, "items"));
		jo_u64(jo, "planned_bytes", 0);
		jo_chk(cJSON_AddNullToObject(jo, "freed_bytes"));
		jo_chk(cJSON_AddNullToObject(jo, "aborted"));
		jo_u64(jo, "errors", 0);
		jo_chk(cJSON_AddNullToObject(jo, "first_error"));
		return;
	}
	switch (v) {
	case GC_SKIP_LIVE:
		human_heading(g, s->ref->rel, "skipped, live (pid %" PRId64 ")", s->state.pid);
		break;
	case GC_SKIP_UNKNOWN:
		human_heading(g, s->ref->rel, "skipped, liveness unknown (%s)", s->why);
		break;
	case GC_SKIP_YOUNG:
		human_heading(
		    g, s->ref->rel, "skipped, too recent (last state %s ago, --older-than %s)",
		    age_ms == STATE_NONE ? "?" : clock_human_duration(age_ms, a, sizeof(a)),
		    duration_format(g->older_than_ms * 1000000, b, sizeof(b)));
		break;
	case GC_SKIP_BUSY:
		if (busy > 0 && procinfo_read(busy, &pi) == 0)
			human_heading(g, s->ref->rel,
			              "skipped, dead but process %d (%s) works in it", (int)busy,
			              pi.comm);
		else if (busy > 0)
			human_heading(g, s->ref->rel, "skipped, dead but process %d works in it",
			              (int)busy);
		else
			human_heading(g, s->ref->rel,
			              "skipped, dead but /proc cannot tell who works in it");
		break;
	default:
		human_heading(g, s->ref->rel, "skipped, %s", gc_verdict_text(v));
	}
}

/* Decide about one sandbox of the work dir, then reclaim or skip it. */
static void
gc_one(struct gc_run *g, const struct sandbox_ref *r)
{
	struct sandbox_summary s;
	struct spx_error err = {0};
	pid_t busy = 0;
	int64_t age_ms = STATE_NONE;
	enum gc_verdict v;

	summary_load(g->w, r, false, &s);
	if (s.state_error) {
		cli_err("gc", "%s", s.state_error);
		g->rc = CLI_ERROR;
	}
	_cleanup_close_ int fd = -1;
	if (r->other_dev) {
		v = GC_SKIP_OTHERDEV;
	} else {
		fd = s.live == LIVENESS_DEAD ? workdir_open_run(g->w, r, &err) : -1;
		if (s.live == LIVENESS_DEAD && fd < 0) {
			cli_err("gc", "%s", spx_error_msg(&err));
			spx_error_clear(&err);
			g->rc = CLI_ERROR;
			summary_clear(&s);
			return;
		}
		if (fd >= 0)
			busy = procinfo_dir_user(fd);
		v = gc_decide(s.live, busy != 0, s.has_state ? s.state.written_ms : STATE_NONE,
		              g->now_ms, g->older_than_ms, &age_ms);
	}
	cJSON *jo = json_sandbox(g, &s, v, age_ms);
	if (v == GC_RECLAIM)
		gc_reclaim(g, &s, fd, jo, age_ms);
	else
		gc_skipped(g, &s, v, age_ms, busy, jo);
	summary_clear(&s);
}

/* The closing line: what would be, or was, freed in all. */
static void
gc_total(const struct gc_run *g)
{
	char a[32];
	_cleanup_free_ char *text = NULL;

	if (g->json)
		return;
	cli_size(g->t, g->apply ? g->freed : g->planned, a, sizeof(a));
	text = xasprintf("%s %s in %zu sandbox%s%s", g->apply ? "freed" : "would free", a,
	                 g->sandboxes, g->sandboxes == 1 ? "" : "es",
	                 g->apply ? "" : " (dry run; --apply removes)");
	putchar('\n');
	cli_put_fit(stdout, text, (size_t)g->t->width, g->t->utf8, false);
	putchar('\n');
}

enum { OPT_OLDER, OPT_APPLY, OPT_LOG_TAIL, OPT_JSON, OPT_BYTES, OPT_HELP };

static const struct cli_option gc_opts[] = {
    {"--older-than", NULL, true, OPT_OLDER},  {"--apply", NULL, false, OPT_APPLY},
    {"--log-tail", NULL, true, OPT_LOG_TAIL}, {"--json", NULL, false, OPT_JSON},
    {"--bytes", NULL, false, OPT_BYTES},      {"--help", "-h", false, OPT_HELP},
};

int
cmd_gc(int argc, char **argv)
{
	const char *dir = NULL, *v;
	struct cli_parser p;
	struct cli_term t;
	struct workdir w;
	struct spx_error err = {0};
	struct gc_run g = {.t = &t, .w = &w, .ropts = {.log_tail = GC_LOG_TAIL}};
	int64_t ns;
	int o;

	cli_term_init(&t);
	cli_parser_init(&p, "gc", GC_USAGE, gc_opts, ARRAY_SIZE(gc_opts), argc, argv);
	while ((o = cli_next(&p, &v)) != CLI_END) {
		switch (o) {
		case CLI_BAD:
			return CLI_USAGE;
		case OPT_OLDER:
			if (duration_parse(v, &ns, &err) < 0) {
				cli_usage_error(&p, "--older-than: %s", spx_error_msg(&err));
				spx_error_clear(&err);
				return CLI_USAGE;
			}
			g.older_than_ms = ns / 1000000;
			break;
		case OPT_APPLY:
			g.apply = true;
			break;
		case OPT_LOG_TAIL:
			if (parse_bytes(v, &g.ropts.log_tail, &err) < 0) {
				cli_usage_error(&p, "--log-tail: %s", spx_error_msg(&err));
				spx_error_clear(&err);
				return CLI_USAGE;
			}
			if (g.ropts.log_tail > GC_LOG_TAIL_MAX)
				return cli_usage_error(&p, "--log-tail: '%s' is more than 1TiB", v);
			break;
		case OPT_JSON:
			g.json = true;
			break;
		case OPT_BYTES:
			t.exact = true;
			break;
		case OPT_HELP:
			cmd_gc_usage(stdout);
			return cli_finish("gc", CLI_OK);
		default:
			if (dir)
				return cli_usage_error(&p, "one WORK_DIR only ('%s', then '%s')",
				                       dir, v);
			dir = v;
		}
	}
	if (clock_now_ms(&g.now_ms, &err) < 0 ||
	    workdir_open(dir ? dir : WORKDIR_DEFAULT, &w, &err) < 0) {
		cli_err("gc", "%s", spx_error_msg(&err));
		spx_error_clear(&err);
		return CLI_ERROR;
	}
	cJSON *doc = NULL;
	if (g.json) {
		doc = jo_object();
		jo_str(doc, "schema", "spex.gc/1");
		jo_str(doc, "work_dir", w.path);
		jo_time(doc, "now", g.now_ms);
		jo_bool(doc, "apply", g.apply);
		jo_secs(doc, "older_than_s", g.older_than_ms > 0 ? g.older_than_ms : STATE_NONE);
		jo_u64(doc, "log_tail_bytes", g.ropts.log_tail);
		g.arr = jo_add_array(doc, "sandboxes");
	}
	for (size_t i = 0; i < w.n; i++)
		gc_one(&g, &w.runs[i]);
	gc_total(&g);
	if (w.errors) {
		cli_err("gc", "%s/%s", w.path, w.first_error);
		g.rc = CLI_ERROR;
	}
	if (doc) {
		jo_u64(doc, "planned_bytes", g.planned);
		if (g.apply)
			jo_u64(doc, "freed_bytes", g.freed);
		else
			jo_chk(cJSON_AddNullToObject(doc, "freed_bytes"));
		jo_print(doc, stdout);
	}
	workdir_close(&w);
	return cli_finish("gc", g.rc);
}
