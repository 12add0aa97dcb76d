// A small stand-in for Spark's CoarseGrainedExecutorBackend, for spex's
// integration tests. It is started through a fake Spark distribution's
// bin/spark-class (created by the tests), exactly as the Spark-on-Mesos
// TaskInfo command starts the real one, and behaves like it where it
// matters to an executor:
//
//  * parses --driver-url, --executor-id, --cores, --app-id, --hostname and
//    exits 1 with a usage message if one is missing;
//  * picks its local dir as Spark does on Mesos (SPARK_LOCAL_DIRS, else
//    MESOS_SANDBOX, else java.io.tmpdir), creates blockmgr-<uuid>/ with
//    two-hex-digit subdirs holding shuffle and rdd block files, and a
//    spark-<uuid>/userFiles-<uuid>/ temp dir;
//  * logs like Spark on stderr;
//  * a shutdown hook logs "Driver commanded a shutdown" and deletes the
//    spark-<uuid> temp dir (Spark's ShutdownHookManager); blockmgr-* is
//    left for the tests to inspect;
//  * exits 52 on OutOfMemoryError (SparkUncaughtExceptionHandler).
//
// Controlled by environment variables:
//   FAKE_SPARK_RUN_MS        how long to run (default 500)
//   FAKE_SPARK_EXIT          exit code (default 0)
//   FAKE_SPARK_ARGV_FILE     write pid, cwd, argv and the environment there,
//                            as NUL-terminated "key=value" entries (see below)
//   FAKE_SPARK_IGNORE_TERM=1 ignore SIGTERM (log and keep running)
//   FAKE_SPARK_OOM=1         allocate until OutOfMemoryError, then exit 52
//   FAKE_SPARK_PRINT_MB=N    print N MiB of numbered lines to stderr, then "LAST LINE <n>"
//   FAKE_SPARK_CHILD=1       start a grandchild that ignores SIGTERM;
//   FAKE_SPARK_CHILD_PIDFILE its pid is written there
//
// FAKE_SPARK_ARGV_FILE format: a sequence of entries, each terminated by a
// NUL byte, all UTF-8: "pid=<pid>", "cwd=<dir>", "localdir=<dir>",
// "blockmgr=<dir>", one "arg=<arg>" per argument (in order), one
// "env=<NAME>=<value>" per environment variable. The file is written to a
// temp name and renamed, so a reader never sees it half-written.

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;

public final class FakeSparkExecutor {
    private static final String[] REQUIRED = {
        "--driver-url", "--executor-id", "--cores", "--app-id", "--hostname"
    };

    private static volatile Path sparkTempDir;
    private static volatile boolean exiting;

    private FakeSparkExecutor() {}

    static synchronized void log(String level, String who, String msg) {
        String ts = new SimpleDateFormat("yy/MM/dd HH:mm:ss").format(new Date());
        System.err.println(ts + " " + level + " " + who + ": " + msg);
        System.err.flush();
    }

    static void usageAndExit(String why) {
        System.err.println("Error: " + why);
        System.err.println(
            "Usage: CoarseGrainedExecutorBackend [options]\n\n"
            + " Options are:\n"
            + "   --driver-url <driverUrl>\n"
            + "   --executor-id <executorId>\n"
            + "   --bind-address <bindAddress>\n"
            + "   --hostname <hostname>\n"
            + "   --cores <cores>\n"
            + "   --resourcesFile <fileWithJSONResourceInformation>\n"
            + "   --app-id <appid>\n"
            + "   --worker-url <workerUrl>\n"
            + "   --resourceProfileId <id>\n"
            + "   --user-class-path <url>\n");
        System.exit(1);
    }

