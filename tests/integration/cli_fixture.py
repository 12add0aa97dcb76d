"""An agent work dir for the spex CLI tests, in the Mesos layout, with
hand-written .spex/state.json files (docs/state.md, spex.state/1).

    work/slaves/S0/frameworks/FW-0001/executors/
        spark-exec-live/runs/run-live      live: the pid of a process the test
                                           started, its real start ticks and boot id
        spark-exec-dead/runs/run-dead      dead: state "exited"; block manager,
                                           spark temp dir, distribution, big stdout,
                                           disk history, symlinks pointing outside
        spark-exec-dead/runs/latest     -> run-dead (a symlink, as the agent makes)
        spark-exec-reused/runs/run-reused  dead by pid reuse: the live pid with
                                           other start ticks
        spark-exec-nostate/runs/run-nostate   no state file: liveness unknown
        spark-exec-outside/runs/run-outside -> <tmp>/outside-run (out of the work dir)

Sizes are multiples of 4 KiB written in full, so allocated sizes are exact on
file systems with 4 KiB blocks.
"""

import json
import os
import subprocess
import time

KIB = 1024
MIB = 1024 * KIB

NOW = 1795000000  # SPEX_NOW for reproducible output: 2026-11-18T08:53:20Z
FW = "FW-0001"
UUID_DIR = "spark-1b2c3d4e-0000-4000-8000-000000000000"
DIST_DIR = "spark-3.5.1-bin-hadoop3"


