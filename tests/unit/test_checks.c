/* Checks and health checks: specs, results, reporting and kill rules. */
#include "checks.h"
#include "harness.h"
#include "mesos_msg.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#define SEC       1000000000LL
#define EXITED(c) ((c) << 8)

/* A pack/unpack round trip, so absent fields read as the proto defaults
 * exactly as they do for a TaskInfo from the wire. */
static Mesos__V1__CheckInfo *
wire_check(const Mesos__V1__CheckInfo *ci)
{
	return pb_dup(&ci->base);
}

static Mesos__V1__HealthCheck *
wire_health(const Mesos__V1__HealthCheck *hc)
{
	return pb_dup(&hc->base);
}

static int
spec_of_check(const Mesos__V1__CheckInfo *ci, struct check_spec *spec, char *msg, size_t n)
{
	struct spx_error err = {0};
	Mesos__V1__CheckInfo *w = wire_check(ci);
	int r = check_spec_from_check(w, spec, &err);
	snprintf(msg, n, "%s", r < 0 ? spx_error_msg(&err) : "");
	spx_error_clear(&err);
	/* spec borrows from w: the tests only read numbers after this. */
	spec->command = NULL;
	spec->path = NULL;
	mesos__v1__check_info__free_unpacked(w, NULL);
	return r;
}

static int
spec_of_health(const Mesos__V1__HealthCheck *hc, struct check_spec *spec, char *msg, size_t n)
{
	struct spx_error err = {0};
	Mesos__V1__HealthCheck *w = wire_health(hc);
	int r = check_spec_from_health(w, spec, &err);
	snprintf(msg, n, "%s", r < 0 ? spx_error_msg(&err) : "");
	spx_error_clear(&err);
	spec->command = NULL;
	spec->path = NULL;
	mesos__v1__health_check__free_unpacked(w, NULL);
	return r;
}

