#include "cgroup.h"
#include "settings.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ROOT "/sys/fs/cgroup"

struct task_cgroup;

/* How a cgroup comes to exist, gets its values, and goes away. */
struct cg_backend {
	const char *name;
	int (*create)(struct task_cgroup *t, const struct cg_write *w, size_t n,
	              struct spx_error *err);
	int (*remove)(struct task_cgroup *t, struct spx_error *err);
};

struct cgroup_manager {
	struct cgroup_config cfg;
	enum cg_version version;
	const struct cg_backend *backend;
	char *base[CG_NCTRL]; /* v1: <root>/<ctrl><self path>; v2: base[0] = <root><self> */
	char *rel[CG_NCTRL];  /* v1: path relative to the controller mount (libcgroup names) */
	bool v2_leaf_done;    /* v2: the executor moved into its own leaf */
	char describe[64];
};

struct task_cgroup {
	struct cgroup_manager *m;
	char *dir[CG_NCTRL];  /* v1: per controller (NULL if not mounted); v2: dir[0] */
	bool owns[CG_NCTRL];  /* dir[i] is distinct from every dir[j<i] */
	char *name[CG_NCTRL]; /* v1 libcgroup: name relative to the mount */
	char *procs[CG_NCTRL + 1];
	int oom_fd, oom_aux_fd;
};

/* ---- small file helpers ----------------------------------------------------- */

static int
write_file(const char *path, const char *value, struct spx_error *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
	if (fd < 0)
		return spx_error_set(err, errno, "cgroup: open '%s'", path);
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	int e = errno;
	close(fd);
	if (n != (ssize_t)len)
		return spx_error_set(err, n < 0 ? e : EIO, "cgroup: write '%s' to '%s'", value,
		                     path);
	return 0;
}

static int
read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return 0;
}

static char *
sanitize(const char *id)
{
	size_t n = strlen(id);
	if (n > 100)
		n = 100;
	char *s = xstrndup(id, n);
	for (char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			*p = '_';
	if (s[0] == '.' || s[0] == '\0') {
		char *t = xasprintf("_%s", s);
		free(s);
		s = t;
	}
	return s;
}

/* ---- configuration ------------------------------------------------------------ */

static int
env_bool(config_getenv_fn get, const char *name, bool *ret, struct spx_error *err)
{
	const char *v = get(name);
	if (!v || !*v)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
		*ret = true;
	else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		*ret = false;
	else
		return spx_error_set(err, 0, "%s: expected 0 or 1, got '%s'", name, v);
	return 0;
}

int
cgroup_config_from_env(struct cgroup_config *c, config_getenv_fn get, struct spx_error *err)
{
	const char *v;

	memset(c, 0, sizeof(*c));
	c->mode = CGM_AUTO;
	c->limits.pids_max = CG_DEFAULT_PIDS;
	snprintf(c->root, sizeof(c->root), "%s", DEFAULT_ROOT);
	v = get("SPEX_CGROUPS");
	if (v && *v) {
		if (strcmp(v, "auto") == 0)
			c->mode = CGM_AUTO;
		else if (strcmp(v, "required") == 0)
			c->mode = CGM_REQUIRED;
		else if (strcmp(v, "off") == 0)
			c->mode = CGM_OFF;
		else
			return spx_error_set(
			    err, 0, "SPEX_CGROUPS: expected auto, required or off, got '%s'", v);
	}
	if (env_bool(get, "SPEX_CPU_HARD_LIMIT", &c->limits.cpu_hard, err) < 0 ||
	    env_bool(get, "SPEX_CGROUPS_LIMIT_SWAP", &c->limits.limit_swap, err) < 0)
		return -1;
	v = get("SPEX_PIDS_MAX");
	if (v && *v && settings_parse_count(v, &c->limits.pids_max, err) < 0)
		return spx_error_wrap(err, "SPEX_PIDS_MAX");
	v = get("SPEX_CGROUP_ROOT");
	if (v && *v) {
		if (v[0] != '/' || strlen(v) >= sizeof(c->root))
			return spx_error_set(err, 0, "SPEX_CGROUP_ROOT: expected an absolute path");
		snprintf(c->root, sizeof(c->root), "%s", v);
	}
	c->use_libcgroup = strcmp(c->root, DEFAULT_ROOT) == 0;
	v = get("SPEX_CGROUP_BACKEND");
	if (v && *v) {
		if (strcmp(v, "cgroupfs") == 0)
			c->use_libcgroup = false;
		else if (strcmp(v, "libcgroup") != 0)
			return spx_error_set(err, 0,
			                     "SPEX_CGROUP_BACKEND: expected libcgroup or cgroupfs, "
			                     "got '%s'",
			                     v);
	}
	return 0;
}

/* ---- backend: direct cgroupfs writes ------------------------------------------- */

static void
rmdirs(struct task_cgroup *t)
{
	for (int i = CG_NCTRL - 1; i >= 0; i--)
		if (t->dir[i] && t->owns[i])
			rmdir(t->dir[i]);
}

static int
apply_writes(struct task_cgroup *t, const struct cg_write *w, size_t n, struct spx_error *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *dir = t->m->version == CGV_V2 ? t->dir[0] : t->dir[w[i].ctrl];
		if (!dir)
			continue; /* controller not mounted: no such limit here */
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, w[i].file);
		if (w[i].optional && access(path, F_OK) < 0)
			continue;
		if (write_file(path, w[i].value, err) < 0)
			return -1;
	}
	return 0;
}

