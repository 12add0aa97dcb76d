"""Fixtures for spex's integration tests against the fake Mesos agent.

Run: cd tests/integration && SPEX_BIN=<path> /usr/bin/python3 -m pytest -q -p no:cacheprovider .
With SPEX_ASAN=1 (an ASan+UBSan build), sanitizer options are set and any
sanitizer report in the executor's log fails the test.
"""

import os
import sys

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from agent import fake_agent, harness, spark  # noqa: E402

T = harness.T


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than 20 s; run with SPEX_SLOW=1")
    config.addinivalue_line("markers",
                            "allow_protocol_errors: the agent may record rejected calls")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SPEX_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow; set SPEX_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request):
    rep = getattr(request.node, "rep_call", None)
    return rep is None or rep.failed


@pytest.fixture(scope="session")
def java_classes():
    return spark.compile_java()


@pytest.fixture
def sandbox(tmp_path, java_classes):
    """A fresh sandbox with a fake Spark distribution in it (as if the Mesos
    fetcher had extracted spark-3.5.1-bin-hadoop3.tgz)."""
    d = tmp_path / "sandbox"
    d.mkdir()
    path = os.path.realpath(str(d))
    spark.make_fake_spark(path, java_classes)
    yield path
    harness.kill_sandbox_processes(path)


@pytest.fixture
def make_agent(request):
    """Factory for FakeAgents; all are stopped at teardown, and a test fails
    if the executor made a protocol error (a rejected call), sent an update
    the real agent would drop, or one breaking a rule the agent does not
    enforce (check_status exactly when TaskInfo.check is set)."""
    agents = []

    def make(**kw):
        a = fake_agent.FakeAgent(**kw)
        agents.append(a)
        return a

    yield make
    failed = _failed(request)
    problems = []
    for a in agents:
        a.stop()
        if failed:
            print("---- fake agent log (port %d) ----\n%s" % (a.port, a.dump()))
        if "allow_protocol_errors" not in request.keywords:
            errs = a.protocol_errors()
            if errs:
                problems.append("agent rejected calls: %r" % errs)
            bad = a.update_problems()
            if bad:
                problems.append("updates the real agent would drop: %r" %
                                [(u, u.notes) for u in bad])
            bad = a.conformance_problems()
            if bad:
                problems.append("updates breaking the protocol: %r" %
                                [(u, u.violations) for u in bad])
    if problems and not failed:
        pytest.fail("; ".join(problems))


@pytest.fixture
def agent(make_agent):
    """A FakeAgent with default settings (framework has TASK_KILLING_STATE)."""
    return make_agent()


@pytest.fixture
def start_executor(request):
    """start_executor(agent, sandbox, env_overrides=None, args=(), checkpoint=False)
    -> harness.ExecutorProcess. Always killed at teardown; its log is
    printed when the test failed; sanitizer reports fail the test."""
    procs = []

    def start(agent, sandbox, env_overrides=None, args=(), checkpoint=False, **kw):
        p = harness.start_executor(agent, sandbox, env_overrides=env_overrides, args=args,
                                   checkpoint=checkpoint, **kw)
        procs.append(p)
        return p

    yield start
    failed = _failed(request)
    reports = []
    for p in procs:
        p.close()
        harness.kill_sandbox_processes(p.sandbox)
        if failed:
            print("---- spex-executor log (pid %d, rc %r) ----\n%s" % (p.pid, p.returncode, p.log()))
        rep = p.sanitizer_report()
        if rep:
            reports.append(rep)
    if reports and not failed:
        pytest.fail("sanitizer report in executor log:\n" + "\n".join(reports))
