"""KILL, kill policies, SHUTDOWN, and process-tree cleanup."""

import os
import signal
import time

from agent import harness
from agent.fake_agent import command_task, mesos_pb2, spark_task_info
from helpers import (T, assert_exits_zero, read_pid, read, spark_env, spark_info, subscribe,
                     term_ignoring_task, wait_file, waiting_task)

KILLED = mesos_pb2.TASK_KILLED


def _start(agent, sandbox, start_executor, task):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    agent.launch(task)
    tid = task.task_id.value
    agent.wait_update(tid, "TASK_RUNNING", T(10))
    if "echo $$ > %s.pid" % tid in task.command.value:
        read_pid(sandbox, tid + ".pid")  # its SIGTERM trap is in place
    return ex


def _kill_and_time(agent, task_id, grace_secs=None, timeout=None):
    t0 = agent.kill(task_id, grace_secs)
    assert t0 is not None, "no event stream to send KILL on (executor gone?)"
    agent.wait_terminal(task_id, timeout or T(15))
    rec = [u for u in agent.updates(task_id) if u.state_name == "TASK_KILLED"]
    assert rec, agent.states(task_id)
    return rec[0].time - t0


def test_kill_with_killing_state(agent, sandbox, start_executor):
    ex = _start(agent, sandbox, start_executor, command_task("t1", "sleep 60"))
    dt = _kill_and_time(agent, "t1")
    assert agent.states("t1") == ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_KILLED"]
    assert dt < T(2), "sleep dies on SIGTERM; TASK_KILLED took %.2fs" % dt
    assert_exits_zero(ex)


def test_kill_without_killing_capability(make_agent, sandbox, start_executor):
    agent = make_agent(capabilities=())
    ex = _start(agent, sandbox, start_executor, command_task("t1", "sleep 60"))
    _kill_and_time(agent, "t1")
    assert agent.states("t1") == ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLED"]
    assert_exits_zero(ex)


def test_kill_tree_jvm_ignoring_term(agent, sandbox, start_executor):
    """A JVM that ignores SIGTERM, with a grandchild that ignores it too:
    SIGKILL after the grace period; TASK_KILLED only when the whole tree is
    gone."""
    grace = 1.0
    env = spark_env(sandbox, run_ms=120000, FAKE_SPARK_IGNORE_TERM=1, FAKE_SPARK_CHILD=1,
                    FAKE_SPARK_CHILD_PIDFILE=os.path.join(sandbox, "child.pid"))
    task = spark_task_info(env=env, kill_grace_secs=grace)
    ex = _start(agent, sandbox, start_executor, task)
    info = spark_info(sandbox)
    jvm, child = info["pid"], info["childpid"]
    assert harness.pid_alive(jvm) and harness.pid_alive(child)
    dt = _kill_and_time(agent, "3")
    alive = [p for p in (jvm, child) if harness.pid_alive(p)]
    assert alive == [], "still alive after TASK_KILLED: %r" % alive
    assert grace <= dt < grace + T(3), "KILL -> TASK_KILLED took %.2fs" % dt
    assert "ignoring SIGTERM" in read(sandbox, "stderr")
    assert agent.states("3") == ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_KILLED"]
    assert harness.sandbox_processes(sandbox, exclude=(ex.pid,)) == []
    assert_exits_zero(ex)


DETACHING_TASK = (
    "trap '' TERM; "
    "setsid sh -c 'trap \"\" TERM; echo $$ > %(id)s.detached; while :; do sleep 0.1; done' "
    "</dev/null >/dev/null 2>&1 & "
    "echo $$ > %(id)s.pid; while :; do sleep 0.1; done")


def test_kill_tree_with_setsid_descendant(agent, sandbox, start_executor):
    """A descendant that left the task's session (setsid) and ignores
    SIGTERM is still part of the tree (Mesos' os::killtree follows parent
    links, groups and sessions): it must be gone by TASK_KILLED."""
    ex = _start(agent, sandbox, start_executor,
                command_task("t1", DETACHING_TASK % {"id": "t1"}, kill_grace_secs=1))
    detached = read_pid(sandbox, "t1.detached")
    sid = harness.proc_ppid_pgid_sid(detached)
    assert sid and sid[2] == detached, "test bug: the descendant did not get its own session"
    dt = _kill_and_time(agent, "t1")
    assert 1.0 <= dt < 1.0 + T(3), dt
    assert not harness.pid_alive(detached), "setsid'd descendant survived TASK_KILLED"
    assert harness.sandbox_processes(sandbox, exclude=(ex.pid,)) == []
    assert_exits_zero(ex)


def test_kill_policy_in_kill_event_wins(agent, sandbox, start_executor):
    ex = _start(agent, sandbox, start_executor, term_ignoring_task("t1", kill_grace_secs=30))
    dt = _kill_and_time(agent, "t1", grace_secs=1)
    assert 1.0 <= dt < 1.0 + T(3), dt
    assert_exits_zero(ex)


def test_kill_policy_from_task_info(agent, sandbox, start_executor):
    ex = _start(agent, sandbox, start_executor, term_ignoring_task("t1", kill_grace_secs=1))
    dt = _kill_and_time(agent, "t1")
    assert 1.0 <= dt < 1.0 + T(3), dt
    assert_exits_zero(ex)


def test_default_grace_is_3s(agent, sandbox, start_executor):
    ex = _start(agent, sandbox, start_executor, term_ignoring_task("t1"))
    dt = _kill_and_time(agent, "t1")
    assert 3.0 <= dt < 3.0 + T(3), dt
    assert_exits_zero(ex)


