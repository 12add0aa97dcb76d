/*
 * TaskInfo.check and TaskInfo.health_check: running the attempts. Every
 * decision (defaults, schedule, what a result means, when to report or
 * kill) is core/checks.c's; this file forks, connects, times out and turns
 * the outcomes into updates (tasks_apply) or a kill (tasks_kill_unhealthy).
 *
 *	COMMAND	forked from the executor like a small task: its own process
 *		group, the sandbox as cwd, the executor's environment plus the
 *		check's variables, the task's user, and the task's cgroup when
 *		it has one (a check counts against the task's limits, as it
 *		counts against the container's under Mesos). stdout and stderr
 *		go to a pipe of which the last bytes are kept for the log.
 *		SIGCHLD reaps it (tasks_reap -> checks_reaped); at its timeout
 *		the whole group is SIGKILLed and the attempt has no result.
 *	HTTP	a non-blocking socket to 127.0.0.1:port on the loop: GET path,
 *		the status line's code is the result.
 *	TCP	a non-blocking connect to 127.0.0.1:port: the result is whether
 *		it was accepted.
 *
 * One attempt at a time per check; the next is scheduled interval_seconds
 * after one ends. Nothing here blocks the loop.
 */
#include "executor.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define OUTPUT_TAIL 512 /* bytes of a command check's output kept for the log */

enum sock_phase { SP_CONNECTING, SP_SENDING, SP_READING };

struct probe {
	struct task *t;
	struct check_spec spec;
	const char *what;         /* "check" or "health_check", for logs */
	struct event *next_ev;    /* the next attempt */
	struct event *timeout_ev; /* the attempt under way ran out of time */
	bool busy;                /* an attempt is under way */
	bool timed_out;
	int64_t started_ns;
	char why[128]; /* why the attempt under way gave no result */
	/* COMMAND */
	struct spawn_plan plan;
	struct run_as ra;
	pid_t pid; /* the attempt's process and group, 0 when none is left */
	int out_fd;
	struct event *out_ev;
	char out[OUTPUT_TAIL + 1];
	size_t out_len;
	/* HTTP, TCP */
	int sock;
	struct event *sock_ev;
	enum sock_phase phase;
	char req[2048];
	size_t req_len, req_sent;
	char resp[CHECK_HTTP_LINE_MAX];
	size_t resp_len;
	/* what was reported */
	struct check_track ct;
	struct health_track ht;
};

struct task_checks {
	struct probe *check, *health;
	bool paused;       /* a kill began or the task ended: for good */
	bool health_known; /* a health update went out */
	bool healthy;
};

static struct timeval
tv_of(int64_t ns)
{
	struct timeval tv = {.tv_sec = ns / NSEC_PER_SEC, .tv_usec = (ns % NSEC_PER_SEC) / 1000};
	return tv;
}

static void probe_done(struct probe *p, const struct check_result *r);

/* ---- output of a command check ------------------------------------------ */

/* Keep the last OUTPUT_TAIL bytes the check wrote. */
static void
out_keep(struct probe *p, const char *buf, size_t n)
{
	if (n >= OUTPUT_TAIL) {
		memcpy(p->out, buf + n - OUTPUT_TAIL, OUTPUT_TAIL);
		p->out_len = OUTPUT_TAIL;
		return;
	}
	if (p->out_len + n > OUTPUT_TAIL) {
		size_t drop = p->out_len + n - OUTPUT_TAIL;
		memmove(p->out, p->out + drop, p->out_len - drop);
		p->out_len -= drop;
	}
	memcpy(p->out + p->out_len, buf, n);
	p->out_len += n;
}

static void
out_close(struct probe *p)
{
	if (p->out_ev) {
		event_free(p->out_ev);
		p->out_ev = NULL;
	}
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
}

/* Read what is there (at most rounds reads); closes the pipe at EOF. */
static void
out_drain(struct probe *p, int rounds)
{
	char buf[4096];
	while (p->out_fd >= 0 && rounds-- > 0) {
		ssize_t n = read(p->out_fd, buf, sizeof(buf));
		if (n > 0) {
			out_keep(p, buf, (size_t)n);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			return;
		} else {
			out_close(p);
		}
	}
}

static void
out_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	out_drain(arg, 16); /* bounded: a chatty check cannot starve the loop */
}