TEST(check_defaults)
{
	Mesos__V1__CheckInfo ci = MESOS__V1__CHECK_INFO__INIT;
	Mesos__V1__CheckInfo__Tcp tcp = MESOS__V1__CHECK_INFO__TCP__INIT;
	struct check_spec spec;
	char msg[256];

	ci.has_type = 1;
	ci.type = MESOS__V1__CHECK_INFO__TYPE__TCP;
	tcp.port = 8080;
	ci.tcp = &tcp;
	CHECK_EQ_INT(spec_of_check(&ci, &spec, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(spec.kind, CHECK_TCP);
	CHECK(!spec.health);
	CHECK_EQ_INT(spec.port, 8080);
	CHECK_EQ_INT(spec.delay_ns, 15 * SEC);
	CHECK_EQ_INT(spec.interval_ns, 10 * SEC);
	CHECK_EQ_INT(spec.timeout_ns, 20 * SEC);
	CHECK_EQ_INT(check_next_delay_ns(&spec, true), 15 * SEC);
	CHECK_EQ_INT(check_next_delay_ns(&spec, false), 10 * SEC);

	/* Fractions of a second; 0 timeout = none. */
	ci.has_delay_seconds = ci.has_interval_seconds = ci.has_timeout_seconds = 1;
	ci.delay_seconds = 0;
	ci.interval_seconds = 0.2;
	ci.timeout_seconds = 0;
	CHECK_EQ_INT(spec_of_check(&ci, &spec, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(spec.delay_ns, 0);
	CHECK_EQ_INT(spec.interval_ns, 200000000);
	CHECK_EQ_INT(spec.timeout_ns, 0);
}

TEST(health_defaults)
{
	Mesos__V1__HealthCheck hc = MESOS__V1__HEALTH_CHECK__INIT;
	Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
	struct check_spec spec;
	char msg[256];

	hc.has_type = 1;
	hc.type = MESOS__V1__HEALTH_CHECK__TYPE__COMMAND;
	cmd.value = "true";
	hc.command = &cmd;
	CHECK_EQ_INT(spec_of_health(&hc, &spec, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(spec.kind, CHECK_COMMAND);
	CHECK(spec.health);
	CHECK_EQ_INT(spec.delay_ns, 15 * SEC);
	CHECK_EQ_INT(spec.interval_ns, 10 * SEC);
	CHECK_EQ_INT(spec.timeout_ns, 20 * SEC);
	CHECK_EQ_INT(spec.consecutive_failures, 3);
	CHECK_EQ_INT(spec.grace_ns, 10 * SEC);
}

TEST(check_http_spec)
{
	Mesos__V1__CheckInfo ci = MESOS__V1__CHECK_INFO__INIT;
	Mesos__V1__CheckInfo__Http http = MESOS__V1__CHECK_INFO__HTTP__INIT;
	struct check_spec spec;
	struct spx_error err = {0};

	ci.has_type = 1;
	ci.type = MESOS__V1__CHECK_INFO__TYPE__HTTP;
	http.port = 4040;
	ci.http = &http;
	CHECK_EQ_INT(check_spec_from_check(&ci, &spec, &err), 0);
	CHECK_EQ_STR(spec.path, ""); /* no path: GET / */
	http.path = "/health?x=1";
	CHECK_EQ_INT(check_spec_from_check(&ci, &spec, &err), 0);
	CHECK_EQ_STR(spec.path, "/health?x=1");
	CHECK_EQ_INT(spec.port, 4040);
}

/* The error message of an invalid CheckInfo, or "" if it is valid. */
static const char *
check_error(const Mesos__V1__CheckInfo *ci)
{
	static char msg[256];
	struct check_spec spec;
	spec_of_check(ci, &spec, msg, sizeof(msg));
	return msg;
}

static const char *
health_error(const Mesos__V1__HealthCheck *hc)
{
	static char msg[256];
	struct check_spec spec;
	spec_of_health(hc, &spec, msg, sizeof(msg));
	return msg;
}

TEST(invalid_checks)
{
	Mesos__V1__CheckInfo ci = MESOS__V1__CHECK_INFO__INIT;
	Mesos__V1__CheckInfo__Command c = MESOS__V1__CHECK_INFO__COMMAND__INIT;
	Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
	Mesos__V1__CheckInfo__Http http = MESOS__V1__CHECK_INFO__HTTP__INIT;
	Mesos__V1__CheckInfo__Tcp tcp = MESOS__V1__CHECK_INFO__TCP__INIT;

	CHECK_EQ_STR(check_error(&ci), "a check must specify 'type'");
	ci.has_type = 1;
	ci.type = MESOS__V1__CHECK_INFO__TYPE__UNKNOWN;
	CHECK_EQ_STR(check_error(&ci), "type 0 is not a valid check type");

	ci.type = MESOS__V1__CHECK_INFO__TYPE__COMMAND;
	CHECK_EQ_STR(check_error(&ci), "expecting 'command' to be set for a COMMAND check");
	ci.command = &c;
	c.command = &cmd;
	CHECK_EQ_STR(check_error(&ci), "a command check must contain a shell command");
	cmd.has_shell = 1;
	cmd.shell = 0;
	CHECK_EQ_STR(check_error(&ci), "a command check must contain an executable path");
	cmd.value = "/bin/true";
	CHECK_EQ_STR(check_error(&ci), "");

	ci.type = MESOS__V1__CHECK_INFO__TYPE__HTTP;
	CHECK_EQ_STR(check_error(&ci), "expecting 'http' to be set for an HTTP check");
	ci.http = &http;
	http.port = 80;
	http.path = "health";
	CHECK_EQ_STR(check_error(&ci), "the path 'health' of an HTTP check must start with '/'");
	http.path = "/health";
	http.port = 0;
	CHECK_EQ_STR(check_error(&ci), "port 0 is not a TCP port");
	http.port = 65536;
	CHECK_EQ_STR(check_error(&ci), "port 65536 is not a TCP port");
	http.port = 65535;
	CHECK_EQ_STR(check_error(&ci), "");

	ci.type = MESOS__V1__CHECK_INFO__TYPE__TCP;
	CHECK_EQ_STR(check_error(&ci), "expecting 'tcp' to be set for a TCP check");
	ci.tcp = &tcp;
	tcp.port = 22;
	CHECK_EQ_STR(check_error(&ci), "");

	ci.has_delay_seconds = 1;
	ci.delay_seconds = -1;
	CHECK_EQ_STR(check_error(&ci), "'delay_seconds' must be a non-negative number of seconds");
	ci.delay_seconds = 0;
	ci.has_interval_seconds = 1;
	ci.interval_seconds = NAN;
	CHECK_EQ_STR(check_error(&ci),
	             "'interval_seconds' must be a non-negative number of seconds");
	ci.interval_seconds = 1;
	ci.has_timeout_seconds = 1;
	ci.timeout_seconds = 2e9;
	CHECK_EQ_STR(check_error(&ci), "'timeout_seconds' must be at most 1000000000 seconds");
}

TEST(invalid_health_checks)
{
	Mesos__V1__HealthCheck hc = MESOS__V1__HEALTH_CHECK__INIT;
	Mesos__V1__HealthCheck__HTTPCheckInfo http = MESOS__V1__HEALTH_CHECK__HTTPCHECK_INFO__INIT;
	Mesos__V1__HealthCheck__TCPCheckInfo tcp = MESOS__V1__HEALTH_CHECK__TCPCHECK_INFO__INIT;

	CHECK_EQ_STR(health_error(&hc), "a health check must specify 'type'");
	hc.has_type = 1;
	hc.type = MESOS__V1__HEALTH_CHECK__TYPE__COMMAND;
	CHECK_EQ_STR(health_error(&hc), "expecting 'command' to be set for a COMMAND check");
	hc.type = MESOS__V1__HEALTH_CHECK__TYPE__HTTP;
	hc.http = &http;
	http.port = 8080;
	http.scheme = "https";
	CHECK_EQ_STR(health_error(&hc),
	             "HTTP health check scheme 'https' is not supported (spex checks plain http)");
	http.scheme = "http";
	CHECK_EQ_STR(health_error(&hc), "");
	hc.type = MESOS__V1__HEALTH_CHECK__TYPE__TCP;
	CHECK_EQ_STR(health_error(&hc), "expecting 'tcp' to be set for a TCP health check");
	hc.tcp = &tcp;
	tcp.port = 8080;
	hc.has_grace_period_seconds = 1;
	hc.grace_period_seconds = -0.5;
	CHECK_EQ_STR(health_error(&hc),
	             "'grace_period_seconds' must be a non-negative number of seconds");
}

TEST(validate_task)
{
	Mesos__V1__TaskInfo ti = MESOS__V1__TASK_INFO__INIT;
	Mesos__V1__CheckInfo ci = MESOS__V1__CHECK_INFO__INIT;
	Mesos__V1__HealthCheck hc = MESOS__V1__HEALTH_CHECK__INIT;
	Mesos__V1__CheckInfo__Tcp tcp = MESOS__V1__CHECK_INFO__TCP__INIT;
	struct spx_error err = {0};

	CHECK_EQ_INT(checks_validate_task(&ti, &err), 0); /* none: fine */
	CHECK_EQ_INT(check_status_kind(&ti), CHECK_NONE);
	ti.check = &ci;
	CHECK_EQ_INT(checks_validate_task(&ti, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err), "TaskInfo.check: a check must specify 'type'");
	CHECK_EQ_INT(check_status_kind(&ti), CHECK_NONE); /* no valid status type */
	ci.has_type = 1;
	ci.type = MESOS__V1__CHECK_INFO__TYPE__TCP;
	/* Invalid (no tcp), but its status still has a valid type. */
	CHECK_EQ_INT(check_status_kind(&ti), CHECK_TCP);
	ci.tcp = &tcp;
	tcp.port = 1;
	CHECK_EQ_INT(checks_validate_task(&ti, &err), 0);
	ti.health_check = &hc;
	CHECK_EQ_INT(checks_validate_task(&ti, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err),
	             "TaskInfo.health_check: a health check must specify 'type'");
	ci.type = (Mesos__V1__CheckInfo__Type)7;
	CHECK_EQ_INT(check_status_kind(&ti), CHECK_NONE);
	spx_error_clear(&err);
}

TEST(command_results)
{
	struct check_result r = check_result_command(EXITED(0), false);
	CHECK(r.kind == CHECK_COMMAND && r.has_value && r.value == 0);
	r = check_result_command(EXITED(3), false);
	CHECK(r.has_value && r.value == 3);
	r = check_result_command(SIGKILL, false); /* killed: no exit code */
	CHECK(!r.has_value);
	r = check_result_command(SIGKILL, true); /* the timeout */
	CHECK(!r.has_value);
	r = check_result_command(EXITED(0), true); /* exited just as it timed out */
	CHECK(!r.has_value);
}

TEST(check_track_reports_changes_only)
{
	struct check_track tr;
	struct check_result none = check_result_none(CHECK_COMMAND);
	struct check_result ok = check_result_command(EXITED(0), false);
	struct check_result bad = check_result_command(EXITED(1), false);

	check_track_init(&tr, CHECK_COMMAND);
	CHECK(!tr.last.has_value);
	CHECK_EQ_INT(check_track_result(&tr, &none), 0); /* still no result: no news */
	CHECK_EQ_INT(check_track_result(&tr, &ok), 1);
	CHECK_EQ_INT(check_track_result(&tr, &ok), 0);
	CHECK_EQ_INT(check_track_result(&tr, &bad), 1);
	CHECK(tr.last.has_value && tr.last.value == 1);
	CHECK_EQ_INT(check_track_result(&tr, &none), 1); /* a result went away: news */
	CHECK(!tr.last.has_value);
	CHECK_EQ_INT(check_track_result(&tr, &bad), 1);
}

TEST(health_interpretation)
{
	struct check_result r = {.kind = CHECK_HTTP, .has_value = true};
	r.value = 200;
	CHECK(health_result_ok(&r));
	r.value = 399;
	CHECK(health_result_ok(&r));
	r.value = 400;
	CHECK(!health_result_ok(&r));
	r.value = 199;
	CHECK(!health_result_ok(&r));
	r.value = 503;
	CHECK(!health_result_ok(&r));
	r.kind = CHECK_TCP;
	r.value = 1;
	CHECK(health_result_ok(&r));
	r.value = 0;
	CHECK(!health_result_ok(&r));
	r.kind = CHECK_COMMAND;
	CHECK(health_result_ok(&r));
	r.value = 1;
	CHECK(!health_result_ok(&r));
	r = check_result_none(CHECK_TCP); /* no result is a failure */
	CHECK(!health_result_ok(&r));
}

static struct check_spec
health_spec(uint32_t failures, int64_t grace_ns)
{
	struct check_spec s = {.kind = CHECK_COMMAND, .health = true};
	s.consecutive_failures = failures;
	s.grace_ns = grace_ns;
	return s;
}

TEST(health_consecutive_failures)
{
	struct health_track tr;
	struct check_spec s = health_spec(3, 0);
	struct check_result ok = check_result_command(EXITED(0), false);
	struct check_result bad = check_result_command(EXITED(1), false);
	struct check_result none = check_result_none(CHECK_COMMAND);

	health_track_init(&tr, 0);
	CHECK_EQ_INT(health_track_result(&tr, &s, &ok, 1), HEALTH_HEALTHY); /* first success */
	CHECK_EQ_INT(health_track_result(&tr, &s, &ok, 2), HEALTH_NONE);
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 3), HEALTH_UNHEALTHY);
	CHECK_EQ_INT(health_track_result(&tr, &s, &none, 4), HEALTH_UNHEALTHY); /* timeout */
	CHECK_EQ_INT(tr.failures, 2);
	CHECK_EQ_INT(health_track_result(&tr, &s, &ok, 5), HEALTH_HEALTHY); /* back */
	CHECK_EQ_INT(tr.failures, 0);
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 6), HEALTH_UNHEALTHY);
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 7), HEALTH_UNHEALTHY);
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 8), HEALTH_KILL);

	/* consecutive_failures 1: the first counted failure kills. */
	s = health_spec(1, 0);
	health_track_init(&tr, 0);
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 1), HEALTH_KILL);
}

