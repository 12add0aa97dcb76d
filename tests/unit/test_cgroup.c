/*
 * cgroup limits and the cgroupfs backend, over fake cgroup v1 and v2 trees
 * in a temporary directory (no root, no real cgroups). The real v1 kernel
 * path is covered by tests/integration/test_cgroups.py.
 */
#include "cgroup.h"
#include "cgroup_model.h"
#include "harness.h"
#include "util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[256];

/* Paths in the tests say PID where the executor puts its pid. */
static void
path_of(char *p, size_t n, const char *rel)
{
	char r[200];
	const char *at = strstr(rel, "PID");
	if (at)
		snprintf(r, sizeof(r), "%.*s%d%s", (int)(at - rel), rel, (int)getpid(), at + 3);
	else
		snprintf(r, sizeof(r), "%s", rel);
	snprintf(p, n, "%s/%s", root, r);
}

static void
put(const char *rel, const char *content)
{
	char p[512];
	path_of(p, sizeof(p), rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(p);
		return;
	}
	if (write(fd, content, strlen(content)) < 0)
		perror(p);
	close(fd);
}

static void
dir(const char *rel)
{
	char p[512];
	path_of(p, sizeof(p), rel);
	mkdir(p, 0755);
}

static const char *
get(const char *rel)
{
	static char buf[256];
	char p[512];
	path_of(p, sizeof(p), rel);
	int fd = open(p, O_RDONLY);
	buf[0] = '\0';
	if (fd < 0)
		return "(missing)";
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
fresh_root(void)
{
	snprintf(root, sizeof(root), "/tmp/spex-cgtest-XXXXXX");
	if (!mkdtemp(root))
		abort();
}

static void
cleanup_root(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("  cleanup of %s failed\n", root);
}

static Mesos__V1__Resource *
scalar(Mesos__V1__Resource *r, Mesos__V1__Value__Scalar *s, const char *name, double v)
{
	mesos__v1__resource__init(r);
	mesos__v1__value__scalar__init(s);
	r->name = (char *)name;
	r->type = MESOS__V1__VALUE__TYPE__SCALAR;
	s->value = v;
	r->scalar = s;
	return r;
}

/* The Spark fixture's resources: 2 cpus, 4505 MB. */
static void
spark_limits(struct cg_limits *l, const struct cg_settings *s)
{
	Mesos__V1__TaskInfo ti = MESOS__V1__TASK_INFO__INIT;
	Mesos__V1__Resource r[2], *rp[2];
	Mesos__V1__Value__Scalar sc[2];
	rp[0] = scalar(&r[0], &sc[0], "cpus", 2.0);
	rp[1] = scalar(&r[1], &sc[1], "mem", 4505.0);
	ti.n_resources = 2;
	ti.resources = rp;
	cg_limits_from_task(&ti, s, l);
}

TEST(limits_from_resources)
{
	struct cg_settings s = {.pids_max = 32768};
	struct cg_limits l;
	spark_limits(&l, &s);
	CHECK(l.has_cpus && l.cpus == 2.0);
	CHECK(l.has_mem);
	CHECK_EQ_INT(l.mem_bytes, 4505ULL * 1024 * 1024);
	CHECK_EQ_INT(l.mem_limit, 4505ULL * 1024 * 1024);
	CHECK(!l.cpu_hard);
	CHECK_EQ_INT(l.pids_max, 32768);
	s.cpu_hard = true;
	spark_limits(&l, &s);
	CHECK(l.cpu_hard && l.cpu_limit == 2.0);

	/* TaskInfo.limits: a mem limit above the request; infinite cpus = none. */
	Mesos__V1__TaskInfo ti = MESOS__V1__TASK_INFO__INIT;
	Mesos__V1__Resource r, *rp[1];
	Mesos__V1__Value__Scalar sc, lm, lc;
	Mesos__V1__TaskInfo__LimitsEntry e1 = MESOS__V1__TASK_INFO__LIMITS_ENTRY__INIT;
	Mesos__V1__TaskInfo__LimitsEntry e2 = MESOS__V1__TASK_INFO__LIMITS_ENTRY__INIT;
	Mesos__V1__TaskInfo__LimitsEntry *ep[2] = {&e1, &e2};
	rp[0] = scalar(&r, &sc, "mem", 1024);
	mesos__v1__value__scalar__init(&lm);
	mesos__v1__value__scalar__init(&lc);
	lm.value = 2048;
	lc.value = 1.0 / 0.0;
	e1.key = "mem";
	e1.value = &lm;
	e2.key = "cpus";
	e2.value = &lc;
	ti.n_resources = 1;
	ti.resources = rp;
	ti.n_limits = 2;
	ti.limits = ep;
	s.cpu_hard = true;
	cg_limits_from_task(&ti, &s, &l);
	CHECK_EQ_INT(l.mem_bytes, 1024ULL << 20);
	CHECK_EQ_INT(l.mem_limit, 2048ULL << 20);
	CHECK(!l.has_cpus && !l.cpu_hard);
}

TEST(knob_values)
{
	CHECK_EQ_INT(cg_v1_shares(2.0), 2048);
	CHECK_EQ_INT(cg_v1_shares(1.1), 1126);
	CHECK_EQ_INT(cg_v1_shares(0.001), 2);
	CHECK_EQ_INT(cg_quota_us(1.1), 110000);
	CHECK_EQ_INT(cg_quota_us(0.001), 1000);
	CHECK_EQ_INT(cg_v2_weight(2.0), 200);
	CHECK_EQ_INT(cg_v2_weight(0.001), 1);
	CHECK_EQ_INT(cg_v2_weight(500), 10000);

	struct cg_settings s = {.pids_max = 100, .cpu_hard = true, .limit_swap = true};
	struct cg_limits l;
	struct cg_write w[CG_MAX_WRITES];
	spark_limits(&l, &s);
	size_t n = cg_v1_writes(&l, w);
	CHECK_EQ_INT(n, 7);
	CHECK(strcmp(w[0].file, "cpu.shares") == 0 && strcmp(w[0].value, "2048") == 0);
	CHECK(strcmp(w[2].file, "cpu.cfs_quota_us") == 0 && strcmp(w[2].value, "200000") == 0);
	CHECK(strcmp(w[4].file, "memory.limit_in_bytes") == 0);
	CHECK(strcmp(w[5].file, "memory.memsw.limit_in_bytes") == 0 && w[5].optional);
	CHECK(strcmp(w[6].file, "pids.max") == 0 && strcmp(w[6].value, "100") == 0);
	n = cg_v2_writes(&l, w);
	CHECK_EQ_INT(n, 5);
	CHECK(strcmp(w[1].file, "cpu.max") == 0 && strcmp(w[1].value, "200000 100000") == 0);
	CHECK(strcmp(w[2].file, "memory.low") == 0);
	CHECK(strcmp(w[3].file, "memory.max") == 0 && strcmp(w[3].value, "4723834880") == 0);

	/* Tiny memory requests get Mesos' 32 MiB floor. */
	l.mem_bytes = l.mem_limit = 1024;
	n = cg_v1_writes(&l, w);
	CHECK(strcmp(w[3].value, "33554432") == 0);
}

TEST(parsers)
{
	struct cg_self s;
	struct spx_error err = {0};
	CHECK_EQ_INT(cg_parse_proc_cgroup("9:name=systemd:/\n8:pids:/a\n4:memory:/process_api/x\n"
	                                  "3:cpu,cpuacct:/b\n0::/u\n",
	                                  &s, &err),
	             0);
	CHECK_EQ_STR(s.v1[CG_MEMORY], "/process_api/x");
	CHECK_EQ_STR(s.v1[CG_CPU], "/b");
	CHECK_EQ_STR(s.v1[CG_CPUACCT], "/b");
	CHECK_EQ_STR(s.v1[CG_PIDS], "/a");
	CHECK_EQ_STR(s.unified, "/u");
	cg_self_free(&s);
	CHECK_EQ_INT(cg_parse_proc_cgroup("garbage\n", &s, &err), -1);
	spx_error_clear(&err);

	uint64_t v;
	CHECK_EQ_INT(
	    cg_parse_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "oom_kill", &v), 0);
	CHECK_EQ_INT(v, 3);
	CHECK_EQ_INT(cg_parse_keyed("low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\n", "oom", &v), 0);
	CHECK_EQ_INT(v, 2);
	CHECK_EQ_INT(cg_parse_keyed("usage_usec 1500\n", "oom_kill", &v), -1);
	CHECK_EQ_INT(cg_parse_u64("max\n", &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_EQ_INT(cg_parse_u64("123\n", &v), 0);
	CHECK_EQ_INT(v, 123);
	CHECK_EQ_INT(cg_parse_u64("12x", &v), -1);

	char out[64];
	const char *want[] = {"cpu", "memory", "pids", NULL};
	CHECK_EQ_INT(cg_v2_subtree_tokens("cpuset cpu io memory pids\n", "memory\n", want, out,
	                                  sizeof(out), &err),
	             0);
	CHECK_EQ_STR(out, "+cpu +pids");
	CHECK_EQ_INT(cg_v2_subtree_tokens("cpu memory\n", "", want, out, sizeof(out), &err), -1);
	CHECK(strstr(spx_error_msg(&err), "pids") != NULL);
	spx_error_clear(&err);

	CHECK_EQ_INT(cg_parse_java_size("4096m", &v), 0);
	CHECK_EQ_INT(v, 4096ULL << 20);
	CHECK_EQ_INT(cg_parse_java_size("4g", &v), 0);
	CHECK_EQ_INT(v, 4ULL << 30);
	CHECK_EQ_INT(cg_parse_java_size("512", &v), 0);
	CHECK_EQ_INT(cg_parse_java_size("4gb", &v), 0);
	CHECK_EQ_INT(cg_parse_java_size("x", &v), -1);
	CHECK_EQ_INT(cg_parse_java_size("4q", &v), -1);
	CHECK_EQ_INT(cg_parse_java_size("99999999999999999999g", &v), -1);
}

TEST(oom_message)
{
	char m[256];
	cg_oom_message(4505ULL << 20, 4505ULL << 20, "4096m", m, sizeof(m));
	CHECK_EQ_STR(m, "memory limit 4505 MiB exceeded (peak 4505 MiB, heap -Xmx 4096m, overhead "
	                "409 MiB); raise spark.mesos.executor.memoryOverhead");
	cg_oom_message(256ULL << 20, 256ULL << 20, "1024m", m, sizeof(m));
	CHECK(strstr(m, "the heap alone (-Xmx 1024m) is not below the limit") != NULL);
	cg_oom_message(256ULL << 20, 250ULL << 20, NULL, m, sizeof(m));
	CHECK_EQ_STR(m, "memory limit 256 MiB exceeded (peak 250 MiB); raise spark.executor.memory "
	                "or spark.mesos.executor.memoryOverhead");
}

static void
v1_tree(void)
{
	fresh_root();
	const char *ctrls[] = {"memory", "cpu", "cpuacct", "pids"};
	for (int i = 0; i < 4; i++)
		dir(ctrls[i]);
	dir("memory/exec");
	/* The kernel populates a new cgroup with its files; the fake tree is
	 * given them up front (mkdir of an existing directory is fine). */
	dir("memory/exec/spex-PID-t_1");
	dir("cpu/spex-PID-t_1");
	dir("cpuacct/spex-PID-t_1");
	dir("pids/spex-PID-t_1");
	const char *files[] = {"memory/exec/spex-PID-t_1/memory.limit_in_bytes",
	                       "memory/exec/spex-PID-t_1/memory.soft_limit_in_bytes",
	                       "memory/exec/spex-PID-t_1/cgroup.procs",
	                       "memory/exec/spex-PID-t_1/cgroup.event_control",
	                       "cpu/spex-PID-t_1/cpu.shares",
	                       "cpu/spex-PID-t_1/cgroup.procs",
	                       "cpuacct/spex-PID-t_1/cgroup.procs",
	                       "pids/spex-PID-t_1/pids.max",
	                       "pids/spex-PID-t_1/cgroup.procs"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(files[i], "");
	put("memory/exec/spex-PID-t_1/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
	put("memory/exec/spex-PID-t_1/memory.max_usage_in_bytes", "1048576\n");
	put("memory/exec/spex-PID-t_1/memory.usage_in_bytes", "524288\n");
	put("cpuacct/spex-PID-t_1/cpuacct.usage", "123456789\n");
}

static struct cgroup_config
fake_config(int version, const char *self)
{
	struct cgroup_config c;
	memset(&c, 0, sizeof(c));
	c.mode = CGM_REQUIRED;
	c.limits.pids_max = 64;
	snprintf(c.root, sizeof(c.root), "%s", root);
	c.proc_self = self;
	c.force_version = version;
	return c;
}

static void
unlink_files(const char *reldir)
{
	char cmd[600];
	char p[512];
	path_of(p, sizeof(p), reldir);
	snprintf(cmd, sizeof(cmd), "find '%s' -maxdepth 1 -type f -delete", p);
	if (system(cmd) != 0)
		printf("  %s failed\n", cmd);
}

TEST(v1_fake_tree)
{
	struct spx_error err = {0};
	struct cg_settings s = {.pids_max = 64};
	struct cg_limits l;
	v1_tree();
	struct cgroup_config c =
	    fake_config(1, "4:memory:/exec\n3:pids:/\n2:cpu:/\n1:cpuacct:/\n0::/\n");
	struct cgroup_manager *m = cgroup_manager_new(&c, &err);
	CHECK(m != NULL);
	if (!m) {
		printf("  %s\n", spx_error_msg(&err));
		cleanup_root();
		return;
	}
	CHECK_EQ_STR(cgroup_manager_describe(m), "v1/cgroupfs");
	spark_limits(&l, &s);
	struct task_cgroup *t = cgroup_task_create(m, "t/1", &l, &err);
	CHECK(t != NULL);
	if (t) {
		CHECK_EQ_STR(get("cpu/spex-PID-t_1/cpu.shares"), "2048");
		CHECK_EQ_STR(get("memory/exec/spex-PID-t_1/memory.limit_in_bytes"), "4723834880");
		CHECK_EQ_STR(get("memory/exec/spex-PID-t_1/memory.soft_limit_in_bytes"),
		             "4723834880");
		CHECK_EQ_STR(get("pids/spex-PID-t_1/pids.max"), "64");
		/* memsw not asked for, and absent: untouched. */
		CHECK_EQ_STR(get("memory/exec/spex-PID-t_1/memory.memsw.limit_in_bytes"),
		             "(missing)");
		int np = 0;
		for (char *const *p = cgroup_task_procs_files(t); *p; p++)
			np++;
		CHECK_EQ_INT(np, 4);
		char want[64];
		snprintf(want, sizeof(want), "memory/exec/spex-%d-t_1", (int)getpid());
		CHECK(strstr(cgroup_task_path(t), want) != NULL);

		struct cg_usage u;
		CHECK_EQ_INT(cgroup_task_usage(t, &u), 0);
		CHECK(u.has_mem && u.mem_peak == 1048576 && u.mem_current == 524288);
		CHECK(u.has_cpu && u.cpu_ns == 123456789);
		uint64_t kills = 9;
		CHECK_EQ_INT(cgroup_task_oom_kills(t, &kills), 0);
		CHECK_EQ_INT(kills, 0);
		put("memory/exec/spex-PID-t_1/memory.oom_control",
		    "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
		CHECK_EQ_INT(cgroup_task_oom_kills(t, &kills), 0);
		CHECK_EQ_INT(kills, 1);
		/* The eventfd registration goes to cgroup.event_control. */
		int fd = cgroup_task_oom_fd(t, &err);
		CHECK(fd >= 0);
		CHECK(strchr(get("memory/exec/spex-PID-t_1/cgroup.event_control"), ' ') != NULL);

		/* A live process listed in the cgroup: destroy kills it and refuses. */
		pid_t child = fork();
		if (child == 0) {
			pause();
			_exit(0);
		}
		char pid[16];
		snprintf(pid, sizeof(pid), "%d\n", (int)child);
		put("pids/spex-PID-t_1/cgroup.procs", pid);
		CHECK_EQ_INT(cgroup_task_destroy(t, &err), -1);
		CHECK(strstr(spx_error_msg(&err), "still has processes") != NULL);
		spx_error_clear(&err);
		int st = 0;
		CHECK_EQ_INT(waitpid(child, &st, 0), child);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

		/* Empty (the fake kernel "removes" its files): destroy removes the dirs. */
		unlink_files("memory/exec/spex-PID-t_1");
		unlink_files("cpu/spex-PID-t_1");
		unlink_files("cpuacct/spex-PID-t_1");
		unlink_files("pids/spex-PID-t_1");
		CHECK_EQ_INT(cgroup_task_destroy(t, &err), 0);
		CHECK_EQ_STR(get("memory/exec/spex-PID-t_1/cgroup.procs"), "(missing)");
		char p[512];
		path_of(p, sizeof(p), "memory/exec/spex-PID-t_1");
		CHECK(access(p, F_OK) < 0);
		cgroup_task_free(t);
	}
	cgroup_manager_free(m);
	cleanup_root();
}

TEST(v1_memsw_when_asked)
{
	struct spx_error err = {0};
	struct cg_settings s = {.limit_swap = true};
	struct cg_limits l;
	v1_tree();
	put("memory/exec/spex-PID-t_1/memory.memsw.limit_in_bytes", "");
	struct cgroup_config c = fake_config(1, "4:memory:/exec\n3:pids:/\n2:cpu:/\n1:cpuacct:/\n");
	struct cgroup_manager *m = cgroup_manager_new(&c, &err);
	spark_limits(&l, &s);
	struct task_cgroup *t = m ? cgroup_task_create(m, "t_1", &l, &err) : NULL;
	CHECK(t != NULL);
	CHECK_EQ_STR(get("memory/exec/spex-PID-t_1/memory.memsw.limit_in_bytes"), "4723834880");
	CHECK_EQ_STR(get("pids/spex-PID-t_1/pids.max"), ""); /* no pids limit asked */
	cgroup_task_free(t);
	cgroup_manager_free(m);
	cleanup_root();
}

TEST(v2_fake_tree)
{
	struct spx_error err = {0};
	struct cg_settings s = {.pids_max = 4096, .cpu_hard = true};
	struct cg_limits l;
	fresh_root();
	dir("exec");
	put("exec/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
	put("exec/cgroup.subtree_control", "io\n");
	put("exec/cgroup.procs", "4242\n"); /* the executor itself lives here */
	dir("exec/spex-executor");
	put("exec/spex-executor/cgroup.procs", "");
	dir("exec/spex-PID-t1");
	const char *files[] = {"cpu.weight", "cpu.max",  "memory.max",
	                       "memory.low", "pids.max", "cgroup.procs"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "exec/spex-PID-t1/%s", files[i]);
		put(rel, "");
	}
	put("exec/spex-PID-t1/memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n");
	put("exec/spex-PID-t1/memory.current", "2048\n");
	put("exec/spex-PID-t1/cpu.stat", "usage_usec 1500\nuser_usec 1000\n");

	struct cgroup_config c = fake_config(2, "0::/exec\n");
	struct cgroup_manager *m = cgroup_manager_new(&c, &err);
	CHECK(m != NULL);
	if (!m) {
		printf("  %s\n", spx_error_msg(&err));
		cleanup_root();
		return;
	}
	CHECK_EQ_STR(cgroup_manager_describe(m), "v2/cgroupfs");
	spark_limits(&l, &s);
	struct task_cgroup *t = cgroup_task_create(m, "t1", &l, &err);
	CHECK(t != NULL);
	if (t) {
		char me[16];
		snprintf(me, sizeof(me), "%d", (int)getpid());
		/* The executor moved into its leaf, then the controllers were enabled. */
		CHECK_EQ_STR(get("exec/spex-executor/cgroup.procs"), me);
		CHECK_EQ_STR(get("exec/cgroup.subtree_control"), "+cpu +memory +pids");
		CHECK_EQ_STR(get("exec/spex-PID-t1/cpu.weight"), "200");
		CHECK_EQ_STR(get("exec/spex-PID-t1/cpu.max"), "200000 100000");
		CHECK_EQ_STR(get("exec/spex-PID-t1/memory.max"), "4723834880");
		CHECK_EQ_STR(get("exec/spex-PID-t1/memory.low"), "4723834880");
		CHECK_EQ_STR(get("exec/spex-PID-t1/pids.max"), "4096");
		uint64_t kills = 0;
		CHECK_EQ_INT(cgroup_task_oom_kills(t, &kills), 0);
		CHECK_EQ_INT(kills, 1);
		struct cg_usage u;
		cgroup_task_usage(t, &u);
		CHECK(u.has_mem && u.mem_current == 2048 && u.mem_peak == 2048);
		CHECK(u.has_cpu && u.cpu_ns == 1500000);
		int fd = cgroup_task_oom_fd(t, &err); /* inotify on memory.events */
		CHECK(fd >= 0);
		put("exec/spex-PID-t1/memory.events", "oom 2\noom_kill 2\n");
		char buf[512];
		CHECK(read(fd, buf, sizeof(buf)) > 0); /* the watch fired */
		cgroup_task_free(t);
	}
	/* A second task: the subtree is already enabled; nothing more is written. */
	put("exec/cgroup.subtree_control", "io cpu memory pids\n");
	dir("exec/spex-PID-t2");
	const char *f2[] = {"cpu.weight", "cpu.max", "memory.max", "memory.low", "pids.max"};
	for (size_t i = 0; i < sizeof(f2) / sizeof(f2[0]); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "exec/spex-PID-t2/%s", f2[i]);
		put(rel, "");
	}
	t = cgroup_task_create(m, "t2", &l, &err);
	CHECK(t != NULL);
	CHECK_EQ_STR(get("exec/cgroup.subtree_control"), "io cpu memory pids\n");
	cgroup_task_free(t);
	cgroup_manager_free(m);
	cleanup_root();
}

static const char *
no_env(const char *name)
{
	(void)name;
	return NULL;
}

static char pids_var[64];

static const char *
pids_env(const char *name)
{
	size_t n = strlen(name);
	return strncmp(pids_var, name, n) == 0 && pids_var[n] == '=' ? pids_var + n + 1 : NULL;
}

/* SPEX_PIDS_MAX is digits only: strtoull took " -1" as 2^64-1, and that went
 * to pids.max. */
TEST(pids_max_digits_only)
{
	struct cgroup_config cc;
	struct spx_error err = {0};
	const char *bad[] = {" 1", "-1", "+5", "1 ", " -1", "18446744073709551616"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(pids_var, sizeof(pids_var), "SPEX_PIDS_MAX=%s", bad[i]);
		if (cgroup_config_from_env(&cc, pids_env, &err) != -1 ||
		    strncmp(spx_error_msg(&err), "SPEX_PIDS_MAX: expected a number", 32) != 0)
			HARNESS_FAIL("'%s' -> %llu (%s)", bad[i],
			             (unsigned long long)cc.limits.pids_max, spx_error_msg(&err));
	}
	snprintf(pids_var, sizeof(pids_var), "SPEX_PIDS_MAX= -1");
	CHECK_EQ_INT(cgroup_config_from_env(&cc, pids_env, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err),
	             "SPEX_PIDS_MAX: expected a number (digits only), got ' -1'");
	snprintf(pids_var, sizeof(pids_var), "SPEX_PIDS_MAX=");
	CHECK_EQ_INT(cgroup_config_from_env(&cc, pids_env, &err), 0); /* empty: the default */
	CHECK(cc.limits.pids_max == 32768);
	snprintf(pids_var, sizeof(pids_var), "SPEX_PIDS_MAX=4096");
	CHECK_EQ_INT(cgroup_config_from_env(&cc, pids_env, &err), 0);
	CHECK(cc.limits.pids_max == 4096);
	snprintf(pids_var, sizeof(pids_var), "SPEX_PIDS_MAX=0");
	CHECK_EQ_INT(cgroup_config_from_env(&cc, pids_env, &err), 0);
	CHECK(cc.limits.pids_max == 0);
	spx_error_clear(&err);
}

TEST(unavailable_and_failing)
{
	struct spx_error err = {0};
	struct cg_settings s = {.pids_max = 64};
	struct cg_limits l;
	fresh_root();
	/* No memory controller mounted. */
	struct cgroup_config c = fake_config(1, "3:pids:/\n");
	CHECK(cgroup_manager_new(&c, &err) == NULL);
	CHECK(strstr(spx_error_msg(&err), "memory") != NULL);
	spx_error_clear(&err);
	/* Creation fails (a file where the group should go): error, nothing left. */
	dir("memory");
	put("memory/spex-PID-x", "not a directory");
	c = fake_config(1, "4:memory:/\n");
	struct cgroup_manager *m = cgroup_manager_new(&c, &err);
	CHECK(m != NULL);
	spark_limits(&l, &s);
	struct task_cgroup *t = m ? cgroup_task_create(m, "x", &l, &err) : NULL;
	CHECK(t == NULL);
	CHECK(strstr(spx_error_msg(&err), "Not a directory") != NULL);
	spx_error_clear(&err);
	cgroup_manager_free(m);
	/* Settings. */
	struct cgroup_config cc;
	CHECK_EQ_INT(cgroup_config_from_env(&cc, no_env, &err), 0);
	CHECK(cc.mode == CGM_AUTO && cc.limits.pids_max == 32768 && !cc.limits.cpu_hard);
	cleanup_root();
}

int
main(void)
{
	RUN(limits_from_resources);
	RUN(knob_values);
	RUN(parsers);
	RUN(oom_message);
	RUN(v1_fake_tree);
	RUN(v1_memsw_when_asked);
	RUN(v2_fake_tree);
	RUN(unavailable_and_failing);
	RUN(pids_max_digits_only);
	return harness_done();
}
