/*
 * A sandbox scan (scan.h) as JSON, as a one-line summary, and as TaskStatus
 * labels. Pure: formatting only.
 */
#ifndef SANDBOX_REPORT_H
#define SANDBOX_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "scan.h"

#define REPORT_SCHEMA    "spex.disk/1"
#define REPORT_HUMAN_MAX 16 /* enough for any report_human_bytes() text */

/*
 * n bytes in human units, binary multiples: "0 B", "1023 B", "1.5 KiB",
 * "12.3 MiB", "900 MiB", "1.2 GiB", up to TiB. One decimal below 100 of the
 * unit, none from 100 up; rounded to nearest, and a value that would print
 * as 1024 of a unit moves to the next one. Writes into buf (size len,
 * REPORT_HUMAN_MAX suffices) and returns buf.
 */
const char *report_human_bytes(uint64_t n, char *buf, size_t len);

/*
 * The scan as compact JSON, schema "spex.disk/1":
 *
 *	{"schema":"spex.disk/1","root":"/path","allocated_bytes":N,
 *	 "apparent_bytes":N,"categories":{"shuffle":{"bytes":N,
 *	 "apparent_bytes":N,"files":N},...every category...},"entries":N,
 *	 "dirs":N,"vanished":N,"errors":N,"first_error":"..."|null,
 *	 "mounts_skipped":N,"hardlinks_deduped":N,"truncated":false,
 *	 "scan_ms":1.234}
 *
 * Integers are printed exactly (no trip through a double). root may be
 * NULL (then null). Returns a malloc'd string (free()); never NULL.
 */
char *report_json(const char *root, const struct scan_result *r);

/*
 * One line for logs and status messages, allocated bytes:
 * "disk 1.2 GiB: shuffle 900 MiB, dist 250 MiB, logs 210 MiB" (the top 3
 * non-zero categories, largest first; "disk 0 B" when nothing counted).
 * Returns a malloc'd string (free()).
 */
char *report_summary(const struct scan_result *r);

struct report_label {
	char key[48];   /* "spex.disk.used_bytes", "spex.disk.<category>_bytes" */
	char value[24]; /* decimal */
};

#define REPORT_LABELS (1 + CAT_COUNT)

/* Fill out (capacity n, REPORT_LABELS suffices) with spex.disk.used_bytes
 * (allocated bytes in all) then spex.disk.<category>_bytes for every
 * category in enum order. Returns the number written (at most n). */
size_t report_labels(const struct scan_result *r, struct report_label *out, size_t n);

#endif /* SANDBOX_REPORT_H */
