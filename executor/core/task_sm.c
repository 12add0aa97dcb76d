#include "task_sm.h"
#include "utf8.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static void
act_clear(struct task_action *act)
{
	memset(act, 0, sizeof(*act));
	act->state = TASK_NO_STATE;
}

void
task_sm_init(struct task_sm *sm, bool killing_cap)
{
	memset(sm, 0, sizeof(*sm));
	sm->phase = TP_NEW;
	sm->killing_cap = killing_cap;
}

void
task_sm_launch(struct task_sm *sm, struct task_action *act)
{
	act_clear(act);
	if (sm->phase != TP_NEW)
		return;
	sm->phase = TP_STARTING;
	act->state = MESOS__V1__TASK_STATE__TASK_STARTING;
}

void
task_sm_exec_ok(struct task_sm *sm, struct task_action *act)
{
	act_clear(act);
	if (sm->exec_done)
		return;
	sm->exec_done = true;
	/* A kill that arrived before the exec wins: no RUNNING after KILLING. */
	if (sm->phase != TP_STARTING)
		return;
	sm->phase = TP_RUNNING;
	act->state = MESOS__V1__TASK_STATE__TASK_RUNNING;
}

static void
terminal(struct task_sm *sm, struct task_action *act, int state)
{
	sm->phase = TP_TERMINAL;
	act->state = state;
	act->timer_at_ns = 0;
}

void
task_sm_exec_failed(struct task_sm *sm, int err, const char *what, struct task_action *act)
{
	act_clear(act);
	if (sm->phase == TP_TERMINAL || sm->phase == TP_NEW)
		return;
	/* The task-init still reports the (127) exit; this is the terminal word. */
	terminal(sm, act, MESOS__V1__TASK_STATE__TASK_FAILED);
	act->has_reason = true;
	act->reason = MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED;
	snprintf(act->message, sizeof(act->message), "Failed to execute '%s': %s", what,
	         strerror(err));
	utf8_trim_partial(act->message); /* a long path may be cut mid-character */
}

void
task_sm_launch_failed(struct task_sm *sm, int reason, const char *msg, struct task_action *act)
{
	act_clear(act);
	if (sm->phase == TP_TERMINAL)
		return;
	terminal(sm, act, MESOS__V1__TASK_STATE__TASK_FAILED);
	act->has_reason = true;
	act->reason = reason;
	snprintf(act->message, sizeof(act->message), "%s", msg);
	utf8_trim_partial(act->message);
}

void
task_sm_kill(struct task_sm *sm, enum kill_cause cause, int64_t grace_ns, int64_t now_ns,
             struct task_action *act)
{
	act_clear(act);
	if (sm->phase == TP_TERMINAL || sm->phase == TP_NEW)
		return;
	if (grace_ns < 0)
		grace_ns = 0;
	int64_t deadline = now_ns + grace_ns;

	if (sm->cause == KC_NONE) {
		sm->cause = cause;
		sm->kill_deadline_ns = deadline;
		act->sigterm = true;
		if (sm->killing_cap &&
		    (cause == KC_KILL || cause == KC_SHUTDOWN || cause == KC_HEALTH) &&
		    sm->phase != TP_KILLING)
			act->state = MESOS__V1__TASK_STATE__TASK_KILLING;
		sm->phase = TP_KILLING;
	} else if (deadline < sm->kill_deadline_ns) {
		/* A repeated kill only shortens the remaining grace. */
		sm->kill_deadline_ns = deadline;
	} else {
		return;
	}
	if (sm->sigkill_sent)
		return;
	if (sm->kill_deadline_ns <= now_ns) {
		act->sigkill = true;
		sm->sigkill_sent = true;
	} else {
		act->timer_at_ns = sm->kill_deadline_ns;
	}
}

void
task_sm_limit(struct task_sm *sm, int reason, const char *msg, int64_t grace_ns, int64_t now_ns,
              struct task_action *act)
{
	bool first = sm->cause == KC_NONE;
	task_sm_kill(sm, KC_LIMIT, grace_ns, now_ns, act);
	if (first && sm->cause == KC_LIMIT) {
		sm->limit_reason = reason;
		snprintf(sm->limit_msg, sizeof(sm->limit_msg), "%s", msg);
		utf8_trim_partial(sm->limit_msg);
	}
}

void
task_sm_report(struct task_sm *sm, struct task_action *act)
{
	act_clear(act);
	if (sm->phase == TP_RUNNING)
		act->state = MESOS__V1__TASK_STATE__TASK_RUNNING;
}

void
task_sm_timer(struct task_sm *sm, int64_t now_ns, struct task_action *act)
{
	act_clear(act);
	if (sm->phase != TP_KILLING || sm->sigkill_sent)
		return;
	if (now_ns < sm->kill_deadline_ns) {
		act->timer_at_ns = sm->kill_deadline_ns;
		return;
	}
	act->sigkill = true;
	sm->sigkill_sent = true;
}

