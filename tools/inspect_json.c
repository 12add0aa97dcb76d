/*
 * The JSON view of `spex inspect` (inspect.h; docs/cli.md and
 * docs/schemas/spex.inspect-1.schema.json describe it).
 */
#include "clock.h"
#include "inspect.h"
#include "jsonout.h"
#include "util.h"

/* The executor object, or null without a state file. */
static void
json_executor(cJSON *o, const struct inspect_view *v)
{
	const struct sandbox_state *st = &v->st;

	if (!v->has_state) {
		jo_chk(cJSON_AddNullToObject(o, "executor"));
		return;
	}
	cJSON *e = jo_add_object(o, "executor");
	jo_int(e, "pid", st->pid);
	jo_int(e, "start_ticks", st->start_ticks);
	jo_int(e, "pid_ns", st->pid_ns);
	jo_str(e, "boot_id", st->boot_id);
	jo_str(e, "version", st->version);
	jo_str(e, "state", st->state);
	jo_int(e, "exit_code", st->exit_code);
	jo_str(e, "framework_id", st->framework_id);
	jo_str(e, "executor_id", st->executor_id);
	jo_str(e, "agent_id", st->agent_id);
	jo_str(e, "subscription", st->subscription);
	jo_time(e, "started_at", st->started_ms);
	int64_t end = v->live == LIVENESS_LIVE ? v->now_ms : st->written_ms;
	jo_secs(e, "uptime_s",
	        st->started_ms == STATE_NONE || end == STATE_NONE
	            ? STATE_NONE
	            : clock_diff_ms(end, st->started_ms));
	jo_int(e, "rss_bytes", st->rss_bytes);
	jo_int(e, "cpu_user_ms", st->cpu_user_ms);
	jo_int(e, "cpu_system_ms", st->cpu_system_ms);
	jo_str(e, "config_error", st->config_error);
}

/* A task's cgroup limits and usage, or null. */
static void
json_cgroup(cJSON *o, const struct state_task *k)
{
	if (!k->has_cgroup) {
		jo_chk(cJSON_AddNullToObject(o, "cgroup"));
		return;
	}
	cJSON *c = jo_add_object(o, "cgroup");
	jo_str(c, "path", k->cgroup_path);
	cJSON *lim = jo_add_object(c, "limits");
	jo_num(lim, "cpus", k->cpus);
	jo_num(lim, "cpu_quota_cpus", k->cpu_quota_cpus);
	jo_int(lim, "mem_limit_bytes", k->mem_limit_bytes);
	jo_int(lim, "pids_max", k->pids_max);
	cJSON *use = jo_add_object(c, "usage");
	jo_int(use, "mem_bytes", k->mem_bytes);
	jo_int(use, "mem_peak_bytes", k->mem_peak_bytes);
	jo_int(use, "cpu_ms", k->cpu_ms);
	jo_int(use, "oom_kills", k->oom_kills);
}

/* The tasks array. */
static void
json_tasks(cJSON *o, const struct inspect_view *v)
{
	cJSON *arr = jo_add_array(o, "tasks");

	for (size_t i = 0; i < v->st.ntasks; i++) {
		const struct state_task *k = &v->st.tasks[i];
		cJSON *t = jo_push_object(arr);
		jo_str(t, "id", k->id);
		jo_str(t, "name", k->name);
		jo_str(t, "state", k->state);
		jo_time(t, "launched_at", k->launched_ms);
		jo_time(t, "ended_at", k->ended_ms);
		int64_t end = k->ended_ms != STATE_NONE ? k->ended_ms : v->now_ms;
		jo_secs(t, "duration_s",
		        k->launched_ms == STATE_NONE ? STATE_NONE
		                                     : clock_diff_ms(end, k->launched_ms));
		jo_int(t, "pid", k->pid);
		jo_int(t, "pgid", k->pgid);
		jo_int(t, "taskinit_pid", k->taskinit_pid);
		jo_int(t, "disk_limit_bytes", k->disk_limit_bytes);
		json_cgroup(t, k);
		if (k->has_exit) {
			cJSON *x = jo_add_object(t, "exit");
			jo_int(x, "code", k->exit_code);
			jo_str(x, "signal", k->exit_signal);
			jo_str(x, "state", k->exit_state);
			jo_str(x, "reason", k->exit_reason);
			jo_str(x, "message", k->exit_message);
			jo_str(x, "oom", k->exit_oom);
		} else {
			jo_chk(cJSON_AddNullToObject(t, "exit"));
		}
		jo_bool(t, "oom", k->oom);
	}
}

