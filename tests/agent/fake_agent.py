"""A fake Mesos agent: the executor side of the v1 HTTP API, for tests.

This is an independent implementation of the wire protocol, written from
the upstream behaviour described in shared/reference/mesos-executor-api.md
(sections 1-3). It uses the upstream (mesos-go) protos only; nothing here
is shared with the executor under test.

What it does, like the real agent (apache/mesos src/slave/http.cpp,
Http::executor, and src/common/validation.cpp, validateExecutorCall):

* POST /api/v1/executor and /slave(1)/api/v1/executor; other paths 404,
  other methods 405 with ``Allow: POST``.
* Content-Type must be exactly application/x-protobuf or application/json
  (missing: 400; anything else: 415). Accept is negotiated for SUBSCRIBE
  (JSON first, then protobuf, else 406).
* Optional Bearer token (401 without it).
* Calls are parsed (400 on failure) and validated as validateExecutorCall
  does (400 "Failed to validate Executor::Call: ..."). HEARTBEAT calls get
  202 at once. Unknown framework/executor: 400. UPDATE before any SUBSCRIBE:
  403.
* SUBSCRIBE gets 200 + a chunked RecordIO stream: SUBSCRIBED first, then the
  queued LAUNCH events. A new SUBSCRIBE closes the older stream.
* UPDATE gets 202 and then (unless told not to) ACKNOWLEDGED on the current
  stream. An update with a wrong agent_id is recorded but never ACKed.
  Unacknowledged updates carried by a re-SUBSCRIBE are replayed and ACKed.

Every request, accepted or rejected, is recorded so that tests can assert
that the executor never made a protocol error.

Note: ``FakeAgent.shutdown()`` sends a SHUTDOWN *event* to the executor. To
stop the HTTP server use ``stop()``.

Fault injection (all off by default; used by tests/integration/test_faults.py
and tests/soak.py):

* restarts: ``go_down()`` / ``come_up()`` / ``restart()``; ``come_up`` can
  model the real agent's recovery: every call 503 for ``recovering_secs``
  (containerizer recovery), then SUBSCRIBE accepted while other calls still
  get 503 for ``calls_recovering_secs`` (until the re-registration window is
  over);
* the stream: ``dribble_delay`` (one byte per HTTP chunk, paced by a writer
  thread), ``splitter`` (a function cutting each record into HTTP chunks,
  e.g. ``record_splitter(rng)`` which always cuts inside the RecordIO
  header), ``subscribed_delay`` (headers first, SUBSCRIBED later),
  ``send_truncated_record()``, ``send_oversize_header()``,
  ``heartbeat_storm()``, ``error()``;
* ACKs: ``dup_ack_prob`` (ACK twice), ``ack_unknown()``, ``hold_acks`` and
  ``release_held_acks()`` (late ACKs, e.g. after a resubscribe);
* calls: ``fail_next_update(mode)`` / ``update_fault_prob``: reset the
  connection (RST) of an UPDATE call before processing it (the agent never
  saw it) or after processing it (the 202 is lost);
* ``drop_staging``: on SUBSCRIBE, like the real agent, a task whose LAUNCH
  was sent on an earlier stream but of which the agent has no update and
  which is not in ``unacknowledged_tasks`` is dropped (it never reached the
  executor); recorded in ``dropped_tasks``.
"""

import base64
import collections
import copy
import io
import json
import os
import random
import select
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
import uuid as uuidlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import descriptor as _descriptor
from google.protobuf import json_format
from google.protobuf.message import DecodeError

try:  # imported as package "agent" (tests) or as a plain module (scripts)
    from . import protos
except ImportError:  # pragma: no cover
    import protos  # type: ignore

mesos_pb2 = protos.mesos_pb2
executor_pb2 = protos.executor_pb2
Event = executor_pb2.Event
Call = executor_pb2.Call
TaskState = mesos_pb2.TaskState
TaskStatus = mesos_pb2.TaskStatus

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
EXECUTOR_PATHS = ("/api/v1/executor", "/slave(1)/api/v1/executor")

