/*
 * Unit tests for core/pbjson: protobuf-c <-> Mesos JSON.
 */
#include "harness.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/pbjson.h"
#include "executor.pb-c.h"
#include "mesos.pb-c.h"

#define DESC_TASKINFO (&mesos__v1__task_info__descriptor)
#define DESC_STATUS   (&mesos__v1__task_status__descriptor)
#define DESC_EVENT    (&mesos__v1__executor__event__descriptor)
#define DESC_DURATION (&mesos__v1__duration_info__descriptor)
#define DESC_RANGE    (&mesos__v1__value__range__descriptor)
#define DESC_TASKID   (&mesos__v1__task_id__descriptor)

static char errbuf[256];

/* Parse a NUL-terminated JSON text; the reason (if any) lands in errbuf. */
static ProtobufCMessage *
parse(const ProtobufCMessageDescriptor *desc, const char *json)
{
	errbuf[0] = 0;
	return pbjson_parse(desc, json, strlen(json), errbuf, sizeof(errbuf));
}

/* Parsing must fail; returns the reason. */
static const char *
parse_err(const ProtobufCMessageDescriptor *desc, const char *json)
{
	ProtobufCMessage *m = parse(desc, json);

	if (m) {
		protobuf_c_message_free_unpacked(m, NULL);
		return "(parsed)";
	}
	return errbuf;
}

static uint8_t *
pack(const ProtobufCMessage *m, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);

	*len = protobuf_c_message_pack(m, buf);
	return buf;
}

static int
same_packed(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t na, nb;
	uint8_t *ba = pack(a, &na), *bb = pack(b, &nb);
	int same = na == nb && memcmp(ba, bb, na) == 0;

	free(ba);
	free(bb);
	return same;
}