    static Map<String, String> parseArgs(String[] args) {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--")) {
                if (i + 1 >= args.length) {
                    usageAndExit("Missing value for " + a);
                }
                opts.put(a, args[++i]);
            } else {
                usageAndExit("Unrecognized options: " + a);
            }
        }
        for (String r : REQUIRED) {
            if (!opts.containsKey(r)) {
                usageAndExit("Missing required option " + r);
            }
        }
        return opts;
    }

    static String localRoot() {
        String dirs = System.getenv("SPARK_LOCAL_DIRS");
        if (dirs != null && !dirs.isEmpty()) {
            return dirs.split(",")[0];
        }
        String sandbox = System.getenv("MESOS_SANDBOX");
        if (sandbox != null && !sandbox.isEmpty()) {
            return sandbox;
        }
        return System.getProperty("java.io.tmpdir");
    }

    static void deleteRecursively(Path p) {
        if (p == null || !Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        } catch (IOException e) {
            log("WARN", "ShutdownHookManager", "Exception while deleting " + p + ": " + e);
        }
    }

    static void writeEntries(Path target, List<String> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String e : entries) {
            out.write(e.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.write(tmp, out.toByteArray());
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static void writeText(Path target, String text) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.write(tmp, text.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static long envLong(String name, long dflt) {
        String v = System.getenv(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        return Long.parseLong(v.trim());
    }

    static void ignoreTerm() {
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"),
            s -> log("INFO", "CoarseGrainedExecutorBackend", "ignoring SIGTERM"));
    }

    public static void main(String[] args) throws Exception {
        long pid = ProcessHandle.current().pid();
        String host = ManagementFactory.getRuntimeMXBean().getName();
        log("INFO", "CoarseGrainedExecutorBackend",
            "Started daemon with process name: " + (host.contains("@") ? host : pid + "@localhost"));
        log("INFO", "SignalUtils", "Registering signal handler for TERM");

        Map<String, String> opts = parseArgs(args);

        if ("1".equals(System.getenv("FAKE_SPARK_IGNORE_TERM"))) {
            ignoreTerm();
        }

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!exiting) {
                log("ERROR", "CoarseGrainedExecutorBackend", "RECEIVED SIGNAL TERM");
            }
            log("INFO", "CoarseGrainedExecutorBackend", "Driver commanded a shutdown");
            log("INFO", "MemoryStore", "MemoryStore cleared");
            log("INFO", "BlockManager", "BlockManager stopped");
            log("INFO", "ShutdownHookManager", "Shutdown hook called");
            Path t = sparkTempDir;
            if (t != null) {
                log("INFO", "ShutdownHookManager", "Deleting directory " + t);
                deleteRecursively(t);
            }
        }, "shutdown-hook"));

        log("INFO", "CoarseGrainedExecutorBackend",
            "Connecting to driver: " + opts.get("--driver-url"));
        log("INFO", "Executor", "Starting executor ID " + opts.get("--executor-id")
            + " on host " + opts.get("--hostname"));

        // Local dirs, like Utils.getConfiguredLocalDirs + DiskBlockManager.
        String root = localRoot();
        Path rootDir = Paths.get(root);
        Files.createDirectories(rootDir);
        Path temp = rootDir.resolve("spark-" + UUID.randomUUID());
        Files.createDirectories(temp);
        sparkTempDir = temp;
        Path userFiles = temp.resolve("userFiles-" + UUID.randomUUID());
        Files.createDirectories(userFiles);
        Path blockmgr = rootDir.resolve("blockmgr-" + UUID.randomUUID());
        Files.createDirectories(blockmgr);
        log("INFO", "DiskBlockManager", "Created local directory at " + blockmgr);
        int cores = Integer.parseInt(opts.get("--cores"));
        for (int map = 0; map < Math.max(2, cores * 2); map++) {
            String[] names = {
                "shuffle_0_" + map + "_0.data", "shuffle_0_" + map + "_0.index", "rdd_0_" + map
            };
            for (String name : names) {
                int hash = name.hashCode() & Integer.MAX_VALUE;
                Path sub = blockmgr.resolve(String.format("%02x", hash % 64));
                Files.createDirectories(sub);
                Files.write(sub.resolve(name), ("block " + name + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        log("INFO", "MemoryStore", "MemoryStore started with capacity 2004.6 MiB");

        long childPid = -1;
        if ("1".equals(System.getenv("FAKE_SPARK_CHILD"))) {
            ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c",
                "trap '' TERM; while :; do sleep 1; done");
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.redirectError(ProcessBuilder.Redirect.INHERIT);
            Process child = pb.start();
            childPid = child.pid();
            log("INFO", "FakeSparkExecutor", "started grandchild " + childPid);
            String pf = System.getenv("FAKE_SPARK_CHILD_PIDFILE");
            if (pf != null && !pf.isEmpty()) {
                writeText(Paths.get(pf), childPid + "\n");
            }
        }

        String argvFile = System.getenv("FAKE_SPARK_ARGV_FILE");
        if (argvFile != null && !argvFile.isEmpty()) {
            List<String> entries = new ArrayList<>();
            entries.add("pid=" + pid);
            entries.add("cwd=" + Paths.get("").toAbsolutePath());
            entries.add("localdir=" + root);
            entries.add("blockmgr=" + blockmgr);
            if (childPid > 0) {
                entries.add("childpid=" + childPid);
            }
            for (String a : args) {
                entries.add("arg=" + a);
            }
            for (Map.Entry<String, String> e : new TreeMap<>(System.getenv()).entrySet()) {
                entries.add("env=" + e.getKey() + "=" + e.getValue());
            }
            writeEntries(Paths.get(argvFile), entries);
        }

        log("INFO", "CoarseGrainedExecutorBackend", "Successfully registered with driver");

        if ("1".equals(System.getenv("FAKE_SPARK_OOM"))) {
            List<long[]> hog = new ArrayList<>();
            try {
                while (true) {
                    hog.add(new long[1 << 20]);
                }
            } catch (OutOfMemoryError oom) {
                hog = null;
                System.err.println("java.lang.OutOfMemoryError: Java heap space");
                log("ERROR", "SparkUncaughtExceptionHandler",
                    "Uncaught exception in thread Thread[Executor task launch worker for task 0.0,5,main]");
                exiting = true;
                System.exit(52);
            }
        }

        long printMb = envLong("FAKE_SPARK_PRINT_MB", 0);
        if (printMb > 0) {
            // A chatty executor: numbered log lines to stderr, then a last line.
            java.io.PrintStream err = new java.io.PrintStream(
                new java.io.BufferedOutputStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), 1 << 16), false);
            long target = printMb * 1024 * 1024, written = 0, n = 0;
            while (written < target) {
                String line = String.format("%010d INFO Executor: chatty log line for the capping test%n", n++);
                err.print(line);
                written += line.length();
            }
            err.println("LAST LINE " + n);
            err.flush();
        }

        long runMs = envLong("FAKE_SPARK_RUN_MS", 500);
        long deadline = System.currentTimeMillis() + runMs;
        while (true) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                break;
            }
            Thread.sleep(Math.min(left, 200));
        }
        int code = (int) envLong("FAKE_SPARK_EXIT", 0);
        log("INFO", "CoarseGrainedExecutorBackend", "Exiting with code " + code);
        exiting = true;
        System.exit(code);
    }
}
