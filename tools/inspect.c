/*
 * Gathering the view of a sandbox for `spex inspect` (inspect.h).
 */
#include "inspect.h"
#include "report.h"
#include "summary.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKER_READ 160

int
inspect_find_marker(const char *buf, size_t len, bool at_head, uint64_t *ret_dropped)
{
	char text[MARKER_READ + 1];
	unsigned long long n;
	int used = 0;

	if (len > MARKER_READ)
		len = MARKER_READ;
	memcpy(text, buf, len);
	text[len] = '\0';
	if (!at_head) {
		if (sscanf(text, "[spex gc: %20llu bytes dropped here]%n", &n, &used) == 1 &&
		    used > 0) {
			*ret_dropped = n;
			return 1;
		}
		return 0;
	}
	if (sscanf(text, "\n[spex: %20llu bytes dropped here;%n", &n, &used) == 1 && used > 0) {
		*ret_dropped = n;
		return 1;
	}
	return 0;
}

/* pread up to len bytes at off; the count read (0 on error). */
static size_t
read_some(int fd, char *buf, size_t len, uint64_t off)
{
	ssize_t r;
	do
		r = pread(fd, buf, len, (off_t)off);
	while (r < 0 && errno == EINTR);
	return r > 0 ? (size_t)r : 0;
}

