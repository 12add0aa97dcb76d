#include "duration.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int64_t ns;
} units[] = {
    {"weeks", 7LL * 24 * 3600 * 1000000000LL},
    {"days", 24LL * 3600 * 1000000000LL},
    {"hrs", 3600LL * 1000000000LL},
    {"mins", 60LL * 1000000000LL},
    {"secs", 1000000000LL},
    {"ms", 1000000LL},
    {"us", 1000LL},
    {"ns", 1LL},
};

int
duration_parse(const char *s, int64_t *ret_ns, struct spx_error *err)
{
	const char *p = s;
	uint64_t whole = 0;
	uint64_t frac = 0, frac_div = 1;
	int digits = 0;

	if (!s || !*s)
		return spx_error_set(err, 0, "invalid duration '': empty");
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return spx_error_set(err, 0, "invalid duration '%s': too large", s);
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			/* Digits beyond nanosecond precision of a week cannot matter. */
			if (frac_div < 1000000000000000000ULL) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_div *= 10;
			}
		}
	}
	if (digits == 0)
		return spx_error_set(err, 0, "invalid duration '%s': expected a number", s);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].name) != 0)
			continue;
		uint64_t unit = (uint64_t)units[i].ns;
		if (whole > (uint64_t)INT64_MAX / unit)
			return spx_error_set(err, 0, "invalid duration '%s': too large", s);
		uint64_t ns = whole * unit;
		/* frac/frac_div * unit, without overflow: unit <= 6.048e14, frac < frac_div. */
		long double f = (long double)frac / (long double)frac_div * (long double)unit;
		uint64_t fns = (uint64_t)(f + 0.5L);
		if (ns > (uint64_t)INT64_MAX - fns)
			return spx_error_set(err, 0, "invalid duration '%s': too large", s);
		*ret_ns = (int64_t)(ns + fns);
		return 0;
	}
	return spx_error_set(err, 0,
	                     "invalid duration '%s': unknown unit '%s' (expected ns, us, ms, "
	                     "secs, mins, hrs, days or weeks)",
	                     s, p);
}

const char *
duration_format(int64_t ns, char *buf, size_t n)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns != 0 && ns % units[i].ns == 0) {
			snprintf(buf, n, "%" PRId64 "%s", ns / units[i].ns, units[i].name);
			return buf;
		}
	}
	snprintf(buf, n, "%" PRId64 "ns", ns);
	return buf;
}