/* ---- COMMAND -------------------------------------------------------------- */

/* A note on the check's output from the child (only write(2) there). */
static void
child_note(const char *s)
{
	(void)!write(STDERR_FILENO, s, strlen(s));
}

/* The check's process, between fork and exec: only system calls. */
static void __attribute__((noreturn))
probe_child(const struct probe *p, int out, char *const *cgroup_procs, pid_t parent)
{
	sigset_t none;
	int err = ENOENT;

	/* Its own group, so that a timeout kills all it started. */
	setpgid(0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0)
		_exit(127);
	if (chdir(p->t->ex->cfg->sandbox) < 0) {
		child_note("spex: the check cannot enter the sandbox\n");
		_exit(127);
	}
	/* Into the task's cgroups (v1: one per hierarchy); "0" is the writer.
	 * Best effort: where it is refused the check still runs, in the
	 * executor's cgroup, and says so in its output. */
	for (char *const *c = cgroup_procs; c && *c; c++) {
		int fd = open(*c, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			child_note("spex: the check runs outside the task's cgroup\n");
		if (fd >= 0)
			close(fd);
	}
	if (p->ra.set && (setgroups((size_t)p->ra.ngroups, p->ra.groups) < 0 ||
	                  setgid(p->ra.gid) < 0 || setuid(p->ra.uid) < 0)) {
		child_note("spex: the check cannot switch to the task's user\n");
		_exit(127);
	}
	/* After the user switch, which would clear it: if the executor dies,
	 * the check goes too. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	close_range(3, ~0U, 0); /* everything is close-on-exec already; be sure */
	for (char **c = p->plan.candidates; *c; c++) {
		execve(*c, p->plan.argv, p->plan.envp);
		if (errno != ENOENT || c == p->plan.candidates)
			err = errno;
	}
	_exit(err == ENOENT ? 127 : 126);
}

static void
command_start(struct probe *p)
{
	struct task *t = p->t;
	int pipefd[2];
	struct check_result none = check_result_none(CHECK_COMMAND);

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(p->why, sizeof(p->why), "pipe: %s", strerror(errno));
		probe_done(p, &none);
		return;
	}
	char *const *procs = t->cg ? cgroup_task_procs_files(t->cg) : NULL;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(p->why, sizeof(p->why), "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		probe_done(p, &none);
		return;
	}
	if (pid == 0)
		probe_child(p, pipefd[1], procs, parent);
	/* Also from this side, so that a kill right away reaches the group. */
	setpgid(pid, pid);
	close(pipefd[1]);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	p->pid = pid;
	p->out_fd = pipefd[0];
	p->out_len = 0;
	p->out_ev = event_new(t->ex->base, p->out_fd, EV_READ | EV_PERSIST, out_cb, p);
	event_add(p->out_ev, NULL);
	log_debug("check_spawned", "task=%s kind=%s pid=%d", LOGQ(t->id), p->what, (int)pid);
}

/* The check's process was reaped with wait status st. */
static void
command_reaped(struct probe *p, int st)
{
	/* What it left behind in its group goes too. The group id cannot be
	 * a new process's yet: a pid is reused only after the whole pid space
	 * went round, and the group, while it has members, keeps its id. */
	kill(-p->pid, SIGKILL);
	p->pid = 0;
	out_drain(p, 64);
	out_close(p);
	if (!p->busy)
		return; /* abandoned at a kill: nothing to report */
	struct check_result r = check_result_command(st, p->timed_out);
	if (!r.has_value && !p->timed_out)
		snprintf(p->why, sizeof(p->why), "terminated by signal %s",
		         WIFSIGNALED(st) ? signal_name(WTERMSIG(st)) : "?");
	probe_done(p, &r);
}

/* ---- HTTP and TCP ----------------------------------------------------------- */

static void
sock_close(struct probe *p)
{
	if (p->sock_ev) {
		event_free(p->sock_ev);
		p->sock_ev = NULL;
	}
	if (p->sock >= 0)
		close(p->sock);
	p->sock = -1;
}

static void
sock_finish(struct probe *p, bool has_value, int64_t value)
{
	struct check_result r = check_result_none(p->spec.kind);
	r.has_value = has_value;
	r.value = value;
	sock_close(p);
	probe_done(p, &r);
}

