/* Update retention, ACK handling, resubscribe contents and the status fields. */
#include "harness.h"
#include "mesos_msg.h"
#include "updates.h"
#include "uuid.h"

#include <stdlib.h>

static Mesos__V1__TaskStatus *
mk(const char *task, int state)
{
	struct status_spec spec = {
	    .task_id = task, .state = state, .executor_id = "ex1", .agent_id = "agent-S1"};
	return status_new(&spec);
}

TEST(status_fields)
{
	Mesos__V1__TaskStatus *s = mk("t1", MESOS__V1__TASK_STATE__TASK_STARTING);
	CHECK(s->has_uuid && uuid_is_valid(s->uuid.data, s->uuid.len));
	CHECK_EQ_INT(s->uuid.data[6] >> 4, 4);
	CHECK_EQ_INT(s->uuid.data[8] & 0xC0, 0x80);
	CHECK(s->has_source && s->source == MESOS__V1__TASK_STATUS__SOURCE__SOURCE_EXECUTOR);
	CHECK(s->has_timestamp && s->timestamp > 1.7e9);
	CHECK_EQ_STR(s->executor_id->value, "ex1");
	CHECK_EQ_STR(s->agent_id->value, "agent-S1");
	CHECK(s->message == NULL);
	/* state = TASK_STARTING (0) is required: it must be on the wire. */
	uint8_t buf[512];
	size_t n = mesos__v1__task_status__pack(s, buf);
	int found = 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (buf[i] == 0x10 && buf[i + 1] == 0x00)
			found = 1;
	CHECK(found);
	Mesos__V1__TaskStatus *t = mk("t1", MESOS__V1__TASK_STATE__TASK_STARTING);
	CHECK(memcmp(s->uuid.data, t->uuid.data, 16) != 0); /* fresh each time */
	mesos__v1__task_status__free_unpacked(s, NULL);
	mesos__v1__task_status__free_unpacked(t, NULL);
}

TEST(retain_until_ack)
{
	struct update_queue q;
	uq_init(&q);
	struct update *a = uq_push(&q, mk("t1", MESOS__V1__TASK_STATE__TASK_STARTING));
	struct update *b = uq_push(&q, mk("t1", MESOS__V1__TASK_STATE__TASK_RUNNING));
	struct update *c = uq_push(&q, mk("t2", MESOS__V1__TASK_STATE__TASK_STARTING));
	uint8_t ua[16], ub[16];
	memcpy(ua, a->status->uuid.data, 16);
	memcpy(ub, b->status->uuid.data, 16);
	CHECK_EQ_INT(q.count, 3);
	CHECK(uq_next_unsent(&q) == a);
	a->sent = true;
	CHECK(uq_next_unsent(&q) == b);
	/* Wrong task id with the right uuid: not this update. */
	CHECK_EQ_INT(uq_ack(&q, "t2", ua, 16), 0);
	CHECK_EQ_INT(uq_ack(&q, "t1", ua, 16), 1);
	CHECK_EQ_INT(uq_ack(&q, "t1", ua, 16), 0); /* duplicate ACK */
	CHECK_EQ_INT(uq_ack(&q, "t1", ua, 15), 0);
	CHECK_EQ_INT(q.count, 2);
	CHECK(uq_find_uuid(&q, ub, 16) == b);
	CHECK(uq_find_uuid(&q, ua, 16) == NULL);
	CHECK_EQ_INT(uq_count_task(&q, "t1"), 1);
	CHECK_EQ_INT(uq_count_task(&q, NULL), 2);
	/* Removing the tail keeps appends working. */
	CHECK_EQ_INT(uq_ack(&q, "t2", c->status->uuid.data, 16), 1);
	struct update *d = uq_push(&q, mk("t3", MESOS__V1__TASK_STATE__TASK_RUNNING));
	CHECK(q.head == b && b->next == d && d->next == NULL);
	uq_mark_all_sent(&q);
	CHECK(uq_next_unsent(&q) == NULL);
	uq_clear(&q);
	CHECK_EQ_INT(q.count, 0);
}

TEST(subscribe_carries_unacked)
{
	struct update_queue q;
	struct spx_error err = {0};
	size_t len;
	uq_init(&q);
	uq_push(&q, mk("t1", MESOS__V1__TASK_STATE__TASK_STARTING));
	uq_push(&q, mk("t1", MESOS__V1__TASK_STATE__TASK_RUNNING));

	Mesos__V1__TaskInfo ti = MESOS__V1__TASK_INFO__INIT;
	Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
	Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
	tid.value = "t1";
	aid.value = "agent-S1";
	ti.name = "task one";
	ti.task_id = &tid;
	ti.agent_id = &aid;
	Mesos__V1__TaskInfo *tasks[] = {&ti};

	uint8_t *buf = call_subscribe_encode(CT_PROTOBUF, "ex1", "fw1", &q, tasks, 1, &len, &err);
	CHECK(buf != NULL);
	Mesos__V1__Executor__Call *call = mesos__v1__executor__call__unpack(NULL, len, buf);
	CHECK(call != NULL);
	if (call) {
		CHECK_EQ_INT(call->type, MESOS__V1__EXECUTOR__CALL__TYPE__SUBSCRIBE);
		CHECK_EQ_STR(call->executor_id->value, "ex1");
		CHECK_EQ_STR(call->framework_id->value, "fw1");
		CHECK(call->subscribe != NULL);
		CHECK_EQ_INT(call->subscribe->n_unacknowledged_updates, 2);
		CHECK_EQ_INT(call->subscribe->unacknowledged_updates[1]->status->state,
		             MESOS__V1__TASK_STATE__TASK_RUNNING);
		CHECK(memcmp(call->subscribe->unacknowledged_updates[0]->status->uuid.data,
		             q.head->status->uuid.data, 16) == 0);
		CHECK_EQ_INT(call->subscribe->n_unacknowledged_tasks, 1);
		CHECK_EQ_STR(call->subscribe->unacknowledged_tasks[0]->name, "task one");
		mesos__v1__executor__call__free_unpacked(call, NULL);
	}
	free(buf);

	/* Empty: the subscribe field must still be encoded (tag 0x22, length 0). */
	uq_clear(&q);
	buf = call_subscribe_encode(CT_PROTOBUF, "ex1", "fw1", &q, NULL, 0, &len, &err);
	CHECK(buf && len >= 2 && buf[len - 2] == 0x22 && buf[len - 1] == 0x00);
	free(buf);
}

