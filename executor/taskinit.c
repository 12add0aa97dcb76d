#include "taskinit.h"
#include "logcap.h"
#include "proctree.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <grp.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* Fixed descriptor numbers inside task-init, after close_range. */
enum { TI_STDOUT = 3, TI_STDERR = 4, TI_REPORT = 5, TI_CTL = 6, TI_FIRST_FREE = 7 };

#define LOG_PIPE_SIZE (1024 * 1024) /* room for bursts while a tail is compacted */

/* The command's output streams when task-init captures them. */
struct log_stream {
	int rfd;            /* read end, -1 once at EOF */
	int wfd;            /* write end, for the command (closed in task-init after fork) */
	struct logcap *cap; /* writes into TI_STDOUT / TI_STDERR */
};

static struct log_stream streams[2] = {{-1, -1, NULL}, {-1, -1, NULL}};

#define REAP_TICK_MS 100

static void
report(char type, int32_t value, int32_t pid)
{
	struct ti_report r;
	memset(&r, 0, sizeof(r)); /* no uninitialised padding on the pipe */
	r.type = type;
	r.value = value;
	r.pid = pid;
	(void)write_all(TI_REPORT, &r, sizeof(r));
}

/* The signal the kernel sends task-init when the executor dies
 * (PR_SET_PDEATHSIG). A real-time signal nobody else sends, so that an
 * operator's SIGTERM is never mistaken for the executor's death. */
#define SIG_PARENT_DIED (SIGRTMIN + 1)

static pid_t command_pgrp;       /* the command leads its own process group */
static char command_oom_adj[16]; /* what the command writes to its oom_score_adj */

/*
 * task-init must outlive an OOM in its cgroup, or the tree is left without
 * its supervisor. Best: make it the one process the OOM killer never picks
 * (-1000; needs CAP_SYS_RESOURCE) and give the command the old value back.
 * Where lowering is refused (some VMs and containers answer EIO or EACCES),
 * the command raises its own score by 500 instead (raising needs no
 * privilege), so the task's processes are always picked before task-init.
 */
static void
protect_from_oom(void)
{
	char old[16];
	int fd = open("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, old, sizeof(old) - 1);
	if (n <= 0) {
		close(fd);
		return;
	}
	old[n] = '\0';
	int adj = atoi(old);
	if (pwrite(fd, "-1000", 5, 0) == 5)
		snprintf(command_oom_adj, sizeof(command_oom_adj), "%d", adj);
	else
		snprintf(command_oom_adj, sizeof(command_oom_adj), "%d",
		         adj + 500 > 1000 ? 1000 : adj + 500);
	close(fd);
}

static void
restore_oom_adj(void)
{
	if (!command_oom_adj[0])
		return;
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, command_oom_adj, strlen(command_oom_adj));
		close(fd);
	}
}

/* Signal every process of our tree except ourselves: the command's process
 * group first (cheap, catches the common case), then every descendant found
 * in /proc (catches those that changed group or session). task-init is in a
 * group of its own, so it never signals itself. */
static void
signal_tree(int sig)
{
	size_t n = 0;
	pid_t self = getpid();

	if (command_pgrp > 0)
		kill(-command_pgrp, sig);
	struct proc_entry *ents = proc_scan(&n);
	if (!ents)
		return;
	pid_t *desc = xmalloc((n ? n : 1) * sizeof(pid_t));
	size_t nd = proc_descendants(ents, n, self, desc, n);
	for (size_t i = 0; i < nd; i++)
		kill(desc[i], sig);
	free(desc);
	free(ents);
}

enum { STAGE_EXEC, STAGE_SETUP };

static void __attribute__((noreturn)) child_fail(int exec_fd, int stage, int err, int code)
{
	int msg[2] = {stage, err};
	(void)!write(exec_fd, msg, sizeof(msg));
	_exit(code);
}

/* The child: become the task. Only syscalls from here to execve. */
static void __attribute__((noreturn)) exec_command(const struct taskinit_opts *o, int exec_fd)
{
	sigset_t none;
	int err = ENOENT;

	/* Its own process group, inside task-init's session: group kills then
	 * reach the whole command and never task-init. */
	setpgid(0, 0);
	restore_oom_adj();
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out = streams[0].wfd >= 0 ? streams[0].wfd : TI_STDOUT;
	int err_ = streams[1].wfd >= 0 ? streams[1].wfd : TI_STDERR;
	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(err_, STDERR_FILENO) < 0 || chdir(o->cwd) < 0)
		child_fail(exec_fd, STAGE_SETUP, errno, 127);
	/* Groups, then gid, then uid: after setuid we could not change the rest. */
	if (o->switch_user && (setgroups((size_t)o->ngroups, o->groups) < 0 || setgid(o->gid) < 0 ||
	                       setuid(o->uid) < 0))
		child_fail(exec_fd, STAGE_SETUP, errno, 127);
	for (char **c = o->plan->candidates; *c; c++) {
		execve(*c, o->plan->argv, o->plan->envp);
		/* Keep the most telling error: EACCES beats a later ENOENT. */
		if (errno != ENOENT || c == o->plan->candidates)
			err = errno;
	}
	child_fail(exec_fd, STAGE_EXEC, err, err == ENOENT ? 127 : 126);
}

