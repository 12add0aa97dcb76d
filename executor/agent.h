/*
 * The HTTP session with the agent (libevent evhttp adapter).
 *
 * Two connections, as the v1 executor library keeps them: one carries the
 * SUBSCRIBE stream (a chunked 200 response that never ends while we are
 * subscribed, RecordIO inside), the other carries every other call (UPDATE,
 * MESSAGE, HEARTBEAT), one request at a time, each answered with 202.
 *
 * This module knows HTTP and framing only; what the records mean is the
 * executor's business (executor.c). All callbacks run on the event loop.
 */
#ifndef EXECUTOR_AGENT_H
#define EXECUTOR_AGENT_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

struct agent;

struct agent_cb {
	/* The SUBSCRIBE got 200 with the expected Content-Type. */
	void (*stream_open)(void *arg);
	/* One complete RecordIO record. Return -1 to drop the stream. */
	int (*stream_record)(void *arg, const uint8_t *data, size_t len);
	/* The stream is over (EOF, error, non-200, protocol error, or dropped):
	 * called exactly once per agent_subscribe(), never re-entrantly. */
	void (*stream_closed)(void *arg, int http_code, const char *why);
};

/* Called once per agent_call(): the HTTP status (0 if the connection failed
 * or was reset) and a short excerpt of the response body for logs. */
typedef void (*agent_call_done)(void *arg, int http_code, const char *body);

/* A session for cfg's endpoint. Never NULL (aborts on OOM). */
struct agent *agent_new(struct event_base *base, const struct config *cfg,
                        const struct agent_cb *cb, void *arg);
/* Tear everything down without calling any callback. NULL-safe. */
void agent_free(struct agent *ag);

/* POST a SUBSCRIBE body on a fresh stream connection. Returns -1 with *err if
 * the request could not even be queued (stream_closed is then not called). */
int agent_subscribe(struct agent *ag, const uint8_t *body, size_t len, struct spx_error *err);

/* Close the stream (protocol error, giving up); stream_closed follows from
 * the loop with why. No-op if no stream is open. */
void agent_drop_stream(struct agent *ag, const char *why);

/* 1 while a SUBSCRIBE request or stream exists. */
int agent_stream_active(const struct agent *ag);

/* POST a call on the calls connection; done(arg, code, body) follows. */
int agent_call(struct agent *ag, const uint8_t *body, size_t len, agent_call_done done, void *arg,
               struct spx_error *err);

/* Fail every call still in flight (done gets code 0) and start the calls
 * connection afresh; used when the stream dropped, so that a half-open
 * connection does not swallow the next UPDATE. */
void agent_reset_calls(struct agent *ag);

#endif /* EXECUTOR_AGENT_H */