TEST(health_grace_period)
{
	struct health_track tr;
	struct check_spec s = health_spec(2, 10 * SEC);
	struct check_result ok = check_result_command(EXITED(0), false);
	struct check_result bad = check_result_command(EXITED(1), false);

	/* Failures within the grace period do not count... */
	health_track_init(&tr, 100 * SEC);
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 101 * SEC), HEALTH_NONE);
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 110 * SEC), HEALTH_NONE); /* <= grace */
	CHECK_EQ_INT(tr.failures, 0);
	/* ...after it they do. */
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 110 * SEC + 1), HEALTH_UNHEALTHY);
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 111 * SEC), HEALTH_KILL);

	/* The first success ends the grace period at once. */
	health_track_init(&tr, 100 * SEC);
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 101 * SEC), HEALTH_NONE);
	CHECK_EQ_INT(health_track_result(&tr, &s, &ok, 102 * SEC), HEALTH_HEALTHY);
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 103 * SEC), HEALTH_UNHEALTHY);
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 104 * SEC), HEALTH_KILL);

	/* No grace period: the first failure counts. */
	s = health_spec(2, 0);
	health_track_init(&tr, 100 * SEC);
	CHECK_EQ_INT(health_track_result(&tr, &s, &bad, 100 * SEC), HEALTH_UNHEALTHY);
}

