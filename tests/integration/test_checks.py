"""TaskInfo.check and TaskInfo.health_check (conformance checklist 56, 57).

The fake agent (make_agent in conftest.py) fails every test in which a status
of a task whose TaskInfo has `check` lacks `check_status` (of the check's
type), or a status of any other task has one; and, like the real agent, it
rejects (400) a check_status without its type's sub-message.
"""

import http.server
import os
import pwd
import socket
import threading
import time

import pytest

from agent import harness
from agent.fake_agent import JSON, command_task, mesos_pb2
from helpers import (T, assert_exits_zero, raw_reason, read, read_pid, run_to_terminal, subscribe,
                     wait_for)

CheckInfo = mesos_pb2.CheckInfo
HealthCheck = mesos_pb2.HealthCheck
CHECK_UPDATED = mesos_pb2.TaskStatus.REASON_TASK_CHECK_STATUS_UPDATED  # 28
HEALTH_UPDATED = mesos_pb2.TaskStatus.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED  # 29
TASK_INVALID = mesos_pb2.TaskStatus.REASON_TASK_INVALID  # 14

def with_check(task, kind, command=None, port=None, path=None, delay=0.0, interval=0.2,
               timeout=None, env=None):
    """Set TaskInfo.check on task (a mesos_pb2.TaskInfo); returns task."""
    c = task.check
    c.type = getattr(CheckInfo, kind)
    if kind == "COMMAND":
        c.command.command.value = command
        c.command.command.shell = True
        for k, v in (env or {}).items():
            var = c.command.command.environment.variables.add()
            var.name, var.value = k, v
    elif kind == "HTTP":
        c.http.port = port
        if path is not None:
            c.http.path = path
    else:
        c.tcp.port = port
    c.delay_seconds = delay
    c.interval_seconds = interval
    if timeout is not None:
        c.timeout_seconds = timeout
    return task


def with_health(task, kind, command=None, port=None, path=None, delay=0.0, interval=0.2,
                timeout=None, failures=None, grace=0.0, scheme=None):
    """Set TaskInfo.health_check on task; returns task."""
    h = task.health_check
    h.type = getattr(HealthCheck, kind)
    if kind == "COMMAND":
        h.command.value = command
        h.command.shell = True
    elif kind == "HTTP":
        h.http.port = port
        if path is not None:
            h.http.path = path
        if scheme is not None:
            h.http.scheme = scheme
    else:
        h.tcp.port = port
    h.delay_seconds = delay
    h.interval_seconds = interval
    h.grace_period_seconds = grace
    if timeout is not None:
        h.timeout_seconds = timeout
    if failures is not None:
        h.consecutive_failures = failures
    return task


def check_updates(agent, tid):
    """The REASON_TASK_CHECK_STATUS_UPDATED statuses of tid, in order."""
    return [u.status for u in agent.updates(tid) if raw_reason(u.status) == CHECK_UPDATED]


def health_updates(agent, tid):
    return [u.status for u in agent.updates(tid) if raw_reason(u.status) == HEALTH_UPDATED]


def exit_code(st):
    """check_status.command.exit_code of st, or None when it has no result."""
    c = st.check_status
    assert c.type == CheckInfo.COMMAND and c.HasField("command"), st
    return c.command.exit_code if c.command.HasField("exit_code") else None


def wait_check_updates(agent, tid, n, timeout=None):
    return wait_for(lambda: len(check_updates(agent, tid)) >= n and check_updates(agent, tid),
                    timeout or T(10), "%d check updates of %s" % (n, tid))


def wait_health_updates(agent, tid, n, timeout=None):
    return wait_for(lambda: len(health_updates(agent, tid)) >= n and health_updates(agent, tid),
                    timeout or T(10), "%d health updates of %s" % (n, tid))


def count_lines(sandbox, name):
    try:
        return len(read(sandbox, name).splitlines())
    except OSError:
        return 0


def zombie_children(pid):
    return [c for c in harness.proc_children_map().get(pid, [])
            if harness.proc_state(c) == "Z"]


