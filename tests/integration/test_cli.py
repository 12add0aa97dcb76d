"""The operator CLI: spex inspect, spex ls, spex gc, and the CLI conventions
(docs/cli.md), against a work dir in the Mesos layout (cli_fixture.py) and
against a sandbox the real executor left.

Golden files (tests/integration/golden/) hold the human output at
COLUMNS=80, NO_COLOR=1, LC_ALL=C.UTF-8, SPEX_NOW=cli_fixture.NOW, with the
temporary work dir written <WORK> and the live pid <PID>. Regenerate them
with SPEX_UPDATE_GOLDEN=1 (then review the diff).
"""

import difflib
import json
import os
import pty
import select
import shlex
import signal
import subprocess
import unicodedata

import jsonschema
import pytest

import cli_fixture as fx
from agent import harness
from agent.fake_agent import command_task, mesos_pb2
from helpers import (T, assert_exits_zero, run_to_terminal, subscribe, wait_for,
                     waiting_task)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GOLDEN = os.path.join(HERE, "golden")
SCHEMAS = os.path.join(REPO, "docs", "schemas")
UPDATE = os.environ.get("SPEX_UPDATE_GOLDEN") == "1"
MIB = fx.MIB


def cli_bin():
    if os.environ.get("SPEX_CLI"):
        return os.environ["SPEX_CLI"]
    return os.path.join(os.path.dirname(harness.spex_bin()), "spex")


def cli_env(**extra):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COLUMNS": "80", "NO_COLOR": "1",
           "LC_ALL": "C.UTF-8", "TERM": "dumb", "SPEX_NOW": str(fx.NOW)}
    if harness.ASAN:
        env.update(harness.ASAN_ENV)
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def spex(*args, env=None, cwd=None):
    """Run the CLI; returns (rc, stdout, stderr)."""
    p = subprocess.run([cli_bin()] + list(args), env=env or cli_env(), cwd=cwd,
                       capture_output=True, text=True, timeout=T(30))
    if harness.ASAN:
        assert "Sanitizer" not in p.stderr, p.stderr
    return p.returncode, p.stdout, p.stderr


def spex_json(*args, env=None):
    rc, out, err = spex(*args, "--json", env=env)
    return rc, json.loads(out), err


def schema(name):
    with open(os.path.join(SCHEMAS, name)) as f:
        return json.load(f)


def strict(node):
    """The schema with additionalProperties false on every object that lists
    properties: the CLI prints no field the schema does not document (the
    schema files themselves let readers meet fields added later)."""
    if isinstance(node, dict):
        node = {k: strict(v) for k, v in node.items()}
        if "properties" in node:
            node["additionalProperties"] = False
    elif isinstance(node, list):
        node = [strict(v) for v in node]
    return node


def validate(doc, name):
    s = schema(name)
    jsonschema.Draft202012Validator.check_schema(s)
    jsonschema.Draft202012Validator(strict(s)).validate(doc)


def golden(name, text, fx_paths, live_pid):
    """Compare text (with the tmp path and the live pid normalised) with
    golden/<name>; SPEX_UPDATE_GOLDEN=1 rewrites the file instead."""
    text = text.replace(fx_paths["work"], "<WORK>").replace("pid %d" % live_pid, "pid <PID>")
    path = os.path.join(GOLDEN, name)
    if UPDATE:
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return
    with open(path) as f:
        want = f.read()
    if text != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                            "golden/" + name, "output"))
        pytest.fail("output differs from golden/%s (SPEX_UPDATE_GOLDEN=1 regenerates):\n%s"
                    % (name, diff))


def four_kib_blocks(path):
    """The goldens' sizes assume 4 KiB directories and 4 KiB blocks."""
    d = os.path.join(path, "probe-dir")
    os.mkdir(d)
    fx.write(os.path.join(d, "f"), 4096)
    ok = os.lstat(d).st_blocks * 512 == 4096 and os.lstat(os.path.join(d, "f")).st_blocks == 8
    os.unlink(os.path.join(d, "f"))
    os.rmdir(d)
    return ok


@pytest.fixture
def live_proc():
    p = fx.start_live_process()
    yield p
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()


@pytest.fixture
def work(tmp_path, live_proc):
    root = os.path.realpath(str(tmp_path))
    paths = fx.build(root, live_proc.pid)
    paths["pid"] = live_proc.pid
    paths["blocks_ok"] = four_kib_blocks(root)
    return paths


def needs_4k(work):
    if not work["blocks_ok"] and not UPDATE:
        pytest.skip("goldens were recorded on a file system with 4 KiB directories and blocks")


# --- conventions -------------------------------------------------------------------

def test_help_version_and_usage_exit_codes():
    rc, out, err = spex("help")
    assert rc == 0 and "inspect" in out and "gc" in out and err == ""
    rc, out, _ = spex("--version")
    assert rc == 0 and out.startswith("spex ")
    for verb in ("du", "inspect", "ls", "gc"):
        rc, out, err = spex(verb, "--help")
        assert rc == 0 and out.startswith("usage: spex " + verb), out
        rc2, out2, _ = spex("help", verb)
        assert rc2 == 0 and out2 == out
    rc, out, err = spex("ls", "--bogus")
    assert rc == 2 and out == ""
    assert err.splitlines()[0] == "spex ls: unknown option '--bogus'"
    assert err.splitlines()[1].startswith("usage: spex ls")
    assert spex("frobnicate")[0] == 2
    assert spex()[0] == 2
    assert spex("help", "nosuch")[0] == 2
    rc, _, err = spex("gc", "--older-than", "5parsecs", "/nonexistent")
    assert rc == 2 and err.startswith("spex gc: --older-than: "), err
    assert spex("gc", "--older-than")[0] == 2  # missing value
    assert spex("ls", "a", "b")[0] == 2
    assert spex("ls", "--json=yes")[0] == 2


