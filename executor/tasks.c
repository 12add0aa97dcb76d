/*
 * Task lifecycle: LAUNCH -> task-init fork -> RUNNING on exec -> reap ->
 * exactly one terminal status; KILL and SHUTDOWN through the state machine.
 */
#include "executor.h"
#include "log.h"
#include "mesos_msg.h"
#include "sandbox.h"
#include "spark.h"
#include "spawn_plan.h"
#include "util.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct task *
tasks_find(struct executor *ex, const char *task_id)
{
	for (struct task *t = ex->tasks; t; t = t->next)
		if (strcmp(t->id, task_id) == 0)
			return t;
	return NULL;
}

size_t
tasks_live(const struct executor *ex)
{
	size_t n = 0;
	for (const struct task *t = ex->tasks; t; t = t->next)
		n += !t->terminal_sent || t->running;
	return n;
}

static struct task *
task_new(struct executor *ex, const Mesos__V1__TaskInfo *info)
{
	struct task *t = xcalloc(1, sizeof(*t));
	t->ex = ex;
	t->id = xstrdup(info->task_id->value);
	t->info = pb_dup(&info->base);
	t->ti.pid = -1;
	t->ti.report_fd = t->ti.ctl_fd = -1;
	task_sm_init(&t->sm, ex->killing_cap);
	t->next = ex->tasks;
	ex->tasks = t;
	return t;
}

static void
task_release_process(struct task *t)
{
	if (t->report_ev) {
		event_free(t->report_ev);
		t->report_ev = NULL;
	}
	if (t->kill_timer) {
		event_free(t->kill_timer);
		t->kill_timer = NULL;
	}
	if (t->max_timer) {
		event_free(t->max_timer);
		t->max_timer = NULL;
	}
	if (t->oom_ev) {
		event_free(t->oom_ev);
		t->oom_ev = NULL;
	}
	if (t->ti.report_fd >= 0)
		close(t->ti.report_fd);
	if (t->ti.ctl_fd >= 0)
		close(t->ti.ctl_fd);
	t->ti.report_fd = t->ti.ctl_fd = -1;
	t->running = false;
}

void
tasks_apply(struct task *t, const struct task_action *act)
{
	struct executor *ex = t->ex;

	/* A kill began, or this is the end: no more checks (the command
	 * executor pauses them at the kill too). */
	if (act->sigterm || act->sigkill || task_state_is_terminal(act->state))
		checks_pause(t);
	if (act->sigterm && t->ti.ctl_fd >= 0 && taskinit_command(&t->ti, 'T') < 0)
		log_warn("kill", "task=%s error=\"cannot reach task-init\"", LOGQ(t->id));
	if (act->sigkill) {
		if (t->ti.ctl_fd >= 0 && taskinit_command(&t->ti, 'K') == 0)
			log_info("kill", "task=%s signal=SIGKILL", LOGQ(t->id));
		else if (t->cmd_pid > 0)
			kill(-t->cmd_pid, SIGKILL); /* task-init unreachable: the command's group */
	}
	if (act->timer_at_ns && t->kill_timer) {
		int64_t d = act->timer_at_ns - now_mono_ns();
		if (d < 0)
			d = 0;
		struct timeval tv = {.tv_sec = d / NSEC_PER_SEC,
		                     .tv_usec = (d % NSEC_PER_SEC) / 1000};
		evtimer_add(t->kill_timer, &tv);
	}
	if (act->state != TASK_NO_STATE)
		session_send_status(ex, t, act);
}

/* Memory and cpu figures of the task's cgroup as labels. */
static void
usage_labels(struct task *t, const struct cg_usage *u, struct task_action *act)
{
	if (t->limits.mem_limit != UINT64_MAX && t->limits.has_mem)
		task_action_label(act, "spex.mem.limit_bytes", "%llu",
		                  (unsigned long long)t->limits.mem_limit);
	if (u->has_mem)
		task_action_label(act, "spex.mem.peak_bytes", "%llu",
		                  (unsigned long long)u->mem_peak);
	if (u->has_cpu)
		task_action_label(act, "spex.cpu.time_ns", "%llu", (unsigned long long)u->cpu_ns);
}

