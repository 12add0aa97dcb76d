#!/usr/bin/python3
"""Soak: spex-executor against a fake agent that restarts and misbehaves.

    SPEX_BIN=build/spex-executor SOAK_RESTARTS=200 SOAK_SEED=1 /usr/bin/python3 tests/soak.py

(``make soak``). One executor, checkpointing on (MESOS_CHECKPOINT=1,
MESOS_SUBSCRIPTION_BACKOFF_MAX=2secs, MESOS_RECOVERY_TIMEOUT=60mins), runs
a rolling set of tasks (short shell tasks finishing or failing on their own,
longer ones, tasks killed by the framework, a task ignoring SIGTERM, and a
"keeper" that lives until the end so that the executor does not exit early)
while the fake agent (tests/agent/fake_agent.py) restarts SOAK_RESTARTS times
and injects faults in between. A restart is the real agent's: every
connection closed, nothing listening for a random 0-SOAK_DOWNTIME_MAX seconds
(default 3), then 503 to every call for a moment (containerizer recovery),
then SUBSCRIBE accepted while UPDATEs still get 503 (until re-registration
is over). Between restarts: duplicate ACKs, ACKs for unknown uuids, late
ACKs (held back, released after the next resubscribe), an ERROR event, a
HEARTBEAT storm, connection resets in the middle of UPDATE calls, a
truncated record, a record over the 16 MiB cap, a closed stream; and for
whole subscriptions: a stream dribbling one byte per chunk, records split
inside their RecordIO headers, SUBSCRIBED held back.

The agent records every update it ever receives; the executor's own log
(``event=status``, ``event=acknowledged``, ``event=subscribe`` lines) says
what it created, what ACKs it took and when it subscribed. At the end, per
task:

* lost: every update the executor created reached the agent;
* duplicated-terminal: at most one terminal uuid per task (the same uuid
  re-sent before its ACK is fine);
* nothing after the terminal update, and the order of first arrivals is
  the order of creation;
* every accepted SUBSCRIBE carried exactly the updates the executor still
  held (created and not acknowledged when it built the SUBSCRIBE), in order,
  and exactly the tasks none of whose updates was acknowledged; and every
  update the agent had received but not acknowledged is in it;
* no update stuck: whenever the stream has been open for 1.5 s and UPDATEs
  have been accepted for 1.2 s (checked before every restart that follows
  a long enough uptime, and at quiet checkpoints: every SOAK_QUIET_EVERY
  restarts the agent stays up without faults for a few seconds), every
  update created more than 1.2 s before has reached the agent;
* the terminal state is the expected one (exit 0: FINISHED, else FAILED,
  killed: KILLED); no rejected call other than 503; the executor exits 0
  after the last ACK; no process is left in the sandbox.

Resubscribe latency is the time from the agent listening again to the first
SUBSCRIBE arriving. Exactly one summary line goes to stdout:

    restarts N, updates M, lost 0, duplicated-terminal 0, resubscribe p50/p99 X/Y ms

details and violations go to stderr; the exit status is non-zero on any
loss or violation. Other knobs (environment): SOAK_DOWNTIME_MAX (seconds),
SOAK_LIVE (tasks kept running, default 6), SOAK_QUIET_EVERY (default 20),
SOAK_KEEP=1 (keep the work directory), SOAK_VERBOSE=1.
"""

import calendar
import math
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid as uuidlib

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from agent import fake_agent, harness  # noqa: E402
from agent.fake_agent import TERMINAL_STATES, command_task, mesos_pb2, state_name  # noqa: E402

FINISHED = mesos_pb2.TASK_FINISHED
FAILED = mesos_pb2.TASK_FAILED
KILLED = mesos_pb2.TASK_KILLED


class Config:
    def __init__(self, restarts=200, seed=1, downtime_max=3.0, uptime=(0.05, 0.5),
                 live=6, quiet_every=20, binary=None, workdir=None, keep=False,
                 verbose=False, fault_rate=1.0, log=None, env_overrides=None):
        self.restarts = restarts
        self.seed = seed
        self.downtime_max = downtime_max
        self.uptime = uptime
        self.live = live
        self.quiet_every = quiet_every
        self.binary = binary or harness.spex_bin()
        self.workdir = workdir
        self.keep = keep
        self.verbose = verbose
        self.fault_rate = fault_rate  # scales how many faults per cycle
        self.log = log or (lambda msg: sys.stderr.write(msg + "\n"))
        self.env_overrides = env_overrides or {}