def test_gc_log_tail_above_1tib_is_a_usage_error(work):
    """--log-tail near 2^64 would overflow the reclaim's sums: refused."""
    for big in ("16777215TiB", "18446744073709549568", "1025GiB"):
        rc, out, err = spex("gc", "--log-tail", big, work["work"])
        assert rc == 2 and out == "", (big, err)
        assert err.splitlines()[0] == "spex gc: --log-tail: '%s' is more than 1TiB" % big
    rc, doc, err = spex_json("gc", "--log-tail", "1TiB", work["work"])
    assert rc == 0 and doc["log_tail_bytes"] == 1 << 40, err


def test_missing_work_dir_is_one_line_exit_1(tmp_path):
    missing = str(tmp_path / "nope")
    for verb in ("ls", "gc"):
        rc, out, err = spex(verb, missing)
        assert rc == 1 and out == ""
        assert err == "spex %s: %s: No such file or directory\n" % (verb, missing)
    rc, _, err = spex("ls", str(tmp_path))  # exists, but no slaves/
    assert rc == 1 and len(err.splitlines()) == 1 and "slaves/" in err
    rc, _, err = spex("inspect", missing)
    assert rc == 1 and err == "spex inspect: %s: No such file or directory\n" % missing
    rc, out, err = spex("du", missing)
    assert rc == 1 and out == "" and err == "spex du: %s: No such file or directory\n" % missing
    afile = str(tmp_path / "afile")
    open(afile, "w").close()
    rc, out, err = spex("du", afile)
    assert rc == 1 and out == "" and err == "spex du: %s: Not a directory\n" % afile


def test_du_mount_note_names_the_path(tmp_path):
    root = str(tmp_path / "sb")
    mnt = os.path.join(root, "mnt")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "spex-test", mnt],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        rc, out, err = spex("du", root)
        assert rc == 0 and err == "spex du: %s: note: 1 mount point below not entered\n" % root
    finally:
        subprocess.run(["umount", mnt], check=True)


def run_in_pty(args, env):
    """Run the CLI with its stdout on a terminal; returns the output."""
    master, slave = pty.openpty()
    p = subprocess.Popen([cli_bin()] + args, env=env, stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], T(10))
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.wait(T(10)) == 0
    return out.decode()


def test_colour_only_on_a_tty_and_never_with_no_color(work):
    args = ["ls", work["work"]]
    tty = run_in_pty(args, cli_env(NO_COLOR=None, TERM="xterm"))
    assert "\x1b[32mlive" in tty and "\x1b[31mdead" in tty
    assert "\x1b[" not in run_in_pty(args, cli_env(NO_COLOR="1", TERM="xterm"))
    assert "\x1b[" not in run_in_pty(args, cli_env(NO_COLOR=None, TERM="dumb"))
    rc, out, _ = spex(*args, env=cli_env(NO_COLOR=None, TERM="xterm"))  # a pipe
    assert rc == 0 and "\x1b[" not in out


def test_output_fits_the_width(work):
    for cols in ("40", "60", "80", "132"):
        env = cli_env(COLUMNS=cols)
        for args in (["ls", work["work"]], ["inspect", work["dead"], work["live"]],
                     ["gc", work["work"]]):
            rc, out, _ = spex(*args, env=env)
            assert rc == 0
            for line in out.splitlines():
                assert len(line) <= int(cols), (cols, args[0], line)


def spex_bytes(*args, env=None, cwd=None):
    """Run the CLI; returns (rc, stdout, stderr) as bytes, as a terminal
    would get them."""
    p = subprocess.run([cli_bin()] + list(args), env=env or cli_env(), cwd=cwd,
                       capture_output=True, timeout=T(30))
    if harness.ASAN:
        assert b"Sanitizer" not in p.stderr, p.stderr
    return p.returncode, p.stdout, p.stderr


UNSAFE = set("\u2028\u2029\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
             "\u2066\u2067\u2068\u2069")


def assert_terminal_safe(data):
    """Valid UTF-8 with no control character but the newlines ending lines
    (C0, DEL, C1), no line separator, no bidirectional control."""
    text = data.decode("utf-8")
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f
           or c in UNSAFE]
    assert not bad, (bad, text)
    return text


def display_width(line):
    """Terminal columns, as wcwidth() counts them: 2 for wide East Asian
    characters and emoji, 0 for combining marks."""
    w = 0
    for c in line:
        if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
            continue
        w += 2 if unicodedata.east_asian_width(c) in "WF" else 1
    return w


