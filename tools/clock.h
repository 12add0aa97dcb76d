/*
 * Time for the CLI: "now" (fixable with SPEX_NOW for reproducible output),
 * RFC 3339 timestamps as the state file writes them, and short human
 * durations ("5m", "3h05m"). Times are milliseconds since the epoch, UTC.
 */
#ifndef TOOLS_CLOCK_H
#define TOOLS_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Now in milliseconds: SPEX_NOW (whole seconds since the epoch) when set,
 * else the wall clock. -1 with *err when SPEX_NOW is not a number. */
int clock_now_ms(int64_t *ret_ms, struct spx_error *err);

/* Parse "YYYY-MM-DDTHH:MM:SS[.fff...]Z" (or a "+HH:MM"/"-HH:MM" offset; "t"
 * and "z" and a space for "T" accepted) into milliseconds since the epoch
 * (fractions beyond ms are truncated). Returns 0, or -1 if malformed. Pure. */
int clock_parse_rfc3339(const char *s, int64_t *ret_ms);

/* Format ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (32 bytes suffice).
 * Returns buf. Pure. */
const char *clock_format_rfc3339(int64_t ms, char *buf, size_t len);

/*
 * A duration in at most two units, rounded down: "0s", "45s", "12m05s"
 * (under an hour), "3h05m", "2d04h", "400d". Negative durations print as
 * "0s". Writes into buf (16 bytes suffice); returns buf. Pure.
 */
const char *clock_human_duration(int64_t ms, char *buf, size_t len);

#endif /* TOOLS_CLOCK_H */
