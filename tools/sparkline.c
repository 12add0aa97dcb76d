/*
 * Sparklines (sparkline.h).
 */
#include "sparkline.h"

#include <string.h>

static const char *const blocks[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                      "\u2585", "\u2586", "\u2587", "\u2588"};
static const char ramp[8] = {'_', '.', ':', '-', '=', '+', '*', '#'};

/* The level 0..7 of v between lo and hi. */
static int
level(uint64_t v, uint64_t lo, uint64_t hi)
{
	if (hi == lo)
		return hi == 0 ? 0 : 3;
	/* (v - lo) * 7 / (hi - lo), rounded, without overflowing 64 bits. */
	long double f = (long double)(v - lo) / (long double)(hi - lo);
	int l = (int)(f * 7.0L + 0.5L);
	return l < 0 ? 0 : l > 7 ? 7 : l;
}

size_t
sparkline_render(const uint64_t *vals, size_t n, size_t width, bool utf8, char *buf, size_t len)
{
	size_t cells = n < width ? n : width;
	size_t per = utf8 ? 3 : 1;
	uint64_t lo = UINT64_MAX, hi = 0;

	if (len > 0)
		buf[0] = '\0';
	if (cells == 0 || len < cells * per + 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (vals[i] < lo)
			lo = vals[i];
		if (vals[i] > hi)
			hi = vals[i];
	}
	char *p = buf;
	for (size_t c = 0; c < cells; c++) {
		size_t from = c * n / cells, to = (c + 1) * n / cells;
		uint64_t m = 0;
		for (size_t i = from; i < to; i++) {
			if (vals[i] > m)
				m = vals[i];
		}
		int l = level(m, lo, hi);
		if (utf8) {
			memcpy(p, blocks[l], 3);
			p += 3;
		} else {
			*p++ = ramp[l];
		}
	}
	*p = '\0';
	return cells;
}