def test_hostile_names_and_state_strings_stay_on_their_line(tmp_path):
    """Directory names and state strings with escape sequences, BEL, CR and
    newlines: every human line and every error is one line without them."""
    h = fx.build_hostile(str(tmp_path))
    rc, out, err = spex_bytes("ls", h["work"])
    lines = assert_terminal_safe(out).splitlines()
    assert_terminal_safe(err)
    assert len(lines) == 3 and lines[0].startswith("FRAMEWORK"), lines
    row = [l for l in lines if l.startswith("FW?]0;PWNED??[2J?X  ")]
    assert len(row) == 1 and "ex?[31m??2J-1" in row[0] and " dead " in row[0], lines

    rc, out, err = spex_bytes("gc", h["work"])
    assert rc == 0, err
    text = assert_terminal_safe(out)
    assert_terminal_safe(err)
    for line in text.splitlines():
        assert line == "" or line.startswith(("slaves/", "  ", "would free")), text
    assert "slaves/S0/frameworks/FW?]0;PWNED??[2J?X/executors/ex?[31m??2J-1/runs/run-?[1m" \
        in text
    assert "  blockmgr    blockmgr-?[2J?  " in text

    rc, out, err = spex_bytes("inspect", h["evil"], h["latin1"], env=cli_env(COLUMNS="200"))
    text = assert_terminal_safe(out)
    assert_terminal_safe(err)
    labels = ("sandbox ", "framework ", "executor ", "liveness ", "started ", "state ", "task ",
              "cgroup ", "disk ", "history ", "warnings", "  ", "           ")
    for line in text.splitlines():
        assert line == "" or line.startswith(labels), text
    assert "framework  FW?]0;PWNED?\n" in text
    assert "executor   spark-?[31mex?, pid -, spex 0.1??\n" in text  # pid -5: null
    assert "task       t?[2J?1 TASK_?[5mFAILED" in text
    assert "           boom ?[31mred?second line??2J?evil\n" in text
    assert "  ! invalid spex setting, every task failed with it: SPEX_X: bad?[2J?value" in text
    assert "  memory   ?, no limit\n" in text  # mem_bytes -5 and peak -1: null
    assert "executor   ex-??, pid 4243" in text  # not UTF-8 in the state file

    # Errors: one line, sanitized, also for operands and usage errors.
    rc, out, err = spex_bytes("ls", h["work"] + "/\x1b[2J\nnope")
    assert rc == 1 and err.count(b"\n") == 1 and b"/?[2J?nope: No such file" in err, err
    assert_terminal_safe(err)
    rc, out, err = spex_bytes("ls", "--\x1b]0;x\x07")
    assert rc == 2 and err.startswith(b"spex ls: unknown option '--?]0;x?'\nusage: "), err
    rc, out, err = spex_bytes("no\x1b[2Jverb")
    assert rc == 2 and err == b"spex: unknown verb 'no?[2Jverb' (spex help lists them)\n"


def test_json_is_utf8_whatever_the_names(tmp_path):
    """Names and state strings that are not UTF-8 reach the JSON as U+FFFD;
    control characters are JSON-escaped, kept."""
    h = fx.build_hostile(str(tmp_path))
    docs = {}
    for args in (["ls", h["work"]], ["gc", h["work"]], ["inspect", h["latin1"], h["evil"]],
                 ["du", h["latin1"]]):
        rc, out, err = spex_bytes(*args, "--json")
        out.decode("utf-8")  # strict
        docs[args[0]] = json.loads(out)
    validate(docs["ls"], "spex.ls-1.schema.json")
    validate(docs["gc"], "spex.gc-1.schema.json")
    validate(docs["inspect"], "spex.inspect-1.schema.json")
    by = {s["run_id"]: s for s in docs["ls"]["sandboxes"]}
    assert by["run-1"]["framework_id"] == "F\ufffd"
    assert by["run-1"]["executor_id"] == "ex-\ufffd"
    assert by["run-1"]["path"] == "slaves/S0/frameworks/F\ufffd/executors/ex-\ufffd/runs/run-1"
    assert by["run-\x1b[1m"]["framework_id"] == fx.EVIL_FW.decode()
    assert {s["framework_id"] for s in docs["gc"]["sandboxes"]} == {"F\ufffd",
                                                                   fx.EVIL_FW.decode()}
    latin1, evil = docs["inspect"]["sandboxes"]
    assert latin1["executor"]["executor_id"] == "ex-\ufffd\ufffd"
    assert "/F\ufffd/" in latin1["path"]
    assert evil["tasks"][0]["exit"]["message"] == fx.EVIL_TEXT
    assert evil["executor"]["pid"] is None  # -5 in the state
    assert docs["du"]["root"] == latin1["path"]


def test_every_line_fits_80_columns(work, tmp_path):
    """--help of every verb, and ls, inspect, gc over ASCII and over wide
    (CJK, emoji) names: no line wider than 80 columns, as a terminal counts."""
    wide = fx.wide_names(str(tmp_path))
    runs = [["help"], ["--help"]] + [[v, "--help"] for v in ("du", "inspect", "ls", "gc",
                                                               "help")]
    for w in (work, wide):
        runs += [["ls", w["work"]], ["gc", w["work"]], ["gc", "--bytes", w["work"]]]
    runs += [["inspect", work["dead"], work["live"]], ["inspect", wide["sandbox"]]]
    for args in runs:
        rc, out, err = spex(*args, env=cli_env(COLUMNS="80"))
        assert rc == 0, (args, err)
        for line in out.splitlines():
            assert display_width(line) <= 80, (args, display_width(line), line)
    _, out, _ = spex("ls", wide["work"], env=cli_env(COLUMNS="80"))
    assert "\U0001f600" in out and "\u2026" in out  # wide names shown, cut


def test_bytes_gives_exact_numbers(work):
    rc, out, _ = spex("ls", "--bytes", work["work"])
    assert rc == 0 and "MiB" not in out
    _, doc, _ = spex_json("ls", work["work"])
    dead = [s for s in doc["sandboxes"] if s["executor_id"] == "spark-exec-dead"][0]
    assert str(dead["allocated_bytes"]) in out


# --- ls ------------------------------------------------------------------------------

def test_ls_golden(work):
    needs_4k(work)
    rc, out, err = spex("ls", work["work"])
    assert rc == 0, err
    golden("ls.txt", out, work, work["pid"])


def test_ls_json(work):
    rc, doc, err = spex_json("ls", work["work"])
    assert rc == 0, err
    validate(doc, "spex.ls-1.schema.json")
    assert doc["schema"] == "spex.ls/1"
    by = {s["executor_id"]: s for s in doc["sandboxes"]}
    # every run once; `latest` and the run symlinked out of the work dir not at all
    assert sorted(by) == ["spark-exec-dead", "spark-exec-live", "spark-exec-nostate",
                          "spark-exec-reused"]
    assert doc["symlinks_skipped"] >= 2
    assert (by["spark-exec-live"]["liveness"], by["spark-exec-live"]["liveness_reason"]) == \
        ("live", "running")
    assert (by["spark-exec-dead"]["liveness"], by["spark-exec-dead"]["liveness_reason"]) == \
        ("dead", "exited")
    assert (by["spark-exec-reused"]["liveness"], by["spark-exec-reused"]["liveness_reason"]) \
        == ("dead", "pid reused")
    assert by["spark-exec-nostate"]["liveness"] == "unknown"
    assert by["spark-exec-nostate"]["state_file"] is False
    totals = [s["allocated_bytes"] for s in doc["sandboxes"]]
    assert totals == sorted(totals, reverse=True)
    assert by["spark-exec-dead"]["top_category"] == "shuffle"
    assert by["spark-exec-live"]["age_s"] == 600  # since executor.started_at, SPEX_NOW
    assert by["spark-exec-nostate"]["age_s"] == 3600  # since the run dir's mtime


