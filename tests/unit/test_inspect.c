/*
 * spex inspect's pure parts: spotting log markers and deciding the
 * warnings from a gathered view.
 */
#include "harness.h"

#include "inspect.h"
#include "util.h"

#include <stdlib.h>

#define MIB (1024ull * 1024)

TEST(markers)
{
	uint64_t n = 0;
	static const char head[] =
	    "\n[spex: 00000000000123456789 bytes dropped here; SPEX_LOG_HEAD=4194304 "
	    "SPEX_LOG_TAIL=33554432]\nmore";
	static const char gc[] = "[spex gc: 00000000000000241664 bytes dropped here]\ntail";

	CHECK_EQ_INT(inspect_find_marker(head, sizeof(head) - 1, true, &n), 1);
	CHECK_EQ_INT(n, 123456789);
	CHECK_EQ_INT(inspect_find_marker(gc, sizeof(gc) - 1, false, &n), 1);
	CHECK_EQ_INT(n, 241664);
	CHECK_EQ_INT(inspect_find_marker(gc, sizeof(gc) - 1, true, &n), 0);      /* wrong place */
	CHECK_EQ_INT(inspect_find_marker(head, sizeof(head) - 1, false, &n), 0); /* ditto */
	CHECK_EQ_INT(inspect_find_marker("plain output\n", 13, false, &n), 0);
	CHECK_EQ_INT(inspect_find_marker("[spex gc: 12", 12, false, &n), 0); /* cut short */
	CHECK_EQ_INT(inspect_find_marker("", 0, true, &n), 0);
}

static bool
has(const struct inspect_view *v, const char *kind)
{
	for (size_t i = 0; i < v->nwarn; i++) {
		if (strcmp(v->warn[i].kind, kind) == 0)
			return true;
	}
	return false;
}

static void
drop_warnings(struct inspect_view *v)
{
	for (size_t i = 0; i < v->nwarn; i++)
		free(v->warn[i].message);
	free(v->warn);
	v->warn = NULL;
	v->nwarn = 0;
}

/* A view of a dead sandbox with nothing to warn about (the warnings of the
 * previous view released). */
static void
quiet(struct inspect_view *v, struct state_task *task)
{
	drop_warnings(v);
	memset(v, 0, sizeof(*v));
	memset(task, 0, sizeof(*task));
	v->log_head = 4 * MIB;
	v->log_tail = 32 * MIB;
	v->live = LIVENESS_DEAD;
	v->has_state = true;
	v->st.tasks = task;
	v->st.ntasks = 1;
	task->id = "3";
	task->oom_kills = STATE_NONE;
	v->scanned = true;
	v->scan.total_bytes = 10 * MIB;
	v->scan.bytes[CAT_LOGS] = 10 * MIB;
	v->logs[0] = (struct inspect_log){.name = "stdout", .present = true, .size = MIB};
	v->logs[1] = (struct inspect_log){.name = "stderr", .present = false};
}

TEST(warnings)
{
	struct inspect_view v = {0};
	struct state_task t;

	quiet(&v, &t);
	inspect_warnings(&v);
	CHECK_EQ_INT(v.nwarn, 0);

	v.logs[0].size = 33 * MIB; /* >= 90% of 36 MiB */
	inspect_warnings(&v);
	CHECK(has(&v, "log_near_cap") && v.nwarn == 1);
	CHECK_EQ_STR(v.warn[0].path, "stdout");
	CHECK_EQ_STR(
	    v.warn[0].message,
	    "stdout is 33.0 MiB, near its cap of 36.0 MiB (SPEX_LOG_HEAD + SPEX_LOG_TAIL)");
	v.logs[0].capped = true;
	v.logs[0].dropped = 5 * MIB;
	inspect_warnings(&v); /* capped replaces near cap */
	CHECK(has(&v, "log_capped") && !has(&v, "log_near_cap"));
	CHECK_EQ_STR(v.warn[0].message, "stdout is capped: 5.0 MiB dropped (33.0 MiB kept)");

	quiet(&v, &t);
	v.scan.bytes[CAT_SHUFFLE] = 3 * MIB;
	v.scan.bytes[CAT_BLOCKS] = MIB;
	inspect_warnings(&v);
	CHECK(has(&v, "blockmgr_dead"));
	CHECK_EQ_INT(v.warn[0].bytes, 4 * MIB);
	v.live = LIVENESS_LIVE; /* a live executor's block manager is its business */
	inspect_warnings(&v);
	CHECK(!has(&v, "blockmgr_dead"));
	v.live = LIVENESS_UNKNOWN;
	inspect_warnings(&v);
	CHECK(!has(&v, "blockmgr_dead"));

	quiet(&v, &t);
	v.disk_limit = 11 * MIB; /* 10 of 11 MiB: 91% */
	inspect_warnings(&v);
	CHECK(has(&v, "disk_near_limit"));
	v.disk_limit = 12 * MIB; /* 83% */
	inspect_warnings(&v);
	CHECK(!has(&v, "disk_near_limit"));

	quiet(&v, &t);
	t.oom = true;
	t.exit_oom = "jvm";
	t.exit_message = "java.lang.OutOfMemoryError: Java heap space";
	inspect_warnings(&v);
	CHECK(has(&v, "oom"));
	CHECK_EQ_STR(v.warn[0].message,
	             "task 3 ran out of memory (jvm): java.lang.OutOfMemoryError: Java heap space");
	quiet(&v, &t);
	t.oom_kills = 2; /* the cgroup counted kills though no update said so */
	inspect_warnings(&v);
	CHECK(has(&v, "oom"));

	quiet(&v, &t);
	v.state_error = "x/.spex/state.json: not a JSON object";
	inspect_warnings(&v);
	CHECK(has(&v, "state_unreadable"));
	drop_warnings(&v);
}

int
main(void)
{
	RUN(markers);
	RUN(warnings);
	return harness_done();
}
