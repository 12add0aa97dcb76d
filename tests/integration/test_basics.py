"""Start-up, configuration and wire-level behaviour of spex-executor."""

import os
import re
import subprocess
import time

import pytest

from agent import harness
from agent.fake_agent import JSON, PROTOBUF, command_task
from helpers import T, assert_exits_zero, is_v4_uuid, read, run_to_terminal, subscribe


def test_version():
    binary = harness.spex_bin()
    r = subprocess.run([binary, "--version"], env={"PATH": harness.MESOS_PATH},
                       capture_output=True, timeout=T(10))
    assert r.returncode == 0, r
    out = (r.stdout + r.stderr).decode("utf-8", "replace")
    assert re.search(r"\d+\.\d+(\.\d+)?", out), out
    version_file = os.path.join(harness.REPO, "VERSION")
    if os.path.exists(version_file):
        with open(version_file) as f:
            assert f.read().strip() in out


@pytest.mark.parametrize("var", ["MESOS_EXECUTOR_ID", "MESOS_FRAMEWORK_ID"])
def test_missing_required_env(agent, sandbox, start_executor, var):
    ex = start_executor(agent, sandbox, env_overrides={var: None})
    rc = ex.wait(T(10))
    assert rc != 0
    lines = [ln for ln in ex.log().splitlines() if var in ln]
    assert lines, "no line naming %s in:\n%s" % (var, ex.log())
    assert agent.subscriptions == []


def test_subscribe_headers_and_call(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    sub = subscribe(agent, ex)
    assert sub.headers["Content-Type"] == PROTOBUF
    assert sub.headers["Accept"] == PROTOBUF
    assert sub.headers["Host"] == agent.endpoint
    assert sub.headers["Authorization"] is None
    assert sub.call.executor_id.value == agent.executor_id
    assert sub.call.framework_id.value == agent.framework_id
    assert sub.call.HasField("subscribe")
    assert len(sub.unacknowledged_updates) == 0
    assert len(sub.unacknowledged_tasks) == 0
    st = run_to_terminal(agent, ex, command_task("t1", "true"))
    assert st.state == harness.protos.mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)
    assert len(agent.subscriptions) == 1


def test_slave_pid_only(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox, env_overrides={"MESOS_AGENT_ENDPOINT": None})
    sub = subscribe(agent, ex)
    assert sub.path == "/slave(1)/api/v1/executor"
    run_to_terminal(agent, ex, command_task("t1", "true"))
    assert_exits_zero(ex)


def test_agent_endpoint_only(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox, env_overrides={"MESOS_SLAVE_PID": None})
    sub = subscribe(agent, ex)
    assert sub.path == "/api/v1/executor"
    run_to_terminal(agent, ex, command_task("t1", "true"))
    assert_exits_zero(ex)


def test_updates_are_well_formed(agent, sandbox, start_executor):
    """Every UPDATE: v4 uuid, SOURCE_EXECUTOR, executor_id, the agent's id,
    a timestamp; sent on a connection other than the subscription's."""
    t0 = time.time()
    ex = start_executor(agent, sandbox)
    sub = subscribe(agent, ex)
    run_to_terminal(agent, ex, command_task("t1", "exit 0"))
    assert_exits_zero(ex)
    ups = agent.updates(include_duplicates=True)
    assert [u.state_name for u in ups] == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    uuids = set()
    for u in ups:
        st = u.status
        assert is_v4_uuid(st.uuid), st.uuid
        assert st.uuid not in uuids
        uuids.add(st.uuid)
        assert st.source == st.SOURCE_EXECUTOR
        assert st.executor_id.value == agent.executor_id
        assert st.agent_id.value == agent.agent_id
        assert st.HasField("timestamp") and t0 - 1 <= st.timestamp <= time.time() + 1
        assert u.conn_id != sub.conn_id, "UPDATE sent on the subscription connection"
        assert u.content_type == PROTOBUF
        assert not u.replay
    assert all(u.acked for u in ups)
    reqs = [r for r in agent.requests if r.call_type == "UPDATE"]
    assert len(reqs) == 3 and all(r.code == 202 for r in reqs)
    assert all(r.headers.get("Host") == agent.endpoint for r in reqs)
    assert agent.stream_junk == []