REPO = protos.REPO
SHARED = os.environ.get("SPEX_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
FIXTURES = os.path.join(SHARED, "reference", "fixtures")
SPARK_TASKINFO_JSON = os.path.join(FIXTURES, "spark-mesos-taskinfo.json")

# IDs consistent with the Spark fixture: the task's agent_id is the agent's
# ID, the Spark app id is the framework ID, and for a command task the
# ExecutorID equals the TaskID.
DEFAULT_AGENT_ID = "3f2a6c1e-8d4b-4e7a-9c21-5b0d7e9f1a42-S17"
DEFAULT_FRAMEWORK_ID = "3f2a6c1e-8d4b-4e7a-9c21-5b0d7e9f1a42-0193"
DEFAULT_EXECUTOR_ID = "3"

TERMINAL_STATES = {
    TaskState.Value(n) for n in ("TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR",
                                 "TASK_LOST", "TASK_DROPPED", "TASK_GONE",
                                 "TASK_GONE_BY_OPERATOR")
}

VERBOSE = os.environ.get("FAKE_AGENT_VERBOSE") == "1"


def state_name(state):
    try:
        return TaskState.Name(state)
    except ValueError:
        return str(state)


def state_number(state):
    if isinstance(state, int):
        return state
    return TaskState.Value(state)


# --- UUID validation as stout's id::UUID::fromBytes -----------------------

def uuid_error(b):
    """None if b is a valid 16-byte RFC-4122 UUID (version 1-5), else why."""
    if len(b) != 16:
        return "Not a valid UUID: expected 16 bytes, got %d" % len(b)
    version = b[6] >> 4
    if not 1 <= version <= 5:
        return "Not a valid UUID: version nibble is %d" % version
    return None


# --- checks ----------------------------------------------------------------

_CHECK_FIELDS = {mesos_pb2.CheckInfo.COMMAND: "command", mesos_pb2.CheckInfo.HTTP: "http",
                 mesos_pb2.CheckInfo.TCP: "tcp"}


def check_status_error(cs):
    """None if cs is a valid CheckStatusInfo, else why (apache/mesos
    src/common/validation.cpp validateCheckStatusInfo)."""
    if not cs.HasField("type"):
        return "CheckStatusInfo must specify 'type'"
    field = _CHECK_FIELDS.get(cs.type)
    if field is None:
        return "'%s' is not a valid check's status type" % cs.type
    if not cs.HasField(field):
        return "Expecting '%s' to be set for %s check's status" % (
            field, mesos_pb2.CheckInfo.Type.Name(cs.type))
    return None


def check_status_rule(task_info, status):
    """None if status follows TaskStatus.check_status's rule for the task
    (mesos.proto): present, of the check's type, when TaskInfo.check is set;
    absent otherwise. Else why."""
    if task_info is None:
        return None
    if task_info.HasField("check"):
        if not status.HasField("check_status"):
            return "TaskInfo.check is set but the status has no check_status"
        if status.check_status.type != task_info.check.type:
            return "check_status.type %d, TaskInfo.check.type %d" % (
                status.check_status.type, task_info.check.type)
    elif status.HasField("check_status"):
        return "check_status without TaskInfo.check"
    return None


# --- JSON encoding like stout/protobuf.hpp --------------------------------

_FD = _descriptor.FieldDescriptor
_INT64_TYPES = (_FD.TYPE_INT64, _FD.TYPE_UINT64, _FD.TYPE_SINT64, _FD.TYPE_FIXED64,
                _FD.TYPE_SFIXED64)


def _json_value(field, value):
    if field.type == _FD.TYPE_MESSAGE:
        return message_to_json_obj(value)
    if field.type == _FD.TYPE_ENUM:
        ev = field.enum_type.values_by_number.get(value)
        return ev.name if ev else None
    if field.type == _FD.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    return value


def message_to_json_obj(msg):
    """Like the agent's JSON: snake_case keys, enums as strings, int64 as
    numbers, bytes as base64, and unset optional fields with an explicit
    default included (e.g. ``command.shell: true``)."""
    out = {}
    for field in msg.DESCRIPTOR.fields:
        if field.label == _FD.LABEL_REPEATED:
            vals = getattr(msg, field.name)
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                vf = field.message_type.fields_by_name["value"]
                if len(vals):
                    out[field.name] = {k: _json_value(vf, vals[k]) for k in vals}
                continue
            if len(vals):
                conv = [_json_value(field, v) for v in vals]
                out[field.name] = [c for c in conv if c is not None]
        elif msg.HasField(field.name):
            v = _json_value(field, getattr(msg, field.name))
            if v is not None:
                out[field.name] = v
        elif field.has_default_value and field.type != _FD.TYPE_MESSAGE:
            v = _json_value(field, field.default_value)
            if v is not None:
                out[field.name] = v
    return out


def encode_json(msg):
    return json.dumps(message_to_json_obj(msg), separators=(",", ":")).encode()


class JsonCallError(Exception):
    pass


def _scrub_json(obj, desc, path="Call"):
    """Make a JSON object look to json_format like it looks to the agent.

    The agent (stout) looks keys up by exact proto field name, so unknown and
    camelCase keys are silently dropped; an enum must be a JSON string (a
    number is an error); an unknown enum string in an optional field is
    dropped.
    """
    if not isinstance(obj, dict):
        raise JsonCallError("Expecting a JSON object at %s" % path)
    out = {}
    for key, val in obj.items():
        field = desc.fields_by_name.get(key)
        if field is None:
            continue
        p = path + "." + key
        repeated = field.label == _FD.LABEL_REPEATED
        vals = val if repeated else [val]
        if repeated and not isinstance(val, list):
            raise JsonCallError("Expecting a JSON array at %s" % p)
        conv = []
        for v in vals:
            if field.type == _FD.TYPE_MESSAGE:
                if field.message_type.GetOptions().map_entry:
                    conv.append(v)
                else:
                    conv.append(_scrub_json(v, field.message_type, p))
            elif field.type == _FD.TYPE_ENUM:
                if not isinstance(v, str):
                    raise JsonCallError("Not expecting a JSON number for enum field %s" % p)
                if v in field.enum_type.values_by_name:
                    conv.append(v)
            else:
                conv.append(v)
        if repeated:
            out[key] = conv
        elif conv:
            out[key] = conv[0]
    return out


def parse_json_call(body):
    """(call, raw_type_name) from a JSON body; raises JsonCallError."""
    try:
        obj = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise JsonCallError("Failed to parse body into JSON: %s" % e)
    raw_type = obj.get("type") if isinstance(obj, dict) else None
    scrubbed = _scrub_json(obj, Call.DESCRIPTOR)
    call = Call()
    try:
        json_format.ParseDict(scrubbed, call, ignore_unknown_fields=True)
    except json_format.ParseError as e:
        raise JsonCallError("Failed to convert JSON into Call protobuf: %s" % e)
    if not call.IsInitialized():
        raise JsonCallError("Failed to convert JSON into Call protobuf: missing required fields %s"
                            % call.FindInitializationErrors())
    return call, raw_type


# --- events ---------------------------------------------------------------

class RawEvent:
    """An event given as bytes, for things the mesos-go protos cannot say."""

    def __init__(self, pb, js=None, name="RAW"):
        self.pb = pb
        self.js = js
        self.name = name


def encode_event(ev, use_json):
    if isinstance(ev, RawEvent):
        if use_json:
            if ev.js is None:
                raise ValueError("event %s has no JSON form" % ev.name)
            return ev.js
        return ev.pb
    return encode_json(ev) if use_json else ev.SerializeToString()


def event_name(ev):
    if isinstance(ev, RawEvent):
        return ev.name
    return Event.Type.Name(ev.type)


def recordio(data):
    return str(len(data)).encode() + b"\n" + data


def http_chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


def record_splitter(rng, max_cuts=3):
    """A splitter for FakeAgent(splitter=...): cuts every record into HTTP
    chunks at random places, one of them always inside (or right at the end
    of) the RecordIO length header."""
    def split(data):
        if len(data) < 2:
            return [data]
        cuts = set()
        nl = data.find(b"\n")
        if nl > 0:
            cuts.add(rng.randint(1, nl))
        for _ in range(rng.randint(0, max_cuts)):
            cuts.add(rng.randint(1, len(data) - 1))
        out, prev = [], 0
        for c in sorted(cuts):
            if prev < c < len(data):
                out.append(data[prev:c])
                prev = c
        out.append(data[prev:])
        return out
    return split


# --- records --------------------------------------------------------------

class Headers(dict):
    """Request headers; lookups are case-insensitive, as in HTTP."""

    def __init__(self, items):
        super().__init__()
        self.items_list = list(items)
        for k, v in self.items_list:
            super().setdefault(k.lower(), v)

    def get(self, key, default=None):
        return super().get(key.lower(), default)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(key.lower())


class Request:
    """One HTTP request as the agent saw it."""

    def __init__(self, method, path, headers, conn_id, body):
        self.time = time.monotonic()
        self.wall = time.time()
        self.method = method
        self.path = path
        self.headers = headers
        self.conn_id = conn_id
        self.body = body
        self.call_type = None
        self.code = None
        self.reason = ""

    def __repr__(self):
        return "<%s %s %s type=%s -> %s %s>" % (self.method, self.path, self.conn_id,
                                               self.call_type, self.code, self.reason)


class Subscribe:
    """One accepted SUBSCRIBE."""

    def __init__(self, epoch, request, call, content_type, accept_type):
        self.epoch = epoch
        self.time = time.monotonic()
        self.wall = time.time()
        self.request = request
        self.headers = {k: request.headers.get(k) for k in
                        ("Host", "Content-Type", "Accept", "Authorization")}
        self.path = request.path
        self.conn_id = request.conn_id
        self.call = call
        self.content_type = content_type  # of the request
        self.event_type = accept_type  # negotiated for the stream
        self.subscribed_at = None  # when SUBSCRIBED was written
        self.closed_at = None
        # What the agent knew when this SUBSCRIBE arrived (before its replays):
        self.received_before = set()  # uuids of updates received
        self.acked_before = set()  # uuids ACKed (an ACK was written)
        self.dropped = []  # task ids dropped as STAGING at this SUBSCRIBE

    @property
    def unacknowledged_updates(self):
        return list(self.call.subscribe.unacknowledged_updates)

    @property
    def unacknowledged_tasks(self):
        return list(self.call.subscribe.unacknowledged_tasks)

    def __repr__(self):
        return "<Subscribe #%d conn=%s %s unacked_updates=%d unacked_tasks=%d>" % (
            self.epoch, self.conn_id, self.path, len(self.call.subscribe.unacknowledged_updates),
            len(self.call.subscribe.unacknowledged_tasks))


class Update:
    """One TaskStatus the agent received (an UPDATE call, or a replay from a
    SUBSCRIBE's unacknowledged_updates)."""

    def __init__(self, status, epoch, conn_id, content_type, replay=False):
        self.time = time.monotonic()
        self.wall = time.time()
        self.status = status
        self.epoch = epoch  # subscription current when it arrived (None if none)
        self.conn_id = conn_id
        self.content_type = content_type
        self.replay = replay
        self.task_id = status.task_id.value
        self.state = status.state
        self.state_name = state_name(status.state)
        self.uuid = status.uuid
        self.duplicate = False  # same uuid seen before
        self.notes = []  # what the real agent would do about it
        self.violations = []  # protocol rules it breaks that the agent does not enforce
        self.acked = False

    def __repr__(self):
        return "<Update %s %s %r%s%s>" % (self.task_id, self.state_name, self.status.message,
                                          " replay" if self.replay else "",
                                          " dup" if self.duplicate else "")


class _Stream:
    """The open event stream of one subscription.

    splitter: function(bytes) -> list of pieces, each sent as one HTTP chunk.
    dribble_delay: not None: every byte is its own HTTP chunk, written by a
    writer thread with that many seconds between bytes (write() returns at
    once; order is kept)."""

    def __init__(self, sub, sock, wfile, use_json, splitter=None, dribble_delay=None):
        self.sub = sub
        self.sock = sock
        self.wfile = wfile
        self.json = use_json
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.splitter = splitter
        self.dribble_delay = dribble_delay
        self._queue = collections.deque()
        self._qcond = threading.Condition()
        self._writer = None
        if dribble_delay is not None:
            self._writer = threading.Thread(target=self._dribble, name="fake-agent-dribble",
                                            daemon=True)
            self._writer.start()

    def _pieces(self, data, chunk_size):
        if self.dribble_delay is not None:
            return [data[i:i + 1] for i in range(len(data))]
        if self.splitter is not None:
            return [p for p in self.splitter(data) if p]
        if chunk_size:
            return [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)]
        return [data]

    def _dribble(self):
        while True:
            with self._qcond:
                while not self._queue and not self.closed.is_set():
                    self._qcond.wait(0.1)
                if self.closed.is_set():
                    return
                item = self._queue.popleft()
            with self.lock:
                if self.closed.is_set():
                    return
                try:
                    self.wfile.write(item)
                except OSError:
                    self.closed.set()
                    return
            if self.dribble_delay:
                time.sleep(self.dribble_delay)

    def write(self, data, chunk_size=None):
        pieces = self._pieces(data, chunk_size)
        if self._writer is not None:
            with self._qcond:
                if self.closed.is_set():
                    return False
                self._queue.extend(http_chunk(p) for p in pieces)
                self._qcond.notify_all()
            return True
        with self.lock:
            if self.closed.is_set():
                return False
            try:
                for p in pieces:
                    self.wfile.write(http_chunk(p))
                return True
            except OSError:
                self.closed.set()
                return False

    def write_raw(self, data):
        with self.lock:
            if self.closed.is_set():
                return False
            try:
                self.wfile.write(data)
                return True
            except OSError:
                self.closed.set()
                return False

    def close(self, graceful=True):
        with self.lock:
            if self.closed.is_set():
                return
            if graceful:
                try:
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass
            self.closed.set()
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self._qcond:
            self._queue.clear()
            self._qcond.notify_all()