def test_ls_liveness_follows_the_process(work, live_proc):
    os.killpg(live_proc.pid, signal.SIGKILL)
    live_proc.wait()
    _, doc, _ = spex_json("ls", work["work"])
    live = [s for s in doc["sandboxes"] if s["executor_id"] == "spark-exec-live"][0]
    assert (live["liveness"], live["liveness_reason"]) == ("dead", "pid gone")


def test_year_1_against_the_largest_now(work):
    """Times of year 1 in a state and the largest SPEX_NOW: ages are
    clamped, never a signed overflow (UBSan aborts the ASan build on one)."""
    path = os.path.join(work["dead"], ".spex", "state.json")
    with open(path) as f:
        doc = json.load(f)
    year1 = "0001-01-01T00:00:00.000Z"
    doc["written_at"] = doc["executor"]["started_at"] = doc["disk_at"] = year1
    doc["tasks"][0]["launched_at"] = doc["tasks"][0]["ended_at"] = year1
    with open(path, "w") as f:
        json.dump(doc, f)
    far = str((2 ** 63 - 1) // 1000)
    env = cli_env(SPEX_NOW=far)
    rc, out, err = spex("ls", work["work"], env=env)
    assert rc == 0, err
    row = [l for l in out.splitlines() if "spark-exec-dead" in l][0]
    assert "106751991167d" in row.replace("\u2026", ""), row
    rc, doc, err = spex_json("ls", work["work"], env=env)
    assert rc == 0, err
    dead = [s for s in doc["sandboxes"] if s["executor_id"] == "spark-exec-dead"][0]
    assert dead["age_s"] == (2 ** 63 - 1) // 1000
    for args in (["inspect", work["dead"]], ["gc", work["work"]]):
        rc, out, err = spex(*args, env=env)
        assert rc == 0 and "106751991167d ago" in out, (args, err, out)
        rc, doc, err = spex_json(*args, env=env)
        assert rc == 0, err


def test_ls_refuses_a_wrong_schema(work):
    path = os.path.join(work["reused"], ".spex", "state.json")
    with open(path) as f:
        doc = json.load(f)
    doc["schema"] = "spex.state/2"
    with open(path, "w") as f:
        json.dump(doc, f)
    rc, out, err = spex("ls", work["work"])
    assert rc == 1
    assert err == ("spex ls: %s/.spex/state.json: schema 'spex.state/2', expected "
                   "spex.state/1\n" % work["reused"])
    assert "spark-exec-reused" in out  # still listed, as unknown
    _, doc, _ = spex_json("ls", work["work"])
    reused = [s for s in doc["sandboxes"] if s["executor_id"] == "spark-exec-reused"][0]
    assert reused["liveness"] == "unknown" and "spex.state/2" in reused["state_error"]


# --- inspect --------------------------------------------------------------------------

LOG_CAPS = {"SPEX_LOG_HEAD": "1MiB", "SPEX_LOG_TAIL": "2MiB"}


def test_inspect_dead_golden(work):
    needs_4k(work)
    rel = os.path.relpath(work["dead"], work["work"])
    rc, out, err = spex("inspect", rel, env=cli_env(**LOG_CAPS), cwd=work["work"])
    assert rc == 0, err
    golden("inspect-dead.txt", out, work, work["pid"])


def test_inspect_takes_log_caps_from_the_executors_config_file(work, tmp_path):
    """The caps the executors run with: SPEX_LOG_* from /etc/spex/spex.json
    (here SPEX_CONFIG) count as the environment's would; a broken file is a
    note, not a failure."""
    conf = tmp_path / "spex.json"
    conf.write_text('{"log_head": "1MiB", "log_tail": "2MiB"}')
    rc, doc, err = spex_json("inspect", work["dead"], env=cli_env(SPEX_CONFIG=str(conf)))
    assert rc == 0, err
    kinds = [w["kind"] for w in doc["sandboxes"][0]["warnings"]]
    assert "log_near_cap" in kinds, kinds
    # Without the file the default caps (4 + 32 MiB) leave stdout far below.
    rc, doc, err = spex_json("inspect", work["dead"], env=cli_env(SPEX_CONFIG=None))
    assert "log_near_cap" not in [w["kind"] for w in doc["sandboxes"][0]["warnings"]]
    conf.write_text('{"log_head": true}')
    rc, doc, err = spex_json("inspect", work["dead"], env=cli_env(SPEX_CONFIG=str(conf)))
    assert rc == 0, err
    assert err.count("\n") == 1 and "note:" in err and "log_head" in err, err


def test_inspect_json(work):
    rc, doc, err = spex_json("inspect", work["dead"], work["live"], work["nostate"],
                             env=cli_env(**LOG_CAPS))
    assert rc == 0, err
    validate(doc, "spex.inspect-1.schema.json")
    dead, live, nostate = doc["sandboxes"]
    assert dead["path"] == work["dead"] and dead["liveness"] == "dead"
    assert dead["processes"] is None
    assert dead["executor"]["exit_code"] == 0 and dead["executor"]["uptime_s"] == 600
    t = dead["tasks"][0]
    assert t["id"] == "7" and t["oom"] is True and t["exit"]["oom"] == "cgroup"
    assert t["cgroup"]["usage"]["oom_kills"] == 1
    kinds = sorted(w["kind"] for w in dead["warnings"])
    assert kinds == ["blockmgr_dead", "disk_near_limit", "log_near_cap", "oom"], kinds
    near = [w for w in dead["warnings"] if w["kind"] == "log_near_cap"][0]
    assert near["path"] == "stdout"
    assert len(dead["history"]["samples"]) == 11 and dead["history"]["skipped_lines"] == 1
    assert dead["disk"]["source"] == "scan" and dead["disk"]["last_report_bytes"] == 12 * MIB
    cats = dead["disk"]["categories"]
    assert cats["shuffle"] >= 4 * MIB and cats["dist"] >= 3 * MIB
    assert sum(cats.values()) == dead["disk"]["allocated_bytes"]

    assert live["liveness"] == "live" and live["warnings"] == []
    pids = {p["pid"]: p for p in live["processes"]}
    sh = work["pid"]
    assert sh in pids and pids[sh]["depth"] == 0 and pids[sh]["command"].startswith("sh -c")
    kids = [p for p in live["processes"] if p["ppid"] == sh]
    assert len(kids) == 2 and all(k["depth"] == 1 and k["command"] == "sleep 300"
                                  for k in kids)
    assert live["executor"]["uptime_s"] == 600

    assert nostate["liveness"] == "unknown" and nostate["executor"] is None
    assert nostate["tasks"] == [] and nostate["state_file"] is False


def test_inspect_hostile_numbers(work):
    """Negative counts in the state are null ("-", "?"), never a huge
    unsigned number; history samples out of range are skipped and counted."""
    path = os.path.join(work["dead"], ".spex", "state.json")
    with open(path) as f:
        doc = json.load(f)
    doc["executor"]["pid"] = -5
    doc["seq"] = -1
    doc["disk"]["allocated_bytes"] = -1
    usage = doc["tasks"][0]["cgroup"]["usage"]
    usage.update(mem_bytes=-5, mem_peak_bytes=-1, cpu_ms=-3, oom_kills=-2)
    doc["tasks"][0]["cgroup"]["limits"]["mem_limit_bytes"] = -1
    doc["tasks"][0]["cgroup"]["limits"]["mem_bytes"] = -1
    with open(path, "w") as f:
        json.dump(doc, f)
    with open(os.path.join(work["dead"], ".spex", "disk-history.jsonl"), "a") as f:
        f.write('\n{"at":"2026-11-18T07:00:00.000Z","bytes":1e400}\n'
                '{"at":"2026-11-18T07:00:01.000Z","bytes":18446744073709551616}\n')
    rc, out, err = spex("inspect", work["dead"])
    assert rc == 0, err
    assert "executor   spark-exec-dead, pid -, spex 0.1.0\n" in out, out
    assert ", seq -\n" in out and "  memory   ?, no limit\n" in out, out
    assert "TiB" not in out and "last report" not in out and "  oom " not in out, out
    rc, doc, err = spex_json("inspect", work["dead"])
    assert rc == 0, err
    validate(doc, "spex.inspect-1.schema.json")
    sb = doc["sandboxes"][0]
    assert sb["executor"]["pid"] is None and sb["state_seq"] is None
    assert sb["tasks"][0]["cgroup"]["usage"]["mem_bytes"] is None
    assert sb["history"]["skipped_lines"] == 3 and len(sb["history"]["samples"]) == 11


def test_inspect_live_human(work):
    rc, out, _ = spex("inspect", work["live"])
    assert rc == 0
    assert "liveness   live (running)" in out
    assert "processes" in out and "sleep 300" in out
    assert "\u2514\u2500 sleep 300" in out  # the tree
    rc, out, _ = spex("inspect", work["live"], env=cli_env(LC_ALL="C"))
    assert "`- sleep 300" in out and "\u2514" not in out  # ASCII without UTF-8


def test_inspect_sparkline_ascii_without_utf8(work):
    _, out, _ = spex("inspect", work["dead"], env=cli_env(LC_ALL="C"))
    spark = [line for line in out.splitlines() if line.startswith("  _")]
    assert spark and set(spark[0].strip()) <= set("_.:-=+*#"), out


def test_inspect_defaults_to_the_current_sandbox(work, tmp_path):
    rc, out, _ = spex("inspect", cwd=work["dead"])
    assert rc == 0 and out.startswith("sandbox    .\n")
    rc, out, err = spex("inspect", cwd=str(tmp_path))
    assert rc == 2 and out == "" and err.startswith("spex inspect: no SANDBOX given")


def test_inspect_several_sandboxes_are_separated(work):
    rc, out, _ = spex("inspect", work["dead"], work["nostate"])
    assert rc == 0
    assert out.count("\nsandbox    ") == 1 and "\n\nsandbox    " in out


# --- gc ---------------------------------------------------------------------------------

def test_gc_dry_run_golden(work):
    needs_4k(work)
    rc, out, err = spex("gc", "--older-than", "1hrs", "--log-tail", "1MiB", work["work"])
    assert rc == 0, err
    golden("gc-dry-run.txt", out, work, work["pid"])


def test_gc_dry_run_then_apply(work):
    before = fx.tree_snapshot(work["work"])
    outside = fx.tree_snapshot(work["outside"])
    out_run = fx.tree_snapshot(work["outside_run"])
    with open(os.path.join(work["dead"], "stdout"), "rb") as f:
        stdout_tail = f.read()[-MIB:]

    rc, plan, err = spex_json("gc", "--log-tail", "1MiB", work["work"])
    assert rc == 0, err
    validate(plan, "spex.gc-1.schema.json")
    assert fx.tree_snapshot(work["work"]) == before  # a dry run changes nothing
    by = {s["executor_id"]: s for s in plan["sandboxes"]}
    assert sorted(by) == ["spark-exec-dead", "spark-exec-live", "spark-exec-nostate",
                          "spark-exec-reused"]
    assert by["spark-exec-live"]["action"] == "skipped"
    assert by["spark-exec-live"]["skip_reason"] == "live"
    assert by["spark-exec-nostate"]["skip_reason"] == "liveness unknown"
    assert by["spark-exec-reused"]["action"] == "planned"  # pid reused: dead
    dead_items = {i["name"]: i for i in by["spark-exec-dead"]["items"]}
    assert sorted(dead_items) == sorted(["blockmgr-1", fx.DIST_DIR, fx.UUID_DIR, "stdout"])
    assert [i["kind"] for i in by["spark-exec-dead"]["items"]][-1] == "log"
    assert dead_items["blockmgr-1"]["bytes"] >= 5 * MIB
    assert plan["planned_bytes"] == sum(s["planned_bytes"] for s in plan["sandboxes"])

    rc, done, err = spex_json("gc", "--apply", "--log-tail", "1MiB", work["work"])
    assert rc == 0, err
    validate(done, "spex.gc-1.schema.json")
    dby = {s["executor_id"]: s for s in done["sandboxes"]}
    for name in ("spark-exec-dead", "spark-exec-reused"):
        assert dby[name]["action"] == "reclaimed"
        for want, got in zip(by[name]["items"], dby[name]["items"]):
            assert got["name"] == want["name"]
            if got["kind"] != "log":  # directories: freed exactly what was planned
                assert got["freed_bytes"] == want["bytes"], got
    assert done["freed_bytes"] >= plan["planned_bytes"] - 64 * 1024

    after = fx.tree_snapshot(work["work"])
    removed = sorted(k for k in before if k not in after)
    dead_rel = os.path.relpath(work["dead"], work["work"])
    reused_rel = os.path.relpath(work["reused"], work["work"])
    tops = sorted({k.split("/runs/")[0].split("/")[-1] + ":" + k.split("/runs/")[1].split("/")[1]
                   for k in removed})
    assert tops == sorted(["spark-exec-dead:" + fx.DIST_DIR, "spark-exec-dead:" + fx.UUID_DIR,
                           "spark-exec-dead:blockmgr-1", "spark-exec-reused:" + fx.UUID_DIR,
                           "spark-exec-reused:blockmgr-2"]), tops
    # everything else is as it was, but the trimmed stdout
    changed = [k for k in after if after[k] != before[k]]
    assert changed == [os.path.join(dead_rel, "stdout")], changed
    with open(os.path.join(work["dead"], "stdout"), "rb") as f:
        text = f.read()
    marker = text[:text.index(b"\n") + 1]
    assert marker.startswith(b"[spex gc: ") and marker.endswith(b" bytes dropped here]\n")
    dropped = int(marker.split()[2])
    assert dropped == before[os.path.join(dead_rel, "stdout")][1] - MIB
    assert text[len(marker):] == stdout_tail  # the tail, intact
    for keep in (".spex/state.json", ".spex/disk-history.jsonl", "stderr", "notes.txt",
                 "spark-3.5.1-bin-hadoop3.tgz", "blockmgr-link"):
        assert os.path.join(dead_rel, keep) in after, keep
    assert os.path.join(reused_rel, ".spex/state.json") in after
    # symlinks out of the work dir: removed as links at most, targets untouched
    assert fx.tree_snapshot(work["outside"]) == outside
    assert fx.tree_snapshot(work["outside_run"]) == out_run
    # live and unknown sandboxes untouched
    for name in ("live", "nostate"):
        rel = os.path.relpath(work[name], work["work"])
        assert {k: v for k, v in before.items() if k.startswith(rel + "/")} == \
            {k: v for k, v in after.items() if k.startswith(rel + "/")}

    # A second pass has nothing left but the trimmed log, which stays.
    rc, again, _ = spex_json("gc", "--log-tail", "1MiB", work["work"])
    assert rc == 0 and again["planned_bytes"] == 0


def test_gc_human_apply_reports_freed(work):
    rc, out, err = spex("gc", "--apply", "--older-than", "1hrs", "--log-tail", "1MiB",
                        work["work"])
    assert rc == 0, err
    assert "freed 12.0 MiB\n" in out and out.endswith("freed 12.0 MiB in 1 sandbox\n"), out
    assert os.path.isdir(os.path.join(work["reused"], "blockmgr-2"))  # too recent: kept


def test_gc_refuses_live_sandbox(work, live_proc):
    for args in ([], ["--older-than", "0secs"]):
        rc, doc, _ = spex_json("gc", "--apply", *args, work["work"])
        assert rc == 0
        live = [s for s in doc["sandboxes"] if s["executor_id"] == "spark-exec-live"][0]
        assert live["action"] == "skipped" and live["skip_reason"] == "live"
        assert os.path.isdir(os.path.join(work["live"], "blockmgr-9"))
    # Once the executor is gone, the sandbox is fair game.
    os.killpg(live_proc.pid, signal.SIGKILL)
    live_proc.wait()
    rc, doc, _ = spex_json("gc", "--apply", work["work"])
    live = [s for s in doc["sandboxes"] if s["executor_id"] == "spark-exec-live"][0]
    assert live["liveness_reason"] == "pid gone" and live["action"] == "reclaimed"
    assert not os.path.exists(os.path.join(work["live"], "blockmgr-9"))


def set_pid_ns(sandbox, value):
    path = os.path.join(sandbox, ".spex", "state.json")
    with open(path) as f:
        doc = json.load(f)
    doc["executor"]["pid_ns"] = value
    with open(path, "w") as f:
        json.dump(doc, f)


def test_liveness_in_another_pid_namespace(work):
    """A state recording another pid namespace than ours: its pid says
    nothing in our /proc, so liveness is unknown and gc keeps the sandbox;
    our own namespace or null changes nothing."""
    ours = os.stat("/proc/self/ns/pid").st_ino
    set_pid_ns(work["live"], ours)
    set_pid_ns(work["reused"], ours + 1)
    set_pid_ns(work["dead"], None)
    rc, doc, err = spex_json("ls", work["work"])
    assert rc == 0, err
    by = {s["executor_id"]: s for s in doc["sandboxes"]}
    assert (by["spark-exec-live"]["liveness"], by["spark-exec-live"]["liveness_reason"]) == \
        ("live", "running")
    assert (by["spark-exec-reused"]["liveness"], by["spark-exec-reused"]["liveness_reason"]) \
        == ("unknown", "other pid namespace")
    assert by["spark-exec-dead"]["liveness"] == "dead"
    before = fx.tree_snapshot(work["reused"])
    rc, doc, err = spex_json("gc", "--apply", work["work"])
    assert rc == 0, err
    by = {s["executor_id"]: s for s in doc["sandboxes"]}
    assert by["spark-exec-reused"]["action"] == "skipped"
    assert by["spark-exec-reused"]["skip_reason"] == "liveness unknown"
    assert by["spark-exec-dead"]["action"] == "reclaimed"
    assert fx.tree_snapshot(work["reused"]) == before
    rc, out, _ = spex("gc", work["work"])
    assert "  skipped, liveness unknown (other pid namespace)\n" in out, out
    rc, doc, _ = spex_json("inspect", work["reused"])
    assert doc["sandboxes"][0]["executor"]["pid_ns"] == ours + 1


def test_gc_skips_a_sandbox_a_process_works_in(work):
    p = subprocess.Popen(["sleep", "60"], cwd=work["dead"])
    try:
        rc, doc, _ = spex_json("gc", "--apply", work["work"])
        dead = [s for s in doc["sandboxes"] if s["executor_id"] == "spark-exec-dead"][0]
        assert dead["action"] == "skipped" and dead["skip_reason"] == "a process works in it"
        assert os.path.isdir(os.path.join(work["dead"], "blockmgr-1"))
    finally:
        p.kill()
        p.wait()


def test_gc_skips_a_sandbox_a_process_works_in_below_its_root(work):
    """A process whose cwd is a subdirectory of a dead sandbox (a task that
    outlived its executor, in its Spark temp dir) keeps the whole sandbox."""
    sub = os.path.join(work["dead"], fx.UUID_DIR, "userFiles-1")
    before = fx.tree_snapshot(work["dead"])
    p = subprocess.Popen(["sleep", "60"], cwd=sub)
    try:
        rc, out, err = spex("gc", "--apply", work["work"])
        assert rc == 0, err
        rel = os.path.relpath(work["dead"], work["work"])
        lines = out.splitlines()
        assert lines[lines.index(rel) + 1] == \
            "  skipped, dead but process %d (sleep) works in it" % p.pid, out
        assert fx.tree_snapshot(work["dead"]) == before
        rc, doc, _ = spex_json("gc", "--apply", work["work"])
        dead = [s for s in doc["sandboxes"] if s["executor_id"] == "spark-exec-dead"][0]
        assert dead["action"] == "skipped" and dead["skip_reason"] == "a process works in it"
        assert fx.tree_snapshot(work["dead"]) == before
    finally:
        p.kill()
        p.wait()
    # An open file below the sandbox counts too, from a process working elsewhere.
    with open(os.path.join(work["dead"], "blockmgr-1", "0c", "shuffle_0_1_0.data"), "rb") as f:
        p = subprocess.Popen(["sleep", "60"], cwd="/", stdin=f)
    try:
        rc, doc, _ = spex_json("gc", "--apply", work["work"])
        dead = [s for s in doc["sandboxes"] if s["executor_id"] == "spark-exec-dead"][0]
        assert dead["skip_reason"] == "a process works in it"
        assert fx.tree_snapshot(work["dead"]) == before
    finally:
        p.kill()
        p.wait()


def test_gc_never_crosses_a_mount(work):
    mnt = os.path.join(work["dead"], "blockmgr-1", "mnt")
    os.mkdir(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "spex-test", mnt],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        fx.write(os.path.join(mnt, "on-another-fs"), 4096)
        rc, doc, err = spex_json("gc", "--apply", work["work"])
        assert rc == 1 and "Invalid cross-device link" in err, err
        assert os.path.exists(os.path.join(mnt, "on-another-fs"))
        assert not os.path.exists(os.path.join(work["dead"], "blockmgr-1", "0c"))
    finally:
        subprocess.run(["umount", mnt], check=True)


def unshare_mount_ok():
    """Can we make a private mount namespace here (root, no seccomp veto)?"""
    try:
        return subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                              capture_output=True, timeout=T(10)).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False


