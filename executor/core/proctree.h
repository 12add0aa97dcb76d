/*
 * Process-tree bookkeeping for kills: parse /proc/<pid>/stat and find every
 * descendant of a process. The parsing and the tree walk are pure; the /proc
 * scan is the one adapter function at the end.
 */
#ifndef EXECUTOR_CORE_PROCTREE_H
#define EXECUTOR_CORE_PROCTREE_H

#include <stddef.h>
#include <sys/types.h>

struct proc_entry {
	pid_t pid, ppid, pgrp, session;
	char state; /* 'R', 'S', 'Z', ... */
};

/* Parse the content of /proc/<pid>/stat (the comm field may hold spaces and
 * parentheses; the last ')' ends it). Returns 0, or -1 if malformed. */
int proc_stat_parse(const char *buf, struct proc_entry *ret);

/* A process's cpu times and start time, in clock ticks (sysconf(_SC_CLK_TCK)),
 * and its resident set. */
struct proc_times {
	unsigned long long utime, stime; /* fields 14 and 15 */
	unsigned long long start_ticks;  /* field 22: start time, ticks since boot */
	long long rss_pages;             /* field 24 */
};

/* Parse fields 14, 15, 22 and 24 of /proc/<pid>/stat content (after the
 * comm, which may hold spaces and parentheses: the last ')' ends it). The
 * one parser of those fields, for the executor's state and the CLI's process
 * view. Returns 0, or -1 if malformed or shorter than 24 fields. */
int proc_stat_times(const char *buf, struct proc_times *ret);

/* Resident pages (the second field) of /proc/<pid>/statm content. Returns 0,
 * or -1 if malformed. */
int proc_statm_resident(const char *buf, unsigned long long *ret_pages);

/* Write into out (capacity cap) the pids of every descendant of root among
 * the n entries (root itself excluded), parents before children. Returns the
 * number written (at most cap). Zombies are included. */
size_t proc_descendants(const struct proc_entry *ents, size_t n, pid_t root, pid_t *out,
                        size_t cap);

/* Read every /proc/<pid>/stat into a malloc'd array (count in *ret_n).
 * Processes vanishing mid-scan are skipped. Returns NULL only if /proc
 * cannot be opened. */
struct proc_entry *proc_scan(size_t *ret_n);

#endif /* EXECUTOR_CORE_PROCTREE_H */
