"""Per-task cgroups on this machine's real cgroup v1 hierarchy.

These need root and writable v1 memory/cpu/pids controllers under
/sys/fs/cgroup; without them each test is skipped with the reason (counted
as skipped, never as passed). cgroup v2 is covered by tests/unit/test_cgroup.c
over a fake tree only.
"""

import os
import pwd
import time

import pytest

from agent import harness
from agent.fake_agent import command_task, spark_task_info
from helpers import (T, assert_exits_zero, raw_reason, run_to_terminal, spark_env, spark_info,
                     subscribe, wait_for, wait_file)

ROOT = "/sys/fs/cgroup"
REASON_CONTAINER_LIMITATION_MEMORY = 8
REASON_CONTAINER_LAUNCH_FAILED = 21


def _v1_problem():
    if os.geteuid() != 0:
        return "needs root"
    for ctrl in ("memory", "cpu", "pids"):
        path = os.path.join(ROOT, ctrl)
        if not os.path.exists(os.path.join(path, "cgroup.procs")):
            return "no cgroup v1 %s hierarchy at %s" % (ctrl, path)
    if not os.access(os.path.join(ROOT, "memory"), os.W_OK):
        return "cgroup v1 memory hierarchy not writable"
    return None


pytestmark = pytest.mark.skipif(_v1_problem() is not None, reason=_v1_problem() or "")


def own_cgroup(ctrl):
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if ctrl in ctrls.split(","):
                return path
    return None


def task_cgroup_dirs(ex_pid, task_id):
    """Where spex puts the task: spex-<executor pid>-<task id> under the
    executor's own cgroup (the executor inherits ours)."""
    out = {}
    for ctrl in ("memory", "cpu", "pids"):
        base = os.path.join(ROOT, ctrl) + own_cgroup(ctrl).rstrip("/")
        out[ctrl] = os.path.join(base, "spex-%d-%s" % (ex_pid, task_id))
    return out


def labels(status):
    return {l.key: l.value for l in status.labels.labels}


def set_resource(task, name, value):
    for r in task.resources:
        if r.name == name:
            r.scalar.value = value
            return
    r = task.resources.add()
    r.name = name
    r.type = 0
    r.scalar.value = value


def test_limits_written_and_cgroup_removed(agent, sandbox, start_executor):
    """cpu.shares, memory limits and pids.max read back from the task's own
    cgroup while it runs; the cgroup is gone afterwards, and the task's
    processes were never moved to the root cgroup."""
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_PIDS_MAX": "123"})
    subscribe(agent, ex)
    task = command_task("cg1", "echo $$ > cg.pid; cat /proc/self/cgroup > cg.tmp; mv cg.tmp cgroup.txt; "
                        "while [ ! -e go ]; do sleep 0.05; done")
    set_resource(task, "cpus", 1.5)
    set_resource(task, "mem", 300)
    agent.launch(task)
    running = agent.wait_update("cg1", "TASK_RUNNING", T(10))
    wait_file(sandbox, "cgroup.txt")
    dirs = task_cgroup_dirs(ex.pid, "cg1")
    with open(os.path.join(dirs["cpu"], "cpu.shares")) as f:
        assert int(f.read()) == 1536
    with open(os.path.join(dirs["memory"], "memory.limit_in_bytes")) as f:
        assert int(f.read()) == 300 * 1024 * 1024
    with open(os.path.join(dirs["memory"], "memory.soft_limit_in_bytes")) as f:
        assert int(f.read()) == 300 * 1024 * 1024
    with open(os.path.join(dirs["pids"], "pids.max")) as f:
        assert int(f.read()) == 123
    text = open(os.path.join(sandbox, "cgroup.txt")).read()
    assert "spex-%d-cg1" % ex.pid in text  # the command itself runs inside
    lab = labels(running)
    assert lab["spex.mem.limit_bytes"] == str(300 * 1024 * 1024)
    assert lab["spex.cgroup"] == dirs["memory"]
    shell_pid = int(open(os.path.join(sandbox, "cg.pid")).read())
    open(os.path.join(sandbox, "go"), "w").close()
    st = agent.wait_terminal("cg1", T(10))
    assert st.state == 2, st.message  # FINISHED
    assert "spex.mem.peak_bytes" in labels(st)
    for d in dirs.values():
        assert not os.path.exists(d), "cgroup %s left behind" % d
    assert not harness.pid_alive(shell_pid)
    root_procs = open(os.path.join(ROOT, "memory", "cgroup.procs")).read().split()
    assert str(shell_pid) not in root_procs
    assert_exits_zero(ex)


