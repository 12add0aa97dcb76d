/*
 * .spex/state.json and .spex/disk-history.jsonl (docs/state.md): the
 * document is built from struct executor with cJSON and replaced atomically
 * (core/statefile.c); its pieces come from core/statedoc.c.
 */
#include "state.h"
#include "classify.h"
#include "executor.h"
#include "log.h"
#include "mesos_msg.h"
#include "proctree.h"
#include "statedoc.h"
#include "statefile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SPEX_VERSION
#define SPEX_VERSION "0.0.0"
#endif

#define STATE_DIR         ".spex"
#define STATE_NAME        "state.json"
#define HISTORY_NAME      "disk-history.jsonl"
#define HISTORY_MAX_LINES 4096
#define HISTORY_KEEP      3072
#define WRITE_GAP_NS      (1 * NSEC_PER_SEC)  /* at most one write per second */
#define REFRESH_SECS      10                  /* RSS, cpu time, cgroup usage */
#define SAMPLE_MAX_AGE_NS (60 * NSEC_PER_SEC) /* a history sample at least this often */

struct state_writer {
	char *dir;         /* <sandbox>/.spex, for messages */
	int dirfd;         /* .spex/, opened without following a symlink; -1: not open */
	bool refused;      /* .spex is a symlink or no directory: nothing is written */
	bool refused_said; /* ... and that was logged */
	uint64_t seq;
	int64_t started_ms;
	bool identity; /* start ticks and boot id known: state.json may be written */
	unsigned long long start_ticks;
	char boot_id[64];
	bool have_pid_ns; /* the pid namespace's inode could be read */
	uint64_t pid_ns;
	long clk_tck, page_size;
	int64_t last_write_ns; /* monotonic; 0 = never */
	struct event *write_timer, *refresh_timer;
	uint64_t write_errors;
	struct statefile_health health; /* which failures were logged, per file */
	enum session_state seen;        /* ex->state at the last look */
	uint64_t subscribes;            /* SUBSCRIBED events */
	int64_t subscribed_at_ms;       /* the last one */
	int64_t disconnected_ms;        /* start of the current disconnection, 0 if connected */
	int64_t disk_at_ms;             /* when the last report's measurement started, 0 = none */
	struct linelog hist;            /* disk-history.jsonl */
	bool sampled;                   /* a history sample was appended */
	uint64_t sample_bytes;          /* its total, without .spex/ */
	int64_t sample_ns;              /* monotonic */
	bool exited;
};

/* What the document shows of a task beyond struct task. */
struct state_task {
	struct task_history hist;
	int64_t launched_ms, ended_ms;
	char *cg_path; /* kept after the cgroup is removed */
	struct cg_usage usage;
	bool have_oom_kills;
	uint64_t oom_kills;
	bool have_exit;  /* the terminal update was decided */
	bool ran;        /* the command exec'd and its wait status is known */
	int wait_status; /* the command's, when ran */
	int exit_state;  /* of the terminal update */
	int exit_reason; /* -1: none */
	char *exit_msg;  /* NULL: none */
	const char *oom; /* "cgroup", "jvm" or NULL */
};

/* ---- small readers -------------------------------------------------------- */

/* Read a small file (/proc) into buf, NUL-terminated. 0 or -1/errno. */
static int
read_small(const char *path, char *buf, size_t n)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	do
		r = read(fd, buf, n - 1);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return 0;
}

/* Our own cpu times and start ticks from /proc/self/stat. */
static bool
read_self_times(struct proc_times *ret)
{
	char buf[1024];
	return read_small("/proc/self/stat", buf, sizeof(buf)) == 0 &&
	       proc_stat_times(buf, ret) == 0;
}

/* What tells this executor from a later process with the same pid: its
 * start ticks and the boot id. False when /proc cannot tell. */
static bool
read_identity(struct state_writer *sw)
{
	struct proc_times pt;
	char buf[64];

	if (!read_self_times(&pt) ||
	    read_small("/proc/sys/kernel/random/boot_id", buf, sizeof(buf)) < 0)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	if (!buf[0])
		return false;
	sw->start_ticks = pt.start_ticks;
	snprintf(sw->boot_id, sizeof(sw->boot_id), "%s", buf);
	return true;
}

