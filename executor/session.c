/*
 * The agent session: SUBSCRIBE (with every unacknowledged update and task),
 * event dispatch, the ordered UPDATE pump, and reconnection with backoff.
 */
#include "executor.h"
#include "duration.h"
#include "log.h"
#include "mesos_msg.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define FIRST_BACKOFF_NS      (50 * NSEC_PER_MSEC)
#define UNSUBSCRIBED_RETRY_NS (1 * NSEC_PER_SEC)
#define REGISTRATION_LIMIT_NS (60 * NSEC_PER_SEC)
#define RETRY_503_NS          (500 * NSEC_PER_MSEC)
#define HEARTBEAT_SECS        (30 * 60)

static struct timeval
tv_from_ns(int64_t ns)
{
	if (ns < 0)
		ns = 0;
	struct timeval tv = {.tv_sec = ns / NSEC_PER_SEC, .tv_usec = (ns % NSEC_PER_SEC) / 1000};
	return tv;
}

static int64_t
random_between(int64_t lo, int64_t hi)
{
	uint64_t r = 0;
	if (hi <= lo)
		return lo;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint64_t)now_mono_ns();
	return lo + (int64_t)(r % (uint64_t)(hi - lo));
}

/* ---- SUBSCRIBE ------------------------------------------------------------- */

static uint8_t *
build_subscribe(struct executor *ex, size_t *ret_len, struct spx_error *err)
{
	size_t nt = 0, i = 0;

	for (struct task *t = ex->tasks; t; t = t->next)
		nt += !t->acked_any;
	Mesos__V1__TaskInfo **tasks = xcalloc(nt ? nt : 1, sizeof(*tasks));
	for (struct task *t = ex->tasks; t; t = t->next)
		if (!t->acked_any)
			tasks[i++] = t->info;
	uint8_t *buf =
	    call_subscribe_encode(ex->cfg->content_type, ex->cfg->executor_id,
	                          ex->cfg->framework_id, &ex->uq, tasks, nt, ret_len, err);
	free(tasks);
	return buf;
}

static void
subscribe(struct executor *ex)
{
	struct spx_error err = {0};
	size_t len;

	uint8_t *body = build_subscribe(ex, &len, &err);
	if (body) {
		ex->sub_epoch++;
		uq_mark_included(&ex->uq, ex->sub_epoch);
	}
	if (!body) {
		log_error("subscribe", "error=%s", LOGQ(spx_error_msg(&err)));
		spx_error_clear(&err);
		return;
	}
	if (agent_subscribe(ex->agent, body, len, &err) < 0) {
		log_warn("subscribe", "error=%s", LOGQ(spx_error_msg(&err)));
		spx_error_clear(&err);
		free(body);
		/* Try again later through the normal path. */
		ex->state = SS_SUBSCRIBING;
		state_mark_dirty(ex);
		session_agent_cb.stream_closed(ex, 0, "could not send SUBSCRIBE");
		return;
	}
	free(body);
	ex->state = SS_SUBSCRIBING;
	ex->subscribe_sent_ns = now_mono_ns();
	state_mark_dirty(ex);
	log_info("subscribe", "endpoint=%s:%d%s unacked_updates=%zu content_type=%s",
	         ex->cfg->agent_host, ex->cfg->agent_port, ex->cfg->agent_path, ex->uq.count,
	         content_type_name(ex->cfg->content_type));
}

static void
reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct executor *ex = arg;
	if (ex->state == SS_DISCONNECTED && !agent_stream_active(ex->agent))
		subscribe(ex);
}

static void
recovery_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct executor *ex = arg;
	char d[32];
	if (ex->state == SS_SUBSCRIBED)
		return;
	log_error("recovery_timeout", "after=%s action=kill_tasks_and_exit",
	          duration_format(ex->cfg->recovery_timeout_ns, d, sizeof(d)));
	ex->giving_up = true;
	executor_shutdown(ex, "agent recovery timed out");
}

