"""Python bindings for the Mesos v1 executor protos, for the fake agent.

Two independent sets of protos are used on purpose:

* The UPSTREAM protos, as shipped by Debian in golang-github-mesos-mesos-go-dev
  (packages ``mesos`` and ``mesos.executor``). The fake agent speaks only
  these, so it does not share a single line of protocol definition with the
  executor under test. They are stripped of their gogoproto annotations and
  compiled with protoc into ``$SPEX_PYPROTO_DIR`` (default
  ``<repo>/build/pyproto``), then imported as ``mesos_pb2`` / ``executor_pb2``.

  These protos are older than apache/mesos. They lack Event.HEARTBEAT (9),
  Call.HEARTBEAT (4), TaskInfo.max_completion_time (14), TaskInfo.limits (15)
  and TaskStatus.Reason REASON_MAX_COMPLETION_TIME_REACHED (33). Helpers below
  build and recognise those on the wire by hand.

* OUR protos (``<repo>/proto/*.proto``, packages ``mesos.v1`` and
  ``mesos.v1.executor``), compiled only to a FileDescriptorSet and loaded
  into a separate DescriptorPool (their file names clash with the upstream
  ones in the default pool). Used by test_proto_compat.py.
"""

import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))  # parent of tests/

MESOS_GO = "/usr/share/gocode/src/github.com/mesos/mesos-go/api/v1/lib"
UPSTREAM_MESOS_PROTO = os.path.join(MESOS_GO, "mesos.proto")
UPSTREAM_EXECUTOR_PROTO = os.path.join(MESOS_GO, "executor", "executor.proto")
PROTOC = shutil.which("protoc") or "/usr/bin/protoc"

PYPROTO_DIR = os.environ.get("SPEX_PYPROTO_DIR") or os.path.join(REPO, "build", "pyproto")
UPSTREAM_DIR = os.path.join(PYPROTO_DIR, "upstream")
OURS_DIR = os.path.join(PYPROTO_DIR, "ours")

_OPTION_LINE = re.compile(r"^\s*option \(gogoproto\.[a-z_]+\)\s*=.*;\s*$")
_FIELD_OPTS = re.compile(
    r" *\[\(gogoproto\.[a-z_]+\) = [^],]+(, \(gogoproto\.[a-z_]+\) = [^],]+)*\]")
_GO_PACKAGE = re.compile(r"^option go_package")


def strip_gogo(text):
    """Remove gogoproto annotations so that plain protoc accepts the file."""
    out = []
    for line in text.splitlines(True):
        if _OPTION_LINE.match(line):
            continue
        if 'import "github.com/gogo' in line:
            continue
        if _GO_PACKAGE.match(line):
            continue
        line = _FIELD_OPTS.sub("", line)
        line = line.replace('import "github.com/mesos/mesos-go/api/v1/lib/mesos.proto"',
                            'import "mesos.proto"')
        out.append(line)
    return "".join(out)


