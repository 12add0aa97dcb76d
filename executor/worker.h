/*
 * Blocking filesystem work (a sandbox scan, a cleanup) off the event loop.
 * Jobs run one at a time, in order, each on its own short-lived thread; when
 * one finishes, its `done` callback runs on the loop (an eventfd wakes it),
 * so the loop never waits on the disk and job results need no locking: the
 * job owns its argument until `done`.
 */
#ifndef EXECUTOR_WORKER_H
#define EXECUTOR_WORKER_H

#include <event2/event.h>
#include <stdbool.h>

struct worker;

typedef void (*worker_fn)(void *arg);

/* A worker on base. NULL on failure (eventfd or event allocation). */
struct worker *worker_new(struct event_base *base);
/* Wait for the running job (its done still runs), drop queued ones (their
 * done runs with cancelled = true), free. NULL-safe. */
void worker_free(struct worker *w);

/* Queue fn(arg) for the thread; done(arg, cancelled) follows on the loop. */
void worker_submit(struct worker *w, worker_fn fn, void (*done)(void *arg, bool cancelled),
                   void *arg);

/* 1 while a job runs or waits. */
int worker_busy(const struct worker *w);

#endif /* EXECUTOR_WORKER_H */
