/*
 * The sandbox's disk usage while tasks run: periodic scans on the worker
 * thread, RUNNING updates with the Spark breakdown when usage moved, the
 * soft warning and the hard limit (core/disk_policy.c decides), the
 * pre-flight check, and the cleanup of Spark's leftovers at the end.
 */
#include "cleanup.h"
#include "executor.h"
#include "log.h"
#include "report.h"
#include "scan.h"
#include "statedoc.h"
#include "track.h"
#include "util.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#define CLEANUP_HOLD_SECS  10 /* longest a terminal update waits for the cleanup */
#define TRACK_EVENT_BUDGET 4096
#define TRACK_STAT_BUDGET  20000
#define QUICK_CHECK_MS     1000 /* limits are checked this soon after a change */
#define RECONCILE_SECS     300  /* full drift correction of the tracker */

struct track_job {
	struct executor *ex;
	char *root;
	struct track *t;
	char err[256];
};

struct scan_job {
	struct executor *ex;
	char *root;
	int64_t started_ms; /* wall clock at the scan's start: when it measured */
	struct scan_result res;
	int rc;
	char err[256];
};

struct cleanup_job {
	struct executor *ex;
	char *root;
	char *task_id;
	bool keep_shuffle;
	struct cleanup_result res;
	int rc;
	char err[256];
};

static uint64_t
disk_limit(struct executor *ex)
{
	uint64_t sum = 0;
	for (struct task *t = ex->tasks; t; t = t->next)
		if (!t->terminal_sent)
			sum += t->disk_bytes;
	return sum ? sum : ex->disk.limit_bytes;
}

static void
scan_fn(void *arg)
{
	struct scan_job *j = arg;
	struct spx_error err = {0};
	struct scan_opts o = {0};
	j->started_ms = statedoc_now_ms();
	j->rc = scan_sandbox(j->root, &o, &j->res, &err);
	if (j->rc < 0)
		snprintf(j->err, sizeof(j->err), "%s", spx_error_msg(&err));
	spx_error_clear(&err);
}

/* Send a RUNNING report (or the soft warning) to every running task. */
static void
send_reports(struct executor *ex, const struct scan_result *r, uint64_t limit, bool soft,
             const char *json)
{
	struct report_label rl[REPORT_LABELS];
	size_t nl = report_labels(r, rl, REPORT_LABELS);
	_cleanup_free_ char *summary = report_summary(r);
	char human[REPORT_HUMAN_MAX];

	for (struct task *t = ex->tasks; t; t = t->next) {
		struct task_action act;
		task_sm_report(&t->sm, &act);
		if (act.state == TASK_NO_STATE)
			continue;
		for (size_t i = 0; i < nl; i++)
			task_action_label(&act, rl[i].key, "%s", rl[i].value);
		if (limit)
			task_action_label(&act, "spex.disk.limit_bytes", "%llu",
			                  (unsigned long long)limit);
		if (soft) {
			task_action_label(&act, "spex.disk.pressure", "soft");
			snprintf(act.message, sizeof(act.message),
			         "%s; at %.0f%% of the %s disk limit: the task will be killed "
			         "beyond it",
			         summary, 100.0 * (double)r->total_bytes / (double)limit,
			         report_human_bytes(limit, human, sizeof(human)));
		} else {
			snprintf(act.message, sizeof(act.message), "%s", summary);
		}
		if (t->cg) { /* the task's cgroup figures ride along */
			struct cg_usage u;
			cgroup_task_usage(t->cg, &u);
			if (u.has_mem) {
				task_action_label(&act, "spex.mem.current_bytes", "%llu",
				                  (unsigned long long)u.mem_current);
				task_action_label(&act, "spex.mem.peak_bytes", "%llu",
				                  (unsigned long long)u.mem_peak);
			}
			if (u.has_cpu)
				task_action_label(&act, "spex.cpu.time_ns", "%llu",
				                  (unsigned long long)u.cpu_ns);
		}
		act.data = (const uint8_t *)json;
		act.data_len = json ? strlen(json) : 0;
		const uint8_t *uuid = session_send_status(ex, t, &act);
		if (uuid) {
			memcpy(ex->report_uuid, uuid, UUID_LEN);
			ex->have_report_uuid = true;
		}
	}
}

