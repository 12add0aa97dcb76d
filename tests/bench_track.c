/*
 * The incremental tracker (sandbox/track.h) on a big Spark-like tree with
 * ongoing churn: its CPU cost and how stale its totals get. Built and run by
 * tests/bench_track.sh, linked with the project's objects.
 *
 *	bench-track gen DIR FILES SIZE
 *		DIR/blockmgr-<uuid>/{00..3f}/shuffle_<s>_<m>_0.data, FILES files
 *		of SIZE bytes (two processes; DIR must not exist).
 *	bench-track run DIR SECONDS RATE
 *		Index DIR (time, RSS), then churn for SECONDS at RATE ops/s in
 *		4 block manager subdirectories while driving the tracker the
 *		way the executor does, and print the result line.
 *
 * The churn runs in a child process (its CPU is not the driver's). It
 * creates shuffle files the Spark way (a temp name, written, renamed to its
 * final name), appends to them and deletes them, 40/30/30, keeping at most
 * 3000 of its own files and at most 4 blocks each (no extent tree block can
 * appear at writeback, which no event would report). Every SECONDS/3 it
 * pauses, tells the driver when its last change happened, scans the tree
 * with scan_sandbox() (the truth), sends that, and holds still for HOLD
 * seconds. The driver keeps a history of its refreshes; the staleness of a
 * pause is the time from the last change to the first refresh whose totals
 * equal the truth (every category: bytes, apparent bytes, files; entries).
 * At the end the churn removes its files, so the cached tree stays as
 * generated.
 *
 * The driver, like executor/disk.c would with libevent: poll() on the
 * inotify descriptor; when readable, track_process() everything, then stop
 * watching it for TRACK_BATCH_MS (batching); track_refresh() every second
 * (again 10 ms later while it says TRACK_PENDING). CPU is getrusage() of the
 * driver over the churn segments only (not the initial index, not pauses).
 */
#include "scan.h"
#include "track.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BM        "blockmgr-6c1f0e1a-8b2d-4c3e-9f40-5a6b7c8d9e0f"
#define NDIRS     64
#define CHURN_DIR 4
#define CHURN_MAX 3000     /* churn files alive at most */
#define CHURN_ID  99999999 /* shuffle id of churn files: never generated */
#define HOLD_NS   (3 * NSEC_PER_SEC)
#define REFRESH   (1 * NSEC_PER_SEC)
#define BUDGET    20000

/* --- gen ---------------------------------------------------------------- */

static int
gen(const char *dir, long n, long size)
{
	char path[4096], *block = xcalloc(1, size > 0 ? (size_t)size : 1);
	int dirs[NDIRS];

	memset(block, 'x', size > 0 ? (size_t)size : 1);
	if (mkdir(dir, 0755) < 0) {
		perror(dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, BM);
	if (mkdir(path, 0755) < 0) {
		perror(path);
		return 1;
	}
	for (int d = 0; d < NDIRS; d++) {
		snprintf(path, sizeof(path), "%s/%s/%02x", dir, BM, d);
		if (mkdir(path, 0755) < 0 || (dirs[d] = open(path, O_RDONLY | O_DIRECTORY)) < 0) {
			perror(path);
			return 1;
		}
	}
	/* Two writers, each every other file. */
	pid_t pid = fork();
	int part = pid == 0 ? 1 : 0;
	for (long i = part; i < n; i += 2) {
		char name[64];
		snprintf(name, sizeof(name), "shuffle_%ld_%ld_0.data", i / 100, i);
		unsigned h = 0;
		for (const char *p = name; *p; p++)
			h = h * 31 + (unsigned char)*p;
		int fd =
		    openat(dirs[h % NDIRS], name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || (size > 0 && write(fd, block, (size_t)size) != (ssize_t)size)) {
			perror(name);
			if (pid == 0)
				_exit(1);
			return 1;
		}
		close(fd);
	}
	if (pid == 0)
		_exit(0);
	int status;
	waitpid(pid, &status, 0);
	free(block);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* --- churn (the child) ------------------------------------------------------ */

struct cfile {
	uint32_t seq;
	uint8_t dir, blocks;
};

static int out_fd; /* to the driver */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write_all(out_fd, buf, (size_t)n) < 0)
		_exit(2);
}

static void
cname(char *buf, size_t len, const struct cfile *f, const char *suffix)
{
	snprintf(buf, len, "shuffle_%d_%u_0.data%s", CHURN_ID, f->seq, suffix);
}

static void
truth(const char *root)
{
	struct scan_result r;
	struct spx_error err = {0};
	if (scan_sandbox(root, NULL, &r, &err) < 0) {
		fprintf(stderr, "bench-track: scan: %s\n", spx_error_msg(&err));
		_exit(2);
	}
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "T %" PRIu64, r.entries);
	for (int c = 0; c < CAT_COUNT; c++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %" PRIu64 " %" PRIu64 " %" PRIu64,
		              r.bytes[c], r.apparent[c], r.files[c]);
	say("%s %" PRIu64 "\n", buf, r.scan_ns);
}

