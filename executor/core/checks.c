#include "checks.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* Seconds (a proto double) to nanoseconds; -1 with *err when negative, not
 * finite or too large. */
static int
secs_to_ns(double secs, const char *what, int64_t *ret_ns, struct spx_error *err)
{
	if (!isfinite(secs) || secs < 0)
		return spx_error_set(err, 0, "'%s' must be a non-negative number of seconds", what);
	if (secs > CHECK_MAX_SECONDS)
		return spx_error_set(err, 0, "'%s' must be at most %.0f seconds", what,
		                     CHECK_MAX_SECONDS);
	*ret_ns = (int64_t)(secs * 1e9 + 0.5);
	return 0;
}

static int
set_port(uint32_t port, struct check_spec *spec, struct spx_error *err)
{
	if (port == 0 || port > 65535)
		return spx_error_set(err, 0, "port %u is not a TCP port", port);
	spec->port = (uint16_t)port;
	return 0;
}

static int
set_path(const char *path, struct check_spec *spec, struct spx_error *err)
{
	if (path && path[0] != '/')
		return spx_error_set(err, 0, "the path '%s' of an HTTP check must start with '/'",
		                     path);
	spec->path = path ? path : "";
	return 0;
}

static int
set_command(const Mesos__V1__CommandInfo *cmd, struct check_spec *spec, struct spx_error *err)
{
	if (!cmd)
		return spx_error_set(err, 0, "expecting 'command' to be set for a COMMAND check");
	if (!cmd->value) {
		bool shell = !cmd->has_shell || cmd->shell;
		return spx_error_set(err, 0, "a command check must contain %s",
		                     shell ? "a shell command" : "an executable path");
	}
	spec->command = cmd;
	return 0;
}

int
check_spec_from_check(const Mesos__V1__CheckInfo *ci, struct check_spec *spec,
                      struct spx_error *err)
{
	memset(spec, 0, sizeof(*spec));
	if (!ci->has_type)
		return spx_error_set(err, 0, "a check must specify 'type'");
	switch (ci->type) {
	case MESOS__V1__CHECK_INFO__TYPE__COMMAND:
		if (set_command(ci->command ? ci->command->command : NULL, spec, err) < 0)
			return -1;
		break;
	case MESOS__V1__CHECK_INFO__TYPE__HTTP:
		if (!ci->http)
			return spx_error_set(err, 0,
			                     "expecting 'http' to be set for an HTTP check");
		if (set_port(ci->http->port, spec, err) < 0 ||
		    set_path(ci->http->path, spec, err) < 0)
			return -1;
		break;
	case MESOS__V1__CHECK_INFO__TYPE__TCP:
		if (!ci->tcp)
			return spx_error_set(err, 0, "expecting 'tcp' to be set for a TCP check");
		if (set_port(ci->tcp->port, spec, err) < 0)
			return -1;
		break;
	default:
		return spx_error_set(err, 0, "type %d is not a valid check type", (int)ci->type);
	}
	spec->kind = (enum check_kind)ci->type;
	/* Absent fields hold their proto defaults (15, 10, 20) after unpacking. */
	if (secs_to_ns(ci->delay_seconds, "delay_seconds", &spec->delay_ns, err) < 0 ||
	    secs_to_ns(ci->interval_seconds, "interval_seconds", &spec->interval_ns, err) < 0 ||
	    secs_to_ns(ci->timeout_seconds, "timeout_seconds", &spec->timeout_ns, err) < 0)
		return -1;
	return 0;
}