/* The pid namespace we run in (the inode of /proc/self/ns/pid): our pid
 * means something only to a reader in the same one (under the Mesos
 * namespaces/pid isolator it is not the host's). */
static void
read_pid_ns(struct state_writer *sw)
{
	struct stat st;

	sw->have_pid_ns = stat("/proc/self/ns/pid", &st) == 0;
	sw->pid_ns = sw->have_pid_ns ? (uint64_t)st.st_ino : 0;
}

/* ---- the document ------------------------------------------------------------ */

/* t's record, created (launched now) on first use. */
static struct state_task *
rec_of(struct task *t)
{
	if (!t->strec) {
		t->strec = xcalloc(1, sizeof(*t->strec));
		t->strec->launched_ms = statedoc_now_ms();
		t->strec->exit_reason = -1;
	}
	return t->strec;
}

/* Copy what the live cgroup says: its path, usage and OOM kills. */
static void
snapshot_cgroup(struct task *t, const struct cg_usage *u)
{
	struct state_task *r = rec_of(t);
	uint64_t kills;

	if (!t->cg)
		return;
	if (!r->cg_path)
		r->cg_path = xstrdup(cgroup_task_path(t->cg));
	if (u)
		r->usage = *u;
	else if (cgroup_task_usage(t->cg, &r->usage) < 0)
		memset(&r->usage, 0, sizeof(r->usage));
	r->have_oom_kills = cgroup_task_oom_kills(t->cg, &kills) == 0;
	r->oom_kills = r->have_oom_kills ? kills : 0;
}

/* tasks[].cgroup: path, limits (null: none), usage (null: unknown). */
static cJSON *
cgroup_json(const struct task *t, const struct state_task *r)
{
	const struct cg_limits *l = &t->limits;
	cJSON *cg = cJSON_CreateObject(), *lim, *use;

	cJSON_AddStringToObject(cg, "path", r->cg_path);
	lim = cJSON_AddObjectToObject(cg, "limits");
	if (l->has_cpus)
		cJSON_AddNumberToObject(lim, "cpus", l->cpus);
	else
		cJSON_AddNullToObject(lim, "cpus");
	if (l->cpu_hard)
		cJSON_AddNumberToObject(lim, "cpu_quota_cpus", l->cpu_limit);
	else
		cJSON_AddNullToObject(lim, "cpu_quota_cpus");
	if (l->has_mem) {
		json_add_u64(lim, "mem_bytes", l->mem_bytes);
		if (l->mem_limit != UINT64_MAX)
			json_add_u64(lim, "mem_limit_bytes", l->mem_limit);
		else
			cJSON_AddNullToObject(lim, "mem_limit_bytes");
	} else {
		cJSON_AddNullToObject(lim, "mem_bytes");
		cJSON_AddNullToObject(lim, "mem_limit_bytes");
	}
	if (l->pids_max)
		json_add_u64(lim, "pids_max", l->pids_max);
	else
		cJSON_AddNullToObject(lim, "pids_max");
	use = cJSON_AddObjectToObject(cg, "usage");
	if (r->usage.has_mem) {
		json_add_u64(use, "mem_bytes", r->usage.mem_current);
		json_add_u64(use, "mem_peak_bytes", r->usage.mem_peak);
	} else {
		cJSON_AddNullToObject(use, "mem_bytes");
		cJSON_AddNullToObject(use, "mem_peak_bytes");
	}
	if (r->usage.has_cpu)
		json_add_u64(use, "cpu_ms", r->usage.cpu_ns / NSEC_PER_MSEC);
	else
		cJSON_AddNullToObject(use, "cpu_ms");
	if (r->have_oom_kills)
		json_add_u64(use, "oom_kills", r->oom_kills);
	else
		cJSON_AddNullToObject(use, "oom_kills");
	return cg;
}

