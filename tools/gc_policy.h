/*
 * Whether `spex gc` may reclaim a sandbox: pure decisions over what was
 * read about it.
 */
#ifndef TOOLS_GC_POLICY_H
#define TOOLS_GC_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox_state.h"

enum gc_verdict {
	GC_RECLAIM,       /* dead, and old enough */
	GC_SKIP_LIVE,     /* the executor is live */
	GC_SKIP_UNKNOWN,  /* no (readable) state file: liveness unknown */
	GC_SKIP_YOUNG,    /* dead for less than --older-than (or for how long is unknown) */
	GC_SKIP_BUSY,     /* dead, but a process still works in the sandbox */
	GC_SKIP_OTHERDEV, /* on another file system than the work dir */
};

/* A short phrase for the verdict: "live", "liveness unknown", "too
 * recent", "a process works in it", "on another file system"; "" for
 * GC_RECLAIM. */
const char *gc_verdict_text(enum gc_verdict v);

/*
 * The verdict for a sandbox whose executor has liveness l, whose state
 * was last written at written_ms (STATE_NONE if unknown), at now_ms, with
 * --older-than older_than_ms (0: no minimum age). *ret_age_ms gets the age
 * (now - written_ms, at least 0; STATE_NONE when unknown). busy: a process
 * works in the sandbox (procinfo_dir_user). Pure.
 */
enum gc_verdict gc_decide(enum liveness l, bool busy, int64_t written_ms, int64_t now_ms,
                          int64_t older_than_ms, int64_t *ret_age_ms);

#endif /* TOOLS_GC_POLICY_H */