int
check_spec_from_health(const Mesos__V1__HealthCheck *hc, struct check_spec *spec,
                       struct spx_error *err)
{
	memset(spec, 0, sizeof(*spec));
	spec->health = true;
	if (!hc->has_type)
		return spx_error_set(err, 0, "a health check must specify 'type'");
	switch (hc->type) {
	case MESOS__V1__HEALTH_CHECK__TYPE__COMMAND:
		if (set_command(hc->command, spec, err) < 0)
			return -1;
		break;
	case MESOS__V1__HEALTH_CHECK__TYPE__HTTP:
		if (!hc->http)
			return spx_error_set(err, 0,
			                     "expecting 'http' to be set for an HTTP health check");
		if (hc->http->scheme && strcmp(hc->http->scheme, "http") != 0)
			return spx_error_set(err, 0,
			                     "HTTP health check scheme '%s' is not supported "
			                     "(spex checks plain http)",
			                     hc->http->scheme);
		if (set_port(hc->http->port, spec, err) < 0 ||
		    set_path(hc->http->path, spec, err) < 0)
			return -1;
		break;
	case MESOS__V1__HEALTH_CHECK__TYPE__TCP:
		if (!hc->tcp)
			return spx_error_set(err, 0,
			                     "expecting 'tcp' to be set for a TCP health check");
		if (set_port(hc->tcp->port, spec, err) < 0)
			return -1;
		break;
	default:
		return spx_error_set(err, 0, "type %d is not a valid health check type",
		                     (int)hc->type);
	}
	spec->kind = (enum check_kind)hc->type;
	spec->consecutive_failures = hc->consecutive_failures;
	if (secs_to_ns(hc->delay_seconds, "delay_seconds", &spec->delay_ns, err) < 0 ||
	    secs_to_ns(hc->interval_seconds, "interval_seconds", &spec->interval_ns, err) < 0 ||
	    secs_to_ns(hc->timeout_seconds, "timeout_seconds", &spec->timeout_ns, err) < 0 ||
	    secs_to_ns(hc->grace_period_seconds, "grace_period_seconds", &spec->grace_ns, err) < 0)
		return -1;
	return 0;
}

int
checks_validate_task(const Mesos__V1__TaskInfo *info, struct spx_error *err)
{
	struct check_spec spec;
	if (info->check && check_spec_from_check(info->check, &spec, err) < 0)
		return spx_error_wrap(err, "TaskInfo.check");
	if (info->health_check && check_spec_from_health(info->health_check, &spec, err) < 0)
		return spx_error_wrap(err, "TaskInfo.health_check");
	return 0;
}

enum check_kind
check_status_kind(const Mesos__V1__TaskInfo *info)
{
	if (!info->check || !info->check->has_type)
		return CHECK_NONE;
	switch (info->check->type) {
	case MESOS__V1__CHECK_INFO__TYPE__COMMAND:
	case MESOS__V1__CHECK_INFO__TYPE__HTTP:
	case MESOS__V1__CHECK_INFO__TYPE__TCP:
		return (enum check_kind)info->check->type;
	default:
		return CHECK_NONE;
	}
}

int64_t
check_next_delay_ns(const struct check_spec *spec, bool first)
{
	return first ? spec->delay_ns : spec->interval_ns;
}

struct check_result
check_result_none(enum check_kind kind)
{
	struct check_result r = {.kind = kind};
	return r;
}

struct check_result
check_result_command(int wait_status, bool timed_out)
{
	struct check_result r = check_result_none(CHECK_COMMAND);
	if (!timed_out && WIFEXITED(wait_status)) {
		r.has_value = true;
		r.value = WEXITSTATUS(wait_status);
	}
	return r;
}

int
check_result_equal(const struct check_result *a, const struct check_result *b)
{
	return a->kind == b->kind && a->has_value == b->has_value &&
	       (!a->has_value || a->value == b->value);
}

void
check_track_init(struct check_track *tr, enum check_kind kind)
{
	tr->last = check_result_none(kind);
}

int
check_track_result(struct check_track *tr, const struct check_result *r)
{
	if (check_result_equal(&tr->last, r))
		return 0;
	tr->last = *r;
	return 1;
}

int
health_result_ok(const struct check_result *r)
{
	if (!r->has_value)
		return 0;
	switch (r->kind) {
	case CHECK_COMMAND:
		return r->value == 0;
	case CHECK_HTTP:
		return r->value >= 200 && r->value < 400;
	case CHECK_TCP:
		return r->value != 0;
	default:
		return 0;
	}
}

void
health_track_init(struct health_track *tr, int64_t start_ns)
{
	memset(tr, 0, sizeof(*tr));
	tr->start_ns = start_ns;
	tr->initializing = true;
}

enum health_event
health_track_result(struct health_track *tr, const struct check_spec *spec,
                    const struct check_result *r, int64_t now_ns)
{
	if (health_result_ok(r)) {
		/* Report the first success, and the first after failures. */
		bool news = tr->initializing || tr->failures > 0;
		tr->initializing = false;
		tr->failures = 0;
		return news ? HEALTH_HEALTHY : HEALTH_NONE;
	}
	/* Within the grace period (which includes the delay) and before any
	 * success, a failure does not count. */
	if (tr->initializing && spec->grace_ns > 0 && now_ns - tr->start_ns <= spec->grace_ns)
		return HEALTH_NONE;
	if (tr->failures < UINT32_MAX)
		tr->failures++;
	return tr->failures >= spec->consecutive_failures ? HEALTH_KILL : HEALTH_UNHEALTHY;
}

