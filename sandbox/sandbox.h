/*
 * The sandbox as the task sees it: its directory, and the `stdout` and
 * `stderr` files its output goes to.
 */
#ifndef SANDBOX_SANDBOX_H
#define SANDBOX_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Check that path is a directory we can use as the task's cwd (not a
 * symlink). Returns -1 with *err naming the path and the reason. */
int sandbox_check(const char *path, struct spx_error *err);

/*
 * Open the descriptors for the task's stdout and stderr (close-on-exec).
 * When the executor's own fd 1/2 already is the sandbox file of that name,
 * or a pipe or socket (the agent's container logger), the task inherits it,
 * so that log rotation by the agent keeps working; otherwise
 * <sandbox>/stdout and <sandbox>/stderr are opened for append (created
 * 0644, never through a symlink). Returns -1 with *err.
 */
int sandbox_task_stdio(const char *sandbox, int *ret_out, int *ret_err, struct spx_error *err);

/*
 * The same for captured output: when the executor's fd 1 and 2 are not the
 * agent's logger (a pipe or socket), <sandbox>/stdout and <sandbox>/stderr are
 * opened read-write without O_APPEND (the log capper writes at its own
 * offsets) and *ret_captured is set; otherwise the descriptors are inherited
 * as above and *ret_captured is cleared.
 */
int sandbox_task_stdio_captured(const char *sandbox, int *ret_out, int *ret_err, bool *ret_captured,
                                struct spx_error *err);

/* 1 if fd is <sandbox>/<name> itself (same inode). */
int sandbox_fd_is(const char *sandbox, int fd, const char *name);

/* Read up to n-1 bytes from the end of <sandbox>/<name> into buf (NUL-
 * terminated; NULs inside are replaced by spaces so that string searches
 * work). Returns the length, or -1 if the file cannot be read. */
long sandbox_read_tail(const char *sandbox, const char *name, char *buf, size_t n);

#endif /* SANDBOX_SANDBOX_H */