static int
fs_create(struct task_cgroup *t, const struct cg_write *w, size_t n, struct spx_error *err)
{
	for (int i = 0; i < CG_NCTRL; i++) {
		if (!t->dir[i] || !t->owns[i])
			continue;
		if (mkdir(t->dir[i], 0755) < 0 && errno != EEXIST) {
			spx_error_set(err, errno, "cgroup: mkdir '%s'", t->dir[i]);
			rmdirs(t);
			return -1;
		}
	}
	if (apply_writes(t, w, n, err) < 0) {
		rmdirs(t);
		return -1;
	}
	return 0;
}

static int
fs_remove(struct task_cgroup *t, struct spx_error *err)
{
	for (int i = CG_NCTRL - 1; i >= 0; i--) {
		if (!t->dir[i] || !t->owns[i])
			continue;
		if (rmdir(t->dir[i]) < 0 && errno != ENOENT)
			return spx_error_set(err, errno, "cgroup: rmdir '%s'", t->dir[i]);
	}
	return 0;
}

static const struct cg_backend cgroupfs_backend = {
    .name = "cgroupfs",
    .create = fs_create,
    .remove = fs_remove,
};

/* ---- backend: libcgroup (v1) ------------------------------------------------------ */

static int
lcg_error(struct spx_error *err, int rc, const char *what, const char *name)
{
	int e = rc == ECGOTHER ? cgroup_get_last_errno() : 0;
	return spx_error_set(err, e, "cgroup: %s '%s': %s", what, name, cgroup_strerror(rc));
}

/* One struct cgroup per controller: on v1 the executor may sit at different
 * paths in different hierarchies, and a struct cgroup has one name. */
static int
lcg_create(struct task_cgroup *t, const struct cg_write *w, size_t n, struct spx_error *err)
{
	for (int c = 0; c < CG_NCTRL; c++) {
		if (!t->name[c] || !t->owns[c])
			continue;
		struct cgroup *cg = cgroup_new_cgroup(t->name[c]);
		struct cgroup_controller *ctl =
		    cg ? cgroup_add_controller(cg, cg_ctrl_name(c)) : NULL;
		if (!ctl) {
			cgroup_free(&cg);
			rmdirs(t);
			return spx_error_set(err, 0, "cgroup: libcgroup cannot add controller %s",
			                     cg_ctrl_name(c));
		}
		for (size_t i = 0; i < n; i++) {
			if (w[i].ctrl != (enum cg_ctrl)c || w[i].optional)
				continue;
			cgroup_add_value_string(ctl, w[i].file, w[i].value);
		}
		int rc = cgroup_create_cgroup(cg, 0);
		if (rc != 0) {
			/* Not atomic: a bad value leaves the directory behind. */
			lcg_error(err, rc, "create", t->name[c]);
			cgroup_free(&cg);
			rmdirs(t);
			return -1;
		}
		cgroup_free(&cg);
	}
	/* Optional knobs (memsw) only where the kernel has them. */
	struct cg_write opt[CG_MAX_WRITES];
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (w[i].optional)
			opt[k++] = w[i];
	if (apply_writes(t, opt, k, err) < 0) {
		rmdirs(t);
		return -1;
	}
	return 0;
}