/* tasks[].exit, once the terminal update was decided. */
static cJSON *
exit_json(const struct state_task *r)
{
	cJSON *e = cJSON_CreateObject();
	bool code = r->ran && WIFEXITED(r->wait_status);
	bool sig = r->ran && WIFSIGNALED(r->wait_status);

	if (code)
		cJSON_AddNumberToObject(e, "code", WEXITSTATUS(r->wait_status));
	else
		cJSON_AddNullToObject(e, "code");
	json_add_str_or_null(e, "signal", sig ? signal_name(WTERMSIG(r->wait_status)) : NULL);
	cJSON_AddStringToObject(e, "state", task_state_name(r->exit_state));
	json_add_str_or_null(e, "reason",
	                     r->exit_reason >= 0 ? status_reason_name(r->exit_reason) : NULL);
	json_add_str_or_null(e, "message", r->exit_msg);
	json_add_str_or_null(e, "oom", r->oom);
	return e;
}

/* One tasks[] entry; reads the live cgroup's usage first. */
static cJSON *
task_json(struct task *t)
{
	struct state_task *r = rec_of(t);
	const struct task_hist_entry *last = task_history_last(&r->hist);
	cJSON *o = cJSON_CreateObject();

	if (t->cg)
		snapshot_cgroup(t, NULL);
	cJSON_AddStringToObject(o, "id", t->id);
	json_add_str_or_null(o, "name", t->info->name);
	json_add_str_or_null(o, "state", last ? task_state_name(last->state) : NULL);
	cJSON_AddItemToObject(o, "history", task_history_json(&r->hist));
	json_add_time(o, "launched_at", r->launched_ms);
	json_add_time(o, "ended_at", r->ended_ms);
	if (t->cmd_pid > 0) {
		json_add_i64(o, "pid", t->cmd_pid);
		json_add_i64(o, "pgid", t->cmd_pid); /* the command leads its own group */
	} else {
		cJSON_AddNullToObject(o, "pid");
		cJSON_AddNullToObject(o, "pgid");
	}
	if (t->ti.pid > 0)
		json_add_i64(o, "taskinit_pid", t->ti.pid);
	else
		cJSON_AddNullToObject(o, "taskinit_pid");
	json_add_str_or_null(o, "heap", t->heap[0] ? t->heap : NULL);
	if (r->cg_path)
		cJSON_AddItemToObject(o, "cgroup", cgroup_json(t, r));
	else
		cJSON_AddNullToObject(o, "cgroup");
	if (t->disk_bytes)
		json_add_u64(o, "disk_limit_bytes", t->disk_bytes);
	else
		cJSON_AddNullToObject(o, "disk_limit_bytes");
	if (r->have_exit)
		cJSON_AddItemToObject(o, "exit", exit_json(r));
	else
		cJSON_AddNullToObject(o, "exit");
	return o;
}

/* executor.subscription. */
static cJSON *
subscription_json(const struct executor *ex, const struct state_writer *sw)
{
	static const char *const names[] = {
	    [SS_DISCONNECTED] = "disconnected",
	    [SS_SUBSCRIBING] = "subscribing",
	    [SS_SUBSCRIBED] = "subscribed",
	};
	cJSON *s = cJSON_CreateObject();

	cJSON_AddStringToObject(s, "state", names[ex->state]);
	json_add_time(s, "subscribed_at", sw->subscribed_at_ms);
	json_add_u64(s, "subscribes", sw->subscribes);
	json_add_time(s, "disconnected_since", sw->disconnected_ms);
	return s;
}

/* executor.cgroups: the mode, the backend in use or why there is none. */
static cJSON *
cgroups_json(const struct executor *ex)
{
	static const char *const modes[] = {
	    [CGM_AUTO] = "auto", [CGM_REQUIRED] = "required", [CGM_OFF] = "off"};
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "mode", modes[ex->cgcfg.mode]);
	json_add_str_or_null(c, "backend", ex->cgm ? cgroup_manager_describe(ex->cgm) : NULL);
	json_add_str_or_null(c, "error", !ex->cgm && ex->cg_error[0] ? ex->cg_error : NULL);
	return c;
}

