"""The JSON configuration file, env over file, and --print-config."""

import json
import os
import re
import subprocess

from agent import harness
from agent.fake_agent import command_task, mesos_pb2
from helpers import T, assert_exits_zero, run_to_terminal, subscribe

DOC = os.path.join(harness.REPO, "docs", "configuration.md")
SHIPPED = os.path.join(harness.REPO, "tools", "spex.json")
LINE = re.compile(r"^(SPEX_[A-Z_]+) +(\S+) +(default|env|file (\S+))$")


def write_config(tmp_path, obj, name="spex.json"):
    path = str(tmp_path / name)
    with open(path, "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def print_config(env, *args):
    """Run spex-executor --print-config with only env (no MESOS_* at all)."""
    full = {"PATH": harness.MESOS_PATH}
    if harness.ASAN:
        full.update(harness.ASAN_ENV)
    full.update(env)
    return subprocess.run([harness.spex_bin(), "--print-config"] + list(args), env=full,
                          capture_output=True, text=True, timeout=T(10))


def parse_text(out):
    lines = out.splitlines()
    assert lines[0].startswith("# config file: "), out
    rows = {}
    for ln in lines[1:]:
        m = LINE.match(ln)
        assert m, "malformed line %r in:\n%s" % (ln, out)
        rows[m.group(1)] = (m.group(2), m.group(3).split(" ")[0], m.group(4))
    return lines[0], rows


def test_print_config_sources(tmp_path):
    path = write_config(tmp_path, {"disk_interval": "5secs", "log_tail": "1M",
                                   "cgroups": "off", "keep_shuffle": True})
    r = print_config({"SPEX_CONFIG": path, "SPEX_LOG_TAIL": "64M", "SPEX_CGROUPS": ""})
    assert r.returncode == 0, r
    assert r.stderr == ""
    head, rows = parse_text(r.stdout)
    assert head == "# config file: %s (from SPEX_CONFIG)" % path
    assert rows["SPEX_DISK_INTERVAL"] == ("5secs", "file", path)
    assert rows["SPEX_KEEP_SHUFFLE"] == ("1", "file", path)
    assert rows["SPEX_LOG_TAIL"] == ("64M", "env", None)       # env wins
    assert rows["SPEX_CGROUPS"] == ("off", "file", path)       # empty env = unset
    assert rows["SPEX_ACK_TIMEOUT"] == ("60secs", "default", None)
    assert rows["SPEX_DISK_LIMIT"] == ("(unset)", "default", None)
    # Aligned: every value starts in the same column.
    cols = {ln.index(" " + v[0]) for ln, v in zip(r.stdout.splitlines()[1:], rows.values())}
    assert len(cols) == 1, r.stdout


def test_print_config_json_and_docs_cover_every_setting(tmp_path):
    r = print_config({"SPEX_CONFIG": write_config(tmp_path, {"pids_max": 99})}, "--json")
    assert r.returncode == 0, r
    doc = json.loads(r.stdout)
    assert doc["config_file"] == str(tmp_path / "spex.json")
    settings = doc["settings"]
    assert len(settings) >= 20
    assert settings["SPEX_PIDS_MAX"] == {"key": "pids_max", "value": "99", "source": "file",
                                         "default": "32768"}
    with open(DOC) as f:
        text = f.read()
    rows = {ln.split("|")[1].strip(): ln for ln in text.splitlines()
            if ln.startswith("| `SPEX_")}
    missing = []
    for name, s in settings.items():
        row = rows.get("`%s`" % name)
        if (row is None or "| `%s` |" % s["key"] not in row
                or (s["default"] is not None and "`%s`" % s["default"] not in row)):
            missing.append(name)
    assert not missing, "settings missing from (or wrong in) docs/configuration.md: %r" % missing


def test_print_config_without_file(tmp_path):
    """No SPEX_CONFIG: /etc/spex/spex.json, which this machine may not have."""
    r = print_config({}, "--json")
    assert r.returncode == 0, r
    doc = json.loads(r.stdout)
    if os.path.exists("/etc/spex/spex.json"):
        assert doc["config_file"] == "/etc/spex/spex.json"
    else:
        assert doc["config_file"] is None
        assert {s["source"] for s in doc["settings"].values()} == {"default"}


def test_print_config_invalid_file(tmp_path):
    path = write_config(tmp_path, {"disk_interval": 5})
    r = print_config({"SPEX_CONFIG": path})
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == ("spex-executor: %s: key 'disk_interval': expected a duration like "
                        "\"10secs\", got a number\n" % path)
    path = write_config(tmp_path, '{"disk_intreval": "5secs"}', "typo.json")
    r = print_config({"SPEX_CONFIG": path}, "--json")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == ("spex-executor: %s: unknown key 'disk_intreval' (did you mean "
                        "'disk_interval'?)\n" % path)


def test_print_config_invalid_env_and_missing_file(tmp_path):
    r = print_config({"SPEX_DISK_INTERVAL": "1ms"})
    assert r.returncode == 1
    assert r.stderr == "spex-executor: SPEX_DISK_INTERVAL: at least 100ms, got '1ms'\n"
    missing = str(tmp_path / "nope.json")
    r = print_config({"SPEX_CONFIG": missing})
    assert r.returncode == 1
    assert r.stderr == ("spex-executor: SPEX_CONFIG: cannot open %s: No such file or "
                        "directory\n" % missing)


def test_shipped_config_loads():
    r = print_config({"SPEX_CONFIG": SHIPPED}, "--json")
    assert r.returncode == 0, r
    doc = json.loads(r.stdout)
    with open(SHIPPED) as f:
        keys = set(json.load(f))
    assert len(keys) >= 5
    for s in doc["settings"].values():
        assert s["source"] == ("file" if s["key"] in keys else "default")
        assert s["value"] == s["default"], s  # it only spells out the defaults


# --- the executor itself ------------------------------------------------------

def config_env(tmp_path, **env):
    """A file that turns cgroups off and caps the task's output hard."""
    path = write_config(tmp_path, {"cgroups": "off", "log_head": "1000", "log_tail": 1000,
                                   "log_level": "debug"})
    env["SPEX_CONFIG"] = path
    return path, env


BIG_OUTPUT = "head -c 3000000 /dev/zero"


def test_executor_honours_the_file(agent, sandbox, start_executor, tmp_path):
    path, env = config_env(tmp_path)
    ex = start_executor(agent, sandbox, env_overrides=env)
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("big", BIG_OUTPUT))
    assert st.state == 2, st.message
    size = os.path.getsize(os.path.join(sandbox, "stdout"))
    assert size < 10000, size                # log_head/log_tail from the file
    with open(os.path.join(sandbox, "stdout"), "rb") as f:
        assert b"bytes dropped here; SPEX_LOG_HEAD=1000 SPEX_LOG_TAIL=1000]" in f.read()
    assert_exits_zero(ex)
    log = ex.log()
    assert "event=config file=%s file_settings=4" % path in log
    assert "event=cgroups mode=off" in log   # cgroups from the file
    assert "level=debug" in log              # log_level from the file


