/*
 * The human view of `spex inspect` (inspect.h): labelled lines, each cut to
 * the terminal width.
 */
#include "clock.h"
#include "inspect.h"
#include "sparkline.h"
#include "util.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#define LABEL_W 11 /* "framework  " */

/* Print label (padded to LABEL_W) and the formatted text, the whole cut to
 * the width; colour sgr around the text when not NULL. */
static void __attribute__((format(printf, 5, 6)))
line(FILE *f, const struct cli_term *t, const char *label, const char *sgr, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	size_t w = (size_t)t->width > LABEL_W ? (size_t)t->width - LABEL_W : 1;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (!text)
		return;
	fprintf(f, "%-*s", LABEL_W, label);
	if (sgr)
		fputs(cli_sgr(t, sgr), f);
	cli_put_fit(f, text, w, t->utf8, false);
	if (sgr)
		fputs(cli_sgr(t, CLI_RESET), f);
	fputc('\n', f);
	free(text);
}

/* v in decimal, or "-" when it is null (STATE_NONE) or negative. */
static const char *
int_text(int64_t v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%" PRId64, v);
	return buf;
}

/* The duration from then_ms to now_ms, human (clock_human_duration),
 * clamped rather than overflowing (clock_diff_ms). */
static const char *
ago(int64_t now_ms, int64_t then_ms, char *buf, size_t len)
{
	return clock_human_duration(clock_diff_ms(now_ms, then_ms), buf, len);
}

/* The colour of a liveness. */
static const char *
live_sgr(enum liveness l)
{
	return l == LIVENESS_LIVE ? CLI_GREEN : l == LIVENESS_DEAD ? CLI_RED : CLI_YELLOW;
}

/* Ids, liveness, uptime and the state file's age. */
static void
print_executor(const struct inspect_view *v, const struct cli_term *t, FILE *f)
{
	const struct sandbox_state *st = &v->st;
	char a[40], b[40], c[40];

	if (!v->has_state) {
		line(f, t, "executor", live_sgr(v->live), "%s (%s)", liveness_name(v->live),
		     v->why);
		return;
	}
	line(f, t, "framework", NULL, "%s", st->framework_id ? st->framework_id : "-");
	line(f, t, "executor", NULL, "%s, pid %s, spex %s", st->executor_id ? st->executor_id : "-",
	     int_text(st->pid, b, sizeof(b)), st->version ? st->version : "?");
	if (st->state && strcmp(st->state, "exited") == 0 && st->exit_code != STATE_NONE)
		line(f, t, "liveness", live_sgr(v->live), "%s (exited with code %" PRId64 ")",
		     liveness_name(v->live), st->exit_code);
	else
		line(f, t, "liveness", live_sgr(v->live), "%s (%s)", liveness_name(v->live),
		     v->why);
	if (st->started_ms != STATE_NONE) {
		clock_format_rfc3339(st->started_ms, a, sizeof(a));
		if (v->live == LIVENESS_LIVE)
			line(f, t, "started", NULL, "%s, up %s", a,
			     ago(v->now_ms, st->started_ms, b, 16));
		else if (st->written_ms != STATE_NONE)
			line(f, t, "started", NULL, "%s, ran %s", a,
			     ago(st->written_ms, st->started_ms, b, 16));
		else
			line(f, t, "started", NULL, "%s", a);
	}
	if (st->written_ms != STATE_NONE)
		line(f, t, "state", NULL, "written %s, %s ago, seq %s",
		     clock_format_rfc3339(st->written_ms, a, sizeof(a)),
		     ago(v->now_ms, st->written_ms, c, 16), int_text(st->seq, b, sizeof(b)));
}

