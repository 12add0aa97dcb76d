/*
 * Mesos (stout) durations: a non-negative decimal number, a fraction allowed,
 * immediately followed by a unit: ns, us, ms, secs, mins, hrs, days, weeks.
 * "5secs", "15mins", "1500ms", "0.5secs". No sign, no space.
 */
#ifndef EXECUTOR_CORE_DURATION_H
#define EXECUTOR_CORE_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Parse s into nanoseconds. On failure returns -1 and explains in *err
 * ("invalid duration 'x': unknown unit 'x'"). Values over ~292 years fail. */
int duration_parse(const char *s, int64_t *ret_ns, struct spx_error *err);

/* Format ns the way the agent does: the largest unit that gives a whole
 * number ("5secs", "1500ms"). Writes at most n bytes into buf; returns buf. */
const char *duration_format(int64_t ns, char *buf, size_t n);

#endif /* EXECUTOR_CORE_DURATION_H */