/* Why the task ended, beyond its wait status: a cgroup OOM kill, or the
 * JVM's own OutOfMemoryError. Fills the usage labels into act. */
static void
exit_cause(struct task *t, int status, struct exit_info *info, char *oom_msg, size_t n,
           struct cg_usage *u)
{
	uint64_t kills = 0;

	memset(info, 0, sizeof(*info));
	memset(u, 0, sizeof(*u));
	if (t->cg) {
		cgroup_task_usage(t->cg, u);
		if (cgroup_task_oom_kills(t->cg, &kills) == 0 && kills > 0) {
			info->cgroup_oom = true;
			cg_oom_message(t->limits.mem_limit,
			               u->mem_peak > t->limits.mem_limit ? t->limits.mem_limit
			                                                 : u->mem_peak,
			               t->heap[0] ? t->heap : NULL, oom_msg, n);
			info->oom_message = oom_msg;
		}
	}
	if (!info->cgroup_oom && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		char tail[16384];
		long r = sandbox_read_tail(t->ex->cfg->sandbox, "stderr", tail, sizeof(tail));
		info->jvm_oom = task_jvm_oom(status, r >= 0 ? tail : NULL);
	}
}

static void
task_cgroup_done(struct task *t)
{
	struct spx_error err = {0};
	if (!t->cg)
		return;
	if (cgroup_task_destroy(t->cg, &err) < 0)
		log_error("cgroup_destroy", "task=%s error=%s", LOGQ(t->id),
		          LOGQ(spx_error_msg(&err)));
	spx_error_clear(&err);
	cgroup_task_free(t->cg);
	t->cg = NULL;
}

/* The tree is gone and task-init reaped: the terminal status, once. */
static void
task_finish(struct task *t)
{
	struct task_action act;
	struct exit_info info;
	struct cg_usage u;
	char oom_msg[256];
	int status = t->exit_status;

	if (!t->have_exit) {
		/* task-init itself died (it never does on its own): report what
		 * we know, and make sure its group is gone. */
		if (t->cmd_pid > 0)
			kill(-t->cmd_pid, SIGKILL);
		status = t->ti_status;
		log_error("task_init_lost", "task=%s wait_status=%d", LOGQ(t->id), status);
	}
	checks_pause(t); /* before the cgroup goes: an attempt may be in it */
	task_release_process(t);
	exit_cause(t, status, &info, oom_msg, sizeof(oom_msg), &u);
	task_sm_exited(&t->sm, status, &info, &act);
	state_task_exited(t, status, &info, &u, &act); /* before the cgroup goes */
	task_cgroup_done(t);
	usage_labels(t, &u, &act);
	log_info("task_exit",
	         "task=%s pid=%d wait_status=%d runtime_ms=%.0f cgroup_oom=%d jvm_oom=%d",
	         LOGQ(t->id), (int)t->cmd_pid, status, (double)(now_mono_ns() - t->launch_ns) / 1e6,
	         info.cgroup_oom, info.jvm_oom);
	if (disk_task_ended(t->ex, t, &act))
		return; /* sent once the sandbox is cleaned */
	tasks_apply(t, &act);
	executor_maybe_exit(t->ex);
}

void
tasks_send_held(struct task *t)
{
	struct task_action *act = t->held;
	if (!act)
		return;
	t->held = NULL;
	if (t->hold_timer) {
		event_free(t->hold_timer);
		t->hold_timer = NULL;
	}
	tasks_apply(t, act);
	free(act);
	executor_maybe_exit(t->ex);
}

static void
maybe_finish(struct task *t)
{
	if (t->running && t->ti_reaped && t->report_eof)
		task_finish(t);
}

/* Labels of the RUNNING update: where the task runs and under what limits. */
static void
running_labels(struct task *t, struct task_action *act)
{
	if (t->cg_unavailable)
		task_action_label(act, "spex.cgroups", "unavailable");
	if (!t->cg)
		return;
	task_action_label(act, "spex.cgroup", "%s", cgroup_task_path(t->cg));
	if (t->limits.has_mem && t->limits.mem_limit != UINT64_MAX)
		task_action_label(act, "spex.mem.limit_bytes", "%llu",
		                  (unsigned long long)t->limits.mem_limit);
	if (t->limits.has_cpus)
		task_action_label(act, "spex.cpus", "%g", t->limits.cpus);
	if (t->limits.pids_max)
		task_action_label(act, "spex.pids.max", "%llu",
		                  (unsigned long long)t->limits.pids_max);
}