/* The executor's own RSS and cpu time; nulls when /proc cannot tell. */
static void
add_self_usage(cJSON *o, const struct state_writer *sw)
{
	struct proc_times pt;
	unsigned long long pages;
	char buf[256];

	if (read_small("/proc/self/statm", buf, sizeof(buf)) == 0 &&
	    proc_statm_resident(buf, &pages) == 0)
		json_add_u64(o, "rss_bytes", (uint64_t)pages * (uint64_t)sw->page_size);
	else
		cJSON_AddNullToObject(o, "rss_bytes");
	if (read_self_times(&pt)) {
		json_add_u64(o, "cpu_user_ms", pt.utime * 1000 / (unsigned long long)sw->clk_tck);
		json_add_u64(o, "cpu_system_ms", pt.stime * 1000 / (unsigned long long)sw->clk_tck);
	} else {
		cJSON_AddNullToObject(o, "cpu_user_ms");
		cJSON_AddNullToObject(o, "cpu_system_ms");
	}
}

/* The executor object of the document. */
static cJSON *
executor_json(const struct executor *ex, const struct state_writer *sw)
{
	const struct config *c = ex->cfg;
	cJSON *o = cJSON_CreateObject();
	char ep[300];

	json_add_i64(o, "pid", getpid());
	json_add_u64(o, "start_ticks", sw->start_ticks);
	cJSON_AddStringToObject(o, "boot_id", sw->boot_id);
	if (sw->have_pid_ns)
		json_add_u64(o, "pid_ns", sw->pid_ns);
	else
		cJSON_AddNullToObject(o, "pid_ns");
	cJSON_AddStringToObject(o, "version", SPEX_VERSION);
	json_add_time(o, "started_at", sw->started_ms);
	cJSON_AddStringToObject(o, "state", sw->exited ? "exited" : "running");
	if (sw->exited)
		cJSON_AddNumberToObject(o, "exit_code", ex->exit_code);
	else
		cJSON_AddNullToObject(o, "exit_code");
	cJSON_AddStringToObject(o, "framework_id", c->framework_id);
	cJSON_AddStringToObject(o, "executor_id", c->executor_id);
	json_add_str_or_null(o, "agent_id", ex->agent_id);
	snprintf(ep, sizeof(ep), strchr(c->agent_host, ':') ? "[%s]:%d" : "%s:%d", c->agent_host,
	         c->agent_port);
	cJSON_AddStringToObject(o, "agent_endpoint", ep);
	cJSON_AddStringToObject(o, "agent_path", c->agent_path);
	cJSON_AddStringToObject(o, "sandbox", c->sandbox);
	cJSON_AddBoolToObject(o, "checkpoint", c->checkpoint);
	cJSON_AddStringToObject(o, "content_type", content_type_name(c->content_type));
	cJSON_AddItemToObject(o, "subscription", subscription_json(ex, sw));
	json_add_u64(o, "unacked_updates", ex->uq.count);
	cJSON_AddItemToObject(o, "cgroups", cgroups_json(ex));
	add_self_usage(o, sw);
	json_add_u64(o, "state_write_errors", sw->write_errors);
	json_add_str_or_null(o, "config_error", ex->config_error[0] ? ex->config_error : NULL);
	return o;
}

/* The whole document, as one line of text (malloc'd). */
static char *
document(struct executor *ex)
{
	struct state_writer *sw = ex->statew;
	cJSON *root = cJSON_CreateObject(), *tasks;
	size_t n = 0, i = 0;

	cJSON_AddStringToObject(root, "schema", STATEDOC_SCHEMA);
	json_add_time(root, "written_at", statedoc_now_ms());
	json_add_u64(root, "seq", sw->seq);
	cJSON_AddItemToObject(root, "executor", executor_json(ex, sw));
	/* In launch order: ex->tasks is newest first. */
	for (struct task *t = ex->tasks; t; t = t->next)
		n++;
	_cleanup_free_ struct task **order = xcalloc(n ? n : 1, sizeof(*order));
	for (struct task *t = ex->tasks; t; t = t->next)
		order[n - ++i] = t;
	tasks = cJSON_AddArrayToObject(root, "tasks");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(tasks, task_json(order[i]));
	/* The report is embedded as written (its integers stay exact). */
	if (sw->disk_at_ms && ex->disk_json)
		cJSON_AddRawToObject(root, "disk", ex->disk_json);
	else
		cJSON_AddNullToObject(root, "disk");
	json_add_time(root, "disk_at", sw->disk_at_ms);

	char *text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text) {
		static const char msg[] = "spex: out of memory\n";
		(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
		abort();
	}
	char *out = xasprintf("%s\n", text);
	cJSON_free(text);
	return out;
}

