/*
 * The executor's state file, read back (sandbox_state.h).
 */
#include "sandbox_state.h"
#include "clock.h"
#include "procinfo.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- typed getters: a missing or mistyped field reads as null --------------- */

static char *
get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

/* An integer, within +-9e15 (exact in a double, and far from int64_t's
 * ends): a double outside, infinite or NaN is never converted. */
static int64_t
get_int(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < -9.0e15 ||
	    v->valuedouble > 9.0e15)
		return STATE_NONE;
	return (int64_t)v->valuedouble;
}

/* A count, size, pid or time span: get_int(), a negative one is null. */
static int64_t
get_count(const cJSON *o, const char *key)
{
	int64_t v = get_int(o, key);
	return v < 0 ? STATE_NONE : v;
}

/* A non-negative finite number, else NAN. */
static double
get_double(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= 0 ? v->valuedouble
	                                                                            : NAN;
}

/* The number v as an unsigned 64-bit integer when it is one's range
 * ([0, 2^64), finite); false otherwise, nothing converted. */
static bool
num_u64(const cJSON *v, uint64_t *ret)
{
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
	    v->valuedouble >= 18446744073709551616.0)
		return false;
	*ret = (uint64_t)v->valuedouble;
	return true;
}

static int64_t
get_time(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	int64_t ms;
	if (!cJSON_IsString(v) || clock_parse_rfc3339(v->valuestring, &ms) < 0)
		return STATE_NONE;
	return ms;
}

static const cJSON *
get_obj(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsObject(v) ? v : NULL;
}

/* --- state.json --------------------------------------------------------------- */

/* tasks[].cgroup (not null) into *t. */
static void
parse_cgroup(const cJSON *cg, struct state_task *t)
{
	const cJSON *lim = get_obj(cg, "limits"), *use = get_obj(cg, "usage");

	t->has_cgroup = true;
	t->cgroup_path = get_str(cg, "path");
	t->cpus = get_double(lim, "cpus");
	t->cpu_quota_cpus = get_double(lim, "cpu_quota_cpus");
	t->mem_limit_bytes = get_count(lim, "mem_limit_bytes");
	if (t->mem_limit_bytes == STATE_NONE)
		t->mem_limit_bytes = get_count(lim, "mem_bytes");
	t->pids_max = get_count(lim, "pids_max");
	t->mem_bytes = get_count(use, "mem_bytes");
	t->mem_peak_bytes = get_count(use, "mem_peak_bytes");
	t->cpu_ms = get_count(use, "cpu_ms");
	t->oom_kills = get_count(use, "oom_kills");
}

/* One tasks[] object into *t (zeroed by the caller). */
static void
parse_task(const cJSON *o, struct state_task *t)
{
	const cJSON *cg = get_obj(o, "cgroup"), *ex = get_obj(o, "exit");
	const cJSON *hist = cJSON_GetObjectItemCaseSensitive(o, "history"), *h;

	t->id = get_str(o, "id");
	t->name = get_str(o, "name");
	t->state = get_str(o, "state");
	t->launched_ms = get_time(o, "launched_at");
	t->ended_ms = get_time(o, "ended_at");
	t->pid = get_count(o, "pid");
	t->pgid = get_count(o, "pgid");
	t->taskinit_pid = get_count(o, "taskinit_pid");
	t->disk_limit_bytes = get_count(o, "disk_limit_bytes");
	t->cpus = t->cpu_quota_cpus = NAN;
	t->mem_limit_bytes = t->pids_max = STATE_NONE;
	t->mem_bytes = t->mem_peak_bytes = t->cpu_ms = t->oom_kills = STATE_NONE;
	t->exit_code = STATE_NONE;
	if (cg)
		parse_cgroup(cg, t);
	if (ex) {
		t->has_exit = true;
		t->exit_code = get_int(ex, "code");
		t->exit_signal = get_str(ex, "signal");
		t->exit_state = get_str(ex, "state");
		t->exit_reason = get_str(ex, "reason");
		t->exit_message = get_str(ex, "message");
		t->exit_oom = get_str(ex, "oom");
		t->oom = t->exit_oom != NULL;
	}
	if (!cJSON_IsArray(hist))
		return;
	cJSON_ArrayForEach(h, hist)
	{
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(h, "reason");
		t->nhistory++;
		if (cJSON_IsString(r) &&
		    strcmp(r->valuestring, "REASON_CONTAINER_LIMITATION_MEMORY") == 0)
			t->oom = true;
	}
}

