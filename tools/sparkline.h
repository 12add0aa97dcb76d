/*
 * A one-line chart of a series of sizes, for `spex inspect`'s disk history.
 * Pure.
 */
#ifndef TOOLS_SPARKLINE_H
#define TOOLS_SPARKLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Render vals[0..n) into buf (capacity len) as at most width cells: one
 * cell per value, or, when n > width, width cells each showing the maximum
 * of a run of consecutive values (cell i covers values [i*n/width,
 * (i+1)*n/width)). A cell is one of 8 levels from the minimum to the maximum
 * of all values: "▁▂▃▄▅▆▇█" when utf8, else "_.:-=+*#". A flat series
 * shows the lowest level when it is 0, the fourth otherwise. Returns the
 * number of cells written (0 when n or width is 0, or buf is too small:
 * 3 bytes per cell and a NUL are needed with utf8, 1 without).
 */
size_t sparkline_render(const uint64_t *vals, size_t n, size_t width, bool utf8, char *buf,
                        size_t len);

#endif /* TOOLS_SPARKLINE_H */