/* One line per task (and its last message below). */
static void
print_tasks(const struct inspect_view *v, const struct cli_term *t, FILE *f)
{
	char a[16], b[16];

	for (size_t i = 0; i < v->st.ntasks; i++) {
		const struct state_task *k = &v->st.tasks[i];
		const char *state = k->state ? k->state : "?";
		const char *sgr = strcmp(state, "TASK_FINISHED") == 0  ? NULL
		                  : strcmp(state, "TASK_RUNNING") == 0 ? CLI_GREEN
		                  : k->has_exit                        ? CLI_RED
		                                                       : NULL;
		int64_t end = k->ended_ms != STATE_NONE ? k->ended_ms : v->now_ms;
		char when[64] = "";
		if (k->launched_ms != STATE_NONE && k->ended_ms != STATE_NONE)
			snprintf(when, sizeof(when), ", ran %s, ended %s ago",
			         ago(end, k->launched_ms, a, sizeof(a)),
			         ago(v->now_ms, k->ended_ms, b, sizeof(b)));
		else if (k->launched_ms != STATE_NONE)
			snprintf(when, sizeof(when), ", up %s",
			         ago(end, k->launched_ms, a, sizeof(a)));
		line(f, t, "task", sgr, "%s %s%s", k->id ? k->id : "?", state, when);
		if (k->exit_message)
			line(f, t, "", NULL, "%s", k->exit_message);
	}
}

/* "M:SS" or "H:MM:SS" */
static const char *
cpu_text(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;
	if (s < 3600)
		snprintf(buf, len, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60,
		         s % 60);
	return buf;
}

static void
print_procs(const struct inspect_view *v, const struct cli_term *t, FILE *f)
{
	char row[1024];

	if (v->live != LIVENESS_LIVE)
		return;
	fprintf(f, "\nprocesses\n");
	if (!v->procs_read || v->nrows == 0) {
		fprintf(f, "  (none found in /proc)\n");
		return;
	}
	const char *branch = t->utf8 ? "\u2514\u2500 " : "`- ";
	int wpid = 7, wuser = 8, wrss = t->exact ? 12 : 9, wcpu = 8;
	snprintf(row, sizeof(row), "  %-*s %-*s %*s  %*s  COMMAND", wpid, "PID", wuser, "USER",
	         wrss, "RSS", wcpu, "CPU");
	cli_put_fit(f, row, (size_t)t->width, t->utf8, false);
	fputc('\n', f);
	for (size_t i = 0; i < v->nrows; i++) {
		const struct proc_info *p = &v->procs[v->rows[i].idx];
		char user[64], ufit[64], rss[32], cpu[24];
		int d = v->rows[i].depth;
		procinfo_user(p->uid, user, sizeof(user));
		cli_fit(user, (size_t)wuser, t->utf8, false, ufit, sizeof(ufit));
		cli_size(t, procinfo_rss_bytes(p), rss, sizeof(rss));
		/* The command, indented by depth, is cut with the rest of the row. */
		snprintf(row, sizeof(row), "  %-*d %s%*s %*s  %*s  %*s%s%s", wpid, (int)p->pid,
		         ufit, (int)(wuser - (int)cli_cols(ufit)), "", wrss, rss, wcpu,
		         cpu_text(procinfo_cpu_ms(p), cpu, sizeof(cpu)), d > 1 ? 3 * (d - 1) : 0,
		         "", d > 0 ? branch : "", p->cmdline);
		cli_put_fit(f, row, (size_t)t->width, t->utf8, false);
		fputc('\n', f);
	}
}

/* "used of limit (pct%)", "used, no limit" or "? of limit" into buf. */
static void
size_pair(const struct cli_term *t, int64_t used, int64_t limit, char *buf, size_t len)
{
	char a[32], b[32];
	if (used < 0) /* null (STATE_NONE), or negative from a hostile state */
		snprintf(a, sizeof(a), "?");
	else
		cli_size(t, (uint64_t)used, a, sizeof(a));
	if (limit == STATE_NONE || limit <= 0) {
		snprintf(buf, len, "%s, no limit", a);
		return;
	}
	cli_size(t, (uint64_t)limit, b, sizeof(b));
	if (used < 0)
		snprintf(buf, len, "%s of %s", a, b);
	else
		snprintf(buf, len, "%s of %s (%.0f%%)", a, b, 100.0 * (double)used / (double)limit);
}

