/*
 * spex-executor: a native Mesos v1 HTTP executor for Apache Spark.
 *
 * main() reads as the list of steps: configuration, the event loop, signals,
 * the agent session; then the loop runs until the executor's work is done.
 */
#include "executor.h"
#include "duration.h"
#include "log.h"
#include "sandbox.h"
#include "settings_layer.h"
#include "settings_print.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef SPEX_VERSION
#define SPEX_VERSION "0.0.0"
#endif

/* Keep this much of MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD to report
 * TASK_KILLED before the agent destroys the container (the command executor
 * keeps 2 s: one reap interval and one second). */
#define SHUTDOWN_MARGIN_NS (2 * NSEC_PER_SEC)

static const char usage[] =
    "usage: spex-executor [--version] [--help] [--print-config [--json]]\n"
    "\n"
    "A Mesos v1 HTTP executor for Apache Spark. The Mesos agent starts it with\n"
    "MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_AGENT_ENDPOINT (or\n"
    "MESOS_SLAVE_PID) and MESOS_SANDBOX (or MESOS_DIRECTORY) in its environment.\n"
    "Flags the agent passes to its command executor (--launcher_dir=... etc.)\n"
    "are accepted and ignored.\n"
    "\n"
    "Settings come from SPEX_* environment variables, else from the JSON file\n"
    "SPEX_CONFIG names, else from " SETTINGS_DEFAULT_PATH " if it exists;\n"
    "see docs/configuration.md.\n"
    "  --print-config   print every setting's effective value and its source\n"
    "                   (needs no agent); with --json as a JSON object\n";

static const char *
env_get(const char *name)
{
	return getenv(name);
}

static void
loop_exit(struct executor *ex, int code)
{
	ex->exit_code = code;
	event_base_loopbreak(ex->base);
}

static void
ack_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct executor *ex = arg;
	(void)fd;
	(void)what;
	if (tasks_live(ex) > 0 || ex->uq.count == 0)
		return; /* a task was launched meanwhile, or the ACKs came */
	log_error("exit", "reason=\"terminal updates not acknowledged in time\" pending=%zu",
	          ex->uq.count);
	loop_exit(ex, 1);
}

void
executor_maybe_exit(struct executor *ex)
{
	if (!ex->launched_any && !ex->shutting_down)
		return;
	if (tasks_live(ex) > 0) {
		/* Work again: the failsafe for the last ACKs no longer applies. */
		if (ex->ack_timer)
			evtimer_del(ex->ack_timer);
		return;
	}
	if (ex->giving_up) {
		log_info("exit", "code=1 pending_updates=%zu", ex->uq.count);
		loop_exit(ex, 1);
		return;
	}
	if (ex->uq.count == 0) {
		/* A broken configuration failed every task: the agent's log says
		 * so too, by the exit code. */
		int code = ex->config_error[0] ? 1 : 0;
		log_info("exit", "code=%d reason=\"all tasks terminal and acknowledged\"", code);
		loop_exit(ex, code);
		return;
	}
	/* Wait for the last ACKs, but not forever (the CE waits 60 s). */
	if (!ex->ack_timer)
		ex->ack_timer = evtimer_new(ex->base, ack_timer_cb, ex);
	if (!evtimer_pending(ex->ack_timer, NULL)) {
		struct timeval tv = {.tv_sec = ex->cfg->ack_timeout_ns / NSEC_PER_SEC,
		                     .tv_usec = (ex->cfg->ack_timeout_ns % NSEC_PER_SEC) / 1000};
		evtimer_add(ex->ack_timer, &tv);
	}
}

static void
shutdown_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct executor *ex = arg;
	(void)fd;
	(void)what;
	log_error("exit", "reason=\"shutdown grace period over\" live_tasks=%zu", tasks_live(ex));
	/* Last resort: every task-init group gets SIGKILL before we go. */
	for (struct task *t = ex->tasks; t; t = t->next) {
		if (!t->running)
			continue;
		if (t->ti.ctl_fd >= 0)
			taskinit_command(&t->ti, 'K');
		if (t->cmd_pid > 0)
			kill(-t->cmd_pid, SIGKILL);
	}
	loop_exit(ex, ex->giving_up ? 1 : 0);
}

