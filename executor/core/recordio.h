/*
 * Incremental RecordIO decoder: "<decimal length>\n<length bytes>" repeated.
 *
 * Bytes arrive in arbitrary pieces (HTTP chunks do not line up with records,
 * proxies re-chunk); the decoder keeps its state between calls and hands out
 * each complete record exactly once. It is pure: no I/O, no libevent.
 *
 * Protocol errors (a non-digit in the length, a length of 0, a length with
 * more than 20 digits or over the cap) put the decoder in a failed state; the
 * caller must drop the connection and start a fresh decoder on the next one.
 */
#ifndef EXECUTOR_CORE_RECORDIO_H
#define EXECUTOR_CORE_RECORDIO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define RECORDIO_DEFAULT_MAX (16u * 1024 * 1024)

struct recordio {
	size_t max_record; /* records longer than this are a protocol error */
	int state;         /* RIO_HEADER, RIO_DATA or RIO_FAILED */
	uint64_t want;     /* length of the record being read */
	int header_digits; /* digits of the length seen so far */
	uint8_t *buf;      /* record being assembled (want bytes) */
	size_t have;       /* bytes of it received */
};

/* Called once per complete record; data is valid only during the call.
 * Return 0 to go on, or -1 to stop feeding (the decoder stays usable). */
typedef int (*recordio_cb)(void *arg, const uint8_t *data, size_t len);

void recordio_init(struct recordio *rio, size_t max_record);
void recordio_reset(struct recordio *rio);
/* Release the record buffer. NULL-safe. */
void recordio_free(struct recordio *rio);

/* Feed len bytes. Calls cb for every record completed. Returns 0, 1 if the
 * callback asked to stop (the unconsumed bytes are dropped: callers stop only
 * to tear the connection down), or -1 with *err set on a protocol error. */
int recordio_feed(struct recordio *rio, const uint8_t *p, size_t len, recordio_cb cb, void *arg,
                  struct spx_error *err);

/* Encode one record into a malloc'd buffer (tests and the fuzzer). */
uint8_t *recordio_encode(const uint8_t *data, size_t len, size_t *ret_len);

#endif /* EXECUTOR_CORE_RECORDIO_H */