static void
report_cb(evutil_socket_t fd, short what, void *arg)
{
	struct task *t = arg;
	struct ti_report r;
	struct task_action act;

	(void)what;
	for (;;) {
		ssize_t n = read(fd, &r, sizeof(r));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n != (ssize_t)sizeof(r)) {
			/* EOF (or a torn record, which only a dying task-init makes). */
			event_del(t->report_ev);
			t->report_eof = true;
			maybe_finish(t);
			return;
		}
		switch (r.type) {
		case 'R':
			t->cmd_pid = r.pid;
			log_info("exec", "task=%s pid=%d latency_ms=%.2f", LOGQ(t->id), (int)r.pid,
			         (double)(now_mono_ns() - t->launch_ns) / 1e6);
			task_sm_exec_ok(&t->sm, &act);
			if (act.state != TASK_NO_STATE)
				running_labels(t, &act);
			tasks_apply(t, &act);
			if (act.state == MESOS__V1__TASK_STATE__TASK_RUNNING) {
				disk_task_running(t->ex);
				checks_start(t);
			}
			break;
		case 'S':
		case 'C': {
			char msg[256];
			snprintf(msg, sizeof(msg), "%s: %s",
			         r.type == 'C' ? "cannot join the task's cgroup"
			                       : "cannot set up the task's stdio, cwd or user",
			         strerror(r.value));
			log_error("launch_failed", "task=%s error=%s", LOGQ(t->id), LOGQ(msg));
			task_sm_launch_failed(
			    &t->sm, MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED,
			    msg, &act);
			tasks_apply(t, &act);
			if (r.type == 'C' || r.pid == 0) { /* nothing ran: no 'X' follows */
				t->have_exit = true;
				t->exit_status = 1 << 8;
			}
			break;
		}
		case 'E': {
			t->exec_errno = r.value;
			const char *what_ = t->info->command && t->info->command->value
			                        ? t->info->command->value
			                        : "?";
			if (!t->info->command || !t->info->command->has_shell ||
			    t->info->command->shell)
				what_ = "/bin/sh";
			log_error("exec_failed", "task=%s error=%s", LOGQ(t->id),
			          LOGQ(strerror(r.value)));
			task_sm_exec_failed(&t->sm, r.value, what_, &act);
			tasks_apply(t, &act);
			break;
		}
		case 'X':
			t->have_exit = true;
			t->exit_status = r.value;
			break;
		default:
			break;
		}
	}
}

static void
kill_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct task *t = arg;
	struct task_action act;
	(void)fd;
	(void)what;
	task_sm_timer(&t->sm, now_mono_ns(), &act);
	tasks_apply(t, &act);
}

static void
max_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct task *t = arg;
	struct task_action act;
	(void)fd;
	(void)what;
	log_warn("max_completion_time", "task=%s action=kill", LOGQ(t->id));
	task_sm_kill(&t->sm, KC_MAX_COMPLETION, 0, now_mono_ns(), &act);
	tasks_apply(t, &act);
}

static uint64_t
disk_resource_bytes(const Mesos__V1__TaskInfo *info)
{
	double mb = 0;
	for (size_t i = 0; i < info->n_resources; i++) {
		const Mesos__V1__Resource *r = info->resources[i];
		if (r->name && strcmp(r->name, "disk") == 0 && r->scalar && r->scalar->value > 0)
			mb += r->scalar->value;
	}
	return (uint64_t)(mb * 1024 * 1024);
}

static const char *
first_role(const Mesos__V1__TaskInfo *info)
{
	for (size_t i = 0; i < info->n_resources; i++) {
		const Mesos__V1__Resource *r = info->resources[i];
		if (r->allocation_info && r->allocation_info->role)
			return r->allocation_info->role;
	}
	return NULL;
}