class Result:
    def __init__(self):
        self.restarts = 0
        self.updates = 0
        self.lost = []
        self.duplicated_terminal = []
        self.violations = []  # (kind, text)
        self.latencies_ms = []
        self.tasks = 0
        self.dropped_launches = 0
        self.faults = {}
        self.exit_code = None
        self.duration = 0.0
        self.subscribes = 0
        self.workdir = None

    @property
    def ok(self):
        return not self.lost and not self.duplicated_terminal and not self.violations

    def percentile(self, q):
        if not self.latencies_ms:
            return float("nan")
        xs = sorted(self.latencies_ms)
        k = max(0, min(len(xs) - 1, math.ceil(q / 100.0 * len(xs)) - 1))  # nearest rank
        return xs[k]

    def summary(self):
        return "restarts %d, updates %d, lost %d, duplicated-terminal %d, resubscribe p50/p99 %.0f/%.0f ms" % (
            self.restarts, self.updates, len(self.lost), len(self.duplicated_terminal),
            self.percentile(50), self.percentile(99))

    def violation(self, kind, text):
        self.violations.append((kind, text))


# --- the executor's log ---------------------------------------------------------

_LOG_LINE = re.compile(r"^ts=(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z level=\w+ event=(\w+) (.*)$")
_KV = re.compile(r'(\w[\w.]*)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_log(text):
    """[(wall seconds, event, {key: value})] of the executor's log lines."""
    out = []
    for line in text.splitlines():
        m = _LOG_LINE.match(line)
        if not m:
            continue
        y, mo, d, h, mi, s, ms = (int(x) for x in m.groups()[:7])
        wall = calendar.timegm((y, mo, d, h, mi, s)) + ms / 1000.0
        kv = {}
        for k, v in _KV.findall(m.group(9)):
            if v.startswith('"'):
                v = v[1:-1]
            kv[k] = v
        out.append((wall, m.group(8), kv))
    return out


def uuid_str(b):
    try:
        return str(uuidlib.UUID(bytes=bytes(b)))
    except ValueError:
        return b.hex()


# --- the workload -----------------------------------------------------------------

class TaskPlan:
    def __init__(self, tid, kind, info, expect, kill_at=None):
        self.tid = tid
        self.kind = kind
        self.info = info
        self.expect = expect  # expected terminal state (number)
        self.kill_at = kill_at  # monotonic time to start killing, or None
        self.last_kill = 0.0
        self.launched = time.monotonic()


class Workload:
    """Launches a rolling set of tasks and kills some of them."""

    def __init__(self, agent, rng, cfg):
        self.agent = agent
        self.rng = rng
        self.cfg = cfg
        self.plans = {}
        self.n = 0
        self.stop_launching = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="soak-workload", daemon=True)
        self.lock = threading.RLock()
        self._seen = 0
        self._terminal = set()

    def _new_task(self):
        self.n += 1
        r = self.rng.random()
        tid = "s%04d" % self.n
        if r < 0.35:
            code = self.rng.choice((0, 0, 0, 1, 3))
            cmd = "sleep %.2f; exit %d" % (self.rng.uniform(0, 0.3), code)
            return TaskPlan(tid, "quick", command_task(tid, cmd), FINISHED if code == 0 else FAILED)
        if r < 0.5:
            code = self.rng.choice((0, 0, 2))
            cmd = "sleep %.2f; exit %d" % (self.rng.uniform(0.5, 4.0), code)
            return TaskPlan(tid, "medium", command_task(tid, cmd), FINISHED if code == 0 else FAILED)
        if r < 0.6:
            cmd = "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done; echo err >&2; true"
            return TaskPlan(tid, "chatty", command_task(tid, cmd), FINISHED)
        if r < 0.65:
            return TaskPlan(tid, "instant-fail", command_task(tid, "exit 7"), FAILED)
        if r < 0.9:
            return TaskPlan(tid, "killed", command_task(tid, "exec sleep 600"), KILLED,
                            kill_at=time.monotonic() + self.rng.uniform(0.3, 5.0))
        cmd = "trap '' TERM; while :; do sleep 0.1; done"
        return TaskPlan(tid, "killed-term-ignoring", command_task(tid, cmd, kill_grace_secs=0.3),
                        KILLED, kill_at=time.monotonic() + self.rng.uniform(0.3, 4.0))

    def launch_keeper(self):
        ti = command_task("keeper", "while [ ! -e keeper.stop ]; do sleep 0.1; done")
        p = TaskPlan("keeper", "keeper", ti, FINISHED)
        with self.lock:
            self.plans["keeper"] = p
        self.agent.launch(ti)

    def _refresh(self):
        """Scan the agent's new update records for terminal states."""
        a = self.agent
        with a._cond:
            new = a.update_records[self._seen:]
            self._seen = len(a.update_records)
        for u in new:
            if u.state in TERMINAL_STATES:
                self._terminal.add(u.task_id)

    def terminal(self, tid):
        with self.lock:
            self._refresh()
            return tid in self._terminal

    def live(self):
        with self.lock:
            self._refresh()
            return [p for p in self.plans.values() if p.tid not in self._terminal
                    and p.tid not in self.agent.dropped_tasks]

    def _kills(self, force=False):
        now = time.monotonic()
        for p in self.live():
            if p.kill_at is None or (not force and now < p.kill_at):
                continue
            if now - p.last_kill < 2.0:
                continue
            if self.agent.kill(p.tid) is not None:
                p.last_kill = now

    def _run(self):
        next_launch = time.monotonic()
        while not self.stop.is_set():
            now = time.monotonic()
            if not self.stop_launching.is_set() and now >= next_launch:
                if len(self.live()) < self.cfg.live + 1:  # + the keeper
                    p = self._new_task()
                    with self.lock:
                        self.plans[p.tid] = p
                    self.agent.launch(p.info)
                next_launch = now + self.rng.uniform(0.1, 0.6)
            self._kills(force=self.stop_launching.is_set())
            self.stop.wait(0.05)


