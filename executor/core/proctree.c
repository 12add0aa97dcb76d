#include "proctree.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
proc_stat_parse(const char *buf, struct proc_entry *ret)
{
	const char *close = strrchr(buf, ')');
	int pid, ppid, pgrp, session;
	char state;

	if (!close || sscanf(buf, "%d", &pid) != 1)
		return -1;
	if (sscanf(close + 1, " %c %d %d %d", &state, &ppid, &pgrp, &session) != 4)
		return -1;
	ret->pid = pid;
	ret->ppid = ppid;
	ret->pgrp = pgrp;
	ret->session = session;
	ret->state = state;
	return 0;
}

int
proc_stat_times(const char *buf, struct proc_times *ret)
{
	const char *p = strrchr(buf, ')');
	unsigned long long v[22];

	if (!p)
		return -1;
	p++;
	/* Fields 3 (state) to 24 follow; keep 14, 15, 22 and 24. */
	for (int field = 3; field <= 24; field++) {
		char *end;
		while (*p == ' ')
			p++;
		if (field == 3) {
			if (!*p || *p == ' ')
				return -1;
			p++;
			continue;
		}
		if (!(*p >= '0' && *p <= '9') && *p != '-')
			return -1;
		v[field - 3] = strtoull(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	ret->utime = v[14 - 3];
	ret->stime = v[15 - 3];
	ret->start_ticks = v[22 - 3];
	ret->rss_pages = (long long)v[24 - 3];
	return 0;
}

int
proc_statm_resident(const char *buf, unsigned long long *ret_pages)
{
	unsigned long long size, resident;
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return -1;
	*ret_pages = resident;
	return 0;
}

size_t
proc_descendants(const struct proc_entry *ents, size_t n, pid_t root, pid_t *out, size_t cap)
{
	size_t count = 0, head = 0;

	/* Breadth-first: out[] doubles as the queue of parents still to expand. */
	pid_t parent = root;
	for (;;) {
		for (size_t i = 0; i < n && count < cap; i++) {
			if (ents[i].ppid == parent && ents[i].pid != root)
				out[count++] = ents[i].pid;
		}
		if (head >= count)
			break;
		parent = out[head++];
	}
	return count;
}

struct proc_entry *
proc_scan(size_t *ret_n)
{
	DIR *d = opendir("/proc");
	struct proc_entry *ents = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		char path[300], buf[512];
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			ents = xrealloc(ents, cap * sizeof(*ents));
		}
		if (proc_stat_parse(buf, &ents[n]) == 0)
			n++;
	}
	closedir(d);
	*ret_n = n;
	return ents ? ents : xcalloc(1, sizeof(*ents));
}