static char *
read_fixture(const char *name)
{
	const char *dir = getenv("SPEX_FIXTURES");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	if (!dir || !*dir)
		dir = "../shared/reference/fixtures";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		printf("  cannot open fixture %s\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* A TaskInfo touching every kind of field spex uses. */
TEST(taskinfo_roundtrip)
{
	static uint8_t data[] = {0x00, 0x01, 0xfe, 0xff, 'h', 'i', 0x00};
	Mesos__V1__TaskInfo ti = MESOS__V1__TASK_INFO__INIT;
	Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
	Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
	Mesos__V1__Resource cpus, ports; /* no INIT macro: it names the deprecated role */
	Mesos__V1__Value__Scalar cpus_v = MESOS__V1__VALUE__SCALAR__INIT;
	Mesos__V1__Value__Ranges rs = MESOS__V1__VALUE__RANGES__INIT;
	Mesos__V1__Value__Range r1 = MESOS__V1__VALUE__RANGE__INIT,
	                        r2 = MESOS__V1__VALUE__RANGE__INIT;
	Mesos__V1__Value__Range *rlist[] = {&r1, &r2};
	Mesos__V1__Resource *res[] = {&cpus, &ports};
	Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
	Mesos__V1__CommandInfo__URI u1 = MESOS__V1__COMMAND_INFO__URI__INIT;
	Mesos__V1__CommandInfo__URI u2 = MESOS__V1__COMMAND_INFO__URI__INIT;
	Mesos__V1__CommandInfo__URI *uris[] = {&u1, &u2};
	Mesos__V1__Environment env = MESOS__V1__ENVIRONMENT__INIT;
	Mesos__V1__Environment__Variable v1 = MESOS__V1__ENVIRONMENT__VARIABLE__INIT;
	Mesos__V1__Environment__Variable v2 = MESOS__V1__ENVIRONMENT__VARIABLE__INIT;
	Mesos__V1__Environment__Variable *vars[] = {&v1, &v2};
	char *args[] = {"sh", "-c", "echo \"héllo\" \\ \t\n"};
	Mesos__V1__Labels labels = MESOS__V1__LABELS__INIT;
	Mesos__V1__Label l1 = MESOS__V1__LABEL__INIT, l2 = MESOS__V1__LABEL__INIT;
	Mesos__V1__Label *llist[] = {&l1, &l2};
	Mesos__V1__KillPolicy kp = MESOS__V1__KILL_POLICY__INIT;
	Mesos__V1__DurationInfo grace = MESOS__V1__DURATION_INFO__INIT;
	Mesos__V1__DurationInfo maxc = MESOS__V1__DURATION_INFO__INIT;
	Mesos__V1__TaskInfo__LimitsEntry le1 = MESOS__V1__TASK_INFO__LIMITS_ENTRY__INIT;
	Mesos__V1__TaskInfo__LimitsEntry le2 = MESOS__V1__TASK_INFO__LIMITS_ENTRY__INIT;
	Mesos__V1__TaskInfo__LimitsEntry *limits[] = {&le1, &le2};
	Mesos__V1__Value__Scalar lim_cpus = MESOS__V1__VALUE__SCALAR__INIT;
	Mesos__V1__Value__Scalar lim_mem = MESOS__V1__VALUE__SCALAR__INIT;
	Mesos__V1__ExecutorInfo ex = MESOS__V1__EXECUTOR_INFO__INIT;
	Mesos__V1__ExecutorID exid = MESOS__V1__EXECUTOR_ID__INIT;
	ProtobufCMessage *back;
	Mesos__V1__TaskInfo *t2;
	char *json, *json2;
	size_t len, len2;

	mesos__v1__resource__init(&cpus);
	mesos__v1__resource__init(&ports);
	ti.name = "spark executor 3";
	tid.value = "3";
	aid.value = "agent-S17";
	ti.task_id = &tid;
	ti.agent_id = &aid;

	cpus.name = "cpus";
	cpus.type = MESOS__V1__VALUE__TYPE__SCALAR; /* 0: required, printed */
	cpus_v.value = 2.5;
	cpus.scalar = &cpus_v;
	ports.name = "ports";
	ports.type = MESOS__V1__VALUE__TYPE__RANGES;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	ports.role = "slave_public"; /* deprecated upstream, still sent by agents */
#pragma GCC diagnostic pop
	r1.begin = 31000;
	r1.end = 31005;
	r2.begin = 9007199254740993ULL; /* 2^53 + 1: not exact as a double */
	r2.end = UINT64_MAX;
	rs.n_range = 2;
	rs.range = rlist;
	ports.ranges = &rs;
	ti.n_resources = 2;
	ti.resources = res;

	u1.value = "http://example.com/spark.tgz";
	u1.has_extract = 1;
	u1.extract = 0;
	u1.has_cache = 1;
	u1.cache = 1;
	u2.value = "http://example.com/conf";
	u2.output_file = "conf.properties";
	u2.has_executable = 1;
	u2.executable = 1;
	cmd.n_uris = 2;
	cmd.uris = uris;
	v1.name = "JAVA_HOME";
	v1.value = "/usr/lib/jvm";
	v2.name = "SECRET";
	v2.has_type = 1;
	v2.type = MESOS__V1__ENVIRONMENT__VARIABLE__TYPE__SECRET;
	v2.value = "";
	env.n_variables = 2;
	env.variables = vars;
	cmd.environment = &env;
	cmd.value = "cd spark-3*; ./bin/spark-class";
	cmd.n_arguments = 3;
	cmd.arguments = args;
	cmd.user = "etl";
	ti.command = &cmd;

	l1.key = "team";
	l1.value = "data-eng";
	l2.key = "novalue";
	labels.n_labels = 2;
	labels.labels = llist;
	ti.labels = &labels;

	grace.nanoseconds = 3000000000LL;
	kp.grace_period = &grace;
	ti.kill_policy = &kp;
	maxc.nanoseconds = INT64_MIN;
	ti.max_completion_time = &maxc;

	le1.key = "cpus";
	lim_cpus.value = 2.5;
	le1.value = &lim_cpus;
	le2.key = "mem";
	lim_mem.value = 4505;
	le2.value = &lim_mem;
	ti.n_limits = 2;
	ti.limits = limits;

	ti.has_data = 1;
	ti.data.data = data;
	ti.data.len = sizeof(data);

	exid.value = "ex-1";
	ex.executor_id = &exid;
	ex.has_type = 1;
	ex.type = MESOS__V1__EXECUTOR_INFO__TYPE__CUSTOM;
	ti.executor = &ex;

	json = pbjson_print(&ti.base, &len);
	CHECK(json != NULL);
	CHECK_EQ_INT(len, strlen(json));
	/* Spot checks on the text. */
	CHECK(strstr(json, "\"limits\":{\"cpus\":{\"value\":2.5},\"mem\":{\"value\":4505}}") !=
	      NULL);
	CHECK(strstr(json, "\"begin\":9007199254740993,\"end\":18446744073709551615") != NULL);
	CHECK(strstr(json, "\"max_completion_time\":{\"nanoseconds\":-9223372036854775808}") !=
	      NULL);
	CHECK(strstr(json, "\"data\":\"AAH+/2hpAA==\"") != NULL);
	CHECK(strstr(json, "\"type\":\"SCALAR\"") != NULL);
	CHECK(strstr(json, "\"type\":\"CUSTOM\"") != NULL);
	CHECK(strstr(json, "\"shell\"") == NULL); /* unset, default true: not printed */
	CHECK(strstr(json, "\"role\":\"slave_public\"") != NULL);
	CHECK(strstr(json, "\"role\":\"*\"") == NULL); /* cpus.role unset */
	CHECK(strstr(json, "{\"key\":\"novalue\"}") != NULL);

	back = parse(DESC_TASKINFO, json);
	CHECK(back != NULL);
	if (!back) {
		printf("  %s\n  %s\n", errbuf, json);
		free(json);
		return;
	}
	CHECK(same_packed(&ti.base, back));
	t2 = (Mesos__V1__TaskInfo *)back;
	CHECK_EQ_STR(t2->name, "spark executor 3");
	CHECK(t2->command && t2->command->has_shell == 0 && t2->command->shell == 1);
	CHECK_EQ_STR(t2->command->arguments[2], args[2]);
	CHECK(t2->resources[1]->ranges->range[1]->begin == 9007199254740993ULL);
	CHECK(t2->resources[1]->ranges->range[1]->end == UINT64_MAX);
	CHECK(t2->max_completion_time->nanoseconds == INT64_MIN);
	CHECK_EQ_INT(t2->n_limits, 2);
	CHECK_EQ_STR(t2->limits[1]->key, "mem");
	CHECK(t2->limits[1]->value->value == 4505);
	CHECK_EQ_INT(t2->data.len, sizeof(data));
	CHECK_EQ_MEM(t2->data.data, data, sizeof(data));
	/* The default role pointer is kept for the unset one. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	CHECK_EQ_STR(t2->resources[0]->role, "*");
#pragma GCC diagnostic pop

	json2 = pbjson_print(back, &len2);
	CHECK_EQ_STR(json2, json);
	free(json2);
	free(json);
	protobuf_c_message_free_unpacked(back, NULL);
}

TEST(taskstatus_required_zero_and_uuid)
{
	static const uint8_t uuid[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	Mesos__V1__TaskStatus st = MESOS__V1__TASK_STATUS__INIT;
	Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
	Mesos__V1__TaskStatus *back;
	char *json;

	tid.value = "1";
	st.task_id = &tid;
	st.state = MESOS__V1__TASK_STATE__TASK_STARTING;
	st.has_uuid = 1;
	st.uuid.data = (uint8_t *)uuid;
	st.uuid.len = sizeof(uuid);
	st.has_source = 1;
	st.source = MESOS__V1__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
	st.has_timestamp = 1;
	st.timestamp = 1700000000.25;
	json = pbjson_print(&st.base, NULL);
	CHECK_EQ_STR(json, "{\"task_id\":{\"value\":\"1\"},\"state\":\"TASK_STARTING\","
	                   "\"timestamp\":1700000000.25,\"source\":\"SOURCE_EXECUTOR\","
	                   "\"uuid\":\"AAECAwQFBgcICQoLDA0ODw==\"}");
	back = (Mesos__V1__TaskStatus *)parse(DESC_STATUS, json);
	CHECK(back != NULL);
	if (back) {
		CHECK(same_packed(&st.base, &back->base));
		protobuf_c_message_free_unpacked(&back->base, NULL);
	}
	free(json);

	/* Missing padding and the URL-safe alphabet are accepted. */
	back = (Mesos__V1__TaskStatus *)parse(
	    DESC_STATUS,
	    "{\"task_id\":{\"value\":\"1\"},\"state\":\"TASK_RUNNING\",\"uuid\":\"AAECAwQFBgcICQoLDA0ODw\","
	    "\"data\":\"-_8\"}");
	CHECK(back != NULL);
	if (back) {
		CHECK_EQ_INT(back->state, MESOS__V1__TASK_STATE__TASK_RUNNING);
		CHECK_EQ_INT(back->uuid.len, 16);
		CHECK_EQ_MEM(back->uuid.data, uuid, 16);
		CHECK_EQ_INT(back->data.len, 2);
		CHECK(back->data.len == 2 && back->data.data[0] == 0xfb &&
		      back->data.data[1] == 0xff);
		protobuf_c_message_free_unpacked(&back->base, NULL);
	}

	/* An empty bytes value is "" and round-trips as set. */
	st.uuid.len = 0;
	st.uuid.data = NULL;
	json = pbjson_print(&st.base, NULL);
	CHECK(strstr(json, "\"uuid\":\"\"") != NULL);
	back = (Mesos__V1__TaskStatus *)parse(DESC_STATUS, json);
	CHECK(back && back->has_uuid && back->uuid.len == 0);
	if (back)
		protobuf_c_message_free_unpacked(&back->base, NULL);
	free(json);
}

TEST(print_invalid_utf8)
{
	Mesos__V1__TaskStatus st = MESOS__V1__TASK_STATUS__INIT;
	Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
	Mesos__V1__Label l = MESOS__V1__LABEL__INIT, *lp = &l;
	Mesos__V1__Labels labels = MESOS__V1__LABELS__INIT;
	ProtobufCMessage *back;
	char *json;

	tid.value = "1";
	st.task_id = &tid;
	st.state = MESOS__V1__TASK_STATE__TASK_FAILED;
	st.message = "caf\xe9 \xc3\xa9\x01"; /* Latin-1 e-acute, then valid UTF-8 */
	l.key = "k\xff";
	labels.n_labels = 1;
	labels.labels = &lp;
	st.labels = &labels;
	json = pbjson_print(&st.base, NULL);
	CHECK(strstr(json, "\"message\":\"caf\xef\xbf\xbd \xc3\xa9\\u0001\"") != NULL);
	CHECK(strstr(json, "\"key\":\"k\xef\xbf\xbd\"") != NULL);
	back = parse(DESC_STATUS, json);
	CHECK(back != NULL);
	if (back)
		protobuf_c_message_free_unpacked(back, NULL);
	free(json);
}

TEST(encode_tree)
{
	Mesos__V1__DurationInfo d = MESOS__V1__DURATION_INFO__INIT;
	Mesos__V1__Value__Scalar s = MESOS__V1__VALUE__SCALAR__INIT;
	cJSON *j;

	d.nanoseconds = 0; /* required: printed even when 0 */
	j = pbjson_encode(&d.base);
	CHECK(cJSON_IsObject(j));
	CHECK(cJSON_IsRaw(cJSON_GetObjectItemCaseSensitive(j, "nanoseconds")));
	CHECK_EQ_STR(cJSON_GetObjectItemCaseSensitive(j, "nanoseconds")->valuestring, "0");
	cJSON_Delete(j);

	s.value = NAN;
	j = pbjson_encode(&s.base);
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "value")), "NaN");
	cJSON_Delete(j);
	s.value = -INFINITY;
	j = pbjson_encode(&s.base);
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "value")),
	             "-Infinity");
	cJSON_Delete(j);
	s.value = 0.1;
	j = pbjson_encode(&s.base);
	CHECK(cJSON_IsRaw(cJSON_GetObjectItemCaseSensitive(j, "value")));
	CHECK_EQ_STR(cJSON_GetObjectItemCaseSensitive(j, "value")->valuestring, "0.1");
	cJSON_Delete(j);

	j = pbjson_encode(NULL);
	CHECK(cJSON_IsObject(j) && j->child == NULL);
	cJSON_Delete(j);
}

