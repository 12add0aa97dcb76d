/*
 * Reading the executor's state back (spex.state/1): parsing, the liveness
 * rule, /proc/PID/stat, the disk history, a task's process tree, the gc
 * decision and the ls order. All pure, except state_load() and the probe
 * of our own process.
 */
#include "harness.h"

#include "gc_policy.h"
#include "procinfo.h"
#include "sandbox_state.h"
#include "summary.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char full_state[] =
    "{\"schema\":\"spex.state/1\",\"written_at\":\"2026-11-24T11:40:00.123Z\",\"seq\":42,"
    "\"executor\":{\"pid\":4242,\"start_ticks\":1234567,\"boot_id\":\"b-1\","
    "\"version\":\"0.1.0\",\"started_at\":\"2026-11-24T11:30:00.000Z\",\"state\":\"running\","
    "\"exit_code\":null,\"framework_id\":\"fw\",\"executor_id\":\"ex\",\"agent_id\":\"S0\","
    "\"sandbox\":\"/x\",\"subscription\":{\"state\":\"subscribed\",\"subscribes\":1},"
    "\"rss_bytes\":2752512,\"cpu_user_ms\":120,\"cpu_system_ms\":80,\"new_field\":[1]},"
    "\"tasks\":[{\"id\":\"3\",\"name\":\"task 3\",\"state\":\"TASK_RUNNING\","
    "\"history\":[{\"state\":\"TASK_STARTING\",\"at\":\"2026-11-24T11:30:00.060Z\","
    "\"reason\":null,\"message\":null},{\"state\":\"TASK_RUNNING\","
    "\"at\":\"2026-11-24T11:30:00.080Z\",\"reason\":null,\"message\":null}],"
    "\"launched_at\":\"2026-11-24T11:30:00.060Z\",\"ended_at\":null,\"pid\":4250,"
    "\"pgid\":4250,\"taskinit_pid\":4249,\"heap\":\"4096m\","
    "\"cgroup\":{\"path\":\"/sys/fs/cgroup/x\",\"limits\":{\"cpus\":1.5,"
    "\"cpu_quota_cpus\":null,\"mem_bytes\":4724883456,\"mem_limit_bytes\":4724883456,"
    "\"pids_max\":32768},\"usage\":{\"mem_bytes\":1073741824,\"mem_peak_bytes\":1200000000,"
    "\"cpu_ms\":5230,\"oom_kills\":0}},\"disk_limit_bytes\":null,\"exit\":null},"
    "{\"id\":\"4\",\"state\":\"TASK_FAILED\",\"history\":[{\"state\":\"TASK_FAILED\","
    "\"reason\":\"REASON_CONTAINER_LIMITATION_MEMORY\"}],\"cgroup\":null,"
    "\"exit\":{\"code\":null,\"signal\":\"SIGKILL\",\"state\":\"TASK_FAILED\","
    "\"reason\":null,\"message\":\"killed\",\"oom\":null}}],"
    "\"disk\":{\"schema\":\"spex.disk/1\",\"allocated_bytes\":123456789},"
    "\"disk_at\":\"2026-11-24T11:39:00.000Z\"}";

