/*
 * Log capping: after every write the file is exactly what logcap.h defines
 * (prefix + input below the cap; prefix + head + marker + newest tail
 * above it), checked byte for byte against an independent model.
 */
#include "harness.h"
#include "logcap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The format as logcap.h documents it (deliberately not taken from logcap.c). */
#define MARKER_FMT "\n[spex: %020llu bytes dropped here; SPEX_LOG_HEAD=%llu SPEX_LOG_TAIL=%llu]\n"

/* Byte i of the input stream: a hash of i, so that a misplaced block shows. */
static unsigned char
in_byte(uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	return (unsigned char)x;
}

static size_t
marker(char *buf, size_t size, uint64_t dropped, uint64_t head, uint64_t tail)
{
	return (size_t)snprintf(buf, size, MARKER_FMT, (unsigned long long)dropped,
	                        (unsigned long long)head, (unsigned long long)tail);
}

/*
 * The model: w holds the bytes that reached the file (the input minus lost
 * writes), k the tail kept, by the rule in logcap.h.
 */
struct model {
	uint64_t head, tail, slack, ml, cap;
	uint64_t total; /* input, lost writes included */
	unsigned char *w;
	uint64_t wlen, wcap;
	uint64_t k;
	bool capped;
};

static uint64_t
sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void
model_init(struct model *m, uint64_t head, uint64_t tail)
{
	char buf[200];
	memset(m, 0, sizeof(*m));
	m->head = head;
	m->tail = tail;
	/* slack = max(T / 4, min(T, 64 KiB)) */
	m->slack = tail < 65536 ? tail : 65536;
	if (tail / 4 > m->slack)
		m->slack = tail / 4;
	m->ml = marker(buf, sizeof(buf), 0, head, tail);
	m->cap = sat(sat(head, m->ml), tail);
}

static void
model_write(struct model *m, const unsigned char *p, uint64_t len)
{
	if (m->wlen + len > m->wcap) {
		m->wcap = (m->wlen + len) * 2;
		m->w = realloc(m->w, m->wcap);
	}
	memcpy(m->w + m->wlen, p, len);
	m->wlen += len;
	m->total += len;
	if (!m->capped) {
		if (m->wlen <= m->cap)
			return;
		m->capped = true;
		m->k = m->wlen - m->head - m->ml;
	} else {
		m->k += len;
	}
	if (m->k > m->tail + m->slack)
		m->k = m->tail;
}

static uint64_t
model_dropped(const struct model *m)
{
	return m->capped ? m->total - m->head - m->k : m->total - m->wlen;
}

/* The file's expected bytes after the prefix. */
static unsigned char *
model_expect(const struct model *m, size_t *n)
{
	if (!m->capped) {
		*n = m->wlen;
		unsigned char *e = malloc(m->wlen + 1);
		memcpy(e, m->w, m->wlen);
		return e;
	}
	*n = m->head + m->ml + m->k;
	unsigned char *e = malloc(*n + 1);
	char mk[200];
	memcpy(e, m->w, m->head);
	marker(mk, sizeof(mk), model_dropped(m), m->head, m->tail);
	memcpy(e + m->head, mk, m->ml);
	memcpy(e + m->head + m->ml, m->w + m->wlen - m->k, m->k);
	return e;
}

/* One file under test. */
struct run {
	int fd;
	char path[64];
	struct logcap *lc;
	struct model m;
	unsigned char prefix[256];
	size_t nprefix;
	uint64_t next; /* next input byte */
	unsigned char *buf;
	size_t bufsize;
};