def iso(secs):
    """RFC 3339 UTC with milliseconds, as the executor writes times."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(secs))) + ".%03dZ" % (
        round((secs - int(secs)) * 1000))


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


def start_ticks(pid):
    """Field 22 of /proc/<pid>/stat (the comm may hold ') ')."""
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    return int(text[text.rindex(")") + 2:].split()[19])


def write(path, size, byte=b"x"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        chunk = byte * min(size, MIB)
        left = size
        while left > 0:
            f.write(chunk[:min(left, len(chunk))])
            left -= min(left, len(chunk))


def task(tid, state, launched, ended=None, pid=None, pgid=None, taskinit=None, exit=None,
         cgroup=None, disk_limit=None, history=None):
    return {
        "id": tid, "name": "task %s" % tid, "state": state,
        "history": history or [
            {"state": "TASK_STARTING", "at": iso(launched), "reason": None, "message": None},
            {"state": "TASK_RUNNING", "at": iso(launched + 0.02), "reason": None,
             "message": None}],
        "launched_at": iso(launched), "ended_at": iso(ended) if ended else None,
        "pid": pid, "pgid": pgid, "taskinit_pid": taskinit, "heap": "1g",
        "cgroup": cgroup, "disk_limit_bytes": disk_limit, "exit": exit,
        "some_future_field": {"ignored": True},
    }


def state(pid, ticks, boot, executor_id, started, written, exec_state="running",
          exit_code=None, tasks=(), disk=None, disk_at=None):
    return {
        "schema": "spex.state/1",
        "written_at": iso(written),
        "seq": 42,
        "executor": {
            "pid": pid, "start_ticks": ticks, "boot_id": boot, "version": "0.1.0",
            "started_at": iso(started), "state": exec_state, "exit_code": exit_code,
            "framework_id": FW, "executor_id": executor_id, "agent_id": "S0",
            "agent_endpoint": "10.0.0.5:5051", "agent_path": "/slave(1)/api/v1/executor",
            "sandbox": "/var/lib/mesos/slaves/S0/frameworks/%s/executors/%s/runs/x"
                       % (FW, executor_id),
            "checkpoint": True, "content_type": "application/x-protobuf",
            "subscription": {"state": "subscribed", "subscribed_at": iso(started + 0.05),
                             "subscribes": 1, "disconnected_since": None},
            "unacked_updates": 0,
            "cgroups": {"mode": "auto", "backend": None, "error": None},
            "rss_bytes": 2752512, "cpu_user_ms": 120, "cpu_system_ms": 80,
            "state_write_errors": 0,
        },
        "tasks": list(tasks),
        "disk": disk,
        "disk_at": iso(disk_at) if disk_at else None,
        "a_field_from_the_future": [1, 2, 3],
    }


def put_state(sandbox, doc, history=None):
    os.makedirs(os.path.join(sandbox, ".spex"), exist_ok=True)
    with open(os.path.join(sandbox, ".spex", "state.json"), "w") as f:
        json.dump(doc, f, indent=1)
    if history is not None:
        with open(os.path.join(sandbox, ".spex", "disk-history.jsonl"), "w") as f:
            f.write(history)


def history_lines(start, samples, torn_last=True):
    cats = ["shuffle", "blocks", "spark_temp", "dist", "logs", "dumps", "spex", "other"]
    out = []
    for i, mib in enumerate(samples):
        c = {k: 0 for k in cats}
        c["shuffle"] = mib * MIB
        out.append(json.dumps({"at": iso(start + 60 * i), "bytes": mib * MIB,
                               "categories": c}, separators=(",", ":")))
    text = "\n".join(out) + "\n"
    if torn_last:
        text += '{"at":"2026-11-18T06:50:00.000Z","bytes":12'  # being appended
    return text


def spark_leftovers(sb, outside):
    """Block manager, Spark temp dir, distribution, logs, and symlinks out."""
    write(os.path.join(sb, "blockmgr-1", "0c", "shuffle_0_1_0.data"), 4 * MIB)
    write(os.path.join(sb, "blockmgr-1", "0c", "shuffle_0_1_0.index"), 4 * KIB)
    write(os.path.join(sb, "blockmgr-1", "11", "rdd_2_0"), 1 * MIB)
    os.symlink(outside, os.path.join(sb, "blockmgr-1", "escape"))
    write(os.path.join(sb, UUID_DIR, "userFiles-1", "app.jar"), 2 * MIB)
    write(os.path.join(sb, DIST_DIR, "bin", "spark-class"), 4 * KIB)
    write(os.path.join(sb, DIST_DIR, "jars", "spark-core.jar"), 3 * MIB)
    write(os.path.join(sb, "spark-3.5.1-bin-hadoop3.tgz"), 256 * KIB)
    write(os.path.join(sb, "notes.txt"), 4 * KIB)
    os.symlink(outside, os.path.join(sb, "blockmgr-link"))


def build(root, live_pid):
    """Make the work dir under root; returns a dict of paths."""
    outside = os.path.join(root, "outside-dir")
    write(os.path.join(outside, "precious"), 64 * KIB)
    work = os.path.join(root, "work")
    exe = os.path.join(work, "slaves", "S0", "frameworks", FW, "executors")
    boot = boot_id()
    ticks = start_ticks(live_pid)
    p = {"work": work, "outside": outside}

    # live
    sb = p["live"] = os.path.join(exe, "spark-exec-live", "runs", "run-live")
    write(os.path.join(sb, "blockmgr-9", "shuffle_1_1_0.data"), 1 * MIB)
    write(os.path.join(sb, "stdout"), 8 * KIB)
    put_state(sb, state(live_pid, ticks, boot, "spark-exec-live", NOW - 600, NOW - 5, tasks=[
        task("1", "TASK_RUNNING", NOW - 590, pid=live_pid, pgid=live_pid, taskinit=live_pid)]))

    # dead: exited
    sb = p["dead"] = os.path.join(exe, "spark-exec-dead", "runs", "run-dead")
    spark_leftovers(sb, outside)
    write(os.path.join(sb, "stdout"), 3 * MIB, b"o")
    with open(os.path.join(sb, "stdout"), "ab") as f:
        f.write(b"the last line of stdout\n")
    write(os.path.join(sb, "stderr"), 8 * KIB, b"e")
    cg = {"path": "/sys/fs/cgroup/mesos/spex-4242-7",
          "limits": {"cpus": 1.0, "cpu_quota_cpus": None, "mem_bytes": 1024 * MIB,
                     "mem_limit_bytes": 1024 * MIB, "pids_max": 32768},
          "usage": {"mem_bytes": 1000 * MIB, "mem_peak_bytes": 1024 * MIB, "cpu_ms": 5230,
                    "oom_kills": 1}}
    ex = {"code": None, "signal": "SIGKILL", "state": "TASK_FAILED",
          "reason": "REASON_CONTAINER_LIMITATION_MEMORY",
          "message": "Memory limit exceeded: 1 GiB", "oom": "cgroup"}
    put_state(sb, state(4242, 1234567, boot, "spark-exec-dead", NOW - 7800, NOW - 7200,
                        exec_state="exited", exit_code=0, tasks=[
                            task("7", "TASK_FAILED", NOW - 7790, NOW - 7205, pid=4250,
                                 pgid=4250, taskinit=4249, exit=ex, cgroup=cg,
                                 disk_limit=14 * MIB)],
                        disk={"schema": "spex.disk/1", "allocated_bytes": 12 * MIB},
                        disk_at=NOW - 7210),
              history=history_lines(NOW - 7800, [1, 2, 4, 8, 9, 9, 10, 12, 11, 6, 3]))
    os.symlink("run-dead", os.path.join(exe, "spark-exec-dead", "runs", "latest"))

    # dead: the pid is alive but is another process (other start ticks)
    sb = p["reused"] = os.path.join(exe, "spark-exec-reused", "runs", "run-reused")
    write(os.path.join(sb, "blockmgr-2", "shuffle_3_0_0.data"), 2 * MIB)
    write(os.path.join(sb, UUID_DIR, "userFiles-2", "dep.jar"), 64 * KIB)
    put_state(sb, state(live_pid, ticks + 12345, boot, "spark-exec-reused", NOW - 1200,
                        NOW - 300, tasks=[task("2", "TASK_RUNNING", NOW - 1190)]))

    # no state file
    sb = p["nostate"] = os.path.join(exe, "spark-exec-nostate", "runs", "run-nostate")
    write(os.path.join(sb, "blockmgr-3", "rdd_0_0"), 512 * KIB)

    # a run that is a symlink to a directory out of the work dir, which looks
    # like a dead sandbox: never listed, never touched
    out_run = p["outside_run"] = os.path.join(root, "outside-run")
    write(os.path.join(out_run, "blockmgr-7", "shuffle_0_0_0.data"), 128 * KIB)
    put_state(out_run, state(4243, 1, boot, "spark-exec-outside", NOW - 9000, NOW - 8000,
                             exec_state="exited", exit_code=0))
    os.makedirs(os.path.join(exe, "spark-exec-outside", "runs"))
    os.symlink(out_run, os.path.join(exe, "spark-exec-outside", "runs", "run-outside"))

    # Run directories' mtimes: the age of a sandbox without a state file.
    for name in ("live", "dead", "reused", "nostate"):
        os.utime(p[name], (NOW - 3600, NOW - 3600))
    return p


def tree_snapshot(root):
    """{relative path: (type, size, target or None)} of everything below root,
    without following symlinks."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = ("link", 0, os.readlink(path))
            elif os.path.isdir(path):
                out[rel] = ("dir", 0, None)
            else:
                out[rel] = ("file", st.st_size, None)
    return out