/* The processes array (live executors), or null. */
static void
json_procs(cJSON *o, const struct inspect_view *v)
{
	if (v->live != LIVENESS_LIVE || !v->procs_read) {
		jo_chk(cJSON_AddNullToObject(o, "processes"));
		return;
	}
	cJSON *arr = jo_add_array(o, "processes");
	for (size_t i = 0; i < v->nrows; i++) {
		const struct proc_info *p = &v->procs[v->rows[i].idx];
		char user[64];
		cJSON *x = jo_push_object(arr);
		jo_int(x, "pid", p->pid);
		jo_int(x, "ppid", p->ppid);
		jo_int(x, "pgid", p->pgrp);
		jo_int(x, "depth", v->rows[i].depth);
		jo_int(x, "uid", p->uid);
		jo_str(x, "user", procinfo_user(p->uid, user, sizeof(user)));
		jo_u64(x, "rss_bytes", procinfo_rss_bytes(p));
		jo_u64(x, "cpu_ms", procinfo_cpu_ms(p));
		jo_str(x, "command", p->cmdline);
	}
}

/* The fresh scan, the limit and the state's last report. */
static void
json_disk(cJSON *o, const struct inspect_view *v)
{
	cJSON *d = jo_add_object(o, "disk");

	jo_str(d, "source", "scan");
	if (v->scanned) {
		jo_u64(d, "allocated_bytes", v->scan.total_bytes);
		jo_categories(d, "categories", v->scan.bytes);
		jo_u64(d, "errors", v->scan.errors);
	} else {
		jo_chk(cJSON_AddNullToObject(d, "allocated_bytes"));
		jo_chk(cJSON_AddNullToObject(d, "categories"));
		jo_u64(d, "errors", 0);
	}
	jo_str(d, "scan_error", v->scan_error);
	if (v->disk_limit > 0)
		jo_u64(d, "limit_bytes", v->disk_limit);
	else
		jo_chk(cJSON_AddNullToObject(d, "limit_bytes"));
	jo_int(d, "last_report_bytes", v->has_state ? v->st.disk_bytes : STATE_NONE);
	jo_time(d, "last_report_at", v->has_state ? v->st.disk_ms : STATE_NONE);
}

/* The disk history samples. */
static void
json_history(cJSON *o, const struct inspect_view *v)
{
	cJSON *h = jo_add_object(o, "history");
	cJSON *arr = jo_add_array(h, "samples");

	for (size_t i = 0; i < v->nhist; i++) {
		cJSON *s = jo_push_object(arr);
		jo_time(s, "at", v->hist[i].at_ms);
		jo_u64(s, "bytes", v->hist[i].bytes);
		jo_categories(s, "categories", v->hist[i].cats);
	}
	jo_u64(h, "skipped_lines", v->hist_skipped);
	jo_str(h, "error", v->hist_error);
}

/* stdout and stderr when present. */
static void
json_logs(cJSON *o, const struct inspect_view *v)
{
	cJSON *arr = jo_add_array(o, "logs");

	for (size_t i = 0; i < ARRAY_SIZE(v->logs); i++) {
		const struct inspect_log *lg = &v->logs[i];
		if (!lg->present)
			continue;
		cJSON *x = jo_push_object(arr);
		jo_str(x, "name", lg->name);
		jo_u64(x, "size", lg->size);
		jo_bool(x, "capped", lg->capped);
		jo_u64(x, "dropped_bytes", lg->dropped);
		jo_u64(x, "cap_bytes", v->log_head + v->log_tail);
	}
}

cJSON *
inspect_json(const struct inspect_view *v)
{
	cJSON *o = jo_object();

	jo_str(o, "path", v->path);
	jo_str(o, "liveness", liveness_name(v->live));
	jo_str(o, "liveness_reason", v->why);
	jo_bool(o, "state_file", v->has_state);
	jo_str(o, "state_error", v->state_error);
	jo_time(o, "state_written_at", v->has_state ? v->st.written_ms : STATE_NONE);
	jo_int(o, "state_seq", v->has_state ? v->st.seq : STATE_NONE);
	json_executor(o, v);
	json_tasks(o, v);
	json_procs(o, v);
	json_disk(o, v);
	json_history(o, v);
	json_logs(o, v);
	cJSON *arr = jo_add_array(o, "warnings");
	for (size_t i = 0; i < v->nwarn; i++) {
		cJSON *w = jo_push_object(arr);
		jo_str(w, "kind", v->warn[i].kind);
		jo_str(w, "message", v->warn[i].message);
		jo_str(w, "path", v->warn[i].path);
		jo_u64(w, "bytes", v->warn[i].bytes);
	}
	return o;
}
