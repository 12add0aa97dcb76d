/*
 * Head/tail capping of a task's output file: the format and its invariants
 * are in logcap.h. All offsets below are relative to `base` (the file's size
 * when we took it over) unless a name says otherwise.
 */
#include "logcap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKER_FMT "\n[spex: %020llu bytes dropped here; SPEX_LOG_HEAD=%llu SPEX_LOG_TAIL=%llu]\n"
#define MARKER_MAX 160
#define MOVE_CHUNK (1024 * 1024)
#define SLACK_MIN  (64 * 1024)

struct logcap {
	int fd;           /* the caller's descriptor */
	int wfd, rfd;     /* where we write and read back (rfd -1: cannot read) */
	int own;          /* a descriptor we opened ourselves, or -1 */
	bool passthrough; /* not a regular file we can pwrite: write() uncapped */
	uint64_t base;    /* file offset of our first byte */
	uint64_t head, tail, slack;
	uint64_t ml;         /* marker length */
	uint64_t cap;        /* head + ml + tail, saturated: above it, capped */
	uint64_t total;      /* input bytes */
	uint64_t dropped;    /* input bytes not in the file */
	uint64_t size;       /* length of our part, as it should be on disk */
	bool capped;         /* the marker belongs at `head` */
	bool marker_on_disk; /* a complete marker was written once */
	bool need_marker;    /* the marker on disk is stale */
	bool need_trunc;     /* the file may be longer than base + size */
};

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Count n more input bytes as not in the file; once capped, the marker on
 * disk is then stale. */
static void
drop(struct logcap *lc, uint64_t n)
{
	lc->dropped += n;
	if (lc->capped && n > 0)
		lc->need_marker = true;
}

/* A file offset for `off` (relative) plus len bytes, or -1 with EFBIG. */
static int
file_off(const struct logcap *lc, uint64_t off, uint64_t len, off_t *ret)
{
	uint64_t abs = sat_add(lc->base, off);
	if (abs > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - abs) {
		errno = EFBIG;
		return -1;
	}
	*ret = (off_t)abs;
	return 0;
}

/* Write all of buf at off. On failure *partial (if given) says whether some
 * of it reached the file. */
static int
pwrite_all(const struct logcap *lc, const void *buf, size_t len, uint64_t off, bool *partial)
{
	const char *p = buf;
	off_t o;

	if (partial)
		*partial = false;
	if (file_off(lc, off, len, &o) < 0)
		return -1;
	while (len > 0) {
		ssize_t n = pwrite(lc->wfd, p, len, o);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		o += n;
		if (partial)
			*partial = true;
	}
	return 0;
}

static int
pread_all(const struct logcap *lc, void *buf, size_t len, uint64_t off)
{
	char *p = buf;
	off_t o;

	if (lc->rfd < 0) {
		errno = EBADF;
		return -1;
	}
	if (file_off(lc, off, len, &o) < 0)
		return -1;
	while (len > 0) {
		ssize_t n = pread(lc->rfd, p, len, o);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* shorter than we wrote it: someone truncated it */
			return -1;
		}
		p += n;
		len -= (size_t)n;
		o += n;
	}
	return 0;
}

/* Move len bytes from src down to dst (dst < src), front to back: a chunk's
 * destination never overlaps a later chunk's source. */
static int
move_down(const struct logcap *lc, uint64_t src, uint64_t dst, uint64_t len)
{
	size_t bufsize = (size_t)min_u64(len, MOVE_CHUNK);
	char *buf = xmalloc(bufsize ? bufsize : 1);
	int r = 0;

	for (uint64_t done = 0; done < len;) {
		size_t n = (size_t)min_u64(len - done, bufsize);
		if (pread_all(lc, buf, n, src + done) < 0 ||
		    pwrite_all(lc, buf, n, dst + done, NULL) < 0) {
			r = -1;
			break;
		}
		done += n;
	}
	int e = errno;
	free(buf);
	errno = e;
	return r;
}