TEST(doubles)
{
	Mesos__V1__Value__Scalar *s;
	const double vals[] = {0.1,
	                       -0.0,
	                       1e300,
	                       5e-324,
	                       4505,
	                       1.0 / 3,
	                       -2.5e-10,
	                       4505.111111111111111,
	                       2.2250738585072014e-308,
	                       1.7976931348623157e308};
	char *json;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		Mesos__V1__Value__Scalar in = MESOS__V1__VALUE__SCALAR__INIT;
		in.value = vals[i];
		json = pbjson_print(&in.base, NULL);
		s = (Mesos__V1__Value__Scalar *)parse(&mesos__v1__value__scalar__descriptor, json);
		CHECK(s != NULL);
		if (s) {
			CHECK(memcmp(&s->value, &vals[i], sizeof(double)) == 0);
			protobuf_c_message_free_unpacked(&s->base, NULL);
		}
		free(json);
	}
	s = (Mesos__V1__Value__Scalar *)parse(&mesos__v1__value__scalar__descriptor,
	                                      "{\"value\":\"Infinity\"}");
	CHECK(s && isinf(s->value) && s->value > 0);
	if (s)
		protobuf_c_message_free_unpacked(&s->base, NULL);
	s = (Mesos__V1__Value__Scalar *)parse(&mesos__v1__value__scalar__descriptor,
	                                      "{\"value\":\"2.5e3\"}");
	CHECK(s && s->value == 2500);
	if (s)
		protobuf_c_message_free_unpacked(&s->base, NULL);
	CHECK_EQ_STR(parse_err(&mesos__v1__value__scalar__descriptor, "{\"value\":1e999}"),
	             "field 'value': number out of range");
	CHECK_EQ_STR(parse_err(&mesos__v1__value__scalar__descriptor, "{\"value\":NaN}"),
	             "field 'value': expected number");
	CHECK_EQ_STR(parse_err(&mesos__v1__value__scalar__descriptor, "{\"value\":\"x1\"}"),
	             "field 'value': expected number");
	CHECK_EQ_STR(parse_err(&mesos__v1__value__scalar__descriptor, "{\"value\":true}"),
	             "field 'value': expected number");
}

TEST(int64_as_string_and_number)
{
	Mesos__V1__DurationInfo *d;
	Mesos__V1__Value__Range *r;

	d = (Mesos__V1__DurationInfo *)parse(DESC_DURATION,
	                                     "{\"nanoseconds\":\"9223372036854775807\"}");
	CHECK(d && d->nanoseconds == INT64_MAX);
	if (d)
		protobuf_c_message_free_unpacked(&d->base, NULL);
	d = (Mesos__V1__DurationInfo *)parse(DESC_DURATION,
	                                     "{\"nanoseconds\":-9223372036854775808}");
	CHECK(d && d->nanoseconds == INT64_MIN);
	if (d)
		protobuf_c_message_free_unpacked(&d->base, NULL);
	d = (Mesos__V1__DurationInfo *)parse(DESC_DURATION, "{\"nanoseconds\":3000000000}");
	CHECK(d && d->nanoseconds == 3000000000LL);
	if (d)
		protobuf_c_message_free_unpacked(&d->base, NULL);
	d = (Mesos__V1__DurationInfo *)parse(DESC_DURATION, " {\"nanoseconds\": 1.5e9 } \n");
	CHECK(d && d->nanoseconds == 1500000000LL);
	if (d)
		protobuf_c_message_free_unpacked(&d->base, NULL);
	d = (Mesos__V1__DurationInfo *)parse(DESC_DURATION, "{\"nanoseconds\":\"-42\"}");
	CHECK(d && d->nanoseconds == -42);
	if (d)
		protobuf_c_message_free_unpacked(&d->base, NULL);

	r = (Mesos__V1__Value__Range *)parse(DESC_RANGE, "{\"begin\":\"18446744073709551615\","
	                                                 "\"end\":18446744073709551615}");
	CHECK(r && r->begin == UINT64_MAX && r->end == UINT64_MAX);
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);

	CHECK_EQ_STR(parse_err(DESC_DURATION, "{\"nanoseconds\":9223372036854775808}"),
	             "field 'nanoseconds': integer out of range");
	CHECK_EQ_STR(parse_err(DESC_DURATION, "{\"nanoseconds\":1e400}"),
	             "field 'nanoseconds': integer out of range");
	CHECK_EQ_STR(parse_err(DESC_DURATION, "{\"nanoseconds\":1.5}"),
	             "field 'nanoseconds': expected integer, got a fraction");
	CHECK_EQ_STR(parse_err(DESC_DURATION, "{\"nanoseconds\":\"12abc\"}"),
	             "field 'nanoseconds': expected integer");
	CHECK_EQ_STR(parse_err(DESC_DURATION, "{\"nanoseconds\":\" 12\"}"),
	             "field 'nanoseconds': expected integer");
	CHECK_EQ_STR(parse_err(DESC_DURATION, "{\"nanoseconds\":\"\"}"),
	             "field 'nanoseconds': expected integer");
	CHECK_EQ_STR(
	    parse_err(DESC_DURATION, "{\"nanoseconds\":123456789012345678901234567890123456789}"),
	    "field 'nanoseconds': integer out of range");
	CHECK_EQ_STR(parse_err(DESC_RANGE, "{\"begin\":-1,\"end\":2}"),
	             "field 'begin': negative value for an unsigned field");
	CHECK_EQ_STR(parse_err(DESC_RANGE, "{\"begin\":18446744073709551616,\"end\":2}"),
	             "field 'begin': integer out of range");
	CHECK_EQ_STR(parse_err(DESC_DURATION, "{\"nanoseconds\":01}"),
	             "invalid JSON at offset 16: expected ',' or '}'");
	CHECK_EQ_STR(parse_err(DESC_DURATION, "{\"nanoseconds\":-}"),
	             "invalid JSON at offset 15: invalid number");
	/* -0 is zero, even for unsigned. */
	r = (Mesos__V1__Value__Range *)parse(DESC_RANGE, "{\"begin\":-0,\"end\":0.0e5}");
	CHECK(r && r->begin == 0 && r->end == 0);
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);
}

