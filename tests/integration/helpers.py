"""Small helpers shared by the integration tests."""

import os
import re
import time

from agent import harness, protos, spark
from agent.fake_agent import command_task

T = harness.T

SIGNAL_MSG = re.compile(r"^Command terminated with signal ")


def read(sandbox, name, mode="r"):
    with open(os.path.join(sandbox, name), mode) as f:
        return f.read()


def wait_file(sandbox, name, timeout=None):
    return harness.wait_file(os.path.join(sandbox, name), timeout or T(10))


def read_pid(sandbox, name, timeout=None):
    """Wait for a pid file written by a task (it may not exist yet when
    TASK_RUNNING arrives) and return the pid."""
    path = os.path.join(sandbox, name)
    deadline = time.monotonic() + (timeout or T(10))
    while True:
        try:
            with open(path) as f:
                text = f.read()
            if text.endswith("\n"):
                return int(text)
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("no pid in %s within %.1fs" % (path, timeout or T(10)))
        time.sleep(0.02)


def wait_exit(ex, timeout):
    return ex.wait(timeout)


def wait_for(pred, timeout, what="condition", interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def subscribe(agent, ex, n=1, timeout=None):
    """Wait for the n-th SUBSCRIBE, failing early if the executor died."""
    deadline = time.monotonic() + (timeout or T(10))
    while True:
        try:
            return agent.wait_subscribed(n, timeout=0.2)
        except AssertionError:
            if not ex.alive():
                raise AssertionError("spex-executor exited with %r before SUBSCRIBE #%d"
                                     % (ex.returncode, n))
            if time.monotonic() > deadline:
                raise


def run_to_terminal(agent, ex, task, timeout=None):
    """Launch task, wait for its terminal update; returns the TaskStatus."""
    agent.launch(task)
    return agent.wait_terminal(task.task_id.value, timeout or T(15))


def assert_exits_zero(ex, timeout=None):
    rc = ex.wait(timeout or T(5))
    assert rc == 0, "spex-executor exit code %r" % rc


def waiting_task(task_id, flag="go", **kw):
    """A shell task that runs until the file <sandbox>/<flag> exists."""
    return command_task(task_id, "while [ ! -e %s ]; do sleep 0.05; done; echo done > %s.done"
                        % (flag, flag), **kw)


def term_ignoring_task(task_id, **kw):
    """A shell task whose whole tree ignores SIGTERM; writes its pid to <id>.pid."""
    return command_task(task_id, "trap '' TERM; echo $$ > %s.pid; while :; do sleep 0.1; done"
                        % task_id, **kw)


def spark_env(sandbox, run_ms=None, **extra):
    """Environment additions for the fake Spark executor."""
    env = {"FAKE_SPARK_ARGV_FILE": os.path.join(sandbox, "spark-argv.bin")}
    if run_ms is not None:
        env["FAKE_SPARK_RUN_MS"] = str(run_ms)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def spark_info(sandbox, timeout=None):
    path = os.path.join(sandbox, "spark-argv.bin")
    harness.wait_file(path, timeout or T(15))
    return spark.read_argv_file(path)


def raw_reason(status):
    """TaskStatus.reason as a number, including values the mesos-go protos
    do not know (they land in unknown fields)."""
    vals = protos.raw_field_values(status.SerializeToString(), 10)
    return vals[-1] if vals else None


def is_v4_uuid(b):
    return len(b) == 16 and (b[6] >> 4) == 4 and (b[8] & 0xC0) == 0x80
