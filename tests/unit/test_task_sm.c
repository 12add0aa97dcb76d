/* The task state machine: every input in every phase. */
#include "harness.h"
#include "task_sm.h"
#include "utf8.h"

#include <signal.h>
#include <sys/wait.h>

#define S(x)      MESOS__V1__TASK_STATE__##x
#define SEC       1000000000LL
#define EXITED(c) ((c) << 8)

static void
to_running(struct task_sm *sm, bool cap)
{
	struct task_action a;
	task_sm_init(sm, cap);
	task_sm_launch(sm, &a);
	task_sm_exec_ok(sm, &a);
}

TEST(launch_then_running)
{
	struct task_sm sm;
	struct task_action a;
	task_sm_init(&sm, false);
	task_sm_launch(&sm, &a);
	CHECK_EQ_INT(a.state, S(TASK_STARTING));
	task_sm_launch(&sm, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE); /* a second launch does nothing */
	task_sm_exec_ok(&sm, &a);
	CHECK_EQ_INT(a.state, S(TASK_RUNNING));
	task_sm_exec_ok(&sm, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE);
}

TEST(exit_mapping)
{
	struct task_sm sm;
	struct task_action a;

	to_running(&sm, false);
	task_sm_exited(&sm, EXITED(0), NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_FINISHED));
	CHECK_EQ_STR(a.message, "Command exited with status 0");

	to_running(&sm, false);
	task_sm_exited(&sm, EXITED(52), NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_FAILED));
	CHECK_EQ_STR(a.message, "Command exited with status 52");

	to_running(&sm, false);
	task_sm_exited(&sm, SIGKILL, NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_FAILED));
	CHECK_EQ_STR(a.message, "Command terminated with signal SIGKILL");

	to_running(&sm, false);
	task_sm_exited(&sm, SIGSEGV | 0x80, NULL, &a);
	CHECK_EQ_STR(a.message, "Command terminated with signal SIGSEGV (core dumped)");
}

TEST(exactly_one_terminal)
{
	struct task_sm sm;
	struct task_action a;
	to_running(&sm, true);
	task_sm_exited(&sm, EXITED(0), NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_FINISHED));
	task_sm_exited(&sm, EXITED(1), NULL, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE);
	task_sm_kill(&sm, KC_KILL, SEC, 0, &a);
	CHECK(a.state == TASK_NO_STATE && !a.sigterm && !a.sigkill);
	task_sm_exec_ok(&sm, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE);
	task_sm_timer(&sm, 100 * SEC, &a);
	CHECK(!a.sigkill);
	task_sm_exec_failed(&sm, 2, "x", &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE);
}

TEST(kill_with_capability)
{
	struct task_sm sm;
	struct task_action a;
	to_running(&sm, true);
	task_sm_kill(&sm, KC_KILL, 5 * SEC, 10 * SEC, &a);
	CHECK_EQ_INT(a.state, S(TASK_KILLING));
	CHECK(a.sigterm && !a.sigkill);
	CHECK_EQ_INT(a.timer_at_ns, 15 * SEC);
	task_sm_timer(&sm, 12 * SEC, &a); /* early: re-arm, no kill */
	CHECK(!a.sigkill && a.timer_at_ns == 15 * SEC);
	task_sm_timer(&sm, 15 * SEC, &a);
	CHECK(a.sigkill);
	task_sm_exited(&sm, SIGKILL, NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_KILLED));
}

TEST(kill_without_capability)
{
	struct task_sm sm;
	struct task_action a;
	to_running(&sm, false);
	task_sm_kill(&sm, KC_KILL, SEC, 0, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE); /* no TASK_KILLING on the wire */
	CHECK(a.sigterm);
	task_sm_exited(&sm, EXITED(0), NULL, &a); /* exit code does not matter */
	CHECK_EQ_INT(a.state, S(TASK_KILLED));
}