static int
write_marker(const struct logcap *lc)
{
	char m[MARKER_MAX];
	int n = snprintf(m, sizeof(m), MARKER_FMT, (unsigned long long)lc->dropped,
	                 (unsigned long long)lc->head, (unsigned long long)lc->tail);
	if (n < 0 || (uint64_t)n != lc->ml) {
		errno = EINVAL; /* cannot happen: the width is fixed */
		return -1;
	}
	return pwrite_all(lc, m, (size_t)n, lc->head, NULL);
}

/* Bring the disk to the state described by lc: the marker, then the size.
 * Until a complete marker was written once, the file may be shorter than
 * head + ml, and truncating would extend it with zeros: that waits. */
static int
repair(struct logcap *lc)
{
	int err = 0;

	if (lc->need_marker) {
		if (write_marker(lc) < 0) {
			err = errno;
		} else {
			lc->need_marker = false;
			lc->marker_on_disk = true;
		}
	}
	if (lc->need_trunc && (!lc->capped || lc->marker_on_disk)) {
		off_t o;
		int r = file_off(lc, lc->size, 0, &o);
		while (r == 0 && (r = ftruncate(lc->wfd, o)) < 0 && errno == EINTR)
			r = 0;
		if (r < 0)
			err = err ? err : errno;
		else
			lc->need_trunc = false;
	}
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Append n bytes at our end; on failure they are lost (and whatever part of
 * them reached the file is cut off again). */
static int
append(struct logcap *lc, const char *p, uint64_t n)
{
	bool partial;

	if (n == 0)
		return 0;
	if (pwrite_all(lc, p, (size_t)n, lc->size, &partial) < 0) {
		int e = errno;
		drop(lc, n);
		if (partial) {
			lc->need_trunc = true;
			(void)repair(lc);
		}
		errno = e;
		return -1;
	}
	lc->size += n;
	return 0;
}

/* Capped, and the tail region [head + ml, size) plus n bytes would be more
 * than we keep: make it exactly `tail` bytes, the newest, ending with these. */
static int
compact_append(struct logcap *lc, const char *p, uint64_t n)
{
	uint64_t start = lc->head + lc->ml;
	uint64_t r = lc->size - start;

	lc->need_trunc = true;
	if (n >= lc->tail) {
		/* The old tail and the front of this write go: no move at all. */
		drop(lc, r + (n - lc->tail));
		lc->size = start;
		return append(lc, p + (n - lc->tail), lc->tail);
	}
	/* Keep the newest tail - n bytes of the old tail (r > tail - n), then
	 * append: both land in blocks the file already has. */
	uint64_t keep = lc->tail - n;
	drop(lc, r - keep);
	if (move_down(lc, start + r - keep, start, keep) < 0) {
		/* Cannot read it back (or write it): drop the old tail entirely,
		 * so that what stays is still contiguous. */
		int e = errno;
		drop(lc, keep);
		lc->size = start;
		(void)append(lc, p, n);
		errno = e;
		return -1;
	}
	lc->size = start + keep;
	return append(lc, p, n);
}

/* Capped: append n bytes to the tail region, compacting it when it would
 * exceed tail + slack, or earlier when the disk (or RLIMIT_FSIZE, or the
 * quota) is full and compacting frees room: then the tail keeps following
 * the output instead of losing it. */
static int
capped_append(struct logcap *lc, const char *p, uint64_t n)
{
	uint64_t r = lc->size - (lc->head + lc->ml);
	bool partial;

	if (n > sat_add(lc->tail, lc->slack) - r)
		return compact_append(lc, p, n);
	if (n == 0 || pwrite_all(lc, p, (size_t)n, lc->size, &partial) == 0) {
		lc->size += n;
		return 0;
	}
	int e = errno;
	if (r + n > lc->tail && (e == ENOSPC || e == EFBIG || e == EDQUOT))
		return compact_append(lc, p, n); /* also cuts what got past size */
	drop(lc, n);
	if (partial) {
		lc->need_trunc = true;
		(void)repair(lc);
	}
	errno = e;
	return -1;
}

/* Uncapped, and this write takes the input past head + ml + tail. */
static int
cross(struct logcap *lc, const char *p, uint64_t n)
{
	if (lc->size < lc->head) {
		/* Complete the head first (n is larger: size + n > cap >= head). */
		uint64_t k = lc->head - lc->size;
		if (append(lc, p, k) < 0) {
			drop(lc, n - k);
			return -1;
		}
		p += k;
		n -= k;
	}
	/* The file's [head, size) is the input's [head, size). The marker takes
	 * the place of input [head, head + ml): what of it is in the file, and
	 * `skip` bytes of this write. What lies past it is the tail. */
	uint64_t start = lc->head + lc->ml;
	uint64_t skip = start - min_u64(lc->size, start);
	lc->capped = true;
	drop(lc, lc->ml);
	lc->size = max_u64(lc->size, start);
	int r = repair(lc), e = errno;
	if (!lc->marker_on_disk) {
		/* Appending past a missing marker would leave a hole. */
		drop(lc, n - skip);
		errno = e;
		return -1;
	}
	if (capped_append(lc, p + skip, n - skip) < 0)
		return -1;
	errno = e;
	return r;
}

static int
reopen(int fd, int flags, const struct stat *st)
{
	char path[40];
	struct stat st2;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int r = open(path, flags | O_CLOEXEC | O_NOCTTY);
	if (r < 0)
		return -1;
	if (fstat(r, &st2) < 0 || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino) {
		close(r);
		return -1;
	}
	return r;
}

struct logcap *
logcap_new(int fd, uint64_t head, uint64_t tail)
{
	struct logcap *lc = xcalloc(1, sizeof(*lc));
	struct stat st;
	char m[MARKER_MAX];

	lc->fd = lc->wfd = lc->rfd = fd;
	lc->own = -1;
	lc->head = head;
	lc->tail = tail ? tail : 1;
	lc->slack = max_u64(lc->tail / 4, min_u64(lc->tail, SLACK_MIN));
	lc->ml = (uint64_t)snprintf(m, sizeof(m), MARKER_FMT, 0ULL, (unsigned long long)lc->head,
	                            (unsigned long long)lc->tail);
	lc->cap = sat_add(sat_add(lc->head, lc->ml), lc->tail);

	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		lc->passthrough = true;
		return lc;
	}
	lc->base = (uint64_t)st.st_size;
	if ((fl & O_ACCMODE) == O_RDONLY)
		return lc; /* every write fails with EBADF, as it should */
	if (fl & O_APPEND) {
		/* pwrite on O_APPEND appends whatever the offset: use our own. */
		lc->own = reopen(fd, O_RDWR, &st);
		if (lc->own < 0)
			lc->passthrough = true;
		else
			lc->wfd = lc->rfd = lc->own;
	} else if ((fl & O_ACCMODE) == O_WRONLY) {
		lc->own = reopen(fd, O_RDONLY, &st);
		lc->rfd = lc->own;
	}
	return lc;
}