static void
run_create(struct run *r, const char *prefix)
{
	memset(r, 0, sizeof(*r));
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(r->path, sizeof(r->path), "%s/spex-logcap-XXXXXX", dir);
	r->fd = mkstemp(r->path);
	if (r->fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	if (prefix) {
		r->nprefix = strlen(prefix);
		memcpy(r->prefix, prefix, r->nprefix);
		if (write(r->fd, prefix, r->nprefix) != (ssize_t)r->nprefix)
			exit(2);
	}
}

#define KEEP_FD (-1)

/* Take over r->fd (KEEP_FD) or a fresh descriptor of the file opened with
 * flags. */
static void
run_start(struct run *r, uint64_t head, uint64_t tail, int flags)
{
	if (flags != KEEP_FD) {
		int fd = open(r->path, flags);
		close(r->fd);
		r->fd = fd;
	}
	model_init(&r->m, head, tail);
	r->lc = logcap_new(r->fd, head, tail);
}

static void
run_open(struct run *r, uint64_t head, uint64_t tail, const char *prefix)
{
	run_create(r, prefix);
	run_start(r, head, tail, KEEP_FD);
}

static void
run_close(struct run *r)
{
	logcap_free(r->lc);
	close(r->fd);
	unlink(r->path);
	free(r->m.w);
	free(r->buf);
}

/* Give the next len input bytes to logcap; the model follows the result
 * (a failed write is assumed lost entirely). Returns logcap_write's. */
static int
run_write(struct run *r, size_t len)
{
	if (len > r->bufsize) {
		r->bufsize = len;
		r->buf = realloc(r->buf, len ? len : 1);
	}
	for (size_t i = 0; i < len; i++)
		r->buf[i] = in_byte(r->next + i);
	r->next += len;
	int rc = logcap_write(r->lc, r->buf, len);
	if (rc == 0) {
		model_write(&r->m, r->buf, len);
	} else {
		r->m.total += len;
	}
	return rc;
}

/* The whole file, read through a descriptor of our own (r->fd may be
 * write-only). */
static unsigned char *
slurp(const struct run *r, size_t *n)
{
	struct stat st;
	int fd = open(r->path, O_RDONLY | O_CLOEXEC);
	unsigned char *b = NULL;
	*n = 0;
	if (fd >= 0 && fstat(fd, &st) == 0) {
		b = malloc((size_t)st.st_size + 1);
		ssize_t got = pread(fd, b, (size_t)st.st_size, 0);
		*n = got < 0 ? 0 : (size_t)got;
	}
	if (fd >= 0)
		close(fd);
	return b ? b : malloc(1);
}

/* The file and the counters against the model; reports the first mismatch. */
static bool
run_check(struct run *r)
{
	size_t n, en;
	unsigned char *got = slurp(r, &n);
	unsigned char *exp = model_expect(&r->m, &en);
	bool ok = true;

	if (n != r->nprefix + en) {
		HARNESS_FAIL("after %llu bytes: file %zu bytes, want %zu",
		             (unsigned long long)r->next, n, r->nprefix + en);
		ok = false;
	} else if (memcmp(got, r->prefix, r->nprefix) != 0) {
		HARNESS_FAIL("after %llu bytes: prefix changed", (unsigned long long)r->next);
		ok = false;
	} else if (memcmp(got + r->nprefix, exp, en) != 0) {
		size_t i = 0;
		while (got[r->nprefix + i] == exp[i])
			i++;
		HARNESS_FAIL("after %llu bytes: first difference at %zu of %zu (capped %d, k %llu)",
		             (unsigned long long)r->next, r->nprefix + i, n, r->m.capped,
		             (unsigned long long)r->m.k);
		ok = false;
	}
	if (ok && logcap_dropped(r->lc) != model_dropped(&r->m)) {
		HARNESS_FAIL("dropped %llu, want %llu", (unsigned long long)logcap_dropped(r->lc),
		             (unsigned long long)model_dropped(&r->m));
		ok = false;
	}
	if (ok && logcap_total(r->lc) != r->m.total) {
		HARNESS_FAIL("total %llu, want %llu", (unsigned long long)logcap_total(r->lc),
		             (unsigned long long)r->m.total);
		ok = false;
	}
	uint64_t bound = sat(sat(sat(r->m.head, r->m.ml), r->m.tail), r->m.slack);
	if (ok && n - r->nprefix > (bound > r->m.cap ? bound : r->m.cap)) {
		HARNESS_FAIL("file %zu bytes over the bound", n);
		ok = false;
	}
	free(got);
	free(exp);
	return ok;
}

/* Feed `total` bytes in writes of `step`, checking after each (or only at
 * the end). Returns false at the first failure. */
static bool
feed(struct run *r, uint64_t total, size_t step, bool check_each)
{
	for (uint64_t off = 0; off < total; off += step) {
		size_t n = (size_t)(total - off < step ? total - off : step);
		int rc = run_write(r, n);
		if (rc != 0) {
			HARNESS_FAIL("write of %zu at %llu: %s", n, (unsigned long long)r->next - n,
			             strerror(errno));
			return false;
		}
		if (check_each && !run_check(r))
			return false;
	}
	return check_each || run_check(r);
}

static bool
case_steps(uint64_t head, uint64_t tail, const char *prefix, uint64_t total, size_t step)
{
	struct run r;
	run_open(&r, head, tail, prefix);
	bool ok = feed(&r, total, step, true);
	if (!ok)
		printf("  (head %llu tail %llu prefix %zu total %llu step %zu)\n",
		       (unsigned long long)head, (unsigned long long)tail, r.nprefix,
		       (unsigned long long)total, step);
	run_close(&r);
	return ok;
}

TEST(marker_format)
{
	struct run r;
	char buf[256];
	const char *m87 = "\n[spex: 00000000000000000087 bytes dropped here; SPEX_LOG_HEAD=100 "
	                  "SPEX_LOG_TAIL=1000]\n";
	const char *m1088 = "\n[spex: 00000000000000001088 bytes dropped here; SPEX_LOG_HEAD=100 "
	                    "SPEX_LOG_TAIL=1000]\n";

	CHECK_EQ_INT(strlen(m87), 87);
	CHECK_EQ_INT(strlen("\n[spex: 00000000000123456789 bytes dropped here; "
	                    "SPEX_LOG_HEAD=4194304 SPEX_LOG_TAIL=33554432]\n"),
	             95);
	run_open(&r, 100, 1000, NULL);
	/* C = 100 + 87 + 1000: up to it the file is the input. */
	CHECK_EQ_INT(run_write(&r, 1187), 0);
	CHECK(run_check(&r));
	CHECK(!r.m.capped);
	CHECK_EQ_INT(logcap_dropped(r.lc), 0);
	/* One more byte: the marker stands on input [100, 187). */
	CHECK_EQ_INT(run_write(&r, 1), 0);
	CHECK(run_check(&r));
	CHECK_EQ_INT(pread(r.fd, buf, 87, 100), 87);
	CHECK_EQ_MEM(buf, m87, 87);
	CHECK_EQ_INT(logcap_dropped(r.lc), 87);
	CHECK_EQ_INT(lseek(r.fd, 0, SEEK_END), 1188);
	/* The tail region is 1001 bytes; 1000 more exceed tail + slack (2000):
	 * compacted to exactly 1000, 2188 - 100 - 1000 dropped. */
	CHECK_EQ_INT(run_write(&r, 1000), 0);
	CHECK(run_check(&r));
	CHECK_EQ_INT(pread(r.fd, buf, 87, 100), 87);
	CHECK_EQ_MEM(buf, m1088, 87);
	CHECK_EQ_INT(logcap_dropped(r.lc), 1088);
	CHECK_EQ_INT(logcap_total(r.lc), 2188);
	CHECK_EQ_INT(lseek(r.fd, 0, SEEK_END), 1187);
	run_close(&r);
}

TEST(below_the_cap_untouched)
{
	CHECK(case_steps(100, 1000, NULL, 0, 1));
	CHECK(case_steps(100, 1000, NULL, 500, 7));
	CHECK(case_steps(100, 1000, NULL, 1187, 1187)); /* exactly C */
	CHECK(case_steps(100, 1000, NULL, 1187, 1));
	CHECK(case_steps(0, 1, NULL, 84, 1));
	/* Sizes too large to reach (and to add up): never capped, never a marker. */
	const uint64_t huge[] = {UINT64_MAX / 2, UINT64_MAX};
	for (size_t i = 0; i < ARRAY_SIZE(huge); i++) {
		struct run r;
		run_open(&r, huge[i], huge[i], NULL);
		CHECK(feed(&r, 100000, 999, false));
		CHECK(!r.m.capped);
		CHECK_EQ_INT(logcap_dropped(r.lc), 0);
		run_close(&r);
	}
}

TEST(many_write_sizes)
{
	/* Around the marker (87), the tail (1000), C (1187), tail + slack (2000). */
	const size_t steps[] = {1,    2,    3,    5,    7,    13,   31,   64,   86,   87,   88,
	                        97,   100,  101,  127,  186,  187,  188,  999,  1000, 1001, 1186,
	                        1187, 1188, 1999, 2000, 2001, 2187, 2188, 4096, 65537};
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		uint64_t total = steps[i] < 4 ? 12000 : 40000;
		CHECK(case_steps(100, 1000, NULL, total, steps[i]));
		CHECK(case_steps(0, 500, NULL, total, steps[i]));
		CHECK(case_steps(1, 1, NULL, total / 4, steps[i]));
		CHECK(case_steps(7, 3, "old\n", total / 4, steps[i]));
		CHECK(case_steps(100, 1000, "an earlier line\n", total, steps[i]));
	}
}

