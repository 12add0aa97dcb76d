#include "updates.h"
#include "util.h"

#include <string.h>

void
uq_init(struct update_queue *q)
{
	q->head = NULL;
	q->tailp = &q->head;
	q->count = 0;
}

void
uq_clear(struct update_queue *q)
{
	if (!q)
		return;
	struct update *u = q->head;
	while (u) {
		struct update *next = u->next;
		mesos__v1__task_status__free_unpacked(u->status, NULL);
		free(u);
		u = next;
	}
	uq_init(q);
}

struct update *
uq_push(struct update_queue *q, Mesos__V1__TaskStatus *status)
{
	struct update *u = xcalloc(1, sizeof(*u));
	u->status = status;
	*q->tailp = u;
	q->tailp = &u->next;
	q->count++;
	return u;
}

static int
same_update(const struct update *u, const char *task_id, const uint8_t *uuid, size_t len)
{
	const Mesos__V1__TaskStatus *s = u->status;
	return s->has_uuid && s->uuid.len == len && memcmp(s->uuid.data, uuid, len) == 0 &&
	       s->task_id && s->task_id->value && strcmp(s->task_id->value, task_id) == 0;
}

int
uq_ack(struct update_queue *q, const char *task_id, const uint8_t *uuid, size_t uuid_len)
{
	for (struct update **pp = &q->head; *pp; pp = &(*pp)->next) {
		struct update *u = *pp;
		if (!same_update(u, task_id, uuid, uuid_len))
			continue;
		*pp = u->next;
		if (q->tailp == &u->next)
			q->tailp = pp;
		q->count--;
		mesos__v1__task_status__free_unpacked(u->status, NULL);
		free(u);
		return 1;
	}
	return 0;
}

struct update *
uq_next_unsent(struct update_queue *q)
{
	for (struct update *u = q->head; u; u = u->next) {
		if (!u->sent)
			return u;
	}
	return NULL;
}

void
uq_mark_included(struct update_queue *q, unsigned epoch)
{
	for (struct update *u = q->head; u; u = u->next)
		u->sub_epoch = epoch;
}

void
uq_mark_sent_epoch(struct update_queue *q, unsigned epoch)
{
	for (struct update *u = q->head; u; u = u->next)
		if (u->sub_epoch == epoch)
			u->sent = true;
}

void
uq_mark_all_sent(struct update_queue *q)
{
	for (struct update *u = q->head; u; u = u->next)
		u->sent = true;
}

size_t
uq_count_task(const struct update_queue *q, const char *task_id)
{
	size_t n = 0;
	for (const struct update *u = q->head; u; u = u->next) {
		if (!task_id || strcmp(u->status->task_id->value, task_id) == 0)
			n++;
	}
	return n;
}

struct update *
uq_find_uuid(struct update_queue *q, const uint8_t *uuid, size_t uuid_len)
{
	for (struct update *u = q->head; u; u = u->next) {
		const Mesos__V1__TaskStatus *s = u->status;
		if (s->has_uuid && s->uuid.len == uuid_len &&
		    memcmp(s->uuid.data, uuid, uuid_len) == 0)
			return u;
	}
	return NULL;
}
