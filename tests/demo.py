#!/usr/bin/python3
"""Run the Spark-on-Mesos fixture task through spex-executor, end to end.

    /usr/bin/python3 tests/demo.py build/spex-executor

A fake Mesos agent listens on loopback; a fresh sandbox is made in an agent
work dir under build/demo/work, in the agent's layout
(slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/<run>, with
the `latest` link), with a fake Spark distribution (tests/java/FakeSparkExecutor.java
behind bin/spark-class, compiled with javac); spex-executor is started the
way an agent starts a command executor (clean environment, cwd = sandbox)
and the fixture TaskInfo (shared/reference/fixtures/spark-mesos-taskinfo.json)
is launched with its command unchanged. Every status update is printed as it
arrives; at the end, the block manager directories the JVM created and
`spex inspect` of the sandbox. The sandbox is left in place (its path is
printed as `sandbox=PATH`) for `spex inspect`, `spex ls build/demo/work`
and `spex gc build/demo/work`.

Exit status 0 when TASK_FINISHED arrived and the executor exited 0.
"""

import datetime
import os
import shutil
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from agent import fake_agent, harness, spark  # noqa: E402


def ts(wall):
    return datetime.datetime.fromtimestamp(wall).strftime("%H:%M:%S.%f")[:-3]


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s <path-to-spex-executor>\n" % argv[0])
        return 2
    binary = os.path.abspath(argv[1])
    if not os.access(binary, os.X_OK):
        sys.stderr.write("demo: %s is not an executable\n" % binary)
        return 2

    demo_dir = os.path.join(harness.REPO, "build", "demo")
    shutil.rmtree(demo_dir, ignore_errors=True)
    agent = fake_agent.FakeAgent()
    work_dir = os.path.join(demo_dir, "work")
    runs = os.path.join(work_dir, "slaves", agent.agent_id, "frameworks", agent.framework_id,
                        "executors", agent.executor_id, "runs")
    run_id = str(uuid.uuid4())
    sandbox = os.path.join(runs, run_id)
    os.makedirs(sandbox)
    os.symlink(run_id, os.path.join(runs, "latest"))
    classes = spark.compile_java()
    home = spark.make_fake_spark(sandbox, classes)

    # A 3 s executor, measured every second: a few disk reports and samples.
    task = fake_agent.spark_task_info(env={"FAKE_SPARK_RUN_MS": "3000"})
    tid = task.task_id.value
    print("demo: fake Mesos agent on %s (agent id %s)" % (agent.endpoint, agent.agent_id))
    print("sandbox=%s" % sandbox)
    print("demo: fake Spark distribution %s" % os.path.relpath(home, sandbox))
    print("demo: task %s command: %s" % (tid, task.command.value))

    ex = harness.start_executor(agent, sandbox, binary=binary,
                                env_overrides={"SPEX_DISK_INTERVAL": "1secs"})
    print("demo: spex-executor pid %d, log %s" % (ex.pid, ex.log_path))
    ok = False
    rc = None
    try:
        try:
            sub = agent.wait_subscribed(1, timeout=15)
        except AssertionError:
            print("demo: the executor did not subscribe (exit code %r)" % ex.poll())
            return 1
        print("%s  SUBSCRIBE  %s  Content-Type=%s" % (ts(sub.wall), sub.path,
                                                   sub.headers["Content-Type"]))
        agent.launch(task)
        print("%s  LAUNCH     task %s" % (ts(time.time()), tid))

        seen = 0
        final = None
        deadline = time.monotonic() + 60
        while final is None and time.monotonic() < deadline:
            ups = agent.updates()
            for u in ups[seen:]:
                msg = u.status.message
                print("%s  UPDATE     task %s  %-14s %s" % (ts(u.wall), u.task_id, u.state_name,
                                                           msg if msg else ""))
                if u.task_id == tid and u.state in fake_agent.TERMINAL_STATES:
                    final = u
            seen = len(ups)
            if final is None:
                if not ex.alive() and len(agent.updates()) == seen:
                    break
                time.sleep(0.02)
        if final is None:
            print("demo: no terminal update for task %s" % tid)
        try:
            rc = ex.wait(15)
        except AssertionError:
            rc = None
        print("demo: spex-executor exit code %r" % (rc,))

        dirs = sorted(d for d in os.listdir(sandbox) if d.startswith("blockmgr-"))
        print("demo: block manager dirs created by the JVM in the sandbox:")
        for d in dirs:
            path = os.path.join(sandbox, d)
            files = []
            for root, _, names in os.walk(path):
                files += [os.path.relpath(os.path.join(root, n), path) for n in names]
            print("  %s/  (%d subdirs, %d files, e.g. %s)" % (
                d, len(os.listdir(path)), len(files), ", ".join(sorted(files)[:3])))
        if not dirs:
            print("  (none left)")
        if final is not None:
            labels = {lb.key: lb.value for lb in final.status.labels.labels}
            if "spex.disk.reclaimed_bytes" in labels:
                print("demo: spex removed Spark's leftovers at the end: %s bytes "
                      "(label spex.disk.reclaimed_bytes)" % labels["spex.disk.reclaimed_bytes"])
        print("demo: task stdout/stderr: %s, %s" % (os.path.join(sandbox, "stdout"),
                                                  os.path.join(sandbox, "stderr")))
        errs = agent.protocol_errors()
        if errs:
            print("demo: the agent rejected calls: %r" % errs)
        ok = (final is not None and final.state_name == "TASK_FINISHED" and rc == 0
              and not errs)
    finally:
        ex.close()
        harness.kill_sandbox_processes(sandbox)
        agent.stop()
    print("demo: %s" % ("OK" if ok else "FAILED"))
    # What an operator sees of it afterwards: the spex CLI next to the executor.
    cli = os.path.join(os.path.dirname(binary), "spex")
    print("sandbox=%s" % sandbox)
    print("demo: the sandbox stays; `spex ls %s`, then `spex inspect` of it:\n"
          % os.path.relpath(work_dir))
    sys.stdout.flush()
    if subprocess.run([cli, "ls", work_dir]).returncode != 0:
        ok = False
    print()
    sys.stdout.flush()
    if subprocess.run([cli, "inspect", sandbox]).returncode != 0:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