/* Per task with a cgroup: limits vs usage as last recorded. */
static void
print_cgroups(const struct inspect_view *v, const struct cli_term *t, FILE *f)
{
	for (size_t i = 0; i < v->st.ntasks; i++) {
		const struct state_task *k = &v->st.tasks[i];
		char mem[96], peak[32], lim[48];
		if (!k->has_cgroup)
			continue;
		fprintf(f, "\n");
		line(f, t, "cgroup", NULL, "task %s, as of the last state: %s", k->id ? k->id : "?",
		     k->cgroup_path ? k->cgroup_path : "?");
		size_pair(t, k->mem_bytes, k->mem_limit_bytes, mem, sizeof(mem));
		if (k->mem_peak_bytes >= 0)
			line(f, t, "  memory", NULL, "%s, peak %s", mem,
			     cli_size(t, (uint64_t)k->mem_peak_bytes, peak, sizeof(peak)));
		else
			line(f, t, "  memory", NULL, "%s", mem);
		double cpus = !isnan(k->cpu_quota_cpus) ? k->cpu_quota_cpus : k->cpus;
		if (isnan(cpus))
			snprintf(lim, sizeof(lim), "no limit");
		else
			snprintf(lim, sizeof(lim), "limit %.2f cpus", cpus);
		if (k->cpu_ms >= 0)
			line(f, t, "  cpu", NULL, "%.1fs used, %s", (double)k->cpu_ms / 1000.0,
			     lim);
		else
			line(f, t, "  cpu", NULL, "%s", lim);
		if (k->pids_max >= 0)
			line(f, t, "  pids", NULL, "limit %" PRId64, k->pids_max);
		if (k->oom_kills >= 0)
			line(f, t, "  oom", NULL, "%" PRId64 " kill%s", k->oom_kills,
			     k->oom_kills == 1 ? "" : "s");
	}
}

/* The fresh scan by category, against the disk limit. */
static void
print_disk(const struct inspect_view *v, const struct cli_term *t, FILE *f)
{
	char total[32], last[32], at[40], lim[64] = "", ago_buf[16];

	fprintf(f, "\n");
	if (!v->scanned) {
		line(f, t, "disk", CLI_RED, "not scanned: %s", v->scan_error ? v->scan_error : "?");
		return;
	}
	cli_size(t, v->scan.total_bytes, total, sizeof(total));
	if (v->disk_limit > 0)
		snprintf(lim, sizeof(lim), " of %s (%.0f%%)", cli_size(t, v->disk_limit, last, 32),
		         100.0 * (double)v->scan.total_bytes / (double)v->disk_limit);
	line(f, t, "disk", NULL, "%s%s now (fresh scan)", total, lim);
	if (v->has_state && v->st.disk_bytes >= 0 && v->st.disk_ms != STATE_NONE)
		line(f, t, "", NULL, "last report %s at %s, %s ago",
		     cli_size(t, (uint64_t)v->st.disk_bytes, last, sizeof(last)),
		     clock_format_rfc3339(v->st.disk_ms, at, sizeof(at)),
		     ago(v->now_ms, v->st.disk_ms, ago_buf, sizeof(ago_buf)));

	char sizes[CAT_COUNT][32];
	int wsize = 4;
	for (int c = 0; c < CAT_COUNT; c++) {
		cli_size(t, v->scan.bytes[c], sizes[c], sizeof(sizes[c]));
		wsize = CLI_MAX(wsize, (int)strlen(sizes[c]));
	}
	/* "  category   size   pct%  bar" */
	int fixed = 2 + 10 + 1 + wsize + 2 + 6 + 2;
	int barw = t->width - fixed > 20 ? 20 : t->width - fixed;
	for (int c = 0; c < CAT_COUNT; c++) {
		if (v->scan.bytes[c] == 0)
			continue;
		double pct = v->scan.total_bytes
		                 ? 100.0 * (double)v->scan.bytes[c] / (double)v->scan.total_bytes
		                 : 0.0;
		fprintf(f, "  %-10s %*s  %5.1f%%", disk_cat_name(c), wsize, sizes[c], pct);
		int cells = barw > 0 ? (int)(pct / 100.0 * barw + 0.5) : 0;
		if (cells > 0)
			fputs("  ", f);
		for (int k = 0; k < cells; k++)
			fputs(t->utf8 ? "\u2588" : "#", f);
		fputc('\n', f);
	}
}

