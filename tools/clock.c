/*
 * Time for the CLI (clock.h).
 */
#include "clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
clock_now_ms(int64_t *ret_ms, struct spx_error *err)
{
	const char *fixed = getenv("SPEX_NOW");

	if (fixed && *fixed) {
		char *end;
		long long v = strtoll(fixed, &end, 10);
		if (*end != '\0' || v < 0 || v > INT64_MAX / 1000)
			return spx_error_set(
			    err, 0, "SPEX_NOW '%s': not whole seconds since the epoch", fixed);
		*ret_ms = (int64_t)v * 1000;
		return 0;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	*ret_ms = clock_timespec_ms(&ts);
	return 0;
}

int64_t
clock_diff_ms(int64_t a, int64_t b)
{
	int64_t d;
	if (__builtin_sub_overflow(a, b, &d) || d == INT64_MIN)
		return a > b ? INT64_MAX : -INT64_MAX;
	return d;
}

int64_t
clock_timespec_ms(const struct timespec *ts)
{
	int64_t ms;
	if (__builtin_mul_overflow((int64_t)ts->tv_sec, (int64_t)1000, &ms) ||
	    __builtin_add_overflow(ms, (int64_t)(ts->tv_nsec / 1000000), &ms) || ms == INT64_MIN)
		return ts->tv_sec < 0 ? -INT64_MAX : INT64_MAX;
	return ms;
}

/* n decimal digits at s into *ret; 0 or -1. */
static int
digits(const char *s, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

int
clock_parse_rfc3339(const char *s, int64_t *ret_ms)
{
	int y, mo, d, h, mi, sec, ms = 0;

	if (!s || strlen(s) < 20)
		return -1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	const char *p = s + 19;
	if (*p == '.') {
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, n++) {
			if (n < 3)
				ms = ms * 10 + (*p - '0');
		}
		if (n == 0)
			return -1;
		for (; n < 3; n++)
			ms *= 10;
	}
	int64_t off_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return -1;
		off_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = sec};
	time_t t = timegm(&tm); /* normalises a 31st of a short month onwards; fine */
	if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
		return -1;
	*ret_ms = ((int64_t)t - off_min * 60) * 1000 + ms;
	return 0;
}

bool
clock_rfc3339_range(int64_t ms)
{
	/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z */
	return ms >= -62167219200000LL && ms <= 253402300799999LL;
}

const char *
clock_format_rfc3339(int64_t ms, char *buf, size_t len)
{
	/* Floor division without overflow at either end of int64_t. */
	int64_t secs = ms / 1000;
	int frac = (int)(ms % 1000);
	time_t t;
	struct tm tm;

	if (frac < 0) {
		secs--;
		frac += 1000;
	}
	t = (time_t)secs;
	if (!clock_rfc3339_range(ms) || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "invalid");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	return buf;
}

const char *
clock_human_duration(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms > 0 ? ms / 1000 : 0;

	if (s < 60)
		snprintf(buf, len, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s < 100 * 86400)
		snprintf(buf, len, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
	else
		snprintf(buf, len, "%" PRId64 "d", s / 86400);
	return buf;
}
