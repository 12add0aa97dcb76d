/*
 * /proc for the CLI (procinfo.h).
 */
#include "procinfo.h"
#include "proctree.h"
#include "util.h"

#include <dirent.h>
#include <pwd.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
procinfo_parse_stat(const char *buf, struct proc_info *ret)
{
	const char *open = strchr(buf, '(');
	const char *close = strrchr(buf, ')');
	struct proc_entry e;
	struct proc_times pt;

	memset(ret, 0, sizeof(*ret));
	if (!open || !close || close < open || proc_stat_parse(buf, &e) < 0 || e.pid <= 0 ||
	    proc_stat_times(buf, &pt) < 0)
		return -1;
	ret->pid = e.pid;
	ret->ppid = e.ppid;
	ret->pgrp = e.pgrp;
	ret->session = e.session;
	ret->state = e.state;
	size_t clen = (size_t)(close - open - 1);
	if (clen >= sizeof(ret->comm))
		clen = sizeof(ret->comm) - 1;
	memcpy(ret->comm, open + 1, clen);
	ret->comm[clen] = '\0';
	ret->utime = pt.utime;
	ret->stime = pt.stime;
	ret->start_ticks = pt.start_ticks;
	ret->rss_pages = pt.rss_pages;
	return 0;
}

/* Read at most len - 1 bytes of the file at path into buf, NUL-terminated.
 * Returns the length, or -1 with errno. */
static ssize_t
read_small(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -1;
	while (got < len - 1) {
		ssize_t r = read(fd, buf + got, len - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

int
procinfo_read(pid_t pid, struct proc_info *ret)
{
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	if (procinfo_parse_stat(buf, ret) < 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* argv of pid joined by spaces into pi->cmdline; "[comm]" when empty
 * (kernel threads, zombies). Newlines and tabs become spaces, other control
 * characters '?' (the JSON view carries it as it is otherwise). */
static void
read_cmdline(struct proc_info *pi)
{
	char path[64];
	size_t len = sizeof(pi->cmdline);
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pi->pid);
	n = read_small(path, pi->cmdline, len);
	if (n <= 0) { /* the comm may hold control characters too */
		snprintf(pi->cmdline, len, "[%s]", pi->comm);
		n = (ssize_t)strlen(pi->cmdline);
	}
	while (n > 0 && pi->cmdline[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)pi->cmdline[i];
		if (c == '\0' || c == '\n' || c == '\t')
			pi->cmdline[i] = ' ';
		else if (c < 0x20 || c == 0x7f)
			pi->cmdline[i] = '?';
	}
	pi->cmdline[n] = '\0';
}

struct proc_info *
procinfo_scan(size_t *ret_n)
{
	DIR *d = opendir("/proc");
	struct proc_info *all = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		struct stat st;
		if (*end != '\0' || pid <= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			all = xrealloc(all, cap * sizeof(*all));
		}
		if (procinfo_read((pid_t)pid, &all[n]) < 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0)
			continue;
		all[n].uid = st.st_uid;
		read_cmdline(&all[n]);
		n++;
	}
	closedir(d);
	*ret_n = n;
	return all ? all : xcalloc(1, sizeof(*all));
}

uint64_t
procinfo_cpu_ms(const struct proc_info *p)
{
	long tck = sysconf(_SC_CLK_TCK);
	if (tck <= 0)
		tck = 100;
	return (p->utime + p->stime) * 1000 / (uint64_t)tck;
}

uint64_t
procinfo_rss_bytes(const struct proc_info *p)
{
	long page = sysconf(_SC_PAGESIZE);
	return p->rss_pages > 0 ? (uint64_t)p->rss_pages * (uint64_t)(page > 0 ? page : 4096) : 0;
}

const char *
procinfo_user(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, len, "%s", res->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
	return buf;
}

#define DELETED " (deleted)"

bool
procinfo_path_within(const char *path, const char *dir)
{
	size_t dlen = strlen(dir), plen = strlen(path);
	const size_t dl = sizeof(DELETED) - 1;

	if (path[0] != '/' || dir[0] != '/')
		return false;
	while (dlen > 0 && dir[dlen - 1] == '/')
		dlen--;
	if (plen >= dl && strcmp(path + plen - dl, DELETED) == 0)
		plen -= dl;
	if (plen < dlen || strncmp(path, dir, dlen) != 0)
		return false;
	return plen == dlen || path[dlen] == '/';
}

/* Does the symlink name in atfd (a /proc link) point at dir or below? */
static bool
link_within(int atfd, const char *name, const char *dir)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(atfd, name, buf, sizeof(buf) - 1);

	if (n <= 0)
		return false;
	buf[n] = '\0';
	return procinfo_path_within(buf, dir);
}

/* Does the process whose /proc directory is pidfd work in dir (whose
 * stat is *dst)? */
static bool
pid_works_in(int pidfd, const char *dir, const struct stat *dst)
{
	struct stat st;
	struct dirent *de;
	bool found = false;

	if (fstatat(pidfd, "cwd", &st, 0) == 0 && st.st_dev == dst->st_dev &&
	    st.st_ino == dst->st_ino)
		return true;
	if (link_within(pidfd, "cwd", dir) || link_within(pidfd, "root", dir))
		return true;
	int fdsfd = openat(pidfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fdsfd < 0)
		return false;
	DIR *fds = fdopendir(fdsfd); /* takes fdsfd */
	if (!fds) {
		close(fdsfd);
		return false;
	}
	while (!found && (de = readdir(fds))) {
		if (de->d_name[0] != '.')
			found = link_within(dirfd(fds), de->d_name, dir);
	}
	closedir(fds);
	return found;
}

pid_t
procinfo_dir_user(int fd)
{
	char self[64], dir[PATH_MAX];
	struct stat dst;
	struct dirent *de;
	pid_t found = 0, me = getpid();

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(self, dir, sizeof(dir) - 1);
	if (n <= 0 || fstat(fd, &dst) < 0)
		return -1;
	dir[n] = '\0';
	if (dir[0] != '/')
		return -1;
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	while (!found && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == me)
			continue;
		_cleanup_close_ int pidfd =
		    openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pidfd >= 0 && pid_works_in(pidfd, dir, &dst))
			found = (pid_t)pid;
	}
	closedir(d);
	return found;
}