TEST(unknown_keys_ignored)
{
	Mesos__V1__TaskID *t = (Mesos__V1__TaskID *)parse(
	    DESC_TASKID, "{\"foo\":{\"bar\":[1,2.5e3,{\"z\":null},\"\\u00e9\"]},\"value\":\"x\","
	                 "\"zz\":true,\"value2\":[]}");

	CHECK(t != NULL);
	if (t) {
		CHECK_EQ_STR(t->value, "x");
		protobuf_c_message_free_unpacked(&t->base, NULL);
	}
	/* Unknown keys are still syntax-checked. */
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"foo\":[1,],\"value\":\"x\"}"),
	             "invalid JSON at offset 10: expected a value");
	/* The fixture's "container" is not in spex's subset. */
}

TEST(enums)
{
	Mesos__V1__Executor__Event *e;
	Mesos__V1__TaskStatus *st;

	e = (Mesos__V1__Executor__Event *)parse(DESC_EVENT, "{\"type\":\"NOT_A_TYPE\"}");
	CHECK(e != NULL);
	if (e) {
		CHECK_EQ_INT(e->has_type, 0);
		protobuf_c_message_free_unpacked(&e->base, NULL);
	}
	/* Numbers are accepted (lenient). */
	e = (Mesos__V1__Executor__Event *)parse(DESC_EVENT, "{\"type\":9}");
	CHECK(e && e->has_type && e->type == MESOS__V1__EXECUTOR__EVENT__TYPE__HEARTBEAT);
	if (e)
		protobuf_c_message_free_unpacked(&e->base, NULL);
	/* A number naming no value survives a round trip as a number. */
	e = (Mesos__V1__Executor__Event *)parse(DESC_EVENT, "{\"type\":77}");
	CHECK(e && e->has_type && (int)e->type == 77);
	if (e) {
		char *json = pbjson_print(&e->base, NULL);
		CHECK_EQ_STR(json, "{\"type\":77}");
		free(json);
		protobuf_c_message_free_unpacked(&e->base, NULL);
	}
	/* A required enum must be known. */
	CHECK_EQ_STR(
	    parse_err(DESC_STATUS, "{\"task_id\":{\"value\":\"1\"},\"state\":\"TASK_NOPE\"}"),
	    "field 'state': unknown TaskState value");
	CHECK_EQ_STR(parse_err(DESC_STATUS, "{\"task_id\":{\"value\":\"1\"},\"state\":{}}"),
	             "field 'state': expected enum name or integer");
	/* Optional unknown enum in a status: reason unset, rest kept. */
	st = (Mesos__V1__TaskStatus *)parse(
	    DESC_STATUS, "{\"task_id\":{\"value\":\"7\"},\"state\":\"TASK_LOST\","
	                 "\"source\":\"SOURCE_MASTER\",\"reason\":\"REASON_AGENT_REMOVED\"}");
	CHECK(st != NULL);
	if (st) {
		CHECK_EQ_INT(st->state, MESOS__V1__TASK_STATE__TASK_LOST);
		CHECK(st->has_source &&
		      st->source == MESOS__V1__TASK_STATUS__SOURCE__SOURCE_MASTER);
		CHECK_EQ_INT(st->has_reason, 0);
		protobuf_c_message_free_unpacked(&st->base, NULL);
	}
}

TEST(missing_required)
{
	CHECK_EQ_STR(parse_err(DESC_TASKINFO,
	                       "{\"task_id\":{\"value\":\"1\"},\"agent_id\":{\"value\":\"a\"}}"),
	             "missing required field 'TaskInfo.name'");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"name\":\"n\",\"task_id\":{\"value\":\"1\"},"
	                                      "\"agent_id\":{}}"),
	             "missing required field 'AgentID.value' in 'agent_id'");
	CHECK_EQ_STR(parse_err(DESC_EVENT,
	                       "{\"type\":\"LAUNCH\",\"launch\":{\"task\":{\"name\":\"n\","
	                       "\"agent_id\":{\"value\":\"a\"}}}}"),
	             "missing required field 'TaskInfo.task_id' in 'launch.task'");
	CHECK_EQ_STR(parse_err(DESC_EVENT,
	                       "{\"type\":\"LAUNCH\",\"launch\":{\"task\":{\"name\":\"n\","
	                       "\"task_id\":{\"value\":\"1\"},\"agent_id\":{\"value\":"
	                       "\"a\"},\"resources\":[{\"name\":\"cpus\",\"type\":"
	                       "\"SCALAR\"},{\"name\":\"mem\"}]}}}"),
	             "missing required field 'Resource.type' in 'launch.task.resources[1]'");
	/* null means absent. */
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":null}"),
	             "missing required field 'TaskID.value'");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{}"), "missing required field 'TaskID.value'");
}

TEST(wrong_types)
{
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"name\":\"n\",\"task_id\":\"1\"}"),
	             "field 'task_id': expected object");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"name\":1}"), "field 'name': expected string");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"resources\":{}}"),
	             "field 'resources': expected array");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"resources\":[null]}"),
	             "field 'resources[0]': null in array");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"resources\":[{\"name\":\"x\",\"type\":\"SCALAR\","
	                                      "\"scalar\":{\"value\":\"a\"}}]}"),
	             "field 'resources[0].scalar.value': expected number");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"limits\":[]}"),
	             "field 'limits': expected object");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"limits\":{\"cpus\":1}}"),
	             "field 'limits[cpus]': expected object");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"limits\":{\"cpus\":null}}"),
	             "field 'limits[cpus]': null map value");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"command\":{\"shell\":\"true\"}}"),
	             "field 'command.shell': expected true or false");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"command\":{\"shell\":1}}"),
	             "field 'command.shell': expected true or false");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"command\":{\"arguments\":\"a b\"}}"),
	             "field 'command.arguments': expected array");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"command\":{\"arguments\":[\"a\",2]}}"),
	             "field 'command.arguments[1]': expected string");
	CHECK_EQ_STR(parse_err(DESC_TASKINFO, "{\"name\":\"a\\u0000b\"}"),
	             "field 'name': string contains \\u0000");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":\"a\",\"value\":\"b\"}"),
	             "field 'value': duplicate key");
}

