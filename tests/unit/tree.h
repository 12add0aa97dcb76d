/*
 * Temporary file trees for the unit tests that need a real file system
 * (cleanup, reclaim). One tree per test file at a time:
 *
 *	tree_root_new("spex-x")   mkdtemp /tmp/spex-x-XXXXXX into tree_root
 *	tree_mkdirs("a/b/c")      mkdir -p below the root
 *	tree_file("a/f", n)       n bytes, byte i = 'a' + i % 26, dirs made
 *	tree_exists / tree_size   lstat below the root (no symlink followed)
 *	tree_root_rm()            rm -rf the root
 */
#ifndef TESTS_UNIT_TREE_H
#define TESTS_UNIT_TREE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

static char tree_root[64];

/* root/rel into buf. */
static inline void
tree_path(const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", tree_root, rel);
}

/* mkdir -p root/rel (errors show up in the checks that follow). */
static inline void
tree_mkdirs(const char *rel)
{
	char p[1024], *s;
	tree_path(rel, p, sizeof(p));
	for (s = p + strlen(tree_root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

/* A file of size bytes at root/rel, its directories made; byte i is
 * 'a' + i % 26, so any part of it can be checked. */
static inline void
tree_file(const char *rel, size_t size)
{
	char p[1024], dir[512];
	snprintf(dir, sizeof(dir), "%s", rel);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		tree_mkdirs(dir);
	}
	tree_path(rel, p, sizeof(p));
	FILE *f = fopen(p, "we");
	if (!f)
		return;
	for (size_t i = 0; i < size; i++)
		fputc('a' + (int)(i % 26), f);
	fclose(f);
}

/* 1 when root/rel exists (a dangling symlink counts). */
static inline int
tree_exists(const char *rel)
{
	char p[1024];
	struct stat st;
	tree_path(rel, p, sizeof(p));
	return lstat(p, &st) == 0;
}

/* st_size of root/rel, -1 when absent. */
static inline off_t
tree_size(const char *rel)
{
	char p[1024];
	struct stat st;
	tree_path(rel, p, sizeof(p));
	return lstat(p, &st) == 0 ? st.st_size : -1;
}

/* A fresh /tmp/<prefix>-XXXXXX as the root. Returns 0 or -1. */
static inline int
tree_root_new(const char *prefix)
{
	snprintf(tree_root, sizeof(tree_root), "/tmp/%s-XXXXXX", prefix);
	return mkdtemp(tree_root) ? 0 : -1;
}

/* rm -rf the root. */
static inline void
tree_root_rm(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree_root);
	if (system(cmd) != 0)
		printf("  rm -rf %s failed\n", tree_root);
}

#endif /* TESTS_UNIT_TREE_H */