TEST(parse_full)
{
	struct sandbox_state st;
	struct spx_error err = {0};

	CHECK_EQ_INT(state_parse(full_state, strlen(full_state), "s", &st, &err), 0);
	CHECK_EQ_INT(st.written_ms, 1795520400123LL);
	CHECK_EQ_INT(st.seq, 42);
	CHECK_EQ_INT(st.pid, 4242);
	CHECK_EQ_INT(st.start_ticks, 1234567);
	CHECK_EQ_STR(st.boot_id, "b-1");
	CHECK_EQ_STR(st.state, "running");
	CHECK_EQ_INT(st.exit_code, STATE_NONE);
	CHECK_EQ_STR(st.framework_id, "fw");
	CHECK_EQ_STR(st.subscription, "subscribed");
	CHECK_EQ_INT(st.rss_bytes, 2752512);
	CHECK_EQ_INT(st.started_ms, 1795519800000LL);
	CHECK_EQ_INT(st.disk_bytes, 123456789);
	CHECK_EQ_INT(st.disk_ms, 1795520340000LL);
	CHECK_EQ_INT(st.ntasks, 2);
	const struct state_task *t = &st.tasks[0];
	CHECK_EQ_STR(t->id, "3");
	CHECK_EQ_INT(t->pid, 4250);
	CHECK_EQ_INT(t->taskinit_pid, 4249);
	CHECK_EQ_INT(t->nhistory, 2);
	CHECK(t->has_cgroup);
	CHECK(t->cpus == 1.5 && isnan(t->cpu_quota_cpus));
	CHECK_EQ_INT(t->mem_limit_bytes, 4724883456LL);
	CHECK_EQ_INT(t->mem_peak_bytes, 1200000000);
	CHECK_EQ_INT(t->oom_kills, 0);
	CHECK_EQ_INT(t->ended_ms, STATE_NONE);
	CHECK_EQ_INT(t->disk_limit_bytes, STATE_NONE);
	CHECK(!t->has_exit && !t->oom);
	t = &st.tasks[1];
	CHECK(!t->has_cgroup && t->has_exit);
	CHECK_EQ_STR(t->exit_signal, "SIGKILL");
	CHECK_EQ_INT(t->exit_code, STATE_NONE);
	CHECK(t->oom); /* from the history's reason */
	CHECK_EQ_INT(t->pid, STATE_NONE);
	CHECK(t->name == NULL);
	state_clear(&st);
	state_clear(&st); /* twice is fine */
}

TEST(parse_refuses)
{
	struct sandbox_state st;
	struct spx_error err = {0};
	static const char wrong[] = "{\"schema\":\"spex.state/2\",\"executor\":{}}";
	static const char none[] = "{\"executor\":{}}";
	static const char noexec[] = "{\"schema\":\"spex.state/1\",\"executor\":[]}";

	CHECK_EQ_INT(state_parse(wrong, strlen(wrong), "a/state.json", &st, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err), "a/state.json: schema 'spex.state/2', expected "
	                                  "spex.state/1");
	CHECK_EQ_INT(state_parse(none, strlen(none), "b", &st, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err), "b: schema '(none)', expected spex.state/1");
	CHECK_EQ_INT(state_parse(noexec, strlen(noexec), "c", &st, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err), "c: no executor object");
	CHECK_EQ_INT(state_parse("{\"schema\":", 10, "d", &st, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err), "d: not a JSON object");
	CHECK_EQ_INT(state_parse("[1]", 3, "e", &st, &err), -1);
	/* A truncated copy of a valid document is refused, never read past. */
	CHECK_EQ_INT(state_parse(full_state, 100, "f", &st, &err), -1);
	spx_error_clear(&err);
}

TEST(parse_tolerates_types)
{
	/* Mistyped and missing fields read as null; the document is kept. */
	static const char odd[] = "{\"schema\":\"spex.state/1\",\"executor\":{\"pid\":\"4242\","
	                          "\"start_ticks\":1e300,\"state\":7,\"started_at\":\"yesterday\"},"
	                          "\"tasks\":{\"not\":\"an array\"},\"disk\":null}";
	struct sandbox_state st;
	struct spx_error err = {0};
	CHECK_EQ_INT(state_parse(odd, strlen(odd), "s", &st, &err), 0);
	CHECK_EQ_INT(st.pid, STATE_NONE);
	CHECK_EQ_INT(st.start_ticks, STATE_NONE);
	CHECK(st.state == NULL);
	CHECK_EQ_INT(st.started_ms, STATE_NONE);
	CHECK_EQ_INT(st.ntasks, 0);
	CHECK_EQ_INT(st.disk_bytes, STATE_NONE);
	state_clear(&st);
}

static struct sandbox_state
mkstate(const char *state, const char *boot, int64_t pid, int64_t ticks)
{
	struct sandbox_state st = {0};
	st.state = (char *)state;
	st.boot_id = (char *)boot;
	st.pid = pid;
	st.start_ticks = ticks;
	st.pid_ns = STATE_NONE; /* not recorded */
	return st;
}

