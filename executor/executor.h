/*
 * The executor's state, shared by its adapter files:
 *	session.c  the agent session: SUBSCRIBE, events, UPDATE pump, reconnects
 *	tasks.c    task lifecycle: launch, kill, reap, terminal status
 *	checks.c   TaskInfo.check and TaskInfo.health_check: attempts, updates
 *	main.c     start-up, signals, the loop, exit
 *	state.c    .spex/state.json and .spex/disk-history.jsonl
 * Everything runs on one libevent loop; there are no threads.
 */
#ifndef EXECUTOR_EXECUTOR_H
#define EXECUTOR_EXECUTOR_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "cgroup.h"
#include "checks.h"
#include "disk_policy.h"
#include "state.h"
#include "track.h"
#include "worker.h"
#include "config.h"
#include "executor.pb-c.h"
#include "task_sm.h"
#include "taskinit.h"
#include "updates.h"
#include "uuid.h"

enum session_state { SS_DISCONNECTED, SS_SUBSCRIBING, SS_SUBSCRIBED };

/* Who a task's command (and its command checks) runs as. */
struct run_as {
	bool set; /* drop to uid/gid/groups (spex is root and CommandInfo.user is set) */
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	int ngroups;
};

struct task_checks;

struct task {
	struct task *next;
	struct executor *ex;
	char *id;
	Mesos__V1__TaskInfo *info; /* owned copy; replayed until an update is ACKed */
	struct task_sm sm;
	bool acked_any; /* an update of this task was ACKed */
	bool terminal_sent;
	bool running; /* task-init alive or its report pipe open */
	struct taskinit ti;
	bool ti_reaped, report_eof, have_exit;
	int exit_status; /* the command's wait status ('X' report) */
	int ti_status;   /* task-init's own wait status */
	pid_t cmd_pid;
	int exec_errno;
	struct event *report_ev;
	struct event *kill_timer;
	struct event *max_timer;
	int64_t launch_ns;
	struct task_cgroup *cg; /* NULL when the task runs without its own cgroup */
	struct event *oom_ev;
	bool cg_unavailable; /* cgroups wanted (auto) but not usable */
	bool oom_seen;       /* an OOM notification arrived */
	struct cg_limits limits;
	char heap[32];            /* the JVM heap Spark asked for, "" if unknown */
	uint64_t disk_bytes;      /* the task's `disk` resource in bytes, 0 if none */
	struct task_action *held; /* terminal update waiting for the sandbox cleanup */
	struct event *hold_timer;
	struct state_task *strec;   /* what .spex/state.json shows of it (state.c) */
	struct task_checks *checks; /* its check and health check, NULL until RUNNING */
};

struct executor {
	struct event_base *base;
	struct config *cfg;
	struct agent *agent;
	enum session_state state;
	bool ever_subscribed;
	char *agent_id;   /* SUBSCRIBED.agent_info.id */
	bool killing_cap; /* framework has TASK_KILLING_STATE */
	struct task *tasks;
	struct update_queue uq;
	bool update_inflight;
	uint8_t inflight_uuid[UUID_LEN];
	int64_t backoff_ns;      /* next reconnect delay bound */
	int64_t disconnected_ns; /* start of the current disconnection, 0 if connected */
	int64_t subscribe_sent_ns;
	unsigned sub_epoch; /* number of the SUBSCRIBE in flight */
	bool launched_any;
	bool shutting_down;
	bool giving_up; /* recovery failed or checkpointing off: exit non-zero */
	int exit_code;
	char config_error[256]; /* a bad SPEX_* setting: every task fails with it */
	struct cgroup_config cgcfg;
	struct cgroup_manager *cgm; /* NULL: cgroups off or unavailable */
	char cg_error[256];         /* why cgroups are unavailable */
	struct disk_settings disk;
	struct disk_state dstate;
	struct worker *worker; /* scans and cleanups, off the loop */
	struct event *disk_timer;
	bool scan_busy;
	bool have_report_uuid;
	uint8_t report_uuid[UUID_LEN]; /* the last disk report, until ACKed */
	char *disk_json;               /* the last full report (JSON) */
	struct track *track;           /* incremental usage tracker, NULL: full scans */
	struct event *track_ev, *quick_timer;
	int64_t last_reconcile_ns;
	struct state_writer *statew; /* .spex/state.json (state.c) */
	struct event *ev_sigchld, *ev_sigterm, *ev_sigint;
	struct event *reconnect_timer, *recovery_timer, *pump_timer, *ack_timer, *shutdown_timer,
	    *heartbeat_timer;
};

