#include "worker.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct job {
	struct job *next;
	worker_fn fn;
	void (*done)(void *arg, bool cancelled);
	void *arg;
};

struct worker {
	struct event_base *base;
	int efd;
	struct event *ev;
	struct job *head, **tailp;
	struct job *running;
	pthread_t thread;
};

static void *
thread_main(void *p)
{
	struct worker *w = p;
	uint64_t one = 1;
	w->running->fn(w->running->arg);
	(void)!write(w->efd, &one, sizeof(one));
	return NULL;
}

static void
start_next(struct worker *w)
{
	sigset_t all, old;

	if (w->running || !w->head)
		return;
	w->running = w->head;
	w->head = w->head->next;
	if (!w->head)
		w->tailp = &w->head;
	/* The thread takes no signal: they are all the loop's (evsignal). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&w->thread, NULL, thread_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		/* No thread: run it here rather than lose it. */
		uint64_t one = 1;
		w->running->fn(w->running->arg);
		w->thread = pthread_self();
		(void)!write(w->efd, &one, sizeof(one));
	}
}

static void
finish(struct worker *w)
{
	struct job *j = w->running;
	if (!j)
		return;
	if (!pthread_equal(w->thread, pthread_self()))
		pthread_join(w->thread, NULL);
	w->running = NULL;
	j->done(j->arg, false);
	free(j);
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t n;
	(void)what;
	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	finish(w);
	start_next(w);
}

struct worker *
worker_new(struct event_base *base)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	w->base = base;
	w->tailp = &w->head;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		free(w);
		return NULL;
	}
	w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST, done_cb, w);
	if (!w->ev || event_add(w->ev, NULL) < 0) {
		worker_free(w);
		return NULL;
	}
	return w;
}

void
worker_submit(struct worker *w, worker_fn fn, void (*done)(void *arg, bool cancelled), void *arg)
{
	struct job *j = xcalloc(1, sizeof(*j));
	j->fn = fn;
	j->done = done;
	j->arg = arg;
	*w->tailp = j;
	w->tailp = &j->next;
	start_next(w);
}

int
worker_busy(const struct worker *w)
{
	return w->running != NULL || w->head != NULL;
}

void
worker_free(struct worker *w)
{
	if (!w)
		return;
	if (w->running) {
		uint64_t n;
		if (!pthread_equal(w->thread, pthread_self()))
			pthread_join(w->thread, NULL);
		(void)!read(w->efd, &n, sizeof(n));
		struct job *j = w->running;
		w->running = NULL;
		j->done(j->arg, false);
		free(j);
	}
	while (w->head) {
		struct job *j = w->head;
		w->head = j->next;
		j->done(j->arg, true);
		free(j);
	}
	if (w->ev)
		event_free(w->ev);
	if (w->efd >= 0)
		close(w->efd);
	free(w);
}