/* The history summary line and its sparkline. */
static void
print_history(const struct inspect_view *v, const struct cli_term *t, FILE *f)
{
	char lo[32], hi[32], span[16];
	uint64_t mn = UINT64_MAX, mx = 0;

	if (v->hist_error) {
		line(f, t, "history", CLI_RED, "%s", v->hist_error);
		return;
	}
	if (v->nhist == 0) {
		line(f, t, "history", NULL, "no samples");
		return;
	}
	_cleanup_free_ uint64_t *vals = xcalloc(v->nhist, sizeof(*vals));
	for (size_t i = 0; i < v->nhist; i++) {
		vals[i] = v->hist[i].bytes;
		mn = vals[i] < mn ? vals[i] : mn;
		mx = vals[i] > mx ? vals[i] : mx;
	}
	ago(v->hist[v->nhist - 1].at_ms, v->hist[0].at_ms, span, sizeof(span));
	line(f, t, "history", NULL, "%zu sample%s over %s: min %s, max %s", v->nhist,
	     v->nhist == 1 ? "" : "s", span, cli_size(t, mn, lo, sizeof(lo)),
	     cli_size(t, mx, hi, sizeof(hi)));
	size_t w = (size_t)t->width > 2 ? (size_t)t->width - 2 : 1;
	_cleanup_free_ char *spark = xmalloc(3 * w + 1);
	if (sparkline_render(vals, v->nhist, w, t->utf8, spark, 3 * w + 1) > 0)
		fprintf(f, "  %s\n", spark);
}

/* The warnings, or "none". */
static void
print_warnings(const struct inspect_view *v, const struct cli_term *t, FILE *f)
{
	size_t w = (size_t)t->width > 4 ? (size_t)t->width - 4 : 1;

	fprintf(f, "\n");
	if (v->nwarn == 0) {
		line(f, t, "warnings", NULL, "none");
		return;
	}
	fprintf(f, "warnings\n");
	for (size_t i = 0; i < v->nwarn; i++) {
		const char *sgr = strcmp(v->warn[i].kind, "oom") == 0 ? CLI_RED : CLI_YELLOW;
		fprintf(f, "  %s! ", cli_sgr(t, sgr));
		cli_put_fit(f, v->warn[i].message, w, t->utf8, false);
		fprintf(f, "%s\n", cli_sgr(t, CLI_RESET));
	}
}

void
inspect_print(const struct inspect_view *v, const struct cli_term *t, FILE *f)
{
	char path[4096];
	/* The sandbox's path cut at its start when too wide: the run id stays. */
	cli_fit(v->path, (size_t)t->width - LABEL_W, t->utf8, true, path, sizeof(path));
	fprintf(f, "%-*s%s%s%s\n", LABEL_W, "sandbox", cli_sgr(t, CLI_BOLD), path,
	        cli_sgr(t, CLI_RESET));
	print_executor(v, t, f);
	print_tasks(v, t, f);
	print_procs(v, t, f);
	print_cgroups(v, t, f);
	print_disk(v, t, f);
	print_history(v, t, f);
	print_warnings(v, t, f);
}