/* Join the task's cgroups (v1: one per hierarchy) before anything runs. */
static int
join_cgroups(char *const *procs)
{
	char pid[16];
	int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (char *const *p = procs; p && *p; p++) {
		int fd = open(*p, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		ssize_t w = write(fd, pid, (size_t)n);
		int e = errno;
		close(fd);
		if (w != n)
			return w < 0 ? e : EIO;
	}
	return 0;
}

static int
open_log_streams(const struct taskinit_opts *o)
{
	const int files[2] = {TI_STDOUT, TI_STDERR};
	for (int i = 0; i < 2; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		fcntl(p[0], F_SETPIPE_SZ, LOG_PIPE_SIZE); /* best effort */
		streams[i].rfd = p[0];
		streams[i].wfd = p[1];
		streams[i].cap = logcap_new(files[i], o->log_head, o->log_tail);
	}
	return 0;
}

/* Move what the command wrote into the files. Returns 1 while a stream is open. */
static int
drain_logs(void)
{
	char buf[65536];
	int open_streams = 0;

	for (int i = 0; i < 2; i++) {
		struct log_stream *s = &streams[i];
		if (s->rfd < 0)
			continue;
		/* Bounded per call, so reaping and commands are never starved. */
		for (int rounds = 0; rounds < 64; rounds++) {
			ssize_t n = read(s->rfd, buf, sizeof(buf));
			if (n > 0) {
				/* A full disk loses output (counted by logcap), never the task. */
				(void)logcap_write(s->cap, buf, (size_t)n);
				continue;
			}
			if (n == 0) {
				close(s->rfd);
				s->rfd = -1;
			} else if (errno == EINTR) {
				continue;
			}
			break;
		}
		open_streams += s->rfd >= 0;
	}
	return open_streams > 0;
}

static void
close_logs(void)
{
	for (int i = 0; i < 2; i++) {
		logcap_free(streams[i].cap);
		streams[i].cap = NULL;
		if (streams[i].rfd >= 0)
			close(streams[i].rfd);
		streams[i].rfd = -1;
	}
}

/* Reap everything that is ready. Returns 1 once no child is left at all. */
static int
reap(pid_t main_pid, int *main_status, int *main_done)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p > 0) {
			if (p == main_pid) {
				*main_status = st;
				*main_done = 1;
			}
			continue;
		}
		if (p < 0 && errno == EINTR)
			continue;
		return p < 0 && errno == ECHILD;
	}
}

