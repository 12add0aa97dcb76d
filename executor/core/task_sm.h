/*
 * The task state machine: which TaskStatus to send and which signal to deliver
 * for every input a task can see, as a pure function of its state. The
 * executor feeds inputs (launch, exec result, kill, timer, exit) and carries
 * out the returned action; nothing here touches processes or the network.
 *
 *	NEW --launch--> STARTING --exec ok--> RUNNING --exit--> TERMINAL
 *	                   |                     |
 *	                   +--kill--> KILLING <--+   (KILLING only on the wire if
 *	                                  |           the framework asked for it)
 *	                                  +--exit (tree gone)--> TERMINAL
 *
 * Invariants: exactly one terminal status; nothing after it; no RUNNING after
 * a kill began; a repeated kill only brings the SIGKILL deadline closer.
 */
#ifndef EXECUTOR_CORE_TASK_SM_H
#define EXECUTOR_CORE_TASK_SM_H

#include <stdbool.h>
#include <stdint.h>

#include "mesos.pb-c.h"

enum task_phase { TP_NEW, TP_STARTING, TP_RUNNING, TP_KILLING, TP_TERMINAL };

enum kill_cause {
	KC_NONE,
	KC_KILL,           /* Event KILL from the framework */
	KC_SHUTDOWN,       /* Event SHUTDOWN, or the executor is going away */
	KC_MAX_COMPLETION, /* TaskInfo.max_completion_time elapsed */
	KC_EXECUTOR,       /* the executor's own reason (giving up, shutdown failsafe) */
	KC_LIMIT,          /* a resource limit spex enforces (disk): reason and message kept */
	KC_HEALTH,         /* the health check failed consecutive_failures times */
};

struct task_sm {
	enum task_phase phase;
	enum kill_cause cause;
	bool killing_cap;         /* framework has TASK_KILLING_STATE */
	bool exec_done;           /* RUNNING was (or would have been) reached */
	int64_t kill_deadline_ns; /* SIGKILL due at this monotonic time */
	bool sigkill_sent;
	int limit_reason;    /* KC_LIMIT: TaskStatus.reason of the terminal update */
	char limit_msg[256]; /* KC_LIMIT: its message */
};

#define TASK_NO_STATE   (-1)
#define TASK_MAX_LABELS 16

struct task_label {
	char key[40];
	char value[192];
};

struct task_action {
	int state;  /* Mesos__V1__TaskState to send, or TASK_NO_STATE */
	int reason; /* Mesos__V1__TaskStatus__Reason, valid if has_reason */
	bool has_reason;
	bool has_healthy; /* TaskStatus.healthy is set (to healthy) */
	bool healthy;
	char message[256];   /* TaskStatus.message, "" for none */
	bool sigterm;        /* send SIGTERM to the whole task tree now */
	bool sigkill;        /* send SIGKILL to the whole task tree now */
	int64_t timer_at_ns; /* arm (or move) the kill timer to this time; 0 = no change */
	struct task_label labels[TASK_MAX_LABELS]; /* TaskStatus.labels to attach */
	int n_labels;
	const uint8_t *data; /* TaskStatus.data (borrowed), or NULL */
	size_t data_len;
};

/* What is known about how the task ended, beyond its wait status. */
struct exit_info {
	bool cgroup_oom;         /* the kernel OOM-killed in the task's memory cgroup */
	const char *oom_message; /* the message for that case */
	bool jvm_oom;            /* the JVM ran out of heap (exit 52 / OutOfMemoryError) */
};

/* Add a label to act (dropped silently beyond TASK_MAX_LABELS). */
void task_action_label(struct task_action *act, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 1 if the JVM ended by OutOfMemoryError: Spark's exit code 52
 * (SparkExitCode.OOM), or the error in the tail of its stderr. */
int task_jvm_oom(int wait_status, const char *stderr_tail);

/* Every input clears *act first and fills what the executor must do. */
void task_sm_init(struct task_sm *sm, bool killing_cap);
void task_sm_launch(struct task_sm *sm, struct task_action *act);
void task_sm_exec_ok(struct task_sm *sm, struct task_action *act);
/* The command could not be executed (errno err, what = the path tried). */
void task_sm_exec_failed(struct task_sm *sm, int err, const char *what, struct task_action *act);
/* The launch failed before any process existed (message given). */
void task_sm_launch_failed(struct task_sm *sm, int reason, const char *msg,
                           struct task_action *act);
/* A kill request with a grace period, at monotonic time now. TASK_KILLING
 * goes out (with the capability) for KC_KILL, KC_SHUTDOWN and KC_HEALTH. */
void task_sm_kill(struct task_sm *sm, enum kill_cause cause, int64_t grace_ns, int64_t now_ns,
                  struct task_action *act);
/* A limit spex enforces was exceeded: kill like KC_KILL (no TASK_KILLING),
 * and end TASK_FAILED with reason and msg. */
void task_sm_limit(struct task_sm *sm, int reason, const char *msg, int64_t grace_ns,
                   int64_t now_ns, struct task_action *act);
/* A periodic report: TASK_RUNNING again, but only while the task is running
 * (never while starting, killing or after the end). */
void task_sm_report(struct task_sm *sm, struct task_action *act);
/* The kill timer fired at monotonic time now. */
void task_sm_timer(struct task_sm *sm, int64_t now_ns, struct task_action *act);
/* The task's process tree is gone; wait_status as from waitpid(). info may
 * be NULL. A kill the framework asked for wins over every other cause. A
 * kill for failed health checks ends TASK_KILLED with healthy=false, as the
 * command executor's does. */
void task_sm_exited(struct task_sm *sm, int wait_status, const struct exit_info *info,
                    struct task_action *act);

/* 1 for the states the agent treats as terminal (protobuf::isTerminalState). */
int task_state_is_terminal(int state);
/* "TASK_RUNNING", or "TASK_<n>" for unknown values (static buffer for those). */
const char *task_state_name(int state);
/* "SIGTERM" for 15, "SIG<n>" otherwise (static buffer for those). */
const char *signal_name(int sig);

#endif /* EXECUTOR_CORE_TASK_SM_H */
