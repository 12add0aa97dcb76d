/*
 * Pieces of the spex.state/1 document (docs/state.md), pure: times as
 * RFC 3339 strings, exact 64-bit integers in cJSON, REASON_* names, and a
 * task's bounded status history. executor/state.c assembles the document.
 */
#ifndef EXECUTOR_CORE_STATEDOC_H
#define EXECUTOR_CORE_STATEDOC_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define STATEDOC_SCHEMA   "spex.state/1"
#define STATEDOC_TIME_MAX 32 /* enough for any rfc3339_ms() text */

/* ms since the epoch as "2026-11-24T11:40:00.123Z" (UTC, milliseconds) into
 * buf (size len, STATEDOC_TIME_MAX suffices). Returns buf. */
const char *rfc3339_ms(int64_t ms, char *buf, size_t len);

/* Milliseconds since the epoch now (CLOCK_REALTIME). */
int64_t statedoc_now_ms(void);

/* "REASON_COMMAND_EXECUTOR_FAILED" for a TaskStatus.Reason value, from the
 * protobuf-c descriptor; "REASON_<n>" for a value it does not know (then in
 * a static buffer, valid until the next such call). */
const char *status_reason_name(int reason);

/*
 * Add key to obj. cJSON numbers are doubles, exact only up to 2^53: the
 * integer helpers add the decimal text as a raw value instead, so every
 * 64-bit size stays exact. Strings and times become null when absent (s
 * NULL; ms <= 0).
 */
void json_add_u64(cJSON *obj, const char *key, uint64_t v);
void json_add_i64(cJSON *obj, const char *key, int64_t v);
void json_add_str_or_null(cJSON *obj, const char *key, const char *s);
void json_add_time(cJSON *obj, const char *key, int64_t ms);

/*
 * A task's status history: every update sent for it, bounded to
 * TASK_HISTORY_MAX entries as docs/state.md says. Up to that many, all of
 * them; beyond, the first TASK_HISTORY_HEAD, one marker entry
 * {"state":"…","reason":null,"message":"N updates omitted"} whose "at" is
 * the newest omitted update's, and the last TASK_HISTORY_TAIL.
 */
#define TASK_HISTORY_MAX  64
#define TASK_HISTORY_HEAD 8
#define TASK_HISTORY_TAIL (TASK_HISTORY_MAX - TASK_HISTORY_HEAD - 1)
#define TASK_HISTORY_RING (TASK_HISTORY_TAIL + 1)

struct task_hist_entry {
	int state;     /* Mesos__V1__TaskState */
	int reason;    /* Mesos__V1__TaskStatus__Reason, -1 for none */
	int64_t at_ms; /* when it was sent */
	char *message; /* owned; NULL for none */
};

struct task_history {
	struct task_hist_entry head[TASK_HISTORY_HEAD]; /* the first updates */
	struct task_hist_entry ring[TASK_HISTORY_RING]; /* the newest ones after those */
	uint64_t total;                                 /* updates added in all */
};

/* Record an update (message copied; NULL or "" for none). h starts zeroed. */
void task_history_add(struct task_history *h, int state, int reason, int64_t at_ms,
                      const char *message);
/* The newest entry, or NULL when there is none. */
const struct task_hist_entry *task_history_last(const struct task_history *h);
/* The history as a JSON array (the caller owns it). */
cJSON *task_history_json(const struct task_history *h);
/* Release the messages; h may be reused (zeroed). */
void task_history_clear(struct task_history *h);

#endif /* EXECUTOR_CORE_STATEDOC_H */