def test_env_wins_over_the_file(agent, sandbox, start_executor, tmp_path):
    _, env = config_env(tmp_path, SPEX_LOG_TAIL="0", SPEX_CGROUPS="auto",
                        SPEX_LOG_LEVEL="info")
    ex = start_executor(agent, sandbox, env_overrides=env)
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("big", BIG_OUTPUT))
    assert st.state == 2, st.message
    assert os.path.getsize(os.path.join(sandbox, "stdout")) == 3000000  # capping off
    assert_exits_zero(ex)
    log = ex.log()
    assert "event=cgroups mode=off" not in log
    assert "event=cgroups mode=auto" in log
    assert "level=debug" not in log


def assert_task_fails_with_config_error(agent, ex, sandbox, expected):
    """The executor subscribes, fails the task with the configuration
    error, records it in its state and exits 1."""
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("cfg", "true"))
    assert st.state == mesos_pb2.TASK_FAILED, st
    assert st.reason == mesos_pb2.TaskStatus.REASON_CONTAINER_LAUNCH_FAILED, st
    assert st.message == "spex configuration: " + expected, st.message
    assert ex.wait(T(10)) == 1
    with open(os.path.join(sandbox, ".spex", "state.json")) as f:
        state = json.load(f)
    assert state["executor"]["config_error"] == expected
    assert state["executor"]["exit_code"] == 1
    assert ("spex-executor: %s\n" % expected) in ex.log()
    # ... and the operator's view of the sandbox says so.
    cli = os.path.join(os.path.dirname(harness.spex_bin()), "spex")
    env = {"PATH": harness.MESOS_PATH}
    if harness.ASAN:
        env.update(harness.ASAN_ENV)
    p = subprocess.run([cli, "inspect", "--json", sandbox], env=env, capture_output=True,
                       text=True, timeout=T(30))
    assert p.returncode == 0, p.stderr
    view = json.loads(p.stdout)["sandboxes"][0]
    assert view["executor"]["config_error"] == expected
    assert [w["kind"] for w in view["warnings"]].count("config_error") == 1, view["warnings"]