static int
lcg_remove(struct task_cgroup *t, struct spx_error *err)
{
	for (int c = CG_NCTRL - 1; c >= 0; c--) {
		if (!t->name[c] || !t->owns[c])
			continue;
		struct cgroup *cg = cgroup_new_cgroup(t->name[c]);
		if (!cg || !cgroup_add_controller(cg, cg_ctrl_name(c))) {
			cgroup_free(&cg);
			return spx_error_set(err, 0, "cgroup: libcgroup cannot name '%s'",
			                     t->name[c]);
		}
		/* EMPTY_ONLY: never let libcgroup migrate a live task to the root. */
		int rc = cgroup_delete_cgroup_ext(cg, CGFLAG_DELETE_EMPTY_ONLY);
		cgroup_free(&cg);
		if (rc != 0 && rc != ECGROUPNOTEXIST)
			return lcg_error(err, rc, "delete", t->name[c]);
		/* ...and EMPTY_ONLY reports success without deleting a busy group. */
		if (access(t->dir[c], F_OK) == 0)
			return spx_error_set(err, EBUSY, "cgroup: '%s' still exists", t->dir[c]);
	}
	return 0;
}

static const struct cg_backend libcgroup_backend = {
    .name = "libcgroup",
    .create = lcg_create,
    .remove = lcg_remove,
};

/* ---- the manager -------------------------------------------------------------------- */

static enum cg_version
detect_version(const char *root)
{
	struct statfs sf;
	if (statfs(root, &sf) < 0)
		return CGV_NONE;
	if (sf.f_type == CGROUP2_SUPER_MAGIC)
		return CGV_V2;
	_cleanup_free_ char *mem = xasprintf("%s/memory", root);
	struct statfs mf;
	if (statfs(mem, &mf) == 0 && mf.f_type == CGROUP_SUPER_MAGIC)
		return CGV_V1;
	return CGV_NONE;
}

static int
read_self(const struct cgroup_config *c, struct cg_self *self, struct spx_error *err)
{
	char buf[4096];
	if (c->proc_self)
		return cg_parse_proc_cgroup(c->proc_self, self, err);
	if (read_file("/proc/self/cgroup", buf, sizeof(buf)) < 0)
		return spx_error_set(err, errno, "cgroup: read /proc/self/cgroup");
	return cg_parse_proc_cgroup(buf, self, err);
}

static const char *
strip_root(const char *p)
{
	return strcmp(p, "/") == 0 ? "" : p;
}

static int
manager_v1(struct cgroup_manager *m, const struct cg_self *self, struct spx_error *err)
{
	int found = 0;
	for (int c = 0; c < CG_NCTRL; c++) {
		_cleanup_free_ char *mount = xasprintf("%s/%s", m->cfg.root, cg_ctrl_name(c));
		if (!self->v1[c] || access(mount, W_OK) < 0)
			continue;
		m->base[c] = xasprintf("%s%s", mount, strip_root(self->v1[c]));
		m->rel[c] = xstrdup(strip_root(self->v1[c]));
		found++;
	}
	if (!m->base[CG_MEMORY])
		return spx_error_set(err, 0, "cgroup: no writable v1 memory controller under %s",
		                     m->cfg.root);
	(void)found;
	if (m->cfg.use_libcgroup) {
		int rc = cgroup_init();
		if (rc != 0)
			return spx_error_set(err, 0, "cgroup: libcgroup init: %s",
			                     cgroup_strerror(rc));
		m->backend = &libcgroup_backend;
	} else {
		m->backend = &cgroupfs_backend;
	}
	return 0;
}