void
executor_shutdown(struct executor *ex, const char *why)
{
	int64_t total = ex->cfg->shutdown_grace_ns;
	int64_t grace = total - SHUTDOWN_MARGIN_NS;
	char d[32];

	if (grace < total / 2)
		grace = total / 2;
	if (ex->giving_up)
		grace = 0;
	if (!ex->shutting_down) {
		ex->shutting_down = true;
		log_info("shutdown", "reason=%s kill_grace=%s live_tasks=%zu", LOGQ(why),
		         duration_format(grace, d, sizeof(d)), tasks_live(ex));
		struct timeval tv = {.tv_sec = total / NSEC_PER_SEC,
		                     .tv_usec = (total % NSEC_PER_SEC) / 1000};
		ex->shutdown_timer = evtimer_new(ex->base, shutdown_timer_cb, ex);
		evtimer_add(ex->shutdown_timer, &tv);
	}
	tasks_kill_all(ex, ex->giving_up ? KC_EXECUTOR : KC_SHUTDOWN, grace);
	executor_maybe_exit(ex);
}

static void
sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	tasks_reap(arg);
}

static void
sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct executor *ex = arg;
	log_info("signal", "signal=%s action=shutdown", sig == SIGINT ? "SIGINT" : "SIGTERM");
	executor_shutdown(ex, "executor received a termination signal");
}

static int
setup_signals(struct executor *ex)
{
	signal(SIGPIPE, SIG_IGN);
	ex->ev_sigchld = evsignal_new(ex->base, SIGCHLD, sigchld_cb, ex);
	ex->ev_sigterm = evsignal_new(ex->base, SIGTERM, sigterm_cb, ex);
	ex->ev_sigint = evsignal_new(ex->base, SIGINT, sigterm_cb, ex);
	if (!ex->ev_sigchld || !ex->ev_sigterm || !ex->ev_sigint ||
	    evsignal_add(ex->ev_sigchld, NULL) < 0 || evsignal_add(ex->ev_sigterm, NULL) < 0 ||
	    evsignal_add(ex->ev_sigint, NULL) < 0)
		return -1;
	/* Orphaned descendants come to us, not to init, so none is left unreaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return 0;
}

static void
free_event(struct event **ev)
{
	if (*ev) {
		event_free(*ev);
		*ev = NULL;
	}
}

static void
executor_free(struct executor *ex)
{
	disk_free(ex); /* first: finishing jobs still look at the tasks */
	state_free(ex);
	tasks_free_all(ex);
	cgroup_manager_free(ex->cgm);
	agent_free(ex->agent);
	uq_clear(&ex->uq);
	struct event **evs[] = {&ex->ev_sigchld,      &ex->ev_sigterm,     &ex->ev_sigint,
	                        &ex->reconnect_timer, &ex->recovery_timer, &ex->pump_timer,
	                        &ex->ack_timer,       &ex->shutdown_timer, &ex->heartbeat_timer};
	for (size_t i = 0; i < ARRAY_SIZE(evs); i++)
		free_event(evs[i]);
	free(ex->agent_id);
	if (ex->base)
		event_base_free(ex->base);
}

/* Find our cgroup and decide the mode; failures are remembered, and each
 * task then fails (required) or runs without limits (auto). */
static void
setup_cgroups(struct executor *ex)
{
	struct spx_error err = {0};
	static const char *const modes[] = {"auto", "required", "off"};

	if (ex->cgcfg.mode == CGM_OFF) {
		log_info("cgroups", "mode=off");
		return;
	}
	ex->cgm = cgroup_manager_new(&ex->cgcfg, &err);
	if (ex->cgm) {
		log_info("cgroups", "mode=%s backend=%s", modes[ex->cgcfg.mode],
		         cgroup_manager_describe(ex->cgm));
		return;
	}
	snprintf(ex->cg_error, sizeof(ex->cg_error), "%s", spx_error_msg(&err));
	log_warn("cgroups", "mode=%s available=0 error=%s", modes[ex->cgcfg.mode],
	         LOGQ(ex->cg_error));
	spx_error_clear(&err);
}