/* ---- writing --------------------------------------------------------------- */

static const char *const file_names[STATEFILE_NFILES] = {
    [STATEFILE_STATE] = STATE_NAME,
    [STATEFILE_HISTORY] = HISTORY_NAME,
};

/* A write of file failed: count it; log it once per errno until that file
 * is written again (the other file's successes do not count). */
static void
note_failure(struct state_writer *sw, enum statefile_id file, const struct spx_error *err)
{
	sw->write_errors++;
	if (statefile_health_note(&sw->health, file, err->errnum ? err->errnum : EIO) ==
	    STATEFILE_SAY_ERROR)
		log_warn("state_write", "error=%s file=%s errors=%" PRIu64 " action=keep_last_good",
		         LOGQ(spx_error_msg(err)), file_names[file], sw->write_errors);
}

/* A write of file succeeded: after failures of it, say so once. */
static void
note_success(struct state_writer *sw, enum statefile_id file)
{
	if (statefile_health_note(&sw->health, file, 0) == STATEFILE_SAY_RECOVERED)
		log_info("state_write", "recovered=1 file=%s errors=%" PRIu64, file_names[file],
		         sw->write_errors);
}

/*
 * The fd of .spex/: created (0755) in the sandbox and opened with
 * O_DIRECTORY | O_NOFOLLOW once, then kept; opened anew when it was
 * removed meanwhile. Every file operation is relative to it, so nothing is
 * ever written through a symlink a task put at .spex (the executor may
 * run as root in a sandbox the task can write). Returns the fd, or -1:
 * with *err set for a failure to count, or with sw->refused (and *err
 * untouched) when .spex is a symlink or not a directory: then nothing is
 * written, which is logged once.
 */
static int
state_dirfd(struct executor *ex, struct spx_error *err)
{
	struct state_writer *sw = ex->statew;
	struct stat st;

	if (sw->dirfd >= 0) {
		if (fstat(sw->dirfd, &st) == 0 && st.st_nlink > 0)
			return sw->dirfd;
		close(sw->dirfd); /* removed: make it anew */
		sw->dirfd = -1;
	}
	sw->refused = false;
	_cleanup_close_ int sbfd = open(ex->cfg->sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sbfd < 0)
		return spx_error_set(err, errno, "open %s", ex->cfg->sandbox);
	if (mkdirat(sbfd, STATE_DIR, 0755) < 0 && errno != EEXIST)
		return spx_error_set(err, errno, "mkdir %s", sw->dir);
	int fd = openat(sbfd, STATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		sw->refused = true;
		if (!sw->refused_said)
			log_warn("state", "error=%s action=no_state_file",
			         LOGQ(STATE_DIR " is a symlink or not a directory"));
		sw->refused_said = true;
		return -1;
	}
	if (fd < 0)
		return spx_error_set(err, errno, "open %s", sw->dir);
	sw->dirfd = fd;
	return fd;
}

/* Opening .spex/ (dirfd < 0) or writing file in it failed: count it
 * (unless .spex was refused: nothing was tried) and, when the directory is
 * gone, forget its fd so that the next write makes it anew. */
static void
write_failed(struct state_writer *sw, int dirfd, enum statefile_id file, struct spx_error *err)
{
	if (dirfd < 0 && sw->refused)
		return;
	if (dirfd >= 0) {
		spx_error_wrap(err, "%s", sw->dir); /* the file's error names only it */
		if (err->errnum == ENOENT) {
			close(sw->dirfd);
			sw->dirfd = -1;
		}
	}
	note_failure(sw, file, err);
}

/* Build the document and replace state.json; durable (fsync'ed) only when
 * asked (the last one). Failures are noted, never returned: nothing else
 * depends on the file. */
