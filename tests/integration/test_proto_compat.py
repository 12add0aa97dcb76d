"""Our protos (proto/*.proto, packages mesos.v1 / mesos.v1.executor) against
the upstream ones Debian ships in golang-github-mesos-mesos-go-dev
(packages mesos / mesos.executor).

Every message, field and enum value we declare must exist upstream with the
same number, type, label, default and type name (modulo the package prefix),
except for the few items that are newer than mesos-go 0.0.6
(mesos-executor-api.md §2.5), which must have exactly their documented
numbers. A round trip through both encodings must keep every field.

One more item is newer than mesos-go but missing from §2.5's list:
TaskStatus.limitation (16) and its message TaskResourceLimitation
{repeated Resource resources = 1}; both are documented in §2.4 (from
apache/mesos include/mesos/v1/mesos.proto) and checked against that.
"""

import json
import os
import re
import shutil

import pytest
from google.protobuf import descriptor_pb2, json_format

from agent import fake_agent, protos

FDP = descriptor_pb2.FieldDescriptorProto

# Items newer than the mesos-go protos: (kind, our full name) -> expectation.
NEWER = {
    ("field", "mesos.v1.TaskInfo.max_completion_time"):
        dict(number=14, type=FDP.TYPE_MESSAGE, label=FDP.LABEL_OPTIONAL,
             type_name=".mesos.v1.DurationInfo"),
    ("field", "mesos.v1.TaskInfo.limits"):
        dict(number=15, type=FDP.TYPE_MESSAGE, label=FDP.LABEL_REPEATED,
             type_name=".mesos.v1.TaskInfo.LimitsEntry"),
    ("message", "mesos.v1.TaskInfo.LimitsEntry"): {
        "key": dict(number=1, type=FDP.TYPE_STRING, label=FDP.LABEL_OPTIONAL),
        "value": dict(number=2, type=FDP.TYPE_MESSAGE, label=FDP.LABEL_OPTIONAL,
                      type_name=".mesos.v1.Value.Scalar"),
    },
    # Documented in mesos-executor-api.md §2.4, not listed in §2.5.
    ("field", "mesos.v1.TaskStatus.limitation"):
        dict(number=16, type=FDP.TYPE_MESSAGE, label=FDP.LABEL_OPTIONAL,
             type_name=".mesos.v1.TaskResourceLimitation"),
    ("message", "mesos.v1.TaskResourceLimitation"): {
        "resources": dict(number=1, type=FDP.TYPE_MESSAGE, label=FDP.LABEL_REPEATED,
                          type_name=".mesos.v1.Resource"),
    },
    ("enum_value", "mesos.v1.executor.Event.Type.HEARTBEAT"): 9,
    ("enum_value", "mesos.v1.executor.Call.Type.HEARTBEAT"): 4,
    ("enum_value", "mesos.v1.TaskStatus.Reason.REASON_MAX_COMPLETION_TIME_REACHED"): 33,
}

PACKAGES = {"mesos.v1.executor": "mesos.executor", "mesos.v1": "mesos"}


def upstream_name(name):
    """mesos.v1.X -> mesos.X, mesos.v1.executor.X -> mesos.executor.X (with or
    without a leading dot)."""
    dot = name.startswith(".")
    n = name[1:] if dot else name
    for ours, theirs in PACKAGES.items():
        if n == ours or n.startswith(ours + "."):
            n = theirs + n[len(ours):]
            break
    return ("." if dot else "") + n


def index(fds):
    """Full name -> DescriptorProto / EnumDescriptorProto, for every file."""
    messages, enums = {}, {}

    def walk_msg(prefix, m):
        full = prefix + "." + m.name
        messages[full] = m
        for e in m.enum_type:
            enums[full + "." + e.name] = e
        for n in m.nested_type:
            walk_msg(full, n)

    files = {}
    for f in fds.file:
        files[f.name] = f
        for m in f.message_type:
            walk_msg(f.package, m)
        for e in f.enum_type:
            enums[f.package + "." + e.name] = e
    return files, messages, enums


