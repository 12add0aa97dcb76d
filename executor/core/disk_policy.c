#include "disk_policy.h"
#include "duration.h"
#include "settings.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <strings.h>

int
disk_decide(struct disk_state *st, const struct disk_settings *s, uint64_t used, uint64_t limit,
            int64_t now_ns, bool pending)
{
	int v = 0;

	if (limit && used > limit)
		return DISK_HARD;
	if (limit) {
		uint64_t soft = (uint64_t)((double)limit * s->soft_ratio);
		if (used >= soft && !st->soft_active) {
			st->soft_active = true;
			v |=
			    DISK_SOFT | DISK_REPORT; /* a warning goes out even if one is pending */
		} else if (used < soft) {
			st->soft_active = false;
		}
	}
	if (!(v & DISK_REPORT) && !pending) {
		uint64_t delta =
		    used > st->last_bytes ? used - st->last_bytes : st->last_bytes - used;
		bool moved = delta >= DISK_REPORT_MIN_DELTA ||
		             (st->last_bytes && (double)delta >= 0.01 * (double)st->last_bytes);
		if (!st->reported || moved || now_ns - st->last_ns >= DISK_REPORT_MAX_AGE_NS)
			v |= DISK_REPORT;
	}
	if (v & DISK_REPORT) {
		st->reported = true;
		st->last_bytes = used;
		st->last_ns = now_ns;
	}
	return v;
}

int
parse_bytes(const char *s, uint64_t *ret, struct spx_error *err)
{
	char *end;
	/* strtod() would skip blanks and take a sign, "inf" or hex: a size
	 * starts with a digit. */
	if (!s || !(*s >= '0' && *s <= '9'))
		return spx_error_set(err, 0, "invalid size '%s'", s ? s : "");
	errno = 0;
	double v = strtod(s, &end);
	/* Decimal digits and one point only: no hex, no exponent. */
	if (errno || end == s || !(v >= 0) || isinf(v) ||
	    strspn(s, "0123456789.") != (size_t)(end - s))
		return spx_error_set(err, 0, "invalid size '%s'", s);
	double mult = 1;
	const char *u = end;
	switch (*u) {
	case 'k':
	case 'K':
		mult = 1024.0;
		break;
	case 'm':
	case 'M':
		mult = 1024.0 * 1024;
		break;
	case 'g':
	case 'G':
		mult = 1024.0 * 1024 * 1024;
		break;
	case 't':
	case 'T':
		mult = 1024.0 * 1024 * 1024 * 1024;
		break;
	default:
		break;
	}
	if (mult > 1)
		u++;
	if (mult > 1 && *u == 'i')
		u++;
	if (*u == 'B' || (*u == 'b' && mult > 1))
		u++;
	if (*u)
		return spx_error_set(err, 0, "invalid size '%s' (use a number with k, M, G or T)",
		                     s);
	double bytes = v * mult;
	if (bytes >= 18446744073709551615.0)
		return spx_error_set(err, 0, "size '%s' is too large", s);
	*ret = (uint64_t)bytes;
	return 0;
}

static int
env_bytes(config_getenv_fn get, const char *name, uint64_t *ret, struct spx_error *err)
{
	const char *v = get(name);
	if (!v || !*v)
		return 0;
	if (parse_bytes(v, ret, err) < 0)
		return spx_error_wrap(err, "%s", name);
	return 0;
}

static int
env_choice(config_getenv_fn get, const char *name, const char *yes, const char *no, bool *ret,
           struct spx_error *err)
{
	const char *v = get(name);
	if (!v || !*v)
		return 0;
	if (strcmp(v, yes) == 0)
		*ret = true;
	else if (strcmp(v, no) == 0)
		*ret = false;
	else
		return spx_error_set(err, 0, "%s: expected %s or %s, got '%s'", name, yes, no, v);
	return 0;
}

int
disk_settings_from_env(struct disk_settings *s, config_getenv_fn get, struct spx_error *err)
{
	const char *v;

	memset(s, 0, sizeof(*s));
	s->interval_ns = 10LL * 1000000000LL;
	s->soft_ratio = 0.9;
	s->min_free_bytes = 512ULL * 1024 * 1024;
	s->min_free_inodes = 10000;
	s->cleanup = true;
	s->enabled = true;
	s->track = true;
	s->log_head = 4ULL * 1024 * 1024;
	s->log_tail = 32ULL * 1024 * 1024;
	v = get("SPEX_DISK_INTERVAL");
	if (v && *v) {
		if (duration_parse(v, &s->interval_ns, err) < 0)
			return spx_error_wrap(err, "SPEX_DISK_INTERVAL");
		if (s->interval_ns < 100000000LL)
			return spx_error_set(err, 0, "SPEX_DISK_INTERVAL: at least 100ms, got '%s'",
			                     v);
	}
	if (env_bytes(get, "SPEX_DISK_LIMIT", &s->limit_bytes, err) < 0 ||
	    env_bytes(get, "SPEX_LOG_HEAD", &s->log_head, err) < 0 ||
	    env_bytes(get, "SPEX_LOG_TAIL", &s->log_tail, err) < 0 ||
	    env_bytes(get, "SPEX_MIN_FREE_BYTES", &s->min_free_bytes, err) < 0)
		return -1;
	v = get("SPEX_MIN_FREE_INODES");
	if (v && *v && settings_parse_count(v, &s->min_free_inodes, err) < 0)
		return spx_error_wrap(err, "SPEX_MIN_FREE_INODES");
	v = get("SPEX_DISK_SOFT_RATIO");
	if (v && *v) {
		char *end;
		double r = strtod(v, &end);
		if (*end || !(r > 0 && r <= 1))
			return spx_error_set(
			    err, 0, "SPEX_DISK_SOFT_RATIO: expected a number in (0, 1], got '%s'",
			    v);
		s->soft_ratio = r;
	}
	if (env_choice(get, "SPEX_CLEANUP", "spark", "none", &s->cleanup, err) < 0 ||
	    env_choice(get, "SPEX_KEEP_SHUFFLE", "1", "0", &s->keep_shuffle, err) < 0 ||
	    env_choice(get, "SPEX_DISK", "on", "off", &s->enabled, err) < 0 ||
	    env_choice(get, "SPEX_DISK_TRACK", "on", "off", &s->track, err) < 0)
		return -1;
	return 0;
}

static const char *
mib(uint64_t b, char *buf, size_t n)
{
	snprintf(buf, n, "%llu MiB", (unsigned long long)(b / (1024 * 1024)));
	return buf;
}

int
disk_preflight(const struct disk_settings *s, uint64_t avail_bytes, uint64_t avail_inodes,
               struct spx_error *err)
{
	char a[32], b[32];
	if (s->min_free_bytes && avail_bytes < s->min_free_bytes)
		return spx_error_set(
		    err, 0, "sandbox filesystem has %s free, below SPEX_MIN_FREE_BYTES %s",
		    mib(avail_bytes, a, sizeof(a)), mib(s->min_free_bytes, b, sizeof(b)));
	if (s->min_free_inodes && avail_inodes < s->min_free_inodes)
		return spx_error_set(err, 0,
		                     "sandbox filesystem has %llu free inodes, below "
		                     "SPEX_MIN_FREE_INODES %llu",
		                     (unsigned long long)avail_inodes,
		                     (unsigned long long)s->min_free_inodes);
	return 0;
}
