/*
 * libFuzzer target for sandbox/logcap (head/tail capping of stdout/stderr).
 *
 * The input picks a tiny configuration and a sequence of write sizes:
 *	byte 0	head = b % 48
 *	byte 1	tail = 1 + b % 64
 *	byte 2	flags: bits 0-1 prefix length (0, 1, 5, 17 bytes already in the
 *		file), bit 2 an O_WRONLY descriptor, bit 3 O_APPEND, bit 4 fault
 *		mode, bit 5 (fault mode) end right after the faults
 *	byte 3	fault mode: RLIMIT_FSIZE = prefix + 2 * b
 *	then	write sizes: b < 200 is b bytes (0 included); 200..249 is
 *		(b - 200) * 20 + the next byte; 250..255 is (b - 249) * 3000
 * The output goes to a memfd; the input stream is letters and newlines
 * generated from the byte index (so "[" only ever comes from the marker).
 *
 * Without faults, after every write the file must be exactly what logcap.h
 * defines (an independent model: prefix + input up to C = H + ML + T;
 * beyond, prefix + head + marker(dropped) + the newest K bytes by the K
 * rule), with the counters and the size bound. With faults (the limit is
 * set around each logcap_write only, so libFuzzer's own files are never
 * limited): after every write the prefix is intact, the file within its
 * bound, and either uncapped-consistent (size = total - dropped) or a
 * complete marker with the right count and size, or (the marker could not
 * be written yet) a prefix of it with everything past the head dropped.
 * Then, without the limit, C + T + slack more bytes must bring back the
 * full shape: marker, T <= K <= T + slack, the newest K input bytes, and
 * the head unless a write failed before the head was complete. Any
 * violation aborts.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MARKER_FMT "\n[spex: %020llu bytes dropped here; SPEX_LOG_HEAD=%llu SPEX_LOG_TAIL=%llu]\n"
#define MAX_INPUT  (256 * 1024) /* stream bytes per run */

static unsigned char
in_byte(uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	return (unsigned char)"abcdefghijklmnopqrstuvwxyz\n"[x % 27];
}

static void
fail(const char *what, uint64_t a, uint64_t b)
{
	fprintf(stderr, "logcap invariant violated: %s (%llu, %llu)\n", what, (unsigned long long)a,
	        (unsigned long long)b);
	abort();
}

struct fz {
	uint64_t head, tail, slack, ml, cap, bound;
	int fd;  /* the memfd, read-write: for checks */
	int wfd; /* what logcap got */
	unsigned char prefix[17];
	size_t nprefix;
	uint64_t total; /* input given */
	/* the exact model (no faults) */
	bool capped;
	uint64_t k;
	unsigned char *file; /* scratch for reading the file back */
	size_t filecap;
};

static size_t
fmt_marker(char *buf, size_t n, uint64_t dropped, uint64_t head, uint64_t tail)
{
	return (size_t)snprintf(buf, n, MARKER_FMT, (unsigned long long)dropped,
	                        (unsigned long long)head, (unsigned long long)tail);
}

static size_t
read_file(struct fz *f)
{
	struct stat st;
	if (fstat(f->fd, &st) < 0)
		fail("fstat", 0, 0);
	size_t n = (size_t)st.st_size;
	if (!f->file || n > f->filecap) {
		f->filecap = n + 1;
		f->file = realloc(f->file, f->filecap);
	}
	if (n && pread(f->fd, f->file, n, 0) != (ssize_t)n)
		fail("pread", n, 0);
	if (n < f->nprefix || (f->nprefix && memcmp(f->file, f->prefix, f->nprefix) != 0))
		fail("prefix changed", n, f->nprefix);
	if (n - f->nprefix > f->bound)
		fail("file over its bound", n - f->nprefix, f->bound);
	return n - f->nprefix;
}

static bool
is_input(const unsigned char *p, uint64_t from, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i] != in_byte(from + i))
			return false;
	return true;
}