TEST(huge_writes)
{
	struct run r;
	run_open(&r, 100, 1000, NULL);
	/* One write far larger than head + tail: only its last 1000 bytes go in. */
	CHECK_EQ_INT(run_write(&r, 3000000), 0);
	CHECK(run_check(&r));
	CHECK_EQ_INT(lseek(r.fd, 0, SEEK_END), 1187);
	CHECK_EQ_INT(run_write(&r, 1), 0);
	CHECK(run_check(&r));
	CHECK_EQ_INT(run_write(&r, 700), 0);
	CHECK(run_check(&r));
	CHECK_EQ_INT(run_write(&r, 5000), 0);
	CHECK(run_check(&r));
	CHECK_EQ_INT(run_write(&r, 999), 0); /* a move of 1 byte */
	CHECK(run_check(&r));
	CHECK_EQ_INT(run_write(&r, 1000001), 0);
	CHECK(run_check(&r));
	run_close(&r);
	/* A huge write while still short of the head. */
	run_open(&r, 100, 1000, NULL);
	CHECK_EQ_INT(run_write(&r, 40), 0);
	CHECK_EQ_INT(run_write(&r, 2000000), 0);
	CHECK(run_check(&r));
	run_close(&r);
}

/* The defaults, written like task-init writes (64 KiB reads): compactions of
 * 32 MiB in 1 MiB chunks. Also reports the slowest call. */