TEST(invalid_base64)
{
	const char *pre = "{\"task_id\":{\"value\":\"1\"},\"state\":\"TASK_RUNNING\",\"uuid\":";
	const char *bad[] = {"\"!!!!\"", "\"QQ=\"",   "\"Q\"",     "\"QUJD=\"",
	                     "\"QU=I\"", "\"QQ===\"", "\"QQ== \"", "5"};
	char json[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "%s%s}", pre, bad[i]);
		CHECK_EQ_STR(parse_err(DESC_STATUS, json),
		             i == 7 ? "field 'uuid': expected base64 string"
		                    : "field 'uuid': invalid base64");
	}
}

TEST(syntax_and_limits)
{
	char *deep;
	size_t n = 0, i;
	const char *ok = "{\"value\":\"a\"}garbage";
	ProtobufCMessage *m;

	CHECK_EQ_STR(parse_err(DESC_TASKID, ""), "empty input: expected a JSON object");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "  [] "), "expected a JSON object for TaskID");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "\"x\""), "expected a JSON object for TaskID");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":\"a\"} x"),
	             "invalid JSON at offset 14: trailing data after the object");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":\"a\"}{}"),
	             "invalid JSON at offset 13: trailing data after the object");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":\"a\""),
	             "invalid JSON: unexpected end of input (expected ',' or '}')");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":\"a"),
	             "invalid JSON: unexpected end of input (unterminated string)");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":\"a\",}"),
	             "invalid JSON at offset 13: expected object key");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{value:\"a\"}"),
	             "invalid JSON at offset 1: expected object key");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":\"\\x\"}"),
	             "invalid JSON at offset 10: invalid escape in string");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":\"\\ud800\"}"),
	             "invalid JSON at offset 16: lone UTF-16 surrogate in string");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":\"\xc3\x28\"}"),
	             "invalid JSON at offset 10: invalid UTF-8 in string");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":\"\xed\xa0\x80\"}"),
	             "invalid JSON at offset 10: invalid UTF-8 in string");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":\"a\nb\"}"),
	             "invalid JSON at offset 11: control character in string");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"value\":tru}"), "field 'value': expected string");
	CHECK_EQ_STR(parse_err(DESC_TASKID, "{\"x\":tru}"),
	             "invalid JSON at offset 5: invalid literal");

	/* An embedded NUL byte is rejected. */
	errbuf[0] = 0;
	CHECK(pbjson_parse(DESC_TASKID, "{\"value\":\"a\0\"}", 14, errbuf, sizeof(errbuf)) == NULL);
	CHECK_EQ_STR(errbuf, "invalid JSON at offset 11: NUL byte");

	/* The text need not be NUL-terminated: only len bytes are read. */
	m = pbjson_parse(DESC_TASKID, ok, 13, errbuf, sizeof(errbuf));
	CHECK(m != NULL);
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);

	/* Surrogate pairs decode to UTF-8. */
	m = parse(DESC_TASKID, "{\"value\":\"\\ud83d\\ude00\\u00e9/\\/\"}");
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ_STR(((Mesos__V1__TaskID *)m)->value, "\xf0\x9f\x98\x80\xc3\xa9//");
		protobuf_c_message_free_unpacked(m, NULL);
	}

	/* Deep nesting, in an unknown key and in real fields. */
	deep = malloc(4096);
	n = (size_t)sprintf(deep, "{\"value\":\"a\",\"x\":");
	for (i = 0; i < 100; i++)
		deep[n++] = '[';
	for (i = 0; i < 100; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = 0;
	CHECK(strstr(parse_err(DESC_TASKID, deep), "nesting deeper than 64 levels") != NULL);

	n = 0;
	for (i = 0; i < 70; i++)
		n += (size_t)sprintf(deep + n, "{\"value\":\"c%zu\",\"parent\":", i);
	n += (size_t)sprintf(deep + n, "{\"value\":\"leaf\"}");
	for (i = 0; i < 70; i++)
		deep[n++] = '}';
	deep[n] = 0;
	CHECK(strstr(parse_err(&mesos__v1__container_id__descriptor, deep),
	             "nesting deeper than 64 levels") != NULL);

	/* 63 levels are fine. */
	n = 0;
	for (i = 0; i < 62; i++)
		n += (size_t)sprintf(deep + n, "{\"value\":\"c%zu\",\"parent\":", i);
	n += (size_t)sprintf(deep + n, "{\"value\":\"leaf\"}");
	for (i = 0; i < 62; i++)
		deep[n++] = '}';
	deep[n] = 0;
	m = parse(&mesos__v1__container_id__descriptor, deep);
	CHECK(m != NULL);
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);

	/* A long field path is truncated, not overflowed. */
	n = 0;
	for (i = 0; i < 62; i++)
		n += (size_t)sprintf(deep + n, "{\"value\":\"c%zu\",\"parent\":", i);
	n += (size_t)sprintf(deep + n, "{\"valu\":\"leaf\"}");
	for (i = 0; i < 62; i++)
		deep[n++] = '}';
	deep[n] = 0;
	CHECK(strncmp(parse_err(&mesos__v1__container_id__descriptor, deep),
	              "missing required field 'ContainerID.value' in 'parent.parent.", 61) == 0);
	CHECK(strlen(errbuf) < sizeof(errbuf));
	free(deep);

	/* Too large. */
	errbuf[0] = 0;
	CHECK(pbjson_parse(DESC_TASKID, "{}", PBJSON_MAX_INPUT + 1, errbuf, sizeof(errbuf)) ==
	      NULL);
	CHECK(strstr(errbuf, "exceeds the limit") != NULL);

	/* A tiny error buffer is fine, and so is none. */
	CHECK(pbjson_parse(DESC_TASKID, "[]", 2, errbuf, 4) == NULL);
	CHECK_EQ_STR(errbuf, "exp");
	CHECK(pbjson_parse(DESC_TASKID, "[]", 2, NULL, 0) == NULL);
}

TEST(event_launch)
{
	const char *json =
	    "{\"type\":\"LAUNCH\",\"launch\":{\"task\":{\"name\":\"t\",\"task_id\":{\"value\":"
	    "\"1\"},\"agent_id\":{\"value\":\"S1\"},\"resources\":[{\"name\":\"cpus\",\"type\":"
	    "\"SCALAR\",\"scalar\":{\"value\":0.1},\"role\":\"*\",\"allocation_info\":{\"role\":"
	    "\"*\"}}],\"command\":{\"shell\":true,\"value\":\"sleep 1\",\"environment\":{"
	    "\"variables\":[{\"name\":\"A\",\"type\":\"VALUE\",\"value\":\"b\"}]}},"
	    "\"executor\":{\"executor_id\":{\"value\":\"e\"},\"framework_id\":{\"value\":\"f\"},"
	    "\"type\":\"CUSTOM\",\"command\":{\"value\":\"spex-executor\",\"shell\":true}},"
	    "\"kill_policy\":{\"grace_period\":{\"nanoseconds\":5000000000}}}}}";
	Mesos__V1__Executor__Event *e = (Mesos__V1__Executor__Event *)parse(DESC_EVENT, json);
	Mesos__V1__TaskInfo *t;

	CHECK(e != NULL);
	if (!e) {
		printf("  %s\n", errbuf);
		return;
	}
	CHECK(e->has_type && e->type == MESOS__V1__EXECUTOR__EVENT__TYPE__LAUNCH);
	CHECK(e->launch && e->launch->task);
	t = e->launch->task;
	CHECK_EQ_STR(t->name, "t");
	CHECK_EQ_STR(t->task_id->value, "1");
	CHECK_EQ_INT(t->n_resources, 1);
	CHECK(t->resources[0]->scalar->value == 0.1);
	CHECK_EQ_STR(t->resources[0]->allocation_info->role, "*");
	CHECK(t->command->has_shell && t->command->shell);
	CHECK_EQ_STR(t->command->value, "sleep 1");
	CHECK_EQ_STR(t->command->environment->variables[0]->value, "b");
	CHECK(t->kill_policy->grace_period->nanoseconds == 5000000000LL);
	CHECK_EQ_STR(t->executor->executor_id->value, "e");
	protobuf_c_message_free_unpacked(&e->base, NULL);
}