/* Exact check against the model (no faults). */
static void
check_exact(struct fz *f, struct logcap *lc)
{
	size_t n = read_file(f);
	const unsigned char *p = f->file + f->nprefix;
	char mk[200];

	if (logcap_total(lc) != f->total)
		fail("total", logcap_total(lc), f->total);
	if (!f->capped) {
		if (n != f->total || !is_input(p, 0, n))
			fail("uncapped file is not the input", n, f->total);
		if (logcap_dropped(lc) != 0)
			fail("dropped while uncapped", logcap_dropped(lc), 0);
		return;
	}
	uint64_t dropped = f->total - f->head - f->k;
	if (logcap_dropped(lc) != dropped)
		fail("dropped", logcap_dropped(lc), dropped);
	if (n != f->head + f->ml + f->k)
		fail("capped size", n, f->head + f->ml + f->k);
	fmt_marker(mk, sizeof(mk), dropped, f->head, f->tail);
	if (!is_input(p, 0, f->head))
		fail("head", f->head, 0);
	if (memcmp(p + f->head, mk, f->ml) != 0)
		fail("marker", dropped, f->ml);
	if (!is_input(p + f->head + f->ml, f->total - f->k, f->k))
		fail("tail", f->total, f->k);
}

static void
model_write(struct fz *f, uint64_t len)
{
	f->total += len;
	if (!f->capped) {
		if (f->total <= f->cap)
			return;
		f->capped = true;
		f->k = f->total - f->head - f->ml;
	} else {
		f->k += len;
	}
	if (f->k > f->tail + f->slack)
		f->k = f->tail;
}

/* The shape any state must have, faults or not. Returns K when a complete
 * marker is in place, -1 otherwise. */
static int64_t
check_shape(struct fz *f, struct logcap *lc)
{
	size_t n = read_file(f);
	const unsigned char *p = f->file + f->nprefix;
	uint64_t dropped = logcap_dropped(lc), total = logcap_total(lc);
	char mk[200];

	if (total != f->total || dropped > total)
		fail("counters", total, dropped);
	fmt_marker(mk, sizeof(mk), dropped, f->head, f->tail);
	if (n >= f->head + f->ml && p[f->head] == '\n' && p[f->head + 1] == '[') {
		if (memcmp(p + f->head, mk, f->ml) != 0)
			fail("marker count", dropped, 0);
		uint64_t k = n - f->head - f->ml;
		if (dropped != total - f->head - k)
			fail("marker count vs size", dropped, k);
		return (int64_t)k;
	}
	if (n == total - dropped)
		return -1; /* uncapped, or capped with nothing past the head */
	/* The marker could not be completed: a prefix of it (its count as of
	 * the last attempt), nothing after, everything past the head dropped. */
	if (n <= f->head || n >= f->head + f->ml || dropped != total - f->head)
		fail("neither uncapped nor capped", n, dropped);
	for (size_t i = 0; i < n - f->head; i++) {
		bool digit = i >= 8 && i < 28;
		if (digit ? p[f->head + i] < '0' || p[f->head + i] > '9'
		          : p[f->head + i] != (unsigned char)mk[i])
			fail("partial marker", i, n - f->head);
	}
	return -1;
}

/* Input bytes -> write sizes. */
struct sizes {
	const uint8_t *p;
	size_t n, i;
};

static bool
next_size(struct sizes *s, size_t *len)
{
	if (s->i >= s->n)
		return false;
	uint8_t b = s->p[s->i++];
	if (b < 200)
		*len = b;
	else if (b < 250)
		*len = (size_t)(b - 200) * 20 + (s->i < s->n ? s->p[s->i++] : 0);
	else
		*len = (size_t)(b - 249) * 3000;
	return true;
}