# --- the soak ---------------------------------------------------------------------

FAULTS = ("dup_acks", "ack_unknown", "late_acks", "error_event", "heartbeat_storm",
          "update_reset", "truncated_record", "oversize_record", "close_stream")
STREAM_SHAPES = ("plain", "plain", "dribble", "split", "split", "coalesce", "subscribed_delay")


class Soak:
    def __init__(self, cfg):
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.res = Result()
        self.quiet_checks = 0
        self._log_off = 0
        self._created_list = []
        self._stuck_seen = set()

    def _log(self, msg):
        if self.cfg.verbose:
            self.cfg.log("soak: %.3f %s" % (time.monotonic(), msg))

    def _count(self, name):
        self.res.faults[name] = self.res.faults.get(name, 0) + 1

    # -- the agent's stream shape for the next subscription
    def _shape(self, name):
        a = self.agent
        a.dribble_delay = None
        a.splitter = None
        a.coalesce_initial = False
        a.subscribed_delay = 0.0
        if name == "dribble":
            a.dribble_delay = 0.0002
        elif name == "split":
            a.splitter = fake_agent.record_splitter(random.Random(self.rng.random()))
        elif name == "coalesce":
            a.coalesce_initial = True
            a.splitter = fake_agent.record_splitter(random.Random(self.rng.random()))
        elif name == "subscribed_delay":
            a.subscribed_delay = self.rng.uniform(0.05, 0.4)
        if name != "plain":
            self._count("stream_" + name)

    def _wait_subscribe_after(self, t0, timeout):
        """The first accepted SUBSCRIBE after t0, or None."""
        try:
            return self.agent.wait_for(
                lambda: next((s for s in self.agent.subscriptions
                              if s.time >= t0 and s.subscribed_at is not None), None),
                timeout, "SUBSCRIBE")
        except AssertionError:
            return None

    def _inject(self, fault):
        a = self.agent
        self._count(fault)
        self._log("fault " + fault)
        if fault == "dup_acks":
            a.dup_ack_prob = 0.5
        elif fault == "ack_unknown":
            with self.wl.lock:
                tids = list(self.wl.plans)
            for _ in range(self.rng.randint(1, 3)):
                a.ack_unknown(self.rng.choice(tids + [None]))
        elif fault == "late_acks":
            a.hold_acks = True
        elif fault == "error_event":
            a.error("soak: injected ERROR event")
        elif fault == "heartbeat_storm":
            a.heartbeat_storm(self.rng.randint(200, 3000), coalesce=self.rng.random() < 0.5)
        elif fault == "update_reset":
            a.update_fault_prob = 0.4
        elif fault == "truncated_record":
            a.send_truncated_record(graceful=self.rng.random() < 0.5)
        elif fault == "oversize_record":
            a.send_oversize_header(16 * 1024 * 1024 + self.rng.randint(1, 1000))
        elif fault == "close_stream":
            a.close_stream(graceful=self.rng.random() < 0.5)

    def _clear_faults(self):
        a = self.agent
        a.dup_ack_prob = 0.0
        a.update_fault_prob = 0.0
        if a.hold_acks:
            a.hold_acks = False
            a.release_held_acks()

    def _quiet_check(self, settle=2.5):
        """No faults for a while; then every update created more than 2 s
        ago must have reached the agent."""
        a = self.agent
        self._clear_faults()
        self._shape("plain")
        a.wait_for(lambda: not a.calls_recovering and not a.recovering, 10, "recovery")
        # the executor may be between streams after the last fault
        t0 = time.monotonic()
        while not a.subscribed and time.monotonic() - t0 < harness.T(10):
            time.sleep(0.05)
        time.sleep(settle)
        self.quiet_checks += 1
        deadline = time.monotonic() + harness.T(10)
        while not self._stuck_check("quiet checkpoint %d" % self.quiet_checks):
            if time.monotonic() > deadline:
                self.res.violation("quiet", "quiet checkpoint %d: the executor has not been "
                                   "subscribed for 1.5 s within %.0f s after the agent "
                                   "recovered" % (self.quiet_checks, harness.T(10) + settle))
                break
            time.sleep(0.1)

    def _created(self):
        """(wall, task, state, uuid) of every update in the executor's log so
        far (read incrementally)."""
        try:
            with open(self.ex.log_path, "rb") as f:
                f.seek(self._log_off)
                data = f.read()
        except OSError:
            data = b""
        cut = data.rfind(b"\n") + 1
        self._log_off += cut
        for wall, ev, kv in parse_log(data[:cut].decode("utf-8", "replace")):
            if ev == "status":
                self._created_list.append((wall, kv.get("task"), kv.get("state"), kv.get("uuid")))
        return list(self._created_list)

    def _stuck_check(self, what):
        """When the current stream has been open for 1.5 s and UPDATEs have
        been accepted for 1.2 s, every update created more than 1.2 s ago
        must have reached the agent (the pump retries every 0.5 s)."""
        a = self.agent
        now, now_wall = time.monotonic(), time.time()
        with a._cond:
            st = a._stream
            opened = st.sub.subscribed_at if st is not None and not st.closed.is_set() else None
            ok_since = a.calls_ok_since if not (a.recovering or a.calls_recovering) else None
        if opened is None or ok_since is None or now - opened < 1.5 or now - ok_since < 1.2:
            return False
        if a.update_fault_prob:
            return False  # resets cost the pump 0.5 s each: no deadline to check
        created = self._created()
        received = {uuid_str(u.uuid) for u in a.updates(include_duplicates=True)}
        self.res.faults["stuck_checks"] = self.res.faults.get("stuck_checks", 0) + 1
        for wall, tid, state, u in created:
            if wall < now_wall - 1.2 and u not in received and u not in self._stuck_seen:
                self._stuck_seen.add(u)
                self.res.violation("stuck", "update %s %s %s created %.1fs before %s has not "
                                   "reached the agent, which has been up and subscribed for "
                                   "%.1fs" % (tid, state, u, now_wall - wall, what, now - opened))
        return True

    def run(self):
        cfg = self.cfg
        t_start = time.monotonic()
        self.work = cfg.workdir or tempfile.mkdtemp(prefix="spex-soak-")
        self.res.workdir = self.work
        sandbox = os.path.join(self.work, "sandbox")
        os.makedirs(sandbox, exist_ok=True)
        self.agent = fake_agent.FakeAgent(checkpoint=True, drop_staging=True,
                                          rng=random.Random(self.rng.random()))
        a = self.agent
        env = {"SPEX_LOG_LEVEL": "info"}
        env.update(cfg.env_overrides)
        self.ex = harness.start_executor(a, sandbox, checkpoint=True, binary=cfg.binary,
                                         backoff_max="2secs", recovery_timeout="60mins",
                                         env_overrides=env,
                                         log_path=os.path.join(self.work, "spex-executor.log"))
        self.wl = Workload(a, random.Random(self.rng.random()), cfg)
        try:
            self._run_inner()
        finally:
            self.wl.stop.set()
            self.ex.close()
            harness.kill_sandbox_processes(sandbox)
            a.stop()
        rep = self.ex.sanitizer_report()
        if rep:
            self.res.violation("sanitizer", rep[-3000:])
        self.res.duration = time.monotonic() - t_start
        self._analyse(sandbox)
        if self.res.ok and not cfg.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        return self.res

    def _run_inner(self):
        cfg, a, res = self.cfg, self.agent, self.res
        if not a.wait_for(lambda: a.subscriptions, harness.T(15), "first SUBSCRIBE"):
            return
        a.wait_subscribed(1, harness.T(15))
        self.wl.launch_keeper()
        a.wait_update("keeper", "TASK_RUNNING", harness.T(15))
        self.wl.thread.start()
        time.sleep(0.5)

        for i in range(cfg.restarts):
            if not self.ex.alive():
                res.violation("executor", "spex-executor exited with %r during the soak "
                              "(restart %d)" % (self.ex.returncode, i))
                return
            # Up: faults on the current stream; now and then a longer uptime.
            uptime = self.rng.uniform(*cfg.uptime)
            if self.rng.random() < 0.15:
                uptime = self.rng.uniform(1.5, 2.5)
            n_faults = int(self.rng.random() * 3 * cfg.fault_rate + 0.5)
            faults = [self.rng.choice(FAULTS) for _ in range(n_faults)]
            t_end = time.monotonic() + uptime
            for f in faults:
                time.sleep(max(0.0, min(t_end - time.monotonic(), uptime / (n_faults + 1))))
                self._inject(f)
            time.sleep(max(0.0, t_end - time.monotonic()))

            self._stuck_check("restart %d" % (i + 1))
            # Restart: down for a random time, then recover like the real agent.
            down = self.rng.uniform(0, cfg.downtime_max)
            self._shape(self.rng.choice(STREAM_SHAPES))
            a.go_down()
            res.restarts += 1
            self._clear_faults_quiet()
            time.sleep(down)
            rec = self.rng.uniform(0, 0.4) if self.rng.random() < 0.4 else 0.0
            calls_rec = self.rng.uniform(0.1, 1.0)
            a.come_up(recovering_secs=rec, calls_recovering_secs=calls_rec)
            up = a.up_since
            self._log("restart %d: down %.2fs, recovering %.2f+%.2fs" % (i + 1, down, rec,
                                                                          calls_rec))
            if self.rng.random() < 0.1 and i + 1 < cfg.restarts:
                # Restart again before the executor is back (flapping agent).
                time.sleep(self.rng.uniform(0, 0.3))
                self._count("flap")
                continue
            sub = self._wait_subscribe_after(up, harness.T(20))
            if sub is None:
                res.violation("resubscribe", "no SUBSCRIBE within %.0fs after restart %d"
                              % (harness.T(20), i + 1))
                continue
            if a.hold_acks:
                a.hold_acks = False
                a.release_held_acks()  # late ACKs, after the resubscribe
            if cfg.quiet_every and (i + 1) % cfg.quiet_every == 0:
                self._quiet_check()

        # The end: stop launching, kill what must be killed, let the rest finish.
        self._clear_faults()
        self._shape("plain")
        self.wl.stop_launching.set()
        if self._wait_subscribe_after(0, 5) is None:
            res.violation("resubscribe", "no SUBSCRIBE at the end")
        deadline = time.monotonic() + harness.T(60)
        while time.monotonic() < deadline:
            live = [p for p in self.wl.live() if p.tid != "keeper"]
            if not live:
                break
            time.sleep(0.1)
        else:
            res.violation("tasks", "tasks still not terminal at the end: %r"
                          % [p.tid for p in self.wl.live()])
        self._quiet_check(settle=1.0)
        with open(os.path.join(self.ex.sandbox, "keeper.stop"), "w"):
            pass
        self.wl.stop.set()
        try:
            res.exit_code = self.ex.wait(harness.T(90))
        except AssertionError as e:
            res.violation("exit", str(e))

    def _clear_faults_quiet(self):
        a = self.agent
        a.dup_ack_prob = 0.0
        a.update_fault_prob = 0.0

    # -- the checks
    def _analyse(self, sandbox):
        res, a = self.res, self.agent
        log = parse_log(self.ex.log())
        created = []  # (index in log, wall, task, state, uuid)
        acked_at = {}  # uuid -> log index of ACK with known=1
        launched_at = {}  # task -> log index
        sub_lines = []  # (log index, wall, unacked count)
        for i, (wall, ev, kv) in enumerate(log):
            if ev == "status":
                created.append((i, wall, kv.get("task"), kv.get("state"), kv.get("uuid")))
            elif ev == "acknowledged" and kv.get("known") == "1":
                acked_at.setdefault(kv.get("uuid"), i)
            elif ev in ("launch", "launch_refused"):
                launched_at.setdefault(kv.get("task"), i)
            elif ev == "subscribe":
                sub_lines.append((i, wall, int(kv.get("unacked_updates", "-1"))))
        created_by_uuid = {c[4]: c for c in created}
        recs = a.updates(include_duplicates=True)
        first = {}  # uuid -> first Update record
        for u in recs:
            first.setdefault(uuid_str(u.uuid), u)
        res.updates = len(first)
        res.tasks = len(self.wl.plans)
        res.dropped_launches = len(a.dropped_tasks)
        res.subscribes = len(a.subscriptions)

        # lost / unknown
        for c in created:
            if c[4] not in first:
                res.lost.append(c)
                res.violation("lost", "update %s %s %s created but never reached the agent"
                              % (c[2], c[3], c[4]))
        for u, rec in first.items():
            if u not in created_by_uuid:
                res.violation("unknown", "agent received %s %s %s, not in the executor's log"
                              % (rec.task_id, rec.state_name, u))

        # per task: terminal, order, after-terminal, expected state
        by_task = {}
        for u, rec in first.items():
            by_task.setdefault(rec.task_id, []).append(rec)
        for tid, rlist in by_task.items():
            rlist.sort(key=lambda r: r.time)
            terms = [r for r in rlist if r.state in TERMINAL_STATES]
            if len(terms) > 1:
                res.duplicated_terminal.append(tid)
                res.violation("duplicated-terminal", "task %s: terminal uuids %r" % (
                    tid, [(r.state_name, uuid_str(r.uuid)) for r in terms]))
            if terms:
                k = rlist.index(terms[0])
                after = rlist[k + 1:]
                if after:
                    res.violation("after-terminal", "task %s: %r after %s" % (
                        tid, [r.state_name for r in after], terms[0].state_name))
            order = [uuid_str(r.uuid) for r in rlist]
            want = [c[4] for c in created if c[2] == tid and c[4] in first]
            if order != want:
                res.violation("order", "task %s: arrival order %r, creation order %r" % (
                    tid, [created_by_uuid.get(x, (0, 0, 0, "?"))[3] for x in order],
                    [created_by_uuid[x][3] for x in want]))
        for tid, p in self.wl.plans.items():
            if tid in a.dropped_tasks:
                if tid in launched_at:
                    res.violation("dropped", "task %s: the executor logged its launch, yet no "
                                  "update and no unacknowledged_tasks entry reached the agent "
                                  "before SUBSCRIBE #%d" % (tid, a.dropped_tasks[tid]))
                if by_task.get(tid):
                    res.violation("dropped", "task %s dropped at SUBSCRIBE but has updates %r"
                                  % (tid, [r.state_name for r in by_task[tid]]))
                continue
            terms = [r for r in by_task.get(tid, []) if r.state in TERMINAL_STATES]
            if not terms:
                res.violation("no-terminal", "task %s (%s): no terminal update; got %r" % (
                    tid, p.kind, [r.state_name for r in by_task.get(tid, [])]))
            elif terms[0].state != p.expect:
                res.violation("wrong-state", "task %s (%s): %s %r, expected %s" % (
                    tid, p.kind, terms[0].state_name, terms[0].status.message,
                    state_name(p.expect)))

        # SUBSCRIBE contents
        li = 0
        for sub in a.subscriptions:
            carried = [uuid_str(u.status.uuid) for u in sub.unacknowledged_updates]
            carried_tasks = sorted(t.task_id.value for t in sub.unacknowledged_tasks)
            # agent-side rule: received but never ACKed -> must be carried
            must = {uuid_str(u) for u in sub.received_before - sub.acked_before}
            missing = must - set(carried)
            if missing:
                res.violation("subscribe", "SUBSCRIBE #%d lacks updates the agent received but "
                              "never ACKed: %r" % (sub.epoch, sorted(missing)))
            # executor-side rule: exactly what it held when it built the SUBSCRIBE
            # the attempt the executor logged last before the request arrived
            arrived = sub.request.wall
            while li + 1 < len(sub_lines) and sub_lines[li + 1][1] <= arrived + 0.0005:
                li += 1
            if li >= len(sub_lines) or sub_lines[li][1] > arrived + 0.0005:
                res.violation("subscribe", "SUBSCRIBE #%d (arrived %.3f): no matching subscribe "
                              "line in the executor log (next one at %s)" % (
                                  sub.epoch, arrived,
                                  "%.3f" % sub_lines[li][1] if li < len(sub_lines) else "-"))
                continue
            idx = sub_lines[li][0]
            held = [c[4] for c in created if c[0] < idx
                    and not (c[4] in acked_at and acked_at[c[4]] < idx)]
            if carried != held:
                res.violation("subscribe", "SUBSCRIBE #%d carried %d updates %r, the executor "
                              "held %d %r" % (sub.epoch, len(carried), carried, len(held), held))
            acked_tasks = {created_by_uuid[u][2] for u, j in acked_at.items()
                           if j < idx and u in created_by_uuid}
            want_tasks = sorted(t for t, j in launched_at.items()
                                if j < idx and t not in acked_tasks)
            if carried_tasks != want_tasks:
                res.violation("subscribe", "SUBSCRIBE #%d carried tasks %r, expected %r" % (
                    sub.epoch, carried_tasks, want_tasks))
            li += 1

        # resubscribe latency: listening again -> first SUBSCRIBE request
        subs_req = [r for r in a.requests if r.call_type == "SUBSCRIBE"]
        for up, down in a.up_history[1:]:
            t = next((r.time for r in subs_req if r.time >= up and (down is None or r.time < down)),
                     None)
            if t is not None:
                res.latencies_ms.append((t - up) * 1000.0)

        # protocol errors, updates the agent would drop
        for r in a.protocol_errors():
            res.violation("rejected", repr(r))
        for u in a.update_problems():
            res.violation("agent-drop", "%r %s" % (u, "; ".join(u.notes)))

        if res.exit_code is not None and res.exit_code != 0:
            res.violation("exit", "spex-executor exited with %r" % res.exit_code)
        if not any(ev == "exit" and kv.get("code") == "0" for _, ev, kv in log):
            res.violation("exit", "no 'exit code=0' line in the executor log")
        left = harness.sandbox_processes(sandbox)
        if left:
            res.violation("processes", "processes left in the sandbox: %r" % left)
        res.faults["update_resets"] = len(a.update_resets)