def spex_with_binds(binds, *args):
    """Run the CLI in a private mount namespace after `mount --bind SRC DST`
    for each (SRC, DST) of binds; returns (rc, stdout, stderr). Skips the
    test when a bind mount is refused."""
    mounts = " && ".join("mount --bind %s %s" % (shlex.quote(s), shlex.quote(d))
                         for s, d in binds)
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                        "{ %s; } || exit 99; exec \"$@\"" % mounts, "sh", cli_bin()] + list(args),
                       env=cli_env(), capture_output=True, text=True, timeout=T(30))
    if p.returncode == 99:
        pytest.skip("mount --bind refused: %s" % p.stderr.strip())
    if harness.ASAN:
        assert "Sanitizer" not in p.stderr, p.stderr
    return p.returncode, p.stdout, p.stderr


def test_gc_never_leaves_the_work_dir_through_a_bind_mount(work, tmp_path):
    """A bind mount of a directory of the same file system (same st_dev) on a
    run directory, or on a level above the runs, is another mount: the run is
    listed but never reclaimed, the level above is not entered (said once)."""
    if not unshare_mount_ok():
        pytest.skip("unshare -m --propagation private is not permitted here")
    fws = os.path.join(work["work"], "slaves", "S0", "frameworks")
    run = os.path.join(fws, fx.FW, "executors", "spark-exec-bound", "runs", "run-bound")
    os.makedirs(run)
    # A whole executors/ level from elsewhere, holding a dead sandbox.
    elsewhere = os.path.join(str(tmp_path), "elsewhere")
    sb = os.path.join(elsewhere, "spark-exec-far", "runs", "run-far")
    fx.write(os.path.join(sb, "blockmgr-8", "shuffle_0_0_0.data"), 64 * 1024)
    fx.put_state(sb, fx.state(4244, 1, fx.boot_id(), "spark-exec-far", fx.NOW - 9000,
                              fx.NOW - 8000, exec_state="exited", exit_code=0))
    fw_b = os.path.join(fws, "FW-B", "executors")
    os.makedirs(fw_b)
    assert os.stat(work["outside_run"]).st_dev == os.stat(run).st_dev  # same file system
    out_run = fx.tree_snapshot(work["outside_run"])
    far = fx.tree_snapshot(elsewhere)
    binds = [(work["outside_run"], run), (elsewhere, fw_b)]

    rc, out, err = spex_with_binds(binds, "gc", "--apply", "--json", work["work"])
    assert rc == 1, err
    doc = json.loads(out)
    validate(doc, "spex.gc-1.schema.json")
    by = {s["executor_id"]: s for s in doc["sandboxes"]}
    assert "spark-exec-far" not in by  # below the mount: not entered
    bound = by["spark-exec-bound"]
    assert bound["action"] == "skipped" and bound["skip_reason"] == "on another file system"
    assert by["spark-exec-dead"]["action"] == "reclaimed"  # the rest goes on
    assert fx.tree_snapshot(work["outside_run"]) == out_run
    assert fx.tree_snapshot(elsewhere) == far
    lines = err.splitlines()
    assert lines.count("spex gc: %s/slaves/S0/frameworks/FW-B/executors: on another file "
                       "system or mount, not entered" % work["work"]) == 1, err
    assert [l for l in lines if "run-bound" in l] == [
        "spex gc: %s: Invalid cross-device link" % run], err

    rc, out, err = spex_with_binds(binds, "ls", "--json", work["work"])
    assert rc == 1
    doc = json.loads(out)
    by = {s["executor_id"]: s for s in doc["sandboxes"]}
    assert by["spark-exec-bound"]["other_file_system"] is True
    assert by["spark-exec-bound"]["allocated_bytes"] is None  # not scanned either
    assert "spark-exec-far" not in by and doc["errors"] == 1