static int
do_write(struct fz *f, struct logcap *lc, size_t len, unsigned char **buf, size_t *bufcap)
{
	if (len > *bufcap) {
		*bufcap = len;
		*buf = realloc(*buf, len);
	}
	for (size_t i = 0; i < len; i++)
		(*buf)[i] = in_byte(f->total + i);
	return logcap_write(lc, *buf, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t prefix_len[] = {0, 1, 5, 17};
	struct fz f;
	char mk[200];

	if (size < 4)
		return 0;
	memset(&f, 0, sizeof(f));
	f.head = data[0] % 48;
	f.tail = 1 + data[1] % 64;
	uint8_t flags = data[2];
	bool faults = flags & 16;
	f.slack = f.tail < 65536 ? f.tail : 65536;
	if (f.tail / 4 > f.slack)
		f.slack = f.tail / 4;
	f.ml = fmt_marker(mk, sizeof(mk), 0, f.head, f.tail);
	f.cap = f.head + f.ml + f.tail;
	f.bound = f.head + f.ml + f.tail + f.slack;
	if (f.cap > f.bound)
		f.bound = f.cap;

	f.fd = memfd_create("logcap", MFD_CLOEXEC);
	if (f.fd < 0)
		fail("memfd_create", 0, 0);
	f.nprefix = prefix_len[flags & 3];
	for (size_t i = 0; i < f.nprefix; i++)
		f.prefix[i] = (unsigned char)('A' + i);
	if (f.nprefix && write(f.fd, f.prefix, f.nprefix) != (ssize_t)f.nprefix)
		fail("write prefix", 0, 0);
	f.wfd = f.fd;
	if (flags & (4 | 8)) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", f.fd);
		f.wfd = open(path, O_CLOEXEC | ((flags & 4) ? O_WRONLY : O_RDWR) |
		                       ((flags & 8) ? O_APPEND : 0));
		if (f.wfd < 0)
			fail("reopen", 0, 0);
	}

	struct logcap *lc = logcap_new(f.wfd, f.head, f.tail);
	struct sizes s = {data + 4, size - 4, 0};
	unsigned char *buf = NULL;
	size_t bufcap = 0, len;

	if (!faults) {
		while (f.total < MAX_INPUT && next_size(&s, &len)) {
			if (do_write(&f, lc, len, &buf, &bufcap) != 0)
				fail("write failed without faults", len, f.total);
			model_write(&f, len);
			check_exact(&f, lc);
		}
	} else {
		struct rlimit lim, saved;
		getrlimit(RLIMIT_FSIZE, &saved);
		lim.rlim_cur = f.nprefix + 2 * (rlim_t)data[3];
		lim.rlim_max = saved.rlim_max;
		signal(SIGXFSZ, SIG_IGN);
		bool head_intact = true;
		while (f.total < MAX_INPUT && next_size(&s, &len)) {
			setrlimit(RLIMIT_FSIZE, &lim);
			int rc = do_write(&f, lc, len, &buf, &bufcap);
			setrlimit(RLIMIT_FSIZE, &saved);
			if (rc < 0 && f.total < f.head)
				head_intact = false;
			f.total += len;
			check_shape(&f, lc);
		}
		if (flags & 32) {
			/* Stop here: logcap_free must complete a pending marker. */
			uint64_t dropped = logcap_dropped(lc), total = logcap_total(lc);
			logcap_free(lc);
			lc = NULL;
			size_t n = read_file(&f);
			const unsigned char *p = f.file + f.nprefix;
			fmt_marker(mk, sizeof(mk), dropped, f.head, f.tail);
			bool marked = n >= f.head + f.ml && memcmp(p + f.head, mk, f.ml) == 0;
			if (marked ? dropped != total - n + f.ml : n != total - dropped)
				fail("state after logcap_free", n, dropped);
		} else {
			/* Room again: the full shape comes back. */
			uint64_t need = f.total + f.cap + f.tail + f.slack + 1;
			s.i = 0;
			while (f.total < need) {
				if (!next_size(&s, &len)) {
					s.i = 0; /* around again */
					len = 7;
				}
				if (len == 0)
					len = 7;
				if (do_write(&f, lc, len, &buf, &bufcap) != 0)
					fail("write failed after the faults", len, f.total);
				f.total += len;
				check_shape(&f, lc);
			}
			int64_t k = check_shape(&f, lc);
			const unsigned char *p = f.file + f.nprefix;
			if (k < 0)
				fail("no marker after recovery", f.total, 0);
			if ((uint64_t)k < f.tail || (uint64_t)k > f.tail + f.slack)
				fail("tail length after recovery", (uint64_t)k, f.tail);
			if (!is_input(p + f.head + f.ml, f.total - (uint64_t)k, (uint64_t)k))
				fail("tail after recovery", f.total, (uint64_t)k);
			if (head_intact && !is_input(p, 0, f.head))
				fail("head after recovery", f.head, 0);
		}
	}
	logcap_free(lc);
	free(buf);
	free(f.file);
	if (f.wfd != f.fd)
		close(f.wfd);
	close(f.fd);
	return 0;
}