int
logcap_write(struct logcap *lc, const void *buf, size_t len)
{
	const char *p = buf;
	int err = 0;

	lc->total += len;
	if (lc->passthrough) {
		if (len > 0 && write_all(lc->fd, buf, len) < 0) {
			drop(lc, len); /* some may have gone out: we cannot tell */
			return -1;
		}
		return 0;
	}
	if (repair(lc) < 0) {
		err = errno;
		if (lc->capped && !lc->marker_on_disk) {
			/* Appending past a missing marker would leave a hole. */
			drop(lc, len);
			errno = err;
			return -1;
		}
	}
	int r;
	if (!lc->capped && len <= lc->cap - lc->size)
		r = append(lc, p, len);
	else if (!lc->capped)
		r = cross(lc, p, len);
	else
		r = capped_append(lc, p, len);
	if (r < 0 && !err)
		err = errno;
	if (repair(lc) < 0 && !err)
		err = errno;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

uint64_t
logcap_dropped(const struct logcap *lc)
{
	return lc->dropped;
}

uint64_t
logcap_total(const struct logcap *lc)
{
	return lc->total;
}

void
logcap_free(struct logcap *lc)
{
	if (!lc)
		return;
	if (!lc->passthrough)
		(void)repair(lc);
	if (lc->own >= 0)
		close(lc->own);
	free(lc);
}