def test_repeated_kill_shortens(agent, sandbox, start_executor):
    ex = _start(agent, sandbox, start_executor, term_ignoring_task("t1", kill_grace_secs=20))
    t0 = agent.kill("t1")
    time.sleep(0.3)
    assert agent.states("t1")[-1] != "TASK_KILLED", "killed at once: %r" % agent.states("t1")
    t1 = agent.kill("t1", grace_secs=1)
    assert t0 is not None and t1 is not None
    agent.wait_terminal("t1", T(10))
    rec = [u for u in agent.updates("t1") if u.state_name == "TASK_KILLED"][0]
    assert rec.time - t1 >= 1.0 - 0.05
    assert rec.time - t0 < 1.3 + T(3)
    assert agent.states("t1") == ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_KILLED"]
    assert_exits_zero(ex)


def test_repeated_kill_never_extends(agent, sandbox, start_executor):
    ex = _start(agent, sandbox, start_executor, term_ignoring_task("t1"))
    t0 = agent.kill("t1", grace_secs=1)
    time.sleep(0.3)
    assert agent.states("t1")[-1] != "TASK_KILLED", "killed at once: %r" % agent.states("t1")
    agent.kill("t1", grace_secs=30)
    agent.wait_terminal("t1", T(10))
    rec = [u for u in agent.updates("t1") if u.state_name == "TASK_KILLED"][0]
    assert 1.0 <= rec.time - t0 < 1.0 + T(3), rec.time - t0
    assert agent.states("t1") == ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_KILLED"]
    assert_exits_zero(ex)


def test_kill_unknown_task_ignored(agent, sandbox, start_executor):
    ex = _start(agent, sandbox, start_executor, waiting_task("t1"))
    agent.kill("no-such-task", grace_secs=0)
    time.sleep(0.5)
    assert ex.alive()
    assert agent.updates("no-such-task") == []
    open(os.path.join(sandbox, "go"), "w").close()
    st = agent.wait_terminal("t1", T(10))
    assert st.state == mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)


def test_kill_after_finish_ignored(agent, sandbox, start_executor):
    ex = _start(agent, sandbox, start_executor, waiting_task("keep"))
    agent.launch(command_task("t1", "true"))
    assert agent.wait_terminal("t1", T(10)).state == mesos_pb2.TASK_FINISHED
    agent.kill("t1")
    time.sleep(0.5)
    assert agent.states("t1") == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    assert ex.alive()
    open(os.path.join(sandbox, "go"), "w").close()
    assert agent.wait_terminal("keep", T(10)).state == mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)


def test_shutdown(agent, sandbox, start_executor):
    ex = _start(agent, sandbox, start_executor, command_task("t1", "sleep 60"))
    agent.launch(command_task("t2", "sleep 60"))
    agent.wait_update("t2", "TASK_RUNNING", T(10))
    agent.shutdown()
    for t in ("t1", "t2"):
        assert agent.wait_terminal(t, T(10)).state == KILLED
    assert_exits_zero(ex, T(10))
    assert harness.sandbox_processes(sandbox, exclude=(ex.pid,)) == []


def test_shutdown_term_ignoring_tree(agent, sandbox, start_executor):
    """SHUTDOWN must get rid of a tree that ignores SIGTERM within the
    executor shutdown grace period (5 s here)."""
    ex = _start(agent, sandbox, start_executor, term_ignoring_task("t1", kill_grace_secs=30))
    pid = read_pid(sandbox, "t1.pid")
    t0 = agent.shutdown()
    st = agent.wait_terminal("t1", T(10))
    assert st.state == KILLED
    rec = [u for u in agent.updates("t1") if u.state == KILLED][0]
    assert rec.time - t0 < 5.0
    assert not harness.pid_alive(pid)
    assert_exits_zero(ex, T(10))


def test_executor_sigkilled_tree_dies(agent, sandbox, start_executor):
    """If the executor is SIGKILLed, the task's whole tree (the JVM and a
    grandchild that ignores SIGTERM) goes away within about 2 s."""
    env = spark_env(sandbox, run_ms=120000, FAKE_SPARK_IGNORE_TERM=1, FAKE_SPARK_CHILD=1,
                    FAKE_SPARK_CHILD_PIDFILE=os.path.join(sandbox, "child.pid"))
    ex = _start(agent, sandbox, start_executor, spark_task_info(env=env))
    info = spark_info(sandbox)
    wait_file(sandbox, "child.pid")
    jvm, child = info["pid"], info["childpid"]
    assert read_pid(sandbox, "child.pid") == child
    assert harness.pid_alive(jvm) and harness.pid_alive(child)
    ex.signal(signal.SIGKILL)
    ex.wait(T(5))
    left = harness.wait_pids_gone([jvm, child], T(2))
    assert left == [], "task processes survived the executor: %r" % left
    deadline = time.monotonic() + T(2)
    while harness.sandbox_processes(sandbox) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert harness.sandbox_processes(sandbox) == []


def test_executor_sigkilled_setsid_descendant_dies(agent, sandbox, start_executor):
    """Same with a descendant in its own session that ignores SIGTERM."""
    ex = _start(agent, sandbox, start_executor,
                command_task("t1", DETACHING_TASK % {"id": "t1"}))
    detached = read_pid(sandbox, "t1.detached")
    pid = read_pid(sandbox, "t1.pid")
    ex.signal(signal.SIGKILL)
    ex.wait(T(5))
    left = harness.wait_pids_gone([pid, detached], T(2))
    assert left == [], "task processes survived the executor: %r" % left