static void sock_cb(evutil_socket_t fd, short what, void *arg);

static void
sock_watch(struct probe *p, short what)
{
	if (p->sock_ev)
		event_free(p->sock_ev);
	p->sock_ev = event_new(p->t->ex->base, p->sock, what | EV_PERSIST, sock_cb, p);
	event_add(p->sock_ev, NULL);
}

/* The connection attempt ended with errno e (0: connected). */
static void
sock_connected(struct probe *p, int e)
{
	if (e) {
		snprintf(p->why, sizeof(p->why), "connect to 127.0.0.1:%u: %s",
		         (unsigned)p->spec.port, strerror(e));
		/* TCP: a refused connection is a result; HTTP: there is none. */
		sock_finish(p, p->spec.kind == CHECK_TCP, 0);
		return;
	}
	if (p->spec.kind == CHECK_TCP) {
		sock_finish(p, true, 1);
		return;
	}
	p->phase = SP_SENDING;
	p->req_sent = 0;
	p->resp_len = 0;
	sock_watch(p, EV_WRITE);
}

static void
sock_send(struct probe *p)
{
	ssize_t n = send(p->sock, p->req + p->req_sent, p->req_len - p->req_sent, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		snprintf(p->why, sizeof(p->why), "send: %s", strerror(errno));
		sock_finish(p, false, 0);
		return;
	}
	p->req_sent += (size_t)n;
	if (p->req_sent == p->req_len) {
		p->phase = SP_READING;
		sock_watch(p, EV_READ);
	}
}

static void
sock_read(struct probe *p)
{
	unsigned code = 0;
	ssize_t n = recv(p->sock, p->resp + p->resp_len, sizeof(p->resp) - p->resp_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		snprintf(p->why, sizeof(p->why), "recv: %s", strerror(errno));
		sock_finish(p, false, 0);
		return;
	}
	p->resp_len += (size_t)n;
	int r = check_http_status_line(p->resp, p->resp_len, &code);
	if (r == 1) {
		sock_finish(p, true, code);
	} else if (r < 0 || n == 0) {
		snprintf(p->why, sizeof(p->why), "%s",
		         r < 0 ? "not an HTTP response"
		               : "connection closed before the status line");
		sock_finish(p, false, 0);
	}
}

static void
sock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	int e = 0;
	socklen_t len = sizeof(e);

	(void)what;
	switch (p->phase) {
	case SP_CONNECTING:
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			e = errno;
		sock_connected(p, e);
		break;
	case SP_SENDING:
		sock_send(p);
		break;
	case SP_READING:
		sock_read(p);
		break;
	}
}

static void
sock_start(struct probe *p)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons(p->spec.port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	p->sock = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->sock < 0) {
		snprintf(p->why, sizeof(p->why), "socket: %s", strerror(errno));
		sock_finish(p, false, 0);
		return;
	}
	p->phase = SP_CONNECTING;
	if (connect(p->sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		sock_connected(p, 0);
	else if (errno == EINPROGRESS)
		sock_watch(p, EV_WRITE);
	else
		sock_connected(p, errno);
}

/* ---- attempts ----------------------------------------------------------- */

/* Stop the attempt under way without a result. */
static void
probe_abandon(struct probe *p)
{
	evtimer_del(p->next_ev);
	evtimer_del(p->timeout_ev);
	if (p->pid > 0)
		kill(-p->pid, SIGKILL); /* reaped later, quietly (busy is false) */
	out_close(p);
	sock_close(p);
	p->busy = false;
}

static void
attempt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	(void)fd;
	(void)what;
	if (p->t->checks->paused || p->busy)
		return;
	p->busy = true;
	p->timed_out = false;
	p->why[0] = '\0';
	p->started_ns = now_mono_ns();
	if (p->spec.timeout_ns > 0) {
		struct timeval tv = tv_of(p->spec.timeout_ns);
		evtimer_add(p->timeout_ev, &tv);
	}
	if (p->spec.kind == CHECK_COMMAND)
		command_start(p);
	else
		sock_start(p);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	(void)fd;
	(void)what;
	if (!p->busy)
		return;
	p->timed_out = true;
	snprintf(p->why, sizeof(p->why), "timed out after %.3gs", (double)p->spec.timeout_ns / 1e9);
	if (p->spec.kind == CHECK_COMMAND) {
		/* The whole group; the result (none) comes when it is reaped. */
		if (p->pid > 0)
			kill(-p->pid, SIGKILL);
		return;
	}
	sock_finish(p, false, 0);
}

