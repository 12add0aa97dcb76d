/*
 * libFuzzer target: an agent stream, byte for byte. The first input byte
 * picks the content type and a chunk size; the rest is fed through the
 * RecordIO decoder in chunks, and every record is decoded as an Event, the
 * way the executor's stream callback does it.
 */
#include <stddef.h>
#include <stdint.h>

#include "mesos_msg.h"
#include "recordio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	enum content_type ct;
	unsigned events;
};

static int
on_record(void *arg, const uint8_t *rec, size_t len)
{
	struct ctx *c = arg;
	struct spx_error err = {0};
	Mesos__V1__Executor__Event *ev = event_decode(c->ct, rec, len, &err);
	if (ev) {
		c->events++;
		(void)event_type_name(ev->type);
		mesos__v1__executor__event__free_unpacked(ev, NULL);
	}
	spx_error_clear(&err);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recordio rio;
	struct spx_error err = {0};
	struct ctx c = {0};

	if (size < 1)
		return 0;
	c.ct = (data[0] & 1) ? CT_JSON : CT_PROTOBUF;
	size_t chunk = (size_t)(data[0] >> 1) + 1;
	data++;
	size--;
	recordio_init(&rio, 1 << 16);
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		if (recordio_feed(&rio, data + off, n, on_record, &c, &err) < 0)
			break;
	}
	spx_error_clear(&err);
	recordio_free(&rio);
	return 0;
}