/* The executor object into *st. */
static void
parse_executor(const cJSON *e, struct sandbox_state *st)
{
	const cJSON *sub = get_obj(e, "subscription");

	st->pid = get_count(e, "pid");
	st->start_ticks = get_count(e, "start_ticks");
	st->boot_id = get_str(e, "boot_id");
	st->version = get_str(e, "version");
	st->state = get_str(e, "state");
	st->started_ms = get_time(e, "started_at");
	st->exit_code = get_int(e, "exit_code");
	st->framework_id = get_str(e, "framework_id");
	st->executor_id = get_str(e, "executor_id");
	st->agent_id = get_str(e, "agent_id");
	st->sandbox = get_str(e, "sandbox");
	st->subscription = sub ? get_str(sub, "state") : NULL;
	st->rss_bytes = get_count(e, "rss_bytes");
	st->cpu_user_ms = get_count(e, "cpu_user_ms");
	st->cpu_system_ms = get_count(e, "cpu_system_ms");
	st->config_error = get_str(e, "config_error");
	st->pid_ns = get_count(e, "pid_ns");
}

int
state_parse(const char *text, size_t len, const char *what, struct sandbox_state *ret,
            struct spx_error *err)
{
	cJSON *doc = cJSON_ParseWithLength(text, len);
	const cJSON *schema, *exec, *tasks, *t;

	memset(ret, 0, sizeof(*ret));
	if (!doc || !cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return spx_error_set(err, 0, "%s: not a JSON object", what);
	}
	schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
	if (!cJSON_IsString(schema) || strcmp(schema->valuestring, STATE_SCHEMA) != 0) {
		spx_error_set(err, 0, "%s: schema '%.64s', expected " STATE_SCHEMA, what,
		              cJSON_IsString(schema) ? schema->valuestring : "(none)");
		cJSON_Delete(doc);
		return -1;
	}
	exec = get_obj(doc, "executor");
	if (!exec) {
		cJSON_Delete(doc);
		return spx_error_set(err, 0, "%s: no executor object", what);
	}
	ret->written_ms = get_time(doc, "written_at");
	ret->seq = get_count(doc, "seq");
	parse_executor(exec, ret);
	tasks = cJSON_GetObjectItemCaseSensitive(doc, "tasks");
	if (cJSON_IsArray(tasks)) {
		ret->tasks = xcalloc((size_t)cJSON_GetArraySize(tasks) + 1, sizeof(*ret->tasks));
		cJSON_ArrayForEach(t, tasks)
		{
			if (cJSON_IsObject(t))
				parse_task(t, &ret->tasks[ret->ntasks++]);
		}
	}
	ret->disk_bytes = get_count(get_obj(doc, "disk"), "allocated_bytes");
	ret->disk_ms = get_time(doc, "disk_at");
	cJSON_Delete(doc);
	return 0;
}

void
state_clear(struct sandbox_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->ntasks; i++) {
		struct state_task *t = &st->tasks[i];
		free(t->id);
		free(t->name);
		free(t->state);
		free(t->cgroup_path);
		free(t->exit_signal);
		free(t->exit_state);
		free(t->exit_reason);
		free(t->exit_message);
		free(t->exit_oom);
	}
	free(st->tasks);
	free(st->boot_id);
	free(st->version);
	free(st->state);
	free(st->framework_id);
	free(st->executor_id);
	free(st->agent_id);
	free(st->sandbox);
	free(st->subscription);
	free(st->config_error);
	memset(st, 0, sizeof(*st));
}