void
task_action_label(struct task_action *act, const char *key, const char *fmt, ...)
{
	va_list ap;
	if (act->n_labels >= TASK_MAX_LABELS)
		return;
	struct task_label *l = &act->labels[act->n_labels++];
	snprintf(l->key, sizeof(l->key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(l->value, sizeof(l->value), fmt, ap);
	va_end(ap);
}

int
task_jvm_oom(int ws, const char *stderr_tail)
{
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 52)
		return 1;
	return !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) && stderr_tail &&
	       strstr(stderr_tail, "java.lang.OutOfMemoryError") != NULL;
}

void
task_sm_exited(struct task_sm *sm, int ws, const struct exit_info *info, struct task_action *act)
{
	act_clear(act);
	if (sm->phase == TP_TERMINAL || sm->phase == TP_NEW)
		return;
	if (WIFEXITED(ws))
		snprintf(act->message, sizeof(act->message), "Command exited with status %d",
		         WEXITSTATUS(ws));
	else if (WIFSIGNALED(ws))
		snprintf(act->message, sizeof(act->message), "Command terminated with signal %s%s",
		         signal_name(WTERMSIG(ws)), WCOREDUMP(ws) ? " (core dumped)" : "");
	else
		snprintf(act->message, sizeof(act->message), "Command ended with wait status %d",
		         ws);

	switch (sm->cause) {
	case KC_MAX_COMPLETION:
		terminal(sm, act, MESOS__V1__TASK_STATE__TASK_FAILED);
		act->has_reason = true;
		act->reason = MESOS__V1__TASK_STATUS__REASON__REASON_MAX_COMPLETION_TIME_REACHED;
		return;
	case KC_KILL:
	case KC_SHUTDOWN:
		terminal(sm, act, MESOS__V1__TASK_STATE__TASK_KILLED);
		return;
	case KC_HEALTH:
		terminal(sm, act, MESOS__V1__TASK_STATE__TASK_KILLED);
		act->has_healthy = true;
		act->healthy = false;
		return;
	case KC_EXECUTOR:
		terminal(sm, act, MESOS__V1__TASK_STATE__TASK_FAILED);
		return;
	case KC_LIMIT:
		terminal(sm, act, MESOS__V1__TASK_STATE__TASK_FAILED);
		act->has_reason = true;
		act->reason = sm->limit_reason;
		snprintf(act->message, sizeof(act->message), "%s", sm->limit_msg);
		return;
	case KC_NONE:
	default:
		break;
	}
	if (info && info->cgroup_oom) {
		terminal(sm, act, MESOS__V1__TASK_STATE__TASK_FAILED);
		act->has_reason = true;
		act->reason = MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY;
		snprintf(act->message, sizeof(act->message), "%s",
		         info->oom_message ? info->oom_message : "memory limit exceeded");
		task_action_label(act, "spex.oom", "cgroup");
		return;
	}
	if (info && info->jvm_oom) {
		terminal(sm, act, MESOS__V1__TASK_STATE__TASK_FAILED);
		size_t len = strlen(act->message);
		snprintf(act->message + len, sizeof(act->message) - len,
		         ": Java heap exhausted (java.lang.OutOfMemoryError); raise "
		         "spark.executor.memory");
		task_action_label(act, "spex.oom", "java");
		return;
	}
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		terminal(sm, act, MESOS__V1__TASK_STATE__TASK_FINISHED);
	else
		terminal(sm, act, MESOS__V1__TASK_STATE__TASK_FAILED);
}

int
task_state_is_terminal(int state)
{
	switch (state) {
	case MESOS__V1__TASK_STATE__TASK_FINISHED:
	case MESOS__V1__TASK_STATE__TASK_FAILED:
	case MESOS__V1__TASK_STATE__TASK_KILLED:
	case MESOS__V1__TASK_STATE__TASK_ERROR:
	case MESOS__V1__TASK_STATE__TASK_LOST:
	case MESOS__V1__TASK_STATE__TASK_DROPPED:
	case MESOS__V1__TASK_STATE__TASK_GONE:
	case MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR:
		return 1;
	default:
		return 0;
	}
}

const char *
task_state_name(int state)
{
	static char buf[24];
	const ProtobufCEnumValue *v =
	    protobuf_c_enum_descriptor_get_value(&mesos__v1__task_state__descriptor, state);
	if (v)
		return v->name;
	snprintf(buf, sizeof(buf), "TASK_%d", state);
	return buf;
}

const char *
signal_name(int sig)
{
	static char buf[16];
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev) {
		snprintf(buf, sizeof(buf), "SIG%s", abbrev);
		return buf;
	}
	snprintf(buf, sizeof(buf), "SIG%d", sig);
	return buf;
}