TEST(repeated_kill_only_shortens)
{
	struct task_sm sm;
	struct task_action a;
	to_running(&sm, true);
	task_sm_kill(&sm, KC_KILL, 20 * SEC, 0, &a);
	CHECK_EQ_INT(a.timer_at_ns, 20 * SEC);
	task_sm_kill(&sm, KC_KILL, 30 * SEC, 1 * SEC, &a); /* longer: ignored */
	CHECK(a.state == TASK_NO_STATE && !a.sigterm && a.timer_at_ns == 0 && !a.sigkill);
	task_sm_kill(&sm, KC_KILL, 5 * SEC, 2 * SEC, &a); /* shorter: 7 s */
	CHECK(a.state == TASK_NO_STATE && !a.sigterm);
	CHECK_EQ_INT(a.timer_at_ns, 7 * SEC);
	task_sm_kill(&sm, KC_KILL, 0, 3 * SEC, &a); /* zero grace: now */
	CHECK(a.sigkill);
	task_sm_kill(&sm, KC_KILL, 0, 4 * SEC, &a); /* SIGKILL only once */
	CHECK(!a.sigkill);
}

TEST(kill_before_exec_blocks_running)
{
	struct task_sm sm;
	struct task_action a;
	task_sm_init(&sm, true);
	task_sm_launch(&sm, &a);
	task_sm_kill(&sm, KC_KILL, SEC, 0, &a);
	CHECK_EQ_INT(a.state, S(TASK_KILLING));
	task_sm_exec_ok(&sm, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE); /* no RUNNING after KILLING */
	task_sm_exited(&sm, SIGTERM, NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_KILLED));
}

TEST(kill_in_new_is_ignored)
{
	struct task_sm sm;
	struct task_action a;
	task_sm_init(&sm, true);
	task_sm_kill(&sm, KC_KILL, SEC, 0, &a);
	CHECK(a.state == TASK_NO_STATE && !a.sigterm);
	task_sm_exited(&sm, 0, NULL, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE);
}

TEST(max_completion)
{
	struct task_sm sm;
	struct task_action a;
	to_running(&sm, true);
	task_sm_kill(&sm, KC_MAX_COMPLETION, 0, 0, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE); /* no KILLING for max_completion_time */
	CHECK(a.sigterm && a.sigkill);
	task_sm_exited(&sm, SIGKILL, NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_FAILED));
	CHECK(a.has_reason &&
	      a.reason == MESOS__V1__TASK_STATUS__REASON__REASON_MAX_COMPLETION_TIME_REACHED);
}

TEST(shutdown_and_executor_kills)
{
	struct task_sm sm;
	struct task_action a;
	to_running(&sm, false);
	task_sm_kill(&sm, KC_SHUTDOWN, SEC, 0, &a);
	task_sm_exited(&sm, EXITED(143), NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_KILLED));
	to_running(&sm, false);
	task_sm_kill(&sm, KC_EXECUTOR, 0, 0, &a);
	task_sm_exited(&sm, SIGKILL, NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_FAILED));
}

TEST(exec_failed)
{
	struct task_sm sm;
	struct task_action a;
	task_sm_init(&sm, false);
	task_sm_launch(&sm, &a);
	task_sm_exec_failed(&sm, 2, "/nonexistent", &a);
	CHECK_EQ_INT(a.state, S(TASK_FAILED));
	CHECK_EQ_STR(a.message, "Failed to execute '/nonexistent': No such file or directory");
	task_sm_exited(&sm, EXITED(127), NULL, &a); /* the 127 exit that follows: nothing */
	CHECK_EQ_INT(a.state, TASK_NO_STATE);
}

TEST(launch_failed)
{
	struct task_sm sm;
	struct task_action a;
	task_sm_init(&sm, false);
	task_sm_launch(&sm, &a);
	task_sm_launch_failed(&sm, 21, "launch failed: x", &a);
	CHECK_EQ_INT(a.state, S(TASK_FAILED));
	CHECK(a.has_reason && a.reason == 21);
	task_sm_launch_failed(&sm, 21, "again", &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE);
}