TEST(liveness_rule)
{
	const char *why;
	struct liveness_probe p = {.boot_id = "B", .stat_errno = 0, .start_ticks = 77};
	struct sandbox_state st = mkstate("running", "B", 10, 77);

	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_LIVE);
	CHECK_EQ_STR(why, "running");
	CHECK_EQ_INT(liveness_decide(NULL, &p, &why), LIVENESS_UNKNOWN);
	CHECK_EQ_STR(why, "no state file");
	st = mkstate("exited", "B", 10, 77); /* exited wins over a matching pid */
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_DEAD);
	CHECK_EQ_STR(why, "exited");
	st = mkstate("running", "A", 10, 77);
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_DEAD);
	CHECK_EQ_STR(why, "other boot");
	st = mkstate("running", NULL, 10, 77);
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_DEAD);
	st = mkstate("running", "B", 10, 78);
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_DEAD);
	CHECK_EQ_STR(why, "pid reused");
	st = mkstate("running", "B", 10, STATE_NONE);
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_DEAD);
	st = mkstate("running", "B", STATE_NONE, 77);
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_DEAD);
	CHECK_EQ_STR(why, "pid gone");
	st = mkstate("running", "B", 10, 77);
	p.stat_errno = ENOENT;
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_DEAD);
	CHECK_EQ_STR(why, "pid gone");
	p.proc_hidden = true; /* hidepid: a missing pid proves nothing */
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_UNKNOWN);
	p.proc_hidden = false;
	p.stat_errno = EACCES;
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_UNKNOWN);
	CHECK_EQ_STR(why, "stat unreadable");
	p.stat_errno = 0;
	p.boot_id = NULL; /* cannot read ours */
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_UNKNOWN);
	CHECK_EQ_INT(liveness_decide(&st, &p, NULL), LIVENESS_UNKNOWN);
	CHECK_EQ_STR(liveness_name(LIVENESS_DEAD), "dead");
}

TEST(liveness_pid_namespace)
{
	const char *why;
	struct liveness_probe p = {.boot_id = "B", .start_ticks = 77, .pid_ns = 4026531836};
	struct sandbox_state st = mkstate("running", "B", 10, 77);

	/* Not recorded (an older executor, or null): no check. */
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_LIVE);
	st.pid_ns = 4026531836; /* ours */
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_LIVE);
	CHECK_EQ_STR(why, "running");
	/* Another pid namespace: its pid says nothing about our /proc, both
	 * ways (a match could be another process, a miss is no proof). */
	st.pid_ns = 4026532999;
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_UNKNOWN);
	CHECK_EQ_STR(why, "other pid namespace");
	p.stat_errno = ENOENT;
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_UNKNOWN);
	CHECK_EQ_STR(why, "other pid namespace");
	p.pid_ns = 0; /* ours unreadable */
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_UNKNOWN);
	CHECK_EQ_STR(why, "pid namespace unreadable");
	/* exited and other boot are proofs whatever the namespace */
	st.state = "exited";
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_DEAD);
	CHECK_EQ_STR(why, "exited");
	st.state = "running";
	st.boot_id = "A";
	CHECK_EQ_INT(liveness_decide(&st, &p, &why), LIVENESS_DEAD);
	CHECK_EQ_STR(why, "other boot");
	/* Parsed from the state file: an integer, null or absent. */
	static const char doc[] = "{\"schema\":\"spex.state/1\",\"executor\":{\"pid_ns\":%s}}";
	char text[128];
	struct spx_error err = {0};
	struct sandbox_state parsed;
	snprintf(text, sizeof(text), doc, "4026531836");
	CHECK_EQ_INT(state_parse(text, strlen(text), "s", &parsed, &err), 0);
	CHECK_EQ_INT(parsed.pid_ns, 4026531836);
	state_clear(&parsed);
	snprintf(text, sizeof(text), doc, "null");
	CHECK_EQ_INT(state_parse(text, strlen(text), "s", &parsed, &err), 0);
	CHECK_EQ_INT(parsed.pid_ns, STATE_NONE);
	state_clear(&parsed);
	CHECK_EQ_INT(state_parse(full_state, strlen(full_state), "s", &parsed, &err), 0);
	CHECK_EQ_INT(parsed.pid_ns, STATE_NONE);
	state_clear(&parsed);
}

