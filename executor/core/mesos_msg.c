#include "mesos_msg.h"
#include "pbjson.h"
#include "utf8.h"
#include "util.h"
#include "uuid.h"

#include <stdio.h>
#include <string.h>

void *
pb_dup(const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = xmalloc(len);
	protobuf_c_message_pack(msg, buf);
	void *copy = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
	free(buf);
	if (!copy)
		abort(); /* only on OOM: what we packed always unpacks */
	return copy;
}

Mesos__V1__TaskStatus *
status_new(const struct status_spec *spec)
{
	Mesos__V1__TaskStatus st = MESOS__V1__TASK_STATUS__INIT;
	Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
	Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
	Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
	Mesos__V1__Labels labels = MESOS__V1__LABELS__INIT;
	Mesos__V1__Label label_buf[16];
	Mesos__V1__Label *label_ptrs[16];
	uint8_t uuid[UUID_LEN];
	/* Strings go out valid UTF-8 whatever a message was built from (a
	 * path, a cut snprintf): the agent's protobuf and JSON parsers and every
	 * framework after it expect it. copies[] holds the cleaned ones. */
	char *copies[1 + 2 * 16] = {0};
	size_t nc = 0;

	tid.value = (char *)spec->task_id;
	st.task_id = &tid;
	st.state = (Mesos__V1__TaskState)spec->state;
	if (spec->message && *spec->message)
		st.message = (char *)utf8_clean(spec->message, &copies[nc++]);
	st.has_source = 1;
	st.source = MESOS__V1__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
	if (spec->has_reason) {
		st.has_reason = 1;
		st.reason = (Mesos__V1__TaskStatus__Reason)spec->reason;
	}
	if (spec->executor_id) {
		eid.value = (char *)spec->executor_id;
		st.executor_id = &eid;
	}
	if (spec->agent_id) {
		aid.value = (char *)spec->agent_id;
		st.agent_id = &aid;
	}
	st.has_timestamp = 1;
	st.timestamp = now_wall_secs();
	uuid_v4(uuid);
	st.has_uuid = 1;
	st.uuid.data = uuid;
	st.uuid.len = UUID_LEN;
	if (spec->data) {
		st.has_data = 1;
		st.data.data = (uint8_t *)spec->data;
		st.data.len = spec->data_len;
	}
	if (spec->has_healthy) {
		st.has_healthy = 1;
		st.healthy = spec->healthy != 0;
	}
	st.check_status = (Mesos__V1__CheckStatusInfo *)spec->check_status;
	if (spec->n_labels) {
		size_t n = spec->n_labels < 16 ? spec->n_labels : 16;
		for (size_t i = 0; i < n; i++) {
			mesos__v1__label__init(&label_buf[i]);
			label_buf[i].key = (char *)utf8_clean(spec->labels[i].key, &copies[nc++]);
			label_buf[i].value =
			    (char *)utf8_clean(spec->labels[i].value, &copies[nc++]);
			label_ptrs[i] = &label_buf[i];
		}
		labels.n_labels = n;
		labels.labels = label_ptrs;
		st.labels = &labels;
	}
	Mesos__V1__TaskStatus *ret = pb_dup(&st.base);
	for (size_t i = 0; i < nc; i++)
		free(copies[i]);
	return ret;
}

/* The payload each event type carries; NULL-checked so handlers need not. */
static int
event_check(const Mesos__V1__Executor__Event *ev, struct spx_error *err)
{
	const char *missing = NULL;

	switch (ev->type) {
	case MESOS__V1__EXECUTOR__EVENT__TYPE__SUBSCRIBED:
		if (!ev->subscribed)
			missing = "subscribed";
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__LAUNCH:
		if (!ev->launch)
			missing = "launch";
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__LAUNCH_GROUP:
		if (!ev->launch_group)
			missing = "launch_group";
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__KILL:
		if (!ev->kill)
			missing = "kill";
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__ACKNOWLEDGED:
		if (!ev->acknowledged)
			missing = "acknowledged";
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__MESSAGE:
		if (!ev->message)
			missing = "message";
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__ERROR:
		if (!ev->error)
			missing = "error";
		break;
	default:
		break;
	}
	if (missing)
		return spx_error_set(err, 0, "%s event without '%s'", event_type_name(ev->type),
		                     missing);
	return 0;
}

