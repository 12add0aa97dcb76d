"""A fake Spark distribution around tests/java/FakeSparkExecutor.java.

``make_fake_spark(sandbox)`` creates ``<sandbox>/spark-3.5.1-bin-hadoop3``
with a ``bin/spark-class`` shell script, as if the Mesos fetcher had
downloaded and extracted spark-3.5.1-bin-hadoop3.tgz, so that the command of
the Spark fixture TaskInfo (``cd spark-3*; ... ./bin/spark-class
org.apache.spark.executor.CoarseGrainedExecutorBackend ...``) runs unchanged.
"""

import os
import shutil
import subprocess
import threading

try:
    from . import protos
except ImportError:  # pragma: no cover
    import protos  # type: ignore

REPO = protos.REPO
JAVA_SRC = os.path.join(REPO, "tests", "java", "FakeSparkExecutor.java")
JAVA_OUT = os.environ.get("SPEX_JAVA_DIR") or os.path.join(REPO, "build", "java")
SPARK_DIST = "spark-3.5.1-bin-hadoop3"

_lock = threading.Lock()


def compile_java(out_dir=JAVA_OUT):
    """javac FakeSparkExecutor.java into out_dir (skipped when up to date)."""
    with _lock:
        cls = os.path.join(out_dir, "FakeSparkExecutor.class")
        if os.path.exists(cls) and os.path.getmtime(cls) >= os.path.getmtime(JAVA_SRC):
            return out_dir
        os.makedirs(out_dir, exist_ok=True)
        javac = shutil.which("javac") or "/usr/lib/jvm/java-17-openjdk-amd64/bin/javac"
        tmp = out_dir + ".tmp.%d" % os.getpid()
        os.makedirs(tmp, exist_ok=True)
        try:
            # --release 17 so that the class also runs on the JAVA_HOME that
            # the Spark fixture sets (/usr/lib/jvm/java-17-openjdk-amd64).
            r = subprocess.run([javac, "--release", "17", "-nowarn", "-d", tmp, JAVA_SRC],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("javac failed:\n" + r.stdout + r.stderr)
            for name in os.listdir(tmp):
                os.replace(os.path.join(tmp, name), os.path.join(out_dir, name))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return out_dir


SPARK_CLASS = r"""#!/bin/sh
# Fake bin/spark-class for spex tests: runs FakeSparkExecutor instead of
# org.apache.spark.executor.CoarseGrainedExecutorBackend.
# Like the real launcher, the heap comes from SPARK_EXECUTOR_MEMORY;
# FAKE_SPARK_JAVA_OPTS (word-split) goes last, so it can override it.
shift
if [ -n "$JAVA_HOME" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  RUNNER="$JAVA_HOME/bin/java"
else
  RUNNER=java
fi
XMX=
if [ -n "$SPARK_EXECUTOR_MEMORY" ]; then
  XMX="-Xmx$SPARK_EXECUTOR_MEMORY"
fi
exec "$RUNNER" -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto $XMX \
  $FAKE_SPARK_JAVA_OPTS -cp '@CLASSES@' FakeSparkExecutor "$@"
"""


def make_fake_spark(sandbox, classes_dir=None):
    """Create <sandbox>/spark-3.5.1-bin-hadoop3/bin/spark-class; returns its
    Spark home."""
    classes_dir = classes_dir or compile_java()
    home = os.path.join(sandbox, SPARK_DIST)
    os.makedirs(os.path.join(home, "bin"), exist_ok=True)
    path = os.path.join(home, "bin", "spark-class")
    with open(path, "w") as f:
        f.write(SPARK_CLASS.replace("@CLASSES@", classes_dir.replace("'", "'\\''")))
    os.chmod(path, 0o755)
    # What else the fetcher would have put there.
    with open(os.path.join(home, "RELEASE"), "w") as f:
        f.write("Spark 3.5.1 (fake, for spex tests) built for Hadoop 3.3.4\n")
    with open(os.path.join(sandbox, "log4j2-executor.properties"), "w") as f:
        f.write("rootLogger.level = info\n")
    return home


def read_argv_file(path):
    """Parse a FAKE_SPARK_ARGV_FILE: returns dict with pid, cwd, localdir,
    blockmgr, childpid (ints where numeric), args (list) and env (dict)."""
    with open(path, "rb") as f:
        data = f.read()
    out = {"args": [], "env": {}}
    for entry in data.split(b"\0"):
        if not entry:
            continue
        text = entry.decode("utf-8", "surrogateescape")
        key, _, val = text.partition("=")
        if key == "arg":
            out["args"].append(val)
        elif key == "env":
            k, _, v = val.partition("=")
            out["env"][k] = v
        elif key in ("pid", "childpid"):
            out[key] = int(val)
        else:
            out[key] = val
    return out
