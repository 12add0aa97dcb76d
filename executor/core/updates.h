/*
 * Status-update retention: every UPDATE is kept, in order, until the agent
 * ACKNOWLEDGEs its uuid; whatever is still here goes into the next
 * SUBSCRIBE as unacknowledged_updates. Pure: no network.
 */
#ifndef EXECUTOR_CORE_UPDATES_H
#define EXECUTOR_CORE_UPDATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesos.pb-c.h"

struct update {
	struct update *next;
	Mesos__V1__TaskStatus *status; /* owned (protobuf-c unpacked form) */
	bool sent;                     /* handed to the agent (202, or inside a SUBSCRIBE) */
	unsigned sub_epoch;            /* the last SUBSCRIBE that carried it (0: none) */
	int attempts;                  /* UPDATE calls made for it */
};

struct update_queue {
	struct update *head;
	struct update **tailp;
	size_t count;
};

void uq_init(struct update_queue *q);
/* Free every retained update. NULL-safe. */
void uq_clear(struct update_queue *q);
/* Append status (ownership moves to the queue). */
struct update *uq_push(struct update_queue *q, Mesos__V1__TaskStatus *status);
/* Drop the update with this task id and uuid. Returns 1 if it was retained,
 * 0 for a duplicate or unknown ACK (harmless; the caller logs it). */
int uq_ack(struct update_queue *q, const char *task_id, const uint8_t *uuid, size_t uuid_len);
/* The oldest update not yet handed to the agent, or NULL. Updates go out one
 * at a time, oldest first, so the agent sees each task's states in order. */
struct update *uq_next_unsent(struct update_queue *q);
/* The retained update with this uuid, or NULL (it may have been ACKed
 * while its UPDATE call was still in flight). */
struct update *uq_find_uuid(struct update_queue *q, const uint8_t *uuid, size_t uuid_len);
/* A SUBSCRIBE numbered epoch (> 0) is being sent carrying every update
 * retained now: remember which ones it carries. */
void uq_mark_included(struct update_queue *q, unsigned epoch);
/* SUBSCRIBED answered the SUBSCRIBE numbered epoch: the updates it carried
 * are with the agent. Updates queued after it was built are not, and still
 * go out as UPDATE calls. */
void uq_mark_sent_epoch(struct update_queue *q, unsigned epoch);
/* Mark every retained update as handed over. */
void uq_mark_all_sent(struct update_queue *q);
/* Number of retained updates of one task (all tasks if task_id is NULL). */
size_t uq_count_task(const struct update_queue *q, const char *task_id);

#endif /* EXECUTOR_CORE_UPDATES_H */