TEST(status_build)
{
	struct check_status_buf b;
	struct check_result r = check_result_none(CHECK_COMMAND);
	const Mesos__V1__CheckStatusInfo *csi = check_status_build(&r, &b);
	CHECK(csi && csi->has_type && csi->type == MESOS__V1__CHECK_INFO__TYPE__COMMAND);
	CHECK(csi->command && !csi->command->has_exit_code && !csi->http && !csi->tcp);
	r = check_result_command(EXITED(2), false);
	csi = check_status_build(&r, &b);
	CHECK(csi->command && csi->command->has_exit_code && csi->command->exit_code == 2);

	r = check_result_none(CHECK_HTTP);
	csi = check_status_build(&r, &b);
	CHECK(csi->type == MESOS__V1__CHECK_INFO__TYPE__HTTP && csi->http &&
	      !csi->http->has_status_code && !csi->command);
	r.has_value = true;
	r.value = 503;
	csi = check_status_build(&r, &b);
	CHECK(csi->http->has_status_code && csi->http->status_code == 503);

	r = check_result_none(CHECK_TCP);
	csi = check_status_build(&r, &b);
	CHECK(csi->type == MESOS__V1__CHECK_INFO__TYPE__TCP && csi->tcp &&
	      !csi->tcp->has_succeeded);
	r.has_value = true;
	r.value = 0;
	csi = check_status_build(&r, &b);
	CHECK(csi->tcp->has_succeeded && !csi->tcp->succeeded);

	r = check_result_none(CHECK_NONE);
	CHECK(check_status_build(&r, &b) == NULL);
}