static void
enforce_limit(struct executor *ex, const struct scan_result *r, uint64_t limit)
{
	_cleanup_free_ char *summary = report_summary(r);
	char human[REPORT_HUMAN_MAX], msg[256];

	snprintf(msg, sizeof(msg), "disk limit %s exceeded; %s",
	         report_human_bytes(limit, human, sizeof(human)), summary);
	log_error("disk_limit", "used=%llu limit=%llu action=kill message=%s",
	          (unsigned long long)r->total_bytes, (unsigned long long)limit, LOGQ(msg));
	for (struct task *t = ex->tasks; t; t = t->next) {
		struct task_action act;
		if (t->terminal_sent)
			continue;
		int64_t grace = t->info->kill_policy && t->info->kill_policy->grace_period
		                    ? t->info->kill_policy->grace_period->nanoseconds
		                    : ex->cfg->default_kill_grace_ns;
		task_sm_limit(&t->sm,
		              MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_DISK, msg,
		              grace, now_mono_ns(), &act);
		tasks_apply(t, &act);
	}
}

/* Act on a measurement taken at measured_ms (wall clock, its start):
 * report, warn, or enforce the limit. With limits_only (a quick check
 * after a change), no plain report is sent. */
static void
evaluate(struct executor *ex, const struct scan_result *r, bool limits_only, int64_t measured_ms)
{
	uint64_t limit = disk_limit(ex);
	if (!limits_only)
		state_disk_sample(ex, r, measured_ms);
	if (limits_only && !limit)
		return;
	if (limits_only && r->total_bytes <= limit &&
	    (r->total_bytes < (uint64_t)((double)limit * ex->disk.soft_ratio) ||
	     ex->dstate.soft_active))
		return;
	bool pending =
	    ex->have_report_uuid && uq_find_uuid(&ex->uq, ex->report_uuid, UUID_LEN) != NULL;
	int v = disk_decide(&ex->dstate, &ex->disk, r->total_bytes, limit, now_mono_ns(), pending);
	log_debug("disk", "used=%llu limit=%llu entries=%llu verdict=%d quick=%d",
	          (unsigned long long)r->total_bytes, (unsigned long long)limit,
	          (unsigned long long)r->entries, v, limits_only);
	if (v & DISK_HARD) {
		enforce_limit(ex, r, limit);
	} else if (v & DISK_REPORT) {
		free(ex->disk_json);
		ex->disk_json = report_json(ex->cfg->sandbox, r);
		send_reports(ex, r, limit, (v & DISK_SOFT) != 0, ex->disk_json);
		state_disk_report(ex, measured_ms);
	}
}

static void
scan_done(void *arg, bool cancelled)
{
	struct scan_job *j = arg;
	struct executor *ex = j->ex;

	ex->scan_busy = false;
	if (cancelled || j->rc < 0) {
		if (!cancelled)
			log_warn("disk_scan", "error=%s", LOGQ(j->err));
		goto out;
	}
	if (j->res.errors)
		log_warn("disk_scan", "unreadable=%llu first=%s", (unsigned long long)j->res.errors,
		         LOGQ(j->res.first_error));
	evaluate(ex, &j->res, false, j->started_ms);
out:
	free(j->root);
	free(j);
	executor_maybe_exit(ex);
}

static void
start_scan(struct executor *ex)
{
	if (!ex->worker || ex->scan_busy || ex->shutting_down)
		return;
	struct scan_job *j = xcalloc(1, sizeof(*j));
	j->ex = ex;
	j->root = xstrdup(ex->cfg->sandbox);
	ex->scan_busy = true;
	worker_submit(ex->worker, scan_fn, scan_done, j);
}

static bool
any_running(struct executor *ex)
{
	for (struct task *t = ex->tasks; t; t = t->next)
		if (t->sm.phase == TP_RUNNING)
			return true;
	return false;
}

/* Measure through the tracker; false when it cannot be trusted right now
 * (events lost, watches refused): the caller then scans. */
static bool
tracked_measure(struct executor *ex, struct scan_result *r)
{
	if (!ex->track)
		return false;
	enum track_status st = track_refresh(ex->track, TRACK_STAT_BUDGET, r);
	if (st == TRACK_UNAVAILABLE) {
		log_warn("disk_track", "status=unavailable action=full_scans");
		event_free(ex->track_ev);
		ex->track_ev = NULL;
		track_free(ex->track);
		ex->track = NULL;
		return false;
	}
	return st == TRACK_CURRENT || st == TRACK_PENDING;
}

static void quick_cb(evutil_socket_t fd, short what, void *arg);

/* The tracker has queued work (a burst, a reconciliation): let the next
 * bounded refreshes come soon rather than one per interval. */
