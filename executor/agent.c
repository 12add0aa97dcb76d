#include "agent.h"
#include "log.h"
#include "mesos_msg.h"
#include "recordio.h"
#include "util.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>

#define CONNECT_TIMEOUT_SECS 5
#define CALL_TIMEOUT_SECS    30

struct stream {
	struct agent *ag;
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	struct recordio rio;
	int code;
	int ok;      /* 200 with the right Content-Type */
	int closing; /* teardown scheduled; ignore further callbacks */
	char why[256];
};

struct call_ctx {
	struct call_ctx *next;
	struct agent *ag;
	agent_call_done done;
	void *arg;
};

struct agent {
	struct event_base *base;
	const struct config *cfg;
	struct agent_cb cb;
	void *arg;
	struct stream *stream;
	struct evhttp_connection *calls;
	struct call_ctx *pending; /* calls in flight on `calls` */
	char host_header[300];
};

static void
add_headers(struct agent *ag, struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *ct = content_type_name(ag->cfg->content_type);

	evhttp_add_header(h, "Host", ag->host_header);
	evhttp_add_header(h, "Content-Type", ct);
	evhttp_add_header(h, "Accept", ct);
	evhttp_add_header(h, "Connection", "keep-alive");
	if (ag->cfg->token) {
		char *v = xasprintf("Bearer %s", ag->cfg->token);
		evhttp_add_header(h, "Authorization", v);
		explicit_bzero(v, strlen(v));
		free(v);
	}
}

struct agent *
agent_new(struct event_base *base, const struct config *cfg, const struct agent_cb *cb, void *arg)
{
	struct agent *ag = xcalloc(1, sizeof(*ag));
	ag->base = base;
	ag->cfg = cfg;
	ag->cb = *cb;
	ag->arg = arg;
	if (strchr(cfg->agent_host, ':'))
		snprintf(ag->host_header, sizeof(ag->host_header), "[%s]:%d", cfg->agent_host,
		         cfg->agent_port);
	else
		snprintf(ag->host_header, sizeof(ag->host_header), "%s:%d", cfg->agent_host,
		         cfg->agent_port);
	return ag;
}

/* ---- the stream ---------------------------------------------------------- */

static void
stream_free(struct stream *s)
{
	if (!s)
		return;
	if (s->conn)
		evhttp_connection_free(s->conn); /* frees the request, no callbacks */
	recordio_free(&s->rio);
	free(s);
}

/* Runs from the loop, outside every libevent callback of the connection. */
static void
stream_teardown_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	struct agent *ag = s->ag;
	char why[256];
	int code = s->code;

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "%s", s->why[0] ? s->why : "stream ended");
	if (ag->stream == s)
		ag->stream = NULL;
	stream_free(s);
	ag->cb.stream_closed(ag->arg, code, why);
}

static void
stream_close(struct stream *s, const char *why)
{
	if (s->closing)
		return;
	s->closing = 1;
	if (!s->why[0])
		snprintf(s->why, sizeof(s->why), "%s", why);
	if (s->req)
		evhttp_request_set_chunked_cb(s->req, NULL);
	event_base_once(s->ag->base, -1, EV_TIMEOUT, stream_teardown_cb, s, NULL);
}

static int
stream_header_cb(struct evhttp_request *req, void *arg)
{
	struct stream *s = arg;
	struct agent *ag = s->ag;

	if (s->closing)
		return 0;
	s->code = evhttp_request_get_response_code(req);
	if (s->code != 200)
		return 0; /* the body, if any, is drained; done_cb reports the code */
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	const char *want = content_type_name(ag->cfg->content_type);
	if (!ct || strncmp(ct, want, strlen(want)) != 0) {
		snprintf(s->why, sizeof(s->why), "unexpected Content-Type '%s' on the stream",
		         ct ? ct : "(none)");
		stream_close(s, s->why);
		return 0;
	}
	/* libevent's default 50 s read timeout would tear down an idle stream:
	 * the agent sends HEARTBEAT only every 30 minutes. Keep the connect
	 * timeout, drop the read/write timeouts for this stream only. */
	struct bufferevent *bev =
	    evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
	bufferevent_set_timeouts(bev, NULL, NULL);
	s->ok = 1;
	ag->cb.stream_open(ag->arg);
	return 0;
}

static int
stream_record_cb(void *arg, const uint8_t *data, size_t len)
{
	struct stream *s = arg;
	if (s->closing)
		return -1;
	if (s->ag->cb.stream_record(s->ag->arg, data, len) < 0) {
		stream_close(s, "dropped by the executor");
		return -1;
	}
	/* The callback may have dropped the stream itself. */
	return s->closing ? -1 : 0;
}

static void
stream_chunk_cb(struct evhttp_request *req, void *arg)
{
	struct stream *s = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct spx_error err = {0};

	if (s->closing || !s->ok) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	/* libevent drains `in` after we return; consume it all now. */
	while (evbuffer_get_length(in) > 0 && !s->closing) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		int r = recordio_feed(&s->rio, v.iov_base, v.iov_len, stream_record_cb, s, &err);
		evbuffer_drain(in, v.iov_len);
		if (r < 0) {
			snprintf(s->why, sizeof(s->why), "protocol error: %s", spx_error_msg(&err));
			stream_close(s, s->why);
		}
	}
	evbuffer_drain(in, evbuffer_get_length(in));
	spx_error_clear(&err);
}