static void
sleep_until(int64_t t)
{
	struct timespec ts = {.tv_sec = t / NSEC_PER_SEC, .tv_nsec = t % NSEC_PER_SEC};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void
churn(const char *root, int seconds, int rate, int go_fd)
{
	static char block[4096];
	char path[4096], name[128], tmp[128];
	int dfd[CHURN_DIR];
	struct cfile *files = xcalloc(CHURN_MAX, sizeof(*files));
	size_t live = 0;
	uint32_t seq = 0;
	uint64_t rng = 88172645463325252ULL;
	char c;

	prctl(PR_SET_NAME, "bench-churn");
	for (int d = 0; d < CHURN_DIR; d++) {
		snprintf(path, sizeof(path), "%s/%s/%02x", root, BM, d);
		if ((dfd[d] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			perror(path);
			_exit(2);
		}
	}
	if (read(go_fd, &c, 1) != 1)
		_exit(0);

	int segments = 3, tick_ops = rate / 100 > 0 ? rate / 100 : 1;
	int64_t seg_ns = (int64_t)seconds * NSEC_PER_SEC / segments;
	uint64_t ops = 0;
	for (int s = 0; s < segments; s++) {
		int64_t start = now_mono_ns(), tick = start;
		/* Pauses at varied phases of the driver's 1 s refresh period. */
		int64_t len = seg_ns + (int64_t)(s * 2 + 1) * 170 * NSEC_PER_MSEC;
		say("R %" PRId64 "\n", start);
		while (now_mono_ns() - start < len) {
			for (int k = 0; k < tick_ops; k++, ops++) {
				rng ^= rng << 13;
				rng ^= rng >> 7;
				rng ^= rng << 17;
				unsigned dice = (unsigned)(rng % 10);
				struct cfile *f;
				if (live == 0 || (dice < 4 && live < CHURN_MAX)) {
					/* A map output: temp file, written, renamed. */
					f = &files[live++];
					f->seq = seq++;
					f->dir = (uint8_t)(rng >> 20) % CHURN_DIR;
					f->blocks = 1;
					cname(tmp, sizeof(tmp), f, ".6c1f0e1a-tmp");
					cname(name, sizeof(name), f, "");
					int fd =
					    openat(dfd[f->dir], tmp,
					           O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
					if (fd < 0 ||
					    write(fd, block, sizeof(block)) != sizeof(block))
						_exit(2);
					close(fd);
					if (renameat(dfd[f->dir], tmp, dfd[f->dir], name) < 0)
						_exit(2);
				} else if (dice < 7) {
					f = &files[(rng >> 24) % live];
					if (f->blocks >= 4)
						continue;
					f->blocks++;
					cname(name, sizeof(name), f, "");
					int fd = openat(dfd[f->dir], name,
					                O_WRONLY | O_APPEND | O_CLOEXEC);
					if (fd < 0 ||
					    write(fd, block, sizeof(block)) != sizeof(block))
						_exit(2);
					close(fd);
				} else {
					size_t i = (rng >> 24) % live;
					cname(name, sizeof(name), &files[i], "");
					if (unlinkat(dfd[files[i].dir], name, 0) < 0)
						_exit(2);
					files[i] = files[--live];
				}
			}
			tick += NSEC_PER_SEC / 100;
			sleep_until(tick);
		}
		int64_t last = now_mono_ns();
		say("P %" PRId64 " %" PRIu64 "\n", last, ops);
		truth(root);
		sleep_until(last + HOLD_NS);
	}
	/* Leave the tree as generated. */
	for (size_t i = 0; i < live; i++) {
		cname(name, sizeof(name), &files[i], "");
		unlinkat(dfd[files[i].dir], name, 0);
	}
	say("E %" PRIu64 "\n", ops);
	_exit(0);
}

/* --- the driver ------------------------------------------------------------- */

struct snap {
	int64_t t;
	uint64_t entries, v[CAT_COUNT * 3];
};

static long
rss_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

static int64_t
cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NSEC_PER_SEC +
	       (int64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static int64_t
thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void
snap_of(struct snap *s, const struct scan_result *r, int64_t t)
{
	s->t = t;
	s->entries = r->entries;
	for (int c = 0; c < CAT_COUNT; c++) {
		s->v[c * 3] = r->bytes[c];
		s->v[c * 3 + 1] = r->apparent[c];
		s->v[c * 3 + 2] = r->files[c];
	}
}

static int
snap_eq(const struct snap *a, const struct snap *b)
{
	return a->entries == b->entries && memcmp(a->v, b->v, sizeof(a->v)) == 0;
}

static int
run(const char *root, int seconds, int rate)
{
	int to_child[2], from_child[2];
	if (pipe2(to_child, O_CLOEXEC) < 0 || pipe2(from_child, O_CLOEXEC) < 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		close(to_child[1]);
		close(from_child[0]);
		out_fd = from_child[1];
		churn(root, seconds, rate, to_child[0]);
	}
	close(to_child[0]);
	close(from_child[1]);

	/* Index. */
	struct spx_error err = {0};
	long rss0 = rss_kib();
	int64_t t0 = now_mono_ns();
	struct track *t = track_new(root, NULL, &err);
	int64_t t1 = now_mono_ns();
	if (!t) {
		fprintf(stderr, "bench-track: %s\n", spx_error_msg(&err));
		kill(pid, SIGKILL);
		return 1;
	}
	long rss1 = rss_kib();
	struct scan_result r;
	track_refresh(t, 0, &r);
	struct track_stats st0, st1;
	track_get_stats(t, &st0);
	uint64_t nfiles = 0;
	for (int c = 0; c < CAT_COUNT; c++)
		nfiles += r.files[c];
	double rss_mib = (double)(rss1 - rss0) / 1024;
	printf("bench-track: indexed %" PRIu64 " files, %" PRIu64 " dirs in %.2f s; RSS +%.1f MiB "
	       "(%.0f bytes/entry; index heap %.1f MiB, %.0f bytes/entry)\n",
	       nfiles, r.dirs, (double)(t1 - t0) / 1e9, rss_mib,
	       (double)(rss1 - rss0) * 1024 / (double)st0.entries, (double)st0.mem_bytes / 1048576,
	       (double)st0.mem_bytes / (double)st0.entries);

	/* Churn. */
	struct snap *hist = NULL, truth_snap;
	size_t nhist = 0, hcap = 0;
	int64_t pause_t = 0, seg_start = 0, seg_cpu = 0, cpu_total = 0, wall_total = 0;
	int waiting = 0, pauses = 0, failed = 0, done = 0;
	double stale_max = 0;
	uint64_t ops = 0, refreshes = 0, refresh_ns = 0, wakeups = 0;
	int64_t cpu_process = 0, cpu_refresh = 0, cpu_start = 0;
	char buf[4096];
	size_t blen = 0;
	int armed = 1;
	int64_t rearm = 0, next = now_mono_ns() + REFRESH;

	if (write(to_child[1], "g", 1) != 1)
		return 1;
	cpu_start = cpu_ns();
	while (!done) {
		int64_t now = now_mono_ns();
		if (!armed && now >= rearm)
			armed = 1;
		int64_t wake = next;
		if (!armed && rearm < wake)
			wake = rearm;
		struct pollfd p[2] = {{.fd = from_child[0], .events = POLLIN},
		                      {.fd = armed ? track_fd(t) : -1, .events = POLLIN}};
		int timeout = wake > now ? (int)((wake - now) / NSEC_PER_MSEC) + 1 : 0;
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			return 1;
		if (p[1].revents & POLLIN) {
			int64_t c0 = thread_cpu_ns();
			wakeups++;
			int np = track_process(t, 0, &err);
			cpu_process += thread_cpu_ns() - c0;
			if (np < 0) {
				fprintf(stderr, "bench-track: %s\n", spx_error_msg(&err));
				return 1;
			}
			armed = 0;
			rearm = now_mono_ns() + TRACK_BATCH_MS * NSEC_PER_MSEC;
		}
		if (now_mono_ns() >= next) {
			int64_t c0 = thread_cpu_ns();
			enum track_status s = track_refresh(t, BUDGET, &r);
			cpu_refresh += thread_cpu_ns() - c0;
			refreshes++;
			refresh_ns += r.scan_ns;
			int64_t tn = now_mono_ns();
			next = tn + (s == TRACK_PENDING ? 10 * NSEC_PER_MSEC : REFRESH);
			if (s == TRACK_NEEDS_RESCAN || s == TRACK_UNAVAILABLE)
				fprintf(stderr, "bench-track: status %s\n", track_status_name(s));
			if (nhist == hcap) {
				hcap = hcap ? hcap * 2 : 256;
				hist = xrealloc(hist, hcap * sizeof(*hist));
			}
			snap_of(&hist[nhist++], &r, tn);
			if (waiting && snap_eq(&hist[nhist - 1], &truth_snap)) {
				double s_ = (double)(tn - pause_t) / 1e9;
				stale_max = s_ > stale_max ? s_ : stale_max;
				printf(
				    "bench-track: pause %d: totals right %.2f s after the last change\n",
				    pauses, s_);
				waiting = 0;
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP)))
			continue;
		ssize_t n = read(from_child[0], buf + blen, sizeof(buf) - blen - 1);
		if (n <= 0) {
			fprintf(stderr, "bench-track: churn process ended early\n");
			return 1;
		}
		blen += (size_t)n;
		buf[blen] = '\0';
		char *nl;
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			if (buf[0] == 'R') {
				if (waiting) {
					printf(
					    "bench-track: pause %d: totals NOT right after %.1f s\n",
					    pauses, (double)HOLD_NS / 1e9);
					failed = 1;
					waiting = 0;
				}
				seg_start = now_mono_ns();
				seg_cpu = cpu_ns();
			} else if (buf[0] == 'P' || buf[0] == 'E') {
				if (buf[0] == 'P') {
					sscanf(buf, "P %" SCNd64 " %" SCNu64, &pause_t, &ops);
					pauses++;
					cpu_total += cpu_ns() - seg_cpu;
					wall_total += now_mono_ns() - seg_start;
				} else {
					sscanf(buf, "E %" SCNu64, &ops);
					done = 1;
				}
			} else if (buf[0] == 'T') {
				struct snap *s = &truth_snap;
				char *q = buf + 2;
				s->entries = strtoull(q, &q, 10);
				for (int i = 0; i < CAT_COUNT * 3; i++)
					s->v[i] = strtoull(q, &q, 10);
				waiting = 1;
				for (size_t i = 0; i < nhist; i++) {
					if (hist[i].t >= pause_t && snap_eq(&hist[i], s)) {
						double s_ = (double)(hist[i].t - pause_t) / 1e9;
						stale_max = s_ > stale_max ? s_ : stale_max;
						printf(
						    "bench-track: pause %d: totals right %.2f s after the "
						    "last change\n",
						    pauses, s_);
						waiting = 0;
						break;
					}
				}
			}
			size_t used = (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, blen - used + 1);
			blen -= used;
		}
	}
	int status;
	waitpid(pid, &status, 0);
	track_get_stats(t, &st1);
	double wall = (double)wall_total / 1e9;
	double cpu = wall > 0 ? 100.0 * (double)cpu_total / (double)wall_total : 0;
	printf("bench-track: churn %.1f s in %d segments, %" PRIu64 " ops; tracker read %" PRIu64
	       " events, made %" PRIu64 " stats, %" PRIu64
	       " refreshes (%.2f ms each), losses %" PRIu64 "\n",
	       wall, pauses, ops, st1.events - st0.events, st1.stats - st0.stats, refreshes,
	       refreshes ? (double)refresh_ns / (double)refreshes / 1e6 : 0.0,
	       st1.losses - st0.losses);
	int64_t cpu_all = cpu_ns() - cpu_start;
	printf("bench-track: driver CPU over the whole churn run (pauses too): %.0f ms: "
	       "track_process %.0f ms in %" PRIu64
	       " wakeups, track_refresh %.0f ms, loop %.0f ms\n",
	       (double)cpu_all / 1e6, (double)cpu_process / 1e6, wakeups, (double)cpu_refresh / 1e6,
	       (double)(cpu_all - cpu_process - cpu_refresh) / 1e6);
	printf("tracker: %" PRIu64
	       " files, index %.2f s, RSS %.0f MiB, churn %.0f ops/s, cpu %.2f %% "
	       "of a core (goal < 1 %%), staleness %s%.2f s (goal <= 2 s)\n",
	       nfiles, (double)(t1 - t0) / 1e9, rss_mib, wall > 0 ? (double)ops / wall : 0.0, cpu,
	       failed ? "> " : "", failed ? (double)HOLD_NS / 1e9 : stale_max);
	track_free(t);
	free(hist);
	return failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

/* Index only, and compare with a scan: for profiling the initial index. */
static int
index_only(const char *root)
{
	struct spx_error err = {0};
	struct scan_result r, sc;
	int64_t t0 = now_mono_ns();
	struct track *t = track_new(root, NULL, &err);
	int64_t t1 = now_mono_ns();
	if (!t) {
		fprintf(stderr, "bench-track: %s\n", spx_error_msg(&err));
		return 1;
	}
	track_refresh(t, 0, &r);
	if (scan_sandbox(root, NULL, &sc, &err) < 0)
		return 1;
	printf("index %.2f s, %" PRIu64 " entries, scan %.2f s, totals %s\n",
	       (double)(t1 - t0) / 1e9, r.entries, (double)sc.scan_ns / 1e9,
	       r.total_bytes == sc.total_bytes && r.entries == sc.entries ? "equal" : "DIFFER");
	track_free(t);
	return 0;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], atol(argv[3]), atol(argv[4]));
	if (argc == 5 && strcmp(argv[1], "run") == 0)
		return run(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 3 && strcmp(argv[1], "index") == 0)
		return index_only(argv[2]);
	fprintf(stderr,
	        "usage: bench-track gen DIR FILES SIZE | run DIR SECONDS RATE | index DIR\n");
	return 2;
}