/*
 * Open <sandbox>/.spex/<name> for reading without following symlinks.
 * Returns the fd, or -1 with errno (ENOENT when .spex or the file is absent;
 * EINVAL when it is not a regular file), *ret_size its size.
 */
static int
open_spex_file(int sandboxfd, const char *name, off_t *ret_size)
{
	_cleanup_close_ int dfd =
	    openat(sandboxfd, STATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (dfd < 0)
		return -1;
	_cleanup_close_ int fd =
	    openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	*ret_size = st.st_size;
	return TAKE_FD(fd);
}

/* Read len bytes at offset off of fd into a malloc'd NUL-terminated buffer;
 * *ret_len gets what was read (the file may have shrunk). NULL with errno. */
static char *
read_at(int fd, off_t off, size_t len, size_t *ret_len)
{
	_cleanup_free_ char *buf = xmalloc(len + 1);
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return NULL;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	*ret_len = got;
	return TAKE_PTR(buf);
}

int
state_load(int sandboxfd, const char *what, struct sandbox_state *ret, struct spx_error *err)
{
	off_t size;
	size_t len;

	memset(ret, 0, sizeof(*ret));
	_cleanup_close_ int fd = open_spex_file(sandboxfd, STATE_FILE, &size);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return spx_error_set(err, errno, "%s/" STATE_DIR "/" STATE_FILE, what);
	if (size > (off_t)STATE_MAX_BYTES)
		return spx_error_set(err, EFBIG, "%s/" STATE_DIR "/" STATE_FILE, what);
	_cleanup_free_ char *text = read_at(fd, 0, (size_t)size, &len);
	if (!text)
		return spx_error_set(err, errno, "%s/" STATE_DIR "/" STATE_FILE, what);
	_cleanup_free_ char *label = xasprintf("%s/" STATE_DIR "/" STATE_FILE, what);
	if (state_parse(text, len, label, ret, err) < 0)
		return -1;
	return 1;
}

/* --- liveness ----------------------------------------------------------------- */

const char *
liveness_name(enum liveness l)
{
	switch (l) {
	case LIVENESS_LIVE:
		return "live";
	case LIVENESS_DEAD:
		return "dead";
	default:
		return "unknown";
	}
}

enum liveness
liveness_decide(const struct sandbox_state *st, const struct liveness_probe *p,
                const char **ret_why)
{
	const char *why_buf;
	const char **why = ret_why ? ret_why : &why_buf;

	if (!st) {
		*why = "no state file";
		return LIVENESS_UNKNOWN;
	}
	if (st->state && strcmp(st->state, "exited") == 0) {
		*why = "exited";
		return LIVENESS_DEAD;
	}
	if (!p->boot_id) {
		*why = "boot id unreadable";
		return LIVENESS_UNKNOWN;
	}
	if (!st->boot_id || strcmp(st->boot_id, p->boot_id) != 0) {
		*why = "other boot";
		return LIVENESS_DEAD;
	}
	if (st->pid_ns != STATE_NONE && st->pid_ns != p->pid_ns) {
		*why = p->pid_ns ? "other pid namespace" : "pid namespace unreadable";
		return LIVENESS_UNKNOWN;
	}
	if (st->pid == STATE_NONE || st->pid <= 0 || p->stat_errno == ENOENT ||
	    p->stat_errno == ESRCH) {
		if (p->proc_hidden && st->pid > 0) {
			*why = "/proc hides pids";
			return LIVENESS_UNKNOWN;
		}
		*why = "pid gone";
		return LIVENESS_DEAD;
	}
	if (p->stat_errno != 0) {
		*why = "stat unreadable";
		return LIVENESS_UNKNOWN;
	}
	if (st->start_ticks == STATE_NONE || st->start_ticks != p->start_ticks) {
		*why = "pid reused";
		return LIVENESS_DEAD;
	}
	*why = "running";
	return LIVENESS_LIVE;
}

/* Is /proc mounted with hidepid (other users' pids invisible) while we are
 * not root? Then a missing pid proves nothing. */
static bool
proc_hides_pids(void)
{
	if (geteuid() == 0)
		return false;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	bool hidden = false;

	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		const char *opt = strstr(line, " /proc ") ? strstr(line, "hidepid=") : NULL;
		if (opt && strncmp(opt, "hidepid=0", 9) != 0 &&
		    strncmp(opt, "hidepid=off", 11) != 0)
			hidden = true;
	}
	fclose(f);
	return hidden;
}