/*
 * Under the agent's default logger the executor's stderr is the sandbox's
 * `stderr` file, which the JVM's captured (capped) output now owns: the
 * capper rewrites its tail, so no one else may append to it. The executor's
 * own log then continues in <sandbox>/spex-executor.log, said in one line.
 */
static void
move_own_log(struct executor *ex)
{
	if (ex->disk.log_tail == 0 || !sandbox_fd_is(ex->cfg->sandbox, STDERR_FILENO, "stderr"))
		return;
	_cleanup_free_ char *path = xasprintf("%s/spex-executor.log", ex->cfg->sandbox);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		log_warn("log", "error=\"open %s: %s\" action=keep_stderr", LOGQ(path),
		         strerror(errno));
		return;
	}
	log_info("log", "moved_to=%s reason=\"stderr holds the task's capped output\"", LOGQ(path));
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static void
log_unknown_flags(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char name[64];
		size_t n = strcspn(argv[i], "=");
		if (n < sizeof(name)) {
			memcpy(name, argv[i], n);
			name[n] = '\0';
			if (config_is_agent_flag(name))
				continue;
		}
		log_warn("flag_ignored", "flag=%s", LOGQ(argv[i]));
	}
}

/* The agent's variables only: every SPEX_* setting reads as unset (its
 * default). What the executor runs with when its settings are broken. */
static const char *
env_agent_only(const char *name)
{
	if (strncmp(name, "SPEX_", 5) == 0)
		return NULL;
	return getenv(name);
}

/* tasks.c fails each task with "spex configuration: <config_error>" as its
 * TaskStatus.message, which task_sm cuts at sizeof(message) - 1 bytes with
 * snprintf, inside a character if need be: keep no more than fits whole. */
#define CONFIG_ERROR_TASK_PREFIX "spex configuration: "
#define CONFIG_ERROR_KEEP                                                                          \
	(sizeof(((struct task_action *)0)->message) - (sizeof(CONFIG_ERROR_TASK_PREFIX) - 1))

/* Keep the first settings error in ex (the tasks' failure message, and
 * state.json's config_error) and print it; err is cleared. What is kept is
 * one line of valid UTF-8 whatever a value quoted in it held, cut at a
 * character boundary to fit both ex->config_error and, after the tasks'
 * prefix, a TaskStatus message. */
static void
config_error_keep(struct executor *ex, struct spx_error *err)
{
	size_t keep = sizeof(ex->config_error) < CONFIG_ERROR_KEEP ? sizeof(ex->config_error)
	                                                           : CONFIG_ERROR_KEEP;

	settings_one_line(err);
	if (!ex->config_error[0])
		settings_line_copy(ex->config_error, keep, spx_error_msg(err));
	fprintf(stderr, "spex-executor: %s\n", spx_error_msg(err));
	spx_error_clear(err);
}

/*
 * Read every setting into *cfg and ex: environment over the file. A bad
 * SPEX_* value (environment or file) does not stop the executor: it keeps
 * the error in ex->config_error, runs with the defaults, subscribes, and
 * fails each task it is given with that message, so the Spark user reads
 * why in the driver (an executor that exits before subscribing is only
 * "executor terminated" there). Returns -1 with *err only when the agent's
 * own variables are missing or malformed: then only the log can say it.
 */