TEST(liveness_of_ourselves)
{
	struct proc_info pi;
	char boot[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	CHECK(f && fgets(boot, sizeof(boot), f));
	if (f)
		fclose(f);
	boot[strcspn(boot, "\n")] = '\0';
	CHECK_EQ_INT(procinfo_read(getpid(), &pi), 0);
	struct sandbox_state st = mkstate("running", boot, getpid(), (int64_t)pi.start_ticks);
	const char *why;
	CHECK_EQ_INT(state_liveness(&st, &why), LIVENESS_LIVE);
	st.start_ticks++;
	CHECK_EQ_INT(state_liveness(&st, &why), LIVENESS_DEAD);
	CHECK_EQ_STR(why, "pid reused");
	struct stat ns;
	CHECK_EQ_INT(stat("/proc/self/ns/pid", &ns), 0);
	st.start_ticks--;
	st.pid_ns = (int64_t)ns.st_ino; /* ours: as without */
	CHECK_EQ_INT(state_liveness(&st, &why), LIVENESS_LIVE);
	st.pid_ns++;
	CHECK_EQ_INT(state_liveness(&st, &why), LIVENESS_UNKNOWN);
	CHECK_EQ_STR(why, "other pid namespace");
}

TEST(stat_parse)
{
	struct proc_info pi;
	/* comm holding ") " and spaces: fields count from the last ')' */
	static const char stat[] =
	    "4250 (java) S (x) ) R 4249 4250 4250 0 -1 4194560 100 0 0 0 1500 250 0 0 20 0 "
	    "33 0 987654 5000000000 262144 18446744073709551615 1 1 0 0 0 0 0 4096 0";
	CHECK_EQ_INT(procinfo_parse_stat(stat, &pi), 0);
	CHECK_EQ_INT(pi.pid, 4250);
	CHECK_EQ_STR(pi.comm, "java) S (x) ");
	CHECK_EQ_INT(pi.state, 'R');
	CHECK_EQ_INT(pi.ppid, 4249);
	CHECK_EQ_INT(pi.pgrp, 4250);
	CHECK_EQ_INT(pi.utime, 1500);
	CHECK_EQ_INT(pi.stime, 250);
	CHECK_EQ_INT(pi.start_ticks, 987654);
	CHECK_EQ_INT(pi.rss_pages, 262144);
	CHECK_EQ_INT(procinfo_parse_stat("1 (x) S 0 1 1", &pi), -1); /* too short */
	CHECK_EQ_INT(procinfo_parse_stat("garbage", &pi), -1);
	CHECK_EQ_INT(procinfo_parse_stat("1 x) S 0 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", &pi),
	             -1);
	CHECK_EQ_INT(procinfo_read(getpid(), &pi), 0);
	CHECK_EQ_INT(pi.pid, getpid());
	CHECK(pi.start_ticks > 0);
	CHECK_EQ_INT(procinfo_read(-1, &pi), -1);
}

TEST(process_tree)
{
	/* executor 10 -> taskinit 11 -> command 12 -> 13, 14; 20 an orphan of
	 * the task's group (pgid 12) reparented to 1; 30 unrelated. */
	struct proc_info all[] = {
	    {.pid = 30, .ppid = 1, .pgrp = 30},  {.pid = 14, .ppid = 12, .pgrp = 12},
	    {.pid = 12, .ppid = 11, .pgrp = 12}, {.pid = 20, .ppid = 1, .pgrp = 12},
	    {.pid = 1, .ppid = 0, .pgrp = 1},    {.pid = 11, .ppid = 10, .pgrp = 10},
	    {.pid = 13, .ppid = 12, .pgrp = 12}, {.pid = 10, .ppid = 1, .pgrp = 10},
	    {.pid = 21, .ppid = 20, .pgrp = 21},
	};
	pid_t roots[] = {10, 11}, pgids[] = {12};
	struct proc_row rows[16];
	size_t n = procinfo_select(all, ARRAY_SIZE(all), roots, 2, pgids, 1, rows, 16);
	int want_pid[] = {10, 11, 12, 13, 14, 20, 21}, want_depth[] = {0, 1, 2, 3, 3, 0, 1};
	CHECK_EQ_INT(n, 7);
	for (size_t i = 0; i < n && i < 7; i++) {
		CHECK_EQ_INT(all[rows[i].idx].pid, want_pid[i]);
		CHECK_EQ_INT(rows[i].depth, want_depth[i]);
	}
	CHECK_EQ_INT(procinfo_select(all, ARRAY_SIZE(all), roots, 2, pgids, 1, rows, 3), 3);
	CHECK_EQ_INT(procinfo_select(all, ARRAY_SIZE(all), NULL, 0, NULL, 0, rows, 16), 0);
	/* a process that is its own parent does not loop */
	struct proc_info self[] = {{.pid = 5, .ppid = 5, .pgrp = 5}};
	pid_t r5[] = {5};
	CHECK_EQ_INT(procinfo_select(self, 1, r5, 1, NULL, 0, rows, 16), 1);
}

TEST(history)
{
	static const char text[] =
	    "{\"at\":\"2026-11-24T11:40:00.000Z\",\"bytes\":100,\"categories\":{\"shuffle\":60,"
	    "\"logs\":40,\"unknown_cat\":5}}\n"
	    "\n"
	    "not json\n"
	    "{\"at\":\"2026-11-24T11:41:00.000Z\",\"bytes\":200}\r\n"
	    "{\"at\":\"2026-11-24T11:42:00.000Z\",\"bytes\":3";
	struct disk_sample *s;
	size_t n, skipped;
	history_parse(text, strlen(text), &s, &n, &skipped);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(skipped, 2); /* "not json" and the torn last line */
	CHECK_EQ_INT(s[0].bytes, 100);
	CHECK_EQ_INT(s[0].cats[CAT_SHUFFLE], 60);
	CHECK_EQ_INT(s[0].cats[CAT_LOGS], 40);
	CHECK_EQ_INT(s[0].cats[CAT_OTHER], 0);
	CHECK_EQ_INT(s[1].at_ms - s[0].at_ms, 60000);
	CHECK_EQ_INT(s[1].bytes, 200);
	free(s);
	history_parse("", 0, &s, &n, &skipped);
	CHECK(n == 0 && skipped == 0);
	free(s);
}

TEST(history_hostile_numbers)
{
	/* No double outside uint64_t's range is converted (UB: float-cast-
	 * overflow): such a sample is skipped and counted; categories outside
	 * the integer range read as 0. */
	static const char text[] =
	    "{\"at\":\"2026-11-24T11:40:00.000Z\",\"bytes\":1e400}\n"
	    "{\"at\":\"2026-11-24T11:40:01.000Z\",\"bytes\":-1e400}\n"
	    "{\"at\":\"2026-11-24T11:40:02.000Z\",\"bytes\":18446744073709551616}\n"
	    "{\"at\":\"2026-11-24T11:40:03.000Z\",\"bytes\":-1}\n"
	    "{\"at\":\"2026-11-24T11:40:04.000Z\",\"bytes\":1e19,"
	    "\"categories\":{\"shuffle\":1e400,\"logs\":-5,\"dist\":7}}\n"
	    "{\"at\":\"2026-11-24T11:40:05.000Z\",\"bytes\":18446744073709549568}\n";
	struct disk_sample *s;
	size_t n, skipped;
	history_parse(text, strlen(text), &s, &n, &skipped);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(skipped, 4);
	CHECK(n == 2 && s[0].bytes == 10000000000000000000ull);
	CHECK(n == 2 && s[0].cats[CAT_SHUFFLE] == 0 && s[0].cats[CAT_LOGS] == 0);
	CHECK(n == 2 && s[0].cats[CAT_DIST] == 7);
	CHECK(n == 2 && s[1].bytes == 18446744073709549568ull); /* the largest double < 2^64 */
	free(s);
}

TEST(parse_hostile_numbers)
{
	/* Negative counts, sizes and pids read as null; exit codes keep their
	 * sign; numbers that are not finite are null. */
	static const char odd[] =
	    "{\"schema\":\"spex.state/1\",\"seq\":-3,\"executor\":{\"pid\":-5,"
	    "\"start_ticks\":-1,\"rss_bytes\":-4096,\"exit_code\":-1,\"cpu_user_ms\":1e400},"
	    "\"tasks\":[{\"pid\":-7,\"disk_limit_bytes\":-1,\"cgroup\":{\"limits\":{"
	    "\"cpus\":-2,\"cpu_quota_cpus\":1e400,\"mem_limit_bytes\":-1},\"usage\":{"
	    "\"mem_bytes\":-5,\"mem_peak_bytes\":-1,\"oom_kills\":-2}},\"exit\":{\"code\":-9}}],"
	    "\"disk\":{\"allocated_bytes\":-1}}";
	struct sandbox_state st;
	struct spx_error err = {0};
	CHECK_EQ_INT(state_parse(odd, strlen(odd), "s", &st, &err), 0);
	CHECK_EQ_INT(st.seq, STATE_NONE);
	CHECK_EQ_INT(st.pid, STATE_NONE);
	CHECK_EQ_INT(st.start_ticks, STATE_NONE);
	CHECK_EQ_INT(st.rss_bytes, STATE_NONE);
	CHECK_EQ_INT(st.cpu_user_ms, STATE_NONE);
	CHECK_EQ_INT(st.exit_code, -1);
	CHECK_EQ_INT(st.disk_bytes, STATE_NONE);
	CHECK_EQ_INT(st.ntasks, 1);
	if (st.ntasks == 1) {
		const struct state_task *t = &st.tasks[0];
		CHECK_EQ_INT(t->pid, STATE_NONE);
		CHECK_EQ_INT(t->disk_limit_bytes, STATE_NONE);
		CHECK(isnan(t->cpus) && isnan(t->cpu_quota_cpus));
		CHECK_EQ_INT(t->mem_limit_bytes, STATE_NONE);
		CHECK_EQ_INT(t->mem_bytes, STATE_NONE);
		CHECK_EQ_INT(t->mem_peak_bytes, STATE_NONE);
		CHECK_EQ_INT(t->oom_kills, STATE_NONE);
		CHECK_EQ_INT(t->exit_code, -9);
	}
	state_clear(&st);
}

static char root[64];

static void
put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "we");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

