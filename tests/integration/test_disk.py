"""Disk usage reports, limits, pre-flight and cleanup, through the executor."""

import json
import os
import subprocess

from agent.fake_agent import command_task
from helpers import T, assert_exits_zero, raw_reason, run_to_terminal, subscribe, wait_for

REASON_CONTAINER_LIMITATION_DISK = 20
REASON_CONTAINER_LAUNCH_FAILED = 21
MIB = 1024 * 1024

# A Spark-like layout written by the task, then it waits for <sandbox>/go.
WRITE_AND_WAIT = (
    "mkdir -p blockmgr-1/0a spark-1b2c3d4e-0000-4000-8000-000000000000/userFiles-1 "
    "spark-3.5.1-bin-hadoop3/jars && "
    "head -c %d /dev/urandom > blockmgr-1/0a/shuffle_0_1_0.data && "
    "head -c 1048576 /dev/urandom > blockmgr-1/0a/rdd_0_1 && "
    "head -c 2097152 /dev/urandom > spark-1b2c3d4e-0000-4000-8000-000000000000/userFiles-1/app.jar && "
    "head -c 3145728 /dev/urandom > spark-3.5.1-bin-hadoop3/jars/spark-core.jar && "
    "touch written && while [ ! -e go ]; do sleep 0.05; done")


def labels(st):
    return {l.key: l.value for l in st.labels.labels}


def disk_reports(agent, task_id):
    return [u for u in agent.statuses(task_id)
            if u.state == 1 and "spex.disk.used_bytes" in labels(u)]


def du_bytes(path):
    out = subprocess.run(["du", "-sB1", path], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def test_running_reports_match_du(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_DISK_INTERVAL": "200ms"})
    subscribe(agent, ex)
    agent.launch(command_task("d1", WRITE_AND_WAIT % (20 * MIB)))
    wait_for(lambda: os.path.exists(os.path.join(sandbox, "written")), T(20), "the writes")
    # The first report that saw every write (25 MiB in all; a report taken
    # while the last files were being written moved by > 1 % again after).
    rep = wait_for(lambda: [r for r in disk_reports(agent, "d1")
                            if int(labels(r)["spex.disk.used_bytes"]) >= 25 * MIB], T(10),
                   "a disk report")[0]
    lab = labels(rep)
    used = int(lab["spex.disk.used_bytes"])
    du = du_bytes(sandbox)
    assert abs(used - du) <= 0.05 * du, "spex %d vs du %d" % (used, du)
    assert abs(int(lab["spex.disk.shuffle_bytes"]) - 20 * MIB) < 0.05 * 20 * MIB
    assert int(lab["spex.disk.blocks_bytes"]) >= MIB
    assert int(lab["spex.disk.spark_temp_bytes"]) >= 2 * MIB
    assert int(lab["spex.disk.dist_bytes"]) >= 3 * MIB
    assert rep.message.startswith("disk "), rep.message
    if "spex.cgroup" in labels(agent.wait_update("d1", "TASK_RUNNING", T(1))):
        assert int(lab["spex.mem.peak_bytes"]) > 0  # cgroup figures ride along
    assert "shuffle" in rep.message
    doc = json.loads(rep.data)
    assert doc["schema"] == "spex.disk/1"
    assert int(doc["categories"]["shuffle"]["bytes"]) == int(lab["spex.disk.shuffle_bytes"])
    # Steady usage: no flood of reports at a 200 ms interval.
    n = len(disk_reports(agent, "d1"))
    wait_for(lambda: True, 0)
    import time
    time.sleep(1.5)
    assert len(disk_reports(agent, "d1")) <= n + 1
    open(os.path.join(sandbox, "go"), "w").close()
    st = agent.wait_terminal("d1", T(10))
    assert st.state == 2
    # Cleanup: block manager and spark temp dirs gone, the distribution kept.
    assert not os.path.exists(os.path.join(sandbox, "blockmgr-1"))
    assert not os.path.exists(os.path.join(sandbox, "spark-1b2c3d4e-0000-4000-8000-000000000000"))
    assert os.path.exists(os.path.join(sandbox, "spark-3.5.1-bin-hadoop3/jars/spark-core.jar"))
    assert int(labels(st)["spex.disk.reclaimed_bytes"]) >= 23 * MIB
    assert_exits_zero(ex)


def test_disk_limit_kills_task(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_DISK_INTERVAL": "200ms"})
    subscribe(agent, ex)
    task = command_task("d2", WRITE_AND_WAIT % (40 * MIB))
    r = task.resources.add()
    r.name = "disk"
    r.type = 0
    r.scalar.value = 30  # MB
    st = run_to_terminal(agent, ex, task, T(30))
    assert st.state == 3, st.message
    assert raw_reason(st) == REASON_CONTAINER_LIMITATION_DISK
    assert st.message.startswith("disk limit 30.0 MiB exceeded; disk "), st.message
    assert "shuffle" in st.message
    assert "TASK_KILLING" not in agent.states("d2")
    assert_exits_zero(ex)


def test_soft_limit_warning_once(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox, env_overrides={
        "SPEX_DISK_INTERVAL": "200ms", "SPEX_DISK_LIMIT": "100M", "SPEX_DISK_SOFT_RATIO": "0.2"})
    subscribe(agent, ex)
    agent.launch(command_task("d3", WRITE_AND_WAIT % (25 * MIB)))
    rep = wait_for(lambda: [r for r in disk_reports(agent, "d3")
                            if labels(r).get("spex.disk.pressure") == "soft"], T(10),
                   "the soft-limit warning")[0]
    assert labels(rep)["spex.disk.limit_bytes"] == str(100 * MIB)
    assert "of the 100 MiB disk limit" in rep.message, rep.message
    import time
    time.sleep(1)
    soft = [r for r in disk_reports(agent, "d3") if labels(r).get("spex.disk.pressure")]
    assert len(soft) == 1
    open(os.path.join(sandbox, "go"), "w").close()
    assert agent.wait_terminal("d3", T(10)).state == 2
    assert_exits_zero(ex)


def test_preflight_refuses_full_filesystem(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_MIN_FREE_BYTES": "1000T"})
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("d4", "touch ran"))
    assert st.state == 3
    assert raw_reason(st) == REASON_CONTAINER_LAUNCH_FAILED
    assert "below SPEX_MIN_FREE_BYTES" in st.message, st.message
    assert not os.path.exists(os.path.join(sandbox, "ran"))
    assert_exits_zero(ex)


def test_cleanup_none_keeps_everything(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_CLEANUP": "none"})
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("d5", (WRITE_AND_WAIT % MIB).replace(
        " && touch written && while [ ! -e go ]; do sleep 0.05; done", "")))
    assert st.state == 2
    assert os.path.exists(os.path.join(sandbox, "blockmgr-1/0a/rdd_0_1"))
    assert "spex.disk.reclaimed_bytes" not in labels(st)
    assert_exits_zero(ex)