def _children_sleeping(pid):
    """The pids of pid's children once both run sleep (exec'd), else None."""
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            if cmd != b"sleep\x00300\x00":
                return None
            kids.append(int(d))
    return kids if len(kids) == 2 else None


def start_live_process(timeout=10.0):
    """A process group standing in for a live executor and its task: sh with
    two sleeping children, in its own session; returned once both children
    run sleep."""
    p = subprocess.Popen(["sh", "-c", "sleep 300 & sleep 300 & wait"], start_new_session=True)
    deadline = time.monotonic() + timeout
    while _children_sleeping(p.pid) is None:
        if time.monotonic() > deadline:
            os.killpg(p.pid, 9)
            p.wait()
            raise AssertionError("sh %d did not start its two sleeps" % p.pid)
        time.sleep(0.01)
    return p


# Names and state strings an attacker controls (a framework names its
# directories; a task writes its exit message): escape sequences, BEL, CR,
# newlines, bytes that are not UTF-8.
EVIL_FW = b"FW\x1b]0;PWNED\x07\x1b[2J\nX"
EVIL_EX = b"ex\x1b[31m\r\x9b2J-1"
EVIL_TEXT = "boom \u001b[31mred\nsecond line\u0007\u009b2J\u202eevil"


def build_hostile(root):
    """A work dir with one dead sandbox whose directory names and state
    strings hold control characters (EVIL_*), and one whose framework
    directory is not UTF-8 (b"F\\xff"). Returns {"work", "evil", "latin1"}
    (str paths; "evil" holds surrogate escapes, use os.fsencode)."""
    work = os.path.join(root, "work-hostile")
    fws = os.path.join(os.fsencode(work), b"slaves", b"S0", b"frameworks")
    evil = os.path.join(fws, EVIL_FW, b"executors", EVIL_EX, b"runs", b"run-\x1b[1m")
    latin1 = os.path.join(fws, b"F\xff", b"executors", b"ex-\xe9", b"runs", b"run-1")
    boot = boot_id()
    for sb in (evil, latin1):
        os.makedirs(sb)
        write(os.path.join(os.fsdecode(sb), "blockmgr-\x1b[2J\n", "shuffle_0_0_0.data"), 8 * KIB)
    ex = {"code": 1, "signal": None, "state": "TASK_FAILED", "reason": "REASON_\u001b[5m",
          "message": EVIL_TEXT, "oom": "cgroup\u001b[0m"}
    doc = state(4242, 1234567, boot, "spark-\u001b[31mex\n", NOW - 7800, NOW - 7200,
                exec_state="exited", exit_code=0, tasks=[
                    task("t\u001b[2J\n1", "TASK_\u001b[5mFAILED", NOW - 7790, NOW - 7205,
                         exit=ex, cgroup={"path": "/sys/fs/cgroup/\u001b[2Jx", "limits": {},
                                          "usage": {"mem_bytes": -5, "mem_peak_bytes": -1}})])
    doc["executor"]["framework_id"] = "FW\u001b]0;PWNED\u0007"
    doc["executor"]["version"] = "0.1\u0007\n"
    doc["executor"]["config_error"] = "SPEX_X: bad\u001b[2J\nvalue"
    doc["executor"]["pid"] = -5
    put_state(os.fsdecode(evil), doc)
    # Strings that are not UTF-8 inside the state file (cJSON takes them).
    doc = state(4243, 1, boot, "ex-\u00e9", NOW - 7800, NOW - 7200, exec_state="exited",
                exit_code=0)
    text = json.dumps(doc).replace("ex-\\u00e9", "ex-@@").encode().replace(b"@@", b"\xe9\xff")
    os.makedirs(os.path.join(latin1, b".spex"), exist_ok=True)
    with open(os.path.join(latin1, b".spex", b"state.json"), "wb") as f:
        f.write(text)
    return {"work": work, "evil": os.fsdecode(evil), "latin1": os.fsdecode(latin1)}


def wide_names(root):
    """A work dir with one dead sandbox whose framework, executor and
    block-manager names are long and wide (CJK, emoji). Returns {"work",
    "sandbox"}."""
    work = os.path.join(root, "work-wide")
    fw = "\u6846\u67b6-\U0001f600\U0001f600-" * 6
    ex = "\u6267\u884c\u5668-\U0001f680-" * 6
    sb = os.path.join(work, "slaves", "S0", "frameworks", fw, "executors", ex, "runs",
                      "\u8fd0\u884c-" * 12)
    write(os.path.join(sb, "blockmgr-" + "\u5757" * 60, "shuffle_0_0_0.data"), 8 * KIB)
    write(os.path.join(sb, "stdout"), 8 * KIB)
    put_state(sb, state(4242, 1, boot_id(), ex, NOW - 7800, NOW - 7200, exec_state="exited",
                        exit_code=0, tasks=[
                            task("\u4efb\u52a1" * 30, "TASK_FAILED", NOW - 7790, NOW - 7205,
                                 exit={"code": 1, "signal": None, "state": "TASK_FAILED",
                                       "reason": None, "message": "\u9519" * 70,
                                       "oom": None})]))
    return {"work": work, "sandbox": sb}