Mesos__V1__Executor__Event *
event_decode(enum content_type ct, const uint8_t *data, size_t len, struct spx_error *err)
{
	Mesos__V1__Executor__Event *ev;

	if (ct == CT_JSON) {
		char why[256];
		ev = (Mesos__V1__Executor__Event *)pbjson_parse(
		    &mesos__v1__executor__event__descriptor, (const char *)data, len, why,
		    sizeof(why));
		if (!ev) {
			spx_error_set(err, 0, "undecodable JSON event (%zu bytes): %s", len, why);
			return NULL;
		}
	} else {
		ev = mesos__v1__executor__event__unpack(NULL, len, data);
		if (!ev) {
			/* protobuf-c gives no reason: malformed bytes or a missing required field.
			 */
			spx_error_set(
			    err, 0,
			    "undecodable protobuf event (%zu bytes): malformed or missing "
			    "a required field",
			    len);
			return NULL;
		}
	}
	if (event_check(ev, err) < 0) {
		mesos__v1__executor__event__free_unpacked(ev, NULL);
		return NULL;
	}
	return ev;
}

uint8_t *
call_encode(enum content_type ct, const Mesos__V1__Executor__Call *call, size_t *ret_len,
            struct spx_error *err)
{
	if (!protobuf_c_message_check(&call->base)) {
		spx_error_set(err, 0, "call is missing a required field");
		return NULL;
	}
	if (ct == CT_JSON)
		return (uint8_t *)pbjson_print(&call->base, ret_len);
	size_t len = mesos__v1__executor__call__get_packed_size(call);
	uint8_t *buf = xmalloc(len);
	mesos__v1__executor__call__pack(call, buf);
	*ret_len = len;
	return buf;
}

const char *
content_type_name(enum content_type ct)
{
	return ct == CT_JSON ? "application/json" : "application/x-protobuf";
}

const char *
event_type_name(int type)
{
	static char buf[24];
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &mesos__v1__executor__event__type__descriptor, type);
	if (v)
		return v->name;
	snprintf(buf, sizeof(buf), "UNKNOWN(%d)", type);
	return buf;
}

uint8_t *
call_subscribe_encode(enum content_type ct, const char *executor_id, const char *framework_id,
                      const struct update_queue *uq, Mesos__V1__TaskInfo *const *tasks,
                      size_t n_tasks, size_t *ret_len, struct spx_error *err)
{
	Mesos__V1__Executor__Call call = MESOS__V1__EXECUTOR__CALL__INIT;
	Mesos__V1__Executor__Call__Subscribe sub = MESOS__V1__EXECUTOR__CALL__SUBSCRIBE__INIT;
	Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
	Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
	size_t nu = uq->count, i = 0;

	eid.value = (char *)executor_id;
	fid.value = (char *)framework_id;
	call.executor_id = &eid;
	call.framework_id = &fid;
	call.has_type = 1;
	call.type = MESOS__V1__EXECUTOR__CALL__TYPE__SUBSCRIBE;
	call.subscribe = &sub; /* present even when empty: the agent requires it */

	Mesos__V1__Executor__Call__Update *ups = xcalloc(nu ? nu : 1, sizeof(*ups));
	Mesos__V1__Executor__Call__Update **upp = xcalloc(nu ? nu : 1, sizeof(*upp));
	for (const struct update *u = uq->head; u && i < nu; u = u->next, i++) {
		mesos__v1__executor__call__update__init(&ups[i]);
		ups[i].status = u->status;
		upp[i] = &ups[i];
	}
	sub.n_unacknowledged_updates = i;
	sub.unacknowledged_updates = upp;
	sub.n_unacknowledged_tasks = n_tasks;
	sub.unacknowledged_tasks = (Mesos__V1__TaskInfo **)tasks;

	uint8_t *buf = call_encode(ct, &call, ret_len, err);
	free(ups);
	free(upp);
	return buf;
}