TEST(event_acknowledged_heartbeat)
{
	Mesos__V1__Executor__Event *e;
	char *json;

	e = (Mesos__V1__Executor__Event *)parse(
	    DESC_EVENT, "{\"type\":\"ACKNOWLEDGED\",\"acknowledged\":{\"task_id\":{\"value\":"
	                "\"1\"},\"uuid\":\"3q2+7wAAQACAAAAAAAAAAQ==\"}}");
	CHECK(e != NULL);
	if (e) {
		CHECK(e->type == MESOS__V1__EXECUTOR__EVENT__TYPE__ACKNOWLEDGED);
		CHECK(e->acknowledged && e->acknowledged->uuid.len == 16);
		CHECK(e->acknowledged->uuid.data[0] == 0xde && e->acknowledged->uuid.data[15] == 1);
		CHECK_EQ_STR(e->acknowledged->task_id->value, "1");
		json = pbjson_print(&e->base, NULL);
		CHECK_EQ_STR(json, "{\"type\":\"ACKNOWLEDGED\",\"acknowledged\":{\"task_id\":{"
		                   "\"value\":\"1\"},\"uuid\":\"3q2+7wAAQACAAAAAAAAAAQ==\"}}");
		free(json);
		protobuf_c_message_free_unpacked(&e->base, NULL);
	}
	CHECK_EQ_STR(parse_err(DESC_EVENT,
	                       "{\"type\":\"ACKNOWLEDGED\",\"acknowledged\":{\"task_id\":"
	                       "{\"value\":\"1\"}}}"),
	             "missing required field 'Acknowledged.uuid' in 'acknowledged'");

	e = (Mesos__V1__Executor__Event *)parse(DESC_EVENT, "{\"type\":\"HEARTBEAT\"}");
	CHECK(e && e->has_type && e->type == MESOS__V1__EXECUTOR__EVENT__TYPE__HEARTBEAT);
	if (e) {
		json = pbjson_print(&e->base, NULL);
		CHECK_EQ_STR(json, "{\"type\":\"HEARTBEAT\"}");
		free(json);
		protobuf_c_message_free_unpacked(&e->base, NULL);
	}

	e = (Mesos__V1__Executor__Event *)parse(
	    DESC_EVENT,
	    "{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"executor_info\":{\"executor_id\":{"
	    "\"value\":\"e\"}},\"framework_info\":{\"user\":\"u\",\"name\":\"Spark\","
	    "\"failover_timeout\":0.0,\"checkpoint\":false,\"capabilities\":[{\"type\":"
	    "\"MULTI_ROLE\"},{\"type\":\"FUTURE_CAP\"}],\"roles\":[\"*\"]},\"agent_info\":{"
	    "\"hostname\":\"h\",\"port\":5051},\"container_id\":{\"value\":\"c\"}}}");
	CHECK(e != NULL);
	if (e) {
		Mesos__V1__FrameworkInfo *fi = e->subscribed->framework_info;
		CHECK_EQ_STR(fi->name, "Spark");
		CHECK_EQ_INT(fi->n_capabilities, 2);
		CHECK(fi->capabilities[0]->has_type);
		CHECK(!fi->capabilities[1]->has_type); /* unknown: unset */
		CHECK_EQ_INT(e->subscribed->agent_info->port, 5051);
		CHECK_EQ_STR(e->subscribed->container_id->value, "c");
		protobuf_c_message_free_unpacked(&e->base, NULL);
	}
}

TEST(fixture_spark_taskinfo)
{
	char *text = read_fixture("spark-mesos-taskinfo.json");
	Mesos__V1__TaskInfo *t;

	CHECK(text != NULL);
	if (!text)
		return;
	t = (Mesos__V1__TaskInfo *)parse(DESC_TASKINFO, text);
	CHECK(t != NULL);
	if (t) {
		CHECK_EQ_STR(t->name, "nightly-etl 3");
		CHECK_EQ_STR(t->task_id->value, "3");
		CHECK_EQ_STR(t->agent_id->value, "3f2a6c1e-8d4b-4e7a-9c21-5b0d7e9f1a42-S17");
		CHECK_EQ_INT(t->n_resources, 2);
		CHECK_EQ_STR(t->resources[1]->name, "mem");
		CHECK(t->resources[1]->scalar->value == 4505.0);
		CHECK_EQ_INT(t->command->n_uris, 2);
		CHECK(t->command->uris[0]->has_cache && !t->command->uris[0]->cache);
		CHECK_EQ_INT(t->command->environment->n_variables, 4);
		CHECK_EQ_STR(t->command->environment->variables[3]->value, "etl");
		CHECK(strncmp(t->command->value, "cd spark-3*; LD_LIBRARY_PATH=\"", 30) == 0);
		CHECK_EQ_INT(t->labels->n_labels, 2);
		protobuf_c_message_free_unpacked(&t->base, NULL);
	} else {
		printf("  %s\n", errbuf);
	}
	free(text);

	text = read_fixture("spark-mesos-taskinfo-docker.json");
	CHECK(text != NULL);
	if (!text)
		return;
	t = (Mesos__V1__TaskInfo *)parse(DESC_TASKINFO, text);
	CHECK(t != NULL);
	if (t) {
		CHECK_EQ_INT(t->n_resources, 3);
		CHECK(t->resources[2]->ranges->range[0]->begin == 31555);
		CHECK_EQ_STR(t->command->environment->variables[1]->value, "");
		CHECK(t->labels && t->labels->n_labels == 0);
		protobuf_c_message_free_unpacked(&t->base, NULL);
	} else {
		printf("  %s\n", errbuf);
	}
	free(text);
}

TEST(fixture_taskstatus_cases)
{
	char *text = read_fixture("spark-mesos-taskstatus-cases.json");
	cJSON *root, *c;
	int n = 0;

	CHECK(text != NULL);
	if (!text)
		return;
	root = cJSON_Parse(text);
	CHECK(root != NULL);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases"))
	{
		char *s = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, "status"));
		Mesos__V1__TaskStatus *st = (Mesos__V1__TaskStatus *)parse(DESC_STATUS, s);
		CHECK(st != NULL);
		if (st) {
			char *again = pbjson_print(&st->base, NULL);
			Mesos__V1__TaskStatus *st2 =
			    (Mesos__V1__TaskStatus *)parse(DESC_STATUS, again);
			CHECK(st2 && same_packed(&st->base, &st2->base));
			if (st2)
				protobuf_c_message_free_unpacked(&st2->base, NULL);
			free(again);
			protobuf_c_message_free_unpacked(&st->base, NULL);
			n++;
		}
		cJSON_free(s);
	}
	CHECK_EQ_INT(n, 8);
	cJSON_Delete(root);
	free(text);
}