const Mesos__V1__CheckStatusInfo *
check_status_build(const struct check_result *r, struct check_status_buf *buf)
{
	mesos__v1__check_status_info__init(&buf->csi);
	switch (r->kind) {
	case CHECK_COMMAND:
		mesos__v1__check_status_info__command__init(&buf->command);
		buf->command.has_exit_code = r->has_value;
		buf->command.exit_code = (int32_t)r->value;
		buf->csi.command = &buf->command;
		break;
	case CHECK_HTTP:
		mesos__v1__check_status_info__http__init(&buf->http);
		buf->http.has_status_code = r->has_value;
		buf->http.status_code = (uint32_t)r->value;
		buf->csi.http = &buf->http;
		break;
	case CHECK_TCP:
		mesos__v1__check_status_info__tcp__init(&buf->tcp);
		buf->tcp.has_succeeded = r->has_value;
		buf->tcp.succeeded = r->value != 0;
		buf->csi.tcp = &buf->tcp;
		break;
	default:
		return NULL;
	}
	buf->csi.has_type = 1;
	buf->csi.type = (Mesos__V1__CheckInfo__Type)r->kind;
	return &buf->csi;
}

/* Append s to buf at *len (bounded); returns -1 when it does not fit. */
static int
put(char *buf, size_t n, size_t *len, const char *s, size_t slen)
{
	if (*len + slen >= n)
		return -1;
	memcpy(buf + *len, s, slen);
	*len += slen;
	buf[*len] = '\0';
	return 0;
}

int
check_http_request(const char *path, unsigned port, char *buf, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char tail[160];
	size_t len = 0;

	if (!path || !*path)
		path = "/";
	if (n == 0 || put(buf, n, &len, "GET ", 4) < 0)
		return -1;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		bool plain = *p > 0x20 && *p < 0x7f;
		if (put(buf, n, &len, plain ? (const char *)p : esc, plain ? 1 : 3) < 0)
			return -1;
	}
	int t = snprintf(tail, sizeof(tail),
	                 " HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: spex-check\r\n"
	                 "Accept: */*\r\nConnection: close\r\n\r\n",
	                 port);
	if (t < 0 || (size_t)t >= sizeof(tail) || put(buf, n, &len, tail, (size_t)t) < 0)
		return -1;
	return (int)len;
}

int
check_http_status_line(const char *buf, size_t len, unsigned *code)
{
	static const char proto[] = "HTTP/";
	size_t plen = sizeof(proto) - 1;

	/* Refuse early what cannot become a status line. */
	if (memcmp(buf, proto, len < plen ? len : plen) != 0)
		return -1;
	const char *nl = memchr(buf, '\n', len);
	if (!nl)
		return len >= CHECK_HTTP_LINE_MAX ? -1 : 0;
	size_t linelen = (size_t)(nl - buf);
	if (linelen > CHECK_HTTP_LINE_MAX)
		return -1;
	/* "HTTP/" digit "." digit SP 3DIGIT (SP | CR | LF) */
	const char *p = buf + plen;
	if (linelen < plen + 7 || p[0] < '0' || p[0] > '9' || p[1] != '.' || p[2] < '0' ||
	    p[2] > '9' || p[3] != ' ')
		return -1;
	unsigned c = 0;
	for (int i = 4; i < 7; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		c = c * 10 + (unsigned)(p[i] - '0');
	}
	if (p[7] != ' ' && p[7] != '\r' && p[7] != '\n')
		return -1;
	if (c < 100)
		return -1;
	*code = c;
	return 1;
}

const char *
check_kind_name(enum check_kind kind)
{
	switch (kind) {
	case CHECK_COMMAND:
		return "COMMAND";
	case CHECK_HTTP:
		return "HTTP";
	case CHECK_TCP:
		return "TCP";
	default:
		return "NONE";
	}
}

const char *
check_result_text(const struct check_result *r, char *buf, size_t n)
{
	if (!r->has_value)
		snprintf(buf, n, "none");
	else if (r->kind == CHECK_COMMAND)
		snprintf(buf, n, "exit_code=%lld", (long long)r->value);
	else if (r->kind == CHECK_HTTP)
		snprintf(buf, n, "status_code=%lld", (long long)r->value);
	else
		snprintf(buf, n, "succeeded=%s", r->value ? "true" : "false");
	return buf;
}
