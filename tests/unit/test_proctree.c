/* /proc stat parsing and descendant search. */
#include "harness.h"
#include "proctree.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

TEST(parse_stat)
{
	struct proc_entry e;
	CHECK_EQ_INT(proc_stat_parse("42 (java) S 7 42 42 0 -1 4194560", &e), 0);
	CHECK(e.pid == 42 && e.ppid == 7 && e.pgrp == 42 && e.session == 42 && e.state == 'S');
	/* comm with spaces and parentheses: the last ')' ends it. */
	CHECK_EQ_INT(proc_stat_parse("9 (a) b (c)) Z 1 2 3 0", &e), 0);
	CHECK(e.pid == 9 && e.ppid == 1 && e.state == 'Z');
	CHECK_EQ_INT(proc_stat_parse("garbage", &e), -1);
	CHECK_EQ_INT(proc_stat_parse("1 (x)", &e), -1);
}

TEST(descendants)
{
	struct proc_entry ents[] = {
	    {.pid = 1, .ppid = 0},   {.pid = 10, .ppid = 1},  {.pid = 11, .ppid = 10},
	    {.pid = 12, .ppid = 11}, {.pid = 13, .ppid = 10}, {.pid = 20, .ppid = 1},
	    {.pid = 14, .ppid = 12},
	};
	pid_t out[16];
	size_t n = proc_descendants(ents, 7, 10, out, 16);
	CHECK_EQ_INT(n, 4);
	int seen = 0;
	for (size_t i = 0; i < n; i++)
		seen |= 1 << (out[i] - 10);
	CHECK_EQ_INT(seen, (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4));
	CHECK_EQ_INT(proc_descendants(ents, 7, 20, out, 16), 0);
	CHECK_EQ_INT(proc_descendants(ents, 7, 10, out, 2), 2); /* capped */
}

TEST(scan_finds_own_child)
{
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	size_t n = 0;
	struct proc_entry *ents = proc_scan(&n);
	CHECK(ents != NULL && n > 0);
	pid_t out[64];
	size_t nd = proc_descendants(ents, n, getpid(), out, 64);
	int found = 0;
	for (size_t i = 0; i < nd; i++)
		found |= out[i] == child;
	CHECK(found);
	free(ents);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

int
main(void)
{
	RUN(parse_stat);
	RUN(descendants);
	RUN(scan_finds_own_child);
	return harness_done();
}
