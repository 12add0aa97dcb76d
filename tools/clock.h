/*
 * Time for the CLI: "now" (fixable with SPEX_NOW for reproducible output),
 * RFC 3339 timestamps as the state file writes them, and short human
 * durations ("5m", "3h05m"). Times are milliseconds since the epoch, UTC.
 */
#ifndef TOOLS_CLOCK_H
#define TOOLS_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "error.h"

/* Now in milliseconds: SPEX_NOW (whole seconds since the epoch) when set,
 * else the wall clock. -1 with *err when SPEX_NOW is not a number. */
int clock_now_ms(int64_t *ret_ms, struct spx_error *err);

/* Parse "YYYY-MM-DDTHH:MM:SS[.fff...]Z" (or a "+HH:MM"/"-HH:MM" offset; "t"
 * and "z" and a space for "T" accepted) into milliseconds since the epoch
 * (fractions beyond ms are truncated). Returns 0, or -1 if malformed. Pure. */
int clock_parse_rfc3339(const char *s, int64_t *ret_ms);

/* Does ms fall in the years 0000 to 9999, which RFC 3339 can write? Pure. */
bool clock_rfc3339_range(int64_t ms);

/* Format ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (32 bytes suffice;
 * "invalid" outside clock_rfc3339_range()). Returns buf. Pure. */
const char *clock_format_rfc3339(int64_t ms, char *buf, size_t len);

/* a - b in milliseconds, clamped to [-INT64_MAX, INT64_MAX] instead of
 * overflowing (a time from a hostile state, year 1, against a far SPEX_NOW;
 * never STATE_NONE). Pure. */
int64_t clock_diff_ms(int64_t a, int64_t b);

/* ts in milliseconds since the epoch, clamped to [-INT64_MAX, INT64_MAX]
 * (a file's mtime may be anything). Pure. */
int64_t clock_timespec_ms(const struct timespec *ts);

/*
 * A duration in at most two units, rounded down: "0s", "45s", "12m05s"
 * (under an hour), "3h05m", "2d04h", "400d". Negative durations print as
 * "0s". Writes into buf (16 bytes suffice); returns buf. Pure.
 */
const char *clock_human_duration(int64_t ms, char *buf, size_t len);

#endif /* TOOLS_CLOCK_H */
