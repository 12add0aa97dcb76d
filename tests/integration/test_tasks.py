"""Task lifecycle: launch, environment, argv, exit mapping, Spark end to end."""

import glob
import os
import re
import time

import pytest

from agent import harness
from agent.fake_agent import command_task, mesos_pb2, spark_task_info
from helpers import (SIGNAL_MSG, T, assert_exits_zero, raw_reason, read, run_to_terminal,
                     spark_env, spark_info, subscribe, waiting_task)

FINISHED = mesos_pb2.TASK_FINISHED
FAILED = mesos_pb2.TASK_FAILED


def test_shell_task_finished(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task(
        "t1", 'echo "out $MESOS_SANDBOX"; echo err-line >&2; pwd > cwd.txt'))
    assert st.state == FINISHED
    assert st.message == "Command exited with status 0"
    assert agent.states("t1") == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    assert "out %s\n" % sandbox in read(sandbox, "stdout")
    assert "err-line\n" in read(sandbox, "stderr")
    assert read(sandbox, "cwd.txt").strip() == sandbox
    assert_exits_zero(ex)


def test_shell_defaults_to_true(agent, sandbox, start_executor):
    """CommandInfo.shell unset means true (proto2 default)."""
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    task = command_task("t1", "echo a > a.txt && echo b >> a.txt", shell_unset=True)
    assert not task.command.HasField("shell")
    st = run_to_terminal(agent, ex, task)
    assert st.state == FINISHED
    assert read(sandbox, "a.txt") == "a\nb\n"
    assert_exits_zero(ex)


def test_exit_code_failed(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("t1", "exit 3"))
    assert st.state == FAILED
    assert st.message == "Command exited with status 3"
    assert agent.states("t1") == ["TASK_STARTING", "TASK_RUNNING", "TASK_FAILED"]
    assert_exits_zero(ex)


def test_signal_failed(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("t1", "kill -KILL $$"))
    assert st.state == FAILED
    assert SIGNAL_MSG.match(st.message), st.message
    # strsignal(SIGKILL) is "Killed" (what Mesos prints); a signal name is fine too.
    assert re.search(r"Killed|KILL", st.message), st.message
    assert_exits_zero(ex)