# --- the HTTP handler -------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeMesosAgent/1.0"
    sys_version = ""

    def setup(self):
        super().setup()
        self.conn_id = self.server._register_conn(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server._unregister_conn(self.conn_id)

    def log_message(self, fmt, *args):
        self.server._log("http", "conn%d %s" % (self.conn_id, fmt % args))

    # -- plumbing

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te == "chunked":
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(n)
                self.rfile.readline(65537)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _reply(self, req, code, body=b"", headers=None, reason=""):
        req.code = code
        req.reason = reason or (body.decode("utf-8", "replace") if body else "")
        self.server._finish_request(req)
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _reset_connection(self):
        """Abort this connection with a TCP RST (SO_LINGER 0, then close
        every reference to the socket so that the close is immediate)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        for f in (self.rfile, self.wfile):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        try:
            self.connection.close()
        except OSError:
            pass
        # socketserver still flushes and closes these after the request.
        self.rfile = io.BytesIO()
        self.wfile = io.BytesIO()

    def _request(self, body=b""):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        headers = Headers(self.headers.items())
        return Request(self.command, path, headers, self.conn_id, body)

    def _other_method(self):
        try:
            body = self._read_body()
        except (ValueError, OSError):
            body = b""
        req = self._request(body)
        if req.path not in EXECUTOR_PATHS:
            return self._reply(req, 404, b"", reason="Not Found")
        self._reply(req, 405, b"Expecting one of { 'POST' }, but received '%s'" %
                    self.command.encode(), {"Allow": "POST"})

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _other_method

    def do_POST(self):
        try:
            body = self._read_body()
        except (ValueError, OSError) as e:
            req = self._request()
            return self._reply(req, 400, ("Bad request body: %s" % e).encode())
        req = self._request(body)
        self.server._handle_post(self, req)


# --- the agent --------------------------------------------------------------

class FakeAgent(ThreadingHTTPServer):
    """A fake Mesos agent for one executor (see the module docstring)."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, port=0, host="127.0.0.1", agent_id=DEFAULT_AGENT_ID,
                 framework_id=DEFAULT_FRAMEWORK_ID, executor_id=DEFAULT_EXECUTOR_ID,
                 token=None, capabilities=("TASK_KILLING_STATE",), checkpoint=False,
                 user="etl", framework_name="nightly-etl", auto_ack=True, ack_delay=0.0,
                 drop_acks=False, chunk_size=None, coalesce_initial=False,
                 hostname="localhost", start=True, splitter=None, dribble_delay=None,
                 subscribed_delay=0.0, dup_ack_prob=0.0, update_fault_prob=0.0,
                 hold_acks=False, drop_staging=False, rng=None):
        self.agent_id = agent_id
        self.framework_id = framework_id
        self.executor_id = executor_id
        self.token = token
        self.capabilities = list(capabilities)
        self.checkpoint = checkpoint
        self.user = user
        self.framework_name = framework_name
        self.hostname = hostname
        self.auto_ack = auto_ack
        self.ack_delay = ack_delay
        self.drop_acks = drop_acks
        self.chunk_size = chunk_size  # split every HTTP chunk into pieces this big
        self.coalesce_initial = coalesce_initial  # SUBSCRIBED + LAUNCHes in one chunk
        self.recovering = False
        self.container_id = str(uuidlib.uuid4())
        # Fault injection (see the module docstring).
        self.rng = rng or random.Random()
        self.splitter = splitter  # function(record bytes) -> HTTP chunk pieces
        self.dribble_delay = dribble_delay  # not None: one byte per chunk, paced
        self.subscribed_delay = subscribed_delay  # seconds between 200 and SUBSCRIBED
        self.dup_ack_prob = dup_ack_prob
        self.update_fault_prob = update_fault_prob  # P(reset) per UPDATE call
        self.hold_acks = hold_acks  # keep ACKs in held_acks until release_held_acks()
        self.drop_staging = drop_staging
        self.calls_recovering = False  # SUBSCRIBE accepted, other calls 503
        self._recovery_gen = 0
        self.calls_ok_since = None  # since when non-SUBSCRIBE calls are accepted (monotonic)
        self._recovery_owned = False  # the recovery flags were set by come_up()
        self.update_faults = collections.deque()  # modes for the next UPDATE calls
        self.update_resets = []  # (time, mode, task_id, uuid) of reset UPDATE calls
        self.held_acks = []  # (task_id, uuid) waiting for release_held_acks()
        self.ack_log = []  # (monotonic time, epoch, task_id, uuid) of every ACK written
        self.launched_on = {}  # task_id -> epoch of the stream its LAUNCH went out on
        self.dropped_tasks = {}  # task_id -> epoch of the SUBSCRIBE that dropped it
        self.up_history = []  # (up_since, down_since or None), one per listening period
        self.faults = []  # (monotonic time, name) of every injected fault

        self._cond = threading.Condition(threading.RLock())
        self._conns = {}
        self._next_conn = 0
        self._stream = None
        self._serve_thread = None
        self._listening = False
        self.up_since = None
        self.down_since = None

        self.requests = []  # every Request
        self.subscriptions = []  # every accepted Subscribe
        self.update_records = []  # every Update (incl. replays)
        self.executor_messages = []  # data of MESSAGE calls
        self.heartbeat_calls = []
        self.events_sent = []  # (monotonic time, epoch, name)
        self.pending = []  # events queued until the next SUBSCRIBED
        self.tasks = {}  # task_id -> TaskInfo launched
        self.acked = set()  # uuids ACKed
        self.stream_junk = []  # bytes the executor wrote on the event stream
        self.log = []

        super().__init__((host, port), _Handler, bind_and_activate=True)
        self.host = host
        self.port = self.server_address[1]
        self._listening = True
        self.up_since = time.monotonic()
        self.calls_ok_since = self.up_since
        self.up_history.append([self.up_since, None])
        if start:
            self._start_serving()

    # -- addresses

    @property
    def endpoint(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def slave_pid(self):
        return "slave(1)@%s:%d" % (self.host, self.port)

    @property
    def url(self):
        return "http://%s/slave(1)/api/v1/executor" % self.endpoint

    # -- lifecycle

    def _start_serving(self):
        self._serve_thread = threading.Thread(target=self.serve_forever,
                                              kwargs={"poll_interval": 0.05},
                                              name="fake-agent-%d" % self.port, daemon=True)
        self._serve_thread.start()

    def server_bind(self):
        # HTTPServer.server_bind does a getfqdn(); not needed here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def go_down(self):
        """Stop listening and drop every connection (like a crashed agent)."""
        with self._cond:
            if not self._listening:
                return
            self._listening = False
            serving = self._serve_thread is not None and self._serve_thread.is_alive()
        if serving:
            socketserver.BaseServer.shutdown(self)  # stop serve_forever
        self.socket.close()
        with self._cond:
            conns = list(self._conns.values())
            stream = self._stream
        if stream:
            stream.close(graceful=False)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self._cond:
            self.down_since = time.monotonic()
            if self.up_history and self.up_history[-1][1] is None:
                self.up_history[-1][1] = self.down_since
            self._log("agent", "down")
            self._cond.notify_all()

    def come_up(self, recovering_secs=0.0, calls_recovering_secs=0.0):
        """Listen again on the same port.

        recovering_secs: every call gets 503 for that long (the real agent
        while its containerizer recovers). calls_recovering_secs: after that,
        SUBSCRIBE is accepted but every other call still gets 503 for that
        long (the real agent until --executor_reregistration_timeout is over)."""
        with self._cond:
            if self._listening:
                return
            # A recovery a previous come_up() started and that is not over
            # yet does not carry over into this listening period.
            self._recovery_gen += 1
            gen = self._recovery_gen
            if self._recovery_owned:
                self.recovering = self.calls_recovering = False
            self._recovery_owned = bool(recovering_secs or calls_recovering_secs)
            if recovering_secs:
                self.recovering = True
            if calls_recovering_secs:
                self.calls_recovering = True
        self.socket = socket.socket(self.address_family, self.socket_type)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.server_bind()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.server_activate()
        with self._cond:
            self._listening = True
            self.up_since = time.monotonic()
            self.up_history.append([self.up_since, None])
            if not self.calls_recovering and not self.recovering:
                self.calls_ok_since = self.up_since
            self._log("agent", "up%s" % (" (recovering)" if recovering_secs else ""))
        self._start_serving()
        if recovering_secs or calls_recovering_secs:
            def done():
                with self._cond:
                    if gen != self._recovery_gen:
                        return
                    if recovering_secs:
                        self.recovering = False
                        self._log("agent", "SUBSCRIBE accepted again")
                    if not calls_recovering_secs:
                        self._recovery_owned = False
                        self.calls_ok_since = time.monotonic()
                if calls_recovering_secs:
                    t2 = threading.Timer(calls_recovering_secs, calls_done)
                    t2.daemon = True
                    t2.start()

            def calls_done():
                with self._cond:
                    if gen != self._recovery_gen:
                        return
                    self.calls_recovering = False
                    self._recovery_owned = False
                    self.calls_ok_since = time.monotonic()
                    self._log("agent", "recovered")
            t = threading.Timer(recovering_secs, done)
            t.daemon = True
            t.start()

    def restart(self, downtime_secs=1.0, recovering_secs=0.0, calls_recovering_secs=0.0):
        """Go down, wait downtime_secs, come up again on the same port.

        With recovering_secs, every call gets 503 for that long after coming
        up (the real agent answers 503 until it has recovered); see come_up
        for calls_recovering_secs."""
        self.go_down()
        time.sleep(downtime_secs)
        self.come_up(recovering_secs, calls_recovering_secs)

    def stop(self):
        """Stop the HTTP server for good (test teardown)."""
        self.go_down()
        with self._cond:
            self._cond.notify_all()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- connections

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, BrokenPipeError, TimeoutError)):
            self._log("http", "connection from %s: %r" % (client_address, exc))
            return
        self._log("http", "error handling request from %s: %r" % (client_address, exc))
        super().handle_error(request, client_address)

    def _register_conn(self, sock):
        with self._cond:
            self._next_conn += 1
            self._conns[self._next_conn] = sock
            return self._next_conn

    def _unregister_conn(self, conn_id):
        with self._cond:
            self._conns.pop(conn_id, None)

    def _log(self, what, msg):
        line = "%.3f %s %s" % (time.monotonic(), what, msg)
        with self._cond:
            self.log.append(line)
        if VERBOSE:
            sys.stderr.write("[fake-agent] %s\n" % line)

    def _finish_request(self, req):
        with self._cond:
            self.requests.append(req)
            self._cond.notify_all()
        if req.code and req.code >= 400:
            self._log("reject", repr(req))

    # -- request handling

    def _accepts(self, accept, mtype):
        """Does the Accept header allow mtype (q > 0)?"""
        if accept is None:
            return True
        best = None  # (specificity, q)
        major = mtype.split("/")[0]
        for part in accept.split(","):
            fields = [f.strip() for f in part.split(";")]
            rng = fields[0].lower()
            q = 1.0
            for f in fields[1:]:
                if f.lower().startswith("q="):
                    try:
                        q = float(f[2:])
                    except ValueError:
                        q = 0.0
            if rng == mtype:
                spec = 3
            elif rng == major + "/*":
                spec = 2
            elif rng == "*/*":
                spec = 1
            else:
                continue
            if best is None or spec > best[0]:
                best = (spec, q)
        return best is not None and best[1] > 0

    def _handle_post(self, h, req):
        if req.path not in EXECUTOR_PATHS:
            return h._reply(req, 404, reason="Not Found")
        if self.token is not None:
            auth = req.headers.get("Authorization")
            if auth != "Bearer " + self.token:
                return h._reply(req, 401, b"Unauthorized",
                                {"WWW-Authenticate": 'Bearer realm="mesos-agent-executor"'},
                                reason="bad or missing token: %r" % (auth,))
        if self.recovering:
            req.call_type = self._peek_call_type(req)
            return h._reply(req, 503, b"Agent has not finished recovery")
        ctype = req.headers.get("Content-Type")
        if ctype is None:
            return h._reply(req, 400, b"Expecting 'Content-Type' to be present")
        if ctype not in (PROTOBUF, JSON):
            return h._reply(req, 415, ("Expecting 'Content-Type' of %s or %s" %
                                       (JSON, PROTOBUF)).encode())
        heartbeat = False
        if ctype == PROTOBUF:
            call = Call()
            try:
                call.ParseFromString(req.body)
                raw_type = protos.raw_call_type(req.body)
            except (DecodeError, ValueError) as e:
                return h._reply(req, 400, ("Failed to parse body into Call protobuf: %s" % e).encode())
            heartbeat = (not call.HasField("type")) and raw_type == protos.CALL_HEARTBEAT
        else:
            try:
                call, raw_type = parse_json_call(req.body)
            except JsonCallError as e:
                return h._reply(req, 400, str(e).encode())
            heartbeat = raw_type == "HEARTBEAT"
        req.call_type = "HEARTBEAT" if heartbeat else (
            Call.Type.Name(call.type) if call.HasField("type") else None)

        if heartbeat:
            with self._cond:
                self.heartbeat_calls.append(req)
            return h._reply(req, 202)

        err = self._validate(call)
        if err:
            return h._reply(req, 400, ("Failed to validate Executor::Call: %s" % err).encode())

        if call.type == Call.UNKNOWN:
            return h._reply(req, 501, b"Received 'UNKNOWN' call")

        accept_type = None
        if call.type == Call.SUBSCRIBE:
            accept = req.headers.get("Accept")
            if self._accepts(accept, JSON):
                accept_type = JSON
            elif self._accepts(accept, PROTOBUF):
                accept_type = PROTOBUF
            else:
                return h._reply(req, 406, ("Expecting 'Accept' to allow %s or %s" %
                                           (JSON, PROTOBUF)).encode())

        if call.framework_id.value != self.framework_id:
            return h._reply(req, 400, b"Framework cannot be found")
        if call.executor_id.value != self.executor_id:
            return h._reply(req, 400, b"Executor cannot be found")

        if call.type == Call.SUBSCRIBE:
            return self._subscribe(h, req, call, ctype, accept_type)

        if self.calls_recovering:
            return h._reply(req, 503, b"Agent has not finished recovery")

        with self._cond:
            subscribed_once = bool(self.subscriptions)
        if not subscribed_once:
            return h._reply(req, 403, b"Executor is not subscribed")

        if call.type == Call.UPDATE:
            fault = self._next_update_fault()
            if fault == "reset_before":
                # The connection dies while the UPDATE arrives: never processed.
                self._note_update_reset(req, fault, call.update.status)
                return h._reset_connection()
            rec = self._record_update(call.update.status, req.conn_id, ctype, replay=False)
            if fault == "reset_after":
                # Processed (and ACKed on the stream), but the 202 is lost.
                self._note_update_reset(req, fault, call.update.status)
                h._reset_connection()
                self._maybe_ack(rec)
                return
            h._reply(req, 202)
            self._maybe_ack(rec)
            return
        if call.type == Call.MESSAGE:
            with self._cond:
                self.executor_messages.append(call.message.data)
                self._cond.notify_all()
            return h._reply(req, 202)
        return h._reply(req, 501, b"Unsupported call")

    def _peek_call_type(self, req):
        """The call type of a request that is refused before parsing (503)."""
        try:
            if req.headers.get("Content-Type") == JSON:
                t = json.loads(req.body.decode("utf-8")).get("type")
                return t if isinstance(t, str) else None
            t = protos.raw_call_type(req.body)
            if t == protos.CALL_HEARTBEAT:
                return "HEARTBEAT"
            return Call.Type.Name(t) if t is not None else None
        except Exception:  # noqa: BLE001 - only a label for the record
            return None

    def _next_update_fault(self):
        with self._cond:
            if self.update_faults:
                return self.update_faults.popleft()
            if self.update_fault_prob and self.rng.random() < self.update_fault_prob:
                return self.rng.choice(("reset_before", "reset_after"))
        return None

    def _note_update_reset(self, req, mode, status):
        req.code = 0
        req.reason = "connection reset (%s)" % mode
        self._finish_request(req)
        with self._cond:
            self.update_resets.append((time.monotonic(), mode, status.task_id.value,
                                       status.uuid))
            self.faults.append((time.monotonic(), "update_" + mode))
            self._log("fault", "UPDATE %s %s: %s" % (status.task_id.value,
                                                     state_name(status.state), mode))

    def fail_next_update(self, mode="reset_before", n=1):
        """Reset the connection of the next n UPDATE calls: "reset_before"
        (the agent never processes the update) or "reset_after" (processed,
        ACKed on the stream, but no 202)."""
        assert mode in ("reset_before", "reset_after"), mode
        with self._cond:
            self.update_faults.extend([mode] * n)

    def _validate(self, call):
        """validateExecutorCall (apache/mesos src/common/validation.cpp)."""
        if not call.IsInitialized():
            return "Not initialized: %s" % ", ".join(call.FindInitializationErrors())
        if not call.HasField("type"):
            return "Expecting 'type' to be present"
        if not call.HasField("executor_id"):
            return "Expecting 'executor_id' to be present"
        if not call.HasField("framework_id"):
            return "Expecting 'framework_id' to be present"
        if call.type == Call.SUBSCRIBE:
            if not call.HasField("subscribe"):
                return "Expecting 'subscribe' to be present"
        elif call.type == Call.UPDATE:
            if not call.HasField("update"):
                return "Expecting 'update' to be present"
            st = call.update.status
            e = uuid_error(st.uuid)
            if e:
                return e
            if st.HasField("executor_id") and st.executor_id.value != call.executor_id.value:
                return ("ExecutorID in Call: %s does not match ExecutorID in TaskStatus: %s" %
                        (call.executor_id.value, st.executor_id.value))
            if st.source != TaskStatus.SOURCE_EXECUTOR:
                return ("Received Call from executor %s of framework %s with invalid source, "
                        "expecting 'SOURCE_EXECUTOR'" % (call.executor_id.value,
                                                         call.framework_id.value))
            if st.state == mesos_pb2.TASK_STAGING:
                return "Received TASK_STAGING from executor %s which is not allowed" % (
                    call.executor_id.value)
            if st.HasField("check_status"):
                e = check_status_error(st.check_status)
                if e:
                    return e
        elif call.type == Call.MESSAGE:
            if not call.HasField("message"):
                return "Expecting 'message' to be present"
        return None

    def _subscribed_event(self):
        ev = Event(type=Event.SUBSCRIBED)
        s = ev.subscribed
        ei = s.executor_info
        ei.executor_id.value = self.executor_id
        ei.framework_id.value = self.framework_id
        ei.command.value = "/usr/libexec/mesos/mesos-executor"
        ei.command.shell = False
        ei.command.arguments.extend(["mesos-executor", "--launcher_dir=/usr/libexec/mesos"])
        ei.name = "Command Executor (Task: %s) (Command: sh -c 'spark-class ...')" % self.executor_id
        fi = s.framework_info
        fi.user = self.user
        fi.name = self.framework_name
        fi.id.value = self.framework_id
        fi.checkpoint = bool(self.checkpoint)
        fi.failover_timeout = 0.0
        for c in self.capabilities:
            cap = fi.capabilities.add()
            cap.type = mesos_pb2.FrameworkInfo.Capability.Type.Value(c)
        ai = s.agent_info
        ai.hostname = self.hostname
        ai.port = self.port
        ai.id.value = self.agent_id
        s.container_id.value = self.container_id
        return ev

    def _subscribe(self, h, req, call, ctype, accept_type):
        with self._cond:
            if not self._listening:
                # Read just before go_down(): a crashed agent answers nothing.
                self._log("agent", "SUBSCRIBE on conn%d dropped: agent down" % req.conn_id)
                h.close_connection = True
                return
            old = self._stream
            epoch = len(self.subscriptions) + 1
            sub = Subscribe(epoch, req, call, ctype, accept_type)
            sub.received_before = {u.uuid for u in self.update_records}
            sub.acked_before = set(self.acked)
        if old is not None:
            self._log("agent", "closing already existing HTTP connection (sub #%d)" % old.sub.epoch)
            old.close(graceful=True)
        req.code = 200
        self._finish_request(req)
        h.send_response(200)
        h.send_header("Content-Type", accept_type)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        if self.subscribed_delay:
            try:
                h.wfile.flush()
            except (OSError, ValueError):
                pass
            time.sleep(self.subscribed_delay)
        stream = _Stream(sub, h.connection, h.wfile, accept_type == JSON,
                         splitter=self.splitter, dribble_delay=self.dribble_delay)
        use_json = accept_type == JSON

        with self._cond:
            self.subscriptions.append(sub)
            self._stream = stream
            # Replay the updates the executor says are unacknowledged.
            replays = [self._record_update(u.status, req.conn_id, ctype, replay=True, locked=True)
                       for u in call.subscribe.unacknowledged_updates]
            if self.drop_staging:
                self._drop_staging(sub)
            pending, self.pending = self.pending, []
            for ev in pending:
                if isinstance(ev, Event) and ev.type == Event.LAUNCH:
                    self.launched_on[ev.launch.task.task_id.value] = epoch
            initial = [self._subscribed_event()] + pending
            blobs = [recordio(encode_event(ev, use_json)) for ev in initial]
            now = time.monotonic()
            if self.coalesce_initial:
                ok = stream.write(b"".join(blobs), self.chunk_size)
            else:
                ok = all(stream.write(b, self.chunk_size) for b in blobs)
            for ev in initial:
                self.events_sent.append((now, epoch, event_name(ev)))
            sub.subscribed_at = now
            self._log("agent", "SUBSCRIBED #%d (%s) %r" % (epoch, accept_type, sub))
            self._cond.notify_all()
        for rec in replays:
            self._maybe_ack(rec)
        if not ok:
            stream.closed.set()

        # Hold the stream open until it is closed by either side.
        sock = h.connection
        while not stream.closed.is_set():
            try:
                r, _, _ = select.select([sock], [], [], 0.1)
            except (OSError, ValueError):
                break
            if r:
                try:
                    data = sock.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                with self._cond:
                    self.stream_junk.append(data)
        stream.closed.set()
        h.close_connection = True
        with self._cond:
            sub.closed_at = time.monotonic()
            if self._stream is stream:
                self._stream = None
            self._log("agent", "stream #%d closed" % epoch)
            self._cond.notify_all()

    def _drop_staging(self, sub):
        """Slave::subscribe: tasks still STAGING (LAUNCH sent, no update ever
        received) that the executor does not list in unacknowledged_tasks
        never reached it; the agent makes them TASK_DROPPED / TASK_LOST."""
        listed = {t.task_id.value for t in sub.call.subscribe.unacknowledged_tasks}
        have_update = {u.task_id for u in self.update_records}
        for tid, ep in self.launched_on.items():
            if ep >= sub.epoch or tid in self.dropped_tasks:
                continue
            if tid in have_update or tid in listed:
                continue
            self.dropped_tasks[tid] = sub.epoch
            sub.dropped.append(tid)
            self._log("agent", "task %s launched during agent restart: dropped" % tid)

    def _record_update(self, status, conn_id, ctype, replay, locked=False):
        with self._cond:
            stream = self._stream
            epoch = stream.sub.epoch if stream else None
            rec = Update(copy.deepcopy(status), epoch, conn_id, ctype, replay=replay)
            if any(u.uuid == rec.uuid for u in self.update_records):
                rec.duplicate = True
                rec.notes.append("Ignoring duplicate task status update")
            if status.HasField("agent_id") and status.agent_id.value != self.agent_id:
                rec.notes.append("wrong agent_id %r: ignored, never ACKed" % status.agent_id.value)
            if rec.task_id not in self.tasks:
                rec.notes.append("Task is unknown")
            if rec.task_id in self.dropped_tasks:
                rec.notes.append("Task was dropped at SUBSCRIBE #%d"
                                 % self.dropped_tasks[rec.task_id])
            e = check_status_rule(self.tasks.get(rec.task_id), status)
            if e:
                rec.violations.append(e)
            prior = [u for u in self.update_records
                     if u.task_id == rec.task_id and not u.duplicate and u.state in TERMINAL_STATES]
            if prior and not rec.duplicate:
                rec.notes.append("Task is already terminated (%s)" % prior[0].state_name)
            self.update_records.append(rec)
            self._log("update", repr(rec) + (" " + "; ".join(rec.notes) if rec.notes else ""))
            self._cond.notify_all()
            return rec

    def _maybe_ack(self, rec):
        if any(n.startswith("wrong agent_id") for n in rec.notes):
            return
        if self.drop_acks or not self.auto_ack:
            return
        if self.hold_acks:
            with self._cond:
                self.held_acks.append((rec.task_id, rec.uuid))
            return
        dup = bool(self.dup_ack_prob) and self.rng.random() < self.dup_ack_prob
        if self.ack_delay:
            t = threading.Timer(self.ack_delay, self._ack_maybe_twice, (rec.task_id, rec.uuid, dup))
            t.daemon = True
            t.start()
        else:
            self._ack_maybe_twice(rec.task_id, rec.uuid, dup)

    def _ack_maybe_twice(self, task_id, uuid, dup):
        self.ack(task_id, uuid)
        if dup:
            with self._cond:
                self.faults.append((time.monotonic(), "duplicate_ack"))
            self.ack(task_id, uuid)

    def release_held_acks(self):
        """Send every ACK held back by hold_acks on the current stream (late
        ACKs); returns how many were sent."""
        with self._cond:
            todo, self.held_acks = self.held_acks, []
        return sum(1 for tid, u in todo if self.ack(tid, u) is not None)

    # -- sending events (test API) -------------------------------------------

    def _send(self, ev, queue=False):
        """Send ev on the current stream; returns the send time, or None if
        there was no stream (then it is queued when queue=True)."""
        with self._cond:
            stream = self._stream
            if stream is None or stream.closed.is_set():
                if queue:
                    self.pending.append(ev)
                    self._log("event", "queued %s" % event_name(ev))
                return None
            data = recordio(encode_event(ev, stream.json))
            t = time.monotonic()
            ok = stream.write(data, self.chunk_size)
            self.events_sent.append((t, stream.sub.epoch, event_name(ev)))
            if ok and isinstance(ev, Event) and ev.type == Event.LAUNCH:
                self.launched_on[ev.launch.task.task_id.value] = stream.sub.epoch
            self._log("event", "sent %s on #%d%s" % (event_name(ev), stream.sub.epoch,
                                                     "" if ok else " (failed)"))
            return t if ok else None

    def launch(self, task_info):
        """Send LAUNCH now, or queue it until the next SUBSCRIBED. Returns the
        send time (time.monotonic()) or None if queued."""
        with self._cond:
            self.tasks[task_info.task_id.value] = task_info
            ev = Event(type=Event.LAUNCH)
            ev.launch.task.CopyFrom(task_info)
            return self._send(ev, queue=True)

    def launch_raw(self, task_info_bytes, task_id, task_json=None):
        """LAUNCH with a TaskInfo given as serialized bytes (e.g. carrying
        fields the mesos-go protos lack, see protos.with_max_completion_time)."""
        launch = b"\x0a" + protos.encode_varint(len(task_info_bytes)) + task_info_bytes
        pb = b"\x08\x02" + b"\x22" + protos.encode_varint(len(launch)) + launch
        js = None
        if task_json is not None:
            js = json.dumps({"type": "LAUNCH", "launch": {"task": task_json}},
                            separators=(",", ":")).encode()
        with self._cond:
            ti = mesos_pb2.TaskInfo()
            ti.ParseFromString(task_info_bytes)
            self.tasks[task_id] = ti
            return self._send(RawEvent(pb, js, "LAUNCH"), queue=True)

    def launch_group(self, task_infos):
        with self._cond:
            ev = Event(type=Event.LAUNCH_GROUP)
            for ti in task_infos:
                self.tasks[ti.task_id.value] = ti
                ev.launch_group.task_group.tasks.add().CopyFrom(ti)
            return self._send(ev, queue=True)

    def kill(self, task_id, grace_secs=None):
        ev = Event(type=Event.KILL)
        ev.kill.task_id.value = task_id
        if grace_secs is not None:
            ev.kill.kill_policy.grace_period.nanoseconds = int(grace_secs * 1e9)
        return self._send(ev)

    def shutdown(self):
        """Send a SHUTDOWN event (not: stop the server; see stop())."""
        return self._send(Event(type=Event.SHUTDOWN))

    def message(self, data):
        ev = Event(type=Event.MESSAGE)
        ev.message.data = data
        return self._send(ev)

    def error(self, msg):
        ev = Event(type=Event.ERROR)
        ev.error.message = msg
        return self._send(ev)

    def heartbeat(self):
        return self._send(RawEvent(protos.HEARTBEAT_EVENT_BYTES, b'{"type":"HEARTBEAT"}',
                                   "HEARTBEAT"))

    def ack(self, task_id, uuid):
        """Send ACKNOWLEDGED{task_id, uuid} on the current stream."""
        ev = Event(type=Event.ACKNOWLEDGED)
        ev.acknowledged.task_id.value = task_id
        ev.acknowledged.uuid = uuid
        t = self._send(ev)
        if t is not None:
            with self._cond:
                self.acked.add(uuid)
                self.ack_log.append((t, self._stream.sub.epoch if self._stream else None,
                                     task_id, uuid))
                for u in self.update_records:
                    if u.uuid == uuid:
                        u.acked = True
                self._cond.notify_all()
        return t

    def ack_all(self):
        """ACK every recorded update not ACKed yet (for drop_acks tests)."""
        with self._cond:
            todo = []
            seen = set()
            for u in self.update_records:
                if u.uuid not in self.acked and u.uuid not in seen:
                    seen.add(u.uuid)
                    todo.append((u.task_id, u.uuid))
        return [self.ack(t, u) for t, u in todo]

    def send_raw_record(self, data):
        """A RecordIO record with arbitrary payload bytes, in one chunk."""
        return self._send(RawEvent(data, data, "RAW_RECORD"))

    def send_raw_bytes(self, data, chunked=True):
        """Arbitrary bytes on the stream: as one HTTP chunk (default), or with
        no HTTP chunk framing at all (chunked=False)."""
        with self._cond:
            stream = self._stream
            if stream is None:
                return None
            t = time.monotonic()
            ok = stream.write(data) if chunked else stream.write_raw(data)
            self.events_sent.append((t, stream.sub.epoch, "RAW_BYTES"))
            self._log("event", "sent raw bytes %r on #%d" % (data[:40], stream.sub.epoch))
            return t if ok else None

    def ack_unknown(self, task_id=None):
        """ACKNOWLEDGED for a uuid the executor never sent (a valid v4 uuid),
        for task_id (default: a task the agent does not know)."""
        with self._cond:
            self.faults.append((time.monotonic(), "ack_unknown"))
        ev = Event(type=Event.ACKNOWLEDGED)
        ev.acknowledged.task_id.value = task_id or "no-such-task"
        ev.acknowledged.uuid = uuidlib.uuid4().bytes
        return self._send(ev)

    def heartbeat_storm(self, n=1000, coalesce=False):
        """n HEARTBEAT events: one HTTP chunk each, or all in one chunk."""
        with self._cond:
            self.faults.append((time.monotonic(), "heartbeat_storm"))
        if not coalesce:
            sent = 0
            for _ in range(n):
                if self.heartbeat() is None:
                    break
                sent += 1
            return sent
        with self._cond:
            stream = self._stream
            if stream is None:
                return 0
            ev = RawEvent(protos.HEARTBEAT_EVENT_BYTES, b'{"type":"HEARTBEAT"}', "HEARTBEAT")
            rec = recordio(encode_event(ev, stream.json))
            ok = stream.write(rec * n)
            self.events_sent.append((time.monotonic(), stream.sub.epoch, "HEARTBEAT*%d" % n))
            return n if ok else 0

    def send_truncated_record(self, graceful=True):
        """A record whose header promises more bytes than follow, then the
        end of the stream (graceful: the last chunk; else an abrupt close)."""
        with self._cond:
            stream = self._stream
            if stream is None:
                return None
            self.faults.append((time.monotonic(), "truncated_record"))
            ev = RawEvent(protos.HEARTBEAT_EVENT_BYTES, b'{"type":"HEARTBEAT"}', "HEARTBEAT")
            payload = encode_event(ev, stream.json)
            t = time.monotonic()
            ok = stream.write(b"%d\n" % (len(payload) + 40) + payload)
            self.events_sent.append((t, stream.sub.epoch, "TRUNCATED"))
        stream.close(graceful=graceful)
        return t if ok else None

    def send_oversize_header(self, size=16 * 1024 * 1024 + 1, body=b"x" * 1024):
        """A RecordIO header announcing size bytes, then some of them."""
        with self._cond:
            stream = self._stream
            if stream is None:
                return None
            self.faults.append((time.monotonic(), "oversize_record"))
            t = time.monotonic()
            ok = stream.write(b"%d\n" % size + body)
            self.events_sent.append((t, stream.sub.epoch, "OVERSIZE"))
            return t if ok else None

    def close_stream(self, graceful=True):
        """Close the current event stream (graceful: send the last chunk first)."""
        with self._cond:
            stream = self._stream
        if stream:
            stream.close(graceful=graceful)
        return stream is not None

    # -- waiting and inspecting (test API) ------------------------------------

    def wait_for(self, predicate, timeout=10.0, what="condition"):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                v = predicate()
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out after %.1fs waiting for %s" % (
                        timeout, what() if callable(what) else what))
                self._cond.wait(min(left, 0.1))

    def wait_subscribed(self, n=1, timeout=10.0):
        """Wait for the n-th accepted SUBSCRIBE; returns its Subscribe."""
        def pred():
            subs = [s for s in self.subscriptions if s.subscribed_at is not None]
            return subs[n - 1] if len(subs) >= n else None
        return self.wait_for(pred, timeout, lambda: "SUBSCRIBE #%d (have %d; rejected: %r)" % (
            n, len(self.subscriptions), self.rejected()[-3:]))

    @property
    def subscribed(self):
        with self._cond:
            return self._stream is not None and not self._stream.closed.is_set()

    def wait_disconnected(self, timeout=10.0):
        """Wait until there is no open event stream."""
        return self.wait_for(lambda: self._stream is None, timeout, "stream to close")

    def updates(self, task_id=None, include_duplicates=False):
        """TaskStatus records (Update objects) in arrival order."""
        with self._cond:
            return [u for u in self.update_records
                    if (task_id is None or u.task_id == task_id)
                    and (include_duplicates or not u.duplicate)]

    def statuses(self, task_id=None):
        return [u.status for u in self.updates(task_id)]

    def states(self, task_id):
        return [u.state_name for u in self.updates(task_id)]

    def wait_update(self, task_id, state, timeout=10.0):
        """Wait for an update of task_id in state; returns the TaskStatus."""
        num = state_number(state)

        def pred():
            for u in self.update_records:
                if u.task_id == task_id and u.state == num and not u.duplicate:
                    return u
            return None
        try:
            return self.wait_for(pred, timeout).status
        except AssertionError:
            raise AssertionError("timed out after %.1fs waiting for %s %s; got %r" % (
                timeout, task_id, state_name(num), self.states(task_id)))

    def wait_update_record(self, task_id, state, timeout=10.0):
        num = state_number(state)
        return self.wait_for(lambda: next((u for u in self.update_records if u.task_id == task_id
                                           and u.state == num and not u.duplicate), None),
                             timeout, "%s %s" % (task_id, state_name(num)))

    def wait_terminal(self, task_id, timeout=10.0):
        def pred():
            for u in self.update_records:
                if u.task_id == task_id and u.state in TERMINAL_STATES and not u.duplicate:
                    return u
            return None
        try:
            return self.wait_for(pred, timeout).status
        except AssertionError:
            raise AssertionError("timed out after %.1fs waiting for a terminal update of %s; "
                                 "got %r" % (timeout, task_id, self.states(task_id)))

    def rejected(self):
        """Every request answered with a 4xx/5xx code."""
        with self._cond:
            return [r for r in self.requests if r.code is not None and r.code >= 400]

    def protocol_errors(self):
        """Rejections that are the executor's fault (everything but 503)."""
        return [r for r in self.rejected() if r.code != 503]

    def update_problems(self):
        """Updates the real agent would drop or ignore (wrong agent_id,
        unknown task, after terminal)."""
        with self._cond:
            return [u for u in self.update_records if u.notes and not u.duplicate]

    def conformance_problems(self):
        """Updates that break a rule of the protocol the agent does not
        enforce (check_status present exactly when TaskInfo.check is set)."""
        with self._cond:
            return [u for u in self.update_records if u.violations]

    def dump(self):
        with self._cond:
            lines = list(self.log)
        return "\n".join(lines)