TEST(oom_causes)
{
	struct task_sm sm;
	struct task_action a;
	struct exit_info cg = {.cgroup_oom = true, .oom_message = "memory limit 256 MiB exceeded"};
	struct exit_info jvm = {.jvm_oom = true};

	to_running(&sm, false);
	task_sm_exited(&sm, SIGKILL, &cg, &a);
	CHECK_EQ_INT(a.state, S(TASK_FAILED));
	CHECK(a.has_reason &&
	      a.reason == MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY);
	CHECK_EQ_STR(a.message, "memory limit 256 MiB exceeded");
	CHECK(a.n_labels == 1 && strcmp(a.labels[0].value, "cgroup") == 0);

	to_running(&sm, false);
	task_sm_exited(&sm, EXITED(52), &jvm, &a);
	CHECK_EQ_INT(a.state, S(TASK_FAILED));
	CHECK(!a.has_reason);
	CHECK_EQ_STR(a.message, "Command exited with status 52: Java heap exhausted "
	                        "(java.lang.OutOfMemoryError); raise spark.executor.memory");

	/* A kill the framework asked for wins over an OOM that raced it. */
	to_running(&sm, false);
	task_sm_kill(&sm, KC_KILL, SEC, 0, &a);
	task_sm_exited(&sm, SIGKILL, &cg, &a);
	CHECK_EQ_INT(a.state, S(TASK_KILLED));

	CHECK(task_jvm_oom(EXITED(52), NULL));
	CHECK(task_jvm_oom(
	    EXITED(1),
	    "x\nException in thread \"main\" java.lang.OutOfMemoryError: Java heap space\n"));
	CHECK(!task_jvm_oom(EXITED(0), "java.lang.OutOfMemoryError"));
	CHECK(!task_jvm_oom(EXITED(1), "plain failure"));
}

TEST(labels_bounded)
{
	struct task_action a = {0};
	for (int i = 0; i < TASK_MAX_LABELS + 5; i++)
		task_action_label(&a, "k", "%d", i);
	CHECK_EQ_INT(a.n_labels, TASK_MAX_LABELS);
	char last[8];
	snprintf(last, sizeof(last), "%d", TASK_MAX_LABELS - 1);
	CHECK_EQ_STR(a.labels[TASK_MAX_LABELS - 1].value, last);
}

TEST(limit_kill_and_reports)
{
	struct task_sm sm;
	struct task_action a;
	to_running(&sm, true);
	task_sm_report(&sm, &a);
	CHECK_EQ_INT(a.state, S(TASK_RUNNING));
	task_sm_limit(&sm, 20, "disk limit 1 GiB exceeded", 2 * SEC, 0, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE); /* no TASK_KILLING for a limit */
	CHECK(a.sigterm && a.timer_at_ns == 2 * SEC);
	task_sm_report(&sm, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE);   /* no RUNNING while killing */
	task_sm_kill(&sm, KC_KILL, SEC, 0, &a); /* a later KILL keeps the first cause */
	task_sm_exited(&sm, SIGKILL, NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_FAILED));
	CHECK(a.has_reason && a.reason == 20);
	CHECK_EQ_STR(a.message, "disk limit 1 GiB exceeded");
	task_sm_report(&sm, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE);
	/* Starting: no report yet. */
	task_sm_init(&sm, false);
	task_sm_launch(&sm, &a);
	task_sm_report(&sm, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE);
}

