/*
 * Processes as `spex inspect` shows them: /proc/<pid>/stat parsed for the
 * fields the CLI needs (start time for liveness, cpu time, RSS), and the
 * selection of a task's processes in tree order. Parsing and selection are
 * pure; procinfo_read() and procinfo_scan() read /proc.
 */
#ifndef TOOLS_PROCINFO_H
#define TOOLS_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_info {
	pid_t pid, ppid, pgrp, session;
	char state;           /* 'R', 'S', 'Z'... */
	char comm[32];        /* field 2 without its parentheses, cut to fit */
	uint64_t utime;       /* field 14, clock ticks */
	uint64_t stime;       /* field 15, clock ticks */
	uint64_t start_ticks; /* field 22, clock ticks since boot */
	int64_t rss_pages;    /* field 24 */
	/* Filled by procinfo_scan() only: */
	uid_t uid;         /* owner of /proc/<pid> (the effective uid) */
	char cmdline[512]; /* argv joined by spaces, cut; "[comm]" when empty */
};

/*
 * Parse the text of /proc/<pid>/stat into *ret (uid and cmdline zeroed).
 * The comm field may hold spaces and parentheses, ") " included: it ends at
 * the last ')'. Returns 0, or -1 when the text is malformed or too short to
 * hold field 24.
 */
int procinfo_parse_stat(const char *buf, struct proc_info *ret);

/* Read and parse /proc/<pid>/stat. Returns 0, or -1 with errno (ENOENT when
 * there is no such process; EINVAL when the text is malformed). */
int procinfo_read(pid_t pid, struct proc_info *ret);

/* Every process in /proc, with uid and cmdline, in a malloc'd array (count
 * in *ret_n); processes vanishing mid-scan are skipped. NULL only when /proc
 * cannot be listed. */
struct proc_info *procinfo_scan(size_t *ret_n);

/* The cpu time (user + system) of p in milliseconds. */
uint64_t procinfo_cpu_ms(const struct proc_info *p);

/* The resident set of p in bytes. */
uint64_t procinfo_rss_bytes(const struct proc_info *p);

/* The name of uid (getpwuid_r), or its number, in buf; returns buf. */
const char *procinfo_user(uid_t uid, char *buf, size_t len);

/*
 * Is the link target path (what readlink of /proc/PID/cwd or /proc/PID/fd/N
 * gives; a " (deleted)" at its end is ignored) the directory dir or below
 * it? dir is absolute; a '/' at its end is ignored. Targets that are not
 * paths ("socket:[N]", "pipe:[N]") are not. Pure.
 */
bool procinfo_path_within(const char *path, const char *dir);

/*
 * Does a process work in the directory open as fd: is its working
 * directory, its root, or one of its open files (/proc/PID/cwd, root,
 * fd/N) the directory or below it (procinfo_path_within() against the
 * directory's resolved path), or its working directory that very inode
 * (which also catches a process of another mount namespace whose cwd is
 * the directory)? Returns the first such pid, 0 when none (processes we may
 * not look at are not seen: run as root), or -1 when the directory's own
 * path cannot be resolved through /proc. Our own process is skipped.
 */
pid_t procinfo_dir_user(int fd);

/* One row of a process tree: the index of a process in the scanned array
 * and its depth (0 for a root). */
struct proc_row {
	size_t idx;
	int depth;
};

/*
 * The processes of a task in tree order: every process that is one of
 * roots[] or descends from one, and every process whose process group is
 * one of pgids[] (a task's command runs in its own group; its orphans keep
 * the group). A selected process whose parent is not selected is a root of
 * the forest; children follow their parent, ordered by pid, and roots are
 * ordered by pid. Writes at most cap rows into out and returns the number
 * written. Pure.
 */
size_t procinfo_select(const struct proc_info *all, size_t n, const pid_t *roots, size_t nroots,
                       const pid_t *pgids, size_t npgids, struct proc_row *out, size_t cap);

#endif /* TOOLS_PROCINFO_H */