TEST(default_sizes)
{
	struct run r;
	const uint64_t head = 4 << 20, tail = 32 << 20;
	char buf[256];
	int64_t slowest = 0;

	run_open(&r, head, tail, NULL);
	uint64_t total = head + tail + 3 * (8 << 20) + 12345;
	for (uint64_t off = 0; off < total; off += 65536) {
		size_t n = (size_t)(total - off < 65536 ? total - off : 65536);
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		CHECK_EQ_INT(run_write(&r, n), 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		int64_t ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
		if (ns > slowest)
			slowest = ns;
	}
	CHECK(run_check(&r));
	CHECK(r.m.capped);
	CHECK_EQ_INT(r.m.ml, 95);
	CHECK_EQ_INT(pread(r.fd, buf, 8, (off_t)head), 8);
	CHECK_EQ_MEM(buf, "\n[spex: ", 8);
	printf("# default sizes: %llu bytes in, file %lld bytes, slowest call %.1f ms\n",
	       (unsigned long long)total, (long long)lseek(r.fd, 0, SEEK_END), slowest / 1e6);
	run_close(&r);
}

TEST(existing_content)
{
	struct run r;
	run_create(&r, "line from before\nanother one, no newline");
	lseek(r.fd, 3, SEEK_SET); /* positioned anywhere: output still goes after the end */
	run_start(&r, 50, 300, KEEP_FD);
	CHECK(feed(&r, 5000, 37, true));
	CHECK(r.m.capped);
	/* The marker sits at base + head. */
	char buf[16];
	CHECK_EQ_INT(pread(r.fd, buf, 8, (off_t)(r.nprefix + 50)), 8);
	CHECK_EQ_MEM(buf, "\n[spex: ", 8);
	/* The position is not ours to move. */
	CHECK_EQ_INT(lseek(r.fd, 0, SEEK_CUR), 3);
	run_close(&r);
}

TEST(write_only_fd)
{
	/* Compaction reads back through /proc/self/fd. */
	struct run r;
	run_create(&r, "x");
	run_start(&r, 10, 200, O_WRONLY);
	CHECK(feed(&r, 20000, 13, true));
	run_close(&r);
}

TEST(append_fd)
{
	/* pwrite ignores the offset on O_APPEND: logcap writes through its own. */
	struct run r;
	run_create(&r, "prefix\n");
	run_start(&r, 10, 200, O_WRONLY | O_APPEND);
	CHECK(feed(&r, 20000, 13, true));
	run_close(&r);
}

TEST(read_only_fd)
{
	struct run r;
	run_create(&r, "keep");
	run_start(&r, 10, 10, O_RDONLY);
	errno = 0;
	CHECK_EQ_INT(logcap_write(r.lc, "hello", 5), -1);
	CHECK_EQ_INT(errno, EBADF);
	CHECK_EQ_INT(logcap_write(r.lc, "hello, more than the cap", 24), -1);
	CHECK_EQ_INT(logcap_dropped(r.lc), 29);
	CHECK_EQ_INT(logcap_total(r.lc), 29);
	CHECK_EQ_INT(logcap_write(r.lc, NULL, 0), 0);
	CHECK_EQ_INT(lseek(r.fd, 0, SEEK_END), 4);
	run_close(&r);
	logcap_free(NULL);
}

TEST(not_a_regular_file)
{
	/* Written through, uncapped. */
	int p[2];
	char buf[16] = {0};
	CHECK_EQ_INT(pipe(p), 0);
	struct logcap *lc = logcap_new(p[1], 1, 1);
	CHECK_EQ_INT(logcap_write(lc, "hello", 5), 0);
	CHECK_EQ_INT(read(p[0], buf, sizeof(buf)), 5);
	CHECK_EQ_STR(buf, "hello");
	CHECK_EQ_INT(logcap_total(lc), 5);
	CHECK_EQ_INT(logcap_dropped(lc), 0);
	logcap_free(lc);
	close(p[0]);
	close(p[1]);

	int fd = open("/dev/null", O_RDONLY);
	lc = logcap_new(fd, 10, 10);
	CHECK_EQ_INT(logcap_write(lc, "hello", 5), -1);
	CHECK_EQ_INT(errno, EBADF);
	CHECK_EQ_INT(logcap_dropped(lc), 5);
	logcap_free(lc);
	close(fd);

	lc = logcap_new(-1, 10, 10);
	CHECK_EQ_INT(logcap_write(lc, "x", 1), -1);
	CHECK_EQ_INT(logcap_dropped(lc), 1);
	logcap_free(lc);
}

/* RLIMIT_FSIZE makes writes past the limit fail with EFBIG, like a full disk. */
static struct rlimit saved_fsize;

static void
limit_fsize(rlim_t n)
{
	struct rlimit rl;
	getrlimit(RLIMIT_FSIZE, &saved_fsize);
	rl.rlim_cur = n;
	rl.rlim_max = saved_fsize.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		perror("setrlimit");
}

static void
unlimit_fsize(void)
{
	setrlimit(RLIMIT_FSIZE, &saved_fsize);
}

TEST(full_below_the_cap)
{
	/* Uncapped: writes that do not fit are lost, nothing else. */
	struct run r;
	run_open(&r, 100, 1000, NULL);
	limit_fsize(600);
	int failed = 0;
	for (int i = 0; i < 100; i++) {
		errno = 0;
		int rc = run_write(&r, 37);
		if (rc < 0) {
			failed++;
			CHECK_EQ_INT(errno, EFBIG);
		}
		CHECK(run_check(&r)); /* no partial write left behind */
	}
	unlimit_fsize();
	CHECK_EQ_INT(failed, 84); /* 16 * 37 = 592 fit */
	CHECK_EQ_INT(logcap_dropped(r.lc), 84 * 37);
	/* Room again: the model is the same with the lost writes taken out. */
	CHECK(feed(&r, 6000, 37, true));
	CHECK(r.m.capped);
	run_close(&r);
}

/* The shape logcap.h promises when the compaction schedule is not the
 * model's (a full disk): head, marker with the count, the newest K bytes. */
static bool
check_shape(struct run *r, uint64_t limit)
{
	size_t n;
	unsigned char *got = slurp(r, &n);
	struct model *m = &r->m;
	char mk[256];
	bool ok = true;
	uint64_t k = n - m->head - m->ml;
	uint64_t dropped = logcap_dropped(r->lc);

	marker(mk, sizeof(mk), dropped, m->head, m->tail);
	if (n > limit || n < m->head + m->ml || m->wlen != m->total) {
		ok = false;
	} else if (memcmp(got, m->w, m->head) != 0 || memcmp(got + m->head, mk, m->ml) != 0 ||
	           dropped != m->total - m->head - k || k < m->tail || k > m->tail + m->slack ||
	           memcmp(got + m->head + m->ml, m->w + m->wlen - k, k) != 0) {
		ok = false;
	}
	if (!ok)
		HARNESS_FAIL("after %llu bytes: file %zu bytes, dropped %llu, k %llu",
		             (unsigned long long)r->next, n, (unsigned long long)dropped,
		             (unsigned long long)k);
	free(got);
	return ok;
}

TEST(full_disk_keeps_following)
{
	/* Capped and out of room: compacting early makes room, nothing is lost
	 * and the tail stays the newest output. */
	const rlim_t limits[] = {1188, 1200, 1500, 1900, 2186};
	const size_t steps[] = {1, 37, 200, 999, 1500};
	for (size_t li = 0; li < ARRAY_SIZE(limits); li++) {
		for (size_t si = 0; si < ARRAY_SIZE(steps); si++) {
			struct run r;
			run_open(&r, 100, 1000, NULL);
			CHECK(feed(&r, 1188, 1188, true));
			limit_fsize(limits[li]);
			bool ok = true;
			for (int i = 0; ok && i < 20000 / (int)steps[si] + 3; i++) {
				int rc = run_write(&r, steps[si]);
				ok = rc == 0 && check_shape(&r, limits[li]);
			}
			unlimit_fsize();
			if (!ok)
				printf("  (limit %llu step %zu)\n", (unsigned long long)limits[li],
				       steps[si]);
			CHECK(ok);
			run_close(&r);
		}
	}
}

TEST(marker_written_late)
{
	/* The write that crosses the cap cannot write the whole marker: its tail
	 * bytes are lost, the marker is completed later. */
	char mk[256], buf[1024];
	for (int variant = 0; variant < 2; variant++) {
		struct run r;
		run_open(&r, 100, 1000, NULL);
		limit_fsize(150);
		errno = 0;
		CHECK_EQ_INT(run_write(&r, 5000), -1);
		CHECK_EQ_INT(errno, EFBIG);
		CHECK_EQ_INT(logcap_dropped(r.lc), 4900);
		size_t ml = marker(mk, sizeof(mk), 4900, 100, 1000);
		/* The head is in, and as much of the marker as fitted. */
		CHECK_EQ_INT(lseek(r.fd, 0, SEEK_END), 150);
		CHECK_EQ_INT(pread(r.fd, buf, 150, 0), 150);
		for (int i = 0; i < 100; i++)
			CHECK_EQ_INT((unsigned char)buf[i], in_byte((uint64_t)i));
		CHECK_EQ_MEM(buf + 100, mk, 50);
		/* Still no room: later writes are lost too, never behind a hole. */
		CHECK_EQ_INT(logcap_write(r.lc, "abc", 3), -1);
		CHECK_EQ_INT(lseek(r.fd, 0, SEEK_END), 150);
		unlimit_fsize();
		if (variant == 0) {
			logcap_free(r.lc); /* completes the marker */
			r.lc = NULL;
			marker(mk, sizeof(mk), 4903, 100, 1000);
			CHECK_EQ_INT(lseek(r.fd, 0, SEEK_END), 100 + ml);
			CHECK_EQ_INT(pread(r.fd, buf, 100 + ml, 0), 100 + ml);
			CHECK_EQ_MEM(buf + 100, mk, ml);
		} else {
			CHECK_EQ_INT(logcap_write(r.lc, "tail!", 5), 0);
			CHECK_EQ_INT(logcap_dropped(r.lc), 4903);
			marker(mk, sizeof(mk), 4903, 100, 1000);
			CHECK_EQ_INT(lseek(r.fd, 0, SEEK_END), 100 + ml + 5);
			CHECK_EQ_INT(pread(r.fd, buf, 100 + ml + 5, 0), 100 + ml + 5);
			CHECK_EQ_MEM(buf + 100, mk, ml);
			CHECK_EQ_MEM(buf + 100 + ml, "tail!", 5);
			/* Full again with a short tail (5 < 1000: compacting would
			 * free nothing): the write is lost, and the marker says so. */
			limit_fsize(100 + ml + 5 + 3);
			CHECK_EQ_INT(logcap_write(r.lc, "0123456789", 10), -1);
			unlimit_fsize();
			CHECK_EQ_INT(logcap_dropped(r.lc), 4913);
			marker(mk, sizeof(mk), 4913, 100, 1000);
			CHECK_EQ_INT(lseek(r.fd, 0, SEEK_END), 100 + ml + 5);
			CHECK_EQ_INT(pread(r.fd, buf, ml, 100), ml);
			CHECK_EQ_MEM(buf, mk, ml);
		}
		run_close(&r);
	}
}

TEST(truncated_behind_our_back)
{
	/* Not supported (logcap must be the only writer), but no crash: a
	 * compaction that cannot read its old tail drops it and restarts the
	 * tail with the current write. */
	struct run r;
	char mk[256], buf[1024];
	run_open(&r, 100, 1000, NULL);
	CHECK(feed(&r, 2900, 100, true)); /* tail region 1700 bytes */
	CHECK_EQ_INT(r.m.k, 1700);
	CHECK_EQ_INT(ftruncate(r.fd, 500), 0);
	/* 1700 + 400 > 2000: compact, keeping 600 bytes that are gone. */
	unsigned char big[400];
	memset(big, 'z', sizeof(big));
	errno = 0;
	CHECK_EQ_INT(logcap_write(r.lc, big, sizeof(big)), -1);
	CHECK_EQ_INT(errno, EIO);
	uint64_t dropped = logcap_dropped(r.lc);
	CHECK_EQ_INT(dropped, 2900 + 400 - 100 - 400);
	size_t ml = marker(mk, sizeof(mk), dropped, 100, 1000);
	CHECK_EQ_INT(lseek(r.fd, 0, SEEK_END), 100 + ml + 400);
	CHECK_EQ_INT(pread(r.fd, buf, 100 + ml + 400, 0), 100 + ml + 400);
	CHECK_EQ_MEM(buf + 100, mk, ml);
	CHECK_EQ_MEM(buf + 100 + ml, big, 400);
	run_close(&r);
}

/* xorshift64*, fixed seed: the same 40k writes every run. */
static uint64_t rng_state = 0x5eed5eed12345678ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

TEST(random_model)
{
	static const char *prefixes[] = {NULL, "p", "a previous run wrote this\n"};
	for (int round = 0; round < 4; round++) {
		uint64_t head = rng() % 300, tail = 1 + rng() % 2000;
		struct run r;
		run_open(&r, head, tail, prefixes[rng() % ARRAY_SIZE(prefixes)]);
		bool ok = true;
		for (int i = 0; ok && i < 10000; i++) {
			uint64_t d = rng() % 100, len;
			if (d < 70)
				len = 1 + rng() % 64;
			else if (d < 90)
				len = 1 + rng() % 2000;
			else if (d < 99)
				len = 1 + rng() % 10000;
			else
				len = 1 + rng() % 100000;
			ok = run_write(&r, (size_t)len) == 0 && run_check(&r);
		}
		if (!ok)
			printf("  (round %d head %llu tail %llu)\n", round,
			       (unsigned long long)head, (unsigned long long)tail);
		CHECK(ok);
		CHECK(r.m.capped);
		run_close(&r);
	}
}

int
main(void)
{
	RUN(marker_format);
	RUN(below_the_cap_untouched);
	RUN(many_write_sizes);
	RUN(huge_writes);
	RUN(default_sizes);
	RUN(existing_content);
	RUN(write_only_fd);
	RUN(append_fd);
	RUN(read_only_fd);
	RUN(not_a_regular_file);
	RUN(full_below_the_cap);
	RUN(full_disk_keeps_following);
	RUN(marker_written_late);
	RUN(truncated_behind_our_back);
	RUN(random_model);
	return harness_done();
}
