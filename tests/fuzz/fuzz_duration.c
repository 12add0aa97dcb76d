/*
 * libFuzzer target for core/duration (stout durations: MESOS_RECOVERY_TIMEOUT,
 * MESOS_SUBSCRIPTION_BACKOFF_MAX, SPEX_ACK_TIMEOUT, ...).
 *
 * 1. The input, NUL-terminated, goes to duration_parse(). An independent
 *    reference parser (exact integer arithmetic on __int128) decides what
 *    the answer must be: the grammar is digits [ '.' digits ] unit, with at
 *    least one digit and nothing else; the value is rounded half up to a
 *    nanosecond and must fit in an int64. duration_parse() must agree: fail
 *    exactly when the reference fails (with a message), succeed otherwise
 *    with a value within 1 ns of the exact one (spex computes the fraction
 *    in long double; a tie may round either way). Values within 1 ns of
 *    INT64_MAX may go either way.
 * 2. Every parsed value, and an int64 taken from the first input bytes,
 *    goes through duration_format(): the text must parse back to the same
 *    number (negative values must be refused), and formatting into a buffer
 *    as small as one byte must stay inside it and be NUL-terminated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *name;
	int64_t ns;
} ref_units[] = {
    {"ns", 1LL},
    {"us", 1000LL},
    {"ms", 1000000LL},
    {"secs", 1000000000LL},
    {"mins", 60LL * 1000000000LL},
    {"hrs", 3600LL * 1000000000LL},
    {"days", 86400LL * 1000000000LL},
    {"weeks", 7LL * 86400 * 1000000000LL},
};

typedef unsigned __int128 u128;

#define REF_FRAC_DIGITS 20 /* later digits change the value by < 1e-5 ns */

enum ref_result { REF_FAIL, REF_OK, REF_TOO_LARGE };

/* The reference: *exact is the value in ns, rounded half up, when REF_OK. */
static enum ref_result
ref_parse(const char *s, u128 *exact)
{
	const char *p = s;
	u128 whole = 0, frac = 0, div = 1;
	int digits = 0, big = 0;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > ((u128)1 << 100))
			big = 1; /* far beyond any int64 duration: stays "too large" */
		else
			whole = whole * 10 + (u128)(*p - '0');
	}
	if (*p == '.') {
		p++;
		int fd = 0;
		for (; *p >= '0' && *p <= '9'; p++, digits++, fd++) {
			if (fd < REF_FRAC_DIGITS) {
				frac = frac * 10 + (u128)(*p - '0');
				div *= 10;
			}
		}
	}
	if (digits == 0)
		return REF_FAIL;
	for (size_t i = 0; i < sizeof(ref_units) / sizeof(ref_units[0]); i++) {
		if (strcmp(p, ref_units[i].name) != 0)
			continue;
		u128 unit = (u128)ref_units[i].ns;
		if (big || whole > ((u128)1 << 70))
			return REF_TOO_LARGE;
		*exact = whole * unit + (frac * unit * 2 + div) / (div * 2);
		return *exact > (u128)INT64_MAX ? REF_TOO_LARGE : REF_OK;
	}
	return REF_FAIL;
}

static int64_t
parse_or_die(const char *s, const char *why)
{
	struct spx_error err = {0};
	int64_t ns = -1;

	if (duration_parse(s, &ns, &err) != 0) {
		fprintf(stderr, "%s: '%s' does not parse back: %s\n", why, s, spx_error_msg(&err));
		abort();
	}
	spx_error_clear(&err);
	return ns;
}

static void
check_format(int64_t ns)
{
	char buf[64];
	struct spx_error err = {0};
	int64_t back = -1;

	const char *txt = duration_format(ns, buf, sizeof(buf));
	if (txt != buf || strlen(buf) >= sizeof(buf))
		abort();
	if (ns < 0) {
		if (duration_parse(buf, &back, &err) == 0) {
			fprintf(stderr, "negative %lld formatted as '%s' parses\n", (long long)ns,
			        buf);
			abort();
		}
		spx_error_clear(&err);
		return;
	}
	back = parse_or_die(buf, "duration_format");
	if (back != ns) {
		fprintf(stderr, "format(%lld) = '%s' parses to %lld\n", (long long)ns, buf,
		        (long long)back);
		abort();
	}
}

static void
check_small_buffers(int64_t ns, size_t n)
{
	char buf[40];

	memset(buf, 'Z', sizeof(buf));
	duration_format(ns, buf, n);
	if (memchr(buf, '\0', n) == NULL)
		abort(); /* not terminated inside the buffer */
	for (size_t i = n; i < sizeof(buf); i++)
		if (buf[i] != 'Z')
			abort(); /* wrote past it */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct spx_error err = {0};
	int64_t ns = -12345;
	u128 exact = 0;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	int r = duration_parse(s, &ns, &err);
	enum ref_result want = ref_parse(s, &exact);
	if (r != 0 && r != -1)
		abort();
	if (r == 0) {
		if (err.msg != NULL || ns < 0)
			abort();
		if (want == REF_FAIL) {
			fprintf(stderr, "'%s' accepted as %lld, but is not a duration\n", s,
			        (long long)ns);
			abort();
		}
		if (want == REF_TOO_LARGE && exact != (u128)INT64_MAX + 1) {
			fprintf(stderr, "'%s' accepted as %lld, but is out of range\n", s,
			        (long long)ns);
			abort();
		}
		if (want == REF_OK) {
			u128 got = (u128)ns;
			u128 d = got > exact ? got - exact : exact - got;
			if (d > 1) {
				fprintf(stderr, "'%s' parsed as %lld, exact value %llu\n", s,
				        (long long)ns, (unsigned long long)exact);
				abort();
			}
		}
		check_format(ns);
	} else {
		if (err.msg == NULL || err.msg[0] == '\0')
			abort(); /* a failure must say why */
		if (want == REF_OK && exact < (u128)INT64_MAX) {
			fprintf(stderr, "'%s' refused (%s), exact value %llu\n", s, err.msg,
			        (unsigned long long)exact);
			abort();
		}
		if (ns != -12345)
			abort(); /* *ret_ns untouched on failure */
	}
	spx_error_clear(&err);

	if (size >= 9) {
		int64_t v;
		memcpy(&v, data, sizeof(v));
		check_format(v);
		check_small_buffers(v, (size_t)(data[8] % 32) + 1);
	}
	free(s);
	return 0;
}