def _run_protoc(args):
    r = subprocess.run([PROTOC] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("protoc %s failed:\n%s%s" % (" ".join(args), r.stdout, r.stderr))


def _write_if_changed(path, text):
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return True


def _build_upstream():
    os.makedirs(UPSTREAM_DIR, exist_ok=True)
    want = ["mesos_pb2.py", "executor_pb2.py", "upstream.desc"]
    if all(os.path.exists(os.path.join(UPSTREAM_DIR, w)) for w in want):
        return
    for src, name in ((UPSTREAM_MESOS_PROTO, "mesos.proto"),
                      (UPSTREAM_EXECUTOR_PROTO, "executor.proto")):
        with open(src) as f:
            _write_if_changed(os.path.join(UPSTREAM_DIR, name), strip_gogo(f.read()))
    # Generate into a temp dir and move, so that concurrent runs never see
    # half-written modules.
    tmp = UPSTREAM_DIR + ".tmp.%d" % os.getpid()
    os.makedirs(tmp, exist_ok=True)
    try:
        _run_protoc(["--python_out=" + tmp, "-I" + UPSTREAM_DIR, "mesos.proto", "executor.proto"])
        _run_protoc(["--include_imports", "--descriptor_set_out=" + os.path.join(tmp, "upstream.desc"),
                     "-I" + UPSTREAM_DIR, "mesos.proto", "executor.proto"])
        for w in want:
            os.replace(os.path.join(tmp, w), os.path.join(UPSTREAM_DIR, w))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


_build_upstream()
if UPSTREAM_DIR not in sys.path:
    sys.path.insert(0, UPSTREAM_DIR)

import mesos_pb2  # noqa: E402  (package "mesos")
import executor_pb2  # noqa: E402  (package "mesos.executor")

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # noqa: E402

assert mesos_pb2.DESCRIPTOR.package == "mesos", mesos_pb2.DESCRIPTOR.package
assert executor_pb2.DESCRIPTOR.package == "mesos.executor", executor_pb2.DESCRIPTOR.package

Event = executor_pb2.Event
Call = executor_pb2.Call
TaskInfo = mesos_pb2.TaskInfo
TaskStatus = mesos_pb2.TaskStatus
TaskState = mesos_pb2.TaskState


def upstream_descriptor_set():
    """FileDescriptorSet of the stripped upstream protos."""
    fds = descriptor_pb2.FileDescriptorSet()
    with open(os.path.join(UPSTREAM_DIR, "upstream.desc"), "rb") as f:
        fds.ParseFromString(f.read())
    return fds


# --- our protos (proto/*.proto) -------------------------------------------

OUR_PROTO_DIR = os.path.join(REPO, "proto")


def build_ours_descriptor_set(proto_dir=OUR_PROTO_DIR, out=None):
    """Compile proto_dir/{mesos,executor}.proto to a FileDescriptorSet.

    Always recompiled (cheap), because the protos may be edited while tests
    run. Returns the parsed FileDescriptorSet.
    """
    os.makedirs(OURS_DIR, exist_ok=True)
    out = out or os.path.join(OURS_DIR, "ours.desc.%d" % os.getpid())
    _run_protoc(["--include_imports", "--descriptor_set_out=" + out,
                 "-I" + proto_dir, "mesos.proto", "executor.proto"])
    fds = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as f:
        fds.ParseFromString(f.read())
    if out.endswith(".%d" % os.getpid()):
        os.unlink(out)
    return fds


class OurProtos:
    """Message classes for our protos, from a private DescriptorPool."""

    def __init__(self, fds=None):
        fds = fds or build_ours_descriptor_set()
        self.pool = descriptor_pool.DescriptorPool()
        for fdp in fds.file:
            self.pool.Add(fdp)
        self.factory = message_factory.MessageFactory(self.pool)

    def message(self, full_name):
        desc = self.pool.FindMessageTypeByName(full_name)
        return self.factory.GetPrototype(desc)


# --- wire helpers for things the upstream (mesos-go) protos lack -----------

EVENT_HEARTBEAT = 9
CALL_HEARTBEAT = 4
REASON_MAX_COMPLETION_TIME_REACHED = 33
HEARTBEAT_EVENT_BYTES = b"\x08\x09"  # Event{type: 9}


def encode_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def decode_varint(buf, pos):
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def scan_fields(buf):
    """Yield (field_number, wire_type, value) for the top level of buf.

    value is an int for varint/fixed types and bytes for length-delimited.
    """
    pos = 0
    while pos < len(buf):
        key, pos = decode_varint(buf, pos)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = decode_varint(buf, pos)
        elif wt == 1:
            v = int.from_bytes(buf[pos:pos + 8], "little")
            pos += 8
        elif wt == 2:
            n, pos = decode_varint(buf, pos)
            v = bytes(buf[pos:pos + n])
            if len(v) != n:
                raise ValueError("truncated field")
            pos += n
        elif wt == 5:
            v = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        else:
            raise ValueError("unsupported wire type %d" % wt)
        yield field, wt, v


def raw_call_type(buf):
    """The numeric Call.type in a serialized Call, or None."""
    t = None
    for field, wt, v in scan_fields(buf):
        if field == 3 and wt == 0:
            t = v
    return t


def with_max_completion_time(task_info_bytes, nanoseconds):
    """Append TaskInfo.max_completion_time (field 14) to a serialized TaskInfo."""
    dur = b"\x08" + encode_varint(nanoseconds & 0xFFFFFFFFFFFFFFFF)
    return task_info_bytes + b"\x72" + encode_varint(len(dur)) + dur


def raw_field_values(buf, number):
    return [v for f, _, v in scan_fields(buf) if f == number]