/* A check's result: an update when it changed. */
static void
check_outcome(struct probe *p, const struct check_result *r)
{
	struct task *t = p->t;
	struct task_action act;

	if (!check_track_result(&p->ct, r))
		return;
	task_sm_report(&t->sm, &act);
	if (act.state == TASK_NO_STATE)
		return;
	act.has_reason = true;
	act.reason = MESOS__V1__TASK_STATUS__REASON__REASON_TASK_CHECK_STATUS_UPDATED;
	tasks_apply(t, &act);
}

/* A health check's result: healthy or not, and a kill after enough failures. */
static void
health_outcome(struct probe *p, const struct check_result *r)
{
	struct task *t = p->t;
	struct task_checks *c = t->checks;
	struct task_action act;

	enum health_event ev = health_track_result(&p->ht, &p->spec, r, now_mono_ns());
	if (ev == HEALTH_NONE)
		return;
	c->health_known = true;
	c->healthy = ev == HEALTH_HEALTHY;
	log_info("health", "task=%s healthy=%d consecutive_failures=%u", LOGQ(t->id), c->healthy,
	         p->ht.failures);
	task_sm_report(&t->sm, &act);
	if (act.state != TASK_NO_STATE) {
		act.has_reason = true;
		act.reason =
		    MESOS__V1__TASK_STATUS__REASON__REASON_TASK_HEALTH_CHECK_STATUS_UPDATED;
		act.has_healthy = true;
		act.healthy = c->healthy;
		tasks_apply(t, &act);
	}
	if (ev == HEALTH_KILL)
		tasks_kill_unhealthy(t);
}

/* An attempt ended with r: log, report, schedule the next. */
static void
probe_done(struct probe *p, const struct check_result *r)
{
	struct task *t = p->t;
	char res[64];

	evtimer_del(p->timeout_ev);
	p->busy = false;
	if (t->checks->paused)
		return;
	p->out[p->out_len] = '\0';
	bool bad = p->spec.health ? !health_result_ok(r) : !r->has_value;
	log_event(bad ? LOG_WARN : LOG_DEBUG, "check_result",
	          "task=%s kind=%s type=%s result=%s ms=%.1f why=%s output=%s", LOGQ(t->id),
	          p->what, check_kind_name(p->spec.kind), check_result_text(r, res, sizeof(res)),
	          (double)(now_mono_ns() - p->started_ns) / 1e6, LOGQ(p->why[0] ? p->why : NULL),
	          LOGQ(p->out_len ? p->out : NULL));
	if (p->spec.health)
		health_outcome(p, r);
	else
		check_outcome(p, r);
	if (!t->checks->paused) {
		struct timeval tv = tv_of(check_next_delay_ns(&p->spec, false));
		evtimer_add(p->next_ev, &tv);
	}
}

/* ---- set-up and tear-down ------------------------------------------------- */

static void
probe_free(struct probe *p)
{
	if (!p)
		return;
	probe_abandon(p);
	event_free(p->next_ev);
	event_free(p->timeout_ev);
	spawn_plan_free(&p->plan);
	free(p);
}

