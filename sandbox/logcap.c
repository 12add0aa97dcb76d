#include "logcap.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKER_FMT "\n[spex: %20llu bytes dropped here]\n"
#define MARKER_LEN 49
#define COPY_CHUNK (1024 * 1024)

struct logcap {
	int fd;
	uint64_t base;	    /* file size when we took over */
	uint64_t head, tail, slack;
	uint64_t total;	    /* bytes given to us */
	uint64_t dropped;   /* bytes no longer in the file */
	uint64_t size;	    /* our part of the file */
	int capped;	    /* the marker is in place */
};

struct logcap *
logcap_new(int fd, uint64_t head, uint64_t tail)
{
	struct stat st;
	struct logcap *lc = xcalloc(1, sizeof(*lc));
	lc->fd = fd;
	lc->base = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	lc->head = head;
	lc->tail = tail ? tail : 1;
	lc->slack = lc->tail / 4 > 65536 ? lc->tail / 4 : 65536;
	return lc;
}

static int
pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int
write_marker(struct logcap *lc)
{
	char m[MARKER_LEN + 1];
	snprintf(m, sizeof(m), MARKER_FMT, (unsigned long long)lc->dropped);
	return pwrite_all(lc->fd, m, MARKER_LEN, lc->base + lc->head);
}

/* Keep the last `tail` bytes of the tail region: move them down to its
 * start, truncate, count the rest as dropped. */
static int
compact(struct logcap *lc)
{
	uint64_t start = lc->head + MARKER_LEN;
	uint64_t region = lc->size - start;
	uint64_t drop = region - lc->tail;
	char *buf = xmalloc(COPY_CHUNK);
	for (uint64_t done = 0; done < lc->tail;) {
		size_t n = lc->tail - done > COPY_CHUNK ? COPY_CHUNK : (size_t)(lc->tail - done);
		ssize_t r = pread(lc->fd, buf, n, (off_t)(lc->base + start + drop + done));
		if (r <= 0 || pwrite_all(lc->fd, buf, (size_t)r, lc->base + start + done) < 0) {
			free(buf);
			return -1;
		}
		done += (uint64_t)r;
	}
	free(buf);
	lc->size = start + lc->tail;
	lc->dropped += drop;
	if (ftruncate(lc->fd, (off_t)(lc->base + lc->size)) < 0)
		return -1;
	return write_marker(lc);
}

int
logcap_write(struct logcap *lc, const void *buf, size_t len)
{
	const char *p = buf;
	lc->total += len;
	while (len) {
		if (!lc->capped && lc->size + len > lc->head + lc->tail) {
			/* Crossing into capped mode: the bytes past head move behind a marker. */
			uint64_t keep_head = lc->size < lc->head ? lc->head - lc->size : 0;
			if (keep_head) {
				size_t n = keep_head > len ? len : (size_t)keep_head;
				if (pwrite_all(lc->fd, p, n, lc->base + lc->size) < 0)
					goto fail;
				lc->size += n;
				p += n;
				len -= n;
				continue;
			}
			/* size >= head: shift [head, size) behind the marker. */
			uint64_t moved = lc->size - lc->head;
			char *tmp = xmalloc(moved ? moved : 1);
			ssize_t r = moved ? pread(lc->fd, tmp, moved, (off_t)(lc->base + lc->head)) : 0;
			if (r != (ssize_t)moved ||
			    pwrite_all(lc->fd, tmp, moved, lc->base + lc->head + MARKER_LEN) < 0) {
				free(tmp);
				goto fail;
			}
			free(tmp);
			lc->size += MARKER_LEN;
			lc->capped = 1;
			if (write_marker(lc) < 0)
				goto fail;
			continue;
		}
		if (pwrite_all(lc->fd, p, len, lc->base + lc->size) < 0)
			goto fail;
		lc->size += len;
		len = 0;
		if (lc->capped && lc->size - lc->head - MARKER_LEN > lc->tail + lc->slack &&
		    compact(lc) < 0)
			return -1;
	}
	return 0;
fail:
	lc->dropped += len;
	return -1;
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
	free(lc);
}
