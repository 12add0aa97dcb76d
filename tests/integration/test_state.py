""".spex/state.json and .spex/disk-history.jsonl (docs/state.md) written by
the real executor, validated against docs/schemas/spex.state-1.schema.json.
The full-sandbox case is in test_faults.py."""

import calendar
import json
import os
import signal
import stat
import subprocess
import time

import jsonschema
import pytest

from agent import harness
from agent.fake_agent import command_task, mesos_pb2
from helpers import T, assert_exits_zero, subscribe, wait_for, waiting_task
from test_cgroups import _v1_problem

REPO = harness.REPO
SCHEMA_PATH = os.path.join(REPO, "docs", "schemas", "spex.state-1.schema.json")
CATEGORIES = {"shuffle", "blocks", "spark_temp", "dist", "logs", "dumps", "spex", "other"}
MIB = 1024 * 1024

with open(SCHEMA_PATH) as _f:
    SCHEMA = json.load(_f)
jsonschema.Draft7Validator.check_schema(SCHEMA)
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def state_path(sandbox):
    return os.path.join(sandbox, ".spex", "state.json")


def history_path(sandbox):
    return os.path.join(sandbox, ".spex", "disk-history.jsonl")


def load_state(sandbox):
    """The document, validated against the schema (None while absent)."""
    try:
        with open(state_path(sandbox), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    doc = json.loads(data)  # never half-written: always parses
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "state.json does not match the schema: %s" % "; ".join(
        "%s: %s" % ("/".join(map(str, e.path)), e.message) for e in errors[:5])
    return doc


def wait_state(sandbox, pred, timeout, what="state.json"):
    last = [None]

    def check():
        doc = load_state(sandbox)
        last[0] = doc
        return doc if doc is not None and pred(doc) else None

    try:
        return wait_for(check, timeout, what, interval=0.05)
    except AssertionError:
        print("last state.json: %s" % json.dumps(last[0], indent=1))
        raise


def task_of(doc, task_id):
    for t in doc["tasks"]:
        if t["id"] == task_id:
            return t
    return None


def task_state(doc, task_id):
    t = task_of(doc, task_id)
    return t and t["state"]


def history_states(t):
    return [h["state"] for h in t["history"]]


def proc_start_ticks(pid):
    with open("/proc/%d/stat" % pid, "rb") as f:
        data = f.read()
    return int(data[data.rindex(b")") + 2:].split()[19])


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


def touch(sandbox, name):
    open(os.path.join(sandbox, name), "w").close()


def read_history(sandbox):
    try:
        with open(history_path(sandbox)) as f:
            return [json.loads(line) for line in f]
    except FileNotFoundError:
        return []


def test_state_follows_executor_and_task(agent, sandbox, start_executor):
    """While a task runs: the document validates, names the live executor
    (pid, start ticks, boot id) and the task (pid, group, task-init); at the
    end the last document says "exited" with the exit code, and the task's
    history is STARTING, RUNNING, FINISHED with ordered times."""
    ex = start_executor(agent, sandbox)
    first = wait_state(sandbox, lambda d: True, T(5), "the first state.json")
    assert first["executor"]["subscription"]["subscribes"] in (0, 1)
    subscribe(agent, ex)
    agent.launch(waiting_task("t1"))
    agent.wait_update("t1", "TASK_RUNNING", T(10))
    doc = wait_state(sandbox, lambda d: task_state(d, "t1") == "TASK_RUNNING"
                     and d["executor"]["unacked_updates"] == 0, T(5), "t1 RUNNING")

    e = doc["executor"]
    assert doc["schema"] == "spex.state/1"
    assert e["pid"] == ex.pid
    assert e["start_ticks"] == proc_start_ticks(ex.pid)
    assert e["boot_id"] == boot_id()
    # the pid namespace: the test's own here (no pid isolator)
    assert e["pid_ns"] == os.stat("/proc/self/ns/pid").st_ino
    assert e["pid_ns"] == os.stat("/proc/%d/ns/pid" % ex.pid).st_ino
    assert e["state"] == "running" and e["exit_code"] is None
    assert e["framework_id"] == agent.framework_id
    assert e["executor_id"] == agent.executor_id
    assert e["agent_id"] == agent.agent_id
    assert e["agent_endpoint"] == agent.endpoint
    assert e["agent_path"].endswith("/api/v1/executor")
    assert e["sandbox"] == sandbox
    assert e["checkpoint"] is False
    assert e["content_type"] == "application/x-protobuf"
    sub = e["subscription"]
    assert sub["state"] == "subscribed" and sub["subscribes"] == 1
    assert sub["subscribed_at"] is not None and sub["disconnected_since"] is None
    assert e["rss_bytes"] > 100 * 1024
    assert e["state_write_errors"] == 0
    assert e["started_at"] <= doc["written_at"]
    mode = os.stat(os.path.join(sandbox, ".spex")).st_mode
    assert stat.S_ISDIR(mode) and stat.S_IMODE(mode) & 0o755 == 0o755

    t = task_of(doc, "t1")
    assert t["name"] == "task t1"
    assert history_states(t) == ["TASK_STARTING", "TASK_RUNNING"]
    assert t["exit"] is None and t["ended_at"] is None
    assert harness.pid_alive(t["pid"])
    ppid, pgid, sid = harness.proc_ppid_pgid_sid(t["pid"])
    assert t["pgid"] == pgid == t["pid"]
    assert ppid == t["taskinit_pid"] and sid == t["taskinit_pid"]
    assert t["launched_at"] <= t["history"][0]["at"] <= t["history"][1]["at"]

    touch(sandbox, "go")
    assert agent.wait_terminal("t1", T(10)).state == mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)
    doc = load_state(sandbox)
    e = doc["executor"]
    assert e["state"] == "exited" and e["exit_code"] == 0
    assert e["unacked_updates"] == 0
    t = task_of(doc, "t1")
    assert history_states(t) == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    times = [h["at"] for h in t["history"]]
    assert times == sorted(times)
    assert t["state"] == "TASK_FINISHED"
    assert t["ended_at"] is not None and t["ended_at"] >= t["launched_at"]
    assert t["exit"] == {"code": 0, "signal": None, "state": "TASK_FINISHED", "reason": None,
                         "message": "Command exited with status 0", "oom": None}
    assert doc["seq"] > first["seq"]
    assert not os.path.exists(state_path(sandbox) + ".tmp")


