/*
 * The executor's files under <sandbox>/.spex/ (docs/state.md) as plain file
 * operations, without an event loop: the atomic replacement of a whole file
 * (state.json) and a line log bounded by rewriting (disk-history.jsonl),
 * both relative to a directory fd (the caller opens .spex/ once, without
 * following a symlink), and the decision which write failures to log.
 *
 * Neither ever leaves a half-written file behind: a failed replacement
 * keeps the old file, a failed append is cut off again. Only the writes
 * asked to be durable wait for the disk (fsync): routine ones must not
 * hold up the executor's event loop on a busy disk.
 */
#ifndef EXECUTOR_CORE_STATEFILE_H
#define EXECUTOR_CORE_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/*
 * Replace name (one path component) in the directory open at dirfd with
 * the len bytes of buf, atomically: a name.tmp left by a crashed writer is
 * unlinked, the bytes are written to a new name.tmp (created O_EXCL |
 * O_NOFOLLOW | O_CLOEXEC, mode 0644 before the umask) and renamed over
 * name. Without durable nothing waits for the disk: after a crash or a
 * power loss name is the old or the new file (on file systems that order
 * a rename after the data it replaces, as ext4 does; elsewhere it may be
 * empty). With durable the temp file is fsync'ed before the rename and the
 * directory after it: once 0 is returned the new file survives a crash.
 * On any failure (ENOSPC, EDQUOT, EIO, ...) the temp file is unlinked,
 * name is left as it was, and -1 is returned with *err naming the step and
 * the file ("write state.json.tmp: No space left on device"; the caller
 * adds the directory); the errno is err->errnum. Only a failed fsync of
 * the directory (durable) leaves the new file in place, maybe not on disk:
 * -1 then too ("fsync directory of state.json"). One writer per file: the
 * temp name is fixed.
 */
int statefile_write(int dirfd, const char *name, const void *buf, size_t len, bool durable,
                    struct spx_error *err);

/* A file of lines bounded in length (disk-history.jsonl). */
struct linelog {
	char *name;
	size_t max_lines;  /* never more lines than this */
	size_t keep_lines; /* lines left after a rewrite (the newest) */
	size_t lines;      /* lines now in the file, once counted */
	bool counted;      /* the file was read once (first append) */
	dev_t dir_dev;     /* the directory it was counted in */
	ino_t dir_ino;
};

/* Set *l up for the file name (one path component); nothing is opened
 * yet. keep_lines <= max_lines. */
void linelog_init(struct linelog *l, const char *name, size_t max_lines, size_t keep_lines);

/*
 * Append line (without its '\n'; one is added) to the file in the
 * directory open at dirfd. The first call (and the first in another
 * directory than the last) counts the lines already in the file (and cuts
 * a torn last line, left by a crash, off it); later calls trust the count
 * in memory. When the line would make the file longer than max_lines, the
 * file is rewritten atomically (statefile_write, not durable) with its
 * newest keep_lines - 1 lines and then line, so it holds keep_lines lines.
 * If the append fails, the file is truncated back to its old length. The
 * file is only ever changed in place when it is a regular file with one
 * link (else EINVAL or EMLINK), and opening it never blocks (a FIFO).
 * Nothing is fsync'ed. Returns 0, or -1 with *err naming the file.
 */
int linelog_append(struct linelog *l, int dirfd, const char *line, struct spx_error *err);

/* Release what linelog_init() allocated. NULL-safe; the file stays. */
void linelog_free(struct linelog *l);

/*
 * Which write failures are worth a log line, for each of the files
 * separately: a failure is logged once per errno until that same file is
 * written again, and that success once ("recovered"). Files fail apart: on
 * a nearly full disk the small state.json may be replaced while the large
 * history rewrite keeps failing, and one file's success must not make the
 * other's next failure news again.
 */
enum statefile_id { STATEFILE_STATE, STATEFILE_HISTORY, STATEFILE_NFILES };
enum statefile_say {
	STATEFILE_SAY_NOTHING,   /* already said, or nothing to say */
	STATEFILE_SAY_ERROR,     /* a failure of a kind not logged for this file */
	STATEFILE_SAY_RECOVERED, /* a success after failures of this file */
};
#define STATEFILE_LOGGED_MAX 16

struct statefile_file_health {
	bool failing;                     /* the last write of this file failed */
	int logged[STATEFILE_LOGGED_MAX]; /* errnos logged since its last success */
	size_t n_logged;
};

struct statefile_health {
	struct statefile_file_health file[STATEFILE_NFILES];
};

/* A write of file ended: errnum 0 for a success, else its errno. Updates
 * *h (zero-initialised at first) and returns what to log. Pure. */
enum statefile_say statefile_health_note(struct statefile_health *h, enum statefile_id file,
                                         int errnum);

#endif /* EXECUTOR_CORE_STATEFILE_H */