# --- a sandbox of the real executor --------------------------------------------------------

def test_inspect_real_executor_sandbox(agent, sandbox, start_executor):
    """Needs the executor's state writer (docs/state.md)."""
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task(
        "t1", "echo hello; mkdir -p work; head -c 65536 /dev/zero > work/data.bin; "
              "mkdir -p blockmgr-x; head -c 65536 /dev/zero > blockmgr-x/rdd_0_0"))
    assert st.state == mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)
    env = cli_env(SPEX_NOW=None)
    rc, out, err = spex("inspect", sandbox, env=env)
    assert rc == 0, err
    assert "liveness   dead (exited with code 0)" in out, out
    assert "task       t1 TASK_FINISHED" in out, out
    rc, doc, err = spex_json("inspect", sandbox, env=env)
    assert rc == 0, err
    validate(doc, "spex.inspect-1.schema.json")
    sb = doc["sandboxes"][0]
    assert sb["state_file"] is True and sb["liveness"] == "dead"
    assert sb["liveness_reason"] == "exited"
    assert sb["executor"]["pid"] == ex.pid and sb["executor"]["exit_code"] == 0
    assert [t["state"] for t in sb["tasks"]] == ["TASK_FINISHED"]
    assert sb["disk"]["categories"]["other"] >= 65536
    assert sb["disk"]["categories"]["logs"] > 0
    # The executor removed the block manager at the task's end (SPEX_CLEANUP=spark).
    assert sb["disk"]["categories"]["blocks"] == 0
    assert not any(w["kind"] == "blockmgr_dead" for w in sb["warnings"])


