/*
 * Task lifecycle: LAUNCH -> task-init fork -> RUNNING on exec -> reap ->
 * exactly one terminal status; KILL and SHUTDOWN through the state machine.
 */
#include "executor.h"
#include "log.h"
#include "mesos_msg.h"
#include "sandbox.h"
#include "spawn_plan.h"
#include "util.h"

#include <errno.h>
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
	if (t->ti.report_fd >= 0)
		close(t->ti.report_fd);
	if (t->ti.ctl_fd >= 0)
		close(t->ti.ctl_fd);
	t->ti.report_fd = t->ti.ctl_fd = -1;
	t->running = false;
}

static void
apply(struct task *t, const struct task_action *act)
{
	struct executor *ex = t->ex;

	if (act->sigterm && t->ti.ctl_fd >= 0 && taskinit_command(&t->ti, 'T') < 0)
		log_warn("kill", "task=%s error=\"cannot reach task-init\"", LOGQ(t->id));
	if (act->sigkill) {
		if (t->ti.ctl_fd >= 0 && taskinit_command(&t->ti, 'K') == 0)
			log_info("kill", "task=%s signal=SIGKILL", LOGQ(t->id));
		else if (t->ti.pid > 0 && !t->ti_reaped)
			kill(-t->ti.pid, SIGKILL); /* task-init unreachable: its group */
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

/* The tree is gone and task-init reaped: the terminal status, once. */
static void
task_finish(struct task *t)
{
	struct task_action act;
	int status = t->exit_status;

	if (!t->have_exit) {
		/* task-init itself died (it never does on its own): report what
		 * we know, and make sure its group is gone. */
		kill(-t->ti.pid, SIGKILL);
		status = t->ti_status;
		log_error("task_init_lost", "task=%s wait_status=%d", LOGQ(t->id), status);
	}
	task_release_process(t);
	task_sm_exited(&t->sm, status, &act);
	log_info("task_exit", "task=%s pid=%d wait_status=%d runtime_ms=%.0f", LOGQ(t->id),
		 (int)t->cmd_pid, status, (double)(now_mono_ns() - t->launch_ns) / 1e6);
	apply(t, &act);
	executor_maybe_exit(t->ex);
}

static void
maybe_finish(struct task *t)
{
	if (t->running && t->ti_reaped && t->report_eof)
		task_finish(t);
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
			apply(t, &act);
			break;
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
			apply(t, &act);
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
	apply(t, &act);
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
	apply(t, &act);
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

static int
task_start_process(struct executor *ex, struct task *t, struct spx_error *err)
{
	struct spawn_plan plan;
	int out = -1, errfd = -1;

	if (!t->info->command)
		return spx_error_set(err, 0, "TaskInfo has no command (spex runs command tasks)");
	if (spawn_plan_build(t->info->command, environ, ex->cfg->sandbox, first_role(t->info),
			     &plan, err) < 0)
		return -1;
	if (sandbox_task_stdio(ex->cfg->sandbox, &out, &errfd, err) < 0) {
		spawn_plan_free(&plan);
		return -1;
	}
	struct taskinit_opts opts = {
		.plan = &plan,
		.cwd = ex->cfg->sandbox,
		.stdout_fd = out,
		.stderr_fd = errfd,
		.linger_grace_ns = ex->cfg->default_kill_grace_ns,
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
		tasks_refuse(ex, info, MESOS__V1__TASK_STATUS__REASON__REASON_TASK_KILLED_DURING_LAUNCH,
			     "the executor is shutting down");
		return;
	}
	struct task *t = task_new(ex, info);
	ex->launched_any = true;
	t->launch_ns = now_mono_ns();
	log_info("launch", "task=%s name=%s", LOGQ(t->id), LOGQ(info->name));
	task_sm_launch(&t->sm, &act);
	apply(t, &act);
	if (task_start_process(ex, t, &err) < 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "launch failed: %s", spx_error_msg(&err));
		log_error("launch_failed", "task=%s error=%s", LOGQ(t->id), LOGQ(msg));
		task_sm_launch_failed(&t->sm,
				      MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED,
				      msg, &act);
		spx_error_clear(&err);
		apply(t, &act);
		return;
	}
	log_info("spawned", "task=%s task_init_pid=%d", LOGQ(t->id), (int)t->ti.pid);
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
	apply(t, &act);
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
	log_info("kill", "task=%s grace_ms=%lld", LOGQ(task_id), (long long)(grace / NSEC_PER_MSEC));
	task_sm_kill(&t->sm, KC_KILL, grace, now_mono_ns(), &act);
	apply(t, &act);
}

void
tasks_kill_all(struct executor *ex, enum kill_cause cause, int64_t grace_ns)
{
	struct task_action act;
	for (struct task *t = ex->tasks; t; t = t->next) {
		if (t->terminal_sent && !t->running)
			continue;
		task_sm_kill(&t->sm, cause, grace_ns, now_mono_ns(), &act);
		apply(t, &act);
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
		mesos__v1__task_info__free_unpacked(t->info, NULL);
		free(t->id);
		free(t);
		t = next;
	}
	ex->tasks = NULL;
}
