/*
 * The executor's files under <sandbox>/.spex/ (docs/state.md) as plain file
 * operations, without an event loop: the atomic replacement of a whole file
 * (state.json) and a line log bounded by rewriting (disk-history.jsonl).
 *
 * Neither ever leaves a half-written file behind: a failed replacement
 * keeps the old file, a failed append is cut off again.
 */
#ifndef EXECUTOR_CORE_STATEFILE_H
#define EXECUTOR_CORE_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/*
 * Replace dir/name with the len bytes of buf, atomically: they are written
 * to dir/name.tmp (created O_CLOEXEC|O_NOFOLLOW, mode 0644, truncated if a
 * crashed writer left it), fsync'ed, and renamed over dir/name. On any
 * failure (ENOSPC, EDQUOT, EIO, ...) the temp file is unlinked, dir/name is
 * left as it was, and -1 is returned with *err naming the file and the
 * reason ("write /x/.spex/state.json.tmp: No space left on device"); the
 * errno is err->errnum. One writer per file: the temp name is fixed.
 */
int statefile_write(const char *dir, const char *name, const void *buf, size_t len,
                    struct spx_error *err);

/* A file of lines bounded in length (disk-history.jsonl). */
struct linelog {
	char *dir, *name;
	size_t max_lines;  /* never more lines than this */
	size_t keep_lines; /* lines left after a rewrite (the newest) */
	size_t lines;      /* lines now in the file, once counted */
	bool counted;      /* the file was read once (first append) */
};

/* Set *l up for dir/name; nothing is opened yet. keep_lines <= max_lines. */
void linelog_init(struct linelog *l, const char *dir, const char *name, size_t max_lines,
                  size_t keep_lines);

/*
 * Append line (without its '\n'; one is added). The first call counts the
 * lines already in the file (and cuts a torn last line, left by a crash, off
 * it); later calls trust the count in memory. When the line would make the
 * file longer than max_lines, the file is rewritten atomically
 * (statefile_write) with its newest keep_lines - 1 lines and then line, so
 * it holds keep_lines lines. If the append fails, the file is truncated
 * back to its old length. Returns 0, or -1 with *err naming the file.
 */
int linelog_append(struct linelog *l, const char *line, struct spx_error *err);

/* Release what linelog_init() allocated. NULL-safe; the file stays. */
void linelog_free(struct linelog *l);

#endif /* EXECUTOR_CORE_STATEFILE_H */
