/*
 * The Spark categories of a sandbox's entries: one ordered rule table,
 * consulted first match wins, and a zone per directory that says which rules
 * can apply to its entries.
 */
#include "classify.h"
#include "util.h"

#include <string.h>

/* Where a rule applies: the zone of the directory holding the entry. */
enum cls_zone {
	Z_ROOT = 1 << 0,     /* entries of the sandbox root */
	Z_FREE = 1 << 1,     /* entries of any other directory no rule claimed */
	Z_TEMP = 1 << 2,     /* below a top-level spark-<uuid>/ temp dir */
	Z_BLOCKMGR = 1 << 3, /* below a blockmgr-* dir */
	Z_SEALED = 1 << 4,   /* below dist or .spex: no rule applies, the category is fixed */
};

enum rule_type {
	T_FILE, /* anything but a directory (regular files, symlinks, fifos...) */
	T_DIR,
};

enum rule_kind {
	M_EXACT, /* the name equals the pattern */
	M_GLOB,  /* classify_glob(pattern, name) */
	M_PROBE, /* the directory contains the non-directory `pattern` (a relative path) */
};

struct rule {
	uint8_t zones; /* mask of enum cls_zone */
	uint8_t type;  /* enum rule_type */
	uint8_t kind;  /* enum rule_kind */
	uint8_t cat;   /* enum disk_cat of the entry (and the default below a directory) */
	uint8_t enter; /* for directories: the zone of their entries */
	const char *pattern;
};

#define ROOT_FREE (Z_ROOT | Z_FREE)

/*
 * THE rule table. Order matters: the first rule that matches decides. An
 * entry no rule matches takes its directory's default category: `other` at
 * the root and in unclaimed directories, `spark_temp` below spark-<uuid>/,
 * `blocks` below blockmgr-*, and the sealing category below dist and .spex.
 * An unmatched directory passes its zone on to its entries (the root's
 * become "free").
 */
static const struct rule rules[] = {
    /* The executor's own state directory. */
    {Z_ROOT, T_DIR, M_EXACT, CAT_SPEX, Z_SEALED, ".spex"},
    /*
     * The extracted Spark distribution. Spark's own temp dirs are
     * spark-<uuid> (Utils.createTempDir), and a uuid (hex digits and
     * dashes) can never contain "-bin-": the marker separates the two. A
     * top-level directory with bin/spark-class is a distribution whatever
     * its name (a custom build, a renamed extraction).
     */
    {Z_ROOT, T_DIR, M_GLOB, CAT_DIST, Z_SEALED, "spark-*-bin-*"},
    {Z_ROOT, T_DIR, M_PROBE, CAT_DIST, Z_SEALED, "bin/spark-class"},
    /* Spark temp dirs: userFiles-*, and the block manager below. */
    {Z_ROOT, T_DIR, M_GLOB, CAT_SPARK_TEMP, Z_TEMP, "spark-*"},
    /* The block manager's local dirs, at any depth outside dist and .spex. */
    {ROOT_FREE | Z_TEMP, T_DIR, M_GLOB, CAT_BLOCKS, Z_BLOCKMGR, "blockmgr-*"},
    /* Shuffle output, and its temp files <name>.<uuid> (checksums also
     * end in .<algorithm>). Anything else here is `blocks`. */
    {Z_BLOCKMGR, T_FILE, M_GLOB, CAT_SHUFFLE, 0, "shuffle_*.data"},
    {Z_BLOCKMGR, T_FILE, M_GLOB, CAT_SHUFFLE, 0, "shuffle_*.index"},
    {Z_BLOCKMGR, T_FILE, M_GLOB, CAT_SHUFFLE, 0, "shuffle_*.checksum"},
    {Z_BLOCKMGR, T_FILE, M_GLOB, CAT_SHUFFLE, 0, "shuffle_*.data.*"},
    {Z_BLOCKMGR, T_FILE, M_GLOB, CAT_SHUFFLE, 0, "shuffle_*.index.*"},
    {Z_BLOCKMGR, T_FILE, M_GLOB, CAT_SHUFFLE, 0, "shuffle_*.checksum.*"},
    /* The task's stdout/stderr and their rotations and bookkeeping
     * (stdout.1, stdout.logrotate.conf, stdout.logrotate.state). */
    {Z_ROOT, T_FILE, M_GLOB, CAT_LOGS, 0, "stdout*"},
    {Z_ROOT, T_FILE, M_GLOB, CAT_LOGS, 0, "stderr*"},
    /* Archives and jars the Mesos fetcher left at the sandbox root. */
    {Z_ROOT, T_FILE, M_GLOB, CAT_DIST, 0, "*.tgz"},
    {Z_ROOT, T_FILE, M_GLOB, CAT_DIST, 0, "*.tar.gz"},
    {Z_ROOT, T_FILE, M_GLOB, CAT_DIST, 0, "*.zip"},
    {Z_ROOT, T_FILE, M_GLOB, CAT_DIST, 0, "*.jar"},
    /* JVM crash logs, heap dumps and core files: before *.log. */
    {ROOT_FREE, T_FILE, M_GLOB, CAT_DUMPS, 0, "hs_err_pid*.log"},
    {ROOT_FREE, T_FILE, M_GLOB, CAT_DUMPS, 0, "*.hprof"},
    {ROOT_FREE, T_FILE, M_EXACT, CAT_DUMPS, 0, "core"},
    {ROOT_FREE, T_FILE, M_GLOB, CAT_DUMPS, 0, "core.*"},
    /* Any other log, rotated or not. */
    {ROOT_FREE, T_FILE, M_GLOB, CAT_LOGS, 0, "*.log"},
    {ROOT_FREE, T_FILE, M_GLOB, CAT_LOGS, 0, "*.log.#"},
};