static void
heartbeat_done(void *arg, int code, const char *body)
{
	(void)arg;
	if (code != 202)
		log_debug("heartbeat", "code=%d body=%s", code, LOGQ(body));
}

static void
heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct executor *ex = arg;
	Mesos__V1__Executor__Call call = MESOS__V1__EXECUTOR__CALL__INIT;
	Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
	Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
	struct spx_error err = {0};
	size_t len;

	if (ex->state != SS_SUBSCRIBED)
		return;
	eid.value = ex->cfg->executor_id;
	fid.value = ex->cfg->framework_id;
	call.executor_id = &eid;
	call.framework_id = &fid;
	call.has_type = 1;
	call.type = MESOS__V1__EXECUTOR__CALL__TYPE__HEARTBEAT;
	uint8_t *body = call_encode(ex->cfg->content_type, &call, &len, &err);
	if (body && agent_call(ex->agent, body, len, heartbeat_done, ex, &err) == 0)
		log_debug("heartbeat", "sent=1");
	free(body);
	spx_error_clear(&err);
}

void
session_start(struct executor *ex)
{
	struct timeval hb = {.tv_sec = HEARTBEAT_SECS};

	ex->backoff_ns = FIRST_BACKOFF_NS;
	ex->reconnect_timer = evtimer_new(ex->base, reconnect_cb, ex);
	ex->recovery_timer = evtimer_new(ex->base, recovery_cb, ex);
	ex->heartbeat_timer = event_new(ex->base, -1, EV_PERSIST, heartbeat_cb, ex);
	evtimer_add(ex->heartbeat_timer, &hb);
	ex->agent = agent_new(ex->base, ex->cfg, &session_agent_cb, ex);
	ex->disconnected_ns = now_mono_ns();
	subscribe(ex);
}

/* ---- the UPDATE pump ----------------------------------------------------- */

static void
pump_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_pump(arg);
}

static void
retry_pump_later(struct executor *ex, int64_t ns)
{
	struct timeval tv = tv_from_ns(ns);
	if (!ex->pump_timer)
		ex->pump_timer = evtimer_new(ex->base, pump_timer_cb, ex);
	evtimer_add(ex->pump_timer, &tv);
}

static void
update_done(void *arg, int code, const char *body)
{
	struct executor *ex = arg;
	struct update *u = uq_find_uuid(&ex->uq, ex->inflight_uuid, UUID_LEN);
	char uuid[37];

	ex->update_inflight = false;
	uuid_format(ex->inflight_uuid, uuid);
	if (code == 202) {
		if (u)
			u->sent = true;
	} else if (code == 503 || code == 404 || code == 0) {
		/* Agent recovering or unreachable: keep it; it is resent, or
		 * replayed inside the next SUBSCRIBE. */
		log_warn("update_retry", "uuid=%s code=%d body=%s", uuid, code, LOGQ(body));
		retry_pump_later(ex, RETRY_503_NS);
		return;
	} else {
		/* The agent rejected it; resending the same bytes cannot help. It
		 * stays retained and goes into the next SUBSCRIBE. */
		log_error("update_rejected", "uuid=%s code=%d body=%s", uuid, code, LOGQ(body));
		if (u)
			u->sent = true;
	}
	session_pump(ex);
}