static void __attribute__((noreturn)) taskinit_main(const struct taskinit_opts *o, pid_t parent)
{
	sigset_t mask;
	int pipefd[2];
	int main_status = 0, main_done = 0, killing = 0, orphaned = 0;
	int64_t linger_deadline = 0;

	setsid();
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_PDEATHSIG, SIG_PARENT_DIED);
	prctl(PR_SET_NAME, "spex-task-init");
	if (getppid() != parent) /* the executor died before PDEATHSIG was armed */
		_exit(1);
	sigfillset(&mask);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIG_PARENT_DIED);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	protect_from_oom();
	int cg_err = join_cgroups(o->cgroup_procs);
	if (cg_err) {
		report('C', cg_err, 0);
		_exit(1);
	}
	if (o->capture_logs && open_log_streams(o) < 0) {
		report('S', errno, 0);
		_exit(1);
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		report('S', errno, 0);
		_exit(1);
	}
	pid_t child = fork();
	if (child < 0) {
		report('S', errno, 0);
		_exit(1);
	}
	if (child == 0) {
		close(pipefd[0]);
		exec_command(o, pipefd[1]);
	}
	/* Also from this side, so that no signal_tree() can miss it (race with
	 * the child's own setpgid). */
	setpgid(child, child);
	for (int i = 0; i < 2; i++) {
		if (streams[i].wfd >= 0) {
			close(streams[i].wfd); /* only the tree writes */
			streams[i].wfd = -1;
		}
	}
	command_pgrp = child;
	close(pipefd[1]);
	int msg[2] = {0, 0};
	ssize_t r;
	do
		r = read(pipefd[0], msg, sizeof(msg));
	while (r < 0 && errno == EINTR);
	close(pipefd[0]);
	if (r == (ssize_t)sizeof(msg))
		report(msg[0] == STAGE_SETUP ? 'S' : 'E', msg[1], child);
	else
		report('R', 0, child);

	for (;;) {
		struct pollfd pf[4] = {{.fd = sfd, .events = POLLIN},
		                       {.fd = orphaned ? -1 : TI_CTL, .events = POLLIN},
		                       {.fd = streams[0].rfd, .events = POLLIN},
		                       {.fd = streams[1].rfd, .events = POLLIN}};
		int timeout = (killing || linger_deadline) ? REAP_TICK_MS : -1;
		int n = poll(pf, 4, timeout);
		drain_logs();
		if (n < 0 && errno != EINTR)
			break;
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if ((int)si.ssi_signo == SIG_PARENT_DIED) {
					orphaned = 1; /* the executor is gone */
					killing = 1;
				} else if (si.ssi_signo != SIGCHLD) {
					/* Someone asked us to stop: pass it on, gracefully. */
					signal_tree(SIGTERM);
				}
			}
		}
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			char cmd;
			ssize_t c = read(TI_CTL, &cmd, 1);
			if (c == 1 && cmd == 'T') {
				signal_tree(SIGTERM);
			} else if (c == 1 && cmd == 'K') {
				killing = 1;
			} else if (c == 0 || (c < 0 && errno != EAGAIN && errno != EINTR)) {
				orphaned = 1; /* the executor is gone */
				killing = 1;
			}
		}
		if (killing)
			signal_tree(SIGKILL);
		if (reap(child, &main_status, &main_done))
			break;
		if (main_done && !killing) {
			/* The command exited but left processes behind. */
			int64_t now = now_mono_ns();
			if (!linger_deadline) {
				linger_deadline = now + o->linger_grace_ns;
				signal_tree(SIGTERM);
			} else if (now >= linger_deadline) {
				killing = 1;
				signal_tree(SIGKILL);
			}
		}
	}
	/* The tree is gone: whatever is still in the pipes is the last output
	 * (often the crash), keep it. */
	while (drain_logs())
		;
	close_logs();
	if (!orphaned)
		report('X', main_status, child);
	_exit(0);
}

/* task-init could not even set itself up: say why on the report pipe (fd
 * rep), so the task fails with the reason instead of a bare exit status. */
static void __attribute__((noreturn)) early_fail(int rep, int err)
{
	struct ti_report r = {.type = 'S', .value = err, .pid = 0};
	(void)!write(rep, &r, sizeof(r));
	_exit(1);
}

int
taskinit_spawn(const struct taskinit_opts *o, struct taskinit *ti, struct spx_error *err)
{
	int rep[2], ctl[2];
	pid_t parent = getpid();

	if (pipe2(rep, O_CLOEXEC) < 0)
		return spx_error_set(err, errno, "pipe");
	if (pipe2(ctl, O_CLOEXEC) < 0) {
		close(rep[0]);
		close(rep[1]);
		return spx_error_set(err, errno, "pipe");
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(rep[0]);
		close(rep[1]);
		close(ctl[0]);
		close(ctl[1]);
		return spx_error_set(err, e, "fork");
	}
	if (pid == 0) {
		/* Move our descriptors to fixed slots, then close everything else:
		 * an inherited copy of another task's control pipe would keep that
		 * task alive after the executor's death. */
		int fds[4] = {o->stdout_fd, o->stderr_fd, rep[1], ctl[0]};
		int tmp[4];
		/* Copies above the fixed slots first (never at a low fixed number:
		 * RLIMIT_NOFILE may be small), then into the slots. */
		for (int i = 0; i < 4; i++) {
			tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, TI_FIRST_FREE);
			if (tmp[i] < 0)
				early_fail(rep[1], errno);
		}
		for (int i = 0; i < 4; i++)
			if (dup3(tmp[i], TI_STDOUT + i, O_CLOEXEC) < 0)
				early_fail(tmp[2], errno);
		close_range(TI_FIRST_FREE, ~0U, 0);
		taskinit_main(o, parent);
	}
	close(rep[1]);
	close(ctl[0]);
	fcntl(rep[0], F_SETFL, O_NONBLOCK);
	fcntl(ctl[1], F_SETFL, O_NONBLOCK);
	ti->pid = pid;
	ti->report_fd = rep[0];
	ti->ctl_fd = ctl[1];
	return 0;
}

int
taskinit_command(const struct taskinit *ti, char cmd)
{
	ssize_t n;
	do
		n = write(ti->ctl_fd, &cmd, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}
