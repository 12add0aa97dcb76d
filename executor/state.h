/*
 * The executor's state file, $MESOS_SANDBOX/.spex/state.json (schema
 * spex.state/1, docs/state.md), and its disk-usage history,
 * .spex/disk-history.jsonl: what `spex inspect/ls/gc` read.
 *
 * Writes are coalesced: state_mark_dirty() asks for one, and a timer
 * writes at most about once a second; a 10 s timer refreshes the figures
 * that change by themselves (RSS, cpu time, cgroup usage). They run on the
 * event loop, so none of them waits for the disk (no fsync) but the last
 * one. A failed write keeps the last good file, is logged once per errno
 * and file (state.json and the history apart) and counted; it never
 * affects a task. Every file operation is relative to the fd of .spex/,
 * opened once without following a symlink.
 */
#ifndef EXECUTOR_STATE_H
#define EXECUTOR_STATE_H

#include "scan.h"
#include "task_sm.h"

struct executor;
struct task;
struct cg_usage;

/* Create .spex/ (0755) and open it (O_DIRECTORY | O_NOFOLLOW), read what
 * never changes (pid, start ticks, boot id, pid namespace), arm the timers
 * and write the first document at once. Call before session_start().
 * Never fails: a sandbox where nothing can be written only counts write
 * errors; a .spex that is a symlink or no directory gets nothing written
 * (logged once). */
void state_init(struct executor *ex);

/* Something in the document changed: write within about a second. Also
 * notes subscription changes (ex->state) with their time; call it where
 * ex->state changes. NULL-safe before state_init(). */
void state_mark_dirty(struct executor *ex);

/* An update is being sent for t (session_send_status): its history gains
 * an entry; a terminal one also decides the task's exit record. */
void state_task_status(struct task *t, const struct task_action *act);

/* t's process tree is gone with wait_status; info and u as computed for
 * the terminal update act. Call while t->cg still exists (its path, final
 * usage and OOM kill count are kept for the document). */
void state_task_exited(struct task *t, int wait_status, const struct exit_info *info,
                       const struct cg_usage *u, const struct task_action *act);

/* A disk report (ex->disk_json) was built for a measurement taken at
 * measured_ms (wall clock, the measurement's start; <= 0: now), and sent
 * to every task in a state to take it (maybe none): it goes into the
 * document as disk, measured_ms as disk_at. */
void state_disk_report(struct executor *ex, int64_t measured_ms);

/* A full disk measurement taken at measured_ms (as above): append a
 * sample to disk-history.jsonl when the total moved since the last sample
 * (the .spex/ files aside) or 60 s passed. */
void state_disk_sample(struct executor *ex, const struct scan_result *r, int64_t measured_ms);

/* The loop is over and nothing touches the sandbox any more (the worker
 * was stopped): write the last document, with state "exited" and
 * ex->exit_code, durably (the file, then .spex/, fsync'ed). */
void state_final(struct executor *ex);

/* Release the writer (timers, buffers); the files stay. NULL-safe. */
void state_free(struct executor *ex);
/* Release what the writer keeps for t. */
void state_task_free(struct task *t);

#endif /* EXECUTOR_STATE_H */
