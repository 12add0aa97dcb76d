#include "statefile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A rewrite reads the whole log; a file this large is not ours to keep. */
#define LINELOG_READ_MAX (64u << 20)

int
statefile_write(int dirfd, const char *name, const void *buf, size_t len, bool durable,
                struct spx_error *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", name);
	const char *what;
	int fd, e;

	/* A crashed writer's temp file (or anything else by that name) goes
	 * first: O_EXCL then never opens what is there (a FIFO, a link). */
	if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
		return spx_error_set(err, errno, "remove %s", tmp);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return spx_error_set(err, errno, "create %s", tmp);
	if (write_all(fd, buf, len) < 0) {
		what = "write";
		goto fail;
	}
	if (durable && fsync(fd) < 0) {
		what = "fsync";
		goto fail;
	}
	/* close() can report a deferred write error (NFS): it counts too. */
	if (close(TAKE_FD(fd)) < 0) {
		what = "close";
		goto fail;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		what = "rename";
		goto fail;
	}
	/* The rename itself is durable once the directory is. */
	if (durable && fsync(dirfd) < 0)
		return spx_error_set(err, errno, "fsync directory of %s", name);
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return spx_error_set(err, e, "%s %s", what, tmp);
}

void
linelog_init(struct linelog *l, const char *name, size_t max_lines, size_t keep_lines)
{
	memset(l, 0, sizeof(*l));
	l->name = xstrdup(name);
	l->max_lines = max_lines ? max_lines : 1;
	l->keep_lines = keep_lines && keep_lines <= l->max_lines ? keep_lines : l->max_lines;
}

void
linelog_free(struct linelog *l)
{
	if (!l)
		return;
	free(l->name);
	l->name = NULL;
}

/* Open the log in dirfd with flags (never following a symlink, never
 * blocking on a FIFO) and check it is a regular file with one link, the
 * only kind changed in place. -1 with errno (ENOENT: no file yet). */
static int
linelog_open(const struct linelog *l, int dirfd, int flags)
{
	struct stat st;
	int fd =
	    openat(dirfd, l->name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	int e = fstat(fd, &st) < 0     ? errno
	        : !S_ISREG(st.st_mode) ? EINVAL
	        : st.st_nlink != 1     ? EMLINK
	                               : 0;
	if (e) {
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Count the complete lines of the log and cut a torn last line off. */
static int
linelog_count(struct linelog *l, int dirfd, struct spx_error *err)
{
	_cleanup_close_ int fd = linelog_open(l, dirfd, O_RDWR);
	char buf[65536];
	off_t off = 0, end_of_last = 0;
	size_t lines = 0;

	if (fd < 0 && errno == ENOENT)
		goto done;
	if (fd < 0)
		return spx_error_set(err, errno, "open %s", l->name);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return spx_error_set(err, errno, "read %s", l->name);
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				lines++;
				end_of_last = off + i + 1;
			}
		}
		off += n;
	}
	if (off > end_of_last && ftruncate(fd, end_of_last) < 0)
		return spx_error_set(err, errno, "truncate %s", l->name);
done:
	l->lines = lines;
	l->counted = true;
	return 0;
}

/* Read all of the log (at most LINELOG_READ_MAX bytes) into a malloc'd
 * buffer. */
static char *
read_whole(const struct linelog *l, int dirfd, size_t *ret_len, struct spx_error *err)
{
	_cleanup_close_ int fd = linelog_open(l, dirfd, O_RDONLY);
	struct stat s;
	size_t len = 0;

	if (fd < 0 && errno == ENOENT) {
		*ret_len = 0;
		return xstrdup("");
	}
	if (fd < 0 || fstat(fd, &s) < 0) {
		spx_error_set(err, errno, "open %s", l->name);
		return NULL;
	}
	size_t cap =
	    s.st_size > 0 && (uint64_t)s.st_size <= LINELOG_READ_MAX ? (size_t)s.st_size : 0;
	_cleanup_free_ char *buf = xmalloc(cap + 1);
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			spx_error_set(err, errno, "read %s", l->name);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_len = len;
	return TAKE_PTR(buf);
}

/* Rewrite the file as its newest keep_lines - 1 lines and line. */
static int
linelog_rewrite(struct linelog *l, int dirfd, const char *line, struct spx_error *err)
{
	size_t len, keep = l->keep_lines - 1, seen = 0;
	_cleanup_free_ char *old = read_whole(l, dirfd, &len, err);

	if (!old)
		return -1;
	while (len > 0 && old[len - 1] != '\n')
		len--; /* a torn last line is dropped */
	/* From the '\n' that ends the last line, walk back over keep lines. */
	size_t start = len;
	if (keep > 0 && len > 0) {
		size_t i = len - 1;
		while (i > 0 && !(old[i - 1] == '\n' && ++seen == keep))
			i--;
		start = i;
	}
	size_t kept_lines = 0;
	for (size_t i = start; i < len; i++)
		kept_lines += old[i] == '\n';
	_cleanup_free_ char *buf = xasprintf("%.*s%s\n", (int)(len - start), old + start, line);
	if (statefile_write(dirfd, l->name, buf, strlen(buf), false, err) < 0)
		return -1;
	l->lines = kept_lines + 1;
	return 0;
}

int
linelog_append(struct linelog *l, int dirfd, const char *line, struct spx_error *err)
{
	struct stat s, d;

	if (fstat(dirfd, &d) < 0)
		return spx_error_set(err, errno, "open %s", l->name);
	if (l->counted && (d.st_dev != l->dir_dev || d.st_ino != l->dir_ino))
		l->counted = false; /* another directory: its file is another */
	if (!l->counted) {
		if (linelog_count(l, dirfd, err) < 0)
			return -1;
		l->dir_dev = d.st_dev;
		l->dir_ino = d.st_ino;
	}
	if (l->lines + 1 > l->max_lines)
		return linelog_rewrite(l, dirfd, line, err);

	_cleanup_close_ int fd = linelog_open(l, dirfd, O_WRONLY | O_APPEND | O_CREAT);
	if (fd < 0 || fstat(fd, &s) < 0)
		return spx_error_set(err, errno, "open %s", l->name);
	_cleanup_free_ char *buf = xasprintf("%s\n", line);
	if (write_all(fd, buf, strlen(buf)) < 0) {
		int e = errno;
		/* No torn line for readers: back to where the file ended. */
		(void)!ftruncate(fd, s.st_size);
		return spx_error_set(err, e, "append %s", l->name);
	}
	l->lines++;
	return 0;
}

enum statefile_say
statefile_health_note(struct statefile_health *h, enum statefile_id file, int errnum)
{
	struct statefile_file_health *f = &h->file[file];

	if (errnum == 0) {
		if (!f->failing)
			return STATEFILE_SAY_NOTHING;
		f->failing = false;
		f->n_logged = 0;
		return STATEFILE_SAY_RECOVERED;
	}
	f->failing = true;
	for (size_t i = 0; i < f->n_logged; i++)
		if (f->logged[i] == errnum)
			return STATEFILE_SAY_NOTHING;
	if (f->n_logged < STATEFILE_LOGGED_MAX)
		f->logged[f->n_logged++] = errnum;
	return STATEFILE_SAY_ERROR;
}