/*
 * A hand-built descriptor for the field types and shapes spex's protos do not
 * use (sint, fixed, sfixed, float, uint32, integer and bool map keys, a
 * oneof, a proto3 field), so the generic code paths are exercised too. Field
 * names sort in id order, so fields_sorted_by_name is the identity.
 */
typedef struct {
	ProtobufCMessage base;
	protobuf_c_boolean has_key;
	int64_t key;
	char *value;
} KImapEntry;

typedef struct {
	ProtobufCMessage base;
	protobuf_c_boolean has_key;
	protobuf_c_boolean key;
	protobuf_c_boolean has_value;
	int32_t value;
} KBmapEntry;

typedef struct {
	ProtobufCMessage base;
	protobuf_c_boolean has_s32;
	int32_t s32;
	protobuf_c_boolean has_s64;
	int64_t s64;
	protobuf_c_boolean has_f32;
	uint32_t f32;
	protobuf_c_boolean has_f64;
	uint64_t f64;
	protobuf_c_boolean has_sf32;
	int32_t sf32;
	protobuf_c_boolean has_sf64;
	int64_t sf64;
	protobuf_c_boolean has_fl;
	float fl;
	protobuf_c_boolean has_u32;
	uint32_t u32;
	size_t n_rs32;
	int32_t *rs32;
	size_t n_rfl;
	float *rfl;
	size_t n_rb;
	protobuf_c_boolean *rb;
	size_t n_imap;
	KImapEntry **imap;
	size_t n_bmap;
	KBmapEntry **bmap;
	uint32_t choice_case;
	union {
		char *oa;
		int32_t ob;
	} choice;
	int32_t p3;
} Kitchen;

static const unsigned k_identity[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const ProtobufCIntRange k_ranges2[] = {{1, 0}, {0, 2}};
static const ProtobufCIntRange k_ranges16[] = {{1, 0}, {0, 16}};

#define KF(nm, num, lab, typ, st, q, member)                                                       \
	{                                                                                          \
		.name = nm, .id = num, .label = PROTOBUF_C_LABEL_##lab,                            \
		.type = PROTOBUF_C_TYPE_##typ, .quantifier_offset = q,                             \
		.offset = offsetof(st, member)                                                     \
	}

static const ProtobufCFieldDescriptor k_imap_fields[] = {
    KF("key", 1, OPTIONAL, SINT64, KImapEntry, offsetof(KImapEntry, has_key), key),
    KF("value", 2, OPTIONAL, STRING, KImapEntry, 0, value),
};
static const ProtobufCMessageDescriptor k_imap_desc = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                       "test.Kitchen.LImapEntry",
                                                       "LImapEntry",
                                                       "KImapEntry",
                                                       "test",
                                                       sizeof(KImapEntry),
                                                       2,
                                                       k_imap_fields,
                                                       k_identity,
                                                       1,
                                                       k_ranges2,
                                                       NULL,
                                                       NULL,
                                                       NULL,
                                                       NULL};

static const ProtobufCFieldDescriptor k_bmap_fields[] = {
    KF("key", 1, OPTIONAL, BOOL, KBmapEntry, offsetof(KBmapEntry, has_key), key),
    KF("value", 2, OPTIONAL, INT32, KBmapEntry, offsetof(KBmapEntry, has_value), value),
};
static const ProtobufCMessageDescriptor k_bmap_desc = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                       "test.Kitchen.MBmapEntry",
                                                       "MBmapEntry",
                                                       "KBmapEntry",
                                                       "test",
                                                       sizeof(KBmapEntry),
                                                       2,
                                                       k_bmap_fields,
                                                       k_identity,
                                                       1,
                                                       k_ranges2,
                                                       NULL,
                                                       NULL,
                                                       NULL,
                                                       NULL};

static const ProtobufCFieldDescriptor k_fields[] = {
    KF("a_s32", 1, OPTIONAL, SINT32, Kitchen, offsetof(Kitchen, has_s32), s32),
    KF("b_s64", 2, OPTIONAL, SINT64, Kitchen, offsetof(Kitchen, has_s64), s64),
    KF("c_f32", 3, OPTIONAL, FIXED32, Kitchen, offsetof(Kitchen, has_f32), f32),
    KF("d_f64", 4, OPTIONAL, FIXED64, Kitchen, offsetof(Kitchen, has_f64), f64),
    KF("e_sf32", 5, OPTIONAL, SFIXED32, Kitchen, offsetof(Kitchen, has_sf32), sf32),
    KF("f_sf64", 6, OPTIONAL, SFIXED64, Kitchen, offsetof(Kitchen, has_sf64), sf64),
    KF("g_fl", 7, OPTIONAL, FLOAT, Kitchen, offsetof(Kitchen, has_fl), fl),
    KF("h_u32", 8, OPTIONAL, UINT32, Kitchen, offsetof(Kitchen, has_u32), u32),
    KF("i_rs32", 9, REPEATED, SINT32, Kitchen, offsetof(Kitchen, n_rs32), rs32),
    KF("j_rfl", 10, REPEATED, FLOAT, Kitchen, offsetof(Kitchen, n_rfl), rfl),
    KF("k_rb", 11, REPEATED, BOOL, Kitchen, offsetof(Kitchen, n_rb), rb),
    {.name = "l_imap",
     .id = 12,
     .label = PROTOBUF_C_LABEL_REPEATED,
     .type = PROTOBUF_C_TYPE_MESSAGE,
     .quantifier_offset = offsetof(Kitchen, n_imap),
     .offset = offsetof(Kitchen, imap),
     .descriptor = &k_imap_desc},
    {.name = "m_bmap",
     .id = 13,
     .label = PROTOBUF_C_LABEL_REPEATED,
     .type = PROTOBUF_C_TYPE_MESSAGE,
     .quantifier_offset = offsetof(Kitchen, n_bmap),
     .offset = offsetof(Kitchen, bmap),
     .descriptor = &k_bmap_desc},
    {.name = "n_oa",
     .id = 14,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_STRING,
     .quantifier_offset = offsetof(Kitchen, choice_case),
     .offset = offsetof(Kitchen, choice.oa),
     .flags = PROTOBUF_C_FIELD_FLAG_ONEOF},
    {.name = "o_ob",
     .id = 15,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_INT32,
     .quantifier_offset = offsetof(Kitchen, choice_case),
     .offset = offsetof(Kitchen, choice.ob),
     .flags = PROTOBUF_C_FIELD_FLAG_ONEOF},
    KF("p_p3", 16, NONE, INT32, Kitchen, 0, p3),
};
static const ProtobufCMessageDescriptor k_desc = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                  "test.Kitchen",
                                                  "Kitchen",
                                                  "Kitchen",
                                                  "test",
                                                  sizeof(Kitchen),
                                                  16,
                                                  k_fields,
                                                  k_identity,
                                                  1,
                                                  k_ranges16,
                                                  NULL,
                                                  NULL,
                                                  NULL,
                                                  NULL};

