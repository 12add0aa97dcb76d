#include "sandbox.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int
sandbox_check(const char *path, struct spx_error *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return spx_error_set(err, errno, "sandbox '%s'", path);
	if (S_ISLNK(st.st_mode)) {
		/* Agents never hand out a symlinked sandbox; follow it once, knowingly. */
		if (stat(path, &st) < 0)
			return spx_error_set(err, errno, "sandbox '%s'", path);
	}
	if (!S_ISDIR(st.st_mode))
		return spx_error_set(err, ENOTDIR, "sandbox '%s'", path);
	if (access(path, W_OK | X_OK) < 0)
		return spx_error_set(err, errno, "sandbox '%s'", path);
	return 0;
}

static int
open_one(int dirfd, int ownfd, const char *name, struct spx_error *err)
{
	struct stat own, file;

	if (fstat(ownfd, &own) == 0) {
		int inherit = S_ISFIFO(own.st_mode) || S_ISSOCK(own.st_mode);
		if (!inherit && S_ISREG(own.st_mode) &&
		    fstatat(dirfd, name, &file, AT_SYMLINK_NOFOLLOW) == 0)
			inherit = own.st_dev == file.st_dev && own.st_ino == file.st_ino;
		if (inherit) {
			int fd = fcntl(ownfd, F_DUPFD_CLOEXEC, 3);
			if (fd < 0)
				return spx_error_set(err, errno, "dup fd %d", ownfd);
			return fd;
		}
	}
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return spx_error_set(err, errno, "open sandbox file '%s'", name);
	return fd;
}

int
sandbox_task_stdio(const char *sandbox, int *ret_out, int *ret_err, struct spx_error *err)
{
	_cleanup_close_ int dirfd = open(sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return spx_error_set(err, errno, "open sandbox '%s'", sandbox);
	int out = open_one(dirfd, STDOUT_FILENO, "stdout", err);
	if (out < 0)
		return -1;
	int errfd = open_one(dirfd, STDERR_FILENO, "stderr", err);
	if (errfd < 0) {
		close(out);
		return -1;
	}
	*ret_out = out;
	*ret_err = errfd;
	return 0;
}

long
sandbox_read_tail(const char *sandbox, const char *name, char *buf, size_t n)
{
	struct stat st;
	_cleanup_close_ int dirfd = open(sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || n == 0)
		return -1;
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	off_t off = st.st_size > (off_t)(n - 1) ? st.st_size - (off_t)(n - 1) : 0;
	ssize_t r = pread(fd, buf, n - 1, off);
	if (r < 0)
		return -1;
	for (ssize_t i = 0; i < r; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[r] = '\0';
	return (long)r;
}

static int
is_pipe_or_socket(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

int
sandbox_task_stdio_captured(const char *sandbox, int *ret_out, int *ret_err, bool *ret_captured,
                            struct spx_error *err)
{
	if (is_pipe_or_socket(STDOUT_FILENO) || is_pipe_or_socket(STDERR_FILENO)) {
		*ret_captured = false;
		return sandbox_task_stdio(sandbox, ret_out, ret_err, err);
	}
	_cleanup_close_ int dirfd = open(sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return spx_error_set(err, errno, "open sandbox '%s'", sandbox);
	int out = openat(dirfd, "stdout", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (out < 0)
		return spx_error_set(err, errno, "open sandbox file 'stdout'");
	int errfd = openat(dirfd, "stderr", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (errfd < 0) {
		int e = errno;
		close(out);
		return spx_error_set(err, e, "open sandbox file 'stderr'");
	}
	*ret_out = out;
	*ret_err = errfd;
	*ret_captured = true;
	return 0;
}

int
sandbox_fd_is(const char *sandbox, int fd, const char *name)
{
	struct stat own, file;
	_cleanup_close_ int dirfd = open(sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || fstat(fd, &own) < 0 || !S_ISREG(own.st_mode) ||
	    fstatat(dirfd, name, &file, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return own.st_dev == file.st_dev && own.st_ino == file.st_ino;
}