/* Size of the log lg->name and whether it carries a spex marker. */
static void
gather_log(int sandboxfd, uint64_t head, struct inspect_log *lg)
{
	char buf[MARKER_READ];
	struct stat st;
	size_t n;

	_cleanup_close_ int fd =
	    openat(sandboxfd, lg->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	lg->present = true;
	lg->size = (uint64_t)st.st_size;
	n = read_some(fd, buf, sizeof(buf), 0);
	if (inspect_find_marker(buf, n, false, &lg->dropped)) {
		lg->capped = true;
		return;
	}
	/* logcap's marker starts with the newline at offset head (base 0). */
	if (head > 0 && lg->size > head) {
		n = read_some(fd, buf, sizeof(buf), head);
		lg->capped = inspect_find_marker(buf, n, true, &lg->dropped) == 1;
	}
}

/* The live executor's processes and its tasks' (v->rows, tree order). */
static void
gather_procs(struct inspect_view *v)
{
	size_t n = 0, nroots = 0, npg = 0;
	const struct sandbox_state *st = &v->st;
	_cleanup_free_ pid_t *roots = xcalloc(2 * st->ntasks + 1, sizeof(pid_t));
	_cleanup_free_ pid_t *pgids = xcalloc(st->ntasks + 1, sizeof(pid_t));

	v->procs = procinfo_scan(&n);
	if (!v->procs)
		return;
	v->procs_read = true;
	if (st->pid > 0)
		roots[nroots++] = (pid_t)st->pid;
	for (size_t i = 0; i < st->ntasks; i++) {
		const struct state_task *t = &st->tasks[i];
		if (t->taskinit_pid > 0)
			roots[nroots++] = (pid_t)t->taskinit_pid;
		if (t->pid > 0)
			roots[nroots++] = (pid_t)t->pid;
		if (t->pgid > 0)
			pgids[npg++] = (pid_t)t->pgid;
	}
	v->rows = xcalloc(n + 1, sizeof(*v->rows));
	v->nrows = procinfo_select(v->procs, n, roots, nroots, pgids, npg, v->rows, n);
}

int
inspect_gather(const char *path, int64_t now_ms, uint64_t log_head, uint64_t log_tail,
               struct inspect_view *ret, struct spx_error *err)
{
	struct spx_error e = {0};

	memset(ret, 0, sizeof(*ret));
	ret->path = xstrdup(path);
	ret->now_ms = now_ms;
	ret->log_head = log_head;
	ret->log_tail = log_tail;
	ret->logs[0].name = "stdout";
	ret->logs[1].name = "stderr";
	ret->live = LIVENESS_UNKNOWN;
	ret->why = "no state file";
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return spx_error_set(err, errno, "%s", path);

	int rc = state_load(fd, path, &ret->st, &e);
	if (rc < 0) {
		ret->state_error = xstrdup(spx_error_msg(&e));
		spx_error_clear(&e);
		ret->why = "state unreadable";
	} else {
		ret->has_state = rc == 1;
		ret->live = state_liveness(ret->has_state ? &ret->st : NULL, &ret->why);
	}
	if (ret->live == LIVENESS_LIVE)
		gather_procs(ret);
	for (size_t i = 0; i < ret->st.ntasks; i++) { /* saturating: a state may hold any */
		int64_t lim = ret->st.tasks[i].disk_limit_bytes;
		if (lim > 0 &&
		    __builtin_add_overflow(ret->disk_limit, (uint64_t)lim, &ret->disk_limit))
			ret->disk_limit = UINT64_MAX;
	}
	if (summary_scan(path, &ret->scan, &e) < 0) {
		ret->scan_error = xstrdup(spx_error_msg(&e));
		spx_error_clear(&e);
	} else {
		ret->scanned = true;
	}
	if (history_load(fd, path, &ret->hist, &ret->nhist, &ret->hist_skipped, &e) < 0) {
		ret->hist_error = xstrdup(spx_error_msg(&e));
		spx_error_clear(&e);
	}
	for (size_t i = 0; i < ARRAY_SIZE(ret->logs); i++)
		gather_log(fd, log_head, &ret->logs[i]);
	inspect_warnings(ret);
	return 0;
}

/* Release the warnings; the list is empty after. */
static void
warnings_free(struct inspect_view *v)
{
	for (size_t i = 0; i < v->nwarn; i++)
		free(v->warn[i].message);
	free(v->warn);
	v->warn = NULL;
	v->nwarn = 0;
}

void
inspect_view_free(struct inspect_view *v)
{
	if (!v)
		return;
	free(v->path);
	state_clear(&v->st);
	free(v->state_error);
	free(v->procs);
	free(v->rows);
	free(v->scan_error);
	free(v->hist);
	free(v->hist_error);
	warnings_free(v);
	memset(v, 0, sizeof(*v));
}

/* Append a warning; message is malloc'd and taken. */
static void
warn(struct inspect_view *v, const char *kind, const char *path, uint64_t bytes, char *message)
{
	v->warn = xrealloc(v->warn, (v->nwarn + 1) * sizeof(*v->warn));
	v->warn[v->nwarn++] = (struct inspect_warning){
	    .kind = kind, .message = message, .path = path, .bytes = bytes};
}

/* Logs capped or near their cap. */
static void
warn_logs(struct inspect_view *v)
{
	uint64_t cap = v->log_head + v->log_tail;
	char a[REPORT_HUMAN_MAX], b[REPORT_HUMAN_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(v->logs); i++) {
		const struct inspect_log *lg = &v->logs[i];
		if (!lg->present)
			continue;
		if (lg->capped) {
			warn(v, "log_capped", lg->name, lg->dropped,
			     xasprintf("%s is capped: %s dropped (%s kept)", lg->name,
			               report_human_bytes(lg->dropped, a, sizeof(a)),
			               report_human_bytes(lg->size, b, sizeof(b))));
		} else if (cap > 0 && (double)lg->size >= INSPECT_NEAR_CAP * (double)cap) {
			warn(v, "log_near_cap", lg->name, lg->size,
			     xasprintf(
			         "%s is %s, near its cap of %s (SPEX_LOG_HEAD + SPEX_LOG_TAIL)",
			         lg->name, report_human_bytes(lg->size, a, sizeof(a)),
			         report_human_bytes(cap, b, sizeof(b))));
		}
	}
}

/* Tasks that ran out of memory. */
static void
warn_oom(struct inspect_view *v)
{
	for (size_t i = 0; i < v->st.ntasks; i++) {
		const struct state_task *t = &v->st.tasks[i];
		bool kills = t->oom_kills > 0 && t->oom_kills != STATE_NONE;
		if (!t->oom && !kills)
			continue;
		const char *how = t->exit_oom        ? t->exit_oom
		                  : kills && !t->oom ? "cgroup oom_kills"
		                                     : "REASON_CONTAINER_LIMITATION_MEMORY";
		warn(v, "oom", NULL, 0,
		     xasprintf("task %s ran out of memory (%s)%s%s", t->id ? t->id : "?", how,
		               t->exit_message ? ": " : "",
		               t->exit_message ? t->exit_message : ""));
	}
}

void
inspect_warnings(struct inspect_view *v)
{
	char a[REPORT_HUMAN_MAX], b[REPORT_HUMAN_MAX];

	warnings_free(v);
	if (v->state_error)
		warn(v, "state_unreadable", STATE_DIR "/" STATE_FILE, 0, xstrdup(v->state_error));
	if (v->has_state && v->st.config_error)
		warn(v, "config_error", NULL, 0,
		     xasprintf("invalid spex setting, every task failed with it: %s",
		               v->st.config_error));
	warn_logs(v);
	if (v->scanned && v->live == LIVENESS_DEAD) {
		uint64_t bm = v->scan.bytes[CAT_SHUFFLE] + v->scan.bytes[CAT_BLOCKS];
		if (bm > 0)
			warn(
			    v, "blockmgr_dead", NULL, bm,
			    xasprintf("block-manager data of a dead executor: %s (spex gc reclaims "
			              "it)",
			              report_human_bytes(bm, a, sizeof(a))));
	}
	if (v->scanned && v->disk_limit > 0 &&
	    (double)v->scan.total_bytes >= INSPECT_NEAR_DISK * (double)v->disk_limit) {
		warn(v, "disk_near_limit", NULL, v->scan.total_bytes,
		     xasprintf("disk usage %s is %.0f%% of the tasks' disk limit %s",
		               report_human_bytes(v->scan.total_bytes, a, sizeof(a)),
		               100.0 * (double)v->scan.total_bytes / (double)v->disk_limit,
		               report_human_bytes(v->disk_limit, b, sizeof(b))));
	}
	warn_oom(v);
}