static void
stream_error_cb(enum evhttp_request_error e, void *arg)
{
	struct stream *s = arg;
	static const char *const names[] = {"timeout",           "eof",
	                                    "invalid header",    "buffer error",
	                                    "request cancelled", "data too long"};
	if (!s->why[0] && (int)e >= 0 && (size_t)e < ARRAY_SIZE(names))
		snprintf(s->why, sizeof(s->why), "connection %s", names[e]);
}

static void
stream_done_cb(struct evhttp_request *req, void *arg)
{
	struct stream *s = arg;

	s->req = NULL; /* libevent frees it after we return */
	if (!req || evhttp_request_get_response_code(req) == 0) {
		stream_close(s, "connection failed");
		return;
	}
	s->code = evhttp_request_get_response_code(req);
	if (s->code != 200) {
		char why[128];
		snprintf(why, sizeof(why), "SUBSCRIBE answered %d %s", s->code,
		         evhttp_request_get_response_code_line(req)
		             ? evhttp_request_get_response_code_line(req)
		             : "");
		snprintf(s->why, sizeof(s->why), "%s", why);
	}
	stream_close(s, "agent closed the stream");
}

int
agent_subscribe(struct agent *ag, const uint8_t *body, size_t len, struct spx_error *err)
{
	if (ag->stream)
		return spx_error_set(err, 0, "a subscription is already in progress");
	struct stream *s = xcalloc(1, sizeof(*s));
	s->ag = ag;
	recordio_init(&s->rio, RECORDIO_DEFAULT_MAX);
	s->conn = evhttp_connection_base_new(ag->base, NULL, ag->cfg->agent_host,
	                                     (unsigned short)ag->cfg->agent_port);
	if (!s->conn) {
		stream_free(s);
		return spx_error_set(err, 0, "cannot create a connection to %s", ag->host_header);
	}
	evhttp_connection_set_timeout(s->conn, CONNECT_TIMEOUT_SECS);
	evhttp_connection_set_retries(s->conn, 0);
	s->req = evhttp_request_new(stream_done_cb, s);
	evhttp_request_set_header_cb(s->req, stream_header_cb);
	evhttp_request_set_chunked_cb(s->req, stream_chunk_cb);
	evhttp_request_set_error_cb(s->req, stream_error_cb);
	add_headers(ag, s->req);
	evbuffer_add(evhttp_request_get_output_buffer(s->req), body, len);
	if (evhttp_make_request(s->conn, s->req, EVHTTP_REQ_POST, ag->cfg->agent_path) < 0) {
		s->req = NULL; /* freed by libevent on failure */
		stream_free(s);
		return spx_error_set(err, 0, "cannot send SUBSCRIBE to %s", ag->host_header);
	}
	ag->stream = s;
	return 0;
}

void
agent_drop_stream(struct agent *ag, const char *why)
{
	if (ag->stream)
		stream_close(ag->stream, why);
}

int
agent_stream_active(const struct agent *ag)
{
	return ag->stream != NULL;
}

/* ---- calls ------------------------------------------------------------------ */

static void
call_unlink(struct agent *ag, struct call_ctx *c)
{
	for (struct call_ctx **pp = &ag->pending; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

static void
call_done_cb(struct evhttp_request *req, void *arg)
{
	struct call_ctx *c = arg;
	struct agent *ag = c->ag;
	char body[200] = "";
	int code = req ? evhttp_request_get_response_code(req) : 0;

	if (req && code != 202) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		if (n >= sizeof(body))
			n = sizeof(body) - 1;
		evbuffer_copyout(in, body, n);
		body[n] = '\0';
		for (char *p = body; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	}
	call_unlink(ag, c);
	agent_call_done done = c->done;
	void *darg = c->arg;
	free(c);
	done(darg, code, body);
}

int
agent_call(struct agent *ag, const uint8_t *body, size_t len, agent_call_done done, void *arg,
           struct spx_error *err)
{
	if (!ag->calls) {
		ag->calls = evhttp_connection_base_new(ag->base, NULL, ag->cfg->agent_host,
		                                       (unsigned short)ag->cfg->agent_port);
		if (!ag->calls)
			return spx_error_set(err, 0, "cannot create a connection to %s",
			                     ag->host_header);
		evhttp_connection_set_timeout(ag->calls, CALL_TIMEOUT_SECS);
		evhttp_connection_set_retries(ag->calls, 0);
	}
	struct call_ctx *c = xcalloc(1, sizeof(*c));
	c->ag = ag;
	c->done = done;
	c->arg = arg;
	struct evhttp_request *req = evhttp_request_new(call_done_cb, c);
	add_headers(ag, req);
	evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
	if (evhttp_make_request(ag->calls, req, EVHTTP_REQ_POST, ag->cfg->agent_path) < 0) {
		free(c);
		return spx_error_set(err, 0, "cannot send a call to %s", ag->host_header);
	}
	c->next = ag->pending;
	ag->pending = c;
	return 0;
}

void
agent_reset_calls(struct agent *ag)
{
	struct call_ctx *list = ag->pending;

	ag->pending = NULL;
	if (ag->calls) {
		evhttp_connection_free(ag->calls); /* frees queued requests silently */
		ag->calls = NULL;
	}
	while (list) {
		struct call_ctx *next = list->next;
		agent_call_done done = list->done;
		void *darg = list->arg;
		free(list);
		done(darg, 0, "connection reset");
		list = next;
	}
}

void
agent_free(struct agent *ag)
{
	if (!ag)
		return;
	if (ag->stream) {
		stream_free(ag->stream);
		ag->stream = NULL;
	}
	if (ag->calls)
		evhttp_connection_free(ag->calls);
	while (ag->pending) {
		struct call_ctx *next = ag->pending->next;
		free(ag->pending);
		ag->pending = next;
	}
	free(ag);
}