def run(cfg):
    return Soak(cfg).run()


def main():
    env = os.environ
    cfg = Config(restarts=int(env.get("SOAK_RESTARTS") or 200),
                 seed=int(env.get("SOAK_SEED") or 1),
                 downtime_max=float(env.get("SOAK_DOWNTIME_MAX") or 3.0),
                 live=int(env.get("SOAK_LIVE") or 6),
                 quiet_every=int(env.get("SOAK_QUIET_EVERY") or 20),
                 keep=env.get("SOAK_KEEP") == "1",
                 verbose=env.get("SOAK_VERBOSE") == "1")
    sys.stderr.write("soak: seed %d, %d restarts, downtime 0-%.1fs, binary %s\n" % (
        cfg.seed, cfg.restarts, cfg.downtime_max, cfg.binary))
    res = run(cfg)
    sys.stderr.write("soak: %.0fs, %d tasks (%d launches dropped by the agent), %d SUBSCRIBEs, "
                     "executor exit %r\n" % (res.duration, res.tasks, res.dropped_launches,
                                             res.subscribes, res.exit_code))
    sys.stderr.write("soak: faults %s\n" % ", ".join("%s=%d" % kv for kv in sorted(res.faults.items())))
    for kind, text in res.violations[:50]:
        sys.stderr.write("soak: VIOLATION %s: %s\n" % (kind, text))
    if len(res.violations) > 50:
        sys.stderr.write("soak: ... %d more violations\n" % (len(res.violations) - 50))
    if not res.ok:
        sys.stderr.write("soak: work directory kept: %s\n" % res.workdir)
    print(res.summary())
    sys.stdout.flush()
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