enum liveness
state_liveness(const struct sandbox_state *st, const char **ret_why)
{
	struct liveness_probe p = {0};
	char boot[64] = "";
	struct proc_info pi;

	if (st) {
		FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
		if (f && fgets(boot, sizeof(boot), f)) {
			boot[strcspn(boot, "\n")] = '\0';
			p.boot_id = boot;
		}
		if (f)
			fclose(f);
		struct stat ns;
		if (stat("/proc/self/ns/pid", &ns) == 0)
			p.pid_ns = (int64_t)ns.st_ino;
		if (st->pid > 0 && st->pid <= INT32_MAX) {
			if (procinfo_read((pid_t)st->pid, &pi) == 0)
				p.start_ticks = (int64_t)pi.start_ticks;
			else
				p.stat_errno = errno ? errno : EIO;
			if (p.stat_errno == ENOENT)
				p.proc_hidden = proc_hides_pids();
		}
	}
	return liveness_decide(st, &p, ret_why);
}

/* --- disk-history.jsonl ----------------------------------------------------- */

void
history_parse(const char *text, size_t len, struct disk_sample **ret, size_t *ret_n,
              size_t *ret_skipped)
{
	struct disk_sample *out = NULL;
	size_t n = 0, cap = 0, skipped = 0;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);
		struct disk_sample s = {0};
		int ok = 0;

		if (ll == 0 || (ll == 1 && *p == '\r')) {
			p = le + 1;
			continue;
		}
		cJSON *o = cJSON_ParseWithLength(p, ll);
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "bytes");
		const cJSON *cats = get_obj(o, "categories");
		s.at_ms = get_time(o, "at");
		if (cJSON_IsObject(o) && num_u64(b, &s.bytes) && s.at_ms != STATE_NONE) {
			for (int c = 0; c < CAT_COUNT; c++) {
				int64_t v = get_int(cats, disk_cat_name(c));
				s.cats[c] = v > 0 ? (uint64_t)v : 0;
			}
			ok = 1;
		}
		cJSON_Delete(o);
		if (ok) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				out = xrealloc(out, cap * sizeof(*out));
			}
			out[n++] = s;
		} else {
			skipped++;
		}
		p = le + 1;
	}
	*ret = out;
	*ret_n = n;
	*ret_skipped = skipped;
}

int
history_load(int sandboxfd, const char *what, struct disk_sample **ret, size_t *ret_n,
             size_t *ret_skipped, struct spx_error *err)
{
	off_t size, off = 0;
	size_t len;

	*ret = NULL;
	*ret_n = *ret_skipped = 0;
	_cleanup_close_ int fd = open_spex_file(sandboxfd, HISTORY_FILE, &size);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return spx_error_set(err, errno, "%s/" STATE_DIR "/" HISTORY_FILE, what);
	if (size > (off_t)STATE_MAX_BYTES)
		off = size - (off_t)STATE_MAX_BYTES; /* the first line read is cut: skipped */
	_cleanup_free_ char *text = read_at(fd, off, (size_t)(size - off), &len);
	if (!text)
		return spx_error_set(err, errno, "%s/" STATE_DIR "/" HISTORY_FILE, what);
	history_parse(text, len, ret, ret_n, ret_skipped);
	return 1;
}
