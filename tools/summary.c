/*
 * A sandbox at a glance (summary.h).
 */
#include "summary.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
summary_load(const struct workdir *w, const struct sandbox_ref *r, bool scan,
             struct sandbox_summary *ret)
{
	struct spx_error err = {0};

	memset(ret, 0, sizeof(*ret));
	ret->ref = r;
	ret->since_ms = r->mtime_ms;
	_cleanup_free_ char *path = xasprintf("%s/%s", w->path, r->rel);
	_cleanup_close_ int fd = workdir_open_run(w, r, &err);
	if (fd < 0) {
		ret->state_error = xstrdup(spx_error_msg(&err));
		spx_error_clear(&err);
		ret->live = LIVENESS_UNKNOWN;
		ret->why = "unreadable";
		return;
	}
	int rc = state_load(fd, path, &ret->state, &err);
	if (rc < 0) {
		ret->state_error = xstrdup(spx_error_msg(&err));
		spx_error_clear(&err);
		ret->live = LIVENESS_UNKNOWN;
		ret->why = "state unreadable";
	} else {
		ret->has_state = rc == 1;
		ret->live = state_liveness(ret->has_state ? &ret->state : NULL, &ret->why);
		if (ret->has_state && ret->state.started_ms != STATE_NONE)
			ret->since_ms = ret->state.started_ms;
	}
	if (!scan)
		return;
	if (summary_scan(path, &ret->scan, &err) < 0) {
		ret->scan_error = xstrdup(spx_error_msg(&err));
		spx_error_clear(&err);
		return;
	}
	ret->scanned = true;
}

int
summary_scan(const char *path, struct scan_result *ret, struct spx_error *err)
{
	if (scan_sandbox(path, NULL, ret, err) == 0)
		return 0;
	if (err->errnum)
		return spx_error_set(err, err->errnum, "%s", path);
	return -1;
}

void
summary_clear(struct sandbox_summary *s)
{
	if (!s)
		return;
	state_clear(&s->state);
	free(s->state_error);
	free(s->scan_error);
	memset(s, 0, sizeof(*s));
}

int
summary_top(const uint64_t bytes[CAT_COUNT])
{
	int top = -1;
	for (int c = 0; c < CAT_COUNT; c++) {
		if (bytes[c] > 0 && (top < 0 || bytes[c] > bytes[top]))
			top = c;
	}
	return top;
}

/* summary_sort()'s order. */
static int
by_total(const void *a, const void *b)
{
	const struct sandbox_summary *x = a, *y = b;
	uint64_t tx = x->scanned ? x->scan.total_bytes : 0;
	uint64_t ty = y->scanned ? y->scan.total_bytes : 0;
	if (tx != ty)
		return tx > ty ? -1 : 1;
	return strcmp(x->ref->rel, y->ref->rel);
}

void
summary_sort(struct sandbox_summary *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), by_total);
}
