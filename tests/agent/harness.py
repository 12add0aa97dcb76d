"""Starting spex-executor the way a Mesos agent does, and watching processes.

Shared by tests/integration (through conftest.py), tests/demo.py and
tests/bench.py.
"""

import os
import re
import signal
import subprocess
import time

try:
    from . import protos
except ImportError:  # pragma: no cover
    import protos  # type: ignore

REPO = protos.REPO
DEFAULT_BIN = os.path.join(REPO, "build", "spex-executor")
MESOS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LOG_NAME = "spex-executor.log"

ASAN = os.environ.get("SPEX_ASAN") == "1"
ASAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=86",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

# SPEX_VALGRIND=1: every executor runs under memcheck (make valgrind); its
# log is <sandbox>/valgrind.log, and definitely-lost bytes or invalid
# accesses count as a sanitizer report (the test fails).
VALGRIND = os.environ.get("SPEX_VALGRIND") == "1"
VALGRIND_LOG_NAME = "valgrind.log"


def valgrind_argv(log_path):
    return ["valgrind", "--tool=memcheck", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--error-exitcode=99",
            "--trace-children=no", "--log-file=%s" % log_path]


# Generous timeouts: an ASan build, valgrind and a JVM are all slower.
TSCALE = float(os.environ.get("SPEX_TIMEOUT_SCALE")
               or (6.0 if VALGRIND else 1.5 if ASAN else 1.0))


def T(secs):
    """A timeout scaled for slow builds (ASan) or machines (SPEX_TIMEOUT_SCALE)."""
    return secs * TSCALE


def spex_bin():
    return os.environ.get("SPEX_BIN") or DEFAULT_BIN


