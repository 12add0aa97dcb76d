/*
 * libFuzzer target for core/pbjson: parse the input as an executor Event and
 * as a TaskInfo; whatever parses must print, re-parse to the same message
 * (same packed bytes) and print to the same text again. Failures must come
 * with a non-empty one-line reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pbjson.h"
#include "executor.pb-c.h"
#include "mesos.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *
fuzz_pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf = malloc(protobuf_c_message_get_packed_size(m) + 1);

	if (!buf)
		abort();
	*len = protobuf_c_message_pack(m, buf);
	return buf;
}

static void
fuzz_one(const ProtobufCMessageDescriptor *desc, const char *json, size_t len)
{
	char err[256];
	ProtobufCMessage *m, *m2;
	char *text, *text2;
	size_t tlen, tlen2, plen, plen2;
	uint8_t *p1, *p2;

	m = pbjson_parse(desc, json, len, err, sizeof(err));
	if (!m) {
		if (err[0] == 0 || strchr(err, '\n') != NULL)
			abort();
		return;
	}
	text = pbjson_print(m, &tlen);
	if (strlen(text) != tlen)
		abort();
	m2 = pbjson_parse(desc, text, tlen, err, sizeof(err));
	if (!m2) {
		fprintf(stderr, "re-parse failed: %s\n%s\n", err, text);
		abort();
	}
	p1 = fuzz_pack(m, &plen);
	p2 = fuzz_pack(m2, &plen2);
	if (plen != plen2 || memcmp(p1, p2, plen) != 0) {
		fprintf(stderr, "round trip changed the message:\n%s\n", text);
		abort();
	}
	text2 = pbjson_print(m2, &tlen2);
	if (tlen != tlen2 || memcmp(text, text2, tlen) != 0) {
		fprintf(stderr, "print not stable:\n%s\n%s\n", text, text2);
		abort();
	}
	free(p1);
	free(p2);
	free(text);
	free(text2);
	protobuf_c_message_free_unpacked(m, NULL);
	protobuf_c_message_free_unpacked(m2, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one(&mesos__v1__executor__event__descriptor, (const char *)data, size);
	fuzz_one(&mesos__v1__task_info__descriptor, (const char *)data, size);
	return 0;
}