def compare(ours_fds, theirs_fds):
    """Return a list of human-readable differences."""
    problems = []
    _, our_msgs, our_enums = index(ours_fds)
    _, their_msgs, their_enums = index(theirs_fds)
    seen_newer = set()

    for full, m in sorted(our_msgs.items()):
        if not full.startswith("mesos.v1"):
            continue
        if ("message", full) in NEWER:
            seen_newer.add(("message", full))
            want_fields = NEWER[("message", full)]
            have = {f.name: f for f in m.field}
            if set(have) != set(want_fields):
                problems.append("message %s: fields %s, documented %s" %
                                (full, sorted(have), sorted(want_fields)))
            for fname, want in want_fields.items():
                f = have.get(fname)
                for k, v in (want.items() if f is not None else ()):
                    if getattr(f, k) != v:
                        problems.append("field %s.%s: %s is %r, documented %r" %
                                        (full, fname, k, getattr(f, k), v))
            continue
        tm = their_msgs.get(upstream_name(full))
        if tm is None:
            problems.append("message %s: not in the upstream protos" % full)
            continue
        their_fields = {f.name: f for f in tm.field}
        their_by_number = {f.number: f for f in tm.field}
        for f in m.field:
            fname = full + "." + f.name
            if ("field", fname) in NEWER:
                seen_newer.add(("field", fname))
                want = NEWER[("field", fname)]
                for k, v in want.items():
                    if getattr(f, k) != v:
                        problems.append("field %s: %s is %r, documented %r" %
                                        (fname, k, getattr(f, k), v))
                if f.number in their_by_number:
                    problems.append("field %s: number %d is %s upstream" %
                                    (fname, f.number, their_by_number[f.number].name))
                continue
            tf = their_fields.get(f.name)
            if tf is None:
                problems.append("field %s: not upstream" % fname)
                continue
            for attr in ("number", "type", "label"):
                if getattr(f, attr) != getattr(tf, attr):
                    problems.append("field %s: %s %r, upstream %r" % (
                        fname, attr, getattr(f, attr), getattr(tf, attr)))
            if f.HasField("default_value") != tf.HasField("default_value") or \
                    f.default_value != tf.default_value:
                problems.append("field %s: default %r, upstream %r" % (
                    fname, f.default_value if f.HasField("default_value") else None,
                    tf.default_value if tf.HasField("default_value") else None))
            if f.type_name or tf.type_name:
                if upstream_name(f.type_name) != tf.type_name:
                    problems.append("field %s: type %s, upstream %s" % (
                        fname, f.type_name, tf.type_name))
            if f.options.packed != tf.options.packed:
                problems.append("field %s: packed differs" % fname)

    for full, e in sorted(our_enums.items()):
        if not full.startswith("mesos.v1"):
            continue
        te = their_enums.get(upstream_name(full))
        if te is None:
            problems.append("enum %s: not upstream" % full)
            continue
        their_values = {v.name: v.number for v in te.value}
        for v in e.value:
            vname = full + "." + v.name
            if ("enum_value", vname) in NEWER:
                seen_newer.add(("enum_value", vname))
                if v.number != NEWER[("enum_value", vname)]:
                    problems.append("enum value %s = %d, documented %d" %
                                    (vname, v.number, NEWER[("enum_value", vname)]))
                continue
            if v.name not in their_values:
                problems.append("enum value %s: not upstream" % vname)
            elif their_values[v.name] != v.number:
                problems.append("enum value %s = %d, upstream %d" %
                                (vname, v.number, their_values[v.name]))
    return problems


@pytest.fixture(scope="module")
def ours_fds():
    return protos.build_ours_descriptor_set()


@pytest.fixture(scope="module")
def theirs_fds():
    return protos.upstream_descriptor_set()


def test_our_protos_match_upstream(ours_fds, theirs_fds):
    problems = compare(ours_fds, theirs_fds)
    assert problems == [], "\n".join(problems)


def test_our_packages_and_syntax(ours_fds):
    files = {f.name: f for f in ours_fds.file}
    assert files["mesos.proto"].package == "mesos.v1"
    assert files["executor.proto"].package == "mesos.v1.executor"
    for f in files.values():
        assert f.syntax in ("", "proto2")