def test_state_exit_of_failed_and_killed_tasks(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    agent.launch(command_task("bad", "exit 3"))
    agent.launch(command_task("k", "exec sleep 60"))
    assert agent.wait_terminal("bad", T(10)).state == mesos_pb2.TASK_FAILED
    agent.wait_update("k", "TASK_RUNNING", T(10))
    assert agent.kill("k") is not None
    assert agent.wait_terminal("k", T(10)).state == mesos_pb2.TASK_KILLED
    assert_exits_zero(ex)
    doc = load_state(sandbox)
    assert [t["id"] for t in doc["tasks"]] == ["bad", "k"]  # launch order
    bad = task_of(doc, "bad")
    assert bad["exit"]["code"] == 3 and bad["exit"]["signal"] is None
    assert bad["exit"]["state"] == "TASK_FAILED"
    assert bad["exit"]["message"] == "Command exited with status 3"
    assert history_states(bad) == ["TASK_STARTING", "TASK_RUNNING", "TASK_FAILED"]
    k = task_of(doc, "k")
    assert history_states(k) == ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLING",
                                 "TASK_KILLED"]
    assert k["exit"]["code"] is None and k["exit"]["signal"] == "SIGTERM"
    assert k["exit"]["state"] == "TASK_KILLED"


def test_state_launch_failure_has_no_exit_code(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    agent.launch(command_task("nx", "/nonexistent/spex-no-such", shell=False,
                              arguments=["spex-no-such"]))
    assert agent.wait_terminal("nx", T(10)).state == mesos_pb2.TASK_FAILED
    assert_exits_zero(ex)
    t = task_of(load_state(sandbox), "nx")
    assert history_states(t) == ["TASK_STARTING", "TASK_FAILED"]
    assert t["pid"] is None and t["pgid"] is None
    assert t["exit"]["code"] is None and t["exit"]["signal"] is None
    assert "No such file or directory" in t["exit"]["message"]


@pytest.mark.skipif(_v1_problem() is not None, reason=_v1_problem() or "")
def test_state_cgroup_limits_and_usage(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    agent.launch(waiting_task("c1"))
    agent.wait_update("c1", "TASK_RUNNING", T(10))
    doc = wait_state(sandbox, lambda d: task_state(d, "c1") == "TASK_RUNNING"
                     and task_of(d, "c1")["cgroup"] is not None, T(5))
    assert doc["executor"]["cgroups"]["backend"] is not None
    assert doc["executor"]["cgroups"]["error"] is None
    cg = task_of(doc, "c1")["cgroup"]
    assert cg["path"].endswith("/spex-%d-c1" % ex.pid), cg["path"]
    assert os.path.isdir(cg["path"])
    lim = cg["limits"]
    assert lim["cpus"] == pytest.approx(0.1)
    assert lim["mem_bytes"] == lim["mem_limit_bytes"] == 32 * MIB
    assert lim["pids_max"] == 32768
    use = cg["usage"]
    assert use["mem_bytes"] is not None and use["mem_peak_bytes"] >= use["mem_bytes"]
    assert use["cpu_ms"] is not None and use["oom_kills"] == 0
    touch(sandbox, "go")
    agent.wait_terminal("c1", T(10))
    assert_exits_zero(ex)
    cg = task_of(load_state(sandbox), "c1")["cgroup"]
    assert cg is not None and not os.path.exists(cg["path"])  # kept after removal
    assert cg["usage"]["mem_peak_bytes"] > 0


def test_state_disk_report_and_history(agent, sandbox, start_executor):
    """The first disk report lands in the document; disk-history.jsonl gains
    a sample per movement, and the executor's own writes (state.json,
    history) make neither a sample nor a report by themselves."""
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_DISK_INTERVAL": "200ms"})
    subscribe(agent, ex)
    agent.launch(command_task("d1", "head -c 2097152 /dev/urandom > a.bin; touch a.done; "
                              "while [ ! -e more ]; do sleep 0.05; done; "
                              "head -c 4194304 /dev/urandom > b.bin; touch b.done; "
                              "while [ ! -e go ]; do sleep 0.05; done"))
    wait_for(lambda: os.path.exists(os.path.join(sandbox, "a.done")), T(10), "a.bin")
    doc = wait_state(sandbox, lambda d: d["disk"] is not None
                     and d["disk"]["allocated_bytes"] >= 2 * MIB, T(10), "a disk report")
    assert doc["disk"]["schema"] == "spex.disk/1"
    assert doc["disk_at"] is not None
    assert doc["disk"]["root"] == sandbox
    rec = task_of(doc, "d1")["history"]
    assert any(h["message"] and h["message"].startswith("disk ") for h in rec), rec
    assert all(h["state"] == "TASK_RUNNING" for h in rec[1:])

    samples = wait_for(lambda: [s for s in read_history(sandbox) if s["bytes"] >= 2 * MIB],
                       T(5), "a history sample")
    s = samples[-1]
    assert set(s["categories"]) == CATEGORIES
    assert s["bytes"] >= sum(s["categories"].values()) - 4096
    assert s["at"].endswith("Z")

    # Steady usage for 3 s at a 200 ms interval: the executor's own writes
    # (state.json on every ACK, the 10 s refresh) cause no feedback loop.
    time.sleep(1.0)
    n_hist = len(read_history(sandbox))
    n_reports = len([h for h in task_of(load_state(sandbox), "d1")["history"]])
    seq0 = load_state(sandbox)["seq"]
    time.sleep(3.0)
    doc = load_state(sandbox)
    assert len(read_history(sandbox)) == n_hist, read_history(sandbox)[n_hist:]
    assert len(task_of(doc, "d1")["history"]) <= n_reports + 1
    assert doc["seq"] - seq0 <= 4, "state.json rewritten %d times in 3 s" % (doc["seq"] - seq0)

    touch(sandbox, "more")
    wait_for(lambda: os.path.exists(os.path.join(sandbox, "b.done")), T(10), "b.bin")
    wait_for(lambda: any(s["bytes"] >= 6 * MIB for s in read_history(sandbox)), T(5),
             "a sample after the growth")
    assert len(read_history(sandbox)) > n_hist
    wait_state(sandbox, lambda d: d["disk"]["allocated_bytes"] >= 6 * MIB, T(5),
               "the report after the growth")
    touch(sandbox, "go")
    agent.wait_terminal("d1", T(10))
    assert_exits_zero(ex)
    assert load_state(sandbox)["disk"]["allocated_bytes"] >= 6 * MIB


def test_state_after_sigkill_still_parses_and_says_running(agent, sandbox, start_executor):
    """SIGKILL leaves the last document: it parses and says "running"; the
    reader judges liveness by pid + start ticks, which no longer match."""
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    agent.launch(waiting_task("t1"))
    agent.wait_update("t1", "TASK_RUNNING", T(10))
    wait_state(sandbox, lambda d: task_state(d, "t1") == "TASK_RUNNING", T(5))
    ex.signal(signal.SIGKILL)
    ex.wait(T(5))
    doc = load_state(sandbox)
    assert doc["executor"]["state"] == "running"
    assert doc["executor"]["pid"] == ex.pid
    try:
        alive = proc_start_ticks(ex.pid) == doc["executor"]["start_ticks"]
    except OSError:
        alive = False
    assert not alive


def test_state_records_disconnection_and_resubscribe(make_agent, sandbox, start_executor):
    agent = make_agent(checkpoint=True)
    ex = start_executor(agent, sandbox, checkpoint=True)
    subscribe(agent, ex)
    agent.launch(waiting_task("t1"))
    agent.wait_update("t1", "TASK_RUNNING", T(10))
    wait_state(sandbox, lambda d: d["executor"]["checkpoint"] is True
               and d["executor"]["subscription"]["subscribes"] == 1, T(5))
    agent.go_down()
    down = wait_state(sandbox, lambda d: d["executor"]["subscription"]["state"] != "subscribed",
                      T(5), "the disconnection")
    assert down["executor"]["subscription"]["disconnected_since"] is not None
    agent.come_up()
    subscribe(agent, ex, n=2, timeout=T(10))
    up = wait_state(sandbox, lambda d: d["executor"]["subscription"]["subscribes"] == 2, T(5))
    sub = up["executor"]["subscription"]
    assert sub["state"] == "subscribed" and sub["disconnected_since"] is None
    assert sub["subscribed_at"] > down["executor"]["subscription"]["disconnected_since"]
    touch(sandbox, "go")
    agent.wait_terminal("t1", T(10))
    assert_exits_zero(ex)


def test_state_writes_cause_no_report_loop_in_empty_sandbox(agent, tmp_path, start_executor):
    """The worst case for a feedback loop: a sandbox holding nothing but
    .spex/, so that every state write moves the usage by more than the 1 %
    that triggers a report, and every report rewrites state.json. At a
    200 ms interval for 5 s, the reports stay a handful (at most one echo,
    when state.json first grows by a block), not one per interval."""
    sandbox = os.path.realpath(str(tmp_path / "empty"))
    os.makedirs(sandbox)
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_DISK_INTERVAL": "200ms"})
    subscribe(agent, ex)
    agent.launch(command_task("e1", "sleep 5"))
    agent.wait_terminal("e1", T(15))
    reports = [u.message for u in agent.statuses("e1")
               if u.state == mesos_pb2.TASK_RUNNING and u.message.startswith("disk ")]
    print("reports in an empty sandbox: %r" % reports)
    assert 1 <= len(reports) <= 3, reports
    assert len(read_history(sandbox)) <= 3
    assert_exits_zero(ex)


def test_state_never_written_through_a_spex_symlink(agent, sandbox, start_executor, tmp_path):
    """Whoever can write the sandbox (the task) made .spex a symlink to
    another directory: the executor, maybe root, writes nothing through it
    (no state.json, no temp file, no history; the target stays as it was),
    says so once in its log, and runs its tasks as usual."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep").write_text("precious\n")
    os.symlink(str(target), os.path.join(sandbox, ".spex"))
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_DISK_INTERVAL": "200ms"})
    subscribe(agent, ex)
    agent.launch(command_task("t1", "head -c 1048576 /dev/urandom > a.bin; sleep 1.5; "
                              "rm a.bin; sleep 0.5"))
    assert agent.wait_terminal("t1", T(10)).state == mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)
    assert sorted(os.listdir(str(target))) == ["keep"]
    assert (target / "keep").read_text() == "precious\n"
    assert os.path.islink(os.path.join(sandbox, ".spex"))
    said = [line for line in ex.log().splitlines() if "symlink or not a directory" in line]
    assert len(said) == 1, said
    assert "event=state_write" not in ex.log()


# unlinkat() that waits, for the entry named spex-slow-unlink only, until
# the file named by $UNLINK_GATE_FILE exists: a cleanup that is still
# running when the executor's loop ends.
SLOW_UNLINK_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
unlinkat(int dirfd, const char *name, int flags)
{
	int (*real)(int, const char *, int) =
	    (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");
	const char *gate = getenv("UNLINK_GATE_FILE");
	if (gate && strcmp(name, "spex-slow-unlink") == 0)
		while (access(gate, F_OK) != 0)
			usleep(10000);
	return real(dirfd, name, flags);
}
"""


def test_state_exited_only_after_the_cleanup_ended(agent, sandbox, start_executor, tmp_path):
    """The end-of-task cleanup outlasts the 10 s the terminal update waits
    for it: the update goes, is acknowledged, and the loop ends while the
    cleanup still removes files. "exited" (after which a reader such as
    spex gc may remove the sandbox) is written only once the cleanup is
    over; until then state.json says "running"."""
    src = tmp_path / "slow_unlink.c"
    src.write_text(SLOW_UNLINK_C)
    shim = str(tmp_path / "slow_unlink.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", shim, str(src), "-ldl"], check=True)
    gate = str(tmp_path / "release")
    env = {"LD_PRELOAD": shim, "UNLINK_GATE_FILE": gate}
    if harness.ASAN:  # the shim comes before the ASan runtime
        env["ASAN_OPTIONS"] = harness.ASAN_ENV["ASAN_OPTIONS"] + ":verify_asan_link_order=0"
    ex = start_executor(agent, sandbox, env_overrides=env)
    subscribe(agent, ex)
    agent.launch(command_task("t1", "mkdir blockmgr-1 && echo x > blockmgr-1/spex-slow-unlink"))
    assert agent.wait_terminal("t1", T(20)).state == mesos_pb2.TASK_FINISHED
    wait_for(lambda: "event=exit " in ex.log(), T(5), "the loop's end")
    time.sleep(0.5)
    doc = load_state(sandbox)
    assert ex.alive(), "exited before the cleanup ended"
    assert doc["executor"]["state"] == "running", "exited while the cleanup still runs"
    assert os.path.exists(os.path.join(sandbox, "blockmgr-1", "spex-slow-unlink"))
    open(gate, "w").close()
    assert_exits_zero(ex)
    doc = load_state(sandbox)
    assert doc["executor"]["state"] == "exited" and doc["executor"]["exit_code"] == 0
    assert not os.path.exists(os.path.join(sandbox, "blockmgr-1"))
    assert task_state(doc, "t1") == "TASK_FINISHED"


def ms_of(rfc3339):
    """Milliseconds since the epoch of a state.json time."""
    t = time.strptime(rfc3339[:19], "%Y-%m-%dT%H:%M:%S")
    return (calendar.timegm(t) * 1000) + int(rfc3339[20:23])


def test_state_disk_at_is_when_the_scan_measured(agent, sandbox, start_executor):
    """disk_at is when the report's measurement was taken (the scan's
    start), not when the report was sent after the scan: with a sandbox
    that takes a while to scan, disk_at + scan_ms is no later than the
    update that carried the report."""
    many = os.path.join(sandbox, "many")
    for d in range(20):
        os.makedirs(os.path.join(many, str(d)))
        for f in range(1000):
            open(os.path.join(many, str(d), str(f)), "w").close()
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_DISK_INTERVAL": "200ms",
                                                       "SPEX_DISK_TRACK": "off"})
    subscribe(agent, ex)
    agent.launch(waiting_task("t1"))
    doc = wait_state(sandbox, lambda d: d["disk"] is not None and any(
        h["message"] and h["message"].startswith("disk ")
        for h in task_of(d, "t1")["history"]), T(15), "a disk report")
    sent = [h for h in task_of(doc, "t1")["history"]
            if h["message"] and h["message"].startswith("disk ")][-1]
    scan_ms = doc["disk"]["scan_ms"]
    print("disk_at %s, scan %.1f ms, sent %s" % (doc["disk_at"], scan_ms, sent["at"]))
    assert scan_ms >= 2, "the scan was too fast to tell the times apart"
    assert ms_of(doc["disk_at"]) + int(scan_ms) <= ms_of(sent["at"]) + 1
    samples = read_history(sandbox)
    assert samples and ms_of(samples[-1]["at"]) <= ms_of(doc["disk_at"]) + int(scan_ms)
    touch(sandbox, "go")
    agent.wait_terminal("t1", T(10))
    assert_exits_zero(ex)