void
session_pump(struct executor *ex)
{
	struct spx_error err = {0};

	if (ex->state != SS_SUBSCRIBED || ex->update_inflight)
		return;
	struct update *u = uq_next_unsent(&ex->uq);
	if (!u)
		return;

	Mesos__V1__Executor__Call call = MESOS__V1__EXECUTOR__CALL__INIT;
	Mesos__V1__Executor__Call__Update up = MESOS__V1__EXECUTOR__CALL__UPDATE__INIT;
	Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
	Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
	size_t len;

	eid.value = ex->cfg->executor_id;
	fid.value = ex->cfg->framework_id;
	call.executor_id = &eid;
	call.framework_id = &fid;
	call.has_type = 1;
	call.type = MESOS__V1__EXECUTOR__CALL__TYPE__UPDATE;
	up.status = u->status;
	call.update = &up;
	uint8_t *body = call_encode(ex->cfg->content_type, &call, &len, &err);
	if (!body) {
		log_error("update", "error=%s", LOGQ(spx_error_msg(&err)));
		spx_error_clear(&err);
		u->sent = true; /* cannot be encoded: never will be; kept for SUBSCRIBE */
		return;
	}
	memcpy(ex->inflight_uuid, u->status->uuid.data, UUID_LEN);
	ex->update_inflight = true;
	u->attempts++;
	if (agent_call(ex->agent, body, len, update_done, ex, &err) < 0) {
		ex->update_inflight = false;
		log_warn("update", "error=%s", LOGQ(spx_error_msg(&err)));
		spx_error_clear(&err);
		retry_pump_later(ex, RETRY_503_NS);
	}
	free(body);
}

const uint8_t *
session_send_status(struct executor *ex, struct task *t, const struct task_action *act)
{
	struct status_label labels[TASK_MAX_LABELS];
	for (int i = 0; i < act->n_labels; i++) {
		labels[i].key = act->labels[i].key;
		labels[i].value = act->labels[i].value;
	}
	struct status_spec spec = {
	    .labels = labels,
	    .n_labels = (size_t)act->n_labels,
	    .task_id = t->id,
	    .state = act->state,
	    .message = act->message,
	    .reason = act->reason,
	    .has_reason = act->has_reason,
	    .executor_id = ex->cfg->executor_id,
	    .agent_id = ex->agent_id,
	    .data = act->data,
	    .data_len = act->data_len,
	};
	struct check_status_buf csb;
	bool healthy;
	char uuid[37];

	if (t->terminal_sent)
		return NULL; /* nothing after the terminal update, ever */
	/* A task with a check: every status says its last result (empty
	 * before the first). A RUNNING status repeats the last known health,
	 * as the command executor's check updates do. */
	spec.check_status = checks_status(t, &csb);
	if (act->has_healthy) {
		spec.has_healthy = 1;
		spec.healthy = act->healthy;
	} else if (act->state == MESOS__V1__TASK_STATE__TASK_RUNNING &&
	           checks_healthy(t, &healthy)) {
		spec.has_healthy = 1;
		spec.healthy = healthy;
	}
	Mesos__V1__TaskStatus *st = status_new(&spec);
	uq_push(&ex->uq, st);
	if (task_state_is_terminal(act->state))
		t->terminal_sent = true;
	state_task_status(t, act);
	log_info("status", "task=%s state=%s uuid=%s reason=%d message=%s healthy=%d", LOGQ(t->id),
	         task_state_name(act->state), uuid_format(st->uuid.data, uuid),
	         act->has_reason ? act->reason : -1, LOGQ(act->message[0] ? act->message : NULL),
	         st->has_healthy ? st->healthy : -1);
	session_pump(ex);
	return st->uuid.data;
}

/* ---- events ------------------------------------------------------------------ */