# --- TaskInfo builders ----------------------------------------------------

def load_spark_taskinfo_json():
    with open(SPARK_TASKINFO_JSON) as f:
        return json.load(f)


def spark_task_info(task_id=None, command=None, env=None, kill_grace_secs=None,
                    shell=None, arguments=None, name=None, agent_id=None):
    """The Spark fixture TaskInfo (spark-mesos-taskinfo.json), optionally
    with the command value, environment (dict: added / overriding), kill
    policy, shell flag or arguments overridden."""
    ti = json_format.ParseDict(load_spark_taskinfo_json(), mesos_pb2.TaskInfo())
    if task_id is not None:
        ti.task_id.value = task_id
        ti.name = name or ("nightly-etl %s" % task_id)
    elif name is not None:
        ti.name = name
    if agent_id is not None:
        ti.agent_id.value = agent_id
    if command is not None:
        ti.command.value = command
    if shell is not None:
        ti.command.shell = shell
    if arguments is not None:
        del ti.command.arguments[:]
        ti.command.arguments.extend(arguments)
    if env:
        set_env(ti.command, env)
    if kill_grace_secs is not None:
        ti.kill_policy.grace_period.nanoseconds = int(kill_grace_secs * 1e9)
    return ti


def set_env(command_info, env):
    """Add or override variables in a CommandInfo's environment."""
    variables = command_info.environment.variables
    for k, v in env.items():
        for var in variables:
            if var.name == k:
                var.value = v
                break
        else:
            var = variables.add()
            var.name = k
            var.value = v


def command_task(task_id, value=None, shell=True, arguments=None, env=None,
                 kill_grace_secs=None, agent_id=DEFAULT_AGENT_ID, shell_unset=False):
    """A small command task (0.1 cpus, 32 MB).

    shell=True: value is run by /bin/sh -c. shell=False: value is the
    executable and arguments the whole argv. shell_unset: leave the proto2
    field unset (its default is true).
    """
    ti = mesos_pb2.TaskInfo()
    ti.name = "task %s" % task_id
    ti.task_id.value = task_id
    ti.agent_id.value = agent_id
    for rname, val in (("cpus", 0.1), ("mem", 32.0)):
        r = ti.resources.add()
        r.name = rname
        r.type = mesos_pb2.Value.SCALAR
        r.scalar.value = val
        r.role = "*"
    if value is not None:
        ti.command.value = value
    if not shell_unset:
        ti.command.shell = shell
    if arguments is not None:
        ti.command.arguments.extend(arguments)
    if env:
        set_env(ti.command, env)
    if kill_grace_secs is not None:
        ti.kill_policy.grace_period.nanoseconds = int(kill_grace_secs * 1e9)
    if not ti.HasField("command"):
        ti.command.SetInParent()
    return ti
