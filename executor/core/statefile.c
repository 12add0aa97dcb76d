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
statefile_write(const char *dir, const char *name, const void *buf, size_t len,
                struct spx_error *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s/%s.tmp", dir, name);
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	const char *what;
	int fd, e;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return spx_error_set(err, errno, "create %s", tmp);
	if (write_all(fd, buf, len) < 0) {
		what = "write";
		goto fail;
	}
	if (fsync(fd) < 0) {
		what = "fsync";
		goto fail;
	}
	/* close() can report a deferred write error (NFS): it counts too. */
	if (close(TAKE_FD(fd)) < 0) {
		what = "close";
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		what = "rename";
		goto fail;
	}
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return spx_error_set(err, e, "%s %s", what, tmp);
}

void
linelog_init(struct linelog *l, const char *dir, const char *name, size_t max_lines,
             size_t keep_lines)
{
	memset(l, 0, sizeof(*l));
	l->dir = xstrdup(dir);
	l->name = xstrdup(name);
	l->max_lines = max_lines ? max_lines : 1;
	l->keep_lines = keep_lines && keep_lines <= l->max_lines ? keep_lines : l->max_lines;
}

void
linelog_free(struct linelog *l)
{
	if (!l)
		return;
	free(l->dir);
	free(l->name);
	l->dir = l->name = NULL;
}

/* Count the complete lines of path and cut a torn last line off. */
static int
linelog_count(struct linelog *l, const char *path, struct spx_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	char buf[65536];
	off_t off = 0, end_of_last = 0;
	size_t lines = 0;

	if (fd < 0 && errno == ENOENT)
		goto done;
	if (fd < 0)
		return spx_error_set(err, errno, "open %s", path);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return spx_error_set(err, errno, "read %s", path);
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
		return spx_error_set(err, errno, "truncate %s", path);
done:
	l->lines = lines;
	l->counted = true;
	return 0;
}

/* Read all of path (at most LINELOG_READ_MAX bytes) into a malloc'd buffer. */
static char *
read_whole(const char *path, size_t *ret_len, struct spx_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat s;
	size_t len = 0;

	if (fd < 0 && errno == ENOENT) {
		*ret_len = 0;
		return xstrdup("");
	}
	if (fd < 0 || fstat(fd, &s) < 0) {
		spx_error_set(err, errno, "open %s", path);
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
			spx_error_set(err, errno, "read %s", path);
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
linelog_rewrite(struct linelog *l, const char *path, const char *line, struct spx_error *err)
{
	size_t len, keep = l->keep_lines - 1, seen = 0;
	_cleanup_free_ char *old = read_whole(path, &len, err);

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
	if (statefile_write(l->dir, l->name, buf, strlen(buf), err) < 0)
		return -1;
	l->lines = kept_lines + 1;
	return 0;
}

int
linelog_append(struct linelog *l, const char *line, struct spx_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", l->dir, l->name);
	struct stat s;

	if (!l->counted && linelog_count(l, path, err) < 0)
		return -1;
	if (l->lines + 1 > l->max_lines)
		return linelog_rewrite(l, path, line, err);

	_cleanup_close_ int fd =
	    open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || fstat(fd, &s) < 0)
		return spx_error_set(err, errno, "open %s", path);
	_cleanup_free_ char *buf = xasprintf("%s\n", line);
	if (write_all(fd, buf, strlen(buf)) < 0) {
		int e = errno;
		/* No torn line for readers: back to where the file ended. */
		(void)!ftruncate(fd, s.st_size);
		return spx_error_set(err, e, "append %s", path);
	}
	l->lines++;
	return 0;
}
