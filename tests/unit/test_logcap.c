/* Log capping: the file equals head + marker + the most recent output. */
#include "harness.h"
#include "logcap.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static char *
slurp(int fd, size_t *n)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *buf = malloc((size_t)size + 1);
	*n = (size_t)pread(fd, buf, (size_t)size, 0);
	buf[*n] = '\0';
	return buf;
}

/* Feed `total` bytes of a known stream in writes of `step`, then check. */
static int
run(uint64_t head, uint64_t tail, size_t total, size_t step)
{
	char path[] = "/tmp/spex-logcap-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	char *in = malloc(total);
	for (size_t i = 0; i < total; i++)
		in[i] = (char)('a' + (i * 7 + i / 13) % 26);
	struct logcap *lc = logcap_new(fd, head, tail);
	for (size_t off = 0; off < total; off += step)
		logcap_write(lc, in + off, off + step > total ? total - off : step);
	size_t n;
	char *out = slurp(fd, &n);
	int ok = 1;
	uint64_t dropped = logcap_dropped(lc);
	if (total <= head + tail) {
		ok = n == total && memcmp(out, in, total) == 0 && dropped == 0;
	} else {
		char marker[64];
		snprintf(marker, sizeof(marker), "\n[spex: %20llu bytes dropped here]\n",
			 (unsigned long long)dropped);
		size_t ml = strlen(marker);
		size_t kept = total - head - dropped;
		ok = memcmp(out, in, head) == 0 && memcmp(out + head, marker, ml) == 0 &&
		     n == head + ml + kept && kept >= tail &&
		     memcmp(out + head + ml, in + total - kept, kept) == 0;
	}
	if (!ok)
		printf("  head=%llu tail=%llu total=%zu step=%zu: file %zu bytes, dropped %llu\n",
		       (unsigned long long)head, (unsigned long long)tail, total, step, n,
		       (unsigned long long)dropped);
	ok = ok && logcap_total(lc) == total;
	logcap_free(lc);
	free(out);
	free(in);
	close(fd);
	return ok;
}

TEST(below_the_cap_untouched)
{
	CHECK(run(100, 1000, 0, 1));
	CHECK(run(100, 1000, 500, 7));
	CHECK(run(100, 1000, 1100, 1100));
}

TEST(many_write_sizes)
{
	const size_t steps[] = {1, 2, 3, 7, 13, 64, 99, 100, 101, 999, 4096, 65537, 300000};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		CHECK(run(100, 1000, 200000, steps[i]));
		CHECK(run(0, 500, 150000, steps[i]));
	}
	CHECK(run(100, 1000, 1101, 1)); /* just over */
	CHECK(run(4096, 100000, 3000000, 8191));
}

TEST(unwritable_fd)
{
	int fd = open("/dev/null", O_RDONLY);
	struct logcap *lc = logcap_new(fd, 10, 10);
	CHECK_EQ_INT(logcap_write(lc, "hello", 5), -1);
	CHECK_EQ_INT(logcap_dropped(lc), 5);
	logcap_free(lc);
	close(fd);
	logcap_free(NULL);
}

int
main(void)
{
	RUN(below_the_cap_untouched);
	RUN(many_write_sizes);
	RUN(unwritable_fd);
	return harness_done();
}