static void
on_subscribed(struct executor *ex, const Mesos__V1__Executor__Event__Subscribed *s)
{
	const Mesos__V1__FrameworkInfo *fw = s->framework_info;
	int64_t now = now_mono_ns();

	if (s->agent_info && s->agent_info->id && s->agent_info->id->value) {
		free(ex->agent_id);
		ex->agent_id = xstrdup(s->agent_info->id->value);
	}
	ex->killing_cap = false;
	for (size_t i = 0; fw && i < fw->n_capabilities; i++) {
		if (fw->capabilities[i]->has_type &&
		    fw->capabilities[i]->type ==
		        MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__TASK_KILLING_STATE)
			ex->killing_cap = true;
	}
	for (struct task *t = ex->tasks; t; t = t->next)
		t->sm.killing_cap = ex->killing_cap;
	ex->state = SS_SUBSCRIBED;
	ex->ever_subscribed = true;
	ex->backoff_ns = FIRST_BACKOFF_NS;
	/* The agent replays what the SUBSCRIBE carried; do not POST that again.
	 * What was queued after the SUBSCRIBE was built still goes out. */
	uq_mark_sent_epoch(&ex->uq, ex->sub_epoch);
	evtimer_del(ex->recovery_timer);
	log_info("subscribed",
	         "agent_id=%s framework=%s checkpoint=%d killing_state=%d "
	         "latency_ms=%.1f down_ms=%.1f",
	         LOGQ(ex->agent_id), LOGQ(fw && fw->name ? fw->name : NULL),
	         fw && fw->has_checkpoint ? fw->checkpoint : 0, ex->killing_cap,
	         (double)(now - ex->subscribe_sent_ns) / 1e6,
	         (double)(now - ex->disconnected_ns) / 1e6);
	ex->disconnected_ns = 0;
	state_mark_dirty(ex);
	session_pump(ex);
	executor_maybe_exit(ex);
}

static void
on_acknowledged(struct executor *ex, const Mesos__V1__Executor__Event__Acknowledged *a)
{
	const char *tid = a->task_id && a->task_id->value ? a->task_id->value : "";
	char uuid[37] = "-";

	if (a->uuid.len == UUID_LEN)
		uuid_format(a->uuid.data, uuid);
	int known = uq_ack(&ex->uq, tid, a->uuid.data, a->uuid.len);
	struct task *t = tasks_find(ex, tid);
	if (known && t)
		t->acked_any = true;
	log_info("acknowledged", "task=%s uuid=%s known=%d pending=%zu", LOGQ(tid), uuid, known,
	         ex->uq.count);
	state_mark_dirty(ex);
	executor_maybe_exit(ex);
}

static void
on_launch_group(struct executor *ex, const Mesos__V1__Executor__Event__LaunchGroup *lg)
{
	const Mesos__V1__TaskGroupInfo *g = lg->task_group;
	for (size_t i = 0; g && i < g->n_tasks; i++)
		tasks_refuse(ex, g->tasks[i],
		             MESOS__V1__TASK_STATUS__REASON__REASON_TASK_GROUP_INVALID,
		             "spex runs command tasks (LAUNCH); task groups (LAUNCH_GROUP) are not "
		             "supported: use the default executor for pods");
}

static int
dispatch(struct executor *ex, const Mesos__V1__Executor__Event *ev)
{
	switch (ev->type) {
	case MESOS__V1__EXECUTOR__EVENT__TYPE__SUBSCRIBED:
		on_subscribed(ex, ev->subscribed);
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__LAUNCH:
		tasks_launch(ex, ev->launch->task);
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__LAUNCH_GROUP:
		on_launch_group(ex, ev->launch_group);
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__KILL:
		tasks_kill(ex, ev->kill->task_id->value, ev->kill->kill_policy);
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__ACKNOWLEDGED:
		on_acknowledged(ex, ev->acknowledged);
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__MESSAGE:
		log_info("message", "bytes=%zu", ev->message->data.len);
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__ERROR:
		/* Current agents never send it; the CE and default executor log it. */
		log_warn("agent_error", "message=%s", LOGQ(ev->error->message));
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__SHUTDOWN:
		executor_shutdown(ex, "SHUTDOWN from the agent");
		break;
	case MESOS__V1__EXECUTOR__EVENT__TYPE__HEARTBEAT:
		log_debug("heartbeat", "from=agent");
		break;
	default:
		log_info("event_ignored", "type=%s", event_type_name(ev->type));
		break;
	}
	return 0;
}

/* ---- agent callbacks --------------------------------------------------------- */

