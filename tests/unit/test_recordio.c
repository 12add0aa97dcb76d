/* RecordIO: split at every byte boundary, oversize, garbage. */
#include "harness.h"
#include "recordio.h"

#include <stdlib.h>

struct sink {
	char recs[8][64];
	size_t lens[8];
	int n;
	int stop_after;
};

static int
collect(void *arg, const uint8_t *d, size_t len)
{
	struct sink *s = arg;
	if (s->n < 8 && len < 64) {
		memcpy(s->recs[s->n], d, len);
		s->lens[s->n] = len;
	}
	s->n++;
	return (s->stop_after && s->n >= s->stop_after) ? -1 : 0;
}

static const char stream[] = "20\n{\"type\":\"HEARTBEAT\"}3\nabc1\nx";

TEST(whole_stream)
{
	struct recordio r;
	struct sink s = {0};
	struct spx_error err = {0};
	recordio_init(&r, 0);
	CHECK_EQ_INT(recordio_feed(&r, (const uint8_t *)stream, strlen(stream), collect, &s, &err),
	             0);
	CHECK_EQ_INT(s.n, 3);
	CHECK(s.lens[0] == 20 && memcmp(s.recs[0], "{\"type\":\"HEARTBEAT\"}", 20) == 0);
	CHECK(s.lens[1] == 3 && memcmp(s.recs[1], "abc", 3) == 0);
	CHECK(s.lens[2] == 1 && s.recs[2][0] == 'x');
	recordio_free(&r);
}

TEST(split_at_every_boundary)
{
	size_t len = strlen(stream);
	for (size_t a = 0; a <= len; a++) {
		for (size_t b = a; b <= len; b++) {
			struct recordio r;
			struct sink s = {0};
			struct spx_error err = {0};
			recordio_init(&r, 0);
			const uint8_t *p = (const uint8_t *)stream;
			int rc = recordio_feed(&r, p, a, collect, &s, &err);
			rc |= recordio_feed(&r, p + a, b - a, collect, &s, &err);
			rc |= recordio_feed(&r, p + b, len - b, collect, &s, &err);
			if (rc != 0 || s.n != 3 || s.lens[1] != 3 ||
			    memcmp(s.recs[1], "abc", 3) != 0)
				HARNESS_FAIL("split at %zu,%zu: rc=%d n=%d", a, b, rc, s.n);
			recordio_free(&r);
		}
	}
}

TEST(byte_at_a_time)
{
	struct recordio r;
	struct sink s = {0};
	struct spx_error err = {0};
	recordio_init(&r, 0);
	for (size_t i = 0; i < strlen(stream); i++)
		CHECK_EQ_INT(recordio_feed(&r, (const uint8_t *)stream + i, 1, collect, &s, &err),
		             0);
	CHECK_EQ_INT(s.n, 3);
	recordio_free(&r);
}

static int
expect_error(const char *input, size_t cap, const char *needle)
{
	struct recordio r;
	struct sink s = {0};
	struct spx_error err = {0};
	recordio_init(&r, cap);
	int rc = recordio_feed(&r, (const uint8_t *)input, strlen(input), collect, &s, &err);
	int ok = rc == -1 && err.msg && strstr(err.msg, needle) != NULL;
	if (!ok)
		printf("  input '%s': rc=%d msg=%s\n", input, rc, err.msg ? err.msg : "(none)");
	/* A failed decoder stays failed. */
	ok = ok && recordio_feed(&r, (const uint8_t *)"1\na", 3, collect, &s, &err) == -1;
	spx_error_clear(&err);
	recordio_free(&r);
	return ok;
}

TEST(garbage_and_limits)
{
	CHECK(expect_error("abc\n", 0, "non-digit"));
	CHECK(expect_error("\n", 0, "empty record length"));
	CHECK(expect_error("0\n", 0, "length 0"));
	CHECK(expect_error("-5\n", 0, "non-digit"));
	CHECK(expect_error("12 \n", 0, "non-digit"));
	CHECK(expect_error("101\n", 100, "cap"));
	CHECK(expect_error("99999999999999999999999\n", 0, "cap"));
	CHECK(expect_error("000000000000000000001\n", 0, "too many digits"));
}

TEST(oversize_fails_before_newline)
{
	/* A huge length must fail as soon as it exceeds the cap, not after buffering. */
	struct recordio r;
	struct sink s = {0};
	struct spx_error err = {0};
	recordio_init(&r, 1000);
	CHECK_EQ_INT(recordio_feed(&r, (const uint8_t *)"10001", 5, collect, &s, &err), -1);
	spx_error_clear(&err);
	recordio_free(&r);
}

TEST(callback_stop)
{
	struct recordio r;
	struct sink s = {.stop_after = 1};
	struct spx_error err = {0};
	recordio_init(&r, 0);
	CHECK_EQ_INT(recordio_feed(&r, (const uint8_t *)stream, strlen(stream), collect, &s, &err),
	             1);
	CHECK_EQ_INT(s.n, 1);
	recordio_free(&r);
}

TEST(encode_roundtrip)
{
	size_t n;
	uint8_t *enc = recordio_encode((const uint8_t *)"hello", 5, &n);
	CHECK_EQ_INT(n, 7);
	CHECK(memcmp(enc, "5\nhello", 7) == 0);
	struct recordio r;
	struct sink s = {0};
	struct spx_error err = {0};
	recordio_init(&r, 0);
	CHECK_EQ_INT(recordio_feed(&r, enc, n, collect, &s, &err), 0);
	CHECK(s.n == 1 && s.lens[0] == 5);
	free(enc);
	recordio_free(&r);
}

int
main(void)
{
	RUN(whole_stream);
	RUN(split_at_every_boundary);
	RUN(byte_at_a_time);
	RUN(garbage_and_limits);
	RUN(oversize_fails_before_newline);
	RUN(callback_stop);
	RUN(encode_roundtrip);
	return harness_done();
}