TEST(load_from_a_sandbox)
{
	struct sandbox_state st;
	struct spx_error err = {0};
	char path[256], cmd[128];
	struct disk_sample *s;
	size_t n, skipped;

	snprintf(root, sizeof(root), "/tmp/spex-state-XXXXXX");
	CHECK(mkdtemp(root) != NULL);
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK_EQ_INT(state_load(fd, root, &st, &err), 0); /* no .spex: unknown */
	CHECK_EQ_INT(history_load(fd, root, &s, &n, &skipped, &err), 0);
	snprintf(path, sizeof(path), "%s/.spex", root);
	mkdir(path, 0755);
	CHECK_EQ_INT(state_load(fd, root, &st, &err), 0); /* no state.json */
	put(".spex/state.json", full_state);
	CHECK_EQ_INT(state_load(fd, root, &st, &err), 1);
	CHECK_EQ_INT(st.pid, 4242);
	state_clear(&st);
	put(".spex/state.json", "{\"schema\":\"nope\"}");
	CHECK_EQ_INT(state_load(fd, "SB", &st, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err), "SB/.spex/state.json: schema 'nope', expected "
	                                  "spex.state/1");
	/* A symlinked state file is not followed. */
	snprintf(path, sizeof(path), "%s/.spex/state.json", root);
	unlink(path);
	CHECK_EQ_INT(symlink("/etc/hostname", path), 0);
	CHECK_EQ_INT(state_load(fd, "SB", &st, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "SB/.spex/state.json: ") != NULL);
	put(".spex/disk-history.jsonl", "{\"at\":\"2026-11-24T11:40:00.000Z\",\"bytes\":1}\n{");
	CHECK_EQ_INT(history_load(fd, root, &s, &n, &skipped, &err), 1);
	CHECK(n == 1 && skipped == 1);
	free(s);
	spx_error_clear(&err);
	close(fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK_EQ_INT(system(cmd), 0);
}

TEST(path_within)
{
	CHECK(procinfo_path_within("/w/sb", "/w/sb"));
	CHECK(procinfo_path_within("/w/sb/spark-1/userFiles-1", "/w/sb"));
	CHECK(procinfo_path_within("/w/sb/x", "/w/sb/")); /* a '/' at dir's end */
	CHECK(procinfo_path_within("/w/sb/blockmgr-1/f (deleted)", "/w/sb"));
	CHECK(procinfo_path_within("/w/sb (deleted)", "/w/sb"));
	CHECK(!procinfo_path_within("/w/sb2", "/w/sb")); /* a prefix, not a parent */
	CHECK(!procinfo_path_within("/w/sb2/x", "/w/sb"));
	CHECK(!procinfo_path_within("/w", "/w/sb"));
	CHECK(!procinfo_path_within("socket:[123]", "/w/sb"));
	CHECK(!procinfo_path_within("pipe:[4]", "/"));
	CHECK(procinfo_path_within("/anything", "/"));
	CHECK(!procinfo_path_within("/w/sb/x", "relative"));
}

/* Fork a child that works in sub by how: 'c' its cwd, 'f' an open file
 * (its cwd "/"); it writes 'y' on ready once set ('n' on failure), then
 * sleeps. Returns its pid. */
static pid_t
child_in(const char *sub, char how, int ready)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	for (int i = 3; i < 256; i++) { /* the parent's fds are not the child's work */
		if (i != ready)
			close(i);
	}
	int ok = 0;
	if (how == 'c') {
		ok = chdir(sub) == 0;
	} else {
		char f[320];
		snprintf(f, sizeof(f), "%s/held", sub);
		ok = open(f, O_RDWR | O_CREAT, 0644) >= 0 && chdir("/") == 0;
	}
	(void)!write(ready, ok ? "y" : "n", 1);
	for (;;)
		pause();
}