def test_cgroup_oom_kill_reported(agent, sandbox, start_executor, java_classes):
    """The Spark-like JVM with mem = 256 MB allocating past it: the kernel
    kills it in its cgroup, and the update says so with the right reason."""
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    env = spark_env(sandbox, FAKE_SPARK_OOM=1, SPARK_EXECUTOR_MEMORY="1024m")
    task = spark_task_info(env=env)
    set_resource(task, "mem", 256)
    st = run_to_terminal(agent, ex, task, T(60))
    assert st.state == 3, st.message  # FAILED
    assert raw_reason(st) == REASON_CONTAINER_LIMITATION_MEMORY
    assert st.message.startswith("memory limit 256 MiB exceeded (peak "), st.message
    assert "-Xmx 1024m" in st.message
    lab = labels(st)
    assert lab["spex.oom"] == "cgroup"
    assert lab["spex.mem.limit_bytes"] == str(256 * 1024 * 1024)
    assert int(lab["spex.mem.peak_bytes"]) >= 200 * 1024 * 1024
    assert_exits_zero(ex)


def test_java_oom_is_not_a_cgroup_kill(agent, sandbox, start_executor, java_classes):
    """OutOfMemoryError in a small heap under a generous cgroup limit: the
    JVM exits 52 by itself; reported as a Java OOM, not a limitation."""
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    env = spark_env(sandbox, FAKE_SPARK_OOM=1, SPARK_EXECUTOR_MEMORY="64m")
    task = spark_task_info(env=env)
    set_resource(task, "mem", 1024)
    st = run_to_terminal(agent, ex, task, T(60))
    assert st.state == 3
    assert raw_reason(st) != REASON_CONTAINER_LIMITATION_MEMORY
    assert st.message == ("Command exited with status 52: Java heap exhausted "
                          "(java.lang.OutOfMemoryError); raise spark.executor.memory")
    assert labels(st)["spex.oom"] == "java"
    assert_exits_zero(ex)


def test_fork_bomb_capped_by_pids(agent, sandbox, start_executor):
    """pids.max caps a task that forks without end; the executor is unharmed
    and the task ends."""
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_PIDS_MAX": "40"})
    subscribe(agent, ex)
    script = ("/usr/bin/python3 -c '%s'" % (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while n < 200:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(5)\n"
        "            os._exit(0)\n"
        "        n += 1\n"
        "except OSError as e:\n"
        "    open(\"fork.err\", \"w\").write(str(e))\n"
        "open(\"forked.txt\", \"w\").write(str(n))\n"))
    st = run_to_terminal(agent, ex, command_task("bomb", script), T(30))
    forked = int(open(os.path.join(sandbox, "forked.txt")).read())
    assert forked < 40, "forked %d processes under pids.max=40" % forked
    assert "Resource temporarily unavailable" in open(os.path.join(sandbox, "fork.err")).read()
    assert st.state in (2, 3)
    assert_exits_zero(ex)


def test_required_mode_without_cgroups_fails_task(agent, sandbox, start_executor, tmp_path):
    """SPEX_CGROUPS=required where no cgroup can be made (a root without any
    controller): TASK_FAILED with the reason, nothing runs."""
    empty = tmp_path / "no-cgroups"
    empty.mkdir()
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_CGROUPS": "required",
                                                       "SPEX_CGROUP_ROOT": str(empty)})
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("req", "touch ran"))
    assert st.state == 3
    assert raw_reason(st) == REASON_CONTAINER_LAUNCH_FAILED
    assert "SPEX_CGROUPS=required" in st.message and "cgroup" in st.message
    assert not os.path.exists(os.path.join(sandbox, "ran"))
    assert_exits_zero(ex)


def test_auto_mode_without_cgroups_runs_unlimited(agent, sandbox, start_executor, tmp_path):
    empty = tmp_path / "no-cgroups"
    empty.mkdir()
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_CGROUP_ROOT": str(empty)})
    subscribe(agent, ex)
    agent.launch(command_task("auto", "touch ran"))
    running = agent.wait_update("auto", "TASK_RUNNING", T(10))
    assert labels(running).get("spex.cgroups") == "unavailable"
    st = agent.wait_terminal("auto", T(10))
    assert st.state == 2
    assert os.path.exists(os.path.join(sandbox, "ran"))
    assert_exits_zero(ex)


def test_privilege_drop_to_nobody(agent, sandbox, start_executor):
    nobody = pwd.getpwnam("nobody")
    os.chmod(sandbox, 0o777)
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    task = command_task("user", "id -u > uid.txt; id -g > gid.txt; echo $HOME > home.txt")
    task.command.user = "nobody"
    st = run_to_terminal(agent, ex, task)
    assert st.state == 2, st.message
    assert int(open(os.path.join(sandbox, "uid.txt")).read()) == nobody.pw_uid
    assert int(open(os.path.join(sandbox, "gid.txt")).read()) == nobody.pw_gid
    assert open(os.path.join(sandbox, "home.txt")).read().strip() == nobody.pw_dir
    assert_exits_zero(ex)


def test_unknown_user_fails_task(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    task = command_task("nouser", "touch ran")
    task.command.user = "no-such-user-spex"
    st = run_to_terminal(agent, ex, task)
    assert st.state == 3
    assert "unknown user 'no-such-user-spex'" in st.message
    assert not os.path.exists(os.path.join(sandbox, "ran"))
    assert_exits_zero(ex)
