/*
 * Spark categories for the bytes of a sandbox.
 *
 * Every entry of a sandbox lands in exactly one category, decided from its
 * path relative to the sandbox root (its components) and whether it is a
 * directory. The rules live in one ordered table in classify.c (see
 * docs/disk-report.md); this header offers them two ways:
 *
 *  - classify_path(): a pure function of a relative path, for tests, tools
 *    and the fuzzer;
 *  - classify_entry(): one component at a time, for the scanner, which keeps
 *    the context of each directory (struct cls_ctx) so that a name is matched
 *    only against the rules that can apply where it lives (everything below a
 *    `dist` directory is `dist` without looking at names again).
 *
 * One rule needs to look inside a directory: a top-level directory holding
 * bin/spark-class is the Spark distribution whatever its name. That rule is
 * consulted through a probe callback; without one it never matches.
 */
#ifndef SANDBOX_CLASSIFY_H
#define SANDBOX_CLASSIFY_H

#include <stdint.h>

enum disk_cat {
	CAT_SHUFFLE,    /* blockmgr-* / ** / shuffle_*.data|.index|.checksum (+ temp files) */
	CAT_BLOCKS,     /* everything else under blockmgr-*: rdd_*, broadcast_*, temp_* */
	CAT_SPARK_TEMP, /* under top-level spark-<uuid>/ dirs: userFiles-*, ... */
	CAT_DIST,       /* the extracted Spark distribution, fetched archives and jars */
	CAT_LOGS,       /* stdout*, stderr*, *.log, *.log.N */
	CAT_DUMPS,      /* hs_err_pid*.log, *.hprof, core, core.* */
	CAT_SPEX,       /* the executor's own .spex/ directory */
	CAT_OTHER,      /* everything else, the sandbox root directory included */
	CAT_COUNT
};

/* The category's name as used in labels and JSON ("shuffle", "blocks",
 * "spark_temp", "dist", "logs", "dumps", "spex", "other"); "invalid" for a
 * value out of range. Never NULL. */
const char *disk_cat_name(enum disk_cat cat);

/* The category named name (exactly as disk_cat_name() spells it), or -1. */
int disk_cat_from_name(const char *name);

/* The classification context of one directory's entries. Plain data: copy
 * it freely. Obtain the root's from classify_root() and every other one from
 * classify_entry(). */
struct cls_ctx {
	uint8_t zone; /* which rules may apply to the entries (classify.c) */
	uint8_t cat;  /* the category of an entry no rule claims */
};

/* Probe for content-based rules: does the directory `name` (an entry of the
 * directory being classified) contain the non-directory `rel` ("bin/spark-class"),
 * without following symlinks? Returns 1 if so, else 0. */
typedef int (*classify_probe_fn)(void *arg, const char *name, const char *rel);

/* The context of the sandbox root's entries. */
void classify_root(struct cls_ctx *ret);

/*
 * Classify the entry `name` (one path component, no '/') of the directory
 * whose context is *dir. is_dir is non-zero for a directory (a symlink is not
 * one, whatever it points to). When the entry is a directory and ret_child
 * is not NULL, *ret_child receives the context of its own entries. probe may
 * be NULL (content-based rules then never match). Returns the category of
 * the entry itself.
 */
enum disk_cat classify_entry(const struct cls_ctx *dir, const char *name, int is_dir,
                             classify_probe_fn probe, void *probe_arg, struct cls_ctx *ret_child);

/*
 * The category of relpath, a path relative to the sandbox root made of
 * '/'-separated components (empty and "." components are skipped, ".." is
 * taken as a plain name; "" and "." are the root itself, CAT_OTHER). Every
 * component but the last is a directory; is_dir tells about the last.
 * Pure: touches no file system; the bin/spark-class rule never matches.
 */
enum disk_cat classify_path(const char *relpath, int is_dir);

/* classify_path() with a probe for the content-based rules: probe is called
 * with the top-level component as `name`. */
enum disk_cat classify_path_probe(const char *relpath, int is_dir, classify_probe_fn probe,
                                  void *probe_arg);

/* The glob dialect of the rule table, exposed for tests: '*' matches any run
 * of characters (possibly empty), '#' one or more ASCII digits, anything
 * else itself. Returns 1 on a match of the whole name, else 0. */
int classify_glob(const char *pattern, const char *name);

#endif /* SANDBOX_CLASSIFY_H */