/* qsort_r order of indexes into arg (the processes) by pid. */
static int
by_pid(const void *a, const void *b, void *arg)
{
	const struct proc_info *all = arg;
	pid_t x = all[*(const size_t *)a].pid, y = all[*(const size_t *)b].pid;
	return (x > y) - (x < y);
}

/* Is pid one of the positive entries of set? */
static bool
pid_in(pid_t pid, const pid_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (set[i] > 0 && set[i] == pid)
			return true;
	}
	return false;
}

/* Index in sorted (k entries, by pid) of the process pid, or -1. */
static ssize_t
find_pid(const struct proc_info *all, const size_t *sorted, size_t k, pid_t pid)
{
	size_t lo = 0, hi = k;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		pid_t p = all[sorted[mid]].pid;
		if (p == pid)
			return (ssize_t)mid;
		if (p < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

size_t
procinfo_select(const struct proc_info *all, size_t n, const pid_t *roots, size_t nroots,
                const pid_t *pgids, size_t npgids, struct proc_row *out, size_t cap)
{
	_cleanup_free_ size_t *sorted = xcalloc(n + 1, sizeof(*sorted));
	_cleanup_free_ bool *sel = xcalloc(n + 1, sizeof(*sel));
	_cleanup_free_ bool *done = xcalloc(n + 1, sizeof(*done));
	_cleanup_free_ struct proc_row *stack = xcalloc(n + 1, sizeof(*stack));
	size_t count = 0, top = 0;

	for (size_t i = 0; i < n; i++)
		sorted[i] = i;
	qsort_r(sorted, n, sizeof(*sorted), by_pid, (void *)all);
	/* sel[] is indexed like sorted[]. */
	for (size_t j = 0; j < n; j++) {
		const struct proc_info *p = &all[sorted[j]];
		sel[j] = pid_in(p->pid, roots, nroots) || pid_in(p->pgrp, pgids, npgids);
	}
	/* Descendants: a fixed point, one tree level per pass. */
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t j = 0; j < n; j++) {
			if (sel[j])
				continue;
			ssize_t parent = find_pid(all, sorted, n, all[sorted[j]].ppid);
			if (parent >= 0 && sel[parent]) {
				sel[j] = true;
				changed = true;
			}
		}
	}
	/* Roots in descending pid order on the stack, so the lowest pops first. */
	for (size_t j = n; j-- > 0;) {
		ssize_t parent = find_pid(all, sorted, n, all[sorted[j]].ppid);
		if (sel[j] && (parent < 0 || !sel[parent] || (size_t)parent == j))
			stack[top++] = (struct proc_row){.idx = j, .depth = 0};
	}
	while (top > 0 && count < cap) {
		struct proc_row r = stack[--top];
		if (done[r.idx])
			continue;
		done[r.idx] = true;
		out[count++] = (struct proc_row){.idx = sorted[r.idx], .depth = r.depth};
		pid_t pid = all[sorted[r.idx]].pid;
		for (size_t j = n; j-- > 0;) {
			if (sel[j] && !done[j] && j != r.idx && all[sorted[j]].ppid == pid &&
			    top < n)
				stack[top++] = (struct proc_row){.idx = j, .depth = r.depth + 1};
		}
	}
	return count;
}