TEST(dir_user)
{
	char dir[64] = "/tmp/spex-busy-XXXXXX", sub[128], cmd[320];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/spark-1/userFiles-1", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s2'", sub, dir);
	CHECK_EQ_INT(system(cmd), 0);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char sib[80];
	snprintf(sib, sizeof(sib), "%s2", dir); /* a sibling sharing the prefix */
	int sibfd = open(sib, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK_EQ_INT(procinfo_dir_user(fd), 0); /* our own cwd and fds do not count */
	for (const char *how = "cf"; *how; how++) {
		int p[2];
		char c = 0;
		CHECK_EQ_INT(pipe(p), 0);
		pid_t pid = child_in(sub, *how, p[1]);
		close(p[1]);
		CHECK_EQ_INT(read(p[0], &c, 1), 1);
		close(p[0]);
		CHECK_EQ_INT(c, 'y');
		CHECK_EQ_INT(procinfo_dir_user(fd), pid);
		CHECK_EQ_INT(procinfo_dir_user(sibfd), 0);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	CHECK_EQ_INT(procinfo_dir_user(fd), 0);
	CHECK_EQ_INT(procinfo_dir_user(-1), -1); /* no path to compare with */
	close(fd);
	close(sibfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s2'", dir, dir);
	CHECK_EQ_INT(system(cmd), 0);
}

TEST(gc_policy)
{
	int64_t age;
	const int64_t H = 3600000;
	CHECK_EQ_INT(gc_decide(LIVENESS_DEAD, false, 0, 2 * H, H, &age), GC_RECLAIM);
	CHECK_EQ_INT(age, 2 * H);
	CHECK_EQ_INT(gc_decide(LIVENESS_DEAD, false, 0, H, H, &age), GC_RECLAIM); /* exactly */
	CHECK_EQ_INT(gc_decide(LIVENESS_DEAD, false, 0, H - 1, H, &age), GC_SKIP_YOUNG);
	CHECK_EQ_INT(gc_decide(LIVENESS_DEAD, false, 0, 5, 0, &age), GC_RECLAIM); /* no minimum */
	CHECK_EQ_INT(gc_decide(LIVENESS_DEAD, false, STATE_NONE, 5, H, &age), GC_SKIP_YOUNG);
	CHECK_EQ_INT(age, STATE_NONE);
	CHECK_EQ_INT(gc_decide(LIVENESS_DEAD, false, 10 * H, H, 0, &age), GC_RECLAIM);
	CHECK_EQ_INT(age, 0); /* written in the future: age 0 */
	CHECK_EQ_INT(gc_decide(LIVENESS_DEAD, false, 10 * H, H, 1, &age), GC_SKIP_YOUNG);
	CHECK_EQ_INT(gc_decide(LIVENESS_LIVE, false, 0, 100 * H, H, &age), GC_SKIP_LIVE);
	CHECK_EQ_INT(gc_decide(LIVENESS_UNKNOWN, false, 0, 100 * H, 0, &age), GC_SKIP_UNKNOWN);
	CHECK_EQ_INT(gc_decide(LIVENESS_DEAD, true, 0, 100 * H, 0, &age), GC_SKIP_BUSY);
	/* Written in year 1 (hostile), now the largest SPEX_NOW: clamped. */
	CHECK_EQ_INT(
	    gc_decide(LIVENESS_DEAD, false, -62135596800000LL, INT64_MAX / 1000 * 1000, H, &age),
	    GC_RECLAIM);
	CHECK_EQ_INT(age, INT64_MAX);
	CHECK_EQ_STR(gc_verdict_text(GC_SKIP_YOUNG), "too recent");
}

TEST(ls_order)
{
	struct sandbox_ref refs[4] = {{.rel = "d"}, {.rel = "a"}, {.rel = "c"}, {.rel = "b"}};
	struct sandbox_summary v[4] = {0};
	uint64_t totals[4] = {5, 9, 9, 0};
	for (int i = 0; i < 4; i++) {
		v[i].ref = &refs[i];
		v[i].scanned = i != 3; /* not scanned counts as 0 */
		v[i].scan.total_bytes = totals[i] + (i == 3 ? 100 : 0);
	}
	summary_sort(v, 4);
	CHECK_EQ_STR(v[0].ref->rel, "a"); /* 9, then by path */
	CHECK_EQ_STR(v[1].ref->rel, "c");
	CHECK_EQ_STR(v[2].ref->rel, "d");
	CHECK_EQ_STR(v[3].ref->rel, "b");
	uint64_t cats[CAT_COUNT] = {0};
	CHECK_EQ_INT(summary_top(cats), -1);
	cats[CAT_LOGS] = 5;
	cats[CAT_DIST] = 5; /* a tie: the first in enum order */
	CHECK_EQ_INT(summary_top(cats), CAT_DIST);
	cats[CAT_OTHER] = 6;
	CHECK_EQ_INT(summary_top(cats), CAT_OTHER);
}

int
main(void)
{
	RUN(parse_full);
	RUN(parse_refuses);
	RUN(parse_tolerates_types);
	RUN(liveness_rule);
	RUN(liveness_pid_namespace);
	RUN(liveness_of_ourselves);
	RUN(stat_parse);
	RUN(process_tree);
	RUN(history);
	RUN(history_hostile_numbers);
	RUN(parse_hostile_numbers);
	RUN(load_from_a_sandbox);
	RUN(path_within);
	RUN(dir_user);
	RUN(gc_policy);
	RUN(ls_order);
	return harness_done();
}