def test_compare_catches_a_wrong_field_number(tmp_path, theirs_fds):
    """Self-test: a copy of proto/ with one field number changed must fail."""
    d = tmp_path / "proto"
    shutil.copytree(protos.OUR_PROTO_DIR, d)
    mp = d / "mesos.proto"
    text = mp.read_text()
    # TaskStatus.message is field 4; make it 44.
    new, n = re.subn(r"(optional string message = )4;", r"\g<1>44;", text)
    assert n == 1, "could not find TaskStatus.message = 4 in proto/mesos.proto"
    mp.write_text(new)
    bad = protos.build_ours_descriptor_set(str(d), out=str(tmp_path / "bad.desc"))
    problems = compare(bad, theirs_fds)
    assert any("TaskStatus.message: number 44, upstream 4" in p for p in problems), problems

    # And a renumbered enum value.
    ep = d / "executor.proto"
    text = ep.read_text()
    new, n = re.subn(r"(\bKILL = )3;", r"\g<1>30;", text)
    assert n == 1
    ep.write_text(new)
    bad = protos.build_ours_descriptor_set(str(d), out=str(tmp_path / "bad2.desc"))
    problems = compare(bad, theirs_fds)
    assert any("Event.Type.KILL = 30, upstream 3" in p for p in problems), problems


# --- cross encoding -------------------------------------------------------

@pytest.fixture(scope="module")
def ours():
    return protos.OurProtos()


def prune_to(msg_dict, desc):
    """Keep only the keys of a MessageToDict(preserving_proto_field_name)
    dict that desc (our descriptor) declares, recursively."""
    out = {}
    for k, v in msg_dict.items():
        f = desc.fields_by_name.get(k)
        if f is None:
            continue
        if f.message_type is not None and not f.message_type.GetOptions().map_entry:
            if isinstance(v, list):
                out[k] = [prune_to(x, f.message_type) for x in v]
            else:
                out[k] = prune_to(v, f.message_type)
        elif f.enum_type is not None:
            # proto2: a value our enum lacks is kept as an unknown field
            known = f.enum_type.values_by_name
            if isinstance(v, list):
                v = [x for x in v if x in known]
                if v:
                    out[k] = v
            elif v in known:
                out[k] = v
        else:
            out[k] = v
    return out


def as_dict(m):
    return json_format.MessageToDict(m, preserving_proto_field_name=True)


def roundtrip(upstream_msg, ours_cls):
    """upstream -> bytes -> ours -> (a) known fields match; (b) ours ->
    bytes -> upstream equals the original (unknown fields kept)."""
    data = upstream_msg.SerializeToString()
    o = ours_cls()
    o.ParseFromString(data)
    assert o.IsInitialized()
    want = prune_to(as_dict(upstream_msg), o.DESCRIPTOR)
    assert as_dict(o) == want
    back = type(upstream_msg)()
    back.ParseFromString(o.SerializeToString())
    assert back == upstream_msg
    # Without unknown fields: what spex itself would re-encode.
    o.DiscardUnknownFields()
    back2 = type(upstream_msg)()
    back2.ParseFromString(o.SerializeToString())
    assert prune_to(as_dict(back2), o.DESCRIPTOR) == want
    return o


def test_spark_taskinfo_cross_encoding(ours):
    ti = fake_agent.spark_task_info(kill_grace_secs=7)
    o = roundtrip(ti, ours.message("mesos.v1.TaskInfo"))
    assert o.command.value == ti.command.value
    assert not o.command.HasField("shell") and o.command.shell is True
    assert [(v.name, v.value) for v in o.command.environment.variables] == \
        [(v.name, v.value) for v in ti.command.environment.variables]
    assert o.kill_policy.grace_period.nanoseconds == 7 * 10**9
    assert [(r.name, r.scalar.value) for r in o.resources] == [("cpus", 2.0), ("mem", 4505.0)]


def test_docker_taskinfo_cross_encoding(ours):
    with open(os.path.join(fake_agent.FIXTURES, "spark-mesos-taskinfo-docker.json")) as f:
        ti = json_format.ParseDict(json.load(f), protos.mesos_pb2.TaskInfo())
    roundtrip(ti, ours.message("mesos.v1.TaskInfo"))


def test_taskstatus_cases_cross_encoding(ours):
    with open(os.path.join(fake_agent.FIXTURES, "spark-mesos-taskstatus-cases.json")) as f:
        cases = json.load(f)["cases"]
    for case in cases:
        st = json_format.ParseDict(case["status"], protos.mesos_pb2.TaskStatus())
        roundtrip(st, ours.message("mesos.v1.TaskStatus"))