static void
oom_cb(evutil_socket_t fd, short what, void *arg)
{
	struct task *t = arg;
	uint64_t kills = 0;
	(void)fd;
	(void)what;
	if (!t->cg)
		return;
	cgroup_task_oom_drain(t->cg);
	/* The v1 eventfd also fires when the cgroup goes away: count kills. */
	if (cgroup_task_oom_kills(t->cg, &kills) == 0 && kills > 0 && !t->oom_seen) {
		t->oom_seen = true;
		log_warn("oom", "task=%s cgroup=%s oom_kills=%llu", LOGQ(t->id),
		         LOGQ(cgroup_task_path(t->cg)), (unsigned long long)kills);
	}
}

/* Put the task into its own cgroup, per SPEX_CGROUPS. */
static int
task_cgroup_setup(struct executor *ex, struct task *t, struct spx_error *err)
{
	if (ex->cgcfg.mode == CGM_OFF)
		return 0;
	cg_limits_from_task(t->info, &ex->cgcfg.limits, &t->limits);
	if (t->info->command)
		spark_executor_heap(t->info->command, t->heap, sizeof(t->heap));
	if (ex->cgm)
		t->cg = cgroup_task_create(ex->cgm, t->id, &t->limits, err);
	else
		spx_error_set(err, 0, "%s", ex->cg_error);
	if (!t->cg) {
		if (ex->cgcfg.mode == CGM_REQUIRED)
			return spx_error_wrap(err, "SPEX_CGROUPS=required");
		log_warn("cgroups_unavailable", "task=%s error=%s action=run_without_limits",
		         LOGQ(t->id), LOGQ(spx_error_msg(err)));
		spx_error_clear(err);
		t->cg_unavailable = true;
		return 0;
	}
	int fd = cgroup_task_oom_fd(t->cg, err);
	if (fd >= 0) {
		t->oom_ev = event_new(ex->base, fd, EV_READ | EV_PERSIST, oom_cb, t);
		event_add(t->oom_ev, NULL);
	} else {
		log_warn("oom_watch", "task=%s error=%s", LOGQ(t->id), LOGQ(spx_error_msg(err)));
		spx_error_clear(err);
	}
	log_info("cgroup", "task=%s path=%s mem_limit=%llu cpus=%g pids_max=%llu", LOGQ(t->id),
	         LOGQ(cgroup_task_path(t->cg)),
	         (unsigned long long)(t->limits.mem_limit == UINT64_MAX ? 0 : t->limits.mem_limit),
	         t->limits.cpus, (unsigned long long)t->limits.pids_max);
	return 0;
}

int
tasks_run_as(const Mesos__V1__CommandInfo *cmd, struct spawn_plan *plan, struct run_as *ra,
             struct spx_error *err)
{
	memset(ra, 0, sizeof(*ra));
	if (!cmd->user || !*cmd->user)
		return 0;
	if (geteuid() != 0) {
		struct passwd *self = getpwuid(geteuid());
		if (self && strcmp(self->pw_name, cmd->user) == 0)
			return 0;
		return spx_error_set(err, EPERM, "cannot run as user '%s': spex is not root",
		                     cmd->user);
	}
	errno = 0;
	struct passwd *pw = getpwnam(cmd->user);
	if (!pw)
		return spx_error_set(err, errno, "unknown user '%s'", cmd->user);
	ra->set = true;
	ra->uid = pw->pw_uid;
	ra->gid = pw->pw_gid;
	ra->ngroups = (int)ARRAY_SIZE(ra->groups);
	if (getgrouplist(pw->pw_name, pw->pw_gid, ra->groups, &ra->ngroups) < 0)
		ra->ngroups = (int)ARRAY_SIZE(ra->groups); /* truncated: the first 64 */
	spawn_plan_setenv(plan, "HOME", pw->pw_dir);
	spawn_plan_setenv(plan, "USER", pw->pw_name);
	spawn_plan_setenv(plan, "LOGNAME", pw->pw_name);
	return 0;
}