def test_unknown_flags_accepted(agent, sandbox, start_executor):
    args = ["--launcher_dir=/usr/libexec/mesos", "--sandbox_directory=" + sandbox,
            "--unknown-flag", "--another_unknown=1"]
    ex = start_executor(agent, sandbox, args=args)
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("t1", "pwd > cwd.txt"))
    assert st.state == harness.protos.mesos_pb2.TASK_FINISHED
    assert read(sandbox, "cwd.txt").strip() == sandbox
    assert_exits_zero(ex)
    assert "unknown-flag" in ex.log()


def test_auth_token(make_agent, sandbox, start_executor):
    token = "eyJhbGciOiJIUzI1NiJ9.c3BleC10ZXN0.spex-secret-token-7c1f"
    agent = make_agent(token=token)
    ex = start_executor(agent, sandbox)
    sub = subscribe(agent, ex)
    assert sub.headers["Authorization"] == "Bearer " + token
    st = run_to_terminal(agent, ex, command_task("t1", "env > task-env.txt"))
    assert st.state == harness.protos.mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)
    assert agent.rejected() == []
    assert all(r.headers.get("Authorization") == "Bearer " + token for r in agent.requests)
    env = read(sandbox, "task-env.txt")
    assert "MESOS_EXECUTOR_AUTHENTICATION_TOKEN" not in env
    assert token not in env
    assert token not in ex.log()
    for name in ("stdout", "stderr"):
        assert token not in read(sandbox, name)


def test_json_mode(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_CONTENT_TYPE": JSON})
    sub = subscribe(agent, ex)
    assert sub.headers["Content-Type"] == JSON
    assert sub.headers["Accept"] == JSON
    assert sub.event_type == JSON
    st = run_to_terminal(agent, ex, command_task("t1", "echo hi"))
    assert st.state == harness.protos.mesos_pb2.TASK_FINISHED
    assert st.message == "Command exited with status 0"
    assert_exits_zero(ex)
    ups = agent.updates("t1")
    assert [u.state_name for u in ups] == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    assert all(u.content_type == JSON for u in ups)
    assert all(is_v4_uuid(u.uuid) for u in ups)


def test_heartbeat_and_unknown_events_ignored(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    agent.heartbeat()
    agent.send_raw_record(b"\x08\x63")  # Event{type: 99}
    agent.message(b"opaque framework message")
    agent.heartbeat()
    st = run_to_terminal(agent, ex, command_task("t1", "true"))
    assert st.state == harness.protos.mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)
    assert len(agent.subscriptions) == 1


def test_error_event_not_fatal(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    agent.error("something went wrong on the agent")
    st = run_to_terminal(agent, ex, command_task("t1", "true"))
    assert st.state == harness.protos.mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)


def test_records_split_across_chunks(make_agent, sandbox, start_executor):
    """RecordIO records cut into 2-byte HTTP chunks, SUBSCRIBED and the
    queued LAUNCH back to back: the decoder must keep state across chunks."""
    agent = make_agent(chunk_size=2, coalesce_initial=True)
    agent.launch(command_task("t1", "echo split"))
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    st = agent.wait_terminal("t1", T(15))
    assert st.state == harness.protos.mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)


def test_records_coalesced_in_one_chunk(make_agent, sandbox, start_executor):
    agent = make_agent(coalesce_initial=True)
    agent.launch(command_task("t1", "true"))
    agent.launch(command_task("t2", "true"))
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    for t in ("t1", "t2"):
        assert agent.wait_terminal(t, T(15)).state == harness.protos.mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)


def test_subscribe_retried_on_503(make_agent, sandbox, start_executor):
    """The agent still recovering answers 503; the executor retries."""
    agent = make_agent()
    agent.recovering = True
    ex = start_executor(agent, sandbox)
    harness_wait = time.monotonic() + T(5)
    while not [r for r in agent.requests if r.code == 503]:
        assert time.monotonic() < harness_wait, "no SUBSCRIBE attempt"
        assert ex.alive(), ex.log()
        time.sleep(0.02)
    time.sleep(0.5)
    agent.recovering = False
    sub = subscribe(agent, ex, timeout=T(5))
    assert sub.call.HasField("subscribe")
    st = run_to_terminal(agent, ex, command_task("t1", "true"))
    assert st.state == harness.protos.mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)
