/*
 * libFuzzer target: the sandbox path classifier. The input is a relative
 * path, byte for byte (up to the first NUL). Besides not crashing, it checks
 * that the category is valid, that the scanner's component-at-a-time walk
 * agrees with classify_path(), and that "./" prefixes and trailing slashes
 * change nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
probe_yes(void *arg, const char *name, const char *rel)
{
	(void)arg;
	(void)name;
	(void)rel;
	return 1;
}

/* The scanner's way: one component at a time, contexts passed down. */
static enum disk_cat
walk(char *path, int is_dir)
{
	struct cls_ctx ctx;
	enum disk_cat cat = CAT_OTHER;
	char *comp[2048];
	size_t n = 0;

	for (char *p = path;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (*p && strcmp(p, ".") != 0 && n < 2048)
			comp[n++] = p;
		if (!slash)
			break;
		p = slash + 1;
	}
	classify_root(&ctx);
	for (size_t i = 0; i < n; i++) {
		struct cls_ctx child;
		int last = i + 1 == n;
		cat = classify_entry(&ctx, comp[i], last ? is_dir : 1, NULL, NULL, &child);
		if (!last)
			ctx = child;
	}
	return cat;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4000)
		return 0;
	char *path = malloc(size + 1);
	char *alt = malloc(size + 4);
	memcpy(path, data, size);
	path[size] = '\0';
	size_t len = strlen(path);

	for (int is_dir = 0; is_dir <= 1; is_dir++) {
		enum disk_cat cat = classify_path(path, is_dir);
		if ((unsigned)cat >= CAT_COUNT)
			abort();
		if (strcmp(disk_cat_name(cat), "invalid") == 0)
			abort();
		if ((unsigned)classify_path_probe(path, is_dir, probe_yes, NULL) >= CAT_COUNT)
			abort();

		memcpy(alt, "./", 2);
		memcpy(alt + 2, path, len + 1);
		if (classify_path(alt, is_dir) != cat)
			abort();
		memcpy(alt, path, len);
		memcpy(alt + len, "/", 2);
		if (len && classify_path(alt, is_dir) != cat)
			abort();
		memcpy(alt, path, len + 1);
		if (walk(alt, is_dir) != cat)
			abort();
	}
	/* A name without wildcards matches itself as a pattern. */
	const char *name = strrchr(path, '/');
	name = name ? name + 1 : path;
	if (!strpbrk(name, "*#") && !classify_glob(name, name))
		abort();
	free(path);
	free(alt);
	return 0;
}