def test_events_and_calls_cross_encoding(ours):
    agent_like = fake_agent.FakeAgent(start=False)
    try:
        subscribed = agent_like._subscribed_event()
    finally:
        agent_like.server_close()
    roundtrip(subscribed, ours.message("mesos.v1.executor.Event"))

    ev = protos.Event(type=protos.Event.LAUNCH)
    ev.launch.task.CopyFrom(fake_agent.spark_task_info())
    roundtrip(ev, ours.message("mesos.v1.executor.Event"))

    ev = protos.Event(type=protos.Event.KILL)
    ev.kill.task_id.value = "3"
    ev.kill.kill_policy.grace_period.nanoseconds = 1
    roundtrip(ev, ours.message("mesos.v1.executor.Event"))

    ev = protos.Event(type=protos.Event.MESSAGE)
    ev.message.data = b"\x00\x01data"
    o = roundtrip(ev, ours.message("mesos.v1.executor.Event"))
    assert o.message.data == b"\x00\x01data"

    ev = protos.Event(type=protos.Event.ACKNOWLEDGED)
    ev.acknowledged.task_id.value = "3"
    ev.acknowledged.uuid = bytes(range(16))
    roundtrip(ev, ours.message("mesos.v1.executor.Event"))

    # Ours -> upstream: a Call the way spex builds it.
    OCall = ours.message("mesos.v1.executor.Call")
    c = OCall()
    c.executor_id.value = "3"
    c.framework_id.value = "fw"
    c.type = OCall.SUBSCRIBE
    c.subscribe.SetInParent()  # present but empty: must still be encoded
    u = protos.Call()
    u.ParseFromString(c.SerializeToString())
    assert u.type == protos.Call.SUBSCRIBE and u.HasField("subscribe")

    c = OCall()
    c.executor_id.value = "3"
    c.framework_id.value = "fw"
    c.type = OCall.UPDATE
    st = c.update.status
    st.task_id.value = "3"
    st.state = 0  # TASK_STARTING: required, encoded although 0
    st.source = 2
    st.uuid = bytes(16)
    st.timestamp = 1.5
    st.reason = 25
    u = protos.Call()
    u.ParseFromString(c.SerializeToString())
    assert u.update.status.HasField("state")
    assert u.update.status.state == protos.mesos_pb2.TASK_STARTING
    assert u.update.status.source == protos.TaskStatus.SOURCE_EXECUTOR
    assert u.update.status.reason == protos.TaskStatus.REASON_TASK_GROUP_INVALID

    c = OCall()
    c.executor_id.value = "3"
    c.framework_id.value = "fw"
    c.type = OCall.MESSAGE
    c.message.data = b"to the scheduler"
    u = protos.Call()
    u.ParseFromString(c.SerializeToString())
    assert u.message.data == b"to the scheduler"


def test_newer_items_on_the_wire(ours):
    """Things mesos-go lacks, built by hand on the agent side, are read by
    our protos with the documented numbers."""
    OEvent = ours.message("mesos.v1.executor.Event")
    e = OEvent()
    e.ParseFromString(protos.HEARTBEAT_EVENT_BYTES)
    assert e.type == OEvent.HEARTBEAT == 9

    ti = fake_agent.command_task("t1", "sleep 1")
    raw = protos.with_max_completion_time(ti.SerializeToString(), 5 * 10**9)
    o = ours.message("mesos.v1.TaskInfo")()
    o.ParseFromString(raw)
    assert o.max_completion_time.nanoseconds == 5 * 10**9

    OCall = ours.message("mesos.v1.executor.Call")
    c = OCall(type=OCall.HEARTBEAT)
    c.executor_id.value = "unused"
    c.framework_id.value = "unused"
    data = c.SerializeToString()
    assert protos.raw_call_type(data) == protos.CALL_HEARTBEAT
    u = protos.Call()
    u.ParseFromString(data)
    assert not u.HasField("type")  # unknown to mesos-go: kept as an unknown field

    OStatus = ours.message("mesos.v1.TaskStatus")
    assert OStatus.REASON_MAX_COMPLETION_TIME_REACHED == 33