/* v2 forbids processes in a cgroup whose subtree_control enables
 * controllers (the "no internal processes" rule), so the executor first
 * moves itself into a leaf of its own, as Mesos does with its "leaf". */
static int
manager_v2(struct cgroup_manager *m, const struct cg_self *self, struct spx_error *err)
{
	if (!self->unified)
		return spx_error_set(err, 0, "cgroup: no cgroup v2 entry in /proc/self/cgroup");
	m->base[0] = xasprintf("%s%s", m->cfg.root, strip_root(self->unified));
	m->backend = &cgroupfs_backend;
	if (access(m->base[0], W_OK) < 0)
		return spx_error_set(err, errno, "cgroup: '%s'", m->base[0]);
	return 0;
}

static int
v2_prepare_parent(struct cgroup_manager *m, const struct cg_limits *lim, struct spx_error *err)
{
	char avail[512], enabled[512], procs[64], tokens[128];
	const char *want[4];
	size_t nw = 0;

	if (lim->has_cpus)
		want[nw++] = "cpu";
	if (lim->has_mem)
		want[nw++] = "memory";
	if (lim->pids_max)
		want[nw++] = "pids";
	want[nw] = NULL;

	_cleanup_free_ char *procs_path = xasprintf("%s/cgroup.procs", m->base[0]);
	if (!m->v2_leaf_done && read_file(procs_path, procs, sizeof(procs)) == 0 && procs[0]) {
		_cleanup_free_ char *leaf = xasprintf("%s/spex-executor", m->base[0]);
		_cleanup_free_ char *leaf_procs = xasprintf("%s/cgroup.procs", leaf);
		char pid[24];
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
			return spx_error_set(err, errno, "cgroup: mkdir '%s'", leaf);
		if (write_file(leaf_procs, pid, err) < 0)
			return -1;
	}
	m->v2_leaf_done = true;
	_cleanup_free_ char *ctrl_path = xasprintf("%s/cgroup.controllers", m->base[0]);
	_cleanup_free_ char *sub_path = xasprintf("%s/cgroup.subtree_control", m->base[0]);
	if (read_file(ctrl_path, avail, sizeof(avail)) < 0)
		return spx_error_set(err, errno, "cgroup: read '%s'", ctrl_path);
	if (read_file(sub_path, enabled, sizeof(enabled)) < 0)
		return spx_error_set(err, errno, "cgroup: read '%s'", sub_path);
	if (cg_v2_subtree_tokens(avail, enabled, want, tokens, sizeof(tokens), err) < 0)
		return -1;
	if (tokens[0] && write_file(sub_path, tokens, err) < 0)
		return -1;
	return 0;
}

struct cgroup_manager *
cgroup_manager_new(const struct cgroup_config *c, struct spx_error *err)
{
	struct cg_self self;
	struct cgroup_manager *m = xcalloc(1, sizeof(*m));

	m->cfg = *c;
	m->version = c->force_version ? (enum cg_version)c->force_version : detect_version(c->root);
	if (m->version == CGV_NONE) {
		spx_error_set(err, 0,
		              "cgroup: no cgroup v1 memory hierarchy or cgroup2 mount at %s",
		              c->root);
		goto fail;
	}
	if (read_self(c, &self, err) < 0)
		goto fail;
	int r = m->version == CGV_V1 ? manager_v1(m, &self, err) : manager_v2(m, &self, err);
	cg_self_free(&self);
	if (r < 0)
		goto fail;
	snprintf(m->describe, sizeof(m->describe), "v%d/%s", (int)m->version, m->backend->name);
	return m;
fail:
	cgroup_manager_free(m);
	return NULL;
}

void
cgroup_manager_free(struct cgroup_manager *m)
{
	if (!m)
		return;
	for (int i = 0; i < CG_NCTRL; i++) {
		free(m->base[i]);
		free(m->rel[i]);
	}
	free(m);
}

const char *
cgroup_manager_describe(const struct cgroup_manager *m)
{
	return m->describe;
}

