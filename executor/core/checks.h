/*
 * Checks and health checks of a task (TaskInfo.check, TaskInfo.health_check),
 * as pure decisions: the defaults and limits of a CheckInfo or HealthCheck,
 * when the next attempt is due, what an attempt's outcome means, when a
 * result is news, the consecutive-failure and grace-period rules, and the
 * CheckStatusInfo every status of a checked task carries. executor/checks.c
 * runs the attempts (processes, sockets, timers) and feeds the outcomes here.
 *
 * The rules follow apache/mesos src/checks/checker.cpp, checker_process.cpp
 * and health_checker.cpp:
 *	- the first attempt runs delay_seconds after TASK_RUNNING, each next one
 *	  interval_seconds after the previous one ended (finished or timed out);
 *	- an attempt that timed out, could not connect (HTTP) or whose command
 *	  died by a signal has no result: a check then reports an empty
 *	  CheckStatusInfo (type and an empty sub-message), a health check counts
 *	  a failure;
 *	- a check's status is news only when it differs from the last one
 *	  reported (which starts out empty);
 *	- a health check reports healthy=true on its first success and on the
 *	  first success after failures, healthy=false on every failure counted;
 *	  failures are not counted within grace_period_seconds of the start
 *	  until the first success; consecutive_failures counted failures kill
 *	  the task.
 */
#ifndef EXECUTOR_CORE_CHECKS_H
#define EXECUTOR_CORE_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "mesos.pb-c.h"

/* The kind of a check; the values are CheckInfo.Type's and HealthCheck.Type's. */
enum check_kind { CHECK_NONE = 0, CHECK_COMMAND = 1, CHECK_HTTP = 2, CHECK_TCP = 3 };

/* Longest delay, interval, timeout or grace period accepted (seconds). */
#define CHECK_MAX_SECONDS 1e9

/* One check or health check, defaults applied. Strings and the command are
 * borrowed from the TaskInfo it was read from. */
struct check_spec {
	enum check_kind kind;
	bool health;                           /* a HealthCheck, not a CheckInfo */
	int64_t delay_ns;                      /* TASK_RUNNING -> first attempt */
	int64_t interval_ns;                   /* end of an attempt -> the next */
	int64_t timeout_ns;                    /* per attempt; 0 = none */
	uint32_t consecutive_failures;         /* health: counted failures that kill */
	int64_t grace_ns;                      /* health: failures ignored until then */
	const Mesos__V1__CommandInfo *command; /* COMMAND */
	uint16_t port;                         /* HTTP, TCP (on 127.0.0.1) */
	const char *path;                      /* HTTP: "" or starting with '/' */
};

/* What one attempt gave. */
struct check_result {
	enum check_kind kind;
	bool has_value; /* false: no result (timed out, no connection, signal) */
	int64_t value;  /* COMMAND: exit code; HTTP: status code; TCP: 1 connected, 0 not */
};

/* Read TaskInfo.check into *spec (defaults from the proto: delay 15 s,
 * interval 10 s, timeout 20 s). Returns -1 with *err when it is invalid the
 * way apache/mesos validateCheckInfo says, or names a port that is not a TCP
 * port, or a time that is negative, not finite or beyond CHECK_MAX_SECONDS. */
int check_spec_from_check(const Mesos__V1__CheckInfo *ci, struct check_spec *spec,
                          struct spx_error *err);

/* Read TaskInfo.health_check into *spec (also consecutive_failures 3, grace
 * period 10 s). Same errors as check_spec_from_check, and an HTTP scheme
 * other than "http" (https is not supported). */
int check_spec_from_health(const Mesos__V1__HealthCheck *hc, struct check_spec *spec,
                           struct spx_error *err);

/* Validate both of a TaskInfo's checks (absent ones are fine). -1 with *err
 * ("TaskInfo.check: ...") for the first invalid one. */
int checks_validate_task(const Mesos__V1__TaskInfo *info, struct spx_error *err);