/* A probe for spec, or NULL (logged) when its command cannot be prepared. */
static struct probe *
probe_new(struct task *t, const struct check_spec *spec)
{
	struct spx_error err = {0};
	struct probe *p = xcalloc(1, sizeof(*p));

	p->t = t;
	p->spec = *spec;
	p->what = spec->health ? "health_check" : "check";
	p->out_fd = p->sock = -1;
	if (spec->kind == CHECK_COMMAND) {
		/* Prepared once: the environment is the executor's plus the
		 * check's own variables (as the command executor's checker
		 * does), the user the task's. */
		if (spawn_plan_build(spec->command, environ, t->ex->cfg->sandbox, NULL, &p->plan,
		                     &err) < 0 ||
		    (t->info->command &&
		     tasks_run_as(t->info->command, &p->plan, &p->ra, &err) < 0)) {
			log_error("check_setup", "task=%s kind=%s error=%s action=not_checked",
			          LOGQ(t->id), p->what, LOGQ(spx_error_msg(&err)));
			spx_error_clear(&err);
			spawn_plan_free(&p->plan);
			free(p);
			return NULL;
		}
	} else {
		int n = check_http_request(spec->path, spec->port, p->req, sizeof(p->req));
		if (spec->kind == CHECK_HTTP && n < 0) {
			log_error("check_setup",
			          "task=%s kind=%s error=\"path too long\" "
			          "action=not_checked",
			          LOGQ(t->id), p->what);
			free(p);
			return NULL;
		}
		p->req_len = n < 0 ? 0 : (size_t)n;
	}
	check_track_init(&p->ct, spec->kind);
	health_track_init(&p->ht, now_mono_ns());
	p->next_ev = evtimer_new(t->ex->base, attempt_cb, p);
	p->timeout_ev = evtimer_new(t->ex->base, timeout_cb, p);
	struct timeval tv = tv_of(check_next_delay_ns(spec, true));
	evtimer_add(p->next_ev, &tv);
	log_info("check_start",
	         "task=%s kind=%s type=%s delay_ms=%lld interval_ms=%lld "
	         "timeout_ms=%lld",
	         LOGQ(t->id), p->what, check_kind_name(spec->kind),
	         (long long)(spec->delay_ns / NSEC_PER_MSEC),
	         (long long)(spec->interval_ns / NSEC_PER_MSEC),
	         (long long)(spec->timeout_ns / NSEC_PER_MSEC));
	return p;
}

void
checks_start(struct task *t)
{
	struct spx_error err = {0};
	struct check_spec spec;

	if (t->checks || (!t->info->check && !t->info->health_check))
		return;
	t->checks = xcalloc(1, sizeof(*t->checks));
	/* Validated at launch (checks_validate_task); an error here is a bug. */
	if (t->info->check) {
		if (check_spec_from_check(t->info->check, &spec, &err) == 0)
			t->checks->check = probe_new(t, &spec);
		else
			log_error("check_setup", "task=%s error=%s", LOGQ(t->id),
			          LOGQ(spx_error_msg(&err)));
		spx_error_clear(&err);
	}
	if (t->info->health_check) {
		if (check_spec_from_health(t->info->health_check, &spec, &err) == 0)
			t->checks->health = probe_new(t, &spec);
		else
			log_error("check_setup", "task=%s error=%s", LOGQ(t->id),
			          LOGQ(spx_error_msg(&err)));
		spx_error_clear(&err);
	}
}

void
checks_pause(struct task *t)
{
	struct task_checks *c = t->checks;
	if (!c || c->paused)
		return;
	c->paused = true;
	if (c->check)
		probe_abandon(c->check);
	if (c->health)
		probe_abandon(c->health);
	log_debug("checks_paused", "task=%s", LOGQ(t->id));
}

void
checks_free(struct task *t)
{
	struct task_checks *c = t->checks;
	if (!c)
		return;
	c->paused = true;
	probe_free(c->check);
	probe_free(c->health);
	free(c);
	t->checks = NULL;
}

static int
probe_reaped(struct probe *p, pid_t pid, int st)
{
	if (!p || p->pid != pid)
		return 0;
	command_reaped(p, st);
	return 1;
}

int
checks_reaped(struct executor *ex, pid_t pid, int wait_status)
{
	for (struct task *t = ex->tasks; t; t = t->next) {
		struct task_checks *c = t->checks;
		if (c && (probe_reaped(c->check, pid, wait_status) ||
		          probe_reaped(c->health, pid, wait_status)))
			return 1;
	}
	return 0;
}

const Mesos__V1__CheckStatusInfo *
checks_status(const struct task *t, struct check_status_buf *buf)
{
	enum check_kind kind = check_status_kind(t->info);
	if (kind == CHECK_NONE)
		return NULL;
	struct check_result r = check_result_none(kind);
	if (t->checks && t->checks->check)
		r = t->checks->check->ct.last;
	return check_status_build(&r, buf);
}

int
checks_healthy(const struct task *t, bool *healthy)
{
	if (!t->checks || !t->checks->health_known)
		return 0;
	*healthy = t->checks->healthy;
	return 1;
}