/* A varint at buf[*i] (bounded by n). */
static uint64_t
read_varint(const uint8_t *buf, size_t n, size_t *i)
{
	uint64_t v = 0;
	for (int shift = 0; *i < n && shift < 64; shift += 7) {
		uint8_t b = buf[(*i)++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	return v;
}

/* The bytes of field number f (length-delimited) at the top level of buf. */
static const uint8_t *
find_field(const uint8_t *buf, size_t n, unsigned f, size_t *len)
{
	size_t i = 0;
	while (i < n) {
		uint64_t key = read_varint(buf, n, &i);
		switch (key & 7) {
		case 0:
			read_varint(buf, n, &i);
			break;
		case 1:
			i += 8;
			break;
		case 5:
			i += 4;
			break;
		case 2: {
			uint64_t l = read_varint(buf, n, &i);
			if ((key >> 3) == f) {
				*len = (size_t)l;
				return buf + i;
			}
			i += l;
			break;
		}
		default:
			return NULL;
		}
	}
	return NULL;
}

TEST(status_carries_check_status_and_healthy)
{
	struct check_status_buf b;
	struct check_result r = check_result_command(EXITED(0), false);
	struct status_spec spec = {.task_id = "t1",
	                           .state = MESOS__V1__TASK_STATE__TASK_RUNNING,
	                           .has_healthy = 1,
	                           .healthy = 0};
	spec.check_status = check_status_build(&r, &b);
	Mesos__V1__TaskStatus *s = status_new(&spec);
	CHECK(s->has_healthy && !s->healthy);
	CHECK(s->check_status && s->check_status->command &&
	      s->check_status->command->has_exit_code && s->check_status->command->exit_code == 0);
	/* On the wire: check_status is field 15 ({type=1 (varint 1), command=2
	 * {exit_code=1 (varint 0)}}), healthy field 8 (varint 0). */
	uint8_t buf[512];
	size_t n = mesos__v1__task_status__pack(s, buf), len = 0;
	const uint8_t *cs = find_field(buf, n, 15, &len);
	static const uint8_t want[] = {0x08, 0x01, 0x12, 0x02, 0x08, 0x00};
	CHECK(cs && len == sizeof(want) && memcmp(cs, want, sizeof(want)) == 0);
	int healthy_found = 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (buf[i] == 0x40 && buf[i + 1] == 0x00)
			healthy_found = 1;
	CHECK(healthy_found);
	mesos__v1__task_status__free_unpacked(s, NULL);

	/* Without them: neither is set. */
	struct status_spec plain = {.task_id = "t1", .state = MESOS__V1__TASK_STATE__TASK_RUNNING};
	s = status_new(&plain);
	CHECK(!s->has_healthy && s->check_status == NULL);
	mesos__v1__task_status__free_unpacked(s, NULL);

	/* An empty status (before the first result) is still on the wire. */
	r = check_result_none(CHECK_TCP);
	spec.check_status = check_status_build(&r, &b);
	s = status_new(&spec);
	n = mesos__v1__task_status__pack(s, buf);
	cs = find_field(buf, n, 15, &len);
	static const uint8_t want_tcp[] = {0x08, 0x03, 0x22, 0x00};
	CHECK(cs && len == sizeof(want_tcp) && memcmp(cs, want_tcp, sizeof(want_tcp)) == 0);
	mesos__v1__task_status__free_unpacked(s, NULL);
}

TEST(http_request)
{
	char buf[256];
	int n = check_http_request("", 8080, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n == strlen(buf));
	CHECK_EQ_STR(buf, "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: spex-check\r\n"
	                  "Accept: */*\r\nConnection: close\r\n\r\n");
	n = check_http_request("/a b\r\n\xc3\xa9?q=1", 80, buf, sizeof(buf));
	CHECK(n > 0);
	static const char line[] = "GET /a%20b%0D%0A%C3%A9?q=1 HTTP/1.1\r\nHost:";
	CHECK(strncmp(buf, line, sizeof(line) - 1) == 0);
	CHECK_EQ_INT(check_http_request("/x", 80, buf, 20), -1); /* does not fit */
	CHECK_EQ_INT(check_http_request(NULL, 80, buf, sizeof(buf)) > 0, 1);
}

TEST(http_status_line)
{
	unsigned code = 0;
	CHECK_EQ_INT(check_http_status_line("HTTP/1.1 200 OK\r\nServer: x\r\n", 27, &code), 1);
	CHECK_EQ_INT(code, 200);
	CHECK_EQ_INT(check_http_status_line("HTTP/1.0 503\r\n", 14, &code), 1);
	CHECK_EQ_INT(code, 503);
	CHECK_EQ_INT(check_http_status_line("HTTP/1.1 404\n", 13, &code), 1);
	CHECK_EQ_INT(code, 404);
	/* Partial: more bytes needed. */
	CHECK_EQ_INT(check_http_status_line("HTT", 3, &code), 0);
	CHECK_EQ_INT(check_http_status_line("HTTP/1.1 20", 11, &code), 0);
	CHECK_EQ_INT(check_http_status_line("HTTP/1.1 200 OK", 15, &code), 0);
	/* Not HTTP, malformed, or too long. */
	CHECK_EQ_INT(check_http_status_line("SSH-2.0-OpenSSH\r\n", 17, &code), -1);
	CHECK_EQ_INT(check_http_status_line("HTTP/1.1 2x0 OK\r\n", 17, &code), -1);
	CHECK_EQ_INT(check_http_status_line("HTTP/1.1 2000 OK\r\n", 18, &code), -1);
	CHECK_EQ_INT(check_http_status_line("HTTP/1.1 099 OK\r\n", 17, &code), -1);
	CHECK_EQ_INT(check_http_status_line("HTTP/1.1\r\n", 10, &code), -1);
	char *big = malloc(CHECK_HTTP_LINE_MAX + 10);
	memset(big, 'x', CHECK_HTTP_LINE_MAX + 10);
	memcpy(big, "HTTP/1.1 200 ", 13);
	CHECK_EQ_INT(check_http_status_line(big, CHECK_HTTP_LINE_MAX, &code), -1);
	CHECK_EQ_INT(check_http_status_line(big, CHECK_HTTP_LINE_MAX - 1, &code), 0);
	free(big);
}

TEST(result_text)
{
	char b[64];
	struct check_result r = check_result_command(EXITED(1), false);
	CHECK_EQ_STR(check_result_text(&r, b, sizeof(b)), "exit_code=1");
	r = (struct check_result){.kind = CHECK_HTTP, .has_value = true, .value = 200};
	CHECK_EQ_STR(check_result_text(&r, b, sizeof(b)), "status_code=200");
	r = (struct check_result){.kind = CHECK_TCP, .has_value = true, .value = 0};
	CHECK_EQ_STR(check_result_text(&r, b, sizeof(b)), "succeeded=false");
	r = check_result_none(CHECK_TCP);
	CHECK_EQ_STR(check_result_text(&r, b, sizeof(b)), "none");
	CHECK_EQ_STR(check_kind_name(CHECK_HTTP), "HTTP");
}

int
main(void)
{
	RUN(check_defaults);
	RUN(health_defaults);
	RUN(check_http_spec);
	RUN(invalid_checks);
	RUN(invalid_health_checks);
	RUN(validate_task);
	RUN(command_results);
	RUN(check_track_reports_changes_only);
	RUN(health_interpretation);
	RUN(health_consecutive_failures);
	RUN(health_grace_period);
	RUN(status_build);
	RUN(status_carries_check_status_and_healthy);
	RUN(http_request);
	RUN(http_status_line);
	RUN(result_text);
	return harness_done();
}