static void
cb_stream_open(void *arg)
{
	struct executor *ex = arg;
	log_debug("stream_open", "latency_ms=%.1f",
	          (double)(now_mono_ns() - ex->subscribe_sent_ns) / 1e6);
}

static int
cb_stream_record(void *arg, const uint8_t *data, size_t len)
{
	struct executor *ex = arg;
	struct spx_error err = {0};

	Mesos__V1__Executor__Event *ev = event_decode(ex->cfg->content_type, data, len, &err);
	if (!ev) {
		log_error("protocol_error", "error=%s action=resubscribe",
		          LOGQ(spx_error_msg(&err)));
		spx_error_clear(&err);
		return -1;
	}
	if (ex->state != SS_SUBSCRIBED &&
	    ev->type != MESOS__V1__EXECUTOR__EVENT__TYPE__SUBSCRIBED &&
	    ev->type != MESOS__V1__EXECUTOR__EVENT__TYPE__SHUTDOWN) {
		log_error("protocol_error", "error=\"%s before SUBSCRIBED\" action=resubscribe",
		          event_type_name(ev->type));
		mesos__v1__executor__event__free_unpacked(ev, NULL);
		return -1;
	}
	dispatch(ex, ev);
	mesos__v1__executor__event__free_unpacked(ev, NULL);
	return 0;
}

static void
cb_stream_closed(void *arg, int code, const char *why)
{
	struct executor *ex = arg;
	bool was_subscribed = ex->state == SS_SUBSCRIBED;
	int64_t now = now_mono_ns();

	ex->state = SS_DISCONNECTED;
	if (!ex->disconnected_ns)
		ex->disconnected_ns = now;
	state_mark_dirty(ex);
	agent_reset_calls(ex->agent);
	log_warn("disconnected", "code=%d reason=%s was_subscribed=%d", code, LOGQ(why),
	         was_subscribed);
	executor_maybe_exit(ex);
	if (ex->giving_up)
		return;

	if (!ex->cfg->checkpoint && ex->ever_subscribed) {
		/* Without checkpointing the agent cannot recover us: stop now. */
		log_error("disconnected", "checkpoint=0 action=kill_tasks_and_exit");
		ex->giving_up = true;
		executor_shutdown(ex, "disconnected from the agent and checkpointing is off");
		return;
	}

	int64_t delay;
	if (!ex->ever_subscribed) {
		/* Never subscribed yet: retry every second, as the command
		 * executor does, within the agent's registration timeout. */
		if (now - ex->disconnected_ns > REGISTRATION_LIMIT_NS) {
			log_error("subscribe", "error=\"no SUBSCRIBED within 1mins\" action=exit");
			ex->giving_up = true;
			executor_shutdown(ex, "could not subscribe to the agent");
			return;
		}
		delay = code == 0 ? random_between(UNSUBSCRIBED_RETRY_NS / 2, UNSUBSCRIBED_RETRY_NS)
		                  : random_between(0, RETRY_503_NS);
	} else {
		if (!evtimer_pending(ex->recovery_timer, NULL)) {
			struct timeval rt = tv_from_ns(ex->cfg->recovery_timeout_ns);
			evtimer_add(ex->recovery_timer, &rt);
		}
		/* Exponential backoff with jitter, capped by the agent's
		 * MESOS_SUBSCRIPTION_BACKOFF_MAX: fast after a blip, and never
		 * slower than the re-registration window. */
		int64_t max = ex->cfg->backoff_max_ns;
		int64_t b = ex->backoff_ns < max ? ex->backoff_ns : max;
		delay = random_between(b / 2, b);
		ex->backoff_ns = b * 2;
	}
	struct timeval tv = tv_from_ns(delay);
	evtimer_add(ex->reconnect_timer, &tv);
}

const struct agent_cb session_agent_cb = {
    .stream_open = cb_stream_open,
    .stream_record = cb_stream_record,
    .stream_closed = cb_stream_closed,
};