static int
task_start_process(struct executor *ex, struct task *t, struct spx_error *err)
{
	struct spawn_plan plan;
	struct run_as ra;
	int out = -1, errfd = -1;
	bool capture = ex->disk.log_tail > 0, captured = false;

	if (!t->info->command)
		return spx_error_set(err, 0, "TaskInfo has no command (spex runs command tasks)");
	if (spawn_plan_build(t->info->command, environ, ex->cfg->sandbox, first_role(t->info),
	                     &plan, err) < 0)
		return -1;
	if (tasks_run_as(t->info->command, &plan, &ra, err) < 0 ||
	    task_cgroup_setup(ex, t, err) < 0 ||
	    (capture ? sandbox_task_stdio_captured(ex->cfg->sandbox, &out, &errfd, &captured, err)
	             : sandbox_task_stdio(ex->cfg->sandbox, &out, &errfd, err)) < 0) {
		spawn_plan_free(&plan);
		return -1;
	}
	struct taskinit_opts opts = {
	    .plan = &plan,
	    .cwd = ex->cfg->sandbox,
	    .stdout_fd = out,
	    .stderr_fd = errfd,
	    .linger_grace_ns = ex->cfg->default_kill_grace_ns,
	    .cgroup_procs = t->cg ? cgroup_task_procs_files(t->cg) : NULL,
	    .capture_logs = captured,
	    .log_head = ex->disk.log_head,
	    .log_tail = ex->disk.log_tail,
	    .switch_user = ra.set,
	    .uid = ra.uid,
	    .gid = ra.gid,
	    .groups = ra.groups,
	    .ngroups = ra.ngroups,
	};
	int r = taskinit_spawn(&opts, &t->ti, err);
	spawn_plan_free(&plan);
	close(out);
	close(errfd);
	if (r < 0)
		return -1;
	t->running = true;
	t->report_ev = event_new(ex->base, t->ti.report_fd, EV_READ | EV_PERSIST, report_cb, t);
	event_add(t->report_ev, NULL);
	t->kill_timer = evtimer_new(ex->base, kill_timer_cb, t);
	return 0;
}

void
tasks_launch(struct executor *ex, const Mesos__V1__TaskInfo *info)
{
	struct spx_error err = {0};
	struct task_action act;

	if (tasks_find(ex, info->task_id->value)) {
		log_warn("launch_ignored", "task=%s reason=\"duplicate task id\"",
		         LOGQ(info->task_id->value));
		return;
	}
	if (ex->shutting_down) {
		tasks_refuse(ex, info,
		             MESOS__V1__TASK_STATUS__REASON__REASON_TASK_KILLED_DURING_LAUNCH,
		             "the executor is shutting down");
		return;
	}
	if (ex->config_error[0]) {
		char msg[sizeof(ex->config_error) + 32];
		snprintf(msg, sizeof(msg), "spex configuration: %s", ex->config_error);
		tasks_refuse(ex, info,
		             MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED, msg);
		return;
	}
	if (checks_validate_task(info, &err) < 0) {
		/* The master validates checks; one that got here anyway cannot
		 * be run, and a task must not run unchecked by surprise. */
		tasks_refuse(ex, info, MESOS__V1__TASK_STATUS__REASON__REASON_TASK_INVALID,
		             spx_error_msg(&err));
		spx_error_clear(&err);
		return;
	}
	struct task *t = task_new(ex, info);
	ex->launched_any = true;
	t->launch_ns = now_mono_ns();
	t->disk_bytes = disk_resource_bytes(info);
	log_info("launch", "task=%s name=%s", LOGQ(t->id), LOGQ(info->name));
	task_sm_launch(&t->sm, &act);
	tasks_apply(t, &act);
	if (disk_preflight_check(ex, &err) < 0 || task_start_process(ex, t, &err) < 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "launch failed: %s", spx_error_msg(&err));
		log_error("launch_failed", "task=%s error=%s", LOGQ(t->id), LOGQ(msg));
		task_sm_launch_failed(
		    &t->sm, MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED, msg,
		    &act);
		spx_error_clear(&err);
		task_release_process(t);
		task_cgroup_done(t);
		tasks_apply(t, &act);
		return;
	}
	log_info("spawned", "task=%s task_init_pid=%d", LOGQ(t->id), (int)t->ti.pid);
	state_mark_dirty(ex);
	const Mesos__V1__DurationInfo *mct = info->max_completion_time;
	if (mct && mct->nanoseconds > 0) {
		struct timeval tv = {.tv_sec = mct->nanoseconds / NSEC_PER_SEC,
		                     .tv_usec = (mct->nanoseconds % NSEC_PER_SEC) / 1000};
		t->max_timer = evtimer_new(ex->base, max_timer_cb, t);
		evtimer_add(t->max_timer, &tv);
	}
}