enum cg_version
cgroup_manager_version(const struct cgroup_manager *m)
{
	return m->version;
}

/* ---- a task's cgroup ------------------------------------------------------------------ */

static void
task_paths(struct task_cgroup *t, const char *leaf)
{
	struct cgroup_manager *m = t->m;
	size_t np = 0;

	if (m->version == CGV_V2) {
		t->dir[0] = xasprintf("%s/%s", m->base[0], leaf);
		t->owns[0] = true;
		t->procs[np++] = xasprintf("%s/cgroup.procs", t->dir[0]);
		return;
	}
	for (int c = 0; c < CG_NCTRL; c++) {
		if (!m->base[c])
			continue;
		t->dir[c] = xasprintf("%s/%s", m->base[c], leaf);
		t->name[c] = xasprintf("%s/%s", m->rel[c], leaf);
		/* Co-mounted controllers (cpu,cpuacct) share one directory. */
		char real[4096];
		const char *me = realpath(m->base[c], real) ? real : m->base[c];
		t->owns[c] = true;
		for (int j = 0; j < c; j++) {
			char rj[4096];
			if (m->base[j] &&
			    strcmp(realpath(m->base[j], rj) ? rj : m->base[j], me) == 0)
				t->owns[c] = false;
		}
		if (t->owns[c])
			t->procs[np++] = xasprintf("%s/cgroup.procs", t->dir[c]);
	}
}

struct task_cgroup *
cgroup_task_create(struct cgroup_manager *m, const char *task_id, const struct cg_limits *lim,
                   struct spx_error *err)
{
	struct cg_write w[CG_MAX_WRITES];
	struct task_cgroup *t = xcalloc(1, sizeof(*t));
	t->m = m;
	t->oom_fd = t->oom_aux_fd = -1;

	/* Unique per executor: without per-container cgroups (posix isolation)
	 * executors share a parent, and Spark's task ids repeat across apps. */
	_cleanup_free_ char *safe = sanitize(task_id);
	_cleanup_free_ char *leaf = xasprintf("spex-%d-%s", (int)getpid(), safe);
	task_paths(t, leaf);
	size_t n = m->version == CGV_V2 ? cg_v2_writes(lim, w) : cg_v1_writes(lim, w);
	if (m->version == CGV_V2 && v2_prepare_parent(m, lim, err) < 0)
		goto fail;
	if (m->backend->create(t, w, n, err) < 0)
		goto fail;
	return t;
fail:
	cgroup_task_free(t);
	return NULL;
}

char *const *
cgroup_task_procs_files(const struct task_cgroup *t)
{
	return t->procs;
}

const char *
cgroup_task_path(const struct task_cgroup *t)
{
	return t->m->version == CGV_V2 ? t->dir[0] : t->dir[CG_MEMORY];
}

static const char *
mem_dir(const struct task_cgroup *t)
{
	return cgroup_task_path(t);
}

int
cgroup_task_oom_fd(struct task_cgroup *t, struct spx_error *err)
{
	if (t->oom_fd >= 0)
		return t->oom_fd;
	if (t->m->version == CGV_V2) {
		_cleanup_free_ char *ev = xasprintf("%s/memory.events", mem_dir(t));
		int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (fd < 0)
			return spx_error_set(err, errno, "cgroup: inotify");
		if (inotify_add_watch(fd, ev, IN_MODIFY) < 0) {
			int e = errno;
			close(fd);
			return spx_error_set(err, e, "cgroup: watch '%s'", ev);
		}
		t->oom_fd = fd;
		return fd;
	}
	_cleanup_free_ char *oc = xasprintf("%s/memory.oom_control", mem_dir(t));
	_cleanup_free_ char *ec = xasprintf("%s/cgroup.event_control", mem_dir(t));
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return spx_error_set(err, errno, "cgroup: eventfd");
	int ofd = open(oc, O_RDONLY | O_CLOEXEC);
	if (ofd < 0) {
		int e = errno;
		close(efd);
		return spx_error_set(err, e, "cgroup: open '%s'", oc);
	}
	char line[32];
	snprintf(line, sizeof(line), "%d %d", efd, ofd);
	if (write_file(ec, line, err) < 0) {
		close(efd);
		close(ofd);
		return -1;
	}
	t->oom_fd = efd;
	t->oom_aux_fd = ofd;
	return efd;
}

