/*
 * Head/tail capping of a task's output file.
 *
 * The file keeps the first `head` bytes of the output and its most recent
 * bytes (at least `tail`, at most tail + slack), with one fixed-width marker
 * line in between saying how many bytes were dropped there:
 *
 *	[head bytes]\n[spex: <20 digits> bytes dropped here]\n[tail bytes]
 *
 * Until head + tail bytes have been written the file is the output exactly.
 * Writes use pwrite at explicit offsets (the fd must not be O_APPEND).
 */
#ifndef SANDBOX_LOGCAP_H
#define SANDBOX_LOGCAP_H

#include <stddef.h>
#include <stdint.h>

struct logcap;

/* Take over writing to fd (a regular file opened O_RDWR: compaction reads
 * back; not O_APPEND; output goes after its current
 * size). tail > 0. Never NULL (aborts on OOM). Does not own fd. */
struct logcap *logcap_new(int fd, uint64_t head, uint64_t tail);
/* Append len bytes. 0, or -1 with errno (the bytes are counted as dropped). */
int logcap_write(struct logcap *lc, const void *buf, size_t len);
uint64_t logcap_dropped(const struct logcap *lc);
uint64_t logcap_total(const struct logcap *lc);
/* Free (the file stays as it is). NULL-safe. */
void logcap_free(struct logcap *lc);

#endif /* SANDBOX_LOGCAP_H */
