"""Self-tests of the fake agent, with a minimal executor client written here.

These need no spex binary. They check that the fake agent is as strict as
the real one (mesos-executor-api.md §1.2, §1.6, §3.2), so that the executor
tests can trust it.
"""

import base64
import http.client
import json
import socket
import time
import uuid

import pytest

from agent import fake_agent, protos
from agent.fake_agent import JSON, PROTOBUF, Call, Event, FakeAgent, mesos_pb2


class Stream:
    """Reads a chunked RecordIO event stream from a raw socket."""

    def __init__(self, sock, status, headers, leftover):
        self.sock = sock
        self.status = status
        self.headers = headers
        self.raw = bytearray(leftover)  # undecoded HTTP bytes
        self.body = bytearray()  # de-chunked bytes
        self.eof = False

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            self.eof = True
            return False
        self.raw += data
        return True

    def _dechunk(self):
        while True:
            i = self.raw.find(b"\r\n")
            if i < 0:
                return
            n = int(bytes(self.raw[:i]).split(b";")[0], 16)
            if n == 0:
                self.eof = True
                return
            if len(self.raw) < i + 2 + n + 2:
                return
            self.body += self.raw[i + 2:i + 2 + n]
            del self.raw[:i + 2 + n + 2]

    def next_record(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            self._dechunk()
            j = self.body.find(b"\n")
            if j >= 0:
                n = int(self.body[:j])
                if len(self.body) >= j + 1 + n:
                    rec = bytes(self.body[j + 1:j + 1 + n])
                    del self.body[:j + 1 + n]
                    return rec
            if self.eof:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no event within %.1fs" % timeout)
            self._fill(left)

    def next_event(self, timeout=5.0):
        rec = self.next_record(timeout)
        if rec is None:
            return None
        if self.headers.get("content-type") == JSON:
            return json.loads(rec)
        ev = Event()
        ev.ParseFromString(rec)
        return ev

    def closed(self, timeout=3.0):
        deadline = time.monotonic() + timeout
        while not self.eof and time.monotonic() < deadline:
            self._dechunk()
            if not self.eof:
                self._fill(0.1)
        return self.eof

    def close(self):
        self.sock.close()


class Mini:
    """A minimal executor client."""

    def __init__(self, agent, executor_id=None, framework_id=None):
        self.agent = agent
        self.executor_id = executor_id or agent.executor_id
        self.framework_id = framework_id or agent.framework_id
        self.conn = http.client.HTTPConnection(agent.host, agent.port, timeout=5)

    def call(self, type_, **kw):
        c = Call(type=type_)
        c.executor_id.value = self.executor_id
        c.framework_id.value = self.framework_id
        if type_ == Call.SUBSCRIBE:
            c.subscribe.SetInParent()
        return c

    def status(self, task_id="t1", state=mesos_pb2.TASK_RUNNING, uid=None,
               source=mesos_pb2.TaskStatus.SOURCE_EXECUTOR, agent_id=None):
        c = self.call(Call.UPDATE)
        st = c.update.status
        st.task_id.value = task_id
        st.state = state
        st.uuid = uuid.uuid4().bytes if uid is None else uid
        if source is not None:
            st.source = source
        st.executor_id.value = self.executor_id
        st.agent_id.value = agent_id or self.agent.agent_id
        st.timestamp = time.time()
        return c

    def post(self, body, ctype=PROTOBUF, path="/slave(1)/api/v1/executor", headers=None,
             method="POST"):
        h = {"Accept": PROTOBUF}
        if ctype is not None:
            h["Content-Type"] = ctype
        h.update(headers or {})
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def subscribe(self, call=None, accept=PROTOBUF, ctype=PROTOBUF, extra=b""):
        call = call or self.call(Call.SUBSCRIBE)
        body = (json.dumps(fake_agent.message_to_json_obj(call)).encode() if ctype == JSON
                else call.SerializeToString())
        s = socket.create_connection((self.agent.host, self.agent.port), timeout=5)
        req = ("POST /slave(1)/api/v1/executor HTTP/1.1\r\nHost: %s\r\n"
               "Content-Type: %s\r\n%sContent-Length: %d\r\n\r\n" % (
                   self.agent.endpoint, ctype,
                   ("Accept: %s\r\n" % accept) if accept is not None else "", len(body)))
        s.sendall(req.encode() + body + extra)
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            headers[k.strip().lower()] = v.strip()
        return Stream(s, status, headers, rest)


@pytest.fixture
def fa():
    a = FakeAgent()
    yield a
    a.stop()


def test_subscribe_stream_and_ack(fa):
    m = Mini(fa)
    st = m.subscribe()
    assert st.status == 200
    assert st.headers["content-type"] == PROTOBUF
    assert st.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in st.headers
    ev = st.next_event()
    assert ev.type == Event.SUBSCRIBED
    assert ev.subscribed.agent_info.id.value == fa.agent_id
    assert ev.subscribed.framework_info.id.value == fa.framework_id
    caps = [c.type for c in ev.subscribed.framework_info.capabilities]
    assert mesos_pb2.FrameworkInfo.Capability.TASK_KILLING_STATE in caps
    assert ev.subscribed.container_id.value
    sub = fa.wait_subscribed(1)
    assert sub.headers["Host"] == fa.endpoint

    fa.launch(fake_agent.command_task("t1", "true"))
    ev = st.next_event()
    assert ev.type == Event.LAUNCH and ev.launch.task.task_id.value == "t1"

    call = m.status("t1", mesos_pb2.TASK_RUNNING)
    code, _, _ = m.post(call.SerializeToString())
    assert code == 202
    ev = st.next_event()
    assert ev.type == Event.ACKNOWLEDGED
    assert ev.acknowledged.uuid == call.update.status.uuid
    assert fa.states("t1") == ["TASK_RUNNING"]
    assert fa.wait_update("t1", "TASK_RUNNING").uuid == call.update.status.uuid
    assert fa.protocol_errors() == []
    st.close()
    fa.wait_disconnected()


def test_status_validation(fa):
    m = Mini(fa)
    st = m.subscribe()
    st.next_event()
    bad = [
        m.status(uid=b"d40f3f3e-bbe3-44af-a230-4cb1eae72f67\n"),  # text uuid
        m.status(uid=bytes(16)),  # version nibble 0
        m.status(uid=b""),
        m.status(source=None),  # defaults to SOURCE_MASTER
        m.status(source=mesos_pb2.TaskStatus.SOURCE_AGENT),
        m.status(state=mesos_pb2.TASK_STAGING),
    ]
    c = m.status()
    c.update.status.executor_id.value = "other"
    bad.append(c)
    for call in bad:
        code, _, body = m.post(call.SerializeToString())
        assert code == 400, (call, body)
        assert b"Failed to validate Executor::Call" in body
    # Missing required field: parse failure.
    c = m.call(Call.UPDATE)
    code, _, body = m.post(c.SerializeToString()[:-2])
    assert code == 400
    # subscribe missing
    c = m.call(Call.SUBSCRIBE)
    c.ClearField("subscribe")
    code, _, body = m.post(c.SerializeToString())
    assert code == 400 and b"subscribe" in body
    # type missing
    c = m.call(Call.UPDATE)
    c.ClearField("type")
    code, _, _ = m.post(c.SerializeToString())
    assert code == 400
    # unknown framework / executor
    code, _, body = Mini(fa, framework_id="nope").post(Mini(fa, framework_id="nope")
                                                      .status().SerializeToString())
    assert code == 400 and b"Framework cannot be found" in body
    assert len(fa.protocol_errors()) == len(bad) + 4
    assert fa.updates() == []


def test_content_types_and_methods(fa):
    m = Mini(fa)
    body = m.call(Call.SUBSCRIBE).SerializeToString()
    assert m.post(body, ctype=None)[0] == 400
    assert m.post(body, ctype="text/plain")[0] == 415
    assert m.post(body, ctype="application/json; charset=utf-8")[0] == 415
    code, hdrs, _ = m.post(b"", method="GET")
    assert code == 405 and hdrs["allow"] == "POST"
    assert m.post(body, path="/api/v1/scheduler")[0] == 404
    assert m.subscribe(accept="text/html").status == 406
    st = m.subscribe(accept=None)
    assert st.status == 200 and st.headers["content-type"] == JSON
    assert st.next_event()["type"] == "SUBSCRIBED"
    st2 = m.subscribe(accept="application/x-protobuf, application/json;q=0")
    assert st2.headers["content-type"] == PROTOBUF
    # the second SUBSCRIBE closed the first stream
    assert st.closed()
    st3 = m.subscribe(accept="*/*")
    assert st3.headers["content-type"] == JSON


def test_update_before_subscribe_forbidden(fa):
    m = Mini(fa)
    code, _, body = m.post(m.status().SerializeToString())
    assert code == 403


def test_heartbeat_call_and_event(fa):
    m = Mini(fa)
    c = m.call(Call.MESSAGE)  # placeholder with the IDs
    c.ClearField("type")
    raw = c.SerializeToString() + b"\x18\x04"  # type = HEARTBEAT (4)
    code, _, _ = m.post(raw)
    assert code == 202
    assert len(fa.heartbeat_calls) == 1
    # header names are case-insensitive
    code, _, _ = m.post(raw, ctype=None, headers={"content-type": PROTOBUF})
    assert code == 202
    st = m.subscribe()
    st.next_event()
    fa.heartbeat()
    fa.send_raw_record(b"\x08\x63")
    assert st.next_record() == b"\x08\x09"
    assert st.next_record() == b"\x08\x63"
    code, _, _ = m.post(json.dumps({"type": "HEARTBEAT", "executor_id": {"value": "unused"},
                                    "framework_id": {"value": "unused"}}).encode(), ctype=JSON)
    assert code == 202


def test_token(fa):
    a = FakeAgent(token="s3cret")
    try:
        m = Mini(a)
        assert m.subscribe().status == 401
        st = m.subscribe(extra=b"")  # still 401 without a header
        assert st.status == 401
        m2 = Mini(a)
        code, _, _ = m2.post(m2.call(Call.SUBSCRIBE).SerializeToString(),
                             headers={"Authorization": "Bearer wrong"})
        assert code == 401
    finally:
        a.stop()


def test_recovering_503(fa):
    fa.recovering = True
    m = Mini(fa)
    assert m.subscribe().status == 503
    fa.recovering = False
    assert m.subscribe().status == 200


def test_queued_launch_and_restart(fa):
    fa.launch(fake_agent.command_task("t1", "true"))
    m = Mini(fa)
    st = m.subscribe()
    assert st.next_event().type == Event.SUBSCRIBED
    assert st.next_event().type == Event.LAUNCH
    port = fa.port
    fa.restart(downtime_secs=0.3)
    assert st.closed()
    assert fa.port == port
    m2 = Mini(fa)
    c = m2.call(Call.SUBSCRIBE)
    upd = c.subscribe.unacknowledged_updates.add()
    upd.status.CopyFrom(m2.status("t1").update.status)
    c.subscribe.unacknowledged_tasks.add().CopyFrom(fa.tasks["t1"])
    st2 = m2.subscribe(c)
    assert st2.next_event().type == Event.SUBSCRIBED
    ev = st2.next_event()
    assert ev.type == Event.ACKNOWLEDGED
    assert ev.acknowledged.uuid == upd.status.uuid
    sub = fa.wait_subscribed(2)
    assert [u.status.uuid for u in sub.unacknowledged_updates] == [upd.status.uuid]
    assert fa.updates("t1")[0].replay


def test_wrong_agent_id_not_acked(fa):
    m = Mini(fa)
    st = m.subscribe()
    st.next_event()
    fa.launch(fake_agent.command_task("t1", "true"))
    st.next_event()
    code, _, _ = m.post(m.status("t1", agent_id="other").SerializeToString())
    assert code == 202
    with pytest.raises(AssertionError):
        st.next_event(timeout=0.5)
    assert fa.update_problems()


def test_json_roundtrip(fa):
    fa.launch(fake_agent.spark_task_info())
    m = Mini(fa)
    st = m.subscribe(accept=JSON, ctype=JSON)
    assert st.headers["content-type"] == JSON
    ev = st.next_event()
    assert ev["type"] == "SUBSCRIBED"
    assert ev["subscribed"]["agent_info"]["port"] == fa.port
    assert ev["subscribed"]["framework_info"]["checkpoint"] is False
    ev = st.next_event()
    assert ev["type"] == "LAUNCH"
    cmd = ev["launch"]["task"]["command"]
    assert cmd["shell"] is True  # explicit proto2 default, as the agent writes it
    assert cmd["value"].startswith("cd spark-3*;")
    uid = uuid.uuid4().bytes
    body = {
        "type": "UPDATE",
        "executor_id": {"value": fa.executor_id},
        "framework_id": {"value": fa.framework_id},
        "update": {"status": {
            "task_id": {"value": "3"}, "state": "TASK_RUNNING", "source": "SOURCE_EXECUTOR",
            "uuid": base64.b64encode(uid).decode(), "timestamp": time.time(),
            "executorId": {"value": "ignored camelCase"}}},
    }
    code, _, _ = m.post(json.dumps(body).encode(), ctype=JSON)
    assert code == 202
    ev = st.next_event()
    assert ev["type"] == "ACKNOWLEDGED"
    assert base64.b64decode(ev["acknowledged"]["uuid"]) == uid
    body["update"]["status"]["state"] = 1  # enums must be strings
    code, _, _ = m.post(json.dumps(body).encode(), ctype=JSON)
    assert code == 400


def test_chunk_split_and_raw(fa):
    fa.chunk_size = 3
    m = Mini(fa)
    st = m.subscribe()
    assert st.next_event().type == Event.SUBSCRIBED
    fa.send_raw_bytes(b"5\nab")
    fa.send_raw_bytes(b"cde")
    assert st.next_record() == b"abcde"


def test_max_completion_time_raw():
    ti = fake_agent.command_task("t1", "sleep 5")
    raw = protos.with_max_completion_time(ti.SerializeToString(), 1)
    vals = protos.raw_field_values(raw, 14)
    assert vals == [b"\x08\x01"]
    back = mesos_pb2.TaskInfo()
    back.ParseFromString(raw)
    assert back.task_id.value == "t1"


def test_spark_fixture_parses():
    ti = fake_agent.spark_task_info()
    assert ti.task_id.value == "3"
    assert ti.agent_id.value == fake_agent.DEFAULT_AGENT_ID
    assert ti.command.value.startswith("cd spark-3*;")
    assert not ti.command.HasField("shell") and ti.command.shell is True
    env = {v.name: v.value for v in ti.command.environment.variables}
    assert env["JAVA_HOME"] == "/usr/lib/jvm/java-17-openjdk-amd64"