static void
keep_tracking(struct executor *ex)
{
	if (!ex->track || !ex->quick_timer || evtimer_pending(ex->quick_timer, NULL))
		return;
	enum track_status st = track_status(ex->track);
	if (st == TRACK_PENDING || st == TRACK_NEEDS_RESCAN) {
		struct timeval tv = {.tv_sec = 0, .tv_usec = 50 * 1000};
		evtimer_add(ex->quick_timer, &tv);
	}
}

static void
disk_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct executor *ex = arg;
	struct scan_result r;
	(void)fd;
	(void)what;
	if (!any_running(ex))
		return;
	if (ex->track && now_mono_ns() - ex->last_reconcile_ns >= RECONCILE_SECS * NSEC_PER_SEC) {
		track_reconcile(ex->track);
		ex->last_reconcile_ns = now_mono_ns();
	}
	int64_t at = statedoc_now_ms();
	if (tracked_measure(ex, &r))
		evaluate(ex, &r, false, at);
	else
		start_scan(ex);
	keep_tracking(ex);
}

/* A change was seen: check the limits within QUICK_CHECK_MS, not only at
 * the next interval. */
static void
quick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct executor *ex = arg;
	struct scan_result r;
	(void)fd;
	(void)what;
	if (ex->track_ev)
		event_add(ex->track_ev, NULL); /* batching over: listen again */
	int64_t at = statedoc_now_ms();
	if (any_running(ex) && tracked_measure(ex, &r))
		evaluate(ex, &r, true, at);
	keep_tracking(ex);
}

static void
track_cb(evutil_socket_t fd, short what, void *arg)
{
	struct executor *ex = arg;
	struct spx_error err = {0};
	(void)fd;
	(void)what;
	if (!ex->track)
		return;
	if (track_process(ex->track, TRACK_EVENT_BUDGET, &err) < 0) {
		log_warn("disk_track", "error=%s", LOGQ(spx_error_msg(&err)));
		spx_error_clear(&err);
	}
	/* Batch events: stop listening until the quick check. */
	event_del(ex->track_ev);
	struct timeval tv = {.tv_sec = QUICK_CHECK_MS / 1000,
	                     .tv_usec = (QUICK_CHECK_MS % 1000) * 1000};
	evtimer_add(ex->quick_timer, &tv);
}

static void
track_new_fn(void *arg)
{
	struct track_job *j = arg;
	struct spx_error err = {0};
	j->t = track_new(j->root, NULL, &err);
	if (!j->t)
		snprintf(j->err, sizeof(j->err), "%s", spx_error_msg(&err));
	spx_error_clear(&err);
}

static void
track_new_done(void *arg, bool cancelled)
{
	struct track_job *j = arg;
	struct executor *ex = j->ex;

	if (cancelled || !j->t) {
		if (!cancelled)
			log_warn("disk_track", "error=%s action=full_scans", LOGQ(j->err));
		track_free(j->t);
	} else {
		ex->track = j->t;
		ex->last_reconcile_ns = now_mono_ns();
		ex->track_ev =
		    event_new(ex->base, track_fd(ex->track), EV_READ | EV_PERSIST, track_cb, ex);
		ex->quick_timer = evtimer_new(ex->base, quick_cb, ex);
		event_add(ex->track_ev, NULL);
		log_info("disk_track", "status=watching");
	}
	free(j->root);
	free(j);
}

void
disk_init(struct executor *ex)
{
	if (!ex->disk.enabled && !ex->disk.cleanup)
		return;
	ex->worker = worker_new(ex->base);
	if (!ex->worker)
		log_warn("disk", "error=\"cannot start the worker thread\" action=no_disk_reports");
}

void
disk_free(struct executor *ex)
{
	worker_free(ex->worker); /* runs the done callbacks of what is left */
	ex->worker = NULL;
	if (ex->track_ev)
		event_free(ex->track_ev);
	if (ex->quick_timer)
		event_free(ex->quick_timer);
	ex->track_ev = ex->quick_timer = NULL;
	track_free(ex->track);
	ex->track = NULL;
	if (ex->disk_timer) {
		event_free(ex->disk_timer);
		ex->disk_timer = NULL;
	}
	free(ex->disk_json);
	ex->disk_json = NULL;
}