def test_invalid_file_fails_each_task_with_the_reason(agent, sandbox, start_executor, tmp_path):
    path = write_config(tmp_path, '{"cgroups": "off", "cgroups": "auto"}')
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_CONFIG": path})
    assert_task_fails_with_config_error(agent, ex, sandbox,
                                        "%s: key 'cgroups' appears more than once" % path)


def test_invalid_env_value_fails_each_task_with_the_reason(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_DISK_LIMIT": "10X"})
    assert_task_fails_with_config_error(agent, ex, sandbox,
                                        "SPEX_DISK_LIMIT: invalid size '10X' (use a number with k, M, G or T)")


def test_missing_agent_variable_still_stops_before_subscribing(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox, env_overrides={"MESOS_FRAMEWORK_ID": None,
                                                        "SPEX_DISK_LIMIT": "10X"})
    assert ex.wait(T(10)) == 1
    assert "missing required environment variable MESOS_FRAMEWORK_ID" in ex.log()
    assert agent.subscriptions == []


def read_state_strict(sandbox):
    """state.json as a strict reader sees it: UTF-8, or an error."""
    with open(os.path.join(sandbox, ".spex", "state.json"), "rb") as f:
        return json.loads(f.read().decode("utf-8", "strict"))


def test_non_utf8_env_value_gives_a_utf8_failure(agent, sandbox, start_executor):
    """SPEX_CGROUPS=$'\\xff': refused as not UTF-8, and the byte reaches
    neither the task's failure message nor state.json raw (it made
    state.json invalid JSON for strict readers)."""
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_CGROUPS": "\udcff"})  # b"\xff"
    expected = "SPEX_CGROUPS: expected valid UTF-8, got '\\xff'"
    assert_task_fails_with_config_error(agent, ex, sandbox, expected)
    st = agent.wait_terminal("cfg", T(1))
    assert isinstance(st.message, str), st.message  # bytes: not valid UTF-8
    assert read_state_strict(sandbox)["executor"]["config_error"] == expected


LONG_VALUE = "x" + "\u00e9" * 200
LONG_ERROR = "SPEX_CGROUPS: expected auto, required or off, got '%s'" % LONG_VALUE


def test_long_config_error_is_cut_at_a_character(agent, sandbox, start_executor):
    """A message longer than the executor keeps is cut between characters,
    not inside one, and short enough that the task's "spex configuration: "
    message (at most 255 bytes) holds all of it: cut at byte 255, this one
    left half an 'é' in the status message and in state.json."""
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_CGROUPS": LONG_VALUE})
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("cfg", "true"))
    assert st.state == mesos_pb2.TASK_FAILED, st
    assert isinstance(st.message, str), st.message  # bytes: not valid UTF-8
    assert st.message.startswith("spex configuration: "), st.message
    kept = st.message[len("spex configuration: "):]
    assert LONG_ERROR.startswith(kept), kept
    assert 230 <= len(kept.encode("utf-8")) <= 235, kept
    assert ex.wait(T(10)) == 1
    assert read_state_strict(sandbox)["executor"]["config_error"] == kept
    assert ("spex-executor: %s\n" % LONG_ERROR) in ex.log()  # the log has all of it


def test_print_config_errors_are_one_utf8_line(tmp_path):
    bad = write_config(tmp_path, b'{"cgroup_root": "/\xff"}'.decode("latin-1"), "bad.json")
    with open(bad, "wb") as f:
        f.write(b'{"cgroup_root": "/\xff"}')
    r = print_config({"SPEX_CONFIG": bad}, "--json")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == "spex-executor: %s: not valid UTF-8 at line 1, column 19\n" % bad
    # An open error naming a path with a newline is still one line.
    nl = str(tmp_path / "a\nb.json")
    r = print_config({"SPEX_CONFIG": nl})
    assert r.returncode == 1
    assert r.stderr == ("spex-executor: SPEX_CONFIG: cannot open %s/a\\x0ab.json: No such "
                        "file or directory\n" % tmp_path)
    r = print_config({"SPEX_PIDS_MAX": " -1"})
    assert r.returncode == 1
    assert r.stderr == "spex-executor: SPEX_PIDS_MAX: expected a number (digits only), got ' -1'\n"
