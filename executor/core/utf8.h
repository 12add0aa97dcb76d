/*
 * UTF-8 checks shared by everything that puts outside text into JSON, a
 * TaskStatus or an error line: the settings, the Mesos JSON mapping, status
 * messages. Strict: no overlong forms, no surrogates, nothing above
 * U+10FFFF.
 */
#ifndef EXECUTOR_CORE_UTF8_H
#define EXECUTOR_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (avail > 0 bytes there), or 0 when
 * the bytes there are not one. */
size_t utf8_seq_len(const unsigned char *s, size_t avail);

/* Decode the sequence at the NUL-terminated s: its length (1 for the NUL
 * itself), with the code point in *ret_cp, or 0 when it is not a valid
 * sequence (a NUL inside stops it). */
size_t utf8_decode(const char *s, uint32_t *ret_cp);

/* 1 when the n bytes at s are valid UTF-8; else 0, with the offset of the
 * first bad byte in *ret_bad (may be NULL). */
int utf8_valid(const char *s, size_t n, size_t *ret_bad);

/* s itself when it is valid UTF-8, else a malloc'd copy in *ret_copy (free
 * it) where each byte that is not part of a valid sequence became U+FFFD.
 * *ret_copy is NULL when s is returned. */
const char *utf8_clean(const char *s, char **ret_copy);

/* Cut a NUL-terminated string that snprintf() may have truncated in the
 * middle of a sequence back to the last whole character. */
void utf8_trim_partial(char *s);

#endif /* EXECUTOR_CORE_UTF8_H */
