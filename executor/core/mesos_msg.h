/*
 * protobuf-c glue for the executor API: building TaskStatus messages,
 * owned deep copies, decoding Events and encoding Calls in either content
 * type (protobuf, or the Mesos JSON mapping via pbjson). Pure.
 */
#ifndef EXECUTOR_CORE_MESOS_MSG_H
#define EXECUTOR_CORE_MESOS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "executor.pb-c.h"
#include "mesos.pb-c.h"
#include "updates.h"

/* Deep copy any message (pack + unpack). The copy is freed with
 * protobuf_c_message_free_unpacked(copy, NULL). Aborts on OOM. */
void *pb_dup(const ProtobufCMessage *msg);

/* A label to attach to a status. */
struct status_label {
	const char *key;
	const char *value;
};

/* What a status says; the uuid, source and timestamp are added by status_new. */
struct status_spec {
	const char *task_id;
	int state;
	const char *message; /* NULL or "" for none */
	int reason;
	int has_reason;
	const char *executor_id;
	const char *agent_id; /* from SUBSCRIBED; NULL leaves it unset */
	const struct status_label *labels;
	size_t n_labels;
	const uint8_t *data; /* TaskStatus.data, or NULL */
	size_t data_len;
	int has_healthy; /* TaskStatus.healthy is set (to healthy) */
	int healthy;
	const Mesos__V1__CheckStatusInfo *check_status; /* copied in, or NULL for none */
};

/* A new, owned TaskStatus with a fresh v4 uuid, source = SOURCE_EXECUTOR and
 * the current time. The message and labels are made valid UTF-8 (each byte
 * of an invalid sequence becomes U+FFFD). Free with mesos__v1__task_status__free_unpacked(). */
Mesos__V1__TaskStatus *status_new(const struct status_spec *spec);

/* Decode one RecordIO record into an Event. Returns NULL with *err set when
 * the bytes do not parse or the payload the type needs is missing. Free
 * with mesos__v1__executor__event__free_unpacked(). */
Mesos__V1__Executor__Event *event_decode(enum content_type ct, const uint8_t *data, size_t len,
                                         struct spx_error *err);

/* Check required fields and serialize a Call. Returns a malloc'd buffer
 * (length in *ret_len) or NULL with *err set. */
uint8_t *call_encode(enum content_type ct, const Mesos__V1__Executor__Call *call, size_t *ret_len,
                     struct spx_error *err);

/* Encode a SUBSCRIBE call carrying every retained update (in order) as
 * unacknowledged_updates and the given tasks as unacknowledged_tasks. The
 * `subscribe` field is present even when both lists are empty. Returns a
 * malloc'd buffer or NULL with *err. */
uint8_t *call_subscribe_encode(enum content_type ct, const char *executor_id,
                               const char *framework_id, const struct update_queue *uq,
                               Mesos__V1__TaskInfo *const *tasks, size_t n_tasks, size_t *ret_len,
                               struct spx_error *err);

/* "application/x-protobuf" or "application/json". */
const char *content_type_name(enum content_type ct);

/* Event type name ("LAUNCH"), or "UNKNOWN(<n>)" in a static buffer. */
const char *event_type_name(int type);

#endif /* EXECUTOR_CORE_MESOS_MSG_H */