static void
write_now(struct executor *ex, bool durable)
{
	struct state_writer *sw = ex->statew;
	struct spx_error err = {0};

	if (!sw->identity)
		return; /* without them no reader could judge liveness: no file */
	sw->seq++;
	sw->last_write_ns = now_mono_ns();
	_cleanup_free_ char *text = document(ex);
	int dirfd = state_dirfd(ex, &err);
	if (dirfd < 0 || statefile_write(dirfd, STATE_NAME, text, strlen(text), durable, &err) < 0)
		write_failed(sw, dirfd, STATEFILE_STATE, &err);
	else
		note_success(sw, STATEFILE_STATE);
	spx_error_clear(&err);
}

/* The coalescing timer: write what changed. */
static void
write_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	write_now(arg, false);
}

/* Every REFRESH_SECS: RSS, cpu time and cgroup usage move by themselves. */
static void
refresh_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	state_mark_dirty(arg);
}

/* Note a subscription change (ex->state) with its time. */
static void
note_session(struct executor *ex, struct state_writer *sw)
{
	if (ex->state == sw->seen)
		return;
	if (ex->state == SS_SUBSCRIBED) {
		sw->subscribes++;
		sw->subscribed_at_ms = statedoc_now_ms();
		sw->disconnected_ms = 0;
	} else if (sw->seen == SS_SUBSCRIBED) {
		sw->disconnected_ms = statedoc_now_ms();
	}
	sw->seen = ex->state;
}

void
state_mark_dirty(struct executor *ex)
{
	struct state_writer *sw = ex->statew;

	if (!sw || sw->exited)
		return;
	note_session(ex, sw);
	if (evtimer_pending(sw->write_timer, NULL))
		return; /* that write will see this change too */
	int64_t wait = sw->last_write_ns + WRITE_GAP_NS - now_mono_ns();
	if (wait < 0)
		wait = 0;
	struct timeval tv = {.tv_sec = wait / NSEC_PER_SEC,
	                     .tv_usec = (wait % NSEC_PER_SEC) / 1000};
	evtimer_add(sw->write_timer, &tv);
}

void
state_init(struct executor *ex)
{
	struct state_writer *sw = xcalloc(1, sizeof(*sw));
	struct timeval tv = {.tv_sec = REFRESH_SECS};

	ex->statew = sw;
	sw->dir = xasprintf("%s/%s", ex->cfg->sandbox, STATE_DIR);
	sw->dirfd = -1;
	sw->started_ms = statedoc_now_ms();
	sw->disconnected_ms = sw->started_ms; /* not subscribed yet */
	sw->seen = ex->state;
	sw->clk_tck = sysconf(_SC_CLK_TCK);
	sw->page_size = sysconf(_SC_PAGESIZE);
	if (sw->clk_tck <= 0)
		sw->clk_tck = 100;
	if (sw->page_size <= 0)
		sw->page_size = 4096;
	linelog_init(&sw->hist, HISTORY_NAME, HISTORY_MAX_LINES, HISTORY_KEEP);
	sw->write_timer = evtimer_new(ex->base, write_timer_cb, ex);
	sw->refresh_timer = event_new(ex->base, -1, EV_PERSIST, refresh_timer_cb, ex);
	evtimer_add(sw->refresh_timer, &tv);
	sw->identity = read_identity(sw);
	read_pid_ns(sw);
	if (!sw->identity)
		log_warn("state", "error=\"cannot read /proc/self/stat or the boot id\" "
		                  "action=no_state_file");
	write_now(ex, false);
	log_info("state", "path=%s/%s written=%d", LOGQ(sw->dir), STATE_NAME,
	         sw->identity && !sw->refused && !sw->health.file[STATEFILE_STATE].failing);
}

void
state_final(struct executor *ex)
{
	struct state_writer *sw = ex->statew;

	if (!sw || sw->exited)
		return;
	note_session(ex, sw);
	sw->exited = true;
	evtimer_del(sw->write_timer);
	evtimer_del(sw->refresh_timer);
	write_now(ex, true); /* the one write that waits for the disk */
}

void
state_free(struct executor *ex)
{
	struct state_writer *sw = ex->statew;

	if (!sw)
		return;
	if (sw->write_timer)
		event_free(sw->write_timer);
	if (sw->refresh_timer)
		event_free(sw->refresh_timer);
	linelog_free(&sw->hist);
	if (sw->dirfd >= 0)
		close(sw->dirfd);
	free(sw->dir);
	free(sw);
	ex->statew = NULL;
}

