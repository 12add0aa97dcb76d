/*
 * Head/tail capping of a task's stdout/stderr file.
 *
 * task-init drains the command's output pipes into the sandbox files through
 * a logcap, so a chatty JVM can never fill the disk, and both its start-up
 * lines (the head) and its last lines (the crash) are kept.
 *
 * File format. `base` is the file's size when logcap_new() took it over;
 * bytes before it are never touched. H = head, T = tail (0 is taken as 1),
 * ML = the marker's length (fixed per logcap), and
 *
 *	slack = max(T / 4, min(T, 64 KiB))
 *	C     = H + ML + T
 *
 * With `in` the bytes given to logcap_write() so far and n = |in|:
 *
 *   n <= C:  file = prefix + in                    (exactly the input)
 *   n >  C:  file = prefix + in[0, H) + marker(n - H - K) + in[n - K, n)
 *
 * where K, the tail kept, satisfies T <= K <= T + slack and follows one
 * deterministic rule: at the write that takes n past C, K = n - H - ML; at
 * every later write of len bytes K += len; and whenever K > T + slack after
 * a write, K = T (a compaction; on a full disk also earlier, see Errors).
 * So the file never exceeds
 * base + H + ML + T + slack bytes and, below the cap, nothing is lost.
 * The marker replaces the ML input bytes it stands on (they are counted as
 * dropped), so crossing the cap moves nothing and the file size never jumps.
 *
 * The marker (at offset base + H; 20 zero-padded digits, so it is rewritten
 * in place as the count grows; the leading newline because H may cut a line):
 *
 *	"\n[spex: %020llu bytes dropped here; SPEX_LOG_HEAD=%llu SPEX_LOG_TAIL=%llu]\n"
 *
 * e.g. "\n[spex: 00000000000123456789 bytes dropped here; SPEX_LOG_HEAD=4194304
 * SPEX_LOG_TAIL=33554432]\n" (one line; ML = 95 for the defaults). The count is
 * exactly the number of input bytes not in the file (logcap_dropped()),
 * rewritten after every call that changes it.
 *
 * Cost. A write costs O(min(len, T + slack)) bytes of pwrite (a write larger
 * than T only writes its last T bytes); a compaction also moves at most
 * T - len bytes down with pread/pwrite in 1 MiB chunks, all within the call,
 * so that the format above holds whenever no call is running. That is the
 * worst case per call (32 MiB from the page cache for the defaults: tens of
 * milliseconds, once per slack = 8 MiB of input); amortized, each input byte
 * is moved at most T / slack <= 4 times. (FALLOC_FL_COLLAPSE_RANGE was not
 * used: ext4 and XFS write the whole range back synchronously first.)
 *
 * Errors. A failed pwrite (ENOSPC, EFBIG, EIO, EBADF...) loses that call's
 * bytes; they are counted in logcap_dropped() and in the marker. The
 * format above then holds with `in` read as the bytes actually written (and
 * n, C, K measured on them), except that the marker's count is still every
 * input byte not in the file; K may be below T until T more bytes were
 * written. Lost bytes are never written later. When the disk (quota,
 * RLIMIT_FSIZE) is full and the tail region is longer than T, logcap
 * compacts at once instead: the kept tail moves into blocks the file
 * already has, so the tail keeps following the output and nothing is lost.
 * If a compaction cannot read the file back, its old tail is dropped too
 * (counted) and the tail restarts with the current write. A marker or a
 * truncation that could not be written is retried by the next call and by
 * logcap_free(); until a complete marker was written once, the write that
 * crosses the cap and the ones after it lose their tail bytes (appending
 * would leave a hole), and the file ends with the part of the marker that
 * fitted (its count as of that attempt).
 *
 * The descriptor: a regular file, opened O_RDWR (or O_WRONLY: logcap then
 * reopens /proc/self/fd/N read-only for compaction; if that fails,
 * compactions keep only the current write). The file position is ignored
 * and unchanged (pread/pwrite only). On a read-only descriptor every write
 * fails with EBADF (counted as dropped). O_APPEND descriptors are reopened
 * O_RDWR through /proc; if that fails, and for anything but a regular file,
 * logcap writes through uncapped. The logcap must be the file's only writer.
 * Single-threaded; no allocation except in logcap_new() and compactions.
 */
#ifndef SANDBOX_LOGCAP_H
#define SANDBOX_LOGCAP_H

#include <stddef.h>
#include <stdint.h>

struct logcap;

/* Take over writing to fd (see above; fd stays the caller's and is not
 * closed). head and tail in bytes. Never NULL (aborts on OOM). */
struct logcap *logcap_new(int fd, uint64_t head, uint64_t tail);

/* Append len bytes of output. Returns 0, or -1 with errno when a write
 * failed (lost bytes are counted as dropped; the caller counts and goes
 * on). len 0 only retries pending repairs. */
int logcap_write(struct logcap *lc, const void *buf, size_t len);

/* Input bytes not in the file (dropped between head and tail, or lost). */
uint64_t logcap_dropped(const struct logcap *lc);

/* Input bytes given to logcap_write() in total. */
uint64_t logcap_total(const struct logcap *lc);

/* Write any pending marker or truncation (best effort) and free; the file
 * stays as it is and fd stays open. NULL-safe. */
void logcap_free(struct logcap *lc);

#endif /* SANDBOX_LOGCAP_H */