void
disk_task_running(struct executor *ex)
{
	if (!ex->disk.enabled || !ex->worker)
		return;
	if (!ex->disk_timer) {
		int64_t ns = ex->disk.interval_ns;
		struct timeval tv = {.tv_sec = ns / NSEC_PER_SEC,
		                     .tv_usec = (ns % NSEC_PER_SEC) / 1000};
		ex->disk_timer = event_new(ex->base, -1, EV_PERSIST, disk_timer_cb, ex);
		evtimer_add(ex->disk_timer, &tv);
		if (ex->disk.track) {
			/* Index the sandbox off the loop; scans until it is ready. */
			struct track_job *j = xcalloc(1, sizeof(*j));
			j->ex = ex;
			j->root = xstrdup(ex->cfg->sandbox);
			worker_submit(ex->worker, track_new_fn, track_new_done, j);
		}
	}
}

int
disk_preflight_check(struct executor *ex, struct spx_error *err)
{
	struct statvfs sv;
	if (statvfs(ex->cfg->sandbox, &sv) < 0) {
		log_warn("preflight", "error=\"statvfs: %s\"", strerror(errno));
		return 0; /* cannot tell: do not refuse the task for it */
	}
	uint64_t bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	/* Filesystems without inode accounting (btrfs, tmpfs with nr_inodes=0) report 0 files. */
	uint64_t inodes = sv.f_files ? (uint64_t)sv.f_favail : UINT64_MAX;
	return disk_preflight(&ex->disk, bytes, inodes, err);
}

/* ---- cleanup at the end ------------------------------------------------------- */

static void
cleanup_fn(void *arg)
{
	struct cleanup_job *j = arg;
	struct spx_error err = {0};
	j->rc = sandbox_cleanup_spark(j->root, j->keep_shuffle, &j->res, &err);
	if (j->rc < 0)
		snprintf(j->err, sizeof(j->err), "%s", spx_error_msg(&err));
	spx_error_clear(&err);
}

static void
cleanup_done(void *arg, bool cancelled)
{
	struct cleanup_job *j = arg;
	struct executor *ex = j->ex;
	struct task *t = tasks_find(ex, j->task_id);

	if (!cancelled && j->rc == 0)
		log_info("cleanup",
		         "task=%s reclaimed_bytes=%llu removed=%llu kept_shuffle=%llu "
		         "errors=%llu first_error=%s",
		         LOGQ(j->task_id), (unsigned long long)j->res.reclaimed_bytes,
		         (unsigned long long)j->res.removed, (unsigned long long)j->res.kept,
		         (unsigned long long)j->res.errors,
		         LOGQ(j->res.first_error[0] ? j->res.first_error : NULL));
	else if (!cancelled)
		log_warn("cleanup", "task=%s error=%s", LOGQ(j->task_id), LOGQ(j->err));
	if (t && t->held) {
		if (!cancelled && j->rc == 0) {
			task_action_label(t->held, "spex.disk.reclaimed_bytes", "%llu",
			                  (unsigned long long)j->res.reclaimed_bytes);
			if (j->keep_shuffle)
				task_action_label(t->held, "spex.disk.kept_shuffle_files", "%llu",
				                  (unsigned long long)j->res.kept);
		}
		tasks_send_held(t);
	}
	free(j->root);
	free(j->task_id);
	free(j);
	executor_maybe_exit(ex);
}

static void
hold_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct task *t = arg;
	(void)fd;
	(void)what;
	log_warn("cleanup",
	         "task=%s slow=1 action=\"terminal update sent before the cleanup ended\"",
	         LOGQ(t->id));
	tasks_send_held(t);
}

int
disk_task_ended(struct executor *ex, struct task *t, const struct task_action *act)
{
	if (!ex->disk.cleanup || !ex->worker)
		return 0;
	/* Another task still uses the sandbox: its block manager is not ours to remove. */
	for (struct task *o = ex->tasks; o; o = o->next)
		if (o != t && (o->running || !o->terminal_sent))
			return 0;
	t->held = xmemdup(act, sizeof(*act));
	struct timeval tv = {.tv_sec = CLEANUP_HOLD_SECS};
	t->hold_timer = evtimer_new(ex->base, hold_timer_cb, t);
	evtimer_add(t->hold_timer, &tv);
	struct cleanup_job *j = xcalloc(1, sizeof(*j));
	j->ex = ex;
	j->root = xstrdup(ex->cfg->sandbox);
	j->task_id = xstrdup(t->id);
	j->keep_shuffle = ex->disk.keep_shuffle;
	worker_submit(ex->worker, cleanup_fn, cleanup_done, j);
	return 1;
}