/* ---- tasks ------------------------------------------------------------------ */

/* The terminal update was decided: state, reason and message of act. */
static void
set_exit(struct state_task *r, const struct task_action *act)
{
	r->have_exit = true;
	r->exit_state = act->state;
	r->exit_reason = act->has_reason ? act->reason : -1;
	free(r->exit_msg);
	r->exit_msg = act->message[0] ? xstrdup(act->message) : NULL;
}

void
state_task_status(struct task *t, const struct task_action *act)
{
	struct state_task *r = rec_of(t);
	int64_t now = statedoc_now_ms();

	task_history_add(&r->hist, act->state, act->has_reason ? act->reason : -1, now,
	                 act->message);
	if (task_state_is_terminal(act->state)) {
		set_exit(r, act);
		if (!r->ended_ms)
			r->ended_ms = now;
	}
	state_mark_dirty(t->ex);
}

void
state_task_exited(struct task *t, int wait_status, const struct exit_info *info,
                  const struct cg_usage *u, const struct task_action *act)
{
	struct state_task *r = rec_of(t);

	r->ended_ms = statedoc_now_ms();
	r->ran = t->have_exit && t->cmd_pid > 0;
	r->wait_status = wait_status;
	r->oom = info->cgroup_oom ? "cgroup" : info->jvm_oom ? "jvm" : NULL;
	snapshot_cgroup(t, u);
	if (act->state != TASK_NO_STATE)
		set_exit(r, act);
	state_mark_dirty(t->ex);
}

void
state_task_free(struct task *t)
{
	struct state_task *r = t->strec;

	if (!r)
		return;
	task_history_clear(&r->hist);
	free(r->cg_path);
	free(r->exit_msg);
	free(r);
	t->strec = NULL;
}

/* ---- disk ------------------------------------------------------------------- */

void
state_disk_report(struct executor *ex, int64_t measured_ms)
{
	if (!ex->statew)
		return;
	ex->statew->disk_at_ms = measured_ms > 0 ? measured_ms : statedoc_now_ms();
	state_mark_dirty(ex);
}

/* One disk-history.jsonl line for r, measured at at_ms (integers exact). */
static void
sample_line(const struct scan_result *r, int64_t at_ms, char *buf, size_t n)
{
	char at[STATEDOC_TIME_MAX];
	size_t off =
	    (size_t)snprintf(buf, n, "{\"at\":\"%s\",\"bytes\":%" PRIu64 ",\"categories\":{",
	                     rfc3339_ms(at_ms, at, sizeof(at)), r->total_bytes);
	for (int c = 0; c < CAT_COUNT && off < n; c++)
		off += (size_t)snprintf(buf + off, n - off, "%s\"%s\":%" PRIu64, c ? "," : "",
		                        disk_cat_name(c), r->bytes[c]);
	if (off < n)
		snprintf(buf + off, n - off, "}}");
}

void
state_disk_sample(struct executor *ex, const struct scan_result *r, int64_t measured_ms)
{
	struct state_writer *sw = ex->statew;
	struct spx_error err = {0};
	char line[1024];

	if (!sw || sw->exited)
		return;
	/* The executor's own files move by themselves with every write: they
	 * do not count as movement (or each sample would call for the next). */
	uint64_t own = r->bytes[CAT_SPEX] <= r->total_bytes ? r->bytes[CAT_SPEX] : 0;
	uint64_t basis = r->total_bytes - own;
	int64_t now = now_mono_ns();
	if (sw->sampled && basis == sw->sample_bytes && now - sw->sample_ns < SAMPLE_MAX_AGE_NS)
		return;
	sample_line(r, measured_ms > 0 ? measured_ms : statedoc_now_ms(), line, sizeof(line));
	int dirfd = state_dirfd(ex, &err);
	if (dirfd < 0 || linelog_append(&sw->hist, dirfd, line, &err) < 0) {
		write_failed(sw, dirfd, STATEFILE_HISTORY, &err);
		spx_error_clear(&err);
		return; /* tried again at the next measurement */
	}
	note_success(sw, STATEFILE_HISTORY);
	sw->sampled = true;
	sw->sample_bytes = basis;
	sw->sample_ns = now;
}