TEST(subscribe_json)
{
	struct update_queue q;
	struct spx_error err = {0};
	size_t len;
	uq_init(&q);
	uq_push(&q, mk("t1", MESOS__V1__TASK_STATE__TASK_STARTING));
	char *buf = (char *)call_subscribe_encode(CT_JSON, "ex1", "fw1", &q, NULL, 0, &len, &err);
	CHECK(buf != NULL);
	if (buf) {
		CHECK(strstr(buf, "\"type\":\"SUBSCRIBE\"") != NULL);
		CHECK(strstr(buf, "\"state\":\"TASK_STARTING\"") != NULL);
		CHECK(strstr(buf, "\"source\":\"SOURCE_EXECUTOR\"") != NULL);
		CHECK(strstr(buf, "\"unacknowledged_updates\"") != NULL);
	}
	free(buf);
	uq_clear(&q);
}

TEST(call_encode_checks_required)
{
	Mesos__V1__Executor__Call call = MESOS__V1__EXECUTOR__CALL__INIT;
	struct spx_error err = {0};
	size_t len;
	call.has_type = 1;
	call.type = MESOS__V1__EXECUTOR__CALL__TYPE__HEARTBEAT;
	CHECK(call_encode(CT_PROTOBUF, &call, &len, &err) == NULL);
	CHECK(strstr(spx_error_msg(&err), "required") != NULL);
	spx_error_clear(&err);
}

TEST(event_decode_rules)
{
	struct spx_error err = {0};
	/* type = LAUNCH without the launch payload. */
	const uint8_t launch_no_payload[] = {0x08, 0x02};
	CHECK(event_decode(CT_PROTOBUF, launch_no_payload, 2, &err) == NULL);
	CHECK(strstr(spx_error_msg(&err), "without 'launch'") != NULL);
	spx_error_clear(&err);
	/* Unknown event type 99: decodes (the executor ignores it). */
	const uint8_t unknown[] = {0x08, 0x63};
	Mesos__V1__Executor__Event *ev = event_decode(CT_PROTOBUF, unknown, 2, &err);
	CHECK(ev && ev->type == 99);
	CHECK_EQ_STR(event_type_name(99), "UNKNOWN(99)");
	if (ev)
		mesos__v1__executor__event__free_unpacked(ev, NULL);
	/* HEARTBEAT = 9 and SHUTDOWN carry no payload. */
	const uint8_t hb[] = {0x08, 0x09};
	ev = event_decode(CT_PROTOBUF, hb, 2, &err);
	CHECK(ev && ev->type == MESOS__V1__EXECUTOR__EVENT__TYPE__HEARTBEAT);
	if (ev)
		mesos__v1__executor__event__free_unpacked(ev, NULL);
	/* Garbage. */
	const uint8_t junk[] = {0xff, 0xff, 0xff};
	CHECK(event_decode(CT_PROTOBUF, junk, 3, &err) == NULL);
	spx_error_clear(&err);
	const char *js = "{\"type\":\"KILL\",\"kill\":{\"task_id\":{\"value\":\"3\"}}}";
	ev = event_decode(CT_JSON, (const uint8_t *)js, strlen(js), &err);
	CHECK(ev && ev->kill && strcmp(ev->kill->task_id->value, "3") == 0);
	if (ev)
		mesos__v1__executor__event__free_unpacked(ev, NULL);
	CHECK(event_decode(CT_JSON, (const uint8_t *)"{", 1, &err) == NULL);
	spx_error_clear(&err);
}

TEST(uuid_bits)
{
	uint8_t b[16];
	char txt[37];
	for (int i = 0; i < 1000; i++) {
		uuid_v4(b);
		if (!uuid_is_valid(b, 16) || (b[6] >> 4) != 4 || (b[8] & 0xC0) != 0x80) {
			HARNESS_FAIL("bad uuid %s", uuid_format(b, txt));
			break;
		}
	}
	memset(b, 0xff, 16);
	CHECK(!uuid_is_valid(b, 16)); /* version nibble 15 */
	uuid_set_v4_bits(b);
	CHECK(uuid_is_valid(b, 16));
	CHECK_EQ_STR(uuid_format(b, txt), "ffffffff-ffff-4fff-bfff-ffffffffffff");
	CHECK(!uuid_is_valid(b, 15));
}

int
main(void)
{
	RUN(status_fields);
	RUN(retain_until_ack);
	RUN(subscribe_carries_unacked);
	RUN(subscribe_json);
	RUN(call_encode_checks_required);
	RUN(event_decode_rules);
	RUN(uuid_bits);
	return harness_done();
}