void
tasks_refuse(struct executor *ex, const Mesos__V1__TaskInfo *info, int reason, const char *msg)
{
	struct task_action act;

	if (tasks_find(ex, info->task_id->value))
		return;
	struct task *t = task_new(ex, info);
	ex->launched_any = true;
	log_warn("launch_refused", "task=%s reason=%s", LOGQ(t->id), LOGQ(msg));
	task_sm_launch(&t->sm, &act); /* NEW -> STARTING without sending: */
	task_sm_launch_failed(&t->sm, reason, msg, &act);
	tasks_apply(t, &act);
}

static int64_t
grace_of(const Mesos__V1__KillPolicy *kp)
{
	if (kp && kp->grace_period)
		return kp->grace_period->nanoseconds;
	return -1;
}

void
tasks_kill(struct executor *ex, const char *task_id, const Mesos__V1__KillPolicy *override)
{
	struct task_action act;
	struct task *t = tasks_find(ex, task_id);

	if (!t || t->terminal_sent) {
		log_warn("kill_ignored", "task=%s reason=%s", LOGQ(task_id),
		         t ? "already terminal" : "unknown task");
		return;
	}
	/* Kill.kill_policy > TaskInfo.kill_policy > 3 s. */
	int64_t grace = grace_of(override);
	if (grace < 0)
		grace = grace_of(t->info->kill_policy);
	if (grace < 0)
		grace = ex->cfg->default_kill_grace_ns;
	log_info("kill", "task=%s grace_ms=%lld", LOGQ(task_id),
	         (long long)(grace / NSEC_PER_MSEC));
	task_sm_kill(&t->sm, KC_KILL, grace, now_mono_ns(), &act);
	tasks_apply(t, &act);
}

void
tasks_kill_unhealthy(struct task *t)
{
	struct task_action act;
	int64_t grace = grace_of(t->info->kill_policy);

	if (grace < 0)
		grace = t->ex->cfg->default_kill_grace_ns;
	log_warn("kill", "task=%s reason=unhealthy grace_ms=%lld", LOGQ(t->id),
	         (long long)(grace / NSEC_PER_MSEC));
	task_sm_kill(&t->sm, KC_HEALTH, grace, now_mono_ns(), &act);
	tasks_apply(t, &act);
}

void
tasks_kill_all(struct executor *ex, enum kill_cause cause, int64_t grace_ns)
{
	struct task_action act;
	for (struct task *t = ex->tasks; t; t = t->next) {
		if (t->terminal_sent && !t->running)
			continue;
		task_sm_kill(&t->sm, cause, grace_ns, now_mono_ns(), &act);
		tasks_apply(t, &act);
	}
}

void
tasks_reap(struct executor *ex)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			return;
		struct task *t = ex->tasks;
		while (t && t->ti.pid != p)
			t = t->next;
		if (!t && checks_reaped(ex, p, st))
			continue;
		if (!t || t->ti_reaped) {
			/* An orphan re-parented to us (we are a subreaper). */
			log_debug("reaped", "pid=%d wait_status=%d", (int)p, st);
			continue;
		}
		t->ti_reaped = true;
		t->ti_status = st;
		maybe_finish(t);
	}
}

void
tasks_free_all(struct executor *ex)
{
	struct task *t = ex->tasks;
	while (t) {
		struct task *next = t->next;
		task_release_process(t);
		checks_free(t);
		cgroup_task_free(t->cg);
		free(t->held);
		if (t->hold_timer)
			event_free(t->hold_timer);
		state_task_free(t);
		mesos__v1__task_info__free_unpacked(t->info, NULL);
		free(t->id);
		free(t);
		t = next;
	}
	ex->tasks = NULL;
}