/* The kind of TaskInfo.check whose status every update must carry:
 * CHECK_NONE when the task has no check or its type is not one of the three
 * (a CheckStatusInfo of such a type would itself be invalid). */
enum check_kind check_status_kind(const Mesos__V1__TaskInfo *info);

/* Nanoseconds to wait before the next attempt: delay before the first one,
 * interval after each other. */
int64_t check_next_delay_ns(const struct check_spec *spec, bool first);

/* An empty result (no value) of kind. */
struct check_result check_result_none(enum check_kind kind);

/* The result of a command check from its wait status: the exit code, or no
 * result when it was killed at its timeout or died by a signal. */
struct check_result check_result_command(int wait_status, bool timed_out);

/* 1 when a and b say the same (kind, presence, value). */
int check_result_equal(const struct check_result *a, const struct check_result *b);

/* A check's memory of what was reported last. */
struct check_track {
	struct check_result last;
};

/* Start with the empty status of kind, as the updates before any result say. */
void check_track_init(struct check_track *tr, enum check_kind kind);

/* Record r; returns 1 when it differs from the last one (then a
 * REASON_TASK_CHECK_STATUS_UPDATED update is due), 0 when it is the same. */
int check_track_result(struct check_track *tr, const struct check_result *r);

/* 1 when r counts as healthy: exit code 0, an HTTP status in [200, 400), a
 * TCP connection; no result is unhealthy. */
int health_result_ok(const struct check_result *r);

/* A health check's consecutive failures and grace period. */
struct health_track {
	int64_t start_ns;  /* monotonic: when checking began (TASK_RUNNING) */
	bool initializing; /* no success yet: the grace period applies */
	uint32_t failures; /* consecutive counted failures */
};

enum health_event {
	HEALTH_NONE,      /* nothing to report (success as before, failure in grace) */
	HEALTH_HEALTHY,   /* report healthy=true */
	HEALTH_UNHEALTHY, /* report healthy=false */
	HEALTH_KILL,      /* report healthy=false, then kill the task */
};

void health_track_init(struct health_track *tr, int64_t start_ns);

/* Feed one attempt's result at monotonic time now; returns what to do. */
enum health_event health_track_result(struct health_track *tr, const struct check_spec *spec,
                                      const struct check_result *r, int64_t now_ns);

/* Storage for a CheckStatusInfo built on the stack. */
struct check_status_buf {
	Mesos__V1__CheckStatusInfo csi;
	Mesos__V1__CheckStatusInfo__Command command;
	Mesos__V1__CheckStatusInfo__Http http;
	Mesos__V1__CheckStatusInfo__Tcp tcp;
};

/* The CheckStatusInfo saying r: type set, the sub-message of that type
 * present, its field set only when r has a value. Points into *buf; NULL
 * when r's kind is CHECK_NONE. */
const Mesos__V1__CheckStatusInfo *check_status_build(const struct check_result *r,
                                                     struct check_status_buf *buf);

/* The HTTP/1.1 GET request for path (empty: "/") on 127.0.0.1:port, the
 * connection closed after the answer. Bytes the request line cannot carry
 * (controls, space, non-ASCII) are percent-encoded. Returns its length, or
 * -1 when it does not fit in n bytes. */
int check_http_request(const char *path, unsigned port, char *buf, size_t n);

/* Parse the status line at the start of an HTTP response (len bytes so
 * far). Returns 1 with *code once "HTTP/x.y NNN" and the end of the line
 * are in; 0 when more bytes are needed; -1 when it is not an HTTP response
 * or the line is longer than CHECK_HTTP_LINE_MAX. */
#define CHECK_HTTP_LINE_MAX 1024
int check_http_status_line(const char *buf, size_t len, unsigned *code);

/* "COMMAND", "HTTP", "TCP" or "NONE". */
const char *check_kind_name(enum check_kind kind);

/* One line describing r for logs: "exit_code=1", "status_code=200",
 * "succeeded=false", "none". */
const char *check_result_text(const struct check_result *r, char *buf, size_t n);

#endif /* EXECUTOR_CORE_CHECKS_H */