def test_exec_failure(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    task = command_task("t1", "/nonexistent/spex-no-such-binary", shell=False,
                        arguments=["spex-no-such-binary", "--flag"])
    st = run_to_terminal(agent, ex, task)
    assert st.state == FAILED
    assert "No such file or directory" in st.message, st.message
    assert "TASK_RUNNING" not in agent.states("t1")
    assert agent.states("t1") == ["TASK_STARTING", "TASK_FAILED"]
    assert_exits_zero(ex)


HOSTILE = [
    "plain",
    "with space",
    "  leading and trailing  ",
    "",
    "'single quotes'",
    '"double quotes"',
    "$HOME ${PATH} $(id) `id`",
    "back\\slash\\n",
    "semi;colon && pipe | amp & redirect > /dev/null",
    "*.glob ? [a-z]",
    "tab\there",
    "new\nline",
    "--flag=value",
    "-",
    "ünïcödé ✓ 日本語 \U0001F600",
    "",
]


def test_argv_byte_exact(agent, sandbox, start_executor):
    """shell=false: value is the executable, arguments the whole argv
    (argv[0] included), passed through byte for byte."""
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    argv = ["spex-argv0-name", "-c", 'cat /proc/$$/cmdline > argv.bin', "sh-dollar-0"] + HOSTILE
    task = command_task("t1", "/bin/sh", shell=False, arguments=argv)
    st = run_to_terminal(agent, ex, task)
    assert st.state == FINISHED, st.message
    got = read(sandbox, "argv.bin", "rb")
    want = b"".join(a.encode("utf-8") + b"\0" for a in argv)
    assert got == want
    assert_exits_zero(ex)


def test_shell_false_relative_executable_uses_path(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    task = command_task("t1", "sh", shell=False, arguments=["sh", "-c", "echo via-path > p.txt"])
    st = run_to_terminal(agent, ex, task)
    assert st.state == FINISHED, st.message
    assert read(sandbox, "p.txt") == "via-path\n"
    assert_exits_zero(ex)


def _env0(path):
    with open(path, "rb") as f:
        data = f.read()
    env = {}
    for entry in data.split(b"\0"):
        if entry:
            k, _, v = entry.partition(b"=")
            env[k.decode()] = v.decode("utf-8", "surrogateescape")
    return env


def test_task_environment(agent, sandbox, start_executor):
    """Task env = executor env + CommandInfo env (later wins) + MESOS_SANDBOX."""
    ex = start_executor(agent, sandbox, env_overrides={"FOO": "from-executor",
                                                       "KEEP": "kept"})
    subscribe(agent, ex)
    task = command_task("t1", "env -0 > env.bin",
                        env={"FOO": "from-task", "BAR": "b a r", "EMPTY": "",
                             "UNI": "ü ✓"})
    st = run_to_terminal(agent, ex, task)
    assert st.state == FINISHED
    env = _env0(os.path.join(sandbox, "env.bin"))
    assert env["FOO"] == "from-task"
    assert env["BAR"] == "b a r"
    assert env["EMPTY"] == ""
    assert env["UNI"] == "ü ✓"
    assert env["KEEP"] == "kept"
    assert env["MESOS_SANDBOX"] == sandbox
    assert env["MESOS_FRAMEWORK_ID"] == agent.framework_id
    assert env["MESOS_EXECUTOR_ID"] == agent.executor_id
    assert env["PATH"] == harness.MESOS_PATH
    assert "MESOS_EXECUTOR_AUTHENTICATION_TOKEN" not in env
    assert_exits_zero(ex)


def test_mesos_directory_only(agent, sandbox, start_executor):
    """Without MESOS_SANDBOX the sandbox is MESOS_DIRECTORY; the task still
    gets MESOS_SANDBOX, so Spark's blockmgr lands in the sandbox."""
    ex = start_executor(agent, sandbox, env_overrides={"MESOS_SANDBOX": None,
                                                       "SPEX_CLEANUP": "none"})
    subscribe(agent, ex)
    task = spark_task_info(env=spark_env(sandbox, run_ms=200))
    st = run_to_terminal(agent, ex, task, T(30))
    assert st.state == FINISHED, st.message
    info = spark_info(sandbox)
    assert info["env"].get("MESOS_SANDBOX") == sandbox
    assert os.path.dirname(info["blockmgr"]) == sandbox
    assert os.path.isdir(info["blockmgr"])
    assert_exits_zero(ex)


def test_spark_fixture_end_to_end(agent, sandbox, start_executor):
    """The Spark fixture TaskInfo, unchanged, through the fake Spark
    distribution and a real JVM. With SPEX_KEEP_SHUFFLE=1 the cleanup at the
    end keeps the shuffle files and removes the other block-manager files."""
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_KEEP_SHUFFLE": "1"})
    subscribe(agent, ex)
    task = spark_task_info()
    st = run_to_terminal(agent, ex, task, T(30))
    assert agent.states("3") == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    assert st.message == "Command exited with status 0"
    dirs = glob.glob(os.path.join(sandbox, "blockmgr-*"))
    assert len(dirs) == 1, dirs
    files = glob.glob(os.path.join(dirs[0], "[0-9a-f][0-9a-f]", "shuffle_0_*_0.data"))
    assert files, os.listdir(dirs[0])
    assert glob.glob(os.path.join(dirs[0], "[0-9a-f][0-9a-f]", "shuffle_0_*_0.index"))
    assert glob.glob(os.path.join(dirs[0], "[0-9a-f][0-9a-f]", "rdd_*")) == []
    labels = {l.key: l.value for l in st.labels.labels}
    assert int(labels["spex.disk.kept_shuffle_files"]) == len(files) * 2
    assert int(labels["spex.disk.reclaimed_bytes"]) > 0
    # Spark's shutdown hook removed its spark-* temp dir.
    assert glob.glob(os.path.join(sandbox, "spark-????????-????-????-????-????????????")) == []
    err = read(sandbox, "stderr")
    assert "Started daemon with process name:" in err
    assert "Created local directory at %s/blockmgr-" % sandbox in err
    assert_exits_zero(ex)


def test_spark_missing_argument_fails(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    cmd = spark_task_info().command.value.replace(" --app-id 3f2a6c1e-8d4b-4e7a-9c21-5b0d7e9f1a42-0193", "")
    st = run_to_terminal(agent, ex, spark_task_info(command=cmd), T(30))
    assert st.state == FAILED
    assert st.message == "Command exited with status 1"
    assert "Missing required option --app-id" in read(sandbox, "stderr")
    assert_exits_zero(ex)


def test_spark_oom_exit_52(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    task = spark_task_info(env=spark_env(sandbox, FAKE_SPARK_OOM=1,
                                         FAKE_SPARK_JAVA_OPTS="-Xmx24m"))
    st = run_to_terminal(agent, ex, task, T(30))
    assert st.state == FAILED
    # The exit status must be reported; spex may add a Spark-specific hint.
    assert "Command exited with status 52" in st.message, st.message
    assert "java.lang.OutOfMemoryError: Java heap space" in read(sandbox, "stderr")
    assert_exits_zero(ex)


def test_multiple_tasks(agent, sandbox, start_executor):
    """Several LAUNCHes; the executor exits when the last one is done and
    ACKed, not before."""
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    agent.launch(waiting_task("t1", flag="go1"))
    agent.launch(waiting_task("t2", flag="go2"))
    agent.wait_update("t1", "TASK_RUNNING", T(10))
    agent.wait_update("t2", "TASK_RUNNING", T(10))
    open(os.path.join(sandbox, "go1"), "w").close()
    assert agent.wait_terminal("t1", T(10)).state == FINISHED
    time.sleep(0.5)
    assert ex.alive(), "executor exited with a task still running"
    open(os.path.join(sandbox, "go2"), "w").close()
    assert agent.wait_terminal("t2", T(10)).state == FINISHED
    assert_exits_zero(ex)


def test_exit_only_after_terminal_ack(make_agent, sandbox, start_executor):
    agent = make_agent(drop_acks=True)
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("t1", "true"))
    assert st.state == FINISHED
    time.sleep(1.5)
    assert ex.alive(), "executor exited before its terminal update was ACKed"
    t_ack = time.monotonic()
    agent.ack_all()
    rc = ex.wait(T(3))
    assert rc == 0
    assert ex.exited_at - t_ack < T(2)


def test_exit_waits_for_delayed_ack(make_agent, sandbox, start_executor):
    """ACKs arrive 2 s after each update: the executor is still alive just
    before the terminal ACK and exits soon after it."""
    agent = make_agent(ack_delay=2.0)
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    agent.launch(command_task("t1", "true"))
    rec = agent.wait_update_record("t1", "TASK_FINISHED", T(10))
    ack_due = rec.time + 2.0
    time.sleep(max(0.0, ack_due - 0.3 - time.monotonic()))
    assert ex.alive(), "executor exited before its terminal update was ACKed"
    rc = ex.wait(T(5))
    assert rc == 0
    assert ack_due - 0.05 <= ex.exited_at < ack_due + T(1.5)


@pytest.mark.slow
def test_failsafe_exit_without_ack(make_agent, sandbox, start_executor):
    """With ACKs never coming, the executor still exits after a failsafe
    (the built-in executor waits 60 s)."""
    agent = make_agent(drop_acks=True)
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    run_to_terminal(agent, ex, command_task("t1", "true"))
    ex.wait(150)


def test_launch_group_refused(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    agent.launch_group([command_task("g1", "sleep 30"), command_task("g2", "sleep 30")])
    for tid in ("g1", "g2"):
        st = agent.wait_terminal(tid, T(10))
        assert st.state == FAILED
        assert st.reason == mesos_pb2.TaskStatus.REASON_TASK_GROUP_INVALID
        assert re.search(r"(?i)task.?group", st.message) and \
            re.search(r"(?i)not supported", st.message), st.message
        assert "TASK_RUNNING" not in agent.states(tid)
    assert_exits_zero(ex)


def test_max_completion_time(agent, sandbox, start_executor):
    """TaskInfo.max_completion_time (field 14, newer than the mesos-go
    protos): killed with no grace, TASK_FAILED +
    REASON_MAX_COMPLETION_TIME_REACHED (33), no TASK_KILLING."""
    from agent import protos
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    task = command_task("t1", "trap '' TERM; while :; do sleep 0.1; done", kill_grace_secs=30)
    raw = protos.with_max_completion_time(task.SerializeToString(), 1000000000)
    t0 = agent.launch_raw(raw, "t1")
    st = agent.wait_terminal("t1", T(10))
    rec = [u for u in agent.updates("t1") if u.state == st.state][0]
    assert st.state == FAILED, st
    assert raw_reason(st) == protos.REASON_MAX_COMPLETION_TIME_REACHED
    assert "TASK_KILLING" not in agent.states("t1")
    assert 1.0 <= rec.time - t0 < 1.0 + T(3)
    assert_exits_zero(ex)


def test_stdout_stderr_appended_by_tasks(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    agent.launch(waiting_task("keep"))  # keeps the executor alive in between
    agent.wait_update("keep", "TASK_RUNNING", T(10))
    for i in (1, 2):
        st = run_to_terminal(agent, ex, command_task("t%d" % i, "echo out%d; echo err%d >&2"
                                                     % (i, i)))
        assert st.state == FINISHED
    out = read(sandbox, "stdout")
    err = read(sandbox, "stderr")
    assert "out1\n" in out and "out2\n" in out
    assert "err1\n" in err and "err2\n" in err
    open(os.path.join(sandbox, "go"), "w").close()
    assert agent.wait_terminal("keep", T(10)).state == FINISHED
    assert_exits_zero(ex)
