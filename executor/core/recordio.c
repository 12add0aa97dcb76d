#include "recordio.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

enum { RIO_HEADER, RIO_DATA, RIO_FAILED };

void
recordio_init(struct recordio *rio, size_t max_record)
{
	memset(rio, 0, sizeof(*rio));
	rio->max_record = max_record ? max_record : RECORDIO_DEFAULT_MAX;
	rio->state = RIO_HEADER;
}

void
recordio_reset(struct recordio *rio)
{
	size_t max = rio->max_record;
	recordio_free(rio);
	recordio_init(rio, max);
}

void
recordio_free(struct recordio *rio)
{
	if (!rio)
		return;
	free(rio->buf);
	rio->buf = NULL;
	rio->have = 0;
}

static int
fail(struct recordio *rio, struct spx_error *err, const char *why)
{
	rio->state = RIO_FAILED;
	free(rio->buf);
	rio->buf = NULL;
	return spx_error_set(err, 0, "recordio: %s", why);
}

/* Consume header bytes; returns bytes used, or -1 on a protocol error. */
static long
feed_header(struct recordio *rio, const uint8_t *p, size_t len, struct spx_error *err)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t c = p[i];
		if (c == '\n') {
			if (rio->header_digits == 0)
				return fail(rio, err, "empty record length");
			if (rio->want == 0)
				return fail(rio, err, "record length 0");
			if (rio->want > rio->max_record) {
				char why[96];
				snprintf(why, sizeof(why),
				         "record of %llu bytes exceeds the %zu-byte cap",
				         (unsigned long long)rio->want, rio->max_record);
				return fail(rio, err, why);
			}
			rio->state = RIO_DATA;
			rio->buf = xmalloc((size_t)rio->want);
			rio->have = 0;
			return (long)(i + 1);
		}
		if (c < '0' || c > '9')
			return fail(rio, err, "malformed record length (non-digit byte)");
		if (++rio->header_digits > 20 || rio->want > (UINT64_MAX - 9) / 10)
			return fail(rio, err, "malformed record length (too many digits)");
		rio->want = rio->want * 10 + (uint64_t)(c - '0');
		/* Fail early instead of waiting for the newline of a huge length. */
		if (rio->want > rio->max_record)
			return fail(rio, err, "record length exceeds the cap");
	}
	return (long)i;
}

int
recordio_feed(struct recordio *rio, const uint8_t *p, size_t len, recordio_cb cb, void *arg,
              struct spx_error *err)
{
	if (rio->state == RIO_FAILED)
		return spx_error_set(err, 0, "recordio: decoder already failed");
	while (len > 0) {
		if (rio->state == RIO_HEADER) {
			long used = feed_header(rio, p, len, err);
			if (used < 0)
				return -1;
			p += used;
			len -= (size_t)used;
			continue;
		}
		size_t need = (size_t)rio->want - rio->have;
		size_t take = len < need ? len : need;
		memcpy(rio->buf + rio->have, p, take);
		rio->have += take;
		p += take;
		len -= take;
		if (rio->have < rio->want)
			break;
		/* Record complete: detach it first so the callback may reset us. */
		uint8_t *rec = rio->buf;
		size_t rec_len = rio->have;
		rio->buf = NULL;
		rio->have = 0;
		rio->want = 0;
		rio->header_digits = 0;
		rio->state = RIO_HEADER;
		int r = cb(arg, rec, rec_len);
		free(rec);
		if (r < 0)
			return 1;
	}
	return 0;
}

uint8_t *
recordio_encode(const uint8_t *data, size_t len, size_t *ret_len)
{
	char hdr[24];
	int n = snprintf(hdr, sizeof(hdr), "%zu\n", len);
	uint8_t *out = xmalloc((size_t)n + len);
	memcpy(out, hdr, (size_t)n);
	if (len)
		memcpy(out + n, data, len);
	*ret_len = (size_t)n + len;
	return out;
}