TEST(health_kill)
{
	struct task_sm sm;
	struct task_action a;
	/* As a KILL: TASK_KILLING with the capability, grace, then KILLED,
	 * and the terminal update says healthy=false. */
	to_running(&sm, true);
	task_sm_kill(&sm, KC_HEALTH, 3 * SEC, 0, &a);
	CHECK_EQ_INT(a.state, S(TASK_KILLING));
	CHECK(a.sigterm && !a.sigkill && a.timer_at_ns == 3 * SEC);
	CHECK(!a.has_healthy);
	task_sm_exited(&sm, EXITED(0), NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_KILLED));
	CHECK(a.has_healthy && !a.healthy);
	CHECK(!a.has_reason);
	/* Without the capability: no KILLING, the same end. */
	to_running(&sm, false);
	task_sm_kill(&sm, KC_HEALTH, 3 * SEC, 0, &a);
	CHECK_EQ_INT(a.state, TASK_NO_STATE);
	CHECK(a.sigterm);
	task_sm_exited(&sm, SIGTERM, NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_KILLED));
	CHECK(a.has_healthy && !a.healthy);
	/* A KILL first keeps its cause: no healthy on the terminal update. */
	to_running(&sm, true);
	task_sm_kill(&sm, KC_KILL, 3 * SEC, 0, &a);
	task_sm_kill(&sm, KC_HEALTH, 3 * SEC, 0, &a);
	task_sm_exited(&sm, SIGTERM, NULL, &a);
	CHECK_EQ_INT(a.state, S(TASK_KILLED));
	CHECK(!a.has_healthy);
	/* Other ends never carry healthy. */
	to_running(&sm, false);
	task_sm_exited(&sm, EXITED(0), NULL, &a);
	CHECK(!a.has_healthy);
}

TEST(terminal_set)
{
	int terminal[] = {
	    S(TASK_FINISHED), S(TASK_FAILED),  S(TASK_KILLED), S(TASK_ERROR),
	    S(TASK_LOST),     S(TASK_DROPPED), S(TASK_GONE),   S(TASK_GONE_BY_OPERATOR)};
	int live[] = {S(TASK_STAGING),
	              S(TASK_STARTING),
	              S(TASK_RUNNING),
	              S(TASK_KILLING),
	              S(TASK_UNREACHABLE),
	              S(TASK_UNKNOWN),
	              99};
	for (size_t i = 0; i < sizeof(terminal) / sizeof(terminal[0]); i++)
		CHECK(task_state_is_terminal(terminal[i]));
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		CHECK(!task_state_is_terminal(live[i]));
	CHECK_EQ_STR(task_state_name(S(TASK_RUNNING)), "TASK_RUNNING");
	CHECK_EQ_STR(task_state_name(99), "TASK_99");
}

TEST(cut_messages_stay_utf8)
{
	struct task_sm sm;
	struct task_action act;
	char msg[600];

	/* 300 two-byte characters: the 255-byte message cuts one in half. */
	for (int i = 0; i < 300; i++)
		memcpy(msg + 2 * i, "\xc3\xa9", 2);
	msg[600 - 1] = '\0';
	task_sm_init(&sm, false);
	task_sm_launch(&sm, &act);
	task_sm_launch_failed(&sm, 1, msg, &act);
	CHECK(strlen(act.message) >= sizeof(act.message) - 2);
	CHECK(utf8_valid(act.message, strlen(act.message), NULL));

	task_sm_init(&sm, false);
	task_sm_launch(&sm, &act);
	task_sm_exec_failed(&sm, 2, msg, &act);
	CHECK(utf8_valid(act.message, strlen(act.message), NULL));
}

int
main(void)
{
	RUN(launch_then_running);
	RUN(exit_mapping);
	RUN(exactly_one_terminal);
	RUN(kill_with_capability);
	RUN(kill_without_capability);
	RUN(repeated_kill_only_shortens);
	RUN(kill_before_exec_blocks_running);
	RUN(kill_in_new_is_ignored);
	RUN(max_completion);
	RUN(shutdown_and_executor_kills);
	RUN(exec_failed);
	RUN(launch_failed);
	RUN(oom_causes);
	RUN(labels_bounded);
	RUN(limit_kill_and_reports);
	RUN(health_kill);
	RUN(terminal_set);
	RUN(cut_messages_stay_utf8);
	return harness_done();
}