static int
load_config(struct executor *ex, struct config *cfg, struct spx_error *err)
{
	config_getenv_fn get = settings_layer_get;
	enum log_level lvl;

	if (settings_setup(env_get, SETTINGS_DEFAULT_PATH, err) < 0) {
		config_error_keep(ex, err);
		get = env_agent_only;
	}
	if (config_from_env(cfg, get, err) < 0) {
		struct spx_error again = {0};
		if (get == env_agent_only || config_from_env(cfg, env_agent_only, &again) < 0) {
			spx_error_clear(&again);
			return -1; /* *err names the agent's variable */
		}
		/* The agent's variables are fine: a SPEX_* value was not. */
		config_error_keep(ex, err);
		get = env_agent_only;
	}
	const char *level = get("SPEX_LOG_LEVEL");
	if (level && log_level_parse(level, &lvl) == 0)
		log_set_level(lvl);
	if (cgroup_config_from_env(&ex->cgcfg, get, err) < 0) {
		config_error_keep(ex, err);
		if (cgroup_config_from_env(&ex->cgcfg, env_agent_only, err) < 0)
			return -1;
	}
	if (disk_settings_from_env(&ex->disk, get, err) < 0) {
		config_error_keep(ex, err);
		if (disk_settings_from_env(&ex->disk, env_agent_only, err) < 0)
			return -1;
	}
	if (ex->config_error[0]) {
		/* Nothing will run: set nothing up for it. */
		ex->cgcfg.mode = CGM_OFF;
		ex->disk.enabled = false;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct executor ex = {0};
	struct config cfg;
	struct spx_error err = {0};
	int unknown = 0;

	enum cli_action action = config_parse_argv(argc, argv, &unknown);
	switch (action) {
	case CLI_VERSION:
		printf("spex-executor %s\n", SPEX_VERSION);
		return 0;
	case CLI_HELP:
		fputs(usage, stdout);
		return 0;
	case CLI_PRINT_CONFIG:
	case CLI_PRINT_CONFIG_JSON:
		return settings_print_config(env_get, SETTINGS_DEFAULT_PATH,
		                             action == CLI_PRINT_CONFIG_JSON, stdout, stderr);
	case CLI_RUN:
		break;
	}
	if (load_config(&ex, &cfg, &err) < 0) {
		fprintf(stderr, "spex-executor: %s\n", spx_error_msg(&err));
		spx_error_clear(&err);
		return 1;
	}
	/* The token is ours alone: children never see it (spawn_plan drops it too). */
	unsetenv("MESOS_EXECUTOR_AUTHENTICATION_TOKEN");
	if (unknown)
		log_unknown_flags(argc, argv);
	if (sandbox_check(cfg.sandbox, &err) < 0) {
		fprintf(stderr, "spex-executor: %s\n", spx_error_msg(&err));
		spx_error_clear(&err);
		config_free(&cfg);
		return 1;
	}
	log_info("start",
	         "version=%s pid=%d framework=%s executor=%s sandbox=%s sandbox_from=%s "
	         "checkpoint=%d",
	         SPEX_VERSION, (int)getpid(), LOGQ(cfg.framework_id), LOGQ(cfg.executor_id),
	         LOGQ(cfg.sandbox), cfg.sandbox_from, cfg.checkpoint);
	log_info("config", "file=%s file_settings=%zu", LOGQ(settings_layer_file()),
	         settings_layer_file_count());
	if (ex.config_error[0])
		log_error("config", "error=%s action=\"every task fails with it\"",
		          LOGQ(ex.config_error));

	ex.cfg = &cfg;
	uq_init(&ex.uq);
	setup_cgroups(&ex);
	ex.base = event_base_new();
	move_own_log(&ex);
	if (ex.base)
		disk_init(&ex);
	if (!ex.base || setup_signals(&ex) < 0) {
		fprintf(stderr, "spex-executor: cannot set up the event loop\n");
		executor_free(&ex);
		config_free(&cfg);
		return 1;
	}
	state_init(&ex); /* the first state.json, before SUBSCRIBE */
	session_start(&ex);
	event_base_dispatch(ex.base);
	/* The worker first: a running cleanup or scan still removes and reads
	 * in the sandbox (worker_free waits for it; its done callback may still
	 * add an update to the document). "exited" goes to disk only once the
	 * executor no longer touches the sandbox: a reader may then remove it.
	 * disk_free() (executor_free) finds no worker; the report it frees is
	 * still there for the last document. */
	worker_free(ex.worker);
	ex.worker = NULL;
	state_final(&ex); /* "exited", with the exit code */

	int code = ex.exit_code;
	executor_free(&ex);
	config_free(&cfg);
	return code;
}
