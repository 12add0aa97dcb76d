"""Disconnections, agent restarts, retention of unacknowledged updates and
tasks, and malformed event streams."""

import os
import time

import pytest

from agent import harness
from agent.fake_agent import command_task, mesos_pb2
from helpers import T, assert_exits_zero, read_pid, subscribe, waiting_task


def test_retention_across_agent_restart(make_agent, sandbox, start_executor):
    """Checkpointing: unACKed updates and the TaskInfo are resent in the
    next SUBSCRIBE, and only until they are ACKed."""
    agent = make_agent(drop_acks=True, checkpoint=True)
    ex = start_executor(agent, sandbox, checkpoint=True)
    subscribe(agent, ex)
    task = command_task("t1", "echo $$ > t1.pid; exec sleep 60")
    agent.launch(task)
    agent.wait_update("t1", "TASK_RUNNING", T(10))
    sent = [u.uuid for u in agent.updates("t1")]
    assert len(sent) == 2
    pid = read_pid(sandbox, "t1.pid")

    agent.restart(downtime_secs=1.0)
    sub2 = subscribe(agent, ex, n=2, timeout=T(6))
    assert sub2.time - agent.up_since <= 2.0 + 0.5, \
        "re-SUBSCRIBE %.2fs after the agent came back" % (sub2.time - agent.up_since)
    got = [u.status.uuid for u in sub2.unacknowledged_updates]
    assert got == sent
    assert [u.status.state for u in sub2.unacknowledged_updates] == [
        mesos_pb2.TASK_STARTING, mesos_pb2.TASK_RUNNING]
    assert [t.task_id.value for t in sub2.unacknowledged_tasks] == ["t1"]
    assert sub2.unacknowledged_tasks[0] == task
    assert harness.pid_alive(pid), "task died across the agent restart"
    assert agent.states("t1") == ["TASK_STARTING", "TASK_RUNNING"]

    # Now ACK everything; the next SUBSCRIBE must carry nothing.
    agent.drop_acks = False
    agent.ack_all()
    time.sleep(0.5)
    agent.close_stream()
    sub3 = subscribe(agent, ex, n=3, timeout=T(6))
    assert list(sub3.unacknowledged_updates) == []
    assert list(sub3.unacknowledged_tasks) == []
    assert harness.pid_alive(pid)

    agent.kill("t1")
    assert agent.wait_terminal("t1", T(10)).state == mesos_pb2.TASK_KILLED
    assert_exits_zero(ex)


def test_update_during_outage_sent_in_subscribe(make_agent, sandbox, start_executor):
    """A task that ends while the agent is down: its terminal update goes
    into the next SUBSCRIBE (after the agent's 503s while recovering)."""
    agent = make_agent(checkpoint=True)
    ex = start_executor(agent, sandbox, checkpoint=True)
    subscribe(agent, ex)
    agent.launch(waiting_task("t1"))
    agent.wait_update("t1", "TASK_RUNNING", T(10))
    agent.wait_for(lambda: len(agent.acked) == 2, T(5), "ACKs")

    agent.go_down()
    open(os.path.join(sandbox, "go"), "w").close()
    harness.wait_file(os.path.join(sandbox, "go.done"), T(5))
    time.sleep(0.5)  # let the executor notice the exit while the agent is down
    assert ex.alive()
    agent.come_up(recovering_secs=1.0)
    sub2 = subscribe(agent, ex, n=2, timeout=T(8))
    states = [u.status.state for u in sub2.unacknowledged_updates]
    assert states == [mesos_pb2.TASK_FINISHED], states
    assert [t.task_id.value for t in sub2.unacknowledged_tasks] == []
    st = agent.wait_terminal("t1", T(5))
    assert st.message == "Command exited with status 0"
    assert agent.states("t1") == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    assert_exits_zero(ex)


def test_no_checkpoint_disconnect_kills_and_exits(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox, checkpoint=False)
    subscribe(agent, ex)
    agent.launch(command_task("t1", "echo $$ > t1.pid; exec sleep 60"))
    agent.wait_update("t1", "TASK_RUNNING", T(10))
    pid = read_pid(sandbox, "t1.pid")
    agent.go_down()
    rc = ex.wait(T(10))
    assert rc != 0, "exit code %r after losing a non-checkpointed agent" % rc
    assert not harness.pid_alive(pid)
    assert harness.sandbox_processes(sandbox) == []


@pytest.mark.parametrize("junk", [b"xyz\n", b"99999999999\n"], ids=["not-a-number", "oversize"])
def test_malformed_stream_resubscribes(make_agent, sandbox, start_executor, junk):
    agent = make_agent(checkpoint=True)
    ex = start_executor(agent, sandbox, checkpoint=True)
    subscribe(agent, ex)
    agent.launch(waiting_task("t1"))
    agent.wait_update("t1", "TASK_RUNNING", T(10))
    agent.send_raw_bytes(junk)
    sub2 = subscribe(agent, ex, n=2, timeout=T(6))
    assert ex.alive()
    assert agent.states("t1") == ["TASK_STARTING", "TASK_RUNNING"]
    assert [t.task_id.value for t in sub2.unacknowledged_tasks] == []
    open(os.path.join(sandbox, "go"), "w").close()
    st = agent.wait_terminal("t1", T(10))
    assert st.state == mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)


def test_stream_closed_by_agent_resubscribes(make_agent, sandbox, start_executor):
    agent = make_agent(checkpoint=True)
    ex = start_executor(agent, sandbox, checkpoint=True)
    subscribe(agent, ex)
    agent.launch(waiting_task("t1"))
    agent.wait_update("t1", "TASK_RUNNING", T(10))
    agent.close_stream(graceful=True)
    subscribe(agent, ex, n=2, timeout=T(6))
    open(os.path.join(sandbox, "go"), "w").close()
    assert agent.wait_terminal("t1", T(10)).state == mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)


def test_recovery_timeout_gives_up(make_agent, sandbox, start_executor):
    """Checkpointing, but the agent stays away longer than
    MESOS_RECOVERY_TIMEOUT: the executor kills its task and exits non-zero."""
    agent = make_agent(checkpoint=True)
    ex = start_executor(agent, sandbox, checkpoint=True, recovery_timeout="2secs",
                        backoff_max="500ms")
    subscribe(agent, ex)
    agent.launch(command_task("t1", "echo $$ > t1.pid; exec sleep 60"))
    agent.wait_update("t1", "TASK_RUNNING", T(10))
    pid = read_pid(sandbox, "t1.pid")
    agent.go_down()
    time.sleep(1.0)
    assert ex.alive(), "gave up before MESOS_RECOVERY_TIMEOUT"
    rc = ex.wait(T(12))
    assert rc != 0
    assert not harness.pid_alive(pid)