/* session.c */
void session_start(struct executor *ex);
/* Queue a status for task (state, reason, message, labels, data of act) and
 * send it. Returns the new update's uuid (valid until it is ACKed), or NULL
 * when nothing was queued (the task already had its terminal update). */
const uint8_t *session_send_status(struct executor *ex, struct task *t,
                                   const struct task_action *act);
void session_pump(struct executor *ex);
extern const struct agent_cb session_agent_cb;

/* tasks.c */
/* Carry out a state-machine action for t: signals, kill timer, status. */
void tasks_apply(struct task *t, const struct task_action *act);
void tasks_launch(struct executor *ex, const Mesos__V1__TaskInfo *info);
void tasks_refuse(struct executor *ex, const Mesos__V1__TaskInfo *info, int reason,
                  const char *msg);
void tasks_kill(struct executor *ex, const char *task_id, const Mesos__V1__KillPolicy *override);
/* Kill every live task within grace (SHUTDOWN, giving up, our own SIGTERM). */
void tasks_kill_all(struct executor *ex, enum kill_cause cause, int64_t grace_ns);
void tasks_reap(struct executor *ex);
/* The health check failed consecutive_failures times: kill t as a KILL
 * would (TaskInfo.kill_policy's grace, else the default), ending TASK_KILLED
 * with healthy=false. */
void tasks_kill_unhealthy(struct task *t);
/* CommandInfo.user of cmd, when spex runs as root: fill *ra and set HOME,
 * USER and LOGNAME in plan. -1 with *err for an unknown user, or a user
 * other than our own when we are not root. */
int tasks_run_as(const Mesos__V1__CommandInfo *cmd, struct spawn_plan *plan, struct run_as *ra,
                 struct spx_error *err);
struct task *tasks_find(struct executor *ex, const char *task_id);
size_t tasks_live(const struct executor *ex);
void tasks_free_all(struct executor *ex);

/* checks.c: TaskInfo.check and TaskInfo.health_check of a task */
/* t reached TASK_RUNNING: schedule its first attempts (delay_seconds). */
void checks_start(struct task *t);
/* A kill began or the tree is gone: no more attempts or check updates;
 * an attempt under way is abandoned (its process group SIGKILLed). The last
 * check status stays for the updates still to come. NULL-safe, idempotent. */
void checks_pause(struct task *t);
/* Release t's checks (at the executor's end). */
void checks_free(struct task *t);
/* pid was reaped: 1 if it was a command check's process (then handled). */
int checks_reaped(struct executor *ex, pid_t pid, int wait_status);
/* The CheckStatusInfo every status of t carries (the last result, empty
 * before the first), built in *buf; NULL when t has no check. */
const Mesos__V1__CheckStatusInfo *checks_status(const struct task *t, struct check_status_buf *buf);
/* 1 with *healthy when t's health is known (a health update went out). */
int checks_healthy(const struct task *t, bool *healthy);

/* disk.c: the sandbox's disk usage while tasks run */
void disk_init(struct executor *ex);
void disk_free(struct executor *ex);
/* A task reached RUNNING: measure every SPEX_DISK_INTERVAL from now on. */
void disk_task_running(struct executor *ex);
/* Pre-flight: -1 with *err when the sandbox filesystem is too full. */
int disk_preflight_check(struct executor *ex, struct spx_error *err);
/* The task's tree is gone and act is its terminal update: clean the sandbox
 * first when that is wanted (the update then follows, with the reclaimed
 * bytes); returns 1 if act was taken over, 0 if the caller sends it now. */
int disk_task_ended(struct executor *ex, struct task *t, const struct task_action *act);
/* Run when a held terminal update may go (tasks.c). */
void tasks_send_held(struct task *t);

/* main.c */
/* Exit once nothing is left to do: no live task and every update ACKed (or
 * the failsafe fired, or we are giving up). */
void executor_maybe_exit(struct executor *ex);
void executor_shutdown(struct executor *ex, const char *why);

#endif /* EXECUTOR_EXECUTOR_H */