def test_live_real_executor_is_inspected_live_and_never_collected(agent, tmp_path,
                                                                   start_executor):
    """A running executor in an agent layout: inspect sees it live with its
    task's processes; gc --apply leaves its block-manager data alone."""
    work = tmp_path / "work"
    sb = work / "slaves" / "S0" / "frameworks" / "F" / "executors" / "E" / "runs" / "R"
    sb.mkdir(parents=True)
    ex = start_executor(agent, str(sb))
    subscribe(agent, ex)
    agent.launch(waiting_task("w1"))
    agent.wait_for(lambda: any(u.state == mesos_pb2.TASK_RUNNING
                               for u in agent.statuses("w1")), T(15), "TASK_RUNNING")
    (sb / "blockmgr-1").mkdir()
    (sb / "blockmgr-1" / "rdd_0_0").write_bytes(b"\0" * 65536)

    def state_pid():
        try:
            with open(sb / ".spex" / "state.json") as f:
                tasks = json.load(f)["tasks"]
        except (OSError, ValueError):
            return None
        return tasks[0]["pid"] if tasks and tasks[0]["pid"] else None
    pid = wait_for(state_pid, T(10), "the task's pid in state.json")

    env = cli_env(SPEX_NOW=None)
    rc, doc, err = spex_json("inspect", str(sb), env=env)
    assert rc == 0, err
    validate(doc, "spex.inspect-1.schema.json")
    view = doc["sandboxes"][0]
    assert view["liveness"] == "live", view["liveness_reason"]
    assert pid in [p["pid"] for p in view["processes"]]
    rc, out, err = spex("gc", "--apply", str(work), env=env)
    assert rc == 0, err
    assert "live" in out, out
    assert (sb / "blockmgr-1" / "rdd_0_0").exists()

    (sb / "go").touch()
    st = agent.wait_terminal("w1", T(15))
    assert st.state == mesos_pb2.TASK_FINISHED
    assert_exits_zero(ex)
