/*
 * gc decisions (gc_policy.h).
 */
#include "gc_policy.h"
#include "clock.h"

const char *
gc_verdict_text(enum gc_verdict v)
{
	switch (v) {
	case GC_RECLAIM:
		return "";
	case GC_SKIP_LIVE:
		return "live";
	case GC_SKIP_UNKNOWN:
		return "liveness unknown";
	case GC_SKIP_YOUNG:
		return "too recent";
	case GC_SKIP_BUSY:
		return "a process works in it";
	case GC_SKIP_OTHERDEV:
		return "on another file system";
	}
	return "invalid";
}

enum gc_verdict
gc_decide(enum liveness l, bool busy, int64_t written_ms, int64_t now_ms, int64_t older_than_ms,
          int64_t *ret_age_ms)
{
	int64_t age = STATE_NONE;

	if (written_ms != STATE_NONE)
		age = now_ms > written_ms ? clock_diff_ms(now_ms, written_ms) : 0;
	*ret_age_ms = age;
	if (l == LIVENESS_LIVE)
		return GC_SKIP_LIVE;
	if (l != LIVENESS_DEAD)
		return GC_SKIP_UNKNOWN;
	if (busy)
		return GC_SKIP_BUSY;
	if (older_than_ms > 0 && (age == STATE_NONE || age < older_than_ms))
		return GC_SKIP_YOUNG;
	return GC_RECLAIM;
}