TEST(generic_types)
{
	int32_t rs32[] = {-1, 0, INT32_MAX, INT32_MIN};
	float rfl[] = {1.5f, -0.0f, 3.4028235e38f, 0.1f};
	protobuf_c_boolean rb[] = {1, 0};
	KImapEntry ie1 = {
	    .base = {.descriptor = &k_imap_desc}, .has_key = 1, .key = -7, .value = "neg"};
	KImapEntry ie2 = {.base = {.descriptor = &k_imap_desc},
	                  .has_key = 1,
	                  .key = 9007199254740993LL,
	                  .value = "big"};
	KImapEntry *imap[] = {&ie1, &ie2};
	KBmapEntry be = {.base = {.descriptor = &k_bmap_desc},
	                 .has_key = 1,
	                 .key = 1,
	                 .has_value = 1,
	                 .value = -1};
	KBmapEntry *bmap[] = {&be};
	Kitchen k = {.base = {.descriptor = &k_desc}};
	ProtobufCMessage *back;
	char *json, *json2;

	k.has_s32 = 1;
	k.s32 = INT32_MIN;
	k.has_s64 = 1;
	k.s64 = INT64_MIN;
	k.has_f32 = 1;
	k.f32 = UINT32_MAX;
	k.has_f64 = 1;
	k.f64 = UINT64_MAX;
	k.has_sf32 = 1;
	k.sf32 = -5;
	k.has_sf64 = 1;
	k.sf64 = INT64_MIN + 1;
	k.has_fl = 1;
	k.fl = 0.1f;
	k.has_u32 = 1;
	k.u32 = 4000000000u;
	k.n_rs32 = 4;
	k.rs32 = rs32;
	k.n_rfl = 4;
	k.rfl = rfl;
	k.n_rb = 2;
	k.rb = rb;
	k.n_imap = 2;
	k.imap = imap;
	k.n_bmap = 1;
	k.bmap = bmap;
	k.choice_case = 15;
	k.choice.ob = 42;
	k.p3 = 0; /* proto3 zero: not printed */

	json = pbjson_print(&k.base, NULL);
	CHECK_EQ_STR(json,
	             "{\"a_s32\":-2147483648,\"b_s64\":-9223372036854775808,\"c_f32\":"
	             "4294967295,\"d_f64\":18446744073709551615,\"e_sf32\":-5,\"f_sf64\":"
	             "-9223372036854775807,\"g_fl\":0.1,\"h_u32\":4000000000,\"i_rs32\":[-1,0,"
	             "2147483647,-2147483648],\"j_rfl\":[1.5,-0,3.4028235e+38,0.1],\"k_rb\":["
	             "true,false],\"l_imap\":{\"-7\":\"neg\",\"9007199254740993\":\"big\"},"
	             "\"m_bmap\":{\"true\":-1},\"o_ob\":42}");
	back = parse(&k_desc, json);
	CHECK(back != NULL);
	if (!back) {
		printf("  %s\n", errbuf);
	} else {
		Kitchen *k2 = (Kitchen *)back;
		CHECK(same_packed(&k.base, back));
		CHECK(k2->s64 == INT64_MIN && k2->f64 == UINT64_MAX && k2->fl == 0.1f);
		CHECK(k2->imap[1]->key == 9007199254740993LL);
		CHECK(signbit(k2->rfl[1]));
		json2 = pbjson_print(back, NULL);
		CHECK_EQ_STR(json2, json);
		free(json2);
		protobuf_c_message_free_unpacked(back, NULL);
	}
	free(json);

	k.p3 = 3;
	k.choice_case = 14;
	k.choice.oa = "x";
	json = pbjson_print(&k.base, NULL);
	CHECK(strstr(json, "\"n_oa\":\"x\",\"p_p3\":3}") != NULL);
	CHECK(strstr(json, "o_ob") == NULL);
	free(json);

	CHECK_EQ_STR(parse_err(&k_desc, "{\"a_s32\":2147483648}"),
	             "field 'a_s32': integer out of range");
	CHECK_EQ_STR(parse_err(&k_desc, "{\"a_s32\":-2147483649}"),
	             "field 'a_s32': integer out of range");
	CHECK_EQ_STR(parse_err(&k_desc, "{\"h_u32\":4294967296}"),
	             "field 'h_u32': integer out of range");
	CHECK_EQ_STR(parse_err(&k_desc, "{\"c_f32\":-1}"),
	             "field 'c_f32': negative value for an unsigned field");
	CHECK_EQ_STR(parse_err(&k_desc, "{\"g_fl\":1e39}"), "field 'g_fl': number out of range");
	CHECK_EQ_STR(parse_err(&k_desc, "{\"g_fl\":3.40282357e38}"),
	             "field 'g_fl': number out of range");
	back = parse(&k_desc, "{\"g_fl\":-3.40282356e38}");
	CHECK(back && ((Kitchen *)back)->fl == -FLT_MAX);
	if (back)
		protobuf_c_message_free_unpacked(back, NULL);
	CHECK_EQ_STR(parse_err(&k_desc, "{\"k_rb\":[true,1]}"),
	             "field 'k_rb[1]': expected true or false");
	CHECK_EQ_STR(parse_err(&k_desc, "{\"l_imap\":{\"x\":\"a\"}}"),
	             "field 'l_imap[x]': expected integer");
	CHECK_EQ_STR(parse_err(&k_desc, "{\"l_imap\":{\"1.5\":\"a\"}}"),
	             "field 'l_imap[1.5]': expected integer, got a fraction");
	CHECK_EQ_STR(parse_err(&k_desc, "{\"m_bmap\":{\"yes\":1}}"),
	             "field 'm_bmap[yes]': map key: expected true or false");
	CHECK_EQ_STR(parse_err(&k_desc, "{\"n_oa\":\"a\",\"o_ob\":1}"),
	             "field 'o_ob': more than one field of a oneof is set");
	back = parse(&k_desc, "{\"g_fl\":\"-Infinity\",\"p_p3\":0,\"l_imap\":{\"1e2\":\"h\"}}");
	CHECK(back != NULL);
	if (back) {
		Kitchen *k2 = (Kitchen *)back;
		CHECK(k2->has_fl && isinf(k2->fl) && k2->fl < 0);
		CHECK(k2->n_imap == 1 && k2->imap[0]->key == 100);
		json = pbjson_print(back, NULL);
		CHECK_EQ_STR(json, "{\"g_fl\":\"-Infinity\",\"l_imap\":{\"100\":\"h\"}}");
		free(json);
		protobuf_c_message_free_unpacked(back, NULL);
	}
}

int
main(void)
{
	RUN(taskinfo_roundtrip);
	RUN(taskstatus_required_zero_and_uuid);
	RUN(print_invalid_utf8);
	RUN(encode_tree);
	RUN(doubles);
	RUN(int64_as_string_and_number);
	RUN(unknown_keys_ignored);
	RUN(enums);
	RUN(missing_required);
	RUN(wrong_types);
	RUN(invalid_base64);
	RUN(syntax_and_limits);
	RUN(event_launch);
	RUN(event_acknowledged_heartbeat);
	RUN(fixture_spark_taskinfo);
	RUN(fixture_taskstatus_cases);
	RUN(generic_types);
	return harness_done();
}
