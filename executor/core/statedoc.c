#include "statedoc.h"
#include "mesos.pb-c.h"
#include "task_sm.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *
rfc3339_ms(int64_t ms, char *buf, size_t len)
{
	int64_t secs = ms / 1000, frac = ms % 1000;
	struct tm tm;

	if (frac < 0) { /* floor, for times before 1970 */
		frac += 1000;
		secs--;
	}
	time_t t = (time_t)secs;
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
	return buf;
}

int64_t
statedoc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
status_reason_name(int reason)
{
	static char buf[32];
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &mesos__v1__task_status__reason__descriptor, reason);
	if (v && v->name)
		return v->name;
	snprintf(buf, sizeof(buf), "REASON_%d", reason);
	return buf;
}

void
json_add_u64(cJSON *obj, const char *key, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	cJSON_AddRawToObject(obj, key, buf);
}

void
json_add_i64(cJSON *obj, const char *key, int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	cJSON_AddRawToObject(obj, key, buf);
}

void
json_add_str_or_null(cJSON *obj, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(obj, key, s);
	else
		cJSON_AddNullToObject(obj, key);
}

void
json_add_time(cJSON *obj, const char *key, int64_t ms)
{
	char buf[STATEDOC_TIME_MAX];
	if (ms > 0)
		cJSON_AddStringToObject(obj, key, rfc3339_ms(ms, buf, sizeof(buf)));
	else
		cJSON_AddNullToObject(obj, key);
}

/* ---- the task history ---------------------------------------------------- */

/* Entry number k (0 = the first update) while it is still kept. */
static const struct task_hist_entry *
hist_at(const struct task_history *h, uint64_t k)
{
	if (k < TASK_HISTORY_HEAD)
		return &h->head[k];
	return &h->ring[(k - TASK_HISTORY_HEAD) % TASK_HISTORY_RING];
}

void
task_history_add(struct task_history *h, int state, int reason, int64_t at_ms, const char *message)
{
	struct task_hist_entry *e = (struct task_hist_entry *)hist_at(h, h->total);
	free(e->message); /* the ring's oldest entry, when it is full */
	e->state = state;
	e->reason = reason;
	e->at_ms = at_ms;
	e->message = message && *message ? xstrdup(message) : NULL;
	h->total++;
}

const struct task_hist_entry *
task_history_last(const struct task_history *h)
{
	return h->total ? hist_at(h, h->total - 1) : NULL;
}

/* One history entry; reason < 0 and a NULL message are null. */
static cJSON *
entry_json(const char *state, int64_t at_ms, int reason, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "state", state);
	json_add_time(o, "at", at_ms);
	json_add_str_or_null(o, "reason", reason >= 0 ? status_reason_name(reason) : NULL);
	json_add_str_or_null(o, "message", message);
	return o;
}

cJSON *
task_history_json(const struct task_history *h)
{
	cJSON *arr = cJSON_CreateArray();
	uint64_t first_tail = TASK_HISTORY_HEAD; /* first entry shown after the head */

	for (uint64_t k = 0; k < h->total && k < TASK_HISTORY_HEAD; k++) {
		const struct task_hist_entry *e = hist_at(h, k);
		cJSON_AddItemToArray(
		    arr, entry_json(task_state_name(e->state), e->at_ms, e->reason, e->message));
	}
	if (h->total > TASK_HISTORY_MAX) {
		uint64_t omitted = h->total - TASK_HISTORY_HEAD - TASK_HISTORY_TAIL;
		char msg[48];
		first_tail = h->total - TASK_HISTORY_TAIL;
		snprintf(msg, sizeof(msg), "%" PRIu64 " updates omitted", omitted);
		/* The newest omitted update is still in the ring: its time. */
		cJSON_AddItemToArray(
		    arr, entry_json("\u2026", hist_at(h, first_tail - 1)->at_ms, -1, msg));
	}
	for (uint64_t k = first_tail; k < h->total; k++) {
		const struct task_hist_entry *e = hist_at(h, k);
		cJSON_AddItemToArray(
		    arr, entry_json(task_state_name(e->state), e->at_ms, e->reason, e->message));
	}
	return arr;
}

void
task_history_clear(struct task_history *h)
{
	for (size_t i = 0; i < TASK_HISTORY_HEAD; i++)
		free(h->head[i].message);
	for (size_t i = 0; i < TASK_HISTORY_RING; i++)
		free(h->ring[i].message);
	memset(h, 0, sizeof(*h));
}