def pipe_fds(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("pipe:"):
                n += 1
        except OSError:
            pass
    return n


def start(agent, sandbox, start_executor, task, env_overrides=None):
    ex = start_executor(agent, sandbox, env_overrides=env_overrides)
    subscribe(agent, ex)
    agent.launch(task)
    agent.wait_update(task.task_id.value, "TASK_RUNNING", T(10))
    return ex


def kill_and_finish(agent, ex, tid):
    agent.kill(tid)
    st = agent.wait_terminal(tid, T(15))
    assert_exits_zero(ex)
    return st


# --- no check ------------------------------------------------------------------

def test_no_check_no_check_status(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("t1", "sleep 0.3"))
    assert st.state == mesos_pb2.TASK_FINISHED
    ups = agent.statuses("t1")
    assert [u.state for u in ups] == [mesos_pb2.TASK_STARTING, mesos_pb2.TASK_RUNNING,
                                      mesos_pb2.TASK_FINISHED]
    assert not any(u.HasField("check_status") or u.HasField("healthy") for u in ups)
    assert_exits_zero(ex)


# --- checks --------------------------------------------------------------------

def test_command_check_reports_changes(agent, sandbox, start_executor):
    """The result is the exit code; an update only when it changes; every
    status carries the last one (empty before the first)."""
    task = with_check(command_task("t1", "sleep 60"), "COMMAND",
                      '[ "$CHECK_VAR" = on ] && [ "$PWD" = "$MESOS_SANDBOX" ] && '
                      'echo x >> runs && [ ! -e bad ]', env={"CHECK_VAR": "on"})
    ex = start(agent, sandbox, start_executor, task)
    first = agent.statuses("t1")[:2]
    assert [exit_code(s) for s in first] == [None, None]  # before any result: empty
    ups = wait_check_updates(agent, "t1", 1)
    assert exit_code(ups[0]) == 0
    assert ups[0].state == mesos_pb2.TASK_RUNNING
    wait_for(lambda: count_lines(sandbox, "runs") >= 5, T(10), "5 check runs")
    assert len(check_updates(agent, "t1")) == 1, "the same result again is no news"
    open(os.path.join(sandbox, "bad"), "w").close()
    ups = wait_check_updates(agent, "t1", 2)
    assert exit_code(ups[1]) == 1
    os.unlink(os.path.join(sandbox, "bad"))
    ups = wait_check_updates(agent, "t1", 3)
    assert exit_code(ups[2]) == 0
    st = kill_and_finish(agent, ex, "t1")
    assert st.state == mesos_pb2.TASK_KILLED
    assert exit_code(st) == 0  # the last known result
    assert not any(s.HasField("healthy") for s in agent.statuses("t1"))


def test_command_check_timeout_kills_its_group(agent, sandbox, start_executor):
    """A check that hangs is SIGKILLed with its whole process group at
    timeout_seconds and has no result; no zombie and no descriptor is left."""
    cmd = ('echo x >> runs; if [ -e hang ]; then sleep 60 & echo $! > hang.child; '
           'echo $$ > hang.pid; wait; fi; exit 0')
    task = with_check(command_task("t1", "sleep 60"), "COMMAND", cmd, timeout=0.5)
    ex = start(agent, sandbox, start_executor, task)
    assert exit_code(wait_check_updates(agent, "t1", 1)[0]) == 0
    wait_for(lambda: count_lines(sandbox, "runs") >= 3, T(10), "3 check runs")
    pipes = pipe_fds(ex.pid)
    n = count_lines(sandbox, "runs")
    wait_for(lambda: count_lines(sandbox, "runs") >= n + 10, T(10), "10 more check runs")
    assert pipe_fds(ex.pid) <= pipes + 1, "a check attempt leaks pipe descriptors"
    t0 = time.monotonic()
    open(os.path.join(sandbox, "hang"), "w").close()
    pid, child = read_pid(sandbox, "hang.pid"), read_pid(sandbox, "hang.child")
    ups = wait_check_updates(agent, "t1", 2)
    dt = time.monotonic() - t0
    assert exit_code(ups[1]) is None, "a timed-out check has no result"
    # The attempt that hangs may have started just before t0.
    assert 0.4 <= dt < 0.7 + T(3), "timed out after %.2fs" % dt
    assert harness.wait_pids_gone([pid, child], T(2)) == [], "the check's group survived"
    wait_for(lambda: not zombie_children(ex.pid), T(3), "no zombie children of the executor")
    st = kill_and_finish(agent, ex, "t1")
    assert exit_code(st) is None


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.paths.append(self.path)
        self.send_response(self.server.code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.code = 200
    srv.paths = []
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_http_check(agent, sandbox, start_executor, http_server):
    port = http_server.server_address[1]
    task = with_check(command_task("t1", "sleep 60"), "HTTP", port=port, path="/ready?x=1")
    ex = start(agent, sandbox, start_executor, task)
    st = agent.statuses("t1")[0]
    assert st.check_status.type == CheckInfo.HTTP and st.check_status.HasField("http")
    assert not st.check_status.http.HasField("status_code")
    ups = wait_check_updates(agent, "t1", 1)
    assert ups[0].check_status.http.status_code == 200
    assert http_server.paths[0] == "/ready?x=1"
    http_server.code = 503
    ups = wait_check_updates(agent, "t1", 2)
    assert ups[1].check_status.http.status_code == 503
    # No server: no connection, no result (an empty http status).
    http_server.shutdown()
    http_server.server_close()
    ups = wait_check_updates(agent, "t1", 3)
    assert ups[2].check_status.HasField("http")
    assert not ups[2].check_status.http.HasField("status_code")
    kill_and_finish(agent, ex, "t1")


def test_tcp_check(agent, sandbox, start_executor):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    port = lsock.getsockname()[1]
    task = with_check(command_task("t1", "sleep 60"), "TCP", port=port)
    ex = start(agent, sandbox, start_executor, task)
    ups = wait_check_updates(agent, "t1", 1)
    assert ups[0].check_status.type == CheckInfo.TCP
    assert ups[0].check_status.tcp.succeeded is True
    lsock.close()
    ups = wait_check_updates(agent, "t1", 2)
    assert ups[1].check_status.tcp.HasField("succeeded")
    assert ups[1].check_status.tcp.succeeded is False
    kill_and_finish(agent, ex, "t1")


def test_tcp_check_json(agent, sandbox, start_executor):
    """The same through the JSON content type (LAUNCH and UPDATE)."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    port = lsock.getsockname()[1]
    task = with_check(command_task("t1", "sleep 60"), "TCP", port=port)
    ex = start(agent, sandbox, start_executor, task, env_overrides={"SPEX_CONTENT_TYPE": JSON})
    ups = wait_check_updates(agent, "t1", 1)
    assert ups[0].check_status.tcp.succeeded is True
    lsock.close()
    kill_and_finish(agent, ex, "t1")
    assert all(u.content_type == JSON for u in agent.updates("t1"))


def test_checks_pause_at_kill(agent, sandbox, start_executor):
    """Once a kill begins, no attempt runs and no check or health update
    goes out, through the whole grace period."""
    task = command_task("t1", "trap '' TERM; echo $$ > t1.pid; while :; do sleep 0.1; done",
                        kill_grace_secs=1.5)
    with_check(task, "COMMAND", "echo x >> runs; exit 0", interval=0.1)
    with_health(task, "COMMAND", "echo x >> hruns; exit 0", interval=0.1)
    ex = start(agent, sandbox, start_executor, task)
    read_pid(sandbox, "t1.pid")
    wait_check_updates(agent, "t1", 1)
    wait_health_updates(agent, "t1", 1)
    wait_for(lambda: count_lines(sandbox, "runs") >= 3 and count_lines(sandbox, "hruns") >= 3,
             T(10), "3 runs of each check")
    agent.kill("t1")
    agent.wait_update("t1", "TASK_KILLING", T(5))
    time.sleep(0.2)
    runs, hruns = count_lines(sandbox, "runs"), count_lines(sandbox, "hruns")
    n_updates = len(agent.updates("t1"))
    time.sleep(1.0)  # still within the grace period
    assert (count_lines(sandbox, "runs"), count_lines(sandbox, "hruns")) == (runs, hruns)
    assert len(agent.updates("t1")) == n_updates
    st = agent.wait_terminal("t1", T(10))
    assert st.state == mesos_pb2.TASK_KILLED
    assert not st.HasField("healthy")  # killed by the framework, not the health check
    states = agent.states("t1")
    assert states.index("TASK_KILLING") == len(states) - 2
    assert_exits_zero(ex)


def test_invalid_check_refused(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    agent.launch(with_check(command_task("t1", "true"), "HTTP", port=8080, path="health"))
    agent.launch(with_health(command_task("t2", "true"), "HTTP", port=8080, scheme="https"))
    st = agent.wait_terminal("t1", T(10))
    assert st.state == mesos_pb2.TASK_FAILED
    assert raw_reason(st) == TASK_INVALID
    assert "must start with '/'" in st.message, st.message
    assert st.check_status.type == CheckInfo.HTTP  # still carried, empty
    assert agent.states("t1") == ["TASK_FAILED"]
    st = agent.wait_terminal("t2", T(10))
    assert st.state == mesos_pb2.TASK_FAILED and raw_reason(st) == TASK_INVALID
    assert "https" in st.message
    assert not st.HasField("check_status")
    assert_exits_zero(ex)


# --- health checks -------------------------------------------------------------

def test_health_check_kills_after_consecutive_failures(agent, sandbox, start_executor):
    task = command_task("t1", "sleep 60", kill_grace_secs=1)
    with_health(task, "COMMAND", "[ ! -e sick ]", failures=3)
    ex = start(agent, sandbox, start_executor, task)
    ups = wait_health_updates(agent, "t1", 1)
    assert ups[0].state == mesos_pb2.TASK_RUNNING and ups[0].healthy is True
    time.sleep(0.5)
    assert len(health_updates(agent, "t1")) == 1, "healthy again is no news"
    open(os.path.join(sandbox, "sick"), "w").close()
    st = agent.wait_terminal("t1", T(15))
    assert st.state == mesos_pb2.TASK_KILLED
    assert st.HasField("healthy") and st.healthy is False
    ups = health_updates(agent, "t1")
    # One healthy=false update per counted failure, the third one kills.
    assert [u.healthy for u in ups] == [True, False, False, False]
    assert all(u.state == mesos_pb2.TASK_RUNNING for u in ups)
    assert agent.states("t1")[-2:] == ["TASK_KILLING", "TASK_KILLED"]
    assert not any(s.HasField("check_status") for s in agent.statuses("t1"))
    assert "reason=unhealthy" in ex.log()
    assert_exits_zero(ex)


def test_health_grace_period(agent, sandbox, start_executor):
    """Failures within grace_period_seconds of the start do not count (before
    any success); after it, consecutive_failures of them kill."""
    grace = 1.5
    task = command_task("t1", "sleep 60", kill_grace_secs=1)
    with_health(task, "COMMAND", "echo x >> hruns; exit 1", failures=2, grace=grace)
    ex = start(agent, sandbox, start_executor, task)
    running = agent.wait_update_record("t1", "TASK_RUNNING")
    wait_for(lambda: count_lines(sandbox, "hruns") >= 3, T(10), "3 failing runs")
    assert health_updates(agent, "t1") == [], "a failure within the grace period counted"
    st = agent.wait_terminal("t1", T(15))
    assert st.state == mesos_pb2.TASK_KILLED and st.healthy is False
    recs = [u for u in agent.updates("t1") if raw_reason(u.status) == HEALTH_UPDATED]
    assert [u.status.healthy for u in recs] == [False, False]
    assert recs[0].time - running.time >= grace - 0.1, recs[0].time - running.time
    assert count_lines(sandbox, "hruns") >= 6  # failures in the grace period were run
    assert_exits_zero(ex)


def test_health_http_and_running_updates_keep_health(agent, sandbox, start_executor,
                                                    http_server):
    """HTTP: 2xx/3xx healthy, others not; with a check too, a check update
    repeats the last known health and every status carries check_status."""
    port = http_server.server_address[1]
    http_server.code = 302
    task = command_task("t1", "sleep 60")
    with_health(task, "HTTP", port=port, path="/healthz", failures=100)
    with_check(task, "COMMAND", "[ ! -e bad ]")
    ex = start(agent, sandbox, start_executor, task)
    assert wait_health_updates(agent, "t1", 1)[0].healthy is True
    http_server.code = 500
    assert wait_health_updates(agent, "t1", 2)[1].healthy is False
    n = len(check_updates(agent, "t1"))
    open(os.path.join(sandbox, "bad"), "w").close()
    ups = wait_check_updates(agent, "t1", n + 1)
    assert exit_code(ups[-1]) == 1
    assert ups[-1].HasField("healthy") and ups[-1].healthy is False
    assert "/healthz" in http_server.paths
    st = kill_and_finish(agent, ex, "t1")
    assert st.state == mesos_pb2.TASK_KILLED and not st.HasField("healthy")


def test_command_check_runs_like_the_task(agent, sandbox, start_executor):
    """In the task's cgroup (when it has one), as the task's user (when
    spex is root and CommandInfo.user is set)."""
    user = None
    if os.geteuid() == 0:
        user = pwd.getpwnam("nobody")
        os.chmod(sandbox, 0o777)
    task = command_task("t1", "cat /proc/self/cgroup > task.cg; id -u > task.uid; sleep 60")
    if user:
        task.command.user = "nobody"
    with_check(task, "COMMAND", "cat /proc/self/cgroup > check.cg; id -u > check.uid")
    ex = start(agent, sandbox, start_executor, task)
    wait_check_updates(agent, "t1", 1)
    wait_for(lambda: all(os.path.exists(os.path.join(sandbox, f)) and
                         read(sandbox, f).endswith("\n") for f in ("task.uid", "check.uid")),
             T(10), "the task's and the check's uid")
    assert read(sandbox, "check.uid") == read(sandbox, "task.uid")
    if user:
        assert int(read(sandbox, "check.uid")) == user.pw_uid
    running = agent.statuses("t1")[1]
    has_cgroup = any(l.key == "spex.cgroup" for l in running.labels.labels)
    task_cg, check_cg = read(sandbox, "task.cg"), read(sandbox, "check.cg")
    kill_and_finish(agent, ex, "t1")
    if not has_cgroup:
        pytest.skip("the task has no cgroup of its own here (uid/user part checked)")
    mem = [l for l in task_cg.splitlines() if ":memory:" in l]
    assert mem and "spex-%d-t1" % ex.pid in mem[0], task_cg
    assert task_cg == check_cg