static const char *const cat_names[CAT_COUNT] = {
    [CAT_SHUFFLE] = "shuffle", [CAT_BLOCKS] = "blocks", [CAT_SPARK_TEMP] = "spark_temp",
    [CAT_DIST] = "dist",       [CAT_LOGS] = "logs",     [CAT_DUMPS] = "dumps",
    [CAT_SPEX] = "spex",       [CAT_OTHER] = "other",
};

const char *
disk_cat_name(enum disk_cat cat)
{
	if ((unsigned)cat >= CAT_COUNT)
		return "invalid";
	return cat_names[cat];
}

int
disk_cat_from_name(const char *name)
{
	for (int i = 0; i < CAT_COUNT; i++) {
		if (strcmp(cat_names[i], name) == 0)
			return i;
	}
	return -1;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
classify_glob(const char *p, const char *s)
{
	/* Recursion here is bounded by the number of wildcards in the pattern,
	 * never by the name. */
	for (;;) {
		switch (*p) {
		case '\0':
			return *s == '\0';
		case '*': {
			while (*p == '*')
				p++;
			if (*p == '\0')
				return 1;
			if (!strpbrk(p, "*#")) {
				/* A literal tail: compare the end of the name. */
				size_t pl = strlen(p), sl = strlen(s);
				return sl >= pl && memcmp(s + sl - pl, p, pl) == 0;
			}
			for (;; s++) {
				if (classify_glob(p, s))
					return 1;
				if (*s == '\0')
					return 0;
			}
		}
		case '#': {
			size_t run = 0;
			while (is_digit(s[run]))
				run++;
			for (; run > 0; run--) {
				if (classify_glob(p + 1, s + run))
					return 1;
			}
			return 0;
		}
		default:
			if (*p != *s)
				return 0;
			p++;
			s++;
		}
	}
}

static int
rule_matches(const struct rule *r, const char *name, classify_probe_fn probe, void *arg)
{
	switch (r->kind) {
	case M_EXACT:
		return strcmp(r->pattern, name) == 0;
	case M_GLOB:
		return classify_glob(r->pattern, name);
	case M_PROBE:
		return probe && probe(arg, name, r->pattern) == 1;
	}
	return 0;
}

void
classify_root(struct cls_ctx *ret)
{
	ret->zone = Z_ROOT;
	ret->cat = CAT_OTHER;
}

enum disk_cat
classify_entry(const struct cls_ctx *dir, const char *name, int is_dir, classify_probe_fn probe,
               void *probe_arg, struct cls_ctx *ret_child)
{
	enum disk_cat cat = dir->cat;
	uint8_t child_zone = dir->zone == Z_ROOT ? Z_FREE : dir->zone;
	uint8_t child_cat = dir->cat;
	uint8_t type = is_dir ? T_DIR : T_FILE;

	if (dir->zone != Z_SEALED) {
		for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
			const struct rule *r = &rules[i];
			if (!(r->zones & dir->zone) || r->type != type)
				continue;
			if (!rule_matches(r, name, probe, probe_arg))
				continue;
			cat = r->cat;
			if (is_dir) {
				child_zone = r->enter;
				child_cat = r->cat;
			}
			break;
		}
	}
	if (is_dir && ret_child) {
		ret_child->zone = child_zone;
		ret_child->cat = child_cat;
	}
	return cat;
}

enum disk_cat
classify_path_probe(const char *relpath, int is_dir, classify_probe_fn probe, void *probe_arg)
{
	_cleanup_free_ char *copy = xstrdup(relpath);
	_cleanup_free_ char **comp = xcalloc(strlen(relpath) / 2 + 1, sizeof(*comp));
	size_t n = 0;
	struct cls_ctx ctx;

	/* Split into components, dropping empty and "." ones. */
	for (char *p = copy;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (*p && strcmp(p, ".") != 0)
			comp[n++] = p;
		if (!slash)
			break;
		p = slash + 1;
	}
	if (n == 0)
		return CAT_OTHER; /* the root itself */

	classify_root(&ctx);
	for (size_t i = 0; i + 1 < n; i++) {
		struct cls_ctx child;
		classify_entry(&ctx, comp[i], 1, probe, probe_arg, &child);
		if (child.zone == Z_SEALED)
			return (enum disk_cat)child.cat;
		ctx = child;
	}
	return classify_entry(&ctx, comp[n - 1], is_dir, probe, probe_arg, NULL);
}

enum disk_cat
classify_path(const char *relpath, int is_dir)
{
	return classify_path_probe(relpath, is_dir, NULL, NULL);
}