void
cgroup_task_oom_drain(struct task_cgroup *t)
{
	char buf[4096];
	if (t->oom_fd >= 0)
		while (read(t->oom_fd, buf, sizeof(buf)) > 0)
			;
}

int
cgroup_task_oom_kills(const struct task_cgroup *t, uint64_t *ret)
{
	char buf[1024];
	const char *file = t->m->version == CGV_V2 ? "memory.events" : "memory.oom_control";
	_cleanup_free_ char *p = xasprintf("%s/%s", mem_dir(t), file);
	if (read_file(p, buf, sizeof(buf)) < 0)
		return -1;
	return cg_parse_keyed(buf, "oom_kill", ret);
}

static int
read_u64(const char *dir, const char *file, uint64_t *ret)
{
	char buf[64];
	if (!dir)
		return -1;
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
	if (read_file(p, buf, sizeof(buf)) < 0)
		return -1;
	return cg_parse_u64(buf, ret);
}

int
cgroup_task_usage(const struct task_cgroup *t, struct cg_usage *u)
{
	memset(u, 0, sizeof(*u));
	if (t->m->version == CGV_V2) {
		char buf[1024];
		uint64_t usec;
		u->has_mem = read_u64(t->dir[0], "memory.current", &u->mem_current) == 0;
		if (read_u64(t->dir[0], "memory.peak", &u->mem_peak) < 0)
			u->mem_peak = u->mem_current; /* kernels before 5.19 have no peak */
		_cleanup_free_ char *p = xasprintf("%s/cpu.stat", t->dir[0]);
		if (read_file(p, buf, sizeof(buf)) == 0 &&
		    cg_parse_keyed(buf, "usage_usec", &usec) == 0) {
			u->has_cpu = true;
			u->cpu_ns = usec * 1000;
		}
		return 0;
	}
	u->has_mem = read_u64(t->dir[CG_MEMORY], "memory.usage_in_bytes", &u->mem_current) == 0;
	if (read_u64(t->dir[CG_MEMORY], "memory.max_usage_in_bytes", &u->mem_peak) < 0)
		u->mem_peak = u->mem_current;
	u->has_cpu = read_u64(t->dir[CG_CPUACCT], "cpuacct.usage", &u->cpu_ns) == 0;
	return 0;
}

/* SIGKILL whatever is still listed in the task's cgroups; 1 if anything was. */
static int
kill_leftovers(struct task_cgroup *t)
{
	int any = 0;
	for (char *const *p = t->procs; *p; p++) {
		char buf[4096];
		if (read_file(*p, buf, sizeof(buf)) < 0)
			continue;
		for (char *s = buf; *s;) {
			char *end;
			long pid = strtol(s, &end, 10);
			if (end == s)
				break;
			if (pid > 1) {
				kill((pid_t)pid, SIGKILL);
				any = 1;
			}
			s = end;
			while (*s == '\n')
				s++;
		}
	}
	return any;
}

int
cgroup_task_destroy(struct task_cgroup *t, struct spx_error *err)
{
	if (kill_leftovers(t)) {
		/* Killed processes leave the cgroup within moments; wait briefly. */
		for (int i = 0; i < 50 && kill_leftovers(t); i++) {
			struct timespec ts = {0, 2 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		if (kill_leftovers(t))
			return spx_error_set(err, EBUSY, "cgroup: '%s' still has processes",
			                     cgroup_task_path(t));
	}
	return t->m->backend->remove(t, err);
}

void
cgroup_task_free(struct task_cgroup *t)
{
	if (!t)
		return;
	if (t->oom_fd >= 0)
		close(t->oom_fd);
	if (t->oom_aux_fd >= 0)
		close(t->oom_aux_fd);
	for (int i = 0; i < CG_NCTRL; i++) {
		free(t->dir[i]);
		free(t->name[i]);
		free(t->procs[i]);
	}
	free(t);
}
