"""Log capping: the task's stdout/stderr keep their head and their tail."""

import os
import re

from agent.fake_agent import command_task, spark_task_info
from helpers import T, assert_exits_zero, run_to_terminal, spark_env, subscribe

MIB = 1024 * 1024
MARKER = re.compile(rb"\n\[spex: +(\d+) bytes dropped")


def test_jvm_printing_200mb_is_capped(agent, sandbox, start_executor, java_classes):
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_LOG_HEAD": "1M",
                                                       "SPEX_LOG_TAIL": "4M"})
    subscribe(agent, ex)
    task = spark_task_info(env=spark_env(sandbox, run_ms=0, FAKE_SPARK_PRINT_MB=200))
    st = run_to_terminal(agent, ex, task, T(120))
    assert st.state == 2, st.message
    data = open(os.path.join(sandbox, "stderr"), "rb").read()
    assert len(data) <= 1 * MIB + 4 * MIB + 2 * MIB, len(data)
    # The head: Spark's first lines, as written.
    assert b"Started daemon with process name" in data[:1 * MIB]
    m = MARKER.search(data)
    assert m, data[1 * MIB - 100:1 * MIB + 300]
    assert m.start() == 1 * MIB
    dropped = int(m.group(1))
    assert dropped > 190 * MIB
    # The tail: the last chatty line, everything just before it contiguous,
    # and what the JVM logged after it (its shutdown hook).
    last = data.rfind(b"LAST LINE ")
    assert last > m.end()
    assert b"ShutdownHookManager" in data[last:]
    tail = data[m.end():last].split(b"\n", 1)[1]  # skip a line the cut went through
    numbers = [int(l[:10]) for l in tail.split(b"\n") if l[:10].isdigit()]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert len(tail) >= 4 * MIB - 200
    assert_exits_zero(ex)


def test_small_output_untouched(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox)
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task(
        "small", "printf 'out %s\\n' 1 2 3; printf 'err %s\\n' a b >&2"))
    assert st.state == 2
    assert open(os.path.join(sandbox, "stdout")).read() == "out 1\nout 2\nout 3\n"
    assert open(os.path.join(sandbox, "stderr")).read() == "err a\nerr b\n"
    assert_exits_zero(ex)


def test_capping_off(agent, sandbox, start_executor):
    ex = start_executor(agent, sandbox, env_overrides={"SPEX_LOG_TAIL": "0"})
    subscribe(agent, ex)
    st = run_to_terminal(agent, ex, command_task("off", "head -c 3000000 /dev/zero"))
    assert st.state == 2
    assert os.path.getsize(os.path.join(sandbox, "stdout")) == 3000000
    assert_exits_zero(ex)