def executor_env(agent, sandbox, checkpoint=False, overrides=None,
                 backoff_max="2secs", recovery_timeout="15mins", grace="5secs"):
    """The environment a Mesos agent gives a command executor: only what the
    agent provides (apache/mesos src/slave/slave.cpp executorEnvironment),
    nothing inherited from the test runner. overrides: dict; a value of None
    removes the variable."""
    env = {
        "MESOS_FRAMEWORK_ID": agent.framework_id,
        "MESOS_EXECUTOR_ID": agent.executor_id,
        "MESOS_SLAVE_ID": agent.agent_id,
        "MESOS_SLAVE_PID": agent.slave_pid,
        "MESOS_AGENT_ENDPOINT": agent.endpoint,
        "MESOS_DIRECTORY": sandbox,
        "MESOS_SANDBOX": sandbox,
        "MESOS_CHECKPOINT": "1" if checkpoint else "0",
        "MESOS_HTTP_COMMAND_EXECUTOR": "1",
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": grace,
        "LIBPROCESS_PORT": "0",
        "PATH": MESOS_PATH,
    }
    if checkpoint:
        env["MESOS_RECOVERY_TIMEOUT"] = recovery_timeout
        env["MESOS_SUBSCRIPTION_BACKOFF_MAX"] = backoff_max
    if getattr(agent, "token", None):
        env["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"] = agent.token
    if ASAN:
        env.update(ASAN_ENV)
    for k, v in (overrides or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


class ExecutorProcess:
    """A running spex-executor, in its own session and process group.

    preexec_fn runs in the child before exec (e.g. resource.setrlimit);
    valgrind_log: the executor runs under memcheck, logging there."""

    def __init__(self, argv, env, sandbox, log_path, preexec_fn=None, valgrind_log=None):
        self.argv = argv
        self.env = env
        self.sandbox = sandbox
        self.log_path = log_path
        self.valgrind_log = valgrind_log
        self._logf = open(log_path, "ab")
        self.started = time.monotonic()
        self.popen = subprocess.Popen(argv, env=env, cwd=sandbox, stdin=subprocess.DEVNULL,
                                      stdout=self._logf, stderr=subprocess.STDOUT,
                                      start_new_session=True, close_fds=True,
                                      preexec_fn=preexec_fn)
        self.pid = self.popen.pid
        self.exited_at = None

    def poll(self):
        rc = self.popen.poll()
        if rc is not None and self.exited_at is None:
            self.exited_at = time.monotonic()
        return rc

    def alive(self):
        return self.poll() is None

    @property
    def returncode(self):
        return self.poll()

    def wait(self, timeout):
        """Wait for exit; returns the exit code (negative: signal). Raises
        AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            rc = self.poll()
            if rc is not None:
                return rc
            if time.monotonic() > deadline:
                raise AssertionError("spex-executor (pid %d) still running after %.1fs"
                                     % (self.pid, timeout))
            time.sleep(0.02)

    def signal(self, sig):
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self):
        """SIGKILL the executor's process group (not its tasks' sessions)."""
        if self.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.poll()

    def close(self):
        self.kill()
        try:
            self._logf.close()
        except OSError:
            pass

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def sanitizer_report(self):
        text = self.log()
        if any(m in text for m in SANITIZER_MARKERS):
            return text
        vg = self.valgrind_problems()
        if vg:
            return "valgrind (%s): %s\n%s" % (self.valgrind_log, "; ".join(vg),
                                               self.valgrind_text())
        return None

    def valgrind_text(self):
        if not self.valgrind_log:
            return ""
        try:
            with open(self.valgrind_log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def valgrind_problems(self):
        """Problems in the valgrind log: definitely-lost bytes and invalid
        accesses, per process (task-init children are forks of the executor
        and run under memcheck too). [] when not under valgrind."""
        return valgrind_log_problems(self.valgrind_text())


def start_executor(agent, sandbox, env_overrides=None, args=(), checkpoint=False,
                   binary=None, log_path=None, preexec_fn=None, valgrind=None, **env_kw):
    """Spawn spex-executor as the agent would: clean environment, cwd =
    sandbox, output to <sandbox>/spex-executor.log (or log_path).

    valgrind: run under memcheck (default: SPEX_VALGRIND=1), logging to
    <sandbox>/valgrind.log, or to <log_path's dir>/valgrind.log when a
    log_path is given."""
    binary = binary or spex_bin()
    if not os.access(binary, os.X_OK):
        raise AssertionError("spex-executor binary not found or not executable: %s "
                             "(set SPEX_BIN or run make)" % binary)
    env = executor_env(agent, sandbox, checkpoint=checkpoint, overrides=env_overrides, **env_kw)
    log_path = log_path or os.path.join(sandbox, LOG_NAME)
    argv = [binary] + list(args)
    vg_log = None
    if VALGRIND if valgrind is None else valgrind:
        vg_log = os.path.join(os.path.dirname(log_path), VALGRIND_LOG_NAME)
        argv = valgrind_argv(vg_log) + argv
    return ExecutorProcess(argv, env, sandbox, log_path, preexec_fn=preexec_fn,
                           valgrind_log=vg_log)


_VG_LINE = re.compile(r"^==(\d+)== ?(.*)$")
# What fails a test: leaks definitely lost and invalid accesses.
_VG_INVALID = re.compile(r"^(Invalid (read|write|free)|Mismatched free|"
                         r"Source and destination overlap)")
# What is only reported (valgrind's exit code 99 still shows it).
_VG_WARN = re.compile(r"^(Conditional jump or move depends on uninitialised|"
                      r"Use of uninitialised value|Syscall param .* uninitialised)")


_VG_RECORD = re.compile(r"^([\d,]+) (?:\(([\d,]+) direct, [\d,]+ indirect\) )?bytes in "
                        r"([\d,]+) blocks are definitely lost in loss record")


def _vg_records(text):
    """Definitely-lost loss records: (pid, direct bytes, blocks, stack text)."""
    recs, cur = [], {}
    for line in text.splitlines():
        m = _VG_LINE.match(line)
        if not m:
            continue
        pid, msg = m.group(1), m.group(2).strip()
        r = _VG_RECORD.match(msg)
        if r:
            direct = int((r.group(2) or r.group(1)).replace(",", ""))
            cur[pid] = [pid, direct, int(r.group(3).replace(",", "")), ""]
            recs.append(cur[pid])
        elif pid in cur:
            if msg:
                cur[pid][3] += msg + "\n"
            else:
                del cur[pid]
    return recs


def _forked_from_another_thread(pid, first_pid, stack):
    """A block a task-init (a fork of the executor, pid != the log's first)
    inherited from the executor's worker thread: that thread does not exist
    in the child, so nothing there can free it; not a leak of the child."""
    return pid != first_pid and "thread_main (worker.c" in stack


def _vg_scan(text, pattern, leaks):
    out = []
    first_pid = None
    for line in text.splitlines():
        m = _VG_LINE.match(line)
        if not m:
            continue
        pid, msg = m.group(1), m.group(2).strip()
        first_pid = first_pid or pid
        if pattern.match(msg):
            out.append("pid %s: %s" % (pid, msg))
    if leaks:
        lost = {}
        for pid, direct, blocks, stack in _vg_records(text):
            if _forked_from_another_thread(pid, first_pid, stack):
                continue
            b, n = lost.get(pid, (0, 0))
            lost[pid] = (b + direct, n + blocks)
        for pid, (b, n) in sorted(lost.items()):
            if b:
                out.append("pid %s: definitely lost: %d bytes in %d blocks" % (pid, b, n))
    return out


def valgrind_log_problems(text):
    """Definitely-lost bytes and invalid reads/writes/frees in a memcheck
    log, as messages ("pid 123: definitely lost: 48 bytes in 1 blocks")."""
    return _vg_scan(text, _VG_INVALID, True)


def valgrind_log_warnings(text):
    """Uses of uninitialised values (including bytes passed to a syscall)."""
    return _vg_scan(text, _VG_WARN, False)


# --- processes --------------------------------------------------------------

def proc_state(pid):
    """The state letter of /proc/<pid>/stat, or None if there is no such
    process."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return None
    try:
        return data[data.rindex(b")") + 2:data.rindex(b")") + 3].decode()
    except ValueError:
        return None


def pid_alive(pid):
    """True if pid exists and is not a zombie."""
    st = proc_state(pid)
    return st is not None and st not in ("Z", "X")


def proc_ppid_pgid_sid(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    return int(rest[1]), int(rest[2]), int(rest[3])


def sandbox_processes(sandbox, exclude=()):
    """Live (non-zombie) processes whose cwd is inside sandbox or whose
    environment mentions it (MESOS_SANDBOX / MESOS_DIRECTORY)."""
    sandbox = os.path.realpath(sandbox)
    needle = sandbox.encode()
    me = os.getpid()
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid == me or pid in exclude:
            continue
        hit = False
        try:
            cwd = os.readlink("/proc/%d/cwd" % pid)
            if cwd == sandbox or cwd.startswith(sandbox + "/"):
                hit = True
        except OSError:
            pass
        if not hit:
            try:
                with open("/proc/%d/environ" % pid, "rb") as f:
                    env = f.read()
                for var in (b"MESOS_SANDBOX=", b"MESOS_DIRECTORY="):
                    if var + needle + b"\0" in env:
                        hit = True
            except OSError:
                pass
        if hit and pid_alive(pid):
            out.append(pid)
    return out


def kill_sandbox_processes(sandbox, exclude=()):
    pids = sandbox_processes(sandbox, exclude)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return pids


def wait_pids_gone(pids, timeout):
    """Wait until none of pids is alive; returns the ones still alive."""
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in pids if pid_alive(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def proc_children_map():
    """{ppid: [pid, ...]} of every process, zombies included."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        t = proc_ppid_pgid_sid(int(name))
        if t:
            out.setdefault(t[0], []).append(int(name))
    return out


def descendants(pid):
    """Every descendant of pid (zombies included), by parent links now."""
    kids = proc_children_map()
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), ()):
            out.append(c)
            todo.append(c)
    return out


def zombies(pids):
    """The pids of the list that are zombies now."""
    return [p for p in pids if proc_state(p) == "Z"]


def wait_pids_vanished(pids, timeout):
    """Wait until none of pids exists at all (not even as a zombie);
    returns [(pid, state)] of those still there."""
    deadline = time.monotonic() + timeout
    while True:
        left = [(p, proc_state(p)) for p in pids]
        left = [(p, st) for p, st in left if st is not None]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def wait_file(path, timeout):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError("%s did not appear within %.1fs" % (path, timeout))
        time.sleep(0.02)
    return path


def vm_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None
